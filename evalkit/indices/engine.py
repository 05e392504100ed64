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
    if not isinstance(source, (str, bytes)) and not hasattr(source, "__fspath__"):
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
