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


NAME = "Child Tracking Tool status"


def _shown(dc: Disclosure, result: Result):
    """Children per status and the sums the table prints (every candidate denominator that
    adds statuses up), suppressed together so no status can be worked out from a sum."""
    counts = {k: int(v) for k, v in result.counts.items()}
    everyone = set(counts)
    sums = {"all children supported": (everyone, sum(counts.values())),
            "all except not yet updated": (everyone - {"not yet updated"},
                                           sum(v for k, v in counts.items() if k != "not yet updated")),
            "children with a colour status": ({"green", "yellow", "red"},
                                              sum(counts[k] for k in ("green", "yellow", "red")))}
    return dc.linked(NAME, counts, sums)


def render(data: ProgrammeData, cfg: ChildTrackingConfig, result: Result, dc: Disclosure) -> list:
    shown, totals, _ = _shown(dc, result)
    rows = {"Status": result.table["status"], "Meaning": result.table["meaning"],
            "Children": [SUPPRESSED if shown[s] is None else f"{shown[s]:,}" for s in result.table["status"]]}
    for col in [c for c in result.table.columns if c.startswith("% of")]:
        name = col[len("% of "):col.rindex(" (")]
        hidden = name in totals and totals[name] is None
        header = f"% of {name}" + ("" if hidden else col[col.rindex(" ("):])
        rows[header] = [SUPPRESSED if hidden or shown[s] is None else f"{v:.1f}"
                        for s, v in zip(result.table["status"], result.table[col])]
    rows["Published %"] = ["–" if s not in cfg.published else f"{cfg.published[s]:.0f}"
                           for s in result.table["status"]]
    table = pd.DataFrame(rows)
    styler = (table.style.hide(axis="index")
              .set_caption("Child Tracking Tool status of the children supported for "
                           "reintegration, as % of each possible denominator."))
    which = (f"The published 75 / 6 / 3 % are reproduced only with the denominator "
             f"“{result.matching[0]}”." if result.matching else
             "No candidate denominator reproduces the published percentages.")
    total = totals["all children supported"]
    out = [display.markdown("## Child Tracking Tool: how are reintegrated children doing?"),
           display.markdown((f"{total:,} children were supported for reintegration. "
                             if total is not None else "") + which),
           display.table(styler)]
    if cfg.note:
        out.append(display.note(cfg.note, kind="info"))
    return out + source(cfg.source)


def headlines(data: ProgrammeData, cfg: ChildTrackingConfig, result: Result, dc: Disclosure) -> list[str]:
    shown, totals, _ = _shown(dc, result)

    def text(status):
        return "a number (not shown)" if shown[status] is None else f"{shown[status]:,}"

    total = totals["all children supported"]
    return [f"**Child Tracking Tool:** of {'the' if total is None else f'{total:,}'} "
            f"children supported for reintegration, {text('green')} are safe and stable "
            f"(green) and {text('not located')} could not be located. The published percentages rest on "
            "a denominator the study does not reconcile with this count, so they are shown in "
            "the section below, not here."]
