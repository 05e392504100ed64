"""What every section shares: the build context, what a section hands on (:class:`Section`,
:class:`Finding`), round and file names, provenance, and the pre/post table (used by the
pre/post, CSI pre/post and case-closure sections)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from evalkit.config import ProgrammeConfig
from evalkit.data.programme import ProgrammeData
from evalkit.designs.paired import AttritionCheck, PrePostResult
from evalkit.report.content import (Interval, DATA, ILLUSTRATION, MATCHED, PUBLISHED, Block, Column,
                                    Count, Declared, Inline, Msg, Provenance, Stat, Strong, Table,
                                    join)
from evalkit.report.disclosure import Disclosure


@dataclass(frozen=True)
class Finding:
    """A key finding: one sentence, where its numbers come from, and how it ranks for the
    brief (lower first). ``better``: which direction of the figure is better, in words."""

    text: Inline
    provenance: Provenance = field(default_factory=Provenance)
    rank: int = 50
    better: Inline | None = None


@dataclass(frozen=True)
class Section:
    """What a section hands the report: its page part, its findings, what the brief must say
    of the evidence, its technical annex, its Methods lines and its glossary terms."""

    anchor: str
    title: Inline
    blocks: tuple[Block, ...]
    findings: tuple[Finding, ...] = ()
    evidence: tuple[Inline, ...] = ()  # how strong the evidence is, in words (brief)
    caveats: tuple[Inline, ...] = ()  # the study's own caveats (brief)
    annex: tuple[Block, ...] = ()  # technical tables (annex)
    methods: tuple[Inline, ...] = ()
    glossary: tuple[str, ...] = ()  # glossary groups (see evalkit.report.glossary)
    question: Inline | None = None  # what this section asks, for the brief


@dataclass
class Build:
    """What a section's content is built from: the data, the configuration in the edition's
    language, the report's disclosure control and the programme's kind of data."""

    data: ProgrammeData
    config: ProgrammeConfig
    dc: Disclosure

    @property
    def min_cell(self) -> int:
        return self.config.min_cell

    @property
    def synthetic(self) -> bool:
        return self.config.synthetic

    def provenance(self, matched: bool, source: str | None) -> Provenance:
        """A computed block's provenance: from the programme's data; on synthetic data,
        ``matched`` to the figures the source published (named), or an illustration."""
        cited = self.declared(source) if source else None
        if not self.synthetic:
            return Provenance(DATA, cited)
        return Provenance(MATCHED, cited) if matched and cited is not None else Provenance(ILLUSTRATION)

    def published(self, source: str | None) -> Provenance:
        """Figures the source printed, quoted."""
        return Provenance(PUBLISHED, self.declared(source) if source else None)

    def declared(self, text, case: str = "", markdown: bool = False) -> Declared:
        return Declared(str(text), case, markdown)

    def round(self, number) -> Inline:
        """A CSI round as the report may name it (declared label, kit word, or its number)."""
        rounds = self.data.rounds
        name = rounds.names.get(int(number)) if rounds is not None else None
        if name is not None and name.declared is not None:
            return Declared(name.declared)
        if name is not None and name.word is not None:
            word, n = name.word
            return Msg(word, **({"n": n} if n is not None else {}))
        return Msg("Round {n}", n=int(number))

    def file(self, number: int) -> Inline:
        return Msg("file {n}", n=int(number))


def anchor(prefix: str, text: str) -> str:
    """A stable page id for a section configured by a title (ASCII whatever the title)."""
    import hashlib

    return f"{prefix}-{hashlib.sha1(str(text).encode()).hexdigest()[:8]}"


def source_line(b: Build, text: str | None) -> list[Block]:
    from evalkit.report.content import Em, Para

    return [Para(Em(Msg("Source: {source}", source=b.declared(text, markdown=True))))] if text else []


# ------------------------------------------------------------------ pre/post tables


PREPOST_COLUMNS = ("Outcome", "Pairs (n)", "Before", "After", "Change", "95 % CI", "p-value",
                   "Improved (%)", "Unchanged (%)", "Worse (%)")


def register_prepost(dc: Disclosure, key: str, r: PrePostResult, table: str, *,
                     of: str | None = None) -> None:
    """Register the pairs of a pre/post result and their improved / unchanged / worse parts
    (and, for a yes/no outcome, those having it before and after) under ``key``. ``of``: a
    registered count the pairs are part of (the rest are the units not paired)."""
    n = r.n_pairs
    dc.count(f"{key}.pairs", n, table=table, label=f"{key}: pairs", cost=10)
    parts = parts_of(r)
    dc.whole(f"{key}.pairs", n, {f"{key}.{k}": v for k, v in parts.items()}, table=table,
             part_costs={f"{key}.improved": 1})
    if r.kind == "binary":
        for when, mean in (("before", r.mean_before), ("after", r.mean_after)):
            has = int(round(mean * n))
            dc.whole(f"{key}.pairs", n, {f"{key}.has_{when}": has, f"{key}.lacks_{when}": n - has},
                     table=table)
    if of is not None and dc.value(of) >= n:
        dc.whole(of, dc.value(of), {f"{key}.pairs": n, f"{key}.unpaired": dc.value(of) - n},
                 table=table)


def parts_of(r: PrePostResult) -> dict[str, int]:
    """Improved / unchanged / worse as counts of pairs (they add up to ``n_pairs``)."""
    n = r.n_pairs
    counts = {"improved": int(round(r.improved_pct * n / 100)),
              "unchanged": int(round(r.unchanged_pct * n / 100)),
              "worse": int(round(r.worse_pct * n / 100))}
    counts["unchanged"] += n - sum(counts.values())  # rounding never breaks the sum
    return counts


def prepost_row(key: str, r: PrePostResult, label: Inline, *, parts: bool = True,
                rule: str = "mean") -> tuple:
    """One row of a pre/post table: every statistic rests on the pairs; shares of a yes/no
    outcome are shares of people (whole per cent), scores have two decimals (``rule``
    'score': one, for a number of factors)."""
    binary = r.kind == "binary"
    n = (f"{key}.pairs",)
    scale = 100 if binary else 1
    level = "share" if binary else rule
    change = "points" if binary else rule
    before, after = _levels(r, key, level, n)
    needs = tuple(f"{key}.{part}_{when}" for part in ("has", "lacks")
                  for when in ("before", "after")) if binary else ()
    ci = Interval(low=Stat(r.ci_low * scale, change, n, signed=True, needs=needs),
             high=Stat(r.ci_high * scale, change, n, signed=True, needs=needs))
    p = (Stat(r.p_mcnemar, "p", n, needs=needs) if binary else
         Msg("{t} / {w}", t=Stat(r.p_ttest, "p", n), w=Stat(r.p_wilcoxon, "p", n)))
    shares = ([_part(key, "improved"), _part(key, "unchanged"), _part(key, "worse")] if parts
              else [None, None, None])
    name = Msg("{label} (%)", label=label) if binary else label
    return (name, Count(f"{key}.pairs"), before, after,
            Stat(r.mean_change * scale, change, n, signed=True, needs=needs), ci, p, *shares)


def _levels(r: PrePostResult, key: str, level: str, n: tuple) -> tuple:
    """The outcome before and after: shares of the people who have it (a yes/no outcome),
    else means."""
    if r.kind == "binary":
        return _share_stat(r.mean_before, key, "has_before"), _share_stat(r.mean_after, key,
                                                                          "has_after")
    return Stat(r.mean_before, level, n), Stat(r.mean_after, level, n)


def _share_stat(mean: float, key: str, part: str):
    from evalkit.report.content import Share

    return Share(f"{key}.{part}", f"{key}.pairs")


def _part(key: str, part: str):
    from evalkit.report.content import Share

    return Share(f"{key}.{part}", f"{key}.pairs")


def prepost_table(key: str, caption: Inline, rows: list[tuple], provenance: Provenance,
                  published: bool = False) -> Table:
    columns = [Column(Msg(c), numeric=i > 0) for i, c in enumerate(PREPOST_COLUMNS)]
    if published:
        columns.append(Column(Msg("Published")))
    return Table(key, caption, tuple(columns), tuple(rows), provenance)


def suppressed_note(min_cell: int) -> Inline:
    return Msg("'{suppressed}': fewer than {n} children, families or households, or a figure "
               "that would let such a group be worked out.", suppressed=Msg("suppressed"),
               n=min_cell)


def attrition_sentence(b: Build, key: str, a: AttritionCheck | None, unit: Inline,
                       stayers: str) -> Inline:
    """Who was assessed only before, and whether they differed at the start; a group under
    ``min_cell`` (the leavers, or those assessed again: the registered count ``stayers``) is
    counted in words and its mean is never shown."""
    dc = b.dc
    if a is None or a.only_before == 0:
        return Msg("Every one of the {unit} assessed before was assessed again.", unit=unit)
    leavers = f"{key}.only_before"
    dc.count(leavers, a.only_before, table=key, label=f"{key}: assessed only before")
    n = Count(leavers, words=True)
    if (dc.value(leavers) < b.min_cell or dc.value(stayers) < b.min_cell
            or a.p_value is None or np.isnan(a.p_value)):
        return Msg("{n} {unit} were assessed only before; too few in one of the two groups to "
                   "compare them.", n=n, unit=unit)
    verdict = (Msg("differed from") if a.p_value < 0.05 else Msg("did not differ detectably from"))
    return Msg("{n} {unit} were assessed only before. At the first assessment they {verdict} "
               "those assessed again (mean {leavers} vs {stayers}; p = {p}).", n=n, unit=unit,
               verdict=verdict, leavers=Stat(a.mean_leavers, "mean", (leavers,)),
               stayers=Stat(a.mean_stayers, "mean", (stayers,)),
               p=Stat(a.p_value, "p", (leavers, stayers)))


def strong(text: Inline) -> Strong:
    return Strong(text)


def listing(parts: list[Inline], last: str = "and") -> Inline:
    """"a, b and c" in the page's language."""
    parts = list(parts)
    if len(parts) <= 1:
        return parts[0] if parts else Msg("none")
    head = join(parts[:-1], ", ")
    return Msg("{some} and {last}" if last == "and" else "{some} or {last}", some=head, last=parts[-1])


__all__ = ["Build", "Finding", "Section", "DATA", "ILLUSTRATION", "MATCHED", "PUBLISHED"]
