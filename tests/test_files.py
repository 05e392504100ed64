"""Writes that cannot escape: no file is written through a symbolic link — in --out, in a
programme's private .evalkit/ folder, or by `evalkit new` — private files are 0600 in a 0700
folder, and a refused write is one sentence that changes nothing outside the folder."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys

import pytest

from evalkit import files
from evalkit.files import UnsafePath


def test_a_write_replaces_a_file_whole_and_refuses_a_link(tmp_path):
    outside = tmp_path / "outside.txt"
    outside.write_text("keep me")
    root = tmp_path / "root"
    files.write(root, "a/b.txt", "one")
    files.write(root, "a/b.txt", "two")
    assert (root / "a" / "b.txt").read_text() == "two"
    (root / "link.txt").symlink_to(outside)
    with pytest.raises(UnsafePath, match="symbolic link"):
        files.write(root, "link.txt", "overwritten")
    (root / "dir").symlink_to(tmp_path, target_is_directory=True)
    with pytest.raises(UnsafePath, match="symbolic link"):
        files.write(root, "dir/outside.txt", "overwritten")
    assert outside.read_text() == "keep me"
    assert not [p for p in root.rglob("*.tmp")]  # nothing half-written left behind


def test_private_files_and_folders_are_closed_to_others(tmp_path):
    files.write(tmp_path, ".evalkit/cache/x.parquet", b"x", private=True)
    assert stat.S_IMODE((tmp_path / ".evalkit").stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / ".evalkit" / "cache").stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / ".evalkit" / "cache" / "x.parquet").stat().st_mode) == 0o600


def test_plain_paths_only(tmp_path):
    for bad in ("../x", "/etc/passwd", "a/../../x", ""):
        with pytest.raises(UnsafePath):
            files.write(tmp_path, bad, "x")


@pytest.fixture()
def cfi(synthetic_root, tmp_path):
    folder = tmp_path / "data" / "cfi"
    shutil.copytree(synthetic_root / "cfi", folder, ignore=shutil.ignore_patterns(".evalkit"))
    return folder


def _run(*args):
    return subprocess.run([sys.executable, "-m", "evalkit", *map(str, args)], capture_output=True,
                          text=True)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["disclosure.csv", "check.html", "key", "set_aside.csv"])
def test_a_link_inside_the_private_folder_is_never_written_through(cfi, tmp_path, name):
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    (cfi / ".evalkit").mkdir(mode=0o700)
    (cfi / ".evalkit" / name).symlink_to(victim)
    _run("check", cfi)
    _run("report", cfi, "--out", tmp_path / "out")
    assert victim.read_text() == "keep me"


@pytest.mark.slow
def test_a_private_folder_that_is_a_link_is_refused(cfi, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (cfi / ".evalkit").symlink_to(elsewhere, target_is_directory=True)
    run = _run("report", cfi, "--out", tmp_path / "out")
    assert run.returncode != 0 and "Traceback" not in run.stderr
    assert "symbolic link" in run.stderr
    assert list(elsewhere.iterdir()) == []  # no key, no cache written outside the folder


@pytest.mark.slow
def test_a_link_in_the_output_folder_is_refused(cfi, tmp_path):
    victim = tmp_path / "victim.html"
    victim.write_text("keep me")
    out = tmp_path / "out"
    out.mkdir()
    (out / "cfi.html").symlink_to(victim)
    run = _run("report", cfi, "--out", out)
    assert run.returncode == 1 and "symbolic link" in run.stderr and "Traceback" not in run.stderr
    assert victim.read_text() == "keep me"


def test_new_never_writes_through_a_link_named_like_the_export(synthetic_root, tmp_path):
    victim = tmp_path / "victim.csv"
    victim.write_text("keep me")
    folder = tmp_path / "new"
    folder.mkdir()
    (folder / "csi_assessments.csv").symlink_to(victim)
    run = _run("new", folder, "--from", synthetic_root / "cfi" / "csi_assessments.csv")
    assert run.returncode == 2 and "symbolic link" in run.stderr and "Traceback" not in run.stderr
    assert victim.read_text() == "keep me"
    assert not (folder / "programme.yml").exists()


def test_new_onto_a_file_is_one_sentence(synthetic_root, tmp_path):
    target = tmp_path / "a_file.csv"
    target.write_text("x")
    run = _run("new", target, "--from", synthetic_root / "cfi" / "csi_assessments.csv")
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert "not a folder" in run.stderr and target.read_text() == "x"


@pytest.mark.slow
def test_private_files_written_by_a_render_are_private(cfi, tmp_path):
    assert _run("report", cfi, "--out", tmp_path / "out").returncode == 0
    private = cfi / ".evalkit"
    assert stat.S_IMODE(private.stat().st_mode) == 0o700
    for path in private.rglob("*"):
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == (0o700 if path.is_dir() else 0o600), (path, oct(mode))
    assert os.access(tmp_path / "out" / "cfi.html", os.R_OK)


def test_engine_output_follows_no_link_and_replaces_only_a_file(tmp_path):
    from evalkit.indices import csi
    from tests.indices.csi_cases import cases

    df, *_ = cases()["numeric_named_rounds"]
    outside = tmp_path / "outside.parquet"
    outside.write_text("keep me")
    root = tmp_path / "out"
    root.mkdir()
    (root / "link.parquet").symlink_to(outside)
    with pytest.raises(UnsafePath, match="symbolic link"):
        csi.score(df, to=root / "link.parquet")
    (root / "folder.parquet").mkdir()
    with pytest.raises(UnsafePath, match="already exists"):
        csi.score(df, to=root / "folder.parquet")
    with pytest.raises(Exception, match="quotes"):
        csi.score(df, to=tmp_path / "it's" / "scores.parquet")
    (root / "old.parquet").write_text("replaced whole")
    csi.score(df, to=root / "old.parquet")
    assert (root / "old.parquet").read_bytes()[:4] == b"PAR1"
    assert outside.read_text() == "keep me" and not list((root / "folder.parquet").iterdir())
    assert sorted(p.name for p in root.iterdir()) == ["folder.parquet", "link.parquet",
                                                      "old.parquet"]  # no staging left
