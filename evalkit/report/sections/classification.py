"""Rule-based categories configured under ``classifications:`` (village risk colours,
household vulnerability tiers). The rules are declared in programme.yml, not published by
the study, so the section is set apart as an illustration and never enters the key findings."""

from __future__ import annotations

from dataclasses import dataclass

from evalkit.config import Context
from evalkit.data.programme import ProgrammeData
from evalkit.data.rules import TableRule
from evalkit.i18n import N_
from evalkit.indices.classification import Category, Classification, Criterion, classify
from evalkit.report.content import (Box, Column, Count, Declared, Msg, Note, Num, Share, Table)
from evalkit.report.disclosure import is_people
from evalkit.report.sections.common import Build, Section, anchor, source_line

KEY = "classifications"
MANY = True
ANALYSIS = N_("rule-based categories")
KEYS = frozenset({"title", "file", "criteria", "categories", "unit_label", "note", "source"})
NESTED_KEYS = frozenset({"column", "op", "value", "label", "name", "min_criteria", "meaning"})
LANGUAGES = ("en",)


@dataclass(frozen=True)
class Rule:
    column: str
    op: str
    value: float
    label: str | None


@dataclass(frozen=True)
class CategoryRule:
    name: str
    min_criteria: int
    meaning: str | None = None


@dataclass(frozen=True)
class Config:
    """Rule-based categories; always an illustration unless the study published the rules."""

    title: str
    file: str
    criteria: tuple[Rule, ...]
    categories: tuple[CategoryRule, ...]
    unit_label: str | None = None
    note: str | None = None
    source: str | None = None


def parse(entry: dict, where: str, ctx: Context) -> Config:
    for key in ("title", "file", "criteria", "categories"):
        if key not in entry:
            raise ctx.error(where + key, "is missing.")
    spec = ctx.file(entry["file"], f"{where}file")
    rules_ = []
    for i, c in enumerate(ctx.entries(entry, "criteria", where, list)):
        here = f"{where}criteria[{i}]."
        if not isinstance(c, dict):
            raise ctx.error(here[:-1], f"is {c!r}; expected a mapping.")
        ctx.known(c, {"column", "op", "value", "label"}, here)
        rules_.append(Rule(ctx.require(c, "column", str, here),
                           ctx.option(c.get("op"), ("<", "<=", ">", ">=", "==", "!="), f"{here}op"),
                           float(ctx.number(c, "value", here)), ctx.text(c, "label", here)))
    categories = []
    for i, c in enumerate(ctx.entries(entry, "categories", where, list)):
        here = f"{where}categories[{i}]."
        if not isinstance(c, dict):
            raise ctx.error(here[:-1], f"is {c!r}; expected a mapping.")
        ctx.known(c, {"name", "min_criteria", "meaning"}, here)
        if "name" not in c:
            raise ctx.error(here + "name", "is missing; expected the category's name.")
        categories.append(CategoryRule(ctx.text(c, "name", here),
                                       ctx.number(c, "min_criteria", here, whole=True),
                                       ctx.text(c, "meaning", here)))
    return Config(title=ctx.text(entry, "title", where), file=spec.path, criteria=tuple(rules_),
                  categories=tuple(categories), unit_label=ctx.text(entry, "unit_label", where),
                  note=ctx.text(entry, "note", where), source=ctx.text(entry, "source", where))


def rules(cfg: Config) -> list:
    return [TableRule(cfg.file)]


def compute(data: ProgrammeData, cfg: Config) -> Classification:
    criteria = [Criterion(c.column, c.op, c.value, c.label or c.column) for c in cfg.criteria]
    categories = [Category(c.name, c.min_criteria, c.meaning or "") for c in cfg.categories]
    return classify(data.table(cfg.file), criteria, categories)


def _unit(cfg: Config):
    return Declared(cfg.unit_label) if cfg.unit_label else Msg("cases")


def build(b: Build, cfg: Config, result: Classification) -> Section:
    people = is_people(cfg.unit_label or "units")
    prefix = anchor("class", cfg.title)
    n = len(result.category)
    counts = result.counts()
    criteria = result.criteria_table()

    def count(key: str, value: int):
        if people:
            return Count(key)
        return Num(int(value))

    def share(key: str, value: int):
        if people:
            return Share(key, f"{prefix}.all")
        return Num(100 * value / n if n else None, "share")

    if people:
        _register_counts(b, prefix, cfg, result, counts, criteria)
    unit = _unit(cfg)
    criteria_rows = tuple(
        (Declared(rule.label or rule.column), count(f"{prefix}.crit.{i}", int(k)),
         share(f"{prefix}.crit.{i}", int(k)))
        for i, (rule, k) in enumerate(zip(cfg.criteria, criteria["units meeting it"])))
    category_rows = tuple(
        (Declared(c.name), Declared(c.meaning) if c.meaning else None,
         Msg("meets at least {k} of the criteria", k=c.min_criteria) if c.min_criteria
         else Msg("all others"),
         count(f"{prefix}.cat.{i}", int(k)), share(f"{prefix}.cat.{i}", int(k)))
        for i, (c, k) in enumerate(zip(cfg.categories, counts["units"])))
    total = count(f"{prefix}.all", n)
    pct = Msg("% of {n} {unit}", n=total, unit=unit)
    prov = b.provenance(False, None)
    units = Declared(cfg.unit_label, "capital") if cfg.unit_label else Msg("Units")
    tables = (Table(f"{prefix}-criteria",
                    Msg("Criteria, declared in the programme's configuration, and how many {unit} "
                        "meet each.", unit=unit),
                    (Column(Msg("Criterion"), numeric=False),
                     Column(Msg("{unit} meeting it", unit=units)), Column(pct)),
                    criteria_rows, prov),
              Table(f"{prefix}-categories",
                    Msg("{unit} by category: a unit takes the first category whose rule it meets.",
                        unit=units),
                    (Column(Msg("Category"), numeric=False), Column(Msg("Meaning"), numeric=False),
                     Column(Msg("Rule"), numeric=False), Column(units), Column(pct)),
                    category_rows, prov))
    inner = [Note(Msg("Illustration, not a finding: the rules below are declared in the "
                      "programme's configuration, not published with thresholds by the study. "
                      "The counts show how these rules sort the programme's records; they are not "
                      "among the key findings."), kind="info"), *tables]
    if cfg.note:
        inner.append(Note(Declared(cfg.note), kind="info"))
    inner += source_line(b, cfg.source)
    return Section(anchor=prefix, title=Msg("Illustration: {title}", title=Declared(cfg.title)),
                   blocks=(Box("illustration", tuple(inner)),))


def _register_counts(b: Build, prefix: str, cfg: Config, result: Classification, counts,
                     criteria) -> None:
    """The counts of people the section shows, for disclosure control: each category's and
    each criterion's (with those not meeting it) add up to all, and the categories are linked
    to the criteria."""
    n = len(result.category)
    b.dc.whole(f"{prefix}.all", n, {f"{prefix}.cat.{i}": int(k)
                                    for i, k in enumerate(counts["units"])}, table=cfg.title)
    for i, k in enumerate(criteria["units meeting it"]):
        b.dc.whole(f"{prefix}.all", n, {f"{prefix}.crit.{i}": int(k),
                                        f"{prefix}.crit.{i}.not": n - int(k)}, table=cfg.title)
    # a category is the units meeting at least its min_criteria and not an earlier one:
    # with the criteria's counts, the first category and the criteria are linked
    _link_categories(b, prefix, cfg, result)


def _link_categories(b: Build, prefix: str, cfg: Config, result: Classification) -> None:
    """How the criteria and the categories are linked: units are counted by how many criteria
    they meet (these add up to all units, and each category is a run of them), and the
    criteria's counts add up to Σ k × the units meeting k criteria. With these relations a
    category cannot be worked out from criteria minus other categories."""
    met = result.criteria_met.to_numpy()
    n = len(met)
    by_level = {k: int((met == k).sum()) for k in range(0, len(cfg.criteria) + 1)}
    b.dc.whole(f"{prefix}.all", n, {f"{prefix}.met.{k}": v for k, v in by_level.items()},
               table=cfg.title)
    for i, c in enumerate(cfg.categories):
        upper = min([x.min_criteria for x in cfg.categories[:i]] or [len(cfg.criteria) + 1])
        levels = [k for k in range(c.min_criteria, upper) if k in by_level]
        if levels and sum(by_level[k] for k in levels) == b.dc.value(f"{prefix}.cat.{i}"):
            b.dc.adds_up(f"{prefix}.cat.{i}", [f"{prefix}.met.{k}" for k in levels])
    b.dc.relation({**{f"{prefix}.crit.{j}": 1.0 for j in range(len(cfg.criteria))},
                   **{f"{prefix}.met.{k}": -float(k) for k in by_level if k}})
