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


def _shown(dc: Disclosure, cfg: IndicatorsConfig, row) -> tuple[str, str, str]:
    """Number, out of, and % as shown (a small number, or a small remainder, suppressed)."""
    part = dc.partition(cfg.title, {"number": int(row["numerator"]),
                                    "remainder": int(row["denominator"] - row["numerator"])},
                        total=int(row["denominator"]), row=row["indicator"])
    out_of = dc.count(int(row["denominator"]), cfg.title, f"{row['indicator']}: denominator")
    pct = f"{part.percent['number']:.1f}" if part.shown("number") and part.total else SUPPRESSED
    return part.text("number"), out_of, pct


def render(data: ProgrammeData, cfg: IndicatorsConfig, table: pd.DataFrame, dc: Disclosure) -> list:
    shown = [_shown(dc, cfg, row) for _, row in table.iterrows()]
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
    number, out_of, pct = _shown(dc, cfg, first)
    if pct == SUPPRESSED:
        return []
    return [f"**{cfg.title}:** {first['indicator'].lower()}: {number} of {out_of} "
            f"{first['denominator_label']} ({pct} %)."]
