"""Turning results into self-contained HTML fragments for the notebook's outputs."""

from __future__ import annotations

import base64
import html
import io

from IPython.display import HTML, Markdown
from matplotlib.figure import Figure
from pandas.io.formats.style import Styler


def figure(fig: Figure, alt: str, caption: str | None = None) -> HTML:
    """The figure as an embedded PNG (no external file), with alt text and a caption."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, metadata={"Software": None})
    encoded = base64.b64encode(buffer.getvalue()).decode("ascii")
    cap = f"<figcaption>{html.escape(caption)}</figcaption>" if caption else ""
    return HTML(f'<figure class="evalkit-figure"><img src="data:image/png;base64,{encoded}" '
                f'alt="{html.escape(alt)}" width="{int(fig.get_figwidth() * 100)}">{cap}</figure>')


def table(styler: Styler) -> HTML:
    """A pandas Styler as HTML with stable element ids (so two runs give the same HTML)."""
    return HTML(styler.set_uuid("t").to_html())


def p_value(p: float | None, missing: str = "–") -> str:
    """A p-value as a reader sees it: three decimals, "< 0.001", or ``missing``."""
    if p is None or p != p:  # None or NaN
        return missing
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def markdown(text: str) -> Markdown:
    return Markdown(text)


def note(text: str, kind: str = "caveat") -> HTML:
    """A highlighted box (kind: caveat or info) holding plain text."""
    return HTML(f'<div class="evalkit-{kind}"><p>{html.escape(text)}</p></div>')
