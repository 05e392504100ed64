"""Attrition bounds, the complier average causal effect and subgroup effects, each against an
independent reference: a hand computation or a textbook formula written out here."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from evalkit.designs import (
    DesignWarning,
    attrition_test,
    cace,
    compare_arms,
    lee_bounds,
    subgroup_effects,
)
from evalkit.errors import DataError
from tests.designs.helpers import (
    cluster_trial,
    one_cluster_per_arm,
)


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


def test_cace_cr1_has_the_small_sample_factor_t_df_and_warns_about_few_clusters():
    from linearmodels.iv import IV2SLS

    df = cluster_trial(seed=31, n_clusters=10)
    rng = np.random.default_rng(31)
    df["takeup"] = df["treated"] * (rng.random(len(df)) < 0.7)
    with pytest.warns(DesignWarning, match="Only 10 clusters"):
        ours = cace(df, "endline", "treated", "takeup", cluster="village", se="CR1",
                    wild_reps=0, ri_reps=0)
    ref = IV2SLS.from_formula("endline ~ 1 + [takeup ~ treated]", df).fit(
        cov_type="clustered", clusters=df["village"], debiased=True)
    assert ours.estimate == pytest.approx(ref.params["takeup"], rel=1e-10)
    assert ours.se == pytest.approx(ref.std_errors["takeup"], rel=1e-10)
    assert ours.df == 9
    assert ours.p_value == pytest.approx(2 * stats.t.sf(abs(ours.estimate / ours.se), 9), rel=1e-10)


@pytest.mark.slow
def test_cace_size_with_eight_clusters_is_close_to_the_nominal_level():
    """The audit found 15 % rejections of a true null at 8 clusters; CR2 with its degrees of
    freedom (the default) and CR1 with t(G − 1) stay near 5 %."""
    rejections = {"CR2": 0, "CR1": 0}
    sims = 200
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for s in range(sims):
            df = cluster_trial(seed=500 + s, n_clusters=8, size=15, icc=0.1, strata_size=8)
            rng = np.random.default_rng(s)
            df["takeup"] = df["treated"] * (rng.random(len(df)) < 0.8)
            for se in rejections:
                r = cace(df, "endline", "treated", "takeup", cluster="village", se=se,
                         wild_reps=0, ri_reps=0)
                rejections[se] += r.p_value < 0.05
    for se, count in rejections.items():
        assert count / sims < 0.09, (se, count / sims)


@pytest.mark.filterwarnings("ignore::evalkit.designs.DesignWarning")
def test_one_cluster_per_arm_gives_nan_never_a_p_value_near_zero():
    df = one_cluster_per_arm()
    effect = compare_arms(df, "endline", "treated", "village", wild_reps=99, ri_reps=99, seed=1)
    assert np.isnan(effect.se) and np.isnan(effect.p_value) and np.isnan(effect.p_wild)
    assert effect.p_ri == 1.0  # two possible assignments, both as extreme: exact p = 1
    assert effect.headline == ("randomisation inference", 1.0)
    complier = cace(df, "endline", "treated", "takeup", cluster="village", wild_reps=99,
                    ri_reps=99, seed=1)
    assert np.isnan(complier.p_value) and np.isnan(complier.se)
    sub = subgroup_effects(df, "endline", "treated", "girl", "village")
    assert sub.table["p_value"].isna().all() and np.isnan(sub.joint_p)
    lost = attrition_test(df, "treated", "village", "found", baseline=["baseline"],
                          wild_reps=99, ri_reps=99, seed=1)
    assert np.isnan(lost.p_value) and np.isnan(lost.selective["baseline"])


@pytest.mark.filterwarnings("ignore::evalkit.designs.DesignWarning")
def test_a_constant_outcome_gives_nan_in_cace_and_subgroups():
    df = cluster_trial(seed=2).assign(c=1.0)
    df["takeup"] = df["treated"]
    df["half"] = np.arange(len(df)) % 2
    complier = cace(df, "c", "treated", "takeup", cluster="village", wild_reps=99, ri_reps=99,
                    seed=1)
    assert np.isnan(complier.p_value) and np.isnan(complier.p_wild) and np.isnan(complier.p_ri)
    sub = subgroup_effects(df, "c", "treated", "half", "village")
    assert sub.table["p_value"].isna().all() and np.isnan(sub.joint_p)


@pytest.mark.filterwarnings("ignore::evalkit.designs.DesignWarning")
def test_no_raw_library_error_or_internal_name_reaches_the_user():
    df = cluster_trial(seed=7)
    df["age2"] = 2 * df["age"]
    df["takeup"] = df["treated"]
    with pytest.raises(DataError, match="'age2' is a combination of the others"):
        cace(df, "endline", "treated", "takeup", cluster="village", covariates=["age", "age2"])
    bad = df.astype({"age": float})
    bad.loc[bad.index[:3], "age"] = np.inf
    with pytest.raises(DataError, match="'age' holds an infinite value"):
        compare_arms(bad, "endline", "treated", "village", covariates=["age"], wild_reps=0,
                     ri_reps=0)
    df["found"] = 1
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = attrition_test(df, "treated", "village", "found", wild_reps=0, ri_reps=0)
    text = " ".join(str(w.message) for w in caught) + result.summary() + repr(result.effect)
    assert "__" not in text and "lost (found = 0)" in text
