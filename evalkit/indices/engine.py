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

__all__ = ["ROW", "duckdb", "spark", "is_table", "table", "run"]


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


def table(source: Any, columns: list[str] | None = None):
    """``source`` as an Ibis table with the row-number column :data:`ROW` (0-based, in the
    source's order). Text-like columns of a DataFrame (object dtype: Excel cells mixing
    numbers and words) are passed as text."""
    import ibis

    if is_table(source):
        return source if ROW in source.columns else source.mutate(
            **{ROW: ibis.row_number()})
    if isinstance(source, pd.DataFrame):
        frame = source[columns] if columns is not None else source
        mixed = {c: frame[c].astype("string") for c in frame.columns
                 if frame[c].dtype == object}
        frame = frame.assign(**mixed) if mixed else frame
        frame = frame.set_axis([str(c) for c in frame.columns], axis=1).reset_index(drop=True)
        frame[ROW] = range(len(frame))
        import warnings

        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=QUIET)
            return ibis.memtable(frame)
    if not isinstance(source, (str, bytes)) and not hasattr(source, "__fspath__"):
        raise TypeError(f"expected a DataFrame, an engine table or a path; got {type(source).__name__}")
    from evalkit.data.read import engine_table

    return engine_table(source)


QUIET = "The 'future.infer_string' option is deprecated"
"""Ibis 12 asks pandas about an option pandas 3 deprecates, once per column: not the user's
concern, so it is not shown."""


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
