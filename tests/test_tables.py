"""Journal tables: the numbers in every cell are the results' numbers, adjusted p-values match
statsmodels, and each export (LaTeX that compiles, Excel, Markdown, CSV, HTML) holds them."""

from __future__ import annotations

import re
import shutil
import subprocess
import warnings

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook
from statsmodels.stats.multitest import multipletests

from evalkit.designs import balance_table, compare_arms
from evalkit.tables import NO_STARS, balance_export, effects_table, regression_table
from tests.designs.helpers import cluster_trial


@pytest.fixture(scope="module")
def results():
    df = cluster_trial(seed=21, effect=0.3)
    df["noise"] = np.random.default_rng(1).normal(size=len(df))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return [compare_arms(df, y, "treated", "village", baseline="baseline" if y == "endline" else None,
                             strata="commune", wild_reps=199, ri_reps=199, seed=i)
                for i, y in enumerate(["endline", "noise", "age"])]


def test_cells_are_the_results_numbers_and_holm_matches_statsmodels(results):
    t = effects_table(results, labels=["Knows rights", "Noise", "Age"], adjust="holm")
    layout = t.layout.set_index(t.layout.columns[0])
    assert list(layout.columns) == ["(1) Knows rights", "(2) Noise", "(3) Age"]
    first = layout.iloc[:, 0]
    assert first["Assigned to treatment"] == f"{results[0].estimate:.3f}"
    assert first.iloc[1] == f"({results[0].se:.3f})"
    holm = multipletests([r.p_value for r in results], method="holm")[1]
    assert t.to_frame()["p_adjusted"].to_numpy() == pytest.approx(holm)
    assert layout.loc["Observations"].tolist() == [f"{r.n_obs:,}" for r in results]
    assert "p (randomisation inference)" in layout.index and "Clusters" in layout.index
    bh = effects_table(results, adjust="BH", below="CI").to_frame()["p_adjusted"]
    assert bh.to_numpy() == pytest.approx(multipletests([r.p_value for r in results], method="fdr_bh")[1])
    assert effects_table(results, below="ci").layout.iloc[1, 1].startswith("[")


def test_options_are_checked_with_the_valid_values(results):
    with pytest.raises(ValueError, match="below is 'sd'.*expected one of 'se', 'ci'"):
        effects_table(results, below="sd")
    with pytest.raises(ValueError, match="2 labels for 3 results"):
        effects_table(results, labels=["a", "b"])


def _compiles(table, folder, slack: float = 1.0) -> None:
    """The table's standalone LaTeX compiles with pdflatex (skipped, after the escaping checks,
    where pdflatex is not installed)."""
    if shutil.which("pdflatex") is None:
        pytest.skip("pdflatex is not installed: escaping checked, compilation not")
    (folder / "t.tex").write_text(table.to_latex(standalone=True), encoding="utf-8")
    run = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "t.tex"],
                         cwd=folder, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout[-2000:]
    assert (folder / "t.pdf").stat().st_size > 1000
    overfull = [float(x) for x in re.findall(r"Overfull \\hbox \(([\d.]+)pt too wide",
                                             (folder / "t.log").read_text(errors="replace"))]
    assert max(overfull, default=0) < slack, overfull  # the table fits the page


NASTY = ["knows_rights & 50% #1", "<script>alert(1)</script>", "a|b"]


def test_latex_escapes_and_compiles(results, tmp_path):
    t = effects_table(results, labels=NASTY, title="Effects_on $ outcomes")
    latex = t.to_latex()
    assert "knows\\_rights \\& 50\\% \\#1" in latex and "Effects\\_on \\$ outcomes" in latex
    assert "\\toprule" in latex and "\\bottomrule" in latex
    _compiles(t, tmp_path, slack=20)  # an unbreakable 27-character label may stick out a little


def test_long_outcome_names_wrap_instead_of_running_off_the_page(results, tmp_path):
    labels = ["Agrees children are better cared for in residential care than in poor families",
              "Would place a child in residential care if the family were poor",
              "Knowledge of family-based care and child protection services (0–10)"]
    t = effects_table(results, labels=labels)
    assert t.to_latex().count("\\parbox[b]") == 3
    _compiles(t, tmp_path)


def test_balance_latex_compiles(tmp_path):
    df = cluster_trial(seed=22)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bal = balance_table(df, ["baseline", "age"], "treated", "village", ri_reps=99, seed=1)
    t = balance_export(bal, labels={"baseline": "Score_at baseline"})
    assert t.layout.iloc[0, 0] == "Score_at baseline"
    assert t.layout.iloc[1, 2] == (f"{bal.table['mean_treatment'][1]:.3f} "
                                   f"({bal.table['sd_treatment'][1]:.3f})")
    _compiles(t, tmp_path)


def test_excel_csv_markdown_and_html_hold_the_same_cells(results, tmp_path):
    t = effects_table(results, labels=NASTY)
    t.to_excel(tmp_path / "t.xlsx")
    book = load_workbook(tmp_path / "t.xlsx")
    sheet = book["table"]
    assert sheet["A1"].value == "Effects of assignment" and sheet["A1"].font.bold
    assert sheet["B2"].value == "(1) " + NASTY[0] and sheet["B2"].font.bold
    assert sheet["B2"].border.bottom.style == "thin"
    assert sheet["B3"].value == pytest.approx(results[0].estimate)  # a number, shown rounded
    assert sheet["B3"].number_format == "#,##0.000"
    assert sheet["B4"].value == pytest.approx(results[0].se)  # the SE too, in brackets by format
    assert sheet["B4"].number_format == '"("#,##0.000")"'
    assert sheet["B5"].value == pytest.approx(results[0].p_value)
    numbers = pd.read_excel(tmp_path / "t.xlsx", sheet_name="numbers", engine="openpyxl")
    assert numbers["estimate"].to_numpy() == pytest.approx([r.estimate for r in results])
    t.to_csv(tmp_path / "t.csv")
    assert pd.read_csv(tmp_path / "t.csv", keep_default_na=False).iloc[0, 1] == f"{results[0].estimate:.3f}"
    t.to_csv(tmp_path / "n.csv", numbers=True)
    assert pd.read_csv(tmp_path / "n.csv")["se"].to_numpy() == pytest.approx([r.se for r in results])
    md = t.to_markdown()
    table_lines = [line for line in md.splitlines() if line.startswith("|")]
    assert all(line.count(" | ") == 3 for line in table_lines[2:])  # escaped pipes do not split
    assert "a\\|b" in md
    html = t.to_html()
    assert "<script>alert" not in html and "&lt;script&gt;" in html
    assert "@import" not in html and "googleapis" not in html
    assert f"{results[1].estimate:.3f}" in t._repr_html_()


def test_exported_cells_never_run_as_formulas(tmp_path):
    """A label that starts like a formula is text in every CSV and Excel export."""
    import openpyxl

    from evalkit.tables import STUB, JournalTable

    layout = pd.DataFrame({STUB: ["=HYPERLINK(\"https://x.org\",\"x\")", "@SUM(A1)", "-3.5"],
                           "(1)": ["+cmd|' /C calc'!A0", "1.20", "-0.4"]})
    table = JournalTable(layout=layout, numbers=pd.DataFrame({"x": ["=1+1"]}), title="=title",
                         notes=("-note",))
    table.to_csv(tmp_path / "t.csv")
    cells = pd.read_csv(tmp_path / "t.csv", dtype=str, keep_default_na=False).to_numpy().ravel()
    assert all(not c.startswith(("=", "+", "@")) for c in cells)
    assert "-3.5" in cells  # a number stays a number
    table.to_excel(tmp_path / "t.xlsx")
    book = openpyxl.load_workbook(tmp_path / "t.xlsx")
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)


def _models():
    from evalkit.designs import estimate

    df = cluster_trial(seed=23, effect=0.3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = estimate(df, "endline ~ treated", treatment="treated", cluster="village",
                     wild_reps=99, ri_reps=99, seed=1)
        b = estimate(df, "endline ~ treated + baseline + age | commune", treatment="treated",
                     cluster="village", wild_reps=99, ri_reps=99, seed=1)
    return df, a, b


def test_regression_table_rows_stars_groups_and_fixed_effects(tmp_path):
    import statsmodels.formula.api as smf

    df, a, b = _models()
    t = regression_table([a, b], labels=["Plain", "Adjusted"], stars=True,
                         controls={"Age": ["age"]}, groups=[("Knowledge", 2)],
                         term_labels={"treated": "Assigned"})
    rows = t.layout.set_index(t.layout.columns[0])
    ref = smf.ols("endline ~ treated", data=df).fit(cov_type="cluster",
                                                   cov_kwds={"groups": df["village"]})
    p = a.pvalues["treated"]
    mark = "***" if p < 0.01 else "**" if p < 0.05 else "*" if p < 0.1 else ""
    assert rows.loc["Assigned"].iloc[0] == f"{ref.params['treated']:.3f}{mark}"
    assert rows.loc["commune fixed effects"].tolist() == ["No", "Yes"]
    assert rows.loc["Age"].tolist() == ["No", "Yes"] and "age" not in rows.index
    assert rows.loc["R²"].iloc[0] == f"{ref.rsquared:.3f}"
    assert rows.loc["Observations"].tolist() == [f"{len(df):,}"] * 2
    assert t.groups == (("Knowledge", ("(1) Plain", "(2) Adjusted")),)
    assert "Significance: * p < 0.1, ** p < 0.05, *** p < 0.01." in t.notes
    assert NO_STARS in regression_table([a, b]).notes
    latex = t.to_latex()
    assert "\\multicolumn{2}{c}{Knowledge}" in latex
    _compiles(t, tmp_path)


def test_excel_cells_are_numbers_with_formats_and_word_holds_the_table(tmp_path, results):
    from docx import Document

    t = effects_table(results, below="ci", stars=True, groups={"All": [1, 2, 3]})
    t.to_excel(tmp_path / "t.xlsx")
    sheet = load_workbook(tmp_path / "t.xlsx")["table"]
    values = {(c.row, c.column): c for row in sheet.iter_rows() for c in row}
    assert values[(2, 2)].value == "All"  # the group row above the header
    estimate, low, high = values[(4, 2)], values[(5, 2)], values[(6, 2)]
    assert estimate.value == pytest.approx(results[0].estimate) and estimate.data_type == "n"
    assert (low.value, high.value) == (pytest.approx(results[0].ci_low), pytest.approx(results[0].ci_high))
    assert low.number_format == '"["#,##0.000","' and high.number_format == '#,##0.000"]"'
    p_cell = values[(7, 2)]
    assert p_cell.value == pytest.approx(results[0].p_value) and "< 0.001" in p_cell.number_format
    t.to_docx(tmp_path / "t.docx")
    table = Document(tmp_path / "t.docx").tables[0]
    assert table.cell(0, 1).text == "All"
    assert table.cell(2, 1).text == t.layout.iloc[0, 1]


def test_balance_spreadsheet_puts_each_sd_beneath_its_mean(tmp_path):
    df = cluster_trial(seed=22)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bal = balance_table(df, ["baseline", "age"], "treated", "village", ri_reps=99, seed=1)
    balance_export(bal).to_excel(tmp_path / "b.xlsx")
    sheet = load_workbook(tmp_path / "b.xlsx")["table"]
    assert sheet["C3"].value == pytest.approx(bal.table["mean_treatment"][0])
    assert sheet["C4"].value == pytest.approx(bal.table["sd_treatment"][0])
    assert sheet["C4"].number_format == '"("#,##0.000")"'
    assert sheet["B3"].value == bal.table["n_treatment"][0]
