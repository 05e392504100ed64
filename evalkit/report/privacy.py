"""The output side of privacy: small cells suppressed, outputs scanned for personal values.

Personal columns are dropped and IDs hashed as the data are read (:mod:`evalkit.data.personal`);
what remains here acts on what a report publishes:

* :func:`suppress_small` blanks statistics computed on fewer than ``min_cell`` children;
* :func:`leaked` finds any of the input's personal values (the data-in layer's canaries) in a
  rendered file, so that a report or notebook that would leak one is refused, not written.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

SUPPRESSED = "suppressed"


def suppress_small(table: pd.DataFrame, n_column: str, min_cell: int,
                   columns: Iterable[str]) -> pd.DataFrame:
    """Blank ``columns`` (set to NaN) in rows where ``n_column`` < ``min_cell`` (but > 0).

    The count itself is shown as NaN too; the report prints "fewer than {min_cell}".
    """
    out = table.copy()
    small = (out[n_column] > 0) & (out[n_column] < min_cell)
    cols = list(columns)
    out[cols] = out[cols].astype("float64")
    out.loc[small, cols] = float("nan")
    out[n_column] = out[n_column].astype("float64").where(~small)
    return out


def leaked(text: str, canaries: Iterable[str]) -> list[str]:
    """The personal values (``canaries``) that occur in ``text``."""
    return sorted(value for value in canaries if value and value in text)
