"""The Child Tracking Tool (green / yellow / red status of reintegrated children), configured
under ``child_tracking:``; shows which denominator reproduces the published percentages."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from evalkit.config import Context
from evalkit.data.programme import ProgrammeData
from evalkit.data.rules import TableRule
from evalkit.i18n import N_
from evalkit.indices import child_tracking as ct
from evalkit.report.content import (Column, Count, Declared, Msg, Note, Num, Para, Share,
                                    Strong, Table, join)
from evalkit.report.sections.common import Build, Finding, Section, source_line

KEY = "child_tracking"
MANY = False
ANALYSIS = N_("Child Tracking Tool status")
KEYS = frozenset({"file", "status", "published", "declared_denominators", "source", "note"})
LANGUAGES = ("en", "km")


@dataclass(frozen=True)
class Config:
    file: str
    status: str
    published: dict[str, float]
    declared_denominators: dict[str, int] = field(default_factory=dict)
    denominator_labels: dict[str, str] = field(default_factory=dict)
    source: str | None = None
    note: str | None = None


def parse(entry: dict, where: str, ctx: Context) -> Config:
    for key in ("file", "status", "published"):
        if key not in entry:
            raise ctx.error(where + key, "is missing.")
    spec = ctx.file(entry["file"], f"{where}file")
    published = ctx.mapping(entry, "published", where)
    for status in published:
        if str(status) not in ct.STATUSES:
            raise ctx.error(f"{where}published.{status}", "is not a Child Tracking Tool status; "
                            f"expected one of {', '.join(ct.STATUSES)}.")
    declared, labels = {}, {}
    for name, value in ctx.mapping(entry, "declared_denominators", where).items():
        key = f"{where}declared_denominators.{name}"
        if isinstance(value, dict):  # {n: 1359, label: {en: …, km: …}}
            declared[str(name)] = ctx.number(value, "n", key + ".", whole=True)
            labels[str(name)] = ctx.text(value, "label", key + ".") or str(name)
        else:
            declared[str(name)] = ctx.number({name: value}, name, f"{where}declared_denominators.",
                                             whole=True)
            labels[str(name)] = str(name)
    for status, value in published.items():
        ctx.number(published, status, f"{where}published.")
    return Config(file=spec.path, status=ctx.text(entry, "status", where),
                  published={str(k): float(v) for k, v in published.items()},
                  declared_denominators=declared, denominator_labels=labels,
                  source=ctx.text(entry, "source", where), note=ctx.text(entry, "note", where))


def rules(cfg: Config) -> list:
    return [TableRule(cfg.file)]


@dataclass(frozen=True, eq=False)
class Result:
    counts: pd.Series
    matching: list[str]


def compute(data: ProgrammeData, cfg: Config) -> Result:
    counts = ct.status_counts(data.table(cfg.file), cfg.status)
    return Result(counts, ct.matching_denominators(counts, cfg.published, cfg.declared_denominators))


K = "tracking"
TABLE = "Child Tracking Tool status"
SUMS = {N_("all children supported"): ct.STATUSES,
        N_("all except not yet updated"): tuple(s for s in ct.STATUSES if s != "not yet updated"),
        N_("children with a colour status"): ct.COLOURS}


def _key(status: str) -> str:
    return f"{K}.{status.replace(' ', '-')}"


def _sum_key(name: str) -> str:
    return f"{K}.sum.{name.replace(' ', '-')}"


def register(b: Build, r: Result) -> None:
    counts = {s: int(r.counts[s]) for s in ct.STATUSES}
    for name, members in SUMS.items():
        b.dc.whole(_sum_key(name), sum(counts[s] for s in members),
                   {_key(s): counts[s] for s in members}, table=TABLE,
                   cost=5 if name == "all children supported" else 0)


def build(b: Build, cfg: Config, r: Result) -> Section:
    register(b, r)
    denominators = [(Msg(name), _sum_key(name)) for name in SUMS]
    denominators += [(Declared(cfg.denominator_labels[name]), d)
                     for name, d in cfg.declared_denominators.items()]
    rows = []
    for s in ct.STATUSES:
        row = [Msg(ct.STATUS_LABELS[s]), Msg(ct.MEANING[s]), Count(_key(s))]
        row += [Share(_key(s), den) for _label, den in denominators]
        row.append(Num(cfg.published[s], "share") if s in cfg.published else None)
        rows.append(tuple(row))
    columns = [Column(Msg("Status"), numeric=False), Column(Msg("Meaning"), numeric=False),
               Column(Msg("Children"))]
    for label, den in denominators:
        columns.append(Column(Msg("% of {denominator} ({n})", denominator=label,
                                  n=Count(den) if isinstance(den, str) else Num(den))))
    columns.append(Column(Msg("Published %")))
    table = Table("child-tracking", Msg("Child Tracking Tool status of the children supported "
                                        "for reintegration, as % of each possible denominator."),
                  tuple(columns), tuple(rows), b.provenance(True, cfg.source))
    which = (Msg("The published 75 / 6 / 3 % are reproduced only with the denominator "
                 "“{denominator}”.", denominator=_denominator_name(cfg, r.matching[0]))
             if r.matching else
             Msg("No candidate denominator reproduces the published percentages."))
    blocks = [Para(join([Msg("{n} children were supported for reintegration.",
                             n=Count(_sum_key("all children supported"), words=True)), which], " ")),
              table]
    if cfg.note:
        blocks.append(Note(Declared(cfg.note), kind="info"))
    blocks += source_line(b, cfg.source)
    finding = Finding(
        Msg("{label} of {total} children supported for reintegration, {green} are safe and "
            "stable (green) and {lost} could not be located. The published percentages rest on "
            "a denominator the study does not reconcile with this count, so they are shown in "
            "the section below, not here.", label=Strong(Msg("Child Tracking Tool:")),
            total=Count(_sum_key("all children supported"), words=True),
            green=Count(_key("green"), words=True), lost=Count(_key("not located"), words=True)),
        b.provenance(True, cfg.source), rank=20)
    return Section(anchor="child-tracking",
                   title=Msg("Child Tracking Tool: how are reintegrated children doing?"),
                   blocks=tuple(blocks), findings=(finding,),
                   evidence=(Msg("Monitoring figures are counts from registers, as complete as "
                                 "the registers are."),),
                   glossary=("care",))


def _denominator_name(cfg: Config, name: str):
    return Declared(cfg.denominator_labels[name]) if name in cfg.declared_denominators else Msg(name)
