"""Text from programme.yml and from data cells is text in every rendered page, never markup:
planted <script>, <img onerror>, <iframe>, javascript: links and quotes render inert, and the
pages forbid scripts with a Content-Security-Policy."""

from __future__ import annotations

import re
import shutil
from html.parser import HTMLParser

import pandas as pd
import pytest
import yaml

from evalkit.report.render import render_programme

PAYLOADS = ['<script>alert("x")</script>', '<img src=x onerror=alert(1)>',
            '<iframe src="https://example.org"></iframe>', '[click](javascript:alert(1))',
            '"quoted" & \'single\'']


class _Live(HTMLParser):
    """Collects live markup: script and iframe elements, event handlers, javascript: URLs."""

    def __init__(self):
        super().__init__()
        self.found = []

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "iframe", "object", "embed"):
            self.found.append(tag)
        for name, value in attrs:
            if name.lower().startswith("on"):
                self.found.append(f"{tag}[{name}]")
            if value and re.match(r"\s*javascript:", value, re.I):
                self.found.append(f"{tag}[{name}=javascript:]")


def live_markup(page: str) -> list[str]:
    parser = _Live()
    parser.feed(page)
    return parser.found


def _plant(config: dict, keys: list[tuple], payload: str) -> None:
    for path in keys:
        node = config
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = payload + " " + str(node.get(path[-1], ""))


@pytest.mark.parametrize("payload", PAYLOADS)
def test_config_and_data_text_renders_inert(synthetic_root, tmp_path, payload):
    folder = tmp_path / "cif"
    shutil.copytree(synthetic_root / "cif", folder, ignore=shutil.ignore_patterns(".evalkit"))
    config = yaml.safe_load((folder / "programme.yml").read_text())
    _plant(config, [("name",), ("ngo",), ("province",), ("source",)], payload)
    config["csi"]["round_labels"] = {k: payload + " " + v for k, v in config["csi"]["round_labels"].items()}
    (folder / "programme.yml").write_text(yaml.safe_dump(config, allow_unicode=True))
    data = pd.read_csv(folder / "csi_assessments.csv", dtype=str, keep_default_na=False)
    data["care_type"] = data["care_type"].map(lambda v: f"{payload} {v}")
    data.to_csv(folder / "csi_assessments.csv", index=False)
    result = render_programme(folder, tmp_path / "out")
    assert result.ok, result.error
    page = result.html.read_text()
    assert live_markup(page) == []
    assert "Content-Security-Policy" in page and "default-src 'none'" in page
    assert "&lt;" in page or "<" not in payload  # the text is shown, escaped


def test_index_and_csp_on_every_page(rendered):
    for name in ("index", "synthesis", "cct"):
        page = (rendered["cct"].parent / f"{name}.html").read_text()
        assert "default-src 'none'" in page
        assert live_markup(page) == []


def test_the_offline_guard_reads_attributes_and_styles_not_text():
    from evalkit.report.render import external_references

    assert external_references('<p>&lt;iframe src="https://example.org"&gt; as text</p>') == []
    assert external_references('<img src="data:image/png;base64,AAAA">') == []
    assert external_references('<a href="#methods">Methods</a>') == []
    assert external_references('<script src="https://cdn.example.org/x.js"></script>')
    assert external_references('<link rel="stylesheet" href="//fonts.example.org/a.css">')
    assert external_references("<style>@import url('https://fonts.example.org/x.css');</style>")
    assert external_references('<div style="background:url(https://x.example.org/a.png)">')
