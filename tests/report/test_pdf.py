"""`evalkit report --pdf`: an A4 PDF beside each page, printed by a headless Chromium, whose
Khmer text can be searched and copied (checked by extracting it with poppler's pdftotext)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import pytest

from evalkit.report import pdf
from evalkit.report.render import Extras

needs_browser = pytest.mark.skipif(pdf.browser() is None, reason="no Chromium to print PDFs")


def _run(*args, env=None):
    return subprocess.run([sys.executable, "-m", "evalkit", *args], capture_output=True,
                          text=True, env={**os.environ, **(env or {})})


def test_the_extras_name_the_files_they_add():
    assert Extras().names("cct") == []
    assert Extras(pdf=True).names("plan", ("en", "km")) == ["plan.pdf", "plan.km.pdf"]
    assert Extras(notebook=True, tables=True).names("cct") == ["_executed/cct.ipynb",
                                                               "cct.tables.xlsx"]


def test_without_a_browser_pdf_is_refused_in_one_sentence_before_any_work(tmp_path, synthetic_root):
    result = _run("report", str(synthetic_root / "sko"), "--out", str(tmp_path / "out"), "--pdf",
                  env={"EVALKIT_BROWSER": str(tmp_path / "no-such-browser")})
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "--pdf needs Chromium or Google Chrome" in result.stderr
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


@pytest.mark.browser
@needs_browser
@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler's pdftotext is needed")
def test_pdf_editions_are_a4_and_their_khmer_text_is_searchable(tmp_path, synthetic_root):
    out = tmp_path / "out"
    result = _run("report", str(synthetic_root / "national_action_plan"), "--out", str(out), "--pdf")
    assert result.returncode == 0, result.stderr
    english, khmer = out / "national_action_plan.pdf", out / "national_action_plan.km.pdf"
    assert english.read_bytes().startswith(b"%PDF") and khmer.read_bytes().startswith(b"%PDF")
    info = subprocess.run(["pdfinfo", str(khmer)], capture_output=True, text=True).stdout
    width, height = map(float, re.search(r"Page size:\s+([\d.]+) x ([\d.]+)", info).groups())
    assert abs(width - 595) < 2 and abs(height - 842) < 2  # A4 in points
    assert int(re.search(r"Pages:\s+(\d+)", info).group(1)) >= 2
    text = subprocess.run(["pdftotext", str(khmer), "-"], capture_output=True, text=True).stdout
    joined = re.sub(r"\s+", "", text)
    # the words a reader would search for, as they are written, with their stacked consonants
    # and vowels in order (a renderer that loses Khmer's reordered vowels fails here)
    for words in ("ទិន្នន័យសិប្បនិម្មិត", "ឧបករណ៍តាមដានកុមារ", "សេចក្ដីសង្ខេប",
                  "ក្រសួងសង្គមកិច្ច", "សមាហរណកម្ម", "ខេត្តគោលដៅ"):
        assert words in joined, words
    assert "1,419" in text  # figures stay figures
    english_text = subprocess.run(["pdftotext", str(english), "-"], capture_output=True,
                                  text=True).stdout
    assert "Synthetic data" in english_text and "Page 1 of" in english_text
