"""The Child Status Index as an instrument: factors, domains, labels, scale and the names
under which real exports carry them. No computation lives here.

The CSI (MEASURE Evaluation, O'Donnell et al. 2008/2009) rates a child on 12 factors in 6
domains, each from 4 (good) to 1 (very bad). A factor may be *not applicable* (for example
school performance for a baby), which is different from *missing* (not rated).
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass

from evalkit.i18n import N_

FACTORS: tuple[str, ...] = ("1A", "1B", "2A", "2B", "3A", "3B", "4A", "4B", "5A", "5B", "6A", "6B")
"""The 12 CSI factor codes in the manual's order."""

DOMAINS: dict[str, tuple[str, ...]] = {
    N_("Food and nutrition"): ("1A", "1B"),
    N_("Shelter and care"): ("2A", "2B"),
    N_("Protection"): ("3A", "3B"),
    N_("Health"): ("4A", "4B"),
    N_("Psychosocial"): ("5A", "5B"),
    N_("Education and skills"): ("6A", "6B"),
}
"""Domain name -> its two factor codes."""

LABELS: dict[str, str] = {
    "1A": N_("Food security"),
    "1B": N_("Nutrition and growth"),
    "2A": N_("Shelter"),
    "2B": N_("Care"),
    "3A": N_("Abuse and exploitation"),
    "3B": N_("Legal protection"),
    "4A": N_("Wellness"),
    "4B": N_("Health care services"),
    "5A": N_("Emotional health"),
    "5B": N_("Social behaviour"),
    "6A": N_("Performance"),
    "6B": N_("Education and work"),
}
"""Factor code -> the manual's label."""

SEED_NAMES: dict[str, str] = {
    **LABELS,
    "3A": "Protection from abuse and exploitation",
    "6B": "Work and education",
}
"""Factor code -> the name used in the 2020 study's CCT table and in OSCaR exports."""

DOMAIN_OF: dict[str, str] = {code: domain for domain, codes in DOMAINS.items() for code in codes}

NOT_APPLICABLE = ("n/a", "not applicable", "na", "n.a.", "n a", "does not apply",
                  "មិនពាក់ព័ន្ធ", "មិនអនុវត្ត", "មិនអាចអនុវត្តបាន")
"""Cell texts (any case) meaning the factor does not apply to this child. Cells holding only
punctuation ('-', '.', '—') mean nothing was entered: not rated."""

FLAG_AT_OR_BELOW = 2
"""A factor scored at or below this needs services (1 very bad, 2 bad)."""

SCORE_LABELS: dict[str, int] = {
    "very bad": 1, "very poor": 1, "bad": 2, "poor": 2, "fair": 3, "good": 4,
}
"""The CSI's own words for its scale, as label exports (KoBoToolbox, SPSS, Stata) carry them;
matched in any case, with underscores or hyphens for spaces ("very_bad")."""


def _simple(text: str) -> str:
    """Lower case, every run of non-letters/digits as one space: 'Food_Security ' -> 'food security'."""
    return " ".join(re.findall(r"[^\W_]+", str(text).lower()))


def _alias_table() -> dict[str, str]:
    table: dict[str, str] = {}
    for code in FACTORS:
        for name in (code, LABELS[code], SEED_NAMES[code]):
            table[_simple(name)] = code
        table[_simple(LABELS[code]).replace(" ", "")] = code
        table[_simple(SEED_NAMES[code]).replace(" ", "")] = code
    table["protection from abuse"] = "3A"
    table["social behavior"] = "5B"
    table["emotional wellbeing"] = "5A"
    return table


_ALIASES = _alias_table()
_CODE = re.compile(r"^(?:(?:csi|factor|domain|dom|f|q|item|goal) ?)?([1-6]) ?([ab])(?: (.+))?$")
_QUESTION = re.compile(r"^\s*(?:[1-6]\s?[abAB][\s.:)-]+)?([^:?(]+?)\s*[:?(]")


def factor_code(name: object) -> str | None:
    """The factor code a column name stands for, or None.

    Recognised: the code itself with common decorations (``1A``, ``csi_1a``, ``f1a``, ``q1a``,
    ``1a_food_security``), the manual's label or the 2020 study's / OSCaR's name in any case
    with spaces or underscores (``Food security``, ``food_security``), and either of those at
    the end of a KoBoToolbox/ODK group path (``csi/food_security``, ``csi-1a``).
    """
    text = str(name)
    candidates = [text]
    for sep in ("/", "-", ":"):
        if sep in text:
            candidates.append(text.rsplit(sep, 1)[-1])
    for candidate in candidates:
        simple = _simple(candidate)
        if simple in _ALIASES:
            return _ALIASES[simple]
        match = _CODE.match(simple)
        if match is not None:
            code = (match.group(1) + match.group(2)).upper()
            if _names_code(match.group(3), code):
                return code  # '1A', 'csi_1a', '1a_food_security', '1A Food security: does …'
    question = _QUESTION.match(text)  # a label export's question text: 'Food security: …?'
    if question is not None:
        return _ALIASES.get(_simple(question.group(1)))
    return None


def _names_code(rest: str | None, code: str) -> bool:
    """Whether what follows a factor code in a header agrees with it: nothing, the factor's
    name (run together or not, or followed by a question), or a local (e.g. Khmer) label."""
    if rest is None or _ALIASES.get(rest) == code or _ALIASES.get(rest.replace(" ", "")) == code:
        return True
    return not rest.isascii() or any(rest.startswith(name + " ") for name, c in _ALIASES.items()
                                     if c == code and " " in name)


# ------------------------------------------------------------------ factors by meaning
# Forms name the factors in their own words: other spellings, word orders, longer and shorter
# forms, Khmer. These are the words each factor is known by; an export's header is matched
# to them with a fuzzy matcher (rapidfuzz) when no code or manual name matches exactly.

NAMES: dict[str, tuple[str, ...]] = {
    "1A": ("Food security", "Food security status", "Access to food", "Enough food", "Food",
           "សន្តិសុខស្បៀង", "ស្បៀងអាហារ"),
    "1B": ("Nutrition and growth", "Nutrition", "Growth", "Nutrition status",
           "អាហារូបត្ថម្ភ និងការលូតលាស់", "អាហារូបត្ថម្ភ", "ការលូតលាស់"),
    "2A": ("Shelter", "Housing", "Shelter and housing", "Living conditions", "ទីជម្រក",
           "លំនៅដ្ឋាន"),
    "2B": ("Care", "Caregiving", "Care and support", "Quality of care", "ការថែទាំ",
           "ការមើលថែ"),
    "3A": ("Abuse and exploitation", "Protection from abuse and exploitation",
           "Safety from abuse", "Abuse", "Exploitation", "ការរំលោភបំពាន និងការកេងប្រវ័ញ្ច",
           "ការការពារពីការរំលោភបំពាន", "ការរំលោភបំពាន"),
    "3B": ("Legal protection", "Legal status", "Birth registration", "Legal documents",
           "ការការពារផ្លូវច្បាប់", "ការការពារតាមផ្លូវច្បាប់", "ឯកសារផ្លូវច្បាប់"),
    "4A": ("Wellness", "Physical health", "Health and wellness", "Physical wellbeing",
           "សុខុមាលភាព", "សុខភាពរាងកាយ"),
    "4B": ("Health care services", "Health services", "Access to health care", "Health care",
           "Access to health services", "សេវាថែទាំសុខភាព", "សេវាសុខាភិបាល"),
    "5A": ("Emotional health", "Emotional wellbeing", "Emotional well being",
           "Psychological health", "Mental health", "Emotional state", "សុខភាពផ្លូវចិត្ត",
           "សុខភាពអារម្មណ៍"),
    "5B": ("Social behaviour", "Behaviour with others", "Social skills", "Behaviour",
           "ឥរិយាបថសង្គម", "អាកប្បកិរិយាសង្គម"),
    "6A": ("Performance", "Development and performance", "School performance",
           "Performance at school", "Learning", "ការអនុវត្ត និងការអភិវឌ្ឍ", "លទ្ធផលសិក្សា",
           "ការអភិវឌ្ឍ"),
    "6B": ("Education and work", "Work and education", "Education", "Schooling",
           "Schooling and work", "Education or work", "ការអប់រំ និងការងារ", "ការអប់រំ"),
}
"""Factor code -> the words forms use for it (English with its variants, and Khmer); the
manual's label and the 2020 study's name are known too (:data:`LABELS`, :data:`SEED_NAMES`)."""

CODED_MISSING = (99, 98, 97, 88, 999, 9999, -9, -99, -1, -7, -8, -88)
"""Numbers exports use for 'not applicable', 'don't know' or 'missing' in score columns:
never read as such unless programme.yml declares them (``values: {not_applicable: [99]}``);
``evalkit new`` proposes the ones it finds in factor columns only."""

SURE, UNSURE = 88.0, 72.0
"""Match scores (0–100): at or above SURE, and clearly ahead of any other factor, a header
is taken for the factor; from UNSURE it is only offered as a candidate."""

_NOISE = frozenset(("score", "scores", "rating", "rated", "rate", "csi", "domain", "factor",
                    "status", "level", "the", "child", "childs", "s", "of", "q", "item",
                    "goal", "assessment", "how", "is", "what", "in", "for", "a", "an"))
_CODE_PREFIX = re.compile(r"(?i)^(?:csi|q|f|item|factor|domain)?[\s_.-]*[1-6][\s_.-]?[ab](?![a-z])")
_WORD = re.compile(r"[\w\u1780-\u17ff]+")


def _meaning(text: object) -> str:
    """A header reduced to its words: no group path, code or filler ('csi/1a_food_security
    score' -> 'food security'), one spelling ('behavior' -> 'behaviour', '&' -> 'and')."""
    text = str(text)
    for sep in ("/", ":"):
        if sep in text:
            text = text.rsplit(sep, 1)[-1]
    if "-" in text and not re.search(r"[\u1780-\u17ff]", text):  # ODK's group-name-question
        text = text.rsplit("-", 1)[-1] if re.match(r"^[a-z0-9_]+-[a-z0-9_]", text) else text
    text = _CODE_PREFIX.sub("", text).replace("&", " and ")
    words = [w for w in _WORD.findall(text.lower().replace("_", " ")) if w not in _NOISE]
    return " ".join(words).replace("behavior", "behaviour").replace("wellbeing", "well being")


@functools.lru_cache(maxsize=1)
def _vocabulary() -> tuple[list[str], list[str]]:
    names, codes = [], []
    for code in FACTORS:
        for name in (*NAMES[code], LABELS[code], SEED_NAMES[code]):
            meaning = _meaning(name)
            if meaning and meaning not in names:
                names.append(meaning)
                codes.append(code)
    return names, codes


def factor_matches(header: object) -> list[tuple[str, float]]:
    """The factors ``header`` may name, best first, with a match score (0–100): exactly 100
    for a code or a known name, a fuzzy score for the form's own wording."""
    exact = factor_code(header)
    if exact is not None:
        return [(exact, 100.0)]
    meaning = _meaning(header)
    if not meaning:
        return []
    from rapidfuzz import fuzz, process

    names, codes = _vocabulary()
    best: dict[str, float] = {}
    for _name, score, i in process.extract(meaning, names, scorer=fuzz.WRatio, limit=12):
        best[codes[i]] = max(best.get(codes[i], 0.0), float(score))
    return sorted(best.items(), key=lambda item: -item[1])


# ------------------------------------------------------------------ what a cell means
# The one declaration of the CSI's cell rules. The data-in layer applies it to exports (after
# any value map of programme.yml), and the engine applies it to every distinct value of a
# factor column: csi.score(df), csi.score(path) and `evalkit check` read every cell alike.

SCORES = (1, 2, 3, 4)
"""The scores a rated factor takes."""

KHMER_DIGITS = str.maketrans("០១២៣៤៥៦៧៨៩", "0123456789")
"""Khmer digits, read as digits."""

_NUMBER = re.compile(r"[-+]?\d+(?:\.\d+)?")
_NOTHING = re.compile(r"[\W_]+")  # only punctuation ('-', '.', '—'): nothing was entered


@dataclass(frozen=True)
class Cell:
    """What one factor cell says: a ``score`` (1–4), ``not_applicable``, not rated (neither),
    or not ``valid`` (the cell breaks the rules: the report stops on it or sets it aside)."""

    score: int | None = None
    not_applicable: bool = False
    valid: bool = True


NOT_RATED = Cell()
NOT_APPLICABLE_CELL = Cell(not_applicable=True)
INVALID = Cell(valid=False)


def _key(text: str) -> str:
    """A cell's words in simple form: lower case, each run of non-letters/digits one space."""
    return " ".join(re.findall(r"[^\W_]+", text.lower()))


_NA_KEYS = frozenset(_key(t) for t in NOT_APPLICABLE)

MISSING_WORDS = ("don't know", "do not know", "dont know", "dk", "refused", "no answer",
                 "missing", "not rated", "not assessed", "unknown", "មិនដឹង", "បដិសេធ",
                 "គ្មានចម្លើយ", "មិនបានវាយតម្លៃ")
"""Choice labels (English and Khmer) meaning the factor was not rated."""
_MISSING_KEYS = frozenset(_key(t) for t in MISSING_WORDS)


def read_cell(value: object, not_applicable=(), missing=()) -> Cell:
    """What the CSI cell ``value`` says, by the kit's one rule:

    - a whole number 1–4, as a number or as text (``4``, ``4.0``, `` 4 ``, Khmer ``៤``), or
      one of the scale's words in any case (``Very bad`` … ``Good``, ``very_bad``): a score;
    - ``n/a``, ``not applicable`` (any case and punctuation), or a code declared in
      ``not_applicable`` (``99``, ``-``): the factor does not apply;
    - a blank cell, a cell holding only punctuation (``-``, ``.``) or a code declared in
      ``missing``: not rated;
    - anything else (``0``, ``5``, ``3.5``, ``yes``, ``True``, a date): not valid.
    """
    return cell_rule(tuple(not_applicable), tuple(missing))(value)


@functools.lru_cache(maxsize=64)
def cell_rule(not_applicable: tuple = (), missing: tuple = ()):
    """:func:`read_cell` with these declared codes, as a function of the cell alone (the
    declared codes read once)."""
    na_numbers, na_words, na_marks = _declared(not_applicable)
    missing_numbers, missing_words, missing_marks = _declared(missing)

    def number(value: float) -> Cell:
        if math.isnan(value):
            return NOT_RATED
        if value in na_numbers:
            return NOT_APPLICABLE_CELL
        if value in missing_numbers:
            return NOT_RATED
        return Cell(score=int(value)) if value in SCORES else INVALID

    def rule(value: object) -> Cell:
        kind = type(value).__name__
        if value is None or kind in ("NAType", "NaTType"):
            return NOT_RATED
        if kind in ("bool", "bool_"):  # Python's and numpy's: a yes/no is not a score
            return INVALID
        if isinstance(value, (int, float)) or type(value).__module__ == "numpy":
            try:
                return number(float(value))
            except (TypeError, ValueError):
                return INVALID
        text = str(value).strip()
        if text in na_marks:
            return NOT_APPLICABLE_CELL
        if text in missing_marks:
            return NOT_RATED
        digits = text.translate(KHMER_DIGITS)
        if not digits or _NOTHING.fullmatch(digits):
            return NOT_RATED
        if _NUMBER.fullmatch(digits):
            return number(float(digits))
        key = _key(digits)
        if key in _NA_KEYS or key in na_words:
            return NOT_APPLICABLE_CELL
        if key in missing_words or key in _MISSING_KEYS:
            return NOT_RATED
        score = SCORE_LABELS.get(key)
        return Cell(score=score) if score is not None else INVALID

    return rule


def _declared(codes) -> tuple[frozenset, frozenset, frozenset]:
    """Declared codes as numbers, simple words and literal marks (punctuation)."""
    numbers, words, marks = set(), set(), set()
    for code in codes:
        if isinstance(code, (int, float)) and not isinstance(code, bool):
            numbers.add(float(code))
            continue
        text = str(code).strip()
        digits = text.translate(KHMER_DIGITS)
        if _NUMBER.fullmatch(digits):
            numbers.add(float(digits))
        elif _NOTHING.fullmatch(text) or not text:
            marks.add(text)
        else:
            words.add(_key(digits))
    return frozenset(numbers), frozenset(words), frozenset(marks)
