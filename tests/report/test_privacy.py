"""The output side of privacy: small cells suppressed, leaks found in rendered text."""

import pandas as pd

from evalkit.report.privacy import leaked, suppress_small


def test_leak_scan_finds_each_planted_value():
    assert leaked("<p>Keo Sophea, 012 345 678</p>", {"Keo Sophea", "012 345 678", "Chan Dara"}) \
        == ["012 345 678", "Keo Sophea"]
    assert leaked("<p>nothing here</p>", {"Keo Sophea"}) == []


def test_small_cells_are_suppressed():
    table = pd.DataFrame({"n": [3, 12, 0], "pct": [33.3, 50.0, float("nan")]})
    out = suppress_small(table, "n", 5, ["pct"])
    assert out["pct"].isna().tolist() == [True, False, True]
    assert out["n"].isna().tolist() == [True, False, False]
