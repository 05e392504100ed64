"""Column checks for DataFrames handed to the kit's functions: one clear sentence per error,
never mutating the input.

The statistics in :mod:`evalkit.indices` and :mod:`evalkit.designs` take DataFrames; these
helpers check the columns they need. Each returns a new object and leaves its argument
untouched. Messages name the file (or frame), the row and the column, never the cell's value,
because they can end up in a written file (a notebook, a report, a log).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from evalkit.errors import DataError


def where(frame: pd.DataFrame, position: int) -> str:
    """Describe row ``position`` (0-based) of ``frame`` for an error message.

    Frames from the data-in layer carry ``attrs["rows"]`` (the row as the user sees it, e.g.
    "cif/csi.xlsx, sheet 'Data', row 27"); other frames read with a ``source`` give
    "file.csv, line N"; a frame built in Python gives "data frame, row index 13".
    """
    rows, source = frame.attrs.get("rows"), frame.attrs.get("source")
    if rows is not None:
        place = _read_place(frame, position, rows)
        if place is not None:
            return place
    elif source is not None:
        return f"{source}, line {position + frame.attrs.get('first_line', 2)}"
    label = frame.index[position]
    label = label.item() if hasattr(label, "item") else label  # (a NumPy scalar shown plainly)
    return f"{source if rows is not None and source else 'data frame'}, row index {label!r}"


def _read_place(frame: pd.DataFrame, position: int, rows: list) -> str | None:
    """Where row ``position`` is in the file: ``rows`` is indexed by the frame's row labels as
    the data-in layer read it (0, 1, 2 …), and a row keeps its label when the frame is
    filtered, sorted or sampled (pandas keeps ``attrs`` too). After the index is renumbered
    (``reset_index``) the label no longer says which record a row was; None for labels that
    cannot be records."""
    label = frame.index[position]
    if isinstance(label, (int, np.integer)) and 0 <= label < len(rows) and frame.index.is_unique:
        return str(rows[int(label)])
    return None


def show(value: object) -> str:
    """A value as a reader should see it in a message: text quoted, numbers plain (``'good'``,
    ``5``, ``2.5``), never numpy's ``np.int64(5)``. Use only for values that are not personal
    data (round numbers, configuration values), never for a data cell."""
    if isinstance(value, str):
        return repr(value)
    if hasattr(value, "item"):
        value = value.item()
    return str(value)


def require_columns(df: pd.DataFrame, columns: Iterable[str], purpose: str = "") -> None:
    """Raise a DataError naming the first of ``columns`` missing from ``df``."""
    for column in columns:
        if column not in df.columns:
            source = df.attrs.get("source", "data frame")
            why = f" ({purpose})" if purpose else ""
            raise DataError(f"{source}: no column {column!r}{why}; columns present: "
                            f"{', '.join(map(str, df.columns))}.")


def raise_first(df: pd.DataFrame, bad, column: str, problem: str) -> None:
    """Raise one DataError for the first row where ``bad`` is true, naming the file or frame,
    the line or row and the column, not the value: "<where>, column 'c': the value <problem>"."""
    bad = np.asarray(bad, dtype=bool)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        count = int(bad.sum())
        more = f" ({count - 1} more row(s) like it)" if count > 1 else ""
        raise DataError(f"{where(df, row)}, column {column!r}: the value {problem}{more}")


def dates(df: pd.DataFrame, column: str) -> pd.Series:
    """Column ``column`` parsed as ISO dates (YYYY-MM-DD); anything else is a DataError."""
    raw = df[column]
    parsed = pd.to_datetime(raw.astype("string").str.strip(), format="%Y-%m-%d", errors="coerce")
    raise_first(df, parsed.isna().to_numpy(dtype=bool), column,
                "is not a date; expected a date written YYYY-MM-DD.")
    return parsed


def numbers(df: pd.DataFrame, column: str) -> pd.Series:
    """Column ``column`` as floats; blanks stay missing, any other non-number is a DataError."""
    raw = df[column]
    if pd.api.types.is_bool_dtype(raw):
        return raw.astype("float64")
    if pd.api.types.is_numeric_dtype(raw):
        return raw.astype("float64")
    text = raw.astype("string").str.strip()
    number = pd.to_numeric(text, errors="coerce")
    raise_first(df, (number.isna() & text.notna() & (text != "")).to_numpy(dtype=bool), column,
                "is not a number; expected a number or a blank cell.")
    return number.astype("float64")


def zero_one(df: pd.DataFrame, column: str) -> pd.Series:
    """Column ``column`` as 0/1 floats (booleans allowed); anything else is a DataError."""
    values = numbers(df, column)
    raise_first(df, (~values.isin([0.0, 1.0]) & values.notna()).to_numpy(dtype=bool), column,
                "is not a treatment indicator; expected 1 (treatment) or 0 (control).")
    return values
