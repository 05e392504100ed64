"""The batch pipeline: parallel workers, failures isolated and explained in one line, cell
timeouts, kept executed notebooks, and reproducible HTML."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys

import nbformat
import pytest

from evalkit.data.read import read_table
from evalkit.report.render import Extras, render_programme


pytestmark = pytest.mark.slow  # each test renders reports (make test runs them)


def _break_score(folder):
    path = folder / "csi_assessments.csv"
    lines = path.read_text().splitlines()
    header = lines[0].split(",")
    cells = lines[5].split(",")
    cells[header.index("2B")] = "excellent"
    lines[5] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n")


def test_parallel_batch_isolates_a_broken_programme(synthetic_root, tmp_path):
    data = tmp_path / "data"
    for key in ("cfi", "cif", "sko"):
        shutil.copytree(synthetic_root / key, data / key, ignore=shutil.ignore_patterns(".evalkit"))
    _break_score(data / "cif")
    out = tmp_path / "out"
    cli = subprocess.run([sys.executable, "-m", "evalkit", "report", "--all", "--jobs", "2",
                          "--data", str(data), "--out", str(out)], capture_output=True, text=True)
    assert cli.returncode == 1
    assert "Traceback" not in cli.stderr
    failed = [line for line in cli.stderr.splitlines() if "FAILED cif" in line]
    assert failed == ["  FAILED cif: file 1, line 6, column '2B': the value is not a "
                      "CSI score; expected a whole number from 1 (very bad) to 4 (good), a scale "
                      "word (Very bad, Bad, Fair, Good), 'n/a' where the factor does not apply, "
                      "or a blank cell where it was not rated."]
    assert "excellent" not in cli.stderr  # the console summary of --all holds no value either
    assert "excellent" not in (out / "index.html").read_text()  # no cell value in a file
    assert (out / "cfi.html").is_file() and (out / "sko.html").is_file()
    assert not (out / "cif.html").exists()
    assert re.search(r"^cif\s+[\d.]+\s+FAILED$", cli.stderr, re.M)
    assert re.search(r"^cfi\s+[\d.]+\s+ok$", cli.stderr, re.M)
    index = (out / "index.html").read_text()
    assert "could not be rendered" in index and 'href="cfi.html"' in index


def _notebook(tmp_path, source: str):
    """The report notebook with one more cell at the end."""
    from evalkit.report.render import default_notebook

    nb = nbformat.read(default_notebook(), as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(source))
    path = tmp_path / "nb.ipynb"
    nbformat.write(nb, path)
    return path


def test_a_cell_timeout_is_a_failure_and_writes_no_html(synthetic_root, tmp_path):
    path = _notebook(tmp_path, "import time\ntime.sleep(60)")
    result = render_programme(synthetic_root / "sko", tmp_path / "out", notebook=path, timeout=5)
    assert not result.ok
    assert result.error.startswith("sko: a cell ran longer than 5 s and was stopped")
    assert not (tmp_path / "out" / "sko.html").exists()


def test_an_error_names_the_cell_and_keeps_the_traceback_private(synthetic_root, tmp_path):
    folder = tmp_path / "sko"
    shutil.copytree(synthetic_root / "sko", folder, ignore=shutil.ignore_patterns(".evalkit"))
    path = _notebook(tmp_path, "raise ValueError('no such column Sok Dara')")
    result = render_programme(folder, tmp_path / "out", notebook=path)
    assert result.error.startswith("sko: cell ") and "internal error (ValueError)" in result.error
    assert "Sok Dara" not in result.error  # the error's own words can carry data
    kept = json.loads((folder / ".evalkit" / "last-run.ipynb").read_text())
    assert kept["cells"][-1]["outputs"][0]["ename"] == "ValueError"
    assert (folder / ".evalkit" / "last-run.ipynb").stat().st_mode & 0o077 == 0
    assert not (tmp_path / "out" / "sko.html").exists()
    assert not (tmp_path / "out" / "_executed").exists()


def test_a_page_with_personal_data_is_refused_and_nothing_is_kept(synthetic_root, tmp_path):
    folder = tmp_path / "sko"
    shutil.copytree(synthetic_root / "sko", folder, ignore=shutil.ignore_patterns(".evalkit"))
    name = read_table(folder / "closed_cases.csv")["family_name"].iloc[0]
    path = _notebook(tmp_path, f"from IPython.display import HTML\ndisplay(HTML('<p>{name}</p>'))")
    result = render_programme(folder, tmp_path / "out", notebook=path, extras=Extras(notebook=True))
    assert not result.ok and "personal data" in result.error
    assert not (tmp_path / "out" / "_executed" / "sko.ipynb").exists()
    assert not (tmp_path / "out" / "sko.html").exists()


def test_a_kept_notebook_holds_no_parameters_paths_or_tracebacks(synthetic_root, tmp_path):
    result = render_programme(synthetic_root / "sko", tmp_path / "out", extras=Extras(notebook=True))
    assert result.ok, result.error
    text = (tmp_path / "out" / "_executed" / "sko.ipynb").read_text()
    assert str(synthetic_root) not in text and "canary_file = " not in text
    assert "Traceback" not in text and "/tmp" not in text and "programme_dir = " not in text


def test_two_runs_give_the_same_html_apart_from_the_rendering_time(rendered, synthetic_root, tmp_path):
    again = render_programme(synthetic_root / "cct", tmp_path)
    assert again.ok, again.error

    def stable(html: str) -> str:
        return re.sub(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", "<time>", html)

    first, second = rendered["cct"].read_text(), again.html.read_text()
    assert first.count("Rendered ") == 1
    assert stable(first) == stable(second)


def test_a_dead_kernel_fails_one_report_and_the_next_gets_a_new_kernel(synthetic_root, tmp_path):
    from evalkit.report.batch import ReportPool

    dying = _notebook(tmp_path, "import os\nos._exit(1)")
    with ReportPool(1) as pool:
        first = pool.render([synthetic_root / "cif"], tmp_path / "out", notebook=dying)[0]
        second = pool.render([synthetic_root / "sko"], tmp_path / "out")[0]
    assert not first.ok and first.error.startswith("cif: ")
    assert second.ok, second.error


def test_a_worker_replaces_its_kernel_after_its_share_of_reports(monkeypatch):
    """A worker's memory stays bounded: its kernel is replaced after REPORTS_PER_KERNEL
    reports (and at once after a failure), while the worker process itself is kept."""
    from evalkit.report import batch
    from evalkit.report.render import RenderResult

    started, stopped = [], []
    monkeypatch.setattr(batch, "start_kernel", lambda: started.append(object()) or started[-1])
    monkeypatch.setattr(batch, "_stop", lambda km: stopped.append(km))
    monkeypatch.setattr(batch, "_WORKER", {"km": None})
    used = []

    def render(km):
        used.append(km)
        return RenderResult("p", None, 0.0)

    for _ in range(2 * batch.REPORTS_PER_KERNEL + 5):
        assert batch._in_warm_kernel("p", render).ok
    assert len(started) == 3 and stopped == started[:2]
    assert [used.count(km) for km in started] == [batch.REPORTS_PER_KERNEL] * 2 + [5]
    failed = batch._in_warm_kernel("p", lambda km: RenderResult("p", None, 0.0, "broken"))
    assert not failed.ok and stopped[-1] is started[2] and batch._WORKER["km"] is None


def test_a_reused_kernel_leaves_no_client_open_in_the_worker(synthetic_root, tmp_path):
    """The notebook runner leaves the channels of a kernel it does not own open: without
    closing them a worker gained about 14 file handles and 3 threads per report."""
    import threading

    from evalkit.report import batch

    km = batch.start_kernel()
    try:
        render_programme(synthetic_root / "cfi", tmp_path, kernel_manager=km)
        threads = threading.active_count()
        for _ in range(3):
            assert render_programme(synthetic_root / "cfi", tmp_path, kernel_manager=km).ok
        assert threading.active_count() <= threads
        assert "client" not in km.__dict__
    finally:
        batch._stop(km)
