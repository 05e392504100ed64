"""The Khmer edition: every marked string has a translation, the Khmer MoSVY report shows no
fixed English text, embeds its font (cut to the characters it uses) and writes dates and,
on request, digits the Khmer way."""

from __future__ import annotations

import csv
import html
import io
import re
from pathlib import Path

import pytest
import yaml

from evalkit import config as config_mod
from evalkit.errors import ConfigError
from evalkit.i18n import LOCALE_DIR, catalogue
from evalkit.report import layout

PACKAGE = Path(__file__).resolve().parents[2] / "evalkit"
PLACEHOLDER = re.compile(r"\{\w*\}")
ABBREVIATIONS = {"RCI", "MoSVY", "DoSVY", "CSI", "CI", "p", "NGO", "NGOs", "UTC", "SHA", "evalkit", "Python"}


def _marked() -> set[str]:
    from babel.messages.extract import extract_from_dir

    return {message for _f, _l, message, _c, _x in extract_from_dir(
        str(PACKAGE), method_map=[("**.py", "python")], keywords={"_": None, "N_": None})
        if isinstance(message, str)}


def test_every_marked_string_has_a_khmer_translation_with_the_same_placeholders():
    marked = _marked()
    km = catalogue("km")
    untranslated = sorted(m for m in marked if not km.get(m))
    assert not untranslated, f"run `make translations` and translate: {untranslated[:5]}"
    for message in marked:
        assert set(PLACEHOLDER.findall(message)) == set(PLACEHOLDER.findall(km[message])), message
    template = (LOCALE_DIR / "evalkit.pot").read_text(encoding="utf-8")
    assert all(f'msgid "{m[:30]}' in template.replace('"\n"', "") for m in marked if '"' not in m)


def _visible_text(page: str) -> str:
    body = page[page.find("<body"):]
    body = re.sub(r"<style.*?</style>", " ", body, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", "\n", body))


def _data_words(folder: Path) -> set[str]:
    """Words of the programme's data values, file names and (Khmer-resolved) configuration:
    not fixed text."""
    words = set()
    for path in folder.glob("*.csv"):
        words |= set(re.findall(r"[A-Za-z]+", path.name))
        with path.open(encoding="utf-8") as handle:
            for row in csv.reader(handle):
                for cell in row:
                    words |= set(re.findall(r"[A-Za-z]+", cell))

    def walk(value):
        if isinstance(value, dict):
            for key, item in value.items():
                walk(key)
                walk(item)
        elif isinstance(value, (list, tuple)):
            for item in value:
                walk(item)
        elif isinstance(value, str):
            words.update(re.findall(r"[A-Za-z]+", value))

    raw = yaml.safe_load((folder / "programme.yml").read_text(encoding="utf-8"))
    walk(config_mod._localised(raw, "km", {"en", "km"}))
    return words


@pytest.fixture(scope="module")
def khmer_page(rendered_collection) -> tuple[str, Path]:
    results, _, _ = rendered_collection
    mosvy = next(r for r in results if r.programme == "national_action_plan")
    assert [code for code, _p in mosvy.editions] == ["km"]
    path = dict(mosvy.editions)["km"]
    return path.read_text(encoding="utf-8"), path


def test_the_khmer_mosvy_report_has_no_fixed_english_text(khmer_page, synthetic_root):
    page, _path = khmer_page
    text = _visible_text(page)
    allowed = ABBREVIATIONS | _data_words(synthetic_root / "national_action_plan")
    from evalkit.report.notebook import software_versions

    allowed |= {w for name in software_versions() for w in re.findall(r"[A-Za-z]+", name)}
    hashes = set(re.findall(r"\b[0-9a-f]{64}\b", text))
    for digest in hashes:
        text = text.replace(digest, " ")
    english = sorted({w for w in re.findall(r"[A-Za-z]+", text)} - allowed)
    assert not english, f"English words left in the Khmer report: {english[:20]}"
    for message in _marked():  # no marked English sentence survives, even in a data word
        for fragment in PLACEHOLDER.split(message):
            if len(re.findall(r"[A-Za-z]{3,}", fragment)) >= 3:
                assert fragment.strip() not in text, fragment


def test_the_khmer_report_declares_its_language_and_embeds_a_cut_down_font(khmer_page):
    page, path = khmer_page
    assert '<html lang="km">' in page
    match = re.search(r'src: url\(data:font/woff;base64,([A-Za-z0-9+/=]+)\)', page)
    assert match, "no embedded Khmer font"
    assert '@top-center { font-family: "Noto Sans Khmer"' in page  # the printed header too
    import base64

    from fontTools.ttLib import TTFont

    font = TTFont(io.BytesIO(base64.b64decode(match.group(1))))
    cmap = font.getBestCmap()
    khmer = {ch for ch in _visible_text(page) if "\u1780" <= ch <= "\u17ff"}
    assert khmer and all(ord(ch) in cmap for ch in khmer)
    assert len(match.group(1)) < 200_000  # cut down from the 360 kB font
    assert "វិច្ឆិកា" in page or re.search(r"បង្កើតនៅ \d+ \S+ \d{4}", _visible_text(page))
    english = path.with_name("national_action_plan.html").read_text(encoding="utf-8")
    assert '<html lang="en">' in english and "@font-face" not in english


def test_the_index_links_the_khmer_edition(rendered_collection):
    _results, _synthesis, index = rendered_collection
    page = index.read_text(encoding="utf-8")
    assert 'href="national_action_plan.km.html" hreflang="km"' in page


def test_khmer_digits_only_in_text_when_asked():
    page = ('<html lang="en"><head><style>p { width: 12px; }</style></head><body>'
            '<p style="width:50%">1,419 of 3,500</p></body></html>')
    latin = layout.finish(page, "T 2019", "km", "latin")
    assert "1,419 of 3,500" in latin
    khmer = layout.finish(page, "T 2019", "km", "khmer")
    assert "១,៤១៩ of ៣,៥០០" in khmer and 'width:50%' in khmer and "width: 12px" in khmer


# ------------------------------------------------------------------ configuration


def _folder(tmp_path: Path, extra: dict) -> Path:
    base = {"name": {"en": "Plan", "km": "ផែនការ"}, "ngo": "MoSVY",
            "child_tracking": {"file": "t.csv", "status": "status", "published": {"green": 75}}}
    base.update(extra)
    (tmp_path / "programme.yml").write_text(yaml.safe_dump(base, allow_unicode=True), encoding="utf-8")
    (tmp_path / "t.csv").write_text("status\ngreen\n", encoding="utf-8")
    return tmp_path


def test_text_given_per_language_is_read_in_the_editions_language(tmp_path):
    folder = _folder(tmp_path, {"language": ["en", "km"], "number_script": "Khmer"})
    assert config_mod.load(folder).name == "Plan"
    km = config_mod.load(folder, "km")
    assert (km.name, km.language, km.languages, km.number_script) == ("ផែនការ", "km", ("en", "km"), "khmer")


def test_language_errors_are_one_sentence(tmp_path):
    with pytest.raises(ConfigError, match=r"key 'language' is 'kh'; expected one of 'en', 'km'"):
        config_mod.load(_folder(tmp_path, {"language": "kh"}))
    folder = _folder(tmp_path, {"language": "km", "csi": {"file": "t.csv"}})
    with pytest.raises(ConfigError, match="section 'csi' is not translated yet"):
        config_mod.load(folder)
