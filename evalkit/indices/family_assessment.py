"""Structured family assessment (CCPCR): eight areas scored at intake and at case closure.

The seed names the areas but gives no scale; the scale is therefore declared in the
programme's configuration (the synthetic CCPCR data use 1 = serious concern … 4 = strength).
"""

from __future__ import annotations

import pandas as pd

from evalkit.designs.paired import prepost

AREAS = ("security", "basic_material_needs", "physical_health", "psychological_health",
         "community_networks", "income_generation", "access_to_justice", "family_problem_solving")
AREA_LABELS = {
    "security": "Security",
    "basic_material_needs": "Basic / material needs",
    "physical_health": "Physical health",
    "psychological_health": "Psychological health",
    "community_networks": "Community networks",
    "income_generation": "Income generation",
    "access_to_justice": "Access to justice",
    "family_problem_solving": "Family problem-solving",
}


def area_changes(df: pd.DataFrame, unit: str, round: str, before, after,
                 areas: tuple[str, ...] = AREAS) -> pd.DataFrame:
    """Paired change per area (ordinal scores): one row per area with its pre/post numbers."""
    frames = [prepost(df, area, unit, round, before, after, kind="ordinal").to_frame()
              for area in areas]
    table = pd.concat(frames, ignore_index=True)
    table.insert(1, "area", [AREA_LABELS.get(a, a) for a in areas])
    return table
