"""Reading data files, read-only: no statistics here and nothing is ever written back.

Every frame returned carries ``attrs["source"]`` (the file name shown in error messages) and
``attrs["first_line"]`` (the file line of the frame's first row), so that a later validation
error can say "file X, line N, column C".
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from evalkit.errors import DataError

# Blank cells are missing; every other token, including "NA" and "n/a", is kept as text so
# that "not applicable" is never silently turned into "missing".
_MISSING_TOKENS = [""]


def read_table(path: str | Path, *, label: str | None = None) -> pd.DataFrame:
    """Read a CSV, Excel, Stata or SPSS file into a DataFrame without modifying it.

    Parameters
    ----------
    path : file to read (``.csv``, ``.xlsx``/``.xls``, ``.dta``, ``.sav``).
    label : name used for the file in error messages (default: the path as given).
    """
    path = Path(path)
    shown = label or str(path)
    if not path.is_file():
        raise DataError(f"{shown}: file not found; expected a data file at this path.")
    suffix = path.suffix.lower()
    try:
        if suffix in {".csv", ".txt"}:
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=_MISSING_TOKENS)
            first_line = 2  # line 1 is the header
        elif suffix in {".xlsx", ".xls"}:
            frame = pd.read_excel(path, dtype=str, keep_default_na=False, na_values=_MISSING_TOKENS)
            first_line = 2
        elif suffix == ".dta":
            frame = pd.read_stata(path, convert_categoricals=False)
            first_line = 1
        elif suffix == ".sav":
            frame = pd.read_spss(path, convert_categoricals=False)
            first_line = 1
        else:
            raise DataError(
                f"{shown}: cannot read files ending in '{suffix}'; expected .csv, .xlsx, .dta or .sav."
            )
    except DataError:
        raise
    except (ValueError, OSError, ImportError) as exc:  # parser errors carry their own detail
        raise DataError(f"{shown}: could not be read as a {suffix} file ({exc}).") from None
    frame.attrs["source"] = shown
    frame.attrs["first_line"] = first_line
    return frame


def where(frame: pd.DataFrame, position: int) -> str:
    """Describe row ``position`` (0-based) of ``frame`` for an error message.

    Gives "file.csv, line 14" for frames read by :func:`read_table` and
    "data frame, row index 13" otherwise.
    """
    source = frame.attrs.get("source")
    if source is not None:
        return f"{source}, line {position + frame.attrs.get('first_line', 2)}"
    return f"data frame, row index {frame.index[position]!r}"


def show(value: object) -> str:
    """A data value as a reader should see it in an error message: text quoted, numbers plain
    (``'good'``, ``5``, ``2.5``), never numpy's ``np.int64(5)``."""
    if isinstance(value, str):
        return repr(value)
    if hasattr(value, "item"):
        value = value.item()
    return str(value)
