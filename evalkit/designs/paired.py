"""Pre/post (before/after) analyses without a comparison group.

Every result carries :data:`CAVEAT`: a change between two assessments of the same units,
without a comparison group, is not an impact estimate.

* :func:`prepost` — paired change for a continuous, ordinal or binary outcome (paired t CI,
  Wilcoxon signed-rank, standardised change, improved/unchanged/worse; for binary outcomes the
  change in percentage points and the exact McNemar test), with an attrition check;
* :func:`trajectory` — more than two rounds: means by round and a panel regression with unit
  fixed effects (linearmodels PanelOLS), standard errors clustered by unit;
* :func:`compare_changes` — two groups' changes side by side (descriptive).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from evalkit.data.columns import numbers, require_columns
from evalkit.designs.panel import pair_rounds
from evalkit.display import fmt, html_table, p_phrase, p_value
from evalkit.errors import DataError
from evalkit.lazy import lazy
from evalkit.options import option

stats = lazy("scipy.stats")

CAVEAT = ("A change between two assessments of the same people, without a comparison group, "
          "is not an impact estimate: it may reflect the programme, but also time, other "
          "services, who stayed in the programme and how assessors scored.")


def infer_kind(values: pd.Series) -> str:
    """"binary" for 0/1, "ordinal" for at most 7 distinct whole numbers, else "continuous"."""
    x = values.dropna()
    distinct = set(np.unique(x))
    if distinct <= {0.0, 1.0}:
        return "binary"
    if len(distinct) <= 7 and all(float(v).is_integer() for v in distinct):
        return "ordinal"
    return "continuous"


@dataclass(frozen=True)
class AttritionCheck:
    """Units seen only before vs units seen in both rounds, on the before-round outcome."""

    only_before: int
    mean_stayers: float
    mean_leavers: float
    difference: float
    p_value: float  # Welch t test; NaN when either group has fewer than 2 units

    def sentence(self) -> str:
        if self.only_before == 0:
            return "Every unit assessed before was assessed again."
        if np.isnan(self.p_value):
            return (f"{self.only_before} unit(s) were assessed only before; too few to compare "
                    "them with those who stayed.")
        verdict = ("differed from" if self.p_value < 0.05 else "did not differ detectably from")
        return (f"{self.only_before} unit(s) were assessed only before. At the first assessment "
                f"they {verdict} those assessed again (mean {self.mean_leavers:.2f} vs "
                f"{self.mean_stayers:.2f}; p = {self.p_value:.3f}).")


@dataclass(frozen=True, repr=False)
class PrePostResult:
    """Paired change in one outcome between two rounds (descriptive; see ``caveat``)."""

    outcome: str
    kind: str
    before: Any
    after: Any
    n_pairs: int
    mean_before: float
    mean_after: float
    mean_change: float
    ci_low: float
    ci_high: float
    p_ttest: float
    p_wilcoxon: float
    standardised_change: float
    improved_pct: float
    unchanged_pct: float
    worse_pct: float
    p_mcnemar: float = float("nan")
    gained: int = 0  # binary: 0 -> 1
    lost: int = 0  # binary: 1 -> 0
    attrition: AttritionCheck | None = None
    only_after: int = 0
    wilcoxon_zero_method: str = "wilcox"  # unchanged pairs dropped ("wilcox") or ranked ("pratt")
    caveat: str = CAVEAT

    @property
    def change_pp(self) -> float:
        """Binary outcomes: change in percentage points (= 100 × mean change)."""
        return 100 * self.mean_change

    def to_frame(self) -> pd.DataFrame:
        names = ["outcome", "kind", "n_pairs", "mean_before", "mean_after", "mean_change",
                 "ci_low", "ci_high", "p_ttest", "p_wilcoxon", "p_mcnemar",
                 "standardised_change", "improved_pct", "unchanged_pct", "worse_pct"]
        row = {n: getattr(self, n) for n in names}
        row["only_before"] = self.attrition.only_before if self.attrition else 0
        row["only_after"] = self.only_after
        return pd.DataFrame([row])

    def summary(self) -> str:
        if self.kind == "binary":
            main = (f"{self.mean_before * 100:.1f} % -> {self.mean_after * 100:.1f} %: "
                    f"{self.change_pp:+.1f} percentage points (95% CI {self.ci_low * 100:+.1f} to "
                    f"{self.ci_high * 100:+.1f}); exact McNemar {p_phrase(self.p_mcnemar)} "
                    f"({self.gained} gained, {self.lost} lost)")
        else:
            main = (f"mean {self.mean_before:.3f} -> {self.mean_after:.3f}: change "
                    f"{self.mean_change:+.3f} (95% CI {self.ci_low:+.3f} to {self.ci_high:+.3f}); "
                    f"paired t {p_phrase(self.p_ttest)}; Wilcoxon {p_phrase(self.p_wilcoxon)} "
                    f"(unchanged pairs {'dropped' if self.wilcoxon_zero_method == 'wilcox' else 'ranked, Pratt'})")
        lines = [f"{self.outcome} ({self.kind}), {self.n_pairs} pairs, {self.before!r} -> {self.after!r}",
                 "  " + main,
                 f"  improved {self.improved_pct:.1f} %, unchanged {self.unchanged_pct:.1f} %, "
                 f"worse {self.worse_pct:.1f} %"]
        if self.attrition:
            lines.append("  " + self.attrition.sentence())
        lines.append("  " + self.caveat)
        return "\n".join(lines)

    def __repr__(self) -> str:
        scale, unit = (100, " pp") if self.kind == "binary" else (1, "")
        p = self.p_mcnemar if self.kind == "binary" else self.p_ttest
        return (f"<PrePostResult {self.outcome!r} ({self.kind}): {self.n_pairs} pairs, change "
                f"{fmt(self.mean_change * scale, 2, True)}{unit} (95% CI "
                f"{fmt(self.ci_low * scale, 2, True)} to {fmt(self.ci_high * scale, 2, True)}), "
                f"{p_phrase(p)}; descriptive>")

    def _repr_html_(self) -> str:
        scale = 100 if self.kind == "binary" else 1
        rows = [("Pairs", f"{self.n_pairs:,}"), ("Before", fmt(self.mean_before * scale, 2)),
                ("After", fmt(self.mean_after * scale, 2)),
                ("Change", fmt(self.mean_change * scale, 2, True)),
                ("95% CI", f"{fmt(self.ci_low * scale, 2, True)} to {fmt(self.ci_high * scale, 2, True)}")]
        if self.kind == "binary":
            rows.append(("p (exact McNemar)", p_value(self.p_mcnemar)))
        else:
            rows += [("p (paired t)", p_value(self.p_ttest)),
                     (f"p (Wilcoxon, zeros {'dropped' if self.wilcoxon_zero_method == 'wilcox' else 'ranked (Pratt)'})",
                      p_value(self.p_wilcoxon))]
        rows.append(("Improved / unchanged / worse (%)",
                     f"{fmt(self.improved_pct, 0)} / {fmt(self.unchanged_pct, 0)} / {fmt(self.worse_pct, 0)}"))
        units = " (in % and percentage points)" if self.kind == "binary" else ""
        return html_table(f"{self.outcome}: {self.before} → {self.after}{units}", ["", ""], rows,
                          self.caveat)


def _attrition(before_values: pd.Series, stayed: pd.Series) -> AttritionCheck:
    stay, leave = before_values[stayed], before_values[~stayed]
    p = float("nan")
    if len(stay) >= 2 and len(leave) >= 2:
        p = float(stats.ttest_ind(stay, leave, equal_var=False).pvalue)
    return AttritionCheck(only_before=int((~stayed).sum()), mean_stayers=float(stay.mean()),
                          mean_leavers=float(leave.mean()) if len(leave) else float("nan"),
                          difference=float(leave.mean() - stay.mean()) if len(leave) else float("nan"),
                          p_value=p)


def _paired_t(x_before: np.ndarray, x_after: np.ndarray) -> tuple[float, tuple[float, float]]:
    """The paired t-test's p-value and the mean change's 95 % CI (for changes that do not
    vary: p is 1 when they are all 0, else 0, and the interval is the change itself)."""
    d = x_after - x_before
    n, mean_change, sd_d = len(d), float(d.mean()), d.std(ddof=1)
    if sd_d > 0:
        half = stats.t.ppf(0.975, n - 1) * sd_d / np.sqrt(n)
        return float(stats.ttest_rel(x_after, x_before).pvalue), (mean_change - half,
                                                                   mean_change + half)
    return (1.0 if mean_change == 0 else 0.0), (mean_change, mean_change)


def _mcnemar(x_before: np.ndarray, x_after: np.ndarray) -> dict:
    """For a 0/1 outcome: units that gained and lost it, the exact McNemar p-value, and the
    change's Wald CI for paired proportions."""
    n = len(x_before)
    gained = int(np.sum((x_before == 0) & (x_after == 1)))
    lost = int(np.sum((x_before == 1) & (x_after == 0)))
    p_mc = float(stats.binomtest(gained, gained + lost, 0.5).pvalue) if gained + lost else 1.0
    se = np.sqrt(gained + lost - (gained - lost) ** 2 / n) / n
    z = stats.norm.ppf(0.975)
    change = float((x_after - x_before).mean())
    return dict(p_mcnemar=p_mc, gained=gained, lost=lost, ci_low=change - z * se,
                ci_high=change + z * se)


def prepost(data: pd.DataFrame, outcome: str, unit: str, round: str, before: Any, after: Any,
            kind: str = "auto", higher_is_better: bool = True,
            zero_method: str = "wilcox") -> PrePostResult:
    """Paired change in ``outcome`` from round ``before`` to round ``after``.

    ``kind``: "continuous", "ordinal", "binary" or "auto" (from the values). The CI of the mean
    change is the paired t interval; for binary outcomes it is the Wald interval for a paired
    difference of proportions, sqrt((b + c − (b − c)²/n)) / n with b, c the discordant counts,
    and the test is the exact McNemar (binomial) test on the discordant pairs. Standardised
    change = mean change ÷ SD of the before-round values of the pairs. "Improved" follows
    ``higher_is_better``.

    ``zero_method``: how the Wilcoxon signed-rank test treats pairs that did not change (CSI
    scores tie often): ``"wilcox"`` (default, as scipy and R's ``wilcox.test``) drops them;
    ``"pratt"`` keeps them in the ranking (Pratt 1959), which is more conservative when many
    pairs are unchanged. The result records which was used.

    Parameters
    ----------
    data : pandas.DataFrame
        Long data: one row per unit and round.
    outcome : str
        The outcome column.
    unit : str
        The unit (child, household) column.
    round : str
        The round column.
    before, after : object
        The two rounds compared (values of ``round``).
    kind : {"auto", "continuous", "ordinal", "binary"}
        How to read the outcome.
    higher_is_better : bool
        Whether a higher value is an improvement.
    zero_method : {"wilcox", "pratt"}
        Unchanged pairs in the Wilcoxon test.

    Returns
    -------
    PrePostResult

    Examples
    --------
    >>> import pandas as pd
    >>> from evalkit.designs import prepost
    >>> long = pd.DataFrame({"child": [1, 2, 3, 4] * 2, "round": [1] * 4 + [2] * 4,
    ...                      "score": [20, 25, 30, 22, 24, 27, 30, 26]})
    >>> r = prepost(long, "score", "child", "round", 1, 2, kind="continuous")
    >>> r.n_pairs, r.mean_change
    (4, 2.5)
    """
    zero_method = option(zero_method, ("wilcox", "pratt"), "zero_method")
    require_columns(data, [outcome, unit, round])
    frame = data[[unit, round]].copy()
    frame[outcome] = numbers(data, outcome)
    frame.attrs = dict(data.attrs)
    paired = pair_rounds(frame, unit, round, before, after, [outcome])
    wide = paired.wide
    both = wide[[outcome, f"{outcome}_before"]].dropna()
    x_before, x_after = both[f"{outcome}_before"].to_numpy(), both[outcome].to_numpy()
    kind = option(kind, ("auto", "continuous", "ordinal", "binary"), "kind")
    if kind == "auto":
        kind = infer_kind(pd.concat([frame[outcome]]))
    n = len(both)
    if n < 2:
        raise DataError(f"{data.attrs.get('source', 'data frame')}: only {n} unit(s) have "
                        f"{outcome!r} in both rounds {before!r} and {after!r}; at least 2 are "
                        "needed for a paired comparison.")
    d = x_after - x_before
    sign = 1 if higher_is_better else -1
    mean_change = float(d.mean())
    p_t, ci = _paired_t(x_before, x_after)
    p_w = (float(stats.wilcoxon(x_after, x_before, zero_method=zero_method).pvalue)
           if np.any(d != 0) else 1.0)
    sd_before = x_before.std(ddof=1)
    result = dict(
        outcome=outcome, kind=kind, before=before, after=after, n_pairs=n,
        mean_before=float(x_before.mean()), mean_after=float(x_after.mean()),
        mean_change=mean_change, ci_low=float(ci[0]), ci_high=float(ci[1]), p_ttest=p_t,
        p_wilcoxon=p_w, standardised_change=mean_change / sd_before if sd_before > 0 else float("nan"),
        improved_pct=float(np.mean(sign * d > 0) * 100), unchanged_pct=float(np.mean(d == 0) * 100),
        worse_pct=float(np.mean(sign * d < 0) * 100), only_after=paired.only_after,
        wilcoxon_zero_method=zero_method,
    )
    if kind == "binary":
        result.update(_mcnemar(x_before, x_after))
    # attrition: units seen before, whether or not seen after
    before_rows = frame[frame[round] == before].set_index(unit)[outcome].dropna()
    seen_after = set(wide.loc[wide[outcome].notna(), unit])
    stayed = pd.Series(before_rows.index.isin(list(seen_after)), index=before_rows.index)
    result["attrition"] = _attrition(before_rows, stayed)
    return PrePostResult(**result)


@dataclass(frozen=True, eq=False, repr=False)
class TrajectoryResult:
    """Means by round and within-unit change relative to the first round (unit fixed effects)."""

    outcome: str
    by_round: pd.DataFrame = field(repr=False)  # round, n, mean, ci_low, ci_high
    effects: pd.DataFrame = field(repr=False)  # round, change, se, ci_low, ci_high, p_value
    n_units: int = 0
    n_obs: int = 0
    caveat: str = CAVEAT

    def to_frame(self) -> pd.DataFrame:
        return self.by_round.merge(self.effects, on="round", how="left")

    def summary(self) -> str:
        frame = self.to_frame()
        frame["p_value"] = frame["p_value"].map(lambda p: p_value(p, missing=""))
        return (f"{self.outcome}: {self.n_obs} observations of {self.n_units} units\n"
                + frame.to_string(index=False, float_format=lambda v: f"{v:.3f}")
                + "\n" + self.caveat)

    def __repr__(self) -> str:
        return (f"<TrajectoryResult {self.outcome!r}: {len(self.by_round)} rounds, "
                f"{self.n_units} units, {self.n_obs} observations>")

    def _repr_html_(self) -> str:
        frame = self.to_frame()
        rows = [(r["round"], f"{int(r['n']):,}", fmt(r["mean"], 2),
                 f"{fmt(r['ci_low'], 2)} to {fmt(r['ci_high'], 2)}", fmt(r.get("change"), 2, True),
                 p_value(r.get("p_value"), missing="")) for _, r in frame.iterrows()]
        note = ("Change since the first round from a regression with unit fixed effects "
                "(linearmodels PanelOLS), standard errors clustered by unit. " + self.caveat)
        return html_table(f"{self.outcome} by round", ["Round", "n", "Mean", "95% CI",
                                                       "Change since first", "p"], rows, note)


def trajectory(data: pd.DataFrame, outcome: str, unit: str, round: str) -> TrajectoryResult:
    """Trajectory of ``outcome`` over rounds: per-round means (t CIs over the units then
    assessed) and a panel regression y_it = a_i + sum_r b_r [round = r] + e_it with unit fixed
    effects (linearmodels PanelOLS), standard errors clustered by unit; b_r is the average
    within-unit change from the first round to round r.

    Parameters
    ----------
    data : pandas.DataFrame
        Long data: one row per unit and round.
    outcome, unit, round : str
        The outcome, unit and round columns.

    Returns
    -------
    TrajectoryResult

    Examples
    --------
    >>> import pandas as pd
    >>> from evalkit.designs import trajectory
    >>> long = pd.DataFrame({"child": [1, 2, 3] * 3, "round": [1] * 3 + [2] * 3 + [3] * 3,
    ...                      "score": [20, 25, 30, 22, 26, 31, 25, 27, 35]})
    >>> trajectory(long, "score", "child", "round").by_round["mean"].round(2).tolist()
    [25.0, 26.33, 29.0]
    """
    from linearmodels.panel import PanelOLS

    require_columns(data, [outcome, unit, round])
    frame = pd.DataFrame({"unit": data[unit].to_numpy(), "round": data[round].to_numpy(),
                          "y": numbers(data, outcome).to_numpy()}).dropna()
    rounds = sorted(frame["round"].unique())
    if len(rounds) < 2:
        raise DataError(f"column {round!r}: {len(rounds)} round with a value of {outcome!r}; a "
                        "trajectory needs at least two rounds.")
    grouped = frame.groupby("round")["y"]
    n = grouped.size()
    mean = grouped.mean()
    se = grouped.std(ddof=1) / np.sqrt(n)
    half = stats.t.ppf(0.975, n - 1) * se
    by_round = pd.DataFrame({"round": mean.index, "n": n.to_numpy(), "mean": mean.to_numpy(),
                             "ci_low": (mean - half).to_numpy(), "ci_high": (mean + half).to_numpy()})
    dummies = pd.DataFrame({f"r{r}": (frame["round"] == r).astype(float) for r in rounds[1:]})
    indexed = pd.concat([frame[["unit", "round", "y"]].reset_index(drop=True), dummies], axis=1)
    indexed["t"] = indexed["round"].map({r: i for i, r in enumerate(rounds)})
    indexed = indexed.set_index(["unit", "t"])
    fit = PanelOLS(indexed["y"], indexed[list(dummies.columns)], entity_effects=True).fit(
        cov_type="clustered", cluster_entity=True)
    ci = fit.conf_int()
    effects = pd.DataFrame({
        "round": rounds[1:],
        "change": fit.params.to_numpy(),
        "se": fit.std_errors.to_numpy(),
        "change_ci_low": ci["lower"].to_numpy(),
        "change_ci_high": ci["upper"].to_numpy(),
        "p_value": fit.pvalues.to_numpy(),
    })
    return TrajectoryResult(outcome=outcome, by_round=by_round, effects=effects,
                            n_units=int(frame["unit"].nunique()), n_obs=len(frame))


@dataclass(frozen=True, eq=False, repr=False)
class GroupChanges:
    """Two or more groups' paired changes side by side (descriptive)."""

    outcome: str
    results: dict[str, PrePostResult]
    difference: float  # mean change, second group minus first
    ci_low: float
    ci_high: float
    p_value: float  # Welch t test on the changes
    caveat: str = ("Descriptive: the groups were not assigned at random, so a difference in "
                   "their changes may reflect who is in each group rather than the type of care.")

    def to_frame(self) -> pd.DataFrame:
        return pd.concat([r.to_frame().assign(group=g) for g, r in self.results.items()],
                         ignore_index=True)

    def summary(self) -> str:
        names = list(self.results)
        lines = [f"{self.outcome}: paired change by group"]
        lines += [f"  {g}: {r.n_pairs} pairs, change {fmt(r.mean_change, 3, True)}"
                  for g, r in self.results.items()]
        if len(names) >= 2:
            lines.append(f"  {names[1]} minus {names[0]}: {fmt(self.difference, 3, True)} "
                         f"(95% CI {fmt(self.ci_low, 3, True)} to {fmt(self.ci_high, 3, True)}; "
                         f"Welch {p_phrase(self.p_value)})")
        lines.append("  " + self.caveat)
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (f"<GroupChanges {self.outcome!r}: {len(self.results)} groups, difference "
                f"{fmt(self.difference, 3, True)}, {p_phrase(self.p_value)}; descriptive>")

    def _repr_html_(self) -> str:
        rows = [(g, f"{r.n_pairs:,}", fmt(r.mean_before, 2), fmt(r.mean_after, 2),
                 fmt(r.mean_change, 2, True)) for g, r in self.results.items()]
        names = list(self.results)
        note = (f"{names[1]} minus {names[0]}: {fmt(self.difference, 2, True)} (95% CI "
                f"{fmt(self.ci_low, 2, True)} to {fmt(self.ci_high, 2, True)}; Welch "
                f"{p_phrase(self.p_value)}). {self.caveat}" if len(names) >= 2 else self.caveat)
        return html_table(f"{self.outcome}: paired change by group",
                          ["Group", "Pairs", "Before", "After", "Change"], rows, note)


def compare_changes(data: pd.DataFrame, outcome: str, unit: str, round: str, before: Any,
                    after: Any, group: str, kind: str = "auto",
                    higher_is_better: bool = True) -> GroupChanges:
    """Paired change within each level of ``group`` and the difference between the first two
    groups' mean changes (Welch t interval). Descriptive, not causal.

    Parameters
    ----------
    data : pandas.DataFrame
        Long data: one row per unit and round.
    outcome, unit, round : str
        The outcome, unit and round columns.
    before, after : object
        The two rounds compared.
    group : str
        The column whose levels are compared.
    kind : {"auto", "continuous", "ordinal", "binary"}
        How to read the outcome.
    higher_is_better : bool
        Whether a higher value is an improvement.

    Returns
    -------
    GroupChanges

    Examples
    --------
    >>> import pandas as pd
    >>> from evalkit.designs import compare_changes
    >>> long = pd.DataFrame({"child": list(range(6)) * 2, "round": [1] * 6 + [2] * 6,
    ...                      "care": ["foster", "kin"] * 6,
    ...                      "score": [20, 21, 25, 24, 30, 29, 24, 22, 27, 24, 33, 30]})
    >>> r = compare_changes(long, "score", "child", "round", 1, 2, "care", kind="continuous")
    >>> sorted(r.results), round(r.difference, 2)
    (['foster', 'kin'], -2.33)
    """
    require_columns(data, [group])
    levels = [g for g in pd.unique(data[group].dropna())]
    levels = sorted(levels, key=str)
    results = {}
    changes = []
    for level in levels:
        part = data[data[group] == level]
        part.attrs = dict(data.attrs)
        if not ((part[round] == before).any() and (part[round] == after).any()):
            continue  # a group with nobody assessed at one of the rounds has no change
        results[str(level)] = prepost(part, outcome, unit, round, before, after, kind=kind,
                                      higher_is_better=higher_is_better)
        paired = pair_rounds(part.assign(**{outcome: numbers(part, outcome)}), unit, round,
                             before, after, [outcome]).wide
        changes.append((paired[outcome] - paired[f"{outcome}_before"]).dropna().to_numpy())
    if len(changes) < 2:
        raise DataError(f"column {group!r} has fewer than two groups; nothing to compare.")
    a, b = changes[0], changes[1]
    test = stats.ttest_ind(b, a, equal_var=False)
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    dof = (va + vb) ** 2 / (va ** 2 / (len(a) - 1) + vb ** 2 / (len(b) - 1))
    diff = float(b.mean() - a.mean())
    half = stats.t.ppf(0.975, dof) * np.sqrt(va + vb)
    return GroupChanges(outcome=outcome, results=results, difference=diff,
                        ci_low=diff - half, ci_high=diff + half, p_value=float(test.pvalue))
