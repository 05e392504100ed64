"""The sections of a programme report, one module per ``programme.yml`` key, found through
:data:`REGISTRY` (in report order).

Every section module declares, in the same names, what the kit needs to know about it:

* ``KEY``, ``MANY`` (a list of entries or one mapping), ``ANALYSIS`` (what the report shows, in
  a few words), ``KEYS`` (every key it accepts; docs/config.md documents each) and
  ``LANGUAGES`` (the editions its fixed text is translated for);
* ``Config`` and ``parse(entry, where, ctx)`` — its typed configuration (a frozen dataclass);
* ``rules(cfg)`` — what the data-in layer must read and check for it (:mod:`evalkit.data.rules`);
* ``compute(data, cfg)`` — its numbers, through :mod:`evalkit.indices` and :mod:`evalkit.designs`;
* ``build(b, cfg, result)`` — its content (:class:`~evalkit.report.sections.common.Section`):
  page blocks, key findings, what the brief says of the evidence and its caveats, technical
  tables for the annex, Methods lines and glossary terms. Every count of people is registered
  with the report's disclosure control (``b.dc``) with the sums it is part of, and the content
  refers to counts and statistics by key: the decision is taken once for the whole report.

Adding a section means adding a module and listing it in :data:`REGISTRY`.
"""

from __future__ import annotations

from types import ModuleType

from evalkit.report.sections import (case_closure, child_tracking, classification, csi,
                                     indicators, prepost, residential_care, trial)

REGISTRY: tuple[ModuleType, ...] = (csi, trial, indicators, prepost, classification,
                                    residential_care, child_tracking, case_closure)
"""The section modules in report order."""

BY_KEY = {module.KEY: module for module in REGISTRY}
