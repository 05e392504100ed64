"""Pre/post analyses against scipy, statsmodels and hand-worked small cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats
from statsmodels.stats.contingency_tables import mcnemar

from evalkit.designs.paired import CAVEAT, compare_changes, prepost, trajectory


def long(before, after, extra_before=()):
    ids = list(range(len(before)))
    rows = [(i, "pre", v) for i, v in zip(ids, before)]
    rows += [(i, "post", v) for i, v in zip(ids, after) if v is not None]
    rows += [(100 + j, "pre", v) for j, v in enumerate(extra_before)]
    return pd.DataFrame(rows, columns=["id", "round", "y"])


def test_continuous_change_matches_scipy_and_a_hand_ci():
    before = [3.0, 4.0, 2.0, 5.0, 3.5]
    after = [4.0, 4.5, 3.0, 5.0, 5.0]
    r = prepost(long(before, after), "y", "id", "round", "pre", "post", kind="continuous")
    # differences: 1, .5, 1, 0, 1.5
    assert r.n_pairs == 5 and r.mean_change == pytest.approx(0.8)
    assert r.p_ttest == pytest.approx(stats.ttest_rel(after, before).pvalue, rel=1e-12)
    assert r.p_wilcoxon == pytest.approx(stats.wilcoxon(after, before).pvalue, rel=1e-12)
    # hand CI: sd of d = sqrt(0.325) ; t(0.975, 4) = 2.776445
    half = 2.7764451051977987 * np.sqrt(0.325) / np.sqrt(5)
    assert (r.ci_low, r.ci_high) == (pytest.approx(0.8 - half), pytest.approx(0.8 + half))
    assert r.standardised_change == pytest.approx(0.8 / np.std(before, ddof=1))
    assert (r.improved_pct, r.unchanged_pct, r.worse_pct) == (80.0, 20.0, 0.0)
    assert r.caveat == CAVEAT and "not an impact estimate" in r.summary()


def test_lower_is_better_flips_improved_and_worse():
    r = prepost(long([3, 3, 3], [2, 3, 4]), "y", "id", "round", "pre", "post",
                higher_is_better=False)
    assert (r.improved_pct, r.worse_pct) == pytest.approx((100 / 3, 100 / 3))
    assert r.kind == "ordinal"


def test_binary_change_exact_mcnemar_and_hand_ci():
    # 10 pairs: 4 gained (0->1), 1 lost (1->0), 3 stayed 1, 2 stayed 0
    before = [0, 0, 0, 0, 1, 1, 1, 1, 0, 0]
    after = [1, 1, 1, 1, 0, 1, 1, 1, 0, 0]
    r = prepost(long(before, after), "y", "id", "round", "pre", "post")
    assert r.kind == "binary" and (r.gained, r.lost) == (4, 1)
    assert r.change_pp == pytest.approx(30.0)
    table = np.array([[2, 4], [1, 3]])  # rows before 0/1, columns after 0/1
    assert r.p_mcnemar == pytest.approx(mcnemar(table, exact=True).pvalue, rel=1e-12)
    assert r.p_mcnemar == pytest.approx(stats.binomtest(4, 5, 0.5).pvalue, rel=1e-12)
    se = np.sqrt(4 + 1 - (4 - 1) ** 2 / 10) / 10  # = sqrt(4.1)/10
    assert r.ci_low == pytest.approx(0.3 - 1.959963984540054 * se)
    assert r.ci_high == pytest.approx(0.3 + 1.959963984540054 * se)


def test_attrition_is_counted_and_compared():
    before = [1.0, 2.0, 3.0, 4.0]
    after = [2.0, 3.0, None, None]
    r = prepost(long(before, after, extra_before=[5.0, 6.0]), "y", "id", "round", "pre", "post")
    assert r.n_pairs == 2
    att = r.attrition
    assert att.only_before == 4  # two not reassessed + two only ever seen before
    assert att.mean_stayers == pytest.approx(1.5) and att.mean_leavers == pytest.approx(4.5)
    expected = stats.ttest_ind([1.0, 2.0], [3.0, 4.0, 5.0, 6.0], equal_var=False).pvalue
    assert att.p_value == pytest.approx(expected)
    assert "4 unit(s) were assessed only before" in att.sentence()


def test_trajectory_fixed_effects_equal_a_dummy_variable_regression():
    rng = np.random.default_rng(0)
    n, rounds = 60, [1, 2, 3, 4]
    rows = []
    for i in range(n):
        a = rng.normal()
        for r in rounds:
            if r > 1 and rng.random() < 0.1:
                continue  # unbalanced panel
            rows.append((i, r, a + 0.3 * (r - 1) + rng.normal()))
    df = pd.DataFrame(rows, columns=["id", "round", "y"])
    result = trajectory(df, "y", "id", "round")
    X = pd.concat([pd.get_dummies(df["round"], prefix="r", drop_first=True),
                   pd.get_dummies(df["id"], prefix="u", drop_first=True)], axis=1).astype(float)
    ref = sm.OLS(df["y"], sm.add_constant(X)).fit(cov_type="cluster", cov_kwds={"groups": df["id"]})
    assert np.allclose(result.effects["change"], ref.params[["r_2", "r_3", "r_4"]], atol=1e-10)
    means = df.groupby("round")["y"].mean()
    assert np.allclose(result.by_round["mean"], means)
    assert result.n_units == 60 and result.n_obs == len(df)


def test_group_changes_are_descriptive_with_a_welch_interval():
    rng = np.random.default_rng(1)
    rows = []
    for i in range(40):
        g = "foster" if i < 15 else "kinship"
        b = rng.normal()
        rows += [(i, 1, g, b), (i, 2, g, b + (1.0 if g == "foster" else 0.4) + rng.normal(0, 0.5))]
    df = pd.DataFrame(rows, columns=["id", "round", "care", "y"])
    out = compare_changes(df, "y", "id", "round", 1, 2, "care")
    d = df.pivot(index="id", columns="round", values="y")
    change = d[2] - d[1]
    f, k = change[:15], change[15:]
    assert out.difference == pytest.approx(k.mean() - f.mean())
    assert out.p_value == pytest.approx(stats.ttest_ind(k, f, equal_var=False).pvalue)
    assert set(out.results) == {"foster", "kinship"}
    assert "not assigned at random" in out.caveat


def test_numeric_rounds_match_rounds_read_as_text():
    df = long([1.0, 2.0, 3.0], [2.0, 2.0, 4.0]).replace({"round": {"pre": "1", "post": "2"}})
    r = prepost(df, "y", "id", "round", 1, 2)
    assert r.n_pairs == 3 and r.mean_change == pytest.approx(2 / 3)


def test_wilcoxon_zero_convention_is_stated_and_pratt_is_offered():
    rng = np.random.default_rng(8)
    before = rng.integers(10, 40, 60)
    after = before + rng.choice([-3, -1, 0, 0, 0, 1, 2, 4], 60)  # many unchanged, sizes differ
    data = pd.DataFrame({"unit": np.tile(np.arange(60), 2), "round": np.repeat([1, 2], 60),
                         "score": np.concatenate([before, after]).astype(float)})
    default = prepost(data, "score", "unit", "round", 1, 2, kind="continuous")
    pratt = prepost(data, "score", "unit", "round", 1, 2, kind="continuous", zero_method="Pratt")
    assert default.p_wilcoxon == pytest.approx(stats.wilcoxon(after, before).pvalue)
    assert pratt.p_wilcoxon == pytest.approx(stats.wilcoxon(after, before, zero_method="pratt").pvalue)
    assert default.p_wilcoxon != pratt.p_wilcoxon
    assert "unchanged pairs dropped" in default.summary()
    assert pratt.wilcoxon_zero_method == "pratt"
