"""The embedded synthetic data: shape, determinism, seed figures and recovery of the truth."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from evalkit import synth
from evalkit.indices import csi
from evalkit.data.read import read_table
from evalkit.synth.csi_programmes import CCT_PUBLISHED_IMPROVEMENT


def export(root, key):
    return read_table(root / key / "csi_assessments.csv")


def test_every_programme_folder_is_complete(synthetic_root):
    for key in ("cct", "cfi", "cif"):
        folder = synthetic_root / key
        for name in ("csi_assessments.csv", "programme.yml", "MODEL.md", "truth.json"):
            assert (folder / name).is_file(), f"{key}/{name} missing"
        columns = set(export(synthetic_root, key).columns)
        assert {"client_id", "child_name", "date_of_birth", "sex", "age", "village", "commune",
                "district", "province", "assessment_date", "assessor", *csi.FACTORS} <= columns


def test_cct_counts_match_the_seed(synthetic_root):
    df = export(synthetic_root, "cct")
    assert df["client_id"].nunique() == 219
    assert (df["assessment_number"] == "1").sum() == 219
    assert (df["assessment_number"] == "2").sum() == 29
    assert set(df["province"]) == {"Battambang"}


@pytest.mark.parametrize("definition_tolerance", [1.0])
def test_cct_reproduces_the_published_table_within_one_point(synthetic_root, definition_tolerance):
    df = export(synthetic_root, "cct")
    result = csi.change(df, child="client_id", round="assessment_number", before="1", after="2")
    assert result.children_paired == 29
    ours = result.improvement("relative_change")
    for name, published in CCT_PUBLISHED_IMPROVEMENT.items():
        assert abs(ours[name] - published) <= definition_tolerance, (name, ours[name], published)
    # every factor is rated for all 29 (they are school-age)
    factors = result.to_frame().query("level == 'factor'")
    assert (factors["children_paired"] == 29).all()


def test_cfi_and_cif_shapes(synthetic_root):
    cfi = export(synthetic_root, "cfi")
    assert cfi["client_id"].nunique() == 280
    assert sorted(cfi["assessment_number"].astype(int).unique()) == [1, 2, 3, 4, 5]
    cif = export(synthetic_root, "cif")
    baseline = cif[cif["assessment_number"] == "1"]
    assert baseline["care_type"].value_counts().to_dict() == {"kinship": 180, "foster": 95}
    assert set(cif["province"]) == {"Kandal"}
    # under-5s have 6A/6B not applicable, never a score
    young = cif["age"].astype(int) < 5
    assert (cif.loc[young, "6A"] == "n/a").all() and (cif.loc[~young, "6A"] != "n/a").all()


def test_deterministic_from_the_seed(synthetic_root, tmp_path):
    synth.write_all(tmp_path)
    for key in ("cct", "cfi", "cif"):
        for name in ("csi_assessments.csv", "programme.yml", "MODEL.md", "truth.json"):
            assert (tmp_path / key / name).read_bytes() == (synthetic_root / key / name).read_bytes()
    other = tmp_path / "other"
    synth.write_all(other, seed=1)
    assert (other / "cfi" / "csi_assessments.csv").read_bytes() != \
        (synthetic_root / "cfi" / "csi_assessments.csv").read_bytes()


def test_synth_refuses_to_overwrite_foreign_files(tmp_path):
    (tmp_path / "cct").mkdir()
    (tmp_path / "cct" / "my_real_export.csv").write_text("x\n")
    with pytest.raises(FileExistsError):
        synth.write_all(tmp_path)
    assert (tmp_path / "cct" / "my_real_export.csv").read_text() == "x\n"


@pytest.mark.parametrize("key", ["cfi", "cif"])
def test_round_means_recover_the_generating_model(synthetic_root, key):
    """Observed mean of each factor in each round lies within 4 standard errors of the exact
    expectation under the generating Markov chain (truth.json)."""
    truth = json.loads((synthetic_root / key / "truth.json").read_text())
    df = export(synthetic_root, key)
    values = csi.factor_scores(df).values
    group = df["care_type"] if "care_type" in df else pd.Series("all", index=df.index)
    groups = truth["groups"]
    for g in groups:
        in_group = (group == g) if len(groups) > 1 else pd.Series(True, index=df.index)
        for code in csi.FACTORS:
            expected = truth["expected_mean_by_round"][g][code]
            for r, mu in enumerate(expected, start=1):
                x = values.loc[in_group & (df["assessment_number"] == str(r)), code].dropna()
                se = x.std(ddof=1) / np.sqrt(len(x))
                assert abs(x.mean() - mu) < 4 * se + 1e-9, (key, g, code, r, x.mean(), mu)


def test_cct_village_trial_design(synthetic_root):
    villages = read_table(synthetic_root / "cct" / "villages.csv")
    assert len(villages) == 36 and villages["village"].nunique() == 36
    assert (villages["campaign"] == "1").sum() == 18
    per_commune = villages.groupby("commune")["campaign"].apply(lambda s: (s == "1").sum())
    sizes = villages.groupby("commune").size()
    assert len(sizes) == 8
    assert ((per_commune - sizes / 2).abs() <= 0.5).all()  # half of each commune, rounded
    survey = read_table(synthetic_root / "cct" / "household_survey.csv")
    base = survey[survey["round"] == "baseline"]
    end = survey[survey["round"] == "endline"]
    per_village = base.groupby("village").size()
    assert 16 <= per_village.min() and per_village.max() <= 24
    assert 19 <= per_village.mean() <= 21
    assert set(end["household_id"]) < set(base["household_id"])  # a panel with attrition
    assert 0.04 <= 1 - len(end) / len(base) <= 0.14
    # assignment is constant within village and matches villages.csv
    arm = base.groupby("village")["campaign"].agg(set)
    assert all(len(a) == 1 for a in arm)


def test_cct_trial_recovers_the_documented_truth(synthetic_root):
    import warnings

    from evalkit.designs import compare_outcomes, icc
    from evalkit.designs.panel import pair_rounds

    truth = json.loads((synthetic_root / "cct" / "truth.json").read_text())["trial"]
    survey = read_table(synthetic_root / "cct" / "household_survey.csv")
    outcomes = list(truth["effects"])
    for col in outcomes + ["campaign"]:
        survey[col] = survey[col].astype(float)
    base = survey[survey["round"] == "baseline"]
    for name in outcomes:
        assert 0.02 <= icc(base, name, "village").icc <= 0.2, name
    paired = pair_rounds(survey, "household_id", "round", "baseline", "endline", outcomes)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = compare_outcomes(paired.wide, {o: f"{o}_before" for o in outcomes}, "campaign",
                                 "village", strata="commune", wild_reps=0, ri_reps=0, seed=1)
    for r in table.results:
        effect = truth["effects"][r.outcome]
        true_value = effect.get("true_effect_points", 0.0)
        assert r.ci_low <= true_value <= r.ci_high, (r.outcome, r.ci_low, r.ci_high, true_value)
    # the published study found no significant difference on attitudes or knowledge, and the
    # synthetic trial reproduces it: no true effect, and no outcome significant at 5 %
    assert all(truth["effects"][o]["true_effect_latent_sd"] == 0 for o in outcomes)
    assert all(r.p_value >= 0.05 for r in table.results)


def test_the_trial_carries_take_up_attrition_and_subgroup_columns(synthetic_root):
    """Take-up in campaign villages with a little spill-over, slightly differential attrition
    and two subgroup columns, at the rates MODEL.md and truth.json state."""
    import pandas as pd

    survey = pd.read_csv(synthetic_root / "cct" / "household_survey.csv")
    truth = json.loads((synthetic_root / "cct" / "truth.json").read_text())["trial"]
    end = survey[survey["round"] == "endline"]
    take_up = end.groupby("campaign")["attended_session"].mean()
    assert take_up[1] == pytest.approx(truth["take_up"]["campaign"], abs=0.06)
    assert take_up[0] == pytest.approx(truth["take_up"]["comparison"], abs=0.03)
    assert (survey.loc[survey["round"] == "baseline", "attended_session"] == 0).all()
    base = survey[survey["round"] == "baseline"].groupby("campaign").size()
    kept = end.groupby("campaign").size()
    lost = 1 - kept / base
    assert lost[1] == pytest.approx(truth["attrition"]["campaign"], abs=0.03)
    assert lost[0] == pytest.approx(truth["attrition"]["comparison"], abs=0.03)
    assert set(truth["subgroups"]) == {"id_poor", "near_rci"}
    near = survey.groupby("village")["near_rci"].nunique()
    assert (near == 1).all()  # a village-level subgroup
