"""Project files that must stay in step: dependencies, CI entry point, README quick start."""

from __future__ import annotations

import json
import re
import tomllib

import pytest

from tests.conftest import ROOT


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~ \[]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def test_environment_yml_lists_the_same_dependencies_as_pyproject():
    import yaml

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = {_name(r) for r in project["dependencies"]}
    wanted |= {_name(r) for r in project["optional-dependencies"]["test"]}
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda = {_name(d) for d in env["dependencies"] if isinstance(d, str)} - {"python", "pip"}
    pip_only = {_name(d) for section in env["dependencies"] if isinstance(section, dict)
                for d in section.get("pip", []) if not d.startswith("-e")}
    assert conda | pip_only == wanted and not conda & pip_only
    # and the versions agree
    pins = {_name(r): re.sub(r"\[.*?\]", "", r.replace(" ", ""))  # extras are pip's, not conda's
            for r in project["dependencies"]}
    for dep in env["dependencies"]:
        if isinstance(dep, str) and _name(dep) in pins:
            assert dep.replace(" ", "") == pins[_name(dep)]


def test_required_stack_is_declared():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = {_name(r) for r in project["dependencies"]}
    assert {"jupyterlab", "pandas", "statsmodels", "linearmodels", "seaborn", "nbconvert",
            "papermill", "ipykernel"} <= names
    assert project["requires-python"] == ">=3.11"
    assert project["scripts"]["evalkit"] == "evalkit.cli:main"


def test_ci_runs_the_readme_test_command():
    assert "make test" in (ROOT / ".ci" / "run").read_text()
    readme = (ROOT / "README.md").read_text()
    quick = readme.split("## Quick start", 1)[1].split("##", 1)[0]
    assert "make reports" in quick and "make test" in quick


def test_notebooks_are_committed_without_outputs():
    notebooks = sorted((ROOT / "evalkit" / "notebooks").glob("*.ipynb"))
    notebooks += sorted((ROOT / "notebooks").glob("*.ipynb"))
    assert notebooks
    for path in notebooks:
        nb = json.loads(path.read_text())
        for cell in nb["cells"]:
            if cell["cell_type"] == "code":
                assert cell["outputs"] == [], f"{path.name} has outputs"
                assert cell["execution_count"] is None, f"{path.name} has execution counts"
        tagged = [c for c in nb["cells"] if "parameters" in c.get("metadata", {}).get("tags", [])]
        assert len(tagged) == 1, f"{path.name} needs exactly one parameters cell"


def test_every_programme_yml_key_is_documented():
    from evalkit.config import documented_keys
    from evalkit.report.sections import REGISTRY

    text = (ROOT / "docs" / "config.md").read_text()
    missing = sorted(k for k in documented_keys(REGISTRY) if f"`{k}`" not in text)
    assert not missing, f"keys missing from docs/config.md: {missing}"


@pytest.mark.slow
def test_an_installed_wheel_renders_a_report(tmp_path, synthetic_root):
    """A non-editable install (the wheel, outside the checkout) finds its notebooks and
    templates and renders a report."""
    import subprocess
    import sys

    wheel_dir = tmp_path / "wheel"
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps",
                            "-q", "-w", str(wheel_dir), str(ROOT)], capture_output=True, text=True)
    assert build.returncode == 0, build.stderr
    wheel = next(wheel_dir.glob("evalkit-*.whl"))
    target = tmp_path / "site"
    install = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q",
                              "--target", str(target), str(wheel)], capture_output=True, text=True)
    assert install.returncode == 0, install.stderr
    assert (target / "evalkit" / "notebooks" / "programme_report.ipynb").is_file()
    assert (target / "evalkit" / "templates" / "evalkit_report" / "index.html.j2").is_file()
    env = {**__import__("os").environ, "PYTHONPATH": str(target)}
    run = subprocess.run([sys.executable, "-c",
                          "import evalkit, sys; print(evalkit.__file__); "
                          "from evalkit.cli import main; "
                          f"sys.exit(main(['report', {str(synthetic_root / 'sko')!r}, '--out', "
                          f"{str(tmp_path / 'out')!r}]))"],
                         capture_output=True, text=True, cwd=tmp_path, env=env)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip().startswith(str(target))  # the installed copy, not the checkout
    assert (tmp_path / "out" / "sko.html").is_file()
