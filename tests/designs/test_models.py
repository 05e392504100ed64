"""estimate(): formulas, absorbed fixed effects and 2SLS against statsmodels, linearmodels,
pyfixest (when installed), a textbook example and hand-written re-draws."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf

from evalkit.designs import cace, compare_arms, estimate
from evalkit.errors import DataError
from tests.designs.helpers import cluster_trial

pytestmark = pytest.mark.filterwarnings("ignore::evalkit.designs.DesignWarning")


def _dose(seed=1, n=1500, villages=30):
    """Thornton-like: a randomised cash amount per person (re-drawn within villages), a
    continuous moderator, several arms assigned to whole villages, periods."""
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"village": rng.integers(0, villages, n), "period": rng.integers(0, 4, n),
                       "distance": rng.gamma(2.0, 1.0, n)})
    df["tinc"] = rng.choice([0.0, 0.1, 0.2, 0.5, 1.0, 1.5, 2.0, 3.0], n)
    df["arm"] = np.array(["control", "cash", "info"])[rng.integers(0, 3, villages)][df["village"]]
    df["got"] = (0.3 + 0.15 * df["tinc"] - 0.05 * df["distance"] + 0.02 * df["tinc"] * df["distance"]
                 + rng.normal(0, 0.3, n) + rng.normal(0, 0.1, villages)[df["village"]])
    return df


def test_dose_response_and_continuous_moderator_equal_statsmodels_cr1():
    df = _dose()
    ours = estimate(df, "got ~ tinc * distance", cluster="village", se="CR1")
    ref = smf.ols("got ~ tinc * distance", data=df).fit(
        cov_type="cluster", cov_kwds={"groups": df["village"]}, use_t=True)
    for term in ref.params.index:
        assert ours.params[term] == pytest.approx(ref.params[term], rel=1e-10, abs=1e-12)
        assert ours.std_errors[term] == pytest.approx(ref.bse[term], rel=1e-10)
        assert ours.pvalues[term] == pytest.approx(ref.pvalues[term], rel=1e-8, abs=1e-14)
    assert ours.r2 == pytest.approx(ref.rsquared, rel=1e-10)
    assert ours.adj_r2 == pytest.approx(ref.rsquared_adj, rel=1e-10)


@pytest.mark.parametrize("formula, vcov, se", [
    ("got ~ tinc + distance | village + period", {"CRV1": "village"}, "CR1"),
    ("got ~ tinc * distance | village", {"CRV1": "village"}, "CR1"),
    ("got ~ C(arm) + distance | period", {"CRV1": "village"}, "CR1"),
    ("got ~ tinc + distance | village + period", "hetero", "HC1"),
    ("got ~ tinc + distance | village + period", "iid", "iid"),
])
def test_fixed_effects_equal_pyfixest(formula, vcov, se):
    pf = pytest.importorskip("pyfixest")
    df = _dose()
    ours = estimate(df, formula, cluster="village" if se == "CR1" else None, se=se)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = pf.feols(formula, data=df, vcov=vcov, fixef_tol=1e-12).tidy()
    for term, row in ref.iterrows():
        assert ours.params[term] == pytest.approx(row["Estimate"], rel=1e-8, abs=1e-12)
        assert ours.std_errors[term] == pytest.approx(row["Std. Error"], rel=1e-8)
        assert ours.pvalues[term] == pytest.approx(row["Pr(>|t|)"], rel=1e-6, abs=1e-12)


def test_absorbed_effects_equal_the_dummy_regression():
    """Without pyfixest: one absorbed effect equals statsmodels with the dummies; two equal
    linearmodels' PanelOLS with entity and time effects."""
    from linearmodels.panel import PanelOLS

    df = _dose()
    ours = estimate(df, "got ~ tinc + distance | village", se="iid")
    ref = smf.ols("got ~ tinc + distance + C(village)", data=df).fit()
    assert ours.params["tinc"] == pytest.approx(ref.params["tinc"], rel=1e-10)
    assert ours.std_errors["tinc"] == pytest.approx(ref.bse["tinc"], rel=1e-10)
    assert ours.r2 == pytest.approx(ref.rsquared, rel=1e-10)
    panel = df.assign(obs=np.arange(len(df))).groupby(["village", "period"], as_index=False).mean(
        numeric_only=True)
    two = estimate(panel, "got ~ tinc + distance | village + period", se="iid")
    indexed = panel.set_index(["village", "period"])
    pl = PanelOLS(indexed["got"], indexed[["tinc", "distance"]], entity_effects=True,
                  time_effects=True).fit()
    assert two.params["tinc"] == pytest.approx(pl.params["tinc"], rel=1e-9)
    assert two.std_errors["tinc"] == pytest.approx(pl.std_errors["tinc"], rel=1e-9)


def test_wooldridge_example_15_1_iv_to_the_published_digits():
    """Wooldridge, Introductory Econometrics, Example 15.1: log(wage) on educ instrumented by
    father's education, 428 working women: .0592 (.0351), intercept .441 (.446)."""
    from linearmodels.datasets import mroz
    from linearmodels.iv import IV2SLS

    data = mroz.load()
    data = data[data["inlf"] == 1]
    ours = estimate(data, "np.log(wage) ~ 1 + [educ ~ fatheduc]", se="iid")
    assert round(ours.params["educ"], 4) == 0.0592 and round(ours.std_errors["educ"], 4) == 0.0351
    assert round(ours.params["Intercept"], 3) == 0.441
    assert round(ours.std_errors["Intercept"], 3) == 0.446
    assert ours.n_obs == 428 and ours.estimator == "2SLS"
    assert ours.first_stage["F"].iloc[0] == pytest.approx(
        (0.2694 / 0.0286) ** 2, rel=0.01)  # the textbook's first stage, t = 9.43
    fathered = data.assign(lwage=np.log(data["wage"]))
    more = estimate(fathered, "lwage ~ exper + expersq + [educ ~ fatheduc + motheduc]", se="HC1")
    ref = IV2SLS.from_formula("lwage ~ 1 + exper + expersq + [educ ~ fatheduc + motheduc]",
                              fathered).fit(cov_type="robust", debiased=True)
    for term in ref.params.index:
        assert more.params[term] == pytest.approx(ref.params[term], rel=1e-10)
        assert more.std_errors[term] == pytest.approx(ref.std_errors[term], rel=1e-10)
    assert more.r2 == pytest.approx(ref.rsquared, rel=1e-10)


def test_estimate_reproduces_compare_arms_inference_exactly():
    df = cluster_trial(seed=3)
    arms = compare_arms(df, "endline", "treated", "village", baseline="baseline",
                        strata="commune", wild_reps=499, ri_reps=499, seed=5)
    model = estimate(df, "endline ~ treated + baseline + C(commune)", treatment="treated",
                     cluster="village", strata="commune", wild_reps=499, ri_reps=499, seed=5)
    row = model["treated"]
    assert (row.estimate, row.se, row.df) == pytest.approx((arms.estimate, arms.se, arms.df),
                                                           rel=1e-10)
    assert (row.p_wild, row.p_ri) == (arms.p_wild, arms.p_ri)
    assert model.randomised == ("treated",) and np.isnan(model.coefficients.loc["baseline", "p_ri"])


def _small(seed=2):
    rng = np.random.default_rng(seed)
    clusters = 8
    z = np.array([1, 1, 1, 0, 0, 0, 1, 0], dtype=float)
    size = 6
    df = pd.DataFrame({"c": np.repeat(np.arange(clusters), size),
                       "x": rng.normal(size=clusters * size)})
    df["z"] = z[df["c"]]
    df["y"] = 0.4 * df["z"] + 0.5 * df["x"] + 0.3 * df["z"] * df["x"] \
        + rng.normal(size=clusters)[df["c"]] + rng.normal(size=len(df))
    return df, z


@pytest.mark.parametrize("ri_stat", ["coef", "t"])
def test_randomisation_inference_equals_a_hand_enumeration_for_an_interaction(ri_stat):
    """All C(8, 4) = 70 assignments refitted by statsmodels: the share at least as extreme."""
    df, z = _small()
    ours = estimate(df, "y ~ z * x", treatment="z", cluster="c", wild_reps=0, ri_reps=1000,
                    ri_stat=ri_stat, seed=1)
    assert ours.ri_method.startswith("exact: all 70 possible assignments")

    def stat(frame, term):
        fit = smf.ols("y ~ z * x", data=frame).fit(cov_type="cluster",
                                                   cov_kwds={"groups": frame["c"]})
        return fit.params[term] if ri_stat == "coef" else fit.tvalues[term]

    for term in ("z", "z:x"):
        observed = abs(stat(df, term))
        values = []
        for treated in itertools.combinations(range(8), 4):
            drawn = np.zeros(8)
            drawn[list(treated)] = 1
            values.append(abs(stat(df.assign(z=drawn[df["c"]]), term)))
        expected = np.mean(np.array(values) >= observed - 1e-9)
        assert ours.coefficients.loc[term, "p_ri"] == pytest.approx(expected, abs=1e-12)


def test_a_randomised_dose_is_redrawn_within_villages_and_matches_a_hand_permutation():
    df = _dose(n=300, villages=6)
    model = estimate(df, "got ~ tinc", treatment="tinc", cluster="village", ri_reps=200,
                     wild_reps=0, ri_stat="coef", seed=3)
    assert "units within clusters" in model.ri_method
    # the same permutations by hand: within each village, the doses shuffled
    rng = np.random.default_rng(7)
    observed = abs(smf.ols("got ~ tinc", data=df).fit().params["tinc"])
    beyond = 0
    for _ in range(200):
        shuffled = df["tinc"].groupby(df["village"]).transform(lambda s: rng.permutation(s.to_numpy()))
        beyond += abs(smf.ols("got ~ tinc", data=df.assign(tinc=shuffled)).fit().params["tinc"]) >= observed
    hand = (1 + beyond) / 201
    assert abs(model.coefficients.loc["tinc", "p_ri"] - hand) < 0.06  # two Monte Carlo draws
    assert model.coefficients.loc["tinc", "p_ri"] < 0.05  # a real dose effect


def test_several_arms_get_randomisation_p_values_per_arm():
    df = _dose()
    model = estimate(df, "got ~ C(arm, Treatment('control'))", treatment="arm", cluster="village",
                     wild_reps=199, ri_reps=199, seed=2)
    arms = [t for t in model.coefficients.index if t.startswith("C(arm")]
    assert set(model.randomised) == set(arms) and len(arms) == 2
    assert model.coefficients.loc[arms, "p_ri"].between(0, 1).all()
    assert model.control_mean == pytest.approx(df.loc[df["arm"] == "control", "got"].mean())


def test_cace_is_the_iv_case_with_reduced_form_randomisation_inference():
    df = cluster_trial(seed=11, effect=0.0)
    rng = np.random.default_rng(11)
    df["takeup"] = (df["treated"] * (rng.random(len(df)) < 0.6)).astype(float)
    df["y"] = df["baseline"] + 0.5 * df["takeup"] + rng.normal(0, 1, len(df))
    r = cace(df, "y", "treated", "takeup", cluster="village", wild_reps=499, ri_reps=499, seed=4)
    direct = estimate(df, "y ~ 1 + [takeup ~ treated]", treatment="treated", cluster="village",
                      wild_reps=499, ri_reps=499, seed=4)
    assert r.estimate == pytest.approx(direct.params["takeup"])
    assert r.p_ri == direct.coefficients.loc["takeup", "p_ri"]
    # the reduced form's randomisation p is compare_arms' on the outcome (Anderson–Rubin)
    itt = compare_arms(df, "y", "treated", "village", wild_reps=0, ri_reps=499, seed=4)
    assert abs(r.p_ri - itt.p_ri) < 0.03


def test_formula_mistakes_are_one_sentence():
    df = cluster_trial(seed=1)
    with pytest.raises(DataError, match=r"no column 'nope'; columns present"):
        estimate(df, "endline ~ treated + nope")
    with pytest.raises(DataError, match="expected 'outcome ~ regressors'"):
        estimate(df, "endline treated")
    with pytest.raises(DataError, match="cannot be read"):
        estimate(df, "endline ~ treated +* baseline")
    with pytest.raises(DataError, match="'village' is a combination of the others|collinear"):
        estimate(df.assign(v2=df["village"]), "endline ~ treated + village + v2")
