"""The CSI section (``csi:`` in programme.yml): children's status on the Child Status Index
between two assessments, factor by factor; children needing services by round; and each
child's paired change (:mod:`evalkit.report.sections.csi_prepost`).

This module owns the section's configuration (:class:`Config`, :func:`parse`), what the
data-in layer must read for it (:func:`rules`), its computation (:func:`compute`) and its
content (:func:`build`). Nothing here computes statistics beyond what
:mod:`evalkit.indices.csi` and :mod:`evalkit.designs` return.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from evalkit.config import SOURCE_KEYS, Context, Source
from evalkit.data.programme import ProgrammeData
from evalkit.data.rules import CSIRule
from evalkit.i18n import N_
from evalkit.indices import csi
from evalkit.instruments.csi import FACTORS
from evalkit.report.content import (Chart, Code, Column, Count, Heading, Msg, Note, Num,
                                    Para, Share, Stat, Strong, Table, join)
from evalkit.report.sections.common import Build, Finding, Section, listing, suppressed_note

KEY = "csi"
MANY = False
ANALYSIS = N_("CSI change")
ROLES = {"child", "round", "date", "group"}
KEYS = frozenset({"columns", "round_labels", "before", "after", "published_improvement",
                  "published_source", "rounds_from", *SOURCE_KEYS})
NESTED_KEYS = frozenset(ROLES)
LANGUAGES = ("en",)


@dataclass(frozen=True)
class Config:
    """Where a programme's CSI assessments are, how its columns are named, the rounds to
    compare and the figures the study published."""

    rule: CSIRule
    round_labels: dict[Any, str] = field(default_factory=dict)
    published_improvement: dict[str, float] = field(default_factory=dict)
    published_source: str | None = None

    @property
    def file(self) -> str:
        return self.rule.source.paths[0]

    @property
    def source(self) -> Source:
        return self.rule.source


def _columns(entry: dict, where: str, ctx: Context) -> dict:
    """``columns``: role or factor code -> the column's name."""
    columns = entry.get("columns", {}) or {}
    if not isinstance(columns, dict):
        raise ctx.error(f"{where}columns", f"is {columns!r}; expected a mapping of role -> your "
                        "column's name.")
    factor_keys = {str(k) for k in columns} - ROLES
    ctx.known({k: 1 for k in factor_keys if str(k).upper() not in FACTORS}, ROLES | set(FACTORS),
              f"{where}columns.")
    for key, value in columns.items():
        if not isinstance(value, (str, int)):
            raise ctx.error(f"{where}columns.{key}", f"is {value!r}; expected your column's name.")
    return columns


def _published(entry: dict, where: str, ctx: Context) -> dict:
    """``published_improvement``: a CSI factor's name -> the published percentage."""
    published = ctx.mapping(entry, "published_improvement", where)
    for name, value in published.items():
        if csi.factor_code(str(name)) is None:
            raise ctx.error(f"{where}published_improvement.{name}", "is not a CSI factor's name; "
                            "expected one such as 'Food security'.")
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            raise ctx.error(f"{where}published_improvement.{name}", f"is {value!r}; expected "
                            "the published percentage.")
    return published


def parse(entry: dict, where: str, ctx: Context) -> Config:
    columns = _columns(entry, where, ctx)
    rounds_from = entry.get("rounds_from")
    if rounds_from is not None:
        if not columns.get("date"):
            raise ctx.error(f"{where}rounds_from", "numbers each child's assessments by date, but "
                            f"{where}columns.date is not set; expected the date column there.")
        rounds_from = ctx.option(rounds_from, ("date",), f"{where}rounds_from")
    labels = ctx.mapping(entry, "round_labels", where)
    for k, v in labels.items():
        if not isinstance(v, (str, int, float)) or isinstance(v, bool):
            raise ctx.error(f"{where}round_labels.{k}", f"is {v!r}; expected the round's name.")
    published = _published(entry, where, ctx)
    rule = CSIRule(
        source=ctx.source(entry, where),
        child=str(columns.get("child", "child_id")),
        round=str(columns.get("round", "round")),
        date=None if columns.get("date") is None else str(columns["date"]),
        group=None if columns.get("group") is None else str(columns["group"]),
        factors={str(k).upper(): str(v) for k, v in columns.items() if str(k).upper() in FACTORS},
        rounds_from=rounds_from, before=entry.get("before"), after=entry.get("after"))
    return Config(rule=rule, round_labels=labels, published_improvement=published,
                  published_source=ctx.text(entry, "published_source", where))


def rules(cfg: Config) -> list:
    return [cfg.rule]


# ------------------------------------------------------------------ compute


@dataclass(frozen=True, eq=False)
class Result:
    change: csi.CSIChange
    by_round: pd.DataFrame  # csi.flagged_by_round
    rounds: tuple[int, ...]
    children: int  # distinct children in any round
    prepost: Any  # csi_prepost.Result
    first_seen: dict[int, int] = field(default_factory=dict)  # round -> children first assessed then


def compute(data: ProgrammeData, cfg: Config) -> Result:
    from evalkit.report.sections import csi_prepost

    rounds = data.rounds
    change = csi.change(data.csi, child="child", round="round", before=rounds.before,
                        after=rounds.after)
    by_round = csi.flagged_by_round(data.csi, round="round")
    order = {int(r): i for i, r in enumerate(by_round["round"])}
    first = data.csi.assign(o=data.csi["round"].map(order)).groupby("child")["o"].min()
    rounds_in_order = [int(r) for r in by_round["round"]]
    first_seen = {rounds_in_order[i]: int(n) for i, n in first.value_counts().sort_index().items()}
    first_seen = {r: first_seen.get(r, 0) for r in rounds_in_order}
    return Result(change, by_round, tuple(rounds_in_order), int(data.csi["child"].nunique()),
                  csi_prepost.compute(data, change), first_seen)


# ------------------------------------------------------------------ content

K = "csi"
MONTHS = (N_("January"), N_("February"), N_("March"), N_("April"), N_("May"), N_("June"),
          N_("July"), N_("August"), N_("September"), N_("October"), N_("November"),
          N_("December"))
CHANGE = "CSI change per factor"
OVERVIEW = "CSI assessments by round"
FLAGGED = "Children needing services by round"
PUBLISHED_TABLE = "CSI compared with the published figures"
DESCRIPTIVE = N_("CSI change describes the children assessed at both rounds; without a "
                 "comparison group it does not show what caused the change, and children "
                 "who left the caseload are not in it.")


def _row_key(level: str, code: str, name: str) -> str:
    slug = code if level == "factor" else ("total" if level == "total" else
                                          "d-" + re.sub(r"[^a-z]+", "-", name.lower()).strip("-"))
    return f"{K}.row.{slug}"


def _row_name(level: str, code: str, name: str):
    if level == "factor":
        return Msg("{code} {name}", code=Code(code), name=Msg(csi.LABELS[code]))
    if level == "domain":
        return Msg("Domain: {name}", name=Msg(name))
    return Msg("Total (all 12 factors)")


def register(b: Build, r: Result) -> None:
    """Every count the CSI section shows or lets a reader work out, and how they add up."""
    dc, c = b.dc, r.change
    paired = f"{K}.paired"
    dc.count(paired, c.children_paired, table=CHANGE, label="children assessed at both", cost=20)
    for r_value in r.rounds:
        n = int(r.by_round.loc[r.by_round["round"] == r_value, "children"].iloc[0])
        dc.count(f"{K}.round.{r_value}", n, table=OVERVIEW, label=f"round {r_value}: children")
    dc.whole(f"{K}.round.{c.before}", c.children_before,
             {paired: c.children_paired, f"{K}.only_before": c.only_before}, table=OVERVIEW)
    dc.whole(f"{K}.round.{c.after}", c.children_after,
             {paired: c.children_paired, f"{K}.only_after": c.only_after}, table=OVERVIEW)
    dc.count(f"{K}.children", r.children, table=OVERVIEW, label="children in any round")
    # every child is first assessed in one round: the children in any round add up the
    # children first assessed in each, and all of the first round's children are first seen there
    first_seen = r.first_seen
    dc.whole(f"{K}.children", r.children,
             {f"{K}.first.{rv}": n for rv, n in first_seen.items()}, table=OVERVIEW)
    dc.adds_up(f"{K}.round.{r.rounds[0]}", [f"{K}.first.{r.rounds[0]}"])
    for t in c.to_frame().itertuples():
        _register_change_row(dc, t, paired, c.children_paired)
    for row in r.by_round.to_dict("records"):
        _register_round_flags(dc, row)


def _register_change_row(dc, t, paired: str, children_paired: int) -> None:
    """One row of the change table: its paired children rated (of all paired), and of them
    improved, unchanged and worse, and flagged before and after."""
    key = _row_key(t.level, t.code, t.name)
    n = int(t.children_paired)
    dc.whole(paired, children_paired, {f"{key}.rated": n,
                                        f"{key}.unrated": children_paired - n}, table=CHANGE)
    if n == 0:
        return
    parts = _parts(n, t.improved_pct, t.unchanged_pct, t.worse_pct)
    dc.whole(f"{key}.rated", n, {f"{key}.{k}": v for k, v in parts.items()}, table=CHANGE,
             part_costs={f"{key}.improved": 1})
    for when, pct in (("before", t.flagged_before_pct), ("after", t.flagged_after_pct)):
        if pd.notna(pct):
            k = int(round(pct * n / 100))
            dc.whole(f"{key}.rated", n, {f"{key}.flag_{when}": k, f"{key}.ok_{when}": n - k},
                     table=CHANGE)


def _register_round_flags(dc, row: dict) -> None:
    """One round's children flagged on any factor, and on each factor (of those rated)."""
    rv = int(row["round"])
    total = int(row["children"])
    any_k = int(round(row["any_flagged_pct"] * total / 100))
    dc.whole(f"{K}.round.{rv}", total, {f"{K}.flag.{rv}.any": any_k,
                                        f"{K}.flag.{rv}.none": total - any_k}, table=FLAGGED)
    for code in FACTORS:
        rated = int(row[f"{code}_rated"])
        dc.whole(f"{K}.round.{rv}", total, {f"{K}.flag.{rv}.{code}.rated": rated,
                                            f"{K}.flag.{rv}.{code}.unrated": total - rated},
                 table=FLAGGED)
        pct = row[f"{code}_flagged_pct"]
        if rated and pd.notna(pct):
            k = int(round(pct * rated / 100))
            dc.whole(f"{K}.flag.{rv}.{code}.rated", rated,
                     {f"{K}.flag.{rv}.{code}.yes": k, f"{K}.flag.{rv}.{code}.no": rated - k},
                     table=FLAGGED)


def _parts(n: int, improved: float, unchanged: float, worse: float) -> dict[str, int]:
    out = {"improved": int(round(improved * n / 100)), "unchanged": int(round(unchanged * n / 100)),
           "worse": int(round(worse * n / 100))}
    out["unchanged"] += n - sum(out.values())
    return out


def overview_table(b: Build, r: Result) -> Table:
    frame = b.data.csi
    grouped = frame.groupby("round", sort=True)
    rows = []
    has_dates = "date" in frame and frame["date"].notna().any()
    for rv in r.rounds:
        row = [b.round(rv), Count(f"{K}.round.{rv}")]
        if has_dates:
            dates = grouped.get_group(rv)["date"].dropna()
            row += [Msg("{month} {year}", month=Msg(MONTHS[dates.min().month - 1]),
                        year=Num(dates.min().year, "year")) if len(dates) else None,
                    Msg("{month} {year}", month=Msg(MONTHS[dates.max().month - 1]),
                        year=Num(dates.max().year, "year")) if len(dates) else None]
        rows.append(tuple(row))
    columns = [Column(Msg("Assessment round"), numeric=False), Column(Msg("Children assessed"))]
    if has_dates:
        columns += [Column(Msg("First assessment"), numeric=False),
                    Column(Msg("Last assessment"), numeric=False)]
    caption = Msg("CSI assessments by round (children assessed in any round: {n}).",
                  n=Count(f"{K}.children", words=True))
    return Table("csi-rounds", caption, tuple(columns), tuple(rows), b.provenance(False, None))


def pairing_table(b: Build, r: Result) -> Table:
    c = r.change
    before, after = b.round(c.before), b.round(c.after)
    rows = [(Msg("Assessed at both {before} and {after} (in the change figures)", before=before,
                 after=after), Count(f"{K}.paired")),
            (Msg("Assessed at {before} only (not in the change figures)", before=before),
             Count(f"{K}.only_before")),
            (Msg("Assessed at {after} only (not in the change figures)", after=after),
             Count(f"{K}.only_after"))]
    return Table("csi-pairing", Msg("Children in the comparison of {before} with {after}.",
                                    before=before, after=after),
                 (Column(Msg("Children"), numeric=False), Column(Msg("Number"))), tuple(rows),
                 b.provenance(False, None), compact=True)


def reassessment_sentence(b: Build, r: Result) -> Msg:
    c = r.change
    before, after = b.round(c.before), b.round(c.after)
    text = Msg("{n_before} children were assessed at {before} and {n_after} at {after}; "
               "{paired} were assessed at both and form the basis of the change figures.",
               n_before=Count(f"{K}.round.{c.before}", words=True), before=Strong(before),
               n_after=Count(f"{K}.round.{c.after}", words=True), after=Strong(after),
               paired=Strong(Count(f"{K}.paired", words=True)))
    parts = [text]
    if c.only_before:
        parts.append(Msg("{n} children assessed at {before} were not reassessed at {after} "
                         "(case closed, moved, or not yet due); they are counted here and left "
                         "out of the change figures, not silently dropped.",
                         n=Count(f"{K}.only_before", words=True), before=before, after=after))
    if c.only_after:
        parts.append(Msg("{n} children were assessed at {after} without a {before} assessment "
                         "and are likewise left out of the change figures.",
                         n=Count(f"{K}.only_after", words=True), before=before, after=after))
    return join(parts, " ")


CHANGE_COLUMNS = (N_("Factor / domain"), N_("Children (n)"), N_("Mean before"), N_("Mean after"),
                  N_("Mean change"), N_("Relative change of mean (%)"), N_("Improved (%)"),
                  N_("Unchanged (%)"), N_("Worse (%)"), N_("Needing services before (%)"),
                  N_("Needing services after (%)"))


def _grain(level: str) -> float:
    return 1.0 if level in ("factor", "total") else 0.5


def change_table(b: Build, r: Result) -> Table:
    c = r.change
    rows = []
    for t in c.to_frame().itertuples():
        key = _row_key(t.level, t.code, t.name)
        n = (f"{key}.rated",)
        g = _grain(t.level)
        share = (lambda part: Share(f"{key}.{part}", f"{key}.rated")) if t.children_paired else (lambda part: None)
        rows.append((
            _row_name(t.level, t.code, t.name), Count(f"{key}.rated"),
            Stat(t.mean_before, "mean", n, grain=g), Stat(t.mean_after, "mean", n, grain=g),
            Stat(t.mean_change, "mean", n, signed=True),
            Stat(t.relative_change_pct, "pct1", n, signed=True),
            share("improved"), share("unchanged"), share("worse"),
            share("flag_before") if pd.notna(t.flagged_before_pct) else None,
            share("flag_after") if pd.notna(t.flagged_after_pct) else None))
    caption = Msg("CSI change from {before} to {after}, per factor, domain and total (children "
                  "assessed at both: n = {n}; a factor counts only where rated at both "
                  "assessments). Scores: 4 good, 3 fair, 2 bad, 1 very bad; 'needing services' = "
                  "score 1 or 2 (for a domain or the total: on any of its factors). {suppressed}",
                  before=b.round(c.before), after=b.round(c.after), n=Count(f"{K}.paired"),
                  suppressed=suppressed_note(b.min_cell))
    columns = tuple(Column(Msg(h), numeric=i > 0) for i, h in enumerate(CHANGE_COLUMNS))
    cfg = b.config.csi
    return Table("csi-change", caption, columns, tuple(rows),
                 b.provenance(bool(cfg.published_improvement), cfg.published_source))


RELATIVE_CHANGE_DEFINITION = N_(
    "“% improvement” is read as the relative change of the mean score: (mean score at the "
    "second assessment − mean score at the first) ÷ mean score at the first, × 100, over the "
    "children rated on that factor at both assessments.")


def published_table(b: Build, r: Result) -> Table | None:
    cfg = b.config.csi
    if not cfg.published_improvement:
        return None
    table = r.change.to_frame().set_index("code")
    rows = []
    for name, value in cfg.published_improvement.items():
        code = csi.factor_code(str(name))
        t = table.loc[code]
        key = _row_key("factor", code, "")
        n = (f"{key}.rated",)
        rows.append((b.declared(name), Num(float(value), "share"),
                     Stat(float(t["relative_change_pct"]), "pct1", n, signed=True),
                     Share(f"{key}.improved", f"{key}.rated"), Count(f"{key}.rated")))
    columns = (Column(Msg("Factor (as published)"), numeric=False),
               Column(Msg("Published % improvement")),
               Column(Msg("This data: relative change of mean (%)")),
               Column(Msg("This data: children improved (%)")), Column(Msg("Children (n)")))
    caption = Msg("Published figures ({source}) beside this data under both readings of "
                  "'% improvement' (n = {n} children).",
                  source=b.declared(cfg.published_source, markdown=True) if cfg.published_source
                  else Msg("the published study"), n=Count(f"{K}.paired"))
    return Table("csi-published", caption, columns, tuple(rows),
                 b.provenance(True, cfg.published_source))


def flagged_table(b: Build, r: Result) -> Table:
    rows = []
    for row in r.by_round.to_dict("records"):
        rv = int(row["round"])
        rows.append((b.round(rv), Count(f"{K}.round.{rv}"),
                     Share(f"{K}.flag.{rv}.any", f"{K}.round.{rv}"),
                     Stat(row["mean_flagged"], "score", (f"{K}.round.{rv}",), grain=1.0)))
    columns = (Column(Msg("Assessment round"), numeric=False), Column(Msg("Children (n)")),
               Column(Msg("Needing services on any factor (%)")),
               Column(Msg("Mean number of factors needing services")))
    caption = Msg("Children needing services (a score of 1 or 2 on at least one factor) by "
                  "assessment round; every child assessed in the round counts, so the children "
                  "differ between rounds.")
    return Table("csi-flagged", caption, columns, tuple(rows), b.provenance(False, None))


def flagged_by_factor_table(b: Build, r: Result) -> Table:
    rounds = [int(v) for v in r.by_round["round"]]
    rows = []
    for code in FACTORS:
        rows.append((Msg("{code} {name}", code=Code(code), name=Msg(csi.LABELS[code])),
                     *(Share(f"{K}.flag.{rv}.{code}.yes", f"{K}.flag.{rv}.{code}.rated")
                       for rv in rounds)))
    columns = (Column(Msg("Factor"), numeric=False),
               *(Column(Msg("{round} (n = {n})", round=b.round(rv), n=Count(f"{K}.round.{rv}")))
                 for rv in rounds))
    caption = Msg("Children needing services on each factor (% of the children assessed in the "
                  "round and rated on the factor).")
    return Table("csi-flagged-factors", caption, columns, tuple(rows), b.provenance(False, None))


def change_chart(b: Build, r: Result) -> Chart:
    c = r.change
    factors = [t for t in c.to_frame().itertuples() if t.level == "factor"]
    stats = tuple(Stat(getattr(t, f"mean_{when}"), "mean", (f"{_row_key('factor', t.code, '')}.rated",),
                       grain=1.0) for t in factors for when in ("before", "after"))

    def draw(view, text, narrow):
        from evalkit.report import charts

        shown = [(t, sb, sa) for t, sb, sa in zip(factors, stats[::2], stats[1::2])
                 if view.stat_shown(sb.n, sb) and view.stat_shown(sa.n, sa)]
        fig = charts.figure(narrow, 7.8 if narrow else 6.2)
        ax = fig.subplots()
        y = np.arange(len(shown))[::-1]
        height = 0.38
        ax.barh(y + height / 2, [t.mean_before for t, _, _ in shown], height,
                color=charts.PALETTE["before"], label=text(b.round(c.before)))
        ax.barh(y - height / 2, [t.mean_after for t, _, _ in shown], height,
                color=charts.PALETTE["after"], label=text(b.round(c.after)))
        size = 11 if narrow else 9
        ax.set_yticks(y, [text(_row_name("factor", t.code, "")) for t, _, _ in shown], fontsize=size)
        ax.set_xlim(1, 4)
        ax.set_xticks([1, 2, 3, 4], [text(Msg(w)) for w in (N_("1 very bad"), N_("2 bad"), N_("3 fair"), N_("4 good"))],
                      fontsize=size)
        ax.set_xlabel(text(Msg("Mean CSI score (higher is better)")), fontsize=size)
        ax.legend(loc="lower right", fontsize=size, frameon=True)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        fig.tight_layout()
        return fig

    return Chart("csi-change-chart", draw,
                 alt=_chart_alt(b, r),
                 caption=Msg("Bars show mean scores of the same children at both assessments; "
                             "longer is better."),
                 provenance=b.provenance(bool(b.config.csi.published_improvement),
                                         b.config.csi.published_source),
                 stats=stats)


def _chart_alt(b: Build, r: Result) -> Msg:
    c = r.change
    table = c.to_frame()
    factors = table[(table["level"] == "factor") & (table["children_paired"] >= b.min_cell)]
    up = int((factors["relative_change_pct"] >= 5).sum())
    return Msg("Bar chart: mean CSI score per factor at {before} and {after}; the mean rose by "
               "5 % or more on {up} of the {shown} factors shown (higher is better).",
               before=b.round(c.before), after=b.round(c.after), up=up, shown=len(factors))


def flagged_chart(b: Build, r: Result) -> Chart:
    by_round = r.by_round
    rounds = [int(v) for v in by_round["round"]]
    shares = {code: [Share(f"{K}.flag.{rv}.{code}.yes", f"{K}.flag.{rv}.{code}.rated")
                     for rv in rounds] for code in FACTORS}

    def draw(view, text, narrow):
        from evalkit.report import charts

        rows, cols = (6, 2) if narrow else (3, 4)
        fig = charts.figure(narrow, 11.0 if narrow else 7.6)
        axes = fig.subplots(rows, cols, sharex=True, sharey=True)
        x = np.arange(len(rounds))
        values = {code: [view.share(s.num, s.den) for s in shares[code]] for code in FACTORS}
        top = max([v for vs in values.values() for v in vs if v is not None] or [100.0])
        size = 10 if narrow else 8
        for ax, code in zip(axes.flat, FACTORS):
            ys = [np.nan if v is None else v for v in values[code]]
            ax.plot(x, ys, marker="o", color=charts.PALETTE["line"], linewidth=1.8)
            ax.set_title(text(_row_name("factor", code, "")), fontsize=size)
            ax.set_ylim(0, min(100, 10 * np.ceil(top / 10) + 5))
            ax.grid(axis="y", color=charts.PALETTE["grid"], linewidth=0.8)
            for side in ("top", "right"):
                ax.spines[side].set_visible(False)
        for ax in axes[-1]:
            ax.set_xticks(x, [text(b.round(rv)) for rv in rounds], fontsize=size - 1,
                          rotation=45, ha="right")
        for ax in axes[:, 0]:
            ax.set_ylabel(text(Msg("Needing services (%)")), fontsize=size - 1)
        fig.suptitle(text(Msg("Share of children scoring 1 or 2 on each factor, by round (lower "
                              "is better)")), fontsize=size + 1)
        fig.tight_layout()
        return fig

    first, last = rounds[0], rounds[-1]
    return Chart("csi-flagged-chart", draw,
                 alt=Msg("Line charts, one per CSI factor: the share of children needing services "
                         "in each round from {first} to {last}; lower is better.",
                         first=b.round(first), last=b.round(last)),
                 caption=Msg("Each panel is one CSI factor; lower is better. Children leave the "
                             "caseload between rounds, so each round describes the children "
                             "then assessed."),
                 provenance=b.provenance(False, None),
                 stats=tuple(s for code in FACTORS for s in shares[code]))


def findings(b: Build, r: Result) -> list[Finding]:
    c = r.change
    table = c.to_frame()
    factors = table[(table["level"] == "factor") & (table["children_paired"] >= b.min_cell)]
    before, after = b.round(c.before), b.round(c.after)
    cfg = b.config.csi
    prov = b.provenance(bool(cfg.published_improvement), cfg.published_source)
    if factors.empty or c.children_paired < b.min_cell:
        return [Finding(Msg("Too few children were assessed at both {before} and {after} to "
                            "describe change without risking identifying them.",
                            before=before, after=after), prov, rank=10)]
    ranked = factors.sort_values("relative_change_pct", ascending=False)
    up = ranked[ranked["relative_change_pct"] >= 5]
    flat = ranked[ranked["relative_change_pct"].abs() < 5]
    down = ranked[ranked["relative_change_pct"] <= -5]

    def names(frame):
        return listing([Msg("{name} ({change} %)", name=Msg(csi.LABELS[t.code]),
                            change=Stat(t.relative_change_pct, "pct1",
                                        (f"{_row_key('factor', t.code, '')}.rated",), signed=True))
                        for t in frame.itertuples()])

    out = []
    if not up.empty:
        out.append(Finding(Msg("Average scores {rose} between {before} and {after} on {k} of the "
                               "12 factors, most on {names}.", rose=Strong(Msg("rose")),
                               before=before, after=after, k=len(up), names=names(up.head(4))),
                           prov, rank=10, better=Msg("higher scores are better")))
    if not flat.empty:
        out.append(Finding(Msg("They {changed} (less than 5 % either way) on {names}.",
                               changed=Strong(Msg("changed little")), names=names(flat)), prov,
                           rank=40))
    if not down.empty:
        out.append(Finding(Msg("They {fell} on {names}.", fell=Strong(Msg("fell")),
                               names=names(down)), prov, rank=15))
    n = (f"{K}.paired",)
    out.append(Finding(Msg("On average a child assessed at both rounds needed services (a score "
                           "of 1 or 2) on {b} of the 12 factors at {before} and on {a} at {after} "
                           "(fewer is better).",
                           b=Stat(c.mean_flagged_before, "score", n, grain=1.0), before=before,
                           a=Stat(c.mean_flagged_after, "score", n, grain=1.0), after=after),
                       b.provenance(False, None), rank=12,
                       better=Msg("fewer factors needing services is better")))
    tail = (Msg("; {n} children had no {after} assessment and are not in them.",
                n=Count(f"{K}.only_before", words=True), after=after) if c.only_before
            else Msg("."))
    out.append(Finding(Msg("These figures describe the {n} children assessed at both {before} "
                           "and {after}{tail}", n=Count(f"{K}.paired", words=True), before=before,
                           after=after, tail=tail), prov, rank=60))
    return out


def build(b: Build, cfg: Config, r: Result) -> Section:
    from evalkit.report.sections import csi_prepost

    register(b, r)
    c = r.change
    blocks = [
        Heading(3, Msg("The data")),
        Para(Msg("Who was assessed, when, and who was not reassessed. Children are counted, "
                 "never named.")),
        overview_table(b, r),
        Para(reassessment_sentence(b, r)),
        pairing_table(b, r),
        Heading(3, Msg("Change in CSI scores, factor by factor")),
        Para(Msg("For each of the 12 CSI factors, its 6 domains and the total: how many children "
                 "were rated at both assessments, their mean score before and after, and the "
                 "share whose score improved, stayed the same or got worse.")),
        change_table(b, r),
    ]
    if c.children_paired >= b.min_cell:
        blocks.append(change_chart(b, r))
    else:
        blocks.append(Para(Msg("Fewer than {n} children were assessed at both rounds, so no "
                               "change figure is shown.", n=b.min_cell)))
    blocks.append(Note(Msg(DESCRIPTIVE)))
    published = published_table(b, r)
    if published is not None:
        blocks += [Heading(3, Msg("Comparison with the published figures")),
                   Para(Msg("{definition} Under this reading the data reproduce the published "
                            "table; the share of children whose score went up is shown beside "
                            "it as the other plausible reading.",
                            definition=Msg(RELATIVE_CHANGE_DEFINITION))),
                   published]
    blocks += [Heading(3, Msg("Children needing services, by round")),
               Para(Msg("A score of 1 (very bad) or 2 (bad) on a factor means the child needs "
                        "services on it.")),
               flagged_table(b, r), flagged_by_factor_table(b, r)]
    if len(r.rounds) > 2:
        blocks.append(flagged_chart(b, r))
    prepost = csi_prepost.build(b, r.prepost, c)
    blocks += prepost.blocks
    before, after = b.round(c.before), b.round(c.after)
    return Section(
        anchor="csi", title=Msg("Children's status: Child Status Index (CSI)"),
        blocks=tuple(blocks), findings=tuple(findings(b, r)),
        evidence=(Msg("The CSI figures describe change among the children served, without a "
                      "comparison group, so they do not show what caused it."),),
        caveats=(Msg("No comparison group: CSI change between {before} and {after} is not an "
                     "impact estimate.", before=before, after=after),
                 *((Msg("{n} children assessed at {before} were not reassessed and are not in "
                        "the change figures.", n=Count(f"{K}.only_before", words=True),
                        before=before),) if c.only_before else ())),
        annex=prepost.annex,
        methods=(Msg("CSI scoring. 12 factors in 6 domains, each scored 4 good, 3 fair, 2 bad, 1 "
                     "very bad (MEASURE Evaluation, 2009). A factor scored 1 or 2 means the child "
                     "needs services. 'n/a' (not applicable) is not counted as a score. A "
                     "domain's score is the mean of its rated factors; the 12–48 total only "
                     "exists when all 12 factors are rated."),
                 Msg("CSI change. Each child's two assessments are paired; a factor counts only "
                     "where it is rated at both. Relative change of the mean = (mean after − "
                     "mean before) ÷ mean before × 100. Improved / unchanged / worse = share of "
                     "paired children whose score went up / stayed / went down. Children "
                     "assessed only once are counted and reported, never silently dropped."),
                 *prepost.methods),
        glossary=("csi", "paired"),
        question=Msg("Did children's status on the Child Status Index change between {before} "
                     "and {after}?", before=before, after=after))


def headline(b: Build, r: Result) -> Msg:
    """The one-line headline for the index."""
    c = r.change
    if c.children_paired < b.min_cell:
        return Msg("CSI: too few children were assessed at both rounds to describe change "
                   "without risking identifying them.")
    table = c.to_frame()
    rose = int(((table["level"] == "factor") & (table["relative_change_pct"] >= 5)
                & (table["children_paired"] >= b.min_cell)).sum())
    return Msg("CSI: average scores rose by 5 % or more on {rose} of 12 factors between {before} "
               "and {after} ({n} children assessed at both; descriptive)", rose=rose,
               before=b.round(c.before), after=b.round(c.after),
               n=Count(f"{K}.paired", words=True))


def record(b: Build, r: Result, text) -> dict:
    """The CSI figures the synthesis may show, as this report shows them (``text`` writes
    :class:`Inline` in the record's language; counts and statistics follow the decision)."""
    view = b.dc.decision
    c = r.change
    factors = []
    for t in c.to_frame().itertuples():
        if t.level != "factor":
            continue
        key = _row_key("factor", t.code, "")
        stat = Stat(t.relative_change_pct, "pct1", (f"{key}.rated",))
        factors.append({"code": t.code,
                        "relative_change_pct": round(float(t.relative_change_pct), 1)
                        if view.stat_shown(stat.n, stat) else None,
                        "improved_pct": (round(view.share(f"{key}.improved", f"{key}.rated"))
                                         if view.share(f"{key}.improved", f"{key}.rated") is not None
                                         else None)})
    n = (f"{K}.paired",)
    flags = [Stat(c.mean_flagged_before, "score", n, grain=1.0),
             Stat(c.mean_flagged_after, "score", n, grain=1.0)]
    return {"before": text(b.round(c.before)), "after": text(b.round(c.after)),
            "paired": view.count(f"{K}.paired"),
            "only_before": view.count(f"{K}.only_before"),
            "only_before_small": view.is_small(f"{K}.only_before"),
            "min_cell": view.min_cell,
            "mean_flagged": [round(s.value, 1) if view.stat_shown(s.n, s) else None for s in flags],
            "factors": factors}
