"""The columnar engine the CSI aggregations run on: Ibis expressions, executed by DuckDB
(embedded, the default) or by Spark (distributed), with the same code.

A source is a pandas DataFrame (DuckDB reads it in place, through Arrow), an Ibis table of
any backend (a Spark table included), or a path, which the data-in layer opens
(:func:`evalkit.data.read.engine_table`): this package never opens files itself.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from evalkit.data.read import ENGINE_ROW as ROW
from evalkit.data.read import embedded_engine as duckdb
from evalkit.data.read import QUIET, frame_table

__all__ = ["ROW", "duckdb", "spark", "is_table", "is_path", "table", "run", "rows"]


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
        return source if ROW in source.columns else source.mutate(
            **{ROW: ibis.row_number()})
    if isinstance(source, pd.DataFrame):
        return frame_table(source)
    if not is_path(source):
        raise TypeError(f"expected a DataFrame, an engine table or a path; got {type(source).__name__}")
    from evalkit.data.read import engine_table

    return engine_table(source)


def run(expression, backend=None) -> pd.DataFrame:
    """Execute ``expression``: on ``backend`` when given, otherwise on the backend its tables
    belong to (DuckDB for in-memory ones)."""
    import warnings

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=QUIET)
        if backend is not None:
            return backend.execute(expression)
        backends = expression._find_backends()[0]
        return (backends[0] if backends else duckdb()).execute(expression)


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

    con = backend if backend is not None else (expression._find_backends()[0] or [duckdb()])[0]
    if getattr(con, "name", "") != "duckdb":
        frame = run(expression, con)
        if len(frame) != n:
            raise RowCount(len(frame))
        order = np.argsort(frame.pop(ROW).to_numpy(), kind="stable")
        return pd.DataFrame({c: frame[c].to_numpy()[order] for c in frame.columns})
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
            # a batch is made of runs of consecutive rows (the engine's vectors, from several
            # threads): each run is written as a slice, cheaper than scattering every value;
            # a batch of short runs is scattered
            cuts = np.flatnonzero(np.diff(places) != 1) + 1
            starts, stops = np.r_[0, cuts], np.r_[cuts, len(places)]
            runs = [(int(places[a]), int(a), int(b)) for a, b in zip(starts, stops)] \
                if len(places) and len(cuts) < len(places) // 64 else None
            for name in names:
                column = batch.column(name)
                if column.null_count and out[name].dtype.kind in "ib":
                    out[name] = out[name].astype("float64" if out[name].dtype.kind == "i" else object)
                values, target = column.to_numpy(zero_copy_only=False), out[name]
                if runs is None:
                    target[places] = values
                    continue
                for first, a, b in runs:
                    target[first:first + b - a] = values[a:b]
            seen += len(places)
    finally:
        batches.close()  # (a result left open blocks the connection's next query)
    if seen != n:
        raise RowCount(seen)
    return pd.DataFrame(out, copy=False)
