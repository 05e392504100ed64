"""Pre/post change in each child's CSI total and number of factors needing services, shown
for programmes with a ``csi:`` section; trajectories over more than two rounds and two care
groups compared when the CSI declares a group column."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

from evalkit.config import CSIConfig, ProgrammeConfig
from evalkit.data.mapping import OTHER
from evalkit.data.programme import ProgrammeData
from evalkit.designs.paired import (CAVEAT, GroupChanges, PrePostResult, TrajectoryResult,
                                    compare_changes, prepost, trajectory)
from evalkit.indices import csi
from evalkit.report import display
from evalkit.report.disclosure import SUPPRESSED, Disclosure
from evalkit.report.sections import csi as csi_section
from evalkit.report.sections.common import (attrition_sentence, p_value, parts_of, prepost_row,
                                            prepost_styler, round_label)


@dataclass(frozen=True, eq=False)
class Result:
    before: object
    after: object
    total: PrePostResult
    flagged: PrePostResult
    trajectory: TrajectoryResult | None
    groups: GroupChanges | None
    other: int  # children in a care group the configuration does not declare
    change: csi.CSIChange


def configs(config: ProgrammeConfig) -> tuple[CSIConfig, ...]:
    return (config.csi,) if config.csi is not None else ()


def compute(data: ProgrammeData, cfg: CSIConfig) -> Result:
    scores = csi.score(data.csi)
    frame = pd.concat([data.csi[["child", "round"] + (["group"] if "group" in data.csi else [])],
                       scores[["total", "flagged"]]], axis=1)
    before = cfg.before if cfg.before is not None else frame["round"].min()
    after = cfg.after if cfg.after is not None else frame["round"].max()
    total = prepost(frame, "total", "child", "round", before, after, kind="continuous")
    # the paired test counts flags as the CSI change does (factors rated at both rounds)
    paired = frame.assign(flagged=csi.paired_flagged(data.csi, "child", "round", before, after).to_numpy())
    paired.attrs = dict(frame.attrs)
    flagged = prepost(paired, "flagged", "child", "round", before, after, kind="continuous",
                      higher_is_better=False)
    traj = trajectory(frame, "flagged", "child", "round") if frame["round"].nunique() > 2 else None
    groups, other = None, 0
    if "group" in frame:
        other = int(frame.loc[frame["group"] == OTHER, "child"].nunique())
        if frame.loc[frame["group"] != OTHER, "group"].nunique() >= 2:
            declared = paired[(paired["group"] != OTHER).fillna(False)]
            declared.attrs = dict(frame.attrs)
            groups = compare_changes(declared, "flagged", "child", "round", before, after, "group",
                                     kind="continuous", higher_is_better=False)
    return Result(before, after, total, flagged, traj, groups, other, csi_section.change(data))


def headlines(data: ProgrammeData, cfg: CSIConfig, result: Result, dc: Disclosure) -> list[str]:
    return []  # the CSI section's key findings already speak of these children


TABLE = "CSI pre/post"


def render(data: ProgrammeData, cfg: CSIConfig, result: Result, dc: Disclosure) -> list:
    min_cell = data.config.min_cell
    label_b, label_a = round_label(data, result.before), round_label(data, result.after)
    paired = result.change.children_paired
    rows = [prepost_row(dc, TABLE, result.total, "CSI total score (12–48; higher is better)", of=paired),
            prepost_row(dc, TABLE, result.flagged, "Factors needing services (0–12; lower is better)", of=paired)]
    out = [display.markdown(
               "## Pre/post change in each child's CSI\n\nThe same children compared with "
               f"themselves between {label_b} and {label_a}: paired tests, and whether those "
               "who were not reassessed differed at the start."),
           display.table(prepost_styler(
               rows, f"Paired change from {label_b} to {label_a} (children with a total at both; "
                     "the total exists only when all 12 factors are rated).", min_cell)),
           display.markdown(attrition_sentence(dc, TABLE, result.flagged.attrition, "children",
                                                   stayers=result.flagged.n_pairs,
                                                   leavers=csi_section.reassessment(dc, data, result.change)["only_before"]))]
    traj = result.trajectory
    if traj is not None:
        table = traj.to_frame()
        rounds = list(table["round"])
        shown_n = csi_section.round_counts(dc, data, result.change)
        table.insert(0, "Round", [round_label(data, r) for r in table.pop("round")])
        table = table.rename(columns={"n": "Children (n)", "mean": "Mean factors needing services",
                                      "ci_low": "CI low", "ci_high": "CI high",
                                      "change": "Within-child change since first round",
                                      "change_ci_low": "change CI low",
                                      "change_ci_high": "change CI high", "p_value": "p"})
        table = table.drop(columns=["se"])
        stats = [c for c in table.columns if c not in ("Round", "Children (n)", "p")]
        small = [not dc.rests_on(n, "CSI trajectory", f"{r}: statistics")
                 for r, n in zip(table["Round"], table["Children (n)"])]
        for col in stats:
            table[col] = [SUPPRESSED if hide else ("–" if pd.isna(v) else f"{v:.2f}")
                          for v, hide in zip(table[col], small)]
        table["p"] = [SUPPRESSED if hide else p_value(v) for v, hide in zip(table["p"], small)]
        table["Children (n)"] = [SUPPRESSED if shown_n.get(r) is None else
                                 dc.count(int(n), "CSI trajectory", f"{label}: children")
                                 for r, label, n in zip(rounds, table["Round"], table["Children (n)"])]
        children = csi_section.children_text(dc, data, result.change)
        basis = (f"{traj.n_obs} assessments of {children} children" if children
                 else "every assessment of every child")
        styler = (table.style.hide(axis="index")
                  .set_caption("Trajectory of the number of factors needing services: means of "
                               "the children assessed in each round (95 % CI), and the average "
                               "change of each child compared with themselves since the first "
                               f"round ({basis}; method in Methods)."))
        out += [display.markdown("### Trajectory over all rounds"), display.table(styler),
                display.figure(_trajectory_chart(data, traj, min_cell, shown_n),
                               alt="Mean number of CSI factors needing services by round with 95 % CIs",
                               caption="Lower is better. Each point is the mean of the children "
                                       "assessed in that round.")]
    groups = result.groups
    other_paired = (result.flagged.n_pairs - sum(r.n_pairs for r in groups.results.values())
                    if groups is not None else 0)
    if groups is not None and (dc.small(result.other) or dc.small(other_paired) or any(
            dc.small(r.n_pairs) for r in groups.results.values())):
        dc.withhold("CSI care groups compared", "a care group of fewer than min_cell children, or "
                    "one that totals would reveal")
        out += [display.markdown("### Two groups compared (descriptive)"),
                display.markdown(
                    "The comparison of care groups is not shown: one group holds fewer than "
                    f"{min_cell} children, or could be worked out from the totals shown above, "
                    "so its figures could identify the children in it.")]
        groups = None
    if groups is not None:
        # each group's improved / unchanged / worse are parts of all children's (the pre/post
        # table above): shown only when no group has a small part
        small = any(dc.small(k) for r in groups.results.values() for k in parts_of(r).values())
        rows = [prepost_row(dc, "CSI care groups compared", r, f"{g.capitalize()}: factors needing services",
                            hide_parts=small)
                for g, r in groups.results.items()]
        names = list(groups.results)
        out += [display.markdown("### Two groups compared (descriptive)"),
                display.table(prepost_styler(rows, "Paired change by care group.", min_cell)),
                display.markdown(
                    "On average the number of factors needing services changed by "
                    + " and by ".join(f"{groups.results[g].mean_change:+.2f} among {g} care children"
                                      for g in names[:2])
                    + f"; the change among {names[1]} care children minus the change among "
                    f"{names[0]} care children is {groups.difference:+.2f} factors (95 % CI "
                    f"{groups.ci_low:+.2f} to {groups.ci_high:+.2f}; p = "
                    f"{p_value(groups.p_value)})."),
                display.note(groups.caveat)]
        if result.other:
            out.append(display.markdown(
                f"{dc.count(result.other, 'CSI care groups compared', 'other')} children belong to a care group "
                "not declared in the programme's configuration; they are counted in every other "
                "figure but not in this comparison."))
    out.append(display.note(CAVEAT))
    return out


def _trajectory_chart(data: ProgrammeData, traj, min_cell: int, shown_n: dict) -> Figure:
    """Drawn from the suppressed table: a round with fewer than min_cell children has no point."""
    frame = traj.by_round
    frame = frame[frame["n"] >= min_cell].reset_index(drop=True)
    fig = Figure(figsize=(7.5, 4), dpi=100)
    ax = fig.subplots()
    x = np.arange(len(frame))
    ax.errorbar(x, frame["mean"], yerr=[frame["mean"] - frame["ci_low"], frame["ci_high"] - frame["mean"]],
                marker="o", color="#1f5f8b", capsize=4)
    ax.set_xticks(x, [f"{round_label(data, r)}\n(n = {shown_n[r]:,})" if shown_n.get(r) is not None
                      else round_label(data, r) for r in frame["round"]])
    ax.set_ylim(0, max(1.0, float(frame["ci_high"].max()) * 1.15))
    ax.set_ylabel("Mean factors needing services (of 12)")
    ax.set_xlabel("Assessment round (children assessed)")
    ax.set_title("Number of CSI factors needing services, by round", fontsize=11)
    sns.despine(ax=ax)
    fig.tight_layout()
    return fig
