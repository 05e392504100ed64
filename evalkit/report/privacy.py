"""The privacy guard: personal data never reach a report, small cells are suppressed.

* :func:`public_columns` drops every column that could identify a child (names, dates of
  birth, phone numbers, addresses, free-text notes) before any table is built;
* :func:`suppress_small` blanks statistics computed on fewer than ``min_cell`` children;
* :func:`leaked_values` scans rendered HTML for any personal value of the input, so that a
  report that would leak one is refused rather than written.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import pandas as pd

PERSONAL_WORDS = (
    "name", "names", "firstname", "lastname", "fullname", "surname", "familyname", "givenname",
    "nickname", "dob", "birth", "birthdate", "birthday", "dateofbirth", "phone", "tel",
    "telephone", "mobile", "cell", "email", "mail", "contact", "address", "street", "house",
    "gps", "latitude", "longitude", "lat", "lon", "lng", "nationalid", "idcard", "passport",
    "note", "notes", "comment", "comments", "remark", "remarks", "freetext", "description",
    "narrative", "story",
)
"""Words that mark a column as personal data, matched on the column name's words (split at
case changes, digits, spaces, hyphens and underscores) and on adjacent pairs run together
("first_name" and "FirstName" both give "firstname")."""

_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")


def _words(column: str) -> set[str]:
    words = [w.lower() for w in _WORD.findall(str(column))]
    words = [w for w in words if not w.isdigit()]
    joined = {a + b for a, b in zip(words, words[1:])}
    joined |= {a + b + c for a, b, c in zip(words, words[1:], words[2:])}
    return set(words) | joined


SUPPRESSED = "suppressed"


def personal_columns(columns: Iterable[str]) -> list[str]:
    """The columns whose names mark them as personal data."""
    personal = set(PERSONAL_WORDS)
    return [c for c in columns if _words(c) & personal]


def public_columns(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` without personal columns (``attrs`` kept for error messages)."""
    out = df.drop(columns=personal_columns(df.columns))
    out.attrs = dict(df.attrs)
    return out


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


def leaked_values(html: str, df: pd.DataFrame) -> list[str]:
    """Values of ``df``'s personal columns (at least 6 characters long) found in ``html``."""
    found = []
    for column in personal_columns(df.columns):
        for value in pd.unique(df[column].dropna().astype(str).str.strip()):
            if len(value) >= 6 and value in html:
                found.append(f"{column}={value}")
    return found
