"""Benchmark the CSI aggregations (run: .venv/bin/python benchmarks/csi_engine.py --rows 1000000).

Measured in the same run, on the same generated files (Parquet and CSV, half the children
assessed twice, 3 % of cells 'n/a', 5 % blank), each variant in its own process so that its
peak memory is its own:

1. evalkit: ``csi.score(path)`` and ``csi.change(path, …)`` (the engine expressions on the
   embedded DuckDB; validation of the 12 factor columns included);
2. hand-written DuckDB SQL doing the same scoring and pairing on the same file;
3. plain pandas doing the same arithmetic on numeric columns (Parquet only; not at 30M rows).

It prints seconds, peak memory and the ratios to hand-written DuckDB. The machine is shared
and has 2 cores: compare the ratios, do not quote the seconds.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FACTORS = ["1A", "1B", "2A", "2B", "3A", "3B", "4A", "4B", "5A", "5B", "6A", "6B"]


def generate(rows: int, folder: Path) -> dict[str, Path]:
    import duckdb

    parquet, csv = folder / "csi.parquet", folder / "csi.csv"
    cells = ", ".join(
        f"CASE WHEN hash(i, {k}) % 100 < 3 THEN 'n/a' WHEN hash(i, {k}) % 100 < 8 THEN NULL "
        f"ELSE CAST(1 + hash(i, {k} + 99) % 4 AS VARCHAR) END AS \"{f}\""
        for k, f in enumerate(FACTORS))
    query = (f"SELECT 'C' || CAST(i // 2 AS VARCHAR) AS child_id, "
             f"CASE WHEN i % 2 = 0 OR hash(i) % 2 = 0 THEN 1 + i % 2 ELSE 3 END AS round, {cells} "
             f"FROM range({rows}) t(i)")
    duckdb.sql(f"COPY ({query}) TO '{parquet}' (FORMAT parquet)")
    duckdb.sql(f"COPY ({query}) TO '{csv}' (HEADER, DELIMITER ',')")
    return {"parquet": parquet, "csv": csv}


SCORE_SQL = """
WITH v AS (SELECT child_id, round, {parsed} FROM {source})
SELECT {domains}, CASE WHEN {all_rated} THEN {total} END AS total, {rated} AS factors_rated,
       {flagged} AS flagged FROM v
"""
CHANGE_SQL = """
WITH v AS (SELECT child_id, round, {parsed} FROM {source}),
     b AS (SELECT * FROM v WHERE round = 1), a AS (SELECT * FROM v WHERE round = 2)
SELECT {aggregates} FROM b JOIN a USING (child_id)
"""


def hand_sql(path: Path) -> dict:
    import duckdb

    source = (f"read_parquet('{path}')" if path.suffix == ".parquet"
              else f"read_csv('{path}', all_varchar=true, header=true)")
    parsed = ", ".join(f"TRY_CAST(NULLIF(lower(trim(\"{f}\")), 'n/a') AS DOUBLE) AS \"{f}\""
                       for f in FACTORS)
    domains = ", ".join(
        f"(coalesce(\"{a}\", 0) + coalesce(\"{b}\", 0)) / nullif((\"{a}\" IS NOT NULL)::INT + "
        f"(\"{b}\" IS NOT NULL)::INT, 0) AS d{i}" for i, (a, b) in enumerate(zip(FACTORS[::2], FACTORS[1::2])))
    all_rated = " AND ".join(f"\"{f}\" IS NOT NULL" for f in FACTORS)
    total = " + ".join(f"\"{f}\"" for f in FACTORS)
    rated = " + ".join(f"(\"{f}\" IS NOT NULL)::INT" for f in FACTORS)
    flagged = " + ".join(f"coalesce(\"{f}\" <= 2, false)::INT" for f in FACTORS)
    scores = duckdb.sql(SCORE_SQL.format(source=source, parsed=parsed, domains=domains,
                                         all_rated=all_rated, total=total, rated=rated,
                                         flagged=flagged)).df()
    aggregates = ", ".join(
        f"count(b.\"{f}\" + a.\"{f}\") AS n_{f}, avg(CASE WHEN a.\"{f}\" IS NOT NULL THEN b.\"{f}\" END) AS mb_{f}, "
        f"avg(CASE WHEN b.\"{f}\" IS NOT NULL THEN a.\"{f}\" END) AS ma_{f}, "
        f"sum((a.\"{f}\" > b.\"{f}\")::INT) AS up_{f}, sum((a.\"{f}\" < b.\"{f}\")::INT) AS down_{f}"
        for f in FACTORS)
    change = duckdb.sql(CHANGE_SQL.format(source=source, parsed=parsed, aggregates=aggregates)).df()
    return {"rows": len(scores), "mean_before_1A": float(change["mb_1A"].iloc[0])}


def evalkit_run(path: Path) -> dict:
    import warnings

    warnings.simplefilter("ignore")
    from evalkit.indices import csi

    scores = csi.score(path)
    change = csi.change(path, child="child_id", round="round", before=1, after=2)
    return {"rows": len(scores), "mean_before_1A": float(change.table["mean_before"].iloc[0])}


def pandas_run(path: Path) -> dict:
    import numpy as np
    import pandas as pd

    frame = pd.read_parquet(path)
    values = pd.DataFrame({f: pd.to_numeric(frame[f].str.strip().replace("n/a", None), errors="coerce")
                           for f in FACTORS})
    domains = {i: values[[a, b]].mean(axis=1) for i, (a, b) in enumerate(zip(FACTORS[::2], FACTORS[1::2]))}
    _ = pd.DataFrame(domains).assign(total=values.sum(axis=1, min_count=12),
                                     flagged=(values <= 2).sum(axis=1))
    vb = values[frame["round"].to_numpy() == 1].set_axis(frame["child_id"][frame["round"] == 1].to_numpy())
    va = values[frame["round"].to_numpy() == 2].set_axis(frame["child_id"][frame["round"] == 2].to_numpy())
    both = vb.index.intersection(va.index)
    vb, va = vb.loc[both], va.loc[both]
    rated = vb.notna() & va.notna()
    return {"rows": len(frame), "mean_before_1A": float(np.nanmean(vb["1A"].where(rated["1A"])))}


def child(kind: str, path: str) -> None:
    import resource

    started = time.perf_counter()
    result = {"evalkit": evalkit_run, "duckdb": hand_sql, "pandas": pandas_run}[kind](Path(path))
    result["seconds"] = time.perf_counter() - started
    result["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000],
                        help="rows per file (default: 1,000,000; the issue asks 1M, 10M and 30M)")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(*args.child)
    for rows in args.rows:
        with tempfile.TemporaryDirectory() as tmp:
            files = generate(rows, Path(tmp))
            print(f"\n{rows:,} rows")
            for fmt, path in files.items():
                runs = {}
                kinds = ["duckdb", "evalkit"] + (["pandas"] if fmt == "parquet" and rows <= 10_000_000 else [])
                for kind in kinds:
                    out = subprocess.run([sys.executable, __file__, "--child", kind, str(path)],
                                         capture_output=True, text=True)
                    if out.returncode:
                        print(f"  {fmt:8} {kind:8} failed: {out.stderr.strip().splitlines()[-1]}")
                        continue
                    runs[kind] = json.loads(out.stdout.strip().splitlines()[-1])
                base = runs.get("duckdb")
                for kind, r in runs.items():
                    ratio = (f"{r['seconds'] / base['seconds']:5.2f}x time, "
                             f"{r['peak_mb'] / base['peak_mb']:5.2f}x memory of hand-written DuckDB") if base else ""
                    print(f"  {fmt:8} {kind:8} {r['seconds']:7.2f} s  peak {r['peak_mb']:7.0f} MB  {ratio}"
                          f"  (mean 1A before {r['mean_before_1A']:.4f})")


if __name__ == "__main__":
    main()
