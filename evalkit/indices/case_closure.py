"""Family-development case closure (SKO): closure ratings and problem resolution.

Definitions (family preservation study 2020, SKO):

* closure rating of each family leaving the programme: PO++ very successful, PO+ successful,
  PO+= moderately successful, PO not successful;
* each problem identified in a case has a type (economic, education, health, psychosocial,
  administrative, addiction/substance use) and at closure is totally solved, partially solved
  or unsolved. Percentages by type use the problems *of that type* as denominator.
"""

from __future__ import annotations

import pandas as pd

from evalkit.data.columns import raise_first
from evalkit.i18n import N_

RATINGS = ("PO++", "PO+", "PO+=", "PO")
RATING_MEANING = {"PO++": N_("very successful"), "PO+": N_("successful"),
                  "PO+=": N_("moderate success"), "PO": N_("not successful")}
PROBLEM_TYPES = (N_("economic"), N_("education"), N_("health"), N_("psychosocial"),
                 N_("administrative"), N_("addiction/substance use"))
RESOLUTIONS = (N_("totally solved"), N_("partially solved"), N_("unsolved"))


def _checked(df: pd.DataFrame, column: str, allowed: tuple[str, ...], what: str) -> pd.Series:
    values = df[column].astype("string").str.strip()
    raise_first(df, (~values.isin(allowed)).to_numpy(), column,
                f"is not a {what}; expected one of {', '.join(allowed)}.")
    return values


def rating_table(cases: pd.DataFrame, rating: str = "closure_rating") -> pd.DataFrame:
    """Closed cases per rating; denominator: all rated closed cases."""
    values = _checked(cases, rating, RATINGS, "closure rating")
    counts = values.value_counts().reindex(list(RATINGS), fill_value=0).astype(int)
    return pd.DataFrame({"rating": list(RATINGS), "meaning": [RATING_MEANING[r] for r in RATINGS],
                         "cases": counts.to_numpy(),
                         "percent_of_rated_cases": 100 * counts.to_numpy() / counts.sum()})


def problem_table(problems: pd.DataFrame, kind: str = "problem_type",
                  resolution: str = "resolution") -> pd.DataFrame:
    """Problems by type (rows, plus an "all problems" row) and resolution: counts and % of the
    problems of that type."""
    types = _checked(problems, kind, PROBLEM_TYPES, "problem type")
    res = _checked(problems, resolution, RESOLUTIONS, "problem resolution")
    counts = pd.crosstab(types, res).reindex(index=list(PROBLEM_TYPES), columns=list(RESOLUTIONS),
                                             fill_value=0)
    counts.loc["all problems"] = counts.sum()
    table = counts.copy()
    table.insert(0, "problems", counts.sum(axis=1))
    for r in RESOLUTIONS:
        table[f"{r} (%)"] = 100 * counts[r] / table["problems"]
    table.index.name = "problem type"
    return table.reset_index()
