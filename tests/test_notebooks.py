"""The researchers' notebooks in notebooks/ run from top to bottom on a programme folder, and
what they write is what the functions they call return (they hold no logic of their own)."""

from __future__ import annotations

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
def programme(synthetic_root, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("nb") / "cct"
    shutil.copytree(synthetic_root / "cct", folder)
    return folder


def _run(name: str, tmp_path: Path, **parameters) -> None:
    pm.execute_notebook(str(NOTEBOOKS / name), str(tmp_path / name), parameters=parameters,
                        kernel_name="python3", cwd=str(tmp_path), progress_bar=False)


def test_design_stage_notebook_writes_the_assignment_assign_draws(programme, tmp_path):
    target = tmp_path / "assignment.csv"
    _run("design_stage.ipynb", tmp_path, programme=str(programme), seed=7,
         assignment_csv=str(target))
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


def test_trial_analysis_notebook_exports_the_effects_compare_outcomes_returns(programme, tmp_path):
    out = tmp_path / "tables"
    _run("trial_analysis.ipynb", tmp_path, programme=str(programme), reps=199, seed=3,
         out=str(out))
    for name in ("effects", "balance"):
        for ext in ("tex", "xlsx", "csv", "md", "html"):
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
