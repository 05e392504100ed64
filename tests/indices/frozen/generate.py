"""The generator of ``csi_expected.json``: the CSI aggregations of the cases in
``tests/indices/csi_cases.py``, computed by hand in plain pandas, row by row where that is
clearest, with none of the kit's code (only the instrument's declared names: the factor codes,
the domains and the factor labels).

Run ``python -m tests.indices.frozen.generate`` to rewrite the file;
``tests/indices/test_frozen_generator.py`` checks that the committed file is what this
computes, so the values the engine is held to are backed by an independent computation."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd

from evalkit.instruments.csi import DOMAINS, FACTORS, LABELS
from tests.indices.csi_cases import cases

HERE = Path(__file__).parent
ROUND_WORDS = {"baseline": 0, "midline": 1, "endline": 2}


def cell(value) -> tuple[float, bool]:
    """(score or NaN, not applicable) of one cell: 1–4 as a number or text, 'n/a' in any case
    with spaces around it, or blank."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return math.nan, False
    text = str(value).strip()
    if text.lower() == "n/a":
        return math.nan, True
    if text == "":
        return math.nan, False
    number = float(text)
    assert number in (1, 2, 3, 4), value
    return number, False


def parsed(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    values = pd.DataFrame({c: [cell(v)[0] for v in frame[c]] for c in FACTORS}, index=frame.index)
    na = pd.DataFrame({c: [cell(v)[1] for v in frame[c]] for c in FACTORS}, index=frame.index)
    return values, na


def needs_services(value: float) -> int:
    return int(not math.isnan(value) and value <= 2)


def mean_of_rated(values: list[float]) -> float:
    rated = [v for v in values if not math.isnan(v)]
    return sum(rated) / len(rated) if rated else math.nan


def score(frame: pd.DataFrame) -> pd.DataFrame:
    values, na = parsed(frame)
    rows = []
    for i in frame.index:
        v = {c: values.at[i, c] for c in FACTORS}
        row = {domain: mean_of_rated([v[c] for c in codes]) for domain, codes in DOMAINS.items()}
        all_rated = all(not math.isnan(x) for x in v.values())
        row["total"] = sum(v.values()) if all_rated else math.nan
        row["factors_rated"] = sum(not math.isnan(x) for x in v.values())
        row["factors_not_applicable"] = int(na.loc[i].sum())
        row["flagged"] = sum(needs_services(x) for x in v.values())
        rows.append(row)
    return pd.DataFrame(rows)


def round_key(value):
    """Rounds in time order: numbers as numbers, Baseline < Midline < Endline."""
    text = str(value).strip().lower()
    return (0, float(text)) if text.replace(".", "", 1).isdigit() else (1, ROUND_WORDS[text])


def pairs(frame: pd.DataFrame, child: str, rnd: str, before, after):
    """(before, after) rounds and, per child assessed at both, its two rows' scores with a
    factor kept only where it is rated at both."""
    present = sorted(frame[rnd].dropna().unique(), key=round_key)
    before = present[0] if before is None else before
    after = present[-1] if after is None else after
    values, _ = parsed(frame)
    b = values[frame[rnd] == before].set_index(frame.loc[frame[rnd] == before, child])
    a = values[frame[rnd] == after].set_index(frame.loc[frame[rnd] == after, child])
    both = [c for c in b.index if c in set(a.index)]
    out = {}
    for c in both:
        vb, va = b.loc[c], a.loc[c]
        keep = {f: (vb[f], va[f]) if not (math.isnan(vb[f]) or math.isnan(va[f]))
                else (math.nan, math.nan) for f in FACTORS}
        out[c] = keep
    return before, after, b, a, out


def change(frame: pd.DataFrame, child: str, rnd: str, before, after):
    before, after, b, a, paired = pairs(frame, child, rnd, before, after)
    items = ([(code, (code,), "factor") for code in FACTORS]
             + [(domain, codes, "domain") for domain, codes in DOMAINS.items()]
             + [("total", FACTORS, "total")])
    rows = []
    for name, codes, level in items:
        xs, flags = [], []
        for kept in paired.values():
            vb = [kept[c][0] for c in codes]
            va = [kept[c][1] for c in codes]
            if level == "total":
                rated = all(not math.isnan(x) for x in vb)
                xb, xa = (sum(vb), sum(va)) if rated else (math.nan, math.nan)
                fb = int(rated and any(needs_services(x) for x in vb))
                fa = int(rated and any(needs_services(x) for x in va))
            else:
                xb, xa = (vb[0], va[0]) if level == "factor" else (mean_of_rated(vb), mean_of_rated(va))
                fb = int(any(needs_services(x) for x in vb))
                fa = int(any(needs_services(x) for x in va))
            flags.append((fb, fa))
            if not math.isnan(xb):
                xs.append((xb, xa))
        n = len(xs)
        mb = sum(x for x, _ in xs) / n if n else math.nan
        ma = sum(y for _, y in xs) / n if n else math.nan

        def share(count, n=n):
            return count / n * 100 if n else math.nan

        rows.append({
            "level": level,
            "code": name if level == "factor" else "+".join(codes) if level == "domain" else "total",
            "name": LABELS[name] if level == "factor" else name if level == "domain"
            else "Total score (12–48)",
            "children_paired": n, "mean_before": mb, "mean_after": ma,
            "mean_change": sum(y - x for x, y in xs) / n if n else math.nan,
            "relative_change_pct": (ma - mb) / mb * 100,
            "improved_pct": share(sum(y > x for x, y in xs)),
            "unchanged_pct": share(sum(y == x for x, y in xs)),
            "worse_pct": share(sum(y < x for x, y in xs)),
            "flagged_before_pct": share(sum(f for f, _ in flags)),
            "flagged_after_pct": share(sum(f for _, f in flags))})
    n_paired = len(paired)
    flagged_b = [sum(needs_services(k[c][0]) for c in FACTORS) for k in paired.values()]
    flagged_a = [sum(needs_services(k[c][1]) for c in FACTORS) for k in paired.values()]
    counts = [len(b), len(a), n_paired, len(b) - n_paired, len(a) - n_paired,
              sum(flagged_b) / n_paired, sum(flagged_a) / n_paired]
    return pd.DataFrame(rows), counts


def flagged_by_round(frame: pd.DataFrame, rnd: str) -> pd.DataFrame:
    values, _ = parsed(frame)
    rows = []
    for value in sorted(frame[rnd].dropna().unique(), key=round_key):
        part = values[frame[rnd] == value]
        count = [sum(needs_services(x) for x in row) for row in part.itertuples(index=False)]
        row = {rnd: value, "children": len(part),
               "any_flagged_pct": sum(c > 0 for c in count) / len(count) * 100,
               "mean_flagged": sum(count) / len(count)}
        for code in FACTORS:
            rated = int(part[code].notna().sum())
            flagged = sum(needs_services(x) for x in part[code])
            row[f"{code}_flagged_pct"] = flagged / rated * 100 if rated else math.nan
            row[f"{code}_rated"] = rated
        rows.append(row)
    return pd.DataFrame(rows)


def paired_flagged(frame: pd.DataFrame, child: str, rnd: str, before, after) -> list[int]:
    before, after, _b, _a, paired = pairs(frame, child, rnd, before, after)
    values, _ = parsed(frame)
    out = []
    for i in frame.index:
        who, when = frame.at[i, child], frame.at[i, rnd]
        if who in paired and when in (before, after):
            side = 0 if when == before else 1
            out.append(sum(needs_services(paired[who][c][side]) for c in FACTORS))
        else:
            out.append(sum(needs_services(values.at[i, c]) for c in FACTORS))
    return out


def split(frame: pd.DataFrame) -> dict:
    data = [[None if isinstance(v, float) and math.isnan(v) else v for v in row]
            for row in frame.astype(object).itertuples(index=False)]
    return {"columns": list(frame.columns), "index": list(range(len(frame))), "data": data}


def expected() -> dict:
    out = {}
    for name, (frame, child, rnd, before, after) in cases().items():
        table, counts = change(frame, child, rnd, before, after)
        out[name] = {"score": split(score(frame)), "change_table": split(table),
                     "change_counts": counts,
                     "flagged_by_round": split(flagged_by_round(frame, rnd)),
                     "paired_flagged": paired_flagged(frame, child, rnd, before, after)}
    return out


def _plain(value):
    """JSON-ready: numpy numbers as Python numbers."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value.item() if hasattr(value, "item") else value


if __name__ == "__main__":
    (HERE / "csi_expected.json").write_text(json.dumps(_plain(expected()), indent=1) + "\n")
    print(f"wrote {HERE / 'csi_expected.json'}")
