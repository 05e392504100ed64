"""Rendering programme reports: papermill executes the report notebook once, nbconvert writes
one page per language edition, and nothing is published before the gate has passed it.

One run of the notebook builds every edition (:mod:`evalkit.report.notebook`); each page and
headline file is checked by :func:`evalkit.report.gate.check_page` (inert, offline, free of
every personal value of the input) and only then written, each through
:func:`evalkit.files.write` (no link followed, written whole or not at all). The executed
notebook is kept only on request, without parameters, paths or tracebacks; a failed run's
notebook, traceback included, goes to the programme's private folder for its owner.
"""

from __future__ import annotations

import copy
import functools
import json
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from evalkit import files
from evalkit.errors import EvalkitError, ReportError

# jsonschema (which nbformat loads to validate notebooks) imports the optional rfc3987_syntax
# when it is installed, and that builds a grammar at import: about 1.5 s in the command and
# again in every worker, to check 'iri' formats the notebook schema never uses. Marked as
# absent here, it is skipped (jsonschema treats it as optional); nothing else loses it.
sys.modules.setdefault("rfc3987_syntax", None)

PACKAGE_DIR = Path(__file__).resolve().parent.parent
TEMPLATES = PACKAGE_DIR / "templates"
TEMPLATE_NAME = "evalkit_report"
NOTEBOOKS = PACKAGE_DIR / "notebooks"
"""The report notebooks ship inside the package, so an installed copy renders reports too."""
EXECUTED = "_executed"


def default_notebook() -> Path:
    """The programme report notebook, ``evalkit/notebooks/programme_report.ipynb``."""
    return NOTEBOOKS / "programme_report.ipynb"


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
class Extras:
    """What is written besides each page and its headline file, on request."""

    notebook: bool = False  # the executed notebook, cleaned: OUT/_executed/<name>.ipynb
    tables: bool = False  # the report's tables as shown: OUT/<name>.tables.xlsx
    pdf: bool = False  # an A4 PDF beside each page: OUT/<name>.pdf, OUT/<name>.<lang>.pdf

    def names(self, name: str, languages: tuple[str, ...] = ("en",)) -> list[str]:
        """The files these extras add to a report named ``name`` with ``languages``."""
        pages = [name] + [f"{name}.{code}" for code in languages[1:]]
        return ([f"{EXECUTED}/{name}.ipynb"] * self.notebook + [f"{name}.tables.xlsx"] * self.tables
                + [f"{page}.pdf" for page in pages] * self.pdf)


NONE = Extras()


@dataclass(frozen=True)
class RenderResult:
    programme: str
    html: Path | None
    seconds: float
    error: str | None = None
    rows: tuple[str, ...] = ()  # rows read, used and set aside per file (the owner's terminal)
    editions: tuple[tuple[str, Path], ...] = ()  # (language, report) of the other languages
    skipped: bool = False  # unchanged since the last run: not rendered again
    canaries: object = field(default=None, repr=False, compare=False)  # keyed hashes, memory only
    records: dict = field(default_factory=dict, repr=False, compare=False)  # language -> headline
    detail: str | None = field(default=None, repr=False, compare=False)  # where the owner reads more

    @property
    def ok(self) -> bool:
        return self.error is None


def to_html(executed, title: str, language: str = "en", number_script: str = "latin",
            synthetic: bool = False) -> str:
    """Convert an executed report notebook (one edition) to a self-contained page: titled
    ``title``, with a table of contents, folded Methods and Glossary and a print header (see
    :mod:`evalkit.report.layout`)."""
    import nbformat

    from evalkit.report import layout

    executed = nbformat.from_dict(executed)
    executed.metadata["title"] = title
    body, _ = _exporter().from_notebook_node(executed)
    return layout.finish(body, title, language, number_script, synthetic)


@functools.lru_cache(maxsize=1)
def _exporter():
    """One configured exporter per process (building its template environment is not free)."""
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import TagRemovePreprocessor

    exporter = HTMLExporter(template_name=TEMPLATE_NAME, extra_template_basedirs=[str(TEMPLATES)],
                            exclude_input=True, exclude_input_prompt=True,
                            exclude_output_prompt=True)
    remover = TagRemovePreprocessor(
        remove_cell_tags={"parameters", "injected-parameters", "remove-cell"}, enabled=True)
    exporter.register_preprocessor(remover, enabled=True)
    return exporter


def headline_path(report: Path) -> Path:
    """Where a report's headline record lives: beside it, ``<name>.headline.json``."""
    return report.with_name(report.stem + ".headline.json")


def edition(executed, language: str):
    """The executed notebook as the ``language`` edition: every part's HTML in that language,
    nothing else from the kernel but HTML."""
    from evalkit.report.mime import EDITIONS_MIME

    nb = copy.deepcopy(executed)
    for cell in nb.cells:
        outputs = []
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream":
                continue  # nothing written to stdout or stderr is published
            data = output.get("data")
            if data is None:
                continue
            editions = data.get(EDITIONS_MIME)
            html = editions.get(language, "") if editions else data.get("text/html", "")
            if not html:
                continue
            output["data"] = {"text/html": html}
            output["metadata"] = {}
            outputs.append(output)
        cell["outputs"] = outputs
    return nb


def headline_records(executed) -> dict[str, dict]:
    from evalkit.report.mime import HEADLINE_MIME

    for cell in executed.cells:
        for output in cell.get("outputs", []):
            record = output.get("data", {}).get(HEADLINE_MIME)
            if record is not None:
                return dict(record)
    return {}


def _tables_workbook(executed, language: str, name: str, canaries) -> bytes:
    """The report's tables as a workbook, checked like a page (no personal value)."""
    from evalkit.report import gate
    from evalkit.report.mime import TABLES_MIME
    from evalkit.report.publish import records_to_xlsx

    records = []
    for cell in executed.cells:
        for output in cell.get("outputs", []):
            found = output.get("data", {}).get(TABLES_MIME)
            if found:
                records = found.get(language, [])
    if gate.leaked(json.dumps(records, ensure_ascii=False), canaries):
        raise ReportError(f"{name}: the tables would contain personal data from the input; "
                          "nothing was written.")
    return records_to_xlsx(records)


def _failure(name: str, exc: Exception) -> str:
    """A failed run in one sentence for published files: the report's own sentence (already
    free of data values) for the kit's errors, the kind of failure otherwise."""
    ename = getattr(exc, "ename", type(exc).__name__)
    evalue = getattr(exc, "evalue", str(exc))
    if ename == "ReportError":
        return f"{name}: {evalue}"
    cell = getattr(exc, "exec_count", None)
    where = f"cell {cell} of the report notebook" if cell is not None else "the report notebook"
    return (f"{name}: {where} stopped with an internal error ({ename}); the details are in the "
            f"programme folder's .evalkit/last-run.ipynb.")


def _clean_for_publishing(nb, name: str):
    """An executed notebook fit to publish: parameters and their paths out, no error output,
    no papermill paths."""
    nb = copy.deepcopy(nb)
    nb.cells = [c for c in nb.cells if "injected-parameters" not in c.get("metadata", {}).get("tags", [])]
    for cell in nb.cells:
        if "parameters" in cell.get("metadata", {}).get("tags", []):
            cell["source"] = "# parameters of the run are not kept\n"
        cell["outputs"] = [o for o in cell.get("outputs", []) if o.get("output_type") != "error"
                           and o.get("output_type") != "stream"]
    papermill = nb.metadata.get("papermill", {})
    for key in ("input_path", "output_path", "parameters", "environment_variables", "exception"):
        papermill.pop(key, None)
    nb.metadata["title"] = name
    return nb


def render_programme(folder: str | Path, out_dir: str | Path = "reports", *,
                     notebook: str | Path | None = None, timeout: int = 600,
                     kernel_manager=None, extras: Extras = NONE) -> RenderResult:
    """Render one programme folder to ``<out_dir>/<folder name>.html`` and one page per further
    language (``<name>.<language>.html``), each with its headline record.

    Returns a :class:`RenderResult`; errors are caught and reported in ``error`` as one
    sentence without data values, so that one failing programme never stops the others.
    ``kernel_manager``: a started kernel to run in (see :mod:`evalkit.report.batch`).
    ``extras``: what else to write (:class:`Extras`: the cleaned notebook, the tables as
    the first edition shows them, a PDF of each page).
    """
    folder = Path(folder).resolve()
    out_dir = Path(out_dir).resolve()
    name = folder.name
    started = time.perf_counter()
    private = Path(tempfile.mkdtemp(prefix="evalkit-run-"))
    os.chmod(private, 0o700)
    clients = _tracked_clients(kernel_manager)
    canaries = None
    try:
        executed = _run_report(folder, private, Path(notebook) if notebook else default_notebook(),
                               timeout, kernel_manager)
        canaries, record = _canaries_of(folder, private / "canaries.json")
        records = headline_records(executed)
        outputs = _outputs(executed, records, name, canaries, extras)
        written = _write_outputs(outputs, name, out_dir)
        for stale in ("last-run.ipynb", "report-error.txt"):  # an earlier failure's notes
            files.remove(folder, f"{_private_folder()}/{stale}")
        return RenderResult(name, written[0][1], time.perf_counter() - started,
                            rows=tuple(record.get("rows", ())), editions=tuple(written[1:]),
                            canaries=canaries, records=records)
    except _Failed as failed:
        return RenderResult(name, None, time.perf_counter() - started, failed.message,
                            detail=failed.detail, canaries=canaries)
    finally:
        _close_clients(kernel_manager, clients)
        shutil.rmtree(private, ignore_errors=True)


class _Failed(Exception):
    """A report that could not be made: one sentence for the owner, and where they read more."""

    def __init__(self, message: str, detail: str | None = None):
        super().__init__(message)
        self.message, self.detail = message, detail


def _private_folder() -> str:
    from evalkit.data.programme import PRIVATE

    return PRIVATE


def _run_report(folder: Path, private: Path, notebook: Path, timeout: int, kernel_manager):
    """The report notebook executed on ``folder`` (kept in ``private``); a failure is one
    sentence, and a failed run's notebook goes to the programme's private folder."""
    import papermill as pm

    executed_path = private / f"{folder.name}.ipynb"
    try:
        return _execute(notebook, executed_path, {"programme_dir": str(folder),
                                                  "canary_file": str(private / "canaries.json")},
                        timeout, kernel_manager)
    except pm.PapermillExecutionError as exc:
        _keep_private(folder, executed_path, _private_folder())
        raise _Failed(_failure(folder.name, exc),
                      str(folder / _private_folder() / "report-error.txt")) from None
    except TimeoutError:
        raise _Failed(f"{folder.name}: a cell ran longer than {timeout} s and was stopped.") from None
    except (EvalkitError, KeyboardInterrupt):
        raise
    except Exception as exc:  # the kernel died, a socket failed, …: one line, not a traceback
        raise _Failed(f"{folder.name}: the notebook could not be run ({type(exc).__name__}).") from None


def _canaries_of(folder: Path, canary_file: Path):
    """The keyed hashes of the input's personal values that the run recorded, and the record
    (which also holds the rows read, used and set aside)."""
    from evalkit.data import personal

    try:
        key = personal.Pseudonymiser.key_for_folder(folder, _private_folder())
        record = json.loads(canary_file.read_text(encoding="utf-8"))
        return personal.Canaries.from_record(key, record), record
    except (OSError, ValueError):
        raise _Failed(f"{folder.name}: the report's check for personal data could not run; nothing "
                      "was written.") from None


@dataclass
class _Outputs:
    """Everything one render publishes, each piece passed by the gate."""

    pages: dict  # language -> page
    texts: dict  # language -> headline file
    notebook: str | None
    workbook: bytes | None
    pdfs: dict


def _outputs(executed, records: dict, name: str, canaries, extras: Extras) -> _Outputs:
    """One page per language edition and what ``extras`` asks for, each checked by the gate
    (nothing is written yet)."""
    from evalkit.report import gate, pdf

    languages = list(records) or ["en"]
    try:
        pages = {}
        for language in languages:
            rec = records.get(language, {})
            html = to_html(edition(executed, language), rec.get("title") or name, language,
                           rec.get("number_script", "latin"), bool(rec.get("synthetic")))
            gate.check_page(html, name, canaries)
            pages[language] = html
        texts = {language: gate.check_record(rec, name, canaries)
                 for language, rec in records.items()}
        notebook = (gate.check_notebook(_clean_for_publishing(executed, name), name, canaries)
                    if extras.notebook else None)
        workbook = (_tables_workbook(executed, languages[0], name, canaries) if extras.tables
                    else None)
        pdfs = ({language: pdf.print_pdf(pages[language], name) for language in languages}
                if extras.pdf else {})
    except EvalkitError as exc:
        raise _Failed(str(exc)) from None
    return _Outputs(pages, texts, notebook, workbook, pdfs)


def _write_outputs(outputs: _Outputs, name: str, out_dir: Path) -> list:
    """Write every page (the first language's as ``<name>.html``) and its companions; returns
    (language, path) per page."""
    written = []
    try:
        for i, language in enumerate(outputs.pages):
            page = f"{name}.html" if i == 0 else f"{name}.{language}.html"
            written.append((language, files.write(out_dir, page, outputs.pages[language])))
            if language in outputs.pdfs:
                files.write(out_dir, Path(page).stem + ".pdf", outputs.pdfs[language])
            if language in outputs.texts:
                files.write(out_dir, Path(page).stem + ".headline.json", outputs.texts[language])
        if outputs.workbook is not None:
            files.write(out_dir, f"{name}.tables.xlsx", outputs.workbook)
        if outputs.notebook is not None:
            files.write(out_dir, f"{EXECUTED}/{name}.ipynb", outputs.notebook)
        else:
            files.remove(out_dir, f"{EXECUTED}/{name}.ipynb")
    except files.UnsafePath as exc:
        raise _Failed(str(exc)) from None
    except OSError as exc:
        raise _Failed(f"{name}: the report could not be written to {out_dir} "
                      f"({exc.strerror or type(exc).__name__}).") from None
    return written


def _execute(notebook: Path, output: Path, parameters: dict, timeout: int, kernel_manager):
    """Run ``notebook`` into ``output`` with ``parameters``, from the notebook's folder and
    without progress output: in ``kernel_manager``'s kernel (a worker's warm one) or in a
    fresh kernel over IPC, shut down at once."""
    import papermill as pm

    kernel = ({"km": kernel_manager} if kernel_manager is not None else
              {"kernel_manager_class": _ipc_kernel_manager(), "shutdown_kernel": "immediate"})
    return pm.execute_notebook(str(notebook), str(output), parameters=parameters,
                               kernel_name="python3", progress_bar=False, log_output=False,
                               request_save_on_cell_execute=False, cwd=str(notebook.parent),
                               execution_timeout=timeout, **kernel)


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


def _keep_private(folder: Path, executed: Path, private: str) -> None:
    """A failed run's executed notebook (traceback included) for the programme's owner, in
    the private folder (never beside the reports)."""
    try:
        if executed.exists():
            files.write(folder, f"{private}/last-run.ipynb", executed.read_bytes(), private=True)
    except (OSError, EvalkitError):
        pass


def synthesis_notebook() -> Path:
    return NOTEBOOKS / "synthesis_report.ipynb"


def write_synthesis(records: list[dict], out_dir: Path, timeout: int = 600, kernel_manager=None,
                    canaries=None, extras: Extras = NONE) -> RenderResult:
    """Render the cross-programme CSI synthesis from the programmes' published headline
    records (``records``: each report's first-edition record): it reads no data, and shows
    only figures the reports already publish."""
    import papermill as pm

    from evalkit.report import gate, pdf

    out_dir = Path(out_dir).resolve()
    started = time.perf_counter()
    private = Path(tempfile.mkdtemp(prefix="evalkit-run-"))
    clients = _tracked_clients(kernel_manager)
    try:
        try:
            executed = _execute(synthesis_notebook(), private / "synthesis.ipynb",
                                {"records": records}, timeout, kernel_manager)
        except pm.PapermillExecutionError as exc:
            return RenderResult("synthesis", None, time.perf_counter() - started,
                                _failure("synthesis", exc))
        except KeyboardInterrupt:
            raise
        except Exception as exc:
            return RenderResult("synthesis", None, time.perf_counter() - started,
                                f"synthesis: the notebook could not be run ({type(exc).__name__}).")
        recs = headline_records(executed)
        rec = recs.get("en", {})
        try:
            html = to_html(edition(executed, "en"), rec.get("title") or "synthesis", "en",
                           "latin", bool(rec.get("synthetic")))
            gate.check_page(html, "synthesis", canaries or frozenset())
            text = gate.check_record(rec, "synthesis", canaries or frozenset())
            printed = pdf.print_pdf(html, "synthesis") if extras.pdf else None
            target = files.write(out_dir, "synthesis.html", html)
            files.write(out_dir, "synthesis.headline.json", text)
            if printed is not None:
                files.write(out_dir, "synthesis.pdf", printed)
        except EvalkitError as exc:
            return RenderResult("synthesis", None, time.perf_counter() - started, str(exc))
        return RenderResult("synthesis", target, time.perf_counter() - started, records=recs)
    finally:
        _close_clients(kernel_manager, clients)
        shutil.rmtree(private, ignore_errors=True)
