"""Regression models written as formulas, with the kit's few-cluster inference for every
coefficient the randomisation moved.

* :func:`estimate` — least squares or two-stage least squares from a formula: every
  coefficient in a tidy table; continuous and multi-valued treatments, interactions with
  continuous moderators, absorbed fixed effects (``| village + period``), instrumental
  variables (``[takeup ~ assigned]``); CR2 with Bell–McCaffrey / Imbens–Kolesár degrees of
  freedom by default, CR1 as fixest computes it, HC1 or iid; and, for each coefficient that
  depends on the randomised ``treatment``, a wild restricted bootstrap p-value and a
  randomisation-inference p-value that re-draws the treatment the way it was drawn.

Formulas are Wilkinson formulas read by `formulaic` (the library linearmodels uses):
``y ~ x1 + x2``, ``C(arm)``, ``treat * age``, ``np.log(income)``, ``I(dose ** 2)``. Two
additions, as in fixest and linearmodels:

* ``y ~ x | fe1 + fe2`` absorbs fixed effects of the columns after the bar (no coefficients
  are reported for them, and the intercept is absorbed);
* ``y ~ exog + [endog ~ instruments]`` (linearmodels) or ``y ~ exog | fe | endog ~
  instruments`` (fixest) estimates by two-stage least squares.

Pure: DataFrame in, :class:`ModelResult` out.
"""

from __future__ import annotations

import re
import warnings as _warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from evalkit.data.columns import numbers, require_columns
from evalkit.designs import _linear as la
from evalkit.designs._randomisation import Procedure, random_assignments
from evalkit.display import fmt, html_table, p_value
from evalkit.errors import DataError
from evalkit.lazy import lazy
from evalkit.options import option

stats = lazy("scipy.stats")

SE_TYPES = ("CR2", "CR1", "HC1", "iid")
RI_STATS = ("t", "coef")
MAX_LEVELS = 50  # treatments with more distinct values are re-drawn through an affine design
EXACT_FE_CELLS = 40_000_000  # n x (levels of the smaller effects) up to which they are exact


# ------------------------------------------------------------------------------ results


@dataclass(frozen=True, repr=False)
class Coefficient:
    """One coefficient of a :class:`ModelResult`, with the attributes the tables and plots
    read (``estimate``, ``se``, ``ci_low``, ``ci_high``, ``p_value``, ``p_wild``, ``p_ri``,
    ``n_obs``, ``n_clusters``, ``control_mean``, ``se_type``)."""

    outcome: str
    term: str
    estimate: float
    se: float
    df: float
    ci_low: float
    ci_high: float
    p_value: float
    p_wild: float
    p_ri: float
    se_type: str
    n_obs: int
    n_clusters: int
    clustered: bool
    control_mean: float
    estimator: str
    ri_method: str = ""
    wild_method: str = ""
    r2: float = float("nan")

    def __repr__(self) -> str:
        return (f"<Coefficient {self.term!r} on {self.outcome!r}: {fmt(self.estimate, 3, True)} "
                f"({self.se_type} SE {fmt(self.se)}), p {p_value(self.p_value)}>")


@dataclass(frozen=True, eq=False, repr=False)
class ModelResult:
    """A fitted model: ``coefficients`` (one row per term: estimate, se, df, t, p_value,
    ci_low, ci_high, p_wild, p_ri; the last two only for terms the randomised treatment moves)
    and what a table needs: n, clusters, R², the fixed effects absorbed, the seed.

    ``model[term]`` gives one :class:`Coefficient`; :meth:`to_frame` the tidy table."""

    formula: str
    outcome: str
    estimator: str  # "OLS" or "2SLS"
    coefficients: pd.DataFrame = field(repr=False)
    se_type: str
    n_obs: int
    n_clusters: int
    clustered: bool
    r2: float
    adj_r2: float
    r2_within: float
    fixed_effects: tuple[str, ...]
    treatment: str | None
    randomised: tuple[str, ...]
    wild_method: str
    ri_method: str
    ri_stat: str
    seed: int | None
    n_dropped: int
    control_mean: float
    weights: str | None = None
    cluster: str | None = None
    first_stage: pd.DataFrame | None = field(default=None, repr=False)
    warnings: tuple[str, ...] = ()
    df_resid: float = float("nan")

    @property
    def params(self) -> pd.Series:
        """Estimates indexed by term (as statsmodels' and linearmodels' ``params``)."""
        return self.coefficients["estimate"]

    @property
    def std_errors(self) -> pd.Series:
        """Standard errors indexed by term."""
        return self.coefficients["se"]

    @property
    def pvalues(self) -> pd.Series:
        """p-values (``se_type`` with its degrees of freedom) indexed by term."""
        return self.coefficients["p_value"]

    def __getitem__(self, term: str) -> Coefficient:
        if term not in self.coefficients.index:
            raise KeyError(f"no term {term!r} in the model; terms: "
                           f"{', '.join(map(repr, self.coefficients.index))}")
        row = self.coefficients.loc[term]
        return Coefficient(
            outcome=self.outcome, term=term, estimate=float(row["estimate"]),
            se=float(row["se"]), df=float(row["df"]), ci_low=float(row["ci_low"]),
            ci_high=float(row["ci_high"]), p_value=float(row["p_value"]),
            p_wild=float(row["p_wild"]), p_ri=float(row["p_ri"]), se_type=self.se_type,
            n_obs=self.n_obs, n_clusters=self.n_clusters if self.clustered else 0,
            clustered=self.clustered, control_mean=self.control_mean,
            estimator=self.estimator, ri_method=self.ri_method if term in self.randomised else "",
            wild_method=self.wild_method if term in self.randomised else "", r2=self.r2)

    def to_frame(self) -> pd.DataFrame:
        """The tidy coefficient table: ``term``, ``estimate``, ``se``, ``df``, ``t``,
        ``p_value``, ``ci_low``, ``ci_high`` (95 %), ``p_wild``, ``p_ri``."""
        return self.coefficients.reset_index()

    def summary(self) -> str:
        frame = self.coefficients.copy()
        for column in ("p_value", "p_wild", "p_ri"):
            frame[column] = frame[column].map(p_value)
        groups = (f"{self.n_clusters} clusters ({self.cluster})" if self.clustered
                  else "units not clustered")
        lines = [f"{self.estimator}: {self.formula}",
                 f"  {self.se_type} standard errors; {self.n_obs:,} observations, {groups}; "
                 f"R² {fmt(self.r2, 4)}" + (f", within R² {fmt(self.r2_within, 4)}"
                                            if self.fixed_effects else ""),
                 frame.to_string(float_format=lambda v: f"{v:.4f}")]
        if self.fixed_effects:
            lines.append(f"  fixed effects absorbed: {', '.join(self.fixed_effects)}")
        if self.randomised:
            lines.append(f"  randomised treatment {self.treatment!r}: wild bootstrap "
                         f"({self.wild_method}); randomisation inference ({self.ri_method}; "
                         f"statistic: {RI_TEXT[self.ri_stat]})")
        if self.first_stage is not None:
            for _, r in self.first_stage.iterrows():
                lines.append(f"  first stage of {r['endogenous']}: F = {fmt(r['F'], 1)} "
                             f"({r['instruments']})")
        if self.seed is not None:
            lines.append(f"  random seed: {self.seed}")
        lines += [f"  warning: {w}" for w in self.warnings]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (f"<ModelResult {self.estimator} {self.formula!r}: {len(self.coefficients)} "
                f"coefficients, N = {self.n_obs}"
                + (f", {self.n_clusters} clusters" if self.clustered else ", not clustered")
                + f", {self.se_type}>")

    def _repr_html_(self) -> str:
        rows = [(term, fmt(r["estimate"]), f"({fmt(r['se'])})", fmt(r["df"], 1),
                 p_value(r["p_value"]), p_value(r["p_wild"]), p_value(r["p_ri"]),
                 f"{fmt(r['ci_low'])} to {fmt(r['ci_high'])}")
                for term, r in self.coefficients.iterrows()]
        groups = (f"{self.n_clusters} clusters" if self.clustered else "units not clustered")
        note = (f"{self.se_type} standard errors; {self.n_obs:,} observations, {groups}; R² "
                f"{fmt(self.r2)}."
                + (f" Fixed effects: {', '.join(self.fixed_effects)}." if self.fixed_effects else "")
                + (f" Randomisation inference: {self.ri_method}; statistic: "
                   f"{RI_TEXT[self.ri_stat]}." if self.randomised else "")
                + (f" Random seed: {self.seed}." if self.seed is not None else "")
                + "".join(f" Warning: {w}" for w in self.warnings))
        return html_table(f"{self.estimator}: {self.formula}",
                          ["Term", "Estimate", "(SE)", "df", "p", "p wild", "p RI", "95% CI"],
                          rows, note)


RI_TEXT = {"t": "the coefficient's t statistic (CR1-studentised)",
           "coef": "the coefficient itself (as Stata's ritest)"}


# ------------------------------------------------------------------------------ formulas


@dataclass(frozen=True)
class _Parsed:
    outcome: str  # left-hand side as written
    exog: str  # right-hand side without the instrumented part
    endog: str | None
    instruments: str | None
    fixed_effects: tuple[str, ...]


def _split_top(text: str, sep: str) -> list[str]:
    """Split on ``sep`` outside brackets and parentheses."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == sep and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p.strip() for p in parts]


def _formula_error(formula: str, why: str) -> DataError:
    return DataError(f"formula {formula!r}: {why}")


def parse_formula(formula: str) -> _Parsed:
    """Read ``y ~ x + [d ~ z] | fe1 + fe2`` (or fixest's ``y ~ x | fe | d ~ z``)."""
    if not isinstance(formula, str) or "~" not in formula:
        raise _formula_error(str(formula), "expected 'outcome ~ regressors', for example "
                             "'y ~ treatment + age'.")
    parts = _split_top(formula, "|")
    main, rest = parts[0], parts[1:]
    if len(rest) > 2:
        raise _formula_error(formula, "at most two '|' parts are read: fixed effects, then "
                             "'endogenous ~ instruments'.")
    endog, instruments, fixed = _bar_parts(formula, rest)
    bracket = re.search(r"\[([^\]]*)\]", main)
    if bracket:
        if endog is not None:
            raise _formula_error(formula, "two instrumented parts; write one.")
        endog, instruments = _bracket(formula, bracket.group(1))
        main = (main[:bracket.start()] + main[bracket.end():])
    lhs, rhs = (s.strip() for s in main.split("~", 1))
    rhs = re.sub(r"\+\s*(\+|$)", r"\1", rhs.strip()).strip().strip("+").strip() or "1"
    if not lhs:
        raise _formula_error(formula, "no outcome before '~'.")
    if endog is not None and (not endog or not instruments):
        raise _formula_error(formula, "the instrumented part needs 'endogenous ~ instruments'.")
    return _Parsed(lhs, rhs, endog, instruments, fixed)


def _bar_parts(formula: str, rest: list[str]) -> tuple:
    """The parts after '|': fixed effects, and (fixest's way) 'endogenous ~ instruments'."""
    endog = instruments = None
    fixed: tuple[str, ...] = ()
    for part in rest:
        if "~" in part:
            if endog is not None:
                raise _formula_error(formula, "two instrumented parts; write one.")
            endog, instruments = (s.strip() for s in part.split("~", 1))
        elif part and part != "0":
            fixed = tuple(_fe_names(formula, part))
    return endog, instruments, fixed


def _bracket(formula: str, inside: str) -> tuple[str, str]:
    """'endogenous ~ instruments' inside the brackets of 'y ~ x + [d ~ z]'."""
    if "~" not in inside:
        raise _formula_error(formula, "the bracket needs 'endogenous ~ instruments', for "
                             "example [takeup ~ assigned].")
    endog, instruments = (s.strip() for s in inside.split("~", 1))
    return endog, instruments


def _fe_names(formula: str, part: str) -> list[str]:
    names = [n.strip().strip("`") for n in part.split("+")]
    bad = [n for n in names if not n]
    if bad:
        raise _formula_error(formula, "a fixed-effect part names no column; expected columns "
                             "separated by '+', for example '| village + period'.")
    return names


def _materialise(text: str, data: pd.DataFrame, formula: str, intercept: bool = True):
    """formulaic's model matrix of ``text`` on ``data`` (a DataFrame) and its spec; errors
    become one sentence naming the formula."""
    from formulaic import model_matrix
    from formulaic.errors import FormulaicError

    spec = text if intercept else f"0 + {text}"
    try:
        mm = model_matrix(spec, data, na_action="ignore")
    except FormulaicError as error:
        message = re.sub(r"\x1b\[[0-9;]*m", "", str(error)).split("\n")[0]
        missing = re.search(r"`([^`]+)` is not present", message)
        if missing:
            raise _formula_error(formula, f"no column {missing.group(1)!r}; columns present: "
                                 f"{', '.join(map(str, data.columns))}.") from None
        raise _formula_error(formula, f"cannot be read ({message.rstrip('.')}).") from None
    except Exception as error:  # an evaluation error inside a transform, e.g. log of text
        raise _formula_error(formula, f"cannot be evaluated ({type(error).__name__}: "
                             f"{str(error).splitlines()[0] if str(error) else ''}).") from None
    return mm


def _variables(text: str, formula: str) -> set[str]:
    from formulaic import Formula
    from formulaic.errors import FormulaicError

    try:
        return set(Formula(text).required_variables)
    except FormulaicError as error:
        message = re.sub(r"\x1b\[[0-9;]*m", "", str(error)).split("\n")[0]
        raise _formula_error(formula, f"cannot be read ({message.rstrip('.')}).") from None


# ------------------------------------------------------------------------------ fixed effects


@dataclass(frozen=True, eq=False)
class _Absorber:
    """Weighted within-transformation for one or more fixed effects: the largest absorbed
    exactly by group means, the others (when they are not too many) exactly by projecting
    on their dummies demeaned by the first, otherwise by alternating projections."""

    codes: tuple[np.ndarray, ...]
    sizes: tuple[int, ...]
    sw: np.ndarray
    names: tuple[str, ...]

    def _first(self, M: np.ndarray) -> np.ndarray:
        codes, size = self.codes[0], self.sizes[0]
        w = self.sw ** 2
        totals = la.group_sum(w, codes, size)
        means = la.group_sum(M * w[:, None], codes, size) / totals[:, None]
        return M - means[codes]

    def __call__(self, M: np.ndarray) -> np.ndarray:
        """The within-transformed, weight-scaled columns: sw · (M − its projection on the
        fixed effects in the weighted metric)."""
        M = np.asarray(M, dtype=float).reshape(len(self.sw), -1)
        if not self.codes:
            return M * self.sw[:, None]
        out = self._first(M)
        if len(self.codes) == 1:
            return out * self.sw[:, None]
        others = sum(self.sizes[1:])
        if len(self.sw) * others <= EXACT_FE_CELLS:
            D = np.column_stack([(c[:, None] == np.arange(s)[None, :]).astype(float)
                                 for c, s in zip(self.codes[1:], self.sizes[1:])])
            Ds = self._first(D) * self.sw[:, None]
            Ms = out * self.sw[:, None]
            coef, *_ = np.linalg.lstsq(Ds, Ms, rcond=None)
            return Ms - Ds @ coef
        return self._alternate(M) * self.sw[:, None]

    def _alternate(self, M: np.ndarray, tol: float = 1e-13, max_iter: int = 100_000) -> np.ndarray:
        w = self.sw ** 2
        out = M.copy()
        scale = max(float(np.abs(M).max()), 1.0)
        totals = [la.group_sum(w, c, s) for c, s in zip(self.codes, self.sizes)]
        for _ in range(max_iter):
            change = 0.0
            for c, s, t in zip(self.codes, self.sizes, totals):
                means = la.group_sum(out * w[:, None], c, s) / t[:, None]
                out -= means[c]
                change = max(change, float(np.abs(means).max()))
            if change < tol * scale:
                return out
        raise DataError("the fixed effects could not be absorbed (the alternating projections "
                        "did not converge); expected fixed effects that are connected.")

    @property
    def n_parameters(self) -> int:
        """fixest's count: the levels of every effect, less one for each effect after the
        first."""
        if not self.codes:
            return 0
        return int(sum(self.sizes) - (len(self.sizes) - 1))


def _nested(fe_codes: np.ndarray, cluster_codes: np.ndarray) -> bool:
    frame = pd.DataFrame({"f": fe_codes, "c": cluster_codes})
    return bool(frame.groupby("f")["c"].nunique().max() == 1)


# ------------------------------------------------------------------------------ estimation


def _codes(values: pd.Series) -> tuple[np.ndarray, int]:
    codes, uniques = pd.factorize(values, sort=True)
    return codes.astype(np.int64), len(uniques)


def _complete(data: pd.DataFrame, columns: list[str]) -> tuple[pd.DataFrame, int]:
    used = data[columns]
    blank = used.apply(lambda c: c.astype("string").str.strip() == "").fillna(False)
    ok = used.notna().all(axis=1) & ~blank.any(axis=1)
    kept = data.loc[ok]
    kept.attrs = dict(data.attrs)
    return kept, int((~ok).sum())


def _frame_of(mm, formula: str) -> tuple[np.ndarray, list[str]]:
    values = np.asarray(mm, dtype=float)
    return values.reshape(len(values), -1), [str(c) for c in mm.columns]


@dataclass(frozen=True, eq=False)
class _Fitted:
    """The transformed problem and its fit."""

    fit: la.OLSFit  # X = second-stage design (fitted values for 2SLS), resid = structural
    names: list[str]
    y: np.ndarray  # transformed outcome
    X: np.ndarray  # transformed regressors (endogenous ones as observed)
    Zfull: np.ndarray | None  # transformed exogenous regressors and instruments (2SLS)
    n_exog: int


def _solve(y: np.ndarray, X: np.ndarray, names: list[str], Zfull: np.ndarray | None,
           n_exog: int, instrument_names: list[str]) -> _Fitted:
    if Zfull is None:
        return _Fitted(la.ols(X, y, names), names, y, X, None, n_exog)
    n_endog = X.shape[1] - n_exog
    if Zfull.shape[1] < X.shape[1]:
        raise DataError(f"{n_endog} endogenous regressor(s) but only {Zfull.shape[1] - n_exog} "
                        "instrument(s); expected at least one instrument per endogenous "
                        "regressor.")
    la.ols(Zfull, np.zeros(len(y)) + 1.0, names[:n_exog] + instrument_names)  # rank check
    coef, *_ = np.linalg.lstsq(Zfull, X, rcond=None)
    Xhat = Zfull @ coef
    if np.linalg.matrix_rank(Xhat) < X.shape[1]:
        raise DataError("the instruments do not move the endogenous regressor(s) once the other "
                        "regressors are accounted for (the first stage is not identified); "
                        "expected instruments related to what they instrument.")
    bread = np.linalg.inv(Xhat.T @ Xhat)
    beta = np.linalg.solve(Xhat.T @ X, Xhat.T @ y)
    resid = y - X @ beta
    fit = la.OLSFit(X=Xhat, y=y, beta=beta, resid=resid, bread=bread)
    return _Fitted(fit, names, y, X, Zfull, n_exog)


def _variance(fit: la.OLSFit, se: str, codes: np.ndarray, n_clusters: int, df_k: int,
              df_k_cluster: int) -> tuple[np.ndarray, np.ndarray]:
    """Covariance matrix and per-coefficient degrees of freedom. ``df_k`` is the parameter
    count of iid/HC1 (regressors plus absorbed effects), ``df_k_cluster`` fixest's count
    for CR1 (absorbed effects nested in the clusters left out)."""
    n, k = fit.n, fit.k
    if se == "CR2":
        adjust = la.cr2_adjustments(fit, codes, n_clusters)
        V = la.vcov_cr2(fit, codes, n_clusters, adjust)
        df = np.array([la.bm_df(fit, j, adjust) for j in range(k)])
        return V, df
    if se == "CR1":
        scores = la.group_sum(fit.X * fit.resid[:, None], codes, n_clusters)
        factor = la.cr1_factor(n, df_k_cluster, n_clusters)
        return factor * fit.bread @ (scores.T @ scores) @ fit.bread, np.full(k, n_clusters - 1.0)
    if n <= df_k:
        raise DataError(f"{n} observations for {df_k} parameters; expected more observations.")
    if se == "HC1":
        meat = (fit.X * fit.resid[:, None] ** 2).T @ fit.X
        return n / (n - df_k) * fit.bread @ meat @ fit.bread, np.full(k, float(n - df_k))
    sigma2 = fit.resid @ fit.resid / (n - df_k)
    return sigma2 * fit.bread, np.full(k, float(n - df_k))


def _table(beta: np.ndarray, V: np.ndarray, df: np.ndarray, names: list[str]) -> pd.DataFrame:
    with np.errstate(invalid="ignore", divide="ignore"):
        se = np.sqrt(np.clip(np.diag(V), 0, None))
        t = beta / se
        p = 2 * stats.t.sf(np.abs(t), df)
        crit = stats.t.ppf(0.975, df)
    frame = pd.DataFrame({"estimate": beta, "se": se, "df": df, "t": t, "p_value": p,
                          "ci_low": beta - crit * se, "ci_high": beta + crit * se,
                          "p_wild": np.nan, "p_ri": np.nan}, index=pd.Index(names, name="term"))
    return frame


# ------------------------------------------------------------------------------ re-drawing


@dataclass(frozen=True, eq=False)
class _Redraw:
    """The treatment-dependent regressors of any re-drawn assignment, and the statistic of
    every draw, by Frisch–Waugh–Lovell: the other (fixed) regressors F are partialled out
    once; for each draw the dependent columns are rebuilt from per-level model matrices (or an
    affine map for a treatment with many values), transformed (weights, fixed effects),
    residualised on F, and the small regression of the residualised outcome on them solved.
    The cluster sandwich is CR1 without its constant factor, which a randomisation p-value
    does not need."""

    unit_codes: np.ndarray  # row -> unit of assignment
    basis: list[np.ndarray] | None  # per level: raw dependent columns (n x m)
    affine: tuple[np.ndarray, np.ndarray] | None  # A, B with columns A + value * B
    transform: object  # _Absorber
    F: np.ndarray  # transformed fixed regressors
    F_pinv: np.ndarray
    y_resid: np.ndarray
    codes: np.ndarray
    n_clusters: int
    stat: str
    chunk: int = 64

    def columns(self, Zrows: np.ndarray) -> np.ndarray:
        """n x B x m raw dependent columns for row-level assignments Zrows (n x B: level
        codes, or values for the affine map)."""
        if self.basis is not None:
            out = np.zeros(Zrows.shape + (self.basis[0].shape[1],))
            for level, M in enumerate(self.basis):
                out += (Zrows == level)[:, :, None] * M[:, None, :]
            return out
        A, B = self.affine
        return A[:, None, :] + Zrows[:, :, None] * B[:, None, :]

    def __call__(self, Z: np.ndarray) -> np.ndarray:
        """Statistics (draws x m) for the unit-level assignments Z (units x draws)."""
        results = []
        for start in range(0, Z.shape[1], self.chunk):
            Zc = Z[:, start:start + self.chunk]
            D = self.columns(Zc[self.unit_codes])  # n x B x m
            n, B, m = D.shape
            Dt = self.transform(D.reshape(n, B * m))
            if self.F.shape[1]:
                Dt = Dt - self.F @ (self.F_pinv @ Dt)
            Dt = Dt.reshape(n, B, m).transpose(1, 0, 2)  # B x n x m
            G = np.einsum("bnm,bnl->bml", Dt, Dt)
            h = np.einsum("bnm,n->bm", Dt, self.y_resid)
            Ginv = np.linalg.pinv(G)
            beta = np.einsum("bml,bl->bm", Ginv, h)
            if self.stat == "coef":
                results.append(beta)
                continue
            e = self.y_resid[None, :] - np.einsum("bnm,bm->bn", Dt, beta)
            A = np.einsum("bnm,bml->bnl", Dt, Ginv)  # rows of (D'D)^-1 D', per draw
            S = la.group_sum((A * e[:, :, None]).transpose(1, 0, 2).reshape(n, B * m),
                             self.codes, self.n_clusters).reshape(self.n_clusters, B, m)
            se = np.sqrt(np.sum(S ** 2, axis=0))
            with np.errstate(invalid="ignore", divide="ignore"):
                results.append(beta / se)
        return np.concatenate(results, axis=0)


def _assignment_units(values: pd.Series, cluster_codes: np.ndarray | None,
                      strata_codes: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool]:
    """(row -> unit, unit's treatment code, unit's stratum, whole clusters?). The treatment
    was assigned to whole clusters when it is constant within each; otherwise to rows, which
    are re-drawn within their cluster (and stratum)."""
    codes, _ = _codes(values)
    n = len(codes)
    strata = strata_codes if strata_codes is not None else np.zeros(n, dtype=np.int64)
    if cluster_codes is not None:
        frame = pd.DataFrame({"c": cluster_codes, "t": codes})
        constant = frame.groupby("c")["t"].nunique().max() == 1
        if constant:
            n_clusters = int(cluster_codes.max()) + 1
            unit_t = np.zeros(n_clusters, dtype=np.int64)
            unit_t[cluster_codes] = codes
            unit_s = np.zeros(n_clusters, dtype=np.int64)
            unit_s[cluster_codes] = strata
            return cluster_codes, unit_t, unit_s, True
        cells, _ = pd.factorize(pd.MultiIndex.from_arrays([cluster_codes, strata]), sort=True)
        return np.arange(n), codes, cells.astype(np.int64), False
    return np.arange(n), codes, strata.astype(np.int64), False


def _ri_draws(z: np.ndarray, strata: np.ndarray, binary: bool, reps: int,
              rng: np.random.Generator, procedure: Procedure | None
              ) -> tuple[np.ndarray, bool, str]:
    if procedure is not None:
        return procedure.draws(procedure.observed if procedure.observed is not None else z,
                               reps, rng)
    if binary:
        return Procedure(strata).draws(z.astype(float), reps, rng)
    Z = random_assignments(z.astype(float), strata, reps, rng)
    return Z, False, f"{reps} random re-draws of the assignment (the treatment's values permuted)"


# ------------------------------------------------------------------------------ estimate


def _formula_columns(data: pd.DataFrame, parsed, formula: str) -> list[str]:
    """The data's columns the formula names (outcome, regressors, instruments); a name that is
    neither a column nor a module (``np.log``) is refused."""
    variables = _variables(f"{parsed.outcome} ~ {parsed.exog}", formula)
    if parsed.endog:
        variables |= _variables(f"{parsed.endog} ~ {parsed.instruments}", formula)
    unknown = sorted(v for v in variables if v not in data.columns and not _is_module(v))
    if unknown:
        raise _formula_error(formula, f"no column {unknown[0]!r}; columns present: "
                             f"{', '.join(map(str, data.columns))}.")
    return [v for v in variables if v in data.columns]


def _parameter_counts(k: int, absorber, fe_codes, fe_sizes, codes) -> tuple[int, int]:
    """The parameters counted for the degrees of freedom, as fixest counts them: with the
    absorbed fixed effects, and, for clustered errors (``codes`` given), with each fixed
    effect nested in the clusters counted as one."""
    k_fe = absorber.n_parameters
    nested = [size for c, size in zip(fe_codes, fe_sizes) if codes is not None and _nested(c, codes)]
    return k + k_fe, k + k_fe - sum(nested) + len(nested)


def estimate(data: pd.DataFrame, formula: str, *, treatment: str | None = None,
             cluster: str | None = None, se: str = "CR2", weights: str | None = None,
             strata: str | None = None, assignment=None, wild_reps: int = 9999,
             ri_reps: int = 10000, ri_stat: str = "t", seed: int | None = None) -> ModelResult:
    """Fit ``formula`` by least squares (or two-stage least squares) with the kit's inference.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per observation.
    formula : str
        ``"y ~ treat * age + C(commune)"``; ``"y ~ treat | village + period"`` absorbs the
        fixed effects after the bar; ``"y ~ age + [takeup ~ assigned]"`` (or ``"y ~ age | 0 |
        takeup ~ assigned"``) instruments ``takeup`` by ``assigned`` (two-stage least
        squares). Column names with spaces go in backticks.
    treatment : str, optional
        The randomised column (0/1, several arms, or a randomised dose). Every coefficient
        whose regressor depends on it gets a wild restricted bootstrap p-value (``p_wild``)
        and a randomisation-inference p-value (``p_ri``) that re-draws it the way it was
        drawn; the coefficient of an instrumented regressor gets the reduced-form
        (Anderson–Rubin) version of both when ``treatment`` is its one instrument.
    cluster : str, optional
        Clusters of the standard errors (the unit of assignment). None: independent units
        (then CR2 is HC2 and CR1 is HC1, and they are labelled so).
    se : {"CR2", "CR1", "HC1", "iid"}
        CR2 (default) with Bell–McCaffrey / Imbens–Kolesár degrees of freedom per
        coefficient; CR1 with fixest's small-sample factor and t(G − 1) (absorbed effects
        nested in the clusters are not counted); HC1; iid (σ² = SSR / (n − k)).
    weights : str, optional
        Sampling weights (weighted least squares).
    strata : str, optional
        Randomisation strata: re-draws keep each stratum's treatment values. (Add their fixed
        effects to the formula yourself, for example ``| commune``.)
    assignment : Assignment, optional
        The draw of :func:`~evalkit.designs.assign` (0/1 treatment): re-draws follow its
        procedure, re-randomisation criterion included.
    wild_reps : int
        Wild bootstrap draws (0: not computed).
    ri_reps : int
        Re-draws of the assignment (0: not computed); exact enumeration of a 0/1 assignment
        when it has at most this many possible values.
    ri_stat : {"t", "coef"}
        The randomisation statistic: the CR1-studentised coefficient (default) or the
        coefficient itself, as Stata's ``ritest``.
    seed : int, optional
        Seed of the bootstrap and re-draws; None draws one, recorded in ``seed``.

    Returns
    -------
    ModelResult
        ``coefficients`` (tidy, one row per term), n, clusters, R², fixed effects, seed.

    Examples
    --------
    >>> from evalkit.designs import estimate, simulate_trial
    >>> df = simulate_trial(n_clusters=12, cluster_size=10, icc=0.1, effect=0.5, seed=3)
    >>> m = estimate(df, "y ~ treatment * baseline", treatment="treatment",
    ...              cluster="cluster", wild_reps=99, ri_reps=99, seed=1)
    >>> m.to_frame()["term"].tolist()
    ['Intercept', 'treatment', 'baseline', 'treatment:baseline']
    >>> round(m["treatment"].estimate, 3), m.randomised
    (0.382, ('treatment', 'treatment:baseline'))
    """
    from evalkit.designs.cluster_trial import draw_seed

    se = option(se, SE_TYPES, "se")
    ri_stat = option(ri_stat, RI_STATS, "ri_stat")
    source = data.attrs.get("source", "data frame")
    parsed = parse_formula(formula)
    kept, dropped = _estimation_rows(data, parsed, formula, source,
                                     [c for c in (cluster, weights, strata, treatment) if c])
    seed = draw_seed(seed)
    notes: list[str] = []
    d = _design(kept, parsed, formula)
    w = _weights(kept, weights, source)
    sw = np.sqrt(w)
    clustered = cluster is not None
    codes, n_clusters = _clusters(kept, cluster, source)
    fe_codes = tuple(_codes(kept[f])[0] for f in parsed.fixed_effects)
    fe_sizes = tuple(int(c.max()) + 1 for c in fe_codes)
    absorber = _Absorber(fe_codes, fe_sizes, sw, parsed.fixed_effects)
    yt = absorber(d.y)[:, 0]
    Xt = absorber(d.X)
    Zt = np.column_stack([Xt[:, :d.n_exog], absorber(d.I)]) if parsed.endog else None
    fitted = _solve(yt, Xt, d.names, Zt, d.n_exog, d.instrument_names)
    fit = fitted.fit
    # ---- parameter counts (fixest's conventions)
    df_k, df_k_cluster = _parameter_counts(fit.k, absorber, fe_codes, fe_sizes,
                                           codes if clustered else None)
    constant = bool(np.ptp(d.y) == 0)
    if constant:
        notes.append(f"The outcome {parsed.outcome!r} does not vary (every observation has the "
                     "same value): standard errors and p-values are not computed (NaN).")
    table = _table(fit.beta, *_covariance(fit, constant, se, codes, n_clusters, df_k,
                                          df_k_cluster), d.names)
    r2, adj_r2, r2_within = _fit_statistics(fit, d.y, yt, w, df_k, bool(parsed.fixed_effects))
    first = None
    if parsed.endog:
        first = _first_stage(fitted, d.names, d.instrument_names, se, codes, n_clusters,
                             df_k, df_k_cluster)
        notes += _weak_instrument_notes(first)
    if clustered and n_clusters < 42:
        notes.append(f"Only {n_clusters} clusters: ordinary clustered standard errors are too "
                     "small with so few; read CR2 with its small-sample degrees of freedom, the "
                     "wild bootstrap and randomisation inference together.")
    inference = _Inference()
    if treatment is not None:
        inference = _randomised_inference(
            table, d, kept, parsed, fit, Xt, Zt, yt, w, absorber, codes, n_clusters, clustered,
            constant, notes, treatment=treatment, strata=strata, assignment=assignment,
            cluster=cluster, wild_reps=wild_reps, ri_reps=ri_reps, ri_stat=ri_stat,
            rng=np.random.default_rng(seed), source=source)
    for note in notes:
        _warnings.warn(note, _design_warning(), stacklevel=2)
    n = fit.n
    return ModelResult(
        formula=formula, outcome=parsed.outcome, estimator="2SLS" if parsed.endog else "OLS",
        coefficients=table, se_type=se if clustered else {"CR2": "HC2", "CR1": "HC1"}.get(se, se),
        n_obs=n, n_clusters=n_clusters if clustered else n,
        clustered=clustered, r2=float(r2), adj_r2=float(adj_r2), r2_within=float(r2_within),
        fixed_effects=parsed.fixed_effects, treatment=treatment, randomised=inference.randomised,
        wild_method=inference.wild_method, ri_method=inference.ri_method, ri_stat=ri_stat,
        seed=seed, n_dropped=dropped, control_mean=inference.control_mean, weights=weights,
        cluster=cluster, first_stage=first, warnings=tuple(notes), df_resid=float(n - df_k))


def _estimation_rows(data: pd.DataFrame, parsed, formula: str, source: str,
                     design_columns: list[str]) -> tuple[pd.DataFrame, int]:
    """The rows holding every column the model uses, and how many were dropped; a sentence
    when a column is missing or no row is complete."""
    require_columns(data, list(parsed.fixed_effects) + design_columns)
    used = list(dict.fromkeys(_formula_columns(data, parsed, formula)
                              + list(parsed.fixed_effects) + design_columns))
    kept, dropped = _complete(data, used)
    if len(kept) == 0:
        raise DataError(f"{source}: no row has all of {', '.join(used)}; nothing to estimate.")
    return kept, dropped


def _covariance(fit, constant: bool, se, codes, n_clusters, df_k, df_k_cluster) -> tuple:
    """The coefficients' covariance and degrees of freedom (NaN for a constant outcome)."""
    if constant:
        return np.full((fit.k, fit.k), np.nan), np.full(fit.k, np.nan)
    return _variance(fit, se, codes, n_clusters, df_k, df_k_cluster)


@dataclass
class _DesignMatrices:
    """The raw (not yet demeaned) outcome, regressors and instruments of one formula."""

    y: np.ndarray
    X: np.ndarray
    names: list[str]
    n_exog: int
    rhs_spec: object
    I: np.ndarray | None = None
    inst_spec: object = None
    instrument_names: list[str] = field(default_factory=list)


def _design(kept: pd.DataFrame, parsed, formula: str) -> _DesignMatrices:
    """Materialise the formula on the complete rows: outcome, exogenous regressors (no
    intercept when fixed effects absorb it), then the endogenous ones and the instruments."""
    both = _materialise(f"{parsed.outcome} ~ {parsed.exog}", kept, formula)
    y_raw, _lhs_names = _frame_of(both.lhs, formula)
    if y_raw.shape[1] != 1:
        raise _formula_error(formula, "the outcome must be one numeric column.")
    X_raw, names = _frame_of(both.rhs, formula)
    if parsed.fixed_effects and "Intercept" in names:  # absorbed by the fixed effects
        keep = [i for i, n in enumerate(names) if n != "Intercept"]
        X_raw, names = X_raw[:, keep], [names[i] for i in keep]
    d = _DesignMatrices(y_raw[:, 0], X_raw, names, X_raw.shape[1], both.rhs.model_spec)
    if parsed.endog:
        endog_mm = _materialise(parsed.endog, kept, formula, intercept=False)
        inst_mm = _materialise(parsed.instruments, kept, formula, intercept=False)
        d.inst_spec = inst_mm.model_spec
        E_raw, endog_names = _frame_of(endog_mm, formula)
        d.I, d.instrument_names = _frame_of(inst_mm, formula)
        d.X = np.column_stack([X_raw, E_raw])
        d.names = names + endog_names
    return d


def _weights(kept: pd.DataFrame, weights: str | None, source: str) -> np.ndarray:
    """The sampling weights (ones when none), checked positive."""
    if not weights:
        return np.ones(len(kept))
    w = numbers(kept, weights).to_numpy(dtype=float)
    if (~np.isfinite(w) | (w <= 0)).any():
        raise DataError(f"{source}, column {weights!r}: expected positive sampling weights.")
    return w


def _clusters(kept: pd.DataFrame, cluster: str | None, source: str) -> tuple[np.ndarray, int]:
    """(cluster codes, number of clusters); each row its own cluster when not clustered."""
    if cluster is None:
        return np.arange(len(kept)), len(kept)
    codes, n_clusters = _codes(kept[cluster])
    if n_clusters < 2:
        raise DataError(f"{source}, column {cluster!r}: only {n_clusters} cluster; expected "
                        "at least two clusters.")
    return codes, n_clusters


def _fit_statistics(fit, y_raw, yt, w, df_k: int, absorbed: bool) -> tuple[float, float, float]:
    """(R², adjusted R², within R²) with fixest's parameter count."""
    ssr = float(fit.resid @ fit.resid)
    ybar = np.average(y_raw, weights=w)
    tss = float(np.sum(w * (y_raw - ybar) ** 2))
    r2 = 1 - ssr / tss if tss > 0 else float("nan")
    tss_within = float(yt @ yt)
    r2_within = 1 - ssr / tss_within if absorbed and tss_within > 0 else float("nan")
    n = fit.n
    adj_r2 = 1 - (1 - r2) * (n - 1) / (n - df_k) if n > df_k else float("nan")
    return r2, adj_r2, r2_within


def _weak_instrument_notes(first: pd.DataFrame) -> list[str]:
    return [f"The first stage of {r['endogenous']!r} is weak (F = {r['F']:.1f} < 10): the "
            "instruments move it little, and the 2SLS estimate is imprecise and may be biased "
            "towards OLS; read the reduced-form (Anderson–Rubin) p-values."
            for _, r in first.iterrows() if r["F"] < 10]


@dataclass
class _Inference:
    """What the randomised coefficients got: their terms, the wild bootstrap's and
    randomisation inference's methods, and the control arm's mean outcome."""

    randomised: tuple[str, ...] = ()
    wild_method: str = "not computed"
    ri_method: str = "not computed"
    control_mean: float = float("nan")


def _randomised_inference(table, d: _DesignMatrices, kept, parsed, fit, Xt, Zt, yt, w,
                          absorber, codes, n_clusters, clustered, constant, notes, *,
                          treatment, strata, assignment, cluster, wild_reps, ri_reps, ri_stat,
                          rng, source) -> _Inference:
    """Wild bootstrap and randomisation-inference p-values (written into ``table``) for every
    coefficient whose regressor depends on ``treatment``."""
    out = _Inference()
    t_values = kept[treatment]
    out.control_mean = _control_mean(t_values, d.y, w)
    groups = _targets(d, kept, parsed, fit, Xt, Zt, yt, treatment, notes)
    if not groups:
        notes.append(f"No coefficient depends on the treatment {treatment!r}, so no wild "
                     "bootstrap or randomisation p-value is computed.")
        return out
    out.randomised = tuple(term for g in groups for term in g.terms)
    if constant:
        out.wild_method = out.ri_method = "not computed: the outcome does not vary"
        return out
    if clustered and _single_cluster_arm(table, out, _clusters_per_arm(t_values, codes), notes):
        wild_reps = 0
    reduced = "; instrumented coefficient: reduced form (Anderson–Rubin)" if parsed.endog else ""
    if wild_reps:
        out.wild_method = _wild_p_values(table, groups, codes, n_clusters, wild_reps, rng)
        out.wild_method = ("" if clustered else "units not clustered; ") + out.wild_method + reduced
    if ri_reps:
        out.ri_method = _randomisation(table, groups, kept, treatment, absorber, codes,
                                       n_clusters, clustered, strata, assignment, ri_reps,
                                       ri_stat, rng, source, cluster, notes)
        if not out.ri_method.startswith("not"):
            out.ri_method += reduced
    return out


def _control_mean(t_values: pd.Series, y: np.ndarray, w: np.ndarray) -> float:
    """The (weighted) mean outcome of the reference arm (NaN when it has no one)."""
    ref = _reference(t_values)
    if ref is None:
        return float("nan")
    mask = (t_values == ref).to_numpy()
    return float(np.average(y[mask], weights=w[mask])) if mask.any() else float("nan")


def _single_cluster_arm(table, out: _Inference, per_arm: np.ndarray | None,
                        notes: list[str]) -> bool:
    """Whether an arm holds a single cluster, so that no wild bootstrap is run; saying why in
    the notes and ``out.wild_method`` (with one cluster per arm, the randomised coefficients'
    standard errors, intervals and p-values become NaN). ``per_arm`` is None where the arms
    are not counted (a continuous treatment)."""
    if per_arm is None:
        return False
    if per_arm.max() == 1:
        notes.append("Each arm holds a single cluster: with one cluster per arm the "
                     "effect cannot be told apart from the difference between the "
                     "clusters, so the randomised coefficients' standard errors, "
                     "confidence intervals and p-values are not computed (NaN).")
        table.loc[list(out.randomised), ["se", "df", "t", "p_value", "ci_low", "ci_high"]] = np.nan
        out.wild_method = "not computed: one cluster per arm"
        return True
    if per_arm.min() == 1:
        notes.append("Only one cluster is in an arm: cluster-robust standard errors and "
                     "the wild cluster bootstrap are not valid with a single cluster in "
                     "an arm (MacKinnon and Webb 2017); read the randomisation-inference "
                     "p-value, which is exact.")
        out.wild_method = "not computed: one cluster in an arm"
        return True
    return False


def _wild_p_values(table, groups, codes, n_clusters: int, reps: int, rng) -> str:
    """The wild cluster bootstrap p-value of every randomised coefficient, into ``table``;
    returns the method."""
    method = "not computed"
    for g in groups:
        for j, term in zip(g.columns, g.terms):
            table.loc[term, "p_wild"], method = la.wild_cluster_p(g.fit, j, codes, n_clusters,
                                                                  reps, rng)
    return method


def _targets(d: _DesignMatrices, kept, parsed, fit, Xt, Zt, yt, treatment,
             notes: list[str]) -> list[_Target]:
    """The fits whose coefficients are re-drawn: the model itself (OLS), or its reduced form
    (2SLS with one endogenous regressor and one instrument)."""
    dependent = _dependent_columns(kept, treatment, d.rhs_spec, d.X[:, :d.n_exog],
                                   parsed.fixed_effects)
    if not parsed.endog:
        return [_Target("direct", fit, dependent, [d.names[j] for j in dependent], d.rhs_spec,
                        d.X, parsed.fixed_effects)] if dependent else []
    inst_dependent = _dependent_columns(kept, treatment, d.inst_spec, d.I, ())
    if dependent:
        notes.append("The randomised treatment also enters the exogenous regressors of "
                     "a 2SLS model; their wild bootstrap and randomisation p-values are "
                     "not computed.")
    n_exog = d.n_exog
    if inst_dependent and len(d.instrument_names) == 1 and d.X.shape[1] - n_exog == 1:
        W_rf = np.column_stack([Xt[:, :n_exog], Zt[:, n_exog:]])
        rf = la.ols(W_rf, yt, d.names[:n_exog] + d.instrument_names)
        return [_Target("reduced form", rf, [n_exog], [d.names[n_exog]], d.inst_spec, d.I, ())]
    if inst_dependent:
        notes.append("Wild bootstrap and randomisation inference for an instrumented "
                     "coefficient are computed with exactly one endogenous regressor "
                     "and one instrument (through the reduced form); not here.")
    return []


def _clusters_per_arm(values: pd.Series, codes: np.ndarray) -> np.ndarray | None:
    """Number of clusters holding each treatment value, for a treatment assigned to whole
    clusters with a few values; None otherwise."""
    frame = pd.DataFrame({"t": pd.factorize(values)[0], "c": codes})
    if frame["t"].nunique() > MAX_LEVELS or frame.groupby("c")["t"].nunique().max() > 1:
        return None
    return frame.groupby("t")["c"].nunique().to_numpy()


def _design_warning():
    from evalkit.designs.cluster_trial import DesignWarning

    return DesignWarning


def _is_module(name: str) -> bool:
    return name in {"np", "numpy", "pd", "math", "scipy"}


def _reference(values: pd.Series):
    """The treatment's control value: 0 (or False) if present, else the first level of a
    treatment with a few text levels; None for a dose without a zero."""
    unique = pd.unique(values)
    for candidate in (0, False, "0", "control", "Control"):
        if any((u == candidate) for u in unique if not isinstance(u, float) or u == u):
            return candidate
    if len(unique) <= MAX_LEVELS and not pd.api.types.is_numeric_dtype(values):
        return sorted(unique, key=str)[0]
    return None


def _with_treatment(data: pd.DataFrame, treatment: str, value) -> pd.DataFrame:
    column = pd.Series([value] * len(data), index=data.index)
    dtype = data[treatment].dtype
    try:
        column = column.astype(dtype)
    except (TypeError, ValueError):
        pass
    return data.assign(**{treatment: column})


@dataclass(frozen=True, eq=False)
class _Target:
    """Coefficients the randomised treatment moves, and how to re-draw them: ``fit`` (the
    model or, for an instrumented coefficient, its reduced form), the columns of its design
    that depend on the treatment and their terms, and the formula spec and raw matrix that
    rebuild those columns for another assignment."""

    kind: str
    fit: la.OLSFit
    columns: list[int]
    terms: list[str]
    spec: object
    raw: np.ndarray
    fixed: tuple[str, ...]


def _spec_matrix(spec, data: pd.DataFrame, fixed: tuple[str, ...]) -> np.ndarray:
    M = np.asarray(spec.get_model_matrix(data), dtype=float)
    M = M.reshape(len(M), -1)
    keep = [i for i, n in enumerate(spec.column_names) if not (fixed and str(n) == "Intercept")]
    return M[:, keep]


def _dependent_columns(data: pd.DataFrame, treatment: str, spec, X: np.ndarray,
                       fixed: tuple[str, ...]) -> list[int]:
    """Columns of the model matrix that change when the treatment does."""
    values = pd.unique(data[treatment])
    probes = list(values[:MAX_LEVELS]) if len(values) <= MAX_LEVELS else list(values[:2])
    changed = np.zeros(X.shape[1], dtype=bool)
    for value in probes:
        M = _spec_matrix(spec, _with_treatment(data, treatment, value), fixed)
        changed |= ~np.isclose(M, X, rtol=0, atol=1e-12).all(axis=0)
    return [int(i) for i in np.flatnonzero(changed)]


def _basis(data: pd.DataFrame, treatment: str, target: _Target, levels: np.ndarray | None):
    """Per-level raw dependent columns, or an affine map (A + value · B) for a numeric
    treatment with many values, checked against the observed design; (None, None) when
    neither describes how the formula uses the treatment."""
    def at(value):
        M = _spec_matrix(target.spec, _with_treatment(data, treatment, value), target.fixed)
        return M

    def dependent(M):
        return M[:, _raw_columns(target)]

    if levels is not None:
        return [dependent(at(v)) for v in levels], None
    if not pd.api.types.is_numeric_dtype(data[treatment]):
        return None, None
    A = dependent(at(0.0))
    B = dependent(at(1.0)) - A
    t = data[treatment].to_numpy(dtype=float)
    if not np.allclose(A + t[:, None] * B, dependent(target.raw), rtol=1e-10, atol=1e-10):
        return None, None
    return None, (A, B)


def _raw_columns(target: _Target) -> list[int]:
    """The dependent columns in the raw matrix the spec builds (the reduced form's
    instrument is column 0 of the instruments' matrix)."""
    return [0] if target.kind == "reduced form" else target.columns


def _randomisation(table, groups: list[_Target], kept, treatment, absorber, codes, n_clusters,
                   clustered, strata, assignment, reps, ri_stat, rng, source, cluster,
                   notes) -> str:
    """Randomisation p-values of every coefficient in ``groups``; returns the description."""
    values = kept[treatment]
    _, uniques = pd.factorize(values, sort=True)
    strata_codes = _codes(kept[strata])[0] if strata else None
    unit_codes, z_units, unit_strata, whole = _assignment_units(
        values, codes if clustered else None, strata_codes)
    binary = len(uniques) == 2
    many = len(uniques) > MAX_LEVELS
    procedure = None
    if assignment is not None:
        if not binary:
            raise DataError(f"{source}: assignment= describes a 0/1 assignment, but "
                            f"{treatment!r} takes {len(uniques)} values.")
        procedure = _assigned_procedure(assignment, kept, cluster if whole and clustered else None,
                                        unit_codes, z_units, unit_strata, source)
    if many:
        z_obs = np.zeros(len(z_units))
        z_obs[unit_codes] = values.to_numpy(dtype=float)
        Z, exact, method = _ri_draws(z_obs, unit_strata, False, reps, rng, None)
    else:
        z_obs = z_units.astype(float)
        Z, exact, method = _ri_draws(z_obs, unit_strata, binary, reps, rng, procedure)
    for target in groups:
        basis, affine = _basis(kept, treatment, target, None if many else np.asarray(uniques))
        if basis is None and affine is None:
            notes.append(f"The formula uses the treatment {treatment!r} non-linearly and it "
                         "takes many values, so its re-drawn designs cannot be built; "
                         "randomisation inference is not computed.")
            return "not computed: the treatment enters the formula non-linearly"
        redraw = _target_redraw(target, basis, affine, unit_codes, absorber, codes, n_clusters,
                                ri_stat)
        observed = redraw(z_obs[:, None])[0]
        draws = redraw(Z)
        for k, term in enumerate(target.terms):
            table.loc[term, "p_ri"] = _ri_share(draws[:, k], observed[k], exact)
    where = ("whole clusters" if whole and clustered
             else "units within clusters" if clustered else "units")
    return f"{method}; re-drawing {where}" + (f" within {strata}" if strata else "")


def _assigned_procedure(assignment, kept: pd.DataFrame, cluster: str | None, unit_codes,
                        z_units, unit_strata, source: str):
    """The procedure that drew ``assignment``, over the units of assignment in ``kept``
    (whole clusters when ``cluster`` is given, else units, matched by id)."""
    from evalkit.designs.cluster_trial import _Level, _procedure_from

    labels = (np.asarray(pd.factorize(kept[cluster], sort=True)[1]) if cluster is not None
              else np.asarray(kept.index))
    level = _Level(False, unit_codes, labels, z_units.astype(float), unit_strata,
                   "clusters" if cluster is not None else "units")
    return _procedure_from(assignment, level, cluster, source, kept.index)


def _target_redraw(target: _Target, basis, affine, unit_codes, absorber, codes, n_clusters: int,
                   ri_stat: str) -> "_Redraw":
    """The statistics of ``target``'s coefficients for re-drawn assignments: its other
    regressors partialled out once."""
    design = target.fit.X
    fixed_cols = [c for c in range(design.shape[1]) if c not in target.columns]
    F = design[:, fixed_cols]
    F_pinv = np.linalg.pinv(F) if F.shape[1] else np.zeros((0, len(design)))
    y = target.fit.y
    y_resid = y - F @ (F_pinv @ y) if F.shape[1] else y
    return _Redraw(unit_codes=unit_codes, basis=basis, affine=affine, transform=absorber, F=F,
                   F_pinv=F_pinv, y_resid=y_resid, codes=codes, n_clusters=n_clusters,
                   stat=ri_stat)


def _ri_share(draws: np.ndarray, observed: float, exact: bool) -> float:
    """The share of re-drawn statistics at least as far from 0 as the observed one (with a
    tolerance for rounding); (1 + count) / (1 + draws) when the draws are a sample."""
    scale = max(1.0, abs(observed))
    count = int(np.sum(np.abs(draws) >= abs(observed) - 1e-10 * scale))
    return count / len(draws) if exact else (1 + count) / (1 + len(draws))


def _first_stage(fitted: _Fitted, names: list[str], instrument_names: list[str], se: str,
                 codes: np.ndarray, n_clusters: int, df_k: int, df_k_cluster: int) -> pd.DataFrame:
    rows = []
    Z = fitted.Zfull
    n_exog = fitted.n_exog
    q = Z.shape[1] - n_exog
    for e in range(n_exog, fitted.X.shape[1]):
        fs = la.ols(Z, fitted.X[:, e], names[:n_exog] + instrument_names)
        V, df = _variance(fs, se, codes, n_clusters, Z.shape[1] + (df_k - fitted.fit.k),
                          Z.shape[1] + (df_k_cluster - fitted.fit.k))
        b = fs.beta[n_exog:]
        Vb = V[n_exog:, n_exog:]
        try:
            wald = float(b @ np.linalg.solve(Vb, b)) / q
        except np.linalg.LinAlgError:
            wald = float("nan")
        rows.append({"endogenous": names[e], "instruments": ", ".join(instrument_names),
                     "estimate": float(b[0]) if q == 1 else float("nan"),
                     "se": float(np.sqrt(Vb[0, 0])) if q == 1 else float("nan"),
                     "F": wald, "df": float(df[n_exog])})
    return pd.DataFrame(rows)


__all__ = ["Coefficient", "ModelResult", "estimate", "parse_formula"]
