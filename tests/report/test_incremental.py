"""evalkit report --all renders again only the programmes whose data, configuration or kit
changed; --force renders them all."""

from __future__ import annotations

import shutil

import pytest

from evalkit.report import incremental
from evalkit.report.collection import render_collection

pytestmark = pytest.mark.slow


@pytest.fixture()
def two(synthetic_root, tmp_path):
    folders = []
    for key in ("sko", "ccpcr"):
        shutil.copytree(synthetic_root / key, tmp_path / "data" / key,
                        ignore=shutil.ignore_patterns(".evalkit"))
        folders.append(tmp_path / "data" / key)
    return folders, tmp_path / "reports"


def _run(folders, out, **kw):
    results, _synthesis, index = render_collection(folders, out, jobs=1, force=False, **kw)
    assert all(r.ok for r in results), [r.error for r in results]
    return {r.programme: r.skipped for r in results}, index


def test_only_changed_programmes_render_again(two, monkeypatch):
    folders, out = two
    assert _run(folders, out)[0] == {"sko": False, "ccpcr": False}
    first = (out / "sko.html").stat().st_mtime_ns
    skipped, index = _run(folders, out)
    assert skipped == {"sko": True, "ccpcr": True}
    assert (out / "sko.html").stat().st_mtime_ns == first  # not written again
    assert 'href="sko.html"' in index.read_text(encoding="utf-8")  # the index still lists it
    data = folders[1] / "family_assessment.csv"
    data.write_text(data.read_text(encoding="utf-8").replace("\n", "\r\n"), encoding="utf-8")
    assert _run(folders, out)[0] == {"sko": True, "ccpcr": False}  # its data changed
    (out / "sko.headline.json").unlink()
    assert _run(folders, out)[0] == {"sko": False, "ccpcr": True}  # its report is incomplete
    results, _, _ = render_collection(folders, out, jobs=1, force=True)
    assert not any(r.skipped for r in results)
    monkeypatch.setattr(incremental, "kit_digest", lambda paths, salt="": "another kit")
    assert _run(folders, out)[0] == {"sko": False, "ccpcr": False}  # the kit changed


def test_the_record_holds_only_stamps(two):
    folders, out = two
    _run(folders, out)
    text = (folders[0] / ".evalkit" / "rendered.json").read_text(encoding="utf-8")
    assert str(out.resolve()) in text and len(text) < 400
