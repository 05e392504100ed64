"""Regression tests for the independent audit's findings (researcher workbench issue, item 8)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from evalkit.designs import DesignWarning, compare_arms, prepost, twfe_did
from evalkit.errors import DataError
from evalkit.indices import csi
from tests.designs.helpers import cluster_trial


def test_a_constant_outcome_is_said_and_gives_nan_not_rounding_noise():
    df = cluster_trial(seed=3).assign(endline=2.0)
    with pytest.warns(DesignWarning, match="does not vary"):
        r = compare_arms(df, "endline", "treated", "village", wild_reps=199, ri_reps=199, seed=1)
    assert np.isnan(r.estimate) and np.isnan(r.se) and np.isnan(r.p_value)
    assert np.isnan(r.p_wild) and np.isnan(r.p_ri)


def _three_periods(seed=4):
    df = cluster_trial(seed=seed, effect=0.4)
    df["household"] = np.arange(len(df))
    rng = np.random.default_rng(seed)
    parts = []
    for period, name in ((1, "Baseline"), (2, "Midline"), (3, "Endline")):
        y = df["baseline"] + 0.1 * period + rng.normal(0, 0.3, len(df))
        d = df["treated"] * (period == 3)
        parts.append(df.assign(period=period, name=name, y=y + 0.4 * d, d=d.astype(float)))
    return pd.concat(parts, ignore_index=True)


def test_twfe_orders_text_periods_by_their_meaning_not_alphabetically():
    panel = _three_periods()
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


def test_csi_change_defaults_compare_first_and_last_in_time():
    rows = []
    for i in range(8):
        for label in ("Baseline", "Midline", "Endline"):
            rows.append({"child_id": f"c{i}", "round": label,
                         **{c: str(1 + (i + len(label)) % 4) for c in csi.FACTORS}})
    frame = pd.DataFrame(rows)
    result = csi.change(frame)
    assert (result.before, result.after) == ("Baseline", "Endline")
    numbered = frame.assign(round=frame["round"].map({"Baseline": "1", "Midline": "2", "Endline": "10"}))
    result = csi.change(numbered)
    assert (result.before, result.after) == ("1", "10")  # '10' after '2', not alphabetically
    odd = frame.assign(round=frame["round"].map({"Baseline": "Dry", "Midline": "Wet", "Endline": "Cool"}))
    with pytest.raises(DataError, match="pass before= and after="):
        csi.change(odd)


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
