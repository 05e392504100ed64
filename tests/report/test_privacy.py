"""The privacy guard recognises personal columns however an export names them."""

import pandas as pd
import pytest

from evalkit.report.privacy import leaked_values, personal_columns, public_columns, suppress_small


@pytest.mark.parametrize("column", ["child_name", "ChildName", "first-name", "Full Name", "surname",
                                    "date_of_birth", "DateOfBirth", "dateofbirth", "dob", "phone1",
                                    "contact_number", "email", "national_id", "home address",
                                    "case_notes", "gps_latitude"])
def test_personal_columns_are_recognised(column):
    assert personal_columns([column]) == [column]


@pytest.mark.parametrize("column", ["household_size", "household_id", "client_id", "village",
                                    "commune", "assessment_date", "care_type", "home_owner",
                                    "id_poor", "respondent_age", "1A", "Food security"])
def test_analysis_columns_are_kept(column):
    assert personal_columns([column]) == []


def test_public_columns_and_leak_scan():
    df = pd.DataFrame({"client_id": ["C-1"], "ChildName": ["Keo Sophea"], "score": [3]})
    df.attrs["source"] = "x.csv"
    safe = public_columns(df)
    assert list(safe.columns) == ["client_id", "score"] and safe.attrs["source"] == "x.csv"
    assert leaked_values("<p>Keo Sophea</p>", df) == ["ChildName=Keo Sophea"]
    assert list(df.columns) == ["client_id", "ChildName", "score"]  # input untouched


def test_small_cells_are_suppressed():
    table = pd.DataFrame({"n": [3, 12, 0], "pct": [33.3, 50.0, float("nan")]})
    out = suppress_small(table, "n", 5, ["pct"])
    assert out["pct"].isna().tolist() == [True, False, True]
    assert out["n"].isna().tolist() == [True, False, False]
