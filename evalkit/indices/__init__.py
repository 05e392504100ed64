"""Indices: pure, vectorised scoring of assessment tools (DataFrame in, result out).

``from evalkit.indices import csi`` gives the Child Status Index module (``csi.score``,
``csi.change``, ``csi.FACTORS`` …); the other tools' modules are importable the same way.
The modules load when first used, so that CSI scoring does not pay for the designs'
statistics imports.
"""

import importlib

__all__ = ["case_closure", "child_tracking", "classification", "csi", "family_assessment",
           "residential_care", "shares"]


def __getattr__(name: str):
    if name in __all__:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
