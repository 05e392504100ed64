"""Disclosure control for everything a report publishes: tables, key-finding sentences,
captions and charts.

One :class:`Disclosure` per report holds the programme's rules (``privacy:`` in
programme.yml) and a log of every decision. Sections ask it how to show a figure:

* **primary suppression** — a count of people-level units (children, caregivers, families,
  households) between 1 and ``min_cell − 1`` is not shown, nor any percentage, mean, CI or
  p-value resting on fewer than ``min_cell`` units. Zeros are shown (a stated policy: an
  empty cell identifies no one);
* **secondary suppression** — parts of a whole are published together (improved / unchanged
  / worse; closure ratings; categories): when a part is suppressed, the smallest other part
  is suppressed too, so that no part can be worked out from the total, the other parts or
  their percentages (see :meth:`Disclosure.partition`). A section that would let a small
  group be worked out from figures elsewhere in the same report (a total shown in another
  table) withholds the figure and says so;
* **rounding** — with ``privacy.rounding: 5`` every count shown is rounded to the nearest 5
  and percentages are computed from the rounded counts;
* **published figures** — a small figure the study itself published (SKO's "2 families") is
  shown only when programme.yml lists it as published and the section names its source;
  otherwise it is suppressed like any other.

The log records table, cell, rule and action, and gives counts only as "under min_cell"; it
is written to the programme folder's private ``.evalkit/disclosure.csv`` (never beside the
report), and the report's privacy note says how many cells were suppressed and why.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from evalkit.i18n import N_, _

SUPPRESSED = N_("suppressed")
"""What a suppressed cell shows (the same word for primary and secondary suppression, so
that which is which cannot be told apart)."""

PRIMARY, SECONDARY, ROUNDED, PUBLISHED, WITHHELD = (
    "primary", "secondary", "rounded", "published", "withheld")


PLACES = {"villages", "village", "communes", "commune", "districts", "district", "provinces",
          "province", "institutions", "rcis", "rci", "schools", "clinics", "problems", "rounds"}
"""Units that are not people: their counts are not under disclosure control."""


def is_people(unit: str) -> bool:
    """Whether counts of ``unit`` fall under disclosure control: every unit except places,
    institutions and problems (privacy by default for a unit we do not know)."""
    return unit.strip().lower() not in PLACES


@dataclass(frozen=True)
class Entry:
    table: str
    cell: str
    rule: str
    action: str


@dataclass(frozen=True, eq=False)
class Partition:
    """Parts of a whole as they may be shown: ``counts`` (None where suppressed) and
    ``percent`` (of the shown total; None where suppressed)."""

    counts: dict[str, int | None]
    total: int | None
    percent: dict[str, float | None]
    small: frozenset = frozenset()  # the parts hidden because they are under min_cell

    def shown(self, label: str) -> bool:
        return self.counts[label] is not None

    def text(self, label: str) -> str:
        n = self.counts[label]
        return SUPPRESSED if n is None else f"{n:,}"

    def words(self, label: str, min_cell: int) -> str:
        """The part in a sentence: its number, "fewer than 5" when it is small, or "a
        number not shown" when it was hidden to protect another part."""
        if self.shown(label):
            return self.text(label)
        return (_("fewer than {n}").format(n=min_cell) if label in self.small
                else _("a number (not shown)"))


@dataclass(eq=False)
class Disclosure:
    """The disclosure rules of one report and the log of what they did."""

    min_cell: int = 5
    rounding: int | None = None
    log: list[Entry] = field(default_factory=list)

    # ------------------------------------------------------------------ single figures

    def small(self, n: float | None) -> bool:
        """True when a count of people is between 1 and min_cell − 1."""
        return n is not None and not _missing(n) and 0 < n < self.min_cell

    def value(self, n: int) -> int:
        """A count as shown: rounded to the declared base (zero stays zero)."""
        if not self.rounding or n == 0:
            return int(n)
        return int(self.rounding * math.floor(n / self.rounding + 0.5))

    def count(self, n: int, table: str, cell: str, *, published: int | None = None,
              citation: str | None = None) -> str:
        """A standalone count in words: "fewer than 5" when small (unless published with a
        citation), otherwise the number (rounded when the programme rounds)."""
        n = int(n)
        if self.small(n):
            if published is not None and citation and int(published) == n:
                self.note(table, cell, PUBLISHED, "shown: published by the study, with citation")
                return f"{n:,}"
            self.note(table, cell, PRIMARY, "shown as 'fewer than min_cell'")
            return _("fewer than {n}").format(n=self.min_cell)
        shown = self.value(n)
        if shown != n:
            self.note(table, cell, ROUNDED, f"rounded to base {self.rounding}")
        return f"{shown:,}"

    def rests_on(self, n: float | None, table: str, cell: str) -> bool:
        """Whether a statistic resting on ``n`` units may be shown (logged when not)."""
        if n is None or _missing(n) or n < self.min_cell:
            if n is not None and not _missing(n) and n > 0:
                self.note(table, cell, PRIMARY, "statistic on fewer than min_cell units suppressed")
            return n is not None and not _missing(n) and n >= self.min_cell
        return True

    # ------------------------------------------------------------------ parts of a whole

    def partition(self, table: str, parts: dict[str, int], *, total: int | None = None,
                  published: dict[str, int] | None = None, citation: str | None = None,
                  row: str = "", protect: set[str] = frozenset(),
                  keep: tuple[str, ...] = ()) -> Partition:
        """Parts of a whole (they add up to ``total``, default their sum) as they may be shown
        (see :meth:`linked`, with the whole as the one published sum)."""
        parts = {k: int(v) for k, v in parts.items()}
        whole = int(sum(parts.values()) if total is None else total)
        counts, totals, small = self.linked(table, parts, {"total": (set(parts), whole)},
                                            published=published, citation=citation, row=row,
                                            protect=protect, keep=keep)
        shown_total = totals["total"]
        base = shown_total if shown_total else None
        percent = {k: (None if c is None or not base else 100.0 * c / base) for k, c in counts.items()}
        return Partition(counts, shown_total, percent, frozenset(small))

    def linked(self, table: str, cells: dict[str, int], sums: dict[str, tuple[set[str], int]], *,
               published: dict[str, int] | None = None, citation: str | None = None,
               row: str = "", protect: set[str] = frozenset(), keep: tuple[str, ...] = ()):
        """Cells of people-level counts and the published sums over subsets of them (a total,
        subtotals, declared denominators), as they may be shown.

        Primary: a cell between 1 and min_cell − 1 is hidden (unless the study published it
        and ``citation`` names the source); a sum under min_cell hides itself and its cells.
        Secondary, repeated until no hidden cell can be solved for from the sums still shown
        (by linear algebra, so two sums that differ by one cell are caught too): another
        non-zero cell of a sum holding the exposed cell is hidden, the smallest first — cells
        in ``keep`` only when no other will do, cells in ``protect`` or published never; if
        there is none, that sum is hidden instead (the caller must not show it anywhere).

        Returns (cells as shown: count or None, sums as shown: count or None, the cells hidden
        by the primary rule).
        """
        cells = {k: int(v) for k, v in cells.items()}
        where = f"{row}: " if row else ""
        published = {str(k): int(v) for k, v in (published or {}).items()} if citation else {}
        public = {k for k, v in cells.items() if self.small(v) and published.get(k) == v}
        for k in public:
            self.note(table, where + k, PUBLISHED, "shown: published by the study, with citation")
        hidden = {k for k, v in cells.items() if self.small(v) and k not in public}
        small = set(hidden)
        for k in sorted(hidden):
            self.note(table, where + k, PRIMARY, "under min_cell suppressed")
        sum_hidden = set()
        for name, (members, total) in sums.items():
            if self.small(total):
                sum_hidden.add(name)
                self.note(table, where + name, PRIMARY, "total under min_cell suppressed")
                for k in members:
                    if cells[k] and k not in public and k not in hidden:
                        hidden.add(k)
                        self.note(table, where + k, PRIMARY, "part of a total under min_cell suppressed")
        while True:
            exposed = _determined(hidden, {n: m for n, (m, _) in sums.items() if n not in sum_hidden})
            if not exposed:
                break
            cell = exposed[0]
            holding = [n for n, (m, _) in sums.items() if n not in sum_hidden and cell in m]
            candidates = sorted((k in keep, cells[k], k) for n in holding for k in sums[n][0]
                                if k not in hidden and k not in protect and k not in public
                                and cells[k] > 0)
            if candidates:
                hidden.add(candidates[0][2])
                self.note(table, where + candidates[0][2], SECONDARY,
                          "suppressed so the small part cannot be worked out")
            else:
                name = min(holding, key=lambda n: len(sums[n][0]))
                sum_hidden.add(name)
                self.note(table, where + name, SECONDARY,
                          "total suppressed: it would give the small part away")
        shown = {k: (None if k in hidden else self.value(v)) for k, v in cells.items()}
        totals = {name: (None if name in sum_hidden else self.value(total))
                  for name, (members, total) in sums.items()}
        if self.rounding and any(c is not None and c != cells[k] for k, c in shown.items()):
            self.note(table, where + "counts", ROUNDED, f"rounded to base {self.rounding}")
        return shown, totals, small

    def withhold(self, table: str, why: str) -> None:
        """A whole figure or section left out because a small group could be worked out."""
        self.note(table, "all", WITHHELD, why)

    # ------------------------------------------------------------------ log

    def note(self, table: str, cell: str, rule: str, action: str) -> None:
        entry = Entry(table, cell, rule, action)
        if entry not in self.log:  # a figure shown in a table and a sentence is one decision
            self.log.append(entry)

    @property
    def suppressed(self) -> int:
        return sum(e.rule in (PRIMARY, SECONDARY) for e in self.log)

    def summary(self) -> str:
        """The privacy note's sentence: how many cells were suppressed and why."""
        primary = sum(e.rule == PRIMARY for e in self.log)
        secondary = sum(e.rule == SECONDARY for e in self.log)
        published = sum(e.rule == PUBLISHED for e in self.log)
        withheld = sum(e.rule == WITHHELD for e in self.log)
        parts = [_("{primary} figure(s) resting on fewer than {n} children, families or "
                   "households were suppressed, and {secondary} more so that none of them can be "
                   "worked out from totals").format(primary=primary, n=self.min_cell,
                                                    secondary=secondary)]
        if withheld:
            parts.append(_("{n} comparison(s) were left out because a small group could have "
                           "been worked out from figures elsewhere in the report").format(n=withheld))
        if published:
            parts.append(_("{n} small figure(s) are shown because the study published them "
                           "(each with its source)").format(n=published))
        if self.rounding:
            parts.append(_("counts are rounded to the nearest {n}").format(n=self.rounding))
        return "; ".join(parts) + _(".")

    def write(self, path: str | Path) -> Path:
        """The log as CSV (table, cell, n, rule, action); n is only ever "under min_cell"."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["table", "cell", "n", "rule", "action"])
            for e in self.log:
                n = f"under {self.min_cell}" if e.rule in (PRIMARY, PUBLISHED) else ""
                writer.writerow([e.table, e.cell, n, e.rule, e.action])
        return path


def _determined(hidden: set[str], sums: dict[str, set[str]]) -> list[str]:
    """The hidden cells whose value follows from the shown sums (and the shown cells): cell i
    is determined when the unit vector e_i lies in the row space of the sums' membership
    matrix restricted to the hidden cells."""
    cells = sorted(hidden)
    rows = [[1.0 if c in members else 0.0 for c in cells] for members in sums.values()
            if any(c in members for c in cells)]
    if not cells or not rows:
        return []
    a = np.array(rows)
    rank = np.linalg.matrix_rank(a)
    out = []
    for i, c in enumerate(cells):
        unit = np.zeros(len(cells))
        unit[i] = 1.0
        if np.linalg.matrix_rank(np.vstack([a, unit])) == rank:
            out.append(c)
    return out


def _missing(n) -> bool:
    try:
        return math.isnan(float(n))
    except (TypeError, ValueError):
        return True
