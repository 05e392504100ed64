"""Report sections configured in programme.yml beyond the CSI and the village trial:
pre/post change, indicators with denominators, rule-based categories, the Child Tracking
Tool, case closure (SKO) and residential-care monitoring (MoSVY).

Each ``*_section`` returns a list of display objects (headings included; empty when the
programme does not configure it) and each ``*_headlines`` the lines for "Key findings".
Numbers come from :mod:`evalkit.indices` and :mod:`evalkit.designs`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

from evalkit.designs.paired import CAVEAT, PrePostResult, compare_changes, prepost, trajectory
from evalkit.indices import case_closure as cc
from evalkit.indices import child_tracking as ct
from evalkit.indices import csi
from evalkit.indices import residential_care as rc
from evalkit.indices.classification import Category, Criterion, classify
from evalkit.indices.shares import Indicator, share_table
from evalkit.report import display
from evalkit.report.csi_section import round_label
from evalkit.report.privacy import suppress_small
from evalkit.data.mapping import OTHER
from evalkit.data.programme import ProgrammeData


_p = display.p_value


def _count_text(n: int, min_cell: int) -> str:
    return f"Fewer than {min_cell}" if 0 < n < min_cell else f"{n:,}"


def _source(text: str | None) -> list:
    return [display.markdown(f"*Source: {text}*")] if text else []


# ----------------------------------------------------------------------------- pre/post


def _prepost_row(r: PrePostResult, label: str, published=None) -> dict:
    binary = r.kind == "binary"
    scale = 100 if binary else 1
    fmt = "{:+.1f}" if binary else "{:+.2f}"
    return {
        "Outcome": label + (" (%)" if binary else ""),
        "Pairs (n)": r.n_pairs,
        "Before": r.mean_before * scale,
        "After": r.mean_after * scale,
        "Change": r.mean_change * scale,
        "95 % CI": f"{fmt.format(r.ci_low * scale)} to {fmt.format(r.ci_high * scale)}",
        "p (McNemar, or t / Wilcoxon)": _p(r.p_mcnemar) if binary else f"{_p(r.p_ttest)} / {_p(r.p_wilcoxon)}",
        "Improved (%)": r.improved_pct,
        "Unchanged (%)": r.unchanged_pct,
        "Worse (%)": r.worse_pct,
        **({"Published": published} if published is not None else {}),
    }


def _prepost_styler(rows: list[dict], caption: str, min_cell: int):
    frame = pd.DataFrame(rows)
    stats_cols = ["Before", "After", "Change", "Improved (%)", "Unchanged (%)", "Worse (%)"]
    frame = suppress_small(frame, "Pairs (n)", min_cell, stats_cols)
    return (frame.style.hide(axis="index")
            .format("{:.2f}", subset=["Before", "After"], na_rep="–")
            .format("{:+.2f}", subset=["Change"], na_rep="–")
            .format("{:.0f}", subset=["Improved (%)", "Unchanged (%)", "Worse (%)"], na_rep="–")
            .format("{:.0f}", subset=["Pairs (n)"], na_rep=f"fewer than {min_cell}")
            .set_caption(caption))


def prepost_results(data: ProgrammeData, entry: dict) -> list[tuple[dict, str, PrePostResult]]:
    df = data.table(entry["file"])
    out = []
    for name, spec in entry["outcomes"].items():
        r = prepost(df, name, entry["unit"], entry["round"], entry["before"], entry["after"],
                    kind=spec.get("kind", "auto"), higher_is_better=entry.get("higher_is_better", True))
        out.append((spec, name, r))
    return out


def prepost_section(data: ProgrammeData) -> list:
    out = []
    for entry in data.config.sections.get("prepost", []):
        results = prepost_results(data, entry)
        published = entry.get("published", {})
        rows = [_prepost_row(r, spec.get("label", name),
                             published.get(name) if published else None) for spec, name, r in results]
        n = max(r.n_pairs for *_, r in results)
        out += [display.markdown(f"## {entry['title']}")]
        if entry.get("scale"):
            out.append(display.markdown(f"Scale: {entry['scale']}."))
        out.append(display.table(_prepost_styler(
            rows, f"{entry['title']}: {entry['before']} vs {entry['after']} for the same units "
                  f"(n = {n}). Binary outcomes in % and percentage points (paired Wald CI, exact "
                  "McNemar test on those who changed); scores with paired t CI, paired t and "
                  "Wilcoxon signed-rank p-values." + (" 'Published': the seed report's figure, "
                  "in %, of the units lacking the item before who gained it." if published else ""),
            data.config.min_cell)))
        if published:
            gained = [f"{spec.get('label', name).lower()}: {r.gained} of "
                      f"{r.n_pairs - int(round(r.mean_before * r.n_pairs))} "
                      f"({100 * r.gained / max(r.n_pairs - round(r.mean_before * r.n_pairs), 1):.0f} %)"
                      for spec, name, r in results if r.kind == "binary"]
            out.append(display.markdown("Gained access, of those without it before — " + "; ".join(gained) + "."))
        out.append(display.markdown(results[0][2].attrition.sentence()))
        out += _source(entry.get("source"))
        out.append(display.note(CAVEAT))
    return out


def prepost_headlines(data: ProgrammeData) -> list[str]:
    lines = []
    for entry in data.config.sections.get("prepost", []):
        results = prepost_results(data, entry)
        up = [(spec.get("label", name), r) for spec, name, r in results]
        parts = []
        for label, r in up:
            if r.kind == "binary":
                parts.append(f"{label.lower()} {r.mean_before * 100:.0f} % → {r.mean_after * 100:.0f} %")
            else:
                parts.append(f"{label.lower()} {r.mean_before:.2f} → {r.mean_after:.2f}")
        lines.append(f"**{entry['title']}** (n = {results[0][2].n_pairs}, change, not impact): "
                     + "; ".join(parts) + ".")
    return lines


# ----------------------------------------------------------------------------- CSI pre/post


def csi_prepost_section(data: ProgrammeData) -> list:
    """Pre/post analysis of each child's CSI total and number of factors needing services;
    trajectories when there are more than two rounds; groups compared when configured."""
    if data.csi is None:
        return []
    cfg = data.config.csi
    scores = csi.score(data.csi)
    frame = pd.concat([data.csi[["child", "round"] + (["group"] if "group" in data.csi else [])],
                       scores[["total", "flagged"]]], axis=1)
    before = cfg.before if cfg.before is not None else frame["round"].min()
    after = cfg.after if cfg.after is not None else frame["round"].max()
    total = prepost(frame, "total", "child", "round", before, after, kind="continuous")
    flagged = prepost(frame, "flagged", "child", "round", before, after, kind="continuous",
                      higher_is_better=False)
    label_b, label_a = round_label(data, before), round_label(data, after)
    rows = [_prepost_row(total, "CSI total score (12–48; higher is better)"),
            _prepost_row(flagged, "Factors needing services (0–12; lower is better)")]
    out = [display.markdown(
               "## Pre/post change in each child's CSI\n\nThe same children compared with "
               f"themselves between {label_b} and {label_a}: paired tests, and whether those "
               "who were not reassessed differed at the start."),
           display.table(_prepost_styler(
               rows, f"Paired change from {label_b} to {label_a} (children with a total at both; "
                     "the total exists only when all 12 factors are rated).", data.config.min_cell)),
           display.markdown(flagged.attrition.sentence().replace("unit(s)", "children"))]
    if frame["round"].nunique() > 2:
        traj = trajectory(frame, "flagged", "child", "round")
        table = traj.to_frame()
        table.insert(0, "Round", [round_label(data, r) for r in table.pop("round")])
        table = table.rename(columns={"n": "Children (n)", "mean": "Mean factors needing services",
                                      "ci_low": "CI low", "ci_high": "CI high",
                                      "change": "Within-child change since first round",
                                      "change_ci_low": "change CI low",
                                      "change_ci_high": "change CI high", "p_value": "p"})
        table = table.drop(columns=["se"])
        styler = (table.style.hide(axis="index")
                  .format("{:.2f}", subset=[c for c in table.columns if c not in ("Round", "Children (n)", "p")], na_rep="–")
                  .format(_p, subset=["p"])
                  .set_caption("Trajectory of the number of factors needing services: means of "
                               "the children assessed in each round (95 % CI), and the average "
                               "within-child change since the first round from a regression with "
                               "child fixed effects (linearmodels PanelOLS, standard errors "
                               f"clustered by child; {traj.n_obs} assessments of {traj.n_units} children)."))
        out += [display.markdown("### Trajectory over all rounds"), display.table(styler),
                display.figure(_trajectory_chart(data, traj),
                               alt="Mean number of CSI factors needing services by round with 95 % CIs",
                               caption="Lower is better. Each point is the mean of the children "
                                       "assessed in that round.")]
    other = int(frame.loc[frame["group"] == OTHER, "child"].nunique()) if "group" in frame else 0
    if "group" in frame and frame.loc[frame["group"] != OTHER, "group"].nunique() >= 2:
        declared = frame[(frame["group"] != OTHER).fillna(False)]
        declared.attrs = dict(frame.attrs)
        groups = compare_changes(declared, "flagged", "child", "round", before, after, "group",
                                 kind="continuous", higher_is_better=False)
        rows = [_prepost_row(r, f"{g.capitalize()}: factors needing services")
                for g, r in groups.results.items()]
        names = list(groups.results)
        out += [display.markdown("### Two groups compared (descriptive)"),
                display.table(_prepost_styler(rows, "Paired change by care group.", data.config.min_cell)),
                display.markdown(
                    "On average the number of factors needing services changed by "
                    + " and by ".join(f"{groups.results[g].mean_change:+.2f} among {g} care children"
                                      for g in names[:2])
                    + f"; the difference between the two changes is {groups.difference:+.2f} "
                    f"factors (95 % CI {groups.ci_low:+.2f} to {groups.ci_high:+.2f}; Welch p = "
                    f"{_p(groups.p_value)})."),
                display.note(groups.caveat)]
        if other:
            out.append(display.markdown(
                f"{_count_text(other, data.config.min_cell)} children belong to a care group not "
                "declared in the programme's configuration; they are counted in every other "
                "figure but not in this comparison."))
    out.append(display.note(CAVEAT))
    return out


def _trajectory_chart(data: ProgrammeData, traj) -> Figure:
    frame = traj.by_round
    fig = Figure(figsize=(7.5, 4), dpi=100)
    ax = fig.subplots()
    x = np.arange(len(frame))
    ax.errorbar(x, frame["mean"], yerr=[frame["mean"] - frame["ci_low"], frame["ci_high"] - frame["mean"]],
                marker="o", color="#1f5f8b", capsize=4)
    ax.set_xticks(x, [f"{round_label(data, r)}\n(n = {n})" for r, n in zip(frame["round"], frame["n"])])
    ax.set_ylim(0, max(1.0, float(frame["ci_high"].max()) * 1.15))
    ax.set_ylabel("Mean factors needing services (of 12)")
    ax.set_xlabel("Assessment round (children assessed)")
    ax.set_title("Number of CSI factors needing services, by round", fontsize=11)
    sns.despine(ax=ax)
    fig.tight_layout()
    return fig


# ----------------------------------------------------------------------------- indicators


def indicator_tables(data: ProgrammeData) -> list[tuple[dict, pd.DataFrame]]:
    out = []
    for entry in data.config.sections.get("indicators", []):
        items = [Indicator(label=i["label"], numerator=i["numerator"],
                           denominator=i.get("denominator", {}) or {},
                           denominator_label=i.get("denominator_label", "all records"),
                           published=i.get("published")) for i in entry["items"]]
        out.append((entry, share_table(data.table(entry["file"]), items)))
    return out


def indicators_section(data: ProgrammeData) -> list:
    out = []
    min_cell = data.config.min_cell
    for entry, table in indicator_tables(data):
        frame = pd.DataFrame({
            "Indicator": table["indicator"],
            "Number": table["numerator"],
            "Out of": table["denominator"],
            "Denominator": table["denominator_label"],
            "%": table["percent"],
            "Published %": table["published_percent"],
        })
        frame = suppress_small(frame, "Out of", min_cell, ["%", "Number"])
        styler = (frame.style.hide(axis="index")
                  .format("{:.0f}", subset=["Number"], na_rep="–")
                  .format("{:.0f}", subset=["Out of"], na_rep=f"fewer than {min_cell}")
                  .format("{:.1f}", subset=["%"], na_rep="–")
                  .format("{:.0f}", subset=["Published %"], na_rep="not published")
                  .set_caption(f"{entry['title']}: every percentage names its denominator."))
        out += [display.markdown(f"## {entry['title']}"), display.table(styler)]
        out += _source(entry.get("source"))
    return out


def indicator_headlines(data: ProgrammeData) -> list[str]:
    lines = []
    for entry, table in indicator_tables(data):
        first = table.iloc[0]
        lines.append(f"**{entry['title']}:** {first['indicator'].lower()}: {first['numerator']} of "
                     f"{first['denominator']} {first['denominator_label']} ({first['percent']:.0f} %).")
    return lines


# ----------------------------------------------------------------------------- classifications


def classification_results(data: ProgrammeData):
    out = []
    for entry in data.config.sections.get("classifications", []):
        criteria = [Criterion(c["column"], c["op"], float(c["value"]), c["label"]) for c in entry["criteria"]]
        categories = [Category(c["name"], int(c["min_criteria"]), c.get("meaning", "")) for c in entry["categories"]]
        out.append((entry, classify(data.table(entry["file"]), criteria, categories)))
    return out


def classification_section(data: ProgrammeData) -> list:
    out = []
    for entry, result in classification_results(data):
        unit = entry.get("unit_label", "units")
        n = len(result.category)
        counts = result.counts().rename(columns={"category": "Category", "meaning": "Meaning",
                                                 "rule": "Rule", "units": unit.capitalize(),
                                                 "percent": f"% of {n} {unit}"})
        criteria = result.criteria_table().rename(columns={"criterion": "Criterion",
                                                           "units meeting it": f"{unit.capitalize()} meeting it",
                                                           "percent": f"% of {n} {unit}"})
        pct = f"% of {n} {unit}"
        out += [display.markdown(f"## {entry['title']}"),
                display.table(criteria.style.hide(axis="index").format("{:.0f}", subset=[pct])
                              .set_caption(f"Criteria, declared in programme.yml, and how many {unit} meet each.")),
                display.table(counts.style.hide(axis="index").format("{:.0f}", subset=[pct])
                              .set_caption(f"{unit.capitalize()} by category: a unit takes the first "
                                           "category whose rule it meets."))]
        if entry.get("note"):
            out.append(display.note(entry["note"], kind="info"))
        out += _source(entry.get("source"))
    return out


# ----------------------------------------------------------------------------- Child Tracking Tool


def child_tracking_result(data: ProgrammeData):
    entry = data.config.sections["child_tracking"]
    counts = ct.status_counts(data.table(entry["file"]), entry["status"])
    declared = entry.get("declared_denominators", {}) or {}
    table = ct.status_table(counts, declared)
    matching = ct.matching_denominators(counts, entry["published"], declared)
    return entry, counts, table, matching


def child_tracking_section(data: ProgrammeData) -> list:
    if "child_tracking" not in data.config.sections:
        return []
    entry, counts, table, matching = child_tracking_result(data)
    table = table.rename(columns={"status": "Status", "meaning": "Meaning", "children": "Children"})
    table["Published %"] = [entry["published"].get(s, np.nan) for s in table["Status"]]
    pct_cols = [c for c in table.columns if c.startswith("% of")]
    styler = (table.style.hide(axis="index").format("{:.1f}", subset=pct_cols)
              .format("{:.0f}", subset=["Published %"], na_rep="–")
              .format("{:,}", subset=["Children"])
              .set_caption("Child Tracking Tool status of the children supported for "
                           "reintegration, as % of each possible denominator."))
    which = (f"The published 75 / 6 / 3 % are reproduced only with the denominator "
             f"“{matching[0]}”." if matching else
             "No candidate denominator reproduces the published percentages.")
    out = [display.markdown("## Child Tracking Tool: how are reintegrated children doing?"),
           display.markdown(f"{int(counts.sum()):,} children were supported for reintegration. "
                            + which),
           display.table(styler)]
    if entry.get("note"):
        out.append(display.note(entry["note"], kind="info"))
    return out + _source(entry.get("source"))


def child_tracking_headlines(data: ProgrammeData) -> list[str]:
    if "child_tracking" not in data.config.sections:
        return []
    entry, counts, table, matching = child_tracking_result(data)
    d = ct.denominators(counts, entry.get("declared_denominators"))[matching[0]] if matching else counts.sum()
    return [f"**Child Tracking Tool:** of {int(counts.sum()):,} children supported, "
            f"{counts['green']:,} are safe and stable (green; {100 * counts['green'] / d:.0f} % of "
            f"{d:,}, the report's denominator), {counts['not located']} could not be located."]


# ----------------------------------------------------------------------------- case closure


def case_closure_section(data: ProgrammeData) -> list:
    if "case_closure" not in data.config.sections:
        return []
    entry = data.config.sections["case_closure"]
    published = entry.get("published", {}) or {}
    ratings = cc.rating_table(data.table(entry["cases"]), entry["rating"])
    ratings["published"] = [published.get("ratings", {}).get(r, np.nan) for r in ratings["rating"]]
    ratings = ratings.rename(columns={"rating": "Rating", "meaning": "Meaning", "cases": "Families",
                                      "percent_of_rated_cases": f"% of {int(ratings['cases'].sum())} rated exits",
                                      "published": "Published (families)"})
    problems = cc.problem_table(data.table(entry["problems"]), entry["problem_type"], entry["resolution"])
    pct = [c for c in problems.columns if c.endswith("(%)")]
    out = [
        display.markdown("## Case closure: how did families leave the programme?"),
        display.table(ratings.style.hide(axis="index")
                      .format("{:.0f}", subset=[c for c in ratings.columns if c.startswith("%")])
                      .format("{:.0f}", subset=["Published (families)"], na_rep="–")
                      .set_caption("Closure rating of each family exiting; denominator: all rated exits.")),
        display.markdown("### Problems identified and whether they were solved"),
        display.table(problems.rename(columns=lambda c: c[:1].upper() + c[1:])
                      .style.hide(axis="index")
                      .format("{:.0f}", subset=[c[:1].upper() + c[1:] for c in pct])
                      .set_caption("Problems by type and resolution at closure; percentages are of "
                                   "the problems of that type (the last row: of all problems).")),
    ]
    solved = problems.set_index("problem type")
    worst = solved.drop(index="all problems")["unsolved (%)"].sort_values(ascending=False)
    out.append(display.markdown(
        f"Of {int(solved.loc['all problems', 'problems'])} problems, "
        f"{int(solved.loc['all problems', 'totally solved'])} were totally solved "
        f"({solved.loc['all problems', 'totally solved (%)']:.0f} %; the seed calls this 'around one "
        f"quarter'), {int(solved.loc['all problems', 'partially solved'])} partially and "
        f"{int(solved.loc['all problems', 'unsolved'])} not at all. The least often solved were "
        + ", ".join(f"{k} problems ({v:.0f} % unsolved)" for k, v in worst.head(2).items()) + "."))
    progress = entry.get("progress")
    if progress:
        df = data.table(progress["file"])
        rows = [_prepost_row(prepost(df, area, progress["unit"], progress["round"], progress["before"],
                                     progress["after"], kind="ordinal"), area.capitalize())
                for area in progress["areas"]]
        out += [display.markdown("### Family progress form: enrolment vs completion"),
                display.table(_prepost_styler(rows, "Progress form scores (1 serious difficulty … "
                                              "4 no difficulty) of the same families at enrolment "
                                              "and completion.", data.config.min_cell)),
                display.note(CAVEAT)]
    return out + _source(entry.get("source"))


def case_closure_headlines(data: ProgrammeData) -> list[str]:
    if "case_closure" not in data.config.sections:
        return []
    entry = data.config.sections["case_closure"]
    ratings = cc.rating_table(data.table(entry["cases"]), entry["rating"]).set_index("rating")["cases"]
    problems = cc.problem_table(data.table(entry["problems"]), entry["problem_type"],
                                entry["resolution"]).set_index("problem type")
    return [f"**Case closure:** of {ratings.sum()} families rated at exit, {ratings['PO++']} very "
            f"successful, {ratings['PO+']} successful, {ratings['PO+=']} moderate, {ratings['PO']} "
            f"not successful; {int(problems.loc['all problems', 'totally solved'])} of "
            f"{int(problems.loc['all problems', 'problems'])} problems totally solved."]


# ----------------------------------------------------------------------------- residential care


def _register(data: ProgrammeData, entry: dict) -> pd.DataFrame:
    reg = data.table(entry["register"])
    reg["year"] = reg["year"].astype(int)
    return reg


def _year_table(table: pd.DataFrame, caption: str):
    frame = table.rename(index={"girls": "Number of girls", "boys": "Number of boys",
                                "total": "Total", "rcis": "RCIs (working)"})
    frame.columns = [str(c) for c in frame.columns]
    return display.table(frame.style.format("{:,.0f}").set_caption(caption))


def residential_care_section(data: ProgrammeData) -> list:
    if "residential_care" not in data.config.sections:
        return []
    entry = data.config.sections["residential_care"]
    reg = _register(data, entry)
    children = data.table(entry["reintegration"])
    five = rc.TARGET_PROVINCES
    base = int(entry["base_year"])
    left_all = rc.children_left(reg, base)
    left_five = rc.children_left(reg, base, five)
    reduction = rc.rci_reduction(reg, five)
    target = rc.reintegration_vs_target(children, int(entry["target_children"]))
    compliance = rc.compliance_table(reg, 2019)
    fates = rc.what_became_of(reg, base, 2019)
    share = float(entry["target_share"])

    def left_styler(frame, caption):
        frame = frame.rename(columns={"total": "Total number of children",
                                      "percent_of_base_year": f"% of children in RCIs in {base}"})
        pct = f"% of children in RCIs in {base}"
        return display.table(frame.style.hide(axis="index")
                             .format("{:,.0f}", subset=[c for c in frame.columns if c != pct])
                             .format("{:.0f}", subset=[pct]).set_caption(caption))

    out = [
        display.markdown("## Residential care: children and institutions"),
        display.markdown(
            f"**Target.** Return {share:.0f} % of children in residential care (about "
            f"{int(entry['target_children']):,} children) in the five target provinces safely to "
            f"families. **Progress.** {int(left_five['total'].iloc[0]):,} children "
            f"({left_five['percent_of_base_year'].iloc[0]:.0f} % of those in RCIs in {base}) no "
            f"longer live in RCIs in the five provinces; {int(target['total'].iloc[0]):,} of them "
            f"were supported for reintegration by DoSVY and NGOs — "
            f"{target['percent_of_target'].iloc[0]:.0f} % of the {int(entry['target_children']):,}-"
            "child target. The rest left without DoSVY involvement, so the 64 % cannot be read "
            "as safe returns."),
        display.markdown("### Table 1: children living in RCIs, 25 provinces"),
        _year_table(rc.children_by_year(reg), "Children in working RCIs by year and sex (all provinces)."),
        display.markdown("### Table 2: children who left RCIs, 25 provinces"),
        left_styler(left_all, f"Decrease in children living in RCIs; denominator: children in RCIs in {base}."),
        display.markdown("### Table 3: children living in RCIs, five target provinces"),
        _year_table(rc.children_by_year(reg, five), "Children in working RCIs by year and sex (five target provinces)."),
        display.markdown("### Table 4: children who left RCIs, five target provinces"),
        left_styler(left_five, f"Decrease in children living in RCIs; denominator: children in RCIs in {base}."),
        display.markdown("### Table 5: working and reduced RCIs, five target provinces"),
        display.table(reduction.rename(columns={"year": "Year", "working_rcis": "Working RCIs",
                                                "reduced": "Reduced", "percent_reduction": "% reduction"})
                      .style.hide(axis="index")
                      .format("{:.0f}", subset=["Working RCIs", "Reduced", "% reduction"], na_rep="")
                      .set_caption(f"Working RCIs; the total reduction is a % of the RCIs working in {base}.")),
        display.markdown("### RCIs and children by province"),
        display.table(_province_styler(rc.by_province(reg))),
        display.markdown("### What became of the RCIs no longer working (all provinces)"),
        display.table(fates.rename(columns={"status": "Became", "closure_reason": "Reason",
                                            "rcis": "RCIs"}).style.hide(axis="index")
                      .set_caption(f"RCIs working in {base} but not in 2019.")),
        display.markdown("### Table 6: children undergoing reintegration vs the target"),
        display.table(target.rename(columns={"female": "Female", "male": "Male", "total": "Total",
                                             "percent_of_target": "% of target", "target": "Target"})
                      .style.hide(axis="index").format("{:,.0f}")
                      .set_caption("Children supported for reintegration in the five provinces.")),
        display.markdown("Table 7 is cited in the action-plan report's text but not printed in it; "
                         "its figures (1,419 of 3,500) are those of Table 6."),
        display.markdown("### Table 8: RCIs by compliance with the minimum standards, 2019"),
        display.table(compliance.rename(columns={"description": "Description", "rcis": "RCIs",
                                                 "percent": f"% of {int(compliance['rcis'][:3].sum())} inspected"})
                      .style.hide(axis="index").format("{:.1f}", subset=[f"% of {int(compliance['rcis'][:3].sum())} inspected"])
                      .set_caption("The report prints 57 % for the last row; 134 of 232 is 57.8 %.")),
    ]
    return out + _source(entry.get("source"))


def _province_styler(table: pd.DataFrame):
    table = table.copy()
    table["province"] = [f"{p} (target)" if t else p for p, t in zip(table["province"], table.pop("target province"))]
    table = table.rename(columns={"province": "Province"})
    return (table.style.hide(axis="index").format("{:,.0f}", subset=list(table.columns[1:]))
            .set_caption("Working RCIs and the children living in them by province. The 2015 "
                         "RCI counts of the nine largest provinces are the 2015 mapping's (family "
                         "preservation study, section 3); the action-plan report gives no "
                         "provincial figures, so every other provincial split here is synthetic."))


def residential_care_headlines(data: ProgrammeData) -> list[str]:
    if "residential_care" not in data.config.sections:
        return []
    entry = data.config.sections["residential_care"]
    reg = _register(data, entry)
    left_five = rc.children_left(reg, int(entry["base_year"]), rc.TARGET_PROVINCES)
    target = rc.reintegration_vs_target(data.table(entry["reintegration"]), int(entry["target_children"]))
    return [f"**Residential care:** children in RCIs in the five target provinces fell by "
            f"{left_five['percent_of_base_year'].iloc[0]:.0f} % since {entry['base_year']} "
            f"(target {float(entry['target_share']):.0f} %), but only "
            f"{int(target['total'].iloc[0]):,} children ({target['percent_of_target'].iloc[0]:.0f} % "
            f"of the {int(entry['target_children']):,} target) were supported for reintegration."]


def other_sections(data: ProgrammeData) -> list:
    out = []
    for build in (indicators_section, prepost_section, classification_section,
                  child_tracking_section, case_closure_section, residential_care_section):
        out += build(data)
    return out


def other_headlines(data: ProgrammeData) -> list[str]:
    out = []
    for build in (indicator_headlines, prepost_headlines, child_tracking_headlines,
                  case_closure_headlines, residential_care_headlines):
        out += build(data)
    return out
