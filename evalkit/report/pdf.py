"""A4 PDF editions of the published pages, printed by a headless Chromium.

Chromium is the renderer because its PDFs keep complex scripts as text: a Khmer page printed
by it can be searched and copied (each glyph cluster carries its characters), where renderers
that map glyphs one by one lose Khmer's reordered vowels. The page printed is the page
already published (it passed the gate); it holds no script and loads nothing, so the browser
runs with no network, no profile of its own user and a throw-away data folder.

The browser is found as ``EVALKIT_BROWSER`` (a path), else ``chromium``, ``chromium-browser``,
``google-chrome`` or ``google-chrome-stable`` on the ``PATH``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from evalkit.errors import ReportError

NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
TIMEOUT = 180
"""Seconds one page may take to print."""

MISSING = ("--pdf needs Chromium or Google Chrome to print the pages, and neither was found; "
           "expected one on the PATH (Debian/Ubuntu: 'apt install chromium') or its path in "
           "EVALKIT_BROWSER.")


def browser() -> str | None:
    """The browser that prints the PDFs, or None."""
    given = os.environ.get("EVALKIT_BROWSER")
    if given:
        return given if Path(given).is_file() and os.access(given, os.X_OK) else None
    return next((found for name in NAMES if (found := shutil.which(name))), None)


def require_browser() -> str:
    """The browser, or a :class:`ReportError` saying how to get one."""
    found = browser()
    if found is None:
        raise ReportError(MISSING)
    return found


def print_pdf(page: str, name: str) -> bytes:
    """``page`` (a published HTML page) printed to an A4 PDF (the page's own print styles:
    margins, running header, page numbers). ``name`` names the page in error sentences."""
    command = require_browser()
    scratch = Path(tempfile.mkdtemp(prefix="evalkit-pdf-"))
    try:
        os.chmod(scratch, 0o700)
        source, target = scratch / "page.html", scratch / "page.pdf"
        source.write_text(page, encoding="utf-8")
        argv = [command, "--headless", "--disable-gpu", "--no-first-run", "--no-default-browser-check",
                "--disable-extensions", "--disable-background-networking", "--mute-audio",
                f"--user-data-dir={scratch / 'profile'}", "--no-pdf-header-footer",
                "--run-all-compositor-stages-before-draw", f"--print-to-pdf={target}"]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            argv.append("--no-sandbox")  # Chromium refuses to run as root with its sandbox
        argv.append(source.as_uri())
        try:
            subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           timeout=TIMEOUT, check=False, cwd=scratch)
        except subprocess.TimeoutExpired:
            raise ReportError(f"{name}: the browser took more than {TIMEOUT} s to print the "
                              "PDF and was stopped; the HTML page was written.") from None
        except OSError as exc:
            raise ReportError(f"{name}: the browser could not be started to print the PDF "
                              f"({exc.strerror or type(exc).__name__}).") from None
        data = target.read_bytes() if target.is_file() else b""
        if not data.startswith(b"%PDF"):
            raise ReportError(f"{name}: the browser wrote no PDF; the HTML page was written.")
        return data
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
