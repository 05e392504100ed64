"""The researchers' notebooks in notebooks/ run from top to bottom on a programme folder, and
what they write is what the functions they call return (they hold no logic of their own)."""

from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path

import pandas as pd
import papermill as pm
import pytest

from evalkit import load_programme as load
from evalkit.designs import DesignWarning, assign, compare_outcomes, pair_rounds

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def checkout(synthetic_root, tmp_path_factory) -> Path:
    """A stand-in for the repository root: its notebooks/ folder and data/synthetic/cct (the
    notebooks find their default data from wherever they run)."""
    root = tmp_path_factory.mktemp("checkout")
    shutil.copytree(NOTEBOOKS, root / "notebooks")
    shutil.copytree(synthetic_root / "cct", root / "data" / "synthetic" / "cct")
    (root / "pyproject.toml").write_text("[project]\nname = 'stand-in'\n")
    return root


@pytest.fixture(scope="module")
def programme(checkout) -> Path:
    return checkout / "data" / "synthetic" / "cct"


def _run(name: str, tmp_path: Path, cwd: Path, **parameters) -> dict:
    """Execute notebooks/<name> with the kernel in ``cwd``; returns the executed notebook."""
    import json

    pm.execute_notebook(str(NOTEBOOKS / name), str(tmp_path / name), parameters=parameters,
                        kernel_name="python3", cwd=str(cwd), progress_bar=False)
    return json.loads((tmp_path / name).read_text())


def _figures(notebook: dict) -> int:
    return sum("image/png" in output.get("data", {}) for cell in notebook["cells"]
               for output in cell.get("outputs", []))


def test_design_stage_notebook_writes_the_assignment_assign_draws(checkout, programme, tmp_path):
    """Run from the repository root with the default programme: the figure is shown inline,
    and the assignment written is the one assign draws."""
    target = tmp_path / "assignment.csv"
    executed = _run("design_stage.ipynb", tmp_path, checkout, seed=7, sims=200,
                    assignment_csv=str(target))
    assert _figures(executed) >= 1
    text = json.dumps(executed)
    assert "Design diagnosis" in text  # the diagnosis table (the figure also has a text fallback)
    written = pd.read_csv(target)
    data = load(programme)
    cfg = data.config.trial
    baseline = data.trial[data.trial[cfg.round] == cfg.baseline]
    direct = assign(baseline, cfg.cluster, strata=cfg.strata,
                    balance_on=["rci_better_care", "knowledge_score"], rerandomise=0.2, seed=7)
    assert written["village"].tolist() == direct.table["village"].tolist()
    assert written["treatment"].tolist() == direct.table["treatment"].tolist()
    per = written.groupby("stratum")["treatment"].agg(["sum", "count"])
    assert ((per["sum"] - per["count"] / 2).abs() <= 0.5).all()  # half, odd strata by a coin


def test_trial_analysis_notebook_exports_the_effects_compare_outcomes_returns(checkout, programme,
                                                                           tmp_path):
    """Run from notebooks/ with the default programme: the coefficient plot is shown inline,
    and the tables written hold what compare_outcomes returns."""
    out = tmp_path / "tables"
    executed = _run("trial_analysis.ipynb", tmp_path, checkout / "notebooks", reps=199, seed=3,
                    out=str(out))
    assert _figures(executed) >= 1
    assert "randomisation statistic: the coefficient's t statistic" in json.dumps(executed)
    for name in ("effects", "balance", "models"):
        for ext in ("tex", "xlsx", "csv", "md", "html", "docx"):
            assert (out / f"{name}.{ext}").stat().st_size > 0
    data = load(programme)
    cfg = data.config.trial
    outcomes = [o.name for o in cfg.outcomes]
    paired = pair_rounds(data.trial, cfg.unit, cfg.round, cfg.baseline, cfg.endline, outcomes)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DesignWarning)
        direct = compare_outcomes(paired.wide, {o: f"{o}_before" for o in outcomes},
                                  cfg.treatment, cfg.cluster, strata=cfg.strata, wild_reps=199,
                                  ri_reps=199, seed=3).to_frame()
    written = pd.read_csv(out / "effects.csv")
    for column in ("estimate", "se", "p_value", "p_wild", "p_ri"):
        assert written[column].to_numpy() == pytest.approx(direct[column].to_numpy(), rel=1e-9)
    # the synthetic CCT trial reproduces the study: no significant difference on any outcome
    assert (written["p_value"] > 0.05).all()
