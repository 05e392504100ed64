"""CR2 and its Bell–McCaffrey degrees of freedom computed without n_g x n_g or n x G
matrices equal the dense textbook computation to 1e-10, singular blocks included."""

from __future__ import annotations

import numpy as np
import pytest

from evalkit.designs import _linear as la


def _dense(fit, codes, G, j, tol=1e-10):
    """The dense computation: A_g = (I - H_gg)^(-1/2) by eigen-decomposition of the n_g x n_g
    block, and df from the n x G matrix whose columns are (I - H)_{.,g} A_g X_g B e_j."""
    blocks = []
    for g in range(G):
        idx = np.flatnonzero(codes == g)
        Xg = fit.X[idx]
        w, q = np.linalg.eigh(np.eye(len(idx)) - Xg @ fit.bread @ Xg.T)
        inv = np.where(w > tol, 1 / np.sqrt(np.clip(w, tol, None)), 0.0)
        blocks.append((idx, (q * inv) @ q.T))
    scores = np.vstack([fit.X[idx].T @ (A @ fit.resid[idx]) for idx, A in blocks])
    V = fit.bread @ (scores.T @ scores) @ fit.bread
    ell = fit.bread[:, j]
    cols = []
    for idx, A in blocks:
        v = A @ (fit.X[idx] @ ell)
        col = -fit.X @ (fit.bread @ (fit.X[idx].T @ v))
        col[idx] += v
        cols.append(col)
    Gm = np.column_stack(cols)
    B = Gm.T @ Gm
    return V, np.trace(B) ** 2 / np.sum(B * B)


def _design(seed, G=12, absorbed=False):
    rng = np.random.default_rng(seed)
    sizes = rng.integers(1, 9, G)  # clusters smaller than k included
    codes = np.repeat(np.arange(G), sizes)
    n = len(codes)
    z = (np.arange(G) % 2)[codes].astype(float)
    X = np.column_stack([np.ones(n), z, rng.normal(size=n), (codes % 3 == 0).astype(float)])
    if absorbed:  # unit effects demeaned within cluster: singular blocks of I - H
        means = np.bincount(codes, weights=X[:, 2]) / np.bincount(codes)
        X = np.column_stack([z * rng.normal(size=n), X[:, 2] - means[codes]])
        big = np.bincount(codes) > 1
        keep = big[codes]
        X, codes = X[keep], np.unique(codes[keep], return_inverse=True)[1]
    y = X @ np.arange(1, X.shape[1] + 1) + rng.normal(size=len(codes))
    return la.ols(X, y), codes, int(codes.max()) + 1


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("absorbed", [False, True])
def test_low_rank_cr2_equals_the_dense_computation(seed, absorbed):
    fit, codes, G = _design(seed, absorbed=absorbed)
    blocks = la.cr2_adjustments(fit, codes, G)
    for j in range(fit.k):
        V_dense, df_dense = _dense(fit, codes, G, j)
        V = la.vcov_cr2(fit, codes, G, blocks)
        assert np.allclose(V, V_dense, rtol=1e-10, atol=1e-14)
        assert la.bm_df(fit, j, blocks) == pytest.approx(df_dense, rel=1e-10)


def test_a_cluster_fully_absorbed_by_its_own_dummy_matches_the_generalised_inverse():
    fit, codes, G = _design(7)
    X = np.column_stack([fit.X, (codes == 0).astype(float)])  # H_gg has an eigenvalue of 1
    fit = la.ols(X, fit.y)
    blocks = la.cr2_adjustments(fit, codes, G)
    assert np.any(blocks[0].shift == -1.0)
    V_dense, df_dense = _dense(fit, codes, G, 1)
    assert np.allclose(la.vcov_cr2(fit, codes, G, blocks), V_dense, rtol=1e-9, atol=1e-14)
    assert la.bm_df(fit, 1, blocks) == pytest.approx(df_dense, rel=1e-9)


def test_memory_is_linear_in_the_cluster_size():
    rng = np.random.default_rng(0)
    codes = np.repeat(np.arange(4), 50_000)  # 50,000 rows per cluster: dense would need 80 GB
    X = np.column_stack([np.ones(len(codes)), (codes % 2).astype(float), rng.normal(size=len(codes))])
    fit = la.ols(X, X[:, 2] + rng.normal(size=len(codes)))
    blocks = la.cr2_adjustments(fit, codes, 4)
    assert max(b.basis.shape[1] for b in blocks) <= 3
    assert np.isfinite(la.bm_df(fit, 1, blocks)) and np.all(np.isfinite(la.vcov_cr2(fit, codes, 4, blocks)))
