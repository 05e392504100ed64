"""Mapping a table to what the analysis needs: stacking round files, wide sheets to one row per
child and round, value maps (labels to codes, Yes/No to 1/0), IDs carried between rounds,
and the order of text rounds.

Every function returns new objects; the ``ROW`` and ``SRC`` columns (row in the file, which
file) travel with each record so that a message can always point at the user's own row.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from evalkit.data.read import ROW, RawTable
from evalkit.errors import DataError
from evalkit.i18n import N_

SRC = "__src__"
"""Column holding the index of the record's file in the list of tables read."""

ROUND_WORDS: dict[str, float] = {
    "baseline": 0, "base line": 0, "base": 0, "intake": 0, "enrolment": 0, "enrollment": 0,
    "pre": 0, "before": 0, "admission": 0, "start": 0, "initial": 0, "first": 0,
    "midline": 5e5, "mid line": 5e5, "midterm": 5e5, "mid term": 5e5, "interim": 5e5,
    "follow up": 8e5, "followup": 8e5, "second": 8e5,
    "endline": 1e6, "end line": 1e6, "final": 1e6, "exit": 1e6, "closure": 1e6, "close": 1e6,
    "completion": 1e6, "post": 1e6, "after": 1e6, "end": 1e6,
}
"""Round names whose order is known (baseline < midline < follow-up < endline); 'N months',
'month N', 'round N', 'wave N', 'visit N', 'time N', 'tN' are ordered by N."""

ROUND_NAMES: dict[str, str] = {
    "baseline": N_("Baseline"), "base line": N_("Baseline"), "intake": N_("Intake"), "enrolment": N_("Enrolment"),
    "enrollment": N_("Enrolment"), "admission": N_("Admission"), "before": N_("Before"), "pre": N_("Before"),
    "midline": N_("Midline"), "mid line": N_("Midline"), "follow up": N_("Follow-up"), "followup": N_("Follow-up"),
    "endline": N_("Endline"), "end line": N_("Endline"), "exit": N_("Exit"), "closure": N_("Closure"),
    "completion": N_("Completion"), "after": N_("After"), "post": N_("After"),
}
"""Round words the kit names in its own words (translated with the report): a round the data
call 'baseline' is shown as the kit's "Baseline" without being declared."""


def round_name(label: Any) -> tuple[str, int | None] | None:
    """The kit's name for a round label it knows — ("Baseline", None), ("{n} months", 6),
    ("Round {n}", 2), ("Follow-up {n}", 1) — or None (a label the kit does not know is shown
    only when programme.yml declares it)."""
    key = _ORDINAL.sub(r"\1", simple(label))
    if key in ROUND_NAMES:
        return ROUND_NAMES[key], None
    match = re.fullmatch(r"(\d+)\s*(?:months?|mo|m)|months?\s*(\d+)", key)
    if match:
        return N_("{n} months"), int(match.group(1) or match.group(2))
    match = re.fullmatch(r"(?:round|wave|visit|time|assessment|phase|survey|t|r)\s*(\d+)", key)
    if match:
        return N_("Round {n}"), int(match.group(1))
    match = re.fullmatch(r"(follow up|followup)\s*(\d+)", key)
    if match:
        return N_("Follow-up {n}"), int(match.group(2))
    return None


_NUMBERED = re.compile(r"^(?:(?:round|wave|visit|time|assessment|phase|t|r|survey)\s*(\d+(?:\.\d+)?)"
                       r"|(\d+(?:\.\d+)?)\s*(?:months?|mo|m)|(?:month)\s*(\d+(?:\.\d+)?)"
                       r"|(\d+(?:\.\d+)?))$")
KHMER_DIGITS = str.maketrans("០១២៣៤៥៦៧៨៩", "0123456789")


def simple(text: object) -> str:
    """Lower case, runs of non-letters as one space: 'Follow-up ' -> 'follow up'."""
    return " ".join(re.findall(r"[^\W_]+", str(text).translate(KHMER_DIGITS).lower()))


def located(tables: Sequence[RawTable], frames: Sequence[pd.DataFrame] | None = None) -> pd.DataFrame:
    """Stack the tables' frames (columns united), tagging each record with its file (``SRC``)."""
    frames = frames if frames is not None else [t.frame for t in tables]
    parts = []
    for i, frame in enumerate(frames):
        part = frame.copy()
        part[SRC] = i
        parts.append(part)
    return pd.concat(parts, ignore_index=True, sort=False) if len(parts) > 1 else parts[0]


def where(tables: Sequence[RawTable], frame: pd.DataFrame, position: int) -> str:
    """The user's view of record ``position`` of ``frame``: "file, sheet 'S', row N"."""
    return tables[int(frame[SRC].iloc[position])].where(int(frame[ROW].iloc[position]))


def add_round(frame: pd.DataFrame, column: str, value: Any) -> pd.DataFrame:
    """The records of one round file, with the round written in ``column``."""
    out = frame.copy()
    out[column] = value
    return out


def wide_to_long(frame: pd.DataFrame, rounds: Mapping[str, Mapping[str, str]],
                 round_column: str) -> pd.DataFrame:
    """One row per child and round from a one-row-per-child sheet.

    ``rounds``: round prefix -> target column -> sheet column (``{'baseline': {'1A':
    'baseline_1A', …}}``). Columns not named in ``rounds`` are copied to every round. A round in
    which all of a row's cells are blank is left out (the child was not assessed then).
    """
    used = {c for columns in rounds.values() for c in columns.values()}
    common = [c for c in frame.columns if c not in used]
    parts = []
    for prefix, columns in rounds.items():
        part = frame[common].copy()
        for target, source in columns.items():
            part[target] = frame[source].to_numpy()
        assessed = frame[list(columns.values())].notna().any(axis=1).to_numpy()
        part[round_column] = prefix
        parts.append(part[assessed])
    out = pd.concat(parts, ignore_index=False, sort=False)
    order = np.argsort(out.index.to_numpy(), kind="stable")
    return out.iloc[order].reset_index(drop=True)


def wide_columns(columns: Sequence[str], pattern: str, source: str) -> dict[str, dict[str, str]]:
    """Round -> target -> column for the columns matching ``pattern`` (a regular expression with
    groups ``round`` and ``column``, e.g. ``'(?P<round>baseline|followup)_(?P<column>.+)'``)."""
    from evalkit.instruments.csi import factor_code

    try:
        regex = re.compile(pattern)
    except re.error as exc:
        raise DataError(f"{source}: wide.pattern is not a valid regular expression ({exc}).") from None
    if not {"round", "column"} <= set(regex.groupindex):
        raise DataError(f"{source}: wide.pattern must have the groups (?P<round>…) and "
                        "(?P<column>…), e.g. '(?P<round>baseline|followup)_(?P<column>.+)'.")
    rounds: dict[str, dict[str, str]] = {}
    for column in columns:
        match = regex.fullmatch(str(column))
        if match:
            target = match.group("column")
            target = factor_code(target) or target
            rounds.setdefault(match.group("round"), {})[target] = column
    if not rounds:
        raise DataError(f"{source}: no column matches wide.pattern {pattern!r}; expected columns "
                        "such as 'baseline_1A' … 'followup_6B'.")
    return rounds


def _lookup(mapping: Mapping[Any, Any]) -> dict[str, Any]:
    return {simple(k) if not isinstance(k, (int, float)) or isinstance(k, bool) else _number_key(k): v
            for k, v in mapping.items()}


def _number_key(value: Any) -> str:
    number = float(value)
    return str(int(number)) if number.is_integer() else str(number)


_NUMBER = re.compile(r"[-+]?\d+(\.\d+)?")


def is_number_key(key: str) -> bool:
    """True for a :func:`cell_key` (or label) that is a number: '2', '-1', '2.5'."""
    return _NUMBER.fullmatch(key) is not None


def cell_key(value: Any) -> str | None:
    """The key a cell is looked up under in a value map: numbers as numbers ('1', '1.0' and 1
    alike), text in simple form ('Very  bad' and 'very_bad' alike)."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return None
    if isinstance(value, (bool, np.bool_)):
        return "1" if value else "0"
    if isinstance(value, (int, float, np.integer, np.floating)):
        return _number_key(value)
    text = str(value).strip().translate(KHMER_DIGITS)
    if is_number_key(text):
        return _number_key(text)
    return simple(text)


def map_unique(values: pd.Series, function) -> pd.Series:
    """``values.map(function)``, calling ``function`` once per distinct value (exports repeat the
    same few labels and codes across hundreds of thousands of rows)."""
    codes, uniques = pd.factorize(values.astype(object), use_na_sentinel=True)
    mapped = np.array([function(u) for u in uniques] + [function(None)], dtype=object)
    return pd.Series(mapped[codes], index=values.index, dtype=object)


def keys_of(values: pd.Series) -> pd.Series:
    """:func:`cell_key` of every cell, computed once per distinct value."""
    return map_unique(values, cell_key)


def recode(values: pd.Series, mapping: Mapping[Any, Any]) -> pd.Series:
    """``values`` with each cell found in ``mapping`` (any case, numbers as numbers) replaced;
    other cells unchanged."""
    table = _lookup(mapping)
    keys = keys_of(values)
    hit = keys.isin(list(table))
    if not hit.any():
        return values
    out = values.astype(object).copy()
    out[hit.to_numpy()] = keys[hit].map(table).to_numpy()
    return out


OTHER = "other"
"""What an undeclared category is shown as."""


def declared_categories(values: pd.Series, declared: Mapping[Any, Any] | None) -> pd.Series:
    """A category column as a report may show it: values declared in programme.yml (a value
    map: your value -> the label to show) by their label, any other value as 'other', blanks
    blank. A category typed by hand can hold anything, a child's name included: only what the
    programme declared is ever shown by name (``evalkit check`` lists the rest to the owner)."""
    keys = keys_of(values)
    table = _lookup(declared or {})
    labels = keys.map(lambda k: None if k is None else str(table.get(k, OTHER)))
    return labels.astype("string")


def carry_by_id(frame: pd.DataFrame, unit: str, columns: Sequence[str]) -> pd.DataFrame:
    """Fill ``columns`` where blank from another row of the same ``unit`` (a treatment or
    village column that only the baseline file has, carried to the endline rows)."""
    out = frame.copy()
    for column in columns:
        if column not in out.columns:
            continue
        known = out[[unit, column]].dropna().drop_duplicates(unit)
        lookup = pd.Series(known[column].to_numpy(), index=known[unit].to_numpy())
        blank = out[column].isna()
        if blank.any():
            out.loc[blank, column] = out.loc[blank, unit].map(lookup)
    return out


def clean_id(text: str) -> str:
    """An ID as the kit compares it: Unicode compatibility form (NFKC: another normal form,
    full-width digits), format characters removed (zero-width joiners and spaces, soft
    hyphens, direction marks, byte-order marks), spaces at the ends trimmed."""
    text = unicodedata.normalize("NFKC", text)
    if not text.isascii():
        text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
    return text.strip()


def normalise_ids(values: pd.Series, ignore_leading_zeros: bool = False) -> pd.Series:
    """IDs as text: Excel's 1001.0 as '1001', invisible characters and other Unicode forms
    made alike (:func:`clean_id`); with ``ignore_leading_zeros`` '00123' and '123' are the
    same ID (Excel drops leading zeros between rounds)."""
    def one(v):
        if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)):
            return None
        if isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool):
            return _number_key(v)
        return clean_id(str(v))

    if pd.api.types.infer_dtype(values, skipna=True) in ("string", "empty"):
        text = values.astype("string")
        if not text.str.isascii().fillna(True).all():  # the rare non-ASCII ID: made alike
            text = text.str.normalize("NFKC").str.replace(_format_characters(), "", regex=True)
        text = text.str.strip()
    else:
        text = map_unique(values, one)
    text = text.astype("string").replace("", pd.NA)
    if ignore_leading_zeros:
        text = text.str.replace(r"^0+(?=\d)", "", regex=True)
    return text


@functools.lru_cache(maxsize=1)
def _format_characters() -> str:
    """A regular expression matching every Unicode format character (category Cf)."""
    import sys

    chars = [chr(c) for c in range(sys.maxunicode + 1) if unicodedata.category(chr(c)) == "Cf"]
    return "[" + "".join(re.escape(c) for c in chars) + "]"


def look_alike_ids(values: pd.Series) -> int:
    """How many IDs were written in more than one way that :func:`normalise_ids` makes alike
    (a zero-width character, another Unicode form): each such ID counts once."""
    raw = pd.Series(pd.unique(values.dropna().astype(str).str.strip()))
    if raw.empty:
        return 0
    cleaned = raw.map(clean_id)
    return int((cleaned.value_counts() > 1).sum())


_ORDINAL = re.compile(r"\b(\d+)(?:st|nd|rd|th)\b")


def round_order(label: Any) -> float | None:
    """A sort key for a round label known by its words or number, or None: 'Baseline' <
    'Midline' < 'Follow-up 1' < 'Follow-up 2' < 'Endline'; '6 months' < '12 months';
    'Round 2', 'T1', '2nd assessment' by their number."""
    key = _ORDINAL.sub(r"\1", simple(label))
    if key in ROUND_WORDS:
        return ROUND_WORDS[key]
    match = _NUMBERED.match(key.replace(" ", "") if key.startswith(("t", "r")) and len(key) <= 4 else key)
    if match:
        return float(next(g for g in match.groups() if g is not None))
    number = re.findall(r"\d+(?:\.\d+)?", key)
    words = re.sub(r"\d+(?:\.\d+)?", " ", key).split()
    word = " ".join(words)
    if len(number) == 1 and word in ROUND_WORDS:  # 'follow up 2', 'endline 2021'? (a word and a number)
        return ROUND_WORDS[word] + float(number[0]) / 1e4
    if len(number) == 1 and word in ("assessment", "visit", "round", "wave", "survey", "time",
                                     "month", "months", "assessment number"):
        return float(number[0])
    return None


def order_rounds(values: pd.Series, dates: pd.Series | None, declared: Mapping[Any, Any] | None,
                 source: str, column: str, hint: str | None = None) -> tuple[pd.Series, dict[int, str]]:
    """Rounds as 1, 2, 3 … in time order, and their labels.

    The order is, in this priority: ``declared`` (programme.yml's ``values.round``: label ->
    order number); numbers (rounds held as numbers order as numbers, '10' after '2'); the
    rounds' dates (median assessment date); known words (baseline < midline < endline,
    '6 months' < '12 months'). Anything else is refused: guessing would pair the wrong rounds.
    """
    all_keys = keys_of(values)
    present = values[values.notna().to_numpy()]
    keys = all_keys[values.notna().to_numpy()]
    distinct = list(dict.fromkeys(keys))
    numeric = all(is_number_key(k) for k in distinct)
    labels_of = {k: (k if is_number_key(k) else str(present[keys == k].iloc[0]).strip())
                 for k in distinct}
    where = f"{source}, column {column!r}"
    rank = (_declared_rank(distinct, declared, where) if declared
            else _number_or_date_rank(distinct, numeric, all_keys, values, dates))
    if not rank:
        rank = _word_rank(distinct, labels_of, where, hint)
    ordered = sorted(distinct, key=lambda k: rank[k])
    if len({rank[k] for k in distinct}) < len(distinct):
        raise DataError(f"{where}: two round labels have the same place in time; expected one "
                        "order number per round under values.round.")
    number = _round_numbers(ordered, keep_own=numeric and not declared)
    codes = all_keys.map(number)
    labels = {number[k]: _readable(labels_of[k]) for k in ordered}
    return codes, labels


def _number_or_date_rank(distinct: list, numeric: bool, all_keys, values, dates) -> dict:
    """Rounds held as numbers ranked as numbers, others by their dates (empty when undated)."""
    if numeric:
        return {k: float(k) for k in distinct}
    return _date_rank(distinct, all_keys, values, dates)


def _round_numbers(ordered: list, keep_own: bool) -> dict:
    """Each round's number: 1, 2, 3 … in order, or (``keep_own``: rounds given as numbers) its
    own whole number."""
    if keep_own:
        return {k: int(float(k)) if float(k).is_integer() else i + 1 for i, k in enumerate(ordered)}
    return {k: i + 1 for i, k in enumerate(ordered)}


def _declared_rank(distinct: list, declared: Mapping[Any, Any], where: str) -> dict:
    """Each round's place from programme.yml's ``values.round``; a round not there is refused."""
    table = _lookup(declared)
    missing = [k for k in distinct if k not in table]
    if missing:
        raise DataError(f"{where}: {len(missing)} round label(s) are not listed under "
                        "values.round in programme.yml; expected every round there with its "
                        "order number.")
    return {k: float(table[k]) for k in distinct}


def _date_rank(distinct: list, all_keys: pd.Series, values: pd.Series,
               dates: pd.Series | None) -> dict:
    """Each round's place by its median assessment date; empty when a round has no date."""
    if dates is None or not dates.notna().any():
        return {}
    medians = pd.Series(dates.to_numpy(), index=values.index).groupby(all_keys).median()
    rank = {k: medians.get(k).value if pd.notna(medians.get(k)) else np.nan for k in distinct}
    return {} if any(np.isnan(v) for v in rank.values()) else rank


def _word_rank(distinct: list, labels_of: dict, where: str, hint: str | None) -> dict:
    """Each round's place by its words ('baseline', '6 months'); refused when one is unknown."""
    known = {k: round_order(labels_of[k]) for k in distinct}
    if any(v is None for v in known.values()):
        raise DataError(f"{where}: the order of the {len(distinct)} rounds cannot be told (no "
                        "dates, and not all are words such as baseline, midline, endline or "
                        "'6 months'); "
                        + (hint or "expected their order under values.round in programme.yml, "
                           "e.g. {Baseline: 1, Endline: 2}") + ".")
    return known


def _readable(label: str) -> str:
    """A round label as a reader sees it: 'follow_up' -> 'Follow-up', 'baseline' -> 'Baseline';
    labels with capitals are kept as written."""
    if label != label.lower() or is_number_key(label):
        return label
    text = label.replace("_", " ").strip()
    text = re.sub(r"^follow ?up", "follow-up", text)
    return text[:1].upper() + text[1:]
