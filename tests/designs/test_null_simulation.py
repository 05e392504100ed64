"""Size of the tests in CCT's design: 18 treatment vs 18 control villages, stratified by
commune, about 20 households each, ICC 0.08, no true effect. CR2, the wild cluster bootstrap
and randomisation inference should each reject about 5 % of the time."""

from __future__ import annotations

import warnings

import pytest

from evalkit.designs import compare_arms
from tests.designs.helpers import cluster_trial


@pytest.mark.slow
def test_rejection_rates_under_the_null_are_close_to_five_percent():
    sims = 2000
    rejections = {"CR2": 0, "wild": 0, "RI": 0}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for s in range(sims):
            df = cluster_trial(seed=10_000 + s, icc=0.08, effect=0.0)
            r = compare_arms(df, "endline", "treated", "village", baseline="baseline",
                             strata="commune", wild_reps=999, ri_reps=999, seed=s)
            rejections["CR2"] += r.p_value < 0.05
            rejections["wild"] += r.p_wild < 0.05
            rejections["RI"] += r.p_ri < 0.05
    rates = {k: v / sims for k, v in rejections.items()}
    print("rejection rates at 5 %:", rates)
    for name, rate in rates.items():
        assert 0.03 <= rate <= 0.07, (name, rate)
