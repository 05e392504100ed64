"""Case closure (SKO): closure ratings of exiting families, problems and whether they were
solved, and the family progress form; configured under ``case_closure:``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from evalkit.config import Context
from evalkit.data.programme import ProgrammeData
from evalkit.data.rules import TableRule
from evalkit.data.validate import Field
from evalkit.designs.paired import CAVEAT, PrePostResult, prepost
from evalkit.i18n import N_
from evalkit.indices import case_closure as cc
from evalkit.report.content import (Code, Column, Count, Heading, Msg, Note, Num, Para, Share,
                                    Strong, Table)
from evalkit.report.sections.common import (Build, Finding, Section, listing, prepost_row,
                                            prepost_table, register_prepost, source_line,
                                            suppressed_note)

KEY = "case_closure"
MANY = False
ANALYSIS = N_("case-closure ratings and problems")
KEYS = frozenset({"cases", "rating", "problems", "problem_type", "resolution", "published",
                  "source", "progress"})
NESTED_KEYS = frozenset({"file", "unit", "round", "before", "after", "areas"})
LANGUAGES = ("en",)


@dataclass(frozen=True)
class Progress:
    """A family progress form scored at enrolment and completion."""

    file: str
    unit: str
    round: str
    before: Any
    after: Any
    areas: tuple[str, ...]


@dataclass(frozen=True)
class Config:
    cases: str
    rating: str
    problems: str
    problem_type: str
    resolution: str
    published: dict[str, Any] = field(default_factory=dict)
    source: str | None = None
    progress: Progress | None = None


def parse(entry: dict, where: str, ctx: Context) -> Config:
    for key in ("cases", "rating", "problems", "problem_type", "resolution"):
        if key not in entry:
            raise ctx.error(where + key, "is missing.")
    cases = ctx.file(entry["cases"], f"{where}cases")
    problems = ctx.file(entry["problems"], f"{where}problems")
    progress = entry.get("progress")
    if progress is not None:
        here = f"{where}progress."
        if not isinstance(progress, dict):
            raise ctx.error(here[:-1], f"is {progress!r}; expected a mapping.")
        ctx.known(progress, NESTED_KEYS, here)
        for key in sorted(NESTED_KEYS):
            if key not in progress:
                raise ctx.error(here + key, "is missing.")
        spec = ctx.file(progress["file"], f"{here}file")
        progress = Progress(file=spec.path, unit=ctx.text(progress, "unit", here),
                            round=ctx.text(progress, "round", here), before=progress["before"],
                            after=progress["after"],
                            areas=tuple(str(a) for a in ctx.entries(progress, "areas", here, list)))
    return Config(cases=cases.path, rating=ctx.text(entry, "rating", where),
                  problems=problems.path, problem_type=ctx.text(entry, "problem_type", where),
                  resolution=ctx.text(entry, "resolution", where),
                  published=ctx.mapping(entry, "published", where),
                  source=ctx.text(entry, "source", where), progress=progress)


def rules(cfg: Config) -> list:
    out = [TableRule(cfg.cases), TableRule(cfg.problems)]
    if cfg.progress is not None:
        p = cfg.progress
        out.append(TableRule(p.file, tuple(Field(a, a, "number") for a in p.areas), (p.unit,)))
    return out


@dataclass(frozen=True, eq=False)
class Result:
    ratings: pd.DataFrame
    problems: pd.DataFrame
    progress: list[tuple[str, PrePostResult]]


def compute(data: ProgrammeData, cfg: Config) -> Result:
    ratings = cc.rating_table(data.table(cfg.cases), cfg.rating)
    problems = cc.problem_table(data.table(cfg.problems), cfg.problem_type, cfg.resolution)
    progress = []
    if cfg.progress is not None:
        p = cfg.progress
        df = data.table(p.file)
        progress = [(area, prepost(df, area, p.unit, p.round, p.before, p.after, kind="ordinal"))
                    for area in p.areas]
    return Result(ratings, problems, progress)


K = "closure"
TABLE = "Closure ratings"
AREAS = {"economic": N_("Economic"), "education": N_("Education"), "health": N_("Health"),
         "psychosocial": N_("Psychosocial"), "administrative": N_("Administrative")}


def register(b: Build, cfg: Config, r: Result) -> None:
    published = cfg.published.get("ratings") or {}
    counts = dict(zip(r.ratings["rating"], r.ratings["cases"].astype(int)))
    b.dc.whole(f"{K}.families", sum(counts.values()),
               {f"{K}.rating.{k}": v for k, v in counts.items()}, table=TABLE, cost=10,
               published={f"{K}.rating.{k}": v for k, v in published.items()},
               citation=bool(cfg.source))
    for area, res in r.progress:
        register_prepost(b.dc, f"{K}.progress.{area}", res, "Family progress form",
                         of=f"{K}.families")


def build(b: Build, cfg: Config, r: Result) -> Section:
    register(b, cfg, r)
    published = cfg.published.get("ratings") or {}
    rows = tuple((Code(rating), Msg(cc.RATING_MEANING[rating]), Count(f"{K}.rating.{rating}"),
                  Share(f"{K}.rating.{rating}", f"{K}.families"),
                  Num(published[rating], "int") if rating in published else None)
                 for rating in r.ratings["rating"])
    ratings = Table("closure-ratings",
                    Msg("Closure rating of each family exiting; denominator: all rated exits "
                        "({n}). A count under the privacy threshold is shown only where the study "
                        "published it (source below).", n=Count(f"{K}.families")),
                    (Column(Msg("Rating"), numeric=False), Column(Msg("Meaning"), numeric=False),
                     Column(Msg("Families")), Column(Msg("% of rated exits")),
                     Column(Msg("Published (families)"))), rows,
                    b.provenance(bool(published), cfg.source))
    problems = r.problems
    problem_table = _problem_table(b, cfg, problems)
    total = problems.set_index("problem type").loc["all problems"]
    worst = (problems.set_index("problem type").drop(index="all problems")["unsolved (%)"]
             .sort_values(ascending=False))
    blocks = [ratings, Heading(3, Msg("Problems identified and whether they were solved")),
              problem_table,
              Para(Msg("Of {n} problems, {total} were totally solved ({pct} %; the study calls "
                       "this 'around one quarter'), {partial} partially and {unsolved} not at "
                       "all. The least often solved were {worst}.",
                       n=Num(int(total["problems"])), total=Num(int(total["totally solved"])),
                       pct=Num(total["totally solved (%)"], "share"),
                       partial=Num(int(total["partially solved"])),
                       unsolved=Num(int(total["unsolved"])),
                       worst=listing([Msg("{kind} problems ({pct} % unsolved)", kind=Msg(k),
                                          pct=Num(v, "share")) for k, v in worst.head(2).items()])))]
    if r.progress:
        blocks += _progress_blocks(b, r)
    blocks += source_line(b, cfg.source)
    finding = Finding(
        Msg("{label} of {families} families rated at exit, {a} very successful, {b2} successful, "
            "{c} moderate, {d} not successful; {solved} of {problems} problems totally solved.",
            label=Strong(Msg("Case closure:")), families=Count(f"{K}.families", words=True),
            a=Count(f"{K}.rating.PO++", words=True), b2=Count(f"{K}.rating.PO+", words=True),
            c=Count(f"{K}.rating.PO+=", words=True), d=Count(f"{K}.rating.PO", words=True),
            solved=Num(int(total["totally solved"])), problems=Num(int(total["problems"]))),
        b.provenance(bool(published), cfg.source), rank=20)
    return Section(anchor="case-closure", title=Msg("Case closure: how did families leave the programme?"),
                   blocks=tuple(blocks), findings=(finding,),
                   evidence=(Msg("Closure ratings and problem counts are the programme's own "
                                 "records of how families left; they have no comparison group."),),
                   caveats=(Msg("No comparison group: how families left the programme is not an "
                                "impact estimate."),),
                   glossary=("paired",))


def _problem_table(b: Build, cfg: Config, problems) -> Table:
    """Problems by type and resolution at closure (counts, and shares of the type's problems)."""
    rows = []
    for row in problems.to_dict("records"):
        kind = row["problem type"]
        rows.append((Msg("all problems") if kind == "all problems" else Msg(kind),
                     Num(int(row["problems"])),
                     *(Num(int(row[res])) for res in cc.RESOLUTIONS),
                     *(Num(row[f"{res} (%)"], "share") for res in cc.RESOLUTIONS)))
    return Table(
        "closure-problems",
        Msg("Problems by type and resolution at closure; percentages are of the problems of that "
            "type (the last row: of all problems)."),
        (Column(Msg("Problem type"), numeric=False), Column(Msg("Problems")),
         *(Column(Msg(res)) for res in cc.RESOLUTIONS),
         *(Column(Msg("{resolution} (%)", resolution=Msg(res))) for res in cc.RESOLUTIONS)),
        tuple(rows), b.provenance(bool(cfg.published.get("problems")), cfg.source))


def _progress_blocks(b: Build, r: Result) -> list:
    """The family progress form's scores at enrolment and completion, with the caveat."""
    rows = [prepost_row(f"{K}.progress.{area}", res, Msg(AREAS.get(area, area)))
            for area, res in r.progress]
    return [Heading(3, Msg("Family progress form: enrolment vs completion")),
            prepost_table("closure-progress",
                          Msg("Progress form scores (1 serious difficulty … 4 no difficulty) "
                              "of the same families at enrolment and completion. "
                              "{suppressed}", suppressed=suppressed_note(b.min_cell)),
                          rows, b.provenance(False, None)),
            Note(Msg(CAVEAT))]
