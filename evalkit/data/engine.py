"""The columnar engine the CSI aggregations run on: Ibis expressions, executed by DuckDB
(embedded, the default) or by Spark (distributed), with the same code; and the data-in
layer's reading of CSI factor cells on it.

A source is a pandas DataFrame (DuckDB reads it in place, through Arrow), an Ibis table of
any backend (a Spark table included), or a path, which the data-in layer opens
(:func:`evalkit.data.read.engine_table`). :func:`csi_table` hands the aggregations
(:mod:`evalkit.indices.csi`) a table whose factor cells are read by the instrument's one cell
rule (:func:`evalkit.instruments.csi.read_cell`): the rule is applied to each distinct value
of each factor column, and the table maps every cell through the result, so a cell means
the same here as in ``evalkit check`` and the report.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from evalkit.data.read import ENGINE_ROW as ROW
from evalkit.data.read import embedded_engine as duckdb
from evalkit.data.read import QUIET, frame_table

__all__ = ["ROW", "duckdb", "spark", "is_table", "is_path", "table", "run", "rows", "write",
           "csi_table", "CSITable", "place", "factor_columns"]


def spark(session=None):
    """An Ibis connection to Spark: ``session`` (a ``SparkSession``, e.g. of an existing
    cluster), or a local one (``local[2]``)."""
    import ibis

    if session is None:
        from pyspark.sql import SparkSession

        import tempfile

        scratch = tempfile.mkdtemp(prefix="evalkit-spark-")  # never the working directory
        session = (SparkSession.builder.master("local[2]").appName("evalkit")
                   .config("spark.sql.shuffle.partitions", "4")
                   .config("spark.sql.warehouse.dir", f"{scratch}/warehouse")
                   .config("spark.driver.extraJavaOptions", f"-Dderby.system.home={scratch}")
                   .config("spark.ui.enabled", "false").getOrCreate())
    return ibis.pyspark.connect(session)


def is_table(source: Any) -> bool:
    import ibis.expr.types as ir

    return isinstance(source, ir.Table)


def is_path(source: Any) -> bool:
    """Whether ``source`` names a file (text, bytes or a path object)."""
    return isinstance(source, (str, bytes)) or hasattr(source, "__fspath__")


def table(source: Any):
    """``source`` as an Ibis table with the row-number column :data:`ROW` (0-based, in the
    source's order): a DataFrame read in place (:func:`evalkit.data.read.frame_table`), an
    engine table, or a path opened by the data-in layer."""
    import ibis

    if is_table(source):
        if ROW in source.columns:
            return source
        spark_backend = _spark_backend(source)
        if spark_backend is not None:
            return _spark_numbered(source, spark_backend)
        return source.mutate(**{ROW: ibis.row_number()})
    if isinstance(source, pd.DataFrame):
        return frame_table(source)
    if not is_path(source):
        raise TypeError(f"expected a DataFrame, an engine table or a path; got {type(source).__name__}")
    from evalkit.data.read import engine_table

    return engine_table(source)


def _backend(source):
    """The backend ``source`` (an engine table) belongs to, or None for an in-memory table
    (which the embedded DuckDB runs)."""
    backends = source._find_backends()[0]
    return backends[0] if backends else None


def _backend_name(source) -> str:
    """'duckdb' (in-memory tables included), 'pyspark', …"""
    backend = _backend(source)
    return "duckdb" if backend is None else getattr(backend, "name", "")


def _spark_backend(source):
    """The Spark backend ``source`` (an engine table) belongs to, or None."""
    return _backend(source) if _backend_name(source) == "pyspark" else None


def _spark_numbered(source, con):
    """``source`` with :data:`ROW` numbered by Spark's ``monotonically_increasing_id``: unique
    and in the source's order within and across partitions, computed where each partition
    lies (a ``row_number()`` window over the whole table would pull every row into one
    partition, and every job would compute it again). The numbers are not consecutive, so a
    Spark table's rows are named by their child and round in messages, not by a row number."""
    import uuid

    from pyspark.sql import functions as F

    frame = con._session.sql(str(con.compile(source)))
    name = f"evalkit_numbered_{uuid.uuid4().hex}"
    frame.withColumn(ROW, F.monotonically_increasing_id()).createOrReplaceTempView(name)
    return con.table(name)


def run(expression, backend=None) -> pd.DataFrame:
    """Execute ``expression``: on ``backend`` when given, otherwise on the backend its tables
    belong to (DuckDB for in-memory ones)."""
    import warnings

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=QUIET)
        if backend is not None:
            return backend.execute(expression)
        return (_backend(expression) or duckdb()).execute(expression)


class RowCount(Exception):
    """A row-wise result with more or fewer rows than its source."""


_NUMPY = {"double": "float64", "float": "float64", "int64": "int64", "int32": "int64",
          "int16": "int64", "int8": "int64", "bool": "bool"}


def rows(expression, n: int, backend=None) -> pd.DataFrame:
    """Execute a row-wise ``expression`` that carries :data:`ROW` (one row per row of a
    source of ``n`` rows) and return its rows in :data:`ROW` order, without that column.

    On DuckDB the result streams through Arrow record batches, each written straight into
    its rows' places in arrays of the final size: the engine's order does not matter (the
    embedded engine is free to return rows in any order) and the result is never held twice.
    Ibis's own conversion is avoided: it turns every column holding a null into Python
    objects, row by row. A result whose row count is not ``n`` raises :class:`RowCount`."""
    import warnings

    import numpy as np

    con = backend if backend is not None else (_backend(expression) or duckdb())
    if getattr(con, "name", "") != "duckdb":
        return _collected_rows(expression, n, con)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=QUIET)
        # (Ibis 12's own to_pyarrow_batches calls a method DuckDB 2 no longer has)
        relation = con._to_duckdb_relation(expression)
    reader = getattr(relation, "to_arrow_reader", None) or relation.fetch_record_batch
    batches = reader(1 << 17)
    names = [f.name for f in batches.schema if f.name != ROW]
    kinds = {f.name: _NUMPY.get(str(f.type), "object") for f in batches.schema}
    out = {name: np.empty(n, dtype=kinds[name]) for name in names}
    seen = 0
    try:
        for batch in batches:
            places = batch.column(ROW).to_numpy()
            if seen + len(places) > n:
                raise RowCount(seen + len(places))
            runs = _runs(places)
            for name in names:
                _place_column(out, name, batch.column(name), places, runs)
            seen += len(places)
    finally:
        batches.close()  # (a result left open blocks the connection's next query)
    if seen != n:
        raise RowCount(seen)
    return pd.DataFrame(out, copy=False)


def _collected_rows(expression, n: int, con) -> pd.DataFrame:
    """:func:`rows` on an engine other than DuckDB: the result collected, then put in order."""
    import numpy as np

    frame = run(expression, con)
    if len(frame) != n:
        raise RowCount(len(frame))
    order = np.argsort(frame.pop(ROW).to_numpy(), kind="stable")
    return pd.DataFrame({c: frame[c].to_numpy()[order] for c in frame.columns})


def _runs(places) -> list | None:
    """A batch's rows as runs of consecutive places ``(first place, start, stop)``: the
    engine's vectors, from several threads, each written as a slice (cheaper than scattering
    every value); None for a batch of short runs, which is scattered."""
    import numpy as np

    cuts = np.flatnonzero(np.diff(places) != 1) + 1
    if not len(places) or len(cuts) >= len(places) // 64:
        return None
    starts, stops = np.r_[0, cuts], np.r_[cuts, len(places)]
    return [(int(places[a]), int(a), int(b)) for a, b in zip(starts, stops)]


def _place_column(out: dict, name: str, column, places, runs: list | None) -> None:
    """Write a batch's ``column`` into its rows' places in ``out[name]`` (a whole-number or
    true/false column that meets a null becomes a float or object one)."""
    if column.null_count and out[name].dtype.kind in "ib":
        out[name] = out[name].astype("float64" if out[name].dtype.kind == "i" else object)
    values, target = column.to_numpy(zero_copy_only=False), out[name]
    if runs is None:
        target[places] = values
        return
    for first, a, b in runs:
        target[first:first + b - a] = values[a:b]


def write(expression, to) -> Path | str:
    """Write a table ``expression``'s rows as Parquet to ``to``, by the engine that runs it:
    the rows are never collected into Python. DuckDB writes one file, its rows in the
    source's order; Spark writes a folder of part files, each from the partition where its
    rows lie. A local path is written through :class:`evalkit.files.EngineOutput` (staged
    beside the target, no link followed, a file replaced only by a file); a URL
    (``s3://…``, ``hdfs://…``) is handed to the engine as it is. Returns the target."""
    from evalkit.errors import DataError
    from evalkit.files import EngineOutput

    con = _backend(expression) or duckdb()
    if "://" in str(to):
        _to_parquet(con, expression, str(to))
        return str(to)
    target = Path(os.fsdecode(to))
    with EngineOutput(target.parent, target.name) as out:
        staged = str(out.staging / "part.parquet")
        if repr(staged) != f"'{staged}'":  # (DuckDB's COPY takes the path as a quoted literal)
            raise DataError(f"{target}: the engine cannot write to a path holding quotes, "
                            "backslashes or control characters; expected a plain path.")
        _to_parquet(con, expression, staged)
        return out.publish("part.parquet")


def _to_parquet(con, expression, path: str) -> None:
    """The engine's own Parquet writer; DuckDB keeps the source's order for it (the embedded
    engine is otherwise free to return rows in any order: results read into Python carry
    their row numbers), which costs a written file no measurable time."""
    import warnings

    duck = getattr(con, "name", "") == "duckdb"
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=QUIET)
        if duck:
            (was,) = con.raw_sql("SELECT current_setting('preserve_insertion_order')").fetchone()
            con.raw_sql("SET preserve_insertion_order = true")
        try:
            con.to_parquet(expression, path)
        finally:
            if duck:
                con.raw_sql(f"SET preserve_insertion_order = {bool(was)}")


# ------------------------------------------------------------------ CSI factor cells


def source_name(source) -> str:
    """How messages name a source: its file or frame, or 'the table'."""
    if isinstance(source, pd.DataFrame):
        return source.attrs.get("source", "data frame")
    return "the table" if is_table(source) else str(source)


def factor_columns(columns, source) -> dict[str, Any]:
    """Factor code -> the column holding it (by code or name, any case), or a sentence naming
    the factors no column stands for."""
    from evalkit.errors import DataError
    from evalkit.instruments.csi import FACTORS, factor_code

    found: dict[str, Any] = {}
    for column in columns:
        code = factor_code(column)
        if code is not None and code not in found:
            found[code] = column
    missing = [code for code in FACTORS if code not in found]
    if missing:
        raise DataError(
            f"{source_name(source)}: no column for CSI factor(s) {', '.join(missing)}; expected "
            "one column per factor named by its code (1A … 6B) or its name (e.g. 'Food security').")
    return found


def _is_text_file(source) -> bool:
    from evalkit.data.read import TEXT_SUFFIXES

    return is_path(source) and str(source).lower().endswith(TEXT_SUFFIXES)


def place(source, row: int) -> str:
    """Where row ``row`` (0-based, as :data:`ROW` numbers it) of ``source`` is, as the data-in
    layer names places: "file, line N" for a text file, the frame's own row for a DataFrame
    read by the data-in layer, else "source, row N"."""
    from evalkit.data.columns import where

    if isinstance(source, pd.DataFrame):
        return where(source, row)
    if is_table(source) and _spark_backend(source) is not None:  # (numbered, but not 1, 2, 3, …)
        return source_name(source)
    if _is_text_file(source):
        from evalkit.data.read import read_table

        frame = read_table(source)
        if row < len(frame):
            return where(frame, row)
    return f"{source_name(source)}, row {row + 1}"


@dataclass(frozen=True, eq=False)
class CSITable:
    """A source's factor cells, read: ``table`` has :data:`ROW`, the ``keep`` columns, one
    score column per factor code (1–4 as a float, null where not rated or not applicable)
    and ``na_<code>`` (the factor does not apply). Every cell was valid: a source holding one
    that is not is refused by :func:`csi_table`."""

    table: Any
    source: Any
    raw: Any
    columns: dict
    keep: tuple = ()

    def rows(self) -> int:
        """The number of rows of the source."""
        if isinstance(self.source, pd.DataFrame):
            return len(self.source)
        return int(run(self.raw.count()))

    def row_results(self, expression) -> pd.DataFrame:
        """A row-wise ``expression`` carrying :data:`ROW`, in source order without it."""
        return rows(expression, self.rows())


def csi_table(source, keep: tuple = (), not_applicable: tuple = (), missing: tuple = ()) -> CSITable:
    """``source``'s CSI factor cells read by the instrument's cell rule (with the declared
    ``not_applicable`` and ``missing`` codes), as a :class:`CSITable`; a source with a cell
    the rule refuses raises one sentence naming its place, column and value.

    One query collects the distinct values of the 12 factor columns (few: the scores, a
    word or two, blanks); the rule reads each once; the table then maps every cell through
    what the rule said, so no cell's text is parsed row by row, and a column of scores only
    (a Parquet file of numbers) is used as it is."""
    import ibis

    from evalkit.instruments.csi import cell_rule

    t = table(source)
    _require(source, t, keep)
    columns = factor_columns([c for c in t.columns if c != ROW], source)
    read, bad = _distinct_cells(t, columns, cell_rule(tuple(not_applicable), tuple(missing)))
    if bad:
        _refuse(source, t, columns, bad)
    castable = _castable(read, t, columns)
    out = {}
    for code, cells in read.items():
        out[code], out[f"na_{code}"] = _read_column(t[columns[code]], cells, ibis,
                                                    code in castable)
    staged = t.select(ROW, *keep, **out).view()
    return CSITable(staged, source, t, columns, tuple(keep))


def _require(source, t, keep: tuple) -> None:
    """Refuse a ``keep`` column the source does not have, in one sentence."""
    from evalkit.errors import DataError

    for column in keep:
        if column not in t.columns:
            raise DataError(f"{source_name(source)}: no column {column!r}; expected the "
                            f"{column!r} column identifying each assessment; columns present: "
                            f"{', '.join(c for c in t.columns if c != ROW)}.")


def _distinct_cells(t, columns: dict, rule) -> tuple[dict, dict]:
    """What the rule says of each distinct value of each factor column, collected in one
    query: ``read`` (code -> value -> cell) for the columns whose every value is valid, and
    ``bad`` (code -> the values it refuses) for the others."""
    from evalkit.instruments.csi import FACTORS

    seen = run(t.aggregate(**{f"d{i}": t[columns[code]].collect(distinct=True)
                              for i, code in enumerate(FACTORS)})).iloc[0]
    read, bad = {}, {}
    for i, code in enumerate(FACTORS):
        values = seen[f"d{i}"]
        cells = {v: rule(v) for v in (values if values is not None else []) if v is not None}
        wrong = [v for v, cell in cells.items() if not cell.valid]
        if wrong:
            bad[code] = wrong
        else:
            read[code] = cells
    return read, bad


def _castable(read: dict, t, columns: dict) -> set:
    """The factors whose text DuckDB's ``TRY_CAST(cell AS DOUBLE)`` reads exactly as the rule
    did (``read``: code -> what the rule said of each distinct value): each distinct value
    cast to its score, or to null where the rule gives none. Asked of DuckDB itself, in one
    query for all factors (one row per distinct value), so a spelling the two read
    differently ('nan', a declared missing code such as 99, Khmer digits, a scale word)
    keeps its column on the mapping. None on Spark."""
    if _backend_name(t) != "duckdb":
        return set()
    asked = [(code, v) for code, cells in read.items() if t[columns[code]].type().is_string()
             and any(c.score is not None for c in cells.values())
             for v in cells if isinstance(v, str)]
    if not asked:
        return set()
    castable = {code for code, _v in asked}
    for (code, value), (number, null) in zip(asked, _cast_by_engine([v for _c, v in asked])):
        score = read[code][value].score
        if (score is None) != null or (score is not None and number != float(score)):
            castable.discard(code)
    # (a column holding a value that is not text, e.g. a number in a mixed column, is not cast)
    return {code for code in castable if all(isinstance(v, str) for v in read[code])}


def _cast_by_engine(values: list[str]) -> list[tuple[float, bool]]:
    """What DuckDB's ``TRY_CAST(value AS DOUBLE)`` gives each text: (number, is null), in
    order. (Handed over and returned without text columns: no pandas conversion of text.)"""
    import ibis
    import pyarrow as pa

    probe = ibis.memtable(pa.table({"i": pa.array(range(len(values)), pa.int64()),
                                    "v": pa.array(values, pa.string())}))
    cast = probe["v"].try_cast("float64")
    seen = run(probe.select(probe["i"], x=cast, null=cast.isnull()).order_by("i"))
    return list(zip(seen["x"].tolist(), seen["null"].astype(bool).tolist()))


def _read_column(column, cells: dict, ibis, castable: bool = False):
    """A factor column's scores and its not-applicable flags, from what the rule said of each
    distinct value: the column itself when it holds scores only; on DuckDB, the text cast to
    a number when that reads every distinct value as the rule does (three times cheaper per
    cell than a mapping); else a mapping."""
    scores = {v: float(c.score) for v, c in cells.items() if c.score is not None}
    not_applicable = [v for v, c in cells.items() if c.not_applicable]
    if _scores_only(column, cells, scores):
        score = column.cast("float64")  # no mapping at all
    elif scores and castable:
        score = column.try_cast("float64")
    elif scores:
        score = column.substitute(scores, else_=ibis.null("float64")).cast("float64")
    else:
        score = ibis.null("float64")
    flag = column.isin(not_applicable).fill_null(False) if not_applicable else ibis.literal(False)
    return score, flag


def _scores_only(column, cells: dict, scores: dict) -> bool:
    """Whether a numeric column holds scores only (every distinct value its own score)."""
    return (column.type().is_numeric() and all(c.score is not None for c in cells.values())
            and all(float(v) == s for v, s in scores.items()))


def _refuse(source, t, columns: dict, bad: dict) -> None:
    """Name the first cell (in row order) that the rule refused: its place, column and
    value, in one sentence."""
    import ibis

    from evalkit.data.columns import show
    from evalkit.errors import DataError

    hits = [t[columns[code]].isin(values).fill_null(False) for code, values in bad.items()]
    first = run(t.filter(ibis.or_(*hits)).aggregate(first=t[ROW].min()))["first"].iloc[0]
    row = int(first)
    found = run(t.filter(t[ROW] == row).select(*[columns[c] for c in bad]))
    code = next(c for c in bad if found[columns[c]].iloc[0] in bad[c])
    column = columns[code]
    if isinstance(source, pd.DataFrame):
        value = source[next((c for c in source.columns if str(c) == column), column)].iloc[row]
    else:
        value = found[column].iloc[0]
    raise DataError(
        f"{place(source, row)}, column {column!r}: {show(value)} is not a CSI score; expected a "
        "whole number from 1 (very bad) to 4 (good) or a word of the scale (Very bad … Good), "
        "'n/a' where the factor does not apply, or a blank cell where it was not rated.")
