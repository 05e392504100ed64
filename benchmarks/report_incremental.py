"""Benchmark incremental report runs (run: .venv/bin/python benchmarks/report_incremental.py
--programmes 100).

Builds N programme folders (copies of the synthetic programmes under new names) and measures,
in the same run, with 2 worker processes:

1. the whole collection rendered from scratch (``evalkit report --all --force``: cold);
2. the same collection again with nothing changed (``evalkit report --all``: warm, every
   programme's stamp unchanged);
3. again after one programme's data file changed (only it and the synthesis render);

and prints the times and the ratios of the full run to the incremental ones. During the full
run it samples the memory (resident set) of every worker process and every Jupyter kernel
they run (with psutil, which Jupyter installs), and prints the largest of each over the first
and over the second half of the run: memory that grows with the number of reports shows as a
second half larger than the first. The machine is shared and has 2 cores: compare the ratios.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import tempfile
import threading
import time
from pathlib import Path


class MemorySampler(threading.Thread):
    """Samples, every ``every`` seconds, the resident memory of this process's descendants:
    worker processes and the Jupyter kernels they start (command line with 'ipykernel')."""

    def __init__(self, every: float = 0.25):
        super().__init__(daemon=True)
        self.every, self.samples, self.stopped = every, [], threading.Event()

    def run(self) -> None:
        import psutil

        me = psutil.Process(os.getpid())
        while not self.stopped.is_set():
            workers = kernels = 0.0
            for process in me.children(recursive=True):
                try:
                    rss = process.memory_info().rss / 2**20
                    kind = "kernel" if "ipykernel" in " ".join(process.cmdline()) else "worker"
                except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                    continue
                if kind == "kernel":
                    kernels = max(kernels, rss)
                else:
                    workers = max(workers, rss)
            self.samples.append((time.perf_counter(), workers, kernels))
            time.sleep(self.every)

    def halves(self) -> list[tuple[float, float]]:
        """(largest worker, largest kernel) in MB over the first and second half of the run."""
        if len(self.samples) < 2:
            return []
        start, end = self.samples[0][0], self.samples[-1][0]
        middle = (start + end) / 2
        out = []
        for part in ([s for s in self.samples if s[0] <= middle],
                     [s for s in self.samples if s[0] > middle]):
            out.append((max(s[1] for s in part), max(s[2] for s in part)) if part else (0.0, 0.0))
        return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--programmes", type=int, default=14, help="programme folders (default: %(default)s)")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes (default: %(default)s)")
    args = parser.parse_args()
    from evalkit import synth
    from evalkit.config import discover
    from evalkit.report.collection import render_collection

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        synth.write_all(root / "seed")
        seeds = discover(root / "seed")
        for i in range(args.programmes):
            source = seeds[i % len(seeds)]
            shutil.copytree(source, root / "data" / f"{source.name}_{i:03d}")
        folders = discover(root / "data")
        out = root / "reports"

        def timed(**options) -> tuple[float, int]:
            started = time.perf_counter()
            results, synthesis, _index = render_collection(folders, out, jobs=args.jobs, **options)
            failed = [r.error for r in results + [synthesis] if r is not None and not r.ok]
            if failed:
                raise SystemExit(f"a report failed: {failed[0]}")
            return time.perf_counter() - started, sum(not r.skipped for r in results)

        try:
            import psutil  # noqa: F401  (a Jupyter dependency)

            sampler = MemorySampler()
            sampler.start()
        except ImportError:
            sampler = None
        full, n_full = timed(force=True)
        if sampler is not None:
            sampler.stopped.set()
            sampler.join()
        unchanged, n_unchanged = timed(force=False)
        changed_file = next(p for p in folders[0].glob("*.csv"))
        changed_file.write_text(changed_file.read_text(encoding="utf-8") + "\n", encoding="utf-8")
        one, n_one = timed(force=False)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{len(folders)} programmes, {args.jobs} workers")
    print(f"  full run (--force)      {full:8.1f} s   {n_full} rendered")
    print(f"  nothing changed         {unchanged:8.1f} s   {n_unchanged} rendered   "
          f"{full / unchanged:7.1f}x faster than the full run")
    print(f"  one programme changed   {one:8.1f} s   {n_one} rendered   "
          f"{full / one:7.1f}x faster than the full run")
    print(f"  peak memory of the parent process: {peak:.0f} MB")
    if sampler is None:
        print("  worker and kernel memory not measured (psutil is not installed)")
    else:
        for label, (worker, kernel) in zip(("first", "second"), sampler.halves()):
            print(f"  full run, {label} half: largest worker {worker:6.0f} MB, "
                  f"largest kernel {kernel:6.0f} MB")


if __name__ == "__main__":
    main()
