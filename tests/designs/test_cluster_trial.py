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

from evalkit.designs import (
    DesignWarning,
    assign,
    balance_table,
    compare_arms,
    compare_outcomes,
    twfe_did,
)
from evalkit.designs import _linear as lin
from evalkit.errors import DataError
from evalkit.tables import effects_table
from tests.designs.helpers import (
    cluster_trial,
    individual_trial,
    three_periods,
    village_panel,
)

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


def test_a_constant_outcome_is_said_and_gives_nan_not_rounding_noise():
    df = cluster_trial(seed=3).assign(endline=2.0)
    with pytest.warns(DesignWarning, match="does not vary"):
        r = compare_arms(df, "endline", "treated", "village", wild_reps=199, ri_reps=199, seed=1)
    assert np.isnan(r.estimate) and np.isnan(r.se) and np.isnan(r.p_value)
    assert np.isnan(r.p_wild) and np.isnan(r.p_ri)


def test_twfe_orders_text_periods_by_their_meaning_not_alphabetically():
    panel = three_periods()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DesignWarning)
        numbers = twfe_did(panel, "y", "d", unit="household", time="period", cluster="village",
                           wild_reps=0, ri_reps=99, seed=1)
        words = twfe_did(panel, "y", "d", unit="household", time="name", cluster="village",
                         wild_reps=0, ri_reps=99, seed=1)
    assert words.estimate == pytest.approx(numbers.estimate, abs=1e-12)
    assert words.p_ri == pytest.approx(numbers.p_ri) and not np.isnan(words.p_ri)
    odd = panel.assign(name=panel["period"].map({1: "Dry", 2: "Wet", 3: "Cool"}))
    with pytest.raises(DataError, match="the order of the 3 rounds cannot be told"):
        twfe_did(odd, "y", "d", unit="household", time="name", cluster="village", wild_reps=0,
                 ri_reps=0)


def test_a_bootstrap_p_value_is_never_zero():
    df = cluster_trial(seed=5, n_clusters=30, effect=3.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DesignWarning)
        r = compare_arms(df, "endline", "treated", "village", baseline="baseline", wild_reps=199,
                         ri_reps=199, seed=2)
    assert r.p_wild == pytest.approx(1 / 200)  # (1 + 0) / (1 + B): the observed draw counts
    assert r.p_ri == pytest.approx(1 / 200)


def test_strata_that_add_nothing_are_named():
    df = cluster_trial(seed=6)
    villages = sorted(df["village"].unique())
    arm = df.groupby("village")["treated"].first()
    treated = [v for v in villages if arm[v] == 1]
    df["commune"] = np.where(df["village"].isin(villages[::2]), "A", "B")
    df.loc[df["village"] == villages[1], "commune"] = "Lonely"  # a stratum of one village
    both = [v for v in villages if v not in (villages[1],)]
    one_arm = [v for v in treated if v != villages[1]][:2]
    df.loc[df["village"].isin(one_arm), "commune"] = "Treated only"
    with pytest.warns(DesignWarning) as caught:
        compare_arms(df, "endline", "treated", "village", strata="commune", wild_reps=0, ri_reps=0)
    text = " ".join(str(w.message) for w in caught)
    assert "commune(s) hold a single village (Lonely)" in text
    assert "commune(s) hold villages of one arm only (Treated only)" in text
    assert both  # the other communes hold both arms


@pytest.mark.filterwarnings("ignore::evalkit.designs.DesignWarning")
def test_assignment_is_matched_by_unit_id_not_position():
    df = cluster_trial(seed=4, n_clusters=20).reset_index(drop=True)
    households = df.set_axis([f"h{i}" for i in range(len(df))])
    drawn = assign(households, seed=9)
    households["t"] = drawn.table.set_index("unit").loc[households.index, "treatment"].to_numpy()
    kwargs = dict(assignment=drawn, wild_reps=0, ri_reps=299, seed=5)
    reference = compare_arms(households, "endline", "t", None, **kwargs)
    shuffled = compare_arms(households.sample(frac=1, random_state=1), "endline", "t", None, **kwargs)
    assert shuffled.p_ri == reference.p_ri and shuffled.estimate == pytest.approx(reference.estimate)
    dropped = compare_arms(households.drop(index=["h0", "h5"]), "endline", "t", None, **kwargs)
    assert dropped.n_obs == len(households) - 2 and np.isfinite(dropped.p_ri)
    # clusters too: villages matched by name whatever the order of the rows
    villages = assign(df, "village", seed=3)
    df["tv"] = df["village"].map(villages.table.set_index("village")["treatment"])
    a = compare_arms(df, "endline", "tv", "village", assignment=villages, wild_reps=0,
                     ri_reps=299, seed=2)
    b = compare_arms(df.iloc[::-1], "endline", "tv", "village", assignment=villages, wild_reps=0,
                     ri_reps=299, seed=2)
    assert a.p_ri == b.p_ri
    wrong = df.assign(tv=1 - df["tv"])
    with pytest.raises(DataError, match="differs from the assignment"):
        compare_arms(wrong, "endline", "tv", "village", assignment=villages, wild_reps=0, ri_reps=9)


@pytest.mark.filterwarnings("ignore::evalkit.designs.DesignWarning")
def test_twfe_cr1_counts_the_time_effects_as_fixest_does():
    panel = village_panel()
    ours = twfe_did(panel, "y", "d", unit="household", time="period", cluster="village",
                    se="CR1", wild_reps=0, ri_reps=0)
    # hand computation of fixest's factor: k = treatment + T time effects (nested unit
    # effects not counted), G / (G - 1) * (n - 1) / (n - k)
    dm = panel.assign(**{c: panel[c] - panel.groupby("household")[c].transform("mean")
                         for c in ("y", "d")})
    X = np.column_stack([dm["d"]] + [(panel["period"] == t) - (panel["period"] == t).groupby(
        panel["household"]).transform("mean") for t in (1, 2, 3)]).astype(float)
    beta, *_ = np.linalg.lstsq(X, dm["y"], rcond=None)
    u = dm["y"] - X @ beta
    bread = np.linalg.inv(X.T @ X)
    scores = pd.DataFrame(X * u.to_numpy()[:, None]).groupby(panel["village"].to_numpy()).sum().to_numpy()
    n, G, k = len(panel), 30, 1 + 4
    V = G / (G - 1) * (n - 1) / (n - k) * bread @ scores.T @ scores @ bread
    assert ours.se == pytest.approx(np.sqrt(V[0, 0]), rel=1e-10)
    pf = pytest.importorskip("pyfixest")
    fit = pf.feols("y ~ d | household + period", data=panel, vcov={"CRV1": "village"})
    assert ours.estimate == pytest.approx(fit.coef()["d"], rel=1e-8)
    assert ours.se == pytest.approx(fit.se()["d"], rel=1e-8)


def test_staggered_adoption_is_warned_about():
    panel = village_panel(staggered=True)
    with pytest.warns(DesignWarning, match="Staggered adoption: units start treatment in"):
        twfe_did(panel, "y", "d", unit="household", time="period", cluster="village",
                 wild_reps=0, ri_reps=0)


@pytest.mark.filterwarnings("ignore::evalkit.designs.DesignWarning")
def test_a_single_treated_cluster_puts_the_exact_randomisation_p_first():
    panel = village_panel(n_villages=12)
    one = panel[(panel["village"] == 0) | (panel.groupby("village")["d"].transform("max") == 0)]
    one = one.assign(d=np.where((one["village"] == 0) & (one["period"] >= 2), 1.0, 0.0))
    r = twfe_did(one, "y", "d", unit="village", time="period", cluster="village",
                 wild_reps=0, ri_reps=1000, seed=1)
    G = one["village"].nunique()
    # exact: each of the G villages could have been the treated one; the p-value is the share
    # of them whose statistic is at least as extreme, so a multiple of 1 / G
    assert r.ri_method.startswith(f"exact: all {G} possible assignments")
    assert (r.p_ri * G) == pytest.approx(round(r.p_ri * G))
    assert r.headline == ("randomisation inference", r.p_ri) and r.single_arm
    assert "headline p (randomisation inference)" in r.summary()
    assert any("Only one cluster is treated" in w for w in r.warnings)


@pytest.mark.filterwarnings("ignore::evalkit.designs.DesignWarning")
def test_unclustered_analyses_are_not_called_clustered():
    df = individual_trial()
    r = compare_arms(df, "y", "treated", None, wild_reps=99, ri_reps=99, seed=1)
    assert r.se_type == "HC2" and not r.clustered
    assert "wild cluster" not in r.summary() and "not clustered" in r.summary()
    table = effects_table([r]).layout.set_index(effects_table([r]).layout.columns[0])
    assert "p (wild bootstrap)" in table.index and "Clusters" not in table.index
    balance = balance_table(df, ["age"], "treated", ri_reps=99, seed=1)
    assert "clustered by" not in balance._repr_html_() and "not clustered" in balance._repr_html_()


def test_every_result_records_its_seed_and_a_drawn_seed_reproduces_it():
    df = cluster_trial(seed=8, n_clusters=16)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        first = compare_arms(df, "endline", "treated", "village", wild_reps=199, ri_reps=199)
        again = compare_arms(df, "endline", "treated", "village", wild_reps=199, ri_reps=199,
                             seed=first.seed)
    assert isinstance(first.seed, int)
    assert (again.p_wild, again.p_ri) == (first.p_wild, first.p_ri)
    assert f"seed of the bootstrap and re-draws: {first.seed}" in first.summary()
    assert "statistic: the coefficient's t statistic" in first.summary()
