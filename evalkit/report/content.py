"""What a report section hands on: typed content, never markup.

A section builds its part of a report from these types and nothing else; :mod:`evalkit.report.publish`
is the one module that turns them into HTML, Markdown, plain text, JSON, CSV and Excel.

Text is made of parts whose origin is known:

* :class:`Msg` — the kit's own words: a message of its catalogue (English, with ``{name}``
  fields filled by other parts), translated when the page is written;
* :class:`Declared` — words the programme's ``programme.yml`` declares (its names, labels,
  value maps, source notes); the publisher refuses any that the configuration does not hold;
* numbers: :class:`Num` (a statistic with its display rule), :class:`Count` (a count of
  people, shown or suppressed by the report's disclosure decision), :class:`Share` (a
  percentage of two counts) and :class:`Stat` (a statistic resting on a group of people).

A ``str`` is never text: passing one where text is expected is a :class:`TypeError`, so
that a value read from the data cannot reach a page by accident.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Union

from evalkit.i18n import N_


class Inline:
    """A piece of text."""

    def __add__(self, other: "Inline") -> "Join":
        return Join((self, inline(other)))


def inline(value: Any) -> "Inline":
    """``value`` as text: an :class:`Inline` as it is, a whole number as a count-free
    number; a ``str`` (which could come from the data) is refused."""
    if isinstance(value, Inline):
        return value
    if isinstance(value, bool):
        raise TypeError("a bool is not text")
    if isinstance(value, int):
        return Num(value, "int")
    raise TypeError(f"{type(value).__name__} is not report text: wrap kit words in Msg(), "
                    "programme.yml words in Declared() and numbers in Num()")


@dataclass(frozen=True, init=False)
class Msg(Inline):
    """A message of the kit's catalogue, its ``{fields}`` filled with other text."""

    id: str
    args: tuple[tuple[str, Inline], ...] = ()

    def __init__(self, id: str, **args: Any):
        object.__setattr__(self, "id", id)
        object.__setattr__(self, "args", tuple((k, inline(v)) for k, v in args.items()))


@dataclass(frozen=True)
class Declared(Inline):
    """Words written in ``programme.yml``. ``case``: '' as written, 'lower' or 'capital'
    (first letter upper case). ``markdown``: the field allows Markdown (links only to http,
    https and anchors in the page; no HTML)."""

    text: str
    case: str = ""
    markdown: bool = False

    def __post_init__(self):
        if not isinstance(self.text, str):
            raise TypeError("Declared text is a str")


RULES = ("int", "share", "points", "mean", "score", "p", "ratio", "pct1", "year", "decimal1")
"""How a number is written (one rule per kind of number, for every report):

* ``int`` — a whole number with thousands separators (1,419);
* ``share`` — a percentage of people, whole (41);
* ``points`` — a change or difference in percentage points, one decimal (+3.9);
* ``pct1`` — a relative change in per cent, one decimal (+22.6);
* ``mean`` — a mean score or its change, two decimals (2.87);
* ``score`` — a number of factors or a score on a scale, one decimal (5.1);
* ``decimal1`` — any other measured number, one decimal;
* ``ratio`` — an ICC, R², normalised difference or standard deviation, two decimals;
* ``p`` — a p-value: three decimals, "< 0.001";
* ``year`` — a year, without separators.
"""


@dataclass(frozen=True)
class Num(Inline):
    """A number written by its ``rule`` (see :data:`RULES`); ``signed`` shows + on positives."""

    value: float | int | None
    rule: str = "int"
    signed: bool = False

    def __post_init__(self):
        if self.rule not in RULES:
            raise ValueError(f"unknown number rule {self.rule!r}")


@dataclass(frozen=True)
class Count(Inline):
    """A count of people registered with the report's disclosure control under ``key``;
    shown or suppressed by its decision. ``words``: in a sentence a suppressed count reads
    "fewer than 5" (when it is small) or "a number (not shown)"."""

    key: str
    words: bool = False


@dataclass(frozen=True)
class Share(Inline):
    """The percentage ``num`` is of ``den`` (two registered counts), shown only when both
    counts may be; ``rule`` 'share' (whole per cent)."""

    num: str
    den: str | int  # a registered count, or a public number (a denominator the source printed)
    rule: str = "share"


@dataclass(frozen=True)
class Stat(Inline):
    """A statistic (a mean, a change, a CI bound, a p-value…) resting on the people counted
    under ``n`` (one key or several): shown only when each rests on at least ``min_cell``.
    ``grain``: for a mean of whole-number scores (1), so that the audit can check the mean
    does not give away a suppressed group size; a share (rule 'share') is audited anyway.
    ``needs``: counts whose suppression hides the statistic too (the change in a share is
    shown only when the shares it is the difference of are)."""

    value: float | None
    rule: str
    n: tuple[str, ...] = ()
    signed: bool = False
    grain: float | None = None  # value·n/grain is a whole number (1: a mean of whole scores)
    needs: tuple[str, ...] = ()  # counts that must be shown for it to be (its parts)

    def __post_init__(self):
        if isinstance(self.n, str):
            object.__setattr__(self, "n", (self.n,))
        if self.rule not in RULES:
            raise ValueError(f"unknown number rule {self.rule!r}")


@dataclass(frozen=True)
class Interval(Inline):
    """A confidence interval, "−1.2 to +3.4", or one 'suppressed' when it may not be shown."""

    low: Stat
    high: Stat


@dataclass(frozen=True)
class Join(Inline):
    """Text parts one after the other, with ``sep`` between them."""

    parts: tuple[Inline, ...]
    sep: Inline | None = None

    def __post_init__(self):
        object.__setattr__(self, "parts", tuple(inline(p) for p in self.parts))


@dataclass(frozen=True)
class Strong(Inline):
    inner: Inline


@dataclass(frozen=True)
class Em(Inline):
    inner: Inline


@dataclass(frozen=True)
class NoBreak(Inline):
    """Text that must not break across lines (a number with its unit: "64 %")."""

    inner: Inline


@dataclass(frozen=True)
class Lang(Inline):
    """Text in another language than the page's (English words inside a Khmer page)."""

    inner: Inline
    language: str = "en"


@dataclass(frozen=True)
class Deferred(Inline):
    """Text that depends on the report's disclosure decision (how many figures it
    suppressed): ``make(decision)`` returns the text when the page is written."""

    make: Callable


@dataclass(frozen=True)
class Code(Inline):
    """A technical token the kit itself produces (a file digest, a software version): shown
    as written, never translated."""

    text: str


SUPPRESSED = "suppressed"
"""What a suppressed cell shows (a catalogue message)."""


SEPARATORS = (N_(", "), N_("; "), N_(" · "), N_(" and "), N_(" "))
"""The separators :func:`join` takes (catalogue messages: a language may write them its way)."""


def join(parts, sep: str = ", ") -> Join:
    """``parts`` separated by a catalogue separator (", ", "; ", " and ")."""
    return Join(tuple(parts), Msg(sep))


# ------------------------------------------------------------------ provenance


PUBLISHED, MATCHED, ILLUSTRATION, DATA = "published", "matched", "illustration", "data"


@dataclass(frozen=True)
class Provenance:
    """Where a block's numbers come from:

    * ``published`` — figures printed by the source (``source``, with its page or table);
    * ``matched`` — computed from data that reproduce a published figure (the source names it);
    * ``illustration`` — computed from synthetic data; the source published no such figure;
    * ``data`` — computed from the programme's own data.
    """

    kind: str = DATA
    source: Inline | None = None

    def __post_init__(self):
        if self.kind not in (PUBLISHED, MATCHED, ILLUSTRATION, DATA):
            raise ValueError(f"unknown provenance {self.kind!r}")


# ------------------------------------------------------------------ blocks


class Block:
    """A block of a report page."""


@dataclass(frozen=True)
class Heading(Block):
    level: int
    text: Inline
    anchor: str | None = None


@dataclass(frozen=True)
class Para(Block):
    text: Inline


@dataclass(frozen=True)
class Bullets(Block):
    items: tuple[Inline, ...]


@dataclass(frozen=True)
class Note(Block):
    """A highlighted box: ``caveat`` (read the figures with this in mind), ``info``."""

    text: Inline
    kind: str = "caveat"


@dataclass(frozen=True)
class Column:
    header: Inline
    numeric: bool = True
    group: Inline | None = None  # a header over several columns ("Campaign villages")


Cell = Union[Inline, None]
"""A table cell: text, a number, a count, a share, a statistic; None is "–" (no such figure)."""


@dataclass(frozen=True)
class Table(Block):
    """A table. The first column holds row labels (row headers); ``key`` names it in the
    disclosure log and the page; ``structure`` is not needed here (sums are declared to the
    disclosure control when the counts are registered)."""

    key: str
    caption: Inline
    columns: tuple[Column, ...]
    rows: tuple[tuple[Cell, ...], ...]
    provenance: Provenance = field(default_factory=Provenance)
    notes: tuple[Inline, ...] = ()
    compact: bool = False  # a small table that need not scroll on a phone


@dataclass(frozen=True)
class Chart(Block):
    """A chart drawn when the page is written (after the disclosure decision), from what
    may be shown: ``draw(view, text, narrow)`` returns a matplotlib Figure, where ``view``
    answers :meth:`~evalkit.report.disclosure.Decision.shown` and ``text`` writes an
    :class:`Inline` in the page's language. ``alt`` states the finding; ``better`` says which
    direction is better when the chart shows change or effects."""

    key: str
    draw: Callable
    alt: Inline
    caption: Inline
    provenance: Provenance = field(default_factory=Provenance)
    stats: tuple = ()  # the statistics and shares it draws (decided with the other figures)


@dataclass(frozen=True)
class Progress(Block):
    """A target shown as progress: a bar (value of target) and its status in words."""

    label: Inline
    value: float
    target: float
    status: Inline


@dataclass(frozen=True)
class Box(Block):
    """Blocks set apart: ``illustration`` (figures the source did not publish, computed from
    synthetic data), ``published`` (the source's own figures)."""

    kind: str
    blocks: tuple[Block, ...]
    label: Inline | None = None


@dataclass(frozen=True)
class Part:
    """A report page's part (a section, the brief, the annex), ``anchor`` its id."""

    anchor: str
    blocks: tuple[Block, ...]
    fold: bool = False  # shown folded on screen (Methods, Glossary), printed open


def walk_inline(node: Inline):
    """Every text part inside ``node`` (itself included), depth first."""
    yield node
    if isinstance(node, Msg):
        for _, arg in node.args:
            yield from walk_inline(arg)
    elif isinstance(node, Join):
        for part in node.parts:
            yield from walk_inline(part)
        if node.sep is not None:
            yield from walk_inline(node.sep)
    elif isinstance(node, (Strong, Em, NoBreak, Lang)):
        yield from walk_inline(node.inner)
    elif isinstance(node, Interval):
        yield node.low
        yield node.high


def counts_of(blocks) -> set[str]:
    """Every registered count the blocks show (directly, or as part of a share)."""
    out: set[str] = set()
    for block in blocks:
        for text in inlines_of(block):
            for node in walk_inline(text):
                if isinstance(node, Count):
                    out.add(node.key)
                elif isinstance(node, Share):
                    out.add(node.num)
                    if isinstance(node.den, str):
                        out.add(node.den)
    return out


def inlines_of(block: Block):
    """Every text of ``block`` (cells, captions, headings, labels)."""
    if isinstance(block, (Heading, Para)):
        yield block.text
    elif isinstance(block, Bullets):
        yield from block.items
    elif isinstance(block, Note):
        yield block.text
    elif isinstance(block, Table):
        yield from _table_texts(block)
    elif isinstance(block, Chart):
        yield from (block.alt, block.caption, *block.stats, *_source_of(block))
    elif isinstance(block, Progress):
        yield block.label
        yield block.status
    elif isinstance(block, Box):
        if block.label is not None:
            yield block.label
        for inner in block.blocks:
            yield from inlines_of(inner)
def _table_texts(block: Table):
    """A table's caption, headers and groups, cells, notes and source."""
    yield block.caption
    for column in block.columns:
        yield column.header
        if column.group is not None:
            yield column.group
    for row in block.rows:
        yield from (c for c in row if c is not None)
    yield from block.notes
    yield from _source_of(block)


def _source_of(block) -> tuple:
    """The cited source of a table's or chart's figures, if it has one."""
    return () if block.provenance.source is None else (block.provenance.source,)


