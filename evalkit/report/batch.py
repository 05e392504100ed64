"""Rendering many reports: long-lived worker processes, each with a warm kernel.

Each worker process imports papermill, nbconvert and evalkit once and keeps one Jupyter
kernel (IPC transport, so no TCP ports to race for) in which ``evalkit.report`` is already
imported. Before every report the kernel's namespace is reset; after a failed or timed-out
report the kernel is replaced, so no state carries over from a failure. Kernel start is
retried. One programme failing never stops the others.
"""

from __future__ import annotations

import multiprocessing
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Callable

from evalkit.report.render import RenderResult, _ipc_kernel_manager, render_programme

START_ATTEMPTS = 3
_WORKER: dict = {}
WARM_UP = "%reset -f\nimport evalkit.report.notebook\n"


def _run_cell(km, source: str, timeout: int = 120) -> None:
    """Run one code cell in the kernel of ``km`` (starting it if needed) through nbclient."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source)]
    NotebookClient(nb, km=km, timeout=timeout, kernel_name="python3").execute()


def start_kernel():
    """A started, warmed kernel manager; kernel start is retried on failure."""
    last: Exception | None = None
    for attempt in range(START_ATTEMPTS):
        km = _ipc_kernel_manager()(kernel_name="python3")
        try:
            _run_cell(km, WARM_UP)
            return km
        except Exception as exc:  # a port or socket clash, a kernel dying at start
            last = exc
            _stop(km)
            time.sleep(0.2 * (attempt + 1))
    raise RuntimeError(f"the Jupyter kernel did not start after {START_ATTEMPTS} attempts ({last})")


def _stop(km) -> None:
    from jupyter_core.utils import run_sync

    try:
        if km.has_kernel:
            run_sync(km.shutdown_kernel)(now=True)
    except Exception:
        pass


def _init_worker() -> None:
    from multiprocessing import util

    _WORKER["km"] = None
    util.Finalize(None, lambda: _stop(_WORKER["km"]) if _WORKER.get("km") else None, exitpriority=10)


def render_in_worker(folder: str, out_dir: str, timeout: int, notebook: str | None) -> RenderResult:
    """Render one programme in this worker's warm kernel (started on first use)."""
    started = time.perf_counter()
    try:
        if _WORKER.get("km") is None:
            _WORKER["km"] = start_kernel()
        else:
            _run_cell(_WORKER["km"], WARM_UP)
    except Exception as exc:
        _WORKER["km"] = None
        return RenderResult(Path(folder).name, None, time.perf_counter() - started,
                            f"{Path(folder).name}: could not start a Jupyter kernel ({exc}).")
    result = render_programme(folder, out_dir, timeout=timeout, notebook=notebook,
                              kernel_manager=_WORKER["km"])
    if not result.ok:  # never reuse a kernel that failed or timed out
        _stop(_WORKER["km"])
        _WORKER["km"] = None
    return result


def render_many(folders: list[Path], out_dir: Path, *, jobs: int = 1, timeout: int = 600,
                notebook: Path | None = None,
                on_result: Callable[[int, int, RenderResult], None] | None = None) -> list[RenderResult]:
    """Render ``folders`` with ``jobs`` worker processes; results in the order given."""
    jobs = max(1, min(jobs, len(folders)))
    context = multiprocessing.get_context("spawn")
    results: dict[str, RenderResult] = {}
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context,
                             initializer=_init_worker) as pool:
        futures = {pool.submit(render_in_worker, str(f), str(out_dir), timeout,
                               str(notebook) if notebook else None): f for f in folders}
        for done, future in enumerate(as_completed(futures), start=1):
            folder = futures[future]
            try:
                result = future.result()
            except Exception as exc:  # a worker died: report it, keep the others
                result = RenderResult(folder.name, None, 0.0,
                                      f"{folder.name}: the rendering process failed ({exc}).")
            results[str(folder)] = result
            if on_result:
                on_result(done, len(folders), result)
    return [results[str(f)] for f in folders]


def progress_printer(stream=sys.stderr) -> Callable[[int, int, RenderResult], None]:
    """A progress display: a bar on a terminal, one line per report otherwise."""
    tty = hasattr(stream, "isatty") and stream.isatty()

    def show(done: int, total: int, result: RenderResult) -> None:
        status = "ok" if result.ok else "FAILED"
        if tty:
            width = 24
            filled = int(width * done / total)
            stream.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} "
                         f"{result.programme}: {status}\033[K")
            if done == total:
                stream.write("\n")
        else:
            stream.write(f"[{done}/{total}] {result.programme}: {status} ({result.seconds:.1f} s)\n")
        if not result.ok:
            stream.write(("\n" if tty else "") + f"  FAILED {result.error}\n")
        stream.flush()

    return show
