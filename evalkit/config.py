"""Programme configuration: one ``programme.yml`` per programme folder.

Adding a programme needs a folder with its data files and this file, never new Python. A
configuration error is one sentence naming the file, the key and what was expected.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from evalkit.errors import ConfigError
from evalkit.options import choose, refusal

CONFIG_NAME = "programme.yml"
FILL_IN = "FILL-IN"
"""What ``evalkit new`` writes where it could not decide; ``evalkit report`` refuses it."""

READ_KEYS = {"sheet", "header_row", "encoding", "sep"}
"""How to read one file (see :class:`FileSpec`)."""


@dataclass(frozen=True)
class FileSpec:
    """One data file and how to read it; every option is found automatically when absent."""

    path: str
    sheet: str | int | None = None
    header_row: int | None = None
    encoding: str | None = None
    sep: str | None = None


@dataclass(frozen=True)
class Source:
    """Where a section's table comes from: one file, several files stacked (``rounds`` gives
    the round each file holds), a wide sheet to unfold (``wide_pattern``), and the value maps
    applied before validation."""

    files: tuple[FileSpec, ...]
    rounds: tuple[Any, ...] | None = None
    layout: str = "long"
    wide_pattern: str | None = None
    wide_rounds: dict[str, Any] = field(default_factory=dict)
    date_format: str | None = None
    values: dict[str, dict] = field(default_factory=dict)
    not_applicable: tuple = ()
    ignore_leading_zeros: bool = False

    @property
    def paths(self) -> list[str]:
        return [f.path for f in self.files]


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
    factors: dict[str, str] = field(default_factory=dict)  # factor code -> the user's column
    source: Source | None = None
    rounds_from: str | None = None  # "date": number each child's assessments in date order


@dataclass(frozen=True)
class TrialOutcome:
    name: str
    label: str
    kind: str  # "binary" (0/1, shown in percentage points) or "score"
    bounds: tuple[float, float] | None = None  # the values a score can take (range: [0, 10])


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
    takeup: str | None = None  # 0/1: the unit took the programme up (for complier effects)
    subgroups: tuple[str, ...] = ()  # pre-specified subgroup columns (for heterogeneity)
    estimator: str = "ancova"
    seed: int = 12345
    wild_reps: int = 9999
    ri_reps: int = 10000
    treatment_label: str = "treatment villages"
    control_label: str = "control villages"
    published_finding: str | None = None
    published_source: str | None = None
    source: Source | None = None


@dataclass(frozen=True)
class PrePostOutcome:
    name: str
    label: str
    kind: str = "auto"  # auto, binary, ordinal or continuous (see designs.prepost)


@dataclass(frozen=True)
class PrePostConfig:
    """A pre/post table: the same units compared between two rounds (``prepost:`` entries)."""

    title: str
    file: str
    unit: str
    round: str
    before: Any
    after: Any
    outcomes: tuple[PrePostOutcome, ...]
    higher_is_better: bool = True
    published: dict[str, float] = field(default_factory=dict)  # outcome -> published %
    source: str | None = None
    scale: str | None = None
    group: str | None = None


@dataclass(frozen=True)
class IndicatorItem:
    label: str
    numerator: dict[str, Any]
    denominator: dict[str, Any] = field(default_factory=dict)
    denominator_label: str = "all records"
    published: float | None = None


@dataclass(frozen=True)
class IndicatorsConfig:
    """Shares with their denominators named (``indicators:`` entries)."""

    title: str
    file: str
    items: tuple[IndicatorItem, ...]
    source: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class Rule:
    column: str
    op: str
    value: float
    label: str


@dataclass(frozen=True)
class CategoryRule:
    name: str
    min_criteria: int
    meaning: str = ""


@dataclass(frozen=True)
class ClassificationConfig:
    """Rule-based categories (``classifications:`` entries); always an illustration unless
    the study published the rules."""

    title: str
    file: str
    criteria: tuple[Rule, ...]
    categories: tuple[CategoryRule, ...]
    unit_label: str = "units"
    note: str | None = None
    source: str | None = None


@dataclass(frozen=True)
class ChildTrackingConfig:
    file: str
    status: str
    published: dict[str, float]
    declared_denominators: dict[str, int] = field(default_factory=dict)
    source: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class ProgressConfig:
    """A family progress form scored at enrolment and completion (case_closure.progress)."""

    file: str
    unit: str
    round: str
    before: Any
    after: Any
    areas: tuple[str, ...]


@dataclass(frozen=True)
class CaseClosureConfig:
    cases: str
    rating: str
    problems: str
    problem_type: str
    resolution: str
    published: dict[str, Any] = field(default_factory=dict)
    source: str | None = None
    progress: ProgressConfig | None = None


@dataclass(frozen=True)
class ResidentialCareConfig:
    register: str
    reintegration: str
    target_children: int
    target_share: float
    base_year: int
    source: str | None = None
    published: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ProgrammeConfig:
    """A programme's report configuration (see ``data/synthetic/*/programme.yml``)."""

    key: str
    folder: Path
    name: str
    ngo: str = ""
    province: str = ""
    source: str = ""
    min_cell: int = 5
    rounding: int | None = None  # privacy.rounding: counts shown rounded to this base
    seed: int | None = None
    csi: CSIConfig | None = None
    trial: TrialConfig | None = None
    prepost: tuple[PrePostConfig, ...] = ()
    indicators: tuple[IndicatorsConfig, ...] = ()
    classifications: tuple[ClassificationConfig, ...] = ()
    child_tracking: ChildTrackingConfig | None = None
    case_closure: CaseClosureConfig | None = None
    residential_care: ResidentialCareConfig | None = None
    files: dict[str, FileSpec] = field(default_factory=dict)  # the sections' files, by path
    personal: tuple[str, ...] = ()  # columns declared personal (privacy.personal)
    keep: tuple[str, ...] = ()  # columns declared not personal (privacy.keep)
    on_invalid: str = "stop"  # or "set_aside"
    languages: tuple[str, ...] = ("en",)  # the editions rendered; the first is the main one
    language: str = "en"  # the language this configuration's text was read in
    number_script: str = "latin"  # or "khmer": digits of non-English editions

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
        sections += [SECTIONS[name][2] for name in SECTIONS if getattr(self, name)]
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
SOURCE_KEYS = READ_KEYS | {"file", "files", "layout", "wide", "date_format", "values",
                           "ignore_leading_zeros"}
"""Keys of csi and trial that say where the table comes from (see docs/config.md)."""
TOP_KEYS = {"name", "ngo", "province", "source", "privacy", "seed", "on_invalid", "csi", "trial",
            "language", "number_script", *SECTIONS}
TRANSLATED_SECTIONS = {"km": {"residential_care", "child_tracking"}}
"""The sections whose fixed text a language's catalogue covers (English covers all)."""
PRIVACY_KEYS = {"min_cell", "personal", "keep", "rounding"}
CSI_KEYS = {"columns", "round_labels", "before", "after", "published_improvement",
            "published_source", "rounds_from", *SOURCE_KEYS}
CSI_ROLES = {"child", "round", "date", "group"}
TRIAL_KEYS = {"columns", "baseline", "endline", "outcomes", "balance", "balance_labels", "subgroups",
              "estimator", "seed", "wild_reps", "ri_reps", "treatment_label", "control_label",
              "published_finding", "published_source", *SOURCE_KEYS}
TRIAL_ROLES = {"unit", "cluster", "strata", "round", "treatment", "takeup"}
OUTCOME_KEYS = {"label", "kind", "range"}
WIDE_KEYS = {"pattern", "rounds"}
FILE_MAPPING_KEYS = {"path"} | READ_KEYS
VALUE_MAP_KEYS = {"scores", "not_applicable", "round"}
"""Special keys under ``values`` (besides a column's or role's name)."""


def documented_keys() -> set[str]:
    """Every key a programme.yml accepts (docs/config.md documents each; a test checks it)."""
    keys = TOP_KEYS | PRIVACY_KEYS | CSI_KEYS | CSI_ROLES | TRIAL_KEYS | TRIAL_ROLES | \
        OUTCOME_KEYS | WIDE_KEYS | FILE_MAPPING_KEYS | VALUE_MAP_KEYS
    for required, optional, _ in SECTIONS.values():
        keys |= required | optional
    return keys | {"unit", "round", "before", "after", "areas"}  # case_closure.progress


def _option(value: Any, choices: tuple[str, ...], path: Path, key: str) -> str:
    """An option string, matched in any case; anything else refused with the valid values."""
    chosen = choose(value, choices)
    if chosen is None:
        raise ConfigError(f"{path}: key '{key}' {refusal(value, choices)}.")
    return chosen


def inside(folder: Path, name: Any, path: Path, key: str) -> Path:
    """The data file ``name`` resolved inside ``folder`` (symlinks resolved); a path that leads
    outside the programme folder, or an absolute path, is refused."""
    text = str(name)
    if not text.strip():
        raise ConfigError(f"{path}: key '{key}' is empty; expected a data file's name.")
    candidate = Path(text)
    home = folder.resolve()
    if candidate.is_absolute():
        raise ConfigError(f"{path}: key '{key}' is an absolute path; expected a file inside the "
                          "programme folder, named relative to it (e.g. 'csi_assessments.csv').")
    resolved = (folder / candidate).resolve()
    if resolved != home and home not in resolved.parents:
        raise ConfigError(f"{path}: key '{key}' leads outside the programme folder; expected a "
                          "file inside it (copy the data into the folder).")
    if not resolved.is_file():
        raise ConfigError(f"{path}: key '{key}' names {text!r}, which is not in the programme "
                          "folder; expected the data file there.")
    return resolved


def _file_spec(value: Any, folder: Path, path: Path, key: str, extra: dict | None = None) -> FileSpec:
    """A file named by a string, or by a mapping {path, sheet, header_row, encoding, sep}."""
    options = dict(extra or {})
    if isinstance(value, dict):
        _known(value, FILE_MAPPING_KEYS, path, f"{key}.")
        options.update({k: v for k, v in value.items() if k in READ_KEYS})
        value = _require(value, "path", path, str, f"{key}.")
    if not isinstance(value, str):
        raise ConfigError(f"{path}: key '{key}' is {value!r}; expected a file name or a mapping "
                          "with path (and sheet, header_row, encoding, sep).")
    inside(folder, value, path, key)
    header_row = options.get("header_row")
    if header_row is not None and (not isinstance(header_row, int) or isinstance(header_row, bool)
                                   or header_row < 1):
        raise ConfigError(f"{path}: key '{key}.header_row' is {header_row!r}; expected the row "
                          "number (1 or more) that holds the column names.")
    sheet = options.get("sheet")
    if sheet is not None and not isinstance(sheet, (str, int)):
        raise ConfigError(f"{path}: key '{key}.sheet' is {sheet!r}; expected a sheet name or number.")
    return FileSpec(value, sheet, header_row, options.get("encoding"), options.get("sep"))


def _source(section: dict, folder: Path, path: Path, where: str) -> Source:
    """The ``file``/``files`` and reading keys of a csi or trial section."""
    read = {k: section[k] for k in READ_KEYS if k in section}
    if "file" in section and "files" in section:
        raise ConfigError(f"{path}: keys '{where}file' and '{where}files' are both set; expected "
                          "one ('files' maps each round to its own file).")
    rounds = None
    if "files" in section:
        files_raw = section["files"]
        if not isinstance(files_raw, dict) or not files_raw:
            raise ConfigError(f"{path}: key '{where}files' is {files_raw!r}; expected a mapping of "
                              "round -> file, e.g. {baseline: survey_2018.xlsx, endline: survey_2020.xlsx}.")
        rounds = tuple(files_raw)
        files = tuple(_file_spec(v, folder, path, f"{where}files.{k}", read) for k, v in files_raw.items())
    elif "file" in section:
        value = section["file"]
        values = value if isinstance(value, list) else [value]
        files = tuple(_file_spec(v, folder, path, f"{where}file", read) for v in values)
    else:
        raise ConfigError(f"{path}: missing key '{where}file'; expected the data file's name.")
    layout = _option(section.get("layout", "long"), ("long", "wide"), path, f"{where}layout")
    wide = section.get("wide", {}) or {}
    if not isinstance(wide, dict):
        raise ConfigError(f"{path}: key '{where}wide' is {wide!r}; expected a mapping with "
                          "pattern (and rounds).")
    _known(wide, WIDE_KEYS, path, f"{where}wide.")
    values = section.get("values", {}) or {}
    if not isinstance(values, dict) or any(not isinstance(v, (dict, list)) for v in values.values()):
        raise ConfigError(f"{path}: key '{where}values' must map a column (or role) to a mapping "
                          "of its values, e.g. {treatment: {Yes: 1, No: 0}}.")
    not_applicable = values.get("not_applicable", [])
    if not isinstance(not_applicable, list):
        not_applicable = [not_applicable]
    date_format = section.get("date_format")
    if date_format is not None and "%" not in str(date_format):
        raise ConfigError(f"{path}: key '{where}date_format' is {date_format!r}; expected a "
                          "format such as '%d/%m/%Y'.")
    return Source(files=files, rounds=rounds, layout=layout, wide_pattern=wide.get("pattern"),
                  wide_rounds=dict(wide.get("rounds", {}) or {}), date_format=date_format,
                  values={k: v for k, v in values.items() if isinstance(v, dict)},
                  not_applicable=tuple(not_applicable),
                  ignore_leading_zeros=bool(section.get("ignore_leading_zeros", False)))


def _section(name: str, value: Any, folder: Path, path: Path, files: dict[str, FileSpec]) -> Any:
    """Check a generic section; file keys given as mappings are recorded in ``files`` and
    replaced by their path, so that sections look their tables up by path."""
    required, optional, _ = SECTIONS[name]
    if name in LIST_SECTIONS and not isinstance(value, list):
        raise ConfigError(f"{path}: key '{name}' is {type(value).__name__}; expected a list of "
                          "tables (each starting with '- title: ...').")
    entries = value if name in LIST_SECTIONS else [value]
    out = []
    for i, entry in enumerate(entries):
        where = f"{name}[{i}]." if name in LIST_SECTIONS else f"{name}."
        if not isinstance(entry, dict):
            raise ConfigError(f"{path}: key '{where[:-1]}' is {entry!r}; expected a mapping.")
        _known(entry, required | optional, path, where)
        for key in sorted(required):
            if key not in entry:
                raise ConfigError(f"{path}: missing key '{where}{key}'.")
        entry = dict(entry)
        for key in sorted(FILE_KEYS & set(entry)):
            spec = _file_spec(entry[key], folder, path, f"{where}{key}")
            files[spec.path] = spec
            entry[key] = spec.path
        nested = entry.get("progress")
        if isinstance(nested, dict) and "file" in nested:
            nested = dict(nested)
            spec = _file_spec(nested["file"], folder, path, f"{where}progress.file")
            files[spec.path] = spec
            nested["file"] = spec.path
            entry["progress"] = nested
        out.append(_typed(name, entry, path, where))
    return tuple(out) if name in LIST_SECTIONS else out[0]


def _text(entry: dict, key: str, path: Path, where: str, default: Any = None) -> Any:
    value = entry.get(key, default)
    if value is None:
        return default
    if not isinstance(value, (str, int, float)) or isinstance(value, bool):
        raise ConfigError(f"{path}: key '{where}{key}' is {value!r}; expected text.")
    return str(value)


def _mapping(entry: dict, key: str, path: Path, where: str) -> dict:
    value = entry.get(key) or {}
    if not isinstance(value, dict):
        raise ConfigError(f"{path}: key '{where}{key}' is {value!r}; expected a mapping.")
    return dict(value)


def _number(entry: dict, key: str, path: Path, where: str, whole: bool = False) -> Any:
    value = entry.get(key)
    kinds = (int,) if whole else (int, float)
    if not isinstance(value, kinds) or isinstance(value, bool):
        raise ConfigError(f"{path}: key '{where}{key}' is {value!r}; expected a "
                          f"{'whole number' if whole else 'number'}.")
    return value


def _entries(entry: dict, key: str, path: Path, where: str, kind: type) -> list:
    value = entry.get(key)
    if not isinstance(value, kind) or not value:
        shape = "list" if kind is list else "mapping"
        raise ConfigError(f"{path}: key '{where}{key}' is {value!r}; expected a non-empty {shape}.")
    return value


def _typed(name: str, entry: dict, path: Path, where: str) -> Any:
    """One generic section's checked mapping as its typed configuration."""
    text = lambda key, default=None: _text(entry, key, path, where, default)  # noqa: E731
    if name == "prepost":
        outcomes = []
        for outcome, spec in _entries(entry, "outcomes", path, where, dict).items():
            spec = spec or {}
            here = f"{where}outcomes.{outcome}."
            if not isinstance(spec, dict):
                raise ConfigError(f"{path}: key '{here[:-1]}' is {spec!r}; expected a mapping "
                                  "with label and kind.")
            _known(spec, {"label", "kind"}, path, here)
            kind = _option(spec.get("kind", "auto"), ("auto", "binary", "ordinal", "continuous"),
                           path, f"{here}kind")
            outcomes.append(PrePostOutcome(str(outcome), _text(spec, "label", path, here, str(outcome)),
                                           kind))
        return PrePostConfig(title=text("title"), file=entry["file"], unit=text("unit"),
                             round=text("round"), before=entry["before"], after=entry["after"],
                             outcomes=tuple(outcomes),
                             higher_is_better=bool(entry.get("higher_is_better", True)),
                             published={str(k): float(v) for k, v in
                                        _mapping(entry, "published", path, where).items()},
                             source=text("source"), scale=text("scale"), group=text("group"))
    if name == "indicators":
        items = []
        for i, item in enumerate(_entries(entry, "items", path, where, list)):
            here = f"{where}items[{i}]."
            if not isinstance(item, dict):
                raise ConfigError(f"{path}: key '{here[:-1]}' is {item!r}; expected a mapping.")
            _known(item, {"label", "numerator", "denominator", "denominator_label", "published"},
                   path, here)
            published = item.get("published")
            items.append(IndicatorItem(
                label=_text(item, "label", path, here, f"Indicator {i + 1}"),
                numerator=_mapping(item, "numerator", path, here),
                denominator=_mapping(item, "denominator", path, here),
                denominator_label=_text(item, "denominator_label", path, here, "all records"),
                published=None if published is None else float(_number(item, "published", path, here))))
        return IndicatorsConfig(title=text("title"), file=entry["file"], items=tuple(items),
                                source=text("source"), note=text("note"))
    if name == "classifications":
        rules = []
        for i, c in enumerate(_entries(entry, "criteria", path, where, list)):
            here = f"{where}criteria[{i}]."
            if not isinstance(c, dict):
                raise ConfigError(f"{path}: key '{here[:-1]}' is {c!r}; expected a mapping.")
            _known(c, {"column", "op", "value", "label"}, path, here)
            rules.append(Rule(_require(c, "column", path, str, here),
                              _option(c.get("op"), ("<", "<=", ">", ">=", "==", "!="), path, f"{here}op"),
                              float(_number(c, "value", path, here)),
                              _text(c, "label", path, here, str(c["column"]))))
        categories = []
        for i, c in enumerate(_entries(entry, "categories", path, where, list)):
            here = f"{where}categories[{i}]."
            if not isinstance(c, dict):
                raise ConfigError(f"{path}: key '{here[:-1]}' is {c!r}; expected a mapping.")
            _known(c, {"name", "min_criteria", "meaning"}, path, here)
            categories.append(CategoryRule(_text(c, "name", path, here), 
                                           _number(c, "min_criteria", path, here, whole=True),
                                           _text(c, "meaning", path, here, "")))
        return ClassificationConfig(title=text("title"), file=entry["file"], criteria=tuple(rules),
                                    categories=tuple(categories),
                                    unit_label=text("unit_label", "units"), note=text("note"),
                                    source=text("source"))
    if name == "child_tracking":
        return ChildTrackingConfig(
            file=entry["file"], status=text("status"),
            published={str(k): float(v) for k, v in _mapping(entry, "published", path, where).items()},
            declared_denominators={str(k): int(v) for k, v in
                                   _mapping(entry, "declared_denominators", path, where).items()},
            source=text("source"), note=text("note"))
    if name == "case_closure":
        progress = entry.get("progress")
        if progress is not None:
            here = f"{where}progress."
            if not isinstance(progress, dict):
                raise ConfigError(f"{path}: key '{here[:-1]}' is {progress!r}; expected a mapping.")
            _known(progress, {"file", "unit", "round", "before", "after", "areas"}, path, here)
            for key in ("file", "unit", "round", "before", "after", "areas"):
                if key not in progress:
                    raise ConfigError(f"{path}: missing key '{here}{key}'.")
            progress = ProgressConfig(file=progress["file"], unit=_text(progress, "unit", path, here),
                                      round=_text(progress, "round", path, here),
                                      before=progress["before"], after=progress["after"],
                                      areas=tuple(str(a) for a in
                                                  _entries(progress, "areas", path, here, list)))
        return CaseClosureConfig(cases=entry["cases"], rating=text("rating"),
                                 problems=entry["problems"], problem_type=text("problem_type"),
                                 resolution=text("resolution"),
                                 published=_mapping(entry, "published", path, where),
                                 source=text("source"), progress=progress)
    if name == "residential_care":
        return ResidentialCareConfig(
            register=entry["register"], reintegration=entry["reintegration"],
            target_children=_number(entry, "target_children", path, where, whole=True),
            target_share=float(_number(entry, "target_share", path, where)),
            base_year=_number(entry, "base_year", path, where, whole=True),
            source=text("source"), published=_mapping(entry, "published", path, where))
    raise AssertionError(name)


def _require(mapping: dict, key: str, path: Path, kind: type, where: str = "") -> Any:
    if key not in mapping:
        raise ConfigError(f"{path}: missing key '{where}{key}'; expected a {kind.__name__}.")
    value = mapping[key]
    if not isinstance(value, kind):
        raise ConfigError(f"{path}: key '{where}{key}' is {value!r}; expected a {kind.__name__}.")
    return value


def _known(mapping: dict, allowed: set[str], path: Path, where: str = "") -> None:
    unknown = sorted(set(map(str, mapping)) - allowed)
    if unknown:
        near = difflib.get_close_matches(unknown[0], sorted(allowed), n=1)
        hint = f" (did you mean '{where}{near[0]}'?)" if near else ""
        raise ConfigError(f"{path}: unknown key '{where}{unknown[0]}'{hint}; expected one of "
                          f"{', '.join(sorted(allowed))}.")


def _fill_in(text: str, path: Path) -> None:
    """Refuse a configuration that still holds a FILL-IN left by ``evalkit new``."""
    for number, line in enumerate(text.splitlines(), start=1):
        code = line.split("#", 1)[0]
        if FILL_IN in code:
            hint = line.split("#", 1)[1].strip() if "#" in line else ""
            key = code.split(":", 1)[0].strip()
            raise ConfigError(f"{path}, line {number}: '{key}' is still {FILL_IN}; fill it in "
                              f"before rendering" + (f" ({hint})." if hint else "."))


def _words_list(value: Any, path: Path, key: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{path}: key '{key}' is {value!r}; expected a list of column names.")
    return tuple(value)


def _languages(value: Any, path: Path) -> tuple[str, ...]:
    from evalkit.i18n import LANGUAGES

    codes = [value] if isinstance(value, str) else value
    if not isinstance(codes, list) or not codes or not all(isinstance(c, str) for c in codes):
        raise ConfigError(f"{path}: key 'language' is {value!r}; expected a language code or a "
                          f"list of them ({', '.join(LANGUAGES)}).")
    out = []
    for code in codes:
        chosen = choose(code, tuple(LANGUAGES))
        if chosen is None:
            raise ConfigError(f"{path}: key 'language' {refusal(code, tuple(LANGUAGES))}.")
        out.append(chosen)
    return tuple(dict.fromkeys(out))


def _localised(value: Any, language: str, codes: set[str]) -> Any:
    """``value`` with every text given per language (a mapping whose keys are language codes)
    replaced by its text in ``language`` (English, or the first given, when it has none)."""
    if isinstance(value, dict):
        if value and set(map(str, value)) <= codes and all(isinstance(v, str) for v in value.values()):
            return value.get(language, value.get("en", next(iter(value.values()))))
        return {k: _localised(v, language, codes) for k, v in value.items()}
    if isinstance(value, list):
        return [_localised(v, language, codes) for v in value]
    return value


def load(folder: str | Path, language: str | None = None) -> ProgrammeConfig:
    """Read and check ``programme.yml`` in ``folder``; text given per language is read in
    ``language`` (default: the first of the programme's ``language`` key, or English)."""
    folder = Path(folder)
    path = folder / CONFIG_NAME
    if not path.is_file():
        raise ConfigError(f"{folder}: no {CONFIG_NAME}; expected a programme configuration "
                          "file in every programme folder (see README, 'Adding a programme').")
    try:
        text = path.read_text(encoding="utf-8")
        raw = yaml.safe_load(text)
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text; expected a YAML file saved as UTF-8.") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{path}{line}: not valid YAML ({getattr(exc, 'problem', exc)}).") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping of keys (name, ngo, province, …).")
    _known(raw, TOP_KEYS, path)
    _fill_in(text, path)
    from evalkit.i18n import LANGUAGES, NUMBER_SCRIPTS

    languages = _languages(raw.get("language", "en"), path)
    language = language or languages[0]
    raw = _localised(raw, language, set(LANGUAGES))
    number_script = _option(raw.get("number_script", "latin"), NUMBER_SCRIPTS, path, "number_script")
    for code in languages:
        covered = TRANSLATED_SECTIONS.get(code)
        untranslated = [] if covered is None else [
            name for name in ("csi", "trial", *SECTIONS) if name in raw and name not in covered]
        if untranslated:
            raise ConfigError(f"{path}: key 'language' asks for a {LANGUAGES[code]} ({code}) "
                              f"edition, but its translation covers only the sections "
                              f"{', '.join(sorted(covered))} so far; section "
                              f"{untranslated[0]!r} is not translated yet.")
    privacy = raw.get("privacy", {}) or {}
    if not isinstance(privacy, dict):
        raise ConfigError(f"{path}: key 'privacy' is {privacy!r}; expected a mapping with min_cell.")
    _known(privacy, PRIVACY_KEYS, path, "privacy.")
    min_cell = privacy.get("min_cell", 5)
    if not isinstance(min_cell, int) or isinstance(min_cell, bool) or min_cell < 1:
        raise ConfigError(f"{path}: key 'privacy.min_cell' is {min_cell!r}; expected a whole "
                          "number of children of at least 1 (default 5).")
    rounding = privacy.get("rounding")
    if rounding is not None and (not isinstance(rounding, int) or isinstance(rounding, bool)
                                 or rounding < 2):
        raise ConfigError(f"{path}: key 'privacy.rounding' is {rounding!r}; expected a whole "
                          "number of at least 2 (e.g. 5 rounds every count to the nearest 5).")
    if not ({"csi", "trial"} | set(SECTIONS)) & set(raw):
        raise ConfigError(f"{path}: no analysis is configured; expected at least one of the "
                          f"sections csi, trial, {', '.join(SECTIONS)} (see docs/config.md).")
    on_invalid = _option(raw.get("on_invalid", "stop"), ("stop", "set_aside"), path, "on_invalid")
    files: dict[str, FileSpec] = {}
    csi = _csi(raw["csi"], folder, path) if "csi" in raw else None
    trial = _trial(raw["trial"], folder, path) if "trial" in raw else None
    seed = raw.get("seed")
    if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool)):
        raise ConfigError(f"{path}: key 'seed' is {seed!r}; expected a whole number.")
    for key in ("ngo", "province", "source"):
        if key in raw and raw[key] is not None and not isinstance(raw[key], (str, int, float)):
            raise ConfigError(f"{path}: key '{key}' is {raw[key]!r}; expected text.")
    return ProgrammeConfig(
        key=folder.name,
        folder=folder,
        name=_require(raw, "name", path, str),
        ngo=str(raw.get("ngo") or ""),
        province=str(raw.get("province") or ""),
        source=str(raw.get("source") or ""),
        min_cell=min_cell,
        rounding=rounding,
        seed=seed,
        csi=csi,
        trial=trial,
        **{name: _section(name, raw[name], folder, path, files)
           for name in SECTIONS if name in raw},
        files=files,
        personal=_words_list(privacy.get("personal"), path, "privacy.personal"),
        keep=_words_list(privacy.get("keep"), path, "privacy.keep"),
        on_invalid=on_invalid,
        languages=languages,
        language=language,
        number_script=number_script,
    )


def _csi(section: Any, folder: Path, path: Path) -> CSIConfig:
    if not isinstance(section, dict):
        raise ConfigError(f"{path}: key 'csi' is {section!r}; expected a mapping (file, columns, …).")
    _known(section, CSI_KEYS, path, "csi.")
    columns = section.get("columns", {}) or {}
    if not isinstance(columns, dict):
        raise ConfigError(f"{path}: key 'csi.columns' is {columns!r}; expected a mapping of role "
                          "-> your column's name.")
    from evalkit.instruments.csi import FACTORS

    factor_keys = {str(k) for k in columns} - CSI_ROLES
    _known({k: 1 for k in factor_keys if str(k).upper() not in FACTORS}, CSI_ROLES | set(FACTORS),
           path, "csi.columns.")
    for key, value in columns.items():
        if not isinstance(value, (str, int)):
            raise ConfigError(f"{path}: key 'csi.columns.{key}' is {value!r}; expected your column's name.")
    if section.get("rounds_from") is not None and not columns.get("date"):
        raise ConfigError(f"{path}: key 'csi.rounds_from' numbers each child's assessments by "
                          "date, but csi.columns.date is not set; expected the date column there.")
    source = _source(section, folder, path, "csi.")
    return CSIConfig(
        file=source.paths[0],
        child=str(columns.get("child", "child_id")),
        round=str(columns.get("round", "round")),
        date=None if columns.get("date") is None else str(columns["date"]),
        group=None if columns.get("group") is None else str(columns["group"]),
        round_labels=dict(section.get("round_labels", {}) or {}),
        rounds_from=(_option(section["rounds_from"], ("date",), path, "csi.rounds_from")
                     if section.get("rounds_from") is not None else None),
        before=section.get("before"),
        after=section.get("after"),
        published_improvement=dict(section.get("published_improvement", {}) or {}),
        published_source=section.get("published_source"),
        factors={str(k).upper(): str(v) for k, v in columns.items() if str(k).upper() in FACTORS},
        source=source,
    )


def _trial(section: Any, folder: Path, path: Path) -> TrialConfig:
    if not isinstance(section, dict):
        raise ConfigError(f"{path}: key 'trial' is {section!r}; expected a mapping (file, columns, "
                          "outcomes, …).")
    _known(section, TRIAL_KEYS, path, "trial.")
    columns = _require(section, "columns", path, dict, "trial.")
    _known(columns, TRIAL_ROLES, path, "trial.columns.")
    for key in ("unit", "cluster", "round", "treatment"):
        _require(columns, key, path, str, "trial.columns.")
    outcomes_raw = _require(section, "outcomes", path, dict, "trial.")
    outcomes = []
    for name, spec in outcomes_raw.items():
        spec = spec or {}
        if not isinstance(spec, dict):
            raise ConfigError(f"{path}: key 'trial.outcomes.{name}' is {spec!r}; expected a "
                              "mapping with label and kind.")
        _known(spec, OUTCOME_KEYS, path, f"trial.outcomes.{name}.")
        kind = _option(spec.get("kind", "score"), ("binary", "score"), path, f"trial.outcomes.{name}.kind")
        bounds = spec.get("range")
        if bounds is not None and not (isinstance(bounds, list) and len(bounds) == 2 and all(
                isinstance(b, (int, float)) and not isinstance(b, bool) for b in bounds)
                and bounds[0] <= bounds[1]):
            raise ConfigError(f"{path}: key 'trial.outcomes.{name}.range' is {bounds!r}; expected "
                              "[lowest, highest], e.g. [0, 10].")
        outcomes.append(TrialOutcome(str(name), str(spec.get("label", name)), kind,
                                     None if bounds is None else (float(bounds[0]), float(bounds[1]))))
    if not outcomes:
        raise ConfigError(f"{path}: key 'trial.outcomes' is empty; expected at least one outcome.")
    estimator = _option(section.get("estimator", "ancova"), ("ancova", "did", "endline"), path,
                        "trial.estimator")
    for key in ("seed", "wild_reps", "ri_reps"):
        if key in section and (not isinstance(section[key], int) or section[key] < 0):
            raise ConfigError(f"{path}: key 'trial.{key}' is {section[key]!r}; expected a whole "
                              "number of at least 0.")
    source = _source(section, folder, path, "trial.")
    return TrialConfig(
        file=source.paths[0],
        unit=columns["unit"], cluster=columns["cluster"], treatment=columns["treatment"],
        round=columns["round"], strata=columns.get("strata"),
        baseline=section.get("baseline", "baseline"), endline=section.get("endline", "endline"),
        outcomes=tuple(outcomes), balance=tuple(section.get("balance", []) or []),
        balance_labels=dict(section.get("balance_labels", {}) or {}),
        takeup=columns.get("takeup"), subgroups=tuple(section.get("subgroups", []) or []),
        estimator=estimator, seed=section.get("seed", 12345),
        wild_reps=section.get("wild_reps", 9999), ri_reps=section.get("ri_reps", 10000),
        treatment_label=section.get("treatment_label", "treatment villages"),
        control_label=section.get("control_label", "control villages"),
        published_finding=section.get("published_finding"),
        published_source=section.get("published_source"),
        source=source,
    )


def discover(root: str | Path) -> list[Path]:
    """Programme folders (those holding a ``programme.yml``) directly under ``root``."""
    root = Path(root)
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if (p / CONFIG_NAME).is_file())
