"""Case closure (SKO): closure ratings of exiting families, problems and whether they were
solved, and the family progress form; configured under ``case_closure:``."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from evalkit.config import CaseClosureConfig, ProgrammeConfig
from evalkit.data.programme import ProgrammeData
from evalkit.designs.paired import CAVEAT, PrePostResult, prepost
from evalkit.indices import case_closure as cc
from evalkit.report import display
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


def render(data: ProgrammeData, cfg: CaseClosureConfig, result: Result) -> list:
    published = cfg.published.get("ratings", {}) or {}
    ratings = result.ratings.copy()
    ratings["published"] = [published.get(r, np.nan) for r in ratings["rating"]]
    ratings = ratings.rename(columns={"rating": "Rating", "meaning": "Meaning", "cases": "Families",
                                      "percent_of_rated_cases": f"% of {int(ratings['cases'].sum())} rated exits",
                                      "published": "Published (families)"})
    problems = result.problems
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
    total = solved.loc["all problems"]
    worst = solved.drop(index="all problems")["unsolved (%)"].sort_values(ascending=False)
    out.append(display.markdown(
        f"Of {int(total['problems'])} problems, {int(total['totally solved'])} were totally solved "
        f"({total['totally solved (%)']:.0f} %; the study calls this 'around one quarter'), "
        f"{int(total['partially solved'])} partially and {int(total['unsolved'])} not at all. The "
        "least often solved were "
        + ", ".join(f"{k} problems ({v:.0f} % unsolved)" for k, v in worst.head(2).items()) + "."))
    if result.progress:
        rows = [prepost_row(r, area.capitalize()) for area, r in result.progress]
        out += [display.markdown("### Family progress form: enrolment vs completion"),
                display.table(prepost_styler(rows, "Progress form scores (1 serious difficulty … "
                                             "4 no difficulty) of the same families at enrolment "
                                             "and completion.", data.config.min_cell)),
                display.note(CAVEAT)]
    return out + source(cfg.source)


def headlines(data: ProgrammeData, cfg: CaseClosureConfig, result: Result) -> list[str]:
    ratings = result.ratings.set_index("rating")["cases"]
    total = result.problems.set_index("problem type").loc["all problems"]
    return [f"**Case closure:** of {ratings.sum()} families rated at exit, {ratings['PO++']} very "
            f"successful, {ratings['PO+']} successful, {ratings['PO+=']} moderate, {ratings['PO']} "
            f"not successful; {int(total['totally solved'])} of {int(total['problems'])} problems "
            "totally solved."]
