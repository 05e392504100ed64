"""Small simulated cluster trials for the design tests."""

from __future__ import annotations

import numpy as np
import pandas as pd


def cluster_trial(seed: int = 0, n_clusters: int = 36, size: int = 20, icc: float = 0.08,
                  effect: float = 0.0, strata_size: int = 4, unequal: bool = True) -> pd.DataFrame:
    """One row per household: village, commune (stratum), assignment (half of each commune),
    a baseline and an endline outcome, and a covariate."""
    rng = np.random.default_rng(seed)
    strata = np.arange(n_clusters) // strata_size
    z = np.zeros(n_clusters)
    for s in np.unique(strata):
        idx = np.flatnonzero(strata == s)
        z[rng.choice(idx, len(idx) // 2, replace=False)] = 1
    sizes = rng.integers(size - 5, size + 6, n_clusters) if unequal else np.full(n_clusters, size)
    village = np.repeat(np.arange(n_clusters), sizes)
    u = rng.normal(0, np.sqrt(icc), n_clusters)[village]
    baseline = u + rng.normal(0, np.sqrt(1 - icc), len(village))
    endline = 0.5 * baseline + u + rng.normal(0, np.sqrt(1 - icc), len(village)) + effect * z[village]
    return pd.DataFrame({
        "village": village, "commune": strata[village], "treated": z[village],
        "baseline": baseline, "endline": endline, "age": rng.integers(18, 70, len(village)),
    })


def three_periods(seed=4):
    df = cluster_trial(seed=seed, effect=0.4)
    df["household"] = np.arange(len(df))
    rng = np.random.default_rng(seed)
    parts = []
    for period, name in ((1, "Baseline"), (2, "Midline"), (3, "Endline")):
        y = df["baseline"] + 0.1 * period + rng.normal(0, 0.3, len(df))
        d = df["treated"] * (period == 3)
        parts.append(df.assign(period=period, name=name, y=y + 0.4 * d, d=d.astype(float)))
    return pd.concat(parts, ignore_index=True)


def individual_trial(seed=3, n=400):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"treated": rng.permutation(np.repeat([0.0, 1.0], n // 2)),
                       "age": rng.normal(40, 10, n)})
    df["found"] = (rng.random(n) < 0.8).astype(int)
    df["y"] = 0.2 * df["treated"] + 0.02 * df["age"] + rng.normal(size=n)
    return df


def one_cluster_per_arm():
    df = cluster_trial(seed=1, n_clusters=2, strata_size=2)
    rng = np.random.default_rng(2)
    df["takeup"] = df["treated"] * (rng.random(len(df)) < 0.7)
    df["girl"] = np.where(rng.random(len(df)) < 0.5, "girl", "boy")
    df["found"] = (rng.random(len(df)) < 0.8).astype(int)
    return df


def village_panel(seed=6, n_villages=30, periods=4, staggered=False):
    rng = np.random.default_rng(seed)
    rows = []
    treated = rng.permutation(n_villages) < n_villages // 2
    start = rng.integers(1, periods, n_villages) if staggered else np.full(n_villages, 2)
    for v in range(n_villages):
        effect = rng.normal()
        for h in range(5):
            unit = rng.normal()
            for t in range(periods):
                d = float(treated[v] and t >= start[v])
                rows.append({"village": v, "household": f"{v}-{h}", "period": t, "d": d,
                             "y": effect + unit + 0.3 * t + 0.5 * d + rng.normal()})
    return pd.DataFrame(rows)
