"""Power, MDE and ICC: hand formulas and simulation checks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from evalkit.designs import cluster_mde, cluster_power, icc, solve_design


def test_mde_is_the_textbook_formula():
    G, m, rho = 36, 20, 0.07
    deff = 1 + (m - 1) * rho
    se = np.sqrt(deff / (0.25 * G * m))
    expected = (stats.t.ppf(0.975, G - 2) + stats.t.ppf(0.8, G - 2)) * se
    assert cluster_mde(G, m, rho) == pytest.approx(expected, rel=1e-12)
    # unequal cluster sizes (Eldridge et al. 2006) and covariates
    deff_cv = 1 + ((1 + 0.4 ** 2) * m - 1) * rho
    se_cv = np.sqrt(deff_cv * (1 - 0.3) / (0.25 * G * m))
    assert cluster_mde(G, m, rho, r2=0.3, cv_cluster_size=0.4) == pytest.approx(
        (stats.t.ppf(0.975, G - 2) + stats.t.ppf(0.8, G - 2)) * se_cv, rel=1e-12)


def test_power_inverts_the_mde():
    mde = cluster_mde(36, 20, 0.07)
    assert cluster_power(mde, 36, 20, 0.07) == pytest.approx(0.8, abs=1e-3)
    assert cluster_power(0.0, 36, 20, 0.07) == pytest.approx(0.05, abs=1e-3)
    assert cluster_power(2 * mde, 36, 20, 0.07) > 0.99


def test_power_formula_matches_a_simulation():
    """18 vs 18 villages, 20 households each, ICC 0.07, effect = the MDE: about 80 % of
    simulated trials reject at 5 % with a t-test on village means (df = G - 2)."""
    G, m, rho, sims = 36, 20, 0.07, 4000
    mde = cluster_mde(G, m, rho)
    rng = np.random.default_rng(2024)
    z = np.repeat([1.0, 0.0], G // 2)
    u = rng.normal(0, np.sqrt(rho), (sims, G))
    e_means = rng.normal(0, np.sqrt((1 - rho) / m), (sims, G))
    means = mde * z + u + e_means
    t, p = stats.ttest_ind(means[:, z == 1], means[:, z == 0], axis=1)
    rate = np.mean(p < 0.05)
    assert abs(rate - 0.80) < 0.03, rate


def test_icc_anova_estimator_by_hand_and_recovery():
    df = pd.DataFrame({"g": [1, 1, 2, 2, 3, 3], "y": [1.0, 2.0, 3.0, 4.0, 5.0, 7.0]})
    # group means 1.5, 3.5, 6; grand 11/3; SSB = 2*((1.5-11/3)^2+(3.5-11/3)^2+(6-11/3)^2)
    ssb = 2 * ((1.5 - 11 / 3) ** 2 + (3.5 - 11 / 3) ** 2 + (6 - 11 / 3) ** 2)
    ssw = 0.5 + 0.5 + 2.0
    msb, msw = ssb / 2, ssw / 3
    result = icc(df, "y", "g")
    assert result.icc == pytest.approx((msb - msw) / (msb + (2 - 1) * msw))
    assert result.n_clusters == 3 and result.mean_cluster_size == 2
    rng = np.random.default_rng(5)
    G, m, rho = 600, 20, 0.08
    g = np.repeat(np.arange(G), m)
    y = rng.normal(0, np.sqrt(rho), G)[g] + rng.normal(0, np.sqrt(1 - rho), G * m)
    assert icc(pd.DataFrame({"g": g, "y": y}), "y", "g").icc == pytest.approx(rho, abs=0.015)


# ------------------------------------------------------------------------------ solve_design


def _hand_mde_sd(g, m, rho, p=0.5, alpha=0.05, power=0.8):
    """Textbook MDE (SD units), equal cluster sizes: (t_{1−α/2} + t_{power}) × √(deff / (P(1−P)·G·m))."""
    from scipy import stats

    deff = 1 + (m - 1) * rho
    return (stats.t.ppf(1 - alpha / 2, g - 2) + stats.t.ppf(power, g - 2)) * np.sqrt(deff / (p * (1 - p) * g * m))


def test_mde_in_percentage_points_matches_the_textbook_formula():
    d = solve_design(icc=0.05, n_clusters=36, cluster_size=20, mde=None, prevalence=0.4, attrition=0.1)
    sd_units = _hand_mde_sd(36, 18, 0.05)
    assert d.mde_sd == pytest.approx(sd_units, rel=1e-10)
    assert d.mde == pytest.approx(100 * sd_units * np.sqrt(0.4 * 0.6), rel=1e-10)
    assert d.unit == "percentage points" and d.analysed_size == 18


def test_solved_clusters_and_cluster_size_are_the_smallest_that_reach_the_mde():
    d = solve_design(icc=0.05, n_clusters=None, cluster_size=20, mde=10, prevalence=0.4, attrition=0.1)
    target = 10 / 100 / np.sqrt(0.24)
    assert _hand_mde_sd(d.n_clusters, 18, 0.05) <= target < _hand_mde_sd(d.n_clusters - 2, 18, 0.05)
    s = solve_design(icc=0.02, n_clusters=60, cluster_size=None, mde=0.5, outcome_sd=2.2)
    target = 0.5 / 2.2
    m = int(s.cluster_size)
    assert _hand_mde_sd(60, m, 0.02) <= target < _hand_mde_sd(60, m - 1, 0.02)
    assert s.unit == "points"


def test_power_and_mde_are_inverse():
    d = solve_design(icc=0.1, n_clusters=40, cluster_size=15, mde=None, outcome_sd=2.2, r2=0.3)
    back = solve_design(icc=0.1, n_clusters=40, cluster_size=15, mde=d.mde, power=None,
                        outcome_sd=2.2, r2=0.3)
    # equal up to the far tail the power formula adds (T_df(−|δ|/SE − t_crit), about 1e-5 here)
    assert back.power == pytest.approx(0.8, abs=1e-4) and back.power >= 0.8


def test_individual_randomisation_agrees_with_statsmodels():
    """ICC 0 and one unit per cluster is an individually randomised two-sample t test:
    power within half a point of statsmodels' noncentral-t value."""
    from statsmodels.stats.power import TTestIndPower

    d = solve_design(icc=0.0, n_clusters=100, cluster_size=1, mde=0.5, power=None, outcome_sd=1.0)
    reference = TTestIndPower().power(effect_size=0.5, nobs1=50, ratio=1.0, alpha=0.05)
    assert d.power == pytest.approx(reference, abs=0.005)


def test_unreachable_designs_and_bad_options_are_one_sentence():
    with pytest.raises(ValueError, match="no cluster size can detect"):
        solve_design(icc=0.05, n_clusters=36, cluster_size=None, mde=10, prevalence=0.4)
    with pytest.raises(ValueError, match="exactly one"):
        solve_design(icc=0.05, n_clusters=None, cluster_size=None, mde=10, prevalence=0.4)
    with pytest.raises(ValueError, match="outcome_sd .* or prevalence"):
        solve_design(icc=0.05, n_clusters=36, cluster_size=20, mde=None)


def test_power_curve_rises_and_marks_the_design():
    from evalkit.plotting import power_curve

    d = solve_design(icc=0.05, n_clusters=None, cluster_size=20, mde=10, prevalence=0.4)
    fig = power_curve(d)
    ax = fig.axes[0]
    curve = ax.get_lines()[0].get_ydata()
    assert np.all(np.diff(curve) >= 0) and curve[-1] > 80
    point = [line for line in ax.get_lines() if line.get_marker() == "o"][0]
    assert point.get_xdata()[0] == d.n_clusters and point.get_ydata()[0] >= 80
    assert "%" in ax.get_ylabel()


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
