"""Recognising the exports users actually send: OSCaR's CSI report, KoBoToolbox and ODK
Central submissions, labelled Stata/SPSS files and wide one-row-per-child sheets.

Reading (finding the sheet and the header row) is :mod:`evalkit.data.read`'s job; this
module says what a table *is*: which columns are survey meta data, which hold the 12 CSI
factors, whether the rounds run across the columns, and which export made it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from evalkit.data.read import ROW, RawTable
from evalkit.errors import DataError
from evalkit.instruments.csi import FACTORS, SURE, UNSURE, cell_rule, factor_code, factor_matches

KOBO_META = frozenset((
    "start", "end", "today", "deviceid", "simserial", "subscriberid", "phonenumber", "username",
    "audit", "_id", "_uuid", "_submission_time", "_validation_status", "_notes", "_status",
    "_submitted_by", "__version__", "_tags", "_index", "_parent_index", "_parent_table_name",
    "_submission__id", "_submission__uuid", "_submission__submission_time",
    "_submission__validation_status", "_submission__notes", "_submission__status",
    "_submission__submitted_by", "_submission___version__", "_submission__tags", "_xform_id_string",
    "_attachments", "_geolocation", "formhub/uuid", "meta/instanceID", "meta/rootUuid",
    "meta/deprecatedID", "meta/instanceName",
))
"""KoBoToolbox's meta columns (after the documented export defaults)."""

ODK_META = frozenset((
    "SubmissionDate", "ReviewState", "meta-instanceID", "meta-instanceName", "meta-audit",
    "KEY", "PARENT_KEY", "SubmitterID", "SubmitterName", "AttachmentsPresent",
    "AttachmentsExpected", "Status", "DeviceID", "Edits", "FormVersion", "instanceID",
    "deviceid", "start", "end", "today",
))
"""ODK Central's meta columns (CSV export)."""

OSCAR_COLUMNS = ("Client ID", "Client Name", "Assessment Number", "Assessment Date", "Average Score")


@dataclass
class Layout:
    """What a raw table is: its export ``kind`` ('oscar', 'kobo', 'odk', 'stata', 'spss',
    'wide', 'csi' or 'table'), its meta columns, the CSI factor columns found (code ->
    column; for a wide sheet: round prefix -> code -> column) and the wide pattern."""

    kind: str
    meta: list[str] = field(default_factory=list)
    factors: dict[str, str] = field(default_factory=dict)
    wide_rounds: dict[str, dict[str, str]] = field(default_factory=dict)
    wide_pattern: str | None = None
    scores: dict[str, float] = field(default_factory=dict)  # code -> how well its header matched
    unsure: dict[str, list[str]] = field(default_factory=dict)  # code -> candidate columns
    csi_like: list[str] = field(default_factory=list)  # columns holding CSI cells, any header

    @property
    def looks_like_csi(self) -> bool:
        """Six or more columns look like CSI factors (by name or by their cells)."""
        return (len(self.factors) >= 6 or len(self.wide_rounds) >= 2
                or len(set(self.factors.values()) | set(self.csi_like)) >= 6)


def meta_columns(columns: list[str]) -> list[str]:
    """The KoBoToolbox / ODK Central meta columns among ``columns``."""
    return [c for c in columns if c in KOBO_META or c in ODK_META
            or c.startswith("_submission_") or c.startswith("meta-") or c.startswith("meta/")]


def factor_columns(columns: list[str], source: str, explicit: dict[str, str] | None = None) -> dict[str, str]:
    """CSI factor code -> the column holding it, by code, decorated code, name or group path.

    ``explicit`` (from programme.yml) wins. Two columns recognised as the same factor are an
    error naming both, never a silent choice.
    """
    explicit = {str(k).upper(): v for k, v in (explicit or {}).items()}
    found: dict[str, str] = {}
    for column in columns:
        if column in explicit.values():
            continue
        code = factor_code(column)
        if code is None or code in explicit:
            continue
        if code in found:
            raise DataError(f"{source}: columns {found[code]!r} and {column!r} both hold CSI factor "
                            f"{code}; expected one column per factor (name the right one under "
                            f"csi.columns.{code} in programme.yml).")
        found[code] = column
    found.update(explicit)
    return {code: found[code] for code in FACTORS if code in found}


_PREFIX = re.compile(r"^(?P<round>.+?)[\s_.:/-]+(?P<rest>.+)$")


def wide_rounds(columns: list[str]) -> dict[str, dict[str, str]]:
    """For a one-row-per-child sheet (``baseline_1A … followup_6B``): round prefix -> factor
    code -> column, for prefixes carrying at least 6 of the 12 factors; empty otherwise."""
    rounds: dict[str, dict[str, str]] = {}
    for column in columns:
        for match in _prefix_splits(column):
            code = factor_code(match[1])
            if code is not None:
                rounds.setdefault(match[0], {}).setdefault(code, column)
                break
    return {prefix: codes for prefix, codes in rounds.items() if len(codes) >= 6}


def _prefix_splits(column: str):
    """Every (prefix, rest) split of ``column`` at a separator, shortest prefix first; also a
    suffixed form ('1A_baseline')."""
    text = str(column)
    for i, ch in enumerate(text):
        if ch in " _.:/-" and 0 < i < len(text) - 1:
            yield text[:i].strip(" _.:/-"), text[i + 1:].strip(" _.:/-")
    for i in range(len(text) - 1, 0, -1):
        if text[i] in " _.:/-":
            yield text[i + 1:], text[:i]


def holds_csi_cells(values) -> bool:
    """Whether a column's cells read as CSI cells: some scores, and nine in ten of its
    non-blank cells valid by the instrument's cell rule (a yes/no or a distance is not)."""
    rule = cell_rule()
    counts = values.dropna().value_counts()
    if counts.empty:
        return False
    verdict = {v: rule(v) for v in counts.index}
    coded = {v for v in counts.index if coded_missing(v)}  # (99: decided in programme.yml)
    valid = sum(n for v, n in counts.items() if verdict[v].valid or v in coded)
    scores = {verdict[v].score for v in counts.index if verdict[v].score is not None}
    return len(scores) >= 2 and valid >= 0.9 * counts.sum()


def coded_missing(value) -> float | None:
    """``value`` as one of the numbers exports use for n/a or missing (99, -9, …), or None."""
    from evalkit.instruments.csi import CODED_MISSING, KHMER_DIGITS

    try:
        number = float(str(value).strip().translate(KHMER_DIGITS))
    except ValueError:
        return None
    return number if number in CODED_MISSING else None


def _offers(frame, column: str) -> list[tuple]:
    """What ``column``'s header offers: (score, clearly ahead, factor code, column) for its
    three likeliest factors (the runners-up a point lower), none when its cells are not CSI
    cells (a file with its header only has no cells to contradict its header)."""
    matches = [m for m in factor_matches(column) if m[1] >= UNSURE]
    if not matches or (len(frame) and not holds_csi_cells(frame[column])):
        return []
    margin = matches[0][1] - (matches[1][1] if len(matches) > 1 else 0.0)
    return [(score if rank == 0 else score - 1, rank == 0 and margin >= 8, code, column)
            for rank, (code, score) in enumerate(matches[:3])]


def match_factors(frame, columns: list[str], exact: dict[str, str]
                  ) -> tuple[dict[str, str], dict[str, float], dict[str, list[str]]]:
    """Factors the form names in its own words: code -> column taken (a header matching
    SURE or better, clearly ahead of any other factor, whose cells read as CSI cells), with
    its match score, and code -> candidate columns where no match is sure. ``exact``: the
    factors already found by code or manual name (kept)."""
    taken, scores = {}, {}
    used = set(exact.values())
    offers = [offer for column in columns if column not in used
              for offer in _offers(frame, column)]
    for score, clear, code, column in sorted(offers, key=lambda o: (-o[0], o[2], str(o[3]))):
        if code in exact or code in taken or column in used:
            continue
        if score >= SURE and clear:
            taken[code], scores[code] = column, score
            used.add(column)
    return taken, scores, _unsure(offers, exact, taken, used)


def _unsure(offers: list, exact: dict, taken: dict, used: set) -> dict[str, list[str]]:
    """For each factor still without a column: the free columns offered for it, best first."""
    unsure: dict[str, list[str]] = {}
    for _score, _clear, code, column in sorted(offers, key=lambda o: -o[0]):
        if code not in exact and code not in taken and column not in used:
            unsure.setdefault(code, [])
            if column not in unsure[code]:
                unsure[code].append(column)
    return unsure


def _export_kind(table: RawTable) -> str:
    """Which tool exported ``table``, by its own columns: 'odk', 'kobo', 'stata', 'spss',
    'oscar', or 'table' (none of these)."""
    columns = set(table.columns)
    simple = {c.strip().lower() for c in columns}
    if {"KEY", "SubmissionDate", "meta-instanceID", "PARENT_KEY"} & columns:
        return "odk"
    if {"_uuid", "_submission_time", "_index", "_parent_index"} & columns:
        return "kobo"
    if table.detected.get("format") in ("stata", "spss"):
        return table.detected["format"]
    if {c.lower() for c in OSCAR_COLUMNS if c != "Client Name"} <= simple:
        return "oscar"
    return "table"


def recognise(table: RawTable) -> Layout:
    """Say what ``table`` is (see :class:`Layout`)."""
    columns = table.columns
    meta = meta_columns(columns)
    kind = _export_kind(table)
    data_columns = [c for c in columns if c not in meta]
    rounds = wide_rounds(data_columns)
    if len(rounds) >= 2:
        return Layout("wide" if kind == "table" else kind, meta, {}, rounds)
    factors = _exact_factors(data_columns, table.source)
    from evalkit.data import personal

    candidates = [c for c in data_columns if not personal.is_personal(c)]
    fuzzy, scores, unsure = match_factors(table.frame, candidates, factors)
    scores = {**{code: 100.0 for code in factors}, **scores}
    factors = {code: {**factors, **fuzzy}[code] for code in FACTORS if code in {**factors, **fuzzy}}
    csi_like = [c for c in candidates if c not in factors.values() and holds_csi_cells(table.frame[c])]
    layout = Layout(kind, meta, factors, scores=scores, unsure=unsure, csi_like=csi_like)
    if kind == "table" and layout.looks_like_csi:
        layout.kind = "csi"
    return layout


def _exact_factors(columns: list, source) -> dict:
    """The factors named exactly (by code or name) when all 12 are, else none."""
    try:
        return factor_columns(columns, source)
    except DataError:
        return {}


def select_multiple(frame, column: str):
    """A KoBoToolbox select_multiple column (space-separated choice names) as one 0/1 column
    per choice, named ``column/choice`` like KoBo's own one-hot export."""
    import pandas as pd

    chosen = frame[column].astype("string").str.split()
    choices = sorted({c for row in chosen.dropna() for c in row})
    out = pd.DataFrame({f"{column}/{c}": chosen.map(lambda r, c=c: float(c in r) if isinstance(r, list)
                                                    else float("nan")) for c in choices},
                       index=frame.index)
    if ROW in frame.columns:
        out[ROW] = frame[ROW]
    return out
