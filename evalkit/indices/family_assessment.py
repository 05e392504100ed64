"""Structured family assessment (CCPCR): eight areas scored at intake and at case closure.

The source names the areas but gives no scale; the scale is therefore declared in the
programme's configuration (the synthetic CCPCR data use 1 = serious concern … 4 = strength).
Their paired change is a pre/post comparison (:func:`evalkit.designs.prepost` per area, as the
report's ``prepost`` section computes it).
"""

from __future__ import annotations

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

