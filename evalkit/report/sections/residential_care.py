"""Residential-care monitoring (MoSVY's national action plan), configured under
``residential_care:``: children and institutions by year, the reduction in the five target
provinces and the reintegration target, shown as progress."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from evalkit.config import ProgrammeConfig, ResidentialCareConfig
from evalkit.i18n import N_, _
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
    return N_("met") if result.supported >= cfg.target_children else N_("not met")


def _year_table(table: pd.DataFrame, caption: str):
    frame = table.rename(index={"girls": _("Number of girls"), "boys": _("Number of boys"),
                                "total": _("Total"), "rcis": _("RCIs (working)")})
    frame.columns = [str(c) for c in frame.columns]
    return display.table(frame.style.format("{:,.0f}").set_caption(caption))


def _left_table(frame: pd.DataFrame, base: int, caption: str):
    pct = _("% of children in RCIs in {year}").format(year=base)
    frame = frame.rename(columns={"total": _("Total number of children"), "percent_of_base_year": pct})
    return display.table(frame.style.hide(axis="index")
                         .format("{:,.0f}", subset=[c for c in frame.columns if c != pct])
                         .format("{:.0f}", subset=[pct]).set_caption(caption))


def _province_styler(table: pd.DataFrame, dc: Disclosure):
    """RCIs and children by province. Each year's children are parts of Table 1's total
    (all provinces) and of Table 3's (the five target provinces), so a small province
    count is suppressed together with another in the same sum."""
    table = table.copy()
    target = table.pop("target province").astype(bool).to_numpy()
    raw_columns = list(table.columns)
    provinces = list(table["province"])
    table["province"] = [_("{province} (target)").format(province=p) if t else p
                         for p, t in zip(provinces, target)]
    table = table.rename(columns={"province": _("Province")})
    table.columns = [table.columns[0]] + [_column(c) for c in table.columns[1:]]
    five = {p for p, t in zip(provinces, target) if t}
    for col, raw in zip(table.columns[1:], raw_columns[1:]):
        if raw.startswith("children"):
            cells = dict(zip(provinces, table[col].astype(int)))
            sums = {"all provinces": (set(provinces), sum(cells.values())),
                    "target provinces": (five, sum(cells[p] for p in five)),
                    "other provinces": (set(provinces) - five,
                                        sum(v for p, v in cells.items() if p not in five))}
            shown, _sums, _log = dc.linked("RCIs and children by province", cells, sums, row=col)
            table[col] = [SUPPRESSED if shown[p] is None else f"{shown[p]:,}" for p in provinces]
        else:
            table[col] = [f"{int(v):,}" for v in table[col]]
    return (table.style.hide(axis="index")
            .set_caption(_("Working RCIs and the children living in them by province. The 2015 "
                           "RCI counts of the nine largest provinces are the 2015 mapping's "
                           "(family preservation study, section 3); the action-plan report gives "
                           "no provincial figures, so every other provincial split here is "
                           "synthetic.")))


def _column(name: str) -> str:
    """'RCIs 2015' / 'children 2015' in the report's language."""
    what, _sep, year = name.rpartition(" ")
    words = {"RCIs": _("RCIs {year}"), "children": _("children {year}")}
    return words[what].format(year=year) if what in words else name


def render(data: ProgrammeData, cfg: ResidentialCareConfig, result: Result, dc: Disclosure) -> list:
    base, target = cfg.base_year, cfg.target_children
    pct_target = float(result.target["percent_of_target"].iloc[0])
    compliance = result.compliance
    inspected = _("% of {n} inspected").format(n=int(compliance['rcis'][:3].sum()))
    left = int(result.left_five['total'].iloc[0])
    decrease = _("Decrease in children living in RCIs; denominator: children in RCIs in {year}.")
    out = [
        display.markdown("## " + _("Residential care: children and institutions")),
        display.markdown("**" + _("Target.") + "** " + _(
            "Return {share} % of children living in residential care institutions (RCIs: "
            "orphanages and other children's homes; about {target} children) in the five target "
            "provinces safely to families.").format(share=f"{cfg.target_share:.0f}",
                                                     target=f"{target:,}")),
        display.progress(_("Children supported for reintegration: {supported} of the "
                           "{target}-child target ({pct} %)").format(
                             supported=f"{result.supported:,}", target=f"{target:,}",
                             pct=f"{pct_target:.0f}"),
                         result.supported, target, target_status(cfg, result)),
        display.markdown("**" + _("What the count of children in care says.") + "** " + _(
            "{left} children ({fell} % of those in RCIs in {year}) no longer live in RCIs in the "
            "five provinces; {supported} of them were supported for reintegration by the "
            "provincial Departments of Social Affairs (DoSVY) and NGOs. The rest left without "
            "DoSVY involvement, so the {fell} % fall cannot be read as safe returns and does not "
            "meet the target by itself.").format(left=f"{left:,}", fell=f"{result.fell_pct:.0f}",
                                                 year=base, supported=f"{result.supported:,}")),
        display.markdown("### " + _("Table 1: children living in RCIs, 25 provinces")),
        _year_table(rc.children_by_year(result.register),
                    _("Children in working RCIs by year and sex (all provinces).")),
        display.markdown("### " + _("Table 2: children who left RCIs, 25 provinces")),
        _left_table(result.left_all, base, decrease.format(year=base)),
        display.markdown("### " + _("Table 3: children living in RCIs, five target provinces")),
        _year_table(rc.children_by_year(result.register, rc.TARGET_PROVINCES),
                    _("Children in working RCIs by year and sex (five target provinces).")),
        display.markdown("### " + _("Table 4: children who left RCIs, five target provinces")),
        _left_table(result.left_five, base, decrease.format(year=base)),
        display.markdown("### " + _("Table 5: working and reduced RCIs, five target provinces")),
        _reduction_table(result.reduction, base),
        display.markdown("### " + _("RCIs and children by province")),
        display.table(_province_styler(rc.by_province(result.register), dc)),
        display.markdown("### " + _("What became of the RCIs no longer working (all provinces)")),
        display.table(result.fates.rename(columns={"status": _("Became"), "closure_reason": _("Reason"),
                                                   "rcis": _("RCIs")}).fillna("–").style.hide(axis="index")
                      .set_caption(_("RCIs working in {year} but not in 2019.").format(year=base))),
        display.markdown("### " + _("Table 6: children undergoing reintegration vs the target")),
        display.table(result.target.rename(columns={"female": _("Female"), "male": _("Male"),
                                                    "total": _("Total"),
                                                    "percent_of_target": _("% of target"),
                                                    "target": _("Target")})
                      .style.hide(axis="index").format("{:,.0f}")
                      .set_caption(_("Children supported for reintegration in the five provinces."))),
        display.markdown(_("Table 7 is cited in the action-plan report's text but not printed in "
                           "it; its figures ({supported} of {target}) are those of Table 6.").format(
            supported=f"{result.supported:,}", target=f"{target:,}")),
        display.markdown("### " + _("Table 8: RCIs by compliance with the minimum standards, 2019")),
        display.table(compliance.assign(description=[_(d) for d in compliance["description"]])
                      .rename(columns={"description": _("Description"), "rcis": _("RCIs"),
                                       "percent": inspected})
                      .style.hide(axis="index").format(display.share, subset=[inspected])
                      .set_caption(_("The report prints 57 % for the last row; 134 of 232 is 57.8 %."))),
    ]
    return out + source(cfg.source)


def _reduction_table(reduction: pd.DataFrame, base: int):
    names = {"year": _("Year"), "working_rcis": _("Working RCIs"), "reduced": _("Reduced"),
             "percent_reduction": _("% reduction")}
    frame = reduction.rename(columns=names)
    frame[names["year"]] = [_(y) if isinstance(y, str) else y for y in frame[names["year"]]]
    return display.table(frame.style.hide(axis="index")
                         .format("{:.0f}", subset=[names[k] for k in ("working_rcis", "reduced",
                                                                        "percent_reduction")],
                                 na_rep="")
                         .set_caption(_("Working RCIs; the total reduction is a % of the RCIs "
                                        "working in {year}.").format(year=base)))


def headlines(data: ProgrammeData, cfg: ResidentialCareConfig, result: Result, dc: Disclosure) -> list[str]:
    pct_target = float(result.target["percent_of_target"].iloc[0])
    return ["**" + _("Residential care:") + "** " + _(
        "reintegration target {status}: {supported} of the {target} children targeted were "
        "supported to return to families ({pct} % of the target). Children living in residential "
        "care institutions (RCIs) in the five target provinces fell by {fell} % since {year}, "
        "most without the provincial Departments of Social Affairs (DoSVY) involved.").format(
        status=_(target_status(cfg, result)), supported=f"{result.supported:,}",
        target=f"{cfg.target_children:,}", pct=f"{pct_target:.0f}", fell=f"{result.fell_pct:.0f}",
        year=cfg.base_year)]
