"""Indices: pure, vectorised scoring of assessment tools (DataFrame in, result out).

``from evalkit.indices import csi`` gives the Child Status Index module (``csi.score``,
``csi.change``, ``csi.FACTORS`` …); the other tools' modules are importable the same way.
"""

from evalkit.indices import (case_closure, child_tracking, classification, csi, family_assessment,
                             residential_care, shares)

__all__ = ["case_closure", "child_tracking", "classification", "csi", "family_assessment",
           "residential_care", "shares"]
