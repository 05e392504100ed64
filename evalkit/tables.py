"""Tables researchers publish: side-by-side effects (like Stata's ``esttab`` or R's
``modelsummary``) and iebaltab-style balance tables, exported to CSV, formatted Excel, LaTeX
that compiles (escaped, booktabs), Markdown and HTML.

The layout is built once as a table of display strings; great_tables renders HTML and LaTeX
from it (so escaping is the library's, not ours), openpyxl formats the Excel sheet, and the
numbers behind every cell are kept for ``to_frame()``.

    from evalkit.tables import effects_table, balance_export
    t = effects_table([r1, r2, r3], adjust="holm")
    t.to_latex("effects.tex"); t.to_excel("effects.xlsx"); t          # displays in Jupyter
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from evalkit.designs.multiple import benjamini_hochberg, holm
from evalkit.display import fmt, p_phrase, p_value
from evalkit.options import option

ADJUSTMENTS = ("holm", "bh", "none")
BELOW = ("se", "ci")
STUB = "\u200b"  # the row-label column's (invisible) name

LATEX_PREAMBLE = (
    "\\documentclass[landscape]{article}\n\\usepackage[margin=1.5cm]{geometry}\n"
    "\\usepackage[T1]{fontenc}\n\\usepackage[utf8]{inputenc}\n"
    "\\usepackage{booktabs}\n\\usepackage{caption}\n\\usepackage{longtable}\n"
    "\\usepackage{array}\n\\usepackage{amsmath}\n\\begin{document}\n")


@dataclass(frozen=True, eq=False, repr=False)
class JournalTable:
    """A publishable table: ``layout`` (display strings: a row-label column, then one column
    per model or statistic), ``numbers`` (the tidy numeric values behind it), a title and
    notes. Exports: :meth:`to_csv`, :meth:`to_excel`, :meth:`to_latex`, :meth:`to_markdown`,
    :meth:`to_html`; :meth:`gt` gives the great_tables object to restyle."""

    layout: pd.DataFrame
    numbers: pd.DataFrame = field(repr=False)
    title: str
    notes: tuple[str, ...] = ()

    def to_frame(self) -> pd.DataFrame:
        """The numbers behind the table, one row per model (or variable), unrounded."""
        return self.numbers.copy()

    def gt(self):
        """The table as a great_tables ``GT`` object (system fonts; no web fonts)."""
        from great_tables import GT

        table = GT(self.layout, rowname_col=STUB).tab_header(title=self.title)
        for note in self.notes:
            table = table.tab_source_note(note)
        columns = [c for c in self.layout.columns if c != STUB]
        return (table.cols_align("center", columns=columns)
                .opt_table_font(font=["system-ui", "Segoe UI", "Helvetica", "Arial", "sans-serif"]))

    # ------------------------------------------------------------------ exports

    def to_html(self, path: str | Path | None = None) -> str:
        html = self.gt().as_raw_html()
        if path is not None:
            Path(path).write_text(html, encoding="utf-8")
        return html

    def _repr_html_(self) -> str:
        return self.to_html()

    def to_latex(self, path: str | Path | None = None, standalone: bool = False) -> str:
        """booktabs LaTeX (escaped by great_tables), at 8 pt so that wide tables fit a page.
        It needs ``booktabs`` and ``caption`` in the preamble; ``standalone=True`` wraps it in
        a landscape document that compiles as is."""
        latex = _wrapped_headers(self.gt().tab_options(table_font_size="8pt").as_latex(),
                                 len(self.layout.columns) - 1)
        if standalone:
            latex = LATEX_PREAMBLE + latex + "\n\\end{document}\n"
        if path is not None:
            Path(path).write_text(latex, encoding="utf-8")
        return latex

    def to_markdown(self, path: str | Path | None = None) -> str:
        def cell(text: object) -> str:
            return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")

        header = ["", *[c for c in self.layout.columns if c != STUB]]
        lines = [f"**{cell(self.title)}**", "",
                 "| " + " | ".join(cell(h) for h in header) + " |",
                 "|" + "|".join([":---"] + [":---:"] * (len(header) - 1)) + "|"]
        for _, row in self.layout.iterrows():
            lines.append("| " + " | ".join(cell(v) for v in row.tolist()) + " |")
        lines += [""] + [cell(n) for n in self.notes]
        text = "\n".join(lines) + "\n"
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text

    def to_csv(self, path: str | Path, numbers: bool = False) -> None:
        """The table as laid out (``numbers=False``) or the numbers behind it; a cell that a
        spreadsheet would run as a formula (= + - @ …) is written as text."""
        from evalkit.files import neutralise

        frame = self.numbers if numbers else self.layout.rename(columns={STUB: ""})
        frame = frame.rename(columns=lambda c: neutralise(str(c))).map(neutralise)
        frame.to_csv(path, index=False)

    def to_excel(self, path: str | Path) -> None:
        """A formatted sheet (title, bold header between rules, notes beneath) and a sheet of
        the numbers behind it."""
        from openpyxl import Workbook
        from openpyxl.styles import Alignment, Border, Font, Side

        book = Workbook()
        sheet = book.active
        sheet.title = "table"
        rule = Side(style="thin")
        sheet.append([self.title])
        sheet["A1"].font = Font(bold=True, size=12)
        header = ["", *[c for c in self.layout.columns if c != STUB]]
        sheet.append(header)
        for column, _ in enumerate(header, start=1):
            c = sheet.cell(row=2, column=column)
            c.font = Font(bold=True)
            c.border = Border(top=rule, bottom=rule)
            c.alignment = Alignment(horizontal="center" if column > 1 else "left")
        for _, row in self.layout.iterrows():
            sheet.append([_excel_value(v) for v in row.tolist()])
            for column, value in enumerate(row.tolist(), start=1):
                decimals = _decimals(value)
                if decimals is not None:  # a number stays a number, shown as in the table
                    sheet.cell(row=sheet.max_row, column=column).number_format = (
                        "#,##0" + ("." + "0" * decimals if decimals else ""))
            for column in range(2, len(header) + 1):
                sheet.cell(row=sheet.max_row, column=column).alignment = Alignment(horizontal="center")
        for column in range(1, len(header) + 1):
            sheet.cell(row=sheet.max_row, column=column).border = Border(bottom=rule)
        for note in self.notes:
            sheet.append([note])
            sheet.cell(row=sheet.max_row, column=1).font = Font(italic=True, size=9)
        widths = [max(len(str(v)) for v in [h, *self.layout.iloc[:, i]]) for i, h in enumerate(header)]
        for i, width in enumerate(widths):
            sheet.column_dimensions[chr(ord("A") + i)].width = min(max(width + 2, 10), 60)
        numbers = book.create_sheet("numbers")
        numbers.append(list(self.numbers.columns))
        for row in self.numbers.itertuples(index=False):
            numbers.append([None if isinstance(v, float) and np.isnan(v) else
                            (v.item() if hasattr(v, "item") else v) for v in row])
        _no_formulas(book)
        book.save(path)

    def __repr__(self) -> str:
        return f"<JournalTable {self.title!r}: {self.layout.shape[1] - 1} columns, {len(self.layout)} rows>"


def _no_formulas(book) -> None:
    """Every text cell of ``book`` as text: one that a spreadsheet would run as a formula
    (= + - @ tab, line break) gets a leading apostrophe, and no cell is stored as a formula."""
    from evalkit.files import neutralise

    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and (cell.data_type == "f" or cell.value != neutralise(cell.value)):
                    cell.value = neutralise(cell.value)
                    cell.data_type = "s"


def _wrapped_headers(latex: str, columns: int) -> str:
    """Column labels longer than a few words set in a paragraph box, so that a table with
    long outcome names wraps its header instead of running off the page (great_tables
    writes LaTeX headers on one line; the labels are already escaped)."""
    lines = latex.split("\n")
    at = next((i for i, line in enumerate(lines) if line.strip() == "\\toprule"), None)
    if at is None or at + 1 >= len(lines) or not lines[at + 1].rstrip().endswith("\\\\"):
        return latex
    cells = lines[at + 1].rstrip()[:-2].split(" & ")
    if max(len(c) for c in cells) <= 24:
        return latex
    width = f"{min(3.2, 20.0 / max(columns, 1)):.1f}cm"
    lines[at + 1] = " & ".join(
        c if len(c) <= 24 else f"\\parbox[b]{{{width}}}{{\\centering {c.strip()}}}"
        for c in cells) + " \\\\ "
    return "\n".join(lines)


_NUMBER = re.compile(r"^[+-]?\d{1,3}(,\d{3})*(\.\d+)?$|^[+-]?\d+(\.\d+)?$")


def _decimals(text: object) -> int | None:
    """The decimals of a cell that is a plain number ('0.052', '1,234'), else None."""
    text = str(text)
    if not _NUMBER.match(text):
        return None
    return len(text.split(".", 1)[1]) if "." in text else 0


def _excel_value(text: object):
    return float(str(text).replace(",", "")) if _decimals(text) is not None else text


# --------------------------------------------------------------------------- effects


def _results(results) -> list:
    if hasattr(results, "results"):  # an EffectsTable
        return list(results.results)
    return list(results)


def effects_table(results, labels: Sequence[str] | None = None, *, below: str = "se",
                  adjust: str = "holm", digits: int = 3, title: str = "Effects of assignment",
                  coefficient: str = "Assigned to treatment") -> JournalTable:
    """Side-by-side table of several outcomes or models, one column each.

    ``results``: a list of results with ``estimate``, ``se``, ``ci_low``/``ci_high`` and
    ``p_value`` (``EffectResult``, ``CACEResult`` …) or an ``EffectsTable``. Rows: the
    estimate with its standard error (``below="se"``) or 95 % CI (``below="ci"``) beneath;
    p-values by the result's standard errors, the wild cluster bootstrap and randomisation
    inference (where computed); the p-value adjusted across the columns (``adjust``: Holm,
    Benjamini–Hochberg or none); control mean, observations and clusters.
    """
    below = option(below, BELOW, "below")
    adjust = option(adjust, ADJUSTMENTS, "adjust")
    items = _results(results)
    if not items:
        raise ValueError("effects_table needs at least one result.")
    labels = list(labels) if labels is not None else [getattr(r, "outcome", f"model {i + 1}")
                                                      for i, r in enumerate(items)]
    if len(labels) != len(items):
        raise ValueError(f"{len(labels)} labels for {len(items)} results; give one label per result.")
    p = [float(r.p_value) for r in items]
    adjusted = (holm(p) if adjust == "holm" else benjamini_hochberg(p) if adjust == "bh"
                else [float("nan")] * len(p))
    se_types = sorted({getattr(r, "se_type", getattr(r, "cov_type", "")) for r in items} - {""})
    se_name = "/".join(se_types) or "SE"

    def get(r, name):
        value = getattr(r, name, float("nan"))
        return float("nan") if value is None else value

    rows: list[tuple[str, list[str]]] = [
        (coefficient, [fmt(r.estimate, digits) for r in items]),
        ("", [f"({fmt(r.se, digits)})" if below == "se"
              else f"[{fmt(r.ci_low, digits)}, {fmt(r.ci_high, digits)}]" for r in items]),
        (f"p ({se_name})", [p_value(x) for x in p])]
    if any(np.isfinite(get(r, "p_wild")) for r in items):
        rows.append(("p (wild cluster bootstrap)", [p_value(get(r, "p_wild")) for r in items]))
    if any(np.isfinite(get(r, "p_ri")) for r in items):
        rows.append(("p (randomisation inference)", [p_value(get(r, "p_ri")) for r in items]))
    if adjust != "none" and len(items) > 1:
        rows.append((f"p, {'Holm' if adjust == 'holm' else 'Benjamini–Hochberg (q)'} adjusted",
                     [p_value(x) for x in adjusted]))
    if any(np.isfinite(get(r, "control_mean")) for r in items):
        rows.append(("Control mean", [fmt(get(r, "control_mean"), digits) for r in items]))
    rows.append(("Observations", [f"{int(r.n_obs):,}" for r in items]))
    if any(getattr(r, "n_clusters", None) for r in items):
        rows.append(("Clusters", [f"{int(r.n_clusters):,}" if getattr(r, "n_clusters", None)
                                  else "–" for r in items]))
    names = [f"({i + 1}) {label}" for i, label in enumerate(labels)]
    layout = pd.DataFrame([[stub, *cells] for stub, cells in rows], columns=[STUB, *names])
    numbers = pd.DataFrame({
        "model": names, "outcome": [getattr(r, "outcome", "") for r in items],
        "estimate": [r.estimate for r in items], "se": [r.se for r in items],
        "ci_low": [r.ci_low for r in items], "ci_high": [r.ci_high for r in items],
        "p_value": p, "p_wild": [get(r, "p_wild") for r in items],
        "p_ri": [get(r, "p_ri") for r in items], "p_adjusted": adjusted,
        "control_mean": [get(r, "control_mean") for r in items],
        "n_obs": [int(r.n_obs) for r in items],
        "n_clusters": [getattr(r, "n_clusters", None) for r in items]})
    notes = [("Standard errors" if below == "se" else "95% confidence intervals")
             + f" beneath the estimates ({se_name}"
             + (", Bell–McCaffrey degrees of freedom" if "CR2" in se_types else "") + ")."]
    estimators = sorted({getattr(r, "estimator", "") for r in items} - {""})
    if estimators:
        notes.append(f"Estimator: {', '.join(estimators)}.")
    if adjust != "none" and len(items) > 1:
        notes.append(f"Adjusted p-values across the {len(items)} columns by "
                     f"{'Holm (familywise error)' if adjust == 'holm' else 'Benjamini–Hochberg (false discovery rate)'}.")
    methods = sorted({m for r in items for m in (getattr(r, "ri_method", ""),) if m and not m.startswith("not")})
    if methods:
        notes.append(f"Randomisation inference: {'; '.join(methods)}.")
    return JournalTable(layout=layout, numbers=numbers, title=title, notes=tuple(notes))


# --------------------------------------------------------------------------- balance


def balance_export(balance, labels: dict[str, str] | None = None, *, digits: int = 3,
                   title: str = "Balance at baseline") -> JournalTable:
    """An iebaltab-style table from a :class:`~evalkit.designs.BalanceTable`: per
    characteristic, N and mean (SD) in each arm, the difference (treatment − control), the
    normalised difference and its p-value; the joint test in the notes."""
    labels = labels or {}
    t = balance.to_frame()
    layout = pd.DataFrame({
        STUB: [labels.get(v, v) for v in t["variable"]],
        "N (treatment)": [f"{int(n):,}" for n in t["n_treatment"]],
        "Mean (SD), treatment": [f"{fmt(m, digits)} ({fmt(s, digits)})"
                                 for m, s in zip(t["mean_treatment"], t["sd_treatment"])],
        "N (control)": [f"{int(n):,}" for n in t["n_control"]],
        "Mean (SD), control": [f"{fmt(m, digits)} ({fmt(s, digits)})"
                               for m, s in zip(t["mean_control"], t["sd_control"])],
        "Difference": [fmt(d, digits, signed=True) for d in t["difference"]],
        "Normalised difference": [fmt(d, digits, signed=True) for d in t["normalised_difference"]],
        f"p ({balance.se_type})": [p_value(x) for x in t["p_value"]]})
    notes = (f"Difference: treatment minus control; p from a regression on assignment with "
             f"{balance.se_type} standard errors clustered by unit of assignment "
             f"({balance.n_clusters_treatment} treatment, {balance.n_clusters_control} control "
             f"{balance.assigned}).",
             f"Joint test (sum of squared studentised differences; {balance.omnibus_method}): "
             f"statistic {fmt(balance.omnibus_statistic)}, {p_phrase(balance.omnibus_p)}.")
    return JournalTable(layout=layout, numbers=t, title=title, notes=notes)
