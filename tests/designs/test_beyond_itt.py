"""Attrition bounds, the complier average causal effect and subgroup effects, each against an
independent reference: a hand computation or a textbook formula written out here."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from evalkit.designs import cace, lee_bounds, subgroup_effects
from tests.designs.helpers import cluster_trial


def test_lee_bounds_by_hand():
    # treatment: all 10 observed, outcomes 1…10; control: 8 of 10 observed, all 5
    data = pd.DataFrame({"t": [1] * 10 + [0] * 10,
                         "y": list(range(1, 11)) + [5.0] * 8 + [np.nan] * 2})
    b = lee_bounds(data, "y", "t")
    # q = (1.0 − 0.8) / 1.0 = 0.2: two of ten treated trimmed
    assert b.trimmed_share == pytest.approx(0.2) and b.trimmed_arm == "treatment"
    assert b.lower == pytest.approx(np.mean(range(1, 9)) - 5)  # top two removed: 4.5 − 5
    assert b.upper == pytest.approx(np.mean(range(3, 11)) - 5)  # bottom two removed: 6.5 − 5
    # the control arm observed more often: it is trimmed instead, and the bounds flip sides
    flipped = pd.DataFrame({"t": [0] * 10 + [1] * 10,
                            "y": list(range(1, 11)) + [5.0] * 8 + [np.nan] * 2})
    f = lee_bounds(flipped, "y", "t")
    assert f.trimmed_arm == "control"
    assert (f.lower, f.upper) == pytest.approx((5 - 6.5, 5 - 4.5))
    assert "Lee bounds [-0.500, 1.500]" in b.summary() and b.lower <= b.upper


def test_lee_bounds_trim_a_fraction_of_an_observation():
    data = pd.DataFrame({"t": [1] * 4 + [0] * 4, "y": [1.0, 2, 3, 4, 0, 0, 0, np.nan]})
    b = lee_bounds(data, "y", "t")  # q = (1 − 0.75) / 1 = 0.25: exactly one of four
    assert b.lower == pytest.approx(2.0) and b.upper == pytest.approx(3.0)
    data = pd.DataFrame({"t": [1] * 5 + [0] * 4, "y": [1.0, 2, 3, 4, 5, 0, 0, 0, np.nan]})
    b = lee_bounds(data, "y", "t")  # q = 0.25 of 5 = 1.25 observations
    assert b.lower == pytest.approx((1 + 2 + 3 + 0.75 * 4) / 3.75)


def _noncompliance(seed=11):
    df = cluster_trial(seed=seed, effect=0.0)
    rng = np.random.default_rng(seed)
    complier = rng.random(len(df)) < 0.6
    df["takeup"] = (df["treated"] * complier).astype(float)
    df["y"] = df["baseline"] + 0.5 * df["takeup"] + rng.normal(0, 1, len(df))
    return df


def test_cace_equals_the_wald_ratio_and_a_hand_2sls_sandwich():
    df = _noncompliance()
    r = cace(df, "y", "treated", "takeup", cluster="village", se="CR1", wild_reps=0, ri_reps=0)
    t, c = df[df["treated"] == 1], df[df["treated"] == 0]
    itt_y = t["y"].mean() - c["y"].mean()
    itt_d = t["takeup"].mean() - c["takeup"].mean()
    assert r.estimate == pytest.approx(itt_y / itt_d, abs=1e-10)
    assert r.first_stage == pytest.approx(itt_d, abs=1e-10)
    # cluster-robust 2SLS by hand: (X̂'X̂)⁻¹ Σ_g X̂_g' u_g u_g' X̂_g (X̂'X̂)⁻¹
    Z = np.column_stack([np.ones(len(df)), df["treated"]])
    X = np.column_stack([np.ones(len(df)), df["takeup"]])
    Xhat = Z @ np.linalg.lstsq(Z, X, rcond=None)[0]
    beta = np.linalg.solve(Xhat.T @ X, Xhat.T @ df["y"].to_numpy())
    u = df["y"].to_numpy() - X @ beta
    bread = np.linalg.inv(Xhat.T @ Xhat)
    meat = sum(np.outer(Xhat[idx].T @ u[idx], Xhat[idx].T @ u[idx])
               for idx in df.groupby("village").indices.values())
    n, k, G = len(df), 2, 36
    factor = G / (G - 1) * (n - 1) / (n - k)  # Stata's and linearmodels' debiased factor
    se = np.sqrt(factor * (bread @ meat @ bread)[1, 1])
    assert r.se == pytest.approx(se, rel=1e-8)
    assert r.df == G - 1
    assert r.p_value == pytest.approx(2 * stats.t.sf(abs(r.estimate / se), G - 1), rel=1e-8)
    assert r.n_clusters == 36 and r.first_stage_f > 10
    assert "first stage" in r.summary() and "<table>" in r._repr_html_()
    # CR2 on the second-stage design X̂ with structural residuals, by dense matrices
    cr2 = cace(df, "y", "treated", "takeup", cluster="village", wild_reps=0, ri_reps=0)
    H = Xhat @ bread @ Xhat.T
    meat2 = np.zeros((2, 2))
    for idx in df.groupby("village").indices.values():
        lam, vec = np.linalg.eigh(np.eye(len(idx)) - H[np.ix_(idx, idx)])
        A = vec @ np.diag(lam ** -0.5) @ vec.T
        s_g = Xhat[idx].T @ A @ u[idx]
        meat2 += np.outer(s_g, s_g)
    assert cr2.se == pytest.approx(np.sqrt((bread @ meat2 @ bread)[1, 1]), rel=1e-8)
    assert cr2.cov_type == "CR2" and 20 < cr2.df < 35


def test_subgroup_effects_match_statsmodels_interactions():
    import statsmodels.api as sm

    df = cluster_trial(seed=12, effect=0.3)
    rng = np.random.default_rng(12)
    df["girl"] = np.where(rng.random(len(df)) < 0.5, "girl", "boy")
    df["endline"] = df["endline"] + 0.4 * df["treated"] * (df["girl"] == "girl")
    r = subgroup_effects(df, "endline", "treated", "girl", "village", covariates=["baseline"])
    X = pd.DataFrame({"t_boy": df["treated"] * (df["girl"] == "boy"),
                      "t_girl": df["treated"] * (df["girl"] == "girl"),
                      "boy": (df["girl"] == "boy").astype(float),
                      "girl": (df["girl"] == "girl").astype(float), "baseline": df["baseline"]})
    ref = sm.OLS(df["endline"], X).fit(cov_type="cluster", cov_kwds={"groups": df["village"]})
    table = r.to_frame().set_index("subgroup")
    for level in ("boy", "girl"):
        assert table.loc[level, "estimate"] == pytest.approx(ref.params[f"t_{level}"], abs=1e-10)
        assert table.loc[level, "se"] == pytest.approx(ref.bse[f"t_{level}"], rel=1e-8)
    wald = ref.wald_test("t_boy = t_girl", use_f=True, scalar=True)
    assert r.joint_statistic == pytest.approx(float(wald.statistic), rel=1e-8)
    assert list(table["p_holm"]) == pytest.approx(sorted_holm(table["p_value"].to_numpy()))


def sorted_holm(p):
    """Holm by hand: the k-th smallest p times (m − k + 1), running maximum, capped at 1."""
    order = np.argsort(p)
    m = len(p)
    adjusted = np.empty(m)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[i]))
        adjusted[i] = running
    return adjusted
