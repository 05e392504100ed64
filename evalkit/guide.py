"""The guided setup: what ``evalkit new``, ``check`` and ``report`` do, step by step in
JupyterLab (``notebooks/new_programme.ipynb``), for users who do not work in a terminal.

The steps are plain functions over a programme folder (tested without a browser):
:func:`recognise` copies an export in and writes ``programme.yml``; :func:`fill_ins` lists
what it could not decide, with the candidates it offers; :func:`settle` writes the answers;
:func:`check_lines` is the check's verdict and facts; :func:`render` makes the report.
:class:`Guide` lays them out as ipywidgets, one step under the other.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from evalkit import files
from evalkit.config import CONFIG_NAME, FILL_IN
from evalkit.errors import EvalkitError

__all__ = ["FillIn", "recognise", "fill_ins", "settle", "check_lines", "render", "Guide"]


@dataclass(frozen=True)
class FillIn:
    """One line of ``programme.yml`` that ``evalkit new`` could not decide: its number, the
    key, what to write there and the columns it offers."""

    line: int
    key: str
    hint: str
    candidates: tuple[str, ...]


def recognise(folder: str | Path, sources: list[str | Path]) -> list[str]:
    """Copy the export(s) into ``folder`` and write its ``programme.yml`` (as ``evalkit new``);
    what was recognised, one line each."""
    from evalkit.data.scaffold import new

    plan = new(folder, sources)
    return [line.strip() for line in plan.found]


_CANDIDATES = re.compile(r"(?:candidates: |one of: )(.*)$")


def fill_ins(folder: str | Path) -> list[FillIn]:
    """The FILL-IN lines of the folder's ``programme.yml``, with the candidates they list."""
    text = files.read(Path(folder), CONFIG_NAME).decode("utf-8")
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        if FILL_IN not in line:
            continue
        key, _, rest = line.partition(":")
        comment = rest.split("#", 1)[1].strip() if "#" in rest else ""
        offered = _CANDIDATES.search(comment)
        names = ()
        if offered:
            names = tuple(n.strip().strip("'\"") for n in re.split(r",\s*", offered.group(1))
                          if n.strip())
        hint = _CANDIDATES.sub("", comment).strip(" ;")
        found.append(FillIn(number, key.strip(), hint, names))
    return found


def settle(folder: str | Path, answers: dict[int, str]) -> None:
    """Write ``answers`` (line number -> the value chosen) in place of those FILL-IN marks."""
    from evalkit.data.scaffold import _yaml

    folder = Path(folder)
    lines = files.read(folder, CONFIG_NAME).decode("utf-8").splitlines()
    for number, value in answers.items():
        line = lines[number - 1]
        if FILL_IN not in line:
            raise EvalkitError(f"{folder / CONFIG_NAME}, line {number}: holds no {FILL_IN}; "
                               "expected a line 'evalkit new' left to fill in.")
        text = value if re.fullmatch(r"-?\d+(?:\.\d+)?", value) else _yaml(value)
        lines[number - 1] = line.replace(FILL_IN, text, 1)
    files.write(folder, CONFIG_NAME, "\n".join(lines) + "\n")


def check_lines(folder: str | Path) -> tuple[bool, list[str]]:
    """The check of the folder (as ``evalkit check``): whether the report will render, and
    the verdict with the facts (children per round, factors and their columns, personal
    columns dropped)."""
    from evalkit.data.check import check, terminal_lines
    from evalkit.report.sections import REGISTRY

    result = check(Path(folder), REGISTRY)
    return result.renders, terminal_lines(result)


def render(folder: str | Path, out: str | Path) -> Path:
    """Render the folder's report into ``out`` (as ``evalkit report``); the page, or one
    sentence saying why it failed."""
    from evalkit.report.render import render_programme

    result = render_programme(folder, out)
    if not result.ok:
        raise EvalkitError(result.error or "the report failed")
    return result.html


class Guide:
    """The steps as widgets: 1 pick an export and a folder, 2 settle what was not recognised,
    3 check, 4 render and open the report. ``data``: where programme folders go;
    ``reports``: where reports go."""

    def __init__(self, data: str | Path = "../data/programmes", reports: str | Path = "../reports"):
        import ipywidgets as w

        self.data, self.reports = Path(data), Path(reports)
        self.folder: Path | None = None
        self.export = w.Text(description="Export", placeholder="path to the export (a file or a folder)",
                             layout=w.Layout(width="70%"))
        self.name = w.Text(description="Folder", placeholder="a name for the programme folder",
                           layout=w.Layout(width="70%"))
        self.go = w.Button(description="Recognise", button_style="primary")
        self.found = w.Output()
        self.answers = w.VBox()
        self.save = w.Button(description="Save answers", disabled=True)
        self.checking = w.Button(description="Check", disabled=True)
        self.checked = w.Output()
        self.rendering = w.Button(description="Render report", disabled=True)
        self.rendered = w.Output()
        self._dropdowns: dict[int, object] = {}
        self.go.on_click(lambda _b: self._recognise())
        self.save.on_click(lambda _b: self._save())
        self.checking.on_click(lambda _b: self._check())
        self.rendering.on_click(lambda _b: self._render())
        heading = w.HTML
        self.box = w.VBox([
            heading("<h3>1. The export</h3>"), self.export, self.name, self.go, self.found,
            heading("<h3>2. What was not recognised</h3>"), self.answers, self.save,
            heading("<h3>3. Check</h3>"), self.checking, self.checked,
            heading("<h3>4. Report</h3>"), self.rendering, self.rendered])

    def show(self):
        """The widgets (the notebook's last expression shows them)."""
        return self.box

    def _say(self, output, lines: list[str], error: bool = False) -> None:
        from IPython.display import HTML, display

        style = "color:#a00" if error else ""
        output.clear_output()
        with output:
            display(HTML(f'<pre style="white-space:pre-wrap;{style}">'
                         + _escape("\n".join(lines)) + "</pre>"))

    def _recognise(self) -> None:
        import ipywidgets as w

        name = self.name.value.strip() or Path(self.export.value.strip()).stem
        self.folder = self.data / name
        try:
            found = recognise(self.folder, [self.export.value.strip()])
        except EvalkitError as exc:
            self._say(self.found, [str(exc)], error=True)
            return
        todo = fill_ins(self.folder)
        self._say(self.found, [f"programme folder: {self.folder}", *found,
                               f"{len(todo)} line(s) to settle below" if todo else
                               "everything was recognised: go on to the check"])
        self._dropdowns = {}
        rows = []
        for item in todo:
            options = list(item.candidates) or [""]
            choice = w.Dropdown(options=options, description=item.key,
                                layout=w.Layout(width="70%"), style={"description_width": "12em"})
            self._dropdowns[item.line] = choice
            rows.append(w.VBox([choice, w.HTML(f"<small>{_escape(item.hint)}</small>")]))
        self.answers.children = rows
        self.save.disabled = not todo
        self.checking.disabled = bool(todo)

    def _save(self) -> None:
        answers = {line: choice.value for line, choice in self._dropdowns.items() if choice.value}
        try:
            settle(self.folder, answers)
        except EvalkitError as exc:
            self._say(self.checked, [str(exc)], error=True)
            return
        self.save.disabled = True
        self.checking.disabled = False
        self._say(self.checked, [f"saved {len(answers)} answer(s) in {self.folder / CONFIG_NAME}"])

    def _check(self) -> None:
        ok, lines = check_lines(self.folder)
        self._say(self.checked, lines, error=not ok)
        self.rendering.disabled = not ok

    def _render(self) -> None:
        from IPython.display import HTML, display

        self._say(self.rendered, ["rendering the report …"])
        try:
            page = render(self.folder, self.reports)
        except EvalkitError as exc:
            self._say(self.rendered, [str(exc)], error=True)
            return
        self.rendered.clear_output()
        with self.rendered:
            link = _relative(page)
            display(HTML(f'<p>Report written: <a class="evalkit-open" href="{_escape(link)}" '
                         f'target="_blank">open the report</a> ({_escape(str(page))})</p>'))


def _escape(text: str) -> str:
    import html

    return html.escape(text, quote=True)


def _relative(path: Path) -> str:
    """``path`` relative to the working folder (the notebook's), as a link JupyterLab opens."""
    import os

    return os.path.relpath(path, Path.cwd()).replace(os.sep, "/")
