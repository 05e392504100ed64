"""The Child Tracking Tool (green / yellow / red status of reintegrated children), configured
under ``child_tracking:``; shows which denominator reproduces the published percentages."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from evalkit.config import ChildTrackingConfig, ProgrammeConfig
from evalkit.i18n import _
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
    shown, totals, _log = _shown(dc, result)
    statuses = list(result.table["status"])
    rows = {_("Status"): [_(ct.STATUS_LABELS.get(s, s)) for s in statuses],
            _("Meaning"): [_(m) for m in result.table["meaning"]],
            _("Children"): [SUPPRESSED if shown[s] is None else f"{shown[s]:,}" for s in statuses]}
    for col in [c for c in result.table.columns if c.startswith("% of")]:
        name = col[len("% of "):col.rindex(" (")]
        hidden = name in totals and totals[name] is None
        header = _("% of {denominator}").format(denominator=_(name)) + (
            "" if hidden else col[col.rindex(" ("):])
        rows[header] = [SUPPRESSED if hidden or shown[s] is None else display.share(v)
                        for s, v in zip(statuses, result.table[col])]
    rows[_("Published %")] = ["–" if s not in cfg.published else f"{cfg.published[s]:.0f}"
                              for s in statuses]
    table = pd.DataFrame(rows)
    styler = (table.style.hide(axis="index")
              .set_caption(_("Child Tracking Tool status of the children supported for "
                             "reintegration, as % of each possible denominator.")))
    which = (_("The published 75 / 6 / 3 % are reproduced only with the denominator "
               "“{denominator}”.").format(denominator=_(result.matching[0])) if result.matching else
             _("No candidate denominator reproduces the published percentages."))
    total = totals["all children supported"]
    out = [display.markdown("## " + _("Child Tracking Tool: how are reintegrated children doing?")),
           display.markdown((_("{n} children were supported for reintegration.").format(n=f"{total:,}")
                             + " " if total is not None else "") + which),
           display.table(styler)]
    if cfg.note:
        out.append(display.note(cfg.note, kind="info"))
    return out + source(cfg.source)


def headlines(data: ProgrammeData, cfg: ChildTrackingConfig, result: Result, dc: Disclosure) -> list[str]:
    shown, totals, _log = _shown(dc, result)

    def text(status):
        return _("a number (not shown)") if shown[status] is None else f"{shown[status]:,}"

    total = totals["all children supported"]
    sentence = (_("of the children supported for reintegration, {green} are safe and stable "
                  "(green) and {lost} could not be located.") if total is None else
                _("of {total} children supported for reintegration, {green} are safe and stable "
                  "(green) and {lost} could not be located."))
    return ["**" + _("Child Tracking Tool:") + "** " + sentence.format(
        total=f"{total:,}" if total is not None else "", green=text("green"),
        lost=text("not located")) + " " + _(
        "The published percentages rest on a denominator the study does not reconcile with this "
        "count, so they are shown in the section below, not here.")]
