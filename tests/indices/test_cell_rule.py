"""One rule for a CSI cell: `csi.score(df)`, `csi.score(path)` (CSV and Parquet, read by the
engine) and the data-in layer (`evalkit check`, the report) read every cell alike. Random
tables of adversarial cells go through all of them; each must agree, cell by cell, with the
rule written once in `evalkit.instruments.csi`."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evalkit.data.validate import parse_factor
from evalkit.errors import DataError
from evalkit.indices import csi
from evalkit.instruments.csi import FACTORS, read_cell

VALID = [1, 2, 3, 4, 4.0, "1", "4.0", " 3 ", "៣", "២.០", "Good", "very bad", "Very_Bad",
         "FAIR", "poor", "n/a", "N/A", "not applicable", "na", "n.a.", "-", ".", "", None]
INVALID = [0, 5, 3.5, "0", "5", "3.5", "yes", "99", "4,0", "good-ish", "1/2", True]

PACKAGE = Path(csi.__file__).resolve().parents[1]


def _table(rng: np.random.Generator, rows: int, bad_share: float) -> pd.DataFrame:
    cells = {}
    for code in FACTORS:
        valid = rng.integers(0, len(VALID), rows)
        column = [VALID[i] for i in valid]
        for i in np.flatnonzero(rng.random(rows) < bad_share):
            column[i] = INVALID[rng.integers(0, len(INVALID))]
        cells[code] = pd.Series(column, dtype=object)
    return pd.DataFrame({"child": [f"C{i}" for i in range(rows)], "round": 1, **cells})


def _expected(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, list[tuple[int, str]]]:
    scores, na, invalid = {}, {}, []
    for code in FACTORS:
        cells = [read_cell(v) for v in frame[code]]
        scores[code] = [np.nan if c.score is None else float(c.score) for c in cells]
        na[code] = [c.not_applicable for c in cells]
        invalid += [(i, code) for i, c in enumerate(cells) if not c.valid]
    return pd.DataFrame(scores), pd.DataFrame(na), sorted(invalid)


def _as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """The table as an export holds it: every cell as text, blank where empty."""
    return frame.astype(object).map(lambda v: "" if v is None else str(v))


def _agree(result: csi.FactorScores, scores: pd.DataFrame, na: pd.DataFrame) -> None:
    np.testing.assert_array_equal(result.values[list(FACTORS)].to_numpy(), scores.to_numpy())
    np.testing.assert_array_equal(result.not_applicable[list(FACTORS)].to_numpy(), na.to_numpy())


def _first_bad(message: str, invalid: list[tuple[int, str]]) -> None:
    first_row = invalid[0][0]
    codes = {code for row, code in invalid if row == first_row}
    assert any(f"column '{code}'" in message for code in codes), (message, invalid[:3])


@pytest.mark.parametrize("seed", range(12))
def test_every_reader_reads_every_cell_by_the_one_rule(tmp_path, seed):
    rng = np.random.default_rng(seed)
    frame = _table(rng, rows=40, bad_share=0.0 if seed % 3 == 0 else 0.01)
    scores, na, invalid = _expected(frame)
    csv_path, parquet_path = tmp_path / "export.csv", tmp_path / "export.parquet"
    _as_text(frame).to_csv(csv_path, index=False)
    _as_text(frame).to_parquet(parquet_path)
    for source in (frame, csv_path, parquet_path):
        if invalid:
            with pytest.raises(DataError) as info:
                csi.factor_scores(source)
            _first_bad(str(info.value), invalid)
        else:
            _agree(csi.factor_scores(source), scores, na)
    # the data-in layer (what `evalkit check` and the report use): the same verdict per cell
    for code in FACTORS:
        parsed, ok = parse_factor(frame[code])
        assert sorted((i, code) for i in np.flatnonzero(~ok)) == [b for b in invalid if b[1] == code]
        shown = parsed.astype(object).where(ok)
        for i in np.flatnonzero(ok):
            expected = ("n/a" if na[code].iloc[i] else None if np.isnan(scores[code].iloc[i])
                        else str(int(scores[code].iloc[i])))
            assert (None if pd.isna(shown.iloc[i]) else shown.iloc[i]) == expected, (code, i)


def test_evalkit_check_finds_exactly_the_cells_the_rule_refuses(tmp_path):
    from evalkit.data.check import check
    from evalkit.report.sections import REGISTRY

    frame = _table(np.random.default_rng(99), rows=30, bad_share=0.02)
    frame["round"] = [1, 2] * 15
    frame["child"] = [f"C{i // 2}" for i in range(30)]
    _scores, _na, invalid = _expected(frame)
    assert invalid
    folder = tmp_path / "prog"
    folder.mkdir()
    _as_text(frame).to_csv(folder / "export.csv", index=False)
    (folder / "programme.yml").write_text(
        "name: Check\ncsi:\n  file: export.csv\n  columns: {child: child, round: round}\n"
        "  before: 1\n  after: 2\n", encoding="utf-8")
    result = check(folder, REGISTRY)
    assert result.error is None
    found = sorted((p.row - 2, p.column) for p in result.problems)  # line 2 is the first row
    assert found == invalid


def test_indices_open_stat_hash_and_remember_no_file():
    """Indices aggregate what data-in read: no file is opened, stat'ed or hashed there and
    nothing is remembered across calls."""
    for path in (PACKAGE / "indices").glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
        attributes = {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
        imported = {a.name.split(".")[0] for n in ast.walk(tree)
                    if isinstance(n, (ast.Import, ast.ImportFrom)) for a in n.names}
        modules = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
        assert not ({"open", "_CHECKED"} & names), path.name
        assert not ({"stat", "file_status", "file_digest", "read_bytes", "read_text"} & attributes), path.name
        assert not ({"hashlib", "pathlib"} & imported), path.name
        assert not any(m.startswith("evalkit.designs") for m in modules), path.name


def test_a_file_is_read_afresh_on_every_call(tmp_path):
    """A file scored once and then given a bad cell is refused on the next call: nothing
    about it is remembered."""
    frame = _table(np.random.default_rng(5), rows=10, bad_share=0.0)
    path = tmp_path / "export.csv"
    _as_text(frame).to_csv(path, index=False)
    csi.score(path)
    changed = _as_text(frame)
    changed.loc[7, "4B"] = "7"
    changed.to_csv(path, index=False)
    with pytest.raises(DataError, match=r"export\.csv, line 9, column '4B': '?7'? is not a CSI score"):
        csi.score(path)
