"""Residential-care monitoring (MoSVY's national action plan), configured under
``residential_care:``: children and institutions by year, the reduction in the five target
provinces and the reintegration target, shown as progress.

Children are people: every count of children (by year, sex and province, those who left,
those supported for reintegration) is registered with the report's disclosure control and
linked by the sums the tables print. Institutions are not people. Provinces, statuses and
closure reasons are the kit's own words (:mod:`evalkit.instruments.places`,
:data:`evalkit.indices.residential_care.STATUSES`); any other text in those columns is shown
as "other"."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from evalkit.config import Context
from evalkit.data.programme import ProgrammeData
from evalkit.data.rules import TableRule
from evalkit.data.validate import Field
from evalkit.i18n import N_
from evalkit.indices import residential_care as rc
from evalkit.instruments import places
from evalkit.report.content import (Column, Count, Heading, Msg, Num, Para, Progress, Share,
                                    Strong, Table)
from evalkit.report.sections.common import Build, Finding, Section, source_line

KEY = "residential_care"
MANY = False
ANALYSIS = N_("residential care monitoring")
KEYS = frozenset({"register", "reintegration", "target_children", "target_share", "base_year",
                  "source", "published"})
LANGUAGES = ("en", "km")


@dataclass(frozen=True)
class Config:
    register: str
    reintegration: str
    target_children: int
    target_share: float
    base_year: int
    source: str | None = None
    published: dict[str, Any] = field(default_factory=dict)


def parse(entry: dict, where: str, ctx: Context) -> Config:
    for key in ("register", "reintegration", "target_children", "target_share", "base_year"):
        if key not in entry:
            raise ctx.error(where + key, "is missing.")
    register = ctx.file(entry["register"], f"{where}register")
    reintegration = ctx.file(entry["reintegration"], f"{where}reintegration")
    return Config(register=register.path, reintegration=reintegration.path,
                  target_children=ctx.number(entry, "target_children", where, whole=True),
                  target_share=float(ctx.number(entry, "target_share", where)),
                  base_year=ctx.number(entry, "base_year", where, whole=True),
                  source=ctx.text(entry, "source", where),
                  published=ctx.mapping(entry, "published", where))


def rules(cfg: Config) -> list:
    return [TableRule(cfg.register, tuple(Field(c, c, "number") for c in ("girls", "boys", "year"))),
            TableRule(cfg.reintegration)]


@dataclass(frozen=True, eq=False)
class Result:
    register: pd.DataFrame
    years: tuple[int, ...]
    by_year: dict[str, pd.DataFrame]  # "all" / "five": girls, boys, total, rcis by year
    reduction: pd.DataFrame
    target: pd.DataFrame
    compliance: pd.DataFrame
    fates: pd.DataFrame
    provinces: pd.DataFrame  # province (kit name or None), target, RCIs and children by year

    @property
    def supported(self) -> int:
        return int(self.target["total"].iloc[0])


def compute(data: ProgrammeData, cfg: Config) -> Result:
    reg = data.table(cfg.register).copy()
    reg["year"] = reg["year"].astype(int)
    reg["province"] = reg["province"].map(places.province)
    years = tuple(sorted(int(y) for y in reg["year"].unique()))
    five = rc.TARGET_PROVINCES
    fates = rc.what_became_of(reg, cfg.base_year, years[-1])
    return Result(register=reg, years=years,
                  by_year={"all": rc.children_by_year(reg), "five": rc.children_by_year(reg, five)},
                  reduction=rc.rci_reduction(reg, five),
                  target=rc.reintegration_vs_target(data.table(cfg.reintegration), cfg.target_children),
                  compliance=rc.compliance_table(reg, 2019 if 2019 in years else years[-1]),
                  fates=fates, provinces=rc.by_province(reg))


K = "rc"


def _year_key(scope: str, what: str, year: int) -> str:
    return f"{K}.{scope}.{what}.{year}"


def register(b: Build, cfg: Config, r: Result) -> None:
    dc = b.dc
    table = "Residential care"
    for scope, frame in r.by_year.items():
        for year in frame.columns:
            g, bo = int(frame.loc["girls", year]), int(frame.loc["boys", year])
            dc.whole(_year_key(scope, "total", year), g + bo,
                     {_year_key(scope, "girls", year): g, _year_key(scope, "boys", year): bo},
                     table=table, cost=10)
        years = list(frame.columns)
        for a, z in zip(years, years[1:]):
            _left(dc, scope, a, z, frame, table)
        if len(years) > 1:
            _left(dc, scope, years[0], years[-1], frame, table)
    for year in r.years:
        if f"children {year}" in r.provinces:
            _register_provinces(dc, r.provinces, year)
    t = r.target.iloc[0]
    dc.whole(f"{K}.supported", int(t["total"]), {f"{K}.supported.female": int(t["female"]),
                                                 f"{K}.supported.male": int(t["male"])},
             table="Children supported for reintegration", cost=10)


def _left(dc, scope: str, a: int, z: int, frame: pd.DataFrame, table: str) -> None:
    before, after = int(frame.loc["total", a]), int(frame.loc["total", z])
    key = f"{K}.{scope}.left.{a}-{z}"
    if before >= after:
        dc.whole(_year_key(scope, "total", a), before,
                 {_year_key(scope, "total", z): after, key: before - after}, table=table)
    else:
        dc.whole(_year_key(scope, "total", z), after,
                 {_year_key(scope, "total", a): before, key + ".rise": after - before}, table=table)


def _year_table(b: Build, r: Result, scope: str, caption: Msg) -> Table:
    frame = r.by_year[scope]
    years = list(frame.columns)
    rows = [(Msg(label), *(Count(_year_key(scope, what, y)) for y in years))
            for what, label in (("girls", N_("Number of girls")),
                                ("boys", N_("Number of boys")), ("total", N_("Total")))]
    rows.append((Msg("RCIs (working)"), *(Num(int(frame.loc["rcis", y])) for y in years)))
    columns = (Column(Msg("Year"), numeric=False), *(Column(Num(y, "year")) for y in years))
    return Table(f"rc-years-{scope}", caption, columns, tuple(rows),
                 b.provenance(True, b.config.first("residential_care").source))


def _left_table(b: Build, r: Result, scope: str, cfg: Config) -> Table:
    frame = r.by_year[scope]
    years = list(frame.columns)
    cells, columns = [], [Column(Msg("Period"), numeric=False)]
    for a, z in zip(years, years[1:]):
        columns.append(Column(Msg("{a}–{z}", a=Num(a, "year"), z=Num(z, "year"))))
        cells.append(_decrease(scope, a, z, frame))
    total_key = f"{K}.{scope}.left.{years[0]}-{years[-1]}"
    columns += [Column(Msg("Total number of children")),
                Column(Msg("% of children in RCIs in {year}", year=Num(cfg.base_year, "year")))]
    cells += [_decrease(scope, years[0], years[-1], frame),
              Share(total_key, _year_key(scope, "total", cfg.base_year))
              if int(frame.loc["total", years[0]]) >= int(frame.loc["total", years[-1]]) else None]
    return Table(f"rc-left-{scope}",
                 Msg("Decrease in children living in RCIs; denominator: children in RCIs in {year}.",
                     year=Num(cfg.base_year, "year")),
                 tuple(columns), ((Msg("Children"), *cells),),
                 b.provenance(True, cfg.source))


def _decrease(scope, a, z, frame):
    before, after = int(frame.loc["total", a]), int(frame.loc["total", z])
    key = f"{K}.{scope}.left.{a}-{z}"
    if before >= after:
        return Count(key)
    return Msg("−{n}", n=Count(key + ".rise"))


def _province_name(p) -> Msg:
    return Msg(p) if p else Msg("other province")


def province_table(b: Build, r: Result) -> Table:
    frame = r.provinces
    years = list(r.years)
    five = set(rc.TARGET_PROVINCES)
    rows = []
    seen = set()
    for _, row in frame.iterrows():
        p = row["province"]
        name = p or "other"
        if name in seen:
            continue
        seen.add(name)
        label = (Msg("{province} (target)", province=_province_name(p)) if p in five
                 else _province_name(p))
        cells = []
        for y in years:
            rcis = int(frame.loc[frame["province"].fillna("other") == name, f"RCIs {y}"].sum()) \
                if f"RCIs {y}" in frame else None
            cells += [Num(rcis) if rcis is not None else None, Count(f"{K}.province.{name}.{y}")]
        rows.append((label, *cells))
    columns = [Column(Msg("Province"), numeric=False)]
    for y in years:
        columns += [Column(Msg("RCIs {year}", year=Num(y, "year"))),
                    Column(Msg("children {year}", year=Num(y, "year")))]
    return Table("rc-provinces",
                 Msg("Working RCIs and the children living in them by province. The 2015 RCI counts "
                     "of the nine largest provinces are the 2015 mapping's (family preservation "
                     "study, section 3); the action-plan report gives no provincial figures, so "
                     "every other provincial split here is synthetic."),
                 tuple(columns), tuple(rows), b.provenance(False, None))


STATUS_WORDS = {"closed": N_("closed"),
                "transitioned to non-residential care": N_("transitioned to non-residential care"),
                "reclassified as community-based care": N_("reclassified as community-based care")}
REASONS = {"lack of funding and donor support": N_("lack of funding and donor support"),
           "other or not specified": N_("other or not specified"),
           "no information at inspection": N_("no information at inspection"),
           "failed minimum standards": N_("failed minimum standards")}


def fates_table(b: Build, r: Result, cfg: Config) -> Table:
    rows: dict[tuple, int] = {}
    for row in r.fates.itertuples(index=False):
        status = STATUS_WORDS.get(str(row.status).strip().lower(), "other")
        reason = None if pd.isna(row.closure_reason) else REASONS.get(
            str(row.closure_reason).strip().lower(), "other reason")
        rows[(status, reason)] = rows.get((status, reason), 0) + int(row.rcis)
    body = tuple((Msg(status), Msg(reason) if reason else None, Num(n))
                 for (status, reason), n in rows.items())
    return Table("rc-fates", Msg("RCIs working in {year} but not in {last}.",
                                 year=Num(cfg.base_year, "year"), last=Num(r.years[-1], "year")),
                 (Column(Msg("Became"), numeric=False), Column(Msg("Reason"), numeric=False),
                  Column(Msg("RCIs"))), body, b.provenance(False, None))


def reduction_table(b: Build, r: Result, cfg: Config) -> Table:
    rows = []
    for row in r.reduction.itertuples(index=False):
        year = Msg("total") if row.year == "total" else Num(int(row.year), "year")
        rows.append((year, Num(row.working_rcis) if pd.notna(row.working_rcis) else None,
                     Num(row.reduced) if pd.notna(row.reduced) else None,
                     Num(row.percent_reduction, "share") if pd.notna(row.percent_reduction) else None))
    return Table("rc-reduction", Msg("Working RCIs; the total reduction is a % of the RCIs working "
                                     "in {year}.", year=Num(cfg.base_year, "year")),
                 (Column(Msg("Year"), numeric=False), Column(Msg("Working RCIs")),
                  Column(Msg("Reduced")), Column(Msg("% reduction"))), tuple(rows),
                 b.provenance(True, cfg.source))


def target_table(b: Build, r: Result, cfg: Config) -> Table:
    t = r.target.iloc[0]
    row = (Msg("Children"), Count(f"{K}.supported.female"), Count(f"{K}.supported.male"),
           Count(f"{K}.supported"), Share(f"{K}.supported", int(t["target"])), Num(int(t["target"])))
    return Table("rc-target", Msg("Children supported for reintegration in the five provinces."),
                 (Column(Msg(""), numeric=False), Column(Msg("Female")), Column(Msg("Male")),
                  Column(Msg("Total")), Column(Msg("% of target")), Column(Msg("Target"))),
                 (row,), b.provenance(True, cfg.source), compact=True)


def compliance_table(b: Build, r: Result, cfg: Config) -> Table:
    c = r.compliance
    n = int(c["rcis"][:3].sum())
    rows = tuple((Msg(d), Num(int(k)), Num(p, "share")) for d, k, p in
                 zip(c["description"], c["rcis"], c["percent"]))
    return Table("rc-compliance", Msg("The report prints 57 % for the last row; 134 of 232 is 57.8 %."),
                 (Column(Msg("Description"), numeric=False), Column(Msg("RCIs")),
                  Column(Msg("% of {n} inspected", n=Num(n)))), rows, b.provenance(True, cfg.source))


def _status(cfg: Config, r: Result) -> str:
    return N_("met") if r.supported >= cfg.target_children else N_("not met")


def build(b: Build, cfg: Config, r: Result) -> Section:
    register(b, cfg, r)
    base, last = cfg.base_year, r.years[-1]
    five_total = f"{K}.five.left.{r.years[0]}-{last}"
    fell = Share(five_total, _year_key("five", "total", base))
    supported = Count(f"{K}.supported", words=True)
    target = Num(cfg.target_children)
    pct_target = Share(f"{K}.supported", int(cfg.target_children))
    blocks = [
        Para(Msg("{label} Return {share} % of children living in residential care institutions "
                 "(RCIs: orphanages and other children's homes; about {target} children) in the "
                 "five target provinces safely to families.", label=Strong(Msg("Target.")),
                 share=Num(cfg.target_share, "share"), target=target)),
        Progress(Msg("Children supported for reintegration: {supported} of the {target}-child "
                     "target ({pct} %)", supported=supported, target=target, pct=pct_target),
                 r.supported, cfg.target_children,
                 Msg("target {status}", status=Msg(_status(cfg, r)))),
        Para(Msg("{label} {left} children ({fell} % of those in RCIs in {year}) no longer live in "
                 "RCIs in the five provinces; {supported} of them were supported for reintegration "
                 "by the provincial Departments of Social Affairs (DoSVY) and NGOs. The rest left "
                 "without DoSVY involvement, so the {fell} % fall cannot be read as safe returns "
                 "and does not meet the target by itself.",
                 label=Strong(Msg("What the count of children in care says.")),
                 left=Count(five_total, words=True), fell=fell, year=Num(base, "year"),
                 supported=supported)),
        Heading(3, Msg("Table 1: children living in RCIs, 25 provinces")),
        _year_table(b, r, "all", Msg("Children in working RCIs by year and sex (all provinces).")),
        Heading(3, Msg("Table 2: children who left RCIs, 25 provinces")),
        _left_table(b, r, "all", cfg),
        Heading(3, Msg("Table 3: children living in RCIs, five target provinces")),
        _year_table(b, r, "five", Msg("Children in working RCIs by year and sex (five target "
                                      "provinces).")),
        Heading(3, Msg("Table 4: children who left RCIs, five target provinces")),
        _left_table(b, r, "five", cfg),
        Heading(3, Msg("Table 5: working and reduced RCIs, five target provinces")),
        reduction_table(b, r, cfg),
        Heading(3, Msg("RCIs and children by province")),
        province_table(b, r),
        Heading(3, Msg("What became of the RCIs no longer working (all provinces)")),
        fates_table(b, r, cfg),
        Heading(3, Msg("Table 6: children undergoing reintegration vs the target")),
        target_table(b, r, cfg),
        Para(Msg("Table 7 is cited in the action-plan report's text but not printed in it; its "
                 "figures ({supported} of {target}) are those of Table 6.", supported=supported,
                 target=target)),
        Heading(3, Msg("Table 8: RCIs by compliance with the minimum standards, 2019")),
        compliance_table(b, r, cfg),
        *source_line(b, cfg.source),
    ]
    prov = b.provenance(True, cfg.source)
    finding = Finding(
        Msg("{label} reintegration target {status}: {supported} of the {target} children targeted "
            "were supported to return to families ({pct} % of the target). Children living in "
            "residential care institutions (RCIs) in the five target provinces fell by {fell} % "
            "since {year}, most without the provincial Departments of Social Affairs (DoSVY) "
            "involved.", label=Strong(Msg("Residential care:")),
            status=Msg(_status(cfg, r)), supported=supported, target=target, pct=pct_target,
            fell=fell, year=Num(base, "year")),
        prov, rank=5, better=Msg("more children returned safely to families is better"))
    return Section(anchor="residential-care",
                   title=Msg("Residential care: children and institutions"), blocks=tuple(blocks),
                   findings=(finding,),
                   evidence=(Msg("Monitoring figures are counts from registers, as complete as "
                                 "the registers are."),),
                   caveats=(Msg("Most children who left residential care did so without the "
                                "provincial Departments of Social Affairs (DoSVY) involved, so "
                                "the fall in children in care is not a count of safe returns."),),
                   glossary=("care",),
                   question=Msg("Is the action plan on track to return children from residential "
                                "care safely to families?"))


def headline(b: Build, r: Result) -> Msg:
    return Msg("reintegration target {status}", status=Msg(_status(b.config.first("residential_care"), r)))


def _register_provinces(dc, provinces, year) -> None:
    """A year's children by province (the provinces not named as 'other'), adding up to the
    national total, and the five target provinces' to theirs."""
    cells: dict[str, int] = {}
    for p, v in zip(provinces["province"], provinces[f"children {year}"]):
        key = f"{K}.province.{p or 'other'}.{year}"
        cells[key] = cells.get(key, 0) + int(v)
    for key, v in cells.items():
        dc.count(key, v, table="RCIs and children by province")
    dc.adds_up(_year_key("all", "total", year), list(cells))
    five = set(rc.TARGET_PROVINCES)
    dc.adds_up(_year_key("five", "total", year), [k for k in cells if k.split(".")[2] in five])
