"""Least squares and its variance estimators, written out so that every convention is ours to
state: CR1 (Stata / fixest small-sample factor), CR2 (Bell–McCaffrey) with Imbens–Kolesár
degrees of freedom, HC1 and iid. Arrays in, arrays out; no pandas here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from evalkit.errors import DataError


@dataclass(frozen=True, eq=False)
class OLSFit:
    X: np.ndarray  # n x k design
    y: np.ndarray  # n
    beta: np.ndarray  # k
    resid: np.ndarray  # n
    bread: np.ndarray  # (X'X)^-1, k x k

    @property
    def n(self) -> int:
        return self.X.shape[0]

    @property
    def k(self) -> int:
        return self.X.shape[1]


def ols(X: np.ndarray, y: np.ndarray, names: list[str] | None = None) -> OLSFit:
    """OLS by a symmetric solve; a rank-deficient design is a DataError naming the culprit."""
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    if not np.isfinite(y).all():
        raise DataError("the outcome holds an infinite value; expected finite numbers.")
    bad = ~np.isfinite(X).all(axis=0)
    if bad.any():
        j = int(np.flatnonzero(bad)[0])
        what = f"regressor {names[j]!r}" if names and j < len(names) else "a regressor"
        raise DataError(f"{what} holds an infinite value; expected finite numbers.")
    if X.shape[0] <= X.shape[1]:
        raise DataError(f"{X.shape[0]} observation(s) for {X.shape[1]} coefficient(s); expected "
                        "more observations than coefficients.")
    XtX = X.T @ X
    rank = np.linalg.matrix_rank(X)
    if rank < X.shape[1]:
        # find the first column that adds nothing
        for j in range(1, X.shape[1] + 1):
            if np.linalg.matrix_rank(X[:, :j]) < j:
                if names:
                    raise DataError(f"the regressors are collinear: {names[j - 1]!r} is a "
                                    "combination of the others (for example a covariate that is "
                                    "constant within the comparison); drop it.")
                raise DataError("the regressors are collinear (for example a covariate that is "
                                "constant within the comparison); drop it.")
    bread = np.linalg.inv(XtX)
    beta = bread @ (X.T @ y)
    return OLSFit(X=X, y=y, beta=beta, resid=y - X @ beta, bread=bread)


def group_sum(values: np.ndarray, codes: np.ndarray, n_groups: int) -> np.ndarray:
    """Sum rows of ``values`` (n or n x m) within groups ``codes`` (0..n_groups-1)."""
    values = np.asarray(values, dtype=float)
    if values.ndim == 1:
        return np.bincount(codes, weights=values, minlength=n_groups)
    from scipy import sparse

    M = sparse.csr_matrix((np.ones(len(codes)), (codes, np.arange(len(codes)))),
                          shape=(n_groups, len(codes)))
    return np.asarray(M @ values.reshape(len(codes), -1)).reshape((n_groups,) + values.shape[1:])


def cr1_factor(n: int, k: int, n_clusters: int) -> float:
    """Stata / fixest / statsmodels small-sample factor G/(G-1) * (n-1)/(n-k)."""
    if n_clusters < 2 or n <= k:
        return float("nan")
    return n_clusters / (n_clusters - 1) * (n - 1) / (n - k)


def vcov_cr1(fit: OLSFit, codes: np.ndarray, n_clusters: int, k_extra: int = 0) -> np.ndarray:
    """CR1; ``k_extra`` adds to k the parameters fixest counts beyond the columns of X (for
    example one for a time effect whose reference level an absorbed unit effect took)."""
    scores = group_sum(fit.X * fit.resid[:, None], codes, n_clusters)
    factor = cr1_factor(fit.n, fit.k + k_extra, n_clusters)
    return factor * fit.bread @ (scores.T @ scores) @ fit.bread


@dataclass(frozen=True, eq=False)
class CR2Block:
    """One cluster's Bell–McCaffrey adjustment A_g = (I - H_gg)^(-1/2) in low-rank form:
    H_gg = X_g (X'X)^-1 X_g' has rank at most k, so A_g = I + U diag(shift) U' with U the
    (n_g x r, r <= k) eigenvectors of H_gg's non-zero part. Cost and memory are linear in
    the cluster's size; no n_g x n_g matrix is formed."""

    idx: np.ndarray
    basis: np.ndarray  # n_g x r, orthonormal columns
    shift: np.ndarray  # r: (1 - λ)^(-1/2) - 1, or -1 where 1 - λ vanishes

    def apply(self, v: np.ndarray) -> np.ndarray:
        """A_g v."""
        return v + self.basis @ (self.shift * (self.basis.T @ v))


def cr2_adjustments(fit: OLSFit, codes: np.ndarray, n_clusters: int,
                    tol: float = 1e-10) -> list[CR2Block]:
    """Per cluster A_g = (I - H_gg)^(-1/2) (Bell and McCaffrey 2002), through the eigen-
    decomposition of the k x k matrix R (X'X)^-1 R' (X_g = QR): the eigenvalues λ of H_gg.
    Where 1 - λ is below ``tol`` the block of I - H is singular (absorbed effects) and, as
    clubSandwich does, the generalised inverse square root drops that direction."""
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(n_clusters + 1))
    blocks = []
    for g in range(n_clusters):
        idx = order[bounds[g]:bounds[g + 1]]
        Q, R = np.linalg.qr(fit.X[idx])
        lam, V = np.linalg.eigh(R @ fit.bread @ R.T)
        rest = 1.0 - lam
        inv = np.where(rest > tol, 1.0 / np.sqrt(np.clip(rest, tol, None)), 0.0)
        blocks.append(CR2Block(idx, Q @ V, inv - 1.0))
    return blocks


def vcov_cr2(fit: OLSFit, codes: np.ndarray, n_clusters: int,
             adjust: list | None = None) -> np.ndarray:
    """Bell–McCaffrey CR2: bread · Σ_g X_g' A_g e_g e_g' A_g X_g · bread."""
    adjust = adjust if adjust is not None else cr2_adjustments(fit, codes, n_clusters)
    scores = np.vstack([fit.X[b.idx].T @ b.apply(fit.resid[b.idx]) for b in adjust])
    return fit.bread @ (scores.T @ scores) @ fit.bread


def bm_df(fit: OLSFit, j: int, adjust: list[CR2Block]) -> float:
    """Imbens–Kolesár (2016) / Bell–McCaffrey degrees of freedom for coefficient ``j`` under a
    homoskedastic working model: (Σλ)² / Σλ², λ the eigenvalues of G'G, whose column g is
    (I - H)_{·,g} A_g X_g (X'X)^{-1} e_j.

    With v_g = A_g X_g ℓ (ℓ = (X'X)^{-1} e_j) and f_g = X_g' v_g, G'G = diag(v_g'v_g) −
    F'(X'X)^{-1}F, so its trace and squared norm come from k x k products: linear in the
    number of rows and of clusters, with no n x G or G x G matrix."""
    ell = fit.bread[:, j]
    d = np.empty(len(adjust))
    F = np.empty((fit.k, len(adjust)))
    for g, b in enumerate(adjust):
        v = b.apply(fit.X[b.idx] @ ell)
        d[g] = v @ v
        F[:, g] = fit.X[b.idx].T @ v
    BF = fit.bread @ F  # k x G
    diag_fbf = np.einsum("kg,kg->g", F, BF)  # (F'BF)_gg
    M = fit.bread @ (F @ F.T)  # B FF', k x k
    trace = d.sum() - np.trace(M)
    squares = d @ d - 2 * d @ diag_fbf + np.sum(M * M.T)
    return float(trace ** 2 / squares)


def vcov_hc1(fit: OLSFit, absorbed: int = 0) -> np.ndarray:
    """HC1; ``absorbed`` counts parameters removed by demeaning (e.g. unit effects)."""
    meat = (fit.X * fit.resid[:, None] ** 2).T @ fit.X
    return fit.n / (fit.n - fit.k - absorbed) * fit.bread @ meat @ fit.bread


def vcov_iid(fit: OLSFit, absorbed: int = 0) -> np.ndarray:
    sigma2 = fit.resid @ fit.resid / (fit.n - fit.k - absorbed)
    return sigma2 * fit.bread


WEBB = np.array([-np.sqrt(1.5), -1.0, -np.sqrt(0.5), np.sqrt(0.5), 1.0, np.sqrt(1.5)])


def _weight_batches(kind: str, enumerate_all: bool, n_clusters: int, reps: int, chunk: int,
                   rng: np.random.Generator):
    """The bootstrap's cluster weights, G × B per batch: every Rademacher sign vector
    (``enumerate_all``), else ``reps`` draws of Webb's or Rademacher weights, ``chunk`` at a
    time (drawn as they are used)."""
    if enumerate_all:
        grid = ((np.arange(2 ** n_clusters)[:, None] >> np.arange(n_clusters)) & 1) * 2 - 1
        yield grid.T.astype(float)
        return
    values = WEBB if kind == "webb" else [-1.0, 1.0]
    left = reps
    while left > 0:
        size = min(chunk, left)
        yield rng.choice(values, size=(n_clusters, size))
        left -= size


def wild_cluster_p(fit: OLSFit, j: int, codes: np.ndarray, n_clusters: int, reps: int,
                   rng: np.random.Generator, weights: str = "auto",
                   chunk: int = 2000) -> tuple[float, str]:
    """Wild cluster *restricted* bootstrap p-value for H0: beta_j = 0 (two-sided, symmetric),
    on the CR1 t statistic, as in Roodman et al.'s boottest.

    Weights: Rademacher, or Webb's six-point weights when there are fewer than 12 clusters
    (``weights="auto"``). When 2^G ≤ reps, all Rademacher sign vectors are enumerated and the
    p-value is exact; otherwise it is (1 + count) / (1 + B) over B random draws, which counts
    the observed statistic and is never zero. Returns (p-value, description of the weights).
    """
    X, y = fit.X, fit.y
    keep = [c for c in range(fit.k) if c != j]
    restricted = ols(X[:, keep], y)
    u = restricted.resid
    fitted = y - u
    beta_r = np.zeros(fit.k)
    beta_r[keep] = restricted.beta
    # everything per cluster: beta* - beta_r = M v,  cluster score of coef j = c*v - D (M v)
    M = fit.bread @ group_sum(X * u[:, None], codes, n_clusters).T  # k x G
    a = X @ fit.bread[j]  # row j of (X'X)^-1 X'
    c = group_sum(a * u, codes, n_clusters)  # G
    D = group_sum(a[:, None] * X, codes, n_clusters)  # G x k
    factor = cr1_factor(fit.n, fit.k, n_clusters)
    del fitted
    # observed CR1 t statistic
    se_obs = np.sqrt(vcov_cr1(fit, codes, n_clusters)[j, j])
    t_obs = fit.beta[j] / se_obs
    kind = weights
    if kind == "auto":
        kind = "webb" if n_clusters < 12 else "rademacher"
    enumerate_all = kind == "rademacher" and 2 ** n_clusters <= reps
    exceed = 0
    total = 0
    for V in _weight_batches(kind, enumerate_all, n_clusters, reps, chunk, rng):
        MV = M @ V  # k x B
        beta_j = beta_r[j] + MV[j]
        scores = c[:, None] * V - D @ MV  # G x B
        se = np.sqrt(factor * np.sum(scores ** 2, axis=0))
        t = beta_j / se
        exceed += int(np.sum(np.abs(t) >= abs(t_obs) - 1e-12))
        total += V.shape[1]
    label = ("Rademacher, all 2^G sign vectors" if enumerate_all
             else f"{'Webb six-point' if kind == 'webb' else 'Rademacher'}, {total} draws")
    if enumerate_all:  # exact: the observed sign vector is among them, so p >= 1 / 2^G
        return exceed / total, label
    # random draws: (1 + count) / (1 + B), counting the observed statistic, so never 0
    return (1 + exceed) / (1 + total), label
