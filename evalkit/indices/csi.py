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

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from evalkit.errors import DataError
from evalkit.data.columns import show, where

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
    found: dict[str, Any] = {}
    for column in df.columns:
        code = _recognise(column)
        if code is not None and code not in found:
            found[code] = column
    missing = [code for code in FACTORS if code not in found]
    if missing:
        source = df.attrs.get("source", "data frame")
        raise DataError(
            f"{source}: no column for CSI factor(s) {', '.join(missing)}; expected one column per "
            "factor named by its code (1A … 6B) or its name (e.g. 'Food security')."
        )
    return found


@dataclass(frozen=True, eq=False)
class FactorScores:
    """Parsed factor scores: ``values`` (float, NaN where not rated or not applicable) and
    ``not_applicable`` (bool), both indexed like the input with the factor codes as columns."""

    values: pd.DataFrame
    not_applicable: pd.DataFrame


def factor_scores(df: pd.DataFrame) -> FactorScores:
    """Validate and parse the 12 factor columns of wide CSI data.

    Raises
    ------
    DataError
        For the first cell (in row order) that is not 1–4, ``n/a`` or blank; the message
        names the file or frame, the line or row, the column and the value.
    """
    columns = factor_columns(df)
    values: dict[str, pd.Series] = {}
    not_applicable: dict[str, pd.Series] = {}
    invalid: dict[str, np.ndarray] = {}
    for code in FACTORS:
        raw = df[columns[code]]
        text = raw.astype("string").str.strip()
        blank = raw.isna().to_numpy() | (text == "").fillna(True).to_numpy(dtype=bool)
        is_na = text.str.lower().isin(NOT_APPLICABLE).fillna(False).to_numpy(dtype=bool)
        number = pd.to_numeric(text.where(~(blank | is_na)), errors="coerce")
        ok_number = number.isin([1.0, 2.0, 3.0, 4.0]).to_numpy(dtype=bool)
        invalid[code] = ~(blank | is_na | ok_number)
        values[code] = number.where(ok_number).astype("float64")
        not_applicable[code] = pd.Series(is_na, index=df.index)
    bad = np.column_stack([invalid[code] for code in FACTORS]) if len(df) else np.zeros((0, 12), bool)
    if bad.any():
        row = int(np.flatnonzero(bad.any(axis=1))[0])
        col = int(np.flatnonzero(bad[row])[0])
        column = columns[FACTORS[col]]
        value = df[column].iloc[row]
        raise DataError(
            f"{where(df, row)}, column {column!r}: {show(value)} is not a CSI score; expected a whole "
            "number from 1 (very bad) to 4 (good), 'n/a' where the factor does not apply, or a "
            "blank cell where it was not rated."
        )
    return FactorScores(
        values=pd.DataFrame(values, index=df.index),
        not_applicable=pd.DataFrame(not_applicable, index=df.index),
    )


def _domain_means(values: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {domain: values[list(codes)].mean(axis=1, skipna=True) for domain, codes in DOMAINS.items()},
        index=values.index,
    )


def _domain_flags(values: pd.DataFrame) -> pd.DataFrame:
    """A domain is flagged when any of its rated factors is flagged; NaN when none is rated."""
    flags = {}
    for domain, codes in DOMAINS.items():
        part = values[list(codes)]
        flagged = (part <= FLAG_AT_OR_BELOW).any(axis=1).astype("float64")
        flags[domain] = flagged.where(part.notna().any(axis=1))
    return pd.DataFrame(flags, index=values.index)


def score(df: pd.DataFrame) -> pd.DataFrame:
    """Score wide CSI data, one row per child-assessment.

    Returns a frame aligned with ``df`` (same index) with one column per domain (mean of the
    domain's rated factors, 1–4), ``total`` (12–48 sum, only when all 12 factors are rated,
    else NaN), ``factors_rated``, ``factors_not_applicable`` and ``flagged`` (number of rated
    factors scored 1 or 2, i.e. needing services).
    """
    parsed = factor_scores(df)
    values = parsed.values
    rated = values.notna().sum(axis=1)
    out = _domain_means(values)
    out["total"] = values.sum(axis=1, min_count=len(FACTORS)).where(rated == len(FACTORS))
    out["factors_rated"] = rated.astype("int64")
    out["factors_not_applicable"] = parsed.not_applicable.sum(axis=1).astype("int64")
    out["flagged"] = (values <= FLAG_AT_OR_BELOW).sum(axis=1).astype("int64")
    return out


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


def _change_rows(before: pd.DataFrame, after: pd.DataFrame, flag_before: pd.DataFrame,
                 flag_after: pd.DataFrame) -> pd.DataFrame:
    """Change statistics for aligned before/after frames (rows = children, columns = items)."""
    paired = before.notna() & after.notna()
    n = paired.sum()
    b = before.where(paired)
    a = after.where(paired)
    diff = a - b
    denominator = n.where(n > 0)
    mean_before = b.mean()
    mean_after = a.mean()
    return pd.DataFrame({
        "children_paired": n.astype("int64"),
        "mean_before": mean_before,
        "mean_after": mean_after,
        "mean_change": diff.mean(),
        "relative_change_pct": (mean_after - mean_before) / mean_before * 100,
        "improved_pct": (diff > 0).sum() / denominator * 100,
        "unchanged_pct": (diff == 0).sum() / denominator * 100,
        "worse_pct": (diff < 0).sum() / denominator * 100,
        "flagged_before_pct": flag_before.where(paired).sum() / denominator * 100,
        "flagged_after_pct": flag_after.where(paired).sum() / denominator * 100,
    })


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
    source = df.attrs.get("source", "data frame")
    for column in (child, round):
        if column not in df.columns:
            raise DataError(f"{source}: no column {column!r}; expected the {column!r} column "
                            "identifying each assessment.")
    rounds = pd.Series(df[round].dropna().unique())
    if rounds.empty:
        raise DataError(f"{source}: column {round!r} is empty; expected assessment rounds.")
    ordered = _time_order(rounds, round, source)
    before = ordered[0] if before is None else before
    after = ordered[-1] if after is None else after
    for name, value in (("before", before), ("after", after)):
        if value not in set(ordered):
            raise DataError(f"{source}: column {round!r} has no round {show(value)} (asked for as "
                            f"{name}); rounds present: {', '.join(map(str, ordered))}.")
    if before == after:
        raise DataError(f"{source}: before and after are both round {show(before)}; expected two "
                        "different rounds.")
    keys = df[[child, round]]
    duplicated = keys.duplicated(keep="first").to_numpy() & keys[round].isin([before, after]).to_numpy()
    if duplicated.any():
        row = int(np.flatnonzero(duplicated)[0])
        raise DataError(
            f"{where(df, row)}, columns {child!r}/{round!r}: child {show(df[child].iloc[row])} is "
            f"assessed twice in round {show(df[round].iloc[row])}; expected one assessment per "
            "child and round."
        )
    values = factor_scores(df).values
    in_before = (df[round] == before).to_numpy()
    in_after = (df[round] == after).to_numpy()
    vb = values[in_before].set_axis(df[child][in_before].to_numpy(), axis=0)
    va = values[in_after].set_axis(df[child][in_after].to_numpy(), axis=0)
    ids_b, ids_a = vb.index, va.index
    both = ids_b.intersection(ids_a, sort=False)
    vb, va = vb.loc[both], va.loc[both]
    # a factor counts for a child only where it is rated at both assessments, also inside
    # domains, totals and flag counts (else a rating missing in one round looks like change)
    rated_both = vb.notna() & va.notna()
    vb, va = vb.where(rated_both), va.where(rated_both)

    factors = _change_rows(vb, va, (vb <= FLAG_AT_OR_BELOW).astype(float),
                           (va <= FLAG_AT_OR_BELOW).astype(float))
    factors.insert(0, "name", [LABELS[c] for c in FACTORS])
    factors.insert(0, "code", list(FACTORS))
    factors.insert(0, "level", "factor")

    domains = _change_rows(_domain_means(vb), _domain_means(va), _domain_flags(vb), _domain_flags(va))
    domains.insert(0, "name", list(DOMAINS))
    domains.insert(0, "code", ["+".join(c) for c in DOMAINS.values()])
    domains.insert(0, "level", "domain")

    def total(v: pd.DataFrame) -> pd.DataFrame:
        return pd.DataFrame({"total": v.sum(axis=1).where(v.notna().all(axis=1))})

    def any_flag(v: pd.DataFrame) -> pd.DataFrame:
        return pd.DataFrame({"total": (v <= FLAG_AT_OR_BELOW).any(axis=1).astype(float)})

    totals = _change_rows(total(vb), total(va), any_flag(vb), any_flag(va))
    totals.insert(0, "name", "Total score (12–48)")
    totals.insert(0, "code", "total")
    totals.insert(0, "level", "total")

    table = pd.concat([factors, domains, totals], ignore_index=True)[list(CHANGE_COLUMNS)]
    return CSIChange(
        before=before,
        after=after,
        children_before=int(ids_b.nunique()),
        children_after=int(ids_a.nunique()),
        children_paired=int(len(both)),
        only_before=int(ids_b.difference(ids_a).nunique()),
        only_after=int(ids_a.difference(ids_b).nunique()),
        mean_flagged_before=float((vb <= FLAG_AT_OR_BELOW).sum(axis=1).mean()),
        mean_flagged_after=float((va <= FLAG_AT_OR_BELOW).sum(axis=1).mean()),
        table=table,
    )


def flagged_by_round(df: pd.DataFrame, round: str = "round") -> pd.DataFrame:
    """Share of children needing services (any factor scored 1 or 2) and mean number of
    flagged factors, per round: columns ``round, children, any_flagged_pct, mean_flagged``
    plus one ``<code>_flagged_pct`` column per factor (denominator: children rated on it,
    ``<code>_rated``)."""
    values = factor_scores(df).values
    flagged = (values <= FLAG_AT_OR_BELOW).where(values.notna())
    frame = flagged.astype("float64")
    frame["__any"] = (values <= FLAG_AT_OR_BELOW).any(axis=1).astype("float64")
    frame["__count"] = (values <= FLAG_AT_OR_BELOW).sum(axis=1).astype("float64")
    frame["__round"] = df[round].to_numpy()
    grouped = frame.groupby("__round", sort=True)
    out = pd.DataFrame({
        "children": grouped.size(),
        "any_flagged_pct": grouped["__any"].mean() * 100,
        "mean_flagged": grouped["__count"].mean(),
    })
    for code in FACTORS:
        out[f"{code}_flagged_pct"] = grouped[code].mean() * 100
        out[f"{code}_rated"] = grouped[code].count()
        out[f"{code}_rated"] = grouped[code].count()
    out.index.name = round
    return out.reset_index()


def paired_flagged(df: pd.DataFrame, child: str = "child_id", round: str = "round",
                   before: Any = None, after: Any = None) -> pd.Series:
    """Each assessment's number of factors needing services, counted as :func:`change` counts
    them: for a child assessed at both ``before`` and ``after``, only over the factors rated at
    both (a rating missing in one round is not change); for every other assessment, over the
    factors rated in it (as :func:`score`'s ``flagged``). A paired test of this column gives
    :class:`CSIChange`'s ``mean_flagged_before`` and ``mean_flagged_after``."""
    values = factor_scores(df).values
    out = (values <= FLAG_AT_OR_BELOW).sum(axis=1).astype("int64")
    rounds = df[round].to_numpy()
    ids = df[child].to_numpy()
    b, a = rounds == before, rounds == after
    both = np.intersect1d(ids[b], ids[a])
    rows_b = np.flatnonzero(b & np.isin(ids, both))
    rows_a = np.flatnonzero(a & np.isin(ids, both))
    rows_a = rows_a[np.argsort(ids[rows_a], kind="stable")]
    rows_b = rows_b[np.argsort(ids[rows_b], kind="stable")]
    vb, va = values.iloc[rows_b].to_numpy(), values.iloc[rows_a].to_numpy()
    rated = ~np.isnan(vb) & ~np.isnan(va)
    out.iloc[rows_b] = ((vb <= FLAG_AT_OR_BELOW) & rated).sum(axis=1)
    out.iloc[rows_a] = ((va <= FLAG_AT_OR_BELOW) & rated).sum(axis=1)
    return out
