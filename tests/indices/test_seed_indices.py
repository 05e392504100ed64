"""Each index reproduces its seed figures exactly from the synthetic data, with the stated
denominators."""

from __future__ import annotations

import pandas as pd
import pytest

from evalkit.designs.paired import prepost
from evalkit.errors import ConfigError, DataError
from evalkit.indices import case_closure as cc
from evalkit.indices import child_tracking as ct
from evalkit.indices import residential_care as rc
from evalkit.indices.classification import Category, Criterion, classify
from evalkit.indices.family_assessment import AREAS
from evalkit.indices.shares import Indicator, share_table
from evalkit.data.read import read_table
from evalkit.data.columns import numbers


def table(root, key, name):
    return read_table(root / key / name)


# ----------------------------------------------------------------------------- Child Tracking Tool


def test_child_tracking_counts_and_the_denominator_behind_75_6_3(synthetic_root):
    children = table(synthetic_root, "national_action_plan", "reintegration.csv")
    counts = ct.status_counts(children, "tracking_status")
    assert counts.to_dict() == {"green": 1021, "yellow": 78, "red": 34, "not located": 199,
                                "not yet updated": 87}
    declared = {"updated and entered": 1359}
    published = {"green": 75, "yellow": 6, "red": 3}
    assert ct.matching_denominators(counts, published, declared) == ["updated and entered"]
    shares = ct.status_table(counts, declared).set_index("status")
    assert round(shares.loc["green", "% of all children supported (1,419)"]) == 72
    assert round(shares.loc["green", "% of updated and entered (1,359)"]) == 75


def test_unknown_tracking_status_is_one_sentence():
    df = pd.DataFrame({"s": ["green", "purple"]})
    with pytest.raises(DataError, match=r"row index 1, column 's': the value is not a Child Tracking"):
        ct.status_counts(df, "s")


# ----------------------------------------------------------------------------- SKO


def test_sko_closure_ratings_and_problems(synthetic_root):
    ratings = cc.rating_table(table(synthetic_root, "sko", "closed_cases.csv")).set_index("rating")
    assert ratings["cases"].to_dict() == {"PO++": 0, "PO+": 26, "PO+=": 40, "PO": 2}
    problems = cc.problem_table(table(synthetic_root, "sko", "problems.csv")).set_index("problem type")
    total = problems.loc["all problems"]
    assert (total["problems"], total["totally solved"], total["partially solved"], total["unsolved"]) == (388, 114, 234, 40)
    assert round(problems.loc["administrative", "unsolved (%)"]) == 24
    assert round(problems.loc["addiction/substance use", "unsolved (%)"]) == 25
    # the two least solved types are these two, as the seed says
    top = problems.drop(index="all problems")["unsolved (%)"].nlargest(2).index
    assert set(top) == {"administrative", "addiction/substance use"}
    # every problem belongs to a closed case
    cases = set(table(synthetic_root, "sko", "closed_cases.csv")["case_id"])
    assert set(table(synthetic_root, "sko", "problems.csv")["case_id"]) == cases


# ----------------------------------------------------------------------------- MoSVY


@pytest.fixture(scope="module")
def register(synthetic_root):
    reg = table(synthetic_root, "national_action_plan", "rci_register.csv")
    for c in ("girls", "boys", "year"):
        reg[c] = numbers(reg, c)
    reg["year"] = reg["year"].astype(int)
    return reg


def test_tables_1_to_4(register):
    t1 = rc.children_by_year(register)
    assert t1.loc["girls"].tolist() == [7776, 3634, 3317]
    assert t1.loc["boys"].tolist() == [8803, 4000, 3461]
    assert t1.loc["total"].tolist() == [16579, 7634, 6778]
    t3 = rc.children_by_year(register, rc.TARGET_PROVINCES)
    assert t3.loc["total"].tolist() == [11788, 4760, 4209]
    assert t3.loc["girls"].tolist() == [5607, 2451, 2149]
    t2 = rc.children_left(register, 2015).iloc[0]
    assert (t2["2015–2018"], t2["2018–2019"], t2["total"], round(t2["percent_of_base_year"])) == (8945, 856, 9801, 59)
    t4 = rc.children_left(register, 2015, rc.TARGET_PROVINCES).iloc[0]
    assert (t4["2015–2018"], t4["2018–2019"], t4["total"], round(t4["percent_of_base_year"])) == (7028, 551, 7579, 64)


def test_table_5_rci_reduction_and_what_became_of_them(register):
    t5 = rc.rci_reduction(register, rc.TARGET_PROVINCES).set_index("year")
    assert t5["working_rcis"].iloc[:3].tolist() == [267, 147, 135]
    assert t5.loc["2018", "reduced"] == 120 and t5.loc["2019", "reduced"] == 12
    assert t5.loc["total", "reduced"] == 132 and round(t5.loc["total", "percent_reduction"]) == 49
    fates = rc.what_became_of(register, 2015, 2019)
    by_status = fates.groupby("status")["rcis"].sum().to_dict()
    assert by_status == {"closed": 77, "reclassified as community-based care": 24,
                         "transitioned to non-residential care": 73}
    closed = fates[fates["status"] == "closed"].set_index("closure_reason")["rcis"].to_dict()
    assert closed == {"failed minimum standards": 2, "lack of funding and donor support": 43,
                      "other or not specified": 32}
    assert rc.children_by_year(register).loc["rcis"].tolist() == [406, 265, 232]


def test_table_6_and_8(register, synthetic_root):
    children = table(synthetic_root, "national_action_plan", "reintegration.csv")
    t6 = rc.reintegration_vs_target(children, 3500).iloc[0]
    assert (t6["female"], t6["male"], t6["total"], round(t6["percent_of_target"])) == (720, 699, 1419, 41)
    t8 = rc.compliance_table(register, 2019)
    assert t8["rcis"].tolist() == [98, 59, 75, 134]
    assert [round(p) for p in t8["percent"]] == [42, 25, 32, 58]  # the report prints 57


# ----------------------------------------------------------------------------- M'Lop Tapang


def test_mlop_tapang_business_followup_and_access(synthetic_root):
    followup = table(synthetic_root, "mlop_tapang", "business_followup.csv")
    items = [Indicator("continuing", {"business_continuing": 1}),
             Indicator("higher income", {"income_increased": 1}, {"business_continuing": 1}),
             Indicator("main income", {"main_income": 1}, {"business_continuing": 1})]
    out = share_table(followup, items).set_index("indicator")
    assert (out.loc["continuing", "numerator"], out.loc["continuing", "denominator"]) == (32, 50)
    assert [round(p) for p in out["percent"]] == [64, 81, 66]
    access = table(synthetic_root, "mlop_tapang", "access.csv")
    for item, published in {"clean_water": 25, "toilet": 22, "transport": 47, "electricity": 24}.items():
        r = prepost(access, item, "beneficiary_id", "round", "before", "after", kind="binary")
        lacked = round(r.n_pairs * (1 - r.mean_before))
        assert r.n_pairs == 50 and r.lost == 0
        assert round(100 * r.gained / lacked) == published, item
    alcohol = table(synthetic_root, "mlop_tapang", "alcohol_group.csv")
    assert round(100 * (alcohol["drinking_now"] == "stopped").mean()) == 15


def test_share_table_by_hand():
    df = pd.DataFrame({"a": ["1", "1", "0", "1"], "b": ["x", "y", "x", "x"]})
    out = share_table(df, [Indicator("a among x", {"a": 1}, {"b": "x"}),
                           Indicator("a or b=y", {"b": ["y", "x"]})]).set_index("indicator")
    assert out.loc["a among x", ["numerator", "denominator"]].tolist() == [2, 3]
    assert out.loc["a or b=y", "percent"] == 100


# ----------------------------------------------------------------------------- CCPCR and tiers


def test_ccpcr_structured_assessment(synthetic_root):
    df = table(synthetic_root, "ccpcr", "family_assessment.csv")
    assert df["case_id"].nunique() == 20
    from evalkit.designs import prepost

    changes = pd.concat([prepost(df, area, "case_id", "assessment", "intake", "close",
                                 kind="ordinal").to_frame() for area in AREAS])
    assert len(changes) == 8 and (changes["n_pairs"] == 20).all()
    assert list(changes["outcome"]) == list(AREAS)


def test_classification_by_hand_and_from_configuration(synthetic_root):
    df = pd.DataFrame({"km": [1.0, 9.0, 12.0, 2.0], "ccwc": [1, 0, 0, 0]})
    criteria = [Criterion("km", ">", 8, "far"), Criterion("ccwc", "==", 0, "no CCWC")]
    categories = [Category("red", 2), Category("amber", 1), Category("green", 0)]
    out = classify(df, criteria, categories)
    assert out.category.tolist() == ["green", "red", "red", "amber"]
    assert out.counts().set_index("category")["units"].to_dict() == {"red": 2, "amber": 1, "green": 1}
    with pytest.raises(ConfigError, match="operator '=>'"):
        Criterion("km", "=>", 1, "bad")
    with pytest.raises(ConfigError, match="highest min_criteria"):
        classify(df, criteria, list(reversed(categories)))
    villages = table(synthetic_root, "cct", "villages.csv")
    from evalkit.synth import VILLAGE_RISK

    result = classify(villages, [Criterion(c["column"], c["op"], c["value"], c["label"])
                                 for c in VILLAGE_RISK["criteria"]],
                      [Category(c["name"], c["min_criteria"]) for c in VILLAGE_RISK["categories"]])
    assert result.counts()["units"].sum() == 36


def test_rcis_by_province_reproduce_the_2015_mapping(register):
    table = rc.by_province(register).set_index("province")
    mapping = {"Phnom Penh": 117, "Siem Reap": 80, "Battambang": 35, "Kampong Thom": 23,
               "Kandal": 20, "Kampot": 17, "Kampong Chhnang": 16, "Preah Sihanouk": 15,
               "Kampong Speu": 15}
    for province, rcis in mapping.items():
        assert table.loc[province, "RCIs 2015"] == rcis, province
    assert table["RCIs 2015"].sum() == 406 and table["RCIs 2019"].sum() == 232
    assert table.loc[list(rc.TARGET_PROVINCES), "children 2019"].sum() == 4209
    assert list(table.index[:5]) == ["Phnom Penh", "Siem Reap", "Battambang", "Kandal", "Preah Sihanouk"]
