"""Randomisation inference: re-draw the assignment the way the design drew it (complete
randomisation of clusters, within strata when given) and recompute a studentised statistic.

The statistic for every draw follows in closed form: with the other regressors W partialled
out (Frisch–Waugh–Lovell), the treatment column of draw b is ``project(z_b)`` — the
cluster-level assignment spread to rows (possibly times a period indicator, and demeaned
within units) and residualised on W. The coefficient and its CR1 standard error follow.
"""

from __future__ import annotations

import itertools
from math import comb, prod
from typing import Callable

import numpy as np

from evalkit.designs._linear import group_sum


def n_assignments(z: np.ndarray, strata: np.ndarray) -> int:
    """Number of assignments the design could have drawn (complete randomisation in strata)."""
    return prod(comb(int((strata == s).sum()), int(z[strata == s].sum())) for s in np.unique(strata))


def all_assignments(z: np.ndarray, strata: np.ndarray) -> np.ndarray:
    """Every possible assignment (columns), keeping each stratum's number treated."""
    levels = np.unique(strata)
    per_stratum = []
    for s in levels:
        idx = np.flatnonzero(strata == s)
        per_stratum.append([(idx, set(c)) for c in itertools.combinations(range(len(idx)), int(z[idx].sum()))])
    columns = []
    for choice in itertools.product(*per_stratum):
        col = np.zeros(len(z))
        for idx, chosen in choice:
            col[idx[list(chosen)]] = 1.0
        columns.append(col)
    return np.column_stack(columns)


def random_assignments(z: np.ndarray, strata: np.ndarray, reps: int,
                       rng: np.random.Generator) -> np.ndarray:
    """``reps`` random re-draws (columns): z permuted within each stratum."""
    Z = np.empty((len(z), reps))
    for s in np.unique(strata):
        idx = np.flatnonzero(strata == s)
        keys = rng.random((len(idx), reps))
        order = np.argsort(keys, axis=0)
        Z[idx] = z[idx][order]
    return Z


def projector(W: np.ndarray, rows: Callable[[np.ndarray], np.ndarray]) -> Callable:
    """``project(Z)``: rows(Z) (n x B) residualised on the columns of W, without ever forming
    an n x n or n x G matrix."""
    if W.shape[1] == 0:
        return rows
    coef_map = np.linalg.pinv(W)  # p x n

    def project(Z: np.ndarray) -> np.ndarray:
        D = rows(Z)
        return D - W @ (coef_map @ D)

    return project


def t_statistics(project: Callable, y_resid: np.ndarray, Z: np.ndarray, codes: np.ndarray,
                 n_clusters: int, factor: float = 1.0, chunk: int = 500) -> np.ndarray:
    """Studentised coefficient for each column of Z: CR1 when ``factor`` is the CR1
    small-sample factor (a constant factor does not change a randomisation p-value)."""
    out = np.empty(Z.shape[1])
    for start in range(0, Z.shape[1], chunk):
        Dm = project(Z[:, start:start + chunk])
        dd = np.einsum("ij,ij->j", Dm, Dm)
        beta = (Dm.T @ y_resid) / dd
        E = y_resid[:, None] - Dm * beta
        S = group_sum(Dm * E, codes, n_clusters)
        se = np.sqrt(factor * np.sum(S ** 2, axis=0)) / dd
        out[start:start + chunk] = beta / se
    return out


def ri_p_value(project: Callable, y_resid: np.ndarray, z: np.ndarray, strata: np.ndarray,
               codes: np.ndarray, n_clusters: int, reps: int,
               rng: np.random.Generator) -> tuple[float, str]:
    """Two-sided randomisation p-value of the studentised statistic.

    Exact (share of all assignments at least as extreme, the observed one included) when the
    design has at most ``reps`` possible assignments; otherwise (1 + count) / (1 + reps) over
    ``reps`` random re-draws.
    """
    t_obs = t_statistics(project, y_resid, z[:, None], codes, n_clusters)[0]
    total = n_assignments(z, strata)
    if total <= reps:
        t = t_statistics(project, y_resid, all_assignments(z, strata), codes, n_clusters)
        count = int(np.sum(np.abs(t) >= abs(t_obs) - 1e-10))
        return count / total, f"exact: all {total} possible assignments"
    t = t_statistics(project, y_resid, random_assignments(z, strata, reps, rng), codes, n_clusters)
    count = int(np.sum(np.abs(t) >= abs(t_obs) - 1e-10))
    return (1 + count) / (1 + reps), f"{reps} random re-draws of the assignment"
