"""Charts as inline SVG with real text: labels stay sharp and selectable, take the page's
font (Khmer included) and can be drawn for a phone's width as well as a page's.

Every report chart is drawn twice by its section (``narrow=False`` for screens and print,
``narrow=True`` for phones, with larger type relative to its width); :func:`svg` turns a
Figure into an SVG element the page embeds. Nothing here reads data.
"""

from __future__ import annotations

import io
import re

import matplotlib

WIDE = 8.0
"""Inches: the width of a chart on a screen or A4 page."""
NARROW = 4.2
"""Inches: the width of a chart drawn for a phone (390 CSS px, type at least 11 px)."""
FONT = ["DejaVu Sans"]
PALETTE = {"before": "#9db4c0", "after": "#1f5f8b", "line": "#1f5f8b", "zero": "#333333",
           "grid": "#e3e8ee"}

_STRIP = [re.compile(r"<\?xml[^>]*\?>\s*"), re.compile(r"<!DOCTYPE[^>]*>\s*"),
          re.compile(r"<metadata>.*?</metadata>\s*", re.S)]


def figure(narrow: bool, height: float, wide_height: float | None = None):
    """A Figure the width of the page or of a phone; ``height`` in inches for the phone
    version (the page version is ``wide_height`` or ``height``)."""
    from matplotlib.figure import Figure

    width = NARROW if narrow else WIDE
    return Figure(figsize=(width, height if narrow else (wide_height or height)), dpi=100)


def svg(fig, salt: str) -> str:
    """``fig`` as an inline SVG element: text kept as text, ids unique to this chart, the
    width following its container (the height from the aspect ratio)."""
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": salt,
                                "svg.id": f"c-{re.sub(r'[^a-zA-Z0-9-]', '-', salt)}"}):
        buffer = io.StringIO()
        fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None,
                                                     "Format": None, "Type": None})
    text = buffer.getvalue()
    for pattern in _STRIP:
        text = pattern.sub("", text)
    text = re.sub(r'<svg ([^>]*?)width="[^"]*" height="[^"]*"',
                  r'<svg \1class="evalkit-svg" aria-hidden="true" focusable="false"', text, count=1)
    # the page's font stack, so that Khmer and other scripts use the embedded font
    text = re.sub(r"font-family:[^;\"]*", "font-family: inherit", text)
    return text.strip()


def use_fonts() -> None:
    """Let matplotlib measure Khmer labels with the Khmer font the pages embed (it falls back
    to it for characters DejaVu Sans lacks)."""
    from importlib import resources

    from matplotlib import font_manager

    try:
        path = resources.files("fontpkg_noto_sans_khmer") / "files" / "NotoSansKhmer[wdth,wght].ttf"
        font_manager.fontManager.addfont(str(path))
    except (ModuleNotFoundError, FileNotFoundError, OSError, RuntimeError):
        return
    matplotlib.rcParams["font.family"] = ["DejaVu Sans", "Noto Sans Khmer"]
