"""The API reference: built by Sphinx from the docstrings without a warning, every public
function's parameters documented with an example (numpydoc's validation), and every example
run as a doctest."""

from __future__ import annotations

import doctest
import importlib
import subprocess
import sys
import tomllib
import warnings

import pytest

from tests.conftest import ROOT

MODULES = ["evalkit.designs.assignment", "evalkit.designs.beyond_itt",
           "evalkit.designs.cluster_trial", "evalkit.designs.diagnosis", "evalkit.designs.models",
           "evalkit.designs.multiple", "evalkit.designs.paired", "evalkit.designs.panel",
           "evalkit.designs.power", "evalkit.tables", "evalkit.plotting", "evalkit.examples"]


def public_functions() -> list[str]:
    import evalkit.designs as designs

    names = [f"evalkit.designs.{n}" for n in designs.__all__
             if callable(getattr(designs, n)) and not isinstance(getattr(designs, n), type)]
    names += ["evalkit.tables.effects_table", "evalkit.tables.regression_table",
              "evalkit.tables.balance_export", "evalkit.plotting.power_curve",
              "evalkit.plotting.coefficient_plot", "evalkit.plotting.show_inline",
              "evalkit.examples.synthetic_programme"]
    return names


@pytest.mark.parametrize("name", public_functions())
def test_every_public_parameter_is_documented_with_an_example(name):
    from numpydoc.validate import validate

    result = validate(name)
    wanted = {"PR01": "a parameter is not documented", "PR02": "a documented parameter does not exist",
              "EX01": "no Examples section", "GL08": "no docstring", "RT01": "no Returns section"}
    problems = [f"{code} ({wanted[code]}): {message}" for code, message in result["errors"]
                if code in wanted]
    assert not problems, problems


@pytest.mark.parametrize("module", MODULES)
def test_docstring_examples_run(module):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        outcome = doctest.testmod(importlib.import_module(module),
                                  optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS)
    assert outcome.failed == 0, f"{outcome.failed} example(s) of {module} failed"


def test_public_functions_have_examples_that_are_tested():
    finder = doctest.DocTestFinder()
    tested = set()
    for module in MODULES:
        for test in finder.find(importlib.import_module(module)):
            if test.examples:
                tested.add(test.name.rsplit(".", 1)[-1])
    missing = [n for n in public_functions() if n.rsplit(".", 1)[-1] not in tested]
    assert not missing, missing


@pytest.mark.slow
def test_the_api_reference_builds_without_warnings(tmp_path):
    build = subprocess.run([sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b",
                            "html", str(ROOT / "docs" / "api"), str(tmp_path)],
                           capture_output=True, text=True, timeout=600)
    assert build.returncode == 0, build.stderr[-3000:]
    page = (tmp_path / "designs.html").read_text(encoding="utf-8")
    for name in ("compare_arms", "cluster_mde", "wild_reps", "ri_reps", "seed", "Examples"):
        assert name in page, name
    assert "estimate" in (tmp_path / "models.html").read_text(encoding="utf-8")
    assert "make docs" in (ROOT / "Makefile").read_text() or "docs:" in (ROOT / "Makefile").read_text()


def test_documentation_tools_are_in_the_test_extra_and_environment_yml():
    import yaml

    extra = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]["test"]
    env = yaml.safe_load((ROOT / "environment.yml").read_text())["dependencies"]
    for tool in ("sphinx", "numpydoc"):
        assert any(r.startswith(tool) for r in extra), tool
        assert any(isinstance(d, str) and d.startswith(tool) for d in env), tool
