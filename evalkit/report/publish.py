"""The one module that turns report content into what is published: HTML, plain text (for
the headline file, chart labels and alt text), Markdown, CSV and Excel.

Every piece of text passes :func:`escape` (HTML) or :func:`neutralise` (spreadsheets) here
and nowhere else. Kit text comes from the catalogue in the page's language; text a
``programme.yml`` declares is checked against what it declares (:class:`UndeclaredText`
otherwise); numbers follow one rule per kind (:data:`evalkit.report.content.RULES`); counts,
shares and statistics follow the report's disclosure :class:`~evalkit.report.disclosure.Decision`.
Declared fields that allow Markdown are rendered by markdown-it with HTML off, images off and
links only to http, https and anchors in the page.
"""

from __future__ import annotations

import functools
import html
import io
import math
import re
import string
from typing import Callable

from evalkit.display import p_value
from evalkit.errors import ReportError
from evalkit.files import neutralise
from evalkit.i18n import N_, catalogue
from evalkit.report.content import (DATA, ILLUSTRATION, MATCHED, PUBLISHED, SUPPRESSED, Block,
                                    Box, Bullets, Chart, Code, Count, Deferred, Interval, Declared, Em, Heading,
                                    Join, Lang, Msg, NoBreak, Note, Num, Para, Part,
                                    Progress, Provenance, Share, Stat, Strong, Table)
from evalkit.report.disclosure import Decision

MINUS = "\u2212"
NBSP = "\u00a0"


def escape(text: str) -> str:
    """Text as HTML text or attribute value: ``& < > " '`` escaped. The only escaping of
    published pages."""
    return html.escape(text, quote=True)


class UndeclaredText(ReportError):
    """Text offered as declared that ``programme.yml`` does not hold (a bug in a section)."""


@functools.lru_cache(maxsize=1)
def _markdown():
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.disable(["image", "html_inline", "html_block"])
    md.validateLink = lambda url: bool(re.match(r"^(https?://[^\s\"'<>]+|#[\w-]*)$", url.strip(),
                                                re.IGNORECASE))
    return md


def _number(value, rule: str, signed: bool = False) -> str:
    """A number as written in every report (see :data:`evalkit.report.content.RULES`)."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    if rule == "p":
        return p_value(value)
    if rule == "year":
        return str(int(value))
    digits = {"int": 0, "share": 0, "points": 1, "pct1": 1, "mean": 2, "score": 1,
              "decimal1": 1, "ratio": 2}[rule]
    if rule == "int":
        text = f"{int(round(value)):,}"
        if signed and value > 0:
            text = "+" + text
    else:
        rounded = round(float(value), digits)
        if rounded == 0:
            rounded = 0.0  # never "-0.0"
        text = f"{rounded:+,.{digits}f}" if signed else f"{rounded:,.{digits}f}"
    return text.replace("-", MINUS)


_NOBREAK = [(re.compile(r"(\d) %"), "\\1" + NBSP + "%"),
            (re.compile(r"\bp ([=<]) "), "p" + NBSP + "\\1" + NBSP),
            (re.compile(r"(\d) (to) ([−+\d])"), "\\1" + NBSP + "\\2" + NBSP + "\\3")]


def _tie(text: str) -> str:
    """Non-breaking spaces where a line break would split a figure ("64 %", "p = 0.915")."""
    for pattern, repl in _NOBREAK:
        text = pattern.sub(repl, text)
    return text


USED: dict[str, set[str]] = {}
"""Catalogue messages written so far in this process, per language (the translation tests
read it)."""


_LATIN_WORD = re.compile(r"[A-Za-z]{4,}")
_TEXT_CLASS = ' class="evalkit-text"'
_KHMER = re.compile("[\u1780-\u17ff]")


class Writer:
    """Writes content in one language under one disclosure decision."""

    def __init__(self, decision: Decision, language: str = "en",
                 declared: frozenset[str] | set[str] = frozenset()):
        self.decision = decision
        self.language = language
        self.declared = declared
        self._catalogue = catalogue(language)

    # ------------------------------------------------------------------ inline text

    def msg(self, message: str) -> str:
        USED.setdefault(self.language, set()).add(message)
        return self._catalogue.get(message, message) if self._catalogue else message

    def text(self, node) -> str:
        """``node`` as plain text (for JSON, CSV, chart labels and alt text)."""
        return self._inline(node, False)

    def html(self, node) -> str:
        """``node`` as an escaped HTML fragment."""
        return self._inline(node, True)

    def _inline(self, node, markup: bool) -> str:
        out = self._raw(node, markup)
        return out

    def _raw(self, node, markup: bool) -> str:
        if node is None:
            return "–"
        for kind in type(node).__mro__:
            render = _INLINE.get(kind)
            if render is not None:
                return render(self, node, markup)
        raise TypeError(f"{type(node).__name__} is not report text")

    def _plain(self, text: str, markup: bool) -> str:
        return escape(text) if markup else text

    def _num(self, node: Num, markup: bool) -> str:
        return self._plain(_number(node.value, node.rule, node.signed), markup)

    def _deferred(self, node: Deferred, markup: bool) -> str:
        return self._raw(node.make(self.decision), markup)

    def _code(self, node: Code, markup: bool) -> str:
        return self._plain(node.text, markup)

    def _share(self, node: Share, markup: bool) -> str:
        value = self.decision.share(node.num, node.den)
        if value is None:
            return self._suppressed(markup)
        return self._plain(_number(value, node.rule), markup)

    def _stat(self, node: Stat, markup: bool) -> str:
        if not self.decision.stat_shown(node.n, node):
            return self._suppressed(markup)
        return self._num(node, markup)

    def _interval(self, node: Interval, markup: bool) -> str:
        if not all(self.decision.stat_shown(end.n, end) for end in (node.low, node.high)):
            return self._suppressed(markup)
        text = self._message(Msg("{low} to {high}", low=node.low, high=node.high), markup)
        return self._wrap(text, *_TAGS[NoBreak], markup)  # (never split across lines)

    def _join(self, node: Join, markup: bool) -> str:
        sep = self._raw(node.sep, markup) if node.sep is not None else ""
        return sep.join(self._raw(p, markup) for p in node.parts)

    def _tagged(self, node, markup: bool) -> str:
        """Strong, Em and NoBreak: the inner text inside the node's tag."""
        opening, closing = _TAGS[type(node)]
        return self._wrap(self._raw(node.inner, markup), opening, closing, markup)

    def _lang(self, node: Lang, markup: bool) -> str:
        inner = self._raw(node.inner, markup)
        if markup and node.language != self.language:
            return f'<span lang="{escape(node.language)}">{inner}</span>'
        return inner

    @staticmethod
    def _wrap(inner: str, opening: str, closing: str, markup: bool) -> str:
        return f"{opening}{inner}{closing}" if markup else inner

    def _message(self, node: Msg, markup: bool) -> str:
        template = self.msg(node.id)
        args = dict(node.args)
        out = []
        for literal, name, _spec, _conv in string.Formatter().parse(template):
            if literal:
                text = _tie(literal)
                out.append(escape(text) if markup else text)
            if name is not None:
                if name not in args:
                    raise KeyError(f"message {node.id!r} has no value for {{{name}}}")
                out.append(self._raw(args[name], markup))
        return "".join(out)

    def _declared(self, node: Declared, markup: bool) -> str:
        if node.text not in self.declared:
            raise UndeclaredText(f"text offered as declared is not in programme.yml: "
                                 f"{len(node.text)} character(s) (a section shows data text)")
        text = node.text
        if node.case == "lower":
            text = text[:1].lower() + text[1:] if text[1:2].islower() or len(text) < 2 else text
        elif node.case == "capital":
            text = text[:1].upper() + text[1:]
        if node.markdown:
            rendered = _markdown().renderInline(text)
            if markup:
                return self._marked_english(rendered, text)
            return html.unescape(re.sub(r"<[^>]+>", "", rendered))
        return self._marked_english(escape(text), text) if markup else text

    def _marked_english(self, fragment: str, text: str) -> str:
        """``fragment`` marked ``lang="en"`` when it is English text inside another language's
        page (configuration text given in English only)."""
        if self.language != "en" and _LATIN_WORD.search(text) and not _KHMER.search(text):
            return f'<span lang="en">{fragment}</span>'
        return fragment

    def _count(self, node: Count, markup: bool) -> str:
        value = self.decision.count(node.key)
        if value is not None:
            return f"{value:,}"
        if node.words:
            words = (self.msg("fewer than {n}").replace("{n}", str(self.decision.min_cell))
                     if self.decision.is_small(node.key) else self.msg("a number (not shown)"))
            return escape(words) if markup else words
        return self._suppressed(markup)

    def _suppressed(self, markup: bool) -> str:
        word = self.msg(SUPPRESSED)
        return f'<span class="evalkit-suppressed">{escape(word)}</span>' if markup else word

    # ------------------------------------------------------------------ blocks

    def block(self, block: Block) -> str:
        for kind in type(block).__mro__:
            write = _BLOCKS.get(kind)
            if write is not None:
                return write(self, block)
        raise TypeError(f"{type(block).__name__} is not a report block")

    def heading(self, block: Heading) -> str:
        level = min(max(block.level, 1), 6)
        anchor = f' id="{escape(block.anchor)}"' if block.anchor else ""
        return f"<h{level}{anchor}>{self.html(block.text)}</h{level}>"

    def para(self, block: Para) -> str:
        return f"<p>{self.html(block.text)}</p>"

    def bullets(self, block: Bullets) -> str:
        return "<ul>" + "".join(f"<li>{self.html(item)}</li>" for item in block.items) + "</ul>"

    def note(self, block: Note) -> str:
        kind = block.kind if block.kind in ("caveat", "info") else "info"
        return f'<div class="evalkit-{kind}"><p>{self.html(block.text)}</p></div>'

    def blocks(self, blocks) -> str:
        return "\n".join(self.block(b) for b in blocks)

    def part(self, part: Part) -> str:
        """A part of the page; a folded part (Methods, Glossary) opens on a click and is
        printed open."""
        if part.fold and part.blocks and isinstance(part.blocks[0], Heading):
            head, rest = part.blocks[0], part.blocks[1:]
            inner = (f"<details class=\"evalkit-more\"><summary>{self.html(head.text)}</summary>"
                     + self.block(head) + self.blocks(rest) + "</details>")
        else:
            inner = self.blocks(part.blocks)
        return f'<section class="evalkit-part" id="part-{escape(part.anchor)}">{inner}</section>'

    def provenance(self, prov: Provenance) -> str:
        """The line that says where a table's or chart's numbers come from."""
        if prov.kind == DATA and prov.source is None:
            return ""
        words = {PUBLISHED: N_("Published figures: {source}."),
                 MATCHED: N_("Computed from synthetic data made to reproduce the published "
                             "figures: {source}."),
                 ILLUSTRATION: N_("Illustration: computed from synthetic data; the source "
                                  "published no such figure."),
                 DATA: N_("Source: {source}.")}[prov.kind]
        text = self.html(Msg(words, **({"source": prov.source} if prov.source is not None
                                        and "{source}" in words else {})))
        return f'<p class="evalkit-provenance evalkit-provenance-{prov.kind}">{text}</p>'

    def table(self, table: Table) -> str:
        anchor = "t-" + re.sub(r"[^a-z0-9]+", "-", table.key.lower()).strip("-")
        head = [self._group_row(table.columns)] if any(c.group is not None
                                                        for c in table.columns) else []
        head.append("<tr>" + "".join(
            f'<th scope="col"{"" if c.numeric else _TEXT_CLASS}>{self.html(c.header)}</th>'
            for c in table.columns) + "</tr>")
        body = [self._body_row(row, table.columns) for row in table.rows]
        notes = "".join(f'<p class="evalkit-table-note">{self.html(n)}</p>' for n in table.notes)
        caption_id = f"{anchor}-caption"
        wide = " evalkit-wide" if len(table.columns) >= 3 and not table.compact else ""
        return (f'<div class="evalkit-table-block" id="{anchor}">'
                + self.provenance(table.provenance)
                + f'<p class="evalkit-caption" id="{caption_id}">{self.html(table.caption)}</p>'
                + f'<div class="evalkit-scroll{wide}" role="region" tabindex="0" '
                  f'aria-labelledby="{caption_id}">'
                + f'<table class="evalkit-table" aria-labelledby="{caption_id}"><thead>'
                + "".join(head) + "</thead><tbody>" + "".join(body) + "</tbody></table></div>"
                + notes + "</div>")

    def _group_row(self, columns) -> str:
        """The header row above the column headers: each group's label over its columns."""
        cells, i = [], 0
        while i < len(columns):
            group = columns[i].group
            span = 1
            while group is not None and i + span < len(columns) and columns[i + span].group == group:
                span += 1
            attr = f' colspan="{span}" scope="colgroup"' if span > 1 else ' scope="col"'
            cells.append(f"<th{attr}>{self.html(group)}</th>" if group is not None else "<td></td>")
            i += span
        return "<tr>" + "".join(cells) + "</tr>"

    def _body_row(self, row, columns) -> str:
        """One row: its first cell heads the row; text columns are marked as text."""
        cells = []
        for i, (cell, column) in enumerate(zip(row, columns)):
            content = self.html(cell) if cell is not None else "–"
            if i == 0:
                cells.append(f'<th scope="row">{content}</th>')
            else:
                cells.append(f"<td{'' if column.numeric else _TEXT_CLASS}>{content}</td>")
        return "<tr>" + "".join(cells) + "</tr>"

    def table_cells(self, table: Table) -> list[list[str]]:
        """The table as plain text cells, header row first (for CSV, Excel and Markdown)."""
        rows = [[self.text(c.header) for c in table.columns]]
        rows += [[self.text(cell) if cell is not None else "–" for cell in row] for row in table.rows]
        return rows

    def chart(self, chart: Chart) -> str:
        from evalkit.report.charts import svg

        wide = svg(chart.draw(self.decision, self.text, False), chart.key + "-w")
        narrow = svg(chart.draw(self.decision, self.text, True), chart.key + "-n")
        alt = escape(self.text(chart.alt))
        return (f'<figure class="evalkit-chart" role="group" aria-label="{alt}">'
                + self.provenance(chart.provenance)
                + f'<div class="evalkit-chart-wide" role="img" aria-label="{alt}">{wide}</div>'
                + f'<div class="evalkit-chart-narrow" role="img" aria-label="{alt}">{narrow}</div>'
                + f"<figcaption>{self.html(chart.caption)}</figcaption></figure>")

    def progress(self, block: Progress) -> str:
        share = max(0.0, min(1.0, block.value / block.target)) if block.target else 0.0
        status = self.html(block.status)
        label = self.html(block.label)
        aria = escape(self.text(block.label) + "; " + self.text(block.status))
        return (f'<div class="evalkit-progress" role="img" aria-label="{aria}"><p>{label}: '
                f'<strong>{status}</strong></p><div class="evalkit-bar"><span class="evalkit-fill" '
                f'data-share="{share * 100:.0f}" style="width:{share * 100:.1f}%"></span></div></div>')

    def box(self, box: Box) -> str:
        kind = box.kind if box.kind in ("illustration", "published", "brief") else "illustration"
        default = {"illustration": "Illustration", "published": "Published figures",
                   "brief": "In brief"}[kind]
        label = self.html(box.label) if box.label is not None else escape(self.msg(default))
        return (f'<div class="evalkit-box evalkit-box-{kind}"><p class="evalkit-label">{label}</p>'
                + self.blocks(box.blocks) + "</div>")


# ------------------------------------------------------------------ other formats



_TAGS = {Strong: ("<strong>", "</strong>"), Em: ("<em>", "</em>"),
         NoBreak: ('<span class="evalkit-nowrap">', "</span>")}
_INLINE: dict[type, Callable] = {
    Msg: Writer._message, Declared: Writer._declared, Num: Writer._num,
    Deferred: Writer._deferred, Code: Writer._code, Count: Writer._count, Share: Writer._share,
    Stat: Writer._stat, Interval: Writer._interval, Join: Writer._join, Strong: Writer._tagged,
    Em: Writer._tagged, NoBreak: Writer._tagged, Lang: Writer._lang}
"""How each kind of inline content is written (a subclass is written as its nearest kind)."""
_BLOCKS: dict[type, Callable] = {
    Heading: Writer.heading, Para: Writer.para, Bullets: Writer.bullets, Note: Writer.note,
    Table: Writer.table, Chart: Writer.chart, Progress: Writer.progress, Box: Writer.box}
"""How each kind of block is written."""

def to_markdown(writer: Writer, blocks) -> str:
    """Blocks as Markdown (tables as pipe tables); every cell's | and markup characters
    escaped."""
    def md(text: str) -> str:
        return re.sub(r"([\\`*_{}\[\]()#+!|<>])", r"\\\1", text)

    out = []
    for block in blocks:
        if isinstance(block, Heading):
            out.append("#" * block.level + " " + md(writer.text(block.text)))
        elif isinstance(block, (Para, Note)):
            out.append(md(writer.text(block.text)))
        elif isinstance(block, Bullets):
            out.append("\n".join("- " + md(writer.text(i)) for i in block.items))
        elif isinstance(block, Table):
            cells = writer.table_cells(block)
            out.append(md(writer.text(block.caption)))
            out.append("| " + " | ".join(md(c) for c in cells[0]) + " |")
            out.append("|" + "|".join("---" for _ in cells[0]) + "|")
            out += ["| " + " | ".join(md(c) for c in row) + " |" for row in cells[1:]]
        elif isinstance(block, Box):
            out.append(to_markdown(writer, block.blocks))
    return "\n\n".join(out) + "\n"


def to_csv(writer: Writer, table: Table) -> str:
    """One table as CSV, every cell neutralised against formula injection."""
    import csv

    buffer = io.StringIO()
    out = csv.writer(buffer)
    for row in writer.table_cells(table):
        out.writerow([neutralise(c) for c in row])
    return buffer.getvalue()


def table_records(writer: Writer, tables: list[Table]) -> list[dict]:
    """Tables as plain records (caption, header and rows of text), as a page shows them."""
    return [{"caption": writer.text(t.caption), "cells": writer.table_cells(t)} for t in tables]


def to_xlsx(writer: Writer, tables: list[Table]) -> bytes:
    """Tables as one workbook (a sheet each)."""
    return records_to_xlsx(table_records(writer, tables))


def records_to_xlsx(records: list[dict]) -> bytes:
    """Table records (see :func:`table_records`) as one workbook, a sheet each: every cell
    written as a number or as text, never as a formula."""
    from openpyxl import Workbook

    book = Workbook()
    book.remove(book.active)
    for i, record in enumerate(records, start=1):
        sheet = book.create_sheet(f"Table {i}")
        sheet.append([neutralise(record["caption"])])
        for row in record["cells"]:
            sheet.append([_xlsx_cell(str(c)) for c in row])
        for cells in sheet.iter_rows():
            for cell in cells:
                if cell.data_type == "f":  # belt and braces: never a formula
                    cell.value = neutralise(str(cell.value))
                    cell.data_type = "s"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _xlsx_cell(text: str):
    plain = text.replace(MINUS, "-").replace(",", "").replace(NBSP, "")
    if re.fullmatch(r"[-+]?\d+(\.\d+)?", plain):
        return float(plain) if "." in plain else int(plain)
    return neutralise(text)


def stats_of(blocks) -> list[Stat]:
    """Every statistic in ``blocks`` (for the disclosure audit)."""
    from evalkit.report.content import inlines_of, walk_inline

    out = []
    for block in blocks:
        for text in inlines_of(block):
            out += [n for n in walk_inline(text) if isinstance(n, Stat)]
    return out


def all_blocks(parts) -> list:
    """The blocks of ``parts`` and of every box inside them."""
    out = []
    for part in parts:
        out += list(part.blocks)
    return out


Draw = Callable
