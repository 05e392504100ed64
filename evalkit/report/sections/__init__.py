"""The sections of a programme report, one module per section.

Every section module has the same four functions, so that the report (and a newcomer) can
treat them alike:

* ``configs(config)`` — the section's typed configurations in this programme (a tuple of the
  frozen dataclasses declared in :mod:`evalkit.config`; empty when the programme does not
  have the section);
* ``compute(data, cfg)`` — its numbers, through :mod:`evalkit.designs` and
  :mod:`evalkit.indices` (computed once per report);
* ``render(data, cfg, result, dc)`` — the display objects of the section, headings included,
  every published figure passed through the report's :class:`~evalkit.report.disclosure.Disclosure`;
* ``headlines(data, cfg, result, dc)`` — its lines for "Key findings", from the same result
  and the same disclosure decisions as its tables (a section that is only an illustration
  has none).

``ORDER`` is the order of the sections in a report.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType
from typing import Any

from evalkit.data.programme import ProgrammeData
from evalkit.report.disclosure import Disclosure
from evalkit.report.sections import (case_closure, child_tracking, classification, csi,
                                     csi_prepost, indicators, prepost, residential_care, trial)

ORDER: tuple[ModuleType, ...] = (csi, csi_prepost, trial, indicators, prepost, classification,
                                 residential_care, child_tracking, case_closure)


@dataclass(frozen=True, eq=False)
class Part:
    """One configured section of one report, with its result computed."""

    module: ModuleType
    config: Any
    result: Any

    @property
    def name(self) -> str:
        return self.module.__name__.rsplit(".", 1)[-1]

    def render(self, data: ProgrammeData, dc: Disclosure) -> list:
        return self.module.render(data, self.config, self.result, dc)

    def headlines(self, data: ProgrammeData, dc: Disclosure) -> list[str]:
        return self.module.headlines(data, self.config, self.result, dc)


def build(data: ProgrammeData) -> list[Part]:
    """Every configured section of the programme, each computed once, in report order."""
    return [Part(module, cfg, module.compute(data, cfg))
            for module in ORDER for cfg in module.configs(data.config)]
