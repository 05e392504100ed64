"""The command line explains itself and turns bad input into one sentence."""

from __future__ import annotations

import subprocess
import sys

import pytest


def run(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "evalkit", *args], capture_output=True,
                          text=True, cwd=cwd)


def test_help_explains_each_command():
    top = run("--help")
    assert top.returncode == 0
    for command in ("synth", "report", "list"):
        assert command in top.stdout
    report = run("report", "--help")
    assert report.returncode == 0
    assert "--all" in report.stdout and "programme folder" in report.stdout
    assert run("synth", "--help").returncode == 0
    assert run("list", "--help").returncode == 0


def test_synth_then_list(tmp_path):
    out = tmp_path / "data"
    assert run("synth", "--out", str(out)).returncode == 0
    again = run("synth", "--out", str(out), "--if-missing")
    assert again.returncode == 0 and "nothing to do" in again.stderr
    listing = run("list", "--data", str(out))
    assert listing.returncode == 0
    assert "cct" in listing.stdout and "CSI change" in listing.stdout


def test_report_without_folders_is_one_sentence(tmp_path):
    result = run("report", "--all", "--data", str(tmp_path / "nothing"))
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "no programme folders" in result.stderr


def test_config_error_is_one_sentence(tmp_path):
    folder = tmp_path / "ngo"
    folder.mkdir()
    (folder / "programme.yml").write_text("name: X\nngo: Y\n")
    result = run("report", str(folder), "--out", str(tmp_path / "out"))
    assert result.returncode == 1
    assert "no analysis is configured" in result.stderr
    assert "Traceback" not in result.stderr


def test_unknown_trial_key_is_one_sentence(tmp_path):
    from evalkit import synth

    synth.write_all(tmp_path)
    config = tmp_path / "cct" / "programme.yml"
    config.write_text(config.read_text().replace("  estimator: ancova", "  estimater: ancova"))
    result = run("list", "--data", str(tmp_path))
    assert "CONFIG ERROR" in result.stdout and "unknown key 'trial.estimater'" in result.stdout
    assert "did you mean 'trial.estimator'?" in result.stdout


@pytest.mark.slow
def test_synth_if_missing_rewrites_incomplete_or_outdated_data(tmp_path):
    import json
    import shutil

    out = tmp_path / "data"
    assert run("synth", "--out", str(out)).returncode == 0
    shutil.rmtree(out / "sko")
    assert "nothing to do" not in run("synth", "--out", str(out), "--if-missing").stderr
    assert (out / "sko" / "programme.yml").is_file()
    marker = out / "cfi" / "truth.json"
    truth = json.loads(marker.read_text())
    truth["generator_version"] = -1
    marker.write_text(json.dumps(truth))
    assert "nothing to do" not in run("synth", "--out", str(out), "--if-missing").stderr
    assert json.loads(marker.read_text())["generator_version"] != -1


def test_a_personal_column_used_as_an_id_is_one_sentence(tmp_path):
    from evalkit import synth

    synth.write_programme("cif", tmp_path)
    config = tmp_path / "cif" / "programme.yml"
    config.write_text(config.read_text().replace("child: client_id", "child: child_name"))
    result = run("report", str(tmp_path / "cif"), "--out", str(tmp_path / "out"))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "names column 'child_name', which looks like personal data" in result.stderr


def test_an_output_folder_that_cannot_be_written_is_one_sentence(tmp_path, synthetic_root):
    out = tmp_path / "out"
    out.write_text("a file where the reports folder should be")  # fails even for root
    result = run("report", str(synthetic_root / "sko"), "--out", str(out))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "reports cannot be written there" in result.stderr


def test_every_failure_found_is_a_sentence(tmp_path, synthetic_root):
    import shutil

    folder = tmp_path / "cfi"
    shutil.copytree(synthetic_root / "cfi", folder, ignore=shutil.ignore_patterns(".evalkit"))
    text = (folder / "programme.yml").read_text()
    (folder / "programme.yml").write_text(text.replace("csi:\n", "csi:\n  date_format: '%Q%'\n", 1))
    bad_format = run("check", str(folder))
    assert bad_format.returncode in (1, 2) and "Traceback" not in bad_format.stderr + bad_format.stdout
    assert "date format" in bad_format.stderr + bad_format.stdout
    devnull = run("synth", "--out", "/dev/null")
    assert devnull.returncode == 2 and "Traceback" not in devnull.stderr
    assert "is not a folder" in devnull.stderr
    missing = run("check", str(tmp_path / "nowhere"))
    assert "Traceback" not in missing.stderr + missing.stdout
    assert (missing.stderr + missing.stdout).count("nowhere") == 1  # named once, as missing
    assert "no such folder" in missing.stderr + missing.stdout


def test_min_cell_below_five_is_warned_in_one_line(tmp_path, synthetic_root):
    import shutil

    folder = tmp_path / "cfi"
    shutil.copytree(synthetic_root / "cfi", folder, ignore=shutil.ignore_patterns(".evalkit"))
    text = (folder / "programme.yml").read_text().replace("min_cell: 5", "min_cell: 3")
    (folder / "programme.yml").write_text(text)
    listing = run("list", "--data", str(tmp_path))
    assert "warning" in listing.stderr and "5 or more is advised" in listing.stderr
    assert "Traceback" not in listing.stderr and "warnings.warn" not in listing.stderr
    (folder / "programme.yml").write_text(text.replace("min_cell: 3", "min_cell: 1"))
    assert "at least 3" in run("list", "--data", str(tmp_path)).stdout


def _stop_a_report(tmp_path, synthetic_root, signum):
    """Start `evalkit report --all --jobs 2`, send ``signum`` while it renders, and return
    the finished process, the output folder and the processes it left behind."""
    import os
    import shutil
    import signal
    import time

    data = tmp_path / "data"
    for key in ("cct", "cfi", "cif"):
        shutil.copytree(synthetic_root / key, data / key, ignore=shutil.ignore_patterns(".evalkit"))
    out = tmp_path / "out"
    process = subprocess.Popen([sys.executable, "-m", "evalkit", "report", "--all", "--jobs", "2",
                                "--data", str(data), "--out", str(out)],
                               stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                               start_new_session=True)
    time.sleep(12)  # the workers and their kernels are running
    children = subprocess.run(["pgrep", "-s", str(process.pid)], capture_output=True,
                              text=True).stdout.split()
    kernels = [pid for child in children for pid in subprocess.run(
        ["pgrep", "-P", child], capture_output=True, text=True).stdout.split()]
    assert kernels  # the workers have started their kernels (each in a session of its own)
    if signum == signal.SIGINT:
        os.killpg(process.pid, signal.SIGINT)  # Ctrl-C reaches the whole foreground group
    else:
        process.send_signal(signum)
    _, stderr = process.communicate(timeout=60)
    time.sleep(3)
    alive = [pid for pid in children + kernels
             if subprocess.run(["ps", "-p", pid], capture_output=True).returncode == 0
             and pid != str(process.pid)]
    return process, stderr, out, alive


@pytest.mark.slow
@pytest.mark.parametrize("name", ["SIGINT", "SIGTERM"])
def test_ctrl_c_and_sigterm_stop_cleanly(tmp_path, synthetic_root, name):
    import signal

    process, stderr, out, alive = _stop_a_report(tmp_path, synthetic_root, getattr(signal, name))
    assert process.returncode == 130, stderr
    assert "stopped; nothing half-written" in stderr and "Traceback" not in stderr
    assert alive == []  # no worker and no Jupyter kernel left running
    assert not list(out.glob("*.tmp")) and not list(out.glob(".*.tmp"))
    for page in out.glob("*.html"):
        assert page.read_text().rstrip().endswith("</html>")  # whole, or not there
