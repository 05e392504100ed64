"""Incremental report runs: a programme's report is rendered again only when its data, its
configuration or the kit itself changed.

A programme's stamp is the data-in layer's :func:`~evalkit.data.programme.stamp` (its code,
``programme.yml`` and the content of every data file the configuration names) combined with
the digest of the rest of the kit (report code, notebooks, templates, catalogues): one stamp
per programme, one way of digesting the kit. After a report renders, the stamp is remembered
in the folder's private ``.evalkit/rendered.json`` (one entry per output folder); a later
``evalkit report --all`` skips a programme whose stamp is unchanged and whose report files are
all present. ``--force`` renders everything.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from evalkit import files
from evalkit.data.programme import PRIVATE, kit_digest
from evalkit.data.programme import stamp as data_stamp
from evalkit.errors import EvalkitError

KIT = Path(__file__).resolve().parent.parent
KIT_FILES = ("*.py", "*.ipynb", "*.css", "*.j2", "*.json", "*.po")
RECORD = "rendered.json"


def report_kit_files() -> tuple[Path, ...]:
    return tuple(sorted({p for pattern in KIT_FILES for p in KIT.rglob(pattern)
                         if "__pycache__" not in p.parts}))


def stamp_and_languages(folder: Path) -> tuple[str | None, tuple[str, ...]]:
    """The programme's stamp and its editions' languages. The stamp is None when the
    configuration is refused (the programme is rendered, and so reported, as usual) or when
    a data file is not known by its status since it was last read: it has changed, so the
    programme is rendered, and the file is read once, by the render, not here as well."""
    from evalkit.config import load
    from evalkit.report.sections import REGISTRY

    try:
        cfg = load(folder, REGISTRY)
        data = data_stamp(Path(folder), cfg, read=False)
    except (EvalkitError, OSError):
        return None, ()
    if data is None:
        return None, cfg.languages
    current = hashlib.sha256((data + kit_digest(report_kit_files(), "report")).encode())
    return current.hexdigest(), cfg.languages


def _record(folder: Path) -> dict:
    try:
        return json.loads(files.read(folder, f"{PRIVATE}/{RECORD}"))
    except (OSError, ValueError, EvalkitError):
        return {}


def outputs(folder: Path, out_dir: Path, languages: tuple[str, ...], extras=None) -> list[Path]:
    """The files one programme's report consists of under ``out_dir`` (with ``extras``, a
    :class:`~evalkit.report.render.Extras`: the files they add too)."""
    name = Path(folder).name
    out = [out_dir / f"{name}.html", out_dir / f"{name}.headline.json"]
    for code in languages[1:]:
        out += [out_dir / f"{name}.{code}.html", out_dir / f"{name}.{code}.headline.json"]
    if extras is not None:
        out += [out_dir / extra for extra in extras.names(name, languages)]
    return out


def up_to_date(folder: Path, out_dir: Path, current: str, languages: tuple[str, ...],
               extras=None) -> bool:
    """Whether the report in ``out_dir`` was rendered from exactly this stamp and is whole
    (a PDF or spreadsheet asked for now but not written last time makes it stale)."""
    key = str(Path(out_dir).resolve())
    return (_record(folder).get(key) == current
            and all(p.is_file() for p in outputs(folder, Path(out_dir), languages, extras)))


def remember(folder: Path, out_dir: Path, current: str) -> None:
    """Note that the report in ``out_dir`` now matches ``current`` (best effort: a folder that
    cannot be written to is simply rendered again next time)."""
    record = _record(folder)
    record[str(Path(out_dir).resolve())] = current
    try:
        files.write(folder, f"{PRIVATE}/{RECORD}", json.dumps(record, indent=1) + "\n",
                    private=True)
    except (OSError, EvalkitError):
        pass
