"""Design diagnosis: the vectorised analysis of simulated trials equals compare_arms on the
same data, the simulated data have the declared ICC and R², and the reported rates agree
with what the methods are known to do."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from evalkit.designs import TrialDesign, compare_arms, diagnose, icc, simulate_trial
from evalkit.designs import diagnosis as dg


@pytest.mark.parametrize("assignment, estimator, attrition", [
    ("complete", "ancova", 0.0), ("stratified", "ancova", 0.2), ("pairs", "did", 0.1),
    ("complete", "endline", 0.0)])
def test_batched_analysis_equals_compare_arms_on_the_same_trials(assignment, estimator, attrition):
    design = TrialDesign(n_clusters=8, cluster_size=6, icc=0.1, r2=0.4, effect=0.3,
                         attrition=attrition, assignment=assignment, estimator=estimator,
                         cv_cluster_size=0.3)
    rng = np.random.default_rng(3)
    sizes = design.sizes(rng)
    d = dg._draw(design, sizes, 3, rng)
    y = d["y_null"] + design.effect * d["z"][:, d["cl"]]
    ours = dg.analyse_batch(design, d, y, sizes, 0, 1000, rng)
    for s in range(3):
        df = pd.DataFrame({"c": d["cl"], "z": d["z"][s][d["cl"]], "b": d["b"][s],
                           "st": d["strata"][s][d["cl"]],
                           "y": np.where(d["observed"][s], y[s], np.nan)})
        kwargs = {} if estimator == "endline" else dict(baseline="b", estimator=estimator)
        strata = None if assignment == "complete" else "st"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cr2 = compare_arms(df, "y", "z", "c", strata=strata, wild_reps=0, ri_reps=1000,
                               seed=1, **kwargs)
            cr1 = compare_arms(df, "y", "z", "c", strata=strata, se="CR1", wild_reps=0,
                               ri_reps=0, **kwargs)
        assert ours["estimate"][s] == pytest.approx(cr2.estimate, abs=1e-12)
        assert ours["se_cr2"][s] == pytest.approx(cr2.se, rel=1e-10)
        assert ours["df_cr2"][s] == pytest.approx(cr2.df, rel=1e-10)
        assert ours["se_cr1"][s] == pytest.approx(cr1.se, rel=1e-10)
        assert cr2.ri_method.startswith("exact")  # both enumerate every assignment
        assert ours["p_ri"][s] == pytest.approx(cr2.p_ri, abs=1e-12)


def test_simulated_trials_have_the_declared_icc_and_baseline_r2():
    df = simulate_trial(n_clusters=400, cluster_size=10, icc=0.2, r2=0.36, effect=0.0, seed=5)
    assert icc(df, "y", "cluster").icc == pytest.approx(0.2, abs=0.04)
    assert np.corrcoef(df["y"], df["baseline"])[0, 1] ** 2 == pytest.approx(0.36, abs=0.04)
    assert df["y"].var() == pytest.approx(1.0, abs=0.06)
    arms = df.groupby("cluster")["treatment"].first()
    assert arms.sum() == 200
    lost = simulate_trial(n_clusters=100, cluster_size=10, icc=0.1, attrition=0.3, seed=6)
    assert lost["y"].isna().mean() == pytest.approx(0.3, abs=0.03)
    assert (lost["y"].isna() == (lost["observed"] == 0)).all()


def test_diagnosis_reports_unbiased_estimates_and_nominal_coverage_with_mc_errors():
    d = diagnose(n_clusters=20, cluster_size=10, icc=0.1, r2=0.3, effect=0.3, sims=400,
                 wild_reps=99, ri_reps=99, seed=11, progress=False, keep_draws=True)
    table = d.to_frame().set_index("method")
    assert abs(table.loc["CR2", "bias"]) < 3 * table.loc["CR2", "bias_mcse"] + 1e-9
    assert table.loc["CR2", "coverage"] == pytest.approx(0.95, abs=3 * table.loc["CR2", "coverage_mcse"] + 0.01)
    # Monte Carlo standard error of a rate is sqrt(r (1 - r) / sims), computed here by hand
    r = table.loc["CR2", "power"]
    assert table.loc["CR2", "power_mcse"] == pytest.approx(np.sqrt(r * (1 - r) / 400))
    draws = d.draws
    from scipy import stats

    p = 2 * stats.t.sf(np.abs(draws["alt_estimate"] / draws["alt_se_cr2"]), draws["alt_df_cr2"])
    assert table.loc["CR2", "power"] == pytest.approx(np.mean(p < 0.05))
    assert table.loc["CR2", "rmse"] == pytest.approx(np.sqrt(np.mean((draws["alt_estimate"] - 0.3) ** 2)))
    assert "Design diagnosis" in d._repr_html_() and d.seed == 11 and "power" in repr(d)


def test_declarations_are_checked_in_one_sentence():
    with pytest.raises(ValueError, match="icc is 1.5; expected a share"):
        TrialDesign(n_clusters=10, cluster_size=5, icc=1.5)
    with pytest.raises(ValueError, match="assignment is 'blocked'"):
        TrialDesign(n_clusters=10, cluster_size=5, icc=0.1, assignment="blocked")
    with pytest.raises(ValueError, match="sims is 1"):
        diagnose(n_clusters=10, cluster_size=5, icc=0.1, sims=1, progress=False)


@pytest.mark.slow
def test_size_under_the_null_of_each_method_at_8_and_36_clusters():
    """The point of a diagnosis: at 8 clusters CR2 keeps its size and the exact
    randomisation test is conservative (its p-values are multiples of 2/70), while CR1
    over-rejects; at 36 clusters in strata of four CR2, the wild bootstrap and
    randomisation inference are all near 5 %."""
    few = diagnose(n_clusters=8, cluster_size=20, icc=0.1, r2=0.3, sims=2000, seed=1,
                   progress=False).to_frame().set_index("method")["size"]
    print("size at 8 clusters:", few.to_dict())
    assert 0.035 <= few["CR2"] <= 0.065
    assert 0.02 <= few["randomisation inference"] <= 0.05
    assert few["CR1"] > few["CR2"]
    many = diagnose(n_clusters=36, cluster_size=20, icc=0.08, r2=0.3, sims=1500, seed=2,
                    assignment="stratified", progress=False).to_frame().set_index("method")["size"]
    print("size at 36 clusters:", many.to_dict())
    for method in ("CR2", "wild bootstrap", "randomisation inference"):
        assert 0.03 <= many[method] <= 0.07, (method, many[method])
