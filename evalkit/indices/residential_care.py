"""Residential care monitoring (MoSVY inspections) and progress against the action plan.

Inputs are two registers: RCIs by year (``rci_id, province, year, status, girls, boys`` plus
``closure_reason`` and ``compliance`` where they apply) and the children supported for
reintegration (``sex, province, ...``). The functions rebuild the action-plan report's tables
(numbered as in that report) with their denominators explicit.
"""

from __future__ import annotations

import pandas as pd

from evalkit.i18n import N_

TARGET_PROVINCES = ("Phnom Penh", "Kandal", "Preah Sihanouk", "Battambang", "Siem Reap")
COMPLIANCE = ("meets the standards", "does not meet the standards", "critical situation")
COMPLIANCE_LABELS = {"meets the standards": N_("RCIs that meet the standards"),
                     "does not meet the standards": N_("RCIs that do not meet the standards"),
                     "critical situation": N_("RCIs in critical situations")}


def _working(register: pd.DataFrame, provinces=None) -> pd.DataFrame:
    rows = register[register["status"] == "working"]
    if provinces is not None:
        rows = rows[rows["province"].isin(provinces)]
    return rows


def children_by_year(register: pd.DataFrame, provinces=None) -> pd.DataFrame:
    """Tables 1 and 3: girls, boys and all children living in working RCIs, by year."""
    rows = _working(register, provinces)
    table = rows.groupby("year")[["girls", "boys"]].sum().astype(int)
    table["total"] = table["girls"] + table["boys"]
    table["rcis"] = rows.groupby("year").size()
    return table.T


def children_left(register: pd.DataFrame, base_year: int, provinces=None) -> pd.DataFrame:
    """Tables 2 and 4: decrease in children in RCIs per period and in all since ``base_year``,
    as a share of the children in RCIs in ``base_year``."""
    totals = children_by_year(register, provinces).loc["total"]
    years = list(totals.index)
    decreases = {f"{a}–{b}": int(totals[a] - totals[b]) for a, b in zip(years, years[1:])}
    total = int(totals[years[0]] - totals[years[-1]])
    return pd.DataFrame([{**decreases, "total": total,
                          "percent_of_base_year": 100 * total / totals[base_year]}])


def rci_reduction(register: pd.DataFrame, provinces=None) -> pd.DataFrame:
    """Table 5: working RCIs by year and the reduction since the previous year, with a final
    "total" row: the reduction since the first year and its % of the first year's RCIs."""
    counts = _working(register, provinces).groupby("year").size()
    years = list(counts.index)
    rows = [{"year": str(years[0]), "working_rcis": int(counts[years[0]]), "reduced": None,
             "percent_reduction": None}]
    for a, b in zip(years, years[1:]):
        rows.append({"year": str(b), "working_rcis": int(counts[b]), "reduced": int(counts[a] - counts[b]),
                     "percent_reduction": None})
    total = int(counts[years[0]] - counts[years[-1]])
    rows.append({"year": N_("total"), "working_rcis": None, "reduced": total,
                 "percent_reduction": 100 * total / counts[years[0]]})
    return pd.DataFrame(rows)


def what_became_of(register: pd.DataFrame, first_year: int, last_year: int) -> pd.DataFrame:
    """RCIs working in ``first_year`` but not in ``last_year``, by what became of them."""
    last = register[register["year"] == last_year]
    gone = last[last["status"] != "working"]
    table = gone.groupby(["status", "closure_reason"], dropna=False).size().rename("rcis")
    return table.reset_index()


def reintegration_vs_target(children: pd.DataFrame, target: int) -> pd.DataFrame:
    """Table 6: children supported for reintegration by sex, and % of the target."""
    sex = children["sex"].value_counts()
    total = int(len(children))
    return pd.DataFrame([{"female": int(sex.get("F", 0)), "male": int(sex.get("M", 0)),
                          "total": total, "percent_of_target": 100 * total / target,
                          "target": target}])


def compliance_table(register: pd.DataFrame, year: int) -> pd.DataFrame:
    """Table 8: RCIs inspected in ``year`` by compliance with the minimum standards; the
    denominator is all RCIs inspected that year."""
    rows = _working(register)
    rows = rows[rows["year"] == year]
    counts = rows["compliance"].value_counts().reindex(list(COMPLIANCE), fill_value=0)
    n = int(counts.sum())
    table = pd.DataFrame({"description": [COMPLIANCE_LABELS[c] for c in COMPLIANCE],
                          "rcis": counts.to_numpy().astype(int)})
    table.loc[len(table)] = {"description": N_("Total RCIs that do not meet the standards"),
                             "rcis": int(counts.iloc[1] + counts.iloc[2])}
    table["percent"] = 100 * table["rcis"] / n
    return table


def by_province(register: pd.DataFrame) -> pd.DataFrame:
    """Working RCIs and the children living in them, by province and year (target provinces
    first, then the rest by number of RCIs in the first year)."""
    rows = _working(register)
    rcis = rows.groupby(["province", "year"]).size().unstack(fill_value=0)
    children = (rows.assign(children=rows["girls"].fillna(0) + rows["boys"].fillna(0))
                .groupby(["province", "year"])["children"].sum().unstack(fill_value=0))
    table = pd.concat({"RCIs": rcis, "children": children}, axis=1).fillna(0).astype(int)
    first = rcis.columns[0]
    order = sorted(table.index, key=lambda p: (p not in TARGET_PROVINCES, -rcis.loc[p, first]))
    table = table.loc[order]
    table.columns = [f"{kind} {year}" for kind, year in table.columns]
    table.insert(0, "target province", [p in TARGET_PROVINCES for p in table.index])
    return table.rename_axis("province").reset_index()
