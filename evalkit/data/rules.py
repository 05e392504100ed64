"""What the data-in layer is asked to read and check: one rule per table a report section
needs, declared by that section (see :mod:`evalkit.report.sections`) and carried out by
:func:`evalkit.data.programme.load`.

* :class:`CSIRule` — a CSI table (one row per child and assessment, or a wide sheet): the
  columns of the child, the round, the date and the care group, the 12 factor columns;
* :class:`SurveyRule` — a household survey of a village trial in two rounds;
* :class:`TableRule` — any other table: typed columns and the person-ID columns to hash.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from evalkit.config import Source
from evalkit.data.validate import Field


@dataclass(frozen=True)
class CSIRule:
    source: Source
    child: str = "child_id"
    round: str = "round"
    date: str | None = None
    group: str | None = None
    factors: dict[str, str] = field(default_factory=dict)  # factor code -> the user's column
    rounds_from: str | None = None  # "date": each child's assessments numbered in date order
    before: Any = None
    after: Any = None

    @property
    def roles(self) -> dict[str, str | None]:
        return {"child": self.child, "round": self.round, "date": self.date, "group": self.group}


@dataclass(frozen=True)
class SurveyRule:
    source: Source
    unit: str
    cluster: str
    treatment: str
    round: str
    baseline: Any
    endline: Any
    outcomes: tuple[tuple[str, str, tuple[float, float] | None], ...]  # (column, kind, bounds)
    strata: str | None = None
    balance: tuple[str, ...] = ()
    subgroups: tuple[str, ...] = ()
    takeup: str | None = None

    @property
    def columns(self) -> list[str]:
        """Every column the survey must hold, each once."""
        out = [self.unit, self.cluster, self.treatment, self.round,
               *(name for name, _kind, _bounds in self.outcomes), *self.balance, *self.subgroups,
               *([self.takeup] if self.takeup else []), *([self.strata] if self.strata else [])]
        return list(dict.fromkeys(out))


@dataclass(frozen=True)
class TableRule:
    file: str  # the file's path as programme.yml names it
    fields: tuple[Field, ...] = ()
    ids: tuple[str, ...] = ()
