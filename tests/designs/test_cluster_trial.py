"""compare_arms, twfe_did and balance_table against statsmodels, linearmodels and small
independent implementations written here from the textbook formulas."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import linalg, stats

from evalkit.designs import (DesignWarning, balance_table, compare_arms, compare_outcomes,
                             twfe_did)
from evalkit.designs import _linear as lin
from evalkit.errors import DataError
from tests.designs.helpers import cluster_trial

pytestmark = pytest.mark.filterwarnings("ignore::evalkit.designs.DesignWarning")


def design_matrix(df: pd.DataFrame, *, baseline=True, covariates=("age",), strata=True):
    parts = [np.ones(len(df)), df["treated"].to_numpy()]
    if baseline:
        parts.append(df["baseline"].to_numpy())
    parts += [df[c].to_numpy(dtype=float) for c in covariates]
    X = np.column_stack(parts)
    if strata:
        X = np.column_stack([X, pd.get_dummies(df["commune"], drop_first=True).to_numpy(float)])
    return X


# ------------------------------------------------------------------ CR1, HC1, iid: statsmodels


def test_cr1_equals_statsmodels_cluster_robust():
    df = cluster_trial(seed=3)
    ours = compare_arms(df, "endline", "treated", "village", baseline="baseline",
                        covariates=["age"], strata="commune", se="CR1", wild_reps=0, ri_reps=0)
    ref = sm.OLS(df["endline"], design_matrix(df)).fit(
        cov_type="cluster", cov_kwds={"groups": df["village"]}, use_t=True)
    assert ours.estimate == pytest.approx(ref.params.iloc[1], abs=1e-10)
    assert ours.se == pytest.approx(ref.bse.iloc[1], abs=1e-10)
    assert ours.df == 35
    assert ours.p_value == pytest.approx(ref.pvalues.iloc[1], abs=1e-10)
    lo, hi = ref.conf_int().iloc[1]
    assert (ours.ci_low, ours.ci_high) == (pytest.approx(lo, abs=1e-8), pytest.approx(hi, abs=1e-8))


@pytest.mark.parametrize("se, cov_type", [("HC1", "HC1"), ("iid", "nonrobust")])
def test_hc1_and_iid_equal_statsmodels(se, cov_type):
    df = cluster_trial(seed=4)
    ours = compare_arms(df, "endline", "treated", None, baseline="baseline", se=se,
                        wild_reps=0, ri_reps=0)
    ref = sm.OLS(df["endline"], design_matrix(df, covariates=(), strata=False)).fit(cov_type=cov_type)
    assert ours.se == pytest.approx(ref.bse.iloc[1], abs=1e-10)
    assert ours.df == len(df) - 3
    assert ours.p_value == pytest.approx(2 * stats.t.sf(abs(ref.tvalues.iloc[1]), len(df) - 3), abs=1e-10)


def test_did_and_endline_estimators_are_the_textbook_regressions():
    df = cluster_trial(seed=5)
    did = compare_arms(df, "endline", "treated", "village", baseline="baseline",
                       estimator="did", se="CR1", wild_reps=0, ri_reps=0)
    change = df["endline"] - df["baseline"]
    ref = sm.OLS(change, sm.add_constant(df["treated"])).fit()
    assert did.estimate == pytest.approx(ref.params["treated"], abs=1e-10)
    # two-period DiD = difference of the arms' mean changes
    by_arm = change.groupby(df["treated"]).mean()
    assert did.estimate == pytest.approx(by_arm[1] - by_arm[0], abs=1e-10)
    end = compare_arms(df, "endline", "treated", "village", wild_reps=0, ri_reps=0)
    means = df.groupby("treated")["endline"].mean()
    assert end.estimator == "endline"
    assert end.estimate == pytest.approx(means[1] - means[0], abs=1e-10)
    assert end.control_mean == pytest.approx(means[0])


# ------------------------------------------------------------------ CR2: textbook implementation


def cr2_textbook(X, y, clusters, j):
    """Bell–McCaffrey CR2 and Imbens–Kolesár df from the formulas, with full n x n matrices."""
    n = len(y)
    XtX_inv = np.linalg.inv(X.T @ X)
    H = X @ XtX_inv @ X.T
    e = y - H @ y
    I_H = np.eye(n) - H
    meat = np.zeros((X.shape[1], X.shape[1]))
    Gcols = []
    for g in np.unique(clusters):
        idx = np.flatnonzero(clusters == g)
        A = np.real(linalg.inv(linalg.sqrtm(I_H[np.ix_(idx, idx)])))
        s = X[idx].T @ A @ e[idx]
        meat += np.outer(s, s)
        Gcols.append(I_H[:, idx] @ A @ X[idx] @ XtX_inv[:, j])
    V = XtX_inv @ meat @ XtX_inv
    Gm = np.column_stack(Gcols)
    B = Gm.T @ Gm
    return np.sqrt(V[j, j]), np.trace(B) ** 2 / np.trace(B @ B)


@pytest.mark.parametrize("seed", [0, 1])
def test_cr2_and_bell_mccaffrey_df_equal_the_textbook_formula(seed):
    df = cluster_trial(seed=seed, n_clusters=12, size=8, strata_size=4)
    ours = compare_arms(df, "endline", "treated", "village", baseline="baseline",
                        covariates=["age"], strata="commune", wild_reps=0, ri_reps=0)
    se, dof = cr2_textbook(design_matrix(df), df["endline"].to_numpy(), df["village"].to_numpy(), 1)
    assert ours.se_type == "CR2"
    assert ours.se == pytest.approx(se, rel=1e-8)
    assert ours.df == pytest.approx(dof, rel=1e-8)
    tcrit = stats.t.ppf(0.975, dof)
    assert ours.ci_high == pytest.approx(ours.estimate + tcrit * se, rel=1e-8)


def test_cr2_df_for_a_balanced_two_group_design_is_g_minus_2():
    # with equal cluster sizes and only a treatment dummy the BM df is exactly G - 2
    df = cluster_trial(seed=2, n_clusters=10, size=6, unequal=False, strata_size=10)
    ours = compare_arms(df, "endline", "treated", "village", wild_reps=0, ri_reps=0)
    assert ours.df == pytest.approx(8, rel=1e-8)


# ------------------------------------------------------------------ TWFE: linearmodels


def long_panel(seed=0, attrition=0.1):
    df = cluster_trial(seed=seed, effect=0.3)
    df["household"] = np.arange(len(df))
    rng = np.random.default_rng(seed)
    base = df.assign(period=0, y=df["baseline"], d=0.0)
    end = df.assign(period=1, y=df["endline"], d=df["treated"])
    end = end[rng.random(len(end)) > attrition]  # unbalanced: some households not re-interviewed
    panel = pd.concat([base, end], ignore_index=True)
    panel["members"] = rng.integers(2, 9, len(panel)).astype(float)  # varies within household
    return panel


def test_twfe_estimate_equals_linearmodels_panelols():
    from linearmodels.panel import PanelOLS

    panel = long_panel(seed=6)
    ours = twfe_did(panel, "y", "d", unit="household", time="period", cluster="village",
                    covariates=["members"], wild_reps=0, ri_reps=0)
    indexed = panel.set_index(["household", "period"])
    ref = PanelOLS(indexed["y"], indexed[["d", "members"]], entity_effects=True,
                   time_effects=True).fit()
    assert ours.estimate == pytest.approx(ref.params["d"], abs=1e-10)
    # a covariate constant within household is absorbed: one clear sentence, not a singular matrix
    with pytest.raises(DataError, match="'age' is a combination of the others"):
        twfe_did(panel, "y", "d", unit="household", time="period", cluster="village",
                 covariates=["age"], wild_reps=0, ri_reps=0)
    assert ours.estimator == "twfe" and ours.n_clusters == 36
    # CR1 with fixest's convention for nested effects: k counts the treatment and all T time
    # effects (the nested household effects are not counted, the time effects' reference level
    # is). statsmodels on the dummy-variable regression counts every household dummy in
    # (n-1)/(n-K); apart from that factor the two must agree exactly.
    cr1 = twfe_did(panel, "y", "d", unit="household", time="period", cluster="village",
                   se="CR1", wild_reps=0, ri_reps=0)
    dummies = pd.get_dummies(panel["household"], drop_first=True).to_numpy(float)
    X = np.column_stack([np.ones(len(panel)), panel["d"], panel["period"], dummies])
    ref = sm.OLS(panel["y"].to_numpy(), X).fit(cov_type="cluster",
                                               cov_kwds={"groups": panel["village"].to_numpy()})
    n, k_ours, k_lsdv = len(panel), 3, X.shape[1]  # d + 2 period effects
    assert ref.params[1] == pytest.approx(cr1.estimate, abs=1e-9)
    rescaled = cr1.se * np.sqrt((n - k_ours) / (n - k_lsdv))
    assert rescaled == pytest.approx(ref.bse[1], rel=1e-8)
    assert cr1.df == 35


def test_twfe_on_a_two_period_balanced_panel_equals_two_period_did():
    panel = long_panel(seed=7, attrition=0.0)
    ours = twfe_did(panel, "y", "d", unit="household", time="period", cluster="village",
                    wild_reps=0, ri_reps=0)
    wide = compare_arms(cluster_trial(seed=7, effect=0.3), "endline", "treated", "village",
                        baseline="baseline", estimator="did", wild_reps=0, ri_reps=0)
    assert ours.estimate == pytest.approx(wide.estimate, abs=1e-10)


# ------------------------------------------------------------------ randomisation inference


def tiny_design():
    rng = np.random.default_rng(11)
    village = np.repeat(np.arange(6), 5)
    z = np.array([1, 0, 1, 0, 0, 1.0])
    y = rng.normal(size=30) + 0.8 * z[village] + rng.normal(0, 0.5, 6)[village]
    return pd.DataFrame({"village": village, "treated": z[village], "endline": y})


def cr1_t(df, z_by_village, outcome="endline"):
    X = sm.add_constant(z_by_village[df["village"].to_numpy()])
    fit = sm.OLS(df[outcome].to_numpy(), X).fit(cov_type="cluster",
                                                  cov_kwds={"groups": df["village"].to_numpy()})
    return fit.tvalues[1]


def test_randomisation_inference_exact_enumeration_equals_a_hand_count():
    df = tiny_design()
    ours = compare_arms(df, "endline", "treated", "village", wild_reps=0, ri_reps=10000, seed=1)
    t_obs = cr1_t(df, np.array([1, 0, 1, 0, 0, 1.0]))
    count = 0
    assignments = list(itertools.combinations(range(6), 3))
    for treated in assignments:
        z = np.zeros(6)
        z[list(treated)] = 1
        count += abs(cr1_t(df, z)) >= abs(t_obs) - 1e-10
    assert len(assignments) == 20
    assert ours.p_ri == count / 20
    assert ours.ri_method.startswith("exact: all 20")


def test_randomisation_respects_strata():
    df = tiny_design()
    df["commune"] = np.where(df["village"] < 3, "a", "b")  # 2 of 3 treated in a, 1 of 3 in b
    ours = compare_arms(df, "endline", "treated", "village", strata="commune",
                        wild_reps=0, ri_reps=10000)
    assert ours.ri_method.startswith("exact: all 9 ")  # C(3,2) * C(3,1)


def test_wild_bootstrap_equals_a_brute_force_enumeration():
    df = tiny_design().query("village < 8")
    df = pd.concat([df, tiny_design().assign(village=lambda d: d["village"] + 6)], ignore_index=True)
    X = sm.add_constant(df["treated"].to_numpy())
    y = df["endline"].to_numpy()
    codes = df["village"].to_numpy()
    fit = lin.ols(X, y)
    p, method = lin.wild_cluster_p(fit, 1, codes, 12, reps=5000, rng=np.random.default_rng(0),
                                   weights="rademacher")
    assert method.startswith("Rademacher, all 2^G")
    # brute force: impose H0, flip cluster signs of restricted residuals, refit with statsmodels
    restricted = sm.OLS(y, X[:, :1]).fit()
    t_obs = sm.OLS(y, X).fit(cov_type="cluster", cov_kwds={"groups": codes}).tvalues[1]
    exceed = 0
    signs = list(itertools.product([-1.0, 1.0], repeat=12))
    for s in signs:
        y_star = restricted.fittedvalues + restricted.resid * np.array(s)[codes]
        t = sm.OLS(y_star, X).fit(cov_type="cluster", cov_kwds={"groups": codes}).tvalues[1]
        exceed += abs(t) >= abs(t_obs) - 1e-12
    assert p == pytest.approx(exceed / len(signs), abs=1e-12)


def test_wild_uses_webb_weights_with_few_clusters():
    df = tiny_design()
    r = compare_arms(df, "endline", "treated", "village", wild_reps=999, ri_reps=0, seed=3)
    assert r.wild_method.startswith("Webb six-point")


def test_p_values_are_reproducible_with_a_seed():
    df = cluster_trial(seed=8)
    a = compare_arms(df, "endline", "treated", "village", baseline="baseline", strata="commune",
                     wild_reps=999, ri_reps=999, seed=42)
    b = compare_arms(df, "endline", "treated", "village", baseline="baseline", strata="commune",
                     wild_reps=999, ri_reps=999, seed=42)
    c = compare_arms(df, "endline", "treated", "village", baseline="baseline", strata="commune",
                     wild_reps=999, ri_reps=999, seed=43)
    assert (a.p_wild, a.p_ri) == (b.p_wild, b.p_ri)
    assert (a.p_wild, a.p_ri) != (c.p_wild, c.p_ri)
    assert a.ri_method == "999 random re-draws of the assignment"


# ------------------------------------------------------------------ several outcomes


def test_several_outcomes_get_holm_and_bh_adjustment():
    from statsmodels.stats.multitest import multipletests

    df = cluster_trial(seed=9, effect=0.4)
    df["noise"] = np.random.default_rng(1).normal(size=len(df))
    table = compare_outcomes(df, {"endline": "baseline", "noise": None, "age": None}, "treated",
                             "village", strata="commune", wild_reps=199, ri_reps=199, seed=5)
    frame = table.to_frame()
    assert list(frame["outcome"]) == ["endline", "noise", "age"]
    assert list(frame["estimator"]) == ["ancova", "endline", "endline"]
    assert np.allclose(frame["p_holm"], multipletests(frame["p_value"], method="holm")[1])
    assert np.allclose(frame["q_bh"], multipletests(frame["p_value"], method="fdr_bh")[1])
    single = compare_arms(df, "noise", "treated", "village", strata="commune",
                          wild_reps=0, ri_reps=0)
    assert frame.loc[1, "estimate"] == pytest.approx(single.estimate)


# ------------------------------------------------------------------ warnings and bad input


def test_warns_in_plain_words_about_few_clusters_and_within_cluster_variation():
    df = tiny_design()
    with pytest.warns(DesignWarning, match="Only 6 clusters"):
        r = compare_arms(df, "endline", "treated", "village", wild_reps=0, ri_reps=100)
    assert any("Only 3 clusters are in the" in w for w in r.warnings)
    mixed = df.copy()
    mixed.loc[0, "treated"] = 0.0  # village 0 is now partly treated
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = compare_arms(mixed, "endline", "treated", "village", wild_reps=0, ri_reps=100)
    # read as units assigned inside clusters: counted as units, re-drawn within clusters
    assert r.assigned == "units" and r.n_assigned_treated == int(mixed["treated"].sum())
    assert 0 < r.p_ri <= 1
    assert any("varies within some clusters" in w for w in r.warnings)


def test_unequal_arms_warning_and_dropped_rows_are_reported():
    df = cluster_trial(seed=10)
    df.loc[df["village"] < 30, "treated"] = 0.0
    df.loc[df["village"] >= 30, "treated"] = 1.0
    df.loc[[0, 1], "baseline"] = np.nan
    r = compare_arms(df, "endline", "treated", "village", baseline="baseline", wild_reps=0, ri_reps=0)
    assert r.n_dropped == 2 and r.n_obs == len(df) - 2
    assert any("very unequal" in w for w in r.warnings)
    assert any("2 row(s) with a missing value" in w for w in r.warnings)


def test_bad_treatment_value_is_one_sentence():
    df = cluster_trial(seed=1)
    df["treated"] = df["treated"].astype(object)
    df.loc[5, "treated"] = "yes"
    with pytest.raises(DataError, match=r"row index 5, column 'treated': the value is not a number"):
        compare_arms(df, "endline", "treated", "village", wild_reps=0, ri_reps=0)
    df.loc[5, "treated"] = 2
    with pytest.raises(DataError, match=r"the value is not a treatment indicator"):
        compare_arms(df, "endline", "treated", "village", wild_reps=0, ri_reps=0)


def test_inputs_are_not_modified():
    df = cluster_trial(seed=12)
    before = df.copy()
    compare_arms(df, "endline", "treated", "village", baseline="baseline", strata="commune",
                 wild_reps=99, ri_reps=99, seed=1)
    balance_table(df, ["baseline", "age"], "treated", "village", strata="commune", ri_reps=99)
    pd.testing.assert_frame_equal(df, before)


# ------------------------------------------------------------------ balance table


def test_balance_table_numbers_by_hand_and_exports(tmp_path):
    df = cluster_trial(seed=13)
    bal = balance_table(df, ["baseline", "age"], "treated", cluster="village", strata="commune",
                        se="CR1", ri_reps=499, seed=1)
    row = bal.to_frame().set_index("variable").loc["age"]
    t, c = df.loc[df["treated"] == 1, "age"], df.loc[df["treated"] == 0, "age"]
    assert row["n_treatment"] == len(t) and row["n_control"] == len(c)
    assert row["mean_treatment"] == pytest.approx(t.mean())
    assert row["sd_control"] == pytest.approx(c.std(ddof=1))
    assert row["difference"] == pytest.approx(t.mean() - c.mean())
    assert row["normalised_difference"] == pytest.approx(
        (t.mean() - c.mean()) / np.sqrt((t.var() + c.var()) / 2))
    ref = sm.OLS(df["age"].astype(float), design_matrix(df, baseline=False, covariates=())).fit(
        cov_type="cluster", cov_kwds={"groups": df["village"]}, use_t=True)
    assert row["p_value"] == pytest.approx(ref.pvalues.iloc[1], abs=1e-10)
    assert row["clusters_treatment"] == 18 and row["clusters_control"] == 18
    assert 0 < bal.omnibus_p <= 1 and "499 random re-draws" in bal.omnibus_method


def test_balance_omnibus_exact_on_a_tiny_design_equals_a_hand_count():
    df = tiny_design()
    df["x1"] = np.random.default_rng(1).normal(size=len(df))
    bal = balance_table(df, ["endline", "x1"], "treated", cluster="village", ri_reps=1000)

    def stat(z):  # sum of squared CR1 t statistics of the two differences
        return cr1_t(df, z, "endline") ** 2 + cr1_t(df, z, "x1") ** 2

    observed = stat(np.array([1, 0, 1, 0, 0, 1.0]))
    draws = []
    for treated in itertools.combinations(range(6), 3):
        z = np.zeros(6)
        z[list(treated)] = 1
        draws.append(stat(z))
    assert bal.omnibus_statistic == pytest.approx(observed, rel=1e-9)
    assert bal.omnibus_p == pytest.approx(np.mean(np.array(draws) >= observed - 1e-10))


def test_twfe_on_repeated_cross_sections_uses_village_effects():
    """Different households each round: pass the village as the unit; the estimate equals the
    dummy-variable regression with village and period effects."""
    df = cluster_trial(seed=14, effect=0.3)
    rng = np.random.default_rng(3)
    base = df.assign(period=0, y=df["baseline"] + rng.normal(size=len(df)), d=0.0)
    end = df.sample(frac=0.9, random_state=1).assign(period=1, y=lambda d: d["endline"],
                                                     d=lambda d: d["treated"])
    rcs = pd.concat([base, end], ignore_index=True)
    ours = twfe_did(rcs, "y", "d", unit="village", time="period", wild_reps=99, ri_reps=99, seed=1)
    X = np.column_stack([np.ones(len(rcs)), rcs["d"], rcs["period"],
                         pd.get_dummies(rcs["village"], drop_first=True).to_numpy(float)])
    ref = sm.OLS(rcs["y"].to_numpy(), X).fit()
    assert ours.estimate == pytest.approx(ref.params[1], abs=1e-10)
    assert ours.n_clusters == 36 and ours.ri_method == "99 random re-draws of the assignment"


# ------------------------------------------------------------------ edge cases found in review


def test_twfe_iid_and_hc1_count_the_absorbed_unit_effects():
    panel = long_panel(seed=15, attrition=0.0)
    dummies = pd.get_dummies(panel["household"], drop_first=True).to_numpy(float)
    X = np.column_stack([np.ones(len(panel)), panel["d"], panel["period"], dummies])
    for se, cov in (("iid", "nonrobust"), ("HC1", "HC1")):
        ours = twfe_did(panel, "y", "d", unit="household", time="period", cluster="village",
                        se=se, wild_reps=0, ri_reps=0)
        ref = sm.OLS(panel["y"].to_numpy(), X).fit(cov_type=cov)
        assert ours.se == pytest.approx(ref.bse[1], rel=1e-8), se
        assert ours.df == len(panel) - X.shape[1]


def test_a_single_cluster_is_an_error_not_a_significant_result():
    df = tiny_design().assign(village=0)
    with pytest.raises(DataError, match="only 1 cluster; expected at least two"):
        compare_arms(df, "endline", "treated", "village", wild_reps=0, ri_reps=0)
    with pytest.raises(DataError, match="only 1 cluster"):
        balance_table(df, ["endline"], "treated", cluster="village", ri_reps=10)


def test_whitespace_only_cells_are_blank_and_counted():
    df = cluster_trial(seed=16).astype({"endline": object})
    df.loc[3, "endline"] = "  "
    r = compare_arms(df, "endline", "treated", "village", wild_reps=0, ri_reps=0)
    assert r.n_dropped == 1 and np.isfinite(r.estimate) and np.isfinite(r.se)


def test_balance_drops_rows_without_a_cluster_and_counts_clusters_per_variable():
    df = cluster_trial(seed=17, n_clusters=12, size=6, strata_size=4)
    df["x"] = np.random.default_rng(2).normal(size=len(df))
    df.loc[df["village"] == 0, "x"] = np.nan  # one village has no data on x
    df = df.astype({"village": object})
    df.loc[5, "village"] = None  # one household without a village
    bal = balance_table(df, ["x"], "treated", cluster="village", se="CR1", ri_reps=99, seed=1)
    used = df[df["village"].notna() & df["x"].notna()]
    ref = sm.OLS(used["x"], sm.add_constant(used["treated"])).fit(
        cov_type="cluster", cov_kwds={"groups": used["village"].astype(int)}, use_t=True)
    assert bal.to_frame().loc[0, "p_value"] == pytest.approx(ref.pvalues["treated"], rel=1e-9)
    assert any("1 row(s) with a missing value" in w for w in bal.warnings)


def test_twfe_orders_text_periods_as_numbers():
    rng = np.random.default_rng(4)
    rows = []
    for v in range(12):
        treated = v < 6
        for h in range(5):
            for t in (8, 9, 10, 11):
                rows.append((v, f"{v}-{h}", t, float(treated and t >= 10), rng.normal() + (t >= 10) * treated))
    df = pd.DataFrame(rows, columns=["village", "hh", "t", "d", "y"])
    as_text = df.assign(t=df["t"].astype(str))
    a = twfe_did(df, "y", "d", "hh", "t", cluster="village", wild_reps=0, ri_reps=500, seed=1)
    b = twfe_did(as_text, "y", "d", "hh", "t", cluster="village", wild_reps=0, ri_reps=500, seed=1)
    assert np.isfinite(b.p_ri) and b.p_ri == a.p_ri and b.estimate == pytest.approx(a.estimate)


def test_individually_randomised_trials_do_not_build_n_by_n_matrices():
    rng = np.random.default_rng(5)
    n = 20000
    t = rng.permutation(np.repeat([0.0, 1.0], n // 2))
    df = pd.DataFrame({"treated": t, "y": 0.05 * t + rng.normal(size=n)})
    r = compare_arms(df, "y", "treated", None, se="HC1", wild_reps=199, ri_reps=199, seed=1)
    assert r.n_clusters == n and np.isfinite(r.p_ri) and np.isfinite(r.p_wild)


def test_twfe_counts_treated_clusters_when_starts_differ():
    rng = np.random.default_rng(6)
    rows = []
    for v in range(10):
        start = {0: 1, 1: 1, 2: 2, 3: 2}.get(v)  # four treated villages, staggered
        for h in range(4):
            for t in (0, 1, 2):
                d = float(start is not None and t >= start)
                rows.append((v, f"{v}-{h}", t, d, rng.normal() + d))
    df = pd.DataFrame(rows, columns=["village", "hh", "t", "d", "y"])
    r = twfe_did(df, "y", "d", "hh", "t", cluster="village", wild_reps=0, ri_reps=100)
    assert r.n_treated_clusters == 4 and np.isnan(r.p_ri)


def test_strata_that_hold_one_arm_each_are_refused_naming_the_column():
    df = cluster_trial(seed=2)
    df["commune"] = np.where(df["treated"] == 1, "North", "South")
    with pytest.raises(DataError, match=r"column 'commune': every village of commune 'North' .* "
                                        r"is in one arm, so strata: commune cannot be used"):
        compare_arms(df, "endline", "treated", "village", strata="commune", wild_reps=0, ri_reps=0)
