"""Deterministic CSI data sets whose aggregations are frozen in ``frozen/csi_expected.json``
(computed once, before the aggregations moved to the columnar engine): the engine must
reproduce them, on DuckDB and on Spark."""

from __future__ import annotations

import numpy as np
import pandas as pd

from evalkit.indices.csi import FACTORS


def _messy(seed: int = 3, children: int = 60) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for child in range(children):
        for rnd in (1, 2, 3):
            if rng.random() < 0.15:
                continue  # not assessed in this round
            cells = {}
            for code in FACTORS:
                u = rng.random()
                cells[code] = ("n/a" if u < 0.05 else "" if u < 0.09 else " N/A " if u < 0.1
                               else str(int(rng.integers(1, 5))) if u < 0.6
                               else f"{int(rng.integers(1, 5))}.0" if u < 0.65
                               else int(rng.integers(1, 5)))
            rows.append({"child": f"C{child:03d}", "round": rnd, **cells})
    frame = pd.DataFrame(rows)
    for code in FACTORS:
        frame[code] = frame[code].astype(object)
    return frame


def _numeric(seed: int = 4, children: int = 200) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = children * 2
    frame = pd.DataFrame({"child": np.repeat(np.arange(children), 2), "round": np.tile(["Baseline", "Endline"], children)})
    for code in FACTORS:
        values = rng.integers(1, 5, n).astype(float)
        values[rng.random(n) < 0.07] = np.nan
        frame[code] = values
    return frame.sample(frac=1.0, random_state=1).reset_index(drop=True)  # rows out of order


def cases() -> dict[str, tuple[pd.DataFrame, str, str, object, object]]:
    """name -> (frame, child column, round column, before, after)."""
    return {"messy_text": (_messy(), "child", "round", 1, 3),
            "numeric_named_rounds": (_numeric(), "child", "round", None, None)}
