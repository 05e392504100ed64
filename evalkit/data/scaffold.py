"""``evalkit new``: recognise an export's layout and write a programme.yml that renders as is.

The files are copied into the programme folder (never linked), read once, and recognised:
OSCaR's CSI report, KoBoToolbox and ODK Central exports, labelled Stata/SPSS files, wide
one-row-per-child sheets and plain CSI tables (factors named by code or by English name),
with the encoding, separator, sheet and header row found. What could not be decided is one
``FILL-IN`` line each, with a comment saying what to write; ``evalkit report`` refuses such a
configuration with one sentence naming the line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from evalkit import files
from evalkit.config import CONFIG_NAME, FILL_IN
from evalkit.data import formats, mapping, personal
from evalkit.data.read import RawTable, join_parent, read
from evalkit.data.validate import parse_dates
from evalkit.errors import ConfigError

_ROUND_WORDS = ("round", "assessment number", "assessment no", "assessment", "wave", "visit",
                "period", "time point", "timepoint", "phase", "survey round", "rnd",
                "ជុំ", "វគ្គ", "ដំណាក់កាល", "លើកទី", "ការវាយតម្លៃលើកទី")
_CLUSTER_WORDS = ("village", "cluster", "phum", "community")
_TREATMENT_WORDS = ("treatment", "treated", "arm", "campaign", "intervention", "group")


@dataclass
class Plan:
    """What ``evalkit new`` decided (``lines`` of YAML) and what it could not (``todo``)."""

    lines: list[str] = field(default_factory=list)
    todo: list[str] = field(default_factory=list)
    found: list[str] = field(default_factory=list)


def _yaml(value: object) -> str:
    text = str(value)
    if re.fullmatch(r"[A-Za-z_][\w .()-]*", text) and text.strip() == text and \
            text.lower() not in ("yes", "no", "true", "false", "null", "on", "off", "y", "n"):
        return text
    return "'" + text.replace("'", "''") + "'"


def _pick(columns: list[str], words: tuple[str, ...], exclude: set[str] = frozenset()) -> str | None:
    for word in map(mapping.simple, words):
        for column in columns:
            short = mapping.simple(str(column).rsplit("/", 1)[-1])
            if column not in exclude and (short == word or short.endswith(" " + word)
                                          or short.startswith(word + " ")):
                return column
    return None


def _child_column(columns: list[str]) -> str | None:
    ids = [c for c in columns if personal.is_person_id(c) and c not in formats.KOBO_META
           and c not in formats.ODK_META]
    for preferred in ("child", "client", "case", "beneficiary", "person"):
        for column in ids:
            if preferred in mapping.simple(column):
                return column
    return ids[0] if ids else None


def _date_column(frame: pd.DataFrame, columns: list[str]) -> str | None:
    for column in columns:
        words = mapping.simple(column)
        if "date" in words and not personal.is_personal(column) and "submission" not in words:
            values = frame[column].dropna()
            if len(values) and parse_dates(values)[1].mean() >= 0.9:
                return column
    return None


def _read_options(table: RawTable) -> list[str]:
    found = table.detected
    out = []
    if found.get("sheets") and len(found["sheets"]) > 1:
        out.append(f"  sheet: {_yaml(found['sheet'])}            # found: the sheet with the data")
    if found.get("header_row", 1) != 1:
        out.append(f"  header_row: {found['header_row']}          # found: the rows above are titles")
    if found.get("encoding") not in (None, "utf-8", "utf-8-sig"):
        out.append(f"  encoding: {found['encoding']}")
    if found.get("sep") not in (None, ","):
        out.append("  sep: " + ('"\\t"             # tab' if found["sep"] == "\t" else _yaml(found["sep"])))
    return out


def _wide_rest(column: str, prefixes: list[str]) -> str | None:
    """'date' for 'baseline_date' when 'baseline' is a round prefix of the wide sheet."""
    for prefix in prefixes:
        match = re.fullmatch(re.escape(prefix) + r"[\s_.:/-]+(.+)", str(column))
        if match:
            return match.group(1)
    return None


def _csi_plan(names: list[str], table: RawTable, layout: formats.Layout, plan: Plan,
              parents: dict[str, str] | None = None) -> None:
    """The csi section for one export, or for several exports of the same layout (one per
    round when they hold no round column, else stacked)."""
    frame = table.frame
    columns = [c for c in table.columns if c not in layout.meta]
    found = len(layout.factors) if not layout.wide_rounds else 12
    plan.found.append(f"{', '.join(names)}: {layout.kind} export, {len(frame)} row(s) in "
                      f"{names[0]}, {found} of the 12 CSI factors found")
    lines = ["csi:", *_read_options(table)]
    child = _child_column(columns)
    cols = [f"    child: {_yaml(child)}" if child else
            f"    child: {FILL_IN}    # the column identifying each child; one of: "
            f"{', '.join(map(str, _candidates(columns)[:8]))}"]
    if child is None:
        plan.todo.append("csi.columns.child")
    if layout.wide_rounds:
        round_column, date = _wide_lines(layout, columns, lines, cols, plan)
    else:
        date = _date_column(frame, columns)
        round_column = _round_line(frame, columns, child, date, layout, lines, cols, plan)
    if date:
        cols.append(f"    date: {_yaml(date)}")
    if not layout.wide_rounds:
        cols += _factor_lines(layout, plan)
    if len(names) > 1 and round_column is None and not layout.wide_rounds:
        round_column = None
        cols = _per_round_files(names, lines, cols, plan)
    else:
        _file_line(names, parents or {}, lines, plan)
    lines += ["  columns:", *cols]
    if round_column and not layout.wide_rounds:
        _round_value_lines(table, round_column, date, lines, plan)
    _coded_missing_lines(lines, frame, layout, plan)
    plan.lines += lines


def _wide_lines(layout: formats.Layout, columns: list[str], lines: list[str], cols: list[str],
                plan: Plan) -> tuple[str, str | None]:
    """A one-row-per-child sheet: its column pattern and rounds; ('round', the date column)."""
    prefixes = list(layout.wide_rounds)
    lines.append("  layout: wide                # one row per child, one block of factors per round")
    lines.append("  wide:")
    pattern = "(?P<round>" + "|".join(re.escape(p) for p in prefixes) + r")[\s_.:/-]+(?P<column>.+)"
    lines.append(f"    pattern: {_yaml(pattern)}")
    if any(mapping.round_order(p) is None for p in prefixes):
        lines.append("    rounds:")
        for i, prefix in enumerate(prefixes, start=1):
            lines.append(f"      {_yaml(prefix)}: {FILL_IN}    # order number of this round (1, 2, …); "
                         f"in the sheet it is block {i}; one of: 1, 2, 3, 4, 5, 6")
        plan.todo.append("csi.wide.rounds")
    cols.append("    round: round               # made from the column blocks")
    per_round = {_wide_rest(c, prefixes) for c in columns} - {None}
    dates = [rest for rest in per_round if "date" in mapping.simple(rest).split()]
    return "round", (dates[0] if dates else None)


def _round_line(frame: pd.DataFrame, columns: list[str], child: str | None, date: str | None,
                layout: formats.Layout, lines: list[str], cols: list[str], plan: Plan) -> str | None:
    """The round column of a long export (None: numbered by ``date``, or a FILL-IN)."""
    dated = {c for c in columns if "date" in mapping.simple(c).split()}
    round_column = _pick(columns, _ROUND_WORDS, ({child} if child else set()) | dated)
    if round_column is not None:
        cols.append(f"    round: {_yaml(round_column)}")
        return round_column
    repeated = child is not None and frame[child].duplicated().any()
    if date and repeated:
        lines.append("  rounds_from: date           # no round column: each child's "
                     "assessments are numbered 1, 2, … by date")
        return None
    offered = _round_candidates(frame, [c for c in _candidates(columns) if c != child
                                        and c not in layout.factors.values()])
    cols.append(f"    round: {FILL_IN}    # the column giving the assessment round "
                f"(1, 2, … or Baseline, Endline); one of: {', '.join(map(str, offered[:8]))}")
    plan.todo.append("csi.columns.round")
    return None


def _per_round_files(names: list[str], lines: list[str], cols: list[str], plan: Plan) -> list[str]:
    """One file per round (no round column): the round comes from each file's name."""
    keys = [Path(n).stem for n in names]
    lines.insert(1, "  files:                      # one file per round; the key names the round")
    for i, (key, file_name) in enumerate(zip(keys, names)):
        lines.insert(2 + i, f"    {_yaml(key)}: {_yaml(file_name)}")
    cols = [c for c in cols if not c.startswith("    round:")]
    cols.append("    round: round               # made from the file names above")
    if any(mapping.round_order(k) is None for k in keys):
        lines.append("  values:")
        lines.append("    round:                    # the order of the files' rounds")
        for key in keys:
            lines.append(f"      {_yaml(key)}: {FILL_IN}    # 1 for the first round, 2 for the next, …; one of: 1, 2, 3, 4, 5, 6")
        plan.todo.append("csi.values.round")
    plan.todo = [t for t in plan.todo if t != "csi.columns.round"]
    return cols


def _file_line(names: list[str], parents: dict[str, str], lines: list[str], plan: Plan) -> None:
    """The file key: stacked files, a repeat joined to its parent, or one file."""
    name = names[0]
    if len(names) > 1:
        lines.insert(1, "  file:                       # stacked: the same columns in each")
        for i, file_name in enumerate(names):
            lines.insert(2 + i, f"    - {_yaml(file_name)}")
    elif name in parents:  # a repeat file: joined to its parent file as it is read
        lines.insert(1, f"  file: {{path: {_yaml(name)}, parent: {_yaml(parents[name])}}}"
                        "    # the repeat, joined to its parent rows")
        plan.found.append(f"{name}: a repeat table, joined to {parents[name]} (its parent rows)")
    else:
        lines.insert(1, f"  file: {_yaml(name)}")


def _round_value_lines(table: RawTable, round_column: str, date: str | None, lines: list[str],
                       plan: Plan) -> None:
    """The order of text rounds no rule knows (FILL-INs), or the rounds' value labels."""
    values = table.frame[round_column].dropna()
    keys = list(dict.fromkeys(values.map(mapping.cell_key)))
    numeric = all(mapping.is_number_key(k) for k in keys)
    labels = table.value_labels.get(round_column, {})
    if not numeric and not date and any(mapping.round_order(v) is None for v in
                                        dict.fromkeys(values.astype(str))):
        lines.append("  values:")
        lines.append("    round:                    # the order of the rounds")
        for label in dict.fromkeys(values.astype(str).str.strip()):
            lines.append(f"      {_yaml(label)}: {FILL_IN}    # 1 for the first round, 2 for the next, …; one of: 1, 2, 3, 4, 5, 6")
        plan.todo.append("csi.values.round")
    elif labels:
        lines.append("  round_labels:               # from the file's value labels")
        for code, label in labels.items():
            if float(code).is_integer():
                lines.append(f"    {int(code)}: {_yaml(label)}")


def _coded_missing_lines(lines: list[str], frame: pd.DataFrame, layout: formats.Layout,
                         plan: Plan) -> None:
    """Propose the coded values found in factor columns only (99, -9) as 'not applicable',
    under the section's ``values:`` (added when there is none)."""
    coded = _coded_missing(frame, layout)
    if not coded:
        return
    shown = ", ".join(_number_text(c) for c in coded)
    line = (f"    not_applicable: [{shown}]    # found: {shown} in factor columns only (not a "
            "score): read as 'not applicable'; write missing: instead if it means 'not rated'")
    if "  values:" in lines:
        lines.insert(lines.index("  values:") + 1, line)
    else:
        lines += ["  values:", line]
    plan.found.append(f"  {shown} in factor columns only: read as 'not applicable' (values: in "
                      "programme.yml says so; change it there if it means something else)")


def _factor_lines(layout: formats.Layout, plan: Plan) -> list[str]:
    """The csi.columns lines naming each factor's column, and what ``new`` prints about it:
    a column matched by its code or manual name needs no line; one matched by meaning is
    named (with the match); an unsure one is a FILL-IN listing the candidates."""
    from evalkit.instruments.csi import FACTORS, LABELS

    lines = []
    spare = [c for c in layout.csi_like if c not in layout.factors.values()]
    for code in FACTORS:
        column = layout.factors.get(code)
        score = layout.scores.get(code, 100.0)
        if column is not None:
            how = "by its name" if score >= 100 else f"by meaning, {score:.0f}/100"
            plan.found.append(f"  {code} {LABELS[code]}: column {str(column)!r} ({how})")
            if column != code:
                note = "" if score >= 100 else f"    # matched by meaning ({score:.0f}/100)"
                lines.append(f"    {code}: {_yaml(column)}{note}")
            continue
        lines.append(_unsure_factor(code, layout.unsure.get(code) or spare, plan))
    return lines


def _unsure_factor(code: str, candidates: list, plan: Plan) -> str:
    """A FILL-IN line for a factor no column surely holds, listing the candidates."""
    from evalkit.instruments.csi import LABELS

    shown = ", ".join(repr(str(c)) for c in candidates[:4])
    plan.found.append(f"  {code} {LABELS[code]}: not sure" + (f"; candidates {shown}"
                                                               if candidates else "; no candidate"))
    plan.todo.append(f"csi.columns.{code}")
    return (f"    {code}: {FILL_IN}    # the column holding factor {code} ({LABELS[code]}); "
            + (f"candidates: {shown}" if candidates else "none was recognised"))


def _round_candidates(frame: pd.DataFrame, columns: list[str]) -> list[str]:
    """Columns that could give the round, likeliest first: those whose values all read as
    rounds (numbers, Baseline/Endline, '6 months') and are few."""
    def rank(column):
        values = frame[column].dropna().astype(str).str.strip().unique()[:50]
        roundish = len(values) > 0 and all(mapping.round_order(v) is not None for v in values)
        return (not roundish, len(values) if roundish else 99)

    return sorted(columns, key=rank)


def _coded_missing(frame: pd.DataFrame, layout: formats.Layout) -> list[float]:
    """Numbers such as 99 or -9 found in the factor columns and in no other column."""
    factor_columns = set(layout.factors.values()) | {c for codes in layout.wide_rounds.values()
                                                     for c in codes.values()}
    found, elsewhere = set(), set()
    for column in frame.columns:
        codes = {formats.coded_missing(v) for v in frame[column].dropna().unique()[:500]} - {None}
        (found if column in factor_columns else elsewhere).update(codes)
    return sorted(found - elsewhere)


def _number_text(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _candidates(columns: list[str]) -> list[str]:
    """Columns a FILL-IN may offer: never a personal column (a name, a phone number) nor an
    export's meta column (SubmitterName, deviceid, start, end, location)."""
    meta = set(formats.meta_columns(columns)) | {"location", "_geolocation", "gps", "geopoint"}
    return [c for c in columns if c not in meta and not personal.is_personal(c)
            and mapping.simple(str(c).rsplit("/", 1)[-1]) not in {"location", "gps", "geopoint"}]


def _trial_plan(name: str, table: RawTable, plan: Plan) -> bool:
    """A village comparison sketched from one survey file, when it has a village and a
    treatment column to build one on; False (nothing written) otherwise."""
    columns = _candidates(table.columns)
    unit = next((c for c in columns if personal.is_person_id(c)), None)
    cluster = _pick(columns, _CLUSTER_WORDS)
    treatment = _pick(columns, _TREATMENT_WORDS)
    round_column = _pick(columns, _ROUND_WORDS)
    if cluster is None and treatment is None:
        return False
    plan.found.append(f"{name}: {len(table.frame)} row(s); no CSI factors, but a village and "
                      "a treatment column: a village comparison is sketched")
    role = {"unit": unit, "cluster": cluster, "treatment": treatment, "round": round_column}
    lines = ["trial:", f"  file: {_yaml(name)}", *_read_options(table), "  columns:"]
    hints = {"unit": "the household (or person) id", "cluster": "the village (unit of assignment)",
             "treatment": "1/0 or Yes/No: in a treatment village?",
             "round": "baseline or endline"}
    for key, value in role.items():
        if value is None:
            lines.append(f"    {key}: {FILL_IN}    # {hints[key]}; one of: "
                         f"{', '.join(map(str, columns[:8]))}")
            plan.todo.append(f"trial.columns.{key}")
        else:
            lines.append(f"    {key}: {_yaml(value)}")
    lines += ["  baseline: baseline", "  endline: endline", "  outcomes:",
              f"    {FILL_IN}:    # an outcome column, with its label and kind (binary or score)",
              "      label: Outcome", "      kind: score"]
    plan.todo.append("trial.outcomes")
    plan.lines += lines
    return True


def _sources(sources: list[str | Path]) -> list[Path]:
    """The export files named, a folder standing for the data files in it."""
    from evalkit.data.read import SUFFIXES

    if not sources:
        raise ConfigError("name at least one data file (or a folder of them) after --from.")
    found = []
    for source in map(Path, sources):
        if source.is_dir():
            inside = sorted(p for p in source.iterdir() if p.is_file() and not p.is_symlink()
                            and p.suffix.lower() in SUFFIXES)
            if not inside:
                raise ConfigError(f"{source}: holds no data file; expected exports ending in "
                                  f"{', '.join(SUFFIXES)}.")
            found += inside
        elif source.is_file():
            found.append(source)
        else:
            raise ConfigError(f"{source}: file not found; expected a data export to copy in.")
    return found


def _copy_in(target: Path, sources: list[Path]) -> list[str]:
    names = []
    for source in sources:
        destination = target / source.name
        data = source.read_bytes()
        if destination.is_symlink():
            raise ConfigError(f"{destination}: is a symbolic link; evalkit copies the export into "
                              "the folder as a real file and never writes through a link (remove "
                              "the link first).")
        if destination.exists():
            if destination.read_bytes() != data:
                raise ConfigError(f"{destination}: a different file of that name is already in "
                                  "the folder; expected a new folder, or rename one of the files.")
        else:
            files.write(target, source.name, data)  # a copy, never a link; the source untouched
        names.append(source.name)
    return names


_REPEAT_KEYS = (("PARENT_KEY", "KEY"), ("_parent_index", "_index"))


def _nothing_recognised(target: Path, names: list[str], tables: dict) -> ConfigError:
    """The sentence for exports holding no analysis the kit recognises."""
    looked = "; ".join(f"{n}: {len(tables[n].frame)} row(s), {len(tables[n].columns)} "
                       "column(s)" for n in names)
    return ConfigError(
        f"{target}: no analysis could be recognised in {looked}: no six columns of CSI "
        "scores (1–4 or Very bad … Good), and no village and treatment columns for a "
        "comparison; the files were copied there, and programme.yml was not written "
        "(write it by hand: docs/config.md).")


def _parents(tables: dict[str, RawTable]) -> dict[str, str]:
    """Repeat file -> its parent file, for an ODK Central or KoBoToolbox export given as
    separate files (unzipped); a repeat whose parent is missing is one sentence."""
    parents = {}
    for name, table in tables.items():
        pair = next(((left, right) for left, right in _REPEAT_KEYS
                     if left in table.frame.columns), None)
        if pair is None or table.detected.get("parent"):
            continue  # not a repeat, or joined inside its own export already
        left, right = pair
        keys = set(table.frame[left].dropna().astype(str))
        parent = next((other for other, t in tables.items() if other != name
                       and right in t.frame.columns
                       and keys & set(t.frame[right].dropna().astype(str))), None)
        if parent is None:
            raise ConfigError(
                f"{name}: is a repeat table ({left}) and the file holding its parent rows (the "
                f"{right} column: the export's main table, with the round and the date) is not "
                "among the files given; expected both files of the export (or the export's zip "
                "as downloaded) after --from.")
        parents[name] = parent
    return parents


def _title(tables: dict[str, RawTable], names: list[str]) -> tuple[str, bool]:
    """The programme's name: the form's title where the export carries one (a KoBoToolbox
    workbook's sheet, an ODK Central form's file), else the export's file name (True: a
    title was found)."""
    for name in names:
        found = tables[name].detected
        sheets = found.get("sheets") or []
        if found.get("members"):
            return Path(found["members"][0]).stem.replace("_", " "), True
        if sheets and sheets[0].lower() not in ("sheet1", "sheet 1", "data", "feuil1"):
            return str(sheets[0]), True
    return Path(names[0]).stem.replace("_", " "), False



def _refuse_existing(target: Path) -> None:
    """Refuse a target that is a file or a link, or that already holds a programme.yml."""
    if target.is_symlink() or (target.exists() and not target.is_dir()):
        raise ConfigError(f"{target}: is a file or a link, not a folder; expected a new "
                          "programme folder to copy the export(s) into.")
    if (target / CONFIG_NAME).exists() or (target / CONFIG_NAME).is_symlink():
        raise ConfigError(f"{target / CONFIG_NAME} already exists; expected a new programme "
                          "folder (remove or rename the old programme.yml first).")


def _header_lines(tables: dict, names: list[str]) -> list[str]:
    """The first lines of a written programme.yml: where it came from, the name, privacy."""
    title, titled = _title(tables, names)
    return [f"# programme.yml written by 'evalkit new' from {', '.join(names)}.",
            "# Every key is documented in docs/config.md.",
            f"name: {_yaml(title)}" + ("            # the form's title" if titled else
                                       "            # from the export's file name: write "
                                       "the programme's own name"),
            "# ngo: the organisation's name (optional)",
            "# province: where the programme works (optional)",
            "privacy:", "  min_cell: 5                 # figures on fewer children are suppressed"]


def _csi_files_plan(target: Path, csi_files: list[str], names: list[str], tables: dict,
                    layouts: dict, parents: dict, plan: Plan) -> None:
    """The CSI section for the files shaped like the first CSI file; the others are said to
    be copied and unused. A CSI file without rows is refused."""
    empty = [n for n in csi_files if tables[n].frame.empty]
    if empty:
        raise ConfigError(f"{target / empty[0]}: holds the CSI columns but no row below the "
                          "header; expected the export with its assessments (programme.yml was "
                          "not written: a report would have nothing to show).")
    first = csi_files[0]
    same = [n for n in csi_files if set(tables[n].columns) == set(tables[first].columns)]
    _csi_plan(same, tables[first], layouts[first], plan, parents)
    for name in names:
        if name not in same and name not in parents.values():
            plan.found.append(f"{name}: copied; not used by the configuration (its columns "
                              f"differ from {first}'s)")

def new(target: str | Path, sources: list[str | Path]) -> Plan:
    """Copy ``sources`` (files, or a folder of them) into ``target`` and write
    ``target/programme.yml``; a configuration is written only when it holds an analysis."""
    target = Path(target)
    _refuse_existing(target)
    names = _copy_in(target, _sources(sources))
    tables = {name: read(target / name, f"{target.name}/{name}") for name in names}
    parents = _parents(tables)
    for name, parent in parents.items():  # the repeat with its parent's round, date, village
        tables[name] = join_parent(tables[name], tables[parent])
    layouts = {name: formats.recognise(table) for name, table in tables.items()}
    plan = Plan()
    plan.lines += _header_lines(tables, names)
    csi_files = [n for n in names if layouts[n].looks_like_csi and n not in parents.values()]
    if csi_files:
        _csi_files_plan(target, csi_files, names, tables, layouts, parents, plan)
    elif not (len(names) == 1 and _trial_plan(names[0], tables[names[0]], plan)):
        raise _nothing_recognised(target, names, tables)
    text = "\n".join(plan.lines) + "\n"
    try:
        files.write(target, CONFIG_NAME, text, exclusive=True)
    except FileExistsError:
        raise ConfigError(f"{target / CONFIG_NAME} already exists; expected a new programme "
                          "folder.") from None
    return plan
