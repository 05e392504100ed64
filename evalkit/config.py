"""Programme configuration: one ``programme.yml`` per programme folder.

Adding a programme needs a folder with its data files and this file, never new Python. A
configuration error is one sentence naming the file, the key and what was expected.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from evalkit.errors import ConfigError

CONFIG_NAME = "programme.yml"


@dataclass(frozen=True)
class CSIConfig:
    """Where a programme's CSI assessments are and how its columns are named."""

    file: str
    child: str = "child_id"
    round: str = "round"
    date: str | None = None
    group: str | None = None
    round_labels: dict[Any, str] = field(default_factory=dict)
    before: Any = None
    after: Any = None
    published_improvement: dict[str, float] = field(default_factory=dict)
    published_source: str | None = None


@dataclass(frozen=True)
class TrialOutcome:
    name: str
    label: str
    kind: str  # "binary" (0/1, shown in percentage points) or "score"


@dataclass(frozen=True)
class TrialConfig:
    """A treatment vs control village comparison with baseline and endline surveys."""

    file: str
    unit: str
    cluster: str
    treatment: str
    round: str
    baseline: Any
    endline: Any
    outcomes: tuple[TrialOutcome, ...]
    strata: str | None = None
    balance: tuple[str, ...] = ()
    balance_labels: dict[str, str] = field(default_factory=dict)
    estimator: str = "ancova"
    seed: int = 12345
    wild_reps: int = 9999
    ri_reps: int = 10000
    treatment_label: str = "treatment villages"
    control_label: str = "control villages"
    published_finding: str | None = None
    published_source: str | None = None


@dataclass(frozen=True)
class ProgrammeConfig:
    """A programme's report configuration (see ``data/synthetic/*/programme.yml``)."""

    key: str
    folder: Path
    name: str
    ngo: str
    province: str
    source: str = ""
    min_cell: int = 5
    seed: int | None = None
    csi: CSIConfig | None = None
    trial: TrialConfig | None = None
    sections: dict[str, Any] = field(default_factory=dict)  # checked mappings, see SECTIONS

    @property
    def analyses(self) -> list[str]:
        """The report sections this configuration enables, in report order."""
        sections = []
        if self.csi is not None:
            sections.append("CSI change")
        if self.trial is not None:
            sections.append("village trial")
        if self.csi is not None:
            sections.append("pre/post change")
        sections += [SECTIONS[name][2] for name in SECTIONS if name in self.sections]
        return sections


# Sections checked generically: name -> (required keys, optional keys, what the report shows).
# Keys naming data files must name files present in the programme folder.
SECTIONS: dict[str, tuple[set[str], set[str], str]] = {
    "prepost": ({"title", "file", "unit", "round", "before", "after", "outcomes"},
                {"group", "higher_is_better", "published", "source", "scale"}, "pre/post change"),
    "indicators": ({"title", "file", "items"}, {"source", "note"}, "indicators with denominators"),
    "classifications": ({"title", "file", "criteria", "categories"},
                        {"unit_label", "note", "source"}, "rule-based categories"),
    "child_tracking": ({"file", "status", "published"},
                       {"declared_denominators", "source", "note"}, "Child Tracking Tool status"),
    "case_closure": ({"cases", "rating", "problems", "problem_type", "resolution"},
                     {"published", "source", "progress"}, "case-closure ratings and problems"),
    "residential_care": ({"register", "reintegration", "target_children", "target_share",
                          "base_year"}, {"source", "published"}, "residential care monitoring"),
}
FILE_KEYS = {"file", "cases", "problems", "register", "reintegration"}
LIST_SECTIONS = {"prepost", "indicators", "classifications"}


def _data_file(folder: Path, name: Any, path: Path, key: str) -> None:
    if not (folder / str(name)).is_file():
        raise ConfigError(f"{path}: key '{key}' names {name!r}, which is not in {folder}; "
                          "expected the data file there.")


def _section(name: str, value: Any, folder: Path, path: Path) -> Any:
    required, optional, _ = SECTIONS[name]
    entries = value if name in LIST_SECTIONS else [value]
    if name in LIST_SECTIONS and not isinstance(value, list):
        raise ConfigError(f"{path}: key '{name}' is {type(value).__name__}; expected a list of "
                          "tables (each starting with '- title: ...').")
    for i, entry in enumerate(entries):
        where = f"{name}[{i}]." if name in LIST_SECTIONS else f"{name}."
        if not isinstance(entry, dict):
            raise ConfigError(f"{path}: key '{where[:-1]}' is {entry!r}; expected a mapping.")
        _known(entry, required | optional, path, where)
        for key in sorted(required):
            if key not in entry:
                raise ConfigError(f"{path}: missing key '{where}{key}'.")
        for key in FILE_KEYS & set(entry):
            _data_file(folder, entry[key], path, f"{where}{key}")
    return value


def _require(mapping: dict, key: str, path: Path, kind: type, where: str = "") -> Any:
    if key not in mapping:
        raise ConfigError(f"{path}: missing key '{where}{key}'; expected a {kind.__name__}.")
    value = mapping[key]
    if not isinstance(value, kind):
        raise ConfigError(f"{path}: key '{where}{key}' is {value!r}; expected a {kind.__name__}.")
    return value


def _known(mapping: dict, allowed: set[str], path: Path, where: str = "") -> None:
    unknown = sorted(set(mapping) - allowed)
    if unknown:
        raise ConfigError(f"{path}: unknown key '{where}{unknown[0]}'; expected one of "
                          f"{', '.join(sorted(allowed))}.")


def load(folder: str | Path) -> ProgrammeConfig:
    """Read and check ``programme.yml`` in ``folder``."""
    folder = Path(folder)
    path = folder / CONFIG_NAME
    if not path.is_file():
        raise ConfigError(f"{folder}: no {CONFIG_NAME}; expected a programme configuration "
                          "file in every programme folder (see README, 'Adding a programme').")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{path}{line}: not valid YAML ({getattr(exc, 'problem', exc)}).") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping of keys (name, ngo, province, …).")
    _known(raw, {"name", "ngo", "province", "source", "privacy", "seed", "csi", "trial",
                 *SECTIONS}, path)
    privacy = raw.get("privacy", {}) or {}
    if not isinstance(privacy, dict):
        raise ConfigError(f"{path}: key 'privacy' is {privacy!r}; expected a mapping with min_cell.")
    _known(privacy, {"min_cell"}, path, "privacy.")
    min_cell = privacy.get("min_cell", 5)
    if not isinstance(min_cell, int) or min_cell < 1:
        raise ConfigError(f"{path}: key 'privacy.min_cell' is {min_cell!r}; expected a whole "
                          "number of children of at least 1 (default 5).")
    csi = None
    if "csi" in raw:
        section = _require(raw, "csi", path, dict)
        allowed = {"file", "columns", "round_labels", "before", "after",
                   "published_improvement", "published_source"}
        _known(section, allowed, path, "csi.")
        columns = section.get("columns", {}) or {}
        _known(columns, {"child", "round", "date", "group"}, path, "csi.columns.")
        csi = CSIConfig(
            file=_require(section, "file", path, str, "csi."),
            child=columns.get("child", "child_id"),
            round=columns.get("round", "round"),
            date=columns.get("date"),
            group=columns.get("group"),
            round_labels=dict(section.get("round_labels", {}) or {}),
            before=section.get("before"),
            after=section.get("after"),
            published_improvement=dict(section.get("published_improvement", {}) or {}),
            published_source=section.get("published_source"),
        )
        _data_file(folder, csi.file, path, "csi.file")
    trial = _trial(raw["trial"], folder, path) if "trial" in raw else None
    seed = raw.get("seed")
    if seed is not None and not isinstance(seed, int):
        raise ConfigError(f"{path}: key 'seed' is {seed!r}; expected a whole number.")
    return ProgrammeConfig(
        key=folder.name,
        folder=folder,
        name=_require(raw, "name", path, str),
        ngo=_require(raw, "ngo", path, str),
        province=_require(raw, "province", path, str),
        source=str(raw.get("source", "")),
        min_cell=min_cell,
        seed=seed,
        csi=csi,
        trial=trial,
        sections={name: _section(name, raw[name], folder, path) for name in SECTIONS if name in raw},
    )


def _trial(section: Any, folder: Path, path: Path) -> TrialConfig:
    if not isinstance(section, dict):
        raise ConfigError(f"{path}: key 'trial' is {section!r}; expected a mapping (file, columns, "
                          "outcomes, …).")
    allowed = {"file", "columns", "baseline", "endline", "outcomes", "balance", "balance_labels",
               "estimator", "seed", "wild_reps", "ri_reps", "treatment_label", "control_label",
               "published_finding", "published_source"}
    _known(section, allowed, path, "trial.")
    columns = _require(section, "columns", path, dict, "trial.")
    _known(columns, {"unit", "cluster", "strata", "round", "treatment"}, path, "trial.columns.")
    for key in ("unit", "cluster", "round", "treatment"):
        _require(columns, key, path, str, "trial.columns.")
    outcomes_raw = _require(section, "outcomes", path, dict, "trial.")
    outcomes = []
    for name, spec in outcomes_raw.items():
        spec = spec or {}
        if not isinstance(spec, dict):
            raise ConfigError(f"{path}: key 'trial.outcomes.{name}' is {spec!r}; expected a "
                              "mapping with label and kind.")
        kind = spec.get("kind", "score")
        if kind not in ("binary", "score"):
            raise ConfigError(f"{path}: key 'trial.outcomes.{name}.kind' is {kind!r}; expected "
                              "'binary' or 'score'.")
        outcomes.append(TrialOutcome(str(name), str(spec.get("label", name)), kind))
    if not outcomes:
        raise ConfigError(f"{path}: key 'trial.outcomes' is empty; expected at least one outcome.")
    estimator = section.get("estimator", "ancova")
    if estimator not in ("ancova", "did", "endline"):
        raise ConfigError(f"{path}: key 'trial.estimator' is {estimator!r}; expected 'ancova', "
                          "'did' or 'endline'.")
    for key in ("seed", "wild_reps", "ri_reps"):
        if key in section and (not isinstance(section[key], int) or section[key] < 0):
            raise ConfigError(f"{path}: key 'trial.{key}' is {section[key]!r}; expected a whole "
                              "number of at least 0.")
    trial = TrialConfig(
        file=_require(section, "file", path, str, "trial."),
        unit=columns["unit"], cluster=columns["cluster"], treatment=columns["treatment"],
        round=columns["round"], strata=columns.get("strata"),
        baseline=section.get("baseline", "baseline"), endline=section.get("endline", "endline"),
        outcomes=tuple(outcomes), balance=tuple(section.get("balance", []) or []),
        balance_labels=dict(section.get("balance_labels", {}) or {}),
        estimator=estimator, seed=section.get("seed", 12345),
        wild_reps=section.get("wild_reps", 9999), ri_reps=section.get("ri_reps", 10000),
        treatment_label=section.get("treatment_label", "treatment villages"),
        control_label=section.get("control_label", "control villages"),
        published_finding=section.get("published_finding"),
        published_source=section.get("published_source"),
    )
    _data_file(folder, trial.file, path, "trial.file")
    return trial


def discover(root: str | Path) -> list[Path]:
    """Programme folders (those holding a ``programme.yml``) directly under ``root``."""
    root = Path(root)
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if (p / CONFIG_NAME).is_file())
