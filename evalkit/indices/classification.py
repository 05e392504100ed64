"""Rule-based categories declared in configuration: village risk (red / amber / green, from
CCT's criteria) and household vulnerability tiers (destitute / struggling / prepared to grow,
as in ESFAM). Nothing here is hard-coded to a programme: each criterion is a column, an
operator and a value, and a unit's category is the first whose ``min_criteria`` it meets.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass

import numpy as np
import pandas as pd

from evalkit.errors import ConfigError
from evalkit.data.columns import numbers, require_columns

OPERATORS = {">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le,
             "==": operator.eq, "!=": operator.ne}


@dataclass(frozen=True)
class Criterion:
    column: str
    op: str
    value: float
    label: str

    def __post_init__(self):
        if self.op not in OPERATORS:
            raise ConfigError(f"criterion {self.label!r}: operator {self.op!r} is not one of "
                              f"{', '.join(OPERATORS)}.")


@dataclass(frozen=True)
class Category:
    name: str
    min_criteria: int
    meaning: str = ""


@dataclass(frozen=True, eq=False)
class Classification:
    met: pd.DataFrame  # one boolean column per criterion label
    criteria_met: pd.Series
    category: pd.Series
    categories: tuple[Category, ...]

    def counts(self) -> pd.DataFrame:
        """Units per category; denominator: all units classified."""
        counts = self.category.value_counts().reindex([c.name for c in self.categories], fill_value=0)
        return pd.DataFrame({"category": counts.index,
                             "meaning": [c.meaning for c in self.categories],
                             "rule": [f"meets at least {c.min_criteria} {'criterion' if c.min_criteria == 1 else 'criteria'}" if c.min_criteria
                                      else "all others" for c in self.categories],
                             "units": counts.to_numpy().astype(int),
                             "percent": 100 * counts.to_numpy() / max(len(self.category), 1)})

    def criteria_table(self) -> pd.DataFrame:
        """How many units meet each criterion; denominator: all units."""
        n = len(self.met)
        return pd.DataFrame({"criterion": list(self.met.columns),
                             "units meeting it": self.met.sum().to_numpy().astype(int),
                             "percent": 100 * self.met.mean().to_numpy() if n else np.nan})


def classify(df: pd.DataFrame, criteria: list[Criterion], categories: list[Category]) -> Classification:
    """Count the criteria each row meets and give it the first category whose threshold it
    reaches (categories ordered from most to least severe)."""
    require_columns(df, [c.column for c in criteria], "named as a classification criterion")
    if not categories or sorted(categories, key=lambda c: -c.min_criteria) != list(categories):
        raise ConfigError("categories must be listed from the highest min_criteria to the lowest.")
    met = pd.DataFrame({c.label: OPERATORS[c.op](numbers(df, c.column), c.value).fillna(False)
                        for c in criteria}, index=df.index)
    count = met.sum(axis=1).astype(int)
    labels = np.select([count >= c.min_criteria for c in categories],
                       [c.name for c in categories], default=categories[-1].name)
    return Classification(met=met, criteria_met=count, category=pd.Series(labels, index=df.index),
                          categories=tuple(categories))
