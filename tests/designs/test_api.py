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
