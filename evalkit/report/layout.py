"""The reader's page around the report's content, added after conversion to HTML: a table of
contents, collapsible Methods and Glossary, and the print header (the report's title on
every page, page numbers). Plain HTML and CSS only: the page holds no script.

Everything here acts on the HTML the report template produced, whose text is already
escaped; the title goes into CSS only as escaped code points.
"""

from __future__ import annotations

import html
import re

COLLAPSIBLE = ("Methods", "Glossary")
"""Sections shown folded (a click opens them); printed open."""

_H2 = re.compile(r'<h2 id="([^"]*)">(.*?)<a class="anchor-link"[^>]*>[^<]*</a></h2>', re.S)
_TAG = re.compile(r"<[^>]+>")


def _css_string(text: str) -> str:
    """``text`` as a CSS string literal that cannot end the string or the style element
    (every other character a six-digit escape; the space after it is part of the escape)."""
    return '"' + "".join(ch if ch.isalnum() or ch == " " else f"\\{ord(ch):06x} " for ch in text) + '"'


def contents(page: str) -> str:
    """A table of contents linking every section heading (h2) of ``page``."""
    items = [f'<li><a href="#{anchor}">{_TAG.sub("", inner).strip()}</a></li>'
             for anchor, inner in _H2.findall(page)]
    if len(items) < 3:
        return ""
    return ('<nav class="evalkit-toc" aria-label="Contents"><p class="evalkit-label">Contents'
            "</p><ol>" + "".join(items) + "</ol></nav>")


def _fold(page: str, heading: str) -> str:
    """Wrap the output section that starts with the h2 ``heading`` in <details>."""
    at = page.find(f'<h2 id="{heading}">')
    if at < 0:
        return page
    start = page.rfind('<section class="evalkit-output">', 0, at)
    end = page.find("</section>", at)
    if start < 0 or end < 0:
        return page
    end += len("</section>")
    return (page[:start] + f'<details class="evalkit-more"><summary>{html.escape(heading)}'
            "</summary>" + page[start:end] + "</details>" + page[end:])


def finish(page: str, title: str) -> str:
    """The converted report with its contents list after the title block, Methods and
    Glossary folded, and a print header naming the report on every page."""
    nav = contents(page)
    first = page.find('<h2 id="')
    if nav and first >= 0:
        start = page.rfind('<section class="evalkit-output">', 0, first)
        at = start if start >= 0 else first
        page = page[:at] + nav + page[at:]
    for heading in COLLAPSIBLE:
        page = _fold(page, heading)
    running = (f"<style>@page {{ @top-center {{ content: {_css_string(title)}; }} }}</style>")
    return page.replace("</head>", running + "\n</head>", 1)
