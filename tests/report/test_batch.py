"""The batch pipeline: parallel workers, failures isolated and explained in one line, cell
timeouts, kept executed notebooks, and reproducible HTML."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys

import nbformat

from evalkit.report.render import render_notebook, render_programme


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
        shutil.copytree(synthetic_root / key, data / key)
    _break_score(data / "cif")
    out = tmp_path / "out"
    cli = subprocess.run([sys.executable, "-m", "evalkit", "report", "--all", "--jobs", "2",
                          "--data", str(data), "--out", str(out)], capture_output=True, text=True)
    assert cli.returncode == 1
    assert "Traceback" not in cli.stderr
    failed = [line for line in cli.stderr.splitlines() if "FAILED cif" in line]
    assert failed == ["  FAILED cif/csi_assessments.csv, line 6, column '2B': the value is not a "
                      "CSI score; expected a whole number from 1 (very bad) to 4 (good), a scale "
                      "word (Very bad, Bad, Fair, Good), 'n/a' where the factor does not apply, "
                      "or a blank cell where it was not rated."]
    assert "excellent" not in (out / "index.html").read_text()  # no cell value in a file
    assert (out / "cfi.html").is_file() and (out / "sko.html").is_file()
    assert not (out / "cif.html").exists()
    assert re.search(r"^cif\s+[\d.]+\s+FAILED$", cli.stderr, re.M)
    assert re.search(r"^cfi\s+[\d.]+\s+ok$", cli.stderr, re.M)
    index = (out / "index.html").read_text()
    assert "could not be rendered" in index and 'href="cfi.html"' in index


def _notebook(tmp_path, source: str):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell("x = 1", metadata={"tags": ["parameters"]}),
                nbformat.v4.new_code_cell("print('before')"),
                nbformat.v4.new_code_cell(source)]
    path = tmp_path / "nb.ipynb"
    nbformat.write(nb, path)
    return path


def test_a_cell_timeout_is_a_failure_and_writes_no_html(tmp_path):
    path = _notebook(tmp_path, "import time\ntime.sleep(30)")
    result = render_notebook(path, {"x": 2}, "slow", tmp_path / "out", canaries=frozenset(), timeout=2)
    assert not result.ok
    assert result.error.startswith("slow: a cell ran longer than 2 s and was stopped")
    assert not (tmp_path / "out" / "slow.html").exists()


def test_an_error_names_the_cell_and_keeps_the_executed_notebook(tmp_path):
    path = _notebook(tmp_path, "raise ValueError('no such column')")
    result = render_notebook(path, {"x": 2}, "broken", tmp_path / "out", canaries=frozenset())
    # cell 4: papermill's injected-parameters cell comes before the code cells
    assert result.error == "broken: cell 4 of the executed notebook raised ValueError: no such column"
    executed = json.loads((tmp_path / "out" / "_executed" / "broken.ipynb").read_text())
    assert executed["cells"][-1]["outputs"][0]["ename"] == "ValueError"
    assert not (tmp_path / "out" / "broken.html").exists()


def test_two_runs_give_the_same_html_apart_from_the_rendering_time(rendered, synthetic_root, tmp_path):
    again = render_programme(synthetic_root / "cct", tmp_path)
    assert again.ok, again.error

    def stable(html: str) -> str:
        return re.sub(r"Rendered \d{4}-\d\d-\d\d \d\d:\d\d UTC\.", "Rendered <time>.", html)

    first, second = rendered["cct"].read_text(), again.html.read_text()
    assert first.count("Rendered ") == 1
    assert stable(first) == stable(second)


def test_an_executed_notebook_with_personal_data_is_not_kept(tmp_path):
    path = _notebook(tmp_path, "print('Sok Dara Vanna')")
    result = render_notebook(path, {"x": 2}, "leak", tmp_path / "out", canaries=frozenset({"Sok Dara Vanna"}))
    assert not result.ok and "personal data" in result.error
    assert "the executed notebook was not kept" in result.error
    assert not (tmp_path / "out" / "_executed" / "leak.ipynb").exists()
    assert not (tmp_path / "out" / "leak.html").exists()


def test_a_dead_kernel_fails_one_report_and_the_next_gets_a_new_kernel(synthetic_root, tmp_path):
    from evalkit.report.batch import ReportPool

    dying = _notebook(tmp_path, "import os\nos._exit(1)")
    with ReportPool(1) as pool:
        first = pool._pool.submit(_render_custom, str(dying), str(tmp_path / "out")).result()
        second = pool.render([synthetic_root / "sko"], tmp_path / "out")[0]
    assert not first.ok and first.error.startswith("dying: ")
    assert second.ok, second.error


def _render_custom(notebook: str, out: str):
    from pathlib import Path

    from evalkit.report.batch import _in_warm_kernel

    return _in_warm_kernel("dying", lambda km: render_notebook(
        Path(notebook), {"x": 2}, "dying", out, canaries=frozenset(), kernel_manager=km))


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
