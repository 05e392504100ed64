"""Design diagnosis by simulation: declare a cluster-randomised trial once, simulate it many
times, and see what each inference method would deliver before the field work.

* :class:`TrialDesign` — the declaration: clusters and their sizes, ICC, the share of the
  endline variance the baseline explains, attrition, the assignment procedure (complete,
  stratified on the clusters' baseline means, or pair-matched), the estimator and the effect;
* :func:`simulate_trial` — one simulated trial as a DataFrame (one row per unit), which every
  function of :mod:`evalkit.designs` takes;
* :func:`diagnose` — power, bias, RMSE, confidence-interval coverage and size under the null
  for CR2 (Bell–McCaffrey df), CR1 (t with G − 1 df), the wild cluster restricted bootstrap and
  randomisation inference, each with its Monte Carlo standard error.

The simulations are vectorised: many trials are fitted at once as stacked arrays (OLS, the
CR1 and CR2 sandwiches, Bell–McCaffrey degrees of freedom, bootstrap and re-draw statistics
per trial), and their numbers equal :func:`~evalkit.designs.compare_arms` on the same data.

Model (outcome in standard deviations): baseline b = c_g + e, endline y = δ·z_g + √R²·b +
√(1 − R²)·(a_g + u), with var(a) = var(c) = ICC and var(e) = var(u) = 1 − ICC, so that the
outcome has variance 1, intra-cluster correlation ICC, and the baseline explains R² of it.
"""

from __future__ import annotations

import sys
import time
from dataclasses import asdict, dataclass, field, replace

import numpy as np
import pandas as pd

from evalkit.designs._randomisation import all_assignments, n_assignments
from evalkit.display import fmt, html_table
from evalkit.lazy import lazy
from evalkit.options import option

sparse, stats = lazy("scipy.sparse"), lazy("scipy.stats")

ASSIGNMENTS = ("complete", "stratified", "pairs")
ESTIMATORS = ("ancova", "endline", "did")
METHODS = ("CR2", "CR1", "wild bootstrap", "randomisation inference")
def _ein(*operands):
    """einsum with the contraction order optimised (three or more operands)."""
    return np.einsum(*operands, optimize=True)


WEBB = np.array([-np.sqrt(1.5), -1.0, -np.sqrt(0.5), np.sqrt(0.5), 1.0, np.sqrt(1.5)])


@dataclass(frozen=True)
class TrialDesign:
    """A planned cluster-randomised trial.

    Parameters
    ----------
    n_clusters : int
        Clusters in both arms.
    cluster_size : int or list of int
        Units surveyed per cluster (one number, or one per cluster).
    icc : float
        Intra-cluster correlation of the outcome, in [0, 1).
    r2 : float
        Share of the endline variance the baseline outcome explains, in [0, 1).
    effect : float
        The true effect, in standard deviations of the outcome.
    attrition : float
        Share of units lost at endline, at random, in [0, 1).
    treat_share : float
        Share of clusters treated (in each stratum).
    cv_cluster_size : float
        When ``cluster_size`` is one number: coefficient of variation of the sizes, drawn once
        (gamma) from the diagnosis's seed; 0 for equal sizes.
    assignment : {"complete", "stratified", "pairs"}
        Complete randomisation of clusters; within strata of ``strata_size`` clusters of
        similar baseline mean; or within pairs matched on the baseline mean.
    strata_size : int
        Clusters per stratum for ``assignment="stratified"``.
    estimator : {"ancova", "endline", "did"}
        ANCOVA on the baseline outcome, the endline difference, or the change (two-period
        difference in differences); strata fixed effects are included when stratified.

    Examples
    --------
    >>> from evalkit.designs import TrialDesign
    >>> TrialDesign(n_clusters=36, cluster_size=20, icc=0.08, r2=0.3, effect=0.25).n_units
    720
    """

    n_clusters: int
    cluster_size: int | tuple[int, ...]
    icc: float
    r2: float = 0.0
    effect: float = 0.0
    attrition: float = 0.0
    treat_share: float = 0.5
    cv_cluster_size: float = 0.0
    assignment: str = "complete"
    strata_size: int = 4
    estimator: str = "ancova"

    def __post_init__(self):
        if isinstance(self.n_clusters, bool) or not isinstance(self.n_clusters, (int, np.integer)) \
                or self.n_clusters < 4:
            raise ValueError(f"n_clusters is {self.n_clusters!r}; expected a whole number of "
                             "clusters, at least 4.")
        self._check_sizes()
        for name, low, high in (("icc", 0, 1), ("r2", 0, 1), ("attrition", 0, 1)):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not low <= value < high:
                raise ValueError(f"{name} is {value!r}; expected a share from {low} up to {high}.")
        if not 0 < self.treat_share < 1:
            raise ValueError(f"treat_share is {self.treat_share!r}; expected a share between 0 "
                             "and 1.")
        if self.cv_cluster_size < 0:
            raise ValueError(f"cv_cluster_size is {self.cv_cluster_size!r}; expected 0 or more.")
        object.__setattr__(self, "assignment", option(self.assignment, ASSIGNMENTS, "assignment"))
        object.__setattr__(self, "estimator", option(self.estimator, ESTIMATORS, "estimator"))
        if self.assignment == "stratified" and not 2 <= self.strata_size <= self.n_clusters:
            raise ValueError(f"strata_size is {self.strata_size!r}; expected 2 to n_clusters.")

    def _check_sizes(self) -> None:
        """``cluster_size``: units per cluster (at least 1), or one size per cluster, kept as a
        tuple."""
        sizes = self.cluster_size
        if isinstance(sizes, (list, tuple, np.ndarray)):
            if len(sizes) != self.n_clusters or min(sizes) < 1:
                raise ValueError(f"cluster_size lists {len(sizes)} sizes for {self.n_clusters} "
                                 "clusters; expected one positive size per cluster.")
            object.__setattr__(self, "cluster_size", tuple(int(s) for s in sizes))
        elif not isinstance(sizes, (int, float, np.number)) or sizes < 1:
            raise ValueError(f"cluster_size is {sizes!r}; expected units per cluster, at least 1.")

    @property
    def n_units(self) -> int:
        """Units surveyed (all clusters; before attrition), for equal or listed sizes."""
        if isinstance(self.cluster_size, tuple):
            return int(sum(self.cluster_size))
        return int(round(self.cluster_size)) * self.n_clusters

    def sizes(self, rng: np.random.Generator) -> np.ndarray:
        """The clusters' sizes: as listed, equal, or drawn once (gamma with the declared CV)."""
        if isinstance(self.cluster_size, tuple):
            return np.array(self.cluster_size, dtype=np.int64)
        m = float(self.cluster_size)
        if self.cv_cluster_size == 0:
            return np.full(self.n_clusters, int(round(m)), dtype=np.int64)
        shape = 1 / self.cv_cluster_size ** 2
        return np.maximum(1, np.round(rng.gamma(shape, m / shape, self.n_clusters))).astype(np.int64)

    @property
    def strata_width(self) -> int:
        return {"complete": self.n_clusters, "stratified": self.strata_size, "pairs": 2}[self.assignment]


# ------------------------------------------------------------------------------ simulation


def _draw(design: TrialDesign, sizes: np.ndarray, S: int, rng: np.random.Generator) -> dict:
    """S trials at once: rows are the same units in every trial (clusters of fixed sizes);
    outcomes, assignment, strata and attrition are drawn per trial."""
    G = design.n_clusters
    cl = np.repeat(np.arange(G), sizes)
    n = len(cl)
    s_icc, s_rest = np.sqrt(design.icc), np.sqrt(1 - design.icc)
    b = rng.normal(0, s_icc, (S, G))[:, cl] + rng.normal(0, s_rest, (S, n))
    noise = rng.normal(0, s_icc, (S, G))[:, cl] + rng.normal(0, s_rest, (S, n))
    # strata on the clusters' baseline means (known before assignment)
    width = design.strata_width
    means = np.stack([np.bincount(cl, weights=row, minlength=G) for row in b]) / sizes
    ranks = np.argsort(np.argsort(means, axis=1, kind="stable"), axis=1)
    strata = ranks // width if width < G else np.zeros((S, G), dtype=np.int64)
    n_strata = int(strata.max()) + 1
    if width < G and G % width:  # a short last stratum joins the one before
        strata = np.minimum(strata, G // width - 1)
        n_strata = G // width
    z = _assign(strata, n_strata, design.treat_share, rng, 1)[:, :, 0]
    observed = rng.random((S, n)) >= design.attrition
    y_null = np.sqrt(design.r2) * b + np.sqrt(1 - design.r2) * noise
    return dict(cl=cl, b=b, z=z, strata=strata, n_strata=n_strata, observed=observed,
                y_null=y_null)


def _assign(strata: np.ndarray, n_strata: int, share: float, rng: np.random.Generator,
            B: int) -> np.ndarray:
    """Complete randomisation within strata: (S, G, B) 0/1 assignments, each stratum's
    number treated round(share × its size) (at least one of each arm where it can)."""
    S, G = strata.shape
    counts = np.stack([np.bincount(row, minlength=n_strata) for row in strata])  # S x L
    treated = np.clip(np.round(share * counts), 1, np.maximum(counts - 1, 1)).astype(np.int64)
    keys = strata[:, :, None] * 2.0 + rng.random((S, G, B))
    order = np.argsort(keys, axis=1)
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.arange(G)[None, :, None], axis=1)
    start = np.concatenate([np.zeros((S, 1), dtype=np.int64), np.cumsum(counts, axis=1)[:, :-1]], axis=1)
    position = rank - np.take_along_axis(start, strata, axis=1)[:, :, None]
    return (position < np.take_along_axis(treated, strata, axis=1)[:, :, None]).astype(float)


def simulate_trial(n_clusters: int = 36, cluster_size: int = 20, icc: float = 0.08,
                   r2: float = 0.5, effect: float = 0.0, attrition: float = 0.0, *,
                   treat_share: float = 0.5, cv_cluster_size: float = 0.0,
                   assignment: str = "complete", strata_size: int = 4,
                   seed: int | None = None) -> pd.DataFrame:
    """One simulated cluster-randomised trial, one row per unit surveyed at baseline.

    Parameters
    ----------
    n_clusters, cluster_size, icc, r2, effect, attrition, treat_share, cv_cluster_size, \
assignment, strata_size
        As in :class:`TrialDesign`.
    seed : int, optional
        Random seed.

    Returns
    -------
    pandas.DataFrame
        ``cluster``, ``stratum``, ``unit``, ``treatment`` (0/1, whole clusters),
        ``baseline``, ``observed`` (0/1: found at endline) and ``y`` (the endline outcome,
        missing where not observed).

    Examples
    --------
    >>> from evalkit.designs import simulate_trial
    >>> df = simulate_trial(n_clusters=10, cluster_size=5, icc=0.1, seed=1)
    >>> df.shape, int(df.groupby("cluster")["treatment"].first().sum())
    ((50, 7), 5)
    """
    design = TrialDesign(n_clusters=n_clusters, cluster_size=cluster_size, icc=icc, r2=r2,
                         effect=effect, attrition=attrition, treat_share=treat_share,
                         cv_cluster_size=cv_cluster_size, assignment=assignment,
                         strata_size=strata_size)
    rng = np.random.default_rng(seed)
    sizes = design.sizes(rng)
    d = _draw(design, sizes, 1, rng)
    cl = d["cl"]
    z = d["z"][0][cl]
    y = design.effect * z + d["y_null"][0]
    seen = d["observed"][0]
    return pd.DataFrame({"cluster": cl, "stratum": d["strata"][0][cl], "unit": np.arange(len(cl)),
                         "treatment": z.astype(int), "baseline": d["b"][0],
                         "observed": seen.astype(int), "y": np.where(seen, y, np.nan)})


# ------------------------------------------------------------------------------ batched fits


def _design_matrices(design: TrialDesign, d: dict, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Stacked designs (S, n, k), column 1 the treatment, rows lost to attrition zeroed, and
    the outcomes (S, n) zeroed likewise."""
    S, n = y.shape
    cl = d["cl"]
    mask = d["observed"].astype(float)
    zrow = d["z"][:, cl]
    parts = [np.ones((S, n)), zrow]
    if design.estimator == "ancova":
        parts.append(d["b"])
    if design.estimator == "did":
        y = y - d["b"]
    L = d["n_strata"]
    if L > 1:
        srow = d["strata"][:, cl]
        parts += [(srow == level).astype(float) for level in range(1, L)]
    X = np.stack(parts, axis=2) * mask[:, :, None]
    return X, y * mask


def _cluster_sum(M: sparse.csr_matrix, values: np.ndarray) -> np.ndarray:
    """values (S, n, ...) summed within clusters: (S, G, ...)."""
    S, n = values.shape[:2]
    rest = values.shape[2:]
    flat = np.moveaxis(values, 1, 0).reshape(n, -1)
    out = np.asarray(M @ flat).reshape((M.shape[0], S) + rest)
    return np.moveaxis(out, 0, 1)


def _fit(X: np.ndarray, y: np.ndarray):
    XtX = np.einsum("snk,snl->skl", X, X)
    bread = np.linalg.inv(XtX)
    beta = np.einsum("skl,sl->sk", bread, np.einsum("snk,sn->sk", X, y))
    resid = y - np.einsum("snk,sk->sn", X, beta)
    return beta, resid, bread


def _cr2(X, resid, bread, sizes, j: int) -> tuple[np.ndarray, np.ndarray]:
    """CR2 standard error and Bell–McCaffrey (Imbens–Kolesár) df of coefficient j, per
    trial, through each cluster's (I − H_gg)^(-1/2) (rows lost to attrition are zero rows
    and drop out)."""
    S, n, k = X.shape
    ell = bread[:, :, j]  # S x k
    bounds = np.concatenate([[0], np.cumsum(sizes)])
    scores = np.empty((S, len(sizes), k))
    d = np.empty((S, len(sizes)))
    F = np.empty((S, k, len(sizes)))
    for g in range(len(sizes)):
        Xg = X[:, bounds[g]:bounds[g + 1]]  # S x m x k
        H = _ein("smk,skl,sql->smq", Xg, bread, Xg)
        lam, V = np.linalg.eigh(np.eye(Xg.shape[1])[None] - H)
        inv = np.where(lam > 1e-10, 1 / np.sqrt(np.clip(lam, 1e-10, None)), 0.0)
        A = _ein("smr,sr,sqr->smq", V, inv, V)
        Ae = np.einsum("smq,sq->sm", A, resid[:, bounds[g]:bounds[g + 1]])
        scores[:, g] = np.einsum("smk,sm->sk", Xg, Ae)
        v = _ein("smq,sqk,sk->sm", A, Xg, ell)
        d[:, g] = np.einsum("sm,sm->s", v, v)
        F[:, :, g] = np.einsum("smk,sm->sk", Xg, v)
    meat = np.einsum("sgk,sgl->skl", scores, scores)
    V = _ein("skl,slm,smq->skq", bread, meat, bread)
    BF = np.einsum("skl,slg->skg", bread, F)
    diag_fbf = np.einsum("skg,skg->sg", F, BF)
    M = _ein("skl,slg,smg->skm", bread, F, F)
    trace = d.sum(axis=1) - np.einsum("skk->s", M)
    squares = (np.einsum("sg,sg->s", d, d) - 2 * np.einsum("sg,sg->s", d, diag_fbf)
               + np.einsum("skm,smk->s", M, M))
    return np.sqrt(V[:, j, j]), trace ** 2 / squares


def _cr1(X, resid, bread, Mc, j: int, n_obs: np.ndarray, G: int) -> np.ndarray:
    k = X.shape[2]
    scores = _cluster_sum(Mc, X * resid[:, :, None])  # S x G x k
    row = bread[:, j, :]
    s = np.einsum("sgk,sk->sg", scores, row)
    factor = G / (G - 1) * (n_obs - 1) / (n_obs - k)
    return np.sqrt(factor * np.sum(s ** 2, axis=1))


def _wild(X, y, bread, beta, Mc, j: int, reps: int, rng, G: int) -> np.ndarray:
    """Wild cluster restricted bootstrap p-values (CR1 t, symmetric), per trial."""
    S, n, k = X.shape
    keep = [c for c in range(k) if c != j]
    Xr = X[:, :, keep]
    _, u, _ = _fit(Xr, y)
    M = np.einsum("skl,sgl->skg", bread, _cluster_sum(Mc, X * u[:, :, None]))  # S x k x G
    a = np.einsum("snk,sk->sn", X, bread[:, j, :])
    c = _cluster_sum(Mc, (a * u)[:, :, None])[:, :, 0]  # S x G
    D = _cluster_sum(Mc, a[:, :, None] * X)  # S x G x k
    s_obs = np.einsum("sgk,sk->sg", _cluster_sum(Mc, X * (y - np.einsum("snk,sk->sn", X, beta))[:, :, None]),
                      bread[:, j, :])
    t_obs = beta[:, j] / np.sqrt(np.sum(s_obs ** 2, axis=1))
    if G < 12:
        V = WEBB[rng.integers(0, 6, (S, G, reps))]
    else:
        V = rng.choice([-1.0, 1.0], size=(S, G, reps))
    MV = np.einsum("skg,sgb->skb", M, V)
    scores = c[:, :, None] * V - np.einsum("sgk,skb->sgb", D, MV)
    t = MV[:, j, :] / np.sqrt(np.sum(scores ** 2, axis=1))
    count = np.sum(np.abs(t) >= np.abs(t_obs)[:, None] - 1e-12, axis=1)
    return (1 + count) / (1 + reps)


def _ri(X, y, d, Mc, reps: int, rng, G: int) -> np.ndarray:
    """Randomisation p-values (CR1-studentised statistic, re-drawn within each trial's
    strata), from cluster-level sufficient statistics (as :class:`ClusterStatistic`)."""
    S, n, k = X.shape
    W = X[:, :, [c for c in range(k) if c != 1]]
    t = d["observed"].astype(float)  # row factor of the treatment column
    WtW_inv = np.linalg.inv(np.einsum("snp,snq->spq", W, W))
    pinv = np.einsum("spq,snq->spn", WtW_inv, W)  # S x p x n
    y_resid = y - _ein("snp,spm,sm->sn", W, pinv, y)
    R = np.asarray(Mc @ (pinv * t[:, None, :]).reshape(-1, n).T).T.reshape(S, -1, G)  # S x p x G
    a = _cluster_sum(Mc, (t * t)[:, :, None])[:, :, 0]
    bvec = _cluster_sum(Mc, W * t[:, :, None])  # S x G x p
    Q = _cluster_sum(Mc, np.einsum("snp,snq->snpq", W, W))  # S x G x p x p
    e = _cluster_sum(Mc, (y_resid * t)[:, :, None])[:, :, 0]
    f = _cluster_sum(Mc, W * y_resid[:, :, None])  # S x G x p

    def stat(Z):  # Z: S x G x B
        U = np.einsum("spg,sgb->spb", R, Z)
        cross = e[:, :, None] * Z - np.einsum("sgp,spb->sgb", f, U)
        q = (a[:, :, None] * Z * Z - 2 * Z * np.einsum("sgp,spb->sgb", bvec, U)
             + _ein("sgpq,spb,sqb->sgb", Q, U, U))
        dd = q.sum(axis=1)
        beta = cross.sum(axis=1) / dd
        scores = cross - beta[:, None, :] * q
        return beta * dd / np.sqrt(np.sum(scores ** 2, axis=1))

    observed = stat(d["z"][:, :, None])[:, 0]
    total = n_assignments(d["z"][0], d["strata"][0])  # the same in every trial
    if total <= reps:  # exact: every assignment the procedure could have drawn
        Z = np.stack([all_assignments(z, st) for z, st in zip(d["z"], d["strata"])])
    else:
        Z = _assign(d["strata"], d["n_strata"], d.get("share", 0.5), rng, reps)
    draws = stat(Z)
    count = np.sum(np.abs(draws) >= np.abs(observed)[:, None] - 1e-10, axis=1)
    if total <= reps:
        return count / Z.shape[2]
    return (1 + count) / (1 + reps)


def analyse_batch(design: TrialDesign, d: dict, y: np.ndarray, sizes: np.ndarray,
                  wild_reps: int, ri_reps: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Every trial of a batch analysed as :func:`~evalkit.designs.compare_arms` would:
    estimate, CR2 SE and df, CR1 SE, wild bootstrap and randomisation p-values."""
    G = design.n_clusters
    X, yy = _design_matrices(design, d, y)
    Mc = sparse.csr_matrix((np.ones(len(d["cl"])), (d["cl"], np.arange(len(d["cl"])))),
                           shape=(G, len(d["cl"])))
    beta, resid, bread = _fit(X, yy)
    n_obs = d["observed"].sum(axis=1)
    se2, df2 = _cr2(X, resid, bread, sizes, 1)
    se1 = _cr1(X, resid, bread, Mc, 1, n_obs, G)
    out = {"estimate": beta[:, 1], "se_cr2": se2, "df_cr2": df2, "se_cr1": se1,
           "df_cr1": np.full(len(beta), G - 1.0)}
    out["p_wild"] = (_wild(X, yy, bread, beta, Mc, 1, wild_reps, rng, G) if wild_reps
                     else np.full(len(beta), np.nan))
    d = {**d, "share": design.treat_share}
    out["p_ri"] = _ri(X, yy, d, Mc, ri_reps, rng, G) if ri_reps else np.full(len(beta), np.nan)
    return out


# ------------------------------------------------------------------------------ diagnosis


@dataclass(frozen=True, eq=False, repr=False)
class Diagnosis:
    """What a declared design delivers, by inference method: ``table`` has one row per
    method (CR2, CR1, wild bootstrap, randomisation inference) with power (rejection rate at
    ``alpha`` under the declared effect), size (rejection rate under no effect), coverage of
    the 95 % CI (CR2, CR1), and the estimator's bias and RMSE, each with its Monte Carlo
    standard error (columns ending ``_mcse``)."""

    design: TrialDesign
    table: pd.DataFrame = field(repr=False)
    sims: int
    alpha: float
    seed: int
    wild_reps: int
    ri_reps: int
    seconds: float
    warnings: tuple[str, ...] = ()
    draws: pd.DataFrame | None = field(default=None, repr=False)

    def to_frame(self) -> pd.DataFrame:
        """One row per method: power, size, coverage, bias, rmse, mean SE, each with _mcse."""
        return self.table.copy()

    def summary(self) -> str:
        frame = self.table.copy()
        text = frame.to_string(index=False, float_format=lambda v: f"{v:.3f}")
        design = ", ".join(f"{k}={v}" for k, v in asdict(self.design).items())
        lines = [f"Diagnosis of {design}", f"{self.sims} simulated trials (seed {self.seed}; "
                 f"{self.wild_reps} bootstrap draws and {self.ri_reps} re-draws each; "
                 f"{self.seconds:.1f} s)", text]
        lines += [f"warning: {w}" for w in self.warnings]
        return "\n".join(lines)

    def __repr__(self) -> str:
        row = self.table.set_index("method")
        return (f"<Diagnosis: {self.sims} trials; power "
                + ", ".join(f"{m} {fmt(row.loc[m, 'power'], 2)}" for m in row.index)
                + f"; size at {self.alpha:g}: "
                + ", ".join(f"{m} {fmt(row.loc[m, 'size'], 3)}" for m in row.index) + ">")

    def _repr_html_(self) -> str:
        rows = [(r["method"], f"{fmt(r['power'], 3)} ± {fmt(r['power_mcse'], 3)}",
                 f"{fmt(r['size'], 3)} ± {fmt(r['size_mcse'], 3)}",
                 f"{fmt(r['coverage'], 3)} ± {fmt(r['coverage_mcse'], 3)}"
                 if r["coverage"] == r["coverage"] else "–",
                 f"{fmt(r['bias'], 3)} ± {fmt(r['bias_mcse'], 3)}",
                 f"{fmt(r['rmse'], 3)} ± {fmt(r['rmse_mcse'], 3)}")
                for _, r in self.table.iterrows()]
        note = (f"{self.sims} simulated trials (seed {self.seed}); ± one Monte Carlo standard "
                f"error; power and size at the {self.alpha:g} level; effect "
                f"{self.design.effect:g} SD." + "".join(f" Warning: {w}" for w in self.warnings))
        return html_table("Design diagnosis", ["Method", "Power", "Size", "CI coverage", "Bias",
                                               "RMSE"], rows, note)


def _progress(done: int, total: int, start: float, enabled: bool) -> None:
    if not enabled:
        return
    width = 30
    filled = int(width * done / total)
    elapsed = time.perf_counter() - start
    left = elapsed / done * (total - done) if done else 0.0
    sys.stderr.write(f"\rdiagnosing [{'#' * filled}{'.' * (width - filled)}] {done}/{total} "
                     f"trials, {elapsed:.0f} s, about {left:.0f} s left ")
    if done == total:
        sys.stderr.write("\n")
    sys.stderr.flush()


def diagnose(design: TrialDesign | None = None, *, sims: int = 1000, alpha: float = 0.05,
             wild_reps: int = 199, ri_reps: int = 199, seed: int | None = None,
             chunk: int = 100, progress: bool = True, keep_draws: bool = False,
             **declared) -> Diagnosis:
    """Simulate ``design`` ``sims`` times, with and without its effect, and analyse each
    trial with every inference method.

    Parameters
    ----------
    design : TrialDesign, optional
        The declaration; or give its fields as keywords (``n_clusters=8, cluster_size=20,
        icc=0.1, effect=0.3``).
    sims : int
        Simulated trials (each analysed twice: with the effect, for power, bias, RMSE and
        coverage, and with the effect removed, for size).
    alpha : float
        Level of the tests.
    wild_reps, ri_reps : int
        Bootstrap draws and assignment re-draws per trial (0: that method is skipped).
    seed : int, optional
        Seed; None draws one, recorded in the result.
    chunk : int
        Trials fitted at once (memory grows with it).
    progress : bool
        Show a plain-text progress bar on standard error.
    keep_draws : bool
        Keep every trial's numbers in ``draws``.
    **declared
        Fields of :class:`TrialDesign` when ``design`` is not given.

    Returns
    -------
    Diagnosis
        Power, size, coverage, bias and RMSE per method, with Monte Carlo standard errors.

    Examples
    --------
    >>> from evalkit.designs import diagnose
    >>> d = diagnose(n_clusters=8, cluster_size=10, icc=0.1, effect=0.5, sims=40,
    ...              wild_reps=49, ri_reps=49, seed=1, progress=False)
    >>> d.to_frame()["method"].tolist()
    ['CR2', 'CR1', 'wild bootstrap', 'randomisation inference']
    """
    from evalkit.designs.cluster_trial import draw_seed

    if design is None:
        design = TrialDesign(**declared)
    elif declared:
        design = replace(design, **declared)
    if isinstance(sims, bool) or not isinstance(sims, (int, np.integer)) or sims < 2:
        raise ValueError(f"sims is {sims!r}; expected a whole number of simulated trials, at "
                         "least 2.")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha is {alpha!r}; expected a level between 0 and 1.")
    seed = draw_seed(seed)
    start = time.perf_counter()
    draws = _simulated(design, sims, chunk, wild_reps, ri_reps, np.random.default_rng(seed),
                       start, progress)
    table = _summarise(draws, design.effect, alpha, wild_reps, ri_reps)
    notes = [f"{r['method']} over-rejects: size {r['size']:.3f} (± {r['size_mcse']:.3f}) "
             f"against the nominal {alpha:g} with this design; do not rely on it alone."
             for _, r in table.iterrows() if r["size"] - 2 * r["size_mcse"] > alpha * 1.2]
    if design.n_clusters < 12 and wild_reps:
        notes.append("With fewer than 12 clusters the wild bootstrap uses Webb's six-point weights.")
    return Diagnosis(design=design, table=table, sims=sims, alpha=alpha, seed=seed,
                     wild_reps=wild_reps, ri_reps=ri_reps,
                     seconds=time.perf_counter() - start, warnings=tuple(notes),
                     draws=draws if keep_draws else None)


def _simulated(design: TrialDesign, sims: int, chunk: int, wild_reps: int, ri_reps: int, rng,
               start: float, progress: bool) -> pd.DataFrame:
    """Every method's results on ``sims`` simulated trials, drawn ``chunk`` at a time, each
    analysed with the effect ("alt_…") and without it ("null_…")."""
    sizes = design.sizes(rng)
    parts: dict[str, list[np.ndarray]] = {}
    done = 0
    _progress(0, sims, start, progress)
    while done < sims:
        S = min(chunk, sims - done)
        d = _draw(design, sizes, S, rng)
        zrow = d["z"][:, d["cl"]]
        for label, y in (("alt", d["y_null"] + design.effect * zrow), ("null", d["y_null"])):
            out = analyse_batch(design, d, y, sizes, wild_reps, ri_reps, rng)
            for key, value in out.items():
                parts.setdefault(f"{label}_{key}", []).append(value)
        done += S
        _progress(done, sims, start, progress)
    return pd.DataFrame({k: np.concatenate(v) for k, v in parts.items()})


def _rate(p: np.ndarray, alpha: float) -> tuple[float, float]:
    ok = p[~np.isnan(p)]
    if not len(ok):
        return float("nan"), float("nan")
    r = float(np.mean(ok < alpha))
    return r, float(np.sqrt(r * (1 - r) / len(ok)))


def _summarise(draws: pd.DataFrame, effect: float, alpha: float, wild_reps: int,
               ri_reps: int) -> pd.DataFrame:
    S = len(draws)
    est = draws["alt_estimate"].to_numpy()
    err = est - effect
    bias, bias_se = float(err.mean()), float(err.std(ddof=1) / np.sqrt(S))
    mse = err ** 2
    rmse = float(np.sqrt(mse.mean()))
    rmse_se = float(mse.std(ddof=1) / np.sqrt(S) / (2 * rmse)) if rmse > 0 else float("nan")
    rows = []
    for method, se_col, df_col in (("CR2", "se_cr2", "df_cr2"), ("CR1", "se_cr1", "df_cr1")):
        p = {label: np.asarray(2 * stats.t.sf(
                np.abs(draws[f"{label}_estimate"] / draws[f"{label}_{se_col}"]),
                draws[f"{label}_{df_col}"]), dtype=float) for label in ("alt", "null")}
        crit = stats.t.ppf(0.975, draws[f"alt_{df_col}"])
        covered = (np.abs(err) <= crit * draws[f"alt_{se_col}"]).to_numpy()
        cov = float(covered.mean())
        rows.append((method, *_rate(p["alt"], alpha), *_rate(p["null"], alpha),
                     cov, float(np.sqrt(cov * (1 - cov) / S)),
                     float(draws[f"alt_{se_col}"].mean())))
    for method, col, reps in (("wild bootstrap", "p_wild", wild_reps),
                              ("randomisation inference", "p_ri", ri_reps)):
        if not reps:
            rows.append((method,) + (float("nan"),) * 7)
            continue
        rows.append((method, *_rate(draws[f"alt_{col}"].to_numpy(), alpha),
                     *_rate(draws[f"null_{col}"].to_numpy(), alpha), float("nan"), float("nan"),
                     float("nan")))
    table = pd.DataFrame(rows, columns=["method", "power", "power_mcse", "size", "size_mcse",
                                        "coverage", "coverage_mcse", "mean_se"])
    table["bias"], table["bias_mcse"] = bias, bias_se
    table["rmse"], table["rmse_mcse"] = rmse, rmse_se
    return table


__all__ = ["Diagnosis", "TrialDesign", "diagnose", "simulate_trial"]
