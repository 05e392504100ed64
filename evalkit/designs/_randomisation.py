"""Randomisation inference: re-draw the assignment the way the design drew it and recompute a
studentised statistic.

A :class:`Procedure` says how the assignment was drawn: complete randomisation of units of
assignment within strata (each stratum keeps its number treated; pairs are strata of two), and,
for re-randomised designs, the acceptance criterion every draw had to meet. The p-value is
exact over every assignment the procedure could have produced when there are at most ``reps``
of them; otherwise it uses ``reps`` random draws of the same procedure.

For the usual additive regressions the statistic of every draw follows in closed form: with
the other regressors W partialled out (Frisch–Waugh–Lovell), the treatment column of draw b is
``project(z_b)`` — the unit-level assignment spread to rows (possibly times a period indicator,
and demeaned within units) and residualised on W. Lin's interacted regression, whose other
regressors move with the assignment, is refitted draw by draw (:func:`refit_t_statistics`).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from math import comb, prod
from typing import Callable

import numpy as np

from evalkit.designs._linear import group_sum
from evalkit.lazy import lazy

sparse = lazy("scipy.sparse")

MAX_TRIES_PER_DRAW = 1000  # rejection sampling gives up beyond this many tries per kept draw


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


@dataclass(frozen=True, eq=False)
class Procedure:
    """How the assignment of the units of assignment was drawn.

    ``strata`` (one code per unit) fixes the number treated in each stratum; ``accept`` (a
    function of a units x draws 0/1 matrix returning one boolean per draw) is the
    re-randomisation criterion, if any; ``select`` picks, from the units the procedure
    randomised, those present in the analysis (in the analysis's order).
    """

    strata: np.ndarray
    accept: Callable[[np.ndarray], np.ndarray] | None = None
    select: np.ndarray | None = None
    criterion: str = ""
    observed: np.ndarray | None = None  # the assignment of every unit randomised (with select)

    def _restrict(self, Z: np.ndarray) -> np.ndarray:
        return Z if self.select is None else Z[self.select]

    def draws(self, z_full: np.ndarray, reps: int, rng: np.random.Generator,
              ) -> tuple[np.ndarray, bool, str]:
        """(units x draws matrix, exact?, description). ``z_full`` is the observed assignment of
        every unit the procedure randomised."""
        total = n_assignments(z_full, self.strata)
        extra = f" meeting {self.criterion}" if self.accept is not None else ""
        if total <= reps:
            Z = all_assignments(z_full, self.strata)
            if self.accept is not None:
                Z = Z[:, self.accept(Z)]
            return self._restrict(Z), True, f"exact: all {Z.shape[1]} possible assignments{extra}"
        if self.accept is None:
            return (self._restrict(random_assignments(z_full, self.strata, reps, rng)), False,
                    f"{reps} random re-draws of the assignment")
        kept, tries = [], 0
        while sum(k.shape[1] for k in kept) < reps:
            if tries > MAX_TRIES_PER_DRAW * reps:
                raise ValueError(f"the re-randomisation criterion ({self.criterion}) accepts "
                                 f"fewer than 1 in {MAX_TRIES_PER_DRAW} draws; relax it.")
            batch = random_assignments(z_full, self.strata, max(reps, 1000), rng)
            tries += batch.shape[1]
            kept.append(batch[:, self.accept(batch)])
        Z = np.column_stack(kept)[:, :reps]
        return (self._restrict(Z), False,
                f"{reps} random re-draws of the assignment{extra} (from {tries:,} tries)")


def cluster_matrix(codes: np.ndarray, n_clusters: int) -> sparse.csr_matrix:
    """G x n indicator matrix: ``M @ values`` sums rows of values within clusters."""
    n = len(codes)
    return sparse.csr_matrix((np.ones(n), (codes, np.arange(n))), shape=(n_clusters, n))


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
                 n_clusters: int, factor: float = 1.0, chunk: int = 500,
                 stat: str = "t") -> np.ndarray:
    """Studentised coefficient for each column of Z: CR1 when ``factor`` is the CR1
    small-sample factor (a constant factor does not change a randomisation p-value); the
    coefficient itself with ``stat="coef"``."""
    out = np.empty(Z.shape[1])
    for start in range(0, Z.shape[1], chunk):
        Dm = project(Z[:, start:start + chunk])
        dd = np.einsum("ij,ij->j", Dm, Dm)
        beta = (Dm.T @ y_resid) / dd
        if stat == "coef":
            out[start:start + chunk] = beta
            continue
        E = y_resid[:, None] - Dm * beta
        S = group_sum(Dm * E, codes, n_clusters)
        se = np.sqrt(factor * np.sum(S ** 2, axis=0)) / dd
        out[start:start + chunk] = beta / se
    return out


class ClusterStatistic:
    """The studentised statistic of every re-draw from cluster-level sufficient statistics,
    for designs whose treatment column is d_i = t_i · z_g(i): the cluster's assignment times
    a row factor (the square root of the row's weight, or a period indicator demeaned within
    units nested in clusters), residualised on the other regressors W (n x p).

    With u = W⁺ C z (p), the residualised column is t_i z_g − w_i'u, so the coefficient, its
    residuals' cluster scores and its CR1 standard error need only, per cluster, Σ t², Σ t·w,
    Σ w w', Σ t·ỹ and Σ ỹ·w (ỹ the outcome residualised on W): memory G·p², time G·p² per
    draw, whatever the number of rows."""

    def __init__(self, W: np.ndarray, t: np.ndarray, y_resid: np.ndarray, codes: np.ndarray,
                 n_clusters: int, chunk: int = 2000, stat: str = "t"):
        M = cluster_matrix(codes, n_clusters)
        p = W.shape[1]
        self.chunk = chunk
        self.stat = stat
        self.R = (M @ (np.linalg.pinv(W).T * t[:, None])).T if p else np.zeros((0, n_clusters))
        self.a = M @ (t * t)
        self.b = M @ (W * t[:, None]) if p else np.zeros((n_clusters, 0))
        self.Q = np.zeros((n_clusters, p, p))
        for j in range(p):  # one column at a time: never an n x p x p array
            self.Q[:, :, j] = M @ (W * W[:, j:j + 1])
        self.e = M @ (y_resid * t)
        self.f = M @ (W * y_resid[:, None]) if p else np.zeros((n_clusters, 0))

    def __call__(self, Z: np.ndarray) -> np.ndarray:
        out = np.empty(Z.shape[1])
        for start in range(0, Z.shape[1], self.chunk):
            z = Z[:, start:start + self.chunk]  # G x B
            U = self.R @ z  # p x B
            cross = self.e[:, None] * z - self.f @ U  # G x B: Σ_g d·ỹ
            q = (self.a[:, None] * z * z - 2 * z * (self.b @ U)
                 + np.einsum("gpq,pb,qb->gb", self.Q, U, U))  # G x B: Σ_g d²
            dd = q.sum(axis=0)
            beta = cross.sum(axis=0) / dd
            if self.stat == "coef":
                out[start:start + z.shape[1]] = beta
                continue
            scores = cross - beta * q
            out[start:start + z.shape[1]] = beta * dd / np.sqrt(np.sum(scores ** 2, axis=0))
        return out


def refit_t_statistics(design: Callable[[np.ndarray], np.ndarray], y: np.ndarray, Z: np.ndarray,
                       codes: np.ndarray, n_clusters: int, j: int = 1,
                       chunk: int = 100, stat: str = "t") -> np.ndarray:
    """Studentised coefficient ``j`` (CR1 without its constant factor) for each column of Z,
    refitting the regression on ``design(Z_chunk)`` (draws x n x k) for every draw; the
    coefficient itself with ``stat="coef"``."""
    M = cluster_matrix(codes, n_clusters)
    out = np.empty(Z.shape[1])
    for start in range(0, Z.shape[1], chunk):
        X = design(Z[:, start:start + chunk])  # B x n x k
        B, n, k = X.shape
        bread = np.linalg.inv(np.einsum("bnk,bnl->bkl", X, X))
        beta = bread @ np.einsum("bnk,n->bk", X, y)[:, :, None]  # B x k x 1
        if stat == "coef":
            out[start:start + B] = beta[:, j, 0]
            continue
        e = y[None, :] - (X @ beta)[:, :, 0]  # B x n
        scores = X * e[:, :, None]  # B x n x k
        S = (M @ scores.transpose(1, 0, 2).reshape(n, B * k)).reshape(n_clusters, B, k)
        a = bread[:, j, :]  # B x k
        s = np.einsum("gbk,bk->gb", S, a)
        out[start:start + B] = beta[:, j, 0] / np.sqrt(np.sum(s ** 2, axis=0))
    return out


def ri_p_value(statistic: Callable[[np.ndarray], np.ndarray], z: np.ndarray,
               procedure: Procedure, reps: int, rng: np.random.Generator) -> tuple[float, str]:
    """Two-sided randomisation p-value of a studentised statistic (``statistic`` maps a units x
    draws assignment matrix to one value per draw).

    Exact (share of the procedure's assignments at least as extreme, the observed one included)
    when it has at most ``reps`` possible assignments; otherwise (1 + count) / (1 + reps) over
    ``reps`` random draws of the same procedure.
    """
    t_obs = statistic(z[:, None])[0]
    z_full = procedure.observed if procedure.observed is not None else z
    Z, exact, label = procedure.draws(z_full, reps, rng)
    t = statistic(Z)
    count = int(np.sum(np.abs(t) >= abs(t_obs) - 1e-10))
    if exact:
        return count / Z.shape[1], label
    return (1 + count) / (1 + Z.shape[1]), label
