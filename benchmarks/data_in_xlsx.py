"""Benchmark the data-in layer on a large workbook (run: .venv/bin/python benchmarks/data_in_xlsx.py).

Builds a 200,000-row × 15-column .xlsx of CSI assessments (client id, round, a real date cell
and the 12 factors) and measures, in the same run:

1. python-calamine reading the same sheet raw (workbook open + every cell as Python values);
2. the whole data-in layer on a programme folder holding that workbook: read, find the sheet
   and header row, map, validate every cell with pandera, drop personal columns, hash ids and
   write the validated Parquet cache (``evalkit.data.programme.load``);
3. a later load of the same folder, which finds the cache current (the files' SHA-256
   unchanged) and reads the validated Parquet instead of the workbook.

It prints the minimum of several runs of each and their ratio (the goal: within 1.5×). Timings
on a shared 2-core machine are noisy: compare the ratio, do not quote the seconds.
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from pathlib import Path

import numpy as np

CODES = ["1A", "1B", "2A", "2B", "3A", "3B", "4A", "4B", "5A", "5B", "6A", "6B"]


def build(path: Path, rows: int, seed: int = 1) -> None:
    from openpyxl import Workbook

    rng = np.random.default_rng(seed)
    scores = rng.integers(1, 5, size=(rows, 12))
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Assessments")
    sheet.append(["Client ID", "Assessment Number", "Assessment Date", *CODES])
    start = dt.datetime(2018, 1, 1)
    for i in range(rows):
        child, round_ = divmod(i, 2)
        sheet.append([f"CH-{child:07d}", round_ + 1, start + dt.timedelta(days=int(i % 700)),
                      *map(int, scores[i])])
    book.save(path)


def raw_calamine(path: Path) -> float:
    import python_calamine

    started = time.perf_counter()
    book = python_calamine.CalamineWorkbook.from_path(str(path))
    cells = book.get_sheet_by_name("Assessments").to_python()
    assert len(cells) > 1
    return time.perf_counter() - started


def data_in(folder: Path, use_cache: bool = False) -> float:
    from evalkit.data.programme import load

    started = time.perf_counter()
    data = load(folder, use_cache=use_cache)
    assert data.csi is not None and len(data.csi) > 0
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000, help="rows in the workbook (default: %(default)s)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each (default: %(default)s)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "big"
        folder.mkdir()
        print(f"building a {args.rows:,}-row × 15-column workbook …", flush=True)
        build(folder / "csi.xlsx", args.rows)
        (folder / "programme.yml").write_text(
            "name: Benchmark\ncsi:\n  file: csi.xlsx\n  columns: {child: Client ID, "
            "round: Assessment Number, date: Assessment Date}\n")
        raw, layer, cached = [], [], []
        for i in range(args.repeat):
            raw.append(raw_calamine(folder / "csi.xlsx"))
            layer.append(data_in(folder))
            cached.append(data_in(folder, use_cache=True))
            print(f"run {i + 1}: calamine raw {raw[-1]:.2f} s, data-in layer {layer[-1]:.2f} s, "
                  f"from the cache {cached[-1]:.2f} s", flush=True)
        print(f"\ncalamine raw read (min of {args.repeat}): {min(raw):.2f} s")
        print(f"data-in layer     (min of {args.repeat}): {min(layer):.2f} s")
        print(f"ratio data-in / raw read: {min(layer) / min(raw):.2f}× (goal: within 1.5×)")
        print(f"from the cache    (min of {args.repeat}): {min(cached):.2f} s, "
              f"{min(layer) / min(cached):.1f}× faster than reading the workbook")


if __name__ == "__main__":
    main()
