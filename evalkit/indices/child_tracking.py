"""MoSVY's Child Tracking Tool: the status of children supported for reintegration.

Definitions (MoSVY, Action Plan results report 2020):

* green — safe and stable situation;
* yellow — vulnerable, needs additional attention;
* red — vulnerable, needs reassessment of risks and essential services;
* not located — migrated or moved, status cannot be updated;
* not yet updated — just reunited or placed; first update due later.
"""

from __future__ import annotations

import pandas as pd

from evalkit.data.columns import raise_first
from evalkit.i18n import N_

STATUSES = ("green", "yellow", "red", "not located", "not yet updated")
MEANING = {
    "green": N_("safe and stable"),
    "yellow": N_("vulnerable, needs additional attention"),
    "red": N_("vulnerable, needs reassessment"),
    "not located": N_("moved or migrated; cannot be located"),
    "not yet updated": N_("recently reunited or placed; not yet updated"),
}
STATUS_LABELS = {"green": N_("green"), "yellow": N_("yellow"), "red": N_("red"),
                 "not located": N_("not located"), "not yet updated": N_("not yet updated")}
"""The statuses as the tool names them (fixed text of the instrument, translated in reports)."""
COLOURS = ("green", "yellow", "red")


def status_counts(df: pd.DataFrame, status: str = "status") -> pd.Series:
    """Children per status, in :data:`STATUSES` order (an unknown status is a DataError)."""
    values = df[status].astype("string").str.strip().str.lower()
    raise_first(df, (~values.isin(STATUSES)).to_numpy(), status,
                f"is not a Child Tracking Tool status; expected one of {', '.join(STATUSES)}.")
    return values.value_counts().reindex(list(STATUSES), fill_value=0).astype(int)


def denominators(counts: pd.Series, declared: dict[str, int] | None = None) -> dict[str, int]:
    """Candidate denominators for status percentages, each named by what it counts."""
    out = {
        N_("all children supported"): int(counts.sum()),
        N_("all except not yet updated"): int(counts.sum() - counts["not yet updated"]),
        N_("children with a colour status"): int(counts[list(COLOURS)].sum()),
    }
    out.update(declared or {})
    return out


def status_table(counts: pd.Series, declared: dict[str, int] | None = None) -> pd.DataFrame:
    """Children per status and their percentage under every candidate denominator."""
    table = pd.DataFrame({"status": list(STATUSES), "meaning": [MEANING[s] for s in STATUSES],
                          "children": counts.to_numpy()})
    for name, d in denominators(counts, declared).items():
        table[f"% of {name} ({d:,})"] = 100 * table["children"] / d
    return table


def matching_denominators(counts: pd.Series, published: dict[str, float],
                          declared: dict[str, int] | None = None) -> list[str]:
    """The denominators under which every published colour percentage is reproduced when
    rounded to a whole number."""
    found = []
    for name, d in denominators(counts, declared).items():
        if all(round(100 * counts[s] / d) == round(p) for s, p in published.items()):
            found.append(name)
    return found
