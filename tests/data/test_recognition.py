"""Exports no rule was written for: factor columns in the form's own words (English and Khmer),
an ODK Central export unzipped before it reached us, coded 'not applicable' (99), a file with
its header only, a repeat file without its parent, and files holding no analysis.

Each export is written here from ``exports.truth``; the figures are checked against the
hand-computed ones (``exports.expected``), so a factor taken from the wrong column fails."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pandas as pd
import pytest

from evalkit import cli, load_programme
from evalkit.indices import csi
from tests.data import exports

# the factor columns as one NGO's form wrote them: other spellings, word orders, short forms
OWN_WORDS = {"1A": "Food security of the child", "1B": "Nutrition & growth",
             "2A": "Shelter condition", "2B": "Quality of care", "3A": "Safety from abuse",
             "3B": "Legal status", "4A": "Physical wellness", "4B": "Access to health services",
             "5A": "Emotional state", "5B": "Behavior with others", "6A": "Performance at school",
             "6B": "Work and Education"}
KHMER = {"1A": "សន្តិសុខស្បៀង", "1B": "អាហារូបត្ថម្ភ", "2A": "ទីជម្រក", "2B": "ការថែទាំ",
         "3A": "ការរំលោភបំពាន", "3B": "ការការពារផ្លូវច្បាប់", "4A": "សុខុមាលភាព",
         "4B": "សេវាថែទាំសុខភាព", "5A": "សុខភាពផ្លូវចិត្ត", "5B": "ឥរិយាបថសង្គម",
         "6A": "លទ្ធផលសិក្សា", "6B": "ការអប់រំ និងការងារ"}


@pytest.fixture(scope="module")
def truth():
    return exports.truth()


def _export(truth: pd.DataFrame, headers: dict[str, str], round_header: str = "round",
            na: object = "n/a") -> pd.DataFrame:
    frame = pd.DataFrame({"child_id": truth["child_id"], "child_name": truth["name"],
                          round_header: truth["round"]})
    for code in exports.CODES:
        frame[headers[code]] = truth[code].map(
            lambda v: "" if isinstance(v, float) and pd.isna(v) else na if v == "n/a" else v)
    return frame


def _assert_figures(folder: Path, truth: pd.DataFrame) -> None:
    data = load_programme(folder)
    want = exports.expected(truth)
    result = csi.change(data.csi, child="child", round="round")
    assert (result.children_before, result.children_after) == (want["children_first"],
                                                               want["children_last"])
    table = result.to_frame().set_index("code")
    for code, (mean_b, mean_a, n) in want["means"].items():
        assert table.loc[code, "children_paired"] == n, code
        assert table.loc[code, "mean_before"] == pytest.approx(mean_b, abs=1e-12), code
        assert table.loc[code, "mean_after"] == pytest.approx(mean_a, abs=1e-12), code


@pytest.mark.parametrize("headers,round_header", [(OWN_WORDS, "assessment_round"),
                                                  (KHMER, "ជុំ")], ids=["english", "khmer"])
def test_factors_in_the_forms_own_words_are_recognised_and_read(tmp_path, truth, capsys,
                                                                 headers, round_header):
    source = tmp_path / "export.csv"
    _export(truth, headers, round_header).to_csv(source, index=False)
    folder = tmp_path / "programme"
    assert cli.main(["new", str(folder), "--from", str(source)]) == 0
    out = capsys.readouterr()
    text = (folder / "programme.yml").read_text(encoding="utf-8")
    assert "csi:" in text and "trial:" not in text and "FILL-IN" not in text
    printed = out.out + out.err
    for code, header in headers.items():  # new says which column it took for each factor
        assert f"{code}" in printed and repr(header) in printed, code
    _assert_figures(folder, truth)
    # check shows, per factor, the column it was read from
    assert cli.main(["check", str(folder)]) == 0
    shown = capsys.readouterr()
    assert "read from column" in shown.out + shown.err


def test_an_odk_export_unzipped_first_is_joined_on_its_keys(tmp_path, truth):
    archive = exports.odk_zip(truth, tmp_path / "odk.zip")
    unzipped = tmp_path / "unzipped"
    with zipfile.ZipFile(archive) as z:
        z.extractall(unzipped)
    folder = tmp_path / "programme"
    assert cli.main(["new", str(folder), "--from", str(unzipped)]) == 0
    text = (folder / "programme.yml").read_text()
    assert "FILL-IN" not in text and "parent:" in text
    _assert_figures(folder, truth)


def test_a_repeat_file_without_its_parent_is_one_sentence(tmp_path, truth, capsys):
    archive = exports.odk_zip(truth, tmp_path / "odk.zip")
    with zipfile.ZipFile(archive) as z:
        z.extract("csi_visit-child.csv", tmp_path)
    folder = tmp_path / "programme"
    assert cli.main(["new", str(folder), "--from", str(tmp_path / "csi_visit-child.csv")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert "csi_visit-child.csv: is a repeat table (PARENT_KEY)" in err
    assert "the export's zip as downloaded" in err
    assert not (folder / "programme.yml").exists()


def test_coded_not_applicable_is_proposed_and_check_states_the_verdict(tmp_path, truth, capsys):
    source = tmp_path / "export.csv"
    _export(truth, {c: c for c in exports.CODES}, na=99).to_csv(source, index=False)
    folder = tmp_path / "programme"
    assert cli.main(["new", str(folder), "--from", str(source)]) == 0
    text = (folder / "programme.yml").read_text()
    proposed = next(line for line in text.splitlines() if "not_applicable" in line)
    assert "99" in proposed and "#" in proposed  # proposed, with a comment saying why
    _assert_figures(folder, truth)  # 99 read as 'not applicable', so the means are the truth's
    # without the proposal, check says the report would stop, and how to fix it, once
    (folder / "programme.yml").write_text(text.replace(proposed, ""))
    capsys.readouterr()
    assert cli.main(["check", str(folder)]) == 1
    out = capsys.readouterr()
    shown = out.out + out.err
    young = (truth["6A"] == "n/a").sum()
    assert "the report would stop on them (on_invalid: stop)" in shown
    assert "values: {not_applicable: [99]}" in shown
    # identical problems: one line with a count per column
    assert f"columns '6A' ({young}), '6B' ({young}): {2 * young} cells are not CSI scores" in shown


def test_a_file_with_its_header_only_is_refused_before_a_report(tmp_path, truth, capsys):
    source = tmp_path / "export.csv"
    _export(truth, OWN_WORDS).head(0).to_csv(source, index=False)
    folder = tmp_path / "programme"
    assert cli.main(["new", str(folder), "--from", str(source)]) == 2
    err = capsys.readouterr().err
    assert "no row below the header" in err and len(err.strip().splitlines()) == 1
    assert not (folder / "programme.yml").exists()


def test_files_with_no_analysis_write_no_configuration(tmp_path, capsys):
    source = tmp_path / "contacts.csv"
    pd.DataFrame({"child_name": ["A", "B"], "phone": ["012", "013"],
                  "note": ["x", "y"]}).to_csv(source, index=False)
    folder = tmp_path / "programme"
    assert cli.main(["new", str(folder), "--from", str(source)]) == 2
    err = capsys.readouterr().err
    assert "no analysis could be recognised" in err and "2 row(s), 3 column(s)" in err
    assert not (folder / "programme.yml").exists()


def test_fill_in_candidates_never_offer_personal_or_meta_columns(tmp_path, truth):
    frame = _export(truth, OWN_WORDS, round_header="when").drop(columns="when")
    frame.insert(2, "SubmitterName", "officer")
    frame.insert(3, "deviceid", "d1")
    frame.insert(4, "visit", truth["round"].values)  # the round, under a name no rule knows
    frame = frame.rename(columns={"visit": "t_code"})
    source = tmp_path / "export.csv"
    frame.to_csv(source, index=False)
    folder = tmp_path / "programme"
    assert cli.main(["new", str(folder), "--from", str(source)]) == 0
    line = next(line for line in (folder / "programme.yml").read_text().splitlines()
                if "FILL-IN" in line and "round" in line)
    offered = line.split("one of:")[-1]
    assert offered.split(",")[0].strip() == "t_code"  # the likeliest first
    for column in ("child_name", "SubmitterName", "deviceid"):
        assert column not in offered, column


def test_kobo_one_csv_per_repeat_is_joined_on_its_indexes(tmp_path, truth):
    """KoBoToolbox's CSV export writes the main table and each repeat group to its own CSV
    (';'-separated); given as a folder, the children are joined to their household visit."""
    book = exports.kobo_xlsx_repeat(truth, tmp_path / "kobo.xlsx")
    folder_in = tmp_path / "export"
    folder_in.mkdir()
    for sheet, name in (("CSI household visit", "CSI_household_visit.csv"),
                        ("children", "children.csv")):
        pd.read_excel(book, sheet_name=sheet, dtype=str).to_csv(folder_in / name, sep=";",
                                                                  index=False)
    folder = tmp_path / "programme"
    assert cli.main(["new", str(folder), "--from", str(folder_in)]) == 0
    text = (folder / "programme.yml").read_text()
    assert "FILL-IN" not in text and "parent:" in text
    _assert_figures(folder, truth)


@pytest.mark.parametrize("body", ["", ",,,,,,,,,,,,,\n,,,,,,,,,,,,,\n"], ids=["header-only", "all-blank"])
def test_check_fails_on_a_table_with_no_assessment(tmp_path, capsys, body):
    folder = tmp_path / "programme"
    folder.mkdir()
    (folder / "export.csv").write_text("child_id,round," + ",".join(exports.CODES) + "\n" + body)
    (folder / "programme.yml").write_text(
        "name: x\ncsi:\n  file: export.csv\n  columns: {child: child_id, round: round}\n")
    assert cli.main(["check", str(folder)]) == 1
    out = capsys.readouterr()
    first = (out.out + out.err).strip().splitlines()[0]
    assert first.endswith("expected rows below the header.") and "export.csv" in first
