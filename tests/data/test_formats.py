"""Every export layout users send, from ``evalkit new`` to the figures a report shows.

Each fixture is written by test code (tests/data/exports.py) from what the exporting tool's
documentation says it writes. ``evalkit new`` must recognise it and write a programme.yml that
loads without edits; the loaded data must give the number of children assessed in the first
and last rounds and each factor's mean over children rated at both, as computed by hand from
the same truth. Input files are never modified.
"""

from __future__ import annotations

from evalkit import load_programme

import hashlib
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evalkit import cli
from evalkit.indices import csi
from tests.data import exports


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def truth():
    return exports.truth()


@pytest.mark.parametrize("name", sorted(exports.FORMATS))
def test_new_then_load_gives_the_hand_computed_figures(tmp_path, truth, name, capsys):
    source = exports.FORMATS[name](truth, tmp_path / name)
    before = _digest(source)
    folder = tmp_path / "programme"
    assert cli.main(["new", str(folder), "--from", str(source)]) == 0
    assert "FILL-IN" not in (folder / "programme.yml").read_text()
    data = load_programme(folder)
    want = exports.expected(truth)
    result = csi.change(data.csi, child="child", round="round")
    assert result.children_before == want["children_first"]
    assert result.children_after == want["children_last"]
    table = result.to_frame().set_index("code")
    for code, (mean_b, mean_a, n) in want["means"].items():
        assert table.loc[code, "children_paired"] == n, code
        assert table.loc[code, "mean_before"] == pytest.approx(mean_b, abs=1e-12), code
        assert table.loc[code, "mean_after"] == pytest.approx(mean_a, abs=1e-12), code
    assert _digest(source) == before  # the user's file is never modified
    # personal values never reach the validated table; IDs are keyed hashes
    flat = data.csi.astype(str).to_string()
    assert "xq" not in flat and "CH-0" not in flat
    assert data.canaries.found("CH-0001") == 1  # raw ids are kept as keyed hashes, to scan outputs


@pytest.mark.slow
@pytest.mark.parametrize("name", ["oscar.xlsx", "kobo.csv", "survey.sav"])
def test_new_then_report_renders_the_figures(tmp_path, truth, name):
    source = exports.FORMATS[name](truth, tmp_path / name)
    folder = tmp_path / "programme"
    out = tmp_path / "out"
    env_run = [sys.executable, "-m", "evalkit"]
    assert subprocess.run([*env_run, "new", str(folder), "--from", str(source)],
                          capture_output=True, text=True).returncode == 0
    run = subprocess.run([*env_run, "report", str(folder), "--out", str(out)],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert "72 row(s) read, 72 used, 0 set aside" in run.stderr
    html = (out / "programme.html").read_text()
    want = exports.expected(truth)
    assert f">{want['children_first']}<" in html and f">{want['children_last']}<" in html
    mean_b, mean_a, _ = want["means"]["1A"]
    assert f"{mean_b:.2f}" in html and f"{mean_a:.2f}" in html
    assert "Sokha" not in html and "CH-00" not in html
    for path in (out / "_executed").glob("*.ipynb"):
        text = path.read_text()
        assert "Sokha" not in text and "CH-00" not in text


@pytest.mark.slow
def test_split_trial_with_yes_no_treatment_renders_from_its_programme_yml(tmp_path):
    folder = tmp_path / "trial"
    folder.mkdir()
    facts = exports.split_trial(folder)
    (folder / "programme.yml").write_text("""
name: Village campaign
ngo: Test NGO
trial:
  files:
    baseline: baseline.xlsx
    endline: endline.csv
  ignore_leading_zeros: true        # Excel dropped the zeros of the endline ids
  columns: {unit: hh_id, cluster: village, strata: commune, round: round, treatment: treated}
  values:
    treated: {Yes: 1, No: 0}
  outcomes:
    knows_services: {label: Knows where to find child protection services, kind: binary}
    knowledge: {label: Knowledge score (0-10), kind: score}
  wild_reps: 999
  ri_reps: 999
""")
    data = load_programme(folder)
    survey = data.trial
    base = survey[survey["round"] == "baseline"]
    end = survey[survey["round"] == "endline"]
    assert len(base) == facts["households_base"] and len(end) == facts["households_end"]
    assert survey["village"].nunique() == facts["villages"]
    # the treatment only the baseline file holds is carried to the endline rows by household
    assert end["treated"].notna().all()
    assert end.groupby("village")["treated"].first().sum() == facts["treated_villages"]
    # endline ids lost their zeros, yet every endline household is matched to its baseline
    assert set(end["hh_id"]) <= set(base["hh_id"])
    run = subprocess.run([sys.executable, "-m", "evalkit", "report", str(folder), "--out",
                          str(tmp_path / "out")], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    html = (tmp_path / "out" / "trial.html").read_text()
    assert "Knows where to find child protection services" in html


def test_csv_line_numbers_count_title_lines_and_quoted_line_breaks(tmp_path):
    from evalkit.data.read import ROW, read

    path = tmp_path / "x.csv"
    path.write_text('Export of 2020\n\nid,note,score\n1,"two\nlines",3\n2,plain,4\n')
    table = read(path)
    assert table.detected["header_row"] == 3
    assert table.frame[ROW].tolist() == [4, 6]
    assert table.where(6) == "x.csv, line 6"


def test_a_repeated_csv_header_names_its_line(tmp_path):
    """A column named twice in a CSV's header is refused at the header's line, counting the
    title lines above it, for the data-in reader and for the engine's own parse."""
    from evalkit.data.read import read_table
    from evalkit.errors import DataError
    from evalkit.indices import csi

    path = tmp_path / "x.csv"
    path.write_text("Export of 2020\n\nchild_id,round,1A,1A,1B\nC1,1,1,2,3\n")
    for call in (read_table, csi.score):
        with pytest.raises(DataError, match=r"x\.csv, line 3: two columns are named '1A'"):
            call(path)


def test_excel_rows_count_from_the_top_of_the_sheet(tmp_path, truth):
    from evalkit.data.read import ROW, read

    table = read(exports.oscar_xlsx(truth, tmp_path / "o.xlsx"))
    assert table.detected["header_row"] == 5
    assert table.frame[ROW].iloc[0] == 6
    assert "Client Name" in table.columns


def test_ods_and_parquet_are_read(tmp_path, truth):
    from evalkit.data.read import read

    frame = exports._plain(truth, False).astype(str)
    frame.to_parquet(tmp_path / "x.parquet", index=False)
    frame.to_excel(tmp_path / "x.ods", index=False, engine="odf")
    table = read(tmp_path / "x.parquet")
    assert len(table.frame) == len(truth) and table.unit == "row"
    ods = read(tmp_path / "x.ods")
    assert len(ods.frame) == len(truth) and ods.columns[:2] == ["Client ID", "Nom"]


def test_select_multiple_becomes_one_column_per_choice():
    from evalkit.data.formats import select_multiple

    frame = pd.DataFrame({"services": ["food school", "health", None]})
    out = select_multiple(frame, "services")
    assert list(out.columns) == ["services/food", "services/health", "services/school"]
    assert out["services/food"].tolist()[:2] == [1.0, 0.0] and np.isnan(out["services/food"].iloc[2])


@pytest.mark.parametrize("column,code", [
    ("1A", "1A"), ("csi_1a", "1A"), ("f1a", "1A"), ("q1a", "1A"), ("1a_food_security", "1A"),
    ("Food security", "1A"), ("FOOD_SECURITY", "1A"), ("csi/food_security", "1A"),
    ("csi-1a", "1A"), ("Protection from Abuse and Exploitation", "3A"),
    ("Work and Education", "6B"), ("social behavior", "5B"), ("Client ID", None),
    ("baseline_1A", None), ("1a_shelter", None)])
def test_factor_columns_are_recognised_by_code_name_or_group_path(column, code):
    from evalkit.instruments.csi import factor_code

    assert factor_code(column) == code


@pytest.mark.parametrize("labels,order", [
    (["Endline", "Baseline", "Midline"], ["Baseline", "Midline", "Endline"]),
    (["12 months", "Baseline", "6 months"], ["Baseline", "6 months", "12 months"]),
    (["10", "2", "1"], ["1", "2", "10"]),
    (["Round 2", "Round 1"], ["Round 1", "Round 2"]),
])
def test_text_rounds_are_ordered_by_known_words_and_numbers(labels, order):
    from evalkit.data.mapping import order_rounds

    codes, names = order_rounds(pd.Series(labels), None, None, "x.csv", "round")
    assert [names[c] for c in sorted(names)] == order


def test_text_rounds_are_ordered_by_their_dates_when_there_are_any():
    from evalkit.data.mapping import order_rounds

    values = pd.Series(["Dry season", "Wet season", "Dry season"])
    dates = pd.Series(pd.to_datetime(["2020-03-01", "2019-08-01", "2020-03-05"]))
    codes, names = order_rounds(values, dates, None, "x.csv", "round")
    assert names == {1: "Wet season", 2: "Dry season"} and codes.tolist() == [2, 1, 2]


def test_numbers_accept_khmer_digits_decimal_commas_and_not_applicable():
    from evalkit.data.validate import parse_numbers

    values, ok = parse_numbers(pd.Series(["៣", "2,5", "n/a", "N/A", "", "abc", "1e309"]))
    assert values.tolist()[:2] == [3.0, 2.5]
    assert values.iloc[2:5].isna().all()
    assert ok.tolist() == [True, True, True, True, True, False, False]


def test_kobo_export_without_a_round_column_numbers_assessments_by_date(tmp_path, truth):
    import csv as csv_module

    source = exports.kobo_csv(truth, tmp_path / "kobo.csv")
    rows = list(csv_module.DictReader(source.open(encoding="utf-8"), delimiter=";"))
    for row in rows:
        del row["assessment/round"]
        row["1A. Food security: does the child have enough food?"] = row.pop("csi/food_security")
    with (tmp_path / "noround.csv").open("w", newline="", encoding="utf-8") as out:
        writer = csv_module.DictWriter(out, fieldnames=list(rows[0]), delimiter=";")
        writer.writeheader()
        writer.writerows(rows)
    folder = tmp_path / "programme"
    assert cli.main(["new", str(folder), "--from", str(tmp_path / "noround.csv")]) == 0
    assert "rounds_from: date" in (folder / "programme.yml").read_text()
    data = load_programme(folder)
    result = csi.change(data.csi, child="child", round="round")
    want = exports.expected(truth)
    assert (result.children_before, result.children_after) == (want["children_first"],
                                                               want["children_last"])
    assert result.to_frame().set_index("code").loc["1A", "mean_after"] == \
        pytest.approx(want["means"]["1A"][1], abs=1e-12)
    assert data.rounds.labels == {1: "Assessment 1", 2: "Assessment 2"}


def test_wide_sheet_with_two_header_rows_and_merged_round_cells(tmp_path, truth):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["", "", "Baseline", *[None] * 11, "Follow-up", *[None] * 11])
    sheet.merge_cells(start_row=1, start_column=3, end_row=1, end_column=14)
    sheet.merge_cells(start_row=1, start_column=15, end_row=1, end_column=26)
    sheet.append(["Child ID", "Name", *exports.CODES, *exports.CODES])
    wide = {}
    for row in truth.itertuples(index=False):
        record = wide.setdefault(row.child_id, [row.child_id, row.name] + [None] * 24)
        offset = 2 + 12 * (row.round - 1)
        for j in range(12):
            value = getattr(row, f"_{6 + j}")
            record[offset + j] = None if isinstance(value, float) and np.isnan(value) else value
    for record in wide.values():
        sheet.append(record)
    book.save(tmp_path / "two_rows.xlsx")
    folder = tmp_path / "programme"
    assert cli.main(["new", str(folder), "--from", str(tmp_path / "two_rows.xlsx")]) == 0
    assert "FILL-IN" not in (folder / "programme.yml").read_text()
    data = load_programme(folder)
    result = csi.change(data.csi, child="child", round="round")
    want = exports.expected(truth)
    assert (result.children_before, result.children_after) == (want["children_first"],
                                                               want["children_last"])
    table = result.to_frame().set_index("code")
    for code, (mean_b, mean_a, n) in want["means"].items():
        assert table.loc[code, "mean_before"] == pytest.approx(mean_b, abs=1e-12)
        assert table.loc[code, "mean_after"] == pytest.approx(mean_a, abs=1e-12)
    assert data.rounds.labels == {1: "Baseline", 2: "Follow-up"}


@pytest.mark.parametrize("labels,order", [
    (["Follow-up 2", "Baseline", "Follow-up 1"], ["Baseline", "Follow-up 1", "Follow-up 2"]),
    (["2nd assessment", "1st assessment"], ["1st assessment", "2nd assessment"]),
    (["T1", "T0"], ["T0", "T1"]),
])
def test_more_round_names_are_ordered(labels, order):
    from evalkit.data.mapping import order_rounds

    codes, names = order_rounds(pd.Series(labels), None, None, "x.csv", "round")
    assert [names[c] for c in sorted(names)] == order


def test_hand_kept_not_applicable_and_blank_marks():
    from evalkit.data.validate import parse_factor

    values, ok = parse_factor(pd.Series(["NA", "N/A", "n.a.", "-", ".", "—", "3", "Good"]))
    assert ok.all()
    assert values.tolist()[:3] == ["n/a"] * 3 and values.iloc[3:6].isna().all()
    assert values.tolist()[6:] == ["3", "4"]


# ---------------------------------------------------------------- found by a new user's review


def test_wide_sheet_with_a_date_per_round(tmp_path, truth):
    frame = pd.read_excel(exports.wide_xlsx(truth, tmp_path / "w.xlsx"), engine="calamine")
    first = truth[truth["round"] == 1].set_index("child_id")["date"]
    second = truth[truth["round"] == 2].set_index("child_id")["date"]
    frame.insert(3, "baseline_date", frame["child_id"].map(first).map(lambda d: d.strftime("%d/%m/%Y")))
    frame.insert(4, "followup_date", frame["child_id"].map(second).map(
        lambda d: d.strftime("%d/%m/%Y") if isinstance(d, __import__("datetime").date) else None))
    frame.to_excel(tmp_path / "wide_dates.xlsx", index=False)
    folder = tmp_path / "programme"
    assert cli.main(["new", str(folder), "--from", str(tmp_path / "wide_dates.xlsx")]) == 0
    assert "    date: date" in (folder / "programme.yml").read_text()
    data = load_programme(folder)
    assert data.csi["date"].notna().all()
    assert data.csi.loc[data.csi["round"] == 1, "date"].min() == pd.Timestamp("2019-03-01")


def test_a_missing_factor_column_is_one_fill_in_line_not_a_village_trial(tmp_path, truth):
    frame = exports._plain(truth, False).drop(columns=["5B"])
    frame.to_csv(tmp_path / "missing_5B.csv", index=False)
    folder = tmp_path / "programme"
    assert cli.main(["new", str(folder), "--from", str(tmp_path / "missing_5B.csv")]) == 0
    text = (folder / "programme.yml").read_text()
    assert "trial:" not in text and "5B: FILL-IN" in text
    line = next(i for i, l in enumerate(text.splitlines(), 1) if "5B: FILL-IN" in l)
    with pytest.raises(Exception, match=rf"line {line}: '5B' is still FILL-IN"):
        load_programme(folder)


def test_baseline_and_endline_files_become_one_file_per_round(tmp_path, truth):
    plain = exports._plain(truth, False)
    plain[plain["Round"] == 1].drop(columns=["Round"]).to_excel(tmp_path / "baseline.xlsx", index=False)
    plain[plain["Round"] == 2].drop(columns=["Round"]).to_excel(tmp_path / "endline.xlsx", index=False)
    folder = tmp_path / "programme"
    assert cli.main(["new", str(folder), "--from", str(tmp_path / "baseline.xlsx"),
                     str(tmp_path / "endline.xlsx")]) == 0
    text = (folder / "programme.yml").read_text()
    assert "files:" in text and "FILL-IN" not in text
    data = load_programme(folder)
    result = csi.change(data.csi, child="child", round="round")
    want = exports.expected(truth)
    assert (result.children_before, result.children_after) == (want["children_first"],
                                                               want["children_last"])
    assert data.rounds.labels == {1: "Baseline", 2: "Endline"}


def test_notes_below_an_oscar_table_are_not_records(tmp_path, truth):
    from openpyxl import load_workbook

    path = exports.oscar_xlsx(truth, tmp_path / "oscar.xlsx")
    book = load_workbook(path)
    sheet = book.active
    sheet.append([])
    sheet.append(["Total clients: 40"])
    sheet.append(["Generated by OSCaR on 2020-08-02", None, "page 1"])
    book.save(path)
    folder = tmp_path / "programme"
    assert cli.main(["new", str(folder), "--from", str(path)]) == 0
    data = load_programme(folder)
    assert data.accounts[0].read == len(truth) and data.accounts[0].used == len(truth)


def test_commands_do_not_create_folders_that_do_not_exist(tmp_path, capsys):
    assert cli.main(["check", str(tmp_path / "nowhere")]) == 1
    assert not (tmp_path / "nowhere").exists()
    assert cli.main(["new", str(tmp_path / "new"), "--from", str(tmp_path / "nope.xlsx")]) == 2
    assert not (tmp_path / "new").exists()
    assert "nope.xlsx: file not found" in capsys.readouterr().err
