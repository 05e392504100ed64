"""Beyond the intention-to-treat effect: attrition bounds, non-compliance and heterogeneity.

* :func:`attrition_test`: whether attrition differs by arm (the rate of loss regressed on
  assignment, with the trial's own inference) and whether those lost differ from those kept
  differently by arm on baseline characteristics;
* :func:`lee_bounds`: Lee (2009) trimming bounds on the effect among those who would be
  observed whatever their assignment, when attrition differs by arm;
* :func:`cace`: the complier average causal effect, assignment instrumenting take-up, by
  two-stage least squares (linearmodels ``IV2SLS``) with cluster-robust inference, first stage
  shown;
* :func:`subgroup_effects`: pre-specified subgroup effects through treatment × subgroup
  interactions, cluster-robust (CR1), with a joint test of equal effects and Holm-adjusted
  subgroup p-values.

Pure functions: DataFrame in, small result object out.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import stats

from evalkit.data.columns import numbers, require_columns, zero_one
from evalkit.designs import _linear as lin
from evalkit.designs.multiple import holm
from evalkit.display import fmt, html_table, p_phrase, p_value
from evalkit.errors import DataError

if TYPE_CHECKING:
    from evalkit.designs.cluster_trial import EffectResult


# ------------------------------------------------------------------------------ attrition


@dataclass(frozen=True, repr=False)
class AttritionTest:
    """Differential attrition: ``lost_treatment`` and ``lost_control`` are the shares of
    baseline units not observed at endline; ``difference`` (treatment − control, adjusted for
    strata) is tested with the trial's inference in ``effect``; ``selective`` holds, per
    baseline characteristic, the p-value of the test that the lost differ from the kept in
    the same way in both arms (treatment × lost interaction)."""

    lost_treatment: float
    lost_control: float
    effect: "EffectResult" = field(repr=False)
    selective: dict[str, float] = field(default_factory=dict)
    n: int = 0

    @property
    def difference(self) -> float:
        return self.effect.estimate

    @property
    def p_value(self) -> float:
        return self.effect.p_value

    def to_frame(self) -> pd.DataFrame:
        """One row: lost shares by arm (%), the difference in percentage points, its CI and
        p-values, and one ``selective p: <variable>`` column per baseline characteristic."""
        row = {"lost_treatment_pct": 100 * self.lost_treatment,
               "lost_control_pct": 100 * self.lost_control,
               "difference_pp": 100 * self.difference,
               "ci_low_pp": 100 * self.effect.ci_low, "ci_high_pp": 100 * self.effect.ci_high,
               "p_value": self.p_value, "p_wild": self.effect.p_wild, "p_ri": self.effect.p_ri,
               "n": self.n, "clusters": self.effect.n_clusters}
        row.update({f"selective p: {k}": v for k, v in self.selective.items()})
        return pd.DataFrame([row])

    def summary(self) -> str:
        lines = [f"Lost at endline: {fmt(100 * self.lost_treatment, 1)} % (treatment) vs "
                 f"{fmt(100 * self.lost_control, 1)} % (control); difference "
                 f"{fmt(100 * self.difference, 1, True)} percentage points (95% CI "
                 f"{fmt(100 * self.effect.ci_low, 1, True)} to {fmt(100 * self.effect.ci_high, 1, True)}), "
                 f"{p_phrase(self.p_value)} ({self.effect.se_type})"]
        lines += [f"  lost vs kept differ by arm on {k}: {p_phrase(v)}" for k, v in self.selective.items()]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (f"<AttritionTest: lost {fmt(100 * self.lost_treatment, 1)} % vs "
                f"{fmt(100 * self.lost_control, 1)} %, difference {fmt(100 * self.difference, 1, True)} pp, "
                f"{p_phrase(self.p_value)}>")

    def _repr_html_(self) -> str:
        rows = [("Lost, treatment / control (%)",
                 f"{fmt(100 * self.lost_treatment, 1)} / {fmt(100 * self.lost_control, 1)}"),
                ("Difference (percentage points)", fmt(100 * self.difference, 1, True)),
                ("95% CI", f"{fmt(100 * self.effect.ci_low, 1, True)} to {fmt(100 * self.effect.ci_high, 1, True)}"),
                (f"p ({self.effect.se_type})", p_value(self.p_value))]
        rows += [(f"p, lost differ by arm on {k}", p_value(v)) for k, v in self.selective.items()]
        return html_table("Differential attrition", ["", ""], rows,
                          f"{self.n:,} baseline units in {self.effect.n_clusters} clusters.")


def attrition_test(data: pd.DataFrame, treatment: str, cluster: str | None, observed: str, *,
                   strata: str | None = None, baseline: Sequence[str] = (), se: str = "CR2",
                   wild_reps: int = 9999, ri_reps: int = 10000, seed: int | None = None
                   ) -> AttritionTest:
    """Does attrition differ by arm?

    ``data``: one row per unit surveyed at baseline; ``observed``: 0/1, whether the unit was
    found at endline. The share lost is regressed on assignment (with strata effects) and
    tested as any effect is (:func:`~evalkit.designs.compare_arms`: CR2, wild bootstrap and
    randomisation inference at the cluster level). For each column in ``baseline``, a
    treatment × lost interaction (CR1, t with G − 1 df) tests whether those lost differ from
    those kept in the same way in both arms (selective attrition).
    """
    from evalkit.designs.cluster_trial import compare_arms

    require_columns(data, [treatment, observed, *baseline] + [c for c in (cluster, strata) if c])
    frame = data.copy()
    frame["__lost"] = 1.0 - zero_one(data, observed)
    t = zero_one(data, treatment)
    effect = compare_arms(frame, "__lost", treatment, cluster, strata=strata, estimator="endline",
                          se=se, wild_reps=wild_reps, ri_reps=ri_reps, seed=seed)
    effect = replace(effect, outcome=f"lost ({observed} = 0)")
    selective = {}
    lost = frame["__lost"]
    # the interaction needs units lost (and kept) in both arms; otherwise it is not defined
    both = all(((lost == v) & (t == a)).sum() >= 2 for v in (0.0, 1.0) for a in (0.0, 1.0))
    for column in baseline:
        if not both:
            selective[column] = float("nan")
            continue
        sub = subgroup_effects(frame.assign(__lost=lost.map({0.0: "kept", 1.0: "lost"})),
                               column, treatment, "__lost", cluster or treatment)
        selective[column] = sub.joint_p
    return AttritionTest(lost_treatment=float(lost[t == 1].mean()), lost_control=float(lost[t == 0].mean()),
                         effect=effect, selective=selective, n=int(lost.notna().sum()))


# ------------------------------------------------------------------------------ Lee bounds


@dataclass(frozen=True, repr=False)
class LeeBounds:
    """Lee (2009) bounds: ``lower`` and ``upper`` on the effect for the always-observed.

    ``trimmed_share`` is the share of the observed units of ``trimmed_arm`` removed from the
    top (for the lower bound) or the bottom (for the upper bound) of its outcome distribution.
    """

    outcome: str
    lower: float
    upper: float
    trimmed_share: float
    trimmed_arm: str
    observed_treatment: float  # share observed in each arm
    observed_control: float
    n_treatment: int
    n_control: int

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([{k: getattr(self, k) for k in (
            "outcome", "lower", "upper", "trimmed_share", "trimmed_arm", "observed_treatment",
            "observed_control", "n_treatment", "n_control")}])

    def summary(self) -> str:
        return (f"{self.outcome}: Lee bounds [{fmt(self.lower)}, {fmt(self.upper)}]; observed "
                f"{fmt(100 * self.observed_treatment, 1)} % of treatment and "
                f"{fmt(100 * self.observed_control, 1)} % of control units; "
                f"{fmt(100 * self.trimmed_share, 1)} % of the observed {self.trimmed_arm} units trimmed")

    def __repr__(self) -> str:
        return f"<LeeBounds {self.outcome!r}: [{fmt(self.lower)}, {fmt(self.upper)}]>"

    def _repr_html_(self) -> str:
        return html_table(f"Lee bounds on the effect on {self.outcome}", ["", ""], [
            ("Lower bound", fmt(self.lower)), ("Upper bound", fmt(self.upper)),
            ("Observed, treatment / control (%)",
             f"{fmt(100 * self.observed_treatment, 1)} / {fmt(100 * self.observed_control, 1)}"),
            (f"Trimmed from the {self.trimmed_arm} arm (%)", fmt(100 * self.trimmed_share, 1))],
            "Lee (2009): the arm observed more often is trimmed by the difference in "
            "observation rates, from the top for the lower bound and from the bottom for the upper.")


def _trimmed_mean(values: np.ndarray, share: float, top: bool) -> float:
    """Mean after removing ``share`` of the observations from the top (or bottom); a
    fractional observation at the cut counts with its fraction (Lee's quantile trimming)."""
    values = np.sort(values)[::-1] if top else np.sort(values)
    n = len(values)
    drop = share * n
    whole = int(np.floor(drop))
    weights = np.ones(n)
    weights[:whole] = 0.0
    if whole < n:
        weights[whole] -= drop - whole
    return float(np.sum(weights * values) / np.sum(weights))


def lee_bounds(data: pd.DataFrame, outcome: str, treatment: str, observed: str | None = None
               ) -> LeeBounds:
    """Lee (2009) trimming bounds on the effect of ``treatment`` on ``outcome``.

    ``observed``: a 0/1 column saying whether the unit's outcome was observed (default: the
    outcome is not missing). The arm with the higher observation rate is trimmed by
    q = (p_high − p_low) / p_high of its observed units.
    """
    require_columns(data, [outcome, treatment] + ([observed] if observed else []))
    treat = zero_one(data, treatment).to_numpy()
    y = numbers(data, outcome).to_numpy()
    seen = (zero_one(data, observed).to_numpy() == 1) if observed else ~np.isnan(y)
    if np.any(seen & np.isnan(y)):
        raise DataError(f"column {outcome!r}: a unit marked observed has no outcome; expected a "
                        "value wherever the observed column is 1.")
    in_t, in_c = treat == 1, treat == 0
    if not in_t.any() or not in_c.any():
        raise DataError(f"column {treatment!r}: both arms are needed for bounds.")
    p_t, p_c = seen[in_t].mean(), seen[in_c].mean()
    y_t, y_c = y[in_t & seen], y[in_c & seen]
    if len(y_t) == 0 or len(y_c) == 0:
        raise DataError(f"column {outcome!r}: no observed outcome in one arm; bounds need both.")
    if p_t >= p_c:
        q = (p_t - p_c) / p_t
        lower = _trimmed_mean(y_t, q, top=True) - y_c.mean()
        upper = _trimmed_mean(y_t, q, top=False) - y_c.mean()
        arm = "treatment"
    else:
        q = (p_c - p_t) / p_c
        lower = y_t.mean() - _trimmed_mean(y_c, q, top=False)
        upper = y_t.mean() - _trimmed_mean(y_c, q, top=True)
        arm = "control"
    return LeeBounds(outcome, float(lower), float(upper), float(q), arm, float(p_t), float(p_c),
                     int(in_t.sum()), int(in_c.sum()))


# ------------------------------------------------------------------------------ CACE


@dataclass(frozen=True, repr=False)
class CACEResult:
    """Complier average causal effect: ``estimate``, ``se`` (cluster-robust), 95 % CI, p, and
    the first stage (``first_stage``: effect of assignment on take-up; ``first_stage_f``)."""

    outcome: str
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    p_value: float
    first_stage: float
    first_stage_se: float
    first_stage_f: float
    n_obs: int
    n_clusters: int
    cov_type: str
    notes: tuple[str, ...] = field(default=())

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([{k: getattr(self, k) for k in (
            "outcome", "estimate", "se", "ci_low", "ci_high", "p_value", "first_stage",
            "first_stage_se", "first_stage_f", "n_obs", "n_clusters", "cov_type")}])

    def summary(self) -> str:
        return (f"{self.outcome}: CACE {fmt(self.estimate, 4)} (SE {fmt(self.se, 4)}, "
                f"{self.cov_type}), 95% CI [{fmt(self.ci_low, 4)}, {fmt(self.ci_high, 4)}], "
                f"{p_phrase(self.p_value)}; first stage {fmt(self.first_stage, 4)} (SE "
                f"{fmt(self.first_stage_se, 4)}, F {fmt(self.first_stage_f, 1)}); "
                f"{self.n_obs} observations, {self.n_clusters} clusters")

    def __repr__(self) -> str:
        return (f"<CACEResult {self.outcome!r}: {fmt(self.estimate, 3, True)} (SE {fmt(self.se)}), "
                f"{p_phrase(self.p_value)}; first stage {fmt(self.first_stage)}>")

    def _repr_html_(self) -> str:
        return html_table(f"Complier average causal effect on {self.outcome}", ["", ""], [
            ("Estimate", fmt(self.estimate)), (f"Standard error ({self.cov_type})", fmt(self.se)),
            ("95% confidence interval", f"{fmt(self.ci_low)} to {fmt(self.ci_high)}"),
            ("p", p_value(self.p_value)),
            ("First stage: assignment → take-up", f"{fmt(self.first_stage)} ({fmt(self.first_stage_se)})"),
            ("First-stage F", fmt(self.first_stage_f, 1)), ("Observations", f"{self.n_obs:,}"),
            ("Clusters", f"{self.n_clusters:,}")],
            "Two-stage least squares (linearmodels IV2SLS), assignment instrumenting take-up.")


def cace(data: pd.DataFrame, outcome: str, treatment: str, takeup: str, cluster: str | None = None,
         covariates: tuple[str, ...] | list[str] = ()) -> CACEResult:
    """Complier average causal effect of ``takeup`` on ``outcome``, with random assignment
    ``treatment`` as the instrument (2SLS; linearmodels ``IV2SLS``), standard errors clustered
    by ``cluster`` (the unit of assignment) or heteroskedasticity-robust without one.
    Without covariates the estimate equals the Wald ratio ITT(outcome) / ITT(take-up)."""
    from linearmodels.iv import IV2SLS

    columns = [outcome, treatment, takeup, *covariates] + ([cluster] if cluster else [])
    require_columns(data, columns)
    frame = pd.DataFrame({"y": numbers(data, outcome), "z": zero_one(data, treatment),
                          "d": numbers(data, takeup)})
    for c in covariates:
        frame[c] = numbers(data, c)
    if cluster:
        frame["g"] = pd.factorize(data[cluster])[0]
    frame = frame.dropna()
    if cluster:
        frame = frame[frame["g"] >= 0]  # a row without a cluster is not used
    exog = pd.DataFrame({"const": 1.0}, index=frame.index).join(frame[list(covariates)])
    cov = {"cov_type": "clustered", "clusters": frame["g"]} if cluster else {"cov_type": "robust"}
    fit = IV2SLS(frame["y"], exog, frame[["d"]], frame[["z"]]).fit(**cov)
    with warnings.catch_warnings():  # linearmodels' first-stage summary takes sqrt of every
        warnings.simplefilter("ignore", RuntimeWarning)  # variance, the constant's included
        first = fit.first_stage.individual["d"]
        first_se = float(first.std_errors["z"])
    ci = fit.conf_int().loc["d"]
    n_clusters = int(frame["g"].nunique()) if cluster else len(frame)
    notes = []
    f_stat = float(first.tstats["z"] ** 2)
    if f_stat < 10:
        notes.append(f"The first stage is weak (F = {f_stat:.1f} < 10): assignment moves take-up "
                     "little, and the CACE is imprecise and may be biased.")
    return CACEResult(outcome=outcome, estimate=float(fit.params["d"]), se=float(fit.std_errors["d"]),
                      ci_low=float(ci["lower"]), ci_high=float(ci["upper"]),
                      p_value=float(fit.pvalues["d"]), first_stage=float(first.params["z"]),
                      first_stage_se=first_se, first_stage_f=f_stat,
                      n_obs=int(fit.nobs), n_clusters=n_clusters,
                      cov_type="clustered" if cluster else "robust", notes=tuple(notes))


# ------------------------------------------------------------------------------ subgroups


@dataclass(frozen=True, repr=False)
class SubgroupEffects:
    """Effects of assignment within pre-specified subgroups (one row each in ``table``:
    subgroup, n, estimate, se, ci_low, ci_high, p_value, p_holm) and the joint test that the
    effect is the same in every subgroup."""

    outcome: str
    subgroup: str
    table: pd.DataFrame = field(repr=False)
    joint_statistic: float
    joint_df: tuple[int, int]
    joint_p: float
    n_clusters: int

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def summary(self) -> str:
        frame = self.table.copy()
        for c in ("p_value", "p_holm"):
            frame[c] = frame[c].map(p_value)
        return (f"{self.outcome} by {self.subgroup} (CR1, {self.n_clusters} clusters)\n"
                + frame.to_string(index=False, float_format=lambda v: f"{v:.4f}")
                + f"\nequal effects in every subgroup: F({self.joint_df[0]}, {self.joint_df[1]}) = "
                f"{self.joint_statistic:.3f}, {p_phrase(self.joint_p)}")

    def __repr__(self) -> str:
        return (f"<SubgroupEffects {self.outcome!r} by {self.subgroup!r}: {len(self.table)} "
                f"subgroups; equal effects {p_phrase(self.joint_p)}>")

    def _repr_html_(self) -> str:
        rows = [(r["subgroup"], f"{int(r['n']):,}", fmt(r["estimate"]), f"({fmt(r['se'])})",
                 p_value(r["p_value"]), p_value(r["p_holm"])) for _, r in self.table.iterrows()]
        return html_table(f"Effect on {self.outcome} by {self.subgroup}",
                          ["Subgroup", "n", "Estimate", "(SE)", "p", "p Holm"], rows,
                          f"Interactions of assignment with {self.subgroup}; CR1 standard errors "
                          f"clustered by unit of assignment; equal effects: {p_phrase(self.joint_p)}.")


def subgroup_effects(data: pd.DataFrame, outcome: str, treatment: str, subgroup: str,
                     cluster: str, covariates: tuple[str, ...] | list[str] = ()) -> SubgroupEffects:
    """Pre-specified subgroup effects: y = a + sum_s b_s T·[S = s] + sum_s c_s [S = s] + X g,
    so b_s is the effect of assignment in subgroup s; CR1 standard errors clustered by
    ``cluster`` (Stata's and statsmodels' convention, t with G − 1 df), Holm-adjusted
    subgroup p-values and an F test (G − 1 denominator df) that every b_s is equal."""
    require_columns(data, [outcome, treatment, subgroup, cluster, *covariates])
    frame = pd.DataFrame({"y": numbers(data, outcome), "t": zero_one(data, treatment),
                          "s": data[subgroup], "g": data[cluster]})
    for c in covariates:
        frame[c] = numbers(data, c)
    frame = frame.dropna()
    levels = sorted(frame["s"].unique(), key=str)
    if len(levels) < 2:
        raise DataError(f"column {subgroup!r} has fewer than two subgroups; nothing to compare.")
    dummies = np.column_stack([(frame["s"] == s).to_numpy(float) for s in levels])
    t = frame["t"].to_numpy()
    parts = [t[:, None] * dummies, dummies]
    if covariates:
        parts.append(frame[list(covariates)].to_numpy())
    X = np.column_stack(parts)
    names = [f"{treatment}×{s}" for s in levels] + [f"{subgroup}={s}" for s in levels] + list(covariates)
    fit = lin.ols(X, frame["y"].to_numpy(), names)
    codes, uniques = pd.factorize(frame["g"])
    G = len(uniques)
    V = lin.vcov_cr1(fit, codes, G)
    k = len(levels)
    b, Vb = fit.beta[:k], V[:k, :k]
    se = np.sqrt(np.diag(Vb))
    df = G - 1
    p = 2 * stats.t.sf(np.abs(b / se), df)
    crit = stats.t.ppf(0.975, df)
    R = np.column_stack([np.ones(k - 1), -np.eye(k - 1)])  # b_1 − b_s = 0 for s > 1
    diff = R @ b
    wald = float(diff @ np.linalg.solve(R @ Vb @ R.T, diff)) / (k - 1)
    table = pd.DataFrame({"subgroup": [str(s) for s in levels],
                          "n": [int((frame["s"] == s).sum()) for s in levels],
                          "estimate": b, "se": se, "ci_low": b - crit * se, "ci_high": b + crit * se,
                          "p_value": p, "p_holm": np.asarray(holm(p), dtype=float)})
    return SubgroupEffects(outcome=outcome, subgroup=subgroup, table=table, joint_statistic=wald,
                           joint_df=(k - 1, df), joint_p=float(stats.f.sf(wald, k - 1, df)),
                           n_clusters=G)
