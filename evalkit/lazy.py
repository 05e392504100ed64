"""Modules imported when first used, not when the kit is imported.

``scipy.stats`` takes about a second to import; a report that computes no test statistic
(most CSI reports) should not pay for it in every kernel. ``stats = lazy("scipy.stats")``
behaves as the module from its first attribute access on."""

from __future__ import annotations

import importlib
from types import ModuleType


class LazyModule:
    """A stand-in for the module ``name``, imported on first attribute access."""

    __slots__ = ("_name", "_module")

    def __init__(self, name: str):
        object.__setattr__(self, "_name", name)
        object.__setattr__(self, "_module", None)

    def _load(self) -> ModuleType:
        module = self._module
        if module is None:
            module = importlib.import_module(self._name)
            object.__setattr__(self, "_module", module)
        return module

    def __getattr__(self, attr: str):
        return getattr(self._load(), attr)

    def __repr__(self) -> str:
        state = "imported" if self._module is not None else "not imported yet"
        return f"<lazy module {self._name!r} ({state})>"


def lazy(name: str) -> LazyModule:
    """The module ``name``, imported when first used."""
    return LazyModule(name)
