"""Benchmark compare_arms' inference at scale (run: .venv/bin/python benchmarks/compare_arms.py).

Measured in the same run, on the same simulated village trial:

1. CR2 standard error and Bell–McCaffrey degrees of freedom as evalkit computes them (a k x k
   eigen-decomposition per cluster, linear in households) against the dense computation it
   replaced (an n_g x n_g eigen-decomposition per cluster and an n x G matrix for the df);
2. randomisation inference from cluster-level sufficient statistics against the row-level
   computation it replaced (an n x draws matrix per chunk of draws);
3. the whole compare_arms call (CR2, 9,999 wild-bootstrap and 10,000 RI draws), and, when
   pyfixest is installed, its feols + ritest (+ wildboottest) on the same data.

It prints each pair's times and their ratio, with the same numbers checked to agree. The
machine is shared and has 2 cores: compare the ratios, do not quote the seconds.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd


def trial(n_clusters: int, rows: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    village = np.repeat(np.arange(n_clusters), rows // n_clusters)
    z = (rng.permutation(n_clusters) < n_clusters // 2).astype(float)
    u = rng.normal(0, 0.3, n_clusters)[village]
    baseline = u + rng.normal(size=len(village))
    return pd.DataFrame({"village": village, "treated": z[village], "baseline": baseline,
                         "endline": 0.5 * baseline + u + rng.normal(size=len(village))})


def dense_cr2(fit, codes, G, j):
    """The computation evalkit used before: dense n_g x n_g blocks and an n x G matrix."""
    blocks = []
    for g in range(G):
        idx = np.flatnonzero(codes == g)
        Xg = fit.X[idx]
        w, q = np.linalg.eigh(np.eye(len(idx)) - Xg @ fit.bread @ Xg.T)
        blocks.append((idx, (q * np.where(w > 1e-10, 1 / np.sqrt(np.clip(w, 1e-10, None)), 0)) @ q.T))
    scores = np.vstack([fit.X[idx].T @ (A @ fit.resid[idx]) for idx, A in blocks])
    V = fit.bread @ (scores.T @ scores) @ fit.bread
    ell = fit.bread[:, j]
    cols = []
    for idx, A in blocks:
        v = A @ (fit.X[idx] @ ell)
        col = -fit.X @ (fit.bread @ (fit.X[idx].T @ v))
        col[idx] += v
        cols.append(col)
    Gm = np.column_stack(cols)
    B = Gm.T @ Gm
    return np.sqrt(V[j, j]), np.trace(B) ** 2 / np.sum(B * B)


def timed(func, repeat: int = 1):
    best, value = float("inf"), None
    for _ in range(repeat):
        started = time.perf_counter()
        value = func()
        best = min(best, time.perf_counter() - started)
    return best, value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--designs", default="36x2000,36x20000,200x200000",
                        help="clusters x total rows, comma-separated (default: %(default)s)")
    parser.add_argument("--draws", type=int, default=10_000, help="randomisation draws")
    args = parser.parse_args()
    from evalkit.designs import _linear as la
    from evalkit.designs import compare_arms
    from evalkit.designs._randomisation import (ClusterStatistic, projector, random_assignments,
                                                t_statistics)

    for design in args.designs.split(","):
        G, n = (int(x) for x in design.split("x"))
        df = trial(G, n)
        codes = df["village"].to_numpy()
        X = np.column_stack([np.ones(len(df)), df["treated"], df["baseline"]])
        fit = la.ols(X, df["endline"].to_numpy())
        print(f"\n{G} clusters, {len(df):,} rows")
        new_t, (se, df_new) = timed(lambda: (lambda b: (np.sqrt(la.vcov_cr2(fit, codes, G, b)[1, 1]),
                                                        la.bm_df(fit, 1, b)))(
            la.cr2_adjustments(fit, codes, G)))
        if n // G <= 5000:
            old_t, (se_old, df_old) = timed(lambda: dense_cr2(fit, codes, G, 1))
            assert np.isclose(se, se_old, rtol=1e-9) and np.isclose(df_new, df_old, rtol=1e-9)
            print(f"  CR2 + df      low-rank {new_t:8.3f} s   dense {old_t:8.3f} s   ratio {old_t / new_t:7.1f}x")
        else:
            print(f"  CR2 + df      low-rank {new_t:8.3f} s   dense: not run ({n // G:,}-row "
                  f"blocks need {8 * (n // G) ** 2 / 1e9:.1f} GB each)")
        W = np.delete(X, 1, axis=1)
        coef, *_ = np.linalg.lstsq(W, fit.y, rcond=None)
        y_resid = fit.y - W @ coef
        z = df.groupby("village")["treated"].first().to_numpy()
        Z = random_assignments(z, np.zeros(G, dtype=int), args.draws, np.random.default_rng(1))
        new_t, t_new = timed(lambda: ClusterStatistic(W, np.ones(len(df)), y_resid, codes, G)(Z))
        reps_old = args.draws if len(df) <= 100_000 else 500
        project = projector(W, lambda Zc: Zc[codes])
        old_t, t_old = timed(lambda: t_statistics(project, y_resid, Z[:, :reps_old], codes, G))
        assert np.allclose(t_new[:reps_old], t_old, rtol=1e-8)
        old_t *= args.draws / reps_old
        note = "" if reps_old == args.draws else f" (timed on {reps_old} draws, scaled)"
        print(f"  RI draws      clusters {new_t:8.3f} s   rows  {old_t:8.3f} s   ratio "
              f"{old_t / new_t:7.1f}x{note}")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            full_t, ours = timed(lambda: compare_arms(df, "endline", "treated", "village",
                                                      baseline="baseline", ri_reps=args.draws,
                                                      seed=1))
        print(f"  compare_arms  {full_t:8.3f} s (CR2 p {ours.p_value:.4f}, wild p {ours.p_wild:.4f}, "
              f"RI p {ours.p_ri:.4f})")
        try:
            import pyfixest as pf
        except ImportError:
            print("  pyfixest not installed: its feols + ritest + wildboottest not timed "
                  "(pip install -e '.[bench]')")
            continue

        def fixest(data):
            fit_pf = pf.feols("endline ~ treated + baseline", data=data, vcov={"CRV1": "village"})
            ri = fit_pf.ritest(resampvar="treated", reps=args.draws, cluster="village",
                               rng=np.random.default_rng(1))
            wild = fit_pf.wildboottest(param="treated", reps=9_999, cluster="village", seed=1)
            return fit_pf, ri, wild

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fixest(trial(G, 20 * G, seed=2))  # compile pyfixest's numba kernels: not timed
            pf_t, (fit_pf, ri, wild) = timed(lambda: fixest(df))
        assert np.isclose(fit_pf.coef()["treated"], ours.estimate, rtol=1e-8)
        p_ri = float(ri["Pr(>|t|)"]) if "Pr(>|t|)" in ri else float("nan")
        p_wild = float(wild["Pr(>|t|)"]) if "Pr(>|t|)" in wild else float("nan")
        print(f"  pyfixest feols + ritest + wildboottest {pf_t:8.3f} s   ratio "
              f"{pf_t / full_t:7.1f}x (pyfixest / evalkit)   (its RI p {p_ri:.4f}, wild p {p_wild:.4f})")


if __name__ == "__main__":
    main()
