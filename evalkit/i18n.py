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


def date_time(moment: datetime) -> str:
    """A UTC moment as the locale writes it ("28 November 2026, 15:42 UTC")."""
    if _active == "en":
        return moment.strftime("%Y-%m-%d %H:%M UTC")
    from babel.dates import format_date

    return f"{format_date(moment.date(), 'long', locale=_active)} {moment:%H:%M} UTC"


KHMER_DIGITS = str.maketrans("0123456789", "០១២៣៤៥៦៧៨៩")


def digits(text: str, script: str) -> str:
    """``text`` with its digits in ``script`` (``latin`` leaves them as they are)."""
    return text.translate(KHMER_DIGITS) if script == "khmer" else text
