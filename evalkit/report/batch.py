"""Rendering many reports: long-lived worker processes, each with a warm kernel.

Each worker process imports papermill, nbconvert and evalkit once and keeps one Jupyter
kernel (IPC transport, so no TCP ports to race for) in which ``evalkit.report`` is already
imported. Successful reports share the worker's kernel (the report notebook assigns every
name it uses and evalkit keeps no global state; a test checks that a batch-rendered report
equals one rendered in a fresh kernel); after a failed or timed-out report the kernel is
replaced. A kernel is also replaced after :data:`REPORTS_PER_KERNEL` reports, so that what a
kernel accumulates (imported data, the engine's buffers) stays bounded however many
programmes a worker renders; the worker processes themselves are kept (retiring them makes
Python 3.11's process pool hang). Kernel start is retried. One programme failing never stops
the others. Work is handed out largest programme first, so that two workers finish close
together.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Callable

from evalkit.report.render import NONE, Extras, RenderResult, _ipc_kernel_manager, render_programme

START_ATTEMPTS = 3
REPORTS_PER_KERNEL = 20
_WORKER: dict = {}
WARM_UP = "import evalkit.report.notebook\nimport evalkit.report.synthesis\n"


def _run_cell(km, source: str, timeout: int = 120) -> None:
    """Run one code cell in the kernel of ``km`` (starting it if needed) through nbclient."""
    import nbformat
    from nbclient import NotebookClient

    from evalkit.report.render import _close_clients, _tracked_clients

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source)]
    clients = _tracked_clients(km)
    try:
        NotebookClient(nb, km=km, timeout=timeout, kernel_name="python3").execute()
    finally:
        _close_clients(km, clients)


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
    import shutil

    from jupyter_core.utils import run_sync

    try:
        if km.has_kernel:
            run_sync(km.shutdown_kernel)(now=True)
    except Exception:
        pass
    folder = os.path.dirname(getattr(km, "ip", "") or "")
    if os.path.basename(folder).startswith("evalkit-kernel-"):
        shutil.rmtree(folder, ignore_errors=True)  # the kernel's private socket folder


THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def _init_worker(single_threaded: bool = False) -> None:
    """Worker start: register the kernel's shutdown, then start the warm kernel at once so
    that it is ready when the first report arrives (a failure here is retried per report).
    With several workers, each kernel's linear algebra runs on one thread, so that parallel
    reports do not oversubscribe the cores."""
    import os
    import signal
    from multiprocessing import util

    if single_threaded:
        for name in THREAD_VARIABLES:
            os.environ[name] = "1"
    # Ctrl-C is the command's to handle (it stops the workers); SIGTERM stops this worker and
    # its kernel (kernels run in their own session, so they would not hear it)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _stop_worker)

    _WORKER["km"] = None
    util.Finalize(None, lambda: _stop(_WORKER["km"]) if _WORKER.get("km") else None, exitpriority=10)
    try:
        _WORKER["km"] = start_kernel()
        from evalkit.report.render import _exporter

        _exporter()
    except Exception:
        _WORKER["km"] = None


def _stop_worker(signum=None, frame=None) -> None:
    """Stop this worker's kernel and the worker (on SIGTERM)."""
    km = _WORKER.get("km")
    if km is not None:
        _stop(km)
    os._exit(143)


def _worker_ready() -> int:
    import os

    time.sleep(0.05)
    return os.getpid()


def _in_warm_kernel(name: str, render: Callable) -> RenderResult:
    started = time.perf_counter()
    try:
        if _WORKER.get("km") is None:
            _WORKER["km"] = start_kernel()
    except Exception as exc:
        _WORKER["km"] = None
        return RenderResult(name, None, time.perf_counter() - started,
                            f"{name}: could not start a Jupyter kernel ({exc}).")
    try:
        result = render(_WORKER["km"])
    except Exception as exc:  # anything unforeseen: fail this report, replace the kernel
        result = RenderResult(name, None, time.perf_counter() - started,
                              f"{name}: the report could not be rendered ({type(exc).__name__}: {exc}).")
    _WORKER["reports"] = _WORKER.get("reports", 0) + 1
    # never reuse a kernel that failed or timed out; retire one that has rendered its share
    if not result.ok or _WORKER["reports"] >= REPORTS_PER_KERNEL:
        _stop(_WORKER["km"])
        _WORKER["km"] = None
        _WORKER["reports"] = 0
    return result


def render_in_worker(folder: str, out_dir: str, timeout: int, notebook: str | None,
                     extras: Extras = NONE) -> RenderResult:
    """Render one programme in this worker's warm kernel (started on first use)."""
    return _in_warm_kernel(Path(folder).name, lambda km: render_programme(
        folder, out_dir, timeout=timeout, notebook=notebook, kernel_manager=km, extras=extras))


def synthesis_in_worker(records: list[dict], out_dir: str, timeout: int,
                        canaries=None, extras: Extras = NONE) -> RenderResult:
    """Render the cross-programme synthesis in this worker's warm kernel."""
    from evalkit.report.render import write_synthesis

    return _in_warm_kernel("synthesis", lambda km: write_synthesis(
        records, Path(out_dir), timeout=timeout, kernel_manager=km, canaries=canaries,
        extras=extras))


def _size(folder: Path) -> int:
    return sum(p.stat().st_size for p in Path(folder).glob("*") if p.is_file())


class ReportPool:
    """``jobs`` long-lived worker processes, each with a warm kernel, for many batches."""

    def __init__(self, jobs: int = 1):
        self.jobs = max(1, jobs)
        self._pool = ProcessPoolExecutor(max_workers=self.jobs,
                                         mp_context=multiprocessing.get_context("spawn"),
                                         initializer=_init_worker, initargs=(self.jobs > 1,))

    def __enter__(self) -> "ReportPool":
        return self

    def __exit__(self, kind, value, traceback) -> None:
        if kind is not None and issubclass(kind, BaseException) and not issubclass(kind, Exception):
            self.terminate()  # Ctrl-C or SIGTERM: stop the workers and their kernels now
            return
        self._pool.shutdown(wait=True)

    def terminate(self) -> None:
        """Stop every worker (each stops its kernel first) without waiting for their reports;
        nothing they were writing is left half-written (every write is atomic)."""
        import signal

        processes = list(getattr(self._pool, "_processes", {}).values())
        for process in processes:
            try:
                os.kill(process.pid, signal.SIGTERM)
            except (ProcessLookupError, OSError):
                pass
        for process in processes:
            process.join(timeout=10)
        self._pool.shutdown(wait=False, cancel_futures=True)

    def warm(self) -> None:
        """Return once every worker has started (and so has its kernel)."""
        seen: set[int] = set()
        for _ in range(20 * self.jobs):
            seen |= {f.result() for f in [self._pool.submit(_worker_ready) for _ in range(self.jobs)]}
            if len(seen) >= self.jobs:
                return

    def synthesis(self, records: list[dict], out_dir: Path, *, timeout: int = 600,
                  canaries=None, extras: Extras = NONE) -> RenderResult:
        """The cross-programme synthesis report, rendered in a worker from the programme
        reports' records (``canaries``: the programmes' keyed personal values)."""
        return self._pool.submit(synthesis_in_worker, records, str(out_dir), timeout,
                                 canaries, extras).result()

    def render(self, folders: list[Path], out_dir: Path, *, timeout: int = 600,
               notebook: Path | None = None, extras: Extras = NONE,
               on_result: Callable[[int, int, RenderResult], None] | None = None) -> list[RenderResult]:
        """Render ``folders``; results in the order given."""
        results: dict[str, RenderResult] = {}
        largest_first = sorted(folders, key=_size, reverse=True)
        futures = {self._pool.submit(render_in_worker, str(f), str(out_dir), timeout,
                                     str(notebook) if notebook else None, extras): f
                   for f in largest_first}
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


def render_many(folders: list[Path], out_dir: Path, *, jobs: int = 1, timeout: int = 600,
                notebook: Path | None = None, extras: Extras = NONE,
                on_result: Callable[[int, int, RenderResult], None] | None = None) -> list[RenderResult]:
    """Render ``folders`` with ``jobs`` worker processes started for this batch."""
    with ReportPool(max(1, min(jobs, len(folders)))) as pool:
        return pool.render(folders, out_dir, timeout=timeout, notebook=notebook, extras=extras,
                           on_result=on_result)


def progress_printer(stream=sys.stderr) -> Callable[[int, int, RenderResult], None]:
    """A progress display: a bar on a terminal, one line per report otherwise."""
    tty = hasattr(stream, "isatty") and stream.isatty()

    def show(done: int, total: int, result: RenderResult) -> None:
        status = ("unchanged, not rendered again" if result.skipped
                  else "ok" if result.ok else "FAILED")
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
