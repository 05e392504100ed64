"""CSI scoring and change against hand-computed cases."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from evalkit.errors import DataError
from evalkit.indices import csi


def wide(rows: list[dict], **extra) -> pd.DataFrame:
    """Rows of {code: score}; unspecified factors get 3."""
    records = []
    for row in rows:
        record = {code: 3 for code in csi.FACTORS}
        record.update(row)
        records.append(record)
    return pd.DataFrame(records).assign(**extra)


def test_structure_matches_the_manual():
    assert csi.FACTORS == ("1A", "1B", "2A", "2B", "3A", "3B", "4A", "4B", "5A", "5B", "6A", "6B")
    assert list(csi.DOMAINS) == ["Food and nutrition", "Shelter and care", "Protection", "Health",
                                 "Psychosocial", "Education and skills"]
    assert sum(len(v) for v in csi.DOMAINS.values()) == 12
    assert csi.factor_code("Protection from abuse and exploitation") == "3A"
    assert csi.factor_code("work and education") == "6B"
    assert csi.factor_code("Education and work") == "6B"
    assert csi.factor_code("4b") == "4B"


def test_score_by_hand_with_not_applicable_and_missing():
    df = wide([
        {"1A": 1, "1B": 2, "6A": "n/a", "6B": "N/A"},   # young child: 6A/6B not applicable
        {"2A": 4, "2B": None},                          # 2B not rated (missing)
        {code: 4 for code in csi.FACTORS},
    ])
    out = csi.score(df)
    # row 0: food = (1+2)/2, education = NaN (both n/a), total missing (only 10 rated)
    assert out.loc[0, "Food and nutrition"] == 1.5
    assert math.isnan(out.loc[0, "Education and skills"])
    assert math.isnan(out.loc[0, "total"])
    assert out.loc[0, "factors_rated"] == 10
    assert out.loc[0, "factors_not_applicable"] == 2
    assert out.loc[0, "flagged"] == 2
    # row 1: shelter and care = mean of the rated factor only
    assert out.loc[1, "Shelter and care"] == 4.0
    assert math.isnan(out.loc[1, "total"])
    assert out.loc[1, "factors_not_applicable"] == 0
    # row 2: all good
    assert out.loc[2, "total"] == 48
    assert out.loc[2, "flagged"] == 0
    # a complete row of 3s totals 36
    assert csi.score(wide([{}])).loc[0, "total"] == 36


def test_score_is_row_aligned_and_leaves_input_untouched():
    df = wide([{"1A": 2}, {"1A": 4}]).set_axis([10, 7])
    before = df.copy()
    out = csi.score(df)
    assert list(out.index) == [10, 7]
    assert out.loc[7, "Food and nutrition"] == 3.5
    pd.testing.assert_frame_equal(df, before)


def test_columns_found_by_name_in_any_order():
    df = wide([{"1A": 1}])
    renamed = df.rename(columns={"1A": "Food security", "3A": "Protection from Abuse and Exploitation"})
    renamed = renamed[list(reversed(renamed.columns))]
    assert csi.score(renamed).loc[0, "flagged"] == 1


@pytest.mark.parametrize("bad", [0, 5, "goodish", 2.5, "3x", True])
def test_invalid_scores_raise_one_clear_error(bad):
    df = wide([{}, {}, {"3B": bad}])
    df.attrs["source"] = "cct/csi.csv"
    df.attrs["first_line"] = 2
    with pytest.raises(DataError) as info:
        csi.score(df)
    message = str(info.value)
    assert "cct/csi.csv, line 4" in message  # third data row, after the header line
    assert "column '3B'" in message
    assert str(bad) in message
    assert "\n" not in message


def test_invalid_score_in_a_plain_frame_names_the_row_index():
    df = wide([{"2B": 9}]).set_axis(["child-7"])
    with pytest.raises(DataError, match=r"data frame, row index 'child-7', column '2B': 9 "):
        csi.score(df)


def test_missing_factor_column_is_named():
    with pytest.raises(DataError, match="5B"):
        csi.score(wide([{}]).drop(columns="5B"))


def hand_change_data() -> pd.DataFrame:
    # children a, b, c at round 1; a, b, d at round 2 -> 2 paired, 1 only before, 1 only after
    rows = [
        ({"1A": 1, "2A": 2, "6A": "n/a"}, "a", 1),
        ({"1A": 2, "2A": 2, "6A": 3}, "b", 1),
        ({"1A": 4}, "c", 1),
        ({"1A": 3, "2A": 2, "6A": "n/a"}, "a", 2),
        ({"1A": 2, "2A": 1, "6A": 4}, "b", 2),
        ({"1A": 1}, "d", 2),
    ]
    df = wide([r[0] for r in rows])
    df["child_id"] = [r[1] for r in rows]
    df["round"] = [r[2] for r in rows]
    return df


def test_change_by_hand():
    result = csi.change(hand_change_data(), before=1, after=2)
    assert (result.children_before, result.children_after, result.children_paired) == (3, 3, 2)
    assert (result.only_before, result.only_after) == (1, 1)
    t = result.to_frame().set_index("code")
    # 1A: a 1->3, b 2->2
    row = t.loc["1A"]
    assert row["children_paired"] == 2
    assert row["mean_before"] == 1.5 and row["mean_after"] == 2.5 and row["mean_change"] == 1.0
    assert row["relative_change_pct"] == pytest.approx(100 * (2.5 - 1.5) / 1.5)
    assert (row["improved_pct"], row["unchanged_pct"], row["worse_pct"]) == (50, 50, 0)
    assert (row["flagged_before_pct"], row["flagged_after_pct"]) == (100, 50)
    # 2A: a 2->2, b 2->1
    row = t.loc["2A"]
    assert row["relative_change_pct"] == pytest.approx(-25.0)
    assert (row["improved_pct"], row["unchanged_pct"], row["worse_pct"]) == (0, 50, 50)
    # 6A: n/a for a at both rounds, so only b pairs (3 -> 4)
    row = t.loc["6A"]
    assert row["children_paired"] == 1
    assert row["mean_change"] == 1.0
    # domain Education and skills: a = 6B only (3->3), b = mean(3,3) -> mean(4,3)
    dom = t.loc["6A+6B"]
    assert dom["level"] == "domain"
    assert dom["mean_before"] == 3.0 and dom["mean_after"] == pytest.approx((3 + 3.5) / 2)
    # total: a has n/a so no total; b before: 36 - 1 (1A=2) - 1 (2A=2) = 34,
    # after: 36 - 1 (1A=2) - 2 (2A=1) + 1 (6A=4) = 34
    tot = t.loc["total"]
    assert tot["children_paired"] == 1
    assert tot["mean_before"] == 34 and tot["mean_after"] == 34
    # mean number of factors needing services: a 2 -> 1 (1A 3, 2A 2), b 2 -> 2 (1A 2, 2A 1)
    assert result.mean_flagged_before == 2.0 and result.mean_flagged_after == 1.5


def test_change_improvement_definitions():
    result = csi.change(hand_change_data(), before=1, after=2)
    rel = result.improvement("relative_change")
    share = result.improvement("share_improved")
    assert rel["Food security"] == pytest.approx(66.6667, abs=1e-3)
    assert share["Food security"] == 50.0
    assert "Work and education" in rel.index


def test_change_defaults_to_first_and_last_round_and_reports_unpaired():
    df = hand_change_data()
    extra = df[df["child_id"] == "a"].iloc[[0]].assign(round=3)
    result = csi.change(pd.concat([df, extra], ignore_index=True))
    assert (result.before, result.after) == (1, 3)
    assert result.children_paired == 1 and result.only_before == 2
    assert "only before: 2" in result.summary()


def test_change_rejects_duplicate_assessments_and_unknown_rounds():
    df = hand_change_data()
    dup = pd.concat([df, df.iloc[[0]]], ignore_index=True)
    with pytest.raises(DataError, match="assessed twice in round 1"):
        csi.change(dup, before=1, after=2)
    with pytest.raises(DataError, match="no round 7"):
        csi.change(df, before=1, after=7)


def test_flagged_by_round_by_hand():
    out = csi.flagged_by_round(hand_change_data()).set_index("round")
    assert out.loc[1, "children"] == 3
    # round 1: a flagged on 1A, 2A; b on 1A, 2A; c on nothing
    assert out.loc[1, "any_flagged_pct"] == pytest.approx(200 / 3)
    assert out.loc[1, "mean_flagged"] == pytest.approx(4 / 3)
    assert out.loc[1, "1A_flagged_pct"] == pytest.approx(200 / 3)
    # 6A flagged share over children rated on 6A at round 1 (b only: 3) = 0
    assert out.loc[1, "6A_flagged_pct"] == 0.0


def test_change_at_scale_matches_direct_means():
    rng = np.random.default_rng(1)
    n = 20000
    df = pd.DataFrame(rng.integers(1, 5, size=(2 * n, 12)), columns=list(csi.FACTORS))
    df["child_id"] = np.tile(np.arange(n), 2)
    df["round"] = np.repeat([1, 2], n)
    result = csi.change(df)
    t = result.to_frame().set_index("code")
    assert result.children_paired == n
    assert t.loc["1A", "mean_before"] == pytest.approx(df.loc[df["round"] == 1, "1A"].mean())


def test_a_rating_missing_in_one_round_is_not_change():
    # 6A rated 1 before and blank after; 6B 4 at both: nothing changed for this child
    df = wide([{"6A": 1, "6B": 4}, {"6A": None, "6B": 4}])
    df["child_id"] = ["a", "a"]
    df["round"] = [1, 2]
    result = csi.change(df)
    t = result.to_frame().set_index("code")
    assert t.loc["6A+6B", "mean_change"] == 0
    assert t.loc["6A+6B", "flagged_before_pct"] == t.loc["6A+6B", "flagged_after_pct"] == 0
    assert result.mean_flagged_before == result.mean_flagged_after == 0
    assert t.loc["6A", "children_paired"] == 0


def test_one_definition_of_factors_needing_services(synthetic_root):
    """The change's mean number of factors needing services is the paired mean of the
    per-assessment count the report's pre/post table tests (CFI has n/a ratings, where two
    definitions used to give 3.20 and 3.27 for the same children); outside the paired
    assessments the count is score()'s."""
    from evalkit.data.read import read_table
    from evalkit.designs import prepost

    df = read_table(synthetic_root / "cfi" / "csi_assessments.csv").rename(
        columns={"client_id": "child", "assessment_number": "round"})
    df["round"] = df["round"].astype(int)
    result = csi.change(df, child="child", round="round", before=1, after=5)
    flagged = csi.paired_flagged(df, "child", "round", 1, 5)
    frame = df[["child", "round"]].assign(flagged=flagged.to_numpy())
    paired = prepost(frame, "flagged", "child", "round", 1, 5, kind="continuous")
    assert paired.n_pairs == result.children_paired
    assert result.mean_flagged_before == pytest.approx(paired.mean_before, abs=1e-12)
    assert result.mean_flagged_after == pytest.approx(paired.mean_after, abs=1e-12)
    plain = csi.score(df)["flagged"]
    outside = ~df["round"].isin([1, 5]).to_numpy()
    assert (flagged[outside] == plain[outside]).all()
    assert (flagged <= plain).all() and (flagged != plain).any()


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
