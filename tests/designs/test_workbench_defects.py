"""Regression tests for the defects the researcher-workbench audit found, each against an
independent computation (statsmodels, linearmodels, pyfixest where installed, or a hand count)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from scipy import stats

from evalkit.designs import (DesignWarning, assign, attrition_test, balance_table, cace,
                             cluster_mde, compare_arms, solve_design, subgroup_effects, twfe_did)
from evalkit.errors import DataError
from evalkit.tables import effects_table
from tests.designs.helpers import cluster_trial

quiet = pytest.mark.filterwarnings("ignore::evalkit.designs.DesignWarning")


def _individual(seed=3, n=400):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"treated": rng.permutation(np.repeat([0.0, 1.0], n // 2)),
                       "age": rng.normal(40, 10, n)})
    df["found"] = (rng.random(n) < 0.8).astype(int)
    df["y"] = 0.2 * df["treated"] + 0.02 * df["age"] + rng.normal(size=n)
    return df


@quiet
def test_attrition_without_clusters_tests_selectivity_with_hc1_not_clusters_on_the_arms():
    df = _individual()
    ours = attrition_test(df, "treated", None, "found", baseline=["age"], wild_reps=0, ri_reps=0)
    ref = smf.ols("age ~ treated * lost", data=df.assign(lost=1 - df["found"])).fit(
        cov_type="HC1", use_t=True)
    assert ours.selective["age"] == pytest.approx(ref.pvalues["treated:lost"], rel=1e-8)
    assert ours.effect.se_type == "HC2" and not ours.effect.clustered


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


def _two_clusters():
    df = cluster_trial(seed=1, n_clusters=2, strata_size=2)
    rng = np.random.default_rng(2)
    df["takeup"] = df["treated"] * (rng.random(len(df)) < 0.7)
    df["girl"] = np.where(rng.random(len(df)) < 0.5, "girl", "boy")
    df["found"] = (rng.random(len(df)) < 0.8).astype(int)
    return df


@quiet
def test_one_cluster_per_arm_gives_nan_never_a_p_value_near_zero():
    df = _two_clusters()
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


@quiet
def test_a_constant_outcome_gives_nan_in_cace_and_subgroups():
    df = cluster_trial(seed=2).assign(c=1.0)
    df["takeup"] = df["treated"]
    df["half"] = np.arange(len(df)) % 2
    complier = cace(df, "c", "treated", "takeup", cluster="village", wild_reps=99, ri_reps=99,
                    seed=1)
    assert np.isnan(complier.p_value) and np.isnan(complier.p_wild) and np.isnan(complier.p_ri)
    sub = subgroup_effects(df, "c", "treated", "half", "village")
    assert sub.table["p_value"].isna().all() and np.isnan(sub.joint_p)


@quiet
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


def _panel(seed=6, n_villages=30, periods=4, staggered=False):
    rng = np.random.default_rng(seed)
    rows = []
    treated = rng.permutation(n_villages) < n_villages // 2
    start = rng.integers(1, periods, n_villages) if staggered else np.full(n_villages, 2)
    for v in range(n_villages):
        effect = rng.normal()
        for h in range(5):
            unit = rng.normal()
            for t in range(periods):
                d = float(treated[v] and t >= start[v])
                rows.append({"village": v, "household": f"{v}-{h}", "period": t, "d": d,
                             "y": effect + unit + 0.3 * t + 0.5 * d + rng.normal()})
    return pd.DataFrame(rows)


@quiet
def test_twfe_cr1_counts_the_time_effects_as_fixest_does():
    panel = _panel()
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
    panel = _panel(staggered=True)
    with pytest.warns(DesignWarning, match="Staggered adoption: units start treatment in"):
        twfe_did(panel, "y", "d", unit="household", time="period", cluster="village",
                 wild_reps=0, ri_reps=0)


@quiet
def test_a_single_treated_cluster_puts_the_exact_randomisation_p_first():
    panel = _panel(n_villages=12)
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


@pytest.mark.parametrize("kwargs, message", [
    (dict(power=0), "power is 0; expected a probability between 0 and 1"),
    (dict(power=1), "power is 1; expected a probability between 0 and 1"),
    (dict(alpha=0), "alpha is 0; expected a significance level"),
    (dict(mde=-10), "mde is -10; expected a positive effect"),
    (dict(cluster_size=0), "cluster_size is 0; expected a positive number"),
])
def test_design_arguments_are_checked_in_one_sentence(kwargs, message):
    design = dict(icc=0.05, n_clusters=None, cluster_size=20, mde=10, prevalence=0.3)
    with pytest.raises(ValueError, match=message):
        solve_design(**{**design, **kwargs})


def test_cluster_mde_checks_its_arguments():
    with pytest.raises(ValueError, match="cluster_size is 0"):
        cluster_mde(20, 0, 0.05)
    with pytest.raises(ValueError, match="n_clusters is 2"):
        cluster_mde(2, 20, 0.05)
    # and the formula itself: (t_.975 + t_.8) with G - 2 df times the design-effect SE
    se = np.sqrt((1 + 19 * 0.05) / (0.25 * 20 * 20))
    assert cluster_mde(20, 20, 0.05) == pytest.approx(
        (stats.t.ppf(0.975, 18) + stats.t.ppf(0.8, 18)) * se)


@quiet
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


@quiet
def test_unclustered_analyses_are_not_called_clustered():
    df = _individual()
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
