"""Programme configuration: one ``programme.yml`` per programme folder.

Adding a programme needs a folder with its data files and this file, never new Python. This
module reads the file (bounded: no YAML aliases, at most :data:`MAX_BYTES`), checks the keys
every programme has (name, privacy, language…) and hands each analysis section's key to the
section that owns it: a :class:`SectionSpec`, one module per report section
(:mod:`evalkit.report.sections` lists them), which declares its typed configuration and
parses it with the helpers below. A configuration error is one sentence naming the file, the
key and what was expected.

Every word the file holds is *declared text* (:attr:`ProgrammeConfig.declared`): the only
text from outside the kit that a published report may show.
"""

from __future__ import annotations

import difflib
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Protocol

import yaml

from evalkit.errors import ConfigError
from evalkit.options import choose, refusal

CONFIG_NAME = "programme.yml"
FILL_IN = "FILL-IN"
"""What ``evalkit new`` writes where it could not decide; ``evalkit report`` refuses it."""
MAX_BYTES = 1_000_000
"""The largest programme.yml read (a configuration is a few kilobytes)."""
MIN_CELL_FLOOR = 3
"""``privacy.min_cell`` below this is refused (below 5 it is warned about)."""

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
    parent: str | None = None  # a repeat table's parent file (an unzipped ODK/KoBo export)


@dataclass(frozen=True)
class Source:
    """Where a table comes from: one file, several files stacked (``rounds`` gives the round
    each file holds), a wide sheet to unfold (``wide_pattern``), and the value maps applied
    before validation."""

    files: tuple[FileSpec, ...]
    rounds: tuple[Any, ...] | None = None
    layout: str = "long"
    wide_pattern: str | None = None
    wide_rounds: dict[str, Any] = field(default_factory=dict)
    date_format: str | None = None
    values: dict[str, dict] = field(default_factory=dict)
    not_applicable: tuple = ()
    missing: tuple = ()  # codes meaning 'not rated' (values.missing: [98, "don't know"])
    ignore_leading_zeros: bool = False

    @property
    def paths(self) -> list[str]:
        return [f.path for f in self.files]


SOURCE_KEYS = READ_KEYS | {"file", "files", "layout", "wide", "date_format", "values",
                           "ignore_leading_zeros"}
"""Keys of a section whose table is read through a :class:`Source` (see docs/config.md)."""
WIDE_KEYS = {"pattern", "rounds"}
FILE_MAPPING_KEYS = {"path", "parent"} | READ_KEYS
VALUE_MAP_KEYS = {"scores", "not_applicable", "missing", "round"}
"""Special keys under ``values`` (besides a column's or role's name)."""
TOP_KEYS = {"name", "ngo", "province", "source", "privacy", "seed", "on_invalid", "language",
            "number_script", "question"}
PRIVACY_KEYS = {"min_cell", "personal", "keep", "rounding"}


# ------------------------------------------------------------------ sections


class PrivacyWarning(UserWarning):
    """A privacy setting that is allowed but unwise (``privacy.min_cell`` of 3 or 4)."""


class SectionSpec(Protocol):
    """What a report section module declares about its configuration (see
    :mod:`evalkit.report.sections`)."""

    KEY: str  # its key in programme.yml
    MANY: bool  # a list of entries (each its own table) or one mapping
    ANALYSIS: str  # what the report shows, in a few words
    KEYS: frozenset[str]  # every key it accepts (docs/config.md documents each)

    def parse(self, entry: dict, where: str, ctx: "Context") -> Any: ...

    def rules(self, cfg: Any) -> list: ...


@dataclass
class Context:
    """What a section's parser needs: the folder, the file's path (for messages) and the
    data files named so far (each file key's :class:`FileSpec`, by path)."""

    folder: Path
    path: Path
    files: dict[str, FileSpec] = field(default_factory=dict)

    def error(self, key: str, message: str) -> ConfigError:
        return ConfigError(f"{self.path}: key '{key}' {message}")

    # each helper reads ``entry[key]`` and refuses what is not expected, in one sentence

    def require(self, entry: dict, key: str, kind: type, where: str = "") -> Any:
        if key not in entry:
            raise ConfigError(f"{self.path}: missing key '{where}{key}'; expected a {kind.__name__}.")
        value = entry[key]
        if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
            raise self.error(where + key, f"is {value!r}; expected a {kind.__name__}.")
        return value

    def known(self, mapping: dict, allowed, where: str = "") -> None:
        known(mapping, set(allowed), self.path, where)

    def option(self, value: Any, choices: tuple[str, ...], key: str) -> str:
        chosen = choose(value, choices)
        if chosen is None:
            raise ConfigError(f"{self.path}: key '{key}' {refusal(value, choices)}.")
        return chosen

    def text(self, entry: dict, key: str, where: str, default: Any = None) -> Any:
        value = entry.get(key, default)
        if value is None:
            return default
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            raise self.error(where + key, f"is {value!r}; expected text.")
        return str(value)

    def mapping(self, entry: dict, key: str, where: str) -> dict:
        value = entry.get(key) or {}
        if not isinstance(value, dict):
            raise self.error(where + key, f"is {value!r}; expected a mapping.")
        return dict(value)

    def number(self, entry: dict, key: str, where: str, whole: bool = False) -> Any:
        value = entry.get(key)
        kinds = (int,) if whole else (int, float)
        if not isinstance(value, kinds) or isinstance(value, bool):
            raise self.error(where + key, f"is {value!r}; expected a "
                             f"{'whole number' if whole else 'number'}.")
        return value

    def entries(self, entry: dict, key: str, where: str, kind: type) -> Any:
        value = entry.get(key)
        if not isinstance(value, kind) or not value:
            shape = "list" if kind is list else "mapping"
            raise self.error(where + key, f"is {value!r}; expected a non-empty {shape}.")
        return value

    def words(self, value: Any, key: str) -> tuple[str, ...]:
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(v, (str, int)) for v in value):
            raise self.error(key, f"is {value!r}; expected a list of names.")
        return tuple(str(v) for v in value)

    def file(self, value: Any, key: str, extra: dict | None = None) -> FileSpec:
        """A data file named by a string, or by a mapping {path, sheet, header_row,
        encoding, sep}; recorded in :attr:`files` by its path."""
        spec = file_spec(value, self.folder, self.path, key, extra)
        self.files[spec.path] = spec
        if spec.parent is not None:  # read (and stamped) as a file of the programme too
            self.files.setdefault(spec.parent, FileSpec(spec.parent))
        return spec

    def source(self, section: dict, where: str) -> Source:
        found = source(section, self.folder, self.path, where)
        for spec in found.files:
            self.files.setdefault(spec.path, spec)
            if spec.parent is not None:
                self.files.setdefault(spec.parent, FileSpec(spec.parent))
        return found


def known(mapping: dict, allowed: set[str], path: Path, where: str = "") -> None:
    """Refuse the first key of ``mapping`` not in ``allowed``, naming the nearest."""
    unknown = sorted(set(map(str, mapping)) - allowed)
    if unknown:
        near = difflib.get_close_matches(unknown[0], sorted(allowed), n=1)
        hint = f" (did you mean '{where}{near[0]}'?)" if near else ""
        raise ConfigError(f"{path}: unknown key '{where}{unknown[0]}'{hint}; expected one of "
                          f"{', '.join(sorted(allowed))}.")


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


def file_spec(value: Any, folder: Path, path: Path, key: str, extra: dict | None = None) -> FileSpec:
    """A file named by a string, or by a mapping {path, sheet, header_row, encoding, sep}."""
    options = dict(extra or {})
    parent = None
    if isinstance(value, dict):
        options.update({k: v for k, v in value.items() if k in READ_KEYS})
        value, parent = _file_mapping(value, folder, path, key)
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
    return FileSpec(value, sheet, header_row, options.get("encoding"), options.get("sep"), parent)


def _file_mapping(value: dict, folder: Path, path: Path, key: str) -> tuple[Any, str | None]:
    """A file given as a mapping: its path (checked by the caller) and parent table's file."""
    known(value, FILE_MAPPING_KEYS, path, f"{key}.")
    parent = value.get("parent")
    if parent is not None:
        if not isinstance(parent, str):
            raise ConfigError(f"{path}: key '{key}.parent' is {parent!r}; expected the file "
                              "name of the export's main (parent) table.")
        inside(folder, parent, path, f"{key}.parent")
    if not isinstance(value.get("path"), str):
        raise ConfigError(f"{path}: key '{key}.path' is {value.get('path')!r}; expected the "
                          "data file's name.")
    return value["path"], parent


def date_format(value: Any, path: Path, key: str) -> str | None:
    """A strftime/strptime format that can write and read a date back, or a sentence."""
    if value is None:
        return None
    text = str(value)
    try:
        from datetime import datetime

        datetime.strptime(date(2019, 11, 23).strftime(text), text)
        ok = "%" in text
    except (ValueError, TypeError, re.error):
        ok = False
    if not ok:
        raise ConfigError(f"{path}: key '{key}' is {value!r}; expected a date format such as "
                          "'%d/%m/%Y' (day/month/year) or '%Y-%m-%d'.")
    return text


def source(section: dict, folder: Path, path: Path, where: str) -> Source:
    """The ``file``/``files`` and reading keys of a section read through a :class:`Source`."""
    read = {k: section[k] for k in READ_KEYS if k in section}
    files, rounds = _source_files(section, folder, path, where, read)
    layout = choose(section.get("layout", "long"), ("long", "wide"))
    if layout is None:
        raise ConfigError(f"{path}: key '{where}layout' {refusal(section.get('layout'), ('long', 'wide'))}.")
    wide = section.get("wide", {}) or {}
    if not isinstance(wide, dict):
        raise ConfigError(f"{path}: key '{where}wide' is {wide!r}; expected a mapping with "
                          "pattern (and rounds).")
    known(wide, WIDE_KEYS, path, f"{where}wide.")
    values = _source_values(section, path, where)
    return Source(files=files, rounds=rounds, layout=layout, wide_pattern=wide.get("pattern"),
                  wide_rounds=dict(wide.get("rounds", {}) or {}),
                  date_format=date_format(section.get("date_format"), path, f"{where}date_format"),
                  values={k: v for k, v in values.items() if isinstance(v, dict)},
                  not_applicable=_codes_of(values, "not_applicable"),
                  missing=_codes_of(values, "missing"),
                  ignore_leading_zeros=bool(section.get("ignore_leading_zeros", False)))


def _source_files(section: dict, folder: Path, path: Path, where: str, read: dict) -> tuple:
    """A section's files (``file``: one or a list; ``files``: round -> file) and, for
    ``files``, the rounds they hold."""
    if "file" in section and "files" in section:
        raise ConfigError(f"{path}: keys '{where}file' and '{where}files' are both set; expected "
                          "one ('files' maps each round to its own file).")
    if "files" in section:
        files_raw = section["files"]
        if not isinstance(files_raw, dict) or not files_raw:
            raise ConfigError(f"{path}: key '{where}files' is {files_raw!r}; expected a mapping of "
                              "round -> file, e.g. {baseline: survey_2018.xlsx, endline: survey_2020.xlsx}.")
        return (tuple(file_spec(v, folder, path, f"{where}files.{k}", read)
                      for k, v in files_raw.items()), tuple(files_raw))
    if "file" not in section:
        raise ConfigError(f"{path}: missing key '{where}file'; expected the data file's name.")
    value = section["file"]
    values = value if isinstance(value, list) else [value]
    return tuple(file_spec(v, folder, path, f"{where}file", read) for v in values), None


def _source_values(section: dict, path: Path, where: str) -> dict:
    """A section's ``values``: column (or role) -> mapping of its values (or a list of codes)."""
    values = section.get("values", {}) or {}
    if not isinstance(values, dict) or any(not isinstance(v, (dict, list)) for v in values.values()):
        raise ConfigError(f"{path}: key '{where}values' must map a column (or role) to a mapping "
                          "of its values, e.g. {treatment: {Yes: 1, No: 0}}.")
    return values


def _codes_of(values: dict, key: str) -> tuple:
    """The codes listed under ``values.<key>`` (one code or a list)."""
    codes = values.get(key)
    return () if codes is None else tuple(codes) if isinstance(codes, list) else (codes,)


# ------------------------------------------------------------------ the programme


@dataclass(frozen=True)
class ProgrammeConfig:
    """A programme's report configuration (see ``data/synthetic/*/programme.yml``)."""

    key: str
    folder: Path
    name: str
    ngo: str = ""
    province: str = ""
    source: str = ""
    question: str = ""  # what the report answers, in the programme's words (for the brief)
    min_cell: int = 5
    rounding: int | None = None  # privacy.rounding: counts shown rounded to this base
    seed: int | None = None
    sections: tuple[tuple[str, Any], ...] = ()  # (section key, its typed configuration)
    files: dict[str, FileSpec] = field(default_factory=dict)  # the sections' files, by path
    personal: tuple[str, ...] = ()  # columns declared personal (privacy.personal)
    keep: tuple[str, ...] = ()  # columns declared not personal (privacy.keep)
    on_invalid: str = "stop"  # or "set_aside"
    languages: tuple[str, ...] = ("en",)  # the editions rendered; the first is the main one
    language: str = "en"  # the language this configuration's text was read in
    number_script: str = "latin"  # or "khmer": digits of non-English editions
    declared: frozenset[str] = field(default=frozenset(), repr=False)  # every word of the file
    digest: str = ""  # SHA-256 of programme.yml as read (what a stamp depends on)

    def entries(self, key: str) -> tuple[Any, ...]:
        """The typed configurations of section ``key`` (empty when not configured)."""
        return tuple(cfg for k, cfg in self.sections if k == key)

    def first(self, key: str) -> Any:
        found = self.entries(key)
        return found[0] if found else None

    @property
    def csi(self):
        return self.first("csi")

    @property
    def trial(self):
        return self.first("trial")

    @property
    def synthetic(self) -> bool:
        """Generated by ``evalkit synth`` (its seed recorded): no real child or household."""
        return self.seed is not None

    def has(self, *keys: str) -> bool:
        return any(k in keys for k, _cfg in self.sections)

    def rules(self, specs: Sequence[SectionSpec]) -> list:
        """What the data-in layer must read and validate for this configuration."""
        by_key = {s.KEY: s for s in specs}
        return [rule for key, cfg in self.sections for rule in by_key[key].rules(cfg)]


class _NoAliases(yaml.SafeLoader):
    """A safe loader that refuses anchors and aliases, so that a small file cannot expand into
    a huge one (a "billion laughs" alias bomb)."""

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise ConfigError(f"line {event.start_mark.line + 1}: uses a YAML alias "
                              f"('*{event.anchor}'); write the value out instead.")
        event = self.peek_event()
        if getattr(event, "anchor", None):
            raise ConfigError(f"line {event.start_mark.line + 1}: defines a YAML anchor "
                              f"('&{event.anchor}'); write each value out instead.")
        return super().compose_node(parent, index)


def read_yaml(path: Path) -> tuple[str, Any]:
    """The text and the parsed content of a YAML file, bounded in size and free of aliases."""
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.strerror or type(exc).__name__}).") from None
    if len(data) > MAX_BYTES:
        raise ConfigError(f"{path}: is larger than {MAX_BYTES // 1_000_000} MB; expected a "
                          "configuration of a few kilobytes.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text; expected a YAML file saved as UTF-8.") from None
    try:
        return text, yaml.load(text, Loader=_NoAliases)  # noqa: S506 (a safe loader)
    except ConfigError as exc:
        raise ConfigError(f"{path}, {exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{path}{line}: not valid YAML ({getattr(exc, 'problem', exc)}).") from None
    except RecursionError:
        raise ConfigError(f"{path}: is nested too deeply to be a configuration.") from None


def _fill_in(text: str, path: Path) -> None:
    """Refuse a configuration that still holds a FILL-IN left by ``evalkit new``."""
    for number, line in enumerate(text.splitlines(), start=1):
        code = line.split("#", 1)[0]
        if FILL_IN in code:
            hint = line.split("#", 1)[1].strip() if "#" in line else ""
            key = code.split(":", 1)[0].strip(" -")
            raise ConfigError(f"{path}, line {number}: '{key}' is still {FILL_IN}; fill it in "
                              f"before rendering" + (f" ({hint})." if hint else "."))


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


def declared_words(raw: Any) -> frozenset[str]:
    """Every key and scalar of a parsed configuration, as text: what it declares."""
    found: set[str] = set()
    stack = [raw]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for k, v in node.items():
                found.add(str(k))
                stack.append(v)
        elif isinstance(node, list):
            stack.extend(node)
        elif node is not None and not isinstance(node, bool):
            found.add(str(node))
    return frozenset(found)


def load(folder: str | Path, sections: Sequence[SectionSpec], language: str | None = None,
         *, warn=None) -> ProgrammeConfig:
    """Read and check ``programme.yml`` in ``folder``; each analysis section is parsed by the
    section module in ``sections`` that owns its key. Text given per language is read in
    ``language`` (default: the first of the programme's ``language`` key, or English).
    ``warn``: called with a sentence for a setting that is allowed but unwise."""
    folder = Path(folder)
    path = _config_path(folder)
    text, raw = read_yaml(path)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping of keys (name, ngo, province, …).")
    by_key = {s.KEY: s for s in sections}
    known(raw, TOP_KEYS | set(by_key), path)
    _fill_in(text, path)
    from evalkit.i18n import LANGUAGES, NUMBER_SCRIPTS

    languages = _languages(raw.get("language", "en"), path)
    language = language or languages[0]
    declared = declared_words(raw)
    raw = _localised(raw, language, set(LANGUAGES))
    number_script = choose(raw.get("number_script", "latin"), NUMBER_SCRIPTS)
    if number_script is None:
        raise ConfigError(f"{path}: key 'number_script' {refusal(raw.get('number_script'), NUMBER_SCRIPTS)}.")
    privacy, min_cell, rounding = _privacy(raw, path, warn)
    _check_sections(raw, by_key, languages, path)
    on_invalid, seed, name = _top_values(raw, path)
    ctx = Context(folder, path)
    return ProgrammeConfig(
        key=folder.name,
        folder=folder,
        name=name,
        ngo=str(raw.get("ngo") or ""),
        province=str(raw.get("province") or ""),
        source=str(raw.get("source") or ""),
        question=str(raw.get("question") or ""),
        min_cell=min_cell,
        rounding=rounding,
        seed=seed,
        sections=tuple(_parse_sections(raw, by_key, path, ctx)),
        files=ctx.files,
        personal=ctx.words(privacy.get("personal"), "privacy.personal"),
        keep=ctx.words(privacy.get("keep"), "privacy.keep"),
        on_invalid=on_invalid,
        languages=languages,
        language=language,
        number_script=number_script,
        declared=declared,
        digest=digest,
    )


def _config_path(folder: Path) -> Path:
    """``folder``'s programme.yml, or one sentence saying why there is none."""
    if not folder.exists():
        raise ConfigError(f"{folder}: no such folder; expected a programme folder holding a "
                          f"{CONFIG_NAME}.")
    if not folder.is_dir():
        raise ConfigError(f"{folder}: is a file, not a folder; expected a programme folder "
                          f"holding a {CONFIG_NAME}.")
    path = folder / CONFIG_NAME
    if not path.is_file():
        raise ConfigError(f"{folder}: holds no {CONFIG_NAME}; expected a programme configuration "
                          "(run 'evalkit new' or see README, 'Adding a programme').")
    return path


def _privacy(raw: dict, path: Path, warn) -> tuple[dict, int, int | None]:
    """(the privacy mapping, min_cell, rounding), checked; a min_cell under 5 is warned of."""
    privacy = raw.get("privacy", {}) or {}
    if not isinstance(privacy, dict):
        raise ConfigError(f"{path}: key 'privacy' is {privacy!r}; expected a mapping with min_cell.")
    known(privacy, PRIVACY_KEYS, path, "privacy.")
    min_cell = privacy.get("min_cell", 5)
    if not _whole(min_cell) or min_cell < MIN_CELL_FLOOR:
        raise ConfigError(f"{path}: key 'privacy.min_cell' is {min_cell!r}; expected a whole "
                          f"number of children of at least {MIN_CELL_FLOOR} (default 5): smaller "
                          "groups could identify a child.")
    if min_cell < 5:
        import warnings

        (warn or (lambda m: warnings.warn(m, PrivacyWarning, stacklevel=4)))(
            f"{path}: privacy.min_cell is {min_cell}; figures on groups of {min_cell} children "
            "are published. 5 or more is advised.")
    rounding = privacy.get("rounding")
    if rounding is not None and (not _whole(rounding) or rounding < 2):
        raise ConfigError(f"{path}: key 'privacy.rounding' is {rounding!r}; expected a whole "
                          "number of at least 2 (e.g. 5 rounds every count to the nearest 5).")
    return privacy, min_cell, rounding


def _whole(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_sections(raw: dict, by_key: dict, languages: list[str], path: Path) -> None:
    """At least one analysis section, each translated into every language asked for."""
    from evalkit.i18n import LANGUAGES

    configured = [k for k in by_key if k in raw]
    for code in languages:
        untranslated = [k for k in configured if code not in getattr(by_key[k], "LANGUAGES", ("en",))]
        if untranslated:
            raise ConfigError(f"{path}: key 'language' asks for a {LANGUAGES[code]} ({code}) "
                              f"edition, but section {untranslated[0]!r} is not translated into it "
                              "yet; expected one of the languages its text exists in.")
    if not configured:
        raise ConfigError(f"{path}: no analysis is configured; expected at least one of the "
                          f"sections {', '.join(by_key)} (see docs/config.md).")


def _top_values(raw: dict, path: Path) -> tuple[str, int | None, str]:
    """(on_invalid, seed, name), checked; the text keys checked to be text."""
    on_invalid = choose(raw.get("on_invalid", "stop"), ("stop", "set_aside"))
    if on_invalid is None:
        raise ConfigError(f"{path}: key 'on_invalid' {refusal(raw.get('on_invalid'), ('stop', 'set_aside'))}.")
    seed = raw.get("seed")
    if seed is not None and not _whole(seed):
        raise ConfigError(f"{path}: key 'seed' is {seed!r}; expected a whole number.")
    for key in ("ngo", "province", "source", "question"):
        if key in raw and raw[key] is not None and not isinstance(raw[key], (str, int, float)):
            raise ConfigError(f"{path}: key '{key}' is {raw[key]!r}; expected text.")
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ConfigError(f"{path}: missing key 'name'; expected the programme's name as text.")
    return on_invalid, seed, name


def _parse_sections(raw: dict, by_key: dict, path: Path, ctx) -> list:
    """(key, parsed section) in report order, each entry parsed by the module owning its key."""
    parsed = []
    for key, spec in by_key.items():  # report order
        if key not in raw:
            continue
        value = raw[key]
        if spec.MANY and not isinstance(value, list):
            raise ConfigError(f"{path}: key '{key}' is {type(value).__name__}; expected a list "
                              "of tables (each starting with '- title: ...').")
        for i, entry in enumerate(value if spec.MANY else [value]):
            where = f"{key}[{i}]." if spec.MANY else f"{key}."
            if not isinstance(entry, dict):
                raise ConfigError(f"{path}: key '{where[:-1]}' is {entry!r}; expected a mapping.")
            known(entry, set(spec.KEYS), path, where)
            parsed.append((key, spec.parse(entry, where, ctx)))
    return parsed


def documented_keys(sections: Sequence[SectionSpec]) -> set[str]:
    """Every key a programme.yml accepts (docs/config.md documents each; a test checks it)."""
    keys = TOP_KEYS | PRIVACY_KEYS | WIDE_KEYS | FILE_MAPPING_KEYS | VALUE_MAP_KEYS | SOURCE_KEYS
    for spec in sections:
        keys |= {spec.KEY} | set(spec.KEYS) | set(getattr(spec, "NESTED_KEYS", ()))
    return keys


def discover(root: str | Path) -> list[Path]:
    """Programme folders (those holding a ``programme.yml``) directly under ``root``."""
    root = Path(root)
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if (p / CONFIG_NAME).is_file())
