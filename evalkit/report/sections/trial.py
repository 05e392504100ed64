"""The village campaign trial (``trial:`` in programme.yml): design, households lost, balance,
effects, what the trial could detect, and the findings in words.

This module owns the section's configuration, what the data-in layer reads for it, its
computation (through :mod:`evalkit.designs`) and its content.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from evalkit.config import SOURCE_KEYS, Context
from evalkit.data.programme import ProgrammeData
from evalkit.data.rules import SurveyRule
from evalkit.designs import (AttritionTest, BalanceTable, DesignWarning, EffectResult, EffectsTable,
                             ICCResult, attrition_test, balance_table, cluster_mde,
                             compare_outcomes, icc)
from evalkit.designs.panel import PairedRounds, pair_rounds
from evalkit.i18n import N_
from evalkit.report.content import (Interval, Bullets, Chart, Column, Count, Declared, Heading, Inline, Msg,
                                    Note, Num, Para, Share, Stat, Strong, Table, join)
from evalkit.report.sections.common import Build, Finding, Section, listing

KEY = "trial"
MANY = False
ANALYSIS = N_("village trial")
ROLES = {"unit", "cluster", "strata", "round", "treatment", "takeup"}
OUTCOME_KEYS = {"label", "kind", "range", "better"}
KEYS = frozenset({"columns", "baseline", "endline", "outcomes", "balance", "balance_labels",
                  "subgroups", "estimator", "seed", "wild_reps", "ri_reps", "treatment_label",
                  "control_label", "published_finding", "published_source", *SOURCE_KEYS})
NESTED_KEYS = frozenset(ROLES | OUTCOME_KEYS)
LANGUAGES = ("en",)
ALPHA = 0.05
ESTIMATORS = {"ancova": N_("ANCOVA"), "did": N_("Difference in differences"),
              "endline": N_("Endline difference")}


@dataclass(frozen=True)
class Outcome:
    name: str
    label: str | None  # None: the column's name is the label
    kind: str  # "binary" (0/1, shown in percentage points) or "score"
    bounds: tuple[float, float] | None = None  # the values a score can take (range: [0, 10])
    better: str | None = None  # "higher" or "lower": which direction is good news


@dataclass(frozen=True)
class Config:
    """A treatment vs control village comparison with baseline and endline surveys."""

    rule: SurveyRule
    outcomes: tuple[Outcome, ...]
    balance_labels: dict[str, str] = field(default_factory=dict)
    estimator: str = "ancova"
    seed: int = 12345
    wild_reps: int = 9999
    ri_reps: int = 10000
    treatment_label: str | None = None
    control_label: str | None = None
    published_finding: str | None = None
    published_source: str | None = None

    def __getattr__(self, name: str) -> Any:  # the survey's columns and rounds
        if name in ("unit", "cluster", "treatment", "round", "strata", "baseline", "endline",
                    "balance", "subgroups", "takeup", "source"):
            return getattr(self.rule, name)
        raise AttributeError(name)

    @property
    def file(self) -> str:
        return self.rule.source.paths[0]


def _outcome(name, spec, here: str, ctx: Context) -> Outcome:
    """One outcome's declaration: its label, kind, range and which direction is better."""
    if not isinstance(spec, dict):
        raise ctx.error(here, f"is {spec!r}; expected a mapping with label and kind.")
    ctx.known(spec, OUTCOME_KEYS, here + ".")
    kind = ctx.option(spec.get("kind", "score"), ("binary", "score"), f"{here}.kind")
    bounds = spec.get("range")
    if bounds is not None and not _is_range(bounds):
        raise ctx.error(f"{here}.range", f"is {bounds!r}; expected [lowest, highest], e.g. [0, 10].")
    better = (ctx.option(spec["better"], ("higher", "lower"), f"{here}.better")
              if spec.get("better") is not None else None)
    return Outcome(str(name), ctx.text(spec, "label", here + "."), kind,
                   None if bounds is None else (float(bounds[0]), float(bounds[1])), better)


def _is_range(bounds) -> bool:
    """Whether ``bounds`` is [lowest, highest]: two numbers in order."""
    return (isinstance(bounds, list) and len(bounds) == 2
            and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in bounds)
            and bounds[0] <= bounds[1])


def parse(entry: dict, where: str, ctx: Context) -> Config:
    columns = ctx.require(entry, "columns", dict, where)
    ctx.known(columns, ROLES, f"{where}columns.")
    for key in ("unit", "cluster", "round", "treatment"):
        ctx.require(columns, key, str, f"{where}columns.")
    outcomes = [_outcome(name, spec or {}, f"{where}outcomes.{name}", ctx)
                for name, spec in ctx.require(entry, "outcomes", dict, where).items()]
    if not outcomes:
        raise ctx.error(f"{where}outcomes", "is empty; expected at least one outcome.")
    estimator = ctx.option(entry.get("estimator", "ancova"), ("ancova", "did", "endline"),
                           f"{where}estimator")
    _require_counts(entry, where, ctx)
    rule = SurveyRule(
        source=ctx.source(entry, where), unit=columns["unit"], cluster=columns["cluster"],
        treatment=columns["treatment"], round=columns["round"], strata=columns.get("strata"),
        baseline=entry.get("baseline", "baseline"), endline=entry.get("endline", "endline"),
        outcomes=tuple((o.name, o.kind, o.bounds) for o in outcomes),
        balance=ctx.words(entry.get("balance"), f"{where}balance"),
        subgroups=ctx.words(entry.get("subgroups"), f"{where}subgroups"),
        takeup=columns.get("takeup"))
    return Config(rule=rule, outcomes=tuple(outcomes),
                  balance_labels={str(k): str(v) for k, v in ctx.mapping(entry, "balance_labels", where).items()},
                  estimator=estimator, seed=entry.get("seed", 12345),
                  wild_reps=entry.get("wild_reps", 9999), ri_reps=entry.get("ri_reps", 10000),
                  treatment_label=ctx.text(entry, "treatment_label", where),
                  control_label=ctx.text(entry, "control_label", where),
                  published_finding=ctx.text(entry, "published_finding", where),
                  published_source=ctx.text(entry, "published_source", where))


def _require_counts(entry: dict, where: str, ctx: Context) -> None:
    """The seed and the numbers of re-draws, when given: whole numbers of at least 0."""
    for key in ("seed", "wild_reps", "ri_reps"):
        if key in entry and (not isinstance(entry[key], int) or isinstance(entry[key], bool)
                             or entry[key] < 0):
            raise ctx.error(where + key, f"is {entry[key]!r}; expected a whole number of at least 0.")


def rules(cfg: Config) -> list:
    return [cfg.rule]


# ------------------------------------------------------------------ compute


@dataclass(frozen=True, eq=False)
class Result:
    config: Config
    paired: PairedRounds
    baseline: pd.DataFrame = field(repr=False)
    balance: BalanceTable = field(repr=False)
    effects: EffectsTable = field(repr=False)
    iccs: dict[str, ICCResult] = field(repr=False)
    mde_sd: dict[str, float] = field(repr=False)
    r2: dict[str, float] = field(repr=False)
    cluster_size: float = 0.0
    n_clusters: int = 0
    attrition: AttritionTest | None = field(default=None, repr=False)
    arms: tuple = ()  # (arm 1/0, villages, households at baseline, re-interviewed)
    treated_means: dict[str, float] = field(default_factory=dict)

    def effect(self, outcome: str) -> EffectResult:
        return next(r for r in self.effects.results if r.outcome == outcome)

    def outcome(self, name: str) -> Outcome:
        return next(o for o in self.config.outcomes if o.name == name)


def compute(data: ProgrammeData, cfg: Config) -> Result:
    """Balance at baseline, ITT effects on every outcome, attrition, ICCs and minimum
    detectable effects."""
    survey = data.trial
    outcomes = [o.name for o in cfg.outcomes]
    paired = pair_rounds(survey, cfg.unit, cfg.round, cfg.baseline, cfg.endline, outcomes)
    baseline = survey[survey[cfg.round] == cfg.baseline]
    with warnings.catch_warnings():  # the warnings are carried on the results and shown in words
        warnings.simplefilter("ignore", DesignWarning)
        balance = balance_table(baseline, [*cfg.balance, *outcomes], cfg.treatment,
                                cluster=cfg.cluster, strata=cfg.strata, ri_reps=cfg.ri_reps,
                                seed=cfg.seed)
        effects = compare_outcomes(paired.wide, {o: f"{o}_before" for o in outcomes},
                                   cfg.treatment, cfg.cluster, strata=cfg.strata,
                                   estimator=cfg.estimator, wild_reps=cfg.wild_reps,
                                   ri_reps=cfg.ri_reps, seed=cfg.seed)
        found = set(survey.loc[survey[cfg.round] == cfg.endline, cfg.unit])
        units = baseline.drop_duplicates(cfg.unit).assign(
            found_at_endline=lambda f: f[cfg.unit].isin(found).astype(int))
        lost_any = units["found_at_endline"].eq(0).any()
        attrition = (attrition_test(units, cfg.treatment, cfg.cluster, "found_at_endline",
                                    strata=cfg.strata, baseline=[*cfg.balance],
                                    wild_reps=cfg.wild_reps, ri_reps=cfg.ri_reps, seed=cfg.seed)
                     if lost_any else None)
    endline = paired.wide
    sizes = endline.groupby(cfg.cluster).size()
    share = float(endline.groupby(cfg.cluster)[cfg.treatment].first().mean())
    iccs, mde, r2 = {}, {}, {}
    for name in outcomes:
        iccs[name] = icc(baseline, name, cfg.cluster)
        both = endline[[name, f"{name}_before"]].dropna()
        r2[name] = float(np.corrcoef(both[name], both[f"{name}_before"])[0, 1] ** 2) \
            if cfg.estimator == "ancova" else 0.0
        mde[name] = cluster_mde(int(sizes.size), float(sizes.mean()), iccs[name].icc, r2=r2[name],
                                treat_share=share, cv_cluster_size=float(sizes.std(ddof=0) / sizes.mean()))
    arms = []
    first = outcomes[0]
    for arm in (1.0, 0.0):
        b = baseline[baseline[cfg.treatment] == arm]
        e = endline[(endline[cfg.treatment] == arm) & endline[f"{first}_before"].notna()]
        arms.append((arm, int(b[cfg.cluster].nunique()), len(b), len(e)))
    treated = {r.outcome: float(endline.loc[endline[cfg.treatment] == 1, r.outcome].mean())
               for r in effects.results}
    return Result(config=cfg, paired=paired, baseline=baseline, balance=balance, effects=effects,
                  iccs=iccs, mde_sd=mde, r2=r2, cluster_size=float(sizes.mean()),
                  n_clusters=int(sizes.size), attrition=attrition, arms=tuple(arms),
                  treated_means=treated)


# ------------------------------------------------------------------ words

K = "trial"


def _arm(b: Build, cfg: Config, arm: float, case: str = "") -> Inline:
    label = cfg.treatment_label if arm == 1 else cfg.control_label
    if label:
        return Declared(label, case)
    if case == "capital":
        return Msg("Treatment villages") if arm == 1 else Msg("Control villages")
    return Msg("treatment villages") if arm == 1 else Msg("control villages")


def _label(o: Outcome) -> Inline:
    return Declared(o.label if o.label is not None else o.name)


def _units(o: Outcome) -> str:
    return "points" if o.kind == "binary" else "mean"


def _scale(o: Outcome) -> float:
    return 100.0 if o.kind == "binary" else 1.0


def _amount(value: float, o: Outcome, n, signed: bool = True) -> Inline:
    unit = Msg("percentage points") if o.kind == "binary" else Msg("points")
    return Msg("{value} {unit}", value=Stat(value * _scale(o), _units(o), n, signed=signed), unit=unit)


def _ci(r: EffectResult, o: Outcome, n) -> Inline:
    return Msg("95 % CI {low} to {high} {unit}",
               low=Stat(r.ci_low * _scale(o), _units(o), n, signed=True),
               high=Stat(r.ci_high * _scale(o), _units(o), n, signed=True),
               unit=Msg("percentage points") if o.kind == "binary" else Msg("points"))


def _better(o: Outcome) -> Inline | None:
    if o.better is None:
        return None
    return Msg("higher is better") if o.better == "higher" else Msg("lower is better")


def detected(res: Result) -> int:
    """The number of outcomes with a detectable difference (CR2 p < 0.05)."""
    return sum(r.p_value < ALPHA for r in res.effects.results)


def verdict(res: Result) -> Msg:
    m, k = len(res.effects.results), detected(res)
    if k == 0:
        return Msg("no detectable difference on any of the {m} outcomes", m=m)
    return Msg("a detectable difference on {k} of {m} outcomes", k=k, m=m)


def register(b: Build, res: Result) -> None:
    dc = b.dc
    arms = []
    for arm, _villages, at_base, again in res.arms:
        key = f"{K}.arm{int(arm)}"
        dc.whole(f"{key}.baseline", at_base, {f"{key}.endline": again,
                                              f"{key}.lost": at_base - again},
                 table="Households by arm", part_costs={f"{key}.endline": 20})
        arms.append(key)
    total_base = sum(a[2] for a in res.arms)
    total_again = sum(a[3] for a in res.arms)
    dc.whole(f"{K}.baseline", total_base, {f"{a}.baseline": dc.value(f"{a}.baseline") for a in arms},
             table="Households by arm")
    dc.whole(f"{K}.analysis", total_again, {f"{a}.endline": dc.value(f"{a}.endline") for a in arms},
             table="Households by arm", cost=20)
    dc.whole(f"{K}.lost", total_base - total_again, {f"{a}.lost": dc.value(f"{a}.lost") for a in arms},
             table="Households by arm")
    dc.adds_up(f"{K}.baseline", [f"{K}.analysis", f"{K}.lost"])
    for r in res.effects.results:
        _part_of(dc, f"{K}.effect.{r.outcome}.n", int(r.n_obs), f"{K}.analysis", "Effects")
    for row in res.balance.to_frame().itertuples():
        for arm, column in ((1, "n_treatment"), (0, "n_control")):
            _part_of(dc, f"{K}.balance.{row.variable}.{arm}", int(getattr(row, column)),
                     f"{K}.arm{arm}.baseline", "Balance")


def _part_of(dc, key: str, n: int, whole: str, table: str) -> None:
    """A count that is part of ``whole`` (the rest missing from it); where it is larger (a
    regression on more rows than households), a count of its own."""
    total = dc.value(whole)
    if n <= total:
        dc.whole(whole, total, {key: n, f"{key}.missing": total - n}, table=table)
    else:
        dc.count(key, n, table=table)


def design_text(b: Build, res: Result) -> list:
    cfg = res.config
    z = res.baseline.groupby(cfg.cluster)[cfg.treatment].first()
    strata = (Msg(" within each {strata}", strata=Declared(cfg.strata)) if cfg.strata else Msg(""))
    design = Msg("{treated} of {villages} villages were chosen at random{strata} to receive the "
                 "campaign (the {treatment}); the other {control_n} are the {control}. Households "
                 "were surveyed before the campaign ({baseline} households) and again afterwards; "
                 "{lost} households surveyed at baseline were not found again ({pct} %).",
                 treated=int(z.sum()), villages=len(z), strata=strata,
                 treatment=_arm(b, cfg, 1), control_n=int(len(z) - z.sum()),
                 control=_arm(b, cfg, 0), baseline=Count(f"{K}.baseline", words=True),
                 lost=Count(f"{K}.lost", words=True), pct=Share(f"{K}.lost", f"{K}.baseline"))
    how = {"ancova": Msg("taking into account the household's own answer before the campaign"),
           "did": Msg("in their change since baseline (difference in differences)"),
           "endline": Msg("without baseline adjustment")}[cfg.estimator]
    analysis = Msg("Each estimate is the difference between households in {treatment} and in "
                   "{control} at endline, {how}. It measures the effect of {being} (intention "
                   "to treat), whether or not a household remembers the campaign. Because "
                   "villages, not households, were randomised, uncertainty is computed at "
                   "village level, in three ways that suit a small number of villages (see "
                   "Methods and the Glossary).", treatment=_arm(b, cfg, 1), control=_arm(b, cfg, 0),
                   how=how, being=Msg("being in a campaign village"))
    return [Para(Msg("{label} {text}", label=Strong(Msg("Design.")), text=design)),
            Para(Msg("{label} {text}", label=Strong(Msg("Analysis.")), text=analysis))]


def attrition_table_content(b: Build, res: Result) -> Table:
    rows = []
    for arm, villages, _base, _again in res.arms:
        key = f"{K}.arm{int(arm)}"
        rows.append((Msg("{arm}", arm=_arm(b, res.config, arm, "capital")), Num(villages),
                     Count(f"{key}.baseline"), Count(f"{key}.endline"),
                     Share(f"{key}.lost", f"{key}.baseline")))
    columns = (Column(Msg("Arm"), numeric=False), Column(Msg("Villages")),
               Column(Msg("Households at baseline")), Column(Msg("Re-interviewed at endline")),
               Column(Msg("Not found at endline (%)")))
    return Table("trial-attrition", Msg("Villages and households by arm. Households not found at "
                                        "endline cannot enter the effect estimates; similar shares "
                                        "in both arms make bias from their loss less likely."),
                 columns, tuple(rows), b.provenance(False, None))


def attrition_sentence(b: Build, res: Result) -> Inline | None:
    a = res.attrition
    if a is None:
        return None
    cfg = res.config
    n = (f"{K}.baseline",)
    needs = tuple(f"{K}.arm{arm}.lost" for arm in (1, 0))
    text = Msg("{question} {pt} % of the households in {treatment} and {pc} % in {control} were "
               "not found at endline: a difference of {diff} percentage points (95 % CI {low} to "
               "{high}; p = {p}).", question=Strong(Msg("Were households lost equally in both arms?")),
               pt=Share(f"{K}.arm1.lost", f"{K}.arm1.baseline"), treatment=_arm(b, cfg, 1),
               pc=Share(f"{K}.arm0.lost", f"{K}.arm0.baseline"), control=_arm(b, cfg, 0),
               diff=Stat(100 * a.difference, "points", n, signed=True, needs=needs),
               low=Stat(100 * a.effect.ci_low, "points", n, signed=True, needs=needs),
               high=Stat(100 * a.effect.ci_high, "points", n, signed=True, needs=needs),
               p=Stat(a.p_value, "p", n, needs=needs))
    parts = [text]
    if a.p_value < ALPHA:
        parts.append(Msg("The two arms lost different shares of households, so the effects below "
                         "could be biased if those lost differ from those found; read them with "
                         "this in mind."))
    else:
        parts.append(Msg("The arms lost similar shares of households."))
    if a.selective and all(np.isfinite(list(a.selective.values()))):
        differ = [_balance_label(cfg, k, case="lower") for k, p in a.selective.items() if p < ALPHA]
        parts.append(Msg("Those lost differed from those found in different ways in the two arms "
                         "on {names}.", names=listing(differ)) if differ else
                     Msg("Those lost did not differ from those found differently by arm on any of "
                         "the baseline characteristics in the balance table."))
    return join(parts, " ")


def _balance_label(cfg: Config, variable: str, case: str = "") -> Inline:
    outcome = next((o for o in cfg.outcomes if o.name == variable), None)
    if outcome is not None:
        return Msg("{label} (baseline)", label=Declared(outcome.label or outcome.name, case))
    return Declared(cfg.balance_labels.get(variable, variable), case)


def _binary(res: Result, variable: str) -> bool:
    outcome = next((o for o in res.config.outcomes if o.name == variable), None)
    if outcome is not None:
        return outcome.kind == "binary"
    return set(res.baseline[variable].dropna().unique()) <= {0.0, 1.0}


def balance_table_content(b: Build, res: Result) -> Table:
    cfg = res.config
    rows = []
    for row in res.balance.to_frame().itertuples():
        binary = _binary(res, row.variable)
        nt, nc = (f"{K}.balance.{row.variable}.1",), (f"{K}.balance.{row.variable}.0",)
        level, diff_rule = ("share", "points") if binary else ("decimal1", "decimal1")
        scale = 100.0 if binary else 1.0
        name = Msg("{label} (%)", label=_balance_label(cfg, row.variable)) if binary else \
            _balance_label(cfg, row.variable)
        rows.append((name,
                     Stat(row.mean_treatment * scale, level, nt, grain=1.0 if not binary else None),
                     None if binary else Stat(row.sd_treatment, "decimal1", nt),
                     Stat(row.mean_control * scale, level, nc),
                     None if binary else Stat(row.sd_control, "decimal1", nc),
                     Stat(row.difference * scale, diff_rule, nt + nc, signed=True),
                     Stat(row.normalised_difference, "ratio", nt + nc, signed=True),
                     Stat(row.p_value, "p", nt + nc),
                     Msg("{t} / {c}", t=Count(nt[0]), c=Count(nc[0])),
                     Msg("{t} / {c}", t=Num(int(row.clusters_treatment)), c=Num(int(row.clusters_control)))))
    treatment = Msg("{arm}", arm=_arm(b, cfg, 1, "capital"))
    control = Msg("{arm}", arm=_arm(b, cfg, 0, "capital"))
    columns = (Column(Msg("Characteristic (at baseline)"), numeric=False),
               Column(Msg("Mean"), group=treatment), Column(Msg("SD"), group=treatment),
               Column(Msg("Mean"), group=control), Column(Msg("SD"), group=control),
               Column(Msg("Difference")), Column(Msg("Normalised difference")),
               Column(Msg("p-value")), Column(Msg("Households (T / C)")),
               Column(Msg("Villages (T / C)")))
    caption = Msg("Balance at baseline. Difference = {treatment} − {control}; shares in per cent "
                  "and their differences in percentage points; the normalised difference puts "
                  "it in standard deviations (beyond ±0.25 deserves attention). All "
                  "characteristics tested together: p = {p} (details in Methods).",
                  treatment=_arm(b, cfg, 1), control=_arm(b, cfg, 0),
                  p=Num(res.balance.omnibus_p, "p"))
    return Table("trial-balance", caption, columns, tuple(rows), b.provenance(False, None))


def effects_table_content(b: Build, res: Result) -> Table:
    cfg = res.config
    rows = []
    for r in res.effects.results:
        o = res.outcome(r.outcome)
        n = (f"{K}.effect.{r.outcome}.n",)
        s, level = _scale(o), ("share" if o.kind == "binary" else "mean")
        rows.append((
            Msg("{label} (%)", label=_label(o)) if o.kind == "binary" else _label(o),
            _better(o) or Msg("–"),
            Stat(res.treated_means[r.outcome] * s, level, n),
            Stat(r.control_mean * s, level, n),
            Stat(r.estimate * s, _units(o), n, signed=True),
            Interval(low=Stat(r.ci_low * s, _units(o), n, signed=True),
                high=Stat(r.ci_high * s, _units(o), n, signed=True)),
            Stat(r.p_value, "p", n), Count(n[0])))
    columns = (Column(Msg("Outcome (at endline)"), numeric=False),
               Column(Msg("Better"), numeric=False),
               Column(Msg("Mean (unadjusted)"), group=Msg("{arm}", arm=_arm(b, cfg, 1, "capital"))),
               Column(Msg("Mean (unadjusted)"), group=Msg("{arm}", arm=_arm(b, cfg, 0, "capital"))),
               Column(Msg("Effect (adjusted)")), Column(Msg("95 % CI")), Column(Msg("p-value")),
               Column(Msg("Households")))
    caption = Msg("Effect of the campaign on each outcome, comparing all households in {treatment} "
                  "({villages} villages in all) and {control} (yes/no answers in percentage points). "
                  "The effect takes each household's answer before the campaign and its commune "
                  "into account, so it is not the difference of the two unadjusted means beside "
                  "it. The annex gives two further checks of each p-value and one that allows for "
                  "testing {m} outcomes at once.",
                  treatment=_arm(b, cfg, 1), control=_arm(b, cfg, 0), m=len(rows),
                  villages=res.n_clusters)
    return Table("trial-effects", caption, columns, tuple(rows),
                 b.provenance(bool(cfg.published_finding), cfg.published_source))


def p_values_table_content(b: Build, res: Result) -> Table:
    adjusted = dict(zip([r.outcome for r in res.effects.results], res.effects.p_holm))
    rows = []
    for r in res.effects.results:
        o = res.outcome(r.outcome)
        n = (f"{K}.effect.{r.outcome}.n",)
        rows.append((_label(o), Stat(r.p_value, "p", n), Stat(r.p_wild, "p", n),
                     Stat(r.p_ri, "p", n), Stat(adjusted[r.outcome], "p", n),
                     Num(int(r.n_clusters))))
    columns = (Column(Msg("Outcome"), numeric=False), Column(Msg("p-value")),
               Column(Msg("p-value, re-sampling check")), Column(Msg("p-value, re-drawing check")),
               Column(Msg("p-value allowing for {m} outcomes", m=len(rows))), Column(Msg("Villages")))
    return Table("trial-p-values",
                 Msg("Each effect's uncertainty measured in three ways suited to few villages, and "
                     "the p-value once testing {m} outcomes at once is allowed for (details in "
                     "Methods).", m=len(rows)),
                 columns, tuple(rows), b.provenance(False, None))


def coefficient_chart(b: Build, res: Result) -> Chart:
    results = [(r, res.outcome(r.outcome)) for r in res.effects.results]
    stats = tuple(Stat(r.estimate * _scale(o), _units(o), (f"{K}.effect.{r.outcome}.n",))
                  for r, o in results)

    def draw(view, text, narrow):
        from evalkit.report import charts

        groups = {"binary": [], "score": []}
        for (r, o), s in zip(results, stats):
            if view.stat_shown(s.n, s):
                sc = _scale(o)
                groups[o.kind].append((r, o, r.estimate * sc, r.ci_low * sc, r.ci_high * sc))
        kinds = [k for k in ("binary", "score") if groups[k]]
        heights = [len(groups[k]) + 0.9 for k in kinds]
        fig = charts.figure(narrow, 1.2 * sum(heights) + 2.2, 0.95 * sum(heights) + 1.8)
        axes = fig.subplots(len(kinds), 1, squeeze=False,
                            gridspec_kw={"height_ratios": heights})[:, 0]
        units = {"binary": Msg("Effect (percentage points)"), "score": Msg("Effect (points on the score)")}
        size = 11 if narrow else 9
        for ax, kind in zip(axes, kinds):
            rows = groups[kind]
            y = np.arange(len(rows))[::-1]
            estimates = np.array([est for _r, _o, est, _lo, _hi in rows])
            filled = np.array([r.p_value < ALPHA for r, *_ in rows])
            ax.hlines(y, [lo for *_, lo, _hi in rows], [hi for *_, hi in rows],
                      color=charts.PALETTE["line"], linewidth=2.5)
            # detectable differences as filled dots, the others open: shape, not only colour
            ax.scatter(estimates[filled], y[filled], s=55, zorder=3, color=charts.PALETTE["line"])
            ax.scatter(estimates[~filled], y[~filled], s=55, zorder=3, facecolor="white",
                       edgecolor=charts.PALETTE["line"], linewidth=1.8)
            ax.axvline(0, color=charts.PALETTE["zero"], linewidth=1, linestyle="--")
            labels = []
            for r, o, *_ in rows:
                better = _better(o)
                name = text(_label(o))
                width = 26 if narrow else 46
                label = _wrap(name, width)
                if better is not None:
                    label += "\n(" + text(better) + ")"
                labels.append(label)
            ax.set_yticks(y, labels, fontsize=size - (1 if narrow else 0))
            ax.set_ylim(-0.7, len(rows) - 0.3)
            ax.set_xlabel(text(units[kind]), fontsize=size)
            ax.tick_params(axis="x", labelsize=size)
            for side in ("top", "right", "left"):
                ax.spines[side].set_visible(False)
        from matplotlib.lines import Line2D

        handles = [Line2D([], [], marker="o", linestyle="none", markerfacecolor=charts.PALETTE["line"],
                          markeredgecolor=charts.PALETTE["line"], label=text(Msg("detectable difference (p < 0.05)"))),
                   Line2D([], [], marker="o", linestyle="none", markerfacecolor="white",
                          markeredgecolor=charts.PALETTE["line"], label=text(Msg("no detectable difference")))]
        axes[0].legend(handles=handles, loc="lower right", fontsize=size - 1, frameon=False,
                       bbox_to_anchor=(1, 1), ncol=1 if narrow else 2)
        fig.tight_layout()
        return fig

    cfg = res.config
    return Chart("trial-effects-chart", draw,
                 alt=Msg("Chart of the campaign's effect on each outcome with 95 % confidence "
                         "intervals: {verdict}; each outcome says whether higher or lower is better.",
                         verdict=verdict(res)),
                 caption=Msg("Dots are estimates and lines 95 % confidence intervals, measured as in "
                             "the effects table (percentage points for yes/no answers, points for "
                             "the score); a line crossing the dashed zero line means no detectable "
                             "difference. Filled dot: p < 0.05; open dot: not detectable. Under each "
                             "outcome: which direction is better."),
                 provenance=b.provenance(bool(cfg.published_finding), cfg.published_source),
                 stats=stats)


def _wrap(text: str, width: int) -> str:
    words, lines, line = text.split(), [], ""
    for word in words:
        if len(line) + len(word) + 1 > width and line:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    lines.append(line)
    return "\n".join(lines)


def mde_table_content(b: Build, res: Result) -> Table:
    rows = []
    for name, mde in res.mde_sd.items():
        o = res.outcome(name)
        r = res.effect(name)
        n = (f"{K}.effect.{name}.n",)
        rows.append((_label(o), Num(res.iccs[name].icc, "ratio"), Num(res.r2[name], "ratio"),
                     Num(mde, "ratio"), _amount(mde * r.control_sd, o, n, signed=False)))
    columns = (Column(Msg("Outcome"), numeric=False),
               Column(Msg("How alike households in a village are (ICC)")),
               Column(Msg("Share explained by the baseline answer (R²)")),
               Column(Msg("Minimum detectable effect (standard deviations)")),
               Column(Msg("Minimum detectable effect")))
    return Table("trial-mde", Msg("The smallest effect the trial had an 80 % chance of detecting, "
                                  "per outcome, in standard deviations and on the outcome's own "
                                  "scale; how it is computed is in Methods."),
                 columns, tuple(rows), b.provenance(False, None))


def findings_text(b: Build, res: Result) -> list[Inline]:
    """One plain-language sentence per outcome, phrased by what the inference supports."""
    cfg = res.config
    out = []
    m = len(res.effects.results)
    for r, p_holm in zip(res.effects.results, res.effects.p_holm):
        o = res.outcome(r.outcome)
        n = (f"{K}.effect.{r.outcome}.n",)
        better = _better(o)
        tail = Msg(" ({better})", better=better) if better is not None else Msg("")
        if r.p_value < ALPHA:
            direction = Msg("higher") if r.estimate > 0 else Msg("lower")
            text = Msg("{label}: a detectable difference.{tail} Answers in {treatment} were "
                       "{direction} by {amount} ({ci}; p = {p}; re-sampling check p = {pw}; "
                       "re-drawing check p = {pr}).", label=Strong(_label(o)), tail=tail,
                       treatment=_arm(b, cfg, 1), direction=direction,
                       amount=_amount(abs(r.estimate), o, n, signed=False), ci=_ci(r, o, n),
                       p=Stat(r.p_value, "p", n), pw=Stat(r.p_wild, "p", n), pr=Stat(r.p_ri, "p", n))
            extra = (Msg("After allowing for testing {m} outcomes, p = {p}, so this difference could "
                         "be a chance finding among several tests.", m=m, p=Stat(p_holm, "p", n))
                     if p_holm >= ALPHA else
                     Msg("It remains below 5 % after allowing for testing {m} outcomes (p = {p}).",
                         m=m, p=Stat(p_holm, "p", n)))
            out.append(join([text, extra], " "))
        else:
            mde_natural = res.mde_sd[r.outcome] * r.control_sd
            out.append(Msg("{label}: no detectable difference.{tail} The difference between "
                           "{treatment} and {control} was {amount} ({ci}; p = {p}). This is not "
                           "evidence that the campaign had no effect: effects smaller than about "
                           "{mde} could have gone undetected.", label=Strong(_label(o)), tail=tail,
                           treatment=_arm(b, cfg, 1), control=_arm(b, cfg, 0),
                           amount=_amount(r.estimate, o, n), ci=_ci(r, o, n),
                           p=Stat(r.p_value, "p", n), mde=_amount(mde_natural, o, n, signed=False)))
    return out


def design_warnings(res: Result) -> list[Inline]:
    """The analyses' warnings in a committee's words, once each."""
    out: list[Inline] = []
    n = res.n_clusters
    notes = [*res.balance.warnings, *(w for r in res.effects.results for w in r.warnings)]
    if any(re.match(r"Only (\d+) clusters", w) for w in notes):
        out.append(Msg("Only {n} villages took part. With so few, the usual way of measuring "
                       "uncertainty is too optimistic, so this report uses three methods suited "
                       "to few villages (see Methods); read their p-values together.", n=n))
    if any("unequal" in w.lower() for w in notes):
        out.append(Msg("The two arms hold different numbers of villages; the methods used allow "
                       "for it."))
    return out


def findings(b: Build, res: Result) -> list[Finding]:
    cfg = res.config
    prov = b.provenance(bool(cfg.published_finding), cfg.published_source)
    first = Msg("Overall: {verdict} between {treatment} and {control}.",
                verdict=Strong(verdict(res)), treatment=_arm(b, cfg, 1), control=_arm(b, cfg, 0))
    if cfg.published_finding:
        agree = (Msg("The published study also reports “{finding}”.",
                     finding=Declared(cfg.published_finding)) if detected(res) == 0
                 else agreement(res))
        first = join([first, agree], " ")
    out = [Finding(first, prov, rank=5)]
    for r in res.effects.results:
        o = res.outcome(r.outcome)
        n = (f"{K}.effect.{r.outcome}.n",)
        word = Msg("a detectable difference") if r.p_value < ALPHA else Msg("no detectable difference")
        better = _better(o)
        out.append(Finding(Msg("{label}: {word} ({amount}; {ci}; p = {p}){better}.",
                               label=_label(o), word=Strong(word), amount=_amount(r.estimate, o, n),
                               ci=_ci(r, o, n), p=Stat(r.p_value, "p", n),
                               better=Msg("; {b}", b=better) if better is not None else Msg("")),
                           prov, rank=30, better=better))
    return out


def agreement(res: Result) -> Msg:
    if detected(res) == 0:
        return Msg("This analysis agrees: {verdict}.", verdict=verdict(res))
    return Msg("This analysis differs: it finds {verdict}; see the effects table and what the "
               "results say above.", verdict=verdict(res))


def caveats(b: Build, res: Result) -> list[Inline]:
    out = []
    a = res.attrition
    if a is not None and a.p_value < ALPHA:
        needs = tuple(f"{K}.arm{arm}.lost" for arm in (1, 0))
        out.append(Msg("The two arms lost different shares of households between the surveys "
                       "({pt} % and {pc} %; p = {p}), so the effects could be biased.",
                       pt=Share(f"{K}.arm1.lost", f"{K}.arm1.baseline"),
                       pc=Share(f"{K}.arm0.lost", f"{K}.arm0.baseline"),
                       p=Stat(a.p_value, "p", (f"{K}.baseline",), needs=needs)))
    if res.n_clusters < 50:
        out.append(Msg("Only {n} villages were compared: uncertainty is large and is measured "
                       "with methods suited to few villages.", n=res.n_clusters))
    return out


def build(b: Build, cfg: Config, res: Result) -> Section:
    register(b, res)
    blocks = [*design_text(b, res), attrition_table_content(b, res)]
    lost = attrition_sentence(b, res)
    if lost is not None:
        blocks.append(Para(lost))
    blocks += [Note(w, kind="info") for w in design_warnings(res)]
    blocks += [Heading(3, Msg("Effects of the campaign")), effects_table_content(b, res),
               coefficient_chart(b, res),
               Heading(3, Msg("What the results say")), Bullets(tuple(findings_text(b, res))),
               Para(Msg("{label} With {n} villages, about {size} households per village at endline "
                        "and the similarity of households within villages seen at baseline, the "
                        "trial could detect effects of about {mde} standard deviations with 80 % "
                        "power at the 5 % level (the annex gives the figure for every outcome). "
                        "Smaller effects could exist and go undetected.",
                        label=Strong(Msg("What the trial could detect.")), n=res.n_clusters,
                        size=Num(res.cluster_size, "int"),
                        mde=Strong(Num(res.mde_sd[cfg.outcomes[0].name], "ratio"))))]
    if cfg.published_finding:
        blocks.append(Para(Msg("{label} {source} reports “{finding}”. {agreement}",
                               label=Strong(Msg("Published finding.")),
                               source=b.declared(cfg.published_source, markdown=True)
                               if cfg.published_source else Msg("The study"),
                               finding=Declared(cfg.published_finding), agreement=agreement(res))))
    annex = (Heading(3, Msg("Village trial: how sure each effect is")),
             p_values_table_content(b, res),
             Heading(3, Msg("Village trial: were the two groups of villages alike at the start?")),
             balance_table_content(b, res),
             Heading(3, Msg("Village trial: what the trial could detect")), mde_table_content(b, res))
    methods = (
        Msg("Village trial estimator. {estimator}: endline outcome regressed on assignment, the "
            "household's baseline outcome and commune (stratum) effects, by least squares; "
            "households without a baseline interview are not used.",
            estimator=Msg(ESTIMATORS[cfg.estimator])),
        Msg("Village trial inference. CR2 (Bell–McCaffrey) standard errors clustered by village "
            "with Imbens–Kolesár degrees of freedom for p-values and 95 % CIs; wild cluster "
            "restricted bootstrap ({wild} draws, Rademacher weights; Webb weights below 12 "
            "clusters) on the CR1 t statistic; randomisation inference ({ri} re-draws of the "
            "assignment within communes, or all assignments if fewer) on the same studentised "
            "statistic; Holm and Benjamini–Hochberg adjustment across outcomes. Balance: "
            "iebaltab-style table; joint test by randomisation inference on the sum of squared t "
            "statistics. Power: design effect 1 + ((1 + CV²) m − 1) ICC, t with G − 2 df, ICC by "
            "one-way ANOVA on baseline data.", wild=Num(cfg.wild_reps), ri=Num(cfg.ri_reps)),
        Msg("Attrition. Whether a household surveyed at baseline was found at endline, regressed "
            "on assignment with commune effects and tested as the effects are; for each baseline "
            "characteristic, a treatment × lost interaction (CR1, t with G − 1 df) tests whether "
            "those lost differ by arm."),
        Msg("Reproducibility. The re-sampling and re-drawing checks use the starting number "
            "{seed} for their random draws, so running the report again gives the same p-values.",
            seed=Num(cfg.seed, "year")),
    )
    return Section(
        anchor="trial", title=Msg("Village campaign trial"), blocks=tuple(blocks),
        findings=tuple(findings(b, res)),
        evidence=(Msg("The village trial compares villages chosen at random, so its results "
                      "speak to the campaign's effect."),),
        caveats=tuple(caveats(b, res)), annex=annex, methods=methods, glossary=("trial",),
        question=Msg("Did households in the villages that received the campaign answer "
                     "differently afterwards from households in the villages that did not?"))


def headline(b: Build, res: Result) -> Inline:
    text = Msg("village trial: {verdict}", verdict=verdict(res))
    if res.config.published_finding and detected(res) == 0:
        return Msg("{text}, as the published study found", text=text)
    return text
