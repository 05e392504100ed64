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
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from evalkit.data.columns import numbers, require_columns, zero_one
from evalkit.designs import _linear as lin
from evalkit.designs.multiple import holm
from evalkit.display import fmt, html_table, p_phrase, p_value
from evalkit.errors import DataError
from evalkit.lazy import lazy

stats = lazy("scipy.stats")

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
    treatment × lost interaction tests whether those lost differ from those kept in the same
    way in both arms (selective attrition): CR1 with t(G − 1) when clustered, HC1 with
    t(n − k) when units were randomised individually (``cluster=None``).

    Parameters
    ----------
    data : pandas.DataFrame
        One row per unit surveyed at baseline.
    treatment : str
        0/1 assignment.
    cluster : str or None
        Unit of assignment (None: individuals).
    observed : str
        0/1: found at endline.
    strata : str, optional
        Randomisation strata.
    baseline : list of str
        Baseline characteristics for the selective-attrition tests.
    se : {"CR2", "CR1", "HC1", "iid"}
        Standard errors of the difference in attrition.
    wild_reps, ri_reps : int
        Wild bootstrap draws and assignment re-draws (0: not computed).
    seed : int, optional
        Seed; None draws one, recorded in ``effect.seed``.

    Returns
    -------
    AttritionTest

    Examples
    --------
    >>> from evalkit.designs import attrition_test, simulate_trial
    >>> df = simulate_trial(n_clusters=20, cluster_size=10, icc=0.1, attrition=0.2, seed=5)
    >>> a = attrition_test(df, "treatment", "cluster", "observed", baseline=["baseline"],
    ...                    wild_reps=99, ri_reps=99, seed=1)
    >>> round(100 * a.lost_treatment, 1), round(100 * a.lost_control, 1)
    (25.0, 21.0)
    """
    from evalkit.designs.cluster_trial import compare_arms

    require_columns(data, [treatment, observed, *baseline] + [c for c in (cluster, strata) if c])
    frame = data.copy()
    name = f"lost ({observed} = 0)"  # the outcome as messages and results name it
    while name in frame.columns:
        name += " "
    frame[name] = 1.0 - zero_one(data, observed)
    t = zero_one(data, treatment)
    effect = compare_arms(frame, name, treatment, cluster, strata=strata, estimator="endline",
                          se=se, wild_reps=wild_reps, ri_reps=ri_reps, seed=seed)
    selective = {}
    lost = frame[name]
    # the interaction needs units lost (and kept) in both arms; otherwise it is not defined
    both = all(((lost == v) & (t == a)).sum() >= 2 for v in (0.0, 1.0) for a in (0.0, 1.0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the effect's warnings were given above
        for column in baseline:
            if not both:
                selective[column] = float("nan")
                continue
            sub = subgroup_effects(frame.assign(**{name: lost.map({0.0: "kept", 1.0: "lost"})}),
                                   column, treatment, name, cluster)
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

    Parameters
    ----------
    data : pandas.DataFrame
        One row per unit assigned.
    outcome : str
        The outcome (missing where not observed).
    treatment : str
        0/1 assignment.
    observed : str, optional
        0/1 column: whether the outcome was observed.

    Returns
    -------
    LeeBounds

    Examples
    --------
    >>> import pandas as pd
    >>> from evalkit.designs import lee_bounds
    >>> df = pd.DataFrame({"t": [1] * 4 + [0] * 4, "y": [1.0, 2, 3, 4, 0, 0, 0, None]})
    >>> b = lee_bounds(df, "y", "t")
    >>> b.lower, b.upper
    (2.0, 3.0)
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
    """Complier average causal effect: ``estimate``, ``se`` (``se_type``, with ``df``
    degrees of freedom), 95 % CI, p, the wild bootstrap and randomisation p-values of the
    reduced form (Anderson–Rubin: the effect of assignment on the outcome, which is zero
    exactly when the CACE is), and the first stage (``first_stage``: effect of assignment on
    take-up; ``first_stage_f``)."""

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
    df: float = float("nan")
    p_wild: float = float("nan")
    p_ri: float = float("nan")
    wild_method: str = ""
    ri_method: str = ""
    ri_stat: str = "t"
    seed: int | None = None
    clustered: bool = True
    model: object = field(default=None, repr=False, compare=False)

    @property
    def se_type(self) -> str:
        return self.cov_type

    @property
    def warnings(self) -> tuple[str, ...]:
        return self.notes

    def to_frame(self) -> pd.DataFrame:
        """One row: outcome, estimate, se, df, ci_low, ci_high, p_value, p_wild, p_ri, the
        first stage (estimate, se, F), n_obs, n_clusters, cov_type, seed."""
        return pd.DataFrame([{k: getattr(self, k) for k in (
            "outcome", "estimate", "se", "df", "ci_low", "ci_high", "p_value", "p_wild", "p_ri",
            "first_stage", "first_stage_se", "first_stage_f", "n_obs", "n_clusters", "cov_type",
            "seed")}])

    def summary(self) -> str:
        groups = f"{self.n_clusters} clusters" if self.clustered else "units not clustered"
        lines = [f"{self.outcome}: CACE {fmt(self.estimate, 4)} (SE {fmt(self.se, 4)}, "
                 f"{self.cov_type}, t with {fmt(self.df, 1)} df), 95% CI [{fmt(self.ci_low, 4)}, "
                 f"{fmt(self.ci_high, 4)}], {p_phrase(self.p_value)}; first stage "
                 f"{fmt(self.first_stage, 4)} (SE {fmt(self.first_stage_se, 4)}, F "
                 f"{fmt(self.first_stage_f, 1)}); {self.n_obs} observations, {groups}",
                 f"  reduced form (Anderson–Rubin): p (wild bootstrap; {self.wild_method}) "
                 f"{p_value(self.p_wild)}; p (randomisation inference; {self.ri_method}) "
                 f"{p_value(self.p_ri)}"]
        if self.seed is not None:
            lines.append(f"  random seed: {self.seed}")
        lines += [f"  warning: {w}" for w in self.notes]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (f"<CACEResult {self.outcome!r}: {fmt(self.estimate, 3, True)} (SE {fmt(self.se)}), "
                f"{p_phrase(self.p_value)}; first stage {fmt(self.first_stage)}>")

    def _repr_html_(self) -> str:
        return html_table(f"Complier average causal effect on {self.outcome}", ["", ""], [
            ("Estimate", fmt(self.estimate)), (f"Standard error ({self.cov_type})", fmt(self.se)),
            ("95% confidence interval", f"{fmt(self.ci_low)} to {fmt(self.ci_high)}"),
            (f"p ({self.cov_type}, t with {fmt(self.df, 1)} df)", p_value(self.p_value)),
            ("p, reduced form (wild bootstrap)", p_value(self.p_wild)),
            ("p, reduced form (randomisation inference)", p_value(self.p_ri)),
            ("First stage: assignment → take-up", f"{fmt(self.first_stage)} ({fmt(self.first_stage_se)})"),
            ("First-stage F", fmt(self.first_stage_f, 1)), ("Observations", f"{self.n_obs:,}"),
            ("Clusters", f"{self.n_clusters:,}" if self.clustered else "not clustered")],
            "Two-stage least squares, assignment instrumenting take-up."
            + (f" Random seed: {self.seed}." if self.seed is not None else "")
            + "".join(f" Warning: {w}" for w in self.notes))


def _quoted(name: str) -> str:
    if "`" in name:
        raise DataError(f"column {name!r}: a column name with a backtick cannot be used in a "
                        "model; rename it.")
    return f"`{name}`"


def cace(data: pd.DataFrame, outcome: str, treatment: str, takeup: str, cluster: str | None = None,
         covariates: tuple[str, ...] | list[str] = (), *, strata: str | None = None,
         se: str = "CR2", wild_reps: int = 9999, ri_reps: int = 10000, seed: int | None = None,
         ri_stat: str = "t", assignment=None) -> CACEResult:
    """Complier average causal effect of ``takeup`` on ``outcome``, with random assignment
    ``treatment`` as the instrument: two-stage least squares, the case ``outcome ~
    covariates + [takeup ~ treatment]`` of :func:`~evalkit.designs.estimate`, with its
    inference. Without covariates the estimate equals the Wald ratio ITT(outcome) /
    ITT(take-up).

    Parameters
    ----------
    data : pandas.DataFrame
        One row per unit.
    outcome, treatment, takeup : str
        The outcome, the 0/1 random assignment (the instrument) and take-up (0/1 or a dose).
    cluster : str, optional
        The unit of assignment (clusters of the standard errors); None: independent units.
    covariates : list of str
        Baseline covariates (exogenous regressors).
    strata : str, optional
        Randomisation strata (re-draws stay within them).
    se : {"CR2", "CR1", "HC1", "iid"}
        CR2 with Bell–McCaffrey degrees of freedom (default); CR1 is Stata's ``ivregress ...,
        vce(cluster) small`` and linearmodels' ``IV2SLS(...).fit(cov_type="clustered",
        debiased=True)``: G/(G − 1)(n − 1)/(n − k) and t(G − 1).
    wild_reps, ri_reps : int
        Wild bootstrap draws and re-draws of the assignment for the reduced form (0: not
        computed).
    seed : int, optional
        Seed; None draws one, recorded in the result.
    ri_stat : {"t", "coef"}
        Randomisation statistic.
    assignment : Assignment, optional
        The draw of :func:`~evalkit.designs.assign`.

    Returns
    -------
    CACEResult

    Examples
    --------
    >>> from evalkit.designs import cace, simulate_trial
    >>> df = simulate_trial(n_clusters=20, cluster_size=10, icc=0.1, effect=0.4, seed=4)
    >>> df["takeup"] = df["treatment"] * (df["unit"] % 3 != 0)
    >>> r = cace(df, "y", "treatment", "takeup", cluster="cluster", wild_reps=99,
    ...          ri_reps=99, seed=1)
    >>> round(r.estimate, 3), round(r.first_stage, 3), r.cov_type
    (0.899, 0.66, 'CR2')
    """
    from evalkit.designs.models import estimate

    columns = [outcome, treatment, takeup, *covariates] + [c for c in (cluster, strata) if c]
    require_columns(data, columns)
    frame = data[list(dict.fromkeys(columns))].copy()
    frame[outcome] = numbers(data, outcome)
    frame[treatment] = zero_one(data, treatment)
    frame[takeup] = numbers(data, takeup)
    for c in covariates:
        frame[c] = numbers(data, c)
    frame.attrs = dict(data.attrs)
    if np.ptp(frame[takeup].dropna()) == 0:
        raise DataError(f"column {takeup!r}: take-up does not vary; expected some units to "
                        "take the programme up and some not.")
    rhs = " + ".join(["1", *(_quoted(c) for c in covariates)])
    formula = f"{_quoted(outcome)} ~ {rhs} + [{_quoted(takeup)} ~ {_quoted(treatment)}]"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = estimate(frame, formula, treatment=treatment, cluster=cluster, se=se,
                         strata=strata, assignment=assignment, wild_reps=wild_reps,
                         ri_reps=ri_reps, ri_stat=ri_stat, seed=seed)
    notes = list(model.warnings)
    row = model.coefficients.loc[takeup]
    first = model.first_stage.iloc[0]
    for note in notes:
        warnings.warn(note, _design_warning(), stacklevel=2)
    for w in caught:  # anything else (not ours) passes on unchanged
        if not any(str(w.message) == n for n in notes):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return CACEResult(outcome=outcome, estimate=float(row["estimate"]), se=float(row["se"]),
                      ci_low=float(row["ci_low"]), ci_high=float(row["ci_high"]),
                      p_value=float(row["p_value"]), first_stage=float(first["estimate"]),
                      first_stage_se=float(first["se"]), first_stage_f=float(first["F"]),
                      n_obs=model.n_obs, n_clusters=model.n_clusters, cov_type=model.se_type,
                      notes=tuple(notes), df=float(row["df"]), p_wild=float(row["p_wild"]),
                      p_ri=float(row["p_ri"]), wild_method=model.wild_method,
                      ri_method=model.ri_method, ri_stat=model.ri_stat, seed=model.seed,
                      clustered=model.clustered, model=model)


def _design_warning():
    from evalkit.designs.cluster_trial import DesignWarning

    return DesignWarning


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
    clustered: bool = True
    warnings: tuple[str, ...] = ()

    @property
    def se_text(self) -> str:
        return ("CR1 standard errors clustered by unit of assignment" if self.clustered
                else "HC1 (heteroskedasticity-robust) standard errors; units not clustered")

    def to_frame(self) -> pd.DataFrame:
        """One row per subgroup: subgroup, n, estimate, se, ci_low, ci_high, p_value, p_holm."""
        return self.table.copy()

    def summary(self) -> str:
        frame = self.table.copy()
        for c in ("p_value", "p_holm"):
            frame[c] = frame[c].map(p_value)
        groups = (f"CR1, {self.n_clusters} clusters" if self.clustered
                  else f"HC1, {self.n_clusters} units not clustered")
        return (f"{self.outcome} by {self.subgroup} ({groups})\n"
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
                          f"Interactions of assignment with {self.subgroup}; {self.se_text}; "
                          f"equal effects: {p_phrase(self.joint_p)}."
                          + "".join(f" Warning: {w}" for w in self.warnings))


def subgroup_effects(data: pd.DataFrame, outcome: str, treatment: str, subgroup: str,
                     cluster: str | None, covariates: tuple[str, ...] | list[str] = ()
                     ) -> SubgroupEffects:
    """Pre-specified subgroup effects: y = a + sum_s b_s T·[S = s] + sum_s c_s [S = s] + X g,
    so b_s is the effect of assignment in subgroup s; Holm-adjusted subgroup p-values and an
    F test that every b_s is equal.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per unit.
    outcome, treatment, subgroup : str
        The outcome, the 0/1 assignment and the subgroup column.
    cluster : str or None
        Clusters: CR1 standard errors (Stata's and statsmodels' convention, t with G − 1 df,
        F with G − 1 denominator df). None (individually randomised units): HC1, t and F
        with n − k df.
    covariates : list of str
        Baseline covariates.

    Returns
    -------
    SubgroupEffects
        With one cluster in an arm, or an outcome that does not vary, standard errors and
        p-values are NaN with a warning saying why (never a p-value near 0).

    Examples
    --------
    >>> from evalkit.designs import simulate_trial, subgroup_effects
    >>> df = simulate_trial(n_clusters=20, cluster_size=10, icc=0.1, effect=0.3, seed=6)
    >>> df["girl"] = df["unit"] % 2
    >>> r = subgroup_effects(df, "y", "treatment", "girl", "cluster")
    >>> r.to_frame()["subgroup"].tolist(), r.joint_df
    (['0', '1'], (1, 19))
    """
    require_columns(data, [outcome, treatment, subgroup, *covariates] + ([cluster] if cluster else []))
    frame = pd.DataFrame({"y": numbers(data, outcome), "t": zero_one(data, treatment),
                          "s": data[subgroup]})
    if cluster:
        frame["g"] = data[cluster]
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
    k = len(levels)
    notes = []
    V, G, df = _subgroup_vcov(fit, frame, cluster, notes)
    if np.ptp(fit.y) == 0:
        notes.append(f"The outcome {outcome!r} does not vary, so there is no difference to "
                     "estimate; standard errors and p-values are not computed (NaN).")
    if notes:
        V = np.full_like(V, np.nan)
        for note in notes:
            warnings.warn(note, _design_warning(), stacklevel=2)
    b, Vb = fit.beta[:k], V[:k, :k]
    se = np.sqrt(np.diag(Vb))
    with np.errstate(invalid="ignore", divide="ignore"):
        p = 2 * stats.t.sf(np.abs(b / se), df)
    crit = stats.t.ppf(0.975, df)
    wald = _equal_effects_wald(b, Vb)
    table = pd.DataFrame({"subgroup": [str(s) for s in levels],
                          "n": [int((frame["s"] == s).sum()) for s in levels],
                          "estimate": b, "se": se, "ci_low": b - crit * se, "ci_high": b + crit * se,
                          "p_value": p, "p_holm": np.asarray(holm(p), dtype=float)})
    return SubgroupEffects(outcome=outcome, subgroup=subgroup, table=table, joint_statistic=wald,
                           joint_df=(k - 1, int(df)), joint_p=float(stats.f.sf(wald, k - 1, df)),
                           n_clusters=G, clustered=cluster is not None, warnings=tuple(notes))
def _subgroup_vcov(fit, frame: pd.DataFrame, cluster, notes: list[str]) -> tuple:
    """The coefficients' covariance (CR1 by cluster, else HC1), the number of clusters (or
    units) and the degrees of freedom; a note where an arm holds a single cluster."""
    if not cluster:
        return lin.vcov_hc1(fit), len(frame), fit.n - fit.k
    codes, uniques = pd.factorize(frame["g"])
    G = len(uniques)
    per_arm = [frame.loc[frame["t"] == a, "g"].nunique() for a in (0.0, 1.0)]
    if min(per_arm) <= 1:
        notes.append(f"Only {min(per_arm)} cluster in an arm: cluster-robust standard errors "
                     "are not valid with a single cluster in an arm, so standard errors and "
                     "p-values are not computed (NaN).")
    return lin.vcov_cr1(fit, codes, G), G, G - 1


def _equal_effects_wald(b: np.ndarray, Vb: np.ndarray) -> float:
    """The Wald statistic (divided by its k − 1 restrictions) that the k subgroup effects are
    equal: b_1 − b_s = 0 for s > 1; NaN for a singular or undefined covariance."""
    k = len(b)
    R = np.column_stack([np.ones(k - 1), -np.eye(k - 1)])
    diff = R @ b
    try:
        return float(diff @ np.linalg.solve(R @ Vb @ R.T, diff)) / (k - 1)
    except np.linalg.LinAlgError:
        return float("nan")


