"""Writes that cannot escape their folder.

Every file the kit writes — reports, the index and headline files under ``--out``, the
private ``DIR/.evalkit/`` folder (key, cache, check page, logs), and the files ``evalkit new``
copies into a programme folder — goes through :func:`write`. Below the folder the caller
names (its root), no component may be a symbolic link: each is opened with ``O_NOFOLLOW``
relative to its parent's descriptor, the file is written to a new temporary file beside the
target (``O_EXCL | O_NOFOLLOW``) and renamed over it, and a target that is a link is refused.
A file is never written through a link, whatever the link points to.

Private folders are mode 0700 and private files 0600; published files are readable like any
other file the user writes (0666 less the umask).
"""

from __future__ import annotations

import errno
import os
import secrets
import stat
from pathlib import Path

from evalkit.errors import EvalkitError

DIR_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_NOFOLLOW", 0)


class UnsafePath(EvalkitError):
    """A write would follow a symbolic link or leave its folder."""


def _parts(relative: str | Path) -> list[str]:
    parts = [p for p in Path(relative).parts if p not in ("", ".")]
    if not parts or any(p == ".." or os.sep in p or p.startswith("/") for p in parts):
        raise UnsafePath(f"{relative}: not a plain path inside its folder.")
    return parts


def _refuse_link(root: Path, shown: Path) -> UnsafePath:
    """The refusal, naming the path from the root's folder name on (no absolute path)."""
    try:
        named = Path(root.name) / shown.relative_to(root)
    except ValueError:
        named = shown
    return UnsafePath(f"{named}: is a symbolic link (or passes through one); evalkit writes "
                      f"only real files and folders inside {root.name}. Remove the link and run "
                      "again.")


def _open_dir(root: Path, parts: list[str], create: bool, private: bool) -> int:
    """A descriptor of ``root/parts…``, each component opened without following links
    (created when ``create``; private folders get mode 0700)."""
    try:
        fd = os.open(root, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except FileNotFoundError:
        if not create:
            raise
        root.mkdir(parents=True, exist_ok=True)
        fd = os.open(root, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    here = root
    for name in parts:
        here = here / name
        try:
            try:
                child = os.open(name, DIR_FLAGS, dir_fd=fd)
            except FileNotFoundError:
                if not create:
                    raise
                try:
                    os.mkdir(name, 0o700 if private else 0o777, dir_fd=fd)
                except FileExistsError:
                    pass
                child = os.open(name, DIR_FLAGS, dir_fd=fd)
        except OSError as exc:
            os.close(fd)
            if exc.errno in (errno.ELOOP, errno.ENOTDIR, errno.EMLINK):
                raise _refuse_link(root, here) from None
            raise
        os.close(fd)
        fd = child
        if private:
            os.fchmod(fd, 0o700)
    return fd


def _refuse_target(fd: int, name: str, root: Path, target: Path, exclusive: bool) -> None:
    """Refuse a target that is a link or not a regular file (or, ``exclusive``, that exists)."""
    try:
        existing = os.stat(name, dir_fd=fd, follow_symlinks=False)
    except FileNotFoundError:
        return
    if stat.S_ISLNK(existing.st_mode):
        raise _refuse_link(root, target)
    if not stat.S_ISREG(existing.st_mode):
        raise UnsafePath(f"{target}: is not a regular file; evalkit writes files only.")
    if exclusive:
        raise FileExistsError(target)


def write(root: str | Path, relative: str | Path, data: bytes | str, *, private: bool = False,
          exclusive: bool = False) -> Path:
    """Write ``data`` to ``root/relative`` atomically, following no link below ``root``.

    ``private``: folders 0700 and the file 0600 (the programme's ``.evalkit/``).
    ``exclusive``: refuse when the file already exists (``evalkit new``).
    """
    root = Path(root)
    parts = _parts(relative)
    if isinstance(data, str):
        data = data.encode("utf-8")
    fd = _open_dir(root, parts[:-1], create=True, private=private)
    name = parts[-1]
    target = root.joinpath(*parts)
    try:
        _refuse_target(fd, name, root, target, exclusive)
        tmp = f".{name}.{secrets.token_hex(6)}.tmp"
        mode = 0o600 if private else 0o666
        handle = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0),
                         mode, dir_fd=fd)
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
                if private:
                    os.fchmod(out.fileno(), 0o600)
            if exclusive:
                try:
                    os.link(tmp, name, src_dir_fd=fd, dst_dir_fd=fd, follow_symlinks=False)
                except FileExistsError:
                    raise FileExistsError(target) from None
                os.unlink(tmp, dir_fd=fd)
            else:
                os.rename(tmp, name, src_dir_fd=fd, dst_dir_fd=fd)
        except BaseException:
            try:
                os.unlink(tmp, dir_fd=fd)
            except OSError:
                pass
            raise
    finally:
        os.close(fd)
    return target


def read(root: str | Path, relative: str | Path, limit: int | None = None) -> bytes:
    """The bytes of ``root/relative``, following no link below ``root`` (at most ``limit``)."""
    root = Path(root)
    parts = _parts(relative)
    fd = _open_dir(root, parts[:-1], create=False, private=False)
    try:
        try:
            handle = os.open(parts[-1], os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0), dir_fd=fd)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise _refuse_link(root, root.joinpath(*parts)) from None
            raise
    finally:
        os.close(fd)
    with os.fdopen(handle, "rb") as source:
        return source.read() if limit is None else source.read(limit)


def remove(root: str | Path, relative: str | Path) -> None:
    """Remove ``root/relative`` if it is there (a link is removed, never followed)."""
    root = Path(root)
    parts = _parts(relative)
    try:
        fd = _open_dir(root, parts[:-1], create=False, private=False)
    except (FileNotFoundError, NotADirectoryError):
        return
    try:
        os.unlink(parts[-1], dir_fd=fd)
    except FileNotFoundError:
        pass
    finally:
        os.close(fd)


def folder(root: str | Path, relative: str | Path = "", *, private: bool = False) -> Path:
    """Make sure ``root/relative`` is a real folder (no link below ``root``); returns its path."""
    root = Path(root)
    parts = _parts(relative) if str(relative) not in ("", ".") else []
    os.close(_open_dir(root, parts, create=True, private=private))
    return root.joinpath(*parts)


FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")


def neutralise(value):
    """A spreadsheet cell that cannot run as a formula: text starting with = + - @, a tab or
    a line break gets a leading apostrophe (text that is a number stays as it is)."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        try:
            float(value.replace(",", ""))
            return value  # '-3.5' is a number written as text, not a formula
        except ValueError:
            return "'" + value
    return value


class EngineOutput:
    """A place for an engine that writes by path (DuckDB's ``COPY``, Spark's writers) to
    write ``root/name``, without following a link: :meth:`staging` is a new folder created
    beside the target through ``root``'s descriptor (``mkdir`` refuses an existing name, so
    it is never a link), and :meth:`publish` renames what the engine wrote there to the
    target through the same descriptor. A target that is a link or a folder is refused
    before the engine runs; a file is replaced by a file, never by a folder of parts. Used as a context manager; the staging
    folder is removed whatever happens."""

    def __init__(self, root: str | Path, name: str):
        self.root, self.name = Path(root), _parts(name)[-1]
        if _parts(name) != [self.name]:
            raise UnsafePath(f"{name}: expected a file name, not a path.")
        self._fd = -1
        self._staging = f".{self.name}.{secrets.token_hex(6)}.tmp"

    def __enter__(self) -> "EngineOutput":
        self._fd = _open_dir(self.root, [], create=True, private=False)
        try:
            self._refuse_existing(file_ok=True)
            os.mkdir(self._staging, 0o700, dir_fd=self._fd)
        except BaseException:
            os.close(self._fd)
            raise
        return self

    def _refuse_existing(self, file_ok: bool) -> None:
        """Refuse a target that is a link (before any work, and again at the rename), or
        that the output cannot replace: a folder, or a file when the output is a folder."""
        try:
            existing = os.stat(self.name, dir_fd=self._fd, follow_symlinks=False).st_mode
        except FileNotFoundError:
            return
        target = self.root / self.name
        if stat.S_ISLNK(existing):
            raise _refuse_link(self.root, target)
        if not (file_ok and stat.S_ISREG(existing)):
            raise UnsafePath(f"{target}: already exists; evalkit replaces a file only by a "
                             "file. Choose a new path or remove it, and run again.")

    @property
    def staging(self) -> Path:
        """The folder the engine writes into (by its path)."""
        return self.root / self._staging

    def publish(self, written: str) -> Path:
        """Rename ``staging/written`` (a file, or a folder of part files) to the target."""
        target = self.root / self.name
        folder = os.open(self._staging, DIR_FLAGS, dir_fd=self._fd)
        try:
            kind = os.stat(written, dir_fd=folder, follow_symlinks=False).st_mode
            if not (stat.S_ISREG(kind) or stat.S_ISDIR(kind)):
                raise UnsafePath(f"{target}: the engine wrote something other than a file.")
            self._refuse_existing(file_ok=stat.S_ISREG(kind))
            os.rename(written, self.name, src_dir_fd=folder, dst_dir_fd=self._fd)
        finally:
            os.close(folder)
        return target

    def __exit__(self, *exc) -> None:
        import shutil

        try:
            shutil.rmtree(self._staging, dir_fd=self._fd)
        except FileNotFoundError:
            pass
        finally:
            os.close(self._fd)
