"""Shares with their denominators named (``indicators:`` in programme.yml)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from evalkit.config import Context
from evalkit.data.programme import ProgrammeData
from evalkit.data.rules import TableRule
from evalkit.i18n import N_
from evalkit.indices.shares import Indicator, matches, share_table
from evalkit.report.content import Column, Count, Declared, Msg, Note, Num, Share, Table
from evalkit.report.sections.common import Build, Finding, Section, anchor, source_line

KEY = "indicators"
MANY = True
ANALYSIS = N_("indicators with denominators")
KEYS = frozenset({"title", "file", "items", "source", "note"})
NESTED_KEYS = frozenset({"label", "numerator", "denominator", "denominator_label", "published"})
LANGUAGES = ("en",)


@dataclass(frozen=True)
class Item:
    label: str
    numerator: dict[str, Any]
    denominator: dict[str, Any]
    denominator_label: str | None = None
    published: float | None = None


@dataclass(frozen=True)
class Config:
    """Shares with their denominators named."""

    title: str
    file: str
    items: tuple[Item, ...]
    source: str | None = None
    note: str | None = None


def parse(entry: dict, where: str, ctx: Context) -> Config:
    for key in ("title", "file", "items"):
        if key not in entry:
            raise ctx.error(where + key, "is missing.")
    spec = ctx.file(entry["file"], f"{where}file")
    items = []
    for i, item in enumerate(ctx.entries(entry, "items", where, list)):
        here = f"{where}items[{i}]."
        if not isinstance(item, dict):
            raise ctx.error(here[:-1], f"is {item!r}; expected a mapping.")
        ctx.known(item, NESTED_KEYS, here)
        if "label" not in item:
            raise ctx.error(here + "label", "is missing; expected what the indicator counts.")
        published = item.get("published")
        items.append(Item(label=ctx.text(item, "label", here),
                          numerator=ctx.mapping(item, "numerator", here),
                          denominator=ctx.mapping(item, "denominator", here),
                          denominator_label=ctx.text(item, "denominator_label", here),
                          published=None if published is None else float(ctx.number(item, "published", here))))
    return Config(title=ctx.text(entry, "title", where), file=spec.path, items=tuple(items),
                  source=ctx.text(entry, "source", where), note=ctx.text(entry, "note", where))


def rules(cfg: Config) -> list:
    return [TableRule(cfg.file)]


@dataclass(frozen=True, eq=False)
class Result:
    table: pd.DataFrame
    numerators: tuple[np.ndarray, ...]  # rows counted by each item
    denominators: tuple[np.ndarray, ...]  # rows each item is a share of


def compute(data: ProgrammeData, cfg: Config) -> Result:
    df = data.table(cfg.file)
    items = [Indicator(label=i.label, numerator=i.numerator, denominator=i.denominator,
                       denominator_label=i.denominator_label or "", published=i.published)
             for i in cfg.items]
    table = share_table(df, items)
    dens = tuple(matches(df, i.denominator).to_numpy() for i in cfg.items)
    nums = tuple(d & matches(df, i.numerator).to_numpy() for d, i in zip(dens, cfg.items))
    return Result(table, nums, dens)


def _mask_key(prefix: str, mask: np.ndarray) -> str:
    """The same rows are the same count wherever they are shown."""
    return f"{prefix}.{hashlib.sha1(np.packbits(mask).tobytes()).hexdigest()[:12]}"


def register(b: Build, cfg: Config, r: Result) -> list[tuple[str, str]]:
    """Register every item's number and denominator (the same rows under one key), the rest
    of each denominator, and items that split one denominator by the values of one column."""
    dc = b.dc
    prefix = anchor("ind", cfg.title)
    keys = []
    for i, (num, den) in enumerate(zip(r.numerators, r.denominators)):
        n_key, d_key = _mask_key(prefix, num), _mask_key(prefix, den)
        rest = den & ~num
        dc.whole(d_key, int(den.sum()), {n_key: int(num.sum()), _mask_key(prefix, rest): int(rest.sum())},
                 table=cfg.title)
        keys.append((n_key, d_key))
    groups: dict[tuple, list[int]] = {}
    for i, item in enumerate(cfg.items):
        if len(item.numerator) == 1:
            column = next(iter(item.numerator))
            groups.setdefault((column, _mask_key(prefix, r.denominators[i])), []).append(i)
    for (_column, d_key), members in groups.items():
        if len(members) < 2:
            continue
        den = r.denominators[members[0]]
        union = np.zeros_like(den)
        for i in members:
            union |= r.numerators[i]
        if sum(int(r.numerators[i].sum()) for i in members) != int(union.sum()):
            continue  # overlapping values: not parts of one whole
        neither = den & ~union
        parts = {keys[i][0]: int(r.numerators[i].sum()) for i in members}
        parts[_mask_key(prefix, neither)] = int(neither.sum())
        dc.whole(d_key, int(den.sum()), parts, table=cfg.title)
    return keys


def build(b: Build, cfg: Config, r: Result) -> Section:
    keys = register(b, cfg, r)
    rows = []
    for item, (n_key, d_key) in zip(cfg.items, keys):
        rows.append((Declared(item.label), Count(n_key), Count(d_key),
                     Declared(item.denominator_label) if item.denominator_label else Msg("all records"),
                     Share(n_key, d_key),
                     Num(item.published, "share") if item.published is not None else Msg("not published")))
    columns = (Column(Msg("Indicator"), numeric=False), Column(Msg("Number")),
               Column(Msg("Out of")), Column(Msg("Denominator"), numeric=False), Column(Msg("%")),
               Column(Msg("Published %")))
    matched = any(i.published is not None for i in cfg.items)
    table = Table(anchor("indicators", cfg.title),
                  Msg("{title}: every percentage names its denominator.", title=Declared(cfg.title)),
                  columns, tuple(rows), b.provenance(matched, cfg.source))
    blocks = [table]
    if cfg.note:
        blocks.append(Note(Declared(cfg.note), kind="info"))
    blocks += source_line(b, cfg.source)
    first = cfg.items[0]
    n_key, d_key = keys[0]
    finding = Finding(Msg("{title}: {label}: {n} of {d} {den} ({pct} %).",
                          title=Declared(cfg.title), label=Declared(first.label, "lower"),
                          n=Count(n_key, words=True), d=Count(d_key, words=True),
                          den=Declared(first.denominator_label) if first.denominator_label
                          else Msg("records"), pct=Share(n_key, d_key)),
                      b.provenance(first.published is not None, cfg.source), rank=25)
    return Section(anchor=anchor("indicators", cfg.title), title=Declared(cfg.title),
                   blocks=tuple(blocks), findings=(finding,),
                   evidence=(Msg("The shares describe the people served as the programme "
                                 "recorded them."),))
