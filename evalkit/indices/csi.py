"""Child Status Index (CSI) scoring and change between two assessments.

The CSI (MEASURE Evaluation, O'Donnell et al. 2008/2009) rates a child on 12 factors in 6
domains, each from 4 (good) to 1 (very bad). A score of 1 or 2 means the child needs services
on that factor ("flagged"). A factor may be *not applicable* (e.g. school performance for a
baby), which is different from *missing* (not rated). In wide data a not-applicable factor is
the text ``n/a`` (or ``not applicable``); a missing one is a blank cell / NaN.

Everything here is vectorised over rows and children; the only loops run over the 12 factors
or 6 domains.
"""

from __future__ import annotations

import functools
import operator
import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from evalkit.data import engine
from evalkit.data.columns import show
from evalkit.errors import DataError
from evalkit.instruments.csi import (DOMAIN_OF, DOMAINS, FACTORS, FLAG_AT_OR_BELOW, LABELS,
                                     NOT_APPLICABLE, SEED_NAMES)
from evalkit.instruments.csi import factor_code as _recognise

__all__ = ["FACTORS", "DOMAINS", "LABELS", "SEED_NAMES", "DOMAIN_OF", "NOT_APPLICABLE",
           "FLAG_AT_OR_BELOW", "CSIChange", "FactorScores", "factor_code", "factor_columns",
           "factor_scores", "score", "change", "flagged_by_round"]

DESCRIPTIVE_CAVEAT = (
    "CSI change is descriptive case-management information, not an impact estimate: the CSI "
    "was designed for case planning and was not validated to measure programme outcomes, and "
    "without a comparison group a change cannot be attributed to the programme."
)


def factor_code(name: str) -> str:
    """Return the factor code for a code, manual label or the 2020 study's name (any case)."""
    code = _recognise(name)
    if code is None:
        raise DataError(
            f"{name!r} is not a CSI factor; expected one of the codes {', '.join(FACTORS)} "
            "or a factor name such as 'Food security'."
        )
    return code


def factor_columns(df: pd.DataFrame) -> dict[str, Any]:
    """Map each factor code to the column of ``df`` that holds it (by code or name, any case)."""
    return engine.factor_columns(df.columns, df)


@dataclass(frozen=True, eq=False)
class FactorScores:
    """Parsed factor scores: ``values`` (float, NaN where not rated or not applicable) and
    ``not_applicable`` (bool), both indexed like the input with the factor codes as columns."""

    values: pd.DataFrame
    not_applicable: pd.DataFrame


# ------------------------------------------------------------------ the engine expressions
# Every aggregation below is one Ibis expression, run by DuckDB (or Spark) on the table the
# data-in layer hands over (:func:`evalkit.data.engine.csi_table`): its factor cells already
# read by the instrument's one cell rule. Nothing here opens, stats or remembers a file.


def _where_from(source) -> str:
    return engine.source_name(source)


def _read(df, keep: tuple = ()) -> engine.CSITable:
    """The source's factor cells, read (a path given as bytes is read as text)."""
    return engine.csi_table(os.fsdecode(df) if isinstance(df, bytes) else df, keep)


def _add(terms):
    """The sum of engine expressions (Python's ``sum`` would add a literal 0 to every row)."""
    return functools.reduce(operator.add, terms)


def _flagged(value):
    """1 where a rated factor needs services (score 1 or 2), else 0."""
    return (value <= FLAG_AT_OR_BELOW).fill_null(False).cast("int64")


def _rated(value):
    return value.notnull().cast("int64")


def _mean_of_rated(values: list) -> object:
    """The mean of the rated ones among ``values`` (null when none is rated). For two (every
    CSI domain has two factors) it is (coalesce(a, b) + coalesce(b, a)) / 2: a or b when only
    one is rated, and the very same number as (a + b) / 2 when both are, in a few operations
    per row instead of counting the rated ones."""
    import ibis

    if len(values) == 2:
        a, b = values
        return (a.coalesce(b) + b.coalesce(a)) / 2.0
    rated = _add(_rated(v) for v in values)
    return ibis.ifelse(rated > 0, _add(v.fill_null(0.0) for v in values) / rated.cast("float64"),
                       ibis.null("float64"))


def _all_rated(values: list) -> object:
    """The total score (12–48), only when all 12 factors are rated: a sum is null as soon as
    one of its terms is."""
    return _add(values)


def _domain_mean(values: dict, codes) -> object:
    """Mean of a domain's rated factors (null when none is rated)."""
    return _mean_of_rated([values[c] for c in codes])


def _total(values: dict) -> object:
    return _all_rated([values[c] for c in FACTORS])


def _aligned(result: pd.DataFrame, source) -> pd.DataFrame:
    """Rows in source order, indexed like a DataFrame source."""
    if isinstance(source, pd.DataFrame):
        result.index = source.index
    return result


def factor_scores(df) -> FactorScores:
    """Validate and parse the 12 factor columns of wide CSI data (a DataFrame, an engine
    table or a file).

    Raises
    ------
    DataError
        For the first cell (in row order) that is not 1–4, ``n/a`` or blank; the message
        names the file or frame, the line or row, the column and the value.
    """
    staged = _read(df)
    frame = _aligned(staged.row_results(staged.table), df)
    return FactorScores(values=frame[list(FACTORS)].astype("float64"),
                        not_applicable=frame[[f"na_{c}" for c in FACTORS]]
                        .set_axis(list(FACTORS), axis=1).astype(bool))


SCORE_COLUMNS = (*DOMAINS, "total", "factors_rated", "factors_not_applicable", "flagged")


def score(df, keep: tuple = (), to=None) -> pd.DataFrame:
    """Score wide CSI data, one row per child-assessment (a DataFrame, an engine table or a
    file).

    Returns a frame aligned with ``df`` (same index) with one column per domain (mean of the
    domain's rated factors, 1–4), ``total`` (12–48 sum, only when all 12 factors are rated,
    else NaN), ``factors_rated``, ``factors_not_applicable`` and ``flagged`` (number of rated
    factors scored 1 or 2, i.e. needing services); first, the source's ``keep`` columns
    (e.g. ``("child_id", "round")``), as they are.

    ``to``: a Parquet path (or a storage URL) where the engine writes the rows instead, never
    collecting them into Python (a national table on Spark, or one larger than memory):
    DuckDB writes one file in the source's order, Spark a folder of part files; the target
    is returned. Give ``keep`` columns to tell the written rows apart.
    """
    keep = tuple(dict.fromkeys(keep))
    named = [c for c in keep if _recognise(str(c)) is not None or c in SCORE_COLUMNS]
    if named:
        raise DataError(f"{_where_from(df)}: keep={named!r} names a factor or a score column; "
                        "expected columns identifying each assessment (e.g. the child and "
                        "round).")
    staged = _read(df, keep=keep)
    expression = _score_expression(staged)
    if to is not None:
        return engine.write(expression.drop(engine.ROW), to)
    out = _aligned(staged.row_results(expression), df)
    for column in ("factors_rated", "factors_not_applicable", "flagged"):
        out[column] = out[column].astype("int64")
    return out


def _score_expression(staged: engine.CSITable):
    """The score columns of every row, after :data:`engine.ROW` and the kept columns."""
    t = staged.table
    values = {code: t[code] for code in FACTORS}
    return t.select(
        engine.ROW, *staged.keep,
        *[_domain_mean(values, codes).name(domain) for domain, codes in DOMAINS.items()],
        _total(values).name("total"),
        _add(_rated(values[c]) for c in FACTORS).name("factors_rated"),
        _add(t[f"na_{c}"].cast("int64") for c in FACTORS).name("factors_not_applicable"),
        _add(_flagged(values[c]) for c in FACTORS).name("flagged"))


CHANGE_COLUMNS = (
    "level", "code", "name", "children_paired", "mean_before", "mean_after", "mean_change",
    "relative_change_pct", "improved_pct", "unchanged_pct", "worse_pct",
    "flagged_before_pct", "flagged_after_pct",
)


@dataclass(frozen=True, eq=False, repr=False)
class CSIChange:
    """Change in CSI scores between two assessments of the same children.

    Attributes
    ----------
    before, after : the two round values compared.
    children_before, children_after : children assessed in each round.
    children_paired : children assessed in both rounds.
    only_before, only_after : children assessed in one round only (not dropped silently:
        they are counted here and in :meth:`summary`).
    mean_flagged_before, mean_flagged_after : mean number of factors scored 1 or 2 (needing
        services) per paired child at each round.
    table : one row per factor, per domain and for the total (see :meth:`to_frame`).
    """

    before: Any
    after: Any
    children_before: int
    children_after: int
    children_paired: int
    only_before: int
    only_after: int
    mean_flagged_before: float
    mean_flagged_after: float
    table: pd.DataFrame = field(repr=False)
    caveat: str = DESCRIPTIVE_CAVEAT

    def to_frame(self) -> pd.DataFrame:
        """Per factor, domain and total: children paired, mean before/after, mean change,
        relative change of the mean (%), share improved/unchanged/worse (%), and share
        flagged (score ≤ 2; for a domain or the total: any factor ≤ 2) before and after (%)."""
        return self.table.copy()

    def improvement(self, definition: str = "relative_change") -> pd.Series:
        """Per-factor "% improvement" indexed by the seed table's factor names.

        ``definition="relative_change"``: (mean after − mean before) / mean before × 100.
        ``definition="share_improved"``: % of paired children whose score went up.
        """
        column = {"relative_change": "relative_change_pct", "share_improved": "improved_pct"}
        if definition not in column:
            raise ValueError("definition must be 'relative_change' or 'share_improved'")
        factors = self.table[self.table["level"] == "factor"]
        return pd.Series(
            factors[column[definition]].to_numpy(),
            index=[SEED_NAMES[c] for c in factors["code"]],
            name=definition,
        )

    def summary(self) -> str:
        """Plain-text summary: who was paired, who was not, and the per-factor table."""
        lines = [
            f"CSI change from {self.before!r} to {self.after!r}",
            f"children assessed: {self.children_before} before, {self.children_after} after; "
            f"{self.children_paired} in both",
            f"assessed only before: {self.only_before}; only after: {self.only_after}",
            f"mean factors needing services per paired child: {self.mean_flagged_before:.2f} "
            f"before, {self.mean_flagged_after:.2f} after",
            self.table.to_string(index=False, float_format=lambda v: f"{v:.2f}"),
            self.caveat,
        ]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (f"<CSIChange {self.before!r} -> {self.after!r}: {self.children_paired} children "
                f"assessed at both ({self.only_before} only before, {self.only_after} only after); "
                f"factors needing services per child {self.mean_flagged_before:.2f} -> "
                f"{self.mean_flagged_after:.2f}>")

    def _repr_html_(self) -> str:
        from evalkit.display import fmt, html_table

        rows = [(r["name"], r["children_paired"], fmt(r["mean_before"], 2), fmt(r["mean_after"], 2),
                 fmt(r["mean_change"], 2, True), fmt(r["improved_pct"], 0), fmt(r["unchanged_pct"], 0),
                 fmt(r["worse_pct"], 0)) for _, r in self.table.iterrows()]
        note = (f"Children assessed at both rounds: {self.children_paired}; only at {self.before}: "
                f"{self.only_before}; only at {self.after}: {self.only_after}. A factor counts only "
                f"where rated at both. {self.caveat}")
        return html_table(f"CSI change from {self.before} to {self.after}",
                          ["Factor / domain", "Children", "Mean before", "Mean after", "Change",
                           "Improved %", "Unchanged %", "Worse %"], rows, note)


def _time_order(rounds: pd.Series, column: str, source: str) -> list:
    """The distinct rounds in time order: numbers (and numbers written as text: '2' before
    '10') as numbers, names by their words (Baseline < Midline < Endline, '6 months' <
    '12 months'); other text is refused rather than sorted alphabetically."""
    from evalkit.data.mapping import order_rounds

    number = pd.to_numeric(rounds.astype("string").str.strip(), errors="coerce")
    if number.notna().all():
        return rounds.iloc[np.argsort(number.to_numpy(), kind="stable")].tolist()
    codes, _ = order_rounds(rounds, None, None, source, column,
                            hint="pass before= and after= to say which rounds to compare")
    return rounds.iloc[np.argsort(codes.to_numpy(), kind="stable")].tolist()


def _as_present(value: Any, present: list) -> Any:
    """``value`` as the round column holds it: 1 asked for, '1' present (a CSV read as text),
    '1.0' present (a number column exported as text), or the other way round."""
    if value in present:
        return value
    same = [r for r in present if str(r).strip() == str(value).strip()]
    if not same and _as_number(value) is not None:
        same = [r for r in present if _as_number(r) == _as_number(value)]
    return same[0] if len(same) == 1 else value


def _as_number(value: Any) -> float | None:
    """A round value as a finite number ('1.0', ' 2 ', 3), or None."""
    try:
        number = float(str(value).strip())
    except ValueError:
        return None
    return number if np.isfinite(number) else None


def _count(value) -> int:
    """An engine count as an int (a sum over no rows is null)."""
    return 0 if value is None or pd.isna(value) else int(value)


def _refuse_repeat(df, t, child: str, round: str, before, after) -> None:
    """Refuse a child assessed twice in a compared round, naming the repeat's row."""
    import ibis

    compared = t.filter(t[round].isin([before, after]))
    twice = compared.group_by([compared[child], compared[round]]).aggregate(
        n=compared.count(), second=compared[engine.ROW].max()).filter(ibis._.n > 1)
    second = engine.run(twice.order_by("second").limit(1).select(
        **{engine.ROW: twice["second"], "c": twice[child], "r": twice[round]}))
    if not len(second):  # (the data-in reader's records differ from the engine's)
        raise DataError(f"{_where_from(df)}, columns {child!r}/{round!r}: a child is assessed "
                        "twice in one round; expected one assessment per child and round.")
    row = int(second[engine.ROW].iloc[0])  # (the row shown is a repeat of an earlier one)
    place = engine.place(df, row)
    if pd.isna(second["c"].iloc[0]):  # blank IDs cannot be told apart, nor paired
        raise DataError(
            f"{place}, column {child!r}: a second assessment in round "
            f"{show(second['r'].iloc[0])} with a blank child ID; expected every assessment to "
            "name its child."
        )
    raise DataError(
        f"{place}, columns {child!r}/{round!r}: child {show(second['c'].iloc[0])} is "
        f"assessed twice in round {show(second['r'].iloc[0])}; expected one assessment per "
        "child and round."
    )


def _compared_rounds(staged: engine.CSITable, round: str, before: Any, after: Any) -> tuple:
    """The two rounds to compare, as the round column holds them: ``before`` and ``after``
    (1 asked for, '1' present, or the other way round), by default the first and last in
    time order. A round that is absent, the same round twice or rounds whose order cannot be
    told are refused with a sentence (after any bad cell, which is named first)."""
    source = _where_from(staged.source)
    raw = staged.raw  # the rounds present: one column read, nothing parsed
    rounds = engine.run(raw.select(r=raw[round]).distinct())["r"]
    rounds = pd.Series(sorted(rounds[rounds.notna()].tolist(), key=str))

    def refuse(message: str):
        raise DataError(f"{source}: {message}")

    if rounds.empty:
        refuse(f"column {round!r} is empty; expected assessment rounds.")
    ordered = _time_order(rounds, round, source)
    before = ordered[0] if before is None else _as_present(before, ordered)
    after = ordered[-1] if after is None else _as_present(after, ordered)
    for name, value in (("before", before), ("after", after)):
        if value not in set(ordered):
            refuse(f"column {round!r} has no round {show(value)} (asked for as {name}); rounds "
                   f"present: {', '.join(map(str, ordered))}.")
    if before == after:
        refuse(f"before and after are both round {show(before)}; expected two different rounds.")
    return before, after


def change(df: pd.DataFrame, child: str = "child_id", round: str = "round",
           before: Any = None, after: Any = None) -> CSIChange:
    """Pair each child's assessments in rounds ``before`` and ``after`` and describe the change.

    Parameters
    ----------
    df : wide CSI data, one row per child and round.
    child, round : columns identifying the child and the assessment round.
    before, after : the round values to compare (default: the first and last round present).

    A factor counts for a child only when it is rated (not missing, not n/a) in both rounds —
    for the factor, its domain, the total and the counts of factors needing services — so
    ``children_paired`` can differ between factors. Rows of other rounds are ignored. Without
    ``before``/``after`` the first and last rounds in time order are used: numbers as numbers
    ('2' before '10'), names by their words (Baseline < Midline < Endline); rounds whose
    order cannot be told are refused with a sentence.
    """
    staged = _read(df, keep=tuple(dict.fromkeys((child, round))))
    before, after = _compared_rounds(staged, round, before, after)

    # The checks, grouped by child over every row: each child's assessments in the two rounds
    # (counted, so that a repeat is refused) and the first bad cell of any round. The pairs
    # come from a join of the two rounds, as one would write it by hand; both parts run as
    # one query and hold a few numbers per child, not its scores.
    t = staged.table
    is_b = (t[round] == before).fill_null(False)
    is_a = (t[round] == after).fill_null(False)
    counted = t.filter(is_b | is_a)  # (only the compared rounds are read)
    per_child = counted.group_by(child=counted[child]).aggregate(
        nb=(counted[round] == before).fill_null(False).cast("int64").sum(),
        na=(counted[round] == after).fill_null(False).cast("int64").sum())
    checks = per_child.aggregate(
        children_before=per_child["nb"].sum(), children_after=per_child["na"].sum(),
        most_before=per_child["nb"].max(), most_after=per_child["na"].max())
    first = t.filter(is_b).select(child=t[child], **{f"b_{c}": t[c] for c in FACTORS})
    second = t.filter(is_a).select(child=t[child], **{f"a_{c}": t[c] for c in FACTORS})
    names, items_table = _paired_items(first.join(second, "child"))
    m = engine.run(checks.cross_join(items_table.aggregate(**_item_metrics(items_table, names))))
    m = m.iloc[0]
    if max(_count(m["most_before"]), _count(m["most_after"])) > 1:  # (blank IDs: one group)
        _refuse_repeat(df, t, child, round, before, after)
    table = pd.DataFrame([_change_row(name, i, m) for i, name in enumerate(names)])
    table = table[list(CHANGE_COLUMNS)]
    table["children_paired"] = table["children_paired"].astype("int64")
    paired_children = int(m["paired_children"])
    n_before, n_after = _count(m["children_before"]), _count(m["children_after"])
    return CSIChange(
        before=before,
        after=after,
        children_before=n_before,
        children_after=n_after,
        children_paired=paired_children,
        only_before=n_before - paired_children,
        only_after=n_after - paired_children,
        mean_flagged_before=float(m["flagged_before"]),
        mean_flagged_after=float(m["flagged_after"]),
        table=table,
    )


def _paired_items(pairs) -> tuple[list[str], Any]:
    """From the pairs (``b_<code>``, ``a_<code>`` per factor), one row per paired child with,
    per item (each factor, domain and the total), its score and whether it needs services
    (0/1) before and after (``xb<i>``, ``xa<i>``, ``fb<i>``, ``fa<i>``), and each side's count
    of factors needing services (``nfb``, ``nfa``). Returns the items' names and that table."""
    import ibis

    # a factor counts for a child only where it is rated at both assessments, also inside
    # domains, totals and flag counts (else a rating missing in one round looks like change)
    staged_columns = {}
    for c in FACTORS:
        both = pairs[f"b_{c}"].notnull() & pairs[f"a_{c}"].notnull()
        staged_columns[f"vb_{c}"] = ibis.ifelse(both, pairs[f"b_{c}"], ibis.null("float64"))
        staged_columns[f"va_{c}"] = ibis.ifelse(both, pairs[f"a_{c}"], ibis.null("float64"))
    joined = pairs.select(**staged_columns).view()  # a boundary: later stages use its columns
    # per factor and side: the score and whether it needs services (0/1), computed once; the
    # domains, the total and the counts are made of these columns
    parts = {}
    for side in ("b", "a"):
        for c in FACTORS:
            value = joined[f"v{side}_{c}"]
            parts |= {f"v{side}_{c}": value, f"f{side}_{c}": _flagged(value)}
    prepared = joined.select(**parts).view()

    def add(kind: str, side: str, codes):
        return _add(prepared[f"{kind}{side}_{c}"] for c in codes)

    def item(side: str, codes):
        """(score, needs services 0/1) of one side for a factor, a domain or the total. The
        flag is 0 wherever the score is null: a factor's flag is 0 where it is not rated at
        both assessments, and so is a domain's where neither of its factors is; the total's,
        which other factors could set, is masked."""
        values = [prepared[f"v{side}_{c}"] for c in codes]
        if len(codes) == 1:
            return values[0], prepared[f"f{side}_{codes[0]}"]
        flag = (add("f", side, codes) > 0).cast("int64")
        if len(codes) == len(FACTORS):
            total = _all_rated(values)
            return total, ibis.ifelse(total.notnull(), flag, 0)
        return _mean_of_rated(values), flag

    names = []
    columns = {"nfb": add("f", "b", FACTORS), "nfa": add("f", "a", FACTORS)}
    for i, (name, codes) in enumerate([(code, (code,)) for code in FACTORS] + list(DOMAINS.items())
                                      + [("total", FACTORS)]):
        # (an item is rated at both assessments or at neither: xb and xa are null together)
        (xb, fb), (xa, fa) = item("b", codes), item("a", codes)
        columns |= {f"xb{i}": xb, f"xa{i}": xa, f"fb{i}": fb, f"fa{i}": fa}
        names.append(name)
    return names, prepared.select(**columns)  # one column per item, then one aggregate each


def _item_metrics(items_table, names: list[str]) -> dict:
    """The aggregates of the change table: the paired children, the mean counts of factors
    needing services, and per item its count, means, mean change, counts up and down and
    counts needing services."""
    metrics = {"paired_children": items_table.count(),
               "flagged_before": items_table["nfb"].mean(),
               "flagged_after": items_table["nfa"].mean()}
    for i in range(len(names)):
        xb, xa = items_table[f"xb{i}"], items_table[f"xa{i}"]
        metrics |= {
            f"n{i}": xb.count(), f"mb{i}": xb.mean(), f"ma{i}": xa.mean(),
            f"mc{i}": (xa - xb).mean(),
            f"up{i}": (xa > xb).cast("int64").sum(), f"down{i}": (xa < xb).cast("int64").sum(),
            f"fb{i}": items_table[f"fb{i}"].sum(), f"fa{i}": items_table[f"fa{i}"].sum()}
    return metrics


def _change_row(name: str, i: int, m) -> dict:
    """Item ``name``'s row of the change table, from the aggregates ``m``."""
    n = int(m[f"n{i}"])
    counted = {k: _count(m[f"{k}{i}"]) for k in ("up", "down", "fb", "fa")}
    # (the unchanged are the paired neither up nor down: one aggregate fewer per item)
    counted["same"] = n - counted["up"] - counted["down"]

    def share(k: str) -> float:
        return counted[k] / n * 100 if n else float("nan")

    mean_before, mean_after = float(m[f"mb{i}"]), float(m[f"ma{i}"])
    level = "factor" if name in FACTORS else "domain" if name in DOMAINS else "total"
    return {
        "level": level,
        "code": name if level == "factor" else "+".join(DOMAINS[name]) if level == "domain" else "total",
        "name": LABELS[name] if level == "factor" else name if level == "domain" else "Total score (12–48)",
        "children_paired": n, "mean_before": mean_before, "mean_after": mean_after,
        "mean_change": float(m[f"mc{i}"]),
        "relative_change_pct": (mean_after - mean_before) / mean_before * 100,
        "improved_pct": share("up"), "unchanged_pct": share("same"), "worse_pct": share("down"),
        "flagged_before_pct": share("fb"), "flagged_after_pct": share("fa")}


def flagged_by_round(df, round: str = "round") -> pd.DataFrame:
    """Share of children needing services (any factor scored 1 or 2) and mean number of
    flagged factors, per round: columns ``round, children, any_flagged_pct, mean_flagged``
    plus one ``<code>_flagged_pct`` column per factor (denominator: children rated on it,
    ``<code>_rated``)."""
    staged = _read(df, keep=(round,))
    t = staged.table
    values = {code: t[code] for code in FACTORS}
    count = _add(_flagged(values[c]) for c in FACTORS)
    metrics = {"children": t.count(), "any_flagged_pct": (count > 0).cast("float64").mean() * 100,
               "mean_flagged": count.cast("float64").mean()}
    for code in FACTORS:
        rated = values[code].notnull()
        metrics[f"{code}_flagged_pct"] = (_flagged(values[code]).sum().cast("float64")
                                          / rated.cast("int64").sum().nullif(0) * 100)
        metrics[f"{code}_rated"] = rated.cast("int64").sum()
    out = engine.run(t.group_by(__round=t[round]).aggregate(**metrics).order_by("__round"))
    out = out.rename(columns={"__round": round})
    present = out[round].notna().to_numpy()
    try:  # rounds in time order, as change() orders them ('2' before '10'; Midline before Endline)
        ordered = _time_order(out[round][present].reset_index(drop=True), round, _where_from(df))
        position = {value: i for i, value in enumerate(ordered)}
        out = out.iloc[np.argsort([position.get(v, len(position)) if ok else len(position)
                                   for v, ok in zip(out[round], present)], kind="stable")]
    except DataError:  # rounds whose order cannot be told: as the engine sorts them
        pass
    for column in ["children"] + [f"{c}_rated" for c in FACTORS]:
        out[column] = out[column].astype("int64")
    return out.reset_index(drop=True)


def paired_flagged(df, child: str = "child_id", round: str = "round",
                   before: Any = None, after: Any = None) -> pd.Series:
    """Each assessment's number of factors needing services, counted as :func:`change` counts
    them: for a child assessed at both ``before`` and ``after``, only over the factors rated at
    both (a rating missing in one round is not change); for every other assessment, over the
    factors rated in it (as :func:`score`'s ``flagged``). A paired test of this column gives
    :class:`CSIChange`'s ``mean_flagged_before`` and ``mean_flagged_after``. ``before`` and
    ``after`` are read as :func:`change` reads them (by default the first and last round)."""
    import ibis

    staged = _read(df, keep=tuple(dict.fromkeys((child, round))))
    before, after = _compared_rounds(staged, round, before, after)
    t = staged.table
    base = t.select(engine.ROW, child=t[child], round=t[round], **{c: t[c] for c in FACTORS})
    rounds = {}
    for key, value in (("b", before), ("a", after)):
        part = base.filter(base["round"] == value)
        rounds[key] = part.select("child", **{f"{key}_present": ibis.literal(1)},
                                  **{f"{key}_{c}": part[c] for c in FACTORS})
    joined = base
    for key in ("b", "a"):
        other = rounds[key]
        joined = joined.left_join(other, "child")
        joined = joined.select([c for c in joined.columns if not c.endswith("_right")])
    is_pair = joined["b_present"].notnull() & joined["a_present"].notnull()
    in_b, in_a = joined["round"] == before, joined["round"] == after
    counted = []
    for c in FACTORS:
        partner = ibis.ifelse(in_b, joined[f"a_{c}"], joined[f"b_{c}"])
        keep = ~(is_pair & (in_b | in_a)) | partner.notnull()
        counted.append(ibis.ifelse(keep, _flagged(joined[c]), 0))
    try:
        out = staged.row_results(joined.select(engine.ROW, flagged=_add(counted)))
    except engine.RowCount:
        _refuse_repeat(df, t, child, round, before, after)
    return _aligned(out, df)["flagged"].astype("int64")
