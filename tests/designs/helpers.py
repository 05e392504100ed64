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
