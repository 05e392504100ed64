"""The researcher's coefficient plot: one row per result, dots at the estimates, lines over
the CIs, filled for p < 0.05."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from evalkit.designs import compare_outcomes
from evalkit.plotting import coefficient_plot


def test_coefficient_plot_draws_each_estimate_and_ci(synthetic_root):
    from evalkit.designs.panel import pair_rounds

    survey = pd.read_csv(synthetic_root / "cct" / "household_survey.csv")
    outcomes = ["rci_better_care", "knowledge_score"]
    wide = pair_rounds(survey, "household_id", "round", "baseline", "endline", outcomes).wide
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = compare_outcomes(wide, {o: f"{o}_before" for o in outcomes}, "campaign", "village",
                                 strata="commune", wild_reps=0, ri_reps=0)
    fig = coefficient_plot(table, ["Attitude", "Knowledge"])
    ax = fig.axes[0]
    segments = ax.collections[0].get_segments()
    for seg, r in zip(segments, table.results):
        assert seg[0][0] == pytest.approx(r.ci_low) and seg[1][0] == pytest.approx(r.ci_high)
    dots = np.vstack([c.get_offsets() for c in ax.collections[1:] if len(c.get_offsets())])
    assert sorted(dots[:, 0]) == pytest.approx(sorted(r.estimate for r in table.results))
    top_down = sorted(zip(ax.get_yticks(), [t.get_text() for t in ax.get_yticklabels()]), reverse=True)
    assert [label for _, label in top_down] == ["Attitude", "Knowledge"]  # in the given order
    with pytest.raises(ValueError, match="one each"):
        coefficient_plot(table, ["only one"])
