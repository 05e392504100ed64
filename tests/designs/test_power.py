"""Power, MDE and ICC: hand formulas and simulation checks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from evalkit.designs import cluster_mde, cluster_power, icc


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
