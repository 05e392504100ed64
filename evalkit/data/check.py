"""``evalkit check``: load and validate a programme folder without rendering, and say what
was found — rows read, used and set aside (and why), children and rounds, duplicates,
children assessed once, missing and out-of-range values per column, dates out of order.

The terminal may show bad cells' values to the person who owns the data; the data-quality
page (``DIR/.evalkit/check.html``) holds counts and positions only, never a value or an ID.
"""

from __future__ import annotations

import html
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from evalkit import files
from evalkit.data.programme import PRIVATE, ProgrammeData, load
from evalkit.data.validate import Problem, summarise
from evalkit.errors import EvalkitError
from evalkit.instruments.csi import FACTORS, factor_code


@dataclass
class CheckResult:
    """What ``evalkit check`` found for one programme folder."""

    folder: Path
    error: str | None = None
    data: ProgrammeData | None = None
    facts: list[tuple[str, str]] = field(default_factory=list)
    columns: pd.DataFrame | None = None  # per CSI column: rated, n/a, blank, outside 1–4
    policy: str = "stop"  # the programme's on_invalid: what the report will do with problems

    @property
    def problems(self) -> tuple[Problem, ...]:
        return self.data.problems if self.data is not None else ()

    @property
    def ok(self) -> bool:
        return self.error is None and not self.problems

    @property
    def renders(self) -> bool:
        """Whether ``evalkit report`` will render: no problem, or problems whose rows the
        programme sets aside (``on_invalid: set_aside``)."""
        return self.ok or (self.error is None and self.policy == "set_aside")


def _round_name(data: ProgrammeData, number: int) -> str:
    name = data.rounds.names.get(int(number)) if data.rounds is not None else None
    if name is not None and name.declared:
        return f"round {number} ({name.declared})"
    if name is not None and name.word:
        word, n = name.word
        return f"round {number} ({word.format(n=n)})"
    return f"round {number}"


def _csi_facts(data: ProgrammeData) -> tuple[list[tuple[str, str]], pd.DataFrame]:
    frame = data.csi
    facts = [("children", f"{frame['child'].nunique():,}"),
             ("assessments", f"{len(frame):,}"),
             ("rounds", ", ".join(f"{_round_name(data, r)}: {n:,} children" for r, n in
                                  frame.groupby("round")["child"].nunique().items()))]
    duplicates = sum(1 for p in data.problems if p.rule == "duplicate")
    facts.append(("duplicate child-round rows (set aside)", f"{duplicates:,}"))
    per_child = frame.groupby("child")["round"].nunique()
    facts.append(("children assessed once", f"{int((per_child == 1).sum()):,}"))
    if "date" in frame:
        ordered = frame.sort_values(["child", "round"])
        went_back = ordered.groupby("child")["date"].diff() < pd.Timedelta(0)
        facts.append(("assessments dated before the child's previous round",
                      f"{int(went_back.sum()):,}"))
        facts.append(("assessment dates", f"{frame['date'].min():%b %Y} to {frame['date'].max():%b %Y}"
                      if frame["date"].notna().any() else "none"))
    return facts, _factor_cells(data)


def _factor_cells(data: ProgrammeData) -> pd.DataFrame:
    """Per factor: the column it was read from and its cells rated, not applicable, blank
    and not a score (their rows set aside)."""
    frame = data.csi
    outside = Counter(p.column for p in data.problems if p.rule == "factor")
    return pd.DataFrame([
        {"factor": code, "read from column": str(data.factor_columns.get(code, code)),
         "rated 1–4": int(frame[code].isin(["1", "2", "3", "4"]).sum()),
         "not applicable": int((frame[code] == "n/a").sum()),
         "blank": int(frame[code].isna().sum()),
         "not a score (rows set aside)": sum(n for c, n in outside.items() if factor_code(c) == code)}
        for code in FACTORS])


def check(folder: str | Path, sections) -> CheckResult:
    """Load ``folder`` collecting every problem (rows with problems set aside, not stopped);
    ``sections``: the report sections whose rules say what to read."""
    folder = Path(folder)
    result = CheckResult(folder)
    try:
        from evalkit.config import load as load_config

        config = load_config(folder, sections)
        result.policy = config.on_invalid
        data = load(folder, sections, use_cache=False, on_invalid="set_aside", config=config)
    except EvalkitError as exc:
        result.error = str(exc)
        return result
    result.data = data
    if data.csi is not None and len(data.csi):
        result.facts, result.columns = _csi_facts(data)
    if data.trial is not None:
        cfg = data.config.trial
        result.facts.append(("trial households", f"{data.trial[cfg.unit].nunique():,}"))
        result.facts.append(("trial villages", f"{data.trial[cfg.cluster].nunique():,}"))
    if data.dropped_columns:
        result.facts.append(("personal columns dropped as read (never in a report)",
                             ", ".join(data.dropped_columns)))
    if data.look_alike_ids:
        result.facts.append(("IDs written in more than one way (invisible characters or another "
                             "Unicode form) and counted as one", f"{data.look_alike_ids:,}"))
    return result


def _page_parts(result: CheckResult) -> list[str]:
    """The check page's body for data that could be read: the verdict, the rows read, used
    and set aside, what the data hold, the factor columns and the problems."""
    esc = html.escape
    parts = ["<p>" + ("No problems found." if result.ok else
                      f"{len(result.problems)} problem(s)"
                      + ("; the rows holding them are set aside."
                         if result.data.config.on_invalid == "set_aside"
                         else "; 'evalkit report' stops on them (on_invalid: stop).")) + "</p>",
             "<h2>Rows</h2><table><tr><th>file</th><th>read</th><th>used</th>"
             "<th>set aside</th><th>why</th></tr>"]
    for a in result.data.accounts:
        why = "; ".join(f"{n} {rule}" for rule, n in a.set_aside.items())
        parts.append(f"<tr><td>{esc(a.file)}</td><td>{a.read}</td><td>{a.used}</td>"
                     f"<td>{a.rows_set_aside}</td><td>{esc(why)}</td></tr>")
    parts.append("</table>")
    if result.facts:
        parts.append("<h2>What the data hold</h2><ul>" + "".join(
            f"<li>{esc(label)}: {esc(value)}</li>" for label, value in result.facts) + "</ul>")
    if result.columns is not None:
        parts.append("<h2>CSI factor columns</h2>" +
                     result.columns.to_html(index=False, escape=True, border=0))
    if result.problems:
        parts += _problem_parts(result.problems)
    return parts


def _problem_parts(problems) -> list[str]:
    """The problems on the check page: grouped, then one by one (at most 500)."""
    esc = html.escape
    return ["<h2>Problems</h2><ul>" + "".join(
                f"<li>{esc(line)}</li>" for line in summarise(problems, limit=50)) + "</ul>",
            "<table><tr><th>where</th><th>column</th><th>problem</th></tr>" + "".join(
                f"<tr><td>{esc(p.where)}</td><td>{esc(p.column)}</td><td>{esc(p.sentence())}</td></tr>"
                for p in problems[:500]) + "</table>"]


def terminal_lines(result: CheckResult, limit: int = 20) -> list[str]:
    """The check for the data owner's terminal (values of bad cells included)."""
    name = result.folder.name
    if result.error:  # an error sentence names its folder or file already
        return [result.error if str(result.folder) in result.error else f"{name}: {result.error}"]
    lines = [f"{name}: {verdict(result)}"]
    lines += [f"  {a.line()}" for a in result.data.accounts]
    lines += [f"  {label}: {value}" for label, value in result.facts]
    if result.columns is not None:
        lines.append("  CSI factor columns (cells):")
        lines += ["    " + line for line in result.columns.to_string(index=False).splitlines()]
    for column, counts in result.data.undeclared.items():
        lines.append(f"  column {column!r}: {sum(counts.values())} row(s) hold values not declared "
                     "under values in programme.yml, shown in reports as 'other': "
                     + ", ".join(f"{v!r} ({n})" for v, n in counts.most_common(10)))
    if result.problems:
        lines.append("  problems by column and rule:")
        lines += [f"    {line}" for line in summarise(result.problems, limit=12)]
        lines.append(f"  first {min(limit, len(result.problems))} problem(s), with the values found:")
        lines += [f"    {p.with_value()}" for p in result.problems[:limit]]
    return lines


def verdict(result: CheckResult) -> str:
    """What ``evalkit report`` will do with this programme, and what to change if it stops."""
    if result.ok:
        return "no problems found; the report will render"
    count = len(result.problems)
    if result.policy == "set_aside":
        return (f"{count} problem(s); the report will render without the rows holding them "
                "(on_invalid: set_aside), counting them as set aside")
    coded = sorted({_code(p.value) for p in result.problems if p.rule == "factor"} - {None})
    hint = ""
    if coded:
        shown = ", ".join(coded)
        hint = (f"if {shown} mean{'s' if len(coded) == 1 else ''} 'not applicable', write "
                f"'values: {{not_applicable: [{shown}]}}' under csi: in programme.yml (or "
                "missing: for 'not rated'); ")
    return (f"{count} problem(s); the report would stop on them (on_invalid: stop): {hint}"
            "correct the cells listed below, or write 'on_invalid: set_aside' in programme.yml to "
            "leave those rows out and count them in the report")


def _code(value) -> str | None:
    from evalkit.data.formats import coded_missing

    number = coded_missing(value) if value is not None else None
    return None if number is None else (str(int(number)) if number.is_integer() else str(number))


_STYLE = ("body{font-family:sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}"
          "table{border-collapse:collapse}td,th{border-bottom:1px solid #ccc;padding:.2rem .6rem;"
          "text-align:left}.bad{color:#a00}")


def write_page(result: CheckResult) -> Path | None:
    """``DIR/.evalkit/check.html``: counts and positions only, no value, no ID."""
    if not (result.folder / "programme.yml").is_file():
        return None  # not a programme folder: nothing to write into
    esc = html.escape
    parts = [f"<h1>Data check: {esc(result.folder.name)}</h1>"]
    if result.error:
        parts.append(f"<p class='bad'>{esc(result.error)}</p>")
    else:
        parts += _page_parts(result)
    page = ("<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
            "<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; "
            "style-src 'unsafe-inline'\">"
            f"<title>Data check: {esc(result.folder.name)}</title><style>{_STYLE}</style></head>"
            "<body>" + "\n".join(parts) + "</body></html>")
    try:
        return files.write(result.folder, f"{PRIVATE}/check.html", page, private=True)
    except (OSError, EvalkitError):
        return None
