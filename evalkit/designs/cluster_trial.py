"""Treatment vs control comparisons with honest few-cluster inference.

* :func:`balance_table` — iebaltab-style balance with a randomisation-based omnibus test;
* :func:`compare_arms` — ITT effect of assignment (ANCOVA, two-period DiD or endline
  difference) with CR2/Bell–McCaffrey inference, a wild cluster restricted bootstrap p-value
  and a randomisation-inference p-value;
* :func:`compare_outcomes` — several outcomes at once with Holm and Benjamini–Hochberg
  adjustment;
* :func:`twfe_did` — difference in differences with unit and time fixed effects.

All are pure: DataFrame in, small frozen result out. Rows with a missing value in a column the
analysis needs are not used; they are counted in ``n_dropped`` and named in ``warnings``.
"""

from __future__ import annotations

import warnings as _warnings
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import pandas as pd

from evalkit.data.columns import numbers, require_columns, show, zero_one
from evalkit.designs import _linear as la
from evalkit.designs._randomisation import (
    ClusterStatistic,
    Procedure,
    projector,
    refit_t_statistics,
    ri_p_value,
    t_statistics,
)
from evalkit.designs.multiple import benjamini_hochberg, holm
from evalkit.display import fmt, html_table, p_phrase, p_value
from evalkit.errors import DataError
from evalkit.lazy import lazy
from evalkit.options import option

stats = lazy("scipy.stats")

SE_TYPES = ("CR2", "CR1", "HC1", "iid")
ESTIMATORS = ("ancova", "did", "endline")
FEW_CLUSTERS = 42  # Angrist and Pischke's rule of thumb for "few" clusters
FEW_TREATED = 10
RI_STATS = ("t", "coef")
RI_STATISTICS = {"t": "the coefficient's t statistic (CR1-studentised)",
                 "coef": "the coefficient itself (as Stata's ritest)"}


def draw_seed(seed: int | None) -> int:
    """``seed`` itself, or a fresh one drawn from the operating system's entropy when None,
    so that every result can record the seed that reproduces it."""
    if seed is None:
        return int(np.random.SeedSequence().generate_state(1)[0])
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed is {seed!r}; expected a non-negative whole number (or None to "
                         "draw one).")
    return int(seed)


class DesignWarning(UserWarning):
    """A design feature that weakens the inference (few clusters, within-cluster variation…)."""


@dataclass(frozen=True, repr=False)
class EffectResult:
    """The effect of assignment on one outcome, with every inference reported together.

    ``p_value`` and the confidence interval use ``se_type`` with ``df`` degrees of freedom
    (CR2: Bell–McCaffrey/Imbens–Kolesár; CR1: G − 1; HC1/iid: n − k). ``p_wild`` is the wild
    cluster restricted bootstrap p-value and ``p_ri`` the randomisation-inference p-value.
    """

    outcome: str
    estimator: str
    se_type: str
    estimate: float
    se: float
    df: float
    ci_low: float
    ci_high: float
    p_value: float
    p_wild: float
    p_ri: float
    n_obs: int
    n_clusters: int
    n_treated_clusters: int
    n_dropped: int = 0
    control_mean: float = float("nan")
    control_sd: float = float("nan")
    wild_method: str = ""
    ri_method: str = ""
    seed: int | None = None
    warnings: tuple[str, ...] = ()
    weights: str | None = None
    lin: bool = False
    assigned: str = "clusters"
    n_assigned_treated: int = -1
    n_assigned_control: int = -1
    clustered: bool = True
    ri_stat: str = "t"
    single_arm: bool = False
    r2: float = float("nan")

    @property
    def headline(self) -> tuple[str, float]:
        """The p-value to read first and its name. Normally the standard errors' p-value;
        when one arm holds a single unit of assignment (one treated cluster, say) the
        cluster-robust and wild bootstrap p-values are not valid and the randomisation
        inference p-value is the test."""
        if self.single_arm and self.p_ri == self.p_ri:
            return "randomisation inference", self.p_ri
        return self.se_type, self.p_value

    @property
    def wild_label(self) -> str:
        """'wild cluster bootstrap', or 'wild bootstrap' when units are not clustered."""
        return "wild cluster bootstrap" if self.clustered else "wild bootstrap"

    @property
    def ri_stat_text(self) -> str:
        """The statistic randomisation inference refers to its re-drawn distribution."""
        return RI_STATISTICS.get(self.ri_stat, self.ri_stat)

    @property
    def standardised(self) -> tuple[float, float, float]:
        """Estimate and 95 % CI in control-group standard deviations."""
        sd = self.control_sd
        return self.estimate / sd, self.ci_low / sd, self.ci_high / sd

    COLUMNS = {
        "outcome": "Outcome", "estimator": "Estimator", "se_type": "SE type",
        "estimate": "Estimate", "se": "SE", "df": "df", "ci_low": "95% CI low",
        "ci_high": "95% CI high", "p_value": "p", "p_wild": "p (wild bootstrap)",
        "p_ri": "p (randomisation inference)", "n_obs": "N", "n_clusters": "Clusters",
        "n_treated_clusters": "Treated clusters", "n_dropped": "Rows dropped",
        "control_mean": "Control mean", "control_sd": "Control SD", "r2": "R²",
        "seed": "Seed"}
    """Columns of :meth:`to_frame` and their labels (``labelled=True``)."""

    def to_frame(self, labelled: bool = False) -> pd.DataFrame:
        """One row: ``outcome``, ``estimator``, ``se_type``, ``estimate``, ``se``, ``df``,
        ``ci_low``/``ci_high`` (95 %), ``p_value`` (``se_type`` with ``df``), ``p_wild``,
        ``p_ri``, ``n_obs``, ``n_clusters``, ``n_treated_clusters``, ``n_dropped``,
        ``control_mean``, ``control_sd``, ``r2``, ``seed``; ``labelled=True`` names them for
        readers."""
        frame = pd.DataFrame([{name: getattr(self, name) for name in self.COLUMNS}])
        return frame.rename(columns=self.COLUMNS) if labelled else frame

    def summary(self) -> str:
        invalid = " (not valid: one arm holds a single unit of assignment)" if self.single_arm else ""
        lines = [
            f"{self.outcome}: {self.estimator} estimate of the effect of assignment",
            f"  estimate {fmt(self.estimate, 4)}   {self.se_type} SE {fmt(self.se, 4)}   "
            f"df {fmt(self.df, 1)}",
            f"  95% CI [{fmt(self.ci_low, 4)}, {fmt(self.ci_high, 4)}]   p ({self.se_type}) "
            f"{p_value(self.p_value)}{invalid}",
            f"  p ({self.wild_label}; {self.wild_method}) {p_value(self.p_wild)}{invalid}",
            f"  p (randomisation inference; {self.ri_method}; statistic: {self.ri_stat_text}) "
            f"{p_value(self.p_ri)}",
            f"  observations {self.n_obs} (dropped for missing values: {self.n_dropped}); "
            f"{self.arms_text()}",
        ]
        if self.single_arm:
            name, p = self.headline
            lines.insert(1, f"  headline p ({name}) {p_value(p)}")
        if self.weights or self.lin:
            lines.insert(1, "  " + self.adjustment_text())
        if self.seed is not None:
            lines.append(f"  random seed of the bootstrap and re-draws: {self.seed}")
        lines += [f"  warning: {w}" for w in self.warnings]
        return "\n".join(lines)

    def arms_text(self) -> str:
        """The arms in units of assignment: '18 treated and 18 control clusters', or units
        inside clusters, or units not clustered."""
        if not self.clustered:
            if self.n_assigned_treated >= 0:
                return (f"{self.n_assigned_treated:,} treated and {self.n_assigned_control:,} "
                        "control units (not clustered)")
            return f"{self.n_obs:,} units (not clustered)"
        if self.n_assigned_treated < 0 or self.assigned == "clusters":
            return (f"clusters {self.n_clusters}, of which treated "
                    f"{self.n_treated_clusters}")
        inside = f" inside {self.n_clusters} clusters" if self.n_clusters < self.n_obs else ""
        return (f"{self.n_assigned_treated:,} treated and {self.n_assigned_control:,} control "
                f"{self.assigned}{inside}")

    def adjustment_text(self) -> str:
        parts = []
        if self.lin:
            parts.append("Lin (2013) estimator: covariates centred and interacted with treatment")
        if self.weights:
            parts.append(f"weighted by {self.weights!r} (sampling weights)")
        return "; ".join(parts)

    def __repr__(self) -> str:
        name, p = self.headline
        which = f" ({name})" if self.single_arm else ""
        groups = f"{self.n_clusters} clusters" if self.clustered else "not clustered"
        return (f"<EffectResult {self.outcome!r}: {self.estimator} estimate {fmt(self.estimate, 3, True)} "
                f"({self.se_type} SE {fmt(self.se)}), 95% CI {fmt(self.ci_low, 3, True)} to "
                f"{fmt(self.ci_high, 3, True)}, {p_phrase(p)}{which}; N = {self.n_obs}, "
                f"{groups}>")

    def _repr_html_(self) -> str:
        invalid = " (not valid here)" if self.single_arm else ""
        rows = [("Estimate", fmt(self.estimate)), (f"Standard error ({self.se_type})", fmt(self.se)),
                ("95% confidence interval", f"{fmt(self.ci_low)} to {fmt(self.ci_high)}"),
                (f"p ({self.se_type}, t with {fmt(self.df, 1)} df){invalid}", p_value(self.p_value)),
                (f"p ({self.wild_label}){invalid}", p_value(self.p_wild)),
                (f"p (randomisation inference, statistic: {self.ri_stat_text})", p_value(self.p_ri)),
                ("Control mean (SD)", f"{fmt(self.control_mean)} ({fmt(self.control_sd)})"),
                ("Observations", f"{self.n_obs:,}"),
                ("Units of assignment", self.arms_text())]
        if self.single_arm:
            name, p = self.headline
            rows.insert(0, (f"Headline p ({name})", p_value(p)))
        note = (f"Estimator: {self.estimator}. "
                + (self.adjustment_text() + ". " if self.weights or self.lin else "")
                + f"Wild bootstrap: {self.wild_method}. "
                f"Randomisation inference: {self.ri_method}."
                + (f" Random seed: {self.seed}." if self.seed is not None else "")
                + "".join(f" Warning: {w}" for w in self.warnings))
        return html_table(f"Effect of assignment on {self.outcome}", ["", ""], rows, note)


@dataclass(frozen=True, eq=False, repr=False)
class EffectsTable:
    """Effects on a family of outcomes with Holm and Benjamini–Hochberg adjustment."""

    results: tuple[EffectResult, ...]
    p_holm: tuple[float, ...]
    q_bh: tuple[float, ...]
    p_ri_holm: tuple[float, ...]

    def to_frame(self) -> pd.DataFrame:
        frame = pd.concat([r.to_frame() for r in self.results], ignore_index=True)
        frame["p_holm"] = self.p_holm
        frame["q_bh"] = self.q_bh
        frame["p_ri_holm"] = self.p_ri_holm
        return frame

    def summary(self) -> str:
        cols = ["outcome", "estimate", "ci_low", "ci_high", "p_value", "p_wild", "p_ri",
                "p_holm", "q_bh", "n_obs", "n_clusters"]
        frame = self.to_frame()[cols]
        for col in ("p_value", "p_wild", "p_ri", "p_holm", "q_bh"):
            frame[col] = frame[col].map(p_value)
        return frame.to_string(index=False, float_format=lambda v: f"{v:.4f}")

    def __repr__(self) -> str:
        return (f"<EffectsTable: {len(self.results)} outcomes "
                f"({', '.join(r.outcome for r in self.results)}); Holm and BH adjusted>")

    def _repr_html_(self) -> str:
        rows = [(r.outcome, fmt(r.estimate), f"({fmt(r.se)})", f"{fmt(r.ci_low)} to {fmt(r.ci_high)}",
                 p_value(r.p_value), p_value(r.p_wild), p_value(r.p_ri), p_value(h), p_value(q),
                 f"{r.n_obs:,}", r.n_clusters)
                for r, h, q in zip(self.results, self.p_holm, self.q_bh)]
        first = self.results[0] if self.results else None
        note = ("" if first is None else
                f"{first.se_type} standard errors; p-values adjusted across the {len(rows)} outcomes "
                "by Holm (familywise) and Benjamini–Hochberg (q, false discovery rate).")
        return html_table("Effects of assignment", ["Outcome", "Estimate", "(SE)", "95% CI", "p",
                                                    "p wild", "p RI", "p Holm", "q BH", "N",
                                                    "Clusters"], rows, note)


# --------------------------------------------------------------------------- preparation


def _codes(values: pd.Series) -> tuple[np.ndarray, int]:
    codes, n, _labels = _labelled_codes(values)
    return codes, n


def _strata_identify(values: pd.Series, treat: np.ndarray, strata: str, cluster: str) -> None:
    """Refuse strata within which no stratum holds both arms: the effect is not identified."""
    frame = pd.DataFrame({"s": values.to_numpy(), "t": treat})
    mixed = frame.groupby("s", sort=True)["t"].agg(lambda t: t.min() != t.max())
    if len(mixed) and not mixed.any():
        example = mixed.index[0]
        raise DataError(f"column {strata!r}: every {cluster} of {strata} {example!r} (and of every "
                        f"other {strata}) is in one arm, so strata: {strata} cannot be used; the "
                        f"comparison needs {strata}s holding both treatment and control.")


def _strata_warnings(values: pd.Series, treat: np.ndarray, clusters: pd.Series | None,
                     strata: str, unit: str) -> list[str]:
    """Strata that add nothing to the comparison, said out loud: one unit of assignment, or
    units of one arm only (their fixed effect absorbs them)."""
    frame = pd.DataFrame({"s": values.to_numpy(), "t": treat,
                          "c": clusters.to_numpy() if clusters is not None else np.arange(len(treat))})
    per = frame.groupby("s", sort=True).agg(units=("c", "nunique"), low=("t", "min"), high=("t", "max"))
    single = per.index[per["units"] == 1].tolist()
    one_arm = per.index[(per["units"] > 1) & (per["low"] == per["high"])].tolist()
    notes = []
    if single:
        notes.append(f"{len(single)} {strata}(s) hold a single {unit} ({', '.join(map(str, single[:5]))}"
                     f"{' …' if len(single) > 5 else ''}): they contribute nothing to the "
                     "treatment–control comparison.")
    if one_arm:
        notes.append(f"{len(one_arm)} {strata}(s) hold {unit}s of one arm only "
                     f"({', '.join(map(str, one_arm[:5]))}{' …' if len(one_arm) > 5 else ''}): "
                     "they contribute nothing to the treatment–control comparison.")
    return notes


def _strata_dummies(values: pd.Series, prefix: str) -> tuple[np.ndarray, list[str]]:
    codes, levels = pd.factorize(values, sort=True)
    if len(levels) <= 1:
        return np.zeros((len(values), 0)), []
    dummies = (codes[:, None] == np.arange(1, len(levels))[None, :]).astype(float)
    return dummies, [f"{prefix}={lvl}" for lvl in levels[1:]]


def _complete_rows(data: pd.DataFrame, columns: list[str]) -> tuple[pd.DataFrame, int]:
    used = data[columns]
    blank = used.apply(lambda c: c.astype("string").str.strip() == "").fillna(False)
    complete = used.notna().all(axis=1) & ~blank.any(axis=1)
    kept = data.loc[complete]
    kept.attrs = dict(data.attrs)
    return kept, int((~complete).sum())


@dataclass(frozen=True, eq=False)
class _Level:
    """The units of assignment: whole clusters, or units (rows) inside clusters."""

    within: bool  # treatment varies within clusters: assigned to units inside them
    unit_codes: np.ndarray  # row -> unit of assignment
    labels: np.ndarray  # label of each unit of assignment
    z: np.ndarray  # assignment of each unit (0/1)
    strata: np.ndarray  # stratum code of each unit (clusters x strata when within)
    noun: str  # what the units of assignment are called in messages

    @property
    def n_treated(self) -> int:
        return int(self.z.sum())

    @property
    def n_control(self) -> int:
        return int(len(self.z) - self.z.sum())


def _assignment_level(treat: np.ndarray, codes: np.ndarray, labels: np.ndarray, n_clusters: int,
                      strata_codes: np.ndarray | None, clustered: bool) -> _Level:
    """Detect the level at which treatment varies: whole clusters when it is constant within
    every cluster, otherwise the rows inside clusters (re-drawn within clusters and strata)."""
    stratum = strata_codes if strata_codes is not None else np.zeros(len(treat), dtype=np.int64)
    sums = la.group_sum(treat, codes, n_clusters)
    sizes = np.bincount(codes, minlength=n_clusters)
    share = sums / sizes
    if not np.any((share > 0) & (share < 1)):
        strata_of_cluster = np.zeros(n_clusters, dtype=np.int64)
        strata_of_cluster[codes] = stratum
        return _Level(False, codes, labels, share.round(), strata_of_cluster,
                      "clusters" if clustered else "units")
    cells, _ = pd.factorize(pd.MultiIndex.from_arrays([codes, stratum]), sort=True)
    return _Level(True, np.arange(len(treat)), np.arange(len(treat)), treat.astype(float),
                  cells.astype(np.int64), "units")


WITHIN_CLUSTERS = (
    "Treatment varies within some clusters, so it is taken as assigned to units inside "
    "clusters: arm counts are of units, and randomisation inference re-draws treatment among "
    "the units of each cluster (and stratum). If whole clusters were assigned, some units' "
    "treatment is recorded wrongly; check it.")
NO_COMMON_START = (
    "Treatment does not follow one common start in whole {unit}, so randomisation inference "
    "(which re-draws the treated clusters) is not reported.")


def _coarser_assignment(data: pd.DataFrame, treat: np.ndarray, codes: np.ndarray,
                        n_units: int, skip: set[str]) -> tuple[str, int] | None:
    """A column whose levels are constant in treatment, hold several of the analysis's
    clusters (or units) each, and number at least two per arm: assignment was probably at that
    coarser level. Returns (column, number of its levels) or None."""
    if n_units < 4:
        return None
    for column in data.columns:
        if column in skip or not isinstance(column, str):
            continue
        values = data[column]
        if pd.api.types.is_float_dtype(values) and not np.allclose(values.dropna() % 1, 0):
            continue
        level_codes, uniques = pd.factorize(values, sort=False)
        n_levels = len(uniques)
        if not 4 <= n_levels < n_units or (level_codes < 0).any():
            continue
        nested = pd.DataFrame({"c": codes, "l": level_codes}).groupby("c")["l"].nunique().max() == 1
        if not nested:
            continue
        arm = pd.DataFrame({"l": level_codes, "t": treat}).groupby("l")["t"].agg(["min", "max"])
        if (arm["min"] == arm["max"]).all() and min((arm["min"] == 1).sum(), (arm["min"] == 0).sum()) >= 2:
            return column, n_levels
    return None


def _design_warnings(n_clusters: int, level: _Level | None, clustered: bool, n_dropped: int,
                     n_treated: int | None = None, varies_note: str | None = None) -> list[str]:
    notes = []
    unit = level.noun if level is not None else "clusters"
    if clustered and n_clusters < FEW_CLUSTERS:
        notes.append(
            f"Only {n_clusters} clusters: ordinary clustered standard errors are too small with "
            f"so few, so CR2 standard errors with small-sample degrees of freedom, the wild "
            f"cluster bootstrap and randomisation inference are reported; read them together.")
    if level is not None:
        n_treated, n_units = level.n_treated, len(level.z)
    else:
        n_units = n_clusters
    if clustered or (level is not None and level.within):
        notes += _arm_warnings(n_treated, n_units, unit)
    if level is not None and level.within:
        notes.append(WITHIN_CLUSTERS)
    if varies_note:
        notes.append(varies_note.format(unit=unit))
    if n_dropped:
        notes.append(f"{n_dropped} row(s) with a missing value in a column the analysis needs "
                     "were not used.")
    return notes


def _arm_warnings(n_treated: int, n_units: int, unit: str) -> list[str]:
    """Warnings for an arm with very few units of assignment, or very unequal arms."""
    notes = []
    n_control = n_units - n_treated
    if min(n_treated, n_control) < FEW_TREATED:
        notes.append(
            f"Only {min(n_treated, n_control)} {unit} are in the "
            f"{'treatment' if n_treated <= n_control else 'control'} arm: every p-value "
            "rests on very few units of assignment; treat them with great caution.")
    if n_units and not 0.2 <= n_treated / n_units <= 0.8:
        notes.append(f"The arms are very unequal ({n_treated} treated of {n_units} {unit}); "
                     "cluster-robust inference is least reliable in this case.")
    return notes


def _below_assignment(data: pd.DataFrame, treat: np.ndarray, codes: np.ndarray, n_units: int,
                      cluster: str | None, skip: set[str]) -> list[str]:
    found = _coarser_assignment(data, treat, codes, n_units, skip)
    if found is None:
        return []
    column, n_levels = found
    where = f"clustered by {cluster!r}" if cluster else "not clustered"
    return [f"Treatment is the same throughout each {column!r} ({n_levels} of them), each holding "
            f"several units of the analysis, which is {where}: if {column!r} was the unit "
            f"randomised, cluster by it (cluster={column!r}); standard errors clustered below the "
            "level of assignment are too small."]


def _weights(kept: pd.DataFrame, weights: str | None, source: str) -> np.ndarray:
    """Sampling weights as positive finite numbers (ones when not given)."""
    if weights is None:
        return np.ones(len(kept))
    w = numbers(kept, weights).to_numpy(dtype=float)
    bad = ~np.isfinite(w) | (w <= 0)
    if bad.any():
        row = kept.index[np.flatnonzero(bad)[0]]
        raise DataError(f"{source}, row {row}, column {weights!r}: expected a positive number "
                        f"(a sampling weight); {int(bad.sum())} row(s) are zero or negative.")
    return w


def _weighted_mean_sd(values: np.ndarray, w: np.ndarray) -> tuple[float, float]:
    """Weighted mean and SD (weighted variance times n / (n − 1)); plain ones with equal weights."""
    if len(values) == 0:
        return float("nan"), float("nan")
    mean = float(np.average(values, weights=w))
    if len(values) < 2:
        return mean, float("nan")
    var = np.average((values - mean) ** 2, weights=w) * len(values) / (len(values) - 1)
    return mean, float(np.sqrt(var))


def _inference(fit: la.OLSFit, j: int, se_type: str, codes: np.ndarray, n_clusters: int,
               absorbed: int = 0, k_extra: int = 0) -> tuple[float, float]:
    """Standard error and degrees of freedom of coefficient ``j``; ``absorbed`` counts the
    parameters removed by demeaning (unit effects), which iid and HC1 must count; ``k_extra``
    the parameters fixest's CR1 counts beyond the columns of the design."""
    if se_type == "CR2":
        adjust = la.cr2_adjustments(fit, codes, n_clusters)
        V = la.vcov_cr2(fit, codes, n_clusters, adjust)
        return float(np.sqrt(V[j, j])), la.bm_df(fit, j, adjust)
    if se_type == "CR1":
        V = la.vcov_cr1(fit, codes, n_clusters, k_extra)
        return float(np.sqrt(V[j, j])), float(n_clusters - 1)
    if se_type == "HC1":
        return float(np.sqrt(la.vcov_hc1(fit, absorbed)[j, j])), float(fit.n - fit.k - absorbed)
    return float(np.sqrt(la.vcov_iid(fit, absorbed)[j, j])), float(fit.n - fit.k - absorbed)


def _require_clusters(n_clusters: int, clustered: bool, data: pd.DataFrame, cluster) -> None:
    if clustered and n_clusters < 2:
        raise DataError(f"{data.attrs.get('source', 'data frame')}, column {cluster!r}: only "
                        f"{n_clusters} cluster; expected at least two clusters (units of "
                        "assignment) to compare.")


def _ordered(values: pd.Series, column: str = "time", source: str = "data frame") -> pd.Series:
    """Time values as numbers in time order: numbers as numbers (CSV text '10' after '9'),
    dates as dates, period names by their words ('Baseline' < 'Midline' < 'Endline'); text
    whose order cannot be told is refused with a sentence, never sorted alphabetically."""
    number = pd.to_numeric(values.astype("string").str.strip(), errors="coerce")
    if number.notna().all():
        return number
    if pd.api.types.is_datetime64_any_dtype(values):
        return values
    from evalkit.data.mapping import order_rounds

    codes, _ = order_rounds(values, None, None, source, column,
                            hint="write the periods as numbers (1, 2, 3) or dates")
    return codes.astype("int64")


def _check_options(se: str, estimator: str | None = None) -> tuple[str, str | None]:
    """The options in their canonical spelling (matched in any case), or a ValueError listing
    the valid values."""
    return (option(se, SE_TYPES, "se"),
            None if estimator is None else option(estimator, ESTIMATORS, "estimator"))


def _emit(notes: list[str]) -> None:
    for note in notes:
        _warnings.warn(note, DesignWarning, stacklevel=4)  # the caller of compare_arms


SINGLE_ARM = (
    "Only one {unit_one} is {arm}: cluster-robust standard errors and the wild cluster "
    "bootstrap are not valid with a single {unit_one} in an arm (its own variation cannot be "
    "estimated; MacKinnon and Webb 2017), so read the randomisation-inference p-value, which is "
    "exact{ri}.")
ONE_PER_ARM = (
    "Each arm holds a single {unit_one}: with one {unit_one} per arm the effect cannot be told "
    "apart from the difference between the two {unit}, so standard errors, confidence interval "
    "and p-values are not computed (NaN).")


def _unit_one(noun: str) -> str:
    return {"clusters": "cluster", "units": "unit"}.get(noun, noun.rstrip("s"))


def _effect(fit: la.OLSFit, j: int, *, outcome: str, estimator: str, se: str, codes, n_clusters,
            statistic, level: _Level | None, procedure: Procedure | None, ri_note: str,
            wild_reps: int, ri_reps: int, seed: int | None, n_dropped: int,
            control: np.ndarray, control_weights: np.ndarray | None, notes: list[str],
            n_treated: int, absorbed: int = 0, weights: str | None = None,
            lin_adjusted: bool = False, clustered: bool = True, ri_stat: str = "t",
            k_extra: int = 0) -> EffectResult:
    seed = draw_seed(seed)
    control_weights = np.ones(len(control)) if control_weights is None else control_weights
    control_mean, control_sd = _weighted_mean_sd(control, control_weights)
    # what every result of this fit says, whatever could be estimated
    common = dict(outcome=outcome, estimator=estimator, n_obs=fit.n, n_clusters=n_clusters,
                  se_type=se if clustered else {"CR2": "HC2", "CR1": "HC1"}.get(se, se),
                  n_treated_clusters=n_treated, n_dropped=n_dropped, control_mean=control_mean,
                  control_sd=control_sd, seed=seed, weights=weights, lin=lin_adjusted,
                  clustered=clustered, ri_stat=ri_stat, **_assigned_counts(level))
    arms, single, noun = _arms_assigned(level, n_treated, n_clusters, clustered)
    ri = (lambda rng: ri_p_value(statistic, level.z, procedure, ri_reps, rng)
          if ri_reps and statistic is not None else (float("nan"), ri_note or "not computed"))
    if single and max(arms) == 1:
        notes.append(ONE_PER_ARM.format(unit_one=_unit_one(noun), unit=noun))
        return _unestimated(notes, common, "not computed: one cluster per arm",
                            ri(np.random.default_rng(seed)), float(fit.beta[j]), single_arm=True)
    if np.ptp(fit.y) == 0:  # a constant outcome: any p-value would be rounding noise
        notes.append(f"The outcome {outcome!r} does not vary (every unit has the same value), so "
                     "there is no difference to estimate; estimate, standard error and p-values "
                     "are not computed (NaN).")
        why = "not computed: the outcome does not vary"
        return _unestimated(notes, common, why, (float("nan"), why), float("nan"))
    se_value, df = _inference(fit, j, se, codes, n_clusters, absorbed, k_extra)
    estimate = float(fit.beta[j])
    common["r2"] = _r_squared(fit, centred=absorbed == 0)
    tcrit = stats.t.ppf(0.975, df)
    p = float(2 * stats.t.sf(abs(estimate / se_value), df))
    rng = np.random.default_rng(seed)
    p_wild, wild_method = (float("nan"), "not computed")
    if wild_reps and n_clusters >= 2:
        p_wild, wild_method = la.wild_cluster_p(fit, j, codes, n_clusters, wild_reps, rng)
    p_ri, ri_method = ri(rng)
    if single:
        notes.append(_single_arm_note(arms, noun, p_ri, ri_method))
    _emit(notes)
    return EffectResult(
        estimate=estimate, se=se_value, df=df, ci_low=estimate - tcrit * se_value,
        ci_high=estimate + tcrit * se_value, p_value=p, p_wild=p_wild, p_ri=p_ri,
        wild_method=wild_method, ri_method=ri_method, warnings=tuple(notes), single_arm=single,
        **common)


def _assigned_counts(level: _Level | None) -> dict:
    """The units of assignment in each arm, when assignment is at a level of its own."""
    if level is None:
        return {}
    return dict(assigned=level.noun, n_assigned_treated=level.n_treated,
                n_assigned_control=level.n_control)


def _arms_assigned(level: _Level | None, n_treated: int, n_clusters: int,
                   clustered: bool) -> tuple[tuple[int, int], bool, str]:
    """The units of assignment in the treated and control arms, whether one arm has a
    single one (cluster-robust inference then has nothing to stand on), and their noun."""
    across = level is None or not level.within
    arms = ((level.n_treated, level.n_control) if level is not None and not level.within
            else (n_treated, n_clusters - n_treated))
    single = clustered and min(arms) == 1 and across
    return arms, single, level.noun if level else "clusters"


def _single_arm_note(arms: tuple[int, int], noun: str, p_ri: float, ri_method: str) -> str:
    """The warning for an arm with a single unit of assignment."""
    arm = "treated" if arms[0] == 1 else "in the control arm"
    said = f" ({ri_method})" if p_ri == p_ri else "; it is not computed here, so no p-value is valid"
    return SINGLE_ARM.format(unit_one=_unit_one(noun), arm=arm, ri=said)


def _unestimated(notes: list[str], common: dict, wild_method: str, ri: tuple, estimate: float,
                 single_arm: bool = False) -> EffectResult:
    """A result without standard error, interval or p-values (except randomisation
    inference's, when it was computed), saying why in its notes."""
    nan = float("nan")
    _emit(notes)
    return EffectResult(estimate=estimate, se=nan, df=nan, ci_low=nan, ci_high=nan, p_value=nan,
                        p_wild=nan, p_ri=ri[0], wild_method=wild_method, ri_method=ri[1],
                        warnings=tuple(notes), single_arm=single_arm, **common)


def _r_squared(fit: la.OLSFit, centred: bool = True) -> float:
    """1 − SSR / TSS of the (weighted) regression; for a within-transformed (fixed-effects)
    fit, the within R². The design's first column is the constant (times the weights' square
    roots) when ``centred``."""
    y = fit.y
    if centred:
        w_sqrt = fit.X[:, 0]
        mean = float(w_sqrt @ y / (w_sqrt @ w_sqrt)) if w_sqrt @ w_sqrt > 0 else 0.0
        tss = float(np.sum((y - mean * w_sqrt) ** 2))
    else:
        tss = float(y @ y)
    return 1 - float(fit.resid @ fit.resid) / tss if tss > 0 else float("nan")


def _residualise(W: np.ndarray, target: np.ndarray) -> np.ndarray:
    if W.shape[1] == 0:
        return target
    coef, *_ = np.linalg.lstsq(W, target, rcond=None)
    return target - W @ coef


# --------------------------------------------------------------------------- compare_arms


def _compared_rows(data: pd.DataFrame, columns: list[str]) -> tuple[pd.DataFrame, int]:
    """The rows holding every column a comparison needs, and how many were dropped; a
    sentence when a column is missing or no row is complete."""
    require_columns(data, columns, "needed for the comparison")
    kept, dropped = _complete_rows(data, columns)
    if kept.empty:
        raise DataError(f"{data.attrs.get('source', 'data frame')}: no row has all of "
                        f"{', '.join(columns)}; nothing to compare.")
    return kept, dropped


def _treated_units(level: _Level, treat: np.ndarray, codes: np.ndarray, n_clusters: int) -> int:
    """The treated units of assignment (clusters holding a treated unit, when units are
    assigned within clusters)."""
    if not level.within:
        return level.n_treated
    return int(np.sum(la.group_sum(treat, codes, n_clusters) > 0))


def compare_arms(data: pd.DataFrame, outcome: str, treatment: str, cluster: str | None,
                 baseline: str | None = None, covariates: Sequence[str] = (),
                 strata: str | None = None, estimator: str | None = None, se: str = "CR2",
                 weights: str | None = None, lin: bool = False, assignment=None,
                 wild_reps: int = 9999, ri_reps: int = 10000, seed: int | None = None,
                 ri_stat: str = "t") -> EffectResult:
    """Intention-to-treat effect of assignment on ``outcome`` (one row per unit).

    Parameters
    ----------
    data : pandas.DataFrame
        One row per unit (household), with the endline ``outcome`` and, for ANCOVA or DiD,
        the unit's ``baseline`` outcome.
    outcome : str
        The endline outcome.
    treatment : str
        0/1 assignment column.
    cluster : str or None
        The clusters of the standard errors (None: independent units). Treatment constant
        within every cluster means whole clusters were assigned; treatment varying within
        clusters means units inside them were (randomisation inference then re-draws it
        within each cluster and stratum).
    baseline : str, optional
        The baseline outcome (ANCOVA's covariate, or subtracted for DiD).
    covariates : list of str
        More baseline covariates.
    estimator : ``"ancova"`` (endline on treatment + baseline + covariates; the default when a
        baseline is given), ``"did"`` (change from baseline on treatment + covariates: the
        two-period difference in differences) or ``"endline"`` (difference in endline means,
        with covariates if given; the default without a baseline).
    strata : randomisation strata; their fixed effects enter the regression and randomisation
        inference re-draws the assignment within them.
    se : ``"CR2"`` (default; Bell–McCaffrey with Imbens–Kolesár df), ``"CR1"`` (Stata/fixest
        factor, t(G − 1)), ``"HC1"`` or ``"iid"``.
    weights : a column of sampling weights: weighted least squares (Stata's ``[pweight=]``),
        every variance estimator and re-draw computed on the weighted regression, and the
        control mean weighted.
    lin : Lin's (2013) estimator: the covariates (and the ANCOVA baseline) centred at their
        (weighted) mean and interacted with treatment; the treatment coefficient is then the
        average effect. Randomisation inference refits the interacted regression for every
        re-draw.
    assignment : the :class:`~evalkit.designs.Assignment` that drew the treatment (from
        :func:`~evalkit.designs.assign`): randomisation inference then re-draws with the same
        procedure, its strata or pairs and its re-randomisation criterion. Units are matched by
        their id (the ``cluster`` column, or the data's index when units were assigned
        one by one), not by position.
    wild_reps : draws of the wild cluster restricted bootstrap (0: not computed). With
        2^G ≤ ``wild_reps`` every Rademacher sign vector is enumerated (exact).
    ri_reps : re-draws of the assignment for randomisation inference (0: not computed); when
        the design has at most ``ri_reps`` possible assignments all are enumerated (exact).
    seed : seed of the bootstrap and re-draws. None draws one; the result records it in
        ``seed`` so that a run can be repeated.
    ri_stat : the statistic randomisation inference compares with its re-drawn distribution:
        ``"t"`` (the CR1-studentised coefficient, default; robust to unequal variances) or
        ``"coef"`` (the coefficient itself, as Stata's ``ritest`` and pyfixest's
        ``ritest(type="randomization-c")``).

    Returns
    -------
    EffectResult
        Estimate, standard error, CI and p-value, wild bootstrap and randomisation p-values,
        counts, control mean and SD, the seed, warnings.

    Examples
    --------
    >>> from evalkit.designs import compare_arms, simulate_trial
    >>> df = simulate_trial(n_clusters=12, cluster_size=10, icc=0.1, effect=0.5, seed=3)
    >>> r = compare_arms(df, "y", "treatment", "cluster", baseline="baseline",
    ...                  wild_reps=99, ri_reps=99, seed=1)
    >>> round(r.estimate, 3), r.n_clusters, r.se_type
    (0.384, 12, 'CR2')
    """
    estimator = estimator or ("ancova" if baseline else "endline")
    se, estimator = _check_options(se, estimator)
    ri_stat = option(ri_stat, RI_STATS, "ri_stat")
    if estimator in ("ancova", "did") and not baseline:
        raise ValueError(f"estimator {estimator!r} needs the baseline outcome column (baseline=...)")
    columns = list(dict.fromkeys([outcome, treatment] + ([baseline] if estimator != "endline" else [])
                                 + list(covariates) + [c for c in (cluster, strata, weights) if c]))
    kept, dropped = _compared_rows(data, columns)
    source = data.attrs.get("source", "data frame")
    treat = zero_one(kept, treatment).to_numpy()
    w = _weights(kept, weights, source)
    sw = np.sqrt(w)
    y = numbers(kept, outcome).to_numpy()
    if estimator == "did":
        y = y - numbers(kept, baseline).to_numpy()
    adjusters = ([baseline] if estimator == "ancova" else []) + list(covariates)
    X, names, C, strata_notes, strata_codes = _arms_design(kept, treat, w, treatment, adjusters,
                                                           strata, cluster, lin)
    clustered = cluster is not None
    cluster_values = kept[cluster] if clustered else pd.Series(np.arange(len(kept)), index=kept.index)
    codes, n_clusters, labels = _labelled_codes(cluster_values)
    _require_clusters(n_clusters, clustered, data, cluster)
    fit = _ols(X, y, sw, names)
    level = _assignment_level(treat, codes, labels, n_clusters, strata_codes, clustered)
    procedure = (_procedure_from(assignment, level, cluster, source, kept.index)
                 if assignment is not None else Procedure(level.strata))
    statistic = _ri_statistic(X, y, C, sw, level, codes, n_clusters, lin, ri_stat)
    notes = (_design_warnings(n_clusters, level, clustered, dropped) + strata_notes
             + _below_assignment(kept, treat, codes, n_clusters, cluster,
                                 skip=set(columns) | {cluster} - {None}))
    n_treated = _treated_units(level, treat, codes, n_clusters)
    raw_outcome = numbers(kept, outcome).to_numpy()
    return _effect(fit, 1, outcome=outcome, estimator=estimator, se=se, codes=codes,
                   n_clusters=n_clusters, statistic=statistic, level=level, procedure=procedure,
                   ri_note="", wild_reps=wild_reps, ri_reps=ri_reps, seed=seed,
                   n_dropped=dropped, control=raw_outcome[treat == 0],
                   control_weights=w[treat == 0], notes=notes, n_treated=n_treated,
                   weights=weights, lin_adjusted=lin, clustered=clustered, ri_stat=ri_stat)


def _arms_design(kept: pd.DataFrame, treat: np.ndarray, w: np.ndarray, treatment: str,
                 adjusters: list[str], strata: str | None, cluster: str | None, lin: bool):
    """The regression of :func:`compare_arms`: constant, treatment, the adjusters (centred and
    interacted with treatment under Lin's estimator) and the strata's fixed effects. Returns
    the design, its column names, the adjusters' matrix, the strata's warnings and codes."""
    C = (np.column_stack([numbers(kept, c).to_numpy() for c in adjusters])
         if adjusters else np.zeros((len(kept), 0)))
    if lin:
        if not adjusters:
            raise ValueError("lin=True interacts covariates with treatment; give covariates=[...] "
                             "or a baseline with estimator='ancova'.")
        C = C - np.average(C, axis=0, weights=w)
    parts = [np.ones(len(kept)), treat, C]
    names = ["const", treatment] + adjusters
    if lin:
        parts.append(treat[:, None] * C)
        names += [f"{treatment} x {c}" for c in adjusters]
    strata_notes: list[str] = []
    strata_codes = None
    if strata:
        _strata_identify(kept[strata], treat, strata, cluster or "unit")
        strata_notes = _strata_warnings(kept[strata], treat, kept[cluster] if cluster else None,
                                        strata, cluster or "unit")
        dummies, dnames = _strata_dummies(kept[strata], strata)
        parts.append(dummies)
        names += dnames
        strata_codes, _ = _codes(kept[strata])
    return np.column_stack(parts), names, C, strata_notes, strata_codes


def _ri_statistic(X: np.ndarray, y: np.ndarray, C: np.ndarray, sw: np.ndarray, level, codes,
                  n_clusters: int, lin: bool, ri_stat: str):
    """The statistic randomisation inference computes for re-drawn assignments ``Z``: the
    interacted regression refitted under Lin's estimator, else the treatment's t (or
    coefficient) from the other regressors' residuals, by cluster-level sufficient statistics
    when whole clusters were assigned."""
    if lin:
        rest = X[:, 2 + 2 * C.shape[1]:]
        Cs, ys = C * sw[:, None], y * sw

        def design(Z: np.ndarray) -> np.ndarray:
            t = Z[level.unit_codes].T  # B x n
            B = t.shape[0]
            return np.concatenate(
                [np.broadcast_to(sw, (B, len(sw)))[:, :, None], (t * sw)[:, :, None],
                 np.broadcast_to(Cs, (B,) + Cs.shape), t[:, :, None] * Cs[None],
                 np.broadcast_to(rest * sw[:, None], (B,) + rest.shape)], axis=2)

        return lambda Z: refit_t_statistics(design, ys, Z, codes, n_clusters, stat=ri_stat)
    Ws = np.delete(X, 1, axis=1) * sw[:, None]
    y_resid = _residualise(Ws, y * sw)
    if level.within:  # units inside clusters: re-drawn row by row
        project = projector(Ws, lambda Z: sw[:, None] * Z[level.unit_codes])
        return lambda Z: t_statistics(project, y_resid, Z, codes, n_clusters, stat=ri_stat)
    return ClusterStatistic(Ws, sw, y_resid, codes, n_clusters, stat=ri_stat)


def _ols(X: np.ndarray, y: np.ndarray, sw: np.ndarray, names: list[str]) -> la.OLSFit:
    """Weighted least squares as OLS on rows multiplied by the square roots of the weights."""
    return la.ols(X * sw[:, None], y * sw, names)


def _labelled_codes(values: pd.Series) -> tuple[np.ndarray, int, np.ndarray]:
    codes, uniques = pd.factorize(values, sort=True)
    return codes.astype(np.int64), len(uniques), np.asarray(uniques)


def _procedure_from(assignment, level: _Level, cluster: str | None, source: str,
                    index: pd.Index | None = None) -> Procedure:
    """The assignment's procedure, restricted to the units present in the analysis, after
    checking that the data's treatment is the one it drew. Units are matched by id: the
    cluster's values, or, when units were assigned one by one (no cluster), the data's index
    labels, which is what :func:`~evalkit.designs.assign` records for ``unit=None``."""
    if level.within:
        raise DataError(f"{source}: treatment varies within clusters, but the assignment given "
                        "drew whole units; cluster by the unit that was assigned.")
    table = assignment.table
    labels = level.labels if cluster is not None or index is None else np.asarray(index)
    where = f"column {cluster!r}" if cluster is not None else "index"
    ids = pd.Index(table[assignment.unit].to_numpy())
    if not ids.is_unique:
        raise DataError(f"the assignment table lists a unit twice in column {assignment.unit!r}; "
                        "expected one row per unit.")
    select = ids.get_indexer(pd.Index(labels))
    if (select < 0).any():
        # ids read back from a file may have changed type (1 vs '1'): match them as text
        text = pd.Index(ids.astype(str))
        select = np.where(select < 0, text.get_indexer(pd.Index(labels).astype(str)), select)
    missing = np.flatnonzero(select < 0)
    if missing.size:
        raise DataError(f"{source}, {where}: {missing.size} unit(s) of the data are not in the "
                        f"assignment (for example {show(labels[missing[0]])}); expected the units "
                        "it randomised.")
    drawn = table["treatment"].to_numpy(dtype=float)
    differ = np.flatnonzero(drawn[select] != level.z)
    if differ.size:
        raise DataError(f"{source}, {where}: the treatment of {differ.size} unit(s) differs from "
                        f"the assignment (for example {show(labels[differ[0]])}); expected the "
                        "treatment it drew.")
    return assignment.procedure(select)


def compare_outcomes(data: pd.DataFrame, outcomes: Sequence[str] | dict[str, str | None],
                     treatment: str, cluster: str | None, **options) -> EffectsTable:
    """:func:`compare_arms` for each outcome, with Holm and BH adjustment across the family.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per unit.
    outcomes : list of str or dict
        Outcome columns, or a mapping outcome -> its baseline column (None for none).
    treatment : str
        0/1 assignment.
    cluster : str or None
        The unit of assignment.
    **options
        Passed to :func:`compare_arms` (``strata``, ``se``, ``wild_reps``, ``ri_reps``,
        ``seed`` …); each outcome gets its own stream of random numbers derived from
        ``seed`` (drawn and recorded when not given).

    Returns
    -------
    EffectsTable

    Examples
    --------
    >>> from evalkit.designs import compare_outcomes, simulate_trial
    >>> df = simulate_trial(n_clusters=12, cluster_size=10, icc=0.1, effect=0.5, seed=3)
    >>> t = compare_outcomes(df, ["y", "baseline"], "treatment", "cluster", wild_reps=0,
    ...                      ri_reps=99, seed=1)
    >>> t.to_frame()["outcome"].tolist()
    ['y', 'baseline']
    """
    shared_baseline = options.pop("baseline", None)
    pairs = (list(outcomes.items()) if isinstance(outcomes, dict)
             else [(outcome, shared_baseline) for outcome in outcomes])
    seed = draw_seed(options.pop("seed", None))
    seeds = np.random.SeedSequence(seed).spawn(len(pairs))
    results = []
    for i, (outcome, base) in enumerate(pairs):
        child_seed = int(seeds[i].generate_state(1)[0]) if seeds is not None else None
        results.append(compare_arms(data, outcome, treatment, cluster, baseline=base,
                                    seed=child_seed, **options))
    p = [r.p_value for r in results]
    p_ri = [r.p_ri for r in results]
    return EffectsTable(results=tuple(results), p_holm=tuple(holm(p)),
                        q_bh=tuple(benjamini_hochberg(p)), p_ri_holm=tuple(holm(p_ri)))


# --------------------------------------------------------------------------- twfe_did


def twfe_did(data: pd.DataFrame, outcome: str, treatment: str, unit: str, time: str,
             cluster: str | None = None, se: str = "CR2", covariates: Sequence[str] = (),
             strata: str | None = None, wild_reps: int = 9999, ri_reps: int = 10000,
             seed: int | None = None, ri_stat: str = "t") -> EffectResult:
    """Difference in differences with unit and time fixed effects (long data).

    ``treatment`` is 1 when the unit is treated in that period. Unit effects are absorbed by
    demeaning within unit (they must be nested in clusters; ``cluster`` defaults to ``unit``),
    time effects enter as dummies. For repeated cross-sections pass the cluster (e.g. village)
    as ``unit``. CR2 uses the within-transformed design (Pustejovsky and Tipton 2018). CR1 is
    G/(G − 1) × (n − 1)/(n − k) × the cluster sandwich with fixest's count of k when the unit
    effects are nested in the clusters: the treatment, the covariates and all T time effects
    (the nested unit effects are not counted, the time effects' reference level is), so it
    equals fixest's ``feols(y ~ d | unit + time, cluster = ~cluster)``. The point estimate and
    SE do not depend on which time period is the reference.
    Periods are ordered as numbers, dates or by their names (Baseline < Midline < Endline);
    text periods whose order cannot be told are refused.
    Randomisation inference re-draws which clusters are treated (within ``strata``) when all
    treated clusters start treatment in the same period. When units start treatment in
    different periods (staggered adoption) a warning says that the two-way fixed-effects
    estimate is then a weighted average that can mislead when effects change over time.

    Parameters
    ----------
    data : long data, one row per unit and period.
    outcome, treatment, unit, time : columns: the outcome, 1 when the unit is treated in that
        period, the unit (absorbed), the period (time effects).
    cluster : the clusters of the standard errors (default: ``unit``).
    se : ``"CR2"`` (default), ``"CR1"``, ``"HC1"`` or ``"iid"``.
    covariates : time-varying covariates.
    strata : randomisation strata of the clusters (for randomisation inference).
    wild_reps, ri_reps : wild bootstrap draws and assignment re-draws (0: not computed).
    seed : seed of the bootstrap and re-draws; None draws one, recorded in the result.
    ri_stat : ``"t"`` (studentised, default) or ``"coef"`` (as ``ritest``).

    Returns
    -------
    EffectResult

    Examples
    --------
    >>> import pandas as pd
    >>> from evalkit.designs import simulate_trial, twfe_did
    >>> wide = simulate_trial(n_clusters=10, cluster_size=6, icc=0.1, effect=1.0, seed=2)
    >>> long = pd.concat([wide.assign(period=0, y=wide["baseline"], d=0),
    ...                   wide.assign(period=1, d=wide["treatment"])])
    >>> r = twfe_did(long, "y", "d", unit="unit", time="period", cluster="cluster",
    ...              wild_reps=0, ri_reps=0)
    >>> round(r.estimate, 3), r.n_clusters
    (1.383, 10)
    """
    se, _ = _check_options(se)
    ri_stat = option(ri_stat, RI_STATS, "ri_stat")
    cluster = cluster or unit
    columns = [outcome, treatment, unit, time, cluster] + list(covariates) + ([strata] if strata else [])
    require_columns(data, columns, "needed for the difference in differences")
    kept, dropped = _complete_rows(data, list(dict.fromkeys(columns)))
    treat = zero_one(kept, treatment).to_numpy()
    y = numbers(kept, outcome).to_numpy()
    unit_codes, n_units = _codes(kept[unit])
    times = _ordered(kept[time], time, data.attrs.get("source", "data frame"))
    time_codes, n_times = _codes(times)
    codes, n_clusters = _codes(kept[cluster])
    _require_clusters(n_clusters, True, data, cluster)
    _require_nested(unit_codes, codes, data, unit, cluster)
    counts = np.bincount(unit_codes, minlength=n_units).astype(float)

    def within(matrix: np.ndarray) -> np.ndarray:
        matrix = np.asarray(matrix, dtype=float).reshape(len(kept), -1)
        means = la.group_sum(matrix, unit_codes, n_units) / counts[:, None]
        return matrix - means[unit_codes]

    time_dummies = (time_codes[:, None] == np.arange(1, n_times)[None, :]).astype(float)
    parts = [treat[:, None], time_dummies] + [numbers(kept, c).to_numpy()[:, None] for c in covariates]
    X = within(np.column_stack(parts))
    names = [treatment] + [f"{time}={t}" for t in range(1, n_times)] + list(covariates)
    y_w = within(y)[:, 0]
    fit = la.ols(X, y_w, names)
    # cluster-level treatment paths: treated group x common start
    group = la.group_sum(treat, codes, n_clusters) > 0
    treated_rows = group[codes]
    z = None
    varies = False
    statistic = None
    staggered: list[str] = []
    if treat.any():
        start = time_codes[treat == 1].min()
        post = time_codes >= start
        common = np.array_equal(treat.astype(bool), treated_rows & post)
        varies = not common
        if common:
            z = group.astype(float)
            y_resid = _residualise(X[:, 1:], y_w)
            # within-unit demeaning of z_g · post keeps the form t_i · z_g (units nest in clusters)
            statistic = ClusterStatistic(X[:, 1:], within(post.astype(float))[:, 0], y_resid,
                                         codes, n_clusters, stat=ri_stat)
        else:
            staggered = _staggered_note(unit_codes, time_codes, treat)
    strata_of_cluster = _cluster_strata(kept, strata, codes, n_clusters)
    level = (_Level(False, codes, np.arange(n_clusters), z, strata_of_cluster, "clusters")
             if z is not None else None)
    notes = _design_warnings(n_clusters, level, True, dropped, n_treated=int(group.sum()),
                             varies_note=NO_COMMON_START if varies else None) + staggered
    return _effect(fit, 0, outcome=outcome, estimator="twfe", se=se, codes=codes,
                   n_clusters=n_clusters, statistic=statistic, level=level,
                   procedure=Procedure(strata_of_cluster),
                   ri_note="not reported: treatment does not follow one common start" if varies else "",
                   wild_reps=wild_reps, ri_reps=ri_reps, seed=seed, n_dropped=dropped,
                   control=y[(~treated_rows)], control_weights=None, notes=notes,
                   n_treated=int(group.sum()), absorbed=n_units, ri_stat=ri_stat,
                   k_extra=1 if n_times > 1 else 0)


def _require_nested(unit_codes: np.ndarray, codes: np.ndarray, data: pd.DataFrame, unit: str,
                    cluster: str) -> None:
    """Refuse a unit that appears in several clusters, in one sentence."""
    nested = pd.DataFrame({"u": unit_codes, "c": codes}).groupby("u")["c"].nunique().max() == 1
    if not nested:
        raise DataError(f"{data.attrs.get('source', 'data frame')}: unit {unit!r} is not nested "
                        f"in cluster {cluster!r} (a unit appears in several clusters); expected "
                        "each unit to belong to one cluster.")


def _cluster_strata(kept: pd.DataFrame, strata: str | None, codes: np.ndarray,
                    n_clusters: int) -> np.ndarray:
    """Each cluster's stratum code (all 0 without strata)."""
    strata_of_cluster = np.zeros(n_clusters, dtype=np.int64)
    if strata:
        strata_of_cluster[codes] = _codes(kept[strata])[0]
    return strata_of_cluster


STAGGERED = (
    "Staggered adoption: units start treatment in {starts} different periods. The two-way "
    "fixed-effects estimate then also compares later-treated with already-treated units, and "
    "when effects change with time since treatment it can be far from any average effect, even "
    "of the wrong sign (Goodman-Bacon 2021; de Chaisemartin and D'Haultfœuille 2020); check it "
    "with an estimator for staggered designs (Callaway and Sant'Anna 2021; Sun and Abraham "
    "2021) or compare each start cohort with the never treated.")


def _staggered_note(unit_codes: np.ndarray, time_codes: np.ndarray, treat: np.ndarray) -> list[str]:
    """The staggered-adoption warning when treated units' first treated periods differ."""
    frame = pd.DataFrame({"u": unit_codes, "t": time_codes, "d": treat})
    starts = frame[frame["d"] == 1].groupby("u")["t"].min()
    if starts.nunique() > 1:
        return [STAGGERED.format(starts=starts.nunique())]
    return []


# --------------------------------------------------------------------------- balance


@dataclass(frozen=True, eq=False, repr=False)
class BalanceTable:
    """Balance of baseline characteristics between arms (in the spirit of iebaltab). To
    publish it: :func:`evalkit.tables.balance_export` (CSV, Excel, LaTeX, Markdown, HTML)."""

    table: pd.DataFrame = field(repr=False)
    treatment: str
    omnibus_statistic: float
    omnibus_p: float
    omnibus_method: str
    n_clusters_treatment: int
    n_clusters_control: int
    se_type: str
    warnings: tuple[str, ...] = ()
    assigned: str = "clusters"
    clustered: bool = True
    seed: int | None = None

    @property
    def se_text(self) -> str:
        """How the p-values' standard errors were computed, in words."""
        if self.clustered:
            return f"{self.se_type} standard errors clustered by unit of assignment"
        return f"{self.se_type} (heteroskedasticity-robust) standard errors; units not clustered"

    def to_frame(self) -> pd.DataFrame:
        """One row per characteristic: n, mean and SD by arm, difference, normalised
        difference, regression difference, its SE and p-value, clusters by arm, missing."""
        return self.table.copy()

    def summary(self) -> str:
        frame = self.table.copy()
        if "p_value" in frame:
            frame["p_value"] = frame["p_value"].map(p_value)
        text = frame.to_string(index=False, float_format=lambda v: f"{v:.3f}")
        return (f"{text}\nOmnibus balance test (sum of squared studentised differences; "
                f"{self.omnibus_method}): statistic {self.omnibus_statistic:.3f}, "
                f"{p_phrase(self.omnibus_p)}\n{self.se_text[0].upper() + self.se_text[1:]}."
                + (f" Random seed: {self.seed}." if self.seed is not None else ""))

    def __repr__(self) -> str:
        return (f"<BalanceTable: {len(self.table)} characteristics by {self.treatment!r}; "
                f"{self.n_clusters_treatment} treated and {self.n_clusters_control} control "
                f"{self.assigned if self.clustered else 'units (not clustered)'}; joint test "
                f"{p_phrase(self.omnibus_p)}>")

    def _repr_html_(self) -> str:
        t = self.table
        rows = [(r["variable"], fmt(r["mean_treatment"]), fmt(r["mean_control"]),
                 fmt(r["difference"], 3, True), fmt(r["normalised_difference"], 3, True),
                 p_value(r["p_value"])) for _, r in t.iterrows()]
        units = "Clusters" if self.clustered else "Units"
        note = (f"{self.se_text}; joint test "
                f"({self.omnibus_method}): {p_phrase(self.omnibus_p)}. {units}: "
                f"{self.n_clusters_treatment} treatment, {self.n_clusters_control} control."
                + (f" Random seed: {self.seed}." if self.seed is not None else ""))
        return html_table("Balance at baseline", ["Characteristic", "Mean, treatment",
                                                  "Mean, control", "Difference",
                                                  "Normalised difference", "p"], rows, note)


BALANCE_COLUMNS = ("variable", "n_treatment", "mean_treatment", "sd_treatment", "n_control",
                   "mean_control", "sd_control", "difference", "normalised_difference",
                   "regression_difference", "se", "p_value", "clusters_treatment",
                   "clusters_control", "missing")


def _arm_summaries(x: np.ndarray, t: np.ndarray, w: np.ndarray, codes: np.ndarray) -> dict:
    """A characteristic's n, (weighted) mean and SD per arm, their difference (treatment −
    control) and its normalised form, and the clusters with data in each arm."""
    mean_t, sd_t = _weighted_mean_sd(x[t == 1], w[t == 1])
    mean_c, sd_c = _weighted_mean_sd(x[t == 0], w[t == 0])
    diff = mean_t - mean_c
    return {"n_treatment": int((t == 1).sum()), "mean_treatment": mean_t, "sd_treatment": sd_t,
            "n_control": int((t == 0).sum()), "mean_control": mean_c, "sd_control": sd_c,
            "difference": diff,
            "normalised_difference": diff / np.sqrt((sd_t ** 2 + sd_c ** 2) / 2),
            "clusters_treatment": int(np.unique(codes[t == 1]).size),
            "clusters_control": int(np.unique(codes[t == 0]).size)}


def _omnibus(stat_parts: list, exact: bool, method: str) -> tuple[float, float, str]:
    """The joint test: the sum of the characteristics' squared t statistics, observed (first
    column) against the re-draws; its p-value (exact over every assignment, else with the
    observed draw counted) and method."""
    if not stat_parts:
        return float("nan"), float("nan"), "not computed: no variables"
    stat = np.sum(stat_parts, axis=0)
    observed, draws = stat[0], stat[1:]
    if exact:
        p = float(np.mean(draws >= observed - 1e-10))
    else:
        p = float((1 + np.sum(draws >= observed - 1e-10)) / (1 + len(draws)))
    return observed, p, f"randomisation inference, {method}"


def balance_table(data: pd.DataFrame, variables: Sequence[str], treatment: str,
                  cluster: str | None = None, strata: str | None = None, se: str = "CR2",
                  weights: str | None = None, assignment=None, ri_reps: int = 10000,
                  seed: int | None = None) -> BalanceTable:
    """Per variable: n, mean and SD per arm, difference (treatment − control), normalised
    difference (difference / sqrt((var_t + var_c)/2)), and the p-value of the difference from
    a regression on treatment (plus strata fixed effects) with ``se`` inference (CR2 with
    Bell–McCaffrey df by default) clustered at ``cluster``; observation and cluster counts per
    arm. With ``weights`` (sampling weights) means, SDs and the regression are weighted.
    The omnibus test is randomisation-based: the sum over variables of squared CR1 t
    statistics of the differences, referred to its distribution over re-drawn assignments
    (complete randomisation of clusters within strata, or the procedure of ``assignment``),
    which stays valid with few clusters where an F-test on the cluster covariance (rank at
    most G − 1) does not.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per unit at baseline.
    variables : list of str
        The characteristics compared.
    treatment : str
        0/1 assignment.
    cluster : str, optional
        The unit of assignment (None: units were assigned one by one).
    strata : str, optional
        Randomisation strata (fixed effects in the regressions; re-draws stay within them).
    se : {"CR2", "CR1", "HC1", "iid"}
        Standard errors of the differences.
    weights : str, optional
        Sampling weights.
    assignment : Assignment, optional
        The draw of :func:`~evalkit.designs.assign`, whose procedure the joint test re-draws.
    ri_reps : int
        Re-draws for the joint test.
    seed : int, optional
        Seed of the re-draws; None draws one, recorded in the result.

    Returns
    -------
    BalanceTable

    Examples
    --------
    >>> from evalkit.designs import balance_table, simulate_trial
    >>> df = simulate_trial(n_clusters=12, cluster_size=10, icc=0.1, seed=3)
    >>> b = balance_table(df, ["baseline"], "treatment", "cluster", ri_reps=99, seed=1)
    >>> b.to_frame()[["variable", "n_treatment", "n_control"]].values.tolist()
    [['baseline', 60, 60]]
    """
    se, _ = _check_options(se)
    design_columns = [c for c in (cluster, strata, weights) if c]
    require_columns(data, [treatment] + list(variables) + design_columns)
    source = data.attrs.get("source", "data frame")
    # rows without assignment, cluster, stratum or weight cannot be placed in the design
    base, dropped = _complete_rows(data, [treatment] + design_columns)
    treat_all = zero_one(base, treatment).to_numpy()
    w_all = _weights(base, weights, source)
    cluster_all = base[cluster] if cluster else pd.Series(np.arange(len(base)), index=base.index)
    codes_all, n_clusters, labels = _labelled_codes(cluster_all)
    _require_clusters(n_clusters, cluster is not None, data, cluster)
    strata_codes = _codes(base[strata])[0] if strata else None
    level = _assignment_level(treat_all, codes_all, labels, n_clusters, strata_codes,
                              cluster is not None)
    procedure = (_procedure_from(assignment, level, cluster, source, base.index)
                 if assignment is not None else Procedure(level.strata))
    rows = []
    stat_parts = []
    seed = draw_seed(seed)
    rng = np.random.default_rng(seed)
    Z, exact, method = procedure.draws(
        procedure.observed if procedure.observed is not None else level.z, ri_reps, rng)
    Z = np.column_stack([level.z, Z])
    for var in variables:
        values = numbers(base, var).to_numpy()
        ok = ~np.isnan(values)
        x, t, wv = values[ok], treat_all[ok], w_all[ok]
        sw = np.sqrt(wv)
        codes_v = codes_all[ok]
        units_v = level.unit_codes[ok]
        design = [np.ones(ok.sum()), t]
        if strata:
            d, _ = _strata_dummies(base.loc[ok, strata], strata)
            design.append(d)
        X = np.column_stack(design)
        fit = _ols(X, x, sw, [])
        local_codes, g_v = _codes(pd.Series(codes_v))  # clusters with data on this variable
        se_v, df_v = _inference(fit, 1, se, local_codes, g_v)
        row = {"variable": var, **_arm_summaries(x, t, wv, codes_v),
               "regression_difference": fit.beta[1], "se": se_v,
               "p_value": float(2 * stats.t.sf(abs(fit.beta[1] / se_v), df_v)),
               "missing": int((~ok).sum())}
        rows.append({k: row[k] for k in BALANCE_COLUMNS})
        W = np.delete(X, 1, axis=1) * sw[:, None]
        factor = la.cr1_factor(len(x), X.shape[1], g_v)
        project = projector(W, lambda Zc, units_v=units_v, sw=sw: sw[:, None] * Zc[units_v])
        stat_parts.append(t_statistics(project, _residualise(W, x * sw), Z, local_codes,
                                       g_v, factor) ** 2)
    observed, p, method = _omnibus(stat_parts, exact, method)
    notes = (_design_warnings(n_clusters, level, cluster is not None, dropped)
             + _below_assignment(base, treat_all, codes_all, n_clusters, cluster,
                                 skip={treatment, *variables, *design_columns}))
    se_label = se if cluster is not None else {"CR2": "HC2", "CR1": "HC1"}.get(se, se)
    return BalanceTable(table=pd.DataFrame(rows), treatment=treatment,
                        omnibus_statistic=float(observed), omnibus_p=p, omnibus_method=method,
                        n_clusters_treatment=level.n_treated, n_clusters_control=level.n_control,
                        se_type=se_label, warnings=tuple(notes), assigned=level.noun,
                        clustered=cluster is not None, seed=seed)
