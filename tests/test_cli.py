"""The command line explains itself and turns bad input into one sentence."""

from __future__ import annotations

import subprocess
import sys


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
