"""The validated, pseudonymised Parquet cache in a programme's private folder: keyed by the
files' content, read instead of the files, holding hashed IDs only."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pandas as pd
import pytest

from evalkit import load_config, load_programme
from evalkit.data import programme, read


@pytest.fixture
def cfi(synthetic_root, tmp_path):
    folder = tmp_path / "cfi"
    shutil.copytree(synthetic_root / "cfi", folder)
    shutil.rmtree(folder / programme.PRIVATE, ignore_errors=True)
    return folder


def _no_reading(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a data file was parsed although the cache is current")

    monkeypatch.setattr(read, "read", refuse)
    monkeypatch.setattr(programme, "read", refuse, raising=False)


def test_a_second_load_reads_the_cache_not_the_files(cfi, monkeypatch):
    first = load_programme(cfi)
    cache = cfi / programme.PRIVATE / "cache"
    assert (cache / "csi.parquet").is_file() and (cache / "manifest.json").is_file()
    _no_reading(monkeypatch)
    again = load_programme(cfi)
    pd.testing.assert_frame_equal(again.csi, first.csi)
    assert again.rounds.labels == first.rounds.labels


def test_the_cache_is_keyed_by_content_not_by_file_time(cfi, monkeypatch):
    load_programme(cfi)
    data = cfi / "csi_assessments.csv"
    os.utime(data, ns=(1, 10**18))  # touched, or copied with new times: same content
    with monkeypatch.context() as patched:
        _no_reading(patched)
        load_programme(cfi)
    lines = data.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    cells = lines[1].split(",")
    column = header.index("1A")
    cells[column] = "1" if cells[column] != "1" else "4"
    lines[1] = ",".join(cells)
    data.write_text("\n".join(lines) + "\n", encoding="utf-8")
    os.utime(data, ns=(1, 10**18))  # same time as before: only the content differs
    changed = load_programme(cfi)
    assert float(changed.csi["1A"].iloc[0]) == float(cells[column])


def test_the_cache_holds_hashed_ids_only(cfi):
    raw = read.read_table(cfi / "csi_assessments.csv")
    data = load_programme(cfi)
    ids = set(raw["client_id"].astype(str))
    cached = (cfi / programme.PRIVATE / "cache" / "csi.parquet").read_bytes()
    assert not any(i.encode() in cached for i in ids if len(i) >= 5)
    assert not set(data.csi["child"].astype(str)) & ids


def test_a_file_is_hashed_again_only_when_it_changes(tmp_path, monkeypatch):
    """Within a process a file's SHA-256 is reused while its status (inode change time
    included) is unchanged; a file written in the last two seconds is always hashed again,
    since two writes can fall within one tick of the file clock."""
    import hashlib

    path = tmp_path / "export.csv"
    path.write_bytes(b"child_id,round\nC1,1\n")
    hashed = []

    class Counting:
        @staticmethod
        def sha256(*args):
            hashed.append(path.name)
            return hashlib.sha256(*args)

    monkeypatch.setattr(read, "hashlib", Counting)
    first = read.file_digest(path)
    assert first == hashlib.sha256(path.read_bytes()).hexdigest()
    path.write_bytes(b"child_id,round\nC2,1\n")  # the same size, within the same second
    assert read.file_digest(path) == hashlib.sha256(path.read_bytes()).hexdigest() != first
    assert len(hashed) == 2
    later = read.time.time_ns() + 10 * 10**9
    monkeypatch.setattr(read.time, "time_ns", lambda: later)  # the file is now old
    digest = read.file_digest(path)
    assert read.file_digest(path) == digest and len(hashed) == 3  # the second one reused
    path.write_bytes(b"child_id,round\nC3,1\n")
    assert read.file_digest(path) == hashlib.sha256(path.read_bytes()).hexdigest()
    assert len(hashed) == 4


def test_a_render_reads_each_data_file_once_and_an_unchanged_one_not_at_all(cfi, monkeypatch):
    """One read per render: the first load reads each data file once (hashed and parsed from
    the same bytes); the stamp a later run decides with, and the load it then makes, read no
    data file while the files are the ones recorded; a rewritten file is read once again."""
    monkeypatch.setattr(programme, "settled", lambda status: True)  # (files copied just now)
    reads: list[str] = []
    original = Path.read_bytes

    def counted(path):
        if path.parent == cfi:
            reads.append(path.name)
        return original(path)

    monkeypatch.setattr(Path, "read_bytes", counted)
    config = load_config(cfi)
    assert programme.stamp(cfi, config, read=False) is None  # never read: not known
    load_programme(cfi)
    assert sorted(reads) == sorted(config.files)  # each once
    reads.clear()
    assert programme.stamp(cfi, config, read=False) is not None
    load_programme(cfi)
    assert reads == []
    data = cfi / "csi_assessments.csv"
    data.write_bytes(data.read_bytes() + b"\n")  # rewritten: same records, new status
    reads.clear()
    assert programme.stamp(cfi, config, read=False) is None
    load_programme(cfi)
    assert reads == ["csi_assessments.csv"]
