"""assign(): stratified, pair-matched and re-randomised assignment, and randomisation
inference that re-draws by the same procedure (checked against a hand enumeration)."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats

from evalkit.designs import assign, compare_arms
from evalkit.errors import DataError


def _villages(n=36, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"village": [f"V{i:02d}" for i in range(n)],
                         "commune": [f"C{i // 4}" for i in range(n)],
                         "baseline_score": rng.normal(30, 5, n),
                         "households": rng.integers(40, 200, n)})


def _distance(X, z):
    nt, nc = z.sum(), len(z) - z.sum()
    d = X[z == 1].mean(axis=0) - X[z == 0].mean(axis=0)
    S = np.cov(X, rowvar=False) * (1 / nt + 1 / nc)
    return float(d @ np.linalg.solve(np.atleast_2d(S), d))


def test_stratified_assignment_is_reproducible_and_halves_every_stratum():
    v = _villages()
    a = assign(v, "village", strata="commune", seed=42)
    again = assign(v, "village", strata="commune", seed=42)
    pd.testing.assert_frame_equal(a.table, again.table)
    assert not a.table.equals(assign(v, "village", strata="commune", seed=43).table)
    assert (a.table.groupby("stratum")["treatment"].sum() == 2).all()
    assert a.n_treated == 18 and list(a.table.columns) == ["village", "stratum", "treatment"]
    pd.testing.assert_frame_equal(v, _villages())  # input untouched


def test_odd_strata_treat_the_extra_unit_at_random_with_the_fraction():
    v = pd.DataFrame({"village": range(30), "commune": ["a"] * 10 + ["b"] * 10 + ["c"] * 9 + ["d"]})
    counts = [assign(v, "village", strata="commune", share=0.5, seed=s).table
              .groupby("stratum")["treatment"].sum()["c"] for s in range(400)]
    assert set(counts) == {4, 5}  # 9 units, half: 4 or 5, each about half the time
    assert abs(np.mean(counts) - 4.5) < 0.1


def test_pairs_are_neighbours_on_the_matching_variable_with_one_treated_each():
    v = _villages(n=12)
    a = assign(v, "village", pairs="baseline_score", seed=3)
    assert (a.table.groupby("pair")["treatment"].sum() == 1).all()
    ordered = v.sort_values("baseline_score")["village"].tolist()
    pairs = a.table.set_index("village")["pair"]
    assert all(pairs[ordered[2 * k]] == pairs[ordered[2 * k + 1]] for k in range(6))


def test_rerandomisation_meets_the_mahalanobis_criterion():
    v = _villages()
    a = assign(v, "village", strata="commune", balance_on=["baseline_score", "households"],
               rerandomise=0.05, seed=7)
    X = v[["baseline_score", "households"]].to_numpy(float)
    z = a.table["treatment"].to_numpy()
    assert a.threshold == pytest.approx(stats.chi2.ppf(0.05, 2))
    assert _distance(X, z) == pytest.approx(a.distance) and a.distance <= a.threshold
    assert a.tries >= 1 and "re-randomised" in a.summary()
    assert a.balance is not None and "meeting a Mahalanobis" in a.balance.omnibus_method


def test_assignment_from_household_rows_averages_within_villages():
    rows = _villages().loc[lambda d: d.index.repeat(3)].reset_index(drop=True)
    rows["baseline_score"] += np.tile([-1.0, 0.0, 1.0], 36)
    a = assign(rows, "village", strata="commune", balance_on=["baseline_score"], seed=1)
    assert len(a.table) == 36
    assert a.table.set_index("village")["baseline_score"].to_numpy() == pytest.approx(
        _villages()["baseline_score"].to_numpy())


def test_randomisation_inference_redraws_with_the_rerandomisation_criterion():
    rng = np.random.default_rng(4)
    v = pd.DataFrame({"village": range(10), "x": rng.normal(size=10)})
    a = assign(v, "village", balance_on=["x"], rerandomise=0.3, seed=2)
    households = v.loc[v.index.repeat(6)].reset_index(drop=True)
    households["treated"] = a.table.set_index("village").loc[households["village"], "treatment"].to_numpy()
    households["y"] = rng.normal(size=len(households)) + households["x"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = compare_arms(households, "y", "treated", "village", assignment=a,
                            wild_reps=0, ri_reps=10000)
        plain = compare_arms(households, "y", "treated", "village", wild_reps=0, ri_reps=10000)

    def t_of(z):
        fit = sm.OLS(households["y"], sm.add_constant(z[households["village"]])).fit(
            cov_type="cluster", cov_kwds={"groups": households["village"]})
        return fit.tvalues.iloc[1]

    X = v[["x"]].to_numpy()
    t_obs = t_of(a.table["treatment"].to_numpy(float))
    accepted = []
    for chosen in itertools.combinations(range(10), 5):
        z = np.zeros(10)
        z[list(chosen)] = 1
        if _distance(X, z) <= a.threshold + 1e-12:
            accepted.append(abs(t_of(z)) >= abs(t_obs) - 1e-10)
    assert len(accepted) < 252  # the criterion removed some of the C(10,5) assignments
    assert ours.ri_method.startswith(f"exact: all {len(accepted)} possible assignments meeting")
    assert ours.p_ri == pytest.approx(np.mean(accepted))
    assert plain.ri_method.startswith("exact: all 252")


def test_data_that_disagree_with_the_assignment_are_refused():
    v = _villages(n=8)
    a = assign(v, "village", seed=1)
    data = v.assign(treated=a.table["treatment"].to_numpy(float), y=np.arange(8.0))
    data.loc[0, "treated"] = 1 - data.loc[0, "treated"]
    with pytest.raises(DataError, match="differs from the assignment"):
        compare_arms(data, "y", "treated", "village", assignment=a, wild_reps=0)


def test_bad_options_say_what_is_expected():
    v = _villages()
    with pytest.raises(ValueError, match="rerandomise needs balance_on"):
        assign(v, "village", rerandomise=0.1, seed=1)
    with pytest.raises(ValueError, match="share must be 0.5"):
        assign(v, "village", pairs="households", share=0.3, seed=1)
    with pytest.raises(DataError, match="no column 'comune'"):
        assign(v, "village", strata="comune", seed=1)


def test_wrong_types_get_a_sentence_and_a_single_column_name_is_accepted():
    v = _villages()
    with pytest.raises(ValueError, match="share is 'half'; expected a number between 0 and 1"):
        assign(v, "village", share="half", seed=1)
    one = assign(v, "village", balance_on="baseline_score", seed=1)
    assert one.balance_on == ("baseline_score",)
    rows = v.loc[v.index.repeat(2)].reset_index(drop=True)
    rows["baseline_score"] = rows["baseline_score"].astype(object)
    rows.loc[5, "baseline_score"] = "unknown"
    with pytest.raises(DataError, match=r"row index 5, column 'baseline_score': the value is not a number"):
        assign(rows, "village", balance_on=["baseline_score"], seed=1)
