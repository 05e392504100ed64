"""Residential-care monitoring (MoSVY's national action plan), configured under
``residential_care:``: children and institutions by year, the reduction in the five target
provinces and the reintegration target, shown as progress."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from evalkit.config import ProgrammeConfig, ResidentialCareConfig
from evalkit.data.programme import ProgrammeData
from evalkit.indices import residential_care as rc
from evalkit.report import display
from evalkit.report.disclosure import SUPPRESSED, Disclosure
from evalkit.report.sections.common import source


@dataclass(frozen=True, eq=False)
class Result:
    register: pd.DataFrame
    left_all: pd.DataFrame
    left_five: pd.DataFrame
    reduction: pd.DataFrame
    target: pd.DataFrame
    compliance: pd.DataFrame
    fates: pd.DataFrame

    @property
    def supported(self) -> int:
        return int(self.target["total"].iloc[0])

    @property
    def fell_pct(self) -> float:
        return float(self.left_five["percent_of_base_year"].iloc[0])


def configs(config: ProgrammeConfig) -> tuple[ResidentialCareConfig, ...]:
    return (config.residential_care,) if config.residential_care else ()


def compute(data: ProgrammeData, cfg: ResidentialCareConfig) -> Result:
    reg = data.table(cfg.register)
    reg["year"] = reg["year"].astype(int)
    five = rc.TARGET_PROVINCES
    return Result(register=reg,
                  left_all=rc.children_left(reg, cfg.base_year),
                  left_five=rc.children_left(reg, cfg.base_year, five),
                  reduction=rc.rci_reduction(reg, five),
                  target=rc.reintegration_vs_target(data.table(cfg.reintegration), cfg.target_children),
                  compliance=rc.compliance_table(reg, 2019),
                  fates=rc.what_became_of(reg, cfg.base_year, 2019))


def target_status(cfg: ResidentialCareConfig, result: Result) -> str:
    """'met' or 'not met': the target is children returned safely to families."""
    return "met" if result.supported >= cfg.target_children else "not met"


def _year_table(table: pd.DataFrame, caption: str):
    frame = table.rename(index={"girls": "Number of girls", "boys": "Number of boys",
                                "total": "Total", "rcis": "RCIs (working)"})
    frame.columns = [str(c) for c in frame.columns]
    return display.table(frame.style.format("{:,.0f}").set_caption(caption))


def _left_table(frame: pd.DataFrame, base: int, caption: str):
    pct = f"% of children in RCIs in {base}"
    frame = frame.rename(columns={"total": "Total number of children", "percent_of_base_year": pct})
    return display.table(frame.style.hide(axis="index")
                         .format("{:,.0f}", subset=[c for c in frame.columns if c != pct])
                         .format("{:.0f}", subset=[pct]).set_caption(caption))


def _province_styler(table: pd.DataFrame, dc: Disclosure):
    """RCIs and children by province. Each year's children are parts of Table 1's total
    (all provinces) and of Table 3's (the five target provinces), so a small province
    count is suppressed together with another in the same sum."""
    table = table.copy()
    target = table.pop("target province").astype(bool).to_numpy()
    provinces = list(table["province"])
    table["province"] = [f"{p} (target)" if t else p for p, t in zip(provinces, target)]
    table = table.rename(columns={"province": "Province"})
    five = {p for p, t in zip(provinces, target) if t}
    for col in table.columns[1:]:
        if col.startswith("children"):
            cells = dict(zip(provinces, table[col].astype(int)))
            sums = {"all provinces": (set(provinces), sum(cells.values())),
                    "target provinces": (five, sum(cells[p] for p in five)),
                    "other provinces": (set(provinces) - five,
                                        sum(v for p, v in cells.items() if p not in five))}
            shown, _, _ = dc.linked("RCIs and children by province", cells, sums, row=col)
            table[col] = [SUPPRESSED if shown[p] is None else f"{shown[p]:,}" for p in provinces]
        else:
            table[col] = [f"{int(v):,}" for v in table[col]]
    return (table.style.hide(axis="index")
            .set_caption("Working RCIs and the children living in them by province. The 2015 "
                         "RCI counts of the nine largest provinces are the 2015 mapping's (family "
                         "preservation study, section 3); the action-plan report gives no "
                         "provincial figures, so every other provincial split here is synthetic."))


def render(data: ProgrammeData, cfg: ResidentialCareConfig, result: Result, dc: Disclosure) -> list:
    base, target = cfg.base_year, cfg.target_children
    pct_target = float(result.target["percent_of_target"].iloc[0])
    compliance = result.compliance
    inspected = f"% of {int(compliance['rcis'][:3].sum())} inspected"
    out = [
        display.markdown("## Residential care: children and institutions"),
        display.markdown(
            f"**Target.** Return {cfg.target_share:.0f} % of children living in residential care "
            f"institutions (RCIs: orphanages and other children's homes; about "
            f"{target:,} children) in the five target provinces safely to families."),
        display.progress(f"Children supported for reintegration: {result.supported:,} of the "
                         f"{target:,}-child target ({pct_target:.0f} %)",
                         result.supported, target, target_status(cfg, result)),
        display.markdown(
            f"**What the count of children in care says.** {int(result.left_five['total'].iloc[0]):,} "
            f"children ({result.fell_pct:.0f} % of those in RCIs in {base}) no longer live in RCIs "
            f"in the five provinces; {result.supported:,} of them were supported for reintegration "
            "by the provincial Departments of Social Affairs (DoSVY) and NGOs. The rest left "
            "without DoSVY involvement, so the "
            f"{result.fell_pct:.0f} % fall cannot be read as safe returns and does not meet the "
            "target by itself."),
        display.markdown("### Table 1: children living in RCIs, 25 provinces"),
        _year_table(rc.children_by_year(result.register), "Children in working RCIs by year and sex (all provinces)."),
        display.markdown("### Table 2: children who left RCIs, 25 provinces"),
        _left_table(result.left_all, base, f"Decrease in children living in RCIs; denominator: children in RCIs in {base}."),
        display.markdown("### Table 3: children living in RCIs, five target provinces"),
        _year_table(rc.children_by_year(result.register, rc.TARGET_PROVINCES),
                    "Children in working RCIs by year and sex (five target provinces)."),
        display.markdown("### Table 4: children who left RCIs, five target provinces"),
        _left_table(result.left_five, base, f"Decrease in children living in RCIs; denominator: children in RCIs in {base}."),
        display.markdown("### Table 5: working and reduced RCIs, five target provinces"),
        display.table(result.reduction.rename(columns={"year": "Year", "working_rcis": "Working RCIs",
                                                       "reduced": "Reduced", "percent_reduction": "% reduction"})
                      .style.hide(axis="index")
                      .format("{:.0f}", subset=["Working RCIs", "Reduced", "% reduction"], na_rep="")
                      .set_caption(f"Working RCIs; the total reduction is a % of the RCIs working in {base}.")),
        display.markdown("### RCIs and children by province"),
        display.table(_province_styler(rc.by_province(result.register), dc)),
        display.markdown("### What became of the RCIs no longer working (all provinces)"),
        display.table(result.fates.rename(columns={"status": "Became", "closure_reason": "Reason",
                                                   "rcis": "RCIs"}).fillna("–").style.hide(axis="index")
                      .set_caption(f"RCIs working in {base} but not in 2019.")),
        display.markdown("### Table 6: children undergoing reintegration vs the target"),
        display.table(result.target.rename(columns={"female": "Female", "male": "Male", "total": "Total",
                                                    "percent_of_target": "% of target", "target": "Target"})
                      .style.hide(axis="index").format("{:,.0f}")
                      .set_caption("Children supported for reintegration in the five provinces.")),
        display.markdown("Table 7 is cited in the action-plan report's text but not printed in it; "
                         f"its figures ({result.supported:,} of {target:,}) are those of Table 6."),
        display.markdown("### Table 8: RCIs by compliance with the minimum standards, 2019"),
        display.table(compliance.rename(columns={"description": "Description", "rcis": "RCIs",
                                                 "percent": inspected})
                      .style.hide(axis="index").format("{:.1f}", subset=[inspected])
                      .set_caption("The report prints 57 % for the last row; 134 of 232 is 57.8 %.")),
    ]
    return out + source(cfg.source)


def headlines(data: ProgrammeData, cfg: ResidentialCareConfig, result: Result, dc: Disclosure) -> list[str]:
    pct_target = float(result.target["percent_of_target"].iloc[0])
    return [f"**Residential care:** reintegration target {target_status(cfg, result)}: "
            f"{result.supported:,} of the {cfg.target_children:,} children targeted were supported "
            f"to return to families ({pct_target:.0f} % of the target). Children living in residential "
            "care institutions (RCIs) in "
            f"the five target provinces fell by {result.fell_pct:.0f} % since {cfg.base_year}, most "
            "without the provincial Departments of Social Affairs (DoSVY) involved."]
