"""The reader's page around the report's content, added after conversion to HTML: a table of
contents, collapsible Methods and Glossary, and the print header (the report's title on
every page, page numbers). Plain HTML and CSS only: the page holds no script.

Everything here acts on the HTML the report template produced, whose text is already
escaped; the title goes into CSS only as escaped code points.
"""

from __future__ import annotations

import base64
import functools
import html
import re

from evalkit.i18n import N_, _, activate, active, digits

SYNTHETIC_BAND = N_("Synthetic data: an illustration of the method, not findings about real "
                    "children or households.")
SYNTHETIC_HEADER = N_("Synthetic data (illustration)")
FONTS = {"km": ("fontpkg_noto_sans_khmer", "NotoSansKhmer[wdth,wght].ttf", "Noto Sans Khmer")}
"""Per language, the font embedded in its reports: (package, file, family)."""

_H2 = re.compile(r'<h2 id="([^"]*)">(.*?)</h2>', re.S)
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
    label = html.escape(_("Contents"))
    return (f'<nav class="evalkit-toc" aria-label="{label}"><p class="evalkit-label">{label}'
            "</p><ol>" + "".join(items) + "</ol></nav>")


@functools.lru_cache(maxsize=4)
def _font_file(language: str) -> bytes | None:
    if language not in FONTS:
        return None
    from importlib import resources

    package, name, _family = FONTS[language]
    return (resources.files(package) / "files" / name).read_bytes()


def embedded_font(language: str, text: str) -> str:
    """An @font-face rule embedding the language's font as a data: URI (the page stays
    offline), cut down to the characters of ``text`` with their shaping features kept."""
    font = _font_file(language)
    if font is None:
        return ""
    import io

    from fontTools import subset
    from fontTools.ttLib import TTFont

    options = subset.Options()
    options.layout_features = ["*"]  # Khmer needs its reordering and stacking features
    options.flavor = "woff"
    options.notdef_outline = True
    subsetter = subset.Subsetter(options)
    # every digit, so that the time of rendering does not change the font
    subsetter.populate(text="".join(sorted(set(text + "0123456789០១២៣៤៥៦៧៨៩"))))
    face = TTFont(io.BytesIO(font), recalcTimestamp=False)  # the same page, the same bytes
    subsetter.subset(face)
    out = io.BytesIO()
    face.flavor = "woff"
    face.save(out)
    family = FONTS[language][2]
    encoded = base64.b64encode(out.getvalue()).decode("ascii")
    stack = f'"{family}", system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", sans-serif'
    # the printed page's header and footer are outside the body: they name the font too
    return (f'@font-face {{ font-family: "{family}"; font-weight: 100 900; '
            f'src: url(data:font/woff;base64,{encoded}) format("woff"); }}\n'
            f'body {{ font-family: {stack}; }}\n'
            f'@page {{ @top-center {{ font-family: {stack}; }} '
            f'@top-right {{ font-family: {stack}; }} '
            f'@bottom-center {{ font-family: {stack}; }} }}\n')


_STYLE_OR_TAG = re.compile(r"(<style.*?</style>|<[^>]+>)", re.S)


def _text_digits(page: str, script: str) -> str:
    """Digits of the page's text (not of its markup or style) in ``script``."""
    if script == "latin":
        return page
    start = page.find("<body")
    head, body = (page[:start], page[start:]) if start >= 0 else ("", page)
    parts = _STYLE_OR_TAG.split(body)
    return head + "".join(p if i % 2 else digits(p, script) for i, p in enumerate(parts))


def _page_text(page: str) -> str:
    return html.unescape(_STYLE_OR_TAG.sub(" ", page))


def finish(page: str, title: str, language: str = "en", number_script: str = "latin",
           synthetic: bool = False) -> str:
    """The converted report with its contents list after the brief, a print header naming
    the report on every page and, for synthetic data, a band on screen and in every printed
    page's header; in ``language`` (its fixed page text, its font embedded, its digits in
    ``number_script``)."""
    previous = active()
    activate(language)
    try:
        return _finish(page, title, language, number_script, synthetic)
    finally:
        activate(previous)


def _finish(page: str, title: str, language: str, number_script: str, synthetic: bool) -> str:
    nav = contents(page)
    anchor = page.find('<h2 id="key-findings"')
    if anchor < 0:
        anchor = page.find('<h2 id="', page.find('<h2 id="') + 1)
    if nav and anchor >= 0:
        start = page.rfind('<section class="evalkit-output">', 0, anchor)
        at = start if start >= 0 else anchor
        page = page[:at] + nav + page[at:]
    if synthetic:
        band = (f'<div class="evalkit-band" role="note">{html.escape(_(SYNTHETIC_BAND))}</div>')
        page = page.replace('<main class="evalkit-report">', band + '<main class="evalkit-report">', 1)
    page = _text_digits(page, number_script)
    style = f"@page {{ @top-center {{ content: {_css_string(title)}; }} }}"
    if synthetic:
        style += f"\n@page {{ @top-right {{ content: {_css_string(_(SYNTHETIC_HEADER))}; }} }}"
    if language != "en":
        page = page.replace('<html lang="en">', f'<html lang="{html.escape(language)}">', 1)
        cue = _("Wide table: scroll sideways to see every column →")
        before, rest = _("Page {page} of {pages}").split("{page}", 1)
        middle, after = rest.split("{pages}", 1)
        style += (f"\n@media (max-width: 600px) {{ .evalkit-wide::before {{ content: "
                  f"{_css_string(cue)}; }} }}\n@page {{ @bottom-center {{ content: "
                  f"{_css_string(before)} counter(page) {_css_string(middle)} counter(pages) "
                  f"{_css_string(after)}; }} }}\n")
        style += embedded_font(language, _page_text(page) + cue + title + before + middle + after
                               + _(SYNTHETIC_HEADER))
    running = f"<style>{style}</style>"
    return page.replace("</head>", running + "\n</head>", 1)
