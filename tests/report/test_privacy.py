"""The output side of privacy: small cells suppressed, leaks found in rendered text."""

from evalkit.report.privacy import leaked


def test_leak_scan_finds_each_planted_value():
    assert leaked("<p>Keo Sophea, 012 345 678</p>", {"Keo Sophea", "012 345 678", "Chan Dara"}) \
        == ["012 345 678", "Keo Sophea"]
    assert leaked("<p>nothing here</p>", {"Keo Sophea"}) == []


def test_the_index_is_scanned_like_a_report(tmp_path):
    from evalkit.report.collection import write_index
    from evalkit.report.render import RenderResult

    failed = RenderResult("ngo", None, 1.0, "ngo: something mentioning Keo Sophea went wrong",
                          canaries=frozenset({"Keo Sophea"}))
    page = write_index([failed], tmp_path).read_text()
    assert "Keo Sophea" not in page and "withheld because it contained personal data" in page
