"""Loading one programme for its report: configuration, validated data, privacy applied."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from evalkit import config as config_mod
from evalkit.errors import DataError
from evalkit.indices import csi
from evalkit.io import read_table
from evalkit.report.privacy import public_columns
from evalkit.schema import dates, numbers, require_columns, whole_numbers, zero_one


@dataclass(frozen=True, eq=False)
class ProgrammeData:
    """A programme's configuration and its validated, privacy-safe data."""

    config: config_mod.ProgrammeConfig
    csi: pd.DataFrame | None  # standard columns: child, round, date, group?, 1A..6B
    files: dict[str, str]  # data file name -> SHA-256, for the methods appendix
    trial: pd.DataFrame | None = None  # household survey, long, personal columns dropped
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)  # other sections' files, public

    def table(self, name: str) -> pd.DataFrame:
        return self.tables[name]


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def _not_personal(raw: pd.DataFrame, columns: list, where: str) -> None:
    """A column the analysis needs must not be one the privacy guard removes."""
    from evalkit.errors import ConfigError
    from evalkit.report.privacy import personal_columns

    flagged = personal_columns([c for c in columns if c])
    if flagged:
        raise ConfigError(f"{raw.attrs.get('source', 'data')}: programme.yml ({where}) uses column "
                          f"{flagged[0]!r}, which looks like personal data (a name, birth date, "
                          "phone, address or note) and never enters a report; use an id column.")


def load_csi(folder: Path, cfg: config_mod.CSIConfig) -> pd.DataFrame:
    """Read the CSI export named in the configuration and return it with standard columns
    ``child, round, date[, group]`` and the 12 factor codes; personal columns are dropped.

    Every score is validated (a bad cell is one DataError naming file, line, column, value).
    """
    raw = read_table(folder / cfg.file, label=f"{folder.name}/{cfg.file}")
    needed = [cfg.child, cfg.round] + [c for c in (cfg.date, cfg.group) if c]
    require_columns(raw, needed, "named in programme.yml under csi.columns")
    factor_cols = csi.factor_columns(raw)
    csi.factor_scores(raw)  # validates every score; raises on the first bad cell
    _not_personal(raw, [cfg.child, cfg.round, cfg.group], "csi.columns")
    safe = public_columns(raw)
    out = pd.DataFrame({"child": safe[cfg.child].astype("string").str.strip(),
                        "round": whole_numbers(raw, cfg.round)})
    if cfg.date:
        out["date"] = dates(raw, cfg.date)
    if cfg.group:
        out["group"] = safe[cfg.group].astype("string").str.strip()
    for code in csi.FACTORS:
        out[code] = safe[factor_cols[code]]
    missing_child = out["child"].isna() | (out["child"] == "")
    if missing_child.any():
        row = int(missing_child.to_numpy().nonzero()[0][0])
        raise DataError(f"{raw.attrs['source']}, line {row + 2}, column {cfg.child!r}: the child "
                        "id is blank; expected an id in every row.")
    out.attrs = dict(raw.attrs)
    for round_value in (cfg.before, cfg.after):
        if round_value is not None and not (out["round"] == round_value).any():
            raise DataError(f"{raw.attrs['source']}, column {cfg.round!r}: no assessment in round "
                            f"{round_value!r}, which programme.yml names as csi.before/after.")
    return out


def load_trial(folder: Path, cfg: config_mod.TrialConfig) -> pd.DataFrame:
    """Read the trial's household survey, check its columns and values, drop personal data."""
    raw = read_table(folder / cfg.file, label=f"{folder.name}/{cfg.file}")
    outcome_cols = [o.name for o in cfg.outcomes]
    needed = [cfg.unit, cfg.cluster, cfg.treatment, cfg.round, *outcome_cols, *cfg.balance]
    if cfg.strata:
        needed.append(cfg.strata)
    require_columns(raw, needed, "named in programme.yml under trial")
    _not_personal(raw, needed, "trial")
    safe = public_columns(raw)
    out = safe[[c for c in dict.fromkeys(needed)]].copy()
    out[cfg.treatment] = zero_one(raw, cfg.treatment)
    for column in [*outcome_cols, *cfg.balance]:
        out[column] = numbers(raw, column)
    for outcome in cfg.outcomes:
        if outcome.kind == "binary":
            zero_one(raw, outcome.name)
    rounds = set(out[cfg.round])
    for value in (cfg.baseline, cfg.endline):
        if value not in rounds:
            raise DataError(f"{raw.attrs['source']}, column {cfg.round!r}: no row in round "
                            f"{value!r}, which programme.yml names as trial.baseline/endline.")
    out.attrs = dict(raw.attrs)
    return out


def load(folder: str | Path) -> ProgrammeData:
    """Load a programme folder: its ``programme.yml`` and every data file it names."""
    folder = Path(folder)
    cfg = config_mod.load(folder)
    files: dict[str, str] = {}
    frame = None
    if cfg.csi is not None:
        frame = load_csi(folder, cfg.csi)
        files[cfg.csi.file] = sha256(folder / cfg.csi.file)
    trial = None
    if cfg.trial is not None:
        trial = load_trial(folder, cfg.trial)
        files[cfg.trial.file] = sha256(folder / cfg.trial.file)
    tables = {}
    for name in section_files(cfg):
        raw = read_table(folder / name, label=f"{folder.name}/{name}")
        tables[name] = public_columns(raw)
        files[name] = sha256(folder / name)
    return ProgrammeData(config=cfg, csi=frame, files=files, trial=trial, tables=tables)


def section_files(cfg: config_mod.ProgrammeConfig) -> list[str]:
    """Data files named by the generic report sections (prepost, indicators, …)."""
    names: list[str] = []
    for name, value in cfg.sections.items():
        for entry in (value if isinstance(value, list) else [value]):
            for key in sorted(config_mod.FILE_KEYS & set(entry)):
                names.append(str(entry[key]))
            nested = entry.get("progress")
            if isinstance(nested, dict) and "file" in nested:
                names.append(str(nested["file"]))
    return list(dict.fromkeys(names))


def personal_source_frames(folder: str | Path) -> list[pd.DataFrame]:
    """The raw data files of a programme (with personal columns), for the leak check only."""
    folder = Path(folder)
    cfg = config_mod.load(folder)
    frames = []
    for section in (cfg.csi, cfg.trial):
        if section is not None:
            frames.append(read_table(folder / section.file))
    frames += [read_table(folder / name) for name in section_files(cfg)]
    return frames
