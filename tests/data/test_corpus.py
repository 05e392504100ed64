"""A corpus of messy and broken programme folders: each ends either in a correct load, with its
numbers checked, or in one sentence naming the file, the row as the user sees it and the
column, never the bad cell's value, and never a traceback. Inputs are never modified."""

from __future__ import annotations

from evalkit import load_programme

import hashlib
import os
from pathlib import Path

import pandas as pd
import pytest

from evalkit import cli
from evalkit.errors import EvalkitError
from tests.data import exports

BASE_YML = """name: Corpus programme
csi:
  file: {file}
  columns: {{child: Client ID, round: Round, date: Date}}
{extra}"""


def _frame() -> pd.DataFrame:
    return exports._plain(exports.truth(), day_first=False)


def _write(folder: Path, frame: pd.DataFrame, name: str = "csi.csv", extra: str = "",
           text: str | None = None, yml: str | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    if text is not None:
        (folder / name).write_text(text, encoding="utf-8")
    elif name.endswith(".xlsx"):
        frame.to_excel(folder / name, index=False)
    else:
        frame.to_csv(folder / name, index=False)
    (folder / "programme.yml").write_text(yml if yml is not None else
                                          BASE_YML.format(file=name, extra=extra))
    return folder


def _set(frame: pd.DataFrame, row: int, column: str, value) -> pd.DataFrame:
    out = frame.astype(object).copy()
    out.loc[row, column] = value
    return out


# Each case: (folder builder, expected sentence fragment or None for a good load, check)
def case_bad_score(f):
    return _write(f, _set(_frame(), 4, "3B", "Sokhaxyzq")), "csi.csv, line 6, column '3B': the value is not a CSI score"


def case_many_bad_scores(f):
    frame = _frame()
    for row in (3, 8, 20):
        frame = _set(frame, row, "2A", "7")
    frame = _set(frame, 5, "Date", "+855 12 345 678")
    return _write(f, frame), "4 problems in the data: corpus/csi.csv, column '2A': 3 cells are not CSI scores"


def case_set_aside(f):
    frame = _set(_set(_frame(), 4, "3B", "9"), 10, "1A", "0")
    return _write(f, frame, extra="on_invalid: set_aside\n"), None


def case_missing_factor(f):
    return _write(f, _frame().drop(columns=["5B"])), "no column for CSI factor(s) 5B"


def case_duplicate_column_names(f):
    text = _frame().to_csv(index=False).replace(",6B", ",1A", 1)
    return _write(f, None, text=text), "two columns are named '1A'"


def case_same_factor_twice(f):
    frame = _frame()
    frame["csi_1a"] = frame["1A"]
    return _write(f, frame), "columns '1A' and 'csi_1a' both hold CSI factor 1A"


def case_file_missing(f):
    f.mkdir()
    (f / "programme.yml").write_text(BASE_YML.format(file="nothere.csv", extra=""))
    return f, "names 'nothere.csv', which is not in the programme folder"


def case_path_escapes(f):
    outside = f.parent / "secret.csv"
    _frame().to_csv(outside, index=False)
    f.mkdir()
    (f / "programme.yml").write_text(BASE_YML.format(file="../secret.csv", extra=""))
    return f, "leads outside the programme folder"


def case_absolute_path(f):
    outside = f.parent / "abs.csv"
    _frame().to_csv(outside, index=False)
    f.mkdir()
    (f / "programme.yml").write_text(BASE_YML.format(file=str(outside), extra=""))
    return f, "is an absolute path"


def case_symlink_outside(f):
    outside = f.parent / "linked.csv"
    _frame().to_csv(outside, index=False)
    f.mkdir()
    os.symlink(outside, f / "csi.csv")
    (f / "programme.yml").write_text(BASE_YML.format(file="csi.csv", extra=""))
    return f, "leads outside the programme folder"


def case_unknown_suffix(f):
    return _write(f, None, name="csi.pdf", text="%PDF-1.4"), "cannot read files ending in '.pdf'"


def case_corrupt_xlsx(f):
    f.mkdir()
    (f / "csi.xlsx").write_bytes(b"PK\x03\x04 not really a workbook")
    (f / "programme.yml").write_text(BASE_YML.format(file="csi.xlsx", extra=""))
    return f, "could not be read as a .xlsx file"


def case_empty_file(f):
    return _write(f, None, text=""), "csi.csv: the file is empty"


def case_unknown_round_words(f):
    frame = _frame().drop(columns=["Date"])
    frame["Round"] = frame["Round"].map({1: "Dry", 2: "Wet"})
    yml = "name: X\ncsi:\n  file: csi.csv\n  columns: {child: Client ID, round: Round}\n"
    return _write(f, frame, yml=yml), "the order of the 2 rounds cannot be told"


def case_declared_round_order(f):
    frame = _frame().drop(columns=["Date"])
    frame["Round"] = frame["Round"].map({1: "Dry", 2: "Wet"})
    yml = ("name: X\ncsi:\n  file: csi.csv\n  columns: {child: Client ID, round: Round}\n"
           "  values:\n    round: {Dry: 1, Wet: 2}\n  before: Dry\n  after: Wet\n")
    return _write(f, frame, yml=yml), None


def case_blank_child(f):
    return _write(f, _set(_frame(), 7, "Client ID", None)), "line 9, column 'Client ID': the value is blank"


def case_wrong_sheet(f):
    return _write(f, _frame(), name="csi.xlsx", extra="  sheet: Data\n"), "no sheet named 'Data'; sheets present: Sheet1"


def case_header_row_too_far(f):
    return _write(f, _frame(), extra="  header_row: 500\n"), "header_row is 500"


def case_wrong_encoding(f):
    f.mkdir()
    (f / "csi.csv").write_bytes(_frame().to_csv(index=False).encode("utf-16"))
    (f / "programme.yml").write_text(BASE_YML.format(file="csi.csv", extra="  encoding: ascii\n"))
    return f, "cannot be read as ascii"


def case_unknown_key_suggests(f):
    return _write(f, _frame(), extra="  header_rwo: 2\n"), "unknown key 'csi.header_rwo' (did you mean 'csi.header_row'?)"


def case_bad_option_lists_values(f):
    return _write(f, _frame(), extra="  layout: sideways\n"), "key 'csi.layout' is 'sideways'; expected one of 'long', 'wide'"


def case_fill_in_left(f):
    return _write(f, _frame(), extra="  before: FILL-IN   # the first round to compare\n"), \
        "line 5: 'before' is still FILL-IN"


def case_personal_column_as_id(f):
    yml = "name: X\ncsi:\n  file: csi.csv\n  columns: {child: Nom, round: Round}\n"
    return _write(f, _frame(), yml=yml), "names column 'Nom', which looks like personal data"


def case_nonfinite_number_in_trial(f):
    f.mkdir()
    exports.split_trial(f)
    frame = pd.read_csv(f / "endline.csv", dtype=str)
    frame.loc[3, "knowledge"] = "1e309"
    frame.to_csv(f / "endline.csv", index=False)
    (f / "programme.yml").write_text(TRIAL_YML)
    return f, "column 'knowledge': the value is not a finite number"


def case_outcome_outside_its_range(f):
    f.mkdir()
    exports.split_trial(f)
    frame = pd.read_csv(f / "endline.csv", dtype=str)
    frame.loc[5, "knowledge"] = "55"
    frame.to_csv(f / "endline.csv", index=False)
    (f / "programme.yml").write_text(TRIAL_YML.replace("{kind: score}", "{kind: score, range: [0, 10]}"))
    return f, "corpus/endline.csv, line 7, column 'knowledge': the value is outside the range declared"


TRIAL_YML = """name: T
trial:
  files: {baseline: baseline.xlsx, endline: endline.csv}
  ignore_leading_zeros: true
  columns: {unit: hh_id, cluster: village, round: round, treatment: treated}
  outcomes: {knowledge: {kind: score}}
  wild_reps: 0
  ri_reps: 0
"""


def case_no_analysis(f):
    return _write(f, _frame(), yml="name: X\n"), "no analysis is configured"


def case_zip_without_csv(f):
    import zipfile

    f.mkdir()
    with zipfile.ZipFile(f / "odk.zip", "w") as z:
        z.writestr("readme.txt", "nothing")
    (f / "programme.yml").write_text(BASE_YML.format(file="odk.zip", extra=""))
    return f, "the zip holds no CSV file"


# --- cases that load, with their numbers checked


def case_title_rows_and_blank_lines(f):
    text = "CSI export\nOffice: Battambang\n\n" + _frame().to_csv(index=False) + "\n\n"
    return _write(f, None, text=text), None


def case_day_first_dates(f):
    return _write(f, exports._plain(exports.truth(), day_first=True)), None


def case_khmer_digits(f):
    frame = _frame().astype(object)
    frame["1A"] = frame["1A"].map(lambda v: str(v).translate(str.maketrans("0123456789", "០១២៣៤៥៦៧៨៩")))
    return _write(f, frame), None


def case_not_applicable_codes(f):
    frame = _frame().astype(object)
    frame["6A"] = frame["6A"].replace("n/a", "-")
    frame["6B"] = frame["6B"].replace("n/a", "N/A")
    return _write(f, frame, extra="  values:\n    not_applicable: ['-']\n"), None


def case_score_words(f):
    frame = _frame().astype(object)
    words = {1: "Very bad", 2: "bad", 3: "FAIR", 4: "good", "1": "Very bad", "2": "bad",
             "3": "FAIR", "4": "good"}
    frame["2B"] = frame["2B"].map(lambda v: words.get(v, v))
    return _write(f, frame), None


def case_numbers_as_text_rounds(f):
    frame = _frame().astype(object)
    frame["Round"] = frame["Round"].map({1: "2", 2: "10"})
    return _write(f, frame, extra="  before: 2\n  after: 10\n"), None


def case_wide_t0_t1(f):
    truth = exports.truth()
    path = exports.wide_xlsx(truth, f.parent / "w.xlsx")
    frame = pd.read_excel(path).rename(columns=lambda c: c.replace("baseline_", "T0_")
                                       .replace("followup_", "T1_"))
    f.mkdir()
    frame.to_excel(f / "wide.xlsx", index=False)
    (f / "programme.yml").write_text("name: W\ncsi:\n  file: wide.xlsx\n  layout: wide\n"
                                     "  columns: {child: child_id}\n")
    return f, None


def case_bom_and_crlf(f):
    f.mkdir()
    (f / "csi.csv").write_bytes(b"\xef\xbb\xbf" + _frame().to_csv(index=False).replace("\n", "\r\n").encode())
    (f / "programme.yml").write_text(BASE_YML.format(file="csi.csv", extra=""))
    return f, None


def case_semicolon_csv(f):
    return _write(f, None, text=_frame().to_csv(index=False, sep=";")), None


CASES = {name[5:]: fn for name, fn in dict(globals()).items() if name.startswith("case_")}


def _inputs(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in folder.parent.rglob("*") if p.is_file() and ".evalkit" not in p.parts}


def test_the_corpus_is_large():
    assert len(CASES) >= 30


@pytest.mark.parametrize("name", sorted(CASES))
def test_each_messy_folder_loads_correctly_or_fails_in_one_sentence(tmp_path, name, capsys):
    folder, sentence = CASES[name](tmp_path / "corpus")
    before = _inputs(folder)
    status = cli.main(["check", str(folder)])
    printed = capsys.readouterr()
    assert "Traceback" not in printed.out + printed.err
    if sentence is None:
        data = load_programme(folder, use_cache=False)
        _check_numbers(name, data)
        assert status == (1 if data.problems else 0)
    else:
        with pytest.raises(EvalkitError) as caught:
            load_programme(folder, use_cache=False)
        message = str(caught.value)
        assert sentence in message, message
        assert "\n" not in message
        for planted in ("Sokhaxyzq", "+855 12 345 678", "1e309"):
            assert planted not in message  # no cell value in a message that may be written
        assert status != 0
    page = folder / ".evalkit" / "check.html"
    if page.exists():
        text = page.read_text()
        assert "Sokhaxyzq" not in text and "CH-00" not in text and "xq" not in text
    assert _inputs(folder) == before


def _check_numbers(name: str, data) -> None:
    from evalkit.indices import csi

    truth = exports.truth()
    want = exports.expected(truth)
    if name == "set_aside":
        account = data.accounts[0]
        assert (account.read, account.used, account.rows_set_aside) == (72, 70, 2)
        assert account.set_aside == {"factor": 2}
        assert len(data.csi) == 70
        return
    if name == "nonfinite_number_in_trial":
        return
    result = csi.change(data.csi, child="child", round="round", before=data.rounds.before,
                        after=data.rounds.after)
    assert (result.children_before, result.children_after) == (want["children_first"],
                                                               want["children_last"])
    table = result.to_frame().set_index("code")
    for code, (mean_b, mean_a, n) in want["means"].items():
        assert table.loc[code, "mean_before"] == pytest.approx(mean_b, abs=1e-12), (name, code)
        assert table.loc[code, "mean_after"] == pytest.approx(mean_a, abs=1e-12), (name, code)
        assert table.loc[code, "children_paired"] == n
    if name == "day_first_dates":
        assert data.csi["date"].min() == pd.Timestamp("2019-03-01")
        assert (data.csi["date"].dt.month <= 10).all()
    if name == "not_applicable_codes":
        assert (data.csi["6A"] == "n/a").sum() == (truth["6A"] == "n/a").sum()
