"""Benchmark hashing person IDs (run: .venv/bin/python benchmarks/pseudonymise.py --ids 2000000).

Measured in the same run, on the same IDs (each distinct ID on two rows, as a child assessed
at baseline and endline, and some blanks):

1. evalkit: ``Pseudonymiser.hash`` (HMAC-SHA-256 computed by the embedded columnar engine,
   once per distinct ID, the rows mapped back without Python strings);
2. the alternative it replaced: a keyed BLAKE2b computed in Python for each distinct ID
   (hashlib, the fastest keyed hash in the standard library), mapped back the same way.

Every hash is checked against Python's ``hmac`` for a sample of IDs. It prints the minimum of
several runs of each and the ratio. The machine is shared and has 2 cores: compare the ratio,
do not quote the seconds.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import secrets
import time


def python_blake2b(values, key: bytes):
    """The replaced implementation: BLAKE2b in keyed mode, in a Python loop over the IDs."""
    import numpy as np
    import pandas as pd

    codes, unique = pd.factorize(values.astype("string"), use_na_sentinel=True)
    hashed = np.array(["P" + hashlib.blake2b(str(v).encode("utf-8"), key=key[:64],
                                             digest_size=8).hexdigest()
                       for v in np.asarray(unique, dtype=object)] + [None], dtype=object)
    return pd.Series(hashed[codes], index=values.index, dtype="string")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ids", type=int, default=2_000_000,
                        help="distinct IDs (default: 2,000,000; each on two rows)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each (default: 3)")
    args = parser.parse_args()

    import numpy as np
    import pandas as pd

    from evalkit.data.personal import Pseudonymiser

    ids = np.array([f"OSCAR-{i:09d}" for i in range(args.ids)], dtype=object)
    rows = np.concatenate([ids, ids])
    rows[::1000] = None  # blanks stay blank
    values = pd.Series(rows, dtype="string")
    key = secrets.token_bytes(32)
    ours = Pseudonymiser(key)
    ours.hash(values.iloc[:10])  # the engine's first connection is not counted

    def best(run) -> tuple[float, object]:
        times, out = [], None
        for _ in range(args.repeat):
            started = time.perf_counter()
            out = run()
            times.append(time.perf_counter() - started)
        return min(times), out

    engine, hashed = best(lambda: ours.hash(values))
    loop, _ = best(lambda: python_blake2b(values, key))
    sample = np.random.default_rng(1).choice(len(values), 1000, replace=False)
    for i in sample:
        value = values.iloc[i]
        expected = (None if pd.isna(value) else
                    "P" + hmac.new(key, value.encode(), hashlib.sha256).hexdigest()[:Pseudonymiser.DIGITS])
        got = hashed.iloc[i]
        assert (pd.isna(got) and expected is None) or got == expected, (i, got, expected)
    print(f"{args.ids:,} distinct IDs on {len(values):,} rows (best of {args.repeat})")
    print(f"  evalkit (engine HMAC-SHA-256) {engine:6.2f} s")
    print(f"  Python BLAKE2b loop           {loop:6.2f} s   ratio {loop / engine:4.2f}x "
          "(above 1: the engine is faster)")
    print("  hashes checked against Python's hmac on 1,000 rows: equal")


if __name__ == "__main__":
    main()
