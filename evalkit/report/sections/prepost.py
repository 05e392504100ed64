"""Pre/post tables configured under ``prepost:``: the same units compared between two rounds
(change, not impact)."""

from __future__ import annotations

from evalkit.config import PrePostConfig, ProgrammeConfig
from evalkit.data.programme import ProgrammeData
from evalkit.designs.paired import CAVEAT, PrePostResult, prepost
from evalkit.report import display
from evalkit.report.disclosure import Disclosure
from evalkit.report.sections.common import (attrition_sentence, prepost_row, prepost_styler, shares_hidden,
                                            source)

Result = list[tuple[str, str, PrePostResult]]  # (outcome, label, result)


def configs(config: ProgrammeConfig) -> tuple[PrePostConfig, ...]:
    return config.prepost


def compute(data: ProgrammeData, cfg: PrePostConfig) -> Result:
    df = data.table(cfg.file)
    return [(o.name, o.label,
             prepost(df, o.name, cfg.unit, cfg.round, cfg.before, cfg.after, kind=o.kind,
                     higher_is_better=cfg.higher_is_better))
            for o in cfg.outcomes]


def _lacking_before(r: PrePostResult) -> int:
    return r.n_pairs - int(round(r.mean_before * r.n_pairs))


def render(data: ProgrammeData, cfg: PrePostConfig, result: Result, dc: Disclosure) -> list:
    published = cfg.published
    rows = [prepost_row(dc, cfg.title, r, label, published.get(name) if published else None)
            for name, label, r in result]
    n = dc.count(max(r.n_pairs for *_, r in result), cfg.title, "pairs")
    out = [display.markdown(f"## {cfg.title}")]
    if cfg.scale:
        out.append(display.markdown(f"Scale: {cfg.scale}."))
    out.append(display.table(prepost_styler(
        rows, f"{cfg.title}: {cfg.before} vs {cfg.after} for the same units "
              f"(n = {n}). Yes/no outcomes in % and percentage points; scores on their own scale. "
              "The p-value says how often a change this large would arise by chance (for scores: "
              "two tests, see Methods)." + (" 'Published': the study's figure, in %, of "
              "the units lacking the item before who gained it." if published else ""),
        data.config.min_cell)))
    if published:
        gained = []
        for _, label, r in result:
            if r.kind != "binary":
                continue
            if shares_hidden(dc, cfg.title, r, label + " (%)"):
                gained.append(f"{label.lower()}: not shown (too few had it, or lacked it, before)")
                continue
            lacking = _lacking_before(r)
            part = dc.partition(f"{cfg.title}: gained", {"gained": r.gained,
                                                         "still without": lacking - r.gained},
                                row=label)
            gained.append(f"{label.lower()}: {part.text('gained')} of {dc.count(lacking, cfg.title, label + ': lacking before')}"
                          + (f" ({part.percent['gained']:.0f} %)" if part.shown("gained") and part.total else ""))
        out.append(display.markdown("Gained access, of those without it before — " + "; ".join(gained) + "."))
    out.append(display.markdown(attrition_sentence(dc, cfg.title, result[0][2].attrition, stayers=result[0][2].n_pairs)))
    out += source(cfg.source)
    out.append(display.note(CAVEAT))
    return out


def headlines(data: ProgrammeData, cfg: PrePostConfig, result: Result, dc: Disclosure) -> list[str]:
    parts = []
    for _, label, r in result:
        if not dc.rests_on(r.n_pairs, cfg.title, label + ": statistics") or \
                shares_hidden(dc, cfg.title, r, label + (" (%)" if r.kind == "binary" else "")):
            continue
        if r.kind == "binary":
            parts.append(f"{label.lower()} {display.share(r.mean_before * 100)} % → "
                         f"{display.share(r.mean_after * 100)} %")
        else:
            parts.append(f"{label.lower()} {r.mean_before:.2f} → {r.mean_after:.2f}")
    if not parts:
        return []
    n = dc.count(max(r.n_pairs for *_, r in result), cfg.title, "pairs")
    return [f"**{cfg.title}** (n = {n}, change, not impact): " + "; ".join(parts) + "."]
