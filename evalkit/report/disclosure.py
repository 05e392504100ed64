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

SUPPRESSED = "suppressed"
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

    def shown(self, label: str) -> bool:
        return self.counts[label] is not None

    def text(self, label: str) -> str:
        n = self.counts[label]
        return SUPPRESSED if n is None else f"{n:,}"


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
            return f"fewer than {self.min_cell}"
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
        """Parts of a whole (they add up to ``total``, default their sum) as they may be shown.

        Primary: parts between 1 and min_cell − 1 (unless published with a citation).
        Secondary: if exactly one part is suppressed, the smallest other non-zero part is
        suppressed too — parts named in ``keep`` only when no other part will do, parts in
        ``protect`` never; if there is none, the total is suppressed instead (the caller must
        then not show it anywhere). When the total itself is small, every part is suppressed.
        """
        parts = {k: int(v) for k, v in parts.items()}
        whole = int(sum(parts.values()) if total is None else total)
        where = f"{row}: " if row else ""
        published = {str(k): int(v) for k, v in (published or {}).items()} if citation else {}
        if self.small(whole):
            for label, n in parts.items():
                if n:
                    self.note(table, where + label, PRIMARY, "part of a total under min_cell suppressed")
            self.note(table, where + "total", PRIMARY, "total under min_cell suppressed")
            return Partition({k: (0 if v == 0 else None) for k, v in parts.items()}, None,
                             {k: (0.0 if v == 0 else None) for k, v in parts.items()})
        hidden = set()
        for label, n in parts.items():
            if self.small(n):
                if published.get(label) == n:
                    self.note(table, where + label, PUBLISHED, "shown: published by the study, with citation")
                    continue
                hidden.add(label)
                self.note(table, where + label, PRIMARY, "under min_cell suppressed")
        total_hidden = False
        if len(hidden) == 1:
            others = sorted((label in keep, n, label) for label, n in parts.items()
                            if label not in hidden and label not in protect and n > 0)
            if others:
                label = others[0][2]
                hidden.add(label)
                self.note(table, where + label, SECONDARY, "suppressed so the small part cannot be worked out")
            else:
                total_hidden = True
                self.note(table, where + "total", SECONDARY, "total suppressed: it equals the small part")
        counts = {k: (None if k in hidden else self.value(v)) for k, v in parts.items()}
        shown_total = None if total_hidden else self.value(whole)
        if self.rounding and any(c is not None and c != parts[k] for k, c in counts.items()):
            self.note(table, where + "counts", ROUNDED, f"rounded to base {self.rounding}")
        base = shown_total if shown_total else None
        percent = {k: (None if c is None or not base else 100.0 * c / base) for k, c in counts.items()}
        return Partition(counts, shown_total, percent)

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
        parts = [f"{primary} figure(s) resting on fewer than {self.min_cell} children, families "
                 f"or households were suppressed, and {secondary} more so that none of them can "
                 "be worked out from totals"]
        if withheld:
            parts.append(f"{withheld} comparison(s) were left out because a small group could "
                         "have been worked out from figures elsewhere in the report")
        if published:
            parts.append(f"{published} small figure(s) are shown because the study published "
                         "them (each with its source)")
        if self.rounding:
            parts.append(f"counts are rounded to the nearest {self.rounding}")
        return "; ".join(parts) + "."

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


def _missing(n) -> bool:
    try:
        return math.isnan(float(n))
    except (TypeError, ValueError):
        return True
