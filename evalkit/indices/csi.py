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
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from evalkit.errors import DataError
from evalkit.data.columns import show, where
from evalkit.data.read import TEXT_SUFFIXES
from evalkit.indices import engine

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
    return _match(df.columns, df.attrs.get("source", "data frame"))


def _match(columns, where_from: str) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for column in columns:
        code = _recognise(column)
        if code is not None and code not in found:
            found[code] = column
    missing = [code for code in FACTORS if code not in found]
    if missing:
        raise DataError(
            f"{where_from}: no column for CSI factor(s) {', '.join(missing)}; expected one column "
            "per factor named by its code (1A … 6B) or its name (e.g. 'Food security')."
        )
    return found


@dataclass(frozen=True, eq=False)
class FactorScores:
    """Parsed factor scores: ``values`` (float, NaN where not rated or not applicable) and
    ``not_applicable`` (bool), both indexed like the input with the factor codes as columns."""

    values: pd.DataFrame
    not_applicable: pd.DataFrame


# ------------------------------------------------------------------ the engine expressions
# Every aggregation below is one Ibis expression, run by DuckDB (or Spark) on the source as it
# is: a DataFrame read in place, an engine table, or a file opened by the data-in layer.


def _where_from(source) -> str:
    """How messages name the source: its file or frame, or 'the table'."""
    if isinstance(source, pd.DataFrame):
        return source.attrs.get("source", "data frame")
    return "the table" if engine.is_table(source) else str(source)


def _columns(t, source) -> dict[str, str]:
    """Factor code -> the column of engine table ``t`` holding it (by code or name, any case)."""
    return _match(t.columns, _where_from(source))


def _parse(t, columns: dict[str, str], keep: tuple[str, ...], checked: bool = False):
    """``t`` with, per factor code, its score, whether it does not apply and (unless the
    source is already ``checked``) whether it is invalid, as columns ``<code>``, ``na_<code>``
    and ``bad_<code>``. A score is a whole number 1–4 (also written '4.0', spaces around it
    allowed); 'n/a' (any case) does not apply; a blank cell was not rated and is null;
    anything else is invalid.

    The score column is the cell read as a number, without testing it: every query refuses
    its source when any row is invalid, so an invalid cell's number never reaches a result,
    and a source found valid once is not tested again (see :data:`_CHECKED`). Each cell is
    cast once, in a first stage (``view`` keeps the stages apart in the query); the text of a
    cell is looked at only where it is not a number, which is rare."""
    import ibis

    cells = {}
    for code in FACTORS:
        column = t[columns[code]]
        if column.type().is_numeric():
            cells[f"n_{code}"] = column.cast("float64")
        else:
            cells[f"n_{code}"] = column.cast("string").try_cast("float64")
            cells[f"t_{code}"] = column.cast("string")
    read = t.select(engine.ROW, *keep, **cells).view()
    words = {}  # a cell's text, trimmed and in lower case, only where it is not a number
    for code in FACTORS:
        if f"t_{code}" in read.columns:
            words[f"w_{code}"] = ibis.ifelse(read[f"n_{code}"].isnull(),
                                             read[f"t_{code}"].strip().lower(), ibis.null("string"))
    read = read.select(engine.ROW, *keep, *[f"n_{code}" for code in FACTORS], **words).view()
    out = {}
    for code in FACTORS:
        number = read[f"n_{code}"]
        if f"w_{code}" in read.columns:
            word = read[f"w_{code}"]
            # (comparisons joined by OR, not IN lists: DuckDB runs an IN list over a column
            # as a join that copies every row, which made validation several times slower)
            not_applicable = ibis.or_(*(word == v for v in NOT_APPLICABLE)).fill_null(False)
        else:
            word, not_applicable = None, ibis.literal(False)
        out |= {code: number, f"na_{code}": not_applicable}
        if not checked:
            ok = ibis.or_(*(number == float(v) for v in (1, 2, 3, 4))).fill_null(False)
            bad = (number.notnull() & ~ok if word is None else
                   ibis.ifelse(number.isnull(), word.notnull() & (word != "") & ~not_applicable, ~ok))
            out[f"bad_{code}"] = bad.fill_null(False)
    return read.select(engine.ROW, *keep, **out).view()


BAD = "__evalkit_bad"
"""The staged tables' column marking a row that holds a factor cell which is not a CSI score."""


@dataclass(frozen=True, eq=False)
class _Staged:
    """A source's factors parsed in the engine: ``table`` has the row number, the ``keep``
    columns, one score column per factor code, ``na_<code>`` and :data:`BAD`. Each query
    built on it checks :data:`BAD` in the same pass that computes its result, so the 12
    factor columns are read and validated once per call, not in a separate scan, and the
    parsing is written once in the query, not repeated inside every aggregate."""

    table: Any
    source: Any
    raw: Any
    parsed: Any
    columns: dict
    keep: tuple = ()
    key: Any = None
    checked: bool = False
    status: Any = None

    def check(self, first_bad) -> None:
        """Refuse the source when ``first_bad`` (the first bad row's number, from a query's
        result over all its rows) is set: one sentence naming the file or frame, the row and
        the column. A file found valid is remembered as such (:data:`_CHECKED`).

        A file is refused if it was written while it was read (its status differs from the
        one taken before it was opened): what the engine read and what was hashed or
        remembered as valid could then differ."""
        if self.status is not None:
            from evalkit.data.read import file_status, settled

            try:
                now = file_status(self.source)
            except OSError:  # (removed or renamed meanwhile)
                now = None
            if now != self.status:
                raise DataError(f"{self.source}: the file changed while it was being read; "
                                "expected it to stay the same until the call returns (run it "
                                "again).")
        if first_bad is None or pd.isna(first_bad):
            if self.key is not None and settled(self.status):
                _CHECKED.add(self.key)
            return
        row = int(first_bad)
        t, source = self.raw, self.source
        if _is_text_file(source):  # the place as the data-in layer names it: "file, line N"
            _validated(_read_frame(source), self.keep).check_all()
        parsed = self.parsed
        flags = engine.run(parsed.filter(parsed[engine.ROW] == row).select(
            *[parsed[f"bad_{code}"].name(code) for code in FACTORS]))
        code = next(c for c in FACTORS if bool(flags[c].iloc[0]))
        column = self.columns[code]
        if isinstance(source, pd.DataFrame):
            place, value = where(source, row), source[_original(source, column)].iloc[row]
        else:
            place = f"{_where_from(source)}, row {row + 1}"
            value = engine.run(t.filter(t[engine.ROW] == row).select(column))[column].iloc[0]
        raise DataError(
            f"{place}, column {column!r}: {show(value)} is not a CSI score; expected a whole "
            "number from 1 (very bad) to 4 (good), 'n/a' where the factor does not apply, or a "
            "blank cell where it was not rated."
        )

    def check_all(self) -> None:
        """Refuse the source if any row is bad (one query for the first bad row)."""
        t = self.table
        self.check(engine.run(t.aggregate(first=t[engine.ROW].min(where=t[BAD])))["first"].iloc[0])

    def rows(self) -> int:
        """The number of rows of the source."""
        if isinstance(self.source, pd.DataFrame):
            return len(self.source)
        return int(engine.run(self.raw.count()))

    def checked_rows(self, expression) -> pd.DataFrame:
        """Run a row-wise ``expression`` carrying :data:`BAD` (one row per source row); refuse
        the source if any row is bad, else return the rows in source order without that
        column."""
        frame = engine.rows(expression, self.rows())
        bad = frame.pop(BAD).to_numpy(dtype=bool)
        self.check(int(np.argmax(bad)) if bad.any() else None)
        return frame


def _validated(source, keep: tuple[str, ...] = ()) -> _Staged:
    """The source's parsed factors, staged in the engine (see :class:`_Staged`)."""
    import ibis

    status = None
    if engine.is_path(source):
        from evalkit.data.read import file_status

        if not Path(os.fsdecode(source)).is_file():
            engine.table(source)  # (the data-in layer's sentence for a missing file)
        status = file_status(source)  # before the file is opened: see _Staged.check
    t = engine.table(source)
    for column in keep:
        if column not in t.columns:
            raise DataError(f"{_where_from(source)}: no column {column!r}; expected the "
                            f"{column!r} column identifying each assessment; columns present: "
                            f"{', '.join(c for c in t.columns if c != engine.ROW)}.")
    columns = _columns(t, source)
    key = None
    if status is not None:
        from evalkit.data.read import file_digest, settled

        if settled(status):  # (a file just written is always tested, and not hashed for it)
            key = (file_digest(source), tuple(columns.items()))
    checked = key in _CHECKED
    parsed = _parse(t, columns, keep, checked)
    bad = (ibis.literal(False) if checked
           else ibis.or_(*(parsed[f"bad_{code}"] for code in FACTORS)))
    staged = parsed.select(engine.ROW, *keep, *FACTORS, *[f"na_{code}" for code in FACTORS],
                           **{BAD: bad}).view()
    return _Staged(staged, source, t, parsed, columns, keep, key, checked, status)


_CHECKED: set = set()
"""Files whose factor cells were all found valid in this process, by (SHA-256 of the content,
factor columns), which is all their validity depends on: a file is validated once, and later
queries on it (``change`` after ``score``) neither test its cells nor keep their text."""


def _path_text(source):
    """A path given as bytes, as text (as the file system decodes it); anything else as is."""
    return os.fsdecode(source) if isinstance(source, bytes) else source


def _is_text_file(source) -> bool:
    """A path to a CSV (or other text) file: the engine reads it, but names places by record,
    not by the file's line."""
    return engine.is_path(source) and str(source).lower().endswith(TEXT_SUFFIXES)


def _read_frame(source) -> pd.DataFrame:
    """A text file as the data-in layer reads it (for messages naming its lines)."""
    from evalkit.data.read import read_table

    return read_table(source)


def _original(frame: pd.DataFrame, name: str):
    """The frame's own label of column ``name`` (the engine names columns as text)."""
    return next((c for c in frame.columns if str(c) == name), name)


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
    df = _path_text(df)
    staged = _validated(df)
    frame = _aligned(staged.checked_rows(staged.table), df)
    return FactorScores(values=frame[list(FACTORS)].astype("float64"),
                        not_applicable=frame[[f"na_{c}" for c in FACTORS]]
                        .set_axis(list(FACTORS), axis=1).astype(bool))


def score(df) -> pd.DataFrame:
    """Score wide CSI data, one row per child-assessment (a DataFrame, an engine table or a
    file).

    Returns a frame aligned with ``df`` (same index) with one column per domain (mean of the
    domain's rated factors, 1–4), ``total`` (12–48 sum, only when all 12 factors are rated,
    else NaN), ``factors_rated``, ``factors_not_applicable`` and ``flagged`` (number of rated
    factors scored 1 or 2, i.e. needing services).
    """
    df = _path_text(df)
    staged = _validated(df)
    t = staged.table
    values = {code: t[code] for code in FACTORS}
    expression = t.select(
        engine.ROW, BAD,
        *[_domain_mean(values, codes).name(domain) for domain, codes in DOMAINS.items()],
        _total(values).name("total"),
        _add(_rated(values[c]) for c in FACTORS).name("factors_rated"),
        _add(t[f"na_{c}"].cast("int64") for c in FACTORS).name("factors_not_applicable"),
        _add(_flagged(values[c]) for c in FACTORS).name("flagged"))
    out = _aligned(staged.checked_rows(expression), df)
    for column in ("factors_rated", "factors_not_applicable", "flagged"):
        out[column] = out[column].astype("int64")
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

    if _is_text_file(df):  # the place as the data-in layer names it: "file, line N"
        frame = _read_frame(df)
        present = frame[round].dropna().unique().tolist()
        _refuse_repeat(frame, engine.table(frame), child, round, _as_present(before, present),
                       _as_present(after, present))
    compared = t.filter(t[round].isin([before, after]))
    twice = compared.group_by([compared[child], compared[round]]).aggregate(
        n=compared.count(), second=compared[engine.ROW].max()).filter(ibis._.n > 1)
    second = engine.run(twice.order_by("second").limit(1).select(
        **{engine.ROW: twice["second"], "c": twice[child], "r": twice[round]}))
    if not len(second):  # (the data-in reader's records differ from the engine's)
        raise DataError(f"{_where_from(df)}, columns {child!r}/{round!r}: a child is assessed "
                        "twice in one round; expected one assessment per child and round.")
    row = int(second[engine.ROW].iloc[0])  # (the row shown is a repeat of an earlier one)
    place = where(df, row) if isinstance(df, pd.DataFrame) else f"{_where_from(df)}, row {row + 1}"
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


def _compared_rounds(staged: _Staged, round: str, before: Any, after: Any) -> tuple:
    """The two rounds to compare, as the round column holds them: ``before`` and ``after``
    (1 asked for, '1' present, or the other way round), by default the first and last in
    time order. A round that is absent, the same round twice or rounds whose order cannot be
    told are refused with a sentence (after any bad cell, which is named first)."""
    source = _where_from(staged.source)
    raw = staged.raw  # the rounds present: one column read, nothing parsed
    rounds = engine.run(raw.select(r=raw[round]).distinct())["r"]
    rounds = pd.Series(sorted(rounds[rounds.notna()].tolist(), key=str))

    def refuse(message: str):
        staged.check_all()  # a bad cell is named first, as when the rounds are fine
        raise DataError(f"{source}: {message}")

    if rounds.empty:
        refuse(f"column {round!r} is empty; expected assessment rounds.")
    try:
        ordered = _time_order(rounds, round, source)
    except DataError:
        staged.check_all()
        raise
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
    df = _path_text(df)
    import ibis

    source = _where_from(df)
    staged = _validated(df, keep=tuple(dict.fromkeys((child, round))))
    before, after = _compared_rounds(staged, round, before, after)

    # The checks, grouped by child over every row: each child's assessments in the two rounds
    # (counted, so that a repeat is refused) and the first bad cell of any round. The pairs
    # come from a join of the two rounds, as one would write it by hand; both parts run as
    # one query and hold a few numbers per child, not its scores.
    t = staged.table
    is_b = (t[round] == before).fill_null(False)
    is_a = (t[round] == after).fill_null(False)
    # (a file validated before has no bad cell to look for: only its compared rounds are read)
    counted = t.filter(is_b | is_a) if staged.checked else t
    per_child = counted.group_by(child=counted[child]).aggregate(
        nb=(counted[round] == before).fill_null(False).cast("int64").sum(),
        na=(counted[round] == after).fill_null(False).cast("int64").sum(),
        bad=counted[engine.ROW].min(where=counted[BAD]))
    checks = per_child.aggregate(
        children_before=per_child["nb"].sum(), children_after=per_child["na"].sum(),
        most_before=per_child["nb"].max(), most_after=per_child["na"].max(),
        first_bad=per_child["bad"].min())
    first = t.filter(is_b).select(child=t[child], **{f"b_{c}": t[c] for c in FACTORS})
    second = t.filter(is_a).select(child=t[child], **{f"a_{c}": t[c] for c in FACTORS})
    pairs = first.join(second, "child")
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

    items = []
    for name, codes in ([(code, (code,)) for code in FACTORS] + list(DOMAINS.items())
                        + [("total", FACTORS)]):
        (xb, fb), (xa, fa) = item("b", codes), item("a", codes)
        items.append((name, xb, xa, fb, fa))
    columns = {"nfb": add("f", "b", FACTORS), "nfa": add("f", "a", FACTORS)}
    for i, (_name, xb, xa, fb, fa) in enumerate(items):
        # (an item is rated at both assessments or at neither: xb and xa are null together)
        columns |= {f"xb{i}": xb, f"xa{i}": xa, f"fb{i}": fb, f"fa{i}": fa}
    items_table = prepared.select(**columns)  # one column per item, then one aggregate each
    metrics = {"paired_children": items_table.count(),
               "flagged_before": items_table["nfb"].mean(),
               "flagged_after": items_table["nfa"].mean()}
    for i, (_name, *_exprs) in enumerate(items):
        xb, xa = items_table[f"xb{i}"], items_table[f"xa{i}"]
        metrics |= {
            f"n{i}": xb.count(), f"mb{i}": xb.mean(), f"ma{i}": xa.mean(),
            f"mc{i}": (xa - xb).mean(),
            f"up{i}": (xa > xb).cast("int64").sum(), f"down{i}": (xa < xb).cast("int64").sum(),
            f"fb{i}": items_table[f"fb{i}"].sum(), f"fa{i}": items_table[f"fa{i}"].sum()}
    m = engine.run(checks.cross_join(items_table.aggregate(**metrics))).iloc[0]
    staged.check(m["first_bad"])
    if max(_count(m["most_before"]), _count(m["most_after"])) > 1:  # (blank IDs: one group)
        _refuse_repeat(df, t, child, round, before, after)
    counts = {"before": _count(m["children_before"]), "after": _count(m["children_after"])}
    rows = []
    for i, (name, *_exprs) in enumerate(items):
        n = int(m[f"n{i}"])
        counted = {k: _count(m[f"{k}{i}"]) for k in ("up", "down", "fb", "fa")}
        # (the unchanged are the paired neither up nor down: one aggregate fewer per item)
        counted["same"] = n - counted["up"] - counted["down"]
        share = (lambda k, n=n: counted[k] / n * 100 if n else float("nan"))
        mean_before, mean_after = float(m[f"mb{i}"]), float(m[f"ma{i}"])
        level = "factor" if name in FACTORS else "domain" if name in DOMAINS else "total"
        rows.append({
            "level": level,
            "code": name if level == "factor" else "+".join(DOMAINS[name]) if level == "domain" else "total",
            "name": LABELS[name] if level == "factor" else name if level == "domain" else "Total score (12–48)",
            "children_paired": n, "mean_before": mean_before, "mean_after": mean_after,
            "mean_change": float(m[f"mc{i}"]),
            "relative_change_pct": (mean_after - mean_before) / mean_before * 100,
            "improved_pct": share("up"), "unchanged_pct": share("same"), "worse_pct": share("down"),
            "flagged_before_pct": share("fb"), "flagged_after_pct": share("fa")})
    table = pd.DataFrame(rows)[list(CHANGE_COLUMNS)]
    table["children_paired"] = table["children_paired"].astype("int64")
    paired_children = int(m["paired_children"])
    n_before, n_after = counts.get("before", 0), counts.get("after", 0)
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


def flagged_by_round(df, round: str = "round") -> pd.DataFrame:
    """Share of children needing services (any factor scored 1 or 2) and mean number of
    flagged factors, per round: columns ``round, children, any_flagged_pct, mean_flagged``
    plus one ``<code>_flagged_pct`` column per factor (denominator: children rated on it,
    ``<code>_rated``)."""
    df = _path_text(df)
    staged = _validated(df, keep=(round,))
    t = staged.table
    values = {code: t[code] for code in FACTORS}
    count = _add(_flagged(values[c]) for c in FACTORS)
    metrics = {"__bad": t[engine.ROW].min(where=t[BAD]), "children": t.count(), "any_flagged_pct": (count > 0).cast("float64").mean() * 100,
               "mean_flagged": count.cast("float64").mean()}
    for code in FACTORS:
        rated = values[code].notnull()
        metrics[f"{code}_flagged_pct"] = (_flagged(values[code]).sum().cast("float64")
                                          / rated.cast("int64").sum().nullif(0) * 100)
        metrics[f"{code}_rated"] = rated.cast("int64").sum()
    out = engine.run(t.group_by(__round=t[round]).aggregate(**metrics).order_by("__round"))
    staged.check(out.pop("__bad").min())
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
    df = _path_text(df)
    import ibis

    staged = _validated(df, keep=tuple(dict.fromkeys((child, round))))
    before, after = _compared_rounds(staged, round, before, after)
    t = staged.table
    base = t.select(engine.ROW, BAD, child=t[child], round=t[round], **{c: t[c] for c in FACTORS})
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
        out = staged.checked_rows(joined.select(engine.ROW, BAD, flagged=_add(counted)))
    except engine.RowCount:
        _refuse_repeat(df, t, child, round, before, after)
    return _aligned(out, df)["flagged"].astype("int64")
