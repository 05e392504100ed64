"""Shares with their denominators named, configured under ``indicators:``."""

from __future__ import annotations

import pandas as pd

from evalkit.config import IndicatorsConfig, ProgrammeConfig
from evalkit.data.programme import ProgrammeData
from evalkit.indices.shares import Indicator, share_table
from evalkit.report import display
from evalkit.report.privacy import suppress_small
from evalkit.report.sections.common import source


def configs(config: ProgrammeConfig) -> tuple[IndicatorsConfig, ...]:
    return config.indicators


def compute(data: ProgrammeData, cfg: IndicatorsConfig) -> pd.DataFrame:
    items = [Indicator(label=i.label, numerator=i.numerator, denominator=i.denominator,
                       denominator_label=i.denominator_label, published=i.published)
             for i in cfg.items]
    return share_table(data.table(cfg.file), items)


def render(data: ProgrammeData, cfg: IndicatorsConfig, table: pd.DataFrame) -> list:
    min_cell = data.config.min_cell
    frame = pd.DataFrame({
        "Indicator": table["indicator"],
        "Number": table["numerator"],
        "Out of": table["denominator"],
        "Denominator": table["denominator_label"],
        "%": table["percent"],
        "Published %": table["published_percent"],
    })
    frame = suppress_small(frame, "Out of", min_cell, ["%", "Number"])
    styler = (frame.style.hide(axis="index")
              .format("{:.0f}", subset=["Number"], na_rep="–")
              .format("{:.0f}", subset=["Out of"], na_rep=f"fewer than {min_cell}")
              .format("{:.1f}", subset=["%"], na_rep="–")
              .format("{:.0f}", subset=["Published %"], na_rep="not published")
              .set_caption(f"{cfg.title}: every percentage names its denominator."))
    out = [display.markdown(f"## {cfg.title}"), display.table(styler)]
    if cfg.note:
        out.append(display.note(cfg.note, kind="info"))
    return out + source(cfg.source)


def headlines(data: ProgrammeData, cfg: IndicatorsConfig, table: pd.DataFrame) -> list[str]:
    first = table.iloc[0]
    return [f"**{cfg.title}:** {first['indicator'].lower()}: {first['numerator']} of "
            f"{first['denominator']} {first['denominator_label']} ({first['percent']:.1f} %)."]
