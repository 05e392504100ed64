"""Reading data files as exported, read-only: one reader per format, nothing written back.

Every reader returns a :class:`RawTable`: the table as the user sees it in their file (header
found past title rows, the right sheet, the right encoding and separator), with the row
number each record has in the file (the spreadsheet row, counting the rows above the header,
or the CSV line where the record starts), so that every later message can point at it.

Formats: CSV/TSV/TXT (UTF-8 with or without BOM, UTF-16 "Unicode Text", Windows-1252; comma,
semicolon, tab or pipe), Excel .xlsx/.xls/.ods (python-calamine; real date cells kept as
dates), Stata .dta and SPSS .sav (pyreadstat; codes kept, value labels returned beside
them), Parquet, and ODK Central's .zip of CSVs (one per repeat group).
"""

from __future__ import annotations

import csv
import functools
import hashlib
import io
import itertools
import os
import re
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import pandas as pd

from evalkit.data import bounds
from evalkit.errors import DataError

ROW = "__row__"
"""Column holding each record's row number as the user sees it (an int)."""

TEXT_SUFFIXES = (".csv", ".tsv", ".txt")
"""Delimited text files: read as CSV, their places named by line."""
SUFFIXES = (*TEXT_SUFFIXES, ".xlsx", ".xlsm", ".xls", ".ods", ".dta", ".sav", ".zsav",
            ".parquet", ".zip")
_SEPARATORS = (",", ";", "\t", "|")
_SCAN_ROWS = 50


@dataclass(frozen=True)
class ReadOptions:
    """How to read one file; every field is optional and found automatically when absent.

    sheet : sheet name (or 1-based number) of a workbook; also the repeat group's sheet of a
        KoBoToolbox workbook, or the CSV name inside an ODK Central zip.
    header_row : row (1-based, as the spreadsheet shows it) holding the column names.
    encoding : text encoding of a CSV ('utf-8', 'utf-16', 'cp1252', …).
    sep : CSV separator.
    """

    sheet: str | int | None = None
    header_row: int | None = None
    encoding: str | None = None
    sep: str | None = None


@dataclass(eq=False)
class RawTable:
    """A table as read from a file, before any mapping.

    frame : the columns as named in the file, plus ``ROW`` (the user's row number).
    source : the file's name as shown in messages (relative to the programme folder).
    sheet : the sheet read, for workbooks.
    unit : 'line' (CSV), 'row' (workbooks, Parquet) or 'observation' (Stata, SPSS).
    value_labels : column -> {code: label}, from Stata/SPSS value labels.
    missing_codes : column -> codes declared user-missing (SPSS).
    sha256 : digest of the file's bytes.
    detected : what was found automatically (encoding, sep, sheet, header_row, format), for
        ``evalkit new`` and ``evalkit check``.
    """

    frame: pd.DataFrame
    source: str
    sheet: str | None = None
    unit: str = "row"
    value_labels: dict[str, dict[Any, str]] = field(default_factory=dict)
    missing_codes: dict[str, set] = field(default_factory=dict)
    sha256: str = ""
    detected: dict[str, Any] = field(default_factory=dict)

    @property
    def columns(self) -> list[str]:
        return [c for c in self.frame.columns if c != ROW]

    def where(self, row: int) -> str:
        """"file, sheet 'S', row N" / "file, line N" / "file, observation N"."""
        sheet = f", sheet {self.sheet!r}" if self.sheet is not None else ""
        return f"{self.source}{sheet}, {self.unit} {int(row)}"


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def file_status(path: str | Path) -> tuple:
    """What changes whenever a file is written: its device and inode, size, modification time
    and inode change time (which every write moves and no program can set back)."""
    status = os.stat(path)
    return (status.st_dev, status.st_ino, status.st_size, status.st_mtime_ns,
            status.st_ctime_ns)


def settled(status: tuple) -> bool:
    """Whether a file of this :func:`file_status` was last written over two seconds ago. File
    times are coarser than writes: a second write within a tick could leave them unchanged,
    so only a settled file's status stands for its content."""
    return time.time_ns() - max(status[3], status[4]) >= 2_000_000_000


def file_digest(path: str | Path) -> str:
    """SHA-256 of a file's bytes, read in blocks (hashing is far cheaper than parsing).

    Within one process a settled file is hashed again only when its status changes
    (:func:`file_status`, :func:`settled`)."""
    stamp = status = file_status(path)  # (device and inode name the file, whatever its path)
    known = _DIGESTS.get(stamp)
    if known is not None:
        return known
    hashed = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            hashed.update(block)
    if not settled(status):
        return hashed.hexdigest()
    if len(_DIGESTS) > 1024:
        _DIGESTS.clear()
    _DIGESTS[stamp] = hashed.hexdigest()
    return _DIGESTS[stamp]


_DIGESTS: dict = {}


def read(path: str | Path, label: str | None = None, options: ReadOptions | None = None,
         expect: Iterable[str] = (), data: bytes | None = None) -> RawTable:
    """Read ``path`` as exported; ``expect``: column names the caller will look for (they help
    to find the sheet and the header row when these are not given); ``data``: the file's
    bytes when the caller has read them already (the file is then not opened again)."""
    path = Path(path)
    shown = label or path.name
    options = options or ReadOptions()
    if not path.is_file():
        raise DataError(f"{shown}: file not found; expected a data file at this path.")
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise DataError(f"{shown}: cannot read files ending in '{suffix or '(none)'}'; expected "
                        f"one of {', '.join(SUFFIXES)}.")
    expect = {_simple(e) for e in expect if e}
    try:
        if suffix in (".dta", ".sav", ".zsav"):
            bounds.labelled(path, shown)
            return _read_labelled(path, shown, suffix, data)
        data = path.read_bytes() if data is None else data
        table = _read_bytes(data, suffix, shown, options, expect)
    except DataError:
        raise
    except Exception as exc:  # a format library's own error included: one sentence, no traceback
        raise DataError(_unreadable(exc, shown, suffix)) from None
    table.sha256 = digest(data)
    return table


def _read_bytes(data: bytes, suffix: str, shown: str, options: ReadOptions,
                expect: set[str]) -> RawTable:
    """A file's bytes read by its kind (archives and workbooks bounded first)."""
    if suffix in (".zip", ".xlsx", ".xlsm", ".ods"):
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            (bounds.archive if suffix == ".zip" else bounds.workbook)(archive, shown)
    if suffix in TEXT_SUFFIXES:
        return _read_text(data, shown, options, expect)
    if suffix == ".parquet":
        return _read_parquet(data, shown)
    if suffix == ".zip":
        return _read_zip(data, shown, options, expect)
    return _read_workbook(data, shown, options, expect)


_EXPECTED_ERRORS = (ValueError, OSError, KeyError, IndexError, zipfile.BadZipFile, UnicodeError,
                    csv.Error)


def _unreadable(exc: Exception, shown: str, suffix: str) -> str:
    """One sentence for a file that could not be read; a format library's own error type is
    named."""
    first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if isinstance(exc, _EXPECTED_ERRORS):
        return f"{shown}: could not be read as a {suffix} file ({first})."
    return f"{shown}: could not be read as a {suffix} file ({type(exc).__name__}: {first})."


# ------------------------------------------------------------------------------ helpers


def _simple(text: object) -> str:
    return " ".join(re.findall(r"[^\W_]+", str(text).lower()))


def _is_blank(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and np.isnan(value):
        return True
    return isinstance(value, str) and value.strip() == ""


def _looks_numeric(value: object) -> bool:
    if isinstance(value, (int, float, np.number)) and not isinstance(value, bool):
        return True
    return isinstance(value, str) and re.fullmatch(r"\s*[-+]?\d+([.,]\d+)?\s*", value) is not None


def _header_text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def find_header(rows: list[list[Any]], expect: set[str]) -> int:
    """Index (0-based) of the header row among ``rows`` (the first rows of a sheet).

    The row naming most of the expected columns (or CSI factors) wins; otherwise the first row
    as wide as the table whose cells are all text (title and filter lines above a header are
    narrower, data rows below it hold numbers).
    """
    filled = [[c for c in row if not _is_blank(c)] for row in rows]
    widths = [len(cells) for cells in filled]
    if not widths or max(widths) == 0:
        return 0
    scores = [_names_matched(cells, expect) for cells in filled]
    if max(scores) >= 2:
        return scores.index(max(scores))
    wide = max(widths)
    for i, cells in enumerate(filled):
        if len(cells) >= max(2, 0.6 * wide) and all(_is_name(c) for c in cells):
            return i
    return next(i for i, w in enumerate(widths) if w > 0)


def _names_matched(cells: list, expect: set[str]) -> int:
    """How many of a row's cells name an expected column or a CSI factor."""
    from evalkit.instruments.csi import factor_code

    text = [c for c in cells if isinstance(c, str)]
    return len({_simple(c) for c in text} & expect) + sum(factor_code(c) is not None for c in text)


def _is_name(cell) -> bool:
    """Whether a cell reads as a column name: text that is not a number."""
    return isinstance(cell, str) and not _looks_numeric(cell)


def _column_names(header: list[Any], source: str, sheet: str | None, row: int,
                  unit: str = "row") -> list[str]:
    """The header's cells as column names; a name given twice is refused, naming the header's
    place (``unit`` "line" for a text file, where places are the file's lines)."""
    names = []
    for i, cell in enumerate(header):
        name = "" if _is_blank(cell) else _header_text(cell)
        names.append(name or f"column {_letters(i)}")
    seen: dict[str, int] = {}
    for i, name in enumerate(names):
        if name in seen:
            where = f"{source}" + (f", sheet {sheet!r}" if sheet else "") + f", {unit} {row}"
            raise DataError(f"{where}: two columns are named {name!r} (columns "
                            f"{_letters(seen[name])} and {_letters(i)}); expected each column "
                            "name once, so that no column is silently ignored.")
        seen[name] = i
    return names


def _letters(index: int) -> str:
    """0 -> 'A', 26 -> 'AA': the spreadsheet's own name for a column position."""
    out = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        out = chr(65 + rem) + out
    return out


def _grid_to_frame(rows: list[list[Any]], header_index: int, first_row_number: int,
                   source: str, sheet: str | None) -> pd.DataFrame:
    """Rows below ``header_index`` as a frame named by the header; blank rows dropped; the
    ``ROW`` column gives each record's number (``first_row_number`` is the header's)."""
    header = list(rows[header_index]) if rows else []
    if header_index > 0:
        header = _two_header_rows(list(rows[header_index - 1]), header)
    body = rows[header_index + 1:]
    width = len(header)
    while width and _is_blank(header[width - 1]) and all(
            len(r) < width or _is_blank(r[width - 1]) for r in body):
        width -= 1
    names = _column_names(header[:width], source, sheet, first_row_number)
    grid = np.empty((len(body), width), dtype=object)
    if body:
        try:  # a sheet's rows all have its width: one C-level copy; columns below are views
            full = np.array(body, dtype=object)
            grid[:] = full[:, :width] if full.ndim == 2 else body
        except ValueError:  # ragged rows (a CSV-like grid): pad them
            grid[:] = [list(r[:width]) + [""] * (width - len(r)) for r in body]
    frame = pd.DataFrame({name: _tidy_column(grid[:, j]) for j, name in enumerate(names)})
    frame[ROW] = np.arange(first_row_number + 1, first_row_number + 1 + len(body))
    return _drop_blank_rows(frame, tidy=False)


def _two_header_rows(above: list[Any], header: list[Any]) -> list[Any]:
    """A sheet with two header rows (a round over its block of factor columns, in merged
    cells): where the lower row repeats names, each is prefixed with the label above it,
    carried right across the merged cells ('Baseline' over '1A' … gives 'Baseline_1A')."""
    names = [None if _is_blank(c) else _header_text(c) for c in header]
    present = [n for n in names if n]
    if len(set(present)) == len(present) or all(_is_blank(c) for c in above):
        return header
    carried = _carried_right(above, len(header))  # (None before the first label above)
    return [f"{label}_{name}" if name and label else cell
            for cell, name, label in zip(header, names, carried)]


def _carried_right(above: list[Any], width: int) -> list[str | None]:
    """Each of ``width`` columns' label in the row above, carried right across the blank
    (merged) cells after it; None before the first label."""
    carried, current = [], None
    for i in range(width):
        cell = above[i] if i < len(above) else None
        if not _is_blank(cell):
            current = _header_text(cell)
        carried.append(current)
    return carried


_NUMERIC = ("floating", "integer", "mixed-integer-float")


def _numbers_column(array) -> pd.Series:
    """A column of numbers and missing values as float64."""
    try:
        return pd.Series(array.astype("float64"))
    except (TypeError, ValueError):  # None among the numbers
        return pd.Series(pd.to_numeric(array).astype("float64"))


def _tidy_column(values) -> pd.Series:
    """One column as read: blanks (empty or space-only text) missing, text trimmed, a column of
    numbers (Excel's blanks aside) as float64, dates and mixed columns left as objects."""
    if isinstance(values, pd.Series):
        # (pandas 3 reads text as its 'str' dtype, not as objects: tidied all the same)
        if values.dtype != object and not isinstance(values.dtype, pd.StringDtype):
            return values
        array = values.to_numpy(dtype=object, na_value=None)
    else:
        array = values
    if pd.api.types.infer_dtype(array, skipna=True) in _NUMERIC:  # numbers and missing only
        return _numbers_column(array)
    blank = pd.isna(array) | (array == "")
    present = array[~blank]
    kind = pd.api.types.infer_dtype(present, skipna=True)
    if kind in _NUMERIC:  # numbers and Excel's blank cells
        out = np.full(len(array), np.nan)
        out[~blank] = present.astype("float64")
        return pd.Series(out)
    if kind in ("date", "datetime"):  # date cells: kept as dates, blanks missing
        return pd.Series(np.where(blank, None, array), dtype=object)
    if kind in ("string", "empty"):
        text = pd.Series(np.where(blank, None, array), dtype=object)
        stripped = text.str.strip()
        return stripped.where(stripped != "", None)
    cleaned = [None if _is_blank(v) else (v.strip() if isinstance(v, str) else v) for v in array]
    return pd.Series(cleaned, dtype=object)


def _drop_blank_rows(frame: pd.DataFrame, tidy: bool = True) -> pd.DataFrame:
    """Drop rows with no value at all, after :func:`_tidy_column` on every column."""
    out = frame.reset_index(drop=True)
    if tidy:
        out = pd.DataFrame({c: (out[c] if c == ROW else _tidy_column(out[c])) for c in out.columns})
    data = out.drop(columns=[ROW])
    if len(data.columns) == 0:
        return out.reset_index(drop=True)
    filled = data.notna().sum(axis=1).to_numpy()
    keep = filled > 0
    # notes below the table ("Total clients: 42", "Generated by … on …"): trailing rows far
    # narrower than the table are not records
    wide_enough = filled >= max(2, 0.5 * (filled.max() if len(filled) else 0))
    if wide_enough.any() and len(data.columns) >= 4:
        last = int(np.flatnonzero(wide_enough)[-1])
        keep[last + 1:] &= wide_enough[last + 1:]
    return out[keep].reset_index(drop=True)


# ------------------------------------------------------------------------------ text files


def _declared_decode(data: bytes, encoding: str, source: str) -> str:
    """``data`` in the encoding programme.yml declares, or one sentence."""
    try:
        return data.decode(encoding)
    except LookupError:
        raise DataError(f"{source}: encoding {encoding!r} is unknown; expected e.g. utf-8, "
                        "utf-16 or cp1252.") from None
    except UnicodeDecodeError as exc:
        raise DataError(f"{source}: byte {exc.start} cannot be read as {encoding}; expected "
                        "the file's real encoding (or leave 'encoding' out to detect it).") from None


def decode(data: bytes, encoding: str | None, source: str) -> tuple[str, str]:
    """Decode ``data``: a byte-order mark decides; else UTF-8; else Windows-1252."""
    if encoding:
        return _declared_decode(data, encoding, source), encoding
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8"), "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16"), "utf-16"
    if len(data) >= 4 and data[1:2] == b"\x00" and data[3:4] == b"\x00":
        return data.decode("utf-16-le"), "utf-16-le"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="strict" if _cp1252_ok(data) else "replace"), "cp1252"


def _cp1252_ok(data: bytes) -> bool:
    return not any(b in data for b in (b"\x81", b"\x8d", b"\x8f", b"\x90", b"\x9d"))


def _sniff_sep(lines: list[str]) -> str:
    """The separator that splits the sample into the most consistent, widest rows."""
    best, best_score = ",", -1.0
    for sep in _SEPARATORS:
        widths = [len(row) for row in csv.reader(lines, delimiter=sep) if any(c.strip() for c in row)]
        if not widths:
            continue
        common = max(set(widths), key=widths.count)
        if common < 2:
            continue
        score = widths.count(common) * common
        if score > best_score:
            best, best_score = sep, score
    return best


def _text_header(text: str, sample: list[list[str]], options: ReadOptions, source: str,
                 expect: set[str]) -> int:
    """The header's record (0-based): the line declared (header_row), else found."""
    if options.header_row is None:
        return find_header(sample, expect)
    header_index = options.header_row - 1
    if not 0 <= header_index < len(text.splitlines()):
        raise DataError(f"{source}: header_row is {options.header_row}, but the file has "
                        f"{len(text.splitlines())} line(s); expected the line with the "
                        "column names.")
    return header_index


def _text_records(frame: pd.DataFrame, reader_text: str, sep: str, source: str,
                  header_index: int) -> pd.DataFrame:
    """The records below a text file's header, named by it (trailing unnamed empty columns
    dropped), numbered by their lines, blank rows left out."""
    header = frame.iloc[0].tolist()
    width = len(header)
    while width and _is_blank(header[width - 1]) and frame.iloc[1:, width - 1].isna().all():
        width -= 1
    out = frame.iloc[1:, :width].copy()
    out.columns = _column_names(header[:width], source, None, header_index + 1, "line")
    out[ROW] = _line_numbers(reader_text, sep, len(out)) + header_index
    return _drop_blank_rows(out.reset_index(drop=True))


def _read_text(data: bytes, source: str, options: ReadOptions, expect: set[str]) -> RawTable:
    text, encoding = decode(data, options.encoding, source)
    if not text.strip():
        raise DataError(f"{source}: the file is empty; expected a header row and rows of data.")
    sample_lines = text.splitlines()[:_SCAN_ROWS]
    sep = options.sep or ("\t" if encoding.startswith("utf-16") and "\t" in text[:4096]
                          else _sniff_sep(sample_lines))
    header_index = _text_header(text, list(csv.reader(sample_lines, delimiter=sep)), options,
                                source, expect)
    # header_index counts records of the sample; records before the header are one line each
    # (title lines), so the header's physical line is header_index + 1.
    body = io.StringIO(text)
    for _ in range(header_index):
        body.readline()
    reader_text = body.read()
    frame = pd.read_csv(io.StringIO(reader_text), sep=sep, dtype=str, keep_default_na=False,
                        na_values=[""], skip_blank_lines=False, engine="python" if len(sep) > 1 else "c",
                        header=None)
    if frame.empty:
        out = pd.DataFrame(columns=_column_names([], source, None, header_index + 1, "line"))
        out[ROW] = np.array([], dtype=int)
    else:
        out = _text_records(frame, reader_text, sep, source, header_index)
    return RawTable(out, source, None, "line",
                    detected={"format": "csv", "encoding": encoding, "sep": sep,
                              "header_row": header_index + 1})


def _line_numbers(text: str, sep: str, n_records: int) -> np.ndarray:
    """Physical line (1-based, within ``text``) where each data record after the header starts."""
    if '"' not in text:
        return np.arange(2, 2 + n_records)
    starts = []
    reader = csv.reader(io.StringIO(text), delimiter=sep)
    line = 1
    for i, _ in enumerate(reader):
        if i > 0:
            starts.append(line)
        line = reader.line_num + 1
    return np.asarray(starts[:n_records], dtype=int)


# ------------------------------------------------------------------------------ workbooks


def _workbook(data: bytes):
    import python_calamine

    return python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))


def _sheet_grid(book, name: str) -> list[list[Any]]:
    return book.get_sheet_by_name(name).to_python(skip_empty_area=False)


def _named_sheet(names: list[str], sheet, source: str) -> str:
    """The sheet asked for, by number (from 1) or by name (any case), or one sentence."""
    if isinstance(sheet, int) and not isinstance(sheet, bool):
        if 1 <= sheet <= len(names):
            return names[sheet - 1]
        raise DataError(f"{source}: sheet {sheet} does not exist; the workbook has "
                        f"{len(names)} sheet(s): {', '.join(names)}.")
    for name in names:
        if name == sheet or name.strip().lower() == str(sheet).strip().lower():
            return name
    raise DataError(f"{source}: no sheet named {sheet!r}; sheets present: {', '.join(names)}.")


def _choose_sheet(book, options: ReadOptions, source: str, expect: set[str]) -> str:
    names = list(book.sheet_names)
    if options.sheet is not None:
        return _named_sheet(names, options.sheet, source)
    if len(names) == 1:
        return names[0]

    best, best_key = names[0], (-1, -1)
    for name in names:
        grid = book.get_sheet_by_name(name).to_python(nrows=_SCAN_ROWS)
        cells = [c for row in grid for c in row if not _is_blank(c)]
        named = {_simple(c) for c in cells if isinstance(c, str)}
        matches = len(named & expect) + _factors_named(c for c in cells if isinstance(c, str))
        key = (matches, len(cells))
        if key > best_key:
            best, best_key = name, key
    return best


def _read_workbook(data: bytes, source: str, options: ReadOptions, expect: set[str],
                   sheet: str | None = None) -> RawTable:
    book = _workbook(data)
    sheet = sheet or _choose_sheet(book, options, source, expect)
    grid = _sheet_grid(book, sheet)
    if options.header_row is not None:
        header_index = options.header_row - 1
        if not 0 <= header_index < len(grid):
            raise DataError(f"{source}, sheet {sheet!r}: header_row is {options.header_row}, but "
                            f"the sheet has {len(grid)} row(s); expected the row with the column names.")
    else:
        header_index = find_header(grid[:_SCAN_ROWS], expect)
    frame = _grid_to_frame(grid, header_index, header_index + 1, source, sheet)
    table = RawTable(frame, source, sheet, "row",
                     detected={"format": "workbook", "sheet": sheet, "header_row": header_index + 1,
                               "sheets": list(book.sheet_names)})
    return _join_repeat(table, lambda name: _read_workbook(data, source, ReadOptions(), set(), name)
                        if name in book.sheet_names else None, list(book.sheet_names))


def _factors_named(cells) -> int:
    """How many CSI factors these header cells name, by code, manual name or meaning."""
    from evalkit.instruments.csi import SURE, factor_matches

    found = set()
    for cell in list(cells)[:400]:
        if len(cell) <= 120:
            matches = factor_matches(cell)
            if matches and matches[0][1] >= SURE:
                found.add(matches[0][0])
    return len(found)


# ------------------------------------------------------------------------------ repeats


def join_parent(table: RawTable, parent: RawTable) -> RawTable:
    """A repeat table given as its own file (an ODK Central or KoBoToolbox export unzipped)
    joined to its parent file's rows, as :func:`_join_repeat` joins them inside an export; a
    table that is not a repeat of ``parent`` is one sentence."""
    keys = {("PARENT_KEY", "KEY"), ("_parent_index", "_index")}
    pair = next(((left, right) for left, right in keys if left in table.frame.columns
                 and right in parent.frame.columns), None)
    if pair is None:
        raise DataError(f"{table.source}: is not a repeat table of {parent.source}; expected a "
                        "PARENT_KEY column matching the parent's KEY (ODK Central) or "
                        "_parent_index matching its _index (KoBoToolbox).")
    name = parent.source
    joined = _join_repeat(table, lambda _name: parent, [name])
    if joined.detected.get("parent") is None:
        raise DataError(f"{table.source}: none of its rows matches a row of {parent.source} "
                        f"({pair[0]} against {pair[1]}); expected the repeat and its parent from "
                        "the same export.")
    return joined


def _join_repeat(table: RawTable, read_table, tables: list[str]) -> RawTable:
    """A KoBoToolbox repeat sheet (``_parent_index``) or an ODK Central repeat CSV
    (``PARENT_KEY``) gets its parent's columns, joined row by row, so that each repeat row is
    a complete record (a child's assessment with its household's village and date)."""
    frame = table.frame
    if "_parent_index" in frame.columns:
        parent, left, right = _kobo_parent(table, read_table, tables), "_parent_index", "_index"
    elif "PARENT_KEY" in frame.columns:
        parent, left, right = _odk_parent(frame, read_table, tables), "PARENT_KEY", "KEY"
    else:
        return table
    if parent is None or right not in parent.frame.columns:
        return table
    extra = [c for c in parent.frame.columns if c not in frame.columns and c != ROW]
    def key(v):
        return None if _is_blank(v) else _header_text(v)

    parents = parent.frame.drop_duplicates(right)
    lookup = parents.set_index(parents[right].map(key))
    keys = frame[left].map(key)
    joined = frame.copy()
    for column in extra:
        joined[column] = keys.map(lookup[column]).to_numpy()
    table.frame = joined
    table.detected["parent"] = parent.sheet or parent.source
    return table


def _kobo_parent(table: RawTable, read_table, tables: list[str]) -> RawTable | None:
    """A KoBoToolbox repeat sheet's parent: the sheet ``_parent_table_name`` names, else the
    first sheet (None when that is the repeat sheet itself)."""
    frame = table.frame
    parent_name = None
    if "_parent_table_name" in frame.columns and frame["_parent_table_name"].notna().any():
        parent_name = str(frame["_parent_table_name"].dropna().iloc[0])
    parent_name = parent_name if parent_name in tables else tables[0]
    return None if parent_name == table.sheet else read_table(parent_name)


def _odk_parent(frame: pd.DataFrame, read_table, tables: list[str]) -> RawTable | None:
    """An ODK Central repeat CSV's parent: the first table whose ``KEY`` holds a ``PARENT_KEY``."""
    for name in tables:
        candidate = read_table(name)
        if candidate is not None and "KEY" in candidate.frame.columns and \
                frame["PARENT_KEY"].isin(candidate.frame["KEY"]).any():
            return candidate
    return None


# ------------------------------------------------------------------------------ zip, parquet


def _read_zip(data: bytes, source: str, options: ReadOptions, expect: set[str]) -> RawTable:
    archive = zipfile.ZipFile(io.BytesIO(data))
    members = [m for m in archive.namelist() if m.lower().endswith(".csv") and not m.endswith("/")]
    if not members:
        raise DataError(f"{source}: the zip holds no CSV file; expected an ODK Central export "
                        "(a zip of CSV files).")
    short = {Path(m).name: m for m in members}

    def load(name: str) -> RawTable | None:
        member = short.get(name, name)
        if member not in members:
            return None
        table = _read_text(archive.read(member), f"{source}/{Path(member).name}", ReadOptions(), expect)
        table.sheet = None
        return table

    chosen = (_named_member(short, str(options.sheet), source) if options.sheet is not None
              else max(short, key=lambda name: _member_score(archive, short[name], name, expect)))
    table = load(chosen)
    table.detected.update({"format": "odk-zip", "member": chosen, "members": list(short)})
    return _join_repeat(table, load, [m for m in short if m != chosen])


def _read_parquet(data: bytes, source: str) -> RawTable:
    frame = pd.read_parquet(io.BytesIO(data))
    if len(set(frame.columns)) != len(frame.columns):
        raise DataError(f"{source}: two columns share a name; expected each column name once.")
    # a frame saved with its index (e.g. child IDs set as the index) keeps it as columns, as
    # the engine reads the file; a plain row-number index is dropped
    plain = isinstance(frame.index, pd.RangeIndex) and frame.index.name is None
    frame = frame.reset_index(drop=plain)
    frame.columns = [str(c) for c in frame.columns]
    frame[ROW] = np.arange(1, len(frame) + 1)
    return RawTable(frame, source, None, "row", detected={"format": "parquet"})


# ------------------------------------------------------------------------------ Stata, SPSS


def _named_member(short: dict[str, str], wanted: str, source: str) -> str:
    """The zip's CSV file asked for (by name or stem, any case), or one sentence."""
    match = [m for m in short if m == wanted or m.lower() == wanted.lower()
             or Path(m).stem.lower() == wanted.lower()]
    if not match:
        raise DataError(f"{source}: no file {wanted!r} in the zip; files present: "
                        f"{', '.join(short)}.")
    return match[0]


def _member_score(archive: zipfile.ZipFile, member: str, name: str, expect: set[str]) -> tuple:
    """How well a zip's CSV file looks like the table wanted, from its header only (never the
    whole member): the names it matches; then the submissions table (no ``PARENT_KEY``),
    the shorter name."""
    with archive.open(member) as stream:
        head = stream.read(8192).decode("utf-8", "replace").splitlines()[:1]
    cells = next(csv.reader(head), []) if head else []
    matches = len({_simple(c) for c in cells} & expect) + _factors_named(cells)
    return matches, -len(name) - (1000 if "PARENT_KEY" in cells else 0)


def _read_labelled(path: Path, source: str, suffix: str, data: bytes | None = None) -> RawTable:
    try:
        import pyreadstat
    except ImportError:  # pragma: no cover - a declared dependency
        raise DataError(f"{source}: reading {suffix} files needs pyreadstat, which evalkit "
                        "installs; reinstall evalkit ('make setup').") from None
    data = path.read_bytes() if data is None else data  # read once: hashed, parsed from memory
    try:
        if suffix == ".dta":
            frame, meta = pyreadstat.read_dta(io.BytesIO(data))
        else:
            frame, meta = pyreadstat.read_sav(io.BytesIO(data), user_missing=True)
    except Exception as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DataError(f"{source}: could not be read as a {suffix} file ({first}).") from None
    missing = {column: {r.get("lo") if r.get("lo") == r.get("hi") else (r.get("lo"), r.get("hi"))
                        for r in ranges}
               for column, ranges in (getattr(meta, "missing_ranges", None) or {}).items()}
    frame = frame.reset_index(drop=True)
    frame[ROW] = np.arange(1, len(frame) + 1)
    return RawTable(frame, source, None, "observation",
                    value_labels={k: dict(v) for k, v in (meta.variable_value_labels or {}).items()},
                    missing_codes=missing, sha256=digest(data),
                    detected={"format": "stata" if suffix == ".dta" else "spss",
                              "variable_labels": dict(zip(meta.column_names,
                                                          meta.column_labels or []))})


def read_table(path: str | Path, *, label: str | None = None, **options: Any) -> pd.DataFrame:
    """A data file as a DataFrame of the file's own columns (for notebooks and tests).

    ``attrs["rows"]`` holds where each row is in the file, for messages, by the row's index
    label (0, 1, 2 … as read; a filtered or sorted frame's rows keep theirs); ``options`` are
    those of :class:`ReadOptions`.
    """
    table = read(path, label or str(path), ReadOptions(**options))
    frame = table.frame.drop(columns=[ROW]).reset_index(drop=True)
    frame.attrs["source"] = table.source
    frame.attrs["rows"] = [table.where(r) for r in table.frame[ROW]]
    return frame


# ------------------------------------------------------------------------------ the engine

ENGINE_ROW = "__evalkit_row"
"""The engine tables' column numbering rows (0-based) in the file's order."""


@functools.lru_cache(maxsize=1)
def embedded_engine():
    """The embedded columnar engine: one in-memory DuckDB per process, reached through Ibis."""
    import ibis

    con = ibis.duckdb.connect()
    # planning the wide CSI aggregation (about 160 aggregates over 76 staged columns) takes
    # seconds with this rewrite and milliseconds without it; the results are the same
    con.raw_sql("SET disabled_optimizers = 'partial_aggregate_pushdown'")
    # results carry their row numbers and are put in order by them: the engine need not keep
    # the input's order, which lets it stream results without holding them (DuckDB's advice
    # for large results)
    con.raw_sql("SET preserve_insertion_order = false")
    try:
        con.raw_sql("SET enable_progress_bar = false")
    except Exception:  # in a Jupyter kernel without ipywidgets DuckDB refuses the setting
        pass
    # what the engine spills to disk (large joins, parsed CSV files) goes to a folder of this
    # process, removed at exit, never to the working directory
    import atexit
    import shutil
    import tempfile

    spill = tempfile.mkdtemp(prefix="evalkit-engine-")
    atexit.register(shutil.rmtree, spill, True)
    con.raw_sql(f"SET temp_directory = '{spill}'")
    return con


def engine_table(path: str | Path, **options: Any):
    """A data file as an engine (Ibis) table with :data:`ENGINE_ROW` (the record's place in
    the file, from 0). Parquet is scanned by the engine where it lies (no copy into Python).
    A UTF-8 CSV is parsed by the engine too, once per process and file content, into a table
    of its own (see :func:`_engine_csv`). Every other file, and any CSV the engine cannot read as it is, is
    read by :func:`read_table` (encodings, title rows, sheets) and handed over in memory."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such file; expected a data file (Parquet, CSV, Excel, …).")
    suffix = path.suffix.lower()
    if suffix == ".parquet" and not options:
        # the scan numbers the rows itself (no window over the whole file)
        table = embedded_engine().read_parquet(path, file_row_number=True)
        return table.rename({ENGINE_ROW: "file_row_number"})
    if suffix in TEXT_SUFFIXES and not options:
        table = _engine_csv(path)
        if table is not None:
            return table
    return frame_table(read_table(path, **options))


def _engine_csv(path: Path):
    """A UTF-8 CSV parsed by the engine, or None when the data-in reader must take it
    (another encoding, a file the engine refuses). It gives the records :func:`read` gives:

    - the separator and the header row (below any title lines) found from the first lines
      as :func:`read` finds them;
    - every cell as text, trimmed, and missing when blank;
    - rows with no value left out, and so are notes below the table (trailing rows far
      narrower than the table, :func:`_drop_blank_rows`'s rule); the rest are numbered in the
      file's order.

    The file is parsed once per process into a table of its own, kept for the file's content
    (SHA-256): later calls on the same file read that table, and a changed file replaces it.
    """
    key = (str(path.resolve()), file_digest(path))
    cached = _CSV_COPIES.get(key)
    if cached is None:
        lines = _utf8_head(path)
        if lines is None:
            return None
        sep = _sniff_sep(lines)
        sample = list(csv.reader(lines, delimiter=sep))
        header_index = find_header(sample, set())
        if header_index >= len(sample):
            return None
        names = _column_names(sample[header_index], str(path), None, header_index + 1, "line")
        table_name = f"evalkit_csv_{next(_CSV_NUMBERS)}"
        con = embedded_engine().con
        try:
            _parse_csv(path, table_name, names, sep, header_index)
        except Exception:  # the data-in reader gives the file's problem in one sentence
            con.execute(f"DROP TABLE IF EXISTS {table_name}")
            return None
        for old in [k for k in _CSV_COPIES if k[0] == key[0]]:  # an older version of the file
            con.execute(f"DROP VIEW IF EXISTS {_CSV_COPIES[old]}_rows")
            con.execute(f"DROP TABLE IF EXISTS {_CSV_COPIES[old]}")
            del _CSV_COPIES[old]
        _CSV_COPIES[key] = cached = table_name
    return embedded_engine().table(f"{cached}_rows")


def _utf8_head(path: Path) -> list[str] | None:
    """The first lines of a UTF-8 text file (a byte-order mark skipped), or None for another
    encoding, binary data or lines all blank."""
    with path.open("rb") as handle:
        head = handle.read(1 << 16)
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in head:
        return None
    cut = head.rfind(b"\n") if len(head) == 1 << 16 else len(head)
    try:
        text = head[3 if head.startswith(b"\xef\xbb\xbf") else 0:cut].decode("utf-8")
    except UnicodeDecodeError:
        return None
    lines = text.splitlines()[:_SCAN_ROWS]
    return lines if any(line.strip() for line in lines) else None


_SPACE = " \t\r\n\x0b\x0c\xa0"
"""What a cell is trimmed of (as Python's str.strip does for the usual spaces)."""


def _parse_csv(path: Path, table_name: str, names: list[str], sep: str, header_index: int):
    """Parse ``path`` into the engine's table ``table_name`` and its view ``<name>_rows``."""
    con = embedded_engine().con
    columns = [n.replace('"', '""') for n in names]
    quoted = ", ".join("'" + n.replace("'", "''") + "'" for n in names)
    # (trimming with a set of characters is three times slower than testing for them first)
    cells = ", ".join(f"NULLIF(CASE WHEN regexp_matches(\"{c}\", '^[{_SPACE}]|[{_SPACE}]$') "
                      f"THEN trim(\"{c}\", '{_SPACE}') ELSE \"{c}\" END, '') AS \"{c}\""
                      for c in columns)
    filled = " + ".join(f"(\"{c}\" IS NOT NULL)::INT" for c in columns)
    location = str(path).replace("'", "''")
    # short rows (a note below the table) are padded with blanks, as the data-in reader pads
    # them; a row longer than the header is left to the data-in reader, which refuses it
    source = (f"read_csv('{location}', delim = '{sep.replace(chr(39), chr(39) * 2)}', "
              f"quote = '\"', escape = '\"', header = true, skip = {header_index}, "
              f"all_varchar = true, names = [{quoted}], encoding = 'utf-8', strict_mode = true, "
              f"null_padding = true)")
    if len(con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()) != len(names):
        raise ValueError("rows wider than the header")
    con.execute("SET preserve_insertion_order = true")  # rowid: the file's order
    try:
        con.execute(
            f"CREATE TEMP TABLE {table_name} AS SELECT *, {filled} AS {_FILLED} FROM (SELECT "
            f"{cells} FROM {source})")
        most, rows = con.execute(f"SELECT max({_FILLED}), count(*) FROM {table_name}").fetchone()
        keep = f"{_FILLED} > 0"
        if len(names) >= 4 and rows:  # notes below the table are not records
            wide = max(2.0, 0.5 * (most or 0))
            last = con.execute(f"SELECT max(rowid) FROM {table_name} "
                               f"WHERE {_FILLED} >= {wide}").fetchone()[0]
            if last is not None:
                keep += f" AND (rowid <= {int(last)} OR {_FILLED} >= {wide})"
        if con.execute(f"SELECT count(*) FROM {table_name} WHERE NOT ({keep})").fetchone()[0]:
            # the rows are numbered without the dropped ones, as the data-in reader has them
            con.execute(f"CREATE TEMP TABLE {table_name}_kept AS SELECT * FROM {table_name} "
                        f"WHERE {keep} ORDER BY rowid")
            con.execute(f"DROP TABLE {table_name}")
            con.execute(f"ALTER TABLE {table_name}_kept RENAME TO {table_name}")
        con.execute(f"CREATE TEMP VIEW {table_name}_rows AS SELECT rowid AS {ENGINE_ROW}, * "
                    f"EXCLUDE ({_FILLED}) FROM {table_name}")
    finally:
        con.execute("SET preserve_insertion_order = false")


_FILLED = "__evalkit_filled"
_CSV_NUMBERS = itertools.count()
_CSV_COPIES: dict = {}
"""(path, SHA-256) -> the engine's table holding a CSV's records."""


def frame_table(frame: pd.DataFrame):
    """A DataFrame as an engine table with :data:`ENGINE_ROW`, read in place. Columns of mixed
    Python objects (Excel cells mixing numbers and words) are handed over as text; column
    names become text."""
    import warnings

    import ibis

    mixed = {c: frame[c].astype("string") for c in frame.columns if frame[c].dtype == object}
    frame = (frame.assign(**mixed) if mixed else frame).reset_index(drop=True)
    frame = frame.set_axis([str(c) for c in frame.columns], axis=1)
    frame[ENGINE_ROW] = np.arange(len(frame))
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=QUIET)
        return ibis.memtable(frame)


QUIET = "The 'future.infer_string' option is deprecated"
"""Ibis 12 asks pandas about an option pandas 3 deprecates, once per column: not the user's
concern, so it is not shown."""
