"""What several sections share: counts under ``min_cell``, source lines, round labels and the
pre/post table (used by the pre/post, CSI pre/post and case-closure sections)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from evalkit.data.programme import ProgrammeData
from evalkit.designs.paired import AttritionCheck, PrePostResult
from evalkit.i18n import _
from evalkit.report import display
from evalkit.report.disclosure import SUPPRESSED, Disclosure

p_value = display.p_value


def source(text: str | None) -> list:
    return [display.markdown("*" + _("Source: {source}").format(source=text) + "*")] if text else []


def round_label(data: ProgrammeData, value: object) -> str:
    labels = data.config.csi.round_labels if data.config.csi else {}
    return str(labels.get(value, f"Round {value}"))


def parts_of(r: PrePostResult) -> dict[str, int]:
    """Improved / unchanged / worse as counts of pairs (they add up to ``n_pairs``)."""
    n = r.n_pairs
    return {"Improved": int(round(r.improved_pct * n / 100)),
            "Unchanged": int(round(r.unchanged_pct * n / 100)),
            "Worse": int(round(r.worse_pct * n / 100))}


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.0f}"


def prepost_row(dc: Disclosure, table: str, r: PrePostResult, label: str, published=None, *,
                of: int | None = None, hide_parts: bool = False) -> dict:
    """One row of a pre/post table as shown: every statistic of a group under ``min_cell``
    suppressed (CI and p-values included), and improved / unchanged / worse shown as parts of
    the pairs (a small part and its complement suppressed).

    ``of``: the number of units the pairs are part of when that number is shown elsewhere
    (children paired, families rated at exit): when the units left out are fewer than
    min_cell, the pairs' count is hidden. ``hide_parts``: improved / unchanged / worse are
    hidden (they are also parts of another row's, as care groups are of all children)."""
    binary = r.kind == "binary"
    scale = 100 if binary else 1
    level = display.share if binary else display.mean  # shares of people, or mean scores
    change = display.points if binary else (lambda v: display.mean(v, signed=True))
    name = label + (" (%)" if binary else "")
    pairs = dc.count(r.n_pairs, table, f"{name}: pairs")
    if of is not None and r.n_pairs >= dc.min_cell and of > r.n_pairs:
        left = dc.partition(table, {"pairs": r.n_pairs, "left out": of - r.n_pairs}, total=of,
                            row=f"{name}: pairs")
        pairs = left.text("pairs")
    row = {"Outcome": name, "Pairs (n)": pairs}
    if dc.rests_on(r.n_pairs, table, f"{name}: statistics") and not shares_hidden(dc, table, r, name):
        parts = dc.partition(table, parts_of(r), total=r.n_pairs, row=name, keep=("Improved",))
        if hide_parts:
            parts = dataclasses.replace(parts, counts={k: None for k in parts.counts})
        row.update({
            "Before": level(r.mean_before * scale),
            "After": level(r.mean_after * scale),
            "Change": change(r.mean_change * scale),
            "95 % CI": f"{change(r.ci_low * scale)} to {change(r.ci_high * scale)}",
            "p-value": p_value(r.p_mcnemar) if binary
            else f"{p_value(r.p_ttest)} / {p_value(r.p_wilcoxon)}",
            **{f"{k} (%)": _pct(v) if parts.shown(k) else SUPPRESSED for k, v in parts.percent.items()},
        })
    else:
        row.update({c: SUPPRESSED for c in ("Before", "After", "Change", "95 % CI",
                                           "p-value", "Improved (%)",
                                           "Unchanged (%)", "Worse (%)")})
    if published is not None:
        row["Published"] = f"{published:.0f}"
    return row


def shares_hidden(dc: Disclosure, table: str, r: PrePostResult, name: str) -> bool:
    """For a yes/no outcome, whether the share having it before or after (or lacking it)
    stands for fewer than min_cell units: then the shares, their change and its CI are all
    suppressed (any two of them give the third)."""
    if r.kind != "binary":
        return False
    hidden = False
    for when, mean in (("before", r.mean_before), ("after", r.mean_after)):
        k = int(round(mean * r.n_pairs))
        part = dc.partition(table, {"has": k, "lacks": r.n_pairs - k}, total=r.n_pairs,
                            row=f"{name} ({when})")
        hidden |= not (part.shown("has") and part.shown("lacks"))
    return hidden


def prepost_styler(rows: list[dict], caption: str, min_cell: int):
    frame = pd.DataFrame(rows)
    return (frame.style.hide(axis="index")
            .set_caption(caption + f" '{SUPPRESSED}': fewer than {min_cell} units, or a figure "
                         "that would let such a group be worked out."))


def attrition_sentence(dc: Disclosure, table: str, a: AttritionCheck | None, unit: str = "units",
                       stayers: int | None = None, leavers: str | None = None) -> str:
    """Who was assessed only before, and whether they differed at the start; a group under
    ``min_cell`` (the leavers, or the ``stayers`` assessed again) is counted in words and its
    mean is never shown."""
    if a is None or a.only_before == 0:
        return f"Every one of the {unit} assessed before was assessed again."
    n = leavers if leavers is not None else dc.count(a.only_before, table, "assessed only before")
    if (not dc.rests_on(a.only_before, table, "assessed only before: mean")
            or (stayers is not None and not dc.rests_on(stayers, table, "assessed again: mean"))
            or np.isnan(a.p_value)):
        return (f"{n[:1].upper() + n[1:]} {unit} were assessed only before; too few in one of "
                "the two groups to compare them.")
    verdict = "differed from" if a.p_value < 0.05 else "did not differ detectably from"
    return (f"{n[:1].upper() + n[1:]} {unit} were assessed only before. At the first assessment they {verdict} those "
            f"assessed again (mean {a.mean_leavers:.2f} vs {a.mean_stayers:.2f}; p = "
            f"{p_value(a.p_value)}).")
