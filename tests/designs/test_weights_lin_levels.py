"""Sampling weights, Lin's interacted estimator and the level of assignment, each checked
against statsmodels or a hand count."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from evalkit.designs import balance_table, compare_arms
from evalkit.errors import DataError
from tests.designs.helpers import cluster_trial


def _quiet(func, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return func(*args, **kwargs)


def _weighted_trial(seed=3):
    df = cluster_trial(seed=seed)
    df["w"] = np.random.default_rng(seed).uniform(0.5, 3.0, len(df))
    return df


# ------------------------------------------------------------------ sampling weights


def test_weights_match_statsmodels_wls_with_clustered_errors():
    df = _weighted_trial()
    ours = _quiet(compare_arms, df, "endline", "treated", "village", baseline="baseline",
                  weights="w", se="CR1", wild_reps=0, ri_reps=0)
    X = sm.add_constant(df[["treated", "baseline"]].astype(float))
    ref = sm.WLS(df["endline"], X, weights=df["w"]).fit(
        cov_type="cluster", cov_kwds={"groups": df["village"]}, use_t=True)
    assert ours.estimate == pytest.approx(ref.params["treated"], rel=1e-10)
    assert ours.se == pytest.approx(ref.bse["treated"], rel=1e-10)
    assert ours.p_value == pytest.approx(ref.pvalues["treated"], rel=1e-8)
    control = df[df["treated"] == 0]
    assert ours.control_mean == pytest.approx(np.average(control["endline"], weights=control["w"]))
    assert "weighted by 'w'" in ours.summary()


def test_weighted_cr2_equals_a_dense_hand_computation():
    df = _weighted_trial(seed=4)
    ours = _quiet(compare_arms, df, "endline", "treated", "village", weights="w", se="CR2",
                  wild_reps=0, ri_reps=0)
    sw = np.sqrt(df["w"].to_numpy())
    X = np.column_stack([np.ones(len(df)), df["treated"]]) * sw[:, None]
    y = df["endline"].to_numpy() * sw
    bread = np.linalg.inv(X.T @ X)
    e = y - X @ (bread @ X.T @ y)
    meat = np.zeros((2, 2))
    for g in np.unique(df["village"]):
        idx = np.flatnonzero(df["village"].to_numpy() == g)
        Xg = X[idx]
        vals, vecs = np.linalg.eigh(np.eye(len(idx)) - Xg @ bread @ Xg.T)
        A = vecs @ np.diag(vals ** -0.5) @ vecs.T
        s = Xg.T @ A @ e[idx]
        meat += np.outer(s, s)
    V = bread @ meat @ bread
    assert ours.se == pytest.approx(np.sqrt(V[1, 1]), rel=1e-10)


def test_weighted_balance_table_matches_weighted_means_and_wls():
    df = _weighted_trial(seed=5)
    bal = _quiet(balance_table, df, ["age"], "treated", cluster="village", weights="w", se="CR1",
                 ri_reps=99, seed=1)
    row = bal.to_frame().iloc[0]
    t, c = df[df["treated"] == 1], df[df["treated"] == 0]
    assert row["mean_treatment"] == pytest.approx(np.average(t["age"], weights=t["w"]))
    assert row["mean_control"] == pytest.approx(np.average(c["age"], weights=c["w"]))
    ref = sm.WLS(df["age"].astype(float), sm.add_constant(df["treated"]), weights=df["w"]).fit(
        cov_type="cluster", cov_kwds={"groups": df["village"]}, use_t=True)
    assert row["p_value"] == pytest.approx(ref.pvalues["treated"], rel=1e-8)


def test_a_bad_weight_is_one_sentence_naming_the_column():
    df = _weighted_trial()
    df.loc[7, "w"] = -1.0
    with pytest.raises(DataError, match=r"row 7, column 'w': expected a positive number"):
        compare_arms(df, "endline", "treated", "village", weights="w", wild_reps=0, ri_reps=0)


# ------------------------------------------------------------------ Lin (2013)


def _lin_reference(df, covariates, weights=None):
    w = np.ones(len(df)) if weights is None else df[weights].to_numpy()
    C = df[covariates].astype(float)
    Cc = C - np.average(C, axis=0, weights=w)
    X = pd.concat([df[["treated"]].astype(float), Cc,
                   Cc.mul(df["treated"], axis=0).add_prefix("tx_")], axis=1)
    return sm.WLS(df["endline"], sm.add_constant(X), weights=w).fit(
        cov_type="cluster", cov_kwds={"groups": df["village"]}, use_t=True)


@pytest.mark.parametrize("weights", [None, "w"])
def test_lin_estimator_matches_the_interacted_regression(weights):
    df = _weighted_trial(seed=6)
    df["endline"] += 0.3 * df["treated"] * (df["age"] - 40) / 10  # heterogeneous effect
    ours = _quiet(compare_arms, df, "endline", "treated", "village", covariates=["age"],
                  baseline="baseline", estimator="ancova", lin=True, se="CR1",
                  weights=weights, wild_reps=0, ri_reps=0)
    ref = _lin_reference(df, ["baseline", "age"], weights)
    assert ours.estimate == pytest.approx(ref.params["treated"], rel=1e-10)
    assert ours.se == pytest.approx(ref.bse["treated"], rel=1e-10)
    assert "Lin (2013)" in ours.summary()


def test_lin_estimate_is_the_difference_of_arm_regressions_at_the_overall_mean():
    df = cluster_trial(seed=7)
    ours = _quiet(compare_arms, df, "endline", "treated", "village", covariates=["age"],
                  lin=True, wild_reps=0, ri_reps=0)
    xbar = df["age"].mean()
    predicted = []
    for arm in (1, 0):
        part = df[df["treated"] == arm]
        slope, intercept = np.polyfit(part["age"], part["endline"], 1)
        predicted.append(intercept + slope * xbar)
    assert ours.estimate == pytest.approx(predicted[0] - predicted[1], rel=1e-9)


def test_lin_randomisation_inference_refits_every_assignment():
    rng = np.random.default_rng(8)
    df = pd.DataFrame({"village": np.repeat(np.arange(6), 5)})
    df["treated"] = np.isin(df["village"], [0, 2, 5]).astype(float)
    df["age"] = rng.normal(40, 10, len(df))
    df["endline"] = rng.normal(size=len(df)) + 0.02 * df["age"] * df["treated"]
    ours = _quiet(compare_arms, df, "endline", "treated", "village", covariates=["age"],
                  lin=True, wild_reps=0, ri_reps=1000)

    def t_of(z):
        d = df.assign(treated=z[df["village"]])
        return _lin_reference(d, ["age"]).tvalues["treated"]

    t_obs = t_of(np.isin(np.arange(6), [0, 2, 5]).astype(float))
    hits = [abs(t_of(np.isin(np.arange(6), list(c)).astype(float))) >= abs(t_obs) - 1e-10
            for c in itertools.combinations(range(6), 3)]
    assert ours.ri_method.startswith("exact: all 20")
    assert ours.p_ri == pytest.approx(np.mean(hits))


def test_lin_needs_covariates():
    with pytest.raises(ValueError, match="lin=True interacts covariates"):
        compare_arms(cluster_trial(), "endline", "treated", "village", lin=True)


# ------------------------------------------------------------------ level of assignment


def _within_villages(n_villages=119, seed=9):
    """Individuals randomised inside villages (as in Thornton 2008's incentives)."""
    rng = np.random.default_rng(seed)
    sizes = rng.integers(10, 30, n_villages)
    village = np.repeat(np.arange(n_villages), sizes)
    treated = rng.random(len(village)) < 0.7
    u = rng.normal(0, 0.3, n_villages)[village]
    learned = (0.3 + 0.4 * treated + u + rng.normal(0, 0.3, len(village)) > 0.5).astype(float)
    return pd.DataFrame({"village": village, "treated": treated.astype(float), "learned": learned})


def test_individual_assignment_inside_villages_counts_people_and_reports_ri():
    df = _within_villages()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        r = compare_arms(df, "learned", "treated", "village", wild_reps=99, ri_reps=199, seed=1)
    said = " ".join(str(w.message) for w in caught)
    assert "Only 1 clusters" not in said and "118 treated of 119" not in said
    assert r.assigned == "units"
    assert (r.n_assigned_treated, r.n_assigned_control) == (int(df["treated"].sum()),
                                                          int((1 - df["treated"]).sum()))
    assert 0 < r.p_ri <= 1 / 100  # a strong effect: no re-draw within villages comes close
    assert "inside 119 clusters" in r.summary()


def test_within_cluster_re_draws_keep_each_clusters_count_exactly():
    rng = np.random.default_rng(10)
    df = pd.DataFrame({"village": np.repeat(np.arange(3), 4)})
    df["treated"] = np.tile([1.0, 1.0, 0.0, 0.0], 3)
    df["y"] = rng.normal(size=12) + 0.5 * df["treated"]
    r = _quiet(compare_arms, df, "y", "treated", "village", wild_reps=0, ri_reps=10000)

    def t_of(z):
        fit = sm.OLS(df["y"], sm.add_constant(z)).fit(cov_type="cluster",
                                                        cov_kwds={"groups": df["village"]})
        return fit.tvalues.iloc[1]

    t_obs = t_of(df["treated"].to_numpy())
    per_village = [list(itertools.combinations(range(4), 2))] * 3
    hits = []
    for choice in itertools.product(*per_village):
        z = np.zeros(12)
        for v, chosen in enumerate(choice):
            z[[4 * v + i for i in chosen]] = 1
        hits.append(abs(t_of(z)) >= abs(t_obs) - 1e-10)
    assert r.ri_method.startswith("exact: all 216")  # C(4,2)^3
    assert r.p_ri == pytest.approx(np.mean(hits))


def test_clustering_below_the_level_of_assignment_is_warned():
    df = cluster_trial(seed=11)
    df["household"] = np.arange(len(df))
    with pytest.warns(UserWarning, match=r"cluster by it \(cluster='village'\)"):
        compare_arms(df, "endline", "treated", "household", wild_reps=0, ri_reps=0)
    with pytest.warns(UserWarning, match="which is not clustered"):
        compare_arms(df, "endline", "treated", None, wild_reps=0, ri_reps=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        compare_arms(df, "endline", "treated", "village", wild_reps=0, ri_reps=0)
    assert not any("level of assignment" in str(w.message) for w in caught)
