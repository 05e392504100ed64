"""A programme folder in, validated and pseudonymised tables out.

:func:`load` reads every file a ``programme.yml`` names exactly once, finds each table,
maps columns and values, reshapes, stacks and merges, validates every cell (all problems at
once), sets rows aside or stops as the programme's ``on_invalid`` says, drops personal
columns and replaces person IDs by keyed hashes. It writes the result as Parquet to the
programme's private folder ``.evalkit/`` (with the key and the set-aside list), so that the
report kernel and later runs read the validated cache instead of the exports.

Rows read = rows used + rows set aside, for every file (:class:`RowAccount`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from evalkit import config as config_mod
from evalkit.data import formats, mapping, personal
from evalkit.data.mapping import SRC, cell_key
from evalkit.data.read import ROW, RawTable, ReadOptions, file_digest, read
from evalkit.data.validate import Field, Problem, check, error_for
from evalkit.errors import ConfigError, DataError
from evalkit.instruments.csi import FACTORS

PRIVATE = ".evalkit"
"""The programme's private folder: key, validated cache, set-aside list, check page."""
CACHE_VERSION = "data-in 1"


@dataclass(frozen=True)
class RowAccount:
    """What happened to the rows of one table: ``read`` = ``used`` + sum of ``set_aside``."""

    section: str
    file: str
    read: int
    used: int
    set_aside: dict[str, int] = field(default_factory=dict)  # rule -> rows

    @property
    def rows_set_aside(self) -> int:
        return self.read - self.used

    def line(self) -> str:
        aside = self.rows_set_aside
        why = "; ".join(f"{n} {rule}" for rule, n in self.set_aside.items())
        return (f"{self.file}: {self.read} row(s) read, {self.used} used, {aside} set aside"
                + (f" ({why})" if why else ""))


@dataclass(frozen=True, eq=False)
class ProgrammeData:
    """A programme's configuration (rounds resolved) and its validated, pseudonymised data."""

    config: config_mod.ProgrammeConfig
    csi: pd.DataFrame | None  # child (hashed), round (1, 2, …), date?, group?, 1A … 6B
    files: dict[str, str]  # data file name -> SHA-256, for the methods appendix
    trial: pd.DataFrame | None = None  # household survey, long, personal columns dropped
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)  # other sections' files
    accounts: tuple[RowAccount, ...] = ()
    problems: tuple[Problem, ...] = field(default=(), repr=False)  # set aside (in memory only)
    canaries: frozenset[str] = field(default=frozenset(), repr=False)  # personal values, memory only
    undeclared: dict = field(default_factory=dict, repr=False)  # column -> Counter, memory only

    def table(self, name: str) -> pd.DataFrame:
        return self.tables[name]

    @property
    def rows_set_aside(self) -> int:
        return sum(a.rows_set_aside for a in self.accounts)


# ------------------------------------------------------------------------------ loading


class _Loader:
    """One load of one programme folder: each file read once, problems and accounts kept."""

    def __init__(self, folder: Path, cfg: config_mod.ProgrammeConfig, private: Path):
        self.folder = folder
        self.cfg = cfg
        self.private = private
        self.reads: dict[tuple, RawTable] = {}
        self.accounts: list[RowAccount] = []
        self.problems: list[Problem] = []
        self.canaries: set[str] = set()
        self.undeclared: dict[str, Counter] = {}  # column -> values shown as 'other' (memory only)
        self.hasher = personal.Pseudonymiser.for_folder(private)

    # --- reading

    def label(self, name: str) -> str:
        return f"{self.folder.name}/{name}"

    def read(self, spec: config_mod.FileSpec, expect: set[str]) -> RawTable:
        key = (spec.path, spec.sheet, spec.header_row, spec.encoding, spec.sep)
        if key not in self.reads:
            path = config_mod.inside(self.folder, spec.path, self.folder / config_mod.CONFIG_NAME,
                                     "file")
            raw = read(path, self.label(spec.path),
                       ReadOptions(spec.sheet, spec.header_row, spec.encoding, spec.sep), expect)
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
        self.canaries |= personal.canaries(frame, flagged, min_length=5)
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
               checked, used_rows: np.ndarray | None = None) -> pd.DataFrame:
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
            self.accounts.append(RowAccount(section, table.source + sheet, rows_read,
                                            rows_read - len(aside_rows), dict(counts)))
        out = checked.frame[keep].reset_index(drop=True)
        return out

    def hash_ids(self, frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
        out = frame.copy()
        for column in dict.fromkeys(columns):
            if column in out.columns:
                raw = mapping.normalise_ids(out[column])
                distinct = pd.Series(raw.dropna().unique(), dtype="string")
                self.canaries |= set(distinct[distinct.str.len() >= 5].tolist())
                out[column] = self.hasher.hash(raw)
        return out

    def values_for(self, src: config_mod.Source, key: str, *aliases: str) -> dict | None:
        for name in (key, *aliases):
            if name is not None and name in src.values:
                return src.values[name]
        return None

    # --- CSI

    def csi(self) -> tuple[pd.DataFrame, dict[int, str], Any, Any]:
        cfg = self.cfg.csi
        src = cfg.source
        roles = {"child": cfg.child, "round": cfg.round, "date": cfg.date, "group": cfg.group}
        expect = {v for v in roles.values() if v} | set(cfg.factors.values())
        tables, frame = self.source_frame(src, expect, cfg.round, set(roles.values()))
        shown_source = tables[0].source
        if src.layout == "wide":
            rounds = (mapping.wide_columns([c for c in frame.columns if c not in (ROW, SRC)],
                                           src.wide_pattern, shown_source)
                      if src.wide_pattern else formats.wide_rounds(list(frame.columns)))
            if len(rounds) < 2:
                raise DataError(f"{shown_source}: layout is wide, but no two groups of factor "
                                "columns (such as 'baseline_1A' … 'followup_6B') were found; "
                                "expected wide.pattern in programme.yml.")
            if src.wide_rounds:
                rounds = {k: v for k, v in rounds.items() if k in {str(r) for r in src.wide_rounds}}
            frame = mapping.wide_to_long(frame, rounds, cfg.round)
            if src.wide_rounds:
                frame[cfg.round] = mapping.recode(frame[cfg.round], src.wide_rounds)
        frame = self.screen(frame, {v for v in roles.values() if v})
        taken = {v for v in roles.values() if v}  # a column named for a role is not a factor
        columns = [c for c in frame.columns if c not in (ROW, SRC) and c not in taken]
        factor_cols = formats.factor_columns(columns, shown_source, cfg.factors)
        missing = [code for code in FACTORS if code not in factor_cols]
        if missing:
            raise DataError(f"{shown_source}: no column for CSI factor(s) {', '.join(missing)}; "
                            "expected one column per factor named by its code (1A … 6B, csi_1a, "
                            "q1a …) or its name (e.g. 'Food security'), or name it under "
                            f"csi.columns.{missing[0]} in programme.yml.")
        defaults = {"child": "child_id", "round": "round"}
        if cfg.rounds_from == "date":
            roles = {**roles, "round": None}
        for role, column in roles.items():
            if column is not None and column not in frame.columns:
                default = f", where it defaults to {column!r}" if defaults.get(role) == column else ""
                raise DataError(f"{shown_source}: no column {column!r} for the {role} "
                                f"(csi.columns.{role} in programme.yml{default}); columns present: "
                                f"{', '.join(map(str, columns))}.")
        if cfg.rounds_from == "date":  # each child's assessments numbered in date order, below
            frame = frame.assign(**{cfg.round: 0})
        work = pd.DataFrame({"child": frame[cfg.child], "round": frame[cfg.round]})
        if cfg.date:
            work["date"] = frame[cfg.date]
        if cfg.group:
            work["group"] = frame[cfg.group]
        for code in FACTORS:
            work[code] = frame[factor_cols[code]]
        work[ROW] = frame[ROW].to_numpy()
        work[SRC] = frame[SRC].to_numpy()
        # value maps and labelled files
        labels = self.labelled(tables, factor_cols.values())
        scores = self.values_for(src, "scores")
        for code in FACTORS:
            column = factor_cols[code]
            if column in labels:
                work[code] = mapping.recode(work[code], labels[column])
            mapped = self.values_for(src, column, code)
            if scores:
                work[code] = mapping.recode(work[code], scores)
            if mapped:
                work[code] = mapping.recode(work[code], mapped)
        for role in ("child", "date"):
            mapped = self.values_for(src, role, roles[role])
            if mapped and role in work:
                work[role] = mapping.recode(work[role], mapped)
        if "group" in work:
            declared = self.values_for(src, "group", cfg.group)
            shown = mapping.declared_categories(work["group"], declared)
            undeclared = work["group"][(shown == mapping.OTHER).fillna(False).to_numpy()]
            if len(undeclared):
                self.undeclared[cfg.group] = Counter(map(str, undeclared))
            work["group"] = shown
        fields = [Field("child", cfg.child, "id"), Field("round", cfg.round, "round")]
        if cfg.date:
            fields.append(Field("date", cfg.date, "date", required=cfg.rounds_from == "date",
                                date_format=src.date_format))
        if cfg.group:
            fields.append(Field("group", cfg.group, "text"))
        fields += [Field(code, factor_cols[code], "factor") for code in FACTORS]
        work["child"] = mapping.normalise_ids(work["child"], src.ignore_leading_zeros)
        unique = ["child", "date"] if cfg.rounds_from == "date" else ["child", "round"]
        checked = check(work, fields, tables, unique=unique, not_applicable=src.not_applicable)
        out = self.settle("csi", tables, work, checked)
        if cfg.rounds_from == "date":
            out["round"] = out.groupby("child")["date"].rank(method="first").astype("int64")
        declared = self.values_for(src, "round", cfg.round)
        round_labels_file = self.round_value_labels(tables, cfg.round)
        codes, labels = mapping.order_rounds(out["round"], out.get("date"), declared,
                                             shown_source, cfg.round)
        out["round"] = codes.astype("int64")
        numeric = all(str(k).lstrip("-").isdigit() for k in labels.values()) and not declared
        if numeric:
            default = "Assessment {}" if cfg.rounds_from == "date" else "Round {}"
            labels = {n: str(cfg.round_labels.get(n, round_labels_file.get(n, default.format(n))))
                      for n in labels}
        else:
            labels = {**labels, **{k: v for k, v in cfg.round_labels.items() if k in labels}}
        before = self.round_number(cfg.before, labels, declared, shown_source, "csi.before")
        after = self.round_number(cfg.after, labels, declared, shown_source, "csi.after")
        out = self.hash_ids(out, ["child"])
        out = out.drop(columns=[ROW, SRC])
        return out, labels, before, after

    def round_number(self, value: Any, labels: dict[int, str], declared, source: str, key: str):
        if value is None:
            return None
        if isinstance(value, (int, np.integer)) and not isinstance(value, bool) and int(value) in labels:
            return int(value)
        wanted = cell_key(value)
        for number, label in labels.items():
            if cell_key(label) == wanted or cell_key(number) == wanted:
                return number
        raise DataError(f"{source}: programme.yml names round {value!r} as {key}, but the data "
                        f"have no such round; rounds present: "
                        f"{', '.join(f'{n} ({labels[n]})' for n in labels)}.")

    def labelled(self, tables: list[RawTable], columns) -> dict[str, dict]:
        """Code -> score for factor columns whose Stata/SPSS value labels are the CSI's words;
        user-missing codes labelled 'not applicable' become n/a, others blank."""
        from evalkit.instruments.csi import NOT_APPLICABLE, score_label

        out: dict[str, dict] = {}
        for table in tables:
            for column in columns:
                labels = table.value_labels.get(column)
                if not labels:
                    continue
                recoded = {}
                for code, label in labels.items():
                    score = score_label(label)
                    if score is not None:
                        recoded[code] = score
                    elif mapping.simple(label) in {mapping.simple(t) for t in NOT_APPLICABLE}:
                        recoded[code] = "n/a"
                    elif code in table.missing_codes.get(column, set()):
                        recoded[code] = None
                if recoded:
                    out[column] = recoded
        return out

    def round_value_labels(self, tables: list[RawTable], column: str) -> dict[int, str]:
        for table in tables:
            labels = table.value_labels.get(column)
            if labels:
                return {int(k): str(v) for k, v in labels.items()
                        if isinstance(k, (int, float)) and float(k).is_integer()}
        return {}

    # --- trial

    def trial(self) -> tuple[pd.DataFrame, Any, Any]:
        cfg = self.cfg.trial
        src = cfg.source
        outcomes = [o.name for o in cfg.outcomes]
        needed = [cfg.unit, cfg.cluster, cfg.treatment, cfg.round, *outcomes, *cfg.balance,
                  *cfg.subgroups, *([cfg.takeup] if cfg.takeup else [])]
        if cfg.strata:
            needed.append(cfg.strata)
        needed = list(dict.fromkeys(needed))
        tables, frame = self.source_frame(src, set(needed), cfg.round, set(needed))
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
                         if getattr(cfg, r) == column), None)
            mapped = self.values_for(src, column, role)
            if mapped:
                work[column] = mapping.recode(work[column], mapped)
        work[cfg.unit] = mapping.normalise_ids(work[cfg.unit], src.ignore_leading_zeros)
        if src.rounds is not None:  # one file per round: carry what only some files hold
            work = mapping.carry_by_id(work, cfg.unit, [cfg.treatment, cfg.cluster, cfg.strata,
                                                        *cfg.balance, *cfg.subgroups])
        kinds = {o.name: ("binary" if o.kind == "binary" else "number") for o in cfg.outcomes}
        fields = [Field(cfg.unit, cfg.unit, "id"), Field(cfg.round, cfg.round, "round"),
                  Field(cfg.cluster, cfg.cluster, "text", required=True),
                  Field(cfg.treatment, cfg.treatment, "binary", required=True)]
        if cfg.strata:
            fields.append(Field(cfg.strata, cfg.strata, "text", required=True))
        bounds = {o.name: o.bounds for o in cfg.outcomes}
        if cfg.takeup:
            kinds[cfg.takeup] = "binary"
        for column in dict.fromkeys([*outcomes, *cfg.balance, *cfg.subgroups,
                                     *([cfg.takeup] if cfg.takeup else [])]):
            if column not in (cfg.unit, cfg.cluster, cfg.treatment, cfg.round, cfg.strata):
                fields.append(Field(column, column, kinds.get(column, "number"),
                                    bounds=bounds.get(column)))
        checked = check(work, fields, tables, unique=[cfg.unit, cfg.round])
        out = self.settle("trial", tables, work, checked)
        keys = out[cfg.round].map(cell_key)
        rounds = out[cfg.round].astype(object)
        for value in (cfg.baseline, cfg.endline):
            rounds[(keys == cell_key(value)).to_numpy()] = value
            if not (keys == cell_key(value)).any():
                raise DataError(f"{shown}, column {cfg.round!r}: no row in round {value!r}, which "
                                "programme.yml names as trial.baseline/endline.")
        out[cfg.round] = rounds
        out = self.hash_ids(out, [cfg.unit])
        return out.drop(columns=[ROW, SRC]), cfg.baseline, cfg.endline

    # --- other sections' files

    def table(self, spec: config_mod.FileSpec, fields: list[Field], ids: list[str]) -> pd.DataFrame:
        raw = self.read(spec, {f.column for f in fields} | set(ids))
        tables = [raw]
        frame = mapping.located(tables)
        meta = formats.meta_columns([c for c in frame.columns if c not in (ROW, SRC)])
        frame = self.screen(frame.drop(columns=meta), {f.column for f in fields} | set(ids))
        present = [f for f in fields if f.column in frame.columns]
        checked = check(frame, present, tables)
        out = self.settle("table", tables, frame, checked)
        detected = [c for c in out.columns if personal.is_person_id(c)]
        out = self.hash_ids(out, [c for c in [*ids, *detected] if c in out.columns])
        return out.drop(columns=[ROW, SRC])


def _generic_fields(cfg: config_mod.ProgrammeConfig) -> dict[str, tuple[list[Field], list[str]]]:
    """Per file of the generic sections: the typed columns and the person-ID columns."""
    out: dict[str, tuple[list[Field], list[str]]] = {p: ([], []) for p in cfg.files}

    def add(path, fields=(), ids=()):
        out.setdefault(path, ([], []))
        out[path][0].extend(fields)
        out[path][1].extend(ids)

    for entry in cfg.prepost:
        add(entry.file, [Field(o.name, o.name, "number") for o in entry.outcomes], [entry.unit])
    progress = cfg.case_closure.progress if cfg.case_closure else None
    if progress is not None:
        add(progress.file, [Field(a, a, "number") for a in progress.areas], [progress.unit])
    if cfg.residential_care:
        add(cfg.residential_care.register, [Field(c, c, "number") for c in ("girls", "boys", "year")])
    return out


def load(folder: str | Path, *, use_cache: bool = True, on_invalid: str | None = None,
         language: str | None = None) -> ProgrammeData:
    """Load a programme folder: its ``programme.yml`` and every data file it names.

    With ``use_cache`` the validated, pseudonymised tables of an earlier load are taken from
    ``.evalkit/cache`` (Parquet) when neither the configuration nor any data file's content
    (SHA-256) nor the kit's data-in code changed; otherwise every file is read (once) and the cache written.
    ``on_invalid`` overrides the programme's policy ('set_aside' collects every problem, as
    ``evalkit check`` does; nothing is cached then). ``language``: the edition whose text
    the configuration is read in (tables do not depend on it).
    """
    folder = Path(folder)
    cfg = config_mod.load(folder, language)
    override = on_invalid is not None and on_invalid != cfg.on_invalid
    if override:
        cfg = dataclasses.replace(cfg, on_invalid=on_invalid)
        use_cache = False
    private = folder / PRIVATE
    stamp = _stamp(folder, cfg)
    if use_cache:
        cached = _read_cache(private, cfg, stamp)
        if cached is not None:
            return cached
    loader = _Loader(folder, cfg, private)
    csi_frame, trial = None, None
    resolved = cfg
    if cfg.csi is not None:
        csi_frame, labels, before, after = loader.csi()
        resolved = dataclasses.replace(resolved, csi=dataclasses.replace(
            cfg.csi, round_labels=labels, before=before, after=after))
    if cfg.trial is not None:
        trial, *_ = loader.trial()
    tables = {}
    for path, (fields, ids) in _generic_fields(cfg).items():
        tables[path] = loader.table(cfg.files[path], fields, ids)
    files = {}
    for raw in loader.reads.values():
        name = raw.source.split("/", 1)[1] if "/" in raw.source else raw.source
        files[name] = raw.sha256
    data = ProgrammeData(config=resolved, csi=csi_frame, files=files, trial=trial, tables=tables,
                         accounts=tuple(loader.accounts), problems=tuple(loader.problems),
                         canaries=frozenset(loader.canaries), undeclared=loader.undeclared)
    if not override:
        _write_private(private, data, stamp)
    return data


# ------------------------------------------------------------------------------ cache


def _kit_digest() -> str:
    """A digest of the data-in layer's own source, so that a changed kit invalidates caches."""
    here = Path(__file__).parent
    digest = hashlib.sha256(CACHE_VERSION.encode())
    for path in sorted([*here.glob("*.py"), here.parent / "config.py",
                        here.parent / "instruments" / "csi.py"]):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _stamp(folder: Path, cfg: config_mod.ProgrammeConfig) -> str:
    digest = hashlib.sha256(_kit_digest().encode())
    digest.update((folder / config_mod.CONFIG_NAME).read_bytes())
    names = set(cfg.files)
    for section in (cfg.csi, cfg.trial):
        if section is not None:
            names |= set(section.source.paths)
    for name in sorted(names):  # each file by its content: a copy or a touch keeps the cache
        digest.update(f"{name}\0{file_digest(folder / name)}\0".encode())
    return digest.hexdigest()



def _write_private(private: Path, data: ProgrammeData, stamp: str) -> None:
    """Validated tables as Parquet, the set-aside list (file, row, column, rule: no values)."""
    try:
        cache = private / "cache"
        cache.mkdir(parents=True, exist_ok=True)
        parts = {"csi": data.csi, "trial": data.trial,
                 **{f"table-{i}": t for i, t in enumerate(data.tables.values())}}
        for name, frame in parts.items():
            if frame is not None:
                _atomic(cache / f"{name}.parquet", lambda p, f=frame: f.to_parquet(p, index=False))
        aside = pd.DataFrame([{"file": p.file, "row": p.row, "column": p.column, "rule": p.rule}
                              for p in data.problems], columns=["file", "row", "column", "rule"])
        _atomic(private / "set_aside.csv", lambda p: aside.to_csv(p, index=False))
        csi_cfg = data.config.csi
        manifest = {
            "stamp": stamp,
            "tables": list(data.tables),
            "files": data.files,
            "accounts": [dataclasses.asdict(a) for a in data.accounts],
            "csi": None if csi_cfg is None else {
                "round_labels": {str(k): v for k, v in csi_cfg.round_labels.items()},
                "before": csi_cfg.before, "after": csi_cfg.after},
            "trial_rounds": None if data.trial is None else
            {"baseline": data.config.trial.baseline, "endline": data.config.trial.endline},
        }
        _atomic(cache / "manifest.json", lambda p: Path(p).write_text(json.dumps(manifest, default=str)))
    except OSError:
        pass  # a read-only programme folder: no cache, the next load reads the files again


def _atomic(target: Path, write) -> None:
    handle, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(handle)
    try:
        write(tmp)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _read_cache(private: Path, cfg: config_mod.ProgrammeConfig, stamp: str) -> ProgrammeData | None:
    cache = private / "cache"
    try:
        manifest = json.loads((cache / "manifest.json").read_text())
        if manifest.get("stamp") != stamp:
            return None
        csi_frame = pd.read_parquet(cache / "csi.parquet") if cfg.csi is not None else None
        trial = pd.read_parquet(cache / "trial.parquet") if cfg.trial is not None else None
        tables = {name: pd.read_parquet(cache / f"table-{i}.parquet")
                  for i, name in enumerate(manifest["tables"])}
    except (OSError, ValueError, KeyError):
        return None
    resolved = cfg
    if cfg.csi is not None:
        info = manifest["csi"]
        resolved = dataclasses.replace(cfg, csi=dataclasses.replace(
            cfg.csi, round_labels={int(k): v for k, v in info["round_labels"].items()},
            before=info["before"], after=info["after"]))
        csi_frame["round"] = csi_frame["round"].astype("int64")
    if trial is not None:
        rounds = trial[cfg.trial.round].astype(object)
        keys = rounds.map(cell_key)
        for value in (cfg.trial.baseline, cfg.trial.endline):
            rounds[(keys == cell_key(value)).to_numpy()] = value
        trial[cfg.trial.round] = rounds
    accounts = tuple(RowAccount(**a) for a in manifest["accounts"])
    return ProgrammeData(config=resolved, csi=csi_frame, files=manifest["files"], trial=trial,
                         tables=tables, accounts=accounts)
