"""The report layer's sections: one module each with the same four functions and a typed
configuration, and snapshot tests of every section's rendered tables on the deterministic
synthetic data.

A snapshot is the text a reader sees in each table (caption, headers, cells), one line per
row, in ``tests/report/snapshots/<programme>/<section>.txt``. A change to a number, a label
or a suppressed cell shows up as a diff in review. To accept a deliberate change, run
``EVALKIT_UPDATE_SNAPSHOTS=1 make test`` and review the diff of the snapshot files.
"""

from __future__ import annotations

import dataclasses
import os
import warnings
from html.parser import HTMLParser
from pathlib import Path

import pytest

from evalkit.config import discover
from evalkit.data import programme
from evalkit.report import sections
from evalkit.report.disclosure import Disclosure

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
        elif tag == "caption":
            self.caption = []
        elif tag == "tr":
            self.row = []
        elif tag in ("td", "th"):
            self.cell = []

    def handle_endtag(self, tag):
        if tag == "caption" and self.caption is not None:
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


def table_text(outputs: list) -> str:
    parser = _Tables()
    for obj in outputs:
        html = getattr(obj, "data", "")
        if isinstance(html, str) and "<table" in html:
            parser.feed(html)
    return "\n".join(parser.lines) + "\n"


def test_every_section_module_has_the_same_four_functions():
    for module in sections.ORDER:
        for name in ("configs", "compute", "render", "headlines"):
            assert callable(getattr(module, name, None)), (module.__name__, name)


def test_section_configurations_are_typed_and_frozen(synthetic_root):
    seen = set()
    for folder in discover(synthetic_root):
        config = programme.load(folder).config
        for module in sections.ORDER:
            for cfg in module.configs(config):
                assert dataclasses.is_dataclass(cfg) and not isinstance(cfg, dict), module.__name__
                assert type(cfg).__dataclass_params__.frozen, type(cfg).__name__
                seen.add(module.__name__.rsplit(".", 1)[-1])
    assert seen == {m.__name__.rsplit(".", 1)[-1] for m in sections.ORDER}  # all are exercised


def test_section_options_are_refused_with_a_sentence(tmp_path):
    from evalkit.errors import ConfigError
    from evalkit.config import load

    (tmp_path / "v.csv").write_text("a\n1\n")
    (tmp_path / "programme.yml").write_text(
        "name: x\nclassifications:\n- title: t\n  file: v.csv\n  criteria:\n"
        "  - {column: a, op: '=>', value: 1, label: A}\n  categories:\n"
        "  - {name: one, min_criteria: 1}\n")
    with pytest.raises(ConfigError, match=r"classifications\[0\]\.criteria\[0\]\.op"):
        load(tmp_path)


PROGRAMMES = ["ccpcr", "cct", "cfi", "cif", "mlop_tapang", "national_action_plan", "sko"]


@pytest.mark.parametrize("key", PROGRAMMES)
def test_section_tables_match_their_snapshots(synthetic_root, key):
    data = programme.load(synthetic_root / key)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        parts = sections.build(data)
    assert parts, key
    counts: dict[str, int] = {}
    for part in parts:
        counts[part.name] = counts.get(part.name, 0) + 1
        name = part.name + (f"-{counts[part.name]}" if counts[part.name] > 1 else "")
        text = table_text(part.render(data, Disclosure(min_cell=data.config.min_cell)))
        path = SNAPSHOTS / key / f"{name}.txt"
        if UPDATE:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            continue
        assert path.is_file(), f"no snapshot {path}; run EVALKIT_UPDATE_SNAPSHOTS=1 make test"
        assert text == path.read_text(encoding="utf-8"), (
            f"{key}/{name}: the rendered tables differ from {path}; if the change is deliberate, "
            "run EVALKIT_UPDATE_SNAPSHOTS=1 make test and review the diff")
