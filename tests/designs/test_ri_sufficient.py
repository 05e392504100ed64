"""Randomisation inference from cluster-level sufficient statistics gives the same statistic
for every re-draw as the row-level computation, to 1e-10."""

from __future__ import annotations

import numpy as np
import pytest

from evalkit.designs._randomisation import (ClusterStatistic, projector, random_assignments,
                                            t_statistics)


@pytest.mark.parametrize("seed", range(4))
def test_cluster_statistic_equals_the_row_level_statistic(seed):
    rng = np.random.default_rng(seed)
    G = 20
    codes = np.repeat(np.arange(G), rng.integers(3, 40, G))
    n = len(codes)
    sw = np.sqrt(rng.uniform(0.5, 2.0, n)) if seed % 2 else np.ones(n)  # weights or none
    strata = (np.arange(G) // 5)
    W = np.column_stack([np.ones(n), rng.normal(size=n), (strata[codes] == 1), (strata[codes] == 2)])
    W = W * sw[:, None]
    y = rng.normal(size=n) * sw
    coef, *_ = np.linalg.lstsq(W, y, rcond=None)
    y_resid = y - W @ coef
    z = (np.arange(G) % 2).astype(float)
    Z = np.column_stack([z, random_assignments(z, strata, 300, rng)])
    project = projector(W, lambda Zc: sw[:, None] * Zc[codes])
    rows = t_statistics(project, y_resid, Z, codes, G)
    clusters = ClusterStatistic(W, sw, y_resid, codes, G, chunk=64)(Z)
    assert np.allclose(clusters, rows, rtol=1e-10, atol=1e-12)


def test_memory_does_not_grow_with_the_number_of_rows():
    rng = np.random.default_rng(1)
    codes = np.repeat(np.arange(36), 20_000)
    n = len(codes)
    W = np.column_stack([np.ones(n), rng.normal(size=n)])
    stat = ClusterStatistic(W, np.ones(n), rng.normal(size=n), codes, 36)
    assert stat.Q.shape == (36, 2, 2) and stat.R.shape == (2, 36)  # nothing of size n kept
    assert np.all(np.isfinite(stat(random_assignments(np.arange(36) % 2 * 1.0, np.zeros(36), 50, rng))))
