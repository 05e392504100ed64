"""Indicators as shares with explicit numerators and denominators.

An indicator is "rows matching ``numerator`` among rows matching ``denominator``"; both are
declared in a programme's configuration as column = value conditions (a list of values means
any of them), so every percentage in a report says what it is a percentage of.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from evalkit.errors import ConfigError
from evalkit.data.columns import require_columns


@dataclass(frozen=True)
class Indicator:
    label: str
    numerator: dict[str, Any]
    denominator: dict[str, Any] = field(default_factory=dict)
    denominator_label: str = "all records"
    published: float | None = None


def matches(df: pd.DataFrame, conditions: dict[str, Any]) -> pd.Series:
    """Rows meeting every ``column: value`` condition (values compared as text)."""
    mask = pd.Series(True, index=df.index)
    for column, wanted in conditions.items():
        if column not in df.columns:
            raise ConfigError(f"{df.attrs.get('source', 'data')}: an indicator names column "
                              f"{column!r}, which the file does not have.")
        values = wanted if isinstance(wanted, list) else [wanted]
        text = df[column].astype("string").str.strip()
        mask &= text.isin([str(v) for v in values]).fillna(False)
    return mask


def share_table(df: pd.DataFrame, indicators: list[Indicator]) -> pd.DataFrame:
    """One row per indicator: numerator, denominator, % and the published figure if any."""
    rows = []
    for item in indicators:
        require_columns(df, list(item.numerator) + list(item.denominator))
        denominator = matches(df, item.denominator)
        numerator = denominator & matches(df, item.numerator)
        n, d = int(numerator.sum()), int(denominator.sum())
        rows.append({
            "indicator": item.label,
            "numerator": n,
            "denominator": d,
            "denominator_label": item.denominator_label,
            "percent": 100 * n / d if d else np.nan,
            "published_percent": item.published if item.published is not None else np.nan,
        })
    return pd.DataFrame(rows)
