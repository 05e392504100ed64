"""Rendering programme reports: papermill executes the notebook, nbconvert writes the HTML.

A report is written to a temporary file and renamed into place only when it is complete,
offline (no external ``src``/``href``/``import``) and free of every personal value found in
the programme's input files; otherwise no new HTML appears and the reason is one sentence.
The executed notebook is kept under ``<out>/_executed/`` for debugging.
"""

from __future__ import annotations

import dataclasses

import functools
import json
import os
import re
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import nbformat

from evalkit.errors import EvalkitError, ReportError
from evalkit.report import layout

PACKAGE_DIR = Path(__file__).resolve().parent.parent
TEMPLATES = PACKAGE_DIR / "templates"
TEMPLATE_NAME = "evalkit_report"


NOTEBOOKS = PACKAGE_DIR / "notebooks"
"""The report notebooks ship inside the package, so an installed copy renders reports too."""


def default_notebook() -> Path:
    """The programme report notebook, ``evalkit/notebooks/programme_report.ipynb``."""
    return NOTEBOOKS / "programme_report.ipynb"


_REMOTE = re.compile(r"^\s*(?:https?:)?//", re.IGNORECASE)
_IMPORT = re.compile(r"""@import\s+(?:url\()?\s*["']?\s*(?:https?:)?//|url\(\s*["']?\s*(?:https?:)?//""",
                     re.IGNORECASE)


class _ExternalReferences(HTMLParser):
    """Remote resources a page would load: src/href/srcset/poster/data attributes that are
    URLs of another host, and @import or url() in style elements. Text content is text."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        self._in_style = tag == "style"
        for name, value in attrs:
            if name in ("src", "href", "srcset", "poster", "data", "action") and value \
                    and _REMOTE.match(value):
                self.found.append(f'{name}="{value[:12]}')
            if name == "style" and value and _IMPORT.search(value):
                self.found.append("style url(")

    def handle_endtag(self, tag):
        if tag == "style":
            self._in_style = False

    def handle_data(self, data):
        if self._in_style:
            match = _IMPORT.search(data)
            if match:
                self.found.append(match.group(0))


def external_references(html: str) -> list[str]:
    """The remote resources ``html`` would load (empty for a self-contained page)."""
    parser = _ExternalReferences()
    parser.feed(html)
    return parser.found


@functools.lru_cache(maxsize=1)
def _ipc_kernel_manager():
    """A kernel manager on IPC transport: no TCP ports to race for when reports render in
    parallel, and no "running over TCP without encryption" warning from the kernel."""
    from jupyter_client.manager import AsyncKernelManager

    class IPCKernelManager(AsyncKernelManager):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.transport = "ipc"
            # sockets in a private folder: never in the working directory, never shared
            self.ip = os.path.join(tempfile.mkdtemp(prefix="evalkit-kernel-"), "ipc")

        async def _async_cleanup_resources(self, restart: bool = False) -> None:
            await super()._async_cleanup_resources(restart=restart)
            if not restart:  # the private socket folder goes with the kernel
                shutil.rmtree(os.path.dirname(self.ip), ignore_errors=True)

        cleanup_resources = _async_cleanup_resources

    return IPCKernelManager


@dataclass(frozen=True)
class RenderResult:
    programme: str
    html: Path | None
    seconds: float
    error: str | None = None
    rows: tuple[str, ...] = ()  # rows read, used and set aside per file
    editions: tuple[tuple[str, Path], ...] = ()  # (language, report) of the other languages
    skipped: bool = False  # unchanged since the last run: not rendered again
    canaries: frozenset = field(default=frozenset(), repr=False, compare=False)  # memory only

    @property
    def ok(self) -> bool:
        return self.error is None


def to_html(executed: nbformat.NotebookNode, title: str | None = None, language: str = "en",
            number_script: str = "latin") -> str:
    """Convert an executed report notebook to self-contained HTML for readers: the page is
    titled ``title`` (each report its own browser-tab title), with a table of contents,
    folded Methods and Glossary and a print header (see :mod:`evalkit.report.layout`)."""
    if title:
        executed = nbformat.from_dict(executed)
        executed.metadata["title"] = title
    body, _ = _exporter().from_notebook_node(executed)
    return layout.finish(body, title or "Programme evaluation report", language, number_script)


@functools.lru_cache(maxsize=1)
def _exporter():
    """One configured exporter per process (building its template environment is not free)."""
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import TagRemovePreprocessor

    exporter = HTMLExporter(
        template_name=TEMPLATE_NAME,
        extra_template_basedirs=[str(TEMPLATES)],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )
    remover = TagRemovePreprocessor(
        remove_cell_tags={"parameters", "injected-parameters", "remove-cell"}, enabled=True)
    exporter.register_preprocessor(remover, enabled=True)
    return exporter


def check_html(html: str, programme: str, canaries) -> None:
    """Refuse HTML that loads anything from the network or contains personal data."""
    from evalkit.report.privacy import leaked

    external = external_references(html)
    if external:
        raise ReportError(f"{programme}: the rendered HTML refers to an external resource "
                          f"({external[0]!r}); reports must be self-contained.")
    found = leaked(html, canaries)
    if found:
        raise ReportError(f"{programme}: the rendered HTML contains personal data from the "
                          f"input ({len(found)} value(s)); the report was not written.")


def headline_record(executed) -> dict | None:
    """The report's structured headline, from the executed notebook's outputs."""
    from evalkit.report.display import HEADLINE_MIME

    for cell in executed.cells:
        for output in cell.get("outputs", []):
            record = output.get("data", {}).get(HEADLINE_MIME)
            if record is not None:
                return dict(record)
    return None


def headline_path(report: Path) -> Path:
    """Where a report's headline record lives: beside it, ``<name>.headline.json``."""
    return report.with_name(report.stem + ".headline.json")


def _atomic_write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # readable like any other file, not mkstemp's 0600
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _execution_error(programme: str, exc: Exception) -> str:
    ename = getattr(exc, "ename", type(exc).__name__)
    evalue = getattr(exc, "evalue", str(exc))
    cell = getattr(exc, "exec_count", None)
    if ename in {"DataError", "ConfigError", "ReportError"}:
        return f"{programme}: {evalue}"
    where = f"cell {cell} of the executed notebook" if cell is not None else "the notebook"
    return f"{programme}: {where} raised {ename}: {str(evalue).splitlines()[0] if evalue else ''}"


def render_notebook(notebook: Path, parameters: dict, name: str, out_dir: str | Path, *,
                    canaries=frozenset(), timeout: int = 600,
                    kernel_manager=None) -> RenderResult:
    """Execute ``notebook`` with ``parameters`` and write ``<out_dir>/<name>.html``.

    The HTML is written (atomically) only if execution succeeded and :func:`check_html`
    passes. The executed notebook is kept under ``<out_dir>/_executed/`` for debugging unless
    it holds personal data from the inputs (then it is deleted and the reason says so).
    """
    import papermill as pm

    out_dir = Path(out_dir).resolve()
    started = time.perf_counter()
    target = out_dir / f"{name}.html"
    kept = out_dir / "_executed" / f"{name}.ipynb"
    private = Path(tempfile.mkdtemp(prefix="evalkit-run-"))
    executed_path = private / f"{name}.ipynb"
    clients = _tracked_clients(kernel_manager)
    try:
        kernel = ({"km": kernel_manager} if kernel_manager is not None else
                  {"kernel_manager_class": _ipc_kernel_manager(), "shutdown_kernel": "immediate"})
        try:
            executed = pm.execute_notebook(
                str(notebook), str(executed_path), parameters=parameters,
                kernel_name="python3", progress_bar=False, log_output=False,
                request_save_on_cell_execute=False,
                cwd=str(Path(notebook).parent), execution_timeout=timeout, **kernel,
            )
        except pm.PapermillExecutionError as exc:
            raise ReportError(_execution_error(name, exc)) from None
        except TimeoutError as exc:
            raise ReportError(f"{name}: a cell ran longer than {timeout} s and was stopped "
                              f"({str(exc).splitlines()[0] if str(exc) else 'timeout'}).") from None
        except EvalkitError:
            raise
        except Exception as exc:  # the kernel died, a socket failed, …: one line, not a traceback
            raise ReportError(f"{name}: the notebook could not be run ({type(exc).__name__}: "
                              f"{str(exc).splitlines()[0] if str(exc) else 'no detail'}).") from None
        record = headline_record(executed)
        title = (record or {}).get("title") or name
        html = to_html(executed, title, (record or {}).get("language", "en"),
                       (record or {}).get("number_script", "latin"))
        check_html(html, name, canaries)
        try:
            _atomic_write_text(target, html)
            if record is not None:
                text = json.dumps(record, ensure_ascii=False, indent=1)
                check_html(text, name, canaries)
                _atomic_write_text(headline_path(target), text + "\n")
        except OSError as exc:
            raise ReportError(f"{name}: the report could not be written to {target.parent} "
                              f"({exc.strerror or type(exc).__name__}).") from None
        return RenderResult(name, target, time.perf_counter() - started)
    except EvalkitError as exc:
        return RenderResult(name, None, time.perf_counter() - started,
                            str(exc) + _keep_executed(executed_path, kept, canaries, failed=True))
    finally:
        _close_clients(kernel_manager, clients)
        if executed_path.exists():
            _keep_executed(executed_path, kept, canaries)
        shutil.rmtree(private, ignore_errors=True)


def _tracked_clients(kernel_manager) -> list:
    """Record the clients the notebook runner opens on a kernel it does not own: it leaves
    their channels open (about 14 file handles, 3 threads and several MB per report, which
    made a long-lived worker grow report by report)."""
    clients: list = []
    if kernel_manager is not None:
        make = type(kernel_manager).client

        def client(*args, **kwargs):
            clients.append(make(kernel_manager, *args, **kwargs))
            return clients[-1]

        kernel_manager.client = client
    return clients


def _close_clients(kernel_manager, clients: list) -> None:
    if kernel_manager is not None:
        kernel_manager.__dict__.pop("client", None)
    for kc in clients:
        try:
            kc.stop_channels()
        except Exception:  # a client whose kernel already died
            pass


def _keep_executed(source: Path, kept: Path, canaries, failed: bool = False) -> str:
    """Move the executed notebook next to the reports unless it holds personal data; returns a
    note for the failure message."""
    from evalkit.report.privacy import leaked

    if not source.exists():
        return ""
    text = source.read_text(encoding="utf-8")
    if leaked(text, canaries):
        source.unlink()
        return " (the executed notebook was not kept: it contained personal data)" if failed else ""
    kept.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(source), str(kept))
    return ""


def render_programme(folder: str | Path, out_dir: str | Path = "reports", *,
                     notebook: str | Path | None = None, timeout: int = 600,
                     kernel_manager=None) -> RenderResult:
    """Render one programme folder to ``<out_dir>/<folder name>.html``.

    Returns a :class:`RenderResult`; errors are caught and reported in ``error`` as one
    sentence, so that one failing programme never stops the others. ``kernel_manager``: a
    started kernel to run in (see :mod:`evalkit.report.batch`); by default a fresh kernel on
    IPC transport is started and shut down immediately afterwards.
    """
    from evalkit.data.programme import load

    folder = Path(folder).resolve()
    started = time.perf_counter()
    try:
        # every file read once, here: validated, pseudonymised, cached for the kernel; the
        # personal values stay in this process, to scan what the kernel writes
        data = load(folder, use_cache=False)
    except EvalkitError as exc:
        return RenderResult(folder.name, None, time.perf_counter() - started, str(exc))
    notebook = Path(notebook) if notebook else default_notebook()
    result = render_notebook(notebook, {"programme_dir": str(folder)}, folder.name, out_dir,
                             canaries=data.canaries, timeout=timeout,
                             kernel_manager=kernel_manager)
    editions = []
    for language in data.config.languages[1:] if result.ok else ():
        # each further language is its own report, <folder>.<language>.html
        edition = render_notebook(notebook, {"programme_dir": str(folder), "language": language},
                                  f"{folder.name}.{language}", out_dir, canaries=data.canaries,
                                  timeout=timeout, kernel_manager=kernel_manager)
        if not edition.ok:
            result = dataclasses.replace(result, error=edition.error)
            break
        editions.append((language, edition.html))
    return dataclasses.replace(result, rows=tuple(a.line() for a in data.accounts),
                               canaries=data.canaries, editions=tuple(editions),
                               seconds=time.perf_counter() - started)


def synthesis_notebook() -> Path:
    return NOTEBOOKS / "synthesis_report.ipynb"


def write_synthesis(csi_folders: list[Path], out_dir: Path, timeout: int = 600,
                    kernel_manager=None, canaries: frozenset | None = None) -> RenderResult:
    """Render the cross-programme CSI synthesis of ``csi_folders``. ``canaries``: the
    programmes' personal values from the loads that rendered their reports (each file is read
    once per run); without them the folders are loaded here."""
    from evalkit.data.programme import load

    personal = canaries if canaries is not None else frozenset().union(
        *(load(f, use_cache=False).canaries for f in csi_folders))
    return render_notebook(synthesis_notebook(),
                           {"programme_dirs": [str(f.resolve()) for f in csi_folders]},
                           "synthesis", out_dir, canaries=personal, timeout=timeout,
                           kernel_manager=kernel_manager)
