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
from evalkit.report.disclosure import PRIMARY, SECONDARY, SUPPRESSED, Disclosure
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


def reassessment(dc: Disclosure, data: ProgrammeData, result: csi.CSIChange) -> dict:
    """Children assessed at each compared round as they may be shown. Those assessed at the
    first round are the paired children plus those not reassessed: when the latter are fewer
    than min_cell, the round's total is suppressed (everywhere it appears), never the paired
    count the change figures rest on."""
    before = dc.partition(OVERVIEW, {"paired": result.children_paired,
                                     "only before": result.only_before},
                          total=result.children_before, protect={"paired"}, row="first round")
    after = dc.partition(OVERVIEW, {"paired": result.children_paired,
                                    "only after": result.only_after},
                         total=result.children_after, protect={"paired"}, row="second round")
    return {"before": before.total, "after": after.total, "paired": result.children_paired,
            "only_before": before.words("only before", dc.min_cell),
            "only_after": after.words("only after", dc.min_cell)}


def round_counts(dc: Disclosure, data: ProgrammeData, result: csi.CSIChange) -> dict:
    """Children assessed per round as shown (None where suppressed)."""
    shown = reassessment(dc, data, result)
    counts = data.csi.groupby("round", sort=True)["child"].nunique()
    out = {}
    for r, n in counts.items():
        if r == result.before:
            out[r] = shown["before"]
        elif r == result.after:
            out[r] = shown["after"]
        else:
            out[r] = None if dc.small(int(n)) else dc.value(int(n))
            if dc.small(int(n)):
                dc.note(OVERVIEW, f"round {r}", PRIMARY, "under min_cell suppressed")
    return out


OVERVIEW = "CSI assessments by round"


def rounds_overview(data: ProgrammeData, dc: Disclosure, result: csi.CSIChange) -> pd.DataFrame:
    """Children assessed per round and the months in which the assessments took place."""
    frame = data.csi
    grouped = frame.groupby("round", sort=True)
    counts = round_counts(dc, data, result)
    out = pd.DataFrame({"Children assessed": [SUPPRESSED if counts[r] is None else f"{counts[r]:,}"
                                              for r in grouped.groups]},
                       index=list(grouped.groups))
    if "date" in frame:
        out["First assessment"] = grouped["date"].min().dt.strftime("%b %Y")
        out["Last assessment"] = grouped["date"].max().dt.strftime("%b %Y")
    out.index = [round_label(data, r) for r in out.index]
    out.index.name = "Assessment round"
    return out.reset_index()


def children_text(dc: Disclosure, data: ProgrammeData, result: csi.CSIChange) -> str | None:
    """All children assessed, as shown: None when a round's total is suppressed (the
    children not reassessed could then be worked out from it)."""
    if None in round_counts(dc, data, result).values():
        dc.note(OVERVIEW, "children in any round", SECONDARY, "total suppressed with a round's total")
        return None
    return dc.count(int(data.csi["child"].nunique()), OVERVIEW, "children")


def overview_styler(data: ProgrammeData, dc: Disclosure, result: csi.CSIChange) -> Styler:
    table = rounds_overview(data, dc, result)
    total = children_text(dc, data, result)
    return (table.style.hide(axis="index")
            .set_caption("CSI assessments by round" + (f" (n = {total} children)" if total else "")))


def reassessment_sentence(data: ProgrammeData, result: csi.CSIChange, dc: Disclosure) -> str:
    before, after = round_label(data, result.before), round_label(data, result.after)
    shown = reassessment(dc, data, result)
    paired = dc.count(result.children_paired, OVERVIEW, "paired")
    if shown["before"] is None or shown["after"] is None:
        text = (f"**{paired}** children were assessed at both **{before}** and **{after}** and "
                "form the basis of the change figures (the number assessed at each round is "
                "not shown, so that the small group below cannot be worked out). ")
    else:
        text = (f"{shown['before']:,} children were assessed at **{before}** and "
                f"{shown['after']:,} at **{after}**; **{paired}** were assessed at both and form "
                "the basis of the change figures. ")
    if result.only_before:
        text += (f"{shown['only_before'].capitalize()} children assessed at {before} were not "
                 f"reassessed at {after} (case closed, moved, or not yet due); they are counted "
                 "here and left out of the change figures, not silently dropped. ")
    if result.only_after:
        text += (f"{shown['only_after'].capitalize()} children were assessed at {after} without "
                 f"a {before} assessment and are likewise left out of the change figures.")
    return text


def pairing_styler(data: ProgrammeData, dc: Disclosure, result: csi.CSIChange) -> Styler:
    """Who is in the change figures: children assessed at both compared rounds, and those
    assessed at only one of them (as the reassessment sentence and key findings say)."""
    before, after = round_label(data, result.before), round_label(data, result.after)
    shown = reassessment(dc, data, result)
    table = pd.DataFrame({
        "Children": [f"Assessed at both {before} and {after} (in the change figures)",
                     f"Assessed at {before} only (not in the change figures)",
                     f"Assessed at {after} only (not in the change figures)"],
        "Number": [dc.count(result.children_paired, CHANGE, "paired"),
                   shown["only_before"], shown["only_after"]]})
    return (table.style.hide(axis="index")
            .set_caption(f"Children in the comparison of {before} with {after}."))


CHANGE = "CSI change per factor"
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


def share_pct(dc: Disclosure, table: str, row: str, pct: float, n: int, what: str) -> float:
    """A share (%) of ``n`` children as it may be shown: NaN when it, or its complement,
    stands for fewer than min_cell children (or when there is no share)."""
    if pd.isna(pct):
        return np.nan
    k = int(round(pct * n / 100))
    part = dc.partition(table, {what: k, "others": int(n) - k}, total=int(n), row=row)
    return part.percent[what] if part.shown(what) else np.nan


def share(dc: Disclosure, table: str, row: str, pct: float, n: int, what: str) -> str:
    """:func:`share_pct` as table text: "–" without a share, "suppressed" when hidden."""
    if pd.isna(pct):
        return "–"
    value = share_pct(dc, table, row, pct, n, what)
    return SUPPRESSED if pd.isna(value) else f"{value:.0f}"


def change_table(data: ProgrammeData, result: csi.CSIChange, dc: Disclosure) -> pd.DataFrame:
    """Per-factor, per-domain and total change as shown: a row resting on fewer than
    min_cell children is suppressed; improved / unchanged / worse are parts of the row's
    children (a small part and its complement suppressed); so are the shares needing
    services."""
    table = result.to_frame()
    rows = []
    for t in table.itertuples():
        name = (f"{t.code} {t.name}" if t.level == "factor" else
                f"Domain: {t.name}" if t.level == "domain" else t.name)
        n = int(t.children_paired)
        # children paired but not rated on this factor (n/a) are a group too
        rated = dc.partition(CHANGE, {"rated": n, "not rated": result.children_paired - n},
                             total=result.children_paired, row=f"{name}: children")
        row = {"Factor / domain": name,
               "Children (n)": rated.text("rated") if not dc.small(n) else dc.count(n, CHANGE, f"{name}: children")}
        if dc.rests_on(n, CHANGE, f"{name}: statistics"):
            parts = dc.partition(CHANGE, {"Improved": int(round(t.improved_pct * n / 100)),
                                          "Unchanged": int(round(t.unchanged_pct * n / 100)),
                                          "Worse": int(round(t.worse_pct * n / 100))},
                                 total=n, row=name, keep=("Improved",))
            row.update({
                "Mean before": f"{t.mean_before:.2f}", "Mean after": f"{t.mean_after:.2f}",
                "Mean change": f"{t.mean_change:+.2f}",
                "Relative change of mean (%)": f"{t.relative_change_pct:+.1f}",
                **{f"{k} (%)": f"{v:.0f}" if parts.shown(k) else SUPPRESSED
                   for k, v in parts.percent.items()},
                "Needing services before (%)": share(dc, CHANGE, name + " (before)", t.flagged_before_pct, n, "needing services"),
                "Needing services after (%)": share(dc, CHANGE, name + " (after)", t.flagged_after_pct, n, "needing services"),
            })
        else:
            row.update({c: SUPPRESSED for c in list(CHANGE_TABLE_LABELS.values())[2:]})
        rows.append(row)
    return pd.DataFrame(rows, columns=list(CHANGE_TABLE_LABELS.values()))


def change_styler(data: ProgrammeData, result: csi.CSIChange, dc: Disclosure) -> Styler:
    table = change_table(data, result, dc)
    before, after = round_label(data, result.before), round_label(data, result.after)
    return (table.style.hide(axis="index")
            .set_caption(f"CSI change from {before} to {after}, per factor, domain and total "
                         f"(children assessed at both: n = {dc.count(result.children_paired, CHANGE, 'paired')}; "
                         "a factor counts only where rated at both assessments). Scores: 4 good, "
                         "3 fair, 2 bad, 1 very bad; 'needing services' = score 1 or 2 (for a "
                         f"domain or the total: on any of its factors). '{SUPPRESSED}': fewer "
                         f"than {data.config.min_cell} children, or a figure that would let such "
                         "a group be worked out.")
            .set_table_attributes('class="evalkit-table"'))


PUBLISHED_TABLE = "CSI compared with the published figures"


def published_comparison(data: ProgrammeData, result: csi.CSIChange, dc: Disclosure) -> pd.DataFrame | None:
    """The study's published '% improvement' beside both readings of it in this data, as
    shown (the share of children improved is a part of the factor's children)."""
    published = data.config.csi.published_improvement
    if not published:
        return None
    ours = result.improvement("relative_change")
    improved = result.improvement("share_improved")
    names = list(published)
    codes = [csi.factor_code(n) for n in names]
    paired = result.to_frame().set_index("code").loc[codes, "children_paired"].to_numpy()
    rows = []
    for name, code, n in zip(names, codes, paired):
        ok = dc.rests_on(int(n), PUBLISHED_TABLE, f"{name}: statistics")
        rows.append({
            "Factor (as published)": name,
            "Published % improvement": f"{float(published[name]):.0f}",
            "This data: relative change of mean (%)": f"{ours[csi.SEED_NAMES[code]]:.1f}" if ok else SUPPRESSED,
            "This data: children improved (%)": share(dc, CHANGE, f"{code} {csi.LABELS[code]}",
                                                      improved[csi.SEED_NAMES[code]], int(n), "Improved")
            if ok else SUPPRESSED,
            "Children (n)": dc.count(int(n), PUBLISHED_TABLE, f"{name}: children"),
        })
    return pd.DataFrame(rows)


def published_styler(data: ProgrammeData, result: csi.CSIChange, dc: Disclosure) -> Styler | None:
    table = published_comparison(data, result, dc)
    if table is None:
        return None
    source = data.config.csi.published_source or "the published study"
    return (table.style.hide(axis="index")
            .set_caption(f"Published figures ({source}) beside this data under both readings "
                         f"of '% improvement' (n = {dc.count(result.children_paired, CHANGE, 'paired')} "
                         "children)."))


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
                 f"children assessed at both (n in the table above)", fontsize=11)
    ax.legend(title=None, loc="lower right", frameon=True)
    sns.despine(ax=ax)
    fig.tight_layout()
    return fig


FLAGGED = "Children needing services by round"


def flagged_table(data: ProgrammeData, dc: Disclosure, result: csi.CSIChange) -> pd.DataFrame:
    """Share needing services by round (any factor, and per factor) as numbers, NaN where
    suppressed: a round whose count is suppressed, and a share that (or whose complement)
    stands for fewer than min_cell children. Tables and charts are both drawn from it."""
    by_round = csi.flagged_by_round(data.csi, round="round")
    counts = round_counts(dc, data, result)
    labels = [round_label(data, r) for r in by_round["round"]]
    n_shown = [counts[r] for r in by_round["round"]]
    out = pd.DataFrame({"Assessment round": labels,
                        "Children (n)": [np.nan if n is None else float(n) for n in n_shown]})

    def flagged(pct, n, label, what):
        if pd.isna(pct) or not dc.rests_on(int(n), FLAGGED, f"{label}: {what}"):
            return np.nan
        return share_pct(dc, FLAGGED, f"{label}: {what}", pct, n, "yes")

    out["Needing services on any factor (%)"] = [
        flagged(p, n, label, "any factor") for p, n, label in
        zip(by_round["any_flagged_pct"], by_round["children"], labels)]
    out["Mean number of factors needing services"] = [
        m if dc.rests_on(int(n), FLAGGED, f"{label}: mean") else np.nan
        for m, n, label in zip(by_round["mean_flagged"], by_round["children"], labels)]
    for code in csi.FACTORS:
        out[f"{code} {csi.LABELS[code]} (%)"] = [
            flagged(p, n, label, code) for p, n, label in
            zip(by_round[f"{code}_flagged_pct"], by_round[f"{code}_rated"], labels)]
    hidden = out["Children (n)"].isna()
    out.loc[hidden, out.columns[2:]] = np.nan  # a suppressed round shows no figure at all
    return out


def flagged_styler(data: ProgrammeData, dc: Disclosure, result: csi.CSIChange) -> Styler:
    table = flagged_table(data, dc, result)
    headline = table.iloc[:, :4]
    return (headline.style.hide(axis="index")
            .format({"Needing services on any factor (%)": "{:.0f}",
                     "Mean number of factors needing services": "{:.1f}",
                     "Children (n)": "{:,.0f}"}, na_rep=SUPPRESSED)
            .set_caption("Children needing services (a score of 1 or 2 on at least one factor) "
                         "by assessment round; every child assessed in the round counts, so the "
                         "children differ between rounds."))


def flagged_by_factor_styler(data: ProgrammeData, dc: Disclosure, result: csi.CSIChange) -> Styler:
    """Per factor (rows) and round (columns): % of children assessed scoring 1 or 2."""
    table = flagged_table(data, dc, result)
    value_cols = [c for c in table.columns if c[:2] in csi.FACTORS]
    wide = table.set_index("Assessment round")[value_cols].T
    wide.index = [c.removesuffix(" (%)") for c in wide.index]
    wide.index.name = "Factor"
    counts = table.set_index("Assessment round")["Children (n)"]
    wide.columns = [f"{r} (n = {int(n):,})" if pd.notna(n) else f"{r} (n {SUPPRESSED})"
                    for r, n in counts.items()]
    return (wide.reset_index().style.hide(axis="index")
            .format("{:.0f}", subset=list(wide.columns), na_rep=SUPPRESSED)
            .set_caption("Children needing services on each factor (% of the children assessed in "
                         "the round and rated on the factor)."))


def flagged_chart(data: ProgrammeData, dc: Disclosure, result: csi.CSIChange) -> Figure:
    """Share needing services by round, one small panel per factor (the panel's title names
    it, so no series depends on colour or a legend); n per round on the axis; drawn from
    the suppressed table, so a suppressed figure has no point."""
    table = flagged_table(data, dc, result)
    table = table[table["Children (n)"].notna()]
    value_cols = [c for c in table.columns if c[:2] in csi.FACTORS]
    rounds = list(table["Assessment round"])
    values = table[value_cols].to_numpy(dtype=float)
    top = float(np.nanmax(values)) if np.isfinite(values).any() else 100.0
    fig = Figure(figsize=(9, 7.6), dpi=100)
    axes = fig.subplots(3, 4, sharex=True, sharey=True)
    x = np.arange(len(rounds))
    for ax, col in zip(axes.flat, value_cols):
        ax.plot(x, table[col].to_numpy(), marker="o", color="#1f5f8b", linewidth=1.8)
        ax.set_title(col.removesuffix(" (%)"), fontsize=9)
        ax.set_ylim(0, min(100, 10 * np.ceil(top / 10) + 5))
        ax.grid(axis="y", color="#e3e8ee", linewidth=0.8)
        sns.despine(ax=ax)
    for ax in axes[-1]:
        ax.set_xticks(x, [f"{r}\n(n = {int(n):,})" for r, n in zip(rounds, table["Children (n)"])],
                      fontsize=7, rotation=45, ha="right")
    for ax in axes[:, 0]:
        ax.set_ylabel("Needing services (%)", fontsize=8)
    fig.suptitle("Share of children scoring 1 or 2 on each factor, by round (lower is better)",
                 fontsize=11)
    fig.tight_layout()
    return fig


def headlines(data: ProgrammeData, cfg: CSIConfig, result: csi.CSIChange, dc: Disclosure) -> list[str]:
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
        return ", ".join(f"{r.name.lower()} ({r.relative_change_pct:+.1f} %)"
                         for r in frame.itertuples())

    if not up.empty:
        bullets.append(f"Average scores **rose** between {before} and {after} on "
                       f"{len(up)} of 12 factors, most on {names(up.head(4))}.")
    if not flat.empty:
        bullets.append(f"They **changed little** (less than 5 % either way) on {names(flat)}.")
    if not down.empty:
        bullets.append(f"They **fell** on {names(down)}.")
    bullets.append(
        f"On average a child assessed at both rounds needed services (a score of 1 or 2) on "
        f"{result.mean_flagged_before:.2f} of the 12 factors at {before} and on "
        f"{result.mean_flagged_after:.2f} at {after}.")
    shown = reassessment(dc, data, result)
    bullets.append(f"These figures describe the {dc.count(result.children_paired, CHANGE, 'paired')} "
                   f"children assessed at both {before} and {after}"
                   + (f"; {shown['only_before']} children had no {after} assessment and are not "
                      "in them." if result.only_before else "."))
    return bullets


def render(data: ProgrammeData, cfg: CSIConfig, r: csi.CSIChange, dc: Disclosure) -> list:
    out = [
        display.markdown("## Children's status: Child Status Index (CSI)\n\n### The data\n\n"
                         "Who was assessed, when, and who was not reassessed. Children are "
                         "counted, never named."),
        display.table(overview_styler(data, dc, r)),
        display.markdown(reassessment_sentence(data, r, dc)),
        display.table(pairing_styler(data, dc, r)),
        display.markdown(
            "### Change in CSI scores, factor by factor\n\nFor each of the 12 CSI factors, "
            "its 6 domains and the total: how many children were rated at both assessments, "
            "their mean score before and after, and the share whose score improved, stayed "
            "the same or got worse."),
        display.table(change_styler(data, r, dc)),
    ]
    if dc.small(r.children_paired) or r.children_paired == 0:
        out.append(display.markdown(f"Fewer than {dc.min_cell} children were assessed at both "
                                    "rounds, so no change figure is shown."))
    else:
        out.append(display.figure(
            change_chart(data, r),
            alt="Bar chart of mean CSI score per factor at two assessments, "
                f"{dc.count(r.children_paired, CHANGE, 'paired')} children",
            caption="Bars show mean scores of the same children at both assessments; longer is better."))
    out.append(display.note(csi.DESCRIPTIVE_CAVEAT))
    styler = published_styler(data, r, dc)
    if styler is not None:
        out += [display.markdown("### Comparison with the published figures"),
                display.markdown(RELATIVE_CHANGE_DEFINITION + " Under this reading the data "
                                 "reproduce the published table; the share of children whose "
                                 "score went up is shown beside it as the other plausible reading."),
                display.table(styler)]
    out += [display.markdown(
                "### Children needing services, by round\n\nA score of 1 (very bad) or 2 "
                "(bad) on a factor means the child needs services on it."),
            display.table(flagged_styler(data, dc, r)),
            display.table(flagged_by_factor_styler(data, dc, r))]
    if data.csi["round"].nunique() > 2:
        out.append(display.figure(
            flagged_chart(data, dc, r),
            alt="Line chart of the share of children scoring 1 or 2 on each factor by round",
            caption="Each line is one CSI factor; lower is better. Children leave the "
                    "caseload between rounds, so each round describes the children then "
                    "assessed."))
    return out
