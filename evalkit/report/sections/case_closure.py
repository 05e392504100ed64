"""Case closure (SKO): closure ratings of exiting families, problems and whether they were
solved, and the family progress form; configured under ``case_closure:``."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from evalkit.config import CaseClosureConfig, ProgrammeConfig
from evalkit.data.programme import ProgrammeData
from evalkit.designs.paired import CAVEAT, PrePostResult, prepost
from evalkit.indices import case_closure as cc
from evalkit.report import display
from evalkit.report.disclosure import SUPPRESSED, Disclosure
from evalkit.report.sections.common import prepost_row, prepost_styler, source


@dataclass(frozen=True, eq=False)
class Result:
    ratings: pd.DataFrame
    problems: pd.DataFrame
    progress: list[tuple[str, PrePostResult]]


def configs(config: ProgrammeConfig) -> tuple[CaseClosureConfig, ...]:
    return (config.case_closure,) if config.case_closure else ()


def compute(data: ProgrammeData, cfg: CaseClosureConfig) -> Result:
    ratings = cc.rating_table(data.table(cfg.cases), cfg.rating)
    problems = cc.problem_table(data.table(cfg.problems), cfg.problem_type, cfg.resolution)
    progress = []
    if cfg.progress is not None:
        p = cfg.progress
        df = data.table(p.file)
        progress = [(area, prepost(df, area, p.unit, p.round, p.before, p.after, kind="ordinal"))
                    for area in p.areas]
    return Result(ratings, problems, progress)


TABLE = "Closure ratings"


def _ratings(dc: Disclosure, cfg: CaseClosureConfig, result: Result):
    """Families per closure rating as they may be shown: a rating held by fewer than
    min_cell families is suppressed unless the study published that figure (with its source)."""
    return dc.partition(TABLE, dict(zip(result.ratings["rating"], result.ratings["cases"].astype(int))),
                        published=cfg.published.get("ratings") or {}, citation=cfg.source)


def render(data: ProgrammeData, cfg: CaseClosureConfig, result: Result, dc: Disclosure) -> list:
    published = cfg.published.get("ratings", {}) or {}
    shown = _ratings(dc, cfg, result)
    total = dc.count(int(result.ratings["cases"].sum()), TABLE, "total")
    ratings = pd.DataFrame({
        "Rating": result.ratings["rating"], "Meaning": result.ratings["meaning"],
        "Families": [shown.text(r) for r in result.ratings["rating"]],
        f"% of {total} rated exits": [f"{shown.percent[r]:.0f}" if shown.shown(r) else SUPPRESSED
                                      for r in result.ratings["rating"]],
        "Published (families)": [f"{published[r]:.0f}" if r in published else "–"
                                 for r in result.ratings["rating"]]})
    problems = result.problems
    pct = [c for c in problems.columns if c.endswith("(%)")]
    out = [
        display.markdown("## Case closure: how did families leave the programme?"),
        display.table(ratings.style.hide(axis="index")
                      .set_caption("Closure rating of each family exiting; denominator: all rated "
                                   "exits. A count under the privacy threshold is shown only where "
                                   "the study published it (source below).")),
        display.markdown("### Problems identified and whether they were solved"),
        display.table(problems.rename(columns=lambda c: c[:1].upper() + c[1:])
                      .style.hide(axis="index")
                      .format("{:.0f}", subset=[c[:1].upper() + c[1:] for c in pct])
                      .set_caption("Problems by type and resolution at closure; percentages are of "
                                   "the problems of that type (the last row: of all problems).")),
    ]
    solved = problems.set_index("problem type")
    total = solved.loc["all problems"]
    worst = solved.drop(index="all problems")["unsolved (%)"].sort_values(ascending=False)
    out.append(display.markdown(
        f"Of {int(total['problems'])} problems, {int(total['totally solved'])} were totally solved "
        f"({total['totally solved (%)']:.0f} %; the study calls this 'around one quarter'), "
        f"{int(total['partially solved'])} partially and {int(total['unsolved'])} not at all. The "
        "least often solved were "
        + ", ".join(f"{k} problems ({v:.0f} % unsolved)" for k, v in worst.head(2).items()) + "."))
    if result.progress:
        rated = int(result.ratings["cases"].sum())  # the families the progress form follows
        rows = [prepost_row(dc, "Family progress form", r, area.capitalize(), of=rated)
                for area, r in result.progress]
        out += [display.markdown("### Family progress form: enrolment vs completion"),
                display.table(prepost_styler(rows, "Progress form scores (1 serious difficulty … "
                                             "4 no difficulty) of the same families at enrolment "
                                             "and completion.", data.config.min_cell)),
                display.note(CAVEAT)]
    return out + source(cfg.source)


def headlines(data: ProgrammeData, cfg: CaseClosureConfig, result: Result, dc: Disclosure) -> list[str]:
    shown = _ratings(dc, cfg, result)
    total = result.problems.set_index("problem type").loc["all problems"]
    families = dc.count(int(result.ratings["cases"].sum()), TABLE, "total")
    return [f"**Case closure:** of {families} families rated at exit, {shown.text('PO++')} very "
            f"successful, {shown.text('PO+')} successful, {shown.text('PO+=')} moderate, "
            f"{shown.text('PO')} not successful; {int(total['totally solved'])} of "
            f"{int(total['problems'])} problems totally solved."]
