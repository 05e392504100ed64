"""Turning results into self-contained HTML fragments for the notebook's outputs.

This is the one escaping path of the reports: text from programme.yml and from data cells is
text, never markup. :func:`markdown` escapes ``<``, ``>`` and ``&`` (our own Markdown syntax
still renders), :func:`table` escapes every cell, header and caption of a table, and
:func:`figure` and :func:`note` escape their text. Rendered pages also carry a
Content-Security-Policy that forbids scripts (see the report template).
"""

from __future__ import annotations

import base64
import html
import io
import re

from IPython.display import HTML, Markdown

from evalkit.display import p_value  # one p-value wording for the whole kit
from evalkit.i18n import N_, _, active
from evalkit.report.disclosure import SUPPRESSED as SUPPRESSED_WORD
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


def _escape_cell(value):
    return html.escape(value, quote=True) if isinstance(value, str) else value


_NUMBERISH = re.compile(r"^\s*(?:[<>]\s*)?[+−-]?[\d,]*\.?\d+(?:\s*%)?(?:\s*(?:to|/|→)\s*[<>]?\s*"
                        r"[+−-]?[\d,]*\.?\d+)?\s*$|^\s*(?:suppressed|–|-|fewer than \d+|not published|"
                        r"not available)?\s*$", re.IGNORECASE)


def _text_columns(data) -> list[int]:
    """Positions of the columns that hold words rather than numbers (left-aligned)."""
    out = []
    for i in range(data.shape[1]):
        values = [v for v in data.iloc[:, i].tolist() if isinstance(v, str) and v.strip()]
        if values and sum(not _NUMBERISH.match(v) for v in values) * 2 > len(values):
            out.append(i)
    return out


def table(styler: Styler) -> HTML:
    """A pandas Styler as HTML with stable element ids (so two runs give the same HTML); text
    in cells, column and row labels and the caption is escaped; columns of words are
    left-aligned, columns of numbers right-aligned."""
    data = styler.data
    text = _text_columns(data)
    if text:
        import pandas as pd

        classes = pd.DataFrame("", index=data.index, columns=data.columns)
        for i in text:
            classes.iloc[:, i] = "evalkit-text"
        styler.set_td_classes(classes)
    styler.data = data.map(_escape_cell) if hasattr(data, "map") else data
    styler.data.columns = _escaped_labels(data.columns)
    styler.data.index = _escaped_labels(data.index)
    styler.columns = styler.data.columns
    styler.index = styler.data.index
    if styler.caption is not None:
        styler.caption = html.escape(str(styler.caption), quote=False)
    body = styler.set_uuid("t").to_html()
    if active() != "en":  # the one word a suppressed cell shows, in the report's language
        body = body.replace(f">{SUPPRESSED_WORD}<", f">{html.escape(_(SUPPRESSED_WORD))}<")
    if data.shape[1] >= WIDE_COLUMNS:  # on a phone it scrolls sideways: say so above it
        body = f'<div class="evalkit-wide">{body}</div>'
    return HTML(body)


WIDE_COLUMNS = 4
"""Tables with this many columns or more carry a 'scroll sideways' cue on narrow screens."""


def _escaped_labels(labels):
    import pandas as pd

    if isinstance(labels, pd.MultiIndex):
        return pd.MultiIndex.from_tuples([tuple(_escape_cell(v) for v in t) for t in labels],
                                         names=labels.names)
    return pd.Index([_escape_cell(v) for v in labels], name=labels.name)



def markdown(text: str) -> Markdown:
    """Our Markdown with any HTML in it (from a config or data value) shown as text; reports
    hold no links, so a '[text](url)' or a bare URL from a config is shown as text too."""
    text = html.escape(text, quote=True).replace("](", "]\\(").replace("://", "&#58;//")
    return Markdown(text)


NOTE_KINDS = {"caveat": "", "info": "", "illustration": N_("Illustration")}


def note(text: str, kind: str = "caveat") -> HTML:
    """A highlighted box (kind: caveat, info or illustration) holding plain text; an
    illustration box is labelled as one."""
    label = _(NOTE_KINDS[kind]) if NOTE_KINDS[kind] else ""
    head = f'<p class="evalkit-label">{label}</p>' if label else ""
    return HTML(f'<div class="evalkit-{kind}">{head}<p>{html.escape(text)}</p></div>')


def progress(label: str, value: float, target: float, status: str) -> HTML:
    """A target shown as progress: a bar (value of target) and its status in words (met, not
    met, on track), so that colour is never the only cue."""
    share = max(0.0, min(1.0, value / target)) if target else 0.0
    verdict = html.escape(_("target {status}").format(status=_(status)))
    return HTML(f'<div class="evalkit-progress" role="img" aria-label="{html.escape(label)}; '
                f'{verdict}"><p>{html.escape(label)}: <strong>{verdict}'
                f'</strong></p><div class="evalkit-bar"><span style="width:'
                f'{share * 100:.1f}%"></span></div></div>')


# One rule for decimals in every report: a percentage of people is a whole number; a change
# or difference in percentage points has one decimal; a mean score (and its change) two.
def share(percent: float) -> str:
    """A percentage of people: 41, never 41.3."""
    return f"{percent:.0f}"


def points(value: float, signed: bool = True) -> str:
    """A change or difference in percentage points: +3.9."""
    return f"{value:+.1f}" if signed else f"{value:.1f}"


def mean(value: float, signed: bool = False) -> str:
    """A mean score or its change: 2.87, +0.21."""
    return f"{value:+.2f}" if signed else f"{value:.2f}"


HEADLINE_MIME = "application/vnd.evalkit.headline+json"
"""The MIME type of a report's structured headline: read from the executed notebook and
written beside the HTML as ``<name>.headline.json`` (the index and the synthesis read it)."""


class Headline:
    """A report's one-line headline, carried as a structured record (the index and the
    synthesis read it; the report shows it in its "In brief" list)."""

    def __init__(self, record: dict):
        self.record = record

    def _repr_mimebundle_(self, include=None, exclude=None):
        # shown in the report by the "In brief" list; here only carried as a record
        return {"text/html": '<span class="evalkit-headline"></span>', HEADLINE_MIME: self.record}
