"""Each child's paired change in the CSI total and in the number of factors needing services,
part of the CSI section: paired tests, who was not reassessed, the trajectory over more than
two rounds and two care groups compared (when the CSI declares a group column)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from evalkit.data.mapping import OTHER
from evalkit.data.programme import ProgrammeData
from evalkit.designs.paired import (CAVEAT, GroupChanges, PrePostResult, TrajectoryResult,
                                    compare_changes, prepost, trajectory)
from evalkit.indices import csi
from evalkit.report.content import (Interval, Chart, Column, Count, Declared, Heading, Msg, Note, Para,
                                    Stat, Table)
from evalkit.report.sections.common import (Build, attrition_sentence, prepost_row,
                                            prepost_table, register_prepost, suppressed_note)

K = "csi.pp"
TABLE = "CSI pre/post"
GROUPS = "CSI care groups compared"


@dataclass(frozen=True, eq=False)
class Result:
    total: PrePostResult
    flagged: PrePostResult
    trajectory: TrajectoryResult | None
    groups: GroupChanges | None
    other: int  # children in a care group the configuration does not declare
    other_pairs: PrePostResult | None  # their paired change (counted in the totals)


@dataclass(frozen=True)
class Built:
    blocks: tuple
    annex: tuple
    methods: tuple


def compute(data: ProgrammeData, change: csi.CSIChange) -> Result:
    scores = csi.score(data.csi)
    frame = pd.concat([data.csi[["child", "round"] + (["group"] if "group" in data.csi else [])],
                       scores[["total", "flagged"]]], axis=1)
    before, after = change.before, change.after
    total = prepost(frame, "total", "child", "round", before, after, kind="continuous")
    # the paired test counts flags as the CSI change does (factors rated at both rounds)
    paired = frame.assign(flagged=csi.paired_flagged(data.csi, "child", "round", before, after).to_numpy())
    paired.attrs = dict(frame.attrs)
    flagged = prepost(paired, "flagged", "child", "round", before, after, kind="continuous",
                      higher_is_better=False)
    traj = trajectory(frame, "flagged", "child", "round") if frame["round"].nunique() > 2 else None
    groups, other, other_pairs = None, 0, None
    if "group" in frame:
        other = int(frame.loc[frame["group"] == OTHER, "child"].nunique())
        named = paired[(paired["group"] != OTHER).fillna(False)]
        if named["group"].nunique() >= 2:
            named.attrs = dict(frame.attrs)
            groups = compare_changes(named, "flagged", "child", "round", before, after, "group",
                                     kind="continuous", higher_is_better=False)
            rest = paired[~(paired["group"] != OTHER).fillna(False)]
            if len(rest):
                rest.attrs = dict(frame.attrs)
                try:
                    other_pairs = prepost(rest, "flagged", "child", "round", before, after,
                                          kind="continuous", higher_is_better=False)
                except Exception:  # no child of the other group at both rounds
                    other_pairs = None
    return Result(total, flagged, traj, groups, other, other_pairs)


def _group_key(name: str) -> str:
    import re

    return f"{K}.group.{re.sub(r'[^a-z0-9]+', '-', str(name).lower()).strip('-') or 'x'}"


def register(b: Build, r: Result, change: csi.CSIChange) -> None:
    dc = b.dc
    register_prepost(dc, f"{K}.total", r.total, TABLE, of="csi.paired")
    register_prepost(dc, f"{K}.flagged", r.flagged, TABLE, of="csi.paired")
    if r.trajectory is not None:
        for row in r.trajectory.by_round.itertuples():
            dc.count(f"csi.round.{int(row.round)}", int(row.n), table=TABLE)
    if r.groups is not None:
        _register_groups(dc, r)
        if r.other:
            dc.count(f"{K}.group.other.children", r.other, table=GROUPS,
                     label="children in an undeclared care group")


def _register_groups(dc, r: Result) -> None:
    """Each care group's paired counts (and the pairs in no declared group), declared to add
    up to the whole programme's where they do."""
    keys = []
    for name, result in r.groups.results.items():
        keys.append(_group_key(name))
        register_prepost(dc, keys[-1], result, GROUPS)
    if r.other_pairs is not None:
        keys.append(f"{K}.group.other")
        register_prepost(dc, keys[-1], r.other_pairs, GROUPS)
    total = f"{K}.flagged"

    def adds_up(part: str) -> bool:
        return sum(dc.value(f"{k}.{part}") for k in keys) == dc.value(f"{total}.{part}")

    if not all(dc.has(f"{k}.pairs") for k in keys) or not adds_up("pairs"):
        return
    for part in ("pairs", "improved", "unchanged", "worse"):  # (each outcome where it adds up)
        if adds_up(part):
            dc.adds_up(f"{total}.{part}", [f"{k}.{part}" for k in keys])


def build(b: Build, r: Result, change: csi.CSIChange) -> Built:
    register(b, r, change)
    before, after = b.round(change.before), b.round(change.after)
    rows = [prepost_row(f"{K}.total", r.total,
                        Msg("CSI total score (12–48; higher is better)")),
            prepost_row(f"{K}.flagged", r.flagged,
                        Msg("Factors needing services (0–12; lower is better)"), rule="score")]
    table = prepost_table("csi-prepost", Msg("Paired change from {before} to {after} (children "
                                             "with a total at both; the total exists only when all "
                                             "12 factors are rated). {suppressed}", before=before,
                                             after=after, suppressed=suppressed_note(b.min_cell)),
                          rows, b.provenance(False, None))
    blocks = [Heading(3, Msg("Each child's change")),
              Para(Msg("The same children compared with themselves between {before} and {after}: "
                       "paired tests, and whether those who were not reassessed differed at the "
                       "start.", before=before, after=after)),
              table,
              Para(attrition_sentence(b, f"{K}.flagged", r.flagged.attrition, Msg("children"),
                                      f"{K}.flagged.pairs"))]
    annex = []
    if r.trajectory is not None:
        blocks.append(trajectory_chart(b, r.trajectory))
        annex.append(trajectory_table(b, r.trajectory))
    blocks += groups_blocks(b, r, change)
    blocks.append(Note(Msg(CAVEAT)))
    methods = (Msg("Pre/post tests. Each child compared with their own earlier assessment: for yes/no "
                   "outcomes a paired Wald 95 % CI and the exact McNemar test on those who "
                   "changed; for scores a paired t CI with the paired t test and the Wilcoxon "
                   "signed-rank test (the p-value column shows both, t first). Trajectories over "
                   "several rounds: a regression with child fixed effects (linearmodels PanelOLS), "
                   "standard errors clustered by child. Two groups' changes: Welch's t test. Those "
                   "not assessed again are compared with those who were on their first "
                   "assessment (Welch)."),)
    return Built(tuple(blocks), tuple(annex), methods)


def trajectory_table(b: Build, traj: TrajectoryResult) -> Table:
    frame = traj.to_frame()
    rows = []
    for row in frame.itertuples():
        n = (f"csi.round.{int(row.round)}",)
        rows.append((b.round(int(row.round)), Count(n[0]),
                     Stat(row.mean, "score", n),
                     Interval(low=Stat(row.ci_low, "score", n),
                         high=Stat(row.ci_high, "score", n)),
                     Stat(row.change, "score", n, signed=True) if pd.notna(row.change) else None,
                     Interval(low=Stat(row.change_ci_low, "score", n, signed=True),
                         high=Stat(row.change_ci_high, "score", n, signed=True))
                     if pd.notna(row.change_ci_low) else None,
                     Stat(row.p_value, "p", n) if pd.notna(row.p_value) else None))
    columns = (Column(Msg("Round"), numeric=False), Column(Msg("Children (n)")),
               Column(Msg("Mean factors needing services")), Column(Msg("95 % CI")),
               Column(Msg("Within-child change since first round")), Column(Msg("95 % CI")),
               Column(Msg("p-value")))
    caption = Msg("Trajectory of the number of factors needing services: means of the children "
                  "assessed in each round (95 % CI), and the average change of each child "
                  "compared with themselves since the first round (fixed-effects regression; "
                  "method in Methods).")
    return Table("csi-trajectory", caption, columns, tuple(rows), b.provenance(False, None))


def trajectory_chart(b: Build, traj: TrajectoryResult) -> Chart:
    frame = traj.by_round.reset_index(drop=True)
    stats = tuple(Stat(m, "score", (f"csi.round.{int(r)}",))
                  for m, r in zip(frame["mean"], frame["round"]))

    def draw(view, text, narrow):
        from evalkit.report import charts

        keep = [i for i, s in enumerate(stats) if view.stat_shown(s.n, s)]
        rows = frame.iloc[keep].reset_index(drop=True)
        fig = charts.figure(narrow, 4.6 if narrow else 4.0)
        ax = fig.subplots()
        x = np.arange(len(rows))
        ax.errorbar(x, rows["mean"], yerr=[rows["mean"] - rows["ci_low"], rows["ci_high"] - rows["mean"]],
                    marker="o", color=charts.PALETTE["line"], capsize=4)
        size = 11 if narrow else 9
        ax.set_xticks(x, [text(b.round(int(r))) for r in rows["round"]], fontsize=size,
                      rotation=30 if narrow else 0, ha="right" if narrow else "center")
        ax.set_ylim(0, max(1.0, float(rows["ci_high"].max()) * 1.15) if len(rows) else 1.0)
        ax.set_ylabel(text(Msg("Mean factors needing services (of 12)")), fontsize=size)
        ax.set_title(text(Msg("Number of CSI factors needing services, by round (lower is "
                              "better)")), fontsize=size + 1)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        fig.tight_layout()
        return fig

    first, last = int(frame["round"].iloc[0]), int(frame["round"].iloc[-1])
    return Chart("csi-trajectory-chart", draw,
                 alt=Msg("Line chart: mean number of CSI factors needing services in each round "
                         "from {first} to {last}, with 95 % confidence intervals; lower is better.",
                         first=b.round(first), last=b.round(last)),
                 caption=Msg("Lower is better. Each point is the mean of the children assessed in "
                             "that round."), provenance=b.provenance(False, None), stats=stats)


def _group_label(b: Build, name: str):
    return Declared(str(name)) if str(name) in b.config.declared else Msg("other")


def groups_blocks(b: Build, r: Result, change: csi.CSIChange) -> list:
    groups = r.groups
    if groups is None:
        return []
    names = list(groups.results)
    rows = [prepost_row(_group_key(g), res, Msg("{group}: factors needing services",
                                                 group=_group_label(b, g)), rule="score")
            for g, res in groups.results.items()]
    keys = [(f"{_group_key(g)}.pairs",) for g in names[:2]]
    both = keys[0] + keys[1]
    first, second = names[0], names[1]
    blocks = [Heading(3, Msg("Two groups compared (descriptive)")),
              prepost_table("csi-groups", Msg("Paired change by care group. {suppressed}",
                                              suppressed=suppressed_note(b.min_cell)), rows,
                            b.provenance(False, None)),
              Para(Msg("On average the number of factors needing services changed by {a} among "
                       "children in {first} care and by {b2} among children in {second} care "
                       "(lower is better). The difference between the two changes is {diff} "
                       "factors (95 % CI {low} to {high}; p = {p}): {verdict}",
                       a=Stat(groups.results[first].mean_change, "score", keys[0], signed=True),
                       first=_group_label(b, first),
                       b2=Stat(groups.results[second].mean_change, "score", keys[1], signed=True),
                       second=_group_label(b, second),
                       diff=Stat(abs(groups.difference), "score", both),
                       low=Stat(groups.ci_low, "score", both, signed=True),
                       high=Stat(groups.ci_high, "score", both, signed=True),
                       p=Stat(groups.p_value, "p", both),
                       verdict=_group_verdict(b, groups, first, second)))]
    blocks.append(Note(Msg(groups.caveat)))
    if r.other:
        blocks.append(Para(Msg("{n} children belong to a care group not declared in the "
                               "programme's configuration; they are counted in every other "
                               "figure but not in this comparison.",
                               n=Count(f"{K}.group.other.children", words=True))))
    return blocks


def _group_verdict(b: Build, groups: GroupChanges, first: str, second: str):
    if np.isnan(groups.p_value) or groups.p_value >= 0.05:
        return Msg("the two groups' changes do not differ detectably.")
    better = first if groups.difference > 0 else second  # difference = second − first; lower is better
    return Msg("children in {better} care improved more.", better=_group_label(b, better))
