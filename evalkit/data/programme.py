"""A programme folder in, validated and pseudonymised tables out.

:func:`load` reads every file the report sections' rules name exactly once, finds each
table, maps columns and values, reshapes, stacks and merges, validates every cell (all
problems at once), sets rows aside or stops as the programme's ``on_invalid`` says, drops
personal columns and replaces person IDs by keyed hashes. It writes the result as Parquet to
the programme's private folder ``.evalkit/`` (with the key, the set-aside list and the keyed
hashes of the personal values it dropped, which the renderer searches every page for), so
that later loads read the validated cache instead of the exports.

Rows read = rows used + rows set aside, for every file (:class:`RowAccount`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from evalkit import config as config_mod
from evalkit import files as safe
from evalkit.data import formats, mapping, personal
from evalkit.data.mapping import SRC, cell_key
from evalkit.data.read import (ROW, RawTable, ReadOptions, digest, file_status, join_parent, read,
                               settled)
from evalkit.data.rules import CSIRule, SurveyRule, TableRule
from evalkit.data.validate import Field, Problem, check, error_for
from evalkit.errors import ConfigError, DataError
from evalkit.instruments.csi import FACTORS

PRIVATE = ".evalkit"
"""The programme's private folder: key, validated cache, set-aside list, check page."""
CACHE_VERSION = "data-in 2"


@dataclass(frozen=True)
class RowAccount:
    """What happened to the rows of one table: ``read`` = ``used`` + sum of ``set_aside``.
    ``file`` is the file's name (for the owner's terminal); reports name it by ``number``."""

    section: str
    file: str
    read: int
    used: int
    set_aside: dict[str, int] = field(default_factory=dict)  # rule -> rows
    number: int = 1  # the file's place among the programme's files (reports say "file 2")

    @property
    def rows_set_aside(self) -> int:
        return self.read - self.used

    def line(self) -> str:
        aside = self.rows_set_aside
        why = "; ".join(f"{n} {rule}" for rule, n in self.set_aside.items())
        return (f"{self.file}: {self.read} row(s) read, {self.used} used, {aside} set aside"
                + (f" ({why})" if why else ""))


@dataclass(frozen=True)
class RoundName:
    """How a round may be named in a report: the label programme.yml declares for it, else a
    round word the kit knows ("Baseline", "6 months"), else only its number."""

    number: int
    declared: str | None = None
    word: tuple[str, int | None] | None = None


@dataclass(frozen=True)
class Rounds:
    names: dict[int, RoundName]
    before: int | None
    after: int | None

    def label(self, number: int) -> str:
        """The round's name in English, as a report names it (for messages and tests)."""
        name = self.names.get(int(number))
        if name is not None and name.declared is not None:
            return name.declared
        if name is not None and name.word is not None:
            word, n = name.word
            return word.format(n=n)
        return f"Round {int(number)}"

    @property
    def labels(self) -> dict[int, str]:
        return {n: self.label(n) for n in self.names}


@dataclass(frozen=True, eq=False)
class ProgrammeData:
    """A programme's configuration and its validated, pseudonymised data."""

    config: config_mod.ProgrammeConfig
    csi: pd.DataFrame | None  # child (hashed), round (1, 2, …), date?, group?, 1A … 6B
    files: dict[str, str]  # data file name -> SHA-256 (the owner's terminal; reports number them)
    trial: pd.DataFrame | None = None  # household survey, long, personal columns dropped
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)  # other sections' files
    accounts: tuple[RowAccount, ...] = ()
    rounds: Rounds | None = None  # the CSI's rounds as a report may name them
    problems: tuple[Problem, ...] = field(default=(), repr=False)  # set aside (in memory only)
    canaries: personal.Canaries | None = field(default=None, repr=False)  # keyed hashes only
    undeclared: dict = field(default_factory=dict, repr=False)  # column -> Counter, memory only
    look_alike_ids: int = 0  # IDs written in more than one way (counted once)
    factor_columns: dict = field(default_factory=dict)  # CSI code -> the export's column
    dropped_columns: tuple = ()  # personal columns dropped as the files were read (names)

    def table(self, name: str) -> pd.DataFrame:
        return self.tables[name]

    @property
    def rows_set_aside(self) -> int:
        return sum(a.rows_set_aside for a in self.accounts)


# ------------------------------------------------------------------------------ loading


class _Loader:
    """One load of one programme folder: each file read once, problems and accounts kept."""

    def __init__(self, folder: Path, cfg: config_mod.ProgrammeConfig, private: Path,
                 hasher: personal.Pseudonymiser, contents: "Contents | None" = None):
        self.folder = folder
        self.contents = contents if contents is not None else Contents(folder)
        self.cfg = cfg
        self.private = private
        self.reads: dict[tuple, RawTable] = {}
        self.accounts: list[RowAccount] = []
        self.problems: list[Problem] = []
        self.personal_values: set[str] = set()
        self.undeclared: dict[str, Counter] = {}  # column -> values shown as 'other' (memory only)
        self.hasher = hasher
        self.look_alike = 0
        self.factor_columns: dict[str, str] = {}  # CSI code -> the export's column read for it
        self.dropped: set[str] = set()  # personal columns dropped as read (their names only)
        self.numbers = {path: i for i, path in enumerate(cfg.files, start=1)}  # "file 2"

    # --- reading

    def label(self, name: str) -> str:
        return f"{self.folder.name}/{name}"

    def read(self, spec: config_mod.FileSpec, expect: set[str]) -> RawTable:
        key = (spec.path, spec.sheet, spec.header_row, spec.encoding, spec.sep)
        if key not in self.reads:
            path = config_mod.inside(self.folder, spec.path, self.folder / config_mod.CONFIG_NAME,
                                     "file")
            data = self.contents.read(spec.path) if path.is_file() else None
            raw = read(path, self.label(spec.path),
                       ReadOptions(spec.sheet, spec.header_row, spec.encoding, spec.sep), expect,
                       data=data)
            if spec.parent is not None:
                parent = self.read(config_mod.FileSpec(spec.parent), set())
                raw = join_parent(raw, parent)
            self.reads[key] = raw
        return self.reads[key]

    def screen(self, frame: pd.DataFrame, needed: set[str]) -> pd.DataFrame:
        """Drop personal columns (their values kept in memory for the leak scan); a column the
        configuration needs must not be one of them."""
        flagged = personal.personal_columns([c for c in frame.columns if c not in (ROW, SRC)],
                                            self.cfg.personal, self.cfg.keep)
        clash = [c for c in flagged if c in needed]
        if clash:
            raise ConfigError(f"{self.folder.name}/programme.yml names column {clash[0]!r}, which "
                              "looks like personal data (a name, birth date, phone, address or "
                              "note) and never enters a report; use an id column, or list it "
                              "under privacy.keep if it is not personal.")
        self.personal_values |= personal.canaries(frame, flagged, min_length=5)
        self.dropped.update(map(str, flagged))
        return frame.drop(columns=flagged)

    def source_frame(self, src: config_mod.Source, expect: set[str], round_column: str | None,
                     keep: set[str]) -> tuple[list[RawTable], pd.DataFrame]:
        tables = [self.read(spec, expect) for spec in src.files]
        frames = []
        for i, table in enumerate(tables):
            meta = [c for c in formats.meta_columns(table.columns) if c not in keep]
            frame = table.frame.drop(columns=meta)
            if src.rounds is not None and round_column is not None:
                frame = mapping.add_round(frame, round_column, src.rounds[i])
            frames.append(frame)
        return tables, mapping.located(tables, frames)

    # --- validation outcome

    def settle(self, section: str, tables: list[RawTable], frame: pd.DataFrame,
               checked) -> pd.DataFrame:
        """Stop on problems, or set their rows aside, as ``on_invalid`` says; account for rows."""
        problems = checked.problems
        keep = np.ones(len(frame), bool)
        if problems:
            if self.cfg.on_invalid == "stop":
                raise error_for(problems)
            bad_keys = {(p.file, p.row) for p in problems}
            record = list(zip(frame[SRC].map(lambda i: tables[int(i)].source), frame[ROW]))
            keep = np.array([r not in bad_keys for r in record], bool)
            self.problems += problems
        for table in tables:
            rows_read = int(table.frame[ROW].nunique())
            aside_rows: dict[int, str] = {}
            for p in problems:
                if p.file == table.source:
                    aside_rows.setdefault(p.row, p.rule)
            counts = Counter(aside_rows.values())
            sheet = f" (sheet {table.sheet!r})" if table.sheet else ""
            name = table.source.split("/", 1)[-1]
            self.accounts.append(RowAccount(section, table.source + sheet, rows_read,
                                            rows_read - len(aside_rows), dict(counts),
                                            self.numbers.get(name, len(self.numbers))))
        return checked.frame[keep].reset_index(drop=True)

    def ids(self, values: pd.Series, ignore_leading_zeros: bool = False) -> pd.Series:
        """IDs made alike (:func:`~evalkit.data.mapping.normalise_ids`), look-alikes counted."""
        self.look_alike += mapping.look_alike_ids(values)
        return mapping.normalise_ids(values, ignore_leading_zeros)

    def hash_ids(self, frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
        out = frame.copy()
        for column in dict.fromkeys(columns):
            if column in out.columns:
                raw = mapping.normalise_ids(out[column])
                distinct = pd.Series(raw.dropna().unique(), dtype="string")
                self.personal_values |= set(distinct[distinct.str.len() >= 5].tolist())
                out[column] = self.hasher.hash(raw)
        return out

    @staticmethod
    def values_for(src: config_mod.Source, key: str | None, *aliases: str | None) -> dict | None:
        for name in (key, *aliases):
            if name is not None and name in src.values:
                return src.values[name]
        return None

    # --- CSI

    def csi(self, rule: CSIRule) -> tuple[pd.DataFrame, Rounds]:
        src = rule.source
        roles = {**rule.roles, "round": None} if rule.rounds_from == "date" else rule.roles
        tables, frame, factor_cols = self._csi_columns(rule, roles)
        shown_source = tables[0].source
        if rule.rounds_from == "date":  # each child's assessments numbered in date order, below
            frame = frame.assign(**{rule.round: 0})
        work = self._csi_work(rule, roles, frame, tables, factor_cols)
        work["child"] = self.ids(work["child"], src.ignore_leading_zeros)
        unique = ["child", "date"] if rule.rounds_from == "date" else ["child", "round"]
        checked = check(work, self._csi_fields(rule, factor_cols), tables, unique=unique,
                        not_applicable=src.not_applicable, missing=src.missing)
        out = self.settle("csi", tables, work, checked)
        if out.empty:
            raise DataError(f"{shown_source}: no assessment left to report on (the table holds "
                            "no row, or every row was set aside); expected rows below the header.")
        rounds = self._csi_rounds(rule, out, tables)
        out = self.hash_ids(out, ["child"])
        return out.drop(columns=[ROW, SRC]), rounds

    def _csi_columns(self, rule: CSIRule, roles: dict):
        """The source's tables, its frame (unfolded when wide, screened) and the column of
        each factor; a missing factor or role column is refused."""
        src = rule.source
        expect = {v for v in rule.roles.values() if v} | set(rule.factors.values())
        tables, frame = self.source_frame(src, expect, rule.round, set(rule.roles.values()))
        shown_source = tables[0].source
        if src.layout == "wide":
            frame = self._unfold(frame, src, rule, shown_source)
        taken = {v for v in rule.roles.values() if v}  # a column named for a role is not a factor
        frame = self.screen(frame, taken)
        columns = [c for c in frame.columns if c not in (ROW, SRC) and c not in taken]
        factor_cols = formats.factor_columns(columns, shown_source, rule.factors)
        self.factor_columns = dict(factor_cols)
        _require_factors(factor_cols, shown_source)
        self._require_roles(roles, frame, columns, shown_source)
        return tables, frame, factor_cols

    def _csi_work(self, rule: CSIRule, roles: dict, frame, tables, factor_cols) -> pd.DataFrame:
        """The columns the checks read, by role and factor code, recoded as declared."""
        src = rule.source
        work = pd.DataFrame({"child": frame[rule.child], "round": frame[rule.round]})
        for role in ("date", "group"):
            if roles.get(role):
                work[role] = frame[roles[role]]
        for code in FACTORS:
            work[code] = frame[factor_cols[code]]
        work[ROW] = frame[ROW].to_numpy()
        work[SRC] = frame[SRC].to_numpy()
        self._recode_factors(work, tables, src, factor_cols)
        for role in ("child", "date"):
            mapped = self.values_for(src, role, roles.get(role))
            if mapped and role in work:
                work[role] = mapping.recode(work[role], mapped)
        if "group" in work:
            work["group"] = self._declared_groups(work["group"], src, rule.group)
        return work

    def _declared_groups(self, groups: pd.Series, src, column: str) -> pd.Series:
        """Groups as declared; the undeclared ones are counted (and shown as 'other')."""
        shown = mapping.declared_categories(groups, self.values_for(src, "group", column))
        undeclared = groups[(shown == mapping.OTHER).fillna(False).to_numpy()]
        if len(undeclared):
            self.undeclared[column] = Counter(map(str, undeclared))
        return shown

    @staticmethod
    def _csi_fields(rule: CSIRule, factor_cols: dict) -> list[Field]:
        fields = [Field("child", rule.child, "id"), Field("round", rule.round, "round")]
        if rule.date:
            fields.append(Field("date", rule.date, "date", required=rule.rounds_from == "date",
                                date_format=rule.source.date_format))
        if rule.group:
            fields.append(Field("group", rule.group, "text"))
        return fields + [Field(code, factor_cols[code], "factor") for code in FACTORS]

    def _csi_rounds(self, rule: CSIRule, out: pd.DataFrame, tables) -> Rounds:
        """Number the rounds in time order (in ``out``) and name the two compared."""
        shown_source = tables[0].source
        if rule.rounds_from == "date":
            out["round"] = out.groupby("child")["date"].rank(method="first").astype("int64")
        declared = self.values_for(rule.source, "round", rule.round)
        codes, values = mapping.order_rounds(out["round"], out.get("date"), declared,
                                             shown_source, rule.round)
        out["round"] = codes.astype("int64")
        names = self._round_names(values, tables, rule)
        before = self._round_number(rule.before, values, shown_source, "csi.before")
        after = self._round_number(rule.after, values, shown_source, "csi.after")
        return Rounds(names, before, after)

    def _unfold(self, frame, src, rule, shown_source) -> pd.DataFrame:
        rounds = (mapping.wide_columns([c for c in frame.columns if c not in (ROW, SRC)],
                                       src.wide_pattern, shown_source)
                  if src.wide_pattern else formats.wide_rounds(list(frame.columns)))
        if len(rounds) < 2:
            raise DataError(f"{shown_source}: layout is wide, but no two groups of factor "
                            "columns (such as 'baseline_1A' … 'followup_6B') were found; "
                            "expected wide.pattern in programme.yml.")
        if src.wide_rounds:
            rounds = {k: v for k, v in rounds.items() if k in {str(r) for r in src.wide_rounds}}
        frame = mapping.wide_to_long(frame, rounds, rule.round)
        if src.wide_rounds:
            frame[rule.round] = mapping.recode(frame[rule.round], src.wide_rounds)
        return frame

    @staticmethod
    def _require_roles(roles, frame, columns, shown_source) -> None:
        defaults = {"child": "child_id", "round": "round"}
        for role, column in roles.items():
            if column is not None and column not in frame.columns:
                default = f", where it defaults to {column!r}" if defaults.get(role) == column else ""
                raise DataError(f"{shown_source}: no column {column!r} for the {role} "
                                f"(csi.columns.{role} in programme.yml{default}); columns present: "
                                f"{', '.join(map(str, columns))}.")

    def _recode_factors(self, work, tables, src, factor_cols) -> None:
        """Value labels of labelled files, then programme.yml's value maps, on each factor."""
        labels = self.labelled(tables, factor_cols.values())
        scores = self.values_for(src, "scores")
        for code in FACTORS:
            column = factor_cols[code]
            if column in labels:
                work[code] = mapping.recode(work[code], labels[column])
            if scores:
                work[code] = mapping.recode(work[code], scores)
            mapped = self.values_for(src, column, code)
            if mapped:
                work[code] = mapping.recode(work[code], mapped)

    def _round_names(self, values: dict[int, str], tables, rule: CSIRule) -> dict[int, RoundName]:
        """Each round's name as a report may show it: programme.yml's ``round_labels``, else
        the data's own word for it when programme.yml declares that word, else a round word
        the kit knows, else nothing (the report says "Round 2"). Stata/SPSS value labels and
        other data text are never shown unless declared."""
        declared = self.cfg.declared
        labels_file = self.round_value_labels(tables, rule.round)
        out = {}
        for number, value in values.items():
            text = str(value).strip()
            label = None
            if number in self._declared_labels(rule):
                label = self._declared_labels(rule)[number]
            elif not mapping.is_number_key(text) and text in declared:
                label = text
            elif number in labels_file and labels_file[number] in declared:
                label = labels_file[number]
            word = mapping.round_name(text) or (mapping.round_name(labels_file[number])
                                                if number in labels_file else None)
            if rule.rounds_from == "date":
                word = ("Assessment {n}", number)
            out[number] = RoundName(number, label, word)
        return out

    def _declared_labels(self, rule: CSIRule) -> dict[int, str]:
        csi = self.cfg.csi
        labels = getattr(csi, "round_labels", {}) or {}
        return {int(k): str(v) for k, v in labels.items()
                if str(k).lstrip("-").isdigit()}

    @staticmethod
    def _round_number(value: Any, values: dict[int, str], source: str, key: str):
        if value is None:
            return None
        if isinstance(value, (int, np.integer)) and not isinstance(value, bool) and int(value) in values:
            return int(value)
        wanted = cell_key(value)
        for number, label in values.items():
            if cell_key(label) == wanted or cell_key(number) == wanted:
                return number
        raise DataError(f"{source}: programme.yml names round {value!r} as {key}, but the data "
                        f"have no such round; rounds present: "
                        f"{', '.join(str(n) for n in values)} (in time order).")

    def labelled(self, tables: list[RawTable], columns) -> dict[str, dict]:
        """Code -> score for factor columns whose Stata/SPSS value labels are the CSI's words,
        read by the instrument's cell rule: a label meaning 'not applicable' (English or Khmer)
        becomes n/a, one meaning 'don't know' or 'missing', or a user-missing code, blank."""
        from evalkit.instruments.csi import read_cell

        out: dict[str, dict] = {}
        for table in tables:
            for column in columns:
                labels = table.value_labels.get(column)
                if not labels:
                    continue
                recoded = {}
                for code, label in labels.items():
                    cell = read_cell(label)
                    if cell.score is not None:
                        recoded[code] = cell.score
                    elif cell.not_applicable:
                        recoded[code] = "n/a"
                    elif cell.valid or code in table.missing_codes.get(column, set()):
                        recoded[code] = None
                if recoded:
                    out[column] = recoded
        return out

    @staticmethod
    def round_value_labels(tables: list[RawTable], column: str) -> dict[int, str]:
        for table in tables:
            labels = table.value_labels.get(column)
            if labels:
                return {int(k): str(v) for k, v in labels.items()
                        if isinstance(k, (int, float)) and float(k).is_integer()}
        return {}

    # --- village trial survey

    def survey(self, rule: SurveyRule) -> pd.DataFrame:
        src = rule.source
        needed = rule.columns
        tables, frame = self.source_frame(src, set(needed), rule.round, set(needed))
        shown = tables[0].source
        frame = self.screen(frame, set(needed))
        for column in needed:
            if column not in frame.columns:
                raise DataError(f"{shown}: no column {column!r} (named in programme.yml under "
                                f"trial); columns present: "
                                f"{', '.join(c for c in frame.columns if c not in (ROW, SRC))}.")
        work = frame[[*needed, ROW, SRC]].copy()
        for column in needed:
            role = next((r for r in ("unit", "cluster", "strata", "round", "treatment")
                         if getattr(rule, r) == column), None)
            mapped = self.values_for(src, column, role)
            if mapped:
                work[column] = mapping.recode(work[column], mapped)
        work[rule.unit] = self.ids(work[rule.unit], src.ignore_leading_zeros)
        if src.rounds is not None:  # one file per round: carry what only some files hold
            work = mapping.carry_by_id(work, rule.unit, [rule.treatment, rule.cluster, rule.strata,
                                                         *rule.balance, *rule.subgroups])
        checked = check(work, self._survey_fields(rule), tables, unique=[rule.unit, rule.round])
        out = self.settle("trial", tables, work, checked)
        out[rule.round] = self._survey_rounds(out[rule.round], rule, shown)
        out = self.hash_ids(out, [rule.unit])
        return out.drop(columns=[ROW, SRC])

    @staticmethod
    def _survey_fields(rule: SurveyRule) -> list[Field]:
        """The trial's checks: the roles, then each outcome (with its range), balance
        characteristic and subgroup by its kind."""
        kinds = {name: ("binary" if kind == "binary" else "number") for name, kind, _ in rule.outcomes}
        bounds = {name: b for name, _kind, b in rule.outcomes}
        fields = [Field(rule.unit, rule.unit, "id"), Field(rule.round, rule.round, "round"),
                  Field(rule.cluster, rule.cluster, "text", required=True),
                  Field(rule.treatment, rule.treatment, "binary", required=True)]
        if rule.strata:
            fields.append(Field(rule.strata, rule.strata, "text", required=True))
        if rule.takeup:
            kinds[rule.takeup] = "binary"
        roles = {rule.unit, rule.cluster, rule.treatment, rule.round, rule.strata}
        return fields + [Field(column, column, kinds.get(column, "number"), bounds=bounds.get(column))
                         for column in dict.fromkeys([*kinds, *rule.balance, *rule.subgroups])
                         if column not in roles]

    @staticmethod
    def _survey_rounds(rounds: pd.Series, rule: SurveyRule, shown: str) -> pd.Series:
        """The round column with the baseline and endline written as programme.yml names
        them (1 and '1', 'Baseline' and 'baseline' alike); a round with no row is refused."""
        keys = rounds.map(cell_key)
        out = rounds.astype(object)
        for value in (rule.baseline, rule.endline):
            here = (keys == cell_key(value)).to_numpy()
            if not here.any():
                raise DataError(f"{shown}, column {rule.round!r}: no row in round {value!r}, which "
                                "programme.yml names as trial.baseline/endline.")
            out[here] = value
        return out

    # --- other sections' files

    def table(self, spec: config_mod.FileSpec, fields: list[Field], ids: list[str]) -> pd.DataFrame:
        raw = self.read(spec, {f.column for f in fields} | set(ids))
        tables = [raw]
        frame = mapping.located(tables)
        meta = formats.meta_columns([c for c in frame.columns if c not in (ROW, SRC)])
        frame = self.screen(frame.drop(columns=meta), {f.column for f in fields} | set(ids))
        for column in ids:
            if column in frame.columns:
                frame[column] = self.ids(frame[column])
        present = [f for f in fields if f.column in frame.columns]
        checked = check(frame, present, tables)
        out = self.settle("table", tables, frame, checked)
        detected = [c for c in out.columns if personal.is_person_id(c)]
        out = self.hash_ids(out, [c for c in [*ids, *detected] if c in out.columns])
        return out.drop(columns=[ROW, SRC])


def _require_factors(factor_cols: dict, shown_source: str) -> None:
    """Refuse a CSI source without a column for every factor, naming the missing ones."""
    missing = [code for code in FACTORS if code not in factor_cols]
    if missing:
        raise DataError(f"{shown_source}: no column for CSI factor(s) {', '.join(missing)}; "
                        "expected one column per factor named by its code (1A … 6B, csi_1a, "
                        "q1a …) or its name (e.g. 'Food security'), or name it under "
                        f"csi.columns.{missing[0]} in programme.yml.")


def _table_rules(rules: Sequence) -> dict[str, tuple[list[Field], list[str]]]:
    """The generic rules merged per file: typed columns and person-ID columns."""
    out: dict[str, tuple[list[Field], list[str]]] = {}
    for rule in rules:
        if isinstance(rule, TableRule):
            fields, ids = out.setdefault(rule.file, ([], []))
            fields.extend(f for f in rule.fields if f not in fields)
            ids.extend(i for i in rule.ids if i not in ids)
    return out


def _analysed(loader, rules) -> tuple:
    """The CSI assessments with their rounds, and the trial survey, as the rules read them."""
    csi_frame = trial = rounds = None
    for rule in rules:
        if isinstance(rule, CSIRule):
            csi_frame, rounds = loader.csi(rule)
        elif isinstance(rule, SurveyRule):
            trial = loader.survey(rule)
    return csi_frame, rounds, trial


def _file_digests(loader) -> dict[str, str]:
    """Each file read (named inside the folder) and the SHA-256 of its bytes."""
    files: dict[str, str] = {}
    for raw in loader.reads.values():
        name = raw.source.split("/", 1)[1] if "/" in raw.source else raw.source
        files.setdefault(name, raw.sha256)
    return files


def load(folder: str | Path, sections: Sequence[config_mod.SectionSpec], *,
         use_cache: bool = True, on_invalid: str | None = None,
         language: str | None = None, config: config_mod.ProgrammeConfig | None = None
         ) -> ProgrammeData:
    """Load a programme folder: its ``programme.yml`` (each section parsed by its module in
    ``sections``) and every data file the sections' rules name.

    With ``use_cache`` the validated, pseudonymised tables of an earlier load are taken from
    ``.evalkit/cache`` (Parquet) when neither the configuration nor any data file's content
    (SHA-256) nor the kit's data-in code changed; otherwise every file is read (once) and the
    cache written. ``on_invalid`` overrides the programme's policy ('set_aside' collects every
    problem, as ``evalkit check`` does; nothing is cached then). ``language``: the edition
    whose text the configuration is read in (tables do not depend on it). ``config``: the
    configuration when the caller has already read it.
    """
    folder = Path(folder)
    cfg = config if config is not None else config_mod.load(folder, sections, language)
    override = on_invalid is not None and on_invalid != cfg.on_invalid
    if override:
        cfg = dataclasses.replace(cfg, on_invalid=on_invalid)
        use_cache = False
    private = folder / PRIVATE
    rules = cfg.rules(sections)
    contents = Contents(folder)
    stamp = _stamp(folder, cfg, contents)
    hasher_key = personal.Pseudonymiser.key_for_folder(folder, PRIVATE)
    if use_cache:
        cached = _read_cache(folder, cfg, stamp, hasher_key)
        if cached is not None:
            contents.save()
            return cached
    loader = _Loader(folder, cfg, private, personal.Pseudonymiser(hasher_key), contents)
    csi_frame, rounds, trial = _analysed(loader, rules)
    tables = {path: loader.table(cfg.files[path], fields, ids)
              for path, (fields, ids) in _table_rules(rules).items()}
    data = ProgrammeData(config=cfg, csi=csi_frame, files=_file_digests(loader), trial=trial,
                         tables=tables,
                         accounts=tuple(loader.accounts), rounds=rounds,
                         problems=tuple(loader.problems),
                         canaries=personal.Canaries(hasher_key).add(loader.personal_values),
                         undeclared=loader.undeclared, look_alike_ids=loader.look_alike,
                         factor_columns=loader.factor_columns,
                         dropped_columns=tuple(sorted(loader.dropped)))
    if not override:
        _write_private(folder, data, stamp)
    contents.save()
    return data


# ------------------------------------------------------------------------------ cache


def kit_files() -> list[Path]:
    """The data-in layer's own source (its change invalidates every cache)."""
    here = Path(__file__).parent
    return sorted([*here.glob("*.py"), here.parent / "config.py", here.parent / "files.py",
                   *(here.parent / "instruments").glob("*.py")])


_KIT_DIGESTS: dict[tuple, str] = {}


def kit_digest(paths: Sequence[Path], salt: str = CACHE_VERSION) -> str:
    """A digest of some of the kit's own files (once per process): a changed kit invalidates
    what was made with it."""
    key = (salt, *paths)
    if key not in _KIT_DIGESTS:
        digest = hashlib.sha256(salt.encode())
        for path in paths:
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
        _KIT_DIGESTS[key] = digest.hexdigest()
    return _KIT_DIGESTS[key]


def stamp(folder: Path, cfg: config_mod.ProgrammeConfig, *, read: bool = True) -> str | None:
    """What a programme's validated tables depend on: the data-in code, programme.yml and the
    content of every data file it names. A file whose status (inode, size, times) is the one
    recorded when it was last read is not read again; with ``read=False`` a file not known
    that way gives None (the caller treats the programme as changed, without reading it)."""
    return _stamp(Path(folder), cfg, Contents(Path(folder)), read)


def _stamp(folder: Path, cfg: config_mod.ProgrammeConfig, contents: "Contents",
           read: bool = True) -> str | None:
    hashed = hashlib.sha256(kit_digest(tuple(kit_files())).encode())
    hashed.update(cfg.digest.encode())
    for name in sorted(cfg.files):  # each file by its content: a copy or a touch keeps the cache
        known = contents.digest(name, read)
        if known is None:
            return None
        hashed.update(f"{name}\0{known}\0".encode())
    return hashed.hexdigest()


class Contents:
    """A programme's data files, each read at most once per load, and the record of their
    content digests by file status (``.evalkit/digests.json``): a file whose status is the one
    recorded when it was read is known without reading it, in this process or the next (the
    report's kernel after the command that decided to render it). A status moves with every
    write and cannot be set back (it includes the inode change time), and only a file last
    written over two seconds before it was read is recorded."""

    RECORD = f"{PRIVATE}/digests.json"

    def __init__(self, folder: Path):
        self.folder = folder
        self._bytes: dict[str, bytes] = {}
        self._changed = False
        try:
            self._record = json.loads(safe.read(folder, self.RECORD))
        except (OSError, ValueError, safe.UnsafePath):
            self._record = {}

    def _path(self, name: str) -> Path:
        return config_mod.inside(self.folder, name, self.folder / config_mod.CONFIG_NAME, "file")

    def digest(self, name: str, read: bool = True) -> str | None:
        """SHA-256 of the file's content (None when ``read`` is False and it is not known)."""
        path = self._path(name)
        try:
            status = list(file_status(path))
        except OSError:
            return "missing"  # (reading it names the problem in a sentence)
        known = self._record.get(name)
        if known and known.get("status") == status:
            return known["sha256"]
        if not read:
            return None
        data = self.read(name)
        return digest(data)

    def read(self, name: str) -> bytes:
        """The file's bytes (read once per load), its digest recorded by its status."""
        if name not in self._bytes:
            path = self._path(name)
            before = file_status(path)
            data = path.read_bytes()
            self._bytes[name] = data
            if settled(before) and file_status(path) == before:
                self._record[name] = {"status": list(before), "sha256": digest(data)}
                self._changed = True
        return self._bytes[name]

    def save(self) -> None:
        """Keep the record (best effort: a read-only folder is read again next time)."""
        self._bytes.clear()
        if self._changed:
            try:
                safe.write(self.folder, self.RECORD, json.dumps(self._record), private=True)
            except (OSError, safe.UnsafePath):
                pass
            self._changed = False


def _parquet(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return buffer.getvalue()


def _write_private(folder: Path, data: ProgrammeData, stamp: str) -> None:
    """Validated tables as Parquet, the set-aside list (file, row, column, rule: no values) and
    the keyed hashes of the personal values, in the private folder (0700, files 0600)."""
    try:
        parts = {"csi": data.csi, "trial": data.trial,
                 **{f"table-{i}": t for i, t in enumerate(data.tables.values())}}
        for name, frame in parts.items():
            if frame is not None:
                safe.write(folder, f"{PRIVATE}/cache/{name}.parquet", _parquet(frame), private=True)
        aside = pd.DataFrame([{"file": p.file, "row": p.row, "column": p.column, "rule": p.rule}
                              for p in data.problems], columns=["file", "row", "column", "rule"])
        aside = aside.map(_cell_safe)
        safe.write(folder, f"{PRIVATE}/set_aside.csv", aside.to_csv(index=False), private=True)
        rounds = data.rounds
        manifest = {
            "stamp": stamp,
            "tables": list(data.tables),
            "files": data.files,
            "accounts": [dataclasses.asdict(a) for a in data.accounts],
            "rounds": None if rounds is None else {
                "names": [dataclasses.asdict(n) for n in rounds.names.values()],
                "before": rounds.before, "after": rounds.after},
            "canaries": data.canaries.record() if data.canaries is not None else None,
            "look_alike_ids": data.look_alike_ids,
            "factor_columns": data.factor_columns,
            "dropped_columns": list(data.dropped_columns),
        }
        safe.write(folder, f"{PRIVATE}/cache/manifest.json", json.dumps(manifest, default=str),
                   private=True)
    except OSError:
        pass  # a read-only programme folder: no cache, the next load reads the files again


def _cell_safe(value):
    """A private CSV cell that a spreadsheet will not run as a formula."""
    return safe.neutralise(value) if isinstance(value, str) else value


def _cached_rounds(info: dict) -> Rounds:
    """The CSI rounds as the cache's manifest records them."""
    names = {}
    for n in info["names"]:
        word = tuple(n["word"]) if n.get("word") else None
        names[int(n["number"])] = RoundName(int(n["number"]), n.get("declared"), word)
    return Rounds(names, info["before"], info["after"])


def _declared_trial_rounds(trial: pd.DataFrame, trial_cfg) -> None:
    """The trial's round cells that read as the declared baseline or endline, given back as
    programme.yml writes them (Parquet keeps one type per column)."""
    column = trial_cfg.round
    values = trial[column].astype(object)
    keys = values.map(cell_key)
    for value in (trial_cfg.baseline, trial_cfg.endline):
        values[(keys == cell_key(value)).to_numpy()] = value
    trial[column] = values


def _read_cache(folder: Path, cfg: config_mod.ProgrammeConfig, stamp: str,
                key: bytes) -> ProgrammeData | None:
    try:
        manifest = json.loads(safe.read(folder, f"{PRIVATE}/cache/manifest.json"))
        if manifest.get("stamp") != stamp:
            return None

        def frame(name):
            return pd.read_parquet(io.BytesIO(safe.read(folder, f"{PRIVATE}/cache/{name}.parquet")))

        csi_frame = frame("csi") if manifest.get("rounds") is not None else None
        trial = frame("trial") if cfg.trial is not None else None
        tables = {name: frame(f"table-{i}") for i, name in enumerate(manifest["tables"])}
    except (OSError, ValueError, KeyError, safe.UnsafePath):
        return None
    rounds = None
    if csi_frame is not None:
        rounds = _cached_rounds(manifest["rounds"])
        csi_frame["round"] = csi_frame["round"].astype("int64")
    if trial is not None:
        _declared_trial_rounds(trial, cfg.trial)
    accounts = tuple(RowAccount(**a) for a in manifest["accounts"])
    canaries = personal.Canaries.from_record(key, manifest.get("canaries") or {})
    return ProgrammeData(config=cfg, csi=csi_frame, files=manifest["files"], trial=trial,
                         tables=tables, accounts=accounts, rounds=rounds, canaries=canaries,
                         look_alike_ids=int(manifest.get("look_alike_ids", 0)),
                         factor_columns=dict(manifest.get("factor_columns") or {}),
                         dropped_columns=tuple(manifest.get("dropped_columns") or ()))
