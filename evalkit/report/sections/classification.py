"""Rule-based categories configured under ``classifications:`` (village risk colours,
household vulnerability tiers). The rules are declared in programme.yml, not published by
the study, so the section is set apart as an illustration and never enters the key findings."""

from __future__ import annotations

import pandas as pd

from evalkit.config import ClassificationConfig, ProgrammeConfig
from evalkit.data.programme import ProgrammeData
from evalkit.indices.classification import Category, Classification, Criterion, classify
from evalkit.report import display
from evalkit.report.disclosure import SUPPRESSED, Disclosure, is_people
from evalkit.report.sections.common import source

ILLUSTRATION = ("Illustration, not a finding: the rules below are declared in the programme's "
                "configuration, not published with thresholds by the study. The counts show how "
                "these rules sort the programme's records; they are not among the key findings.")


def configs(config: ProgrammeConfig) -> tuple[ClassificationConfig, ...]:
    return config.classifications


def compute(data: ProgrammeData, cfg: ClassificationConfig) -> Classification:
    criteria = [Criterion(c.column, c.op, c.value, c.label) for c in cfg.criteria]
    categories = [Category(c.name, c.min_criteria, c.meaning) for c in cfg.categories]
    return classify(data.table(cfg.file), criteria, categories)


def render(data: ProgrammeData, cfg: ClassificationConfig, result: Classification,
           dc: Disclosure) -> list:
    unit = cfg.unit_label
    people = is_people(unit)
    n = len(result.category)
    table = f"{cfg.title}"
    total = dc.count(n, table, "total") if people else f"{n:,}"
    pct = f"% of {total} {unit}"
    counts = result.counts()
    shown = (dc.partition(table, dict(zip(counts["category"], counts["units"])), total=n)
             if people else None)
    category_rows = pd.DataFrame({
        "Category": counts["category"], "Meaning": counts["meaning"], "Rule": counts["rule"],
        unit.capitalize(): [shown.text(c) if shown else f"{k:,}" for c, k in zip(counts["category"], counts["units"])],
        pct: [(f"{shown.percent[c]:.0f}" if shown.shown(c) else SUPPRESSED) if shown else f"{v:.0f}"
              for c, v in zip(counts["category"], counts["percent"])]})
    criteria = result.criteria_table()
    meeting, meeting_pct = [], []
    for name, k in zip(criteria["criterion"], criteria["units meeting it"]):
        if people:
            part = dc.partition(table + ": criteria", {"meets": int(k), "does not": n - int(k)},
                                total=n, row=name)
            meeting.append(part.text("meets"))
            meeting_pct.append(f"{part.percent['meets']:.0f}" if part.shown("meets") else SUPPRESSED)
        else:
            meeting.append(f"{int(k):,}")
            meeting_pct.append(f"{100 * k / n:.0f}" if n else "–")
    criteria_rows = pd.DataFrame({"Criterion": criteria["criterion"],
                                  f"{unit.capitalize()} meeting it": meeting, pct: meeting_pct})
    out = [display.markdown(f"## Illustration: {cfg.title}"),
           display.note(ILLUSTRATION, kind="illustration"),
           display.table(criteria_rows.style.hide(axis="index")
                         .set_caption(f"Criteria, declared in programme.yml, and how many {unit} meet each.")),
           display.table(category_rows.style.hide(axis="index")
                         .set_caption(f"{unit.capitalize()} by category: a unit takes the first "
                                      "category whose rule it meets."))]
    if cfg.note:
        out.append(display.note(cfg.note, kind="info"))
    return out + source(cfg.source)


def headlines(data: ProgrammeData, cfg: ClassificationConfig, result: Classification,
              dc: Disclosure) -> list[str]:
    return []  # an illustration never becomes a key finding
