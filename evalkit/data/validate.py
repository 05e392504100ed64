"""Validation of mapped tables with pandera, lazily: every problem in one run, not the first.

A table is checked against a list of :class:`Field` rules (what each column must hold). Each
problem names the file, the row as the user sees it (spreadsheet row with its sheet, or CSV
line), the column as the user named it, and the rule; the cell's value travels beside it for
the terminal only (:attr:`Problem.value`) and never enters a message that can be written to a
file. :func:`summarise` groups problems ("3B: 14 cells not a CSI score, first at row 27").
"""

from __future__ import annotations

import datetime as _dt
import re
import warnings
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from evalkit.data.mapping import (KHMER_DIGITS, SRC, keys_of,
                                  normalise_ids, where)
from evalkit.data.read import ROW, RawTable
from evalkit.errors import DataError
from evalkit.instruments.csi import NOT_APPLICABLE, cell_rule

KINDS = ("id", "text", "round", "date", "factor", "binary", "number", "whole")

RULES = {
    "id": "is blank; expected an id in every row",
    "round": "is blank; expected the assessment round in every row",
    "date": "is not a date; expected a date cell or a date written YYYY-MM-DD or DD/MM/YYYY",
    "factor": ("is not a CSI score; expected a whole number from 1 (very bad) to 4 (good), a "
               "scale word (Very bad, Bad, Fair, Good), 'n/a' where the factor does not apply, "
               "or a blank cell where it was not rated"),
    "binary": "is not 0/1; expected 1 or 0 (or Yes/No, True/False)",
    "number": "is not a finite number; expected a number or a blank cell",
    "whole": "is not a whole number; expected a whole number",
    "range": "is outside the range declared in programme.yml",
    "required": "is blank; expected a value in every row",
    "duplicate": "repeats an earlier row's child and round; expected one assessment per child and round",
}

_BINARY_WORDS = {"yes": 1.0, "y": 1.0, "true": 1.0, "no": 0.0, "n": 0.0, "false": 0.0,
                 "treatment": 1.0, "treated": 1.0, "control": 0.0, "comparison": 0.0,
                 "1": 1.0, "0": 0.0}


@dataclass(frozen=True)
class Field:
    """A rule for one column: ``column`` in the mapped frame, ``shown`` as the user named it,
    ``kind`` (one of :data:`KINDS`), ``required`` (blank not allowed), ``bounds`` (min, max)."""

    column: str
    shown: str
    kind: str
    required: bool = False
    bounds: tuple[float | None, float | None] | None = None
    date_format: str | None = None


@dataclass(frozen=True)
class Problem:
    """One bad cell (or row): where it is as the user sees it, the column, the rule broken."""

    where: str
    row: int
    file: str
    column: str
    rule: str
    value: Any = None

    def sentence(self) -> str:
        """The problem without the cell's value: safe for any file."""
        return f"{self.where}, column {self.column!r}: the value {RULES.get(self.rule, self.rule)}."

    def with_value(self) -> str:
        """The problem with the cell's value, for the data owner's terminal only."""
        value = "" if self.value is None else f" ({self.value!r})"
        return f"{self.where}, column {self.column!r}{value}: {RULES.get(self.rule, self.rule)}."


# ------------------------------------------------------------------------------ parsing


def _text(values: pd.Series) -> pd.Series:
    def one(v):
        if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)):
            return None
        if isinstance(v, float) and v.is_integer():
            return str(int(v))
        if isinstance(v, (_dt.date, pd.Timestamp)):
            return v.isoformat()[:10] if not isinstance(v, _dt.datetime) or v.time() == _dt.time() \
                else v.isoformat()
        return str(v).strip()

    if pd.api.types.infer_dtype(values, skipna=True) in ("string", "empty"):
        text = values.astype("string").str.strip()
    else:
        text = values.map(one).astype("string")
    return text.replace("", pd.NA)


def parse_numbers(values: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Numbers (Khmer digits and a decimal comma allowed); ok where a number, blank or 'n/a'
    (not applicable: no value, as in the pre/post outcomes of a child the item does not fit)."""
    if pd.api.types.is_bool_dtype(values):
        return values.astype("float64"), np.ones(len(values), bool)
    if pd.api.types.is_numeric_dtype(values):
        number = values.astype("float64")
        return number, np.isfinite(number.to_numpy()) | number.isna().to_numpy()
    text = _text(values)
    text = text.where(~text.str.lower().isin(NOT_APPLICABLE).fillna(False))  # n/a: not a value
    text = text.where(~text.str.fullmatch(r"[\W_]+").fillna(False))  # '-', '.': nothing entered
    cleaned = text.str.translate(KHMER_DIGITS).str.replace(r"^([-+]?\d+),(\d+)$", r"\1.\2", regex=True)
    number = pd.to_numeric(cleaned, errors="coerce").astype("float64")
    finite = np.isfinite(number.to_numpy(na_value=np.nan))
    ok = finite | text.isna().to_numpy()
    return number.where(pd.Series(finite, index=number.index)), ok


SCORE_TEXTS = ["1", "2", "3", "4", "n/a"]
"""A validated CSI factor column: categorical over these texts, missing where not rated."""


def parse_factor(values: pd.Series, not_applicable: Sequence[Any] = (),
                 missing: Sequence[Any] = ()) -> tuple[pd.Series, np.ndarray]:
    """CSI scores as canonical text ('1'…'4', 'n/a', missing; categorical, so that a large
    table stays small and fast to cache); ok where valid. Each distinct value is read once by
    the instrument's one cell rule (:func:`evalkit.instruments.csi.read_cell`), which the
    engine applies too."""
    rule = cell_rule(tuple(not_applicable), tuple(missing))
    cells = values.astype(object)
    kind = pd.api.types.infer_dtype(cells, skipna=True)
    if kind == "boolean" or kind.startswith("mixed"):  # True is not 1 here: keep them apart
        flags = np.fromiter((type(v).__name__ in ("bool", "bool_") for v in cells), bool,
                            len(cells))
        if flags.any():
            cells = cells.where(~flags, cells.map(lambda v: f"{v!r}:bool"))
    codes, uniques = pd.factorize(cells, use_na_sentinel=True)
    cells = [rule(u) for u in uniques] + [rule(None)]  # (the last: blank cells, code -1)
    canonical = np.array([0 if not c.valid or (c.score is None and not c.not_applicable)
                          else 5 if c.not_applicable else c.score for c in cells], dtype="int8")
    valid = np.array([c.valid for c in cells], dtype=bool)
    ok = valid[codes]
    return pd.Series(pd.Categorical.from_codes(canonical[codes] - 1, categories=SCORE_TEXTS),
                     index=values.index), ok


def parse_binary(values: pd.Series) -> tuple[pd.Series, np.ndarray]:
    keys = keys_of(values)
    out = keys.map(_BINARY_WORDS).astype("float64")
    ok = out.notna().to_numpy() | keys.isna().to_numpy()
    return out, ok


_DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%d/%m/%y", "%d %b %Y",
                 "%d %B %Y", "%d-%b-%Y", "%d-%b-%y", "%d %b %y", "%Y/%m/%d", "%b %d, %Y",
                 "%B %d, %Y", "ISO8601")


def parse_dates(values: pd.Series, date_format: str | None = None) -> tuple[pd.Series, np.ndarray]:
    """Dates from date cells, ISO text, day-first text (01/09/2021 is 1 September) or
    ``date_format``; ok where a date or blank."""
    if pd.api.types.is_datetime64_any_dtype(values):
        out = pd.to_datetime(values).astype("datetime64[ns]")
        return out, np.ones(len(values), bool)
    kind = pd.api.types.infer_dtype(values, skipna=True)
    if kind in ("date", "datetime"):  # date cells only (Excel, ODS)
        out = pd.to_datetime(values.astype(object)).astype("datetime64[ns]")
        return out, np.ones(len(values), bool)
    is_date = values.map(lambda v: isinstance(v, (_dt.date, pd.Timestamp))).to_numpy(dtype=bool)
    out = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
    if is_date.any():
        out[is_date] = pd.to_datetime(values[is_date].map(lambda v: pd.Timestamp(v))).to_numpy()
    text = _text(values.where(~pd.Series(is_date, index=values.index)))
    todo = text.notna().to_numpy().copy()
    formats = (date_format,) if date_format else _DATE_FORMATS
    for fmt in formats:
        if not todo.any():
            break
        chunk = text[todo].str.replace(r"[ T]00:00(:00(\.0+)?)?$", "", regex=True)
        parsed = pd.to_datetime(chunk, format=fmt, errors="coerce", utc=fmt == "ISO8601")
        if fmt == "ISO8601":  # timestamps with a zone (KoBo's start/end): the local day
            parsed = pd.to_datetime(chunk.str.slice(0, 10), format="%Y-%m-%d", errors="coerce")
        got = parsed.notna().to_numpy()
        idx = np.flatnonzero(todo)[got]
        out.iloc[idx] = parsed[got].to_numpy()
        todo[idx] = False
    ok = ~todo
    return out, ok


def parse(field: Field, values: pd.Series, not_applicable: Sequence[Any] = (),
          missing: Sequence[Any] = ()) -> tuple[pd.Series, np.ndarray]:
    """The column parsed for its kind and a mask of cells that break no rule."""
    kind = field.kind
    if kind in ("id", "text", "round"):
        out = normalise_ids(values) if kind == "id" else (_text(values) if kind == "text" else values)
        ok = np.ones(len(values), bool)
    elif kind == "factor":
        out, ok = parse_factor(values, not_applicable, missing)
    elif kind == "binary":
        out, ok = parse_binary(values)
    elif kind in ("number", "whole"):
        out, ok = parse_numbers(values)
        if kind == "whole":
            whole = (out % 1 == 0).to_numpy(na_value=True)
            ok = ok & whole
    elif kind == "date":
        out, ok = parse_dates(values, field.date_format)
    else:  # pragma: no cover - Field kinds are fixed in code
        raise ValueError(f"unknown kind {kind!r}")
    return out, ok


# ------------------------------------------------------------------------------ checking


@dataclass
class Checked:
    """A table after validation: ``frame`` holds the parsed columns; ``problems`` every broken
    rule; ``bad_rows`` the positions of rows with at least one problem."""

    frame: pd.DataFrame
    problems: list[Problem]
    bad_rows: np.ndarray


def check(frame: pd.DataFrame, fields: Sequence[Field], tables: Sequence[RawTable], *,
          unique: Sequence[str] = (), not_applicable: Sequence[Any] = (),
          missing: Sequence[Any] = ()) -> Checked:
    """Parse and check every field of ``frame`` at once (pandera, lazy), and the ``unique``
    combination of columns; returns the parsed frame and all problems."""
    import pandera.pandas as pa

    parsed = frame.copy()
    masks: list[tuple[str, np.ndarray, str]] = []
    for field in fields:
        values, field_masks = _field_masks(field, frame[field.column], not_applicable, missing)
        parsed[field.column] = values
        masks += field_masks
    checks: dict[str, list] = {}
    for column, ok, rule in masks:
        if ok.all():
            continue
        series_ok = pd.Series(ok, index=frame.index)
        checks.setdefault(column, []).append(pa.Check(lambda s, m=series_ok: m, name=rule, error=rule, ignore_na=False))
    schema = pa.DataFrameSchema(
        {column: pa.Column(checks=c, nullable=True, coerce=False) for column, c in checks.items()},
        unique=list(unique) or None, report_duplicates="exclude_first")
    probe = frame[[c for c in dict.fromkeys([*checks, *unique])]].copy()
    for column in unique:
        probe[column] = parsed[column]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            schema.validate(probe, lazy=True)
    except pa.errors.SchemaErrors as exc:
        problems, bad = _problems(exc.failure_cases, frame, fields, tables, unique)
        return Checked(parsed, problems, np.flatnonzero(bad))
    return Checked(parsed, [], np.array([], dtype=np.int64))


def _field_masks(field: Field, column: pd.Series, not_applicable, missing) -> tuple:
    """A field's parsed values and its checks: (column, cells that pass, rule) each."""
    values, ok = parse(field, column, not_applicable, missing)
    blank = values.isna().to_numpy() & ok
    masks = []
    if field.kind in ("id", "round"):
        ok = ok & ~blank
    elif field.required:
        masks.append((field.column, ~blank, "required"))
    if field.bounds is not None and field.kind in ("number", "whole"):
        lo, hi = field.bounds
        number = values.to_numpy(dtype="float64", na_value=np.nan)
        inside = ~(number < (-np.inf if lo is None else lo)) & ~(number > (np.inf if hi is None else hi))
        masks.append((field.column, inside, "range"))
    masks.append((field.column, ok, field.kind))
    return values, masks


def _rule_of(case, shown: dict, unique) -> tuple[str, str]:
    """A pandera failure case's rule and the column it names (the key columns, shown as the
    export names them, for a repeated row)."""
    check_name = str(case.check)
    if "unique" in check_name or case.schema_context == "DataFrameSchema":
        return "duplicate", "/".join(shown.get(c, c) for c in unique)
    rule = check_name if check_name in RULES else check_name.split("(")[0]
    return rule, shown.get(case.column, case.column)


def _summary_line(file: str, rule: str, items: list[Problem]) -> str:
    """One kind of problem in one file: how many, in which columns, and where first."""
    first = items[0].where.split(", ", 1)[1] if ", " in items[0].where else items[0].where
    count = len(items)
    noun = "rows" if rule == "duplicate" else "cells"
    what = RULES.get(rule, rule)
    if count > 1:  # the rule's words in the plural
        what = re.sub(r"^(is|repeats)", lambda m: {"is": "are", "repeats": "repeat"}[m.group(1)],
                      what).replace("are not a CSI score", "are not CSI scores")
    columns = Counter(p.column for p in items)
    where = ", ".join(f"{c!r}" + (f" ({n})" if len(columns) > 1 else "")
                      for c, n in columns.most_common(6))
    more = f" and {len(columns) - 6} more" if len(columns) > 6 else ""
    return (f"{file}, column{'s' if len(columns) > 1 else ''} {where}{more}: {count} "
            f"{noun if count > 1 else noun[:-1]} {what}, first at {first}")


def _problems(cases: pd.DataFrame, frame: pd.DataFrame, fields, tables, unique) -> tuple:
    """pandera's failure cases as problems (in file, row and column order, each once) and
    the rows that hold one."""
    bad = np.zeros(len(frame), bool)
    shown = {f.column: f.shown for f in fields}
    problems: list[Problem] = []
    for case in cases.itertuples(index=False):
        index = case.index
        if index is None or (isinstance(index, float) and np.isnan(index)):
            continue
        position = frame.index.get_loc(index)
        rule, column = _rule_of(case, shown, unique)
        bad[position] = True
        problems.append(Problem(where(tables, frame, position), int(frame[ROW].iloc[position]),
                                tables[int(frame[SRC].iloc[position])].source, str(column),
                                rule, _raw_value(frame, case.column, position)))
    problems.sort(key=lambda p: (p.file, p.row, p.column))
    once = {(p.file, p.row, p.column, p.rule): p for p in reversed(problems)}
    return [p for p in problems if once[(p.file, p.row, p.column, p.rule)] is p], bad


def _raw_value(frame: pd.DataFrame, column: Any, position: int) -> Any:
    if column in frame.columns:
        value = frame[column].iloc[position]
        return None if value is None or (isinstance(value, float) and np.isnan(value)) else value
    return None


def summarise(problems: Sequence[Problem], limit: int = 6) -> list[str]:
    """Problems grouped per file and rule, one line each with a count and the columns
    ("x.csv: 14 cells are not CSI scores, in columns '3B' (12) and '4A' (2); first at line
    27"). Never a cell's value."""
    groups: dict[tuple, list[Problem]] = {}
    for p in problems:
        groups.setdefault((p.file, p.rule), []).append(p)
    lines = [_summary_line(file, rule, items) for (file, rule), items in groups.items()]
    if len(lines) > limit:
        lines = lines[:limit] + [f"and {len(lines) - limit} more kind(s) of problem"]
    return lines


def error_for(problems: Sequence[Problem]) -> DataError:
    """One DataError for ``problems``: the problem itself when there is one, else a grouped
    summary. Never a cell's value."""
    if len(problems) == 1:
        error = DataError(problems[0].sentence())
    else:
        error = DataError(f"{len(problems)} problems in the data: " + "; ".join(summarise(problems))
                          + ".")
    error.problems = tuple(problems)  # where each is, for a sentence that names no file
    return error
