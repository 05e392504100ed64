"""Bounded inputs: what a data file may expand to before it is read.

Zip-based files (ODK Central exports, .xlsx, .ods) are checked member by member from the
archive's directory before any member is decompressed — total size, size of one member,
compression ratio — and a workbook's sheets are scanned as a stream for the cells they claim
(a single cell at the sheet's far corner makes a reader allocate the whole grid). A Stata or
SPSS file's declared size is read from its header first. Each refusal is one sentence naming
the file and what was expected; nothing larger than these bounds is ever held in memory.
"""

from __future__ import annotations

import re
import zipfile

from evalkit.errors import DataError

MAX_EXPANDED = 256 * 1024 * 1024
"""Bytes an archive may expand to (all members)."""
MAX_MEMBER = 200 * 1024 * 1024
"""Bytes one member may expand to."""
MAX_RATIO = 150
"""How many times a member larger than :data:`RATIO_FLOOR` may expand (exports compress
10–30 times; bombs millions of times)."""
RATIO_FLOOR = 8 * 1024 * 1024
MAX_MEMBERS = 5000
MAX_CELLS = 5_000_000
"""Cells a workbook sheet may span (rows × columns of its used area): larger tables belong in
CSV or Parquet, which are read by the engine."""

_CELL = re.compile(rb'<(?:\w+:)?c\s[^>]*?\br="([A-Z]{1,4})(\d{1,8})"')
_DIMENSION = re.compile(rb'<(?:\w+:)?dimension\s+ref="(?:[A-Z]+\d+:)?([A-Z]{1,4})(\d{1,8})"')


def _column(letters: bytes) -> int:
    n = 0
    for ch in letters.decode("ascii"):
        n = 26 * n + (ord(ch) - 64)
    return n


def archive(archive: zipfile.ZipFile, source: str) -> None:
    """Refuse an archive whose members would expand beyond the bounds."""
    infos = [i for i in archive.infolist() if not i.is_dir()]
    if len(infos) > MAX_MEMBERS:
        raise DataError(f"{source}: holds {len(infos):,} files; expected an export of at most "
                        f"{MAX_MEMBERS:,} (the file was not read).")
    total = 0
    for info in infos:
        size = info.file_size
        total += size
        if size > MAX_MEMBER:
            raise DataError(f"{source}: a file inside would expand to {size // 2**20:,} MB; "
                            f"expected at most {MAX_MEMBER // 2**20} MB (the file was not read; "
                            "export the table as CSV or Parquet instead).")
        if size > RATIO_FLOOR and size > MAX_RATIO * max(info.compress_size, 1):
            raise DataError(f"{source}: a file inside expands {size // max(info.compress_size, 1):,} "
                            "times its compressed size, which no export does; expected an "
                            "ordinary export (the file was not read).")
    if total > MAX_EXPANDED:
        raise DataError(f"{source}: would expand to {total // 2**20:,} MB; expected at most "
                        f"{MAX_EXPANDED // 2**20} MB (the file was not read; export the table as "
                        "CSV or Parquet instead).")


def workbook(book: zipfile.ZipFile, source: str) -> None:
    """Refuse an .xlsx or .ods whose sheets span more cells than :data:`MAX_CELLS`, scanning
    each sheet as a stream (nothing decompressed is kept)."""
    archive(book, source)
    sheets = [n for n in book.namelist() if re.match(r"xl/worksheets/[^/]+\.xml$", n)]
    for name in sheets:
        rows = columns = 0
        tail = b""
        with book.open(name) as stream:
            while True:
                block = stream.read(1 << 20)
                if not block:
                    break
                text = tail + block
                for match in _CELL.finditer(text):
                    columns = max(columns, _column(match.group(1)))
                    rows = max(rows, int(match.group(2)))
                for match in _DIMENSION.finditer(text):
                    columns = max(columns, _column(match.group(1)))
                    rows = max(rows, int(match.group(2)))
                if rows * columns > MAX_CELLS:
                    raise DataError(
                        f"{source}: a sheet spans {rows:,} rows × {columns:,} columns; expected at "
                        f"most {MAX_CELLS:,} cells in a workbook (the file was not read; save the "
                        "table as CSV or Parquet, or delete stray cells far from the table).")
                tail = text[-256:]


def labelled(path, source: str) -> None:
    """Refuse a Stata or SPSS file whose header declares more cells than :data:`MAX_CELLS`
    ×10 (read before the data)."""
    import pyreadstat

    reader = pyreadstat.read_dta if str(path).lower().endswith(".dta") else pyreadstat.read_sav
    _frame, meta = reader(str(path), metadataonly=True)
    rows = meta.number_rows or 0
    cells = rows * max(meta.number_columns or 0, 1)
    if cells > 10 * MAX_CELLS:
        raise DataError(f"{source}: declares {rows:,} rows × {meta.number_columns:,} columns; "
                        f"expected at most {10 * MAX_CELLS:,} cells (the file was not read; export "
                        "the table as CSV or Parquet instead).")
