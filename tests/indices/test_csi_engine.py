"""The CSI aggregations on the columnar engine reproduce the values frozen from the earlier
implementation (tests/indices/frozen), on DuckDB and, where Java and PySpark are present, on
a local Spark."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evalkit.indices import csi
from tests.indices.csi_cases import cases

FROZEN = json.loads((Path(__file__).parent / "frozen" / "csi_expected.json").read_text())


def _frame(split: dict) -> pd.DataFrame:
    return pd.DataFrame(split["data"], columns=split["columns"])


def _same(ours: pd.DataFrame, expected: pd.DataFrame) -> None:
    assert list(ours.columns) == list(expected.columns)
    for column in expected.columns:
        a, b = ours[column].to_numpy(), expected[column].to_numpy()
        if np.issubdtype(np.asarray(b).dtype, np.number) or b.dtype == object and all(
                isinstance(v, (int, float, type(None))) for v in b):
            assert np.allclose(np.asarray(a, float), np.asarray(b, float), rtol=1e-12,
                               equal_nan=True), column
        else:
            assert [str(v) for v in a] == [str(v) for v in b], column


@pytest.mark.parametrize("name", sorted(FROZEN))
def test_duckdb_reproduces_the_frozen_values(name):
    df, child, rnd, before, after = cases()[name]
    expected = FROZEN[name]
    _same(csi.score(df).reset_index(drop=True), _frame(expected["score"]))
    change = csi.change(df, child=child, round=rnd, before=before, after=after)
    _same(change.table, _frame(expected["change_table"]))
    counts = [change.children_before, change.children_after, change.children_paired,
              change.only_before, change.only_after, change.mean_flagged_before,
              change.mean_flagged_after]
    assert np.allclose(counts, expected["change_counts"], rtol=1e-12)
    by_round = csi.flagged_by_round(df, round=rnd)
    _same(by_round, _frame(expected["flagged_by_round"]))
    flagged = csi.paired_flagged(df, child, rnd, change.before, change.after)
    assert flagged.tolist() == expected["paired_flagged"] and flagged.index.equals(df.index)


def test_parquet_and_engine_tables_give_the_same_result(tmp_path):
    df, child, rnd, before, after = cases()["numeric_named_rounds"]
    path = tmp_path / "csi.parquet"
    df.to_parquet(path)
    from_file = csi.change(path, child=child, round=rnd)
    from_frame = csi.change(df, child=child, round=rnd)
    pd.testing.assert_frame_equal(from_file.table, from_frame.table)


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("java") is None, reason="Spark needs Java (CI installs it)")
def test_spark_runs_the_same_expressions_with_identical_results(tmp_path):
    pytest.importorskip("pyspark", reason="PySpark is not installed")
    from evalkit.indices import engine

    con = engine.spark()
    df, child, rnd, before, after = cases()["messy_text"]
    df.astype({c: "string" for c in csi.FACTORS}).to_parquet(tmp_path / "messy.parquet")
    table = con.read_parquet(tmp_path / "messy.parquet")  # as from a cluster's storage
    change = csi.change(table, child=child, round=rnd, before=before, after=after)
    _same(change.table, _frame(FROZEN["messy_text"]["change_table"]))
    by_round = csi.flagged_by_round(table, round=rnd)
    _same(by_round, _frame(FROZEN["messy_text"]["flagged_by_round"]))
