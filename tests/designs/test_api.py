"""The public API a researcher types in a notebook: every name the README gives is importable
from evalkit.designs / evalkit.indices, and option strings match in any case or are refused
with the valid values."""

import re
import warnings

import pytest

from tests.conftest import ROOT
from tests.designs.helpers import cluster_trial


def test_every_name_the_readme_lists_is_importable():
    import evalkit.designs as designs
    import evalkit.indices as indices

    readme = (ROOT / "README.md").read_text()
    row = next(line for line in readme.splitlines() if line.startswith("| `evalkit.designs`"))
    names = re.findall(r"`(\w+)`", row.split("|")[2])
    assert {"prepost", "trajectory", "compare_changes", "compare_arms"} <= set(names)
    for name in names:
        assert callable(getattr(designs, name)), name
        assert name in designs.__all__
    from evalkit.designs import prepost  # the function, not a module
    assert callable(prepost) and prepost.__module__ == "evalkit.designs.paired"
    for name in ("csi", "child_tracking", "case_closure", "family_assessment", "classification",
                 "residential_care", "shares"):
        assert name in indices.__all__ and hasattr(indices, name)


def test_option_strings_match_in_any_case_and_are_refused_with_the_valid_values():
    from evalkit.designs import compare_arms

    df = cluster_trial(seed=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lower = compare_arms(df, "endline", "treated", "village", baseline="baseline",
                             estimator="ancova", se="CR2", wild_reps=0, ri_reps=0)
        upper = compare_arms(df, "endline", "treated", "village", baseline="baseline",
                             estimator="ANCOVA", se="cr2", wild_reps=0, ri_reps=0)
        assert upper.estimate == lower.estimate and upper.se == lower.se
        with pytest.raises(ValueError, match=r"estimator is 'ancvoa' \(did you mean 'ancova'\?\); "
                                             r"expected one of 'ancova', 'did', 'endline'"):
            compare_arms(df, "endline", "treated", "village", baseline="baseline",
                         estimator="ancvoa", wild_reps=0, ri_reps=0)
        with pytest.raises(ValueError, match=r"se is 'CR3'.*expected one of 'CR2', 'CR1', 'HC1', 'iid'"):
            compare_arms(df, "endline", "treated", "village", se="CR3", wild_reps=0, ri_reps=0)


def test_results_display_as_short_reprs_tables_and_the_kits_p_wording():
    import pandas as pd

    from evalkit.designs import balance_table, compare_arms, compare_changes, icc, prepost
    from evalkit.display import p_phrase, p_value

    assert (p_value(0.00001), p_value(0.0234), p_value(float("nan"))) == ("< 0.001", "0.023", "–")
    assert (p_phrase(0.00001), p_phrase(0.5)) == ("p < 0.001", "p = 0.500")
    df = cluster_trial(seed=4, effect=2.0)
    df["outcome <b>"] = df["endline"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        effect = compare_arms(df, "outcome <b>", "treated", "village", wild_reps=99, ri_reps=99, seed=1)
        balance = balance_table(df, ["baseline"], "treated", "village", seed=1)
    for result in (effect, balance, icc(df, "baseline", "village")):
        text = repr(result)
        assert text.startswith("<") and len(text) < 300 and "\n" not in text
        page = result._repr_html_()
        assert "<table>" in page and "<b>" not in page  # text from data is escaped
    assert "0.0000" not in effect.summary() and "p (CR2) < 0.001" in effect.summary()
    assert "&lt;b&gt;" in effect._repr_html_()
    labelled = effect.to_frame(labelled=True)
    assert list(labelled.columns[:4]) == ["Outcome", "Estimator", "SE type", "Estimate"]
    long = pd.DataFrame({"unit": list(range(20)) * 2, "round": [1] * 20 + [2] * 20,
                         "score": list(range(20)) + [v + (v % 3) for v in range(20)],
                         "group": (["a", "b"] * 10) * 2})
    change = prepost(long, "score", "unit", "round", 1, 2, kind="continuous")
    assert "pairs" in repr(change) and "0.0000" not in change.summary()
    groups = compare_changes(long, "score", "unit", "round", 1, 2, "group", kind="continuous")
    assert "b minus a" in groups.summary() and "<table>" in groups._repr_html_()
