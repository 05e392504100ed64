"""Incremental report runs: a programme's report is rendered again only when its data, its
configuration or the kit itself changed.

The stamp of a programme is a SHA-256 over the kit's own files (source, notebooks,
templates, catalogues), its ``programme.yml`` and the content of every data file in its
folder. After a report renders, the stamp is remembered in the folder's private
``.evalkit/rendered.json`` (one entry per output folder); a later ``evalkit report --all``
skips a programme whose stamp is unchanged and whose report files are all present.
``--force`` renders everything.
"""

from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path

from evalkit.data.programme import PRIVATE
from evalkit.data.read import file_digest

KIT = Path(__file__).resolve().parent.parent
KIT_FILES = ("*.py", "*.ipynb", "*.css", "*.j2", "*.json", "*.po")
RECORD = "rendered.json"


@functools.lru_cache(maxsize=1)
def kit_digest() -> str:
    """A digest of the kit's own files: any change to its code, notebooks, templates or
    translations makes every report stale."""
    digest = hashlib.sha256()
    files = sorted({p for pattern in KIT_FILES for p in KIT.rglob(pattern)
                    if "__pycache__" not in p.parts})
    for path in files:
        digest.update(str(path.relative_to(KIT)).encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()


def stamp(folder: Path) -> str:
    """The programme's stamp: the kit, its configuration and its data files' contents."""
    digest = hashlib.sha256(kit_digest().encode())
    for path in sorted(p for p in Path(folder).iterdir() if p.is_file()):
        digest.update(path.name.encode() + b"\0" + file_digest(path).encode())
    return digest.hexdigest()


def _record(folder: Path) -> dict:
    try:
        return json.loads((Path(folder) / PRIVATE / RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def outputs(folder: Path, out_dir: Path, languages: tuple[str, ...]) -> list[Path]:
    """The files one programme's report consists of under ``out_dir``."""
    name = Path(folder).name
    files = [out_dir / f"{name}.html", out_dir / f"{name}.headline.json"]
    files += [out_dir / f"{name}.{code}.html" for code in languages[1:]]
    return files


def up_to_date(folder: Path, out_dir: Path, current: str, languages: tuple[str, ...]) -> bool:
    """Whether the report in ``out_dir`` was rendered from exactly this stamp and is whole."""
    key = str(Path(out_dir).resolve())
    return (_record(folder).get(key) == current
            and all(p.is_file() for p in outputs(folder, Path(out_dir), languages)))


def remember(folder: Path, out_dir: Path, current: str) -> None:
    """Note that the report in ``out_dir`` now matches ``current`` (best effort: a folder that
    cannot be written to is simply rendered again next time)."""
    record = _record(folder)
    record[str(Path(out_dir).resolve())] = current
    target = Path(folder) / PRIVATE / RECORD
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    except OSError:
        pass
