"""The languages a report is written in: gettext catalogues read with Babel, dates and numbers
in the locale's words and digits.

Fixed text (every string the kit writes into a report) is marked ``_("…")`` where it is used,
or ``N_("…")`` where it is defined before a language is chosen (then translated with ``_()``
when shown). Placeholders are ``{name}`` fields filled by ``.format`` after translation, so a
translation may reorder them. The catalogue of language ``xx`` is
``evalkit/locale/xx/LC_MESSAGES/evalkit.po``; a message without a translation falls back to
English (and the tests fail on any such message in a Khmer report).

Data values and abbreviations (CSI, MoSVY) are not fixed text. Text from ``programme.yml`` may
be given per language (``name: {en: …, km: …}``); see :mod:`evalkit.config`.
"""

from __future__ import annotations

import functools
from datetime import datetime
from pathlib import Path

LANGUAGES = {"en": "English", "km": "ភាសាខ្មែរ"}
"""Language codes a report can be written in, with each language's own name."""
NUMBER_SCRIPTS = ("latin", "khmer")
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "evalkit"

_active = "en"


def N_(message: str) -> str:
    """Mark ``message`` for translation where it is defined; translate it with ``_()`` later."""
    return message


@functools.lru_cache(maxsize=None)
@functools.lru_cache(maxsize=None)
def catalogue(language: str) -> dict[str, str]:
    """msgid -> translation of ``language`` (empty for English); untranslated entries left out."""
    if language == "en":
        return {}
    from babel.messages.pofile import read_po

    path = LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    with path.open("rb") as handle:
        po = read_po(handle, locale=language, domain=DOMAIN)
    return {m.id: m.string for m in po if m.id and isinstance(m.id, str) and m.string}


def activate(language: str) -> None:
    """Write every following report text in ``language`` (one of :data:`LANGUAGES`)."""
    global _active
    if language not in LANGUAGES:
        raise ValueError(f"language {language!r}; expected one of {', '.join(LANGUAGES)}")
    _active = language


def active() -> str:
    return _active


def _(message: str) -> str:
    """``message`` in the active language (English when it has no translation)."""
    if _active == "en":
        return message
    return catalogue(_active).get(message, message)


def date_time(moment: datetime, language: str | None = None) -> str:
    """A UTC moment as ``language`` (default: the active one) writes it ("2026-11-28 15:42 UTC",
    "28 វិច្ឆិកា 2026 15:42 UTC")."""
    language = language or _active
    if language == "en":
        return moment.strftime("%Y-%m-%d %H:%M UTC")
    from babel.dates import format_date

    return f"{format_date(moment.date(), 'long', locale=language)} {moment:%H:%M} UTC"


KHMER_DIGITS = str.maketrans("0123456789", "០១២៣៤៥៦៧៨៩")


def digits(text: str, script: str) -> str:
    """``text`` with its digits in ``script`` (``latin`` leaves them as they are)."""
    return text.translate(KHMER_DIGITS) if script == "khmer" else text


MARKS = ("_", "N_", "Msg")
"""Calls whose first argument is fixed report text."""


def extract(fileobj, keywords, comment_tags, options):
    """Babel extraction method: every string literal passed first to a :data:`MARKS` call,
    nested calls included (Babel's own Python extractor drops a mark inside another mark's
    arguments, as in ``Msg("{label} {text}", label=Msg("Numbers."))``)."""
    import ast

    tree = ast.parse(fileobj.read().decode("utf-8"))
    found = []
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and node.args
                and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            name = node.func.id if isinstance(node.func, ast.Name) else (
                node.func.attr if isinstance(node.func, ast.Attribute) else None)
            if name in MARKS and node.args[0].value:
                found.append((node.lineno, name, node.args[0].value, []))
    return sorted(found, key=lambda item: item[0])


def write_template(path: Path = LOCALE_DIR / f"{DOMAIN}.pot") -> int:
    """Write the catalogue template from every marked string in the package; the number of
    messages."""
    from babel.messages.catalog import Catalog
    from babel.messages.extract import extract_from_dir
    from babel.messages.pofile import write_po

    template = Catalog(project="evalkit", copyright_holder="evalkit contributors")
    for _file, _line, message, _comments, _context in extract_from_dir(
            str(Path(__file__).resolve().parent), method_map=[("**.py", extract)],
            keywords=dict.fromkeys(MARKS)):
        template.add(message)
    with path.open("wb") as handle:
        write_po(handle, template, no_location=True, sort_output=True, width=100)
    return len(template)


if __name__ == "__main__":  # python -m evalkit.i18n: refresh the template (make translations)
    print(f"{write_template()} messages written to {LOCALE_DIR / (DOMAIN + '.pot')}")
