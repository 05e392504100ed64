"""The Child Tracking Tool (green / yellow / red status of reintegrated children), configured
under ``child_tracking:``; shows which denominator reproduces the published percentages."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from evalkit.config import ChildTrackingConfig, ProgrammeConfig
from evalkit.data.programme import ProgrammeData
from evalkit.indices import child_tracking as ct
from evalkit.report import display
from evalkit.report.disclosure import SUPPRESSED, Disclosure
from evalkit.report.sections.common import source


@dataclass(frozen=True, eq=False)
class Result:
    counts: pd.Series
    table: pd.DataFrame
    matching: list[str]


def configs(config: ProgrammeConfig) -> tuple[ChildTrackingConfig, ...]:
    return (config.child_tracking,) if config.child_tracking else ()


def compute(data: ProgrammeData, cfg: ChildTrackingConfig) -> Result:
    counts = ct.status_counts(data.table(cfg.file), cfg.status)
    declared = cfg.declared_denominators
    return Result(counts, ct.status_table(counts, declared),
                  ct.matching_denominators(counts, cfg.published, declared))


def render(data: ProgrammeData, cfg: ChildTrackingConfig, result: Result, dc: Disclosure) -> list:
    table = result.table.rename(columns={"status": "Status", "meaning": "Meaning", "children": "Children"})
    name = "Child Tracking Tool status"
    shown = dc.partition(name, dict(zip(table["Status"], table["Children"].astype(int))))
    pct_cols = [c for c in table.columns if c.startswith("% of")]
    for col in pct_cols:
        table[col] = [f"{v:.1f}" if shown.shown(s) else SUPPRESSED for s, v in zip(table["Status"], table[col])]
    table["Children"] = [shown.text(s) for s in table["Status"]]
    table["Published %"] = ["–" if s not in cfg.published else f"{cfg.published[s]:.0f}" for s in table["Status"]]
    styler = (table.style.hide(axis="index")
              .set_caption("Child Tracking Tool status of the children supported for "
                           "reintegration, as % of each possible denominator."))
    which = (f"The published 75 / 6 / 3 % are reproduced only with the denominator "
             f"“{result.matching[0]}”." if result.matching else
             "No candidate denominator reproduces the published percentages.")
    out = [display.markdown("## Child Tracking Tool: how are reintegrated children doing?"),
           display.markdown(f"{dc.count(int(result.counts.sum()), name, 'total')} children were "
                            "supported for reintegration. " + which),
           display.table(styler)]
    if cfg.note:
        out.append(display.note(cfg.note, kind="info"))
    return out + source(cfg.source)


def headlines(data: ProgrammeData, cfg: ChildTrackingConfig, result: Result, dc: Disclosure) -> list[str]:
    counts = result.counts
    shown = dc.partition("Child Tracking Tool status", {k: int(v) for k, v in counts.items()})
    return [f"**Child Tracking Tool:** of {dc.count(int(counts.sum()), 'Child Tracking Tool status', 'total')} "
            f"children supported for reintegration, {shown.text('green')} are safe and stable "
            f"(green) and {shown.text('not located')} could not be located. The published percentages rest on "
            "a denominator the study does not reconcile with this count, so they are shown in "
            "the section below, not here."]
