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


def _excel_groups(sheet, header: list[str], groups) -> None:
    """The column-group row above the header, each label centred over its merged columns."""
    from openpyxl.styles import Alignment, Font

    spans = {c: label for label, columns in groups for c in columns}
    sheet.append([spans.get(h, "") if i else "" for i, h in enumerate(header)])
    row_number = sheet.max_row
    for _label, columns in groups:
        places = [header.index(c) + 1 for c in columns]
        first = sheet.cell(row=row_number, column=min(places))
        first.font = Font(bold=True)
        first.alignment = Alignment(horizontal="center")
        if max(places) > min(places):
            sheet.merge_cells(start_row=row_number, start_column=min(places),
                              end_row=row_number, end_column=max(places))


def _excel_header(sheet, header: list[str]) -> None:
    """The bold header row between two rules."""
    from openpyxl.styles import Alignment, Border, Font, Side

    rule = Side(style="thin")
    sheet.append(header)
    for column in range(1, len(header) + 1):
        c = sheet.cell(row=sheet.max_row, column=column)
        c.font = Font(bold=True)
        c.border = Border(top=rule, bottom=rule)
        c.alignment = Alignment(horizontal="center" if column > 1 else "left")


def _excel_body(sheet, grid, width: int) -> None:
    """The table's rows: numbers as numeric cells with their formats, a rule beneath."""
    from openpyxl.styles import Alignment, Border, Side

    for row in grid:
        sheet.append([c.value if isinstance(c, Cell) else c for c in row])
        for column, value in enumerate(row, start=1):
            cell = sheet.cell(row=sheet.max_row, column=column)
            if isinstance(value, Cell):
                cell.number_format = value.format
            if column > 1:
                cell.alignment = Alignment(horizontal="center")
    for column in range(1, width + 1):
        sheet.cell(row=sheet.max_row, column=column).border = Border(bottom=Side(style="thin"))


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
    cells: tuple[tuple[object, ...], ...] | None = field(default=None, repr=False)
    groups: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def to_frame(self) -> pd.DataFrame:
        """The numbers behind the table, one row per model (or variable), unrounded."""
        return self.numbers.copy()

    def gt(self):
        """The table as a great_tables ``GT`` object (system fonts; no web fonts)."""
        from great_tables import GT

        table = GT(self.layout, rowname_col=STUB).tab_header(title=self.title)
        for label, columns in self.groups:
            table = table.tab_spanner(label=label, columns=list(columns))
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
        header = ["", *[c for c in self.layout.columns if c != STUB]]
        rule = "|" + "|".join([":---"] + [":---:"] * (len(header) - 1)) + "|"
        lines = [f"**{_md_cell(self.title)}**", ""]
        if self.groups:  # the groups above the rule, the labels beneath it
            spans = {c: label for label, columns in self.groups for c in columns}
            lines += [_md_row(spans.get(h, "") for h in header), rule, _md_row(header)]
        else:
            lines += [_md_row(header), rule]
        lines += [_md_row(row.tolist()) for _, row in self.layout.iterrows()]
        lines += [""] + [_md_cell(n) for n in self.notes]
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
        """A formatted sheet (title, column groups, bold header between rules, notes beneath)
        whose numbers are numeric cells with number formats (a standard error shows as
        ``(0.123)``, stars and ``< 0.001`` come from the format, not from text), and a sheet
        of the numbers behind it."""
        from openpyxl import Workbook
        from openpyxl.styles import Font

        book = Workbook()
        sheet = book.active
        sheet.title = "table"
        sheet.append([self.title])
        sheet["A1"].font = Font(bold=True, size=12)
        header = ["", *[c for c in self.layout.columns if c != STUB]]
        if self.groups:
            _excel_groups(sheet, header, self.groups)
        _excel_header(sheet, header)
        grid = self.cells if self.cells is not None else tuple(
            tuple(_excel_cell(v) for v in row.tolist()) for _, row in self.layout.iterrows())
        _excel_body(sheet, grid, len(header))
        for note in self.notes:
            sheet.append([note])
            sheet.cell(row=sheet.max_row, column=1).font = Font(italic=True, size=9)
        _excel_widths(sheet, header, self.layout)
        _excel_numbers(book.create_sheet("numbers"), self.numbers)
        _no_formulas(book)
        book.save(path)

    def to_docx(self, path: str | Path) -> None:
        """A Word document holding the table (title, column groups, header, rows, notes),
        written with python-docx."""
        from docx import Document
        from docx.shared import Pt

        document = Document()
        document.add_paragraph().add_run(self.title).bold = True
        header = ["", *[c for c in self.layout.columns if c != STUB]]
        extra = 1 if self.groups else 0
        table = document.add_table(rows=len(self.layout) + 1 + extra, cols=len(header))
        table.style = "Table Grid" if "Table Grid" in [s.name for s in document.styles] else None
        _docx_groups(table, self.groups, header)
        _docx_header(table, header, extra)
        _docx_body(table, self.layout, 1 + extra)
        for note in self.notes:
            run = document.add_paragraph().add_run(note)
            run.italic = True
            run.font.size = Pt(8)
        document.save(str(path))

    def __repr__(self) -> str:
        return f"<JournalTable {self.title!r}: {self.layout.shape[1] - 1} columns, {len(self.layout)} rows>"


def _cells(values: list[float], number_format: str, missing: str = "–") -> list:
    """Spreadsheet cells of ``values`` in ``number_format`` (``missing`` for NaN)."""
    return [Cell(float(v), number_format) if v == v else missing for v in values]


def _md_cell(text: object) -> str:
    """A Markdown table cell: backslashes and bars escaped, on one line."""
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def _md_row(cells) -> str:
    return "| " + " | ".join(_md_cell(c) for c in cells) + " |"


def _excel_widths(sheet, header: list, layout: pd.DataFrame) -> None:
    """Each column as wide as its longest text (10 to 42 characters)."""
    widths = [max(len(str(v)) for v in [h, *layout.iloc[:, i]]) for i, h in enumerate(header)]
    for i, width in enumerate(widths):
        sheet.column_dimensions[chr(ord("A") + i)].width = min(max(min(width, 40) + 2, 10), 60)


def _excel_numbers(sheet, numbers: pd.DataFrame) -> None:
    """The unrounded numbers behind the table (NaN as an empty cell)."""
    sheet.append(list(numbers.columns))
    for row in numbers.itertuples(index=False):
        sheet.append([None if isinstance(v, float) and np.isnan(v) else
                      (v.item() if hasattr(v, "item") else v) for v in row])


def _docx_groups(table, groups, header: list) -> None:
    """The column groups, each a merged cell over its columns in the Word table's first row."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    for label, columns in groups or ():
        places = [header.index(c) for c in columns]
        merged = table.cell(0, min(places)).merge(table.cell(0, max(places)))
        merged.text = label
        merged.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER


def _docx_header(table, header: list, row: int) -> None:
    """The column labels, in bold, in the Word table's row ``row``."""
    for j, text in enumerate(header):
        cell = table.cell(row, j)
        cell.text = str(text)
        for run in cell.paragraphs[0].runs:
            run.bold = True


def _docx_body(table, layout: pd.DataFrame, first: int) -> None:
    """The rows from Word table row ``first`` on (numbers centred), then every cell in 9 pt."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    for i, (_, row) in enumerate(layout.iterrows(), start=first):
        for j, value in enumerate(row.tolist()):
            cell = table.cell(i, j)
            cell.text = str(value)
            if j:
                cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
    for run in (r for row in table.rows for cell in row.cells
                for paragraph in cell.paragraphs for r in paragraph.runs):
        run.font.size = Pt(9)


@dataclass(frozen=True)
class Cell:
    """A spreadsheet cell holding a number and the Excel number format that shows it as the
    table does."""

    value: float | int | None
    format: str = "General"


def _excel_cell(text: object):
    """A layout string as an Excel cell: plain numbers as numbers with their decimals."""
    decimals = _decimals(text)
    if decimals is None:
        return text
    return Cell(float(str(text).replace(",", "")),
                "#,##0" + ("." + "0" * decimals if decimals else ""))


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
    at = _label_line(lines)
    if at is None:
        return latex
    cells = lines[at].rstrip()[:-2].split(" & ")
    if max(len(c) for c in cells) <= 24:
        return latex
    width = f"{min(3.2, 20.0 / max(columns, 1)):.1f}cm"
    lines[at] = " & ".join(
        c if len(c) <= 24 else f"\\parbox[b]{{{width}}}{{\\centering {c.strip()}}}"
        for c in cells) + " \\\\ "
    return "\n".join(lines)


def _label_line(lines: list[str]) -> int | None:
    """The place of the column labels' line (the last header line ending in ``\\\\``
    between ``\\toprule`` and ``\\midrule``), or None."""
    top = next((i for i, line in enumerate(lines) if line.strip() == "\\toprule"), None)
    mid = next((i for i, line in enumerate(lines) if line.strip().startswith("\\midrule")), None)
    if top is None or mid is None:
        return None
    at = max(i for i in range(top, mid) if lines[i].rstrip().endswith("\\\\") or i == top)
    if at >= len(lines) or not lines[at].rstrip().endswith("\\\\"):
        return None
    return at


_NUMBER = re.compile(r"^[+-]?\d{1,3}(,\d{3})*(\.\d+)?$|^[+-]?\d+(\.\d+)?$")


def _decimals(text: object) -> int | None:
    """The decimals of a cell that is a plain number ('0.052', '1,234'), else None."""
    text = str(text)
    if not _NUMBER.match(text):
        return None
    return len(text.split(".", 1)[1]) if "." in text else 0


# --------------------------------------------------------------------------- effects


def _results(results) -> list:
    if hasattr(results, "results"):  # an EffectsTable
        return list(results.results)
    return list(results)


STAR_LEVELS = ((0.01, "***"), (0.05, "**"), (0.1, "*"))
NO_STARS = "No significance stars are shown (stars=True adds them); read the p-values."
P_FORMAT = '[<0.001]"< 0.001";0.000'


def _star_levels(stars) -> tuple[tuple[float, str], ...]:
    if stars is True:
        return STAR_LEVELS
    if not stars:
        return ()
    levels = tuple(sorted(((float(p), str(mark)) for p, mark in dict(stars).items())))
    if not levels or any(not 0 < p < 1 for p, _ in levels):
        raise ValueError(f"stars is {stars!r}; expected True, False or a mapping such as "
                         "{0.1: '*', 0.05: '**', 0.01: '***'}.")
    return levels


def _star(p: float, levels) -> str:
    if p != p:
        return ""
    return next((mark for cut, mark in levels if p < cut), "")


def _stars_note(levels) -> str:
    if not levels:
        return NO_STARS
    return "Significance: " + ", ".join(f"{mark} p < {cut:g}" for cut, mark in reversed(levels)) + "."


def _fmt_format(digits: int) -> str:
    return "#,##0" + ("." + "0" * digits if digits else "")


class _Grid:
    """Rows of a journal table kept twice: display strings (HTML, LaTeX, Markdown, CSV, Word)
    and spreadsheet cells (numbers with number formats)."""

    def __init__(self, digits: int):
        self.digits = digits
        self.rows: list[tuple[str, list[str]]] = []
        self.cells: list[tuple[object, ...]] = []

    def add(self, stub: str, texts: list[str], cells: list[object] | None = None,
            extra: list[list[object]] | None = None) -> None:
        self.rows.append((stub, texts))
        self.cells.append(tuple([stub, *(cells if cells is not None else texts)]))
        for more in extra or []:
            self.cells.append(tuple(["", *more]))

    def estimates(self, stub: str, values: list[float], marks: list[str]) -> None:
        fmt_ = _fmt_format(self.digits)
        self.add(stub, [fmt(v, self.digits) + m if v == v else "" for v, m in zip(values, marks)],
                 [Cell(float(v), fmt_ + (f'"{m}"' if m else "")) if v == v else ""
                  for v, m in zip(values, marks)])

    def beneath(self, below: str, se: list[float], low: list[float], high: list[float]) -> None:
        fmt_ = _fmt_format(self.digits)
        if below == "se":
            self.add("", [f"({fmt(v, self.digits)})" if v == v else "" for v in se],
                     _cells(se, f'"("{fmt_}")"', ""))
            return
        self.add("", [f"[{fmt(a, self.digits)}, {fmt(b, self.digits)}]" if a == a else ""
                      for a, b in zip(low, high)],
                 _cells(low, f'"["{fmt_}","', ""), extra=[_cells(high, f'{fmt_}"]"', "")])

    def p_values(self, stub: str, values: list[float]) -> None:
        self.add(stub, [p_value(v) for v in values], _cells(values, P_FORMAT))

    def numbers(self, stub: str, values: list[float], digits: int | None = None) -> None:
        d = self.digits if digits is None else digits
        self.add(stub, [fmt(v, d) if v == v else "–" for v in values],
                 _cells(values, _fmt_format(d)))

    def counts(self, stub: str, values: list[int | None]) -> None:
        self.add(stub, [f"{int(v):,}" if v is not None else "–" for v in values],
                 [Cell(int(v), "#,##0") if v is not None else "–" for v in values])

    def words(self, stub: str, values: list[str]) -> None:
        self.add(stub, list(values))

    def table(self, names: list[str], numbers: pd.DataFrame, title: str, notes: list[str],
              groups=()) -> "JournalTable":
        layout = pd.DataFrame([[stub, *cells] for stub, cells in self.rows], columns=[STUB, *names])
        return JournalTable(layout=layout, numbers=numbers, title=title, notes=tuple(notes),
                            cells=tuple(self.cells), groups=tuple(groups))


def _numbered_columns(label, columns, names: list[str]) -> tuple[str, ...]:
    """A group's columns given by their numbers (from 1), or one sentence."""
    picked = [names[int(c) - 1] for c in columns if 1 <= int(c) <= len(names)]
    if len(picked) != len(list(columns)):
        raise ValueError(f"group {label!r} names columns {list(columns)!r}; expected "
                         f"column numbers from 1 to {len(names)}.")
    return tuple(picked)


def _groups(groups, names: list[str]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Column groups as (label, column names): from a list of (label, number of columns)
    taken left to right, or a mapping label -> 1-based column numbers."""
    if not groups:
        return ()
    if isinstance(groups, dict):
        return tuple((str(label), _numbered_columns(label, columns, names))
                     for label, columns in groups.items())
    out = []
    at = 0
    for label, span in groups:
        if at + int(span) > len(names) or int(span) < 1:
            raise ValueError(f"the groups span {sum(int(s) for _, s in groups)} columns; the "
                             f"table has {len(names)}.")
        out.append((str(label), tuple(names[at:at + int(span)])))
        at += int(span)
    return tuple(out)


def _per_column(values, n: int, name: str) -> list:
    values = list(values)
    if len(values) != n:
        raise ValueError(f"{name} gives {len(values)} values for {n} columns; give one per column.")
    return values


def effects_table(results, labels: Sequence[str] | None = None, *, below: str = "se",
                  adjust: str = "holm", digits: int = 3, title: str = "Effects of assignment",
                  coefficient: str = "Assigned to treatment", stars=False, groups=None,
                  fixed_effects: dict[str, Sequence[bool]] | None = None,
                  controls: dict[str, Sequence[bool]] | None = None,
                  notes: Sequence[str] = ()) -> JournalTable:
    """Side-by-side table of several outcomes or models, one column each.

    Parameters
    ----------
    results : list or EffectsTable
        Results with ``estimate``, ``se``, ``ci_low``/``ci_high`` and ``p_value``
        (``EffectResult``, ``CACEResult``, a ``ModelResult``'s coefficient …).
    labels : list of str, optional
        One label per column (default: the outcomes).
    below : {"se", "ci"}
        Standard error or 95 % CI beneath each estimate.
    adjust : {"holm", "bh", "none"}
        p-values adjusted across the columns.
    digits : int
        Decimals.
    title : str
        Table title.
    coefficient : str
        Label of the estimate row.
    stars : bool or dict
        Significance stars on the estimates (off by default, and the note says so); True
        for ``* p < 0.1, ** p < 0.05, *** p < 0.01`` on the headline p-value, or a
        mapping ``{level: mark}``.
    groups : list of (label, span) or dict, optional
        Column groups over the model labels: ``[("Knowledge", 2), ("Attitudes", 1)]`` or
        ``{"Knowledge": [1, 2]}``.
    fixed_effects, controls : dict, optional
        Rows saying which columns include them: ``{"Commune": [True, True, False]}``.
    notes : list of str
        More notes beneath the table.

    Returns
    -------
    JournalTable
        Rows: estimate, SE or CI, p-values (standard errors, wild bootstrap, randomisation
        inference, adjusted), control mean, observations, clusters, R².

    Examples
    --------
    >>> from evalkit.designs import compare_arms, simulate_trial
    >>> from evalkit.tables import effects_table
    >>> df = simulate_trial(n_clusters=12, cluster_size=10, icc=0.1, effect=1.0, seed=3)
    >>> r = compare_arms(df, "y", "treatment", "cluster", baseline="baseline",
    ...                  wild_reps=99, ri_reps=99, seed=1)
    >>> t = effects_table([r], labels=["Score"], stars=True)
    >>> t.layout.iloc[0, 1], t.layout.iloc[1, 1]
    ('0.884***', '(0.243)')
    """
    below = option(below, BELOW, "below")
    adjust = option(adjust, ADJUSTMENTS, "adjust")
    items = [_as_coefficient(r, coefficient) for r in _results(results)]
    if not items:
        raise ValueError("effects_table needs at least one result.")
    labels = _column_labels(labels, [getattr(r, "outcome", f"model {i + 1}")
                                     for i, r in enumerate(items)], "result")
    levels = _star_levels(stars)
    p = [float(r.p_value) for r in items]
    adjusted = _adjusted(p, adjust)
    se_types = sorted({getattr(r, "se_type", getattr(r, "cov_type", "")) for r in items} - {""})
    clustered = [bool(getattr(r, "clustered", True)) for r in items]
    grid = _Grid(digits)
    grid.estimates(coefficient, _each(items, "estimate"),
                   [_star(_headline(r), levels) for r in items])
    grid.beneath(below, _each(items, "se"), _each(items, "ci_low"), _each(items, "ci_high"))
    grid.p_values(f"p ({'/'.join(se_types) or 'SE'})", p)
    _inference_rows(grid, _each(items, "p_wild"), _each(items, "p_ri"),
                    any(clustered))
    if adjust != "none" and len(items) > 1:
        grid.p_values(f"p, {'Holm' if adjust == 'holm' else 'Benjamini–Hochberg (q)'} adjusted",
                      list(adjusted))
    _specification_rows(grid, fixed_effects, controls, len(items))
    _effect_count_rows(grid, items, clustered)
    names = [f"({i + 1}) {label}" for i, label in enumerate(labels)]
    numbers = _effect_numbers(names, items, p, adjusted, clustered)
    all_notes = [_se_note(below, se_types, clustered), *_effect_notes(items, adjust, levels),
                 _stars_note(levels), *notes]
    return grid.table(names, numbers, title, all_notes, _groups(groups, names))


def _column_labels(labels, defaults: list[str], noun: str) -> list[str]:
    """One label per column: those given (one per ``noun``), else the ``defaults``."""
    if labels is None:
        return defaults
    labels = list(labels)
    if len(labels) != len(defaults):
        raise ValueError(f"{len(labels)} labels for {len(defaults)} {noun}s; give one label per "
                         f"{noun}.")
    return labels


def _adjusted(p: list[float], adjust: str) -> list[float]:
    """The p-values adjusted across columns ("holm", "bh"), or NaN ("none")."""
    if adjust == "holm":
        return list(holm(p))
    if adjust == "bh":
        return list(benjamini_hochberg(p))
    return [float("nan")] * len(p)


def _specification_rows(grid, fixed_effects: dict | None, controls: dict | None, n: int) -> None:
    """Rows saying which columns include each set of fixed effects and controls."""
    for label, flags in (fixed_effects or {}).items():
        grid.words(f"{label} fixed effects", _yes_no(_per_column(flags, n, label)))
    for label, flags in (controls or {}).items():
        grid.words(str(label), _yes_no(_per_column(flags, n, label)))


def _each(results, name: str) -> list[float]:
    """An optional number of each result (NaN where it has none)."""
    return [_get(r, name) for r in results]


def _get(result, name: str) -> float:
    """An optional number of a result (NaN when it has none)."""
    value = getattr(result, name, float("nan"))
    return float("nan") if value is None else value


def _yes_no(flags) -> list[str]:
    return ["Yes" if f else "No" for f in flags]


def _inference_rows(grid, p_wild: list[float], p_ri: list[float], clustered: bool) -> None:
    """The wild-bootstrap and randomisation-inference p-value rows, where any column has one."""
    if any(np.isfinite(float(v)) for v in p_wild):
        grid.p_values("p (wild cluster bootstrap)" if clustered else "p (wild bootstrap)",
                      [float(v) for v in p_wild])
    if any(np.isfinite(float(v)) for v in p_ri):
        grid.p_values("p (randomisation inference)", [float(v) for v in p_ri])


def _effect_count_rows(grid, items, clustered: list[bool]) -> None:
    """Control mean, observations, clusters and R² beneath the effects."""
    if any(np.isfinite(_get(r, "control_mean")) for r in items):
        grid.numbers("Control mean", _each(items, "control_mean"))
    grid.counts("Observations", [int(r.n_obs) for r in items])
    if any(clustered) and any(getattr(r, "n_clusters", None) for r in items):
        grid.counts("Clusters", [int(r.n_clusters) if c and getattr(r, "n_clusters", None)
                                 else None for r, c in zip(items, clustered)])
    if any(np.isfinite(_get(r, "r2")) for r in items):
        grid.numbers("R²", _each(items, "r2"))


def _effect_numbers(names, items, p, adjusted, clustered) -> pd.DataFrame:
    """The effects table's numbers, unrounded (for the spreadsheet and tests)."""
    return pd.DataFrame({
        "model": names, "outcome": [getattr(r, "outcome", "") for r in items],
        "estimate": _each(items, "estimate"), "se": _each(items, "se"),
        "ci_low": _each(items, "ci_low"), "ci_high": _each(items, "ci_high"),
        "p_value": p, "p_wild": _each(items, "p_wild"),
        "p_ri": _each(items, "p_ri"), "p_adjusted": adjusted,
        "control_mean": _each(items, "control_mean"),
        "n_obs": [int(r.n_obs) for r in items],
        "n_clusters": [getattr(r, "n_clusters", None) if c else None
                       for r, c in zip(items, clustered)],
        "r2": _each(items, "r2")})


def _se_note(below: str, se_types: list[str], clustered: list[bool]) -> str:
    """The note saying what is beneath the estimates."""
    return (("Standard errors" if below == "se" else "95% confidence intervals")
            + f" beneath the estimates ({'/'.join(se_types) or 'SE'}"
            + (", Bell–McCaffrey degrees of freedom" if {"CR2", "HC2"} & set(se_types) else "")
            + (", units not clustered" if not any(clustered) else "") + ").")


def _ri_note(methods) -> list[str]:
    methods = sorted({m for m in methods if m and not m.startswith("not")})
    return [f"Randomisation inference: {'; '.join(methods)}."] if methods else []


def _effect_notes(items, adjust: str, levels) -> list[str]:
    """Notes on the estimator, the adjustment, randomisation inference and single-arm clusters."""
    notes = []
    estimators = sorted({getattr(r, "estimator", "") for r in items} - {""})
    if estimators:
        notes.append(f"Estimator: {', '.join(estimators)}.")
    if adjust != "none" and len(items) > 1:
        notes.append(f"Adjusted p-values across the {len(items)} columns by "
                     f"{'Holm (familywise error)' if adjust == 'holm' else 'Benjamini–Hochberg (false discovery rate)'}.")
    notes += _ri_note(getattr(r, "ri_method", "") for r in items)
    if any(getattr(r, "single_arm", False) for r in items):
        notes.append("Where one arm holds a single cluster, the standard errors' and the wild "
                      "bootstrap p-values are not valid; the randomisation-inference p-value "
                      "is the test" + (" (and the stars follow it)" if levels else "") + ".")
    return notes


def _headline(result) -> float:
    head = getattr(result, "headline", None)
    if isinstance(head, tuple):
        return float(head[1])
    return float(result.p_value)


def _as_coefficient(result, coefficient: str):
    """A model in a one-coefficient table: its randomised (or first) coefficient."""
    from evalkit.designs.models import ModelResult

    if isinstance(result, ModelResult):
        term = result.randomised[0] if result.randomised else result.coefficients.index[0]
        return result[term]
    return result


def _model_of(result, coefficient: str):
    """(model-like dict) of a ModelResult, a CACEResult (its 2SLS model), or a one-coefficient
    result (EffectResult and the like) whose coefficient is called ``coefficient``."""
    from evalkit.designs.models import ModelResult

    model = result if isinstance(result, ModelResult) else getattr(result, "model", None)
    if isinstance(model, ModelResult):
        c = model.coefficients
        first = model.randomised[0] if model.randomised else None
        return {
            "outcome": model.outcome, "coefficients": c, "n_obs": model.n_obs,
            "n_clusters": model.n_clusters if model.clustered else None,
            "r2": model.r2, "r2_within": model.r2_within, "fixed_effects": model.fixed_effects,
            "control_mean": model.control_mean, "se_type": model.se_type,
            "estimator": model.estimator, "p_wild": c.loc[first, "p_wild"] if first else np.nan,
            "p_ri": c.loc[first, "p_ri"] if first else np.nan,
            "ri_method": model.ri_method if first else "", "seed": model.seed,
            "clustered": model.clustered}
    frame = pd.DataFrame({"estimate": [result.estimate], "se": [result.se],
                          "ci_low": [result.ci_low], "ci_high": [result.ci_high],
                          "p_value": [_headline(result)],
                          "p_wild": [getattr(result, "p_wild", np.nan)],
                          "p_ri": [getattr(result, "p_ri", np.nan)]},
                         index=pd.Index([coefficient], name="term"))
    clustered = bool(getattr(result, "clustered", True))
    return {"outcome": getattr(result, "outcome", ""), "coefficients": frame,
            "n_obs": int(result.n_obs),
            "n_clusters": getattr(result, "n_clusters", None) if clustered else None,
            "r2": getattr(result, "r2", np.nan), "r2_within": np.nan, "fixed_effects": (),
            "control_mean": getattr(result, "control_mean", np.nan),
            "se_type": getattr(result, "se_type", getattr(result, "cov_type", "")),
            "estimator": getattr(result, "estimator", ""),
            "p_wild": getattr(result, "p_wild", np.nan), "p_ri": getattr(result, "p_ri", np.nan),
            "ri_method": getattr(result, "ri_method", ""), "seed": getattr(result, "seed", None),
            "clustered": clustered}


def regression_table(models, labels: Sequence[str] | None = None, *,
                     terms: Sequence[str] | None = None,
                     term_labels: dict[str, str] | None = None, below: str = "se",
                     stars=False, digits: int = 3, groups=None,
                     controls: dict[str, Sequence[str]] | None = None,
                     title: str = "Regression results", notes: Sequence[str] = (),
                     coefficient: str = "Assigned to treatment") -> JournalTable:
    """Several models side by side, every coefficient in its row (like ``esttab``, ``etable``
    and ``modelsummary``).

    Parameters
    ----------
    models : list
        :class:`~evalkit.designs.ModelResult` (from :func:`~evalkit.designs.estimate`),
        ``CACEResult`` or one-coefficient results such as ``EffectResult`` (their row is
        ``coefficient``).
    labels : list of str, optional
        One label per model (default: the outcomes).
    terms : list of str, optional
        The coefficients to show, in this order (default: all, in order of appearance, less
        those in ``controls``).
    term_labels : dict, optional
        Labels of the coefficient rows, ``{"treatment": "Assigned"}``.
    below : {"se", "ci"}
        Standard error or 95 % CI beneath each estimate.
    stars : bool or dict
        Stars (off by default, and the note says so).
    digits : int
        Decimals.
    groups : list of (label, span) or dict, optional
        Column groups over the model labels.
    controls : dict, optional
        ``{"Baseline covariates": ["age", "household_size"]}``: a row saying Yes where a
        model includes every listed term; those terms are not shown as rows.
    title : str
        Table title.
    notes : list of str
        More notes.
    coefficient : str
        Row name of one-coefficient results.

    Returns
    -------
    JournalTable
        Coefficient rows, then p-values of the randomised coefficient (wild bootstrap,
        randomisation inference), a row per absorbed fixed effect, the controls rows,
        observations, clusters, R², within R² and the control mean.

    Examples
    --------
    >>> from evalkit.designs import estimate, simulate_trial
    >>> from evalkit.tables import regression_table
    >>> df = simulate_trial(n_clusters=12, cluster_size=10, icc=0.1, effect=0.5, seed=3)
    >>> a = estimate(df, "y ~ treatment", treatment="treatment", cluster="cluster",
    ...              wild_reps=0, ri_reps=0)
    >>> b = estimate(df, "y ~ treatment + baseline", treatment="treatment",
    ...              cluster="cluster", wild_reps=0, ri_reps=0)
    >>> t = regression_table([a, b], controls={"Baseline score": ["baseline"]})
    >>> t.layout.iloc[:, 0].tolist()[-5:]
    ['Baseline score', 'Observations', 'Clusters', 'R²', 'Control mean']
    """
    below = option(below, BELOW, "below")
    items = [_model_of(m, coefficient) for m in _results(models)]
    if not items:
        raise ValueError("regression_table needs at least one model.")
    labels = _column_labels(labels, [m["outcome"] for m in items], "model")
    levels = _star_levels(stars)
    grid = _Grid(digits)
    for term in _term_order(items, terms, controls):
        _coefficient_rows(grid, term, (term_labels or {}).get(term, term), items, below, levels)
    clustered = [m["clustered"] for m in items]
    _inference_rows(grid, [m["p_wild"] for m in items], [m["p_ri"] for m in items],
                    any(clustered))
    _model_rows(grid, items, controls)
    names = [f"({i + 1}) {label}" for i, label in enumerate(labels)]
    se_types = sorted({m["se_type"] for m in items} - {""})
    all_notes = [_se_note(below, se_types, clustered), *_ri_note(m["ri_method"] for m in items),
                 _stars_note(levels), *notes]
    return grid.table(names, _coefficient_numbers(names, items), title, all_notes,
                      _groups(groups, names))


def _term_order(items, terms, controls) -> list[str]:
    """The coefficient rows: ``terms`` as given, else every term in order of appearance less
    those summarised in a controls row."""
    order = list(dict.fromkeys(t for m in items for t in m["coefficients"].index))
    if terms is not None:
        missing = [t for t in terms if t not in order]
        if missing:
            raise ValueError(f"term {missing[0]!r} is in no model; terms: {', '.join(order)}.")
        return list(terms)
    hidden = {t for listed in (controls or {}).values() for t in listed}
    return [t for t in order if t not in hidden]


def _coefficient_rows(grid, term: str, label: str, items, below: str, levels) -> None:
    """One coefficient's estimate row and its SE or CI row, across the models."""
    def values(column):  # each model's number (NaN in a model without the term)
        return [float(m["coefficients"].loc[term, column]) if term in m["coefficients"].index
                else float("nan") for m in items]

    grid.estimates(label, values("estimate"), [_star(p, levels) for p in values("p_value")])
    grid.beneath(below, values("se"), values("ci_low"), values("ci_high"))


def _model_rows(grid, items, controls) -> None:
    """Fixed-effect and controls rows, then observations, clusters, R² and the control
    mean."""
    effects = list(dict.fromkeys(f for m in items for f in m["fixed_effects"]))
    _included_rows(grid, items, effects, controls)
    def each(key):
        return [m[key] for m in items]

    grid.counts("Observations", each("n_obs"))
    if any(each("clustered")):
        grid.counts("Clusters", each("n_clusters"))
    grid.numbers("R²", [float(v) for v in each("r2")])
    if effects:
        grid.numbers("Within R²", [float(v) for v in each("r2_within")])
    means = [float(v) for v in each("control_mean")]
    if any(np.isfinite(means)):
        grid.numbers("Control mean", means)


def _included_rows(grid, items, effects: list[str], controls: dict | None) -> None:
    """Rows saying which models absorb each fixed effect and hold each set of controls."""
    for name in effects:
        grid.words(f"{name} fixed effects", _yes_no(name in m["fixed_effects"] for m in items))
    for label, listed in (controls or {}).items():
        grid.words(str(label), _yes_no(all(t in m["coefficients"].index for t in listed)
                                       for m in items))


def _coefficient_numbers(names, items) -> pd.DataFrame:
    """Every coefficient of every model, unrounded, one row each."""
    rows = []
    for name, m in zip(names, items):
        for term, r in m["coefficients"].iterrows():
            rows.append({"model": name, "outcome": m["outcome"], "term": term,
                         **{k: float(r[k]) for k in ("estimate", "se", "ci_low", "ci_high",
                                                     "p_value", "p_wild", "p_ri")},
                         "n_obs": m["n_obs"], "n_clusters": m["n_clusters"],
                         "r2": float(m["r2"])})
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- balance


def balance_export(balance, labels: dict[str, str] | None = None, *, digits: int = 3,
                   title: str = "Balance at baseline") -> JournalTable:
    """An iebaltab-style table from a :class:`~evalkit.designs.BalanceTable`: per
    characteristic, N and mean (SD) in each arm, the difference (treatment − control), the
    normalised difference and its p-value; the joint test in the notes.

    Parameters
    ----------
    balance : BalanceTable
        From :func:`~evalkit.designs.balance_table`.
    labels : dict, optional
        Labels of the characteristics, ``{"column": "label"}``.
    digits : int
        Decimals.
    title : str
        Table title.

    Returns
    -------
    JournalTable
        In the spreadsheet, each mean is a number with its SD beneath it.

    Examples
    --------
    >>> from evalkit.designs import balance_table, simulate_trial
    >>> from evalkit.tables import balance_export
    >>> df = simulate_trial(n_clusters=12, cluster_size=10, icc=0.1, seed=3)
    >>> b = balance_table(df, ["baseline"], "treatment", "cluster", ri_reps=99, seed=1)
    >>> balance_export(b, labels={"baseline": "Score"}).layout.iloc[0, 0]
    'Score'
    """
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
    return JournalTable(layout=layout, numbers=t, title=title, notes=_balance_notes(balance),
                        cells=_balance_cells(layout[STUB], t, _fmt_format(digits)))


def _balance_notes(balance) -> tuple[str, ...]:
    """The balance table's notes: the difference and its standard errors, the joint test."""
    clustered = getattr(balance, "clustered", True)
    how = (f"{balance.se_type} standard errors clustered by unit of assignment "
           f"({balance.n_clusters_treatment} treatment, {balance.n_clusters_control} control "
           f"{balance.assigned})" if clustered else
           f"{balance.se_type} (heteroskedasticity-robust) standard errors, units not clustered "
           f"({balance.n_clusters_treatment} treatment, {balance.n_clusters_control} control "
           "units)")
    return (f"Difference: treatment minus control; p from a regression on assignment with "
            f"{how}.",
            f"Joint test (sum of squared studentised differences; {balance.omnibus_method}): "
            f"statistic {fmt(balance.omnibus_statistic)}, {p_phrase(balance.omnibus_p)}.",
            "In the spreadsheet each mean has its standard deviation beneath it.")


def _balance_cells(labels, t: pd.DataFrame, number: str) -> tuple:
    """The balance table's spreadsheet cells: per characteristic, a row of numbers and a row
    of standard deviations beneath the means."""
    def num(v, f=number):
        return Cell(float(v), f) if v == v else "–"

    cells = []
    for label, (_, r) in zip(labels, t.iterrows()):
        cells.append((label, Cell(int(r["n_treatment"]), "#,##0"), num(r["mean_treatment"]),
                      Cell(int(r["n_control"]), "#,##0"), num(r["mean_control"]),
                      num(r["difference"]), num(r["normalised_difference"]),
                      num(r["p_value"], P_FORMAT)))
        cells.append(("", "", num(r["sd_treatment"], f'"("{number}")"'), "",
                      num(r["sd_control"], f'"("{number}")"'), "", "", ""))
    return tuple(cells)
