"""The CSI section of a programme report (configured under ``csi:``): words, tables and
charts built from results.

Nothing here computes statistics beyond what :mod:`evalkit.indices.csi` returns; it only
labels, suppresses small cells, formats and phrases.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure
from pandas.io.formats.style import Styler

from evalkit.config import CSIConfig, ProgrammeConfig
from evalkit.data.programme import ProgrammeData
from evalkit.indices import csi
from evalkit.report import display
from evalkit.report.privacy import suppress_small
from evalkit.report.sections.common import round_label

SUMMARY = "Children's status (Child Status Index)"
SUMMARY_NOTE = csi.DESCRIPTIVE_CAVEAT

RELATIVE_CHANGE_DEFINITION = (
    "“% improvement” is read as the relative change of the mean score: (mean score at the "
    "second assessment − mean score at the first) ÷ mean score at the first, × 100, over the "
    "children rated on that factor at both assessments."
)


def configs(config: ProgrammeConfig) -> tuple[CSIConfig, ...]:
    return (config.csi,) if config.csi is not None else ()


def change(data: ProgrammeData) -> csi.CSIChange:
    """CSI change between the configured rounds (default: first and last)."""
    cfg = data.config.csi
    return csi.change(data.csi, child="child", round="round", before=cfg.before, after=cfg.after)


def compute(data: ProgrammeData, cfg: CSIConfig) -> csi.CSIChange:
    return change(data)


def _pct(value: float) -> str:
    return "–" if pd.isna(value) else f"{value:.0f} %"


def _count(n: int, min_cell: int) -> str:
    return f"fewer than {min_cell}" if 0 < n < min_cell else f"{n:,}"


def rounds_overview(data: ProgrammeData) -> pd.DataFrame:
    """Children assessed per round and the months in which the assessments took place."""
    frame = data.csi
    grouped = frame.groupby("round", sort=True)
    out = pd.DataFrame({"Children assessed": grouped["child"].nunique()})
    if "date" in frame:
        out["First assessment"] = grouped["date"].min().dt.strftime("%b %Y")
        out["Last assessment"] = grouped["date"].max().dt.strftime("%b %Y")
    out.index = [round_label(data, r) for r in out.index]
    out.index.name = "Assessment round"
    return out.reset_index()


def overview_styler(data: ProgrammeData) -> Styler:
    table = rounds_overview(data)
    min_cell = data.config.min_cell
    return (table.style.hide(axis="index")
            .format({"Children assessed": lambda n: _count(int(n), min_cell)})
            .set_caption(f"CSI assessments by round (n = {data.csi['child'].nunique():,} children)"))


def reassessment_sentence(data: ProgrammeData, result: csi.CSIChange) -> str:
    before, after = round_label(data, result.before), round_label(data, result.after)
    min_cell = data.config.min_cell
    text = (f"{_count(result.children_before, min_cell)} children were assessed at "
            f"**{before}** and {_count(result.children_after, min_cell)} at **{after}**; "
            f"**{_count(result.children_paired, min_cell)}** were assessed at both and form the "
            "basis of the change figures. ")
    if result.only_before:
        text += (f"{_count(result.only_before, min_cell)} children assessed at {before} were not "
                 f"reassessed at {after} (case closed, moved, or not yet due); they are counted "
                 "here and left out of the change figures, not silently dropped. ")
    if result.only_after:
        text += (f"{_count(result.only_after, min_cell)} children were assessed at {after} "
                 f"without a {before} assessment and are likewise left out of the change figures.")
    return text


CHANGE_TABLE_LABELS = {
    "name": "Factor / domain",
    "children_paired": "Children (n)",
    "mean_before": "Mean before",
    "mean_after": "Mean after",
    "mean_change": "Mean change",
    "relative_change_pct": "Relative change of mean (%)",
    "improved_pct": "Improved (%)",
    "unchanged_pct": "Unchanged (%)",
    "worse_pct": "Worse (%)",
    "flagged_before_pct": "Needing services before (%)",
    "flagged_after_pct": "Needing services after (%)",
}


def change_table(data: ProgrammeData, result: csi.CSIChange) -> pd.DataFrame:
    """Per-factor, per-domain and total change, small cells suppressed, reader labels."""
    table = result.to_frame()
    stats = [c for c in CHANGE_TABLE_LABELS if c not in ("name", "children_paired")]
    table = suppress_small(table, "children_paired", data.config.min_cell, stats)
    table["name"] = np.where(table["level"] == "factor",
                             table["code"] + " " + table["name"],
                             np.where(table["level"] == "domain", "Domain: " + table["name"],
                                      table["name"]))
    return table[list(CHANGE_TABLE_LABELS)].rename(columns=CHANGE_TABLE_LABELS)


def change_styler(data: ProgrammeData, result: csi.CSIChange) -> Styler:
    table = change_table(data, result)
    before, after = round_label(data, result.before), round_label(data, result.after)
    two = {c: "{:.2f}" for c in ("Mean before", "Mean after")}
    signed = {"Mean change": "{:+.2f}", "Relative change of mean (%)": "{:+.1f}"}
    pct = {c: "{:.0f}" for c in table.columns if c.endswith("(%)") and c not in signed}
    na = f"fewer than {data.config.min_cell} children"
    return (table.style.hide(axis="index")
            .format({**two, **signed, **pct}, na_rep="–")
            .format("{:.0f}", subset=["Children (n)"], na_rep=na)
            .set_caption(f"CSI change from {before} to {after}, per factor, domain and total "
                         f"(children assessed at both: n = {result.children_paired:,}; a factor "
                         "counts only where rated at both assessments). Scores: 4 good, 3 fair, "
                         "2 bad, 1 very bad; 'needing services' = score 1 or 2 (for a domain or "
                         "the total: on any of its factors).")
            .set_table_attributes('class="evalkit-table"'))


def published_comparison(data: ProgrammeData, result: csi.CSIChange) -> pd.DataFrame | None:
    """The study's published '% improvement' beside both readings of it in this data."""
    published = data.config.csi.published_improvement
    if not published:
        return None
    ours = result.improvement("relative_change")
    share = result.improvement("share_improved")
    names = list(published)
    codes = [csi.factor_code(n) for n in names]
    paired = result.to_frame().set_index("code").loc[codes, "children_paired"].to_numpy()
    return pd.DataFrame({
        "Factor (as published)": names,
        "Published % improvement": [float(published[n]) for n in names],
        "This data: relative change of mean (%)": [ours[csi.SEED_NAMES[c]] for c in codes],
        "This data: children improved (%)": [share[csi.SEED_NAMES[c]] for c in codes],
        "Children (n)": paired,
    })


def published_styler(data: ProgrammeData, result: csi.CSIChange) -> Styler | None:
    table = published_comparison(data, result)
    if table is None:
        return None
    source = data.config.csi.published_source or "the published study"
    return (table.style.hide(axis="index")
            .format({"Published % improvement": "{:.0f}",
                     "This data: relative change of mean (%)": "{:.1f}",
                     "This data: children improved (%)": "{:.1f}",
                     "Children (n)": "{:.0f}"})
            .set_caption(f"Published figures ({source}) beside this data under both readings "
                         f"of '% improvement' (n = {result.children_paired} children)."))


def change_chart(data: ProgrammeData, result: csi.CSIChange) -> Figure:
    """Mean score before vs after by factor (seaborn), n in the title."""
    table = result.to_frame()
    factors = table[table["level"] == "factor"]
    factors = factors[factors["children_paired"] >= data.config.min_cell]
    before, after = round_label(data, result.before), round_label(data, result.after)
    long = pd.concat([
        pd.DataFrame({"Factor": factors["code"] + " " + factors["name"], "Assessment": before,
                      "Mean score": factors["mean_before"]}),
        pd.DataFrame({"Factor": factors["code"] + " " + factors["name"], "Assessment": after,
                      "Mean score": factors["mean_after"]}),
    ], ignore_index=True)
    fig = Figure(figsize=(8, 6.2), dpi=100)
    ax = fig.subplots()
    sns.barplot(data=long, y="Factor", x="Mean score", hue="Assessment", orient="h", ax=ax,
                palette=["#9db4c0", "#1f5f8b"])
    ax.set_xlim(1, 4)
    ax.set_xticks([1, 2, 3, 4], ["1 very bad", "2 bad", "3 fair", "4 good"])
    ax.set_xlabel("Mean CSI score (children rated at both assessments)")
    ax.set_ylabel("")
    ax.set_title(f"Mean CSI score by factor: {before} vs {after}\n"
                 f"n = {result.children_paired} children assessed at both", fontsize=11)
    ax.legend(title=None, loc="lower right", frameon=True)
    sns.despine(ax=ax)
    fig.tight_layout()
    return fig


def flagged_table(data: ProgrammeData) -> pd.DataFrame:
    """Share needing services by round (any factor, and per domain), small rounds suppressed."""
    by_round = csi.flagged_by_round(data.csi, round="round")
    out = pd.DataFrame({
        "Assessment round": [round_label(data, r) for r in by_round["round"]],
        "Children (n)": by_round["children"],
        "Needing services on any factor (%)": by_round["any_flagged_pct"],
        "Mean number of factors needing services": by_round["mean_flagged"],
    })
    for code in csi.FACTORS:
        out[f"{code} {csi.LABELS[code]} (%)"] = by_round[f"{code}_flagged_pct"]
    stats = [c for c in out.columns if c not in ("Assessment round", "Children (n)")]
    return suppress_small(out, "Children (n)", data.config.min_cell, stats)


def flagged_styler(data: ProgrammeData) -> Styler:
    table = flagged_table(data)
    headline = table.iloc[:, :4]
    na = f"fewer than {data.config.min_cell} children"
    return (headline.style.hide(axis="index")
            .format({"Needing services on any factor (%)": "{:.0f}",
                     "Mean number of factors needing services": "{:.1f}"}, na_rep="–")
            .format("{:.0f}", subset=["Children (n)"], na_rep=na)
            .set_caption("Children needing services (a score of 1 or 2 on at least one factor) "
                         "by assessment round; every child assessed in the round counts, so the "
                         "children differ between rounds."))


def flagged_by_factor_styler(data: ProgrammeData) -> Styler:
    """Per factor (rows) and round (columns): % of children assessed scoring 1 or 2."""
    table = flagged_table(data)
    value_cols = [c for c in table.columns if c[:2] in csi.FACTORS]
    wide = table.set_index("Assessment round")[value_cols].T
    wide.index = [c.removesuffix(" (%)") for c in wide.index]
    wide.index.name = "Factor"
    counts = table.set_index("Assessment round")["Children (n)"]
    wide.columns = [f"{r} (n = {int(n)})" if pd.notna(n) else f"{r} (fewer than {data.config.min_cell})"
                    for r, n in counts.items()]
    return (wide.reset_index().style.hide(axis="index")
            .format("{:.0f}", subset=list(wide.columns), na_rep="–")
            .set_caption("Children needing services on each factor (% of the children assessed in "
                         "the round and rated on the factor)."))


def flagged_chart(data: ProgrammeData) -> Figure:
    """Share needing services per factor by round (line chart), n per round on the axis."""
    table = flagged_table(data)
    table = table[table["Children (n)"].notna()]
    value_cols = [c for c in table.columns if c[:2] in csi.FACTORS]
    long = table.melt(id_vars=["Assessment round", "Children (n)"], value_vars=value_cols,
                      var_name="Factor", value_name="Needing services (%)")
    long["Factor"] = long["Factor"].str.removesuffix(" (%)")
    order = list(table["Assessment round"])
    fig = Figure(figsize=(8, 6.4), dpi=100)
    ax = fig.subplots()
    sns.lineplot(data=long, x="Assessment round", y="Needing services (%)", hue="Factor",
                 marker="o", ax=ax, sort=False, palette="tab20")
    ax.set_xticks(range(len(order)), [f"{r}\n(n = {int(n)})" for r, n in
                                      zip(order, table["Children (n)"])])
    top = float(np.nanmax(long["Needing services (%)"])) if len(long) else 100.0
    ax.set_ylim(0, min(100, 10 * np.ceil(top / 10) + 5))
    ax.set_xlabel("Assessment round (children assessed)")
    ax.set_ylabel("Children scoring 1 or 2 on the factor (%)")
    ax.set_title("Share of children needing services, by factor and round", fontsize=11)
    ax.legend(fontsize=8, ncol=3, loc="upper center", bbox_to_anchor=(0.5, -0.2), frameon=False)
    sns.despine(ax=ax)
    fig.tight_layout()
    return fig


def headlines(data: ProgrammeData, cfg: CSIConfig, result: csi.CSIChange) -> list[str]:
    """Plain-language summary of the main changes, generated from the results."""
    table = result.to_frame()
    factors = table[(table["level"] == "factor") & (table["children_paired"] >= data.config.min_cell)]
    before, after = round_label(data, result.before), round_label(data, result.after)
    bullets = []
    if factors.empty:
        return [f"Too few children were assessed at both {before} and {after} to describe "
                "change without risking identifying them."]
    ranked = factors.sort_values("relative_change_pct", ascending=False)
    up = ranked[ranked["relative_change_pct"] >= 5]
    flat = ranked[ranked["relative_change_pct"].abs() < 5]
    down = ranked[ranked["relative_change_pct"] <= -5]

    def names(frame: pd.DataFrame) -> str:
        return ", ".join(f"{r.name.lower()} ({r.relative_change_pct:+.0f} %)"
                         for r in frame.itertuples())

    if not up.empty:
        bullets.append(f"Average scores **rose** between {before} and {after} on "
                       f"{len(up)} of 12 factors, most on {names(up.head(4))}.")
    if not flat.empty:
        bullets.append(f"They **changed little** (less than 5 % either way) on {names(flat)}.")
    if not down.empty:
        bullets.append(f"They **fell** on {names(down)}.")
    bullets.append(
        f"On average a child needed services (a score of 1 or 2) on "
        f"{result.mean_flagged_before:.1f} of the 12 factors at {before} and on "
        f"{result.mean_flagged_after:.1f} at {after}.")
    bullets.append(f"These figures describe the {result.children_paired} children assessed at both "
                   f"{before} and {after}; {result.only_before} children had no {after} "
                   "assessment and are not in them.")
    return bullets


def render(data: ProgrammeData, cfg: CSIConfig, r: csi.CSIChange) -> list:
    out = [
        display.markdown("## Children's status: Child Status Index (CSI)\n\n### The data\n\n"
                         "Who was assessed, when, and who was not reassessed. Children are "
                         "counted, never named."),
        display.table(overview_styler(data)),
        display.markdown(reassessment_sentence(data, r)),
        display.markdown(
            "### Change in CSI scores, factor by factor\n\nFor each of the 12 CSI factors, "
            "its 6 domains and the total: how many children were rated at both assessments, "
            "their mean score before and after, and the share whose score improved, stayed "
            "the same or got worse."),
        display.table(change_styler(data, r)),
        display.figure(
            change_chart(data, r),
            alt=f"Bar chart of mean CSI score per factor at two assessments, {r.children_paired} children",
            caption="Bars show mean scores of the same children at both assessments; longer is better."),
        display.note(csi.DESCRIPTIVE_CAVEAT),
    ]
    styler = published_styler(data, r)
    if styler is not None:
        out += [display.markdown("### Comparison with the published figures"),
                display.markdown(RELATIVE_CHANGE_DEFINITION + " Under this reading the data "
                                 "reproduce the published table; the share of children whose "
                                 "score went up is shown beside it as the other plausible reading."),
                display.table(styler)]
    out += [display.markdown(
                "### Children needing services, by round\n\nA score of 1 (very bad) or 2 "
                "(bad) on a factor means the child needs services on it."),
            display.table(flagged_styler(data)),
            display.table(flagged_by_factor_styler(data))]
    if data.csi["round"].nunique() > 2:
        out.append(display.figure(
            flagged_chart(data),
            alt="Line chart of the share of children scoring 1 or 2 on each factor by round",
            caption="Each line is one CSI factor; lower is better. Children leave the "
                    "caseload between rounds, so each round describes the children then "
                    "assessed."))
    return out
