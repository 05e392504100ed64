"""The "Village campaign trial" section (configured under ``trial:``): design, balance,
effects, power and findings.

All numbers come from :mod:`evalkit.designs`; this module reshapes, labels and phrases.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure
from pandas.io.formats.style import Styler

from evalkit.config import ProgrammeConfig, TrialConfig, TrialOutcome
from evalkit.designs import (AttritionTest, BalanceTable, DesignWarning, EffectResult, EffectsTable,
                             ICCResult, attrition_test,
                             balance_table, cluster_mde, compare_outcomes, icc)
from evalkit.designs.panel import PairedRounds, pair_rounds
from evalkit.report import display
from evalkit.report.disclosure import SUPPRESSED, Disclosure
from evalkit.data.programme import ProgrammeData

ALPHA = 0.05
SUMMARY = "Village campaign trial"
SUMMARY_NOTE = None


@dataclass(frozen=True, eq=False)
class TrialAnalysis:
    config: TrialConfig
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

    def effect(self, outcome: str) -> EffectResult:
        return next(r for r in self.effects.results if r.outcome == outcome)

    def outcome(self, name: str) -> TrialOutcome:
        return next(o for o in self.config.outcomes if o.name == name)


def configs(config: ProgrammeConfig) -> tuple[TrialConfig, ...]:
    return (config.trial,) if config.trial is not None else ()


def compute(data: ProgrammeData, cfg: TrialConfig) -> TrialAnalysis:
    return analyse(data)


def analyse(data: ProgrammeData) -> TrialAnalysis:
    """Balance at baseline, ITT effects on every outcome, ICCs and minimum detectable effects."""
    cfg = data.config.trial
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
            __found=lambda f: f[cfg.unit].isin(found).astype(int))
        lost_any = units["__found"].eq(0).any()
        attrition = (attrition_test(units, cfg.treatment, cfg.cluster, "__found", strata=cfg.strata,
                                    baseline=[*cfg.balance], wild_reps=cfg.wild_reps,
                                    ri_reps=cfg.ri_reps, seed=cfg.seed) if lost_any else None)
    endline = paired.wide
    sizes = endline.groupby(cfg.cluster).size()
    n_clusters = int(sizes.size)
    share = float(endline.groupby(cfg.cluster)[cfg.treatment].first().mean())
    iccs, mde, r2 = {}, {}, {}
    for name in outcomes:
        iccs[name] = icc(baseline, name, cfg.cluster)
        both = endline[[name, f"{name}_before"]].dropna()
        r2[name] = float(np.corrcoef(both[name], both[f"{name}_before"])[0, 1] ** 2) \
            if cfg.estimator == "ancova" else 0.0
        mde[name] = cluster_mde(n_clusters, float(sizes.mean()), iccs[name].icc, r2=r2[name],
                                treat_share=share, cv_cluster_size=float(sizes.std(ddof=0) / sizes.mean()))
    return TrialAnalysis(config=cfg, paired=paired, baseline=baseline, balance=balance,
                         effects=effects, iccs=iccs, mde_sd=mde, r2=r2,
                         cluster_size=float(sizes.mean()), n_clusters=n_clusters,
                         attrition=attrition)


# --------------------------------------------------------------------------- words


def _scale(outcome: TrialOutcome) -> float:
    return 100.0 if outcome.kind == "binary" else 1.0


def _number(value: float, outcome: TrialOutcome) -> str:
    return f"{value * 100:+.1f}" if outcome.kind == "binary" else f"{value:+.2f}"


def _ci(result: EffectResult, outcome: TrialOutcome) -> str:
    unit = " percentage points" if outcome.kind == "binary" else " points"
    return f"95 % CI {_number(result.ci_low, outcome)} to {_number(result.ci_high, outcome)}{unit}"


def _amount(value: float, outcome: TrialOutcome, signed: bool = True) -> str:
    if outcome.kind == "binary":
        return f"{value * 100:+.1f} percentage points" if signed else f"{value * 100:.1f} percentage points"
    return f"{value:+.2f} points" if signed else f"{value:.2f} points"


def _p(p: float) -> str:
    return display.p_value(p, missing="not available")


ATTRITION = "Households by arm"


def _arms(analysis: TrialAnalysis) -> list[tuple[str, int, int, int]]:
    """(arm label, villages, households at baseline, re-interviewed) per arm."""
    cfg = analysis.config
    wide = analysis.paired.wide
    base = analysis.baseline
    out = []
    for arm, label in ((1.0, cfg.treatment_label), (0.0, cfg.control_label)):
        b = base[base[cfg.treatment] == arm]
        e = wide[(wide[cfg.treatment] == arm) & wide[f"{cfg.outcomes[0].name}_before"].notna()]
        out.append((label, int(b[cfg.cluster].nunique()), len(b), len(e)))
    return out


def _attrition_shown(analysis: TrialAnalysis, dc: Disclosure) -> tuple[list, bool]:
    """Per arm, households re-interviewed and not found as they may be shown; when fewer
    than min_cell households were lost in an arm, the baseline totals (which would give the
    number away) are hidden everywhere, the re-interviewed households kept."""
    shown, hidden = [], False
    for label, villages, at_base, again in _arms(analysis):
        part = dc.partition(ATTRITION, {"re-interviewed": again, "not found": at_base - again},
                            total=at_base, protect={"re-interviewed"}, row=label)
        hidden |= part.total is None
        shown.append((label, villages, part))
    return shown, hidden


def attrition_sentence(analysis: TrialAnalysis, dc: Disclosure) -> str | None:
    """Whether the arms lost different shares of households, and whether those lost differ
    from those kept differently by arm (None when nobody was lost, or when the numbers lost
    are suppressed)."""
    a = analysis.attrition
    if a is None or _attrition_shown(analysis, dc)[1]:
        return None
    cfg = analysis.config
    text = (f"**Were households lost equally in both arms?** {display.share(100 * a.lost_treatment)} % "
            f"of the households in {cfg.treatment_label} and {display.share(100 * a.lost_control)} % in "
            f"{cfg.control_label} were not found at endline: a difference of "
            f"{100 * a.difference:+.1f} percentage points (95 % CI {100 * a.effect.ci_low:+.1f} to "
            f"{100 * a.effect.ci_high:+.1f}; p = {_p(a.p_value)}). ")
    if a.p_value < ALPHA:
        text += ("The two arms lost different shares of households, so the effects below could "
                 "be biased if those lost differ from those found; read them with this in mind. ")
    else:
        text += "The arms lost similar shares of households. "
    if a.selective and all(np.isfinite(list(a.selective.values()))):
        labels = {**cfg.balance_labels}
        differ = [labels.get(k, k).lower() for k, p in a.selective.items() if p < ALPHA]
        text += ("Those lost differed from those found in different ways in the two arms on "
                 + ", ".join(differ) + "." if differ else
                 "Those lost did not differ from those found differently by arm on any of the "
                 "baseline characteristics in the balance table.")
    return text


def design_summary(analysis: TrialAnalysis, dc: Disclosure) -> str:
    cfg = analysis.config
    base = analysis.baseline
    z = base.groupby(cfg.cluster)[cfg.treatment].first()
    paired = analysis.paired
    lost = paired.only_before
    strata_text = (f" within each {cfg.strata}" if cfg.strata else "")
    _, hidden = _attrition_shown(analysis, dc)
    whole = dc.partition(ATTRITION, {"found": paired.units_before - lost, "not found": lost},
                         total=paired.units_before, protect={"found"}, row="all households")
    if hidden or whole.total is None:
        surveyed = ("Households were surveyed before the campaign and again afterwards; fewer "
                    f"than {dc.min_cell} households in an arm were not found again, so the "
                    "number surveyed at baseline is not shown.")
    else:
        surveyed = (f"Households were surveyed before the campaign ({whole.total:,} households) "
                    f"and again afterwards ({dc.count(paired.units_after, ATTRITION, 'endline')}); "
                    f"{whole.text('not found')} households surveyed at baseline were not found "
                    f"again ({whole.percent['not found']:.0f} %).")
    lines = [
        f"**Design.** {int(z.sum())} of {len(z)} villages were chosen at random{strata_text} to "
        f"receive the campaign (the {cfg.treatment_label}); the other {int(len(z) - z.sum())} are "
        f"the {cfg.control_label}. " + surveyed,
        "",
        "**Analysis.** Each estimate is the difference between households in "
        f"{cfg.treatment_label} and in {cfg.control_label} at endline, "
        + ("taking into account the household's own answer before the campaign"
           if cfg.estimator == "ancova" else
           "in their change since baseline (difference in differences)"
           if cfg.estimator == "did" else "without baseline adjustment")
        + f"{' and for the ' + cfg.strata + ' in which villages were randomised' if cfg.strata else ''}. "
        "It measures the effect of *being in a campaign village* (intention to treat), whether "
        "or not a household remembers the campaign. Because villages, not households, were "
        "randomised, uncertainty is computed at village level, in three ways that suit a small "
        "number of villages (see Methods and the Glossary); the three agree here.",
    ]
    return "\n".join(lines)


def attrition_table(analysis: TrialAnalysis, dc: Disclosure) -> pd.DataFrame:
    shown, hidden = _attrition_shown(analysis, dc)
    rows = []
    for label, villages, part in shown:
        rows.append({
            "Arm": label.capitalize(),
            "Villages": villages,
            "Households at baseline": SUPPRESSED if hidden else f"{part.total:,}",
            "Re-interviewed at endline": part.text("re-interviewed"),
            "Not found at endline (%)": (display.share(part.percent['not found'])
                                         if part.shown("not found") and not hidden else SUPPRESSED),
        })
    return pd.DataFrame(rows)


def attrition_styler(analysis: TrialAnalysis, dc: Disclosure) -> Styler:
    return (attrition_table(analysis, dc).style.hide(axis="index")
            .set_caption("Villages and households by arm. Households not found at endline cannot "
                         "enter the effect estimates; similar shares in both arms make bias from "
                         "their loss less likely."))


def balance_frame(analysis: TrialAnalysis, dc: Disclosure | None = None) -> pd.DataFrame:
    cfg = analysis.config
    table = analysis.balance.to_frame()
    # the baseline households per arm would give away a few households lost at endline
    hidden = dc is not None and _attrition_shown(analysis, dc)[1]
    labels = {**cfg.balance_labels, **{o.name: f"{o.label} (baseline)" for o in cfg.outcomes}}
    binary = {o.name for o in cfg.outcomes if o.kind == "binary"} | {
        v for v in cfg.balance if set(analysis.baseline[v].dropna().unique()) <= {0.0, 1.0}}
    scale = np.array([100.0 if v in binary else 1.0 for v in table["variable"]])
    return pd.DataFrame({
        "Characteristic (at baseline)": [labels.get(v, v) + (" (%)" if v in binary else "")
                                         for v in table["variable"]],
        f"{cfg.treatment_label.capitalize()}: mean": table["mean_treatment"] * scale,
        "(SD)": table["sd_treatment"] * scale,
        f"{cfg.control_label.capitalize()}: mean": table["mean_control"] * scale,
        "(SD) ": table["sd_control"] * scale,
        "Difference": table["difference"] * scale,
        "Normalised difference": table["normalised_difference"],
        "p-value": table["p_value"],
        "Households (T / C)": [SUPPRESSED if hidden else f"{a:,} / {b:,}"
                               for a, b in zip(table["n_treatment"], table["n_control"])],
        "Villages (T / C)": [f"{a} / {b}" for a, b in zip(table["clusters_treatment"], table["clusters_control"])],
    })


def balance_styler(analysis: TrialAnalysis, dc: Disclosure) -> Styler:
    frame = balance_frame(analysis, dc)
    bal = analysis.balance
    numeric = [c for c in frame.columns[1:7]]
    return (frame.style.hide(axis="index")
            .format("{:.2f}", subset=numeric)
            .format(_p, subset=["p-value"])
            .set_caption(
                "Balance at baseline. Difference = campaign − comparison villages; the normalised "
                "difference puts it in standard deviations (beyond ±0.25 deserves attention). "
                "All characteristics tested together: "
                f"p = {_p(bal.omnibus_p)} (details in Methods)."))


def effects_frame(analysis: TrialAnalysis) -> pd.DataFrame:
    rows = []
    adjusted = dict(zip([r.outcome for r in analysis.effects.results], analysis.effects.p_holm))
    for r in analysis.effects.results:
        o = analysis.outcome(r.outcome)
        s = _scale(o)
        treated_mean = analysis.paired.wide.loc[analysis.paired.wide[analysis.config.treatment] == 1, r.outcome].mean()
        digits = 1 if o.kind == "binary" else 2  # as in the key findings' wording
        rows.append({
            "Outcome (at endline)": o.label + (" (%)" if o.kind == "binary" else ""),
            "Campaign villages: mean (unadjusted)": f"{treated_mean * s:.{digits}f}",
            "Comparison villages: mean (unadjusted)": f"{r.control_mean * s:.{digits}f}",
            "Effect (adjusted)": f"{r.estimate * s:+.{digits}f}",
            "95 % CI": f"{r.ci_low * s:+.1f} to {r.ci_high * s:+.1f}" if o.kind == "binary"
            else f"{r.ci_low * s:+.2f} to {r.ci_high * s:+.2f}",
            "p-value": r.p_value,
            "p-value, re-sampling check": r.p_wild,
            "p-value, re-drawing check": r.p_ri,
            f"p-value allowing for {len(analysis.effects.results)} outcomes": adjusted[r.outcome],
            "Households": r.n_obs,
            "Villages": r.n_clusters,
        })
    return pd.DataFrame(rows)


def effects_styler(analysis: TrialAnalysis) -> Styler:
    frame = effects_frame(analysis)
    pcols = [c for c in frame.columns if c.startswith("p-value")]
    return (frame.style.hide(axis="index")
            .format(_p, subset=pcols)
            .set_caption(
                "Effect of the campaign on each outcome, comparing all households in campaign "
                "and comparison villages (yes/no answers in percentage points). The effect takes "
                "each household's answer before the campaign and its commune into account, so it "
                "is not the difference of the two unadjusted means beside it. The three p-values "
                "measure uncertainty in three ways suited to few villages; the last allows for "
                f"testing {len(frame)} outcomes at once (details in Methods)."))


def coefficient_chart(analysis: TrialAnalysis) -> Figure:
    """Effects with 95 % CIs in the table's units: one panel for binary outcomes (percentage
    points) and one for scores (points). A detectable difference is a filled dot, the others
    open dots (shape, not only colour)."""
    groups = {"binary": [], "score": []}
    for r in analysis.effects.results:
        o = analysis.outcome(r.outcome)
        s = _scale(o)
        groups[o.kind].append((o.label, r.estimate * s, r.ci_low * s, r.ci_high * s, r.p_value))
    kinds = [k for k in ("binary", "score") if groups[k]]
    heights = [len(groups[k]) + 0.8 for k in kinds]
    fig = Figure(figsize=(8, 0.9 * sum(heights) + 1.6), dpi=100)
    axes = fig.subplots(len(kinds), 1, squeeze=False, gridspec_kw={"height_ratios": heights})[:, 0]
    units = {"binary": "Effect (percentage points)", "score": "Effect (points on the score)"}
    for ax, kind in zip(axes, kinds):
        frame = pd.DataFrame(groups[kind], columns=["label", "est", "lo", "hi", "p"])
        y = np.arange(len(frame))[::-1]
        detected = frame["p"] < ALPHA
        ax.hlines(y, frame["lo"], frame["hi"], color="#1f5f8b", linewidth=2.5)
        ax.scatter(frame["est"][detected], y[detected.to_numpy()], color="#1f5f8b", zorder=3, s=50,
                   label="detectable difference (p < 0.05)")
        ax.scatter(frame["est"][~detected], y[~detected.to_numpy()], facecolor="white",
                   edgecolor="#1f5f8b", linewidth=1.8, zorder=3, s=50, label="no detectable difference")
        ax.axvline(0, color="#333333", linewidth=1, linestyle="--")
        ax.set_yticks(y, [_wrap(label, 42) for label in frame["label"]], fontsize=9)
        ax.set_ylim(-0.6, len(frame) - 0.4)
        ax.set_xlabel(units[kind])
        sns.despine(ax=ax, left=True)
    axes[0].legend(loc="lower right", fontsize=8, frameon=False, bbox_to_anchor=(1, 1))
    n = analysis.effects.results[0]
    fig.suptitle(f"Effects of the campaign with 95 % confidence intervals "
                 f"(n = {n.n_obs:,} households in {n.n_clusters} villages)", fontsize=11,
                 x=0.02, ha="left")
    fig.tight_layout()
    return fig


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


def mde_statement(analysis: TrialAnalysis) -> str:
    cfg = analysis.config
    first = cfg.outcomes[0].name
    return (f"**What the trial could detect.** With {analysis.n_clusters} villages, about "
            f"{analysis.cluster_size:.0f} households per village at endline and the village-level "
            f"similarity of households within villages seen at baseline ({analysis.iccs[first].icc:.2f} for "
            f"“{analysis.outcome(first).label.lower()}”), the trial could detect effects of about "
            f"**{analysis.mde_sd[first]:.2f} standard deviations** with 80 % power at the 5 % "
            "level. Smaller effects could exist and go undetected. The table gives the figure "
            "for every outcome.")


def findings(analysis: TrialAnalysis) -> list[str]:
    """One plain-language sentence per outcome, phrased by what the inference supports."""
    cfg = analysis.config
    out = []
    m = len(analysis.effects.results)
    for r, p_holm in zip(analysis.effects.results, analysis.effects.p_holm):
        o = analysis.outcome(r.outcome)
        mde_natural = analysis.mde_sd[r.outcome] * r.control_sd
        ci = _ci(r, o)
        if r.p_value < ALPHA:
            direction = "higher" if r.estimate > 0 else "lower"
            text = (f"**{o.label}: a detectable difference.** Answers in {cfg.treatment_label} were "
                    f"{direction} by {_amount(abs(r.estimate), o, signed=False)} ({ci}; p = "
                    f"{_p(r.p_value)}; wild bootstrap p = {_p(r.p_wild)}; randomisation p = "
                    f"{_p(r.p_ri)}).")
            if p_holm >= ALPHA:
                text += (f" After allowing for testing {m} outcomes, p = {_p(p_holm)}, so "
                         "this difference could be a chance finding among several tests.")
            else:
                text += f" It remains below 5 % after allowing for testing {m} outcomes (p = {_p(p_holm)})."
        else:
            text = (f"**{o.label}: no detectable difference.** The difference between "
                    f"{cfg.treatment_label} and {cfg.control_label} was {_amount(r.estimate, o)} "
                    f"({ci}; p = {_p(r.p_value)}). This is not evidence that the campaign had no "
                    f"effect: effects smaller than about {_amount(mde_natural, o, signed=False)} "
                    "could have gone undetected.")
        out.append(text)
    return out


def headlines(data: ProgrammeData, cfg: TrialConfig, analysis: TrialAnalysis, dc: Disclosure) -> list[str]:
    """One short line per outcome for the report's key findings, after the overall verdict
    (and whether it agrees with the published finding)."""
    first = f"Overall: **{verdict(analysis)}** between {cfg.treatment_label} and {cfg.control_label}."
    if cfg.published_finding:
        first += (f" The published study also reports “{cfg.published_finding}”."
                  if detected(analysis) == 0 else f" {agreement(analysis)}")
    out = [first]
    for r in analysis.effects.results:
        o = analysis.outcome(r.outcome)
        word = ("a detectable difference" if r.p_value < ALPHA else "no detectable difference")
        out.append(f"{o.label}: **{word}** ({_amount(r.estimate, o)}; {_ci(r, o)}; "
                   f"p = {_p(r.p_value)}).")
    return out


def mde_frame(analysis: TrialAnalysis) -> pd.DataFrame:
    rows = []
    for name, mde in analysis.mde_sd.items():
        o = analysis.outcome(name)
        r = analysis.effect(name)
        rows.append({"Outcome": o.label,
                     "How alike households in a village are (ICC)": analysis.iccs[name].icc,
                     "Share explained by the baseline answer (R²)": analysis.r2[name],
                     "Minimum detectable effect (standard deviations)": mde,
                     "Minimum detectable effect": _amount(mde * r.control_sd, o, signed=False)})
    return pd.DataFrame(rows)


def mde_styler(analysis: TrialAnalysis) -> Styler:
    return (mde_frame(analysis).style.hide(axis="index")
            .format("{:.2f}", subset=["How alike households in a village are (ICC)",
                                      "Share explained by the baseline answer (R²)",
                                      "Minimum detectable effect (standard deviations)"])
            .set_caption("The smallest effect the trial had an 80 % chance of detecting, per "
                         "outcome, in standard deviations and in the outcome's own units; how "
                         "it is computed is in Methods."))


def published_note(analysis: TrialAnalysis) -> str | None:
    cfg = analysis.config
    if not cfg.published_finding:
        return None
    return (f"**Published finding.** {cfg.published_source or 'The study'} reports "
            f"“{cfg.published_finding}”. {agreement(analysis)}")


def detected(analysis: TrialAnalysis) -> int:
    """The number of outcomes with a detectable difference (CR2 p < 0.05)."""
    return sum(r.p_value < ALPHA for r in analysis.effects.results)


def verdict(analysis: TrialAnalysis) -> str:
    """The trial's result in a few words, for the index and the key findings."""
    m, k = len(analysis.effects.results), detected(analysis)
    if k == 0:
        return f"no detectable difference on any of the {m} outcomes"
    return f"a detectable difference on {k} of {m} outcomes"


def agreement(analysis: TrialAnalysis) -> str:
    """Whether this analysis agrees with the study's published finding (which reports no
    significant difference when it names one)."""
    if detected(analysis) == 0:
        return "This analysis agrees: " + verdict(analysis) + "."
    return ("This analysis differs: it finds " + verdict(analysis) + "; see the effects table "
            "and what the results say above.")


def design_warnings(analysis: TrialAnalysis) -> list[str]:
    """The analyses' warnings, once each, with "clusters" named as what they are: villages."""
    seen: list[str] = []
    for note in [*analysis.balance.warnings, *(w for r in analysis.effects.results for w in r.warnings)]:
        note = note.replace(" clusters", " villages").replace(" cluster ", " village ")
        few = re.match(r"Only (\d+) villages: ordinary clustered standard errors", note)
        if few:  # the same warning in a committee's words (the methods are in Methods)
            note = (f"Only {few.group(1)} villages took part. With so few, the usual way of "
                    "measuring uncertainty is too optimistic, so this report uses three methods "
                    "suited to few villages (see Methods); read their p-values together.")
        if note not in seen:
            seen.append(note)
    return seen


def render(data: ProgrammeData, cfg: TrialConfig, a: TrialAnalysis, dc: Disclosure) -> list:
    out = [display.markdown("## Village campaign trial"),
           display.markdown(design_summary(a, dc)),
           display.table(attrition_styler(a, dc))]
    lost = attrition_sentence(a, dc)
    if lost:
        out.append(display.markdown(lost))
    for note in design_warnings(a):
        out.append(display.note(note, kind="info"))
    out += [
        display.markdown("### Were the two groups of villages alike at the start?"),
        display.table(balance_styler(a, dc)),
        display.markdown("### Effects of the campaign"),
        display.table(effects_styler(a)),
        display.figure(
            coefficient_chart(a),
            alt="Effects of the campaign on each outcome with 95 % confidence intervals",
            caption="Dots are estimates and lines 95 % confidence intervals, in the units of "
                    "the effects table (percentage points for yes/no answers, points for the "
                    "score); a line crossing the dashed zero line means no detectable "
                    "difference. Filled dot: p < 0.05; open dot: not detectable."),
        display.markdown("### What the results say"),
        display.markdown("\n".join(f"- {f}" for f in findings(a))),
        display.markdown(mde_statement(a)),
        display.table(mde_styler(a)),
    ]
    published = published_note(a)
    if published:
        out.append(display.markdown(published))
    return out
