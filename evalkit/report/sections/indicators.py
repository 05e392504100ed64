"""Shares with their denominators named, configured under ``indicators:``."""

from __future__ import annotations

import pandas as pd

from evalkit.config import IndicatorsConfig, ProgrammeConfig
from evalkit.data.programme import ProgrammeData
from evalkit.indices.shares import Indicator, share_table
from evalkit.report import display
from evalkit.report.disclosure import SUPPRESSED, Disclosure
from evalkit.report.sections.common import source


def configs(config: ProgrammeConfig) -> tuple[IndicatorsConfig, ...]:
    return config.indicators


def compute(data: ProgrammeData, cfg: IndicatorsConfig) -> pd.DataFrame:
    items = [Indicator(label=i.label, numerator=i.numerator, denominator=i.denominator,
                       denominator_label=i.denominator_label, published=i.published)
             for i in cfg.items]
    return share_table(data.table(cfg.file), items)


def _shown(dc: Disclosure, cfg: IndicatorsConfig, table: pd.DataFrame) -> list[tuple[str, str, str]]:
    """Number, out of, and % of each item as shown.

    Items counting different values of one column over the same denominator are parts of
    one whole (with the rest: those in neither), suppressed together; any other item is the
    pair (number, the rest of its denominator). An item whose denominator is another item's
    numerator (those still running the business, of the sample) shows its 'out of' only when
    that number is shown."""
    items = list(cfg.items)
    rows = [row for _, row in table.iterrows()]
    groups: dict[tuple, list[int]] = {}
    for i, item in enumerate(items):
        if len(item.numerator) == 1:
            column = next(iter(item.numerator))
            groups.setdefault((column, tuple(sorted(item.denominator.items()))), []).append(i)
    joint = {i: g for g in groups.values() if len(g) > 1 for i in g}
    number: dict[int, int | None] = {}
    for members in {tuple(g) for g in joint.values()}:
        d = int(rows[members[0]]["denominator"])
        cells = {str(i): int(rows[i]["numerator"]) for i in members}
        cells["rest"] = d - sum(cells.values())
        shown, _, _ = dc.linked(cfg.title, cells, {"denominator": (set(cells), d)},
                                row=" / ".join(items[i].label for i in members))
        number.update({i: shown[str(i)] for i in members})
    for i, row in enumerate(rows):
        if i not in joint:
            part = dc.partition(cfg.title, {"number": int(row["numerator"]),
                                            "remainder": int(row["denominator"] - row["numerator"])},
                                total=int(row["denominator"]), row=items[i].label)
            number[i] = part.counts["number"]
    out = []
    for i, row in enumerate(rows):
        d = int(row["denominator"])
        # another item's hidden number gives this denominator away when it counts values
        # of a column this denominator selects on (the same set, or its complement)
        source_of_d = [j for j, other in enumerate(items)
                       if j != i and set(other.numerator) & set(items[i].denominator)]
        d_hidden = dc.small(d) or any(number[j] is None for j in source_of_d)
        n_shown = number[i] if not d_hidden else None
        out_of = (f"fewer than {dc.min_cell}" if dc.small(d) else SUPPRESSED) if d_hidden else f"{dc.value(d):,}"
        pct = (display.share(100 * number[i] / dc.value(d)) if number[i] is not None and d and not dc.small(d)
               else SUPPRESSED)
        out.append((SUPPRESSED if n_shown is None else f"{n_shown:,}", out_of, pct))
    return out


def render(data: ProgrammeData, cfg: IndicatorsConfig, table: pd.DataFrame, dc: Disclosure) -> list:
    shown = _shown(dc, cfg, table)
    frame = pd.DataFrame({
        "Indicator": table["indicator"],
        "Number": [s[0] for s in shown],
        "Out of": [s[1] for s in shown],
        "Denominator": table["denominator_label"],
        "%": [s[2] for s in shown],
        "Published %": ["not published" if pd.isna(v) else f"{v:.0f}" for v in table["published_percent"]],
    })
    styler = (frame.style.hide(axis="index")
              .set_caption(f"{cfg.title}: every percentage names its denominator."))
    out = [display.markdown(f"## {cfg.title}"), display.table(styler)]
    if cfg.note:
        out.append(display.note(cfg.note, kind="info"))
    return out + source(cfg.source)


def headlines(data: ProgrammeData, cfg: IndicatorsConfig, table: pd.DataFrame, dc: Disclosure) -> list[str]:
    first = table.iloc[0]
    number, out_of, pct = _shown(dc, cfg, table)[0]
    if pct == SUPPRESSED:
        return []
    return [f"**{cfg.title}:** {first['indicator'].lower()}: {number} of {out_of} "
            f"{first['denominator_label']} ({pct} %)."]
