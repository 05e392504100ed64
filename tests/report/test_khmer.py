"""The Khmer edition: every string a Khmer page uses has a translation with the same
placeholders and the glossary's terms, the Khmer MoSVY report shows no Latin word outside an
allowlist of abbreviations, embeds its font (cut to the characters it uses) and writes dates
and, on request, digits the Khmer way."""

from __future__ import annotations

import csv
import html
import io
import re
from pathlib import Path

import pytest
import yaml

from evalkit import load_config
from evalkit.errors import ConfigError
from evalkit.i18n import LOCALE_DIR, catalogue, extract, write_template
from evalkit.report import layout

PACKAGE = Path(__file__).resolve().parents[2] / "evalkit"
PLACEHOLDER = re.compile(r"\{\w*\}")
ALLOWED_LATIN = {"RCI", "MoSVY", "DoSVY", "CSI", "CI", "p", "UTC", "SHA", "evalkit"}
"""Latin words a Khmer page may show outside marked English: abbreviations Khmer readers use
as they are, and the kit's name."""


def _marks(path: Path) -> set[str]:
    with path.open("rb") as handle:
        return {message for _line, _name, message, _c in extract(handle, None, None, None)}


def test_the_catalogue_template_holds_every_marked_string(tmp_path):
    fresh = tmp_path / "evalkit.pot"
    write_template(fresh)
    ids = re.compile(r'^msgid "(.*?)"$', re.M)
    assert set(ids.findall(fresh.read_text(encoding="utf-8"))) == set(
        ids.findall((LOCALE_DIR / "evalkit.pot").read_text(encoding="utf-8"))), \
        "run `make translations`"


def test_marks_nested_in_other_marks_are_extracted():
    import io as _io

    source = b'Msg("{label} {text}", label=Strong(Msg("Numbers.")), text=N_("x"))\n_("y")'
    found = {m for _l, _n, m, _c in extract(_io.BytesIO(source), None, None, None)}
    assert found == {"{label} {text}", "Numbers.", "x", "y"}


@pytest.fixture(scope="module")
def khmer_strings(synthetic_root) -> set[str]:
    """Every catalogue message the Khmer MoSVY edition used, written in this process."""
    from evalkit.report import publish
    from evalkit.report.notebook import PARTS, ProgrammeReport

    publish.USED.pop("km", None)
    report = ProgrammeReport(synthetic_root / "national_action_plan")
    for name in PARTS:
        report.part(name)._repr_mimebundle_()
    report.headline()._repr_mimebundle_()
    return set(publish.USED["km"])


def _khmer_modules() -> list[Path]:
    from evalkit.report.sections import REGISTRY

    return [Path(module.__file__) for module in REGISTRY if "km" in module.LANGUAGES]


def test_every_string_of_the_khmer_edition_is_translated_with_the_same_placeholders(khmer_strings):
    km = catalogue("km")
    static = set().union(*(_marks(path) for path in _khmer_modules()),
                         _marks(PACKAGE / "instruments" / "places.py"))
    assert len(khmer_strings) > 100 and static
    untranslated = sorted(m for m in khmer_strings | static if m.strip() and not km.get(m))
    assert not untranslated, f"run `make translations` and translate: {untranslated[:5]}"
    for message, translation in km.items():
        assert set(PLACEHOLDER.findall(message)) == set(PLACEHOLDER.findall(translation)), message
        english = re.sub(r"\{\w*\}", "", translation)
        assert ":" not in english.replace("SHA-256", "") and not re.search(r"\.(\s|$)", english), \
            f"Latin punctuation in the Khmer for {message!r}: use ៖ and ។"


def _glossary() -> list[dict]:
    with (LOCALE_DIR / "km" / "glossary.csv").open(encoding="utf-8") as handle:
        return sorted(csv.DictReader(handle), key=lambda row: -len(row["english"]))


def test_the_khmer_catalogue_uses_the_glossary_terms():
    """Wherever an English message says a glossary term, its translation uses the glossary's
    Khmer term (one term per idea: 'synthetic data' never reads as 'compiled data')."""
    km = catalogue("km")
    rows = _glossary()
    assert {"synthetic data", "illustration", "starting number"} <= {r["english"] for r in rows}
    checked = 0
    for message, translation in km.items():
        text = PLACEHOLDER.sub(" ", message)
        for row in rows:  # longest first: "non-residential care" before "residential care"
            term = re.compile(r"(?<![\w-])" + re.escape(row["english"]) + r"s?\b", re.I)
            if term.search(text):
                text = term.sub(" ", text)
                checked += 1
                assert row["khmer"] in translation, (row["english"], message)
    assert checked > 40
    assert not any("សំយោគ" in t for t in km.values())  # the ambiguous word for synthetic


def _visible_text(page: str) -> str:
    body = page[page.find("<body"):]
    body = re.sub(r"<style.*?</style>", " ", body, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", "\n", body))


@pytest.fixture(scope="module")
def khmer_page(rendered_collection) -> tuple[str, Path]:
    results, _, _ = rendered_collection
    mosvy = next(r for r in results if r.programme == "national_action_plan")
    assert [code for code, _p in mosvy.editions] == ["km"]
    path = dict(mosvy.editions)["km"]
    return path.read_text(encoding="utf-8"), path


def test_the_khmer_mosvy_page_shows_no_latin_word_outside_the_allowlist(khmer_page):
    page, _path = khmer_page
    marked = re.findall(r'<span lang="en">(.*?)</span>', page)
    assert len(marked) == 1 and "pandas" in marked[0]  # the software list, marked as English
    text = _visible_text(re.sub(r'<span lang="en">.*?</span>', " ", page))
    text = re.sub(r"\b[0-9a-f]{64}\b", " ", text)  # file digests
    latin = sorted({w for w in re.findall(r"[A-Za-z]+", text)} - ALLOWED_LATIN)
    assert not latin, f"Latin words in the Khmer page: {latin[:20]}"
    assert not re.search(r"[\u1780-\u17ff][.:]", text), "Latin punctuation after Khmer"
    header = re.findall(r"@top-right \{ content: ([^;]*);", page)
    assert header and "Synthetic" not in header[0]
    assert ":lang(km) em" in page  # no synthetic italic: the Khmer font has none


def test_the_khmer_report_declares_its_language_and_embeds_a_cut_down_font(khmer_page):
    page, path = khmer_page
    assert '<html lang="km">' in page
    match = re.search(r'src: url\(data:font/woff;base64,([A-Za-z0-9+/=]+)\)', page)
    assert match, "no embedded Khmer font"
    assert '@top-center { font-family: "Noto Sans Khmer"' in page  # the printed header too
    assert '@top-right { font-family: "Noto Sans Khmer"' in page  # and the synthetic mark
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
    assert load_config(folder).name == "Plan"
    km = load_config(folder, "km")
    assert (km.name, km.language, km.languages, km.number_script) == ("ផែនការ", "km", ("en", "km"), "khmer")


def test_language_errors_are_one_sentence(tmp_path):
    with pytest.raises(ConfigError, match=r"key 'language' is 'kh'; expected one of 'en', 'km'"):
        load_config(_folder(tmp_path, {"language": "kh"}))
    folder = _folder(tmp_path, {"language": "km", "csi": {"file": "t.csv"}})
    with pytest.raises(ConfigError, match="section 'csi' is not translated into it yet"):
        load_config(folder)
