"""The CSI aggregations on the columnar engine reproduce the values frozen from the earlier
implementation (tests/indices/frozen), on DuckDB and, where Java and PySpark are present, on
a local Spark."""

from __future__ import annotations

import json
import os
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
    from evalkit.data import engine

    con = engine.spark()
    df, child, rnd, before, after = cases()["messy_text"]
    df.astype({c: "string" for c in csi.FACTORS}).to_parquet(tmp_path / "messy.parquet")
    table = con.read_parquet(tmp_path / "messy.parquet")  # as from a cluster's storage
    change = csi.change(table, child=child, round=rnd, before=before, after=after)
    _same(change.table, _frame(FROZEN["messy_text"]["change_table"]))
    by_round = csi.flagged_by_round(table, round=rnd)
    _same(by_round, _frame(FROZEN["messy_text"]["flagged_by_round"]))


# ------------------------------------------------------------------ CSV read by the engine


def _as_exported(df: pd.DataFrame, path: Path, sep: str = ",", encoding: str = "utf-8") -> Path:
    """``df`` written as an export looks: a title line above the header, a wholly blank row
    and a row of spaces in the middle, an ID with a trailing space, every cell as text, and
    notes below the table ("Total clients: N")."""
    body = df.to_csv(index=False, sep=sep, lineterminator="\n").splitlines()
    blank = sep.join([""] * len(df.columns))
    spaces = sep.join([" "] * len(df.columns))
    first = body[1].split(sep)
    first[list(df.columns).index("child")] += " "  # 'C000 ' is child C000
    footer = [f"Total clients: {len(df)}" + sep * (len(df.columns) - 1), "Exported by OSCaR"]
    lines = (["CSI assessments export", body[0], sep.join(first)] + body[2:4] + [blank, spaces]
             + body[4:] + footer)
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    return path


@pytest.mark.parametrize("sep", [",", ";"])
def test_a_csv_read_by_the_engine_gives_the_results_of_the_data_in_reader(tmp_path, sep):
    from evalkit.data.read import _CSV_COPIES, read_table

    df, child, rnd, before, after = cases()["messy_text"]
    path = _as_exported(df, tmp_path / "export.csv", sep)
    reference = read_table(path)  # the data-in layer's own reading (pandas)
    engine_copies = len(_CSV_COPIES)
    pd.testing.assert_frame_equal(csi.score(path), csi.score(reference).reset_index(drop=True))
    assert len(_CSV_COPIES) == engine_copies + 1  # parsed by the engine, not by pandas
    ours = csi.change(path, child=child, round=rnd)
    theirs = csi.change(reference, child=child, round=rnd)
    pd.testing.assert_frame_equal(ours.table, theirs.table)
    assert (ours.children_before, ours.children_after, ours.children_paired) == (
        theirs.children_before, theirs.children_after, theirs.children_paired)
    by_round = csi.flagged_by_round(path, round=rnd)
    pd.testing.assert_frame_equal(by_round, csi.flagged_by_round(reference, round=rnd))
    flagged = csi.paired_flagged(path, child, rnd, ours.before, ours.after)
    assert flagged.tolist() == csi.paired_flagged(reference, child, rnd, theirs.before,
                                                  theirs.after).tolist()


def test_a_bad_cell_in_an_engine_read_csv_names_the_files_line(tmp_path):
    """The engine numbers records; the message names the physical line, as the data-in layer
    does, also below a quoted cell that spans two lines."""
    header = "child_id,round,note," + ",".join(csi.FACTORS)
    good = ",".join(["3"] * 12)
    lines = ["Export of 2026-11-01", header, f'C1,1,"first line\nsecond line",{good}',
             f"C2,1,,{good}", f"C3,1,,{','.join(['3'] * 5 + ['7'] + ['3'] * 6)}"]
    path = tmp_path / "bad.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(Exception) as raised:
        csi.score(path)
    assert "bad.csv, line 6, column '3B'" in str(raised.value)
    with pytest.raises(Exception) as raised:
        csi.change(path, child="child_id", round="round")
    assert "bad.csv, line 6, column '3B'" in str(raised.value)


def test_a_child_twice_in_an_engine_read_csv_names_the_files_line(tmp_path):
    header = "child_id,round," + ",".join(csi.FACTORS)
    good = ",".join(["3"] * 12)
    rows = [f"C1,1,{good}", f"C2,1,{good}", f"C1,2,{good}", f"C2,2,{good}", f"C1,2,{good}"]
    path = tmp_path / "twice.csv"
    path.write_text("\n".join([header] + rows) + "\n", encoding="utf-8")
    with pytest.raises(Exception) as raised:
        csi.change(path, child="child_id", round="round")
    assert "twice.csv, line 6, columns 'child_id'/'round'" in str(raised.value)


def test_a_windows_1252_csv_is_read_by_the_data_in_reader(tmp_path):
    """The engine reads UTF-8 only; another encoding goes through the data-in reader, with
    the same results."""
    from evalkit.data.read import _CSV_COPIES

    df, child, rnd, before, after = cases()["messy_text"]
    df = df.assign(**{child: df[child].astype(str) + "é"})
    path = _as_exported(df, tmp_path / "cp1252.csv", encoding="cp1252")
    copies = len(_CSV_COPIES)
    ours = csi.change(path, child=child, round=rnd)
    assert len(_CSV_COPIES) == copies
    from evalkit.data.read import read_table

    pd.testing.assert_frame_equal(ours.table, csi.change(read_table(path), child=child,
                                                          round=rnd).table)


def test_a_changed_csv_is_read_again(tmp_path):
    import os

    header = "child_id,round," + ",".join(csi.FACTORS)
    path = tmp_path / "changing.csv"
    path.write_text(f"{header}\nC1,1,{','.join(['2'] * 12)}\n", encoding="utf-8")
    assert csi.score(path)["total"].tolist() == [24.0]
    path.write_text(f"{header}\nC1,1,{','.join(['4'] * 12)}\nC2,1,{','.join(['1'] * 12)}\n",
                    encoding="utf-8")
    os.utime(path, ns=(1, 10**18))  # (a rewrite within the clock's resolution)
    assert csi.score(path)["total"].tolist() == [48.0, 12.0]


def test_a_csv_rewritten_with_the_same_size_and_time_is_read_again(tmp_path):
    """The engine's copy of a CSV is kept for the file's content, not its size and time (a
    copy with preserved times, an unzipped file)."""
    import os

    header = "child_id,round," + ",".join(csi.FACTORS)
    path = tmp_path / "same_size.csv"
    path.write_text(f"{header}\nC1,1,{','.join(['2'] * 12)}\n", encoding="utf-8")
    stat = path.stat()
    assert csi.score(path)["total"].tolist() == [24.0]
    path.write_text(f"{header}\nC1,1,{','.join(['3'] * 12)}\n", encoding="utf-8")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert path.stat().st_size == stat.st_size
    assert csi.score(path)["total"].tolist() == [36.0]


def test_paired_flagged_reads_rounds_as_change_does(tmp_path):
    df, child, rnd, before, after = cases()["messy_text"]
    path = _as_exported(df, tmp_path / "export.csv")
    change = csi.change(path, child=child, round=rnd)  # first and last rounds: '1' and '3'
    flagged = csi.paired_flagged(path, child, rnd, before=1, after=3)  # numbers, text rounds
    assert flagged.tolist() == csi.paired_flagged(path, child, rnd).tolist()
    from evalkit.data.read import read_table

    frame = read_table(path)
    ids, rounds = frame[child], frame[rnd]
    paired = (rounds == "1") & ids.isin(set(ids[rounds == "1"]) & set(ids[rounds == "3"]))
    assert flagged[paired.to_numpy()].mean() == pytest.approx(change.mean_flagged_before, rel=1e-12)
    with pytest.raises(Exception, match="has no round 99"):
        csi.paired_flagged(path, child, rnd, before=1, after=99)


def test_flagged_by_round_lists_rounds_in_time_order():
    frame = pd.DataFrame([{"child": f"C{c}", "round": r, **{f: "3" for f in csi.FACTORS}}
                          for c in range(3) for r in ("10", "2", "1")])
    assert csi.flagged_by_round(frame)["round"].tolist() == ["1", "2", "10"]
    named = frame.assign(round=frame["round"].map({"1": "Baseline", "2": "Midline", "10": "Endline"}))
    assert csi.flagged_by_round(named)["round"].tolist() == ["Baseline", "Midline", "Endline"]


def test_a_parquet_saved_with_its_index_keeps_it_in_the_data_in_reader(tmp_path):
    from evalkit.data.read import read_table

    df, child, rnd, before, after = cases()["messy_text"]
    df.astype({c: "string" for c in csi.FACTORS}).set_index(child).to_parquet(tmp_path / "i.parquet")
    ours = csi.change(read_table(tmp_path / "i.parquet"), child=child, round=rnd)
    pd.testing.assert_frame_equal(ours.table, csi.change(tmp_path / "i.parquet", child=child,
                                                          round=rnd).table)


def test_rounds_written_as_decimals_match_whole_numbers_asked_for(tmp_path):
    """A round column exported as '1.0'/'2.0' text is compared when 1 and 2 are asked for,
    as the same file with '1'/'2' is; an absent round is still refused."""
    header = "child_id,round," + ",".join(csi.FACTORS)
    rows = {("C1", 1): "1", ("C1", 2): "2", ("C2", 1): "3", ("C2", 2): "4", ("C3", 1): "2"}
    for name, form in (("decimal", "{}.0"), ("whole", "{}")):
        lines = [header] + [f"{c},{form.format(r)},{','.join([v] * 12)}" for (c, r), v in rows.items()]
        (tmp_path / f"{name}.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    decimal = csi.change(tmp_path / "decimal.csv", before=1, after=2)
    whole = csi.change(tmp_path / "whole.csv", before=1, after=2)
    pd.testing.assert_frame_equal(decimal.table, whole.table)
    assert (decimal.children_paired, decimal.only_before, decimal.mean_flagged_before) == (2, 1, 6.0)
    assert csi.paired_flagged(tmp_path / "decimal.csv", before=1, after=2).tolist() == [12, 12, 0, 0, 12]
    with pytest.raises(csi.DataError, match="has no round 3"):
        csi.change(tmp_path / "decimal.csv", before=3, after=2)


def test_two_assessments_with_blank_child_ids_are_refused_as_blank(tmp_path):
    """Two assessments of one round without a child ID are named as blank IDs (they cannot be
    told apart or paired), not as a child called 'nan' assessed twice."""
    header = "child_id,round," + ",".join(csi.FACTORS)
    cells = ",".join(["3"] * 12)
    path = tmp_path / "blank_ids.csv"
    path.write_text(f"{header}\nC1,1,{cells}\n,1,{cells}\n,1,{cells}\nC1,2,{cells}\n",
                    encoding="utf-8")
    for source, place in ((path, r"blank_ids\.csv, line 4"), (pd.read_csv(path), "row index 2")):
        with pytest.raises(csi.DataError, match=rf"{place}, column 'child_id': a second "
                           r"assessment in round '?1'? with a blank child ID"):
            csi.change(source)


def test_a_path_given_as_bytes_is_read_like_text(tmp_path):
    df, child, rnd, before, after = cases()["messy_text"]
    path = _as_exported(df, tmp_path / "export.csv")
    as_bytes = os.fsencode(path)
    pd.testing.assert_frame_equal(csi.score(as_bytes), csi.score(str(path)))
    pd.testing.assert_frame_equal(csi.change(as_bytes, child=child, round=rnd).table,
                                  csi.change(path, child=child, round=rnd).table)
    assert csi.paired_flagged(as_bytes, child, rnd).tolist() == \
        csi.paired_flagged(path, child, rnd).tolist()


def test_a_filtered_or_sorted_frame_from_the_reader_names_the_bad_cells_line(tmp_path):
    """A frame from ``read_table`` keeps each row's place in the file through filtering and
    sorting (by its index label), so a bad cell is named at its own line."""
    from evalkit.data.read import read_table

    header = "child_id,round," + ",".join(csi.FACTORS)
    cells = ",".join(["3"] * 12)
    path = tmp_path / "export.csv"
    path.write_text(f"CSI export\n{header}\nC1,1,{cells}\nC2,1,{cells}\nC1,2,{cells}\n"
                    f"C2,2,9{cells[1:]}\n", encoding="utf-8")
    frame = read_table(path)
    for shown in (frame, frame[frame["round"] == "2"], frame.sort_values("child_id"),
                  frame.sample(frac=1, random_state=3)):
        with pytest.raises(csi.DataError, match=r"export\.csv, line 6, column '1A'"):
            csi.score(shown)
