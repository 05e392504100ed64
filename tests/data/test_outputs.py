"""What the data-in layer lets out: no planted personal value in any file written (report,
index, executed notebook, check page, set-aside list, cache), rows set aside are counted in
the report, and results do not depend on the pseudonymisation key."""

from __future__ import annotations

from evalkit import load_programme

import shutil
import subprocess
import sys

import pandas as pd
import pytest

from evalkit.indices import csi

CANARIES = {
    "nom": "Canaryfr Dupontxq",               # French
    "ឈ្មោះកុមារ": "Canarykm Sokxq",             # Khmer: child's name
    "nombre": "Canaryes Garciaxq",            # Spanish
    "caregiver": "Canaryen Maoxq",            # a person named by role
    "telefono": "+855 99 111 222",
    "date_of_birth": "2011-04-05",
    "notes": "Canarynote lives near the pagoda",
}
BAD_CELL = "Canarycell Xq"
CARE_TYPE_NAME = "Kinxyzq Sokha Mao (grandmother)"


@pytest.fixture(scope="module")
def planted(synthetic_root, tmp_path_factory):
    root = tmp_path_factory.mktemp("planted")
    folder = root / "cif"
    shutil.copytree(synthetic_root / "cif", folder, ignore=shutil.ignore_patterns(".evalkit"))
    frame = pd.read_csv(folder / "csi_assessments.csv", dtype=str, keep_default_na=False)
    for column, value in CANARIES.items():
        frame[column] = [f"{value}" if i % 3 == 0 else f"{value[:-2]}{i}xq" for i in range(len(frame))]
    frame.loc[[7, 70, 700], "care_type"] = CARE_TYPE_NAME  # a name typed as a category
    bad_rows = [4, 40, 80, 120, 160, 200]
    for row in bad_rows:
        frame.loc[row, "3B"] = BAD_CELL
    frame.to_csv(folder / "csi_assessments.csv", index=False)
    config = (folder / "programme.yml").read_text()
    (folder / "programme.yml").write_text(config + "on_invalid: set_aside\n")
    out = root / "out"
    run = subprocess.run([sys.executable, "-m", "evalkit", "report", "--all", "--data", str(root),
                          "--out", str(out), "--keep-notebooks"], capture_output=True, text=True)
    check = subprocess.run([sys.executable, "-m", "evalkit", "check", str(folder)],
                           capture_output=True, text=True)
    return {"folder": folder, "out": out, "run": run, "check": check, "bad_rows": len(bad_rows)}


def _written_texts(planted) -> dict[str, str]:
    texts = {}
    for path in list(planted["out"].rglob("*")) + list((planted["folder"] / ".evalkit").rglob("*")):
        if not path.is_file() or path.name == "key":
            continue
        if path.suffix == ".parquet":
            texts[str(path)] = pd.read_parquet(path).astype(str).to_string()
        else:
            texts[str(path)] = path.read_text(encoding="utf-8", errors="replace")
    return texts


@pytest.mark.slow
def test_no_planted_value_reaches_any_written_file(planted):
    assert planted["run"].returncode == 0, planted["run"].stderr
    texts = _written_texts(planted)
    kinds = {p.rsplit(".", 1)[-1] for p in texts}
    assert {"html", "ipynb", "csv", "parquet", "json"} <= kinds  # every kind of output is scanned
    raw_ids = set(pd.read_csv(planted["folder"] / "csi_assessments.csv", dtype=str)["client_id"])
    for path, text in texts.items():
        for value in [*CANARIES.values(), BAD_CELL, "Dupontxq", "Sokxq", "Garciaxq", "Maoxq",
                      "Kinxyzq"]:
            assert value not in text, (path, value)
        assert not [i for i in list(raw_ids)[:50] if i in text], path


def test_rows_set_aside_are_counted_in_the_run_the_report_and_the_check(planted):
    n = planted["bad_rows"]
    assert f"{n} set aside" in planted["run"].stderr
    html = (planted["out"] / "cif.html").read_text()
    assert f"{n} rows set aside ({n} for a CSI score outside 1–4)" in html
    assert "were set aside" in html
    assert planted["check"].returncode == 1
    # the terminal may show the owner the bad value; the check page never does
    assert BAD_CELL in planted["check"].stdout
    assert "shown in reports as 'other'" in planted["check"].stdout and "Kinxyzq" in planted["check"].stdout
    page = (planted["folder"] / ".evalkit" / "check.html").read_text()
    assert BAD_CELL not in page and "3B" in page
    aside = pd.read_csv(planted["folder"] / ".evalkit" / "set_aside.csv")
    assert list(aside.columns) == ["file", "row", "column", "rule"] and len(aside) == n


def test_results_do_not_depend_on_the_key(synthetic_root, tmp_path):
    from evalkit.designs import compare_arms

    loads = []
    for copy in ("a", "b"):
        folder = tmp_path / copy / "cct"
        shutil.copytree(synthetic_root / "cct", folder, ignore=shutil.ignore_patterns(".evalkit"))
        loads.append(load_programme(folder, use_cache=False))
    assert (loads[0].csi["child"] != loads[1].csi["child"]).all()  # two keys, two pseudonyms
    tables = [csi.change(d.csi, child="child", round="round", before=1, after=2).to_frame()
              for d in loads]
    pd.testing.assert_frame_equal(tables[0], tables[1])
    effects = []
    for d in loads:
        survey = d.trial
        base = survey[survey["round"] == "baseline"][["household_id", "knowledge_score"]]
        end = survey[survey["round"] == "endline"].merge(
            base.rename(columns={"knowledge_score": "b"}), on="household_id")
        effects.append(compare_arms(end, "knowledge_score", "campaign", "village",
                                    baseline="b", strata="commune", seed=1, wild_reps=99,
                                    ri_reps=99).to_frame())
    pd.testing.assert_frame_equal(effects[0], effects[1])


@pytest.mark.slow
def test_every_published_file_is_the_same_under_two_keys(synthetic_root, tmp_path):
    """Two copies of the same programmes, each with its own key, rendered in full: every
    published file (pages in both languages, headline files, the index, the synthesis) is the
    same but for the time of rendering."""
    import re

    outs = []
    for copy in ("a", "b"):
        data = tmp_path / copy / "data"
        for key in ("cct", "cif", "national_action_plan"):
            shutil.copytree(synthetic_root / key, data / key, ignore=shutil.ignore_patterns(".evalkit"))
        out = tmp_path / copy / "out"
        run = subprocess.run([sys.executable, "-m", "evalkit", "report", "--all", "--jobs", "2",
                              "--data", str(data), "--out", str(out)], capture_output=True, text=True)
        assert run.returncode == 0, run.stderr
        outs.append(out)
    keys = [(tmp_path / c / "data" / "cct" / ".evalkit" / "key").read_text() for c in ("a", "b")]
    assert keys[0] != keys[1]
    names = sorted(p.name for p in outs[0].iterdir() if p.is_file())
    assert names == sorted(p.name for p in outs[1].iterdir() if p.is_file())
    assert {"cct.html", "cif.html", "national_action_plan.km.html", "index.html",
            "synthesis.html", "cct.headline.json"} <= set(names)

    def stable(text: str) -> str:
        # the rendering time, as ISO (English), or day, Khmer month and year (Khmer edition,
        # in Latin or Khmer digits)
        return re.sub(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC|[\d០-៩]{1,2} \S+ [\d០-៩]{4} "
                      r"[\d០-៩]{2}:[\d០-៩]{2} UTC", "<time>", text)

    for name in names:
        first, second = ((out / name).read_text(encoding="utf-8") for out in outs)
        assert stable(first) == stable(second), name


def test_ids_that_differ_only_by_invisible_characters_are_one_child(synthetic_root, tmp_path):
    """A zero-width joiner, a byte-order mark or another Unicode form in a child's ID does not
    make a second child; `evalkit check` says how many IDs were written in more than one way."""
    folder = tmp_path / "cfi"
    shutil.copytree(synthetic_root / "cfi", folder, ignore=shutil.ignore_patterns(".evalkit"))
    frame = pd.read_csv(folder / "csi_assessments.csv", dtype=str, keep_default_na=False)
    children = frame["client_id"].nunique()
    later = frame["assessment_number"] != "1"
    variants = ["\u200d", "\ufeff", "\u200b", "\u00ad"]
    changed = frame.loc[later, "client_id"].drop_duplicates().head(8)
    for i, child in enumerate(changed):
        rows = later & (frame["client_id"] == child)
        frame.loc[rows, "client_id"] = child[:2] + variants[i % 4] + child[2:]
    frame.loc[later & (frame["client_id"] == frame["client_id"].iloc[0]), "client_id"] = \
        "ＣＦＩ－" + frame["client_id"].iloc[0][4:]  # full-width letters
    frame.to_csv(folder / "csi_assessments.csv", index=False)
    data = load_programme(folder, use_cache=False)
    assert data.csi["child"].nunique() == children
    assert data.look_alike_ids >= 8
    check = subprocess.run([sys.executable, "-m", "evalkit", "check", str(folder)],
                           capture_output=True, text=True)
    assert "written in more than one way" in check.stdout


@pytest.mark.slow
def test_private_spreadsheets_cannot_run_formulas(synthetic_root, tmp_path):
    folder = tmp_path / "cfi"
    shutil.copytree(synthetic_root / "cfi", folder, ignore=shutil.ignore_patterns(".evalkit"))
    frame = pd.read_csv(folder / "csi_assessments.csv", dtype=str, keep_default_na=False)
    frame.loc[4, "3B"] = "=HYPERLINK(\"https://x.org\",\"x\")"
    frame.to_csv(folder / "csi_assessments.csv", index=False)
    text = (folder / "programme.yml").read_text()
    (folder / "programme.yml").write_text(text + "on_invalid: set_aside\n")
    (folder / "x").mkdir()
    assert subprocess.run([sys.executable, "-m", "evalkit", "report", str(folder), "--out",
                           str(tmp_path / "out")], capture_output=True).returncode == 0
    for path in (folder / ".evalkit").glob("*.csv"):
        for cell in (c for line in path.read_text().splitlines() for c in line.split(",")):
            assert not cell.startswith(("=", "+", "@")), (path.name, cell)
