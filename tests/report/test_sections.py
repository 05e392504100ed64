"""The report layer's sections: one module per programme.yml key, each declaring the same
names (typed configuration, rules, compute, build), found through the registry; and snapshot
tests of every section's rendered tables on the deterministic synthetic data.

A snapshot is the text a reader sees in each table (caption, headers, cells), one line per
row, in ``tests/report/snapshots/<programme>/<section>.txt``. A change to a number, a label
or a suppressed cell shows up as a diff in review. To accept a deliberate change, run
``EVALKIT_UPDATE_SNAPSHOTS=1 make test`` and review the diff of the snapshot files.
"""

from __future__ import annotations

from evalkit import load_programme

import dataclasses
import os
import warnings
from html.parser import HTMLParser
from pathlib import Path

import pytest

from evalkit.config import discover
from evalkit.report import sections

SNAPSHOTS = Path(__file__).parent / "snapshots"
UPDATE = os.environ.get("EVALKIT_UPDATE_SNAPSHOTS") == "1"


class _Tables(HTMLParser):
    """The text of every table in an HTML fragment: caption, then one line per row."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self.row: list[str] | None = None
        self.cell: list[str] | None = None
        self.caption: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.lines.append("== table")
        elif tag == "p" and ("class", "evalkit-caption") in attrs:
            self.caption = []
        elif tag == "tr":
            self.row = []
        elif tag in ("td", "th"):
            self.cell = []

    def handle_endtag(self, tag):
        if tag == "p" and self.caption is not None:
            self.lines.append("caption: " + " ".join("".join(self.caption).split()))
            self.caption = None
        elif tag in ("td", "th") and self.cell is not None and self.row is not None:
            self.row.append(" ".join("".join(self.cell).split()))
            self.cell = None
        elif tag == "tr" and self.row is not None:
            self.lines.append(" | ".join(self.row))
            self.row = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)
        elif self.caption is not None:
            self.caption.append(data)


def table_text(html: str) -> str:
    parser = _Tables()
    parser.feed(html)
    return "\n".join(parser.lines) + "\n"


def test_every_section_module_declares_the_same_names():
    for module in sections.REGISTRY:
        for name in ("KEY", "MANY", "ANALYSIS", "KEYS", "LANGUAGES"):
            assert getattr(module, name, None) is not None, (module.__name__, name)
        for name in ("parse", "rules", "compute", "build"):
            assert callable(getattr(module, name, None)), (module.__name__, name)
        assert dataclasses.is_dataclass(module.Config) and module.Config.__dataclass_params__.frozen
    assert [m.KEY for m in sections.REGISTRY] == list(sections.BY_KEY)


def test_section_configurations_are_typed_and_frozen(synthetic_root):
    seen = set()
    for folder in discover(synthetic_root):
        config = load_programme(folder).config
        for key, cfg in config.sections:
            assert isinstance(cfg, sections.BY_KEY[key].Config), key
            assert type(cfg).__dataclass_params__.frozen, type(cfg).__name__
            seen.add(key)
    assert seen == set(sections.BY_KEY)  # all are exercised


def test_section_options_are_refused_with_a_sentence(tmp_path):
    from evalkit import load_config
    from evalkit.errors import ConfigError

    (tmp_path / "v.csv").write_text("a\n1\n")
    (tmp_path / "programme.yml").write_text(
        "name: x\nclassifications:\n- title: t\n  file: v.csv\n  criteria:\n"
        "  - {column: a, op: '=>', value: 1, label: A}\n  categories:\n"
        "  - {name: one, min_criteria: 1}\n")
    with pytest.raises(ConfigError, match=r"classifications\[0\]\.criteria\[0\]\.op"):
        load_config(tmp_path)


PROGRAMMES = ["ccpcr", "cct", "cfi", "cif", "mlop_tapang", "national_action_plan", "sko"]


@pytest.fixture(scope="module")
def reports(synthetic_root):
    from evalkit.report.notebook import ProgrammeReport

    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for key in PROGRAMMES:
            out[key] = ProgrammeReport(synthetic_root / key)
    return out


@pytest.mark.parametrize("key", PROGRAMMES)
def test_section_tables_match_their_snapshots(reports, key):
    """Every table of every section, as the reader sees it (the report's one disclosure
    decision applied), against the committed snapshot."""
    report = reports[key]
    edition = report.editions[report.data.config.languages[0]]
    writer = report.writer(edition.language)
    assert edition.sections, key
    for section in edition.sections:
        html = writer.blocks(section.blocks) + writer.blocks(section.annex)
        text = table_text(html)
        path = SNAPSHOTS / key / f"{section.anchor}.txt"
        if UPDATE:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            continue
        assert path.is_file(), f"no snapshot {path}; run EVALKIT_UPDATE_SNAPSHOTS=1 make test"
        assert text == path.read_text(encoding="utf-8"), (
            f"{key}/{section.anchor}: the rendered tables differ from {path}; if the change is "
            "deliberate, run EVALKIT_UPDATE_SNAPSHOTS=1 make test and review the diff")
