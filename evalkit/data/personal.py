"""Personal data at the door: which columns identify a person, and keyed hashes for IDs.

* :func:`personal_columns` finds columns holding names, birth dates, phone numbers,
  addresses, free text or usernames, from their headers in English, French, Spanish and
  Khmer (Latin headers by word, Khmer headers by substring), plus the programme's own
  ``privacy.personal`` and ``privacy.keep`` lists. These columns are dropped as the data are
  read; their values are kept in memory only, to scan outputs for leaks.
* :func:`id_columns` finds person-level IDs (child, client, household, caregiver, case …);
  :class:`Pseudonymiser` replaces them by keyed hashes. The key lives in the programme
  folder (``.evalkit/key``), never in an output; results do not depend on it.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import threading
import unicodedata
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

PERSONAL_WORDS = frozenset((
    # English
    "name", "names", "firstname", "lastname", "fullname", "surname", "familyname", "givenname",
    "middlename", "nickname", "dob", "birth", "birthdate", "birthday", "dateofbirth", "phone",
    "tel", "telephone", "mobile", "cell", "cellphone", "email", "mail", "contact", "address",
    "street", "house", "gps", "geopoint", "latitude", "longitude", "lat", "lon", "lng",
    "nationalid", "idcard", "passport", "note", "notes", "comment", "comments", "remark",
    "remarks", "freetext", "description", "narrative", "story", "whatsapp", "telegram",
    "facebook", "signature", "photo", "picture", "username", "submittedby", "submittername",
    "submitterid", "deviceid", "imei", "phonenumber", "simserial", "subscriberid",
    # French
    "nom", "noms", "prenom", "prénom", "prenoms", "prénoms", "naissance", "datedenaissance",
    "telephone", "téléphone", "portable", "courriel", "adresse", "domicile", "commentaire",
    "commentaires", "remarque", "remarques", "observation", "observations",
    # Spanish
    "nombre", "nombres", "apellido", "apellidos", "nacimiento", "fechadenacimiento",
    "telefono", "teléfono", "celular", "movil", "móvil", "correo", "direccion", "dirección",
    "domicilio", "comentario", "comentarios", "observacion", "observación", "observaciones", "nota", "notas",
))
"""Words that mark a column as personal, matched on the header's words (split at case changes,
digits, spaces and punctuation) and on adjacent words run together ("first_name")."""

PERSON_ROLES = frozenset((
    "caregiver", "guardian", "mother", "father", "parent", "parents", "head", "hhhead",
    "householdhead", "respondent", "interviewer", "enumerator", "informant", "tuteur", "mere",
    "mère", "pere", "père", "madre", "padre", "tutor", "encuestador",
))
"""Words naming a person: a header made of these alone ("caregiver", "hh_head", "mother")
holds a person's name; with another word ("caregiver_type", "mother_alive") it does not."""

KHMER_PERSONAL = ("ឈ្មោះ", "កំណើត", "ទូរស័ព្ទ", "អាសយដ្ឋាន", "អាស័យដ្ឋាន", "កំណត់សម្គាល់",
                  "មតិយោបល់", "អ៊ីមែល", "ទីលំនៅ")
"""Khmer substrings: name, birth, telephone, address (two spellings), note, comment, e-mail,
residence."""

ID_OWNERS = frozenset((
    "child", "children", "client", "case", "household", "hh", "family", "caregiver", "person",
    "beneficiary", "respondent", "member", "participant", "student", "patient", "individual",
    "youth", "kid", "enfant", "menage", "ménage", "famille", "nino", "niño", "hogar", "familia",
))
ID_WORDS = frozenset(("id", "ids", "code", "number", "no", "num", "key", "uuid", "identifier"))
NOT_PERSON = frozenset(("village", "commune", "district", "province", "cluster", "strata",
                        "stratum", "school", "group", "round", "assessment", "form", "version"))

META_IDS = frozenset(("_uuid", "_id", "KEY", "meta-instanceID", "instanceID", "meta/instanceID",
                      "_submission__uuid"))

_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-zà-ÿ]+|\d+|[^\W\d_]+")


def _words(column: object) -> list[str]:
    words = [w.lower() for w in _WORD.findall(str(column))]
    return [w for w in words if not w.isdigit()]


def _joined(words: list[str]) -> set[str]:
    out = set(words)
    out |= {a + b for a, b in zip(words, words[1:])}
    out |= {a + b + c for a, b, c in zip(words, words[1:], words[2:])}
    out |= {a + b + c + d for a, b, c, d in zip(words, words[1:], words[2:], words[3:])}
    return out


def _fold(text: str) -> str:
    return str(text).strip().casefold()


def is_personal(column: object) -> bool:
    """True when the header marks the column as personal data (see the module docstring)."""
    text = str(column)
    if any(k in text for k in KHMER_PERSONAL):
        return True
    words = _words(text.rsplit("/", 1)[-1]) or _words(text)
    if _joined(words) & PERSONAL_WORDS:
        return True
    rest = [w for w in words if w not in {"hh", "household", "of", "the", "du", "de", "del"}]
    return bool(rest) and all(w in PERSON_ROLES for w in rest)


def personal_columns(columns: Iterable[object], personal: Iterable[str] = (),
                     keep: Iterable[str] = ()) -> list:
    """Columns that identify a person: detected by header, plus ``personal``, minus ``keep``
    (both matched in any case)."""
    declared = {_fold(c) for c in personal}
    kept = {_fold(c) for c in keep}
    return [c for c in columns
            if _fold(c) not in kept and (_fold(c) in declared or is_personal(c))]


def is_person_id(column: object) -> bool:
    """True for a person-level ID column: child_id, Client ID, hh_id, KEY, _uuid …; a village,
    commune or school code is not one."""
    text = str(column)
    if text in META_IDS:
        return True
    words = _words(text.rsplit("/", 1)[-1])
    if not words or set(words) & NOT_PERSON:
        return False
    return bool(set(words) & ID_WORDS) and bool(_joined(words) & ID_OWNERS)


class Pseudonymiser:
    """Keyed hashes of person IDs (HMAC-SHA-256, a message authentication code): ``hash(id)``
    is the same for the same key and ID, and cannot be reversed without the key. The key is
    created on first use in ``key_file`` (mode 600). The hashes are computed by the embedded
    columnar engine, once per distinct ID."""

    DIGITS = 16
    """Hex digits kept of each hash (64 bits): among ten million distinct IDs the chance that
    two share a pseudonym is about three in a million (it was one in six with 12 digits)."""

    def __init__(self, key: bytes):
        self._key = key

    @staticmethod
    def key_for_folder(folder: Path, private: str = ".evalkit") -> bytes:
        """The programme's key: read from ``folder/private/key``, or made and written there
        (mode 0600, in a 0700 folder, never through a link); a folder that cannot be written
        gets a key for this run only."""
        from evalkit import files

        try:
            return bytes.fromhex(files.read(folder, f"{private}/key", limit=200).decode().strip())
        except FileNotFoundError:
            pass
        except (ValueError, UnicodeDecodeError):
            return secrets.token_bytes(32)  # a damaged key file: this run only, never overwritten
        key = secrets.token_bytes(32)
        try:
            files.write(folder, f"{private}/key", key.hex(), private=True, exclusive=True)
            return key
        except FileExistsError:  # another process made it first
            return bytes.fromhex(files.read(folder, f"{private}/key", limit=200).decode().strip())
        except OSError:  # a read-only folder: a key for this run only
            return key

    @classmethod
    def for_folder(cls, folder: Path, private: str = ".evalkit") -> "Pseudonymiser":
        return cls(cls.key_for_folder(folder, private))

    def hash(self, values: pd.Series) -> pd.Series:
        """Each ID replaced by 'P' + 16 hex digits of its keyed hash; blanks stay blank."""
        import pyarrow as pa

        text = values.astype("string")
        codes, unique = pd.factorize(text, use_na_sentinel=True)
        ids = pa.table({"id": pa.array(unique, type=pa.string())})
        # HMAC (RFC 2104): H((K xor opad) || H((K xor ipad) || message)), K padded to the
        # 64-byte block of SHA-256 (a longer key is hashed first)
        block = self._key if len(self._key) <= 64 else hashlib.sha256(self._key).digest()
        block = block.ljust(64, b"\0")
        inner, outer = (bytes(b ^ pad for b in block).hex() for pad in (0x36, 0x5C))
        query = (f"SELECT 'P' || left(sha256(unhex('{outer}') || unhex(sha256(unhex('{inner}') "
                 f"|| encode(id)))), {self.DIGITS}) AS h FROM evalkit_ids")
        con = _engine()
        con.register("evalkit_ids", ids)
        try:
            hashed = con.sql(query).to_arrow_table().column("h").combine_chunks()
        finally:
            con.unregister("evalkit_ids")
        # each row takes its ID's hash (a blank takes none), without Python strings
        rows = hashed.take(pa.array(codes, mask=codes < 0)).cast(pa.large_string())
        return pd.Series(pd.arrays.ArrowStringArray(rows), index=values.index).astype("string")


def _engine():
    """A connection to the embedded columnar engine (in memory) for this thread."""
    import duckdb

    con = getattr(_THREAD, "con", None)
    if con is None:
        con = _THREAD.con = duckdb.connect()
        try:
            con.execute("SET enable_progress_bar = false")
        except Exception:  # (refused in a Jupyter kernel without ipywidgets)
            pass
    return con


_THREAD = threading.local()


def canaries(frame: pd.DataFrame, columns: Iterable[object], min_length: int = 4) -> set[str]:
    """The distinct texts of ``columns`` long enough to search for in outputs."""
    found: set[str] = set()
    for column in columns:
        if column not in frame.columns:
            continue
        for value in pd.unique(frame[column].dropna()):
            text = value.strftime("%Y-%m-%d") if hasattr(value, "strftime") else str(value).strip()
            if isinstance(value, float) and value.is_integer():
                text = str(int(value))
            if len(text) >= min_length:
                found.add(text)
    return found


_TOKEN = re.compile(r"[^\W_]+")
MAX_WORDS = 8
"""A personal value is searched for by its first eight words."""


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(unicodedata.normalize("NFKC", text).casefold())


class Canaries:
    """The input's personal values as keyed hashes (BLAKE2b with the programme's key) of their
    words, so that outputs can be searched for them without keeping the values: the data-in
    layer computes them as it reads the files and keeps them in the validated cache; the
    renderer searches every page for them (:meth:`found`)."""

    def __init__(self, key: bytes, hashes: frozenset[str] = frozenset(),
                 widths: frozenset[int] = frozenset(), firsts: frozenset[str] = frozenset()):
        self._key = hashlib.blake2b(key, digest_size=32, person=b"evalkit-canary").digest()
        self.hashes = frozenset(hashes)
        self.widths = frozenset(widths)
        self.firsts = frozenset(firsts)

    def _hash(self, words: list[str]) -> str:
        return hashlib.blake2b("\x1f".join(words).encode("utf-8"), key=self._key,
                               digest_size=10).hexdigest()

    def add(self, values: Iterable[str]) -> "Canaries":
        hashes, widths, firsts = set(self.hashes), set(self.widths), set(self.firsts)
        for value in values:
            words = _tokens(str(value))[:MAX_WORDS]
            if words and len("".join(words)) >= 4:
                hashes.add(self._hash(words))
                widths.add(len(words))
                firsts.add(self._hash(words[:1]))
        out = Canaries.__new__(Canaries)
        out._key, out.hashes = self._key, frozenset(hashes)
        out.widths, out.firsts = frozenset(widths), frozenset(firsts)
        return out

    def __bool__(self) -> bool:
        return bool(self.hashes)

    def __or__(self, other: "Canaries") -> "Canaries":
        out = Canaries.__new__(Canaries)
        out._key = self._key
        out.hashes = self.hashes | other.hashes
        out.widths = self.widths | other.widths
        out.firsts = self.firsts | other.firsts
        if other.hashes and other._key != self._key:  # several programmes: keep both keys' sets
            out = _Union([self, other])
        return out

    def found(self, text: str) -> int:
        """How many of the personal values occur in ``text`` (word for word)."""
        if not self.hashes:
            return 0
        words = _tokens(text)
        first: dict[str, bool] = {}
        hits = set()
        for i, word in enumerate(words):
            starts = first.get(word)
            if starts is None:
                starts = first[word] = self._hash([word]) in self.firsts
            if not starts:
                continue
            for width in self.widths:
                if i + width <= len(words):
                    h = self._hash(words[i:i + width])
                    if h in self.hashes:
                        hits.add(h)
        return len(hits)

    def record(self) -> dict:
        return {"hashes": sorted(self.hashes), "widths": sorted(self.widths),
                "firsts": sorted(self.firsts)}

    @classmethod
    def from_record(cls, key: bytes, record: dict) -> "Canaries":
        return cls(key, frozenset(record.get("hashes", ())), frozenset(record.get("widths", ())),
                   frozenset(record.get("firsts", ())))


class _Union(Canaries):
    """The canaries of several programmes (each keyed by its own programme)."""

    def __init__(self, parts):
        self.parts = [p for p in parts if p.hashes]
        self.hashes = frozenset().union(*(p.hashes for p in self.parts))
        self.widths = frozenset().union(*(p.widths for p in self.parts))
        self.firsts = frozenset().union(*(p.firsts for p in self.parts))

    def found(self, text: str) -> int:
        return sum(p.found(text) for p in self.parts)

    def __or__(self, other):
        return _Union([*self.parts, other])
