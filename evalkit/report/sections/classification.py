"""Rule-based categories configured under ``classifications:`` (village risk colours,
household vulnerability tiers). The rules are declared in programme.yml, not published by
the study, so the section is set apart as an illustration and never enters the key findings."""

from __future__ import annotations

from evalkit.config import ClassificationConfig, ProgrammeConfig
from evalkit.data.programme import ProgrammeData
from evalkit.indices.classification import Category, Classification, Criterion, classify
from evalkit.report import display
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


def render(data: ProgrammeData, cfg: ClassificationConfig, result: Classification) -> list:
    unit = cfg.unit_label
    n = len(result.category)
    pct = f"% of {n} {unit}"
    counts = result.counts().rename(columns={"category": "Category", "meaning": "Meaning",
                                             "rule": "Rule", "units": unit.capitalize(),
                                             "percent": pct})
    criteria = result.criteria_table().rename(columns={"criterion": "Criterion",
                                                       "units meeting it": f"{unit.capitalize()} meeting it",
                                                       "percent": pct})
    out = [display.markdown(f"## Illustration: {cfg.title}"),
           display.note(ILLUSTRATION, kind="illustration"),
           display.table(criteria.style.hide(axis="index").format("{:.0f}", subset=[pct])
                         .set_caption(f"Criteria, declared in programme.yml, and how many {unit} meet each.")),
           display.table(counts.style.hide(axis="index").format("{:.0f}", subset=[pct])
                         .set_caption(f"{unit.capitalize()} by category: a unit takes the first "
                                      "category whose rule it meets."))]
    if cfg.note:
        out.append(display.note(cfg.note, kind="info"))
    return out + source(cfg.source)


def headlines(data: ProgrammeData, cfg: ClassificationConfig, result: Classification) -> list[str]:
    return []  # an illustration never becomes a key finding
