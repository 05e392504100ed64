"""Benchmark the report pipeline (run: .venv/bin/python benchmarks/report_suite.py).

Measured in the same run, on freshly generated synthetic data:

1. the suite of programme reports rendered with 1 worker process and with 2, both cold (the
   workers and their kernels start inside the timing, as in one `evalkit report --all`) and
   warm (long-lived workers already started, as they are for every batch after the first);
2. the same analyses run in-process without a kernel (ProgrammeReport and every section's
   display objects), per report;

and printed as the 2-job speed-up and the per-report overhead of the pipeline (kernel,
papermill, nbconvert, privacy scan) over the in-process analysis. Timings on a shared 2-core
machine are noisy: compare the ratios, do not quote the seconds.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import warnings
from pathlib import Path


def in_process(folder: Path) -> float:
    from evalkit.report.notebook import ProgrammeReport

    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report = ProgrammeReport(folder)
        parts = [report.title(), *report.summary_section(), *report.body(),
                 *report.methods_section(), *report.glossary_section()]
        for part in parts:  # build the HTML each display object carries
            getattr(part, "data", None)
    return time.perf_counter() - started


def _check(results) -> None:
    failed = [r.error for r in results if not r.ok]
    if failed:
        raise SystemExit(f"a report failed: {failed[0]}")


def cold(folders: list[Path], out: Path, jobs: int) -> float:
    from evalkit.report.batch import render_many

    started = time.perf_counter()
    _check(render_many(folders, out, jobs=jobs))
    return time.perf_counter() - started


def warm(folders: list[Path], out: Path, jobs: int, repeat: int) -> float:
    from evalkit.report.batch import ReportPool

    with ReportPool(jobs) as pool:
        pool.warm()
        _check(pool.render(folders, out))  # first batch: every worker imports what it renders
        best = float("inf")
        for _ in range(repeat):
            started = time.perf_counter()
            _check(pool.render(folders, out))
            best = min(best, time.perf_counter() - started)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=2, help="runs of each measurement (best kept)")
    args = parser.parse_args()
    from evalkit import synth
    from evalkit.config import discover

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        synth.write_all(root / "data")
        folders = discover(root / "data")
        n = len(folders)
        in_process(folders[0])  # import everything once, as a warm worker has
        inproc = {f.name: min(in_process(f) for _ in range(args.repeat)) for f in folders}
        cold1 = min(cold(folders, root / "c1", 1) for _ in range(args.repeat))
        cold2 = min(cold(folders, root / "c2", 2) for _ in range(args.repeat))
        warm1 = warm(folders, root / "w1", 1, args.repeat)
        warm2 = warm(folders, root / "w2", 2, args.repeat)
    analysis = sum(inproc.values())
    print(f"programmes: {n}")
    print(f"in-process analysis (no kernel), all reports: {analysis:6.2f} s "
          f"(median per report {statistics.median(inproc.values()):.2f} s)")
    print("                        1 job     2 jobs    speed-up (target >= 1.6x)")
    print(f"cold suite (startup)  {cold1:6.2f} s  {cold2:6.2f} s   {cold1 / cold2:5.2f}x")
    print(f"warm suite            {warm1:6.2f} s  {warm2:6.2f} s   {warm1 / warm2:5.2f}x")
    print("pipeline overhead per report over the in-process analysis (target < 1 s):")
    print(f"  warm workers: {(warm1 - analysis) / n:5.2f} s   cold, startup included: "
          f"{(cold1 - analysis) / n:5.2f} s")


if __name__ == "__main__":
    main()
