"""The guided setup (notebooks/new_programme.ipynb): its steps as functions, and the notebook
driven end to end in a real JupyterLab by a headless Chromium, as a user without a terminal
would: pick an export, settle what was not recognised, check, render, open the report."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from evalkit.guide import check_lines, fill_ins, recognise, render, settle

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def _export(synthetic_root: Path, folder: Path) -> Path:
    """The CIF export with its round column renamed to a word no rule knows ('when') and no
    date to number the rounds by: the guide must ask for the round."""
    frame = pd.read_csv(synthetic_root / "cif" / "csi_assessments.csv", dtype=str)
    frame = frame.rename(columns={"assessment_number": "when"}).drop(columns="assessment_date")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "export.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.mark.slow
def test_the_guides_steps_make_a_report_from_an_export(synthetic_root, tmp_path):
    export = _export(synthetic_root, tmp_path / "in")
    found = recognise(tmp_path / "prog", [export])
    assert any("12 of the 12 CSI factors found" in line for line in found)
    todo = fill_ins(tmp_path / "prog")
    assert [(t.key, t.candidates[:1]) for t in todo] == [("round", ("when",))]
    ok, lines = check_lines(tmp_path / "prog")
    assert not ok and "FILL-IN" in lines[0]
    settle(tmp_path / "prog", {todo[0].line: "when"})
    assert fill_ins(tmp_path / "prog") == []
    ok, lines = check_lines(tmp_path / "prog")
    assert ok and "the report will render" in lines[0]
    assert any("personal columns dropped" in line for line in lines)
    page = render(tmp_path / "prog", tmp_path / "reports")
    assert page.is_file() and "child_name" not in page.read_text(encoding="utf-8")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.browser
@pytest.mark.slow
def test_the_guided_notebook_runs_end_to_end_in_jupyterlab(synthetic_root, tmp_path):
    if CHROMIUM is None:
        pytest.skip("Chromium is not installed (apt-get install chromium); browser test skipped")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    root = tmp_path / "repo"
    (root / "notebooks").mkdir(parents=True)
    shutil.copy(ROOT / "notebooks" / "new_programme.ipynb", root / "notebooks")
    export = _export(synthetic_root, root / "exports")
    port, token = _free_port(), "evalkit-guide-test"
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(tmp_path / "cfg"),
           "JUPYTER_RUNTIME_DIR": str(tmp_path / "rt"), "JUPYTER_DATA_DIR": str(tmp_path / "data")}
    env.pop("JUPYTER_PATH", None)
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}", "--ip=127.0.0.1",
         f"--ServerApp.token={token}", f"--ServerApp.root_dir={root}", "--allow-root",
         "--LabApp.news_url=", "--ServerApp.open_browser=False"],
        cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _wait_for(port, server)
        with sync_api.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM,
                                        args=["--no-sandbox", "--disable-gpu"])
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            page.set_default_timeout(120_000)
            page.goto(f"http://127.0.0.1:{port}/lab/tree/notebooks/new_programme.ipynb?token={token}")
            page.wait_for_selector(".jp-Notebook .jp-Cell")
            page.wait_for_selector("#jp-main-statusbar >> text=/\\| Idle/")
            try:
                _guide(page, export)
            except Exception:
                page.screenshot(path=str(tmp_path / "guide.png"), full_page=True)
                raise
            browser.close()
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
    report = root / "reports" / "guided.html"
    assert report.is_file()
    text = report.read_text(encoding="utf-8")
    assert "Child Status Index" in text or "CSI" in text
    config = (root / "data" / "programmes" / "guided" / "programme.yml").read_text(encoding="utf-8")
    assert "round: when" in config and "FILL-IN" not in config


def _wait_for(port: int, server: subprocess.Popen, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError("JupyterLab stopped: " + server.stderr.read().decode()[-2000:])
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.5)
    raise AssertionError("JupyterLab did not start")


def _guide(page, export: Path) -> None:
    page.click(".lm-MenuBar-itemLabel:text-is('Run')")
    page.click(".lm-Menu-itemLabel:text-is('Run All Cells')")
    field = page.wait_for_selector("input[placeholder='path to the export (a file or a folder)']")
    field.fill(str(export))
    page.fill("input[placeholder='a name for the programme folder']", "guided")
    page.click("button:has-text('Recognise')")
    page.wait_for_selector("text=line(s) to settle below >> visible=true")
    page.select_option(".widget-dropdown select", "when")
    page.click("button:has-text('Save answers')")
    page.wait_for_selector("text=saved 1 answer(s) >> visible=true")
    page.click("button:has-text('Check')")
    page.wait_for_selector("text=the report will render >> visible=true")
    page.click("button:has-text('Render report')")
    link = page.wait_for_selector("a.evalkit-open", timeout=240_000)
    # JupyterLab serves the relative link through its file handler
    assert "/files/reports/guided.html" in link.get_attribute("href")
