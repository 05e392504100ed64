"""Disclosure control, decided once per report over every figure it publishes.

Sections register the counts of people their content shows (or lets a reader work out) and
how they add up, then build their content from :class:`~evalkit.report.content.Count`,
:class:`~evalkit.report.content.Share` and :class:`~evalkit.report.content.Stat` references.
When every section of the report has done so, :meth:`Disclosure.decide` takes one decision
for the whole report, which every page, language edition, headline and the index then
follow:

* **primary suppression** — a count of people between 1 and ``min_cell − 1`` is not shown
  (unless the study published it and the section cites the source), nor any statistic
  resting on fewer than ``min_cell`` people. Zeros are shown (an empty cell identifies no
  one);
* **secondary suppression** — counts are linked by the sums the sections declare (parts of
  a total, subtotals, the same children in two tables): while a suppressed count could be
  solved for from the counts still shown, another count of one of its sums is suppressed,
  the smallest first (a count the section asks to ``keep`` only when no other will do);
* **the audit** — every suppressed count is then bounded by integer programming over
  everything the report publishes (the sums, the counts shown, the bounds a suppressed count
  is known to respect, and the statistics shown on groups whose size is suppressed, such as
  a percentage or a mean of whole-number scores): the smallest and largest values
  consistent with all of it. A count pinned to one value is suppressed further (the cheapest
  published figure touching it) until none is; if a count stays pinned the report is not
  published;
* **rounding** — with ``privacy.rounding: 5`` every count shown is rounded to the nearest 5
  and percentages are computed from the rounded counts.

The log records table, cell, rule and action, and gives counts only as "under min_cell"; it
is written to the programme folder's private ``.evalkit/disclosure.csv`` (never beside the
report). Counts of villages, institutions and problems are not people: they are not
registered.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from evalkit.errors import ReportError
from evalkit.i18n import N_

SUPPRESSED = N_("suppressed")
"""What a suppressed cell shows (one word for primary and secondary suppression, so that
which is which cannot be told apart)."""

PRIMARY, SECONDARY, ROUNDED, PUBLISHED, WITHHELD, AUDIT = (
    "primary", "secondary", "rounded", "published", "withheld", "audit")

PLACES = {"villages", "village", "communes", "commune", "districts", "district", "provinces",
          "province", "institutions", "rcis", "rci", "schools", "clinics", "problems", "rounds"}
"""Units that are not people: their counts are not under disclosure control."""

MIN_CELL_FLOOR = 3
"""``privacy.min_cell`` below this is refused; below 5 it is warned about."""

if TYPE_CHECKING:
    from evalkit.report.content import Count


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


@dataclass
class _Counted:
    value: int
    table: str
    label: str
    cost: int = 0  # higher: suppressed later when a secondary suppression is needed
    published: bool = False  # printed by the study, cited: shown even when small


@dataclass(frozen=True)
class Decision:
    """What the report may show: every registered count as shown (None when suppressed)."""

    min_cell: int
    rounding: int | None
    counts: dict[str, int | None]
    true: dict[str, int] = field(repr=False)
    small: frozenset[str] = frozenset()
    hidden_stats: frozenset = frozenset()
    bounds: dict[str, tuple[int, int]] = field(default_factory=dict, repr=False)
    rules: dict[str, int] = field(default_factory=dict)  # how many figures each rule acted on
    implicit: frozenset[str] = frozenset()  # registered but shown by no figure

    @property
    def suppressed(self) -> frozenset[str]:
        """The counts a figure would show, suppressed."""
        return frozenset(k for k, v in self.counts.items() if v is None and k not in self.implicit)

    @property
    def protected(self) -> frozenset[str]:
        """What no reader may work out: the suppressed counts and the small implicit groups."""
        return self.suppressed | (self.implicit & self.small)

    def shown(self, key: str) -> bool:
        return self.counts[key] is not None

    def count(self, key: str) -> int | None:
        return self.counts[key]

    def is_small(self, key: str) -> bool:
        return key in self.small

    def stat_shown(self, n: tuple[str, ...], token=None) -> bool:
        """A statistic resting on the people counted under each of ``n`` may be shown (and
        every count it ``needs`` is shown)."""
        if token is not None and token in self.hidden_stats:
            return False
        needs = getattr(token, "needs", ())
        hidden = self.protected
        return (all(self.true[k] >= self.min_cell for k in n)
                and not any(k in hidden for k in needs))

    def share(self, num: str, den) -> float | None:
        """The percentage ``num`` is of ``den`` as shown (from the shown counts; ``den`` may
        be a public number)."""
        a = self.counts[num]
        b = den if isinstance(den, int) else self.counts[den]
        if a is None or b is None or not b:
            return None
        return 100.0 * a / b


class Disclosure:
    """The disclosure rules of one report, the counts it publishes and the log."""

    def __init__(self, min_cell: int = 5, rounding: int | None = None):
        self.min_cell = min_cell
        self.rounding = rounding
        self._counts: dict[str, _Counted] = {}
        self._relations: list[dict[str, float]] = []  # each: Σ coefficient × count = 0
        self._unknown: set[str] = set()  # registered, shown by no figure (see decide)
        self._small: set[str] = set()
        self.log: list[Entry] = []
        self.decision: Decision | None = None

    # ------------------------------------------------------------------ registration

    def count(self, key: str, n: int, *, table: str = "", label: str = "", cost: int = 0,
              published: int | None = None, citation: bool = False) -> "Count":
        """Register the count of people ``key`` (the same quantity has the same key wherever
        it is shown) and return a reference for content. ``published``: the figure the study
        printed; with ``citation`` a small count equal to it is shown (it is public)."""
        from evalkit.report.content import Count

        self._register(key, n, table, label, cost, published, citation)
        return Count(key)

    def _register(self, key, n, table="", label="", cost=0, published=None, citation=False):
        if self.decision is not None:  # another edition's content: the same counts only
            if key not in self._counts or self._counts[key].value != int(n):
                raise RuntimeError(f"count {key!r} registered after the report's decision with "
                                   "a new value: every edition must show the same counts")
            return
        n = int(n)
        if n < 0:
            raise ValueError(f"count {key!r} is negative")
        entry = self._counts.get(key)
        if entry is not None:
            if entry.value != n:
                raise ValueError(f"count {key!r} registered as {entry.value} and as {n}")
            entry.cost = max(entry.cost, cost)
            return
        public = bool(citation and published is not None and int(published) == n)
        self._counts[key] = _Counted(n, table, label or key, cost, public)

    def has(self, key: str) -> bool:
        return key in self._counts

    def value(self, key: str) -> int:
        """The true value of a registered count (for the section's own logic only)."""
        return self._counts[key].value

    def adds_up(self, total: str, parts) -> None:
        """Declare that the registered count ``total`` is the sum of the registered ``parts``."""
        parts = tuple(parts)
        missing = [k for k in (total, *parts) if k not in self._counts]
        if missing:
            raise KeyError(f"sum over unregistered count(s) {missing}")
        value = sum(self._counts[k].value for k in parts)
        if value != self._counts[total].value:
            raise ValueError(f"{total!r} ({self._counts[total].value}) is not the sum of "
                             f"{parts} ({value})")
        relation: dict[str, float] = {total: 1.0}
        for k in parts:
            relation[k] = relation.get(k, 0.0) - 1.0
        self.relation(relation)

    def relation(self, coefficients: dict[str, float]) -> None:
        """Declare that Σ coefficient × count = 0 over registered counts (a weighted sum: the
        units meeting each criterion add up to Σ k × the units meeting k criteria)."""
        missing = [k for k in coefficients if k not in self._counts]
        if missing:
            raise KeyError(f"relation over unregistered count(s) {missing}")
        value = sum(c * self._counts[k].value for k, c in coefficients.items())
        if abs(value) > 1e-9:
            raise ValueError(f"relation {coefficients} does not hold ({value})")
        relation = {k: float(c) for k, c in coefficients.items() if c}
        if relation and relation not in self._relations:
            if self.decision is not None:
                raise RuntimeError("a relation declared after the report's decision: every "
                                   "edition must declare the same sums")
            self._relations.append(relation)

    def whole(self, total: str, n_total: int, parts: dict[str, int], *, table: str = "",
              cost: int = 0, part_costs: dict[str, int] | None = None,
              published: dict[str, int] | None = None, citation: bool = False) -> None:
        """Register a total and its parts (which add up to it) in one call."""
        self._register(total, n_total, table, total, cost)
        for key, n in parts.items():
            self._register(key, n, table, key, (part_costs or {}).get(key, 0),
                           (published or {}).get(key), citation)
        self.adds_up(total, parts)

    # ------------------------------------------------------------------ decision

    def decide(self, stats=(), displayed=None) -> Decision:
        """One decision over every registered count (see the module's description).
        ``stats``: the statistics the report shows (:class:`~evalkit.report.content.Stat`),
        so that those resting on groups whose size is suppressed are audited too.
        ``displayed``: the counts the report's content shows (default: every registered
        count); the others are implicit — groups no figure shows, but which sums declare (the
        children not rated on a factor) — unknown to a reader, and protected when small."""
        if self.decision is not None:
            return self.decision
        counts = self._counts
        displayed = set(counts) if displayed is None else set(displayed) & set(counts)
        self._unknown = set(counts) - displayed
        small, hidden = self._primary(displayed)
        self._small = small
        self._secondary(hidden)
        modeled = [s for s in stats if getattr(s, "n", ()) and len(s.n) == 1
                   and s.value is not None and _grain(s) is not None]
        hidden_stats: set = set()
        bounds = self._settle(hidden, small, modeled, hidden_stats)
        shown = self._shown(hidden)
        for s in hidden_stats:
            c = counts[s.n[0]]
            self.note(c.table, c.label + ": statistic", AUDIT,
                      "statistic suppressed: it would let a suppressed count be worked out")
        self.decision = Decision(self.min_cell, self.rounding, shown,
                                 {k: c.value for k, c in counts.items()},
                                 frozenset(small), frozenset(hidden_stats), bounds,
                                 self.summary_counts(), frozenset(self._unknown))
        return self.decision

    def _shown(self, hidden: set[str]) -> dict:
        """Each count as published: None where suppressed or unknown to a reader, else the
        value (rounded when the policy rounds, which the notes then say)."""
        counts = self._counts
        shown = {k: (None if k in hidden or k in self._unknown else self._rounded(c.value))
                 for k, c in counts.items()}
        if self.rounding and any(v is not None and v != counts[k].value for k, v in shown.items()):
            self.note("all tables", "counts", ROUNDED, f"rounded to base {self.rounding}")
        return shown

    def _primary(self, displayed: set[str]) -> tuple[set[str], set[str]]:
        """(counts under min_cell, counts suppressed at first): every small count shown and
        not published by the study, and the non-zero parts of a total under min_cell."""
        counts, hidden, small = self._counts, set(), set()
        for key, c in counts.items():
            if not 0 < c.value < self.min_cell:
                continue
            if c.published:
                self.note(c.table, c.label, PUBLISHED, "shown: published by the study, with citation")
                continue
            small.add(key)
            if key in displayed:
                hidden.add(key)
                self.note(c.table, c.label, PRIMARY, "under min_cell suppressed")
        for k in self._parts_of_small_totals(small, displayed, hidden):
            hidden.add(k)
            self.note(counts[k].table, counts[k].label, PRIMARY,
                      "part of a total under min_cell suppressed")
        return small, hidden

    def _parts_of_small_totals(self, small: set[str], displayed: set[str], hidden: set[str]):
        """The shown, non-zero, unpublished parts of each total under min_cell (a relation
        'total = sum of parts')."""
        counts = self._counts
        for relation in self._relations:
            total = next((k for k, c in relation.items() if c == 1.0), None)
            parts = [k for k, c in relation.items() if c == -1.0]
            if total not in small or len(parts) != len(relation) - 1:
                continue
            yield from (k for k in parts if counts[k].value and k in displayed
                        and k not in hidden and not counts[k].published)

    def _settle(self, hidden: set[str], small: set[str], modeled: list,
                hidden_stats: set) -> dict[str, tuple[int, int]]:
        """Audit the whole report and suppress one more figure for each count the published
        ones pin down, until none is; the bounds of the last audit."""
        counts, cache = self._counts, {}
        for _round in range(10 * len(counts) + 10):
            bounds = self._audit(hidden, small, [s for s in modeled if s not in hidden_stats
                                                 and counts[s.n[0]].value >= self.min_cell], cache)
            pinned = sorted(k for k, (lo, hi) in bounds.items() if lo == hi)
            if not pinned:
                return bounds
            changed = False
            for key in pinned:  # one more suppression for each count pinned this round
                changed |= self._protect(key, hidden, hidden_stats, modeled)
            if not changed:
                c = counts[pinned[0]]
                raise ReportError(f"disclosure control: the suppressed count {c.label!r} of "
                                  f"table {c.table!r} can be worked out from the published "
                                  "figures and no further figure can be suppressed; the report "
                                  "was not written.")
            self._secondary(hidden)
        raise ReportError("disclosure control did not settle; the report was not written.")

    def _protected(self, hidden: set[str]) -> set[str]:
        """The counts no reader may work out: those suppressed, and small implicit groups."""
        return hidden | (self._unknown & self._small)

    def _rounded(self, n: int) -> int:
        if not self.rounding or n == 0:
            return n
        return int(self.rounding * math.floor(n / self.rounding + 0.5))

    def _secondary(self, hidden: set[str]) -> None:
        """Suppress more counts until no suppressed count follows from the shown ones by the
        declared sums (linear algebra over every sum of the report at once)."""
        counts = self._counts
        while True:
            protected = self._protected(hidden)
            exposed = [c for c in _determined(hidden | self._unknown, self._relations)
                       if c in protected]
            if not exposed:
                return
            cell = exposed[0]
            if not self._hide_neighbour(cell, hidden):
                raise ReportError(f"disclosure control: the suppressed count "
                                  f"{counts[cell].label!r} of table {counts[cell].table!r} "
                                  "follows from the published totals and nothing else can be "
                                  "suppressed; the report was not written.")

    def _hide_neighbour(self, cell: str, hidden: set[str]) -> bool:
        """Suppress one more count so that ``cell`` is no longer determined: searched outward
        from ``cell`` through the sums it is in (and, past counts already hidden, the sums
        they are in), the cheapest count whose suppression leaves it undetermined, else the
        cheapest nearest one."""
        seen, frontier, fallback = {cell}, [cell], None
        while frontier:
            near = {k for c in frontier for relation in self._relations if c in relation
                    for k in relation} - seen
            candidates = self._candidates(near, hidden)
            key = next((k for k in candidates[:40] if cell not in _determined(
                hidden | self._unknown | {k}, self._relations, only=cell)), None)
            if key is not None:
                return self._hide(key, hidden)
            fallback = fallback if fallback is not None or not candidates else candidates[0]
            seen |= near
            frontier = [k for k in near if k in hidden or k in self._unknown]
        return self._hide(fallback, hidden) if fallback is not None else False

    def _candidates(self, near: set[str], hidden: set[str]) -> list[str]:
        """The counts among ``near`` that may still be suppressed, cheapest first: a count the
        section did not ask to keep, in the fewest sums (a part before a total, so that
        suppression does not spread through the margins), the smallest; a zero (shown by
        policy) only as a last resort."""
        counts, links = self._counts, self._links()

        def order(k):
            return (counts[k].value == 0, counts[k].cost >= 10, links.get(k, 0), counts[k].cost,
                    counts[k].value, k)

        return sorted((k for k in near if k not in hidden and k not in self._unknown
                       and not counts[k].published), key=order)

    def _hide(self, key: str, hidden: set[str]) -> bool:
        hidden.add(key)
        self.note(self._counts[key].table, self._counts[key].label, SECONDARY,
                  "suppressed so that a small group cannot be worked out")
        return True

    def _links(self) -> dict[str, int]:
        """How many relations each count is in."""
        if getattr(self, "_link_cache", None) is None or self._link_cache[0] != len(self._relations):
            links: dict[str, int] = {}
            for relation in self._relations:
                for k in relation:
                    links[k] = links.get(k, 0) + 1
            self._link_cache = (len(self._relations), links)
        return self._link_cache[1]

    def _protect(self, pinned: str, hidden: set[str], hidden_stats: set, modeled) -> bool:
        """One more suppression for a count the audit pinned: a statistic resting on it, or
        else the cheapest shown count linked to it (through sums, past counts already hidden
        or shown nowhere), the nearest first among equally cheap ones."""
        for s in modeled:
            if s.n[0] == pinned and s not in hidden_stats:
                hidden_stats.add(s)
                return True
        counts = self._counts
        links = self._links()
        candidates, level = self._linked_candidates(pinned, hidden)
        if not candidates:
            return False
        ordered = sorted(candidates, key=lambda k: (counts[k].value == 0, counts[k].cost >= 10,
                                                   links.get(k, 0), level[k], counts[k].cost,
                                                   counts[k].value, k))
        stats = [s for s in modeled if s not in hidden_stats and counts[s.n[0]].value >= self.min_cell]
        for key in ordered[:40]:  # the cheapest whose suppression frees the pinned count
            trial = hidden | {key}
            bounds = self._audit(trial, self._small, stats, targets={pinned})
            low, high = bounds.get(pinned, (0, 1))
            if low < high:
                return self._hide(key, hidden)
        return self._hide(ordered[0], hidden)

    def _linked_candidates(self, pinned: str, hidden: set[str]) -> tuple[list[str], dict]:
        """The shown, unpublished counts linked to ``pinned`` through sums (past counts already
        hidden or shown nowhere), in the order met, and each one's distance from it."""
        level = {pinned: 0}
        frontier = [pinned]
        candidates = []
        while frontier:
            following = []
            for cell in frontier:
                for k in (k for relation in self._relations if cell in relation for k in relation):
                    if k in level:
                        continue
                    level[k] = level[cell] + 1
                    if k in hidden or k in self._unknown:
                        following.append(k)
                    elif not self._counts[k].published:
                        candidates.append(k)
            frontier = following
        return candidates, level

    def _audit(self, hidden: set[str], small: set[str], stats, cache: dict | None = None,
               targets: set[str] | None = None) -> dict[str, tuple[int, int]]:
        """The smallest and largest whole values of each protected count consistent with
        everything published, linked group by linked group (HiGHS: a linear program where
        every coefficient is ±1, an integer program where a weighted sum or a statistic
        enters). Shown counts are constants; a group whose suppressions did not change since
        the last call is not solved again (``cache``)."""
        protected = self._protected(hidden)
        if not protected:
            return {}
        cache = {} if cache is None else cache
        variables = hidden | self._unknown
        out: dict[str, tuple[int, int]] = {}
        wanted = protected if targets is None else protected & set(targets)
        for component in _components(variables, self._relations):
            goals = component & wanted
            if not goals:
                continue
            extra = tuple(sorted((s for s in stats if s.n[0] in component), key=id))
            relations = [r for r in self._relations if component & set(r)]
            signature = (frozenset(component), frozenset(goals), frozenset(map(id, extra)),
                         frozenset(k for r in relations for k in r if k not in component))
            if signature not in cache:
                cache[signature] = self._solve(sorted(component), goals, relations, extra)
            out.update(cache[signature])
        return out

    def _solve(self, cells: list[str], targets: set[str], relations, stats) -> dict:
        """The range (lo, hi) of each target count that the published figures allow: the
        unknowns are ``cells`` (and, with rounding, the shown counts of ``relations``, known
        to ± half the base), bound by the relations and the statistics' whole-number grains."""
        keys, lower, upper = self._unknowns(cells, relations)
        index = {k: i for i, k in enumerate(keys)}
        width = len(keys) + len(stats)
        system = _System(width)
        integer = bool(stats)
        for r in relations:
            row, rhs = np.zeros(width), 0.0
            for k, c in r.items():
                if k in index:
                    row[index[k]] += c
                else:
                    rhs -= c * self._rounded(self._counts[k].value)
                integer |= abs(c) != 1.0
            system.add(row, rhs, rhs)
        big = self._big()
        for j, s in enumerate(stats):
            # value·n/grain is a whole number (the people having it, or a sum of scores), up
            # to the rounding of the value as shown
            g, tolerance = _grain(s)
            row = np.zeros(width)
            row[len(keys) + j] = 1.0
            row[index[s.n[0]]] = -(s.value - tolerance) / g
            system.add(row.copy(), 0.0, np.inf)
            row[index[s.n[0]]] = -(s.value + tolerance) / g
            system.add(row, -np.inf, 0.0)
            lower.append(-big * 100)
            upper.append(big * 100)
        lower, upper = np.array(lower, float), np.array(upper, float)
        out = {}
        for k in sorted(targets):
            # the truth is one solution: the count is pinned when no solution has it one
            # higher and none one lower (two feasibility problems)
            v, i = self._counts[k].value, index[k]
            found = []
            for step in (1, -1):
                lo, hi = lower.copy(), upper.copy()
                if step > 0:
                    lo[i] = max(lo[i], v + 1)
                else:
                    hi[i] = min(hi[i], v - 1)
                found.append(v if lo[i] > hi[i] else system.solution(lo, hi, integer, i, v))
            out[k] = (min(found[1], v), max(found[0], v))
        return out

    def _big(self) -> int:
        """A bound no count can reach (for counts a reader knows only to be ≥ 0)."""
        return 10 * max(c.value for c in self._counts.values()) + 10 * self.min_cell

    def _unknowns(self, cells: list[str], relations) -> tuple[list[str], list[int], list[int]]:
        """(keys, lower bounds, upper bounds) of what a reader does not know exactly."""
        counts, m, big = self._counts, self.min_cell, self._big()
        half = (self.rounding // 2) if self.rounding else 0
        keys, lower, upper = list(cells), [], []
        for k in keys:
            c = counts[k]
            if k in self._unknown or c.value == 0:  # shown nowhere, or a zero hidden last
                lo, hi = 0, big
            elif k in self._small:
                lo, hi = 1, m - 1
            else:
                lo, hi = (m if c.value >= m else 1), big
            lower.append(lo)
            upper.append(hi)
        if not half:
            return keys, lower, upper
        # with rounding, a shown count is only known to ± half the base
        shown = list(dict.fromkeys(k for r in relations for k in r if k not in cells))
        for k in shown:
            v = self._rounded(counts[k].value)
            keys.append(k)
            lower.append(max(0, v - half) if v else 0)
            upper.append(v + half if v else 0)
        return keys, lower, upper

    def withhold(self, table: str, why: str) -> None:
        """A whole figure or section left out because a small group could be worked out."""
        self.note(table, "all", WITHHELD, why)

    # ------------------------------------------------------------------ log

    def note(self, table: str, cell: str, rule: str, action: str) -> None:
        entry = Entry(table, cell, rule, action)
        if entry not in self.log:
            self.log.append(entry)

    @property
    def suppressed(self) -> int:
        return sum(e.rule in (PRIMARY, SECONDARY) for e in self.log)

    def summary_counts(self) -> dict[str, int]:
        """How many figures each rule acted on (for the privacy note)."""
        return {rule: sum(e.rule == rule for e in self.log)
                for rule in (PRIMARY, SECONDARY, PUBLISHED, WITHHELD, AUDIT)}

    def csv(self) -> str:
        """The log as CSV (table, cell, n, rule, action); n is only ever "under min_cell"."""
        from evalkit.files import neutralise

        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(["table", "cell", "n", "rule", "action"])
        for e in self.log:
            n = f"under {self.min_cell}" if e.rule in (PRIMARY, PUBLISHED) else ""
            writer.writerow([neutralise(v) for v in (e.table, e.cell, n, e.rule, e.action)])
        return buffer.getvalue()


def _grain(stat) -> tuple[float, float] | None:
    """(grain, rounding tolerance) of a statistic whose value·n/grain is a whole number: a
    share of people in per cent (grain 100) or a mean of whole-number scores (grain 1)."""
    grain = getattr(stat, "grain", None)
    decimals = {"share": 0, "mean": 2, "score": 1, "decimal1": 1, "pct1": 1, "ratio": 2}
    if stat.rule == "share":
        grain = 100.0
    if grain is None or stat.rule not in decimals:
        return None
    return grain, 0.5 * 10 ** -decimals[stat.rule] + 1e-9


def _components(hidden: set[str], relations) -> list[set[str]]:
    """The suppressed counts grouped by the relations that link them (each group audited
    alone)."""
    parent = {k: k for k in hidden}

    def find(k):
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    for relation in relations:
        members = [k for k in relation if k in hidden]
        for a, b in zip(members, members[1:]):
            parent[find(a)] = find(b)
    groups: dict[str, set[str]] = {}
    for k in hidden:
        groups.setdefault(find(k), set()).add(k)
    return list(groups.values())


def _determined(hidden: set[str], relations, only: str | None = None) -> list[str]:
    """The hidden counts whose value follows from the shown counts through the relations:
    count i is determined when the unit vector e_i lies in the row space of the relations'
    coefficients restricted to the hidden counts, that is when every vector of that matrix's
    null space is 0 at i (one singular value decomposition per linked group of counts;
    ``only``: test that one count)."""
    out = []
    groups = _components(hidden, relations)
    if only is not None:
        groups = [g for g in groups if only in g]
    for group in groups:
        cells = sorted(group)
        rows = _restricted(relations, {c: i for i, c in enumerate(cells)})
        if not rows:
            continue
        _u, singular, vh = np.linalg.svd(np.array(rows))
        rank = int((singular > 1e-9 * max(1.0, singular[0])).sum())
        null = vh[rank:]
        out += [c for i, c in enumerate(cells) if (only is None or c == only)
                and (null.shape[0] == 0 or np.abs(null[:, i]).max() < 1e-9)]
    return out


def _restricted(relations, index: dict[str, int]) -> list[np.ndarray]:
    """The relations' coefficients on the counts in ``index`` (count -> column), one row
    per relation touching them with a coefficient other than 0."""
    rows = []
    for relation in relations:
        row = np.zeros(len(index))
        touched = False
        for k, c in relation.items():
            if k in index:
                row[index[k]] += c
                touched = True
        if touched and row.any():
            rows.append(row)
    return rows


class _System:
    """Linear constraints lo ≤ A·x ≤ hi over ``width`` unknowns, and one feasible solution."""

    def __init__(self, width: int):
        self.width, self.rows, self.lo, self.hi = width, [], [], []

    def add(self, row, lo: float, hi: float) -> None:
        self.rows.append(row)
        self.lo.append(lo)
        self.hi.append(hi)

    def solution(self, lower, upper, integer: bool, i: int, otherwise: int) -> int:
        """Unknown ``i`` in a solution within the bounds (``otherwise`` when there is none)."""
        from scipy.optimize import Bounds, LinearConstraint, linprog, milp

        a = np.array(self.rows) if self.rows else np.zeros((0, self.width))
        if integer:
            constraints = [LinearConstraint(a, self.lo, self.hi)] if self.rows else []
            result = milp(np.zeros(self.width), integrality=np.ones(self.width),
                          bounds=Bounds(lower, upper), constraints=constraints)
        else:
            eq = np.array(self.lo) == np.array(self.hi)
            result = linprog(np.zeros(self.width), A_eq=a[eq] if eq.any() else None,
                             b_eq=np.array(self.lo)[eq] if eq.any() else None,
                             bounds=list(zip(lower, upper)), method="highs")
        return int(round(result.x[i])) if result.status == 0 else otherwise
