"""Pre/post tables (``prepost:`` in programme.yml): the same units compared between two rounds
(change, not impact)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from evalkit.config import Context
from evalkit.data.programme import ProgrammeData
from evalkit.data.rules import TableRule
from evalkit.data.validate import Field
from evalkit.designs.paired import CAVEAT, PrePostResult, prepost
from evalkit.i18n import N_
from evalkit.report.content import Count, Declared, Inline, Msg, Note, Num, Para, Share, join
from evalkit.report.sections.common import (Build, Finding, Section, anchor, attrition_sentence,
                                            prepost_row, prepost_table,
                                            register_prepost, source_line, suppressed_note)

KEY = "prepost"
MANY = True
ANALYSIS = N_("pre/post change")
KEYS = frozenset({"title", "file", "unit", "unit_label", "round", "before", "after", "outcomes", "group",
                  "higher_is_better", "published", "source", "scale"})
NESTED_KEYS = frozenset({"label", "kind"})
LANGUAGES = ("en",)


@dataclass(frozen=True)
class Outcome:
    name: str
    label: str
    kind: str = "auto"  # auto, binary, ordinal or continuous (see designs.prepost)


@dataclass(frozen=True)
class Config:
    """A pre/post table: the same units compared between two rounds."""

    title: str
    file: str
    unit: str
    round: str
    before: Any
    after: Any
    outcomes: tuple[Outcome, ...]
    higher_is_better: bool = True
    published: dict[str, float] = field(default_factory=dict)  # outcome -> published %
    source: str | None = None
    scale: str | None = None
    group: str | None = None
    unit_label: str | None = None  # the reader's word for the units ("families")


def parse(entry: dict, where: str, ctx: Context) -> Config:
    for key in ("title", "file", "unit", "round", "before", "after", "outcomes"):
        if key not in entry:
            raise ctx.error(where + key, "is missing.")
    spec = ctx.file(entry["file"], f"{where}file")
    outcomes = []
    for name, value in ctx.entries(entry, "outcomes", where, dict).items():
        value = value or {}
        here = f"{where}outcomes.{name}."
        if not isinstance(value, dict):
            raise ctx.error(here[:-1], f"is {value!r}; expected a mapping with label and kind.")
        ctx.known(value, {"label", "kind"}, here)
        kind = ctx.option(value.get("kind", "auto"), ("auto", "binary", "ordinal", "continuous"),
                          f"{here}kind")
        outcomes.append(Outcome(str(name), ctx.text(value, "label", here, str(name)), kind))
    published = {str(k): float(ctx.number({"v": v}, "v", f"{where}published.{k}")) for k, v in
                 ctx.mapping(entry, "published", where).items()}
    return Config(title=ctx.text(entry, "title", where), file=spec.path,
                  unit=ctx.text(entry, "unit", where), unit_label=ctx.text(entry, "unit_label", where),
                  round=ctx.text(entry, "round", where),
                  before=entry["before"], after=entry["after"], outcomes=tuple(outcomes),
                  higher_is_better=bool(entry.get("higher_is_better", True)), published=published,
                  source=ctx.text(entry, "source", where), scale=ctx.text(entry, "scale", where),
                  group=ctx.text(entry, "group", where))


def rules(cfg: Config) -> list:
    return [TableRule(cfg.file, tuple(Field(o.name, o.name, "number") for o in cfg.outcomes),
                      (cfg.unit,))]


Result = list  # (outcome, label, PrePostResult)


def compute(data: ProgrammeData, cfg: Config) -> Result:
    df = data.table(cfg.file)
    return [(o.name, o.label,
             prepost(df, o.name, cfg.unit, cfg.round, cfg.before, cfg.after, kind=o.kind,
                     higher_is_better=cfg.higher_is_better))
            for o in cfg.outcomes]


def _key(cfg: Config, name: str) -> str:
    return f"{anchor('prepost', cfg.title)}.{name}"


def _label(b: Build, cfg: Config, name: str, label: str):
    return Declared(label) if label in b.config.declared else Declared(name)


def _units(cfg: Config) -> Inline:
    """What the compared units are, in the reader's words ("families"), else "cases"."""
    return Declared(cfg.unit_label) if cfg.unit_label else Msg("cases")


def build(b: Build, cfg: Config, result: Result) -> Section:
    dc = b.dc
    for name, _label_text, r in result:
        register_prepost(dc, _key(cfg, name), r, cfg.title)
    rows = []
    for name, label, r in result:
        row = list(prepost_row(_key(cfg, name), r, _label(b, cfg, name, label)))
        if cfg.published:
            row.append(Num(cfg.published[name], "share") if name in cfg.published else None)
        rows.append(tuple(row))
    first = _key(cfg, result[0][0])
    before, after = Declared(str(cfg.before)), Declared(str(cfg.after))
    caption = Msg("{title}: {before} vs {after} for the same {units} (n = {n}). Yes/no outcomes in % "
                  "and percentage points; scores on their own scale. The p-value says how often a "
                  "change this large would arise by chance (for scores: two tests, see Methods). "
                  "{published}{suppressed}", title=Declared(cfg.title), before=before, after=after,
                  units=_units(cfg),
                  n=Count(f"{first}.pairs"),
                  published=Msg("'Published': the study's figure, in %, of those lacking the "
                                "item before who gained it. ") if cfg.published else Msg(""),
                  suppressed=suppressed_note(b.min_cell))
    matched = bool(cfg.published)
    table = prepost_table(f"prepost-{first}", caption, rows, b.provenance(matched, cfg.source),
                          published=matched)
    blocks = []
    if cfg.scale:
        blocks.append(Para(Msg("Scale: {scale}.", scale=Declared(cfg.scale))))
    blocks.append(table)
    if cfg.published:
        blocks.append(Para(Msg("Gained access, of those without it before: {items}.",
                               items=join([_gained(b, cfg, name, label, r)
                                           for name, label, r in result if r.kind == "binary"],
                                          "; "))))
    blocks.append(Para(attrition_sentence(b, first, result[0][2].attrition, _units(cfg),
                                          f"{first}.pairs")))
    blocks += source_line(b, cfg.source)
    blocks.append(Note(Msg(CAVEAT)))
    return Section(anchor=anchor("prepost", cfg.title),
                   title=Declared(cfg.title), blocks=tuple(blocks),
                   findings=tuple(findings(b, cfg, result)),
                   evidence=(Msg("The before/after figures describe change among the people "
                                 "served, without a comparison group, so they do not show what "
                                 "caused it."),),
                   caveats=(Msg("No comparison group: {title} shows change, not impact.",
                                title=Declared(cfg.title)),),
                   glossary=("paired",))


def _gained(b: Build, cfg: Config, name: str, label: str, r: PrePostResult):
    key = _key(cfg, name)
    lacking = b.dc.value(f"{key}.lacks_before")
    b.dc.whole(f"{key}.lacks_before", lacking, {f"{key}.gained": r.gained,
                                                f"{key}.still_without": lacking - r.gained},
               table=cfg.title)
    return Msg("{label}: {gained} of {lacking} ({pct} %)",
               label=Declared(label if label in b.config.declared else name, "lower"),
               gained=Count(f"{key}.gained", words=True),
               lacking=Count(f"{key}.lacks_before", words=True),
               pct=Share(f"{key}.gained", f"{key}.lacks_before"))


def findings(b: Build, cfg: Config, result: Result) -> list[Finding]:
    from evalkit.report.content import Stat

    parts = []
    for name, label, r in result:
        key = _key(cfg, name)
        n = (f"{key}.pairs",)
        text = Declared(label if label in b.config.declared else name, "lower")
        if r.kind == "binary":
            parts.append(Msg("{label} {before} % → {after} %", label=text,
                             before=Share(f"{key}.has_before", f"{key}.pairs"),
                             after=Share(f"{key}.has_after", f"{key}.pairs")))
        else:
            parts.append(Msg("{label} {before} → {after}", label=text,
                             before=Stat(r.mean_before, "mean", n),
                             after=Stat(r.mean_after, "mean", n)))
    first = _key(cfg, result[0][0])
    better = Msg("higher is better") if cfg.higher_is_better else Msg("lower is better")
    return [Finding(Msg("{title} (n = {n}, change, not impact; {better}): {parts}.",
                        title=Declared(cfg.title), n=Count(f"{first}.pairs", words=True),
                        better=better, parts=join(parts, "; ")),
                    b.provenance(bool(cfg.published), cfg.source), rank=25, better=better)]
