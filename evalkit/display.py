"""How results show themselves: one p-value wording, one escaping path, compact HTML tables.

Result objects of :mod:`evalkit.indices` and :mod:`evalkit.designs` take their display from
here (``__repr__``, ``_repr_html_`` in Jupyter, and the p-values of ``summary()``), and the
report layer uses the same formatter, so that a p-value reads the same everywhere: three
decimals, ``< 0.001``, never ``0.0000``. Text is always escaped.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence

P_FLOOR = 0.001


def p_value(p: float | None, missing: str = "–") -> str:
    """A p-value as a reader sees it: three decimals, "< 0.001", or ``missing``."""
    if p is None or p != p:  # None or NaN
        return missing
    return f"< {P_FLOOR:g}" if p < P_FLOOR else f"{p:.3f}"


def p_phrase(p: float | None) -> str:
    """'p = 0.023', 'p < 0.001' or 'p not computed': never 'p = < 0.001'."""
    text = p_value(p, missing="")
    if not text:
        return "p not computed"
    return f"p {text}" if text.startswith("<") else f"p = {text}"


def fmt(value: float | None, digits: int = 3, signed: bool = False) -> str:
    """A number rounded for reading; '–' when missing."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:+.{digits}f}" if signed else f"{value:.{digits}f}"


def html_table(title: str, header: Sequence[str], rows: Sequence[Sequence[object]],
               note: str = "") -> str:
    """A compact table for Jupyter: every cell, header, title and note escaped."""
    esc = html.escape
    head = "".join(f"<th>{esc(str(h))}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{esc(str(c))}</td>" for c in row) + "</tr>" for row in rows)
    foot = f"<p style='font-size:85%;margin:.3em 0 0'>{esc(note)}</p>" if note else ""
    return (f"<div><p style='margin:0 0 .3em'><strong>{esc(title)}</strong></p>"
            f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{foot}</div>")
