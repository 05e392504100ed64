"""Bounded inputs: bombs are refused in one sentence, quickly and in little memory, before
anything is expanded — a YAML alias bomb, an .xlsx whose one cell sits at the sheet's far
corner, an .xlsx or ODK zip whose members expand to gigabytes — and an ordinary export under
10 MB is read in well under 1 GB."""

from __future__ import annotations

import io
import subprocess
import sys
import textwrap
import zipfile

import pytest

from evalkit.errors import ConfigError


def _measure(code: str) -> tuple[int, float, str, float]:
    """Run ``code`` in a fresh process: (exit status, peak memory in MB, its output, seconds).
    The peak is the process's own high-water mark (VmHWM), not the parent's it inherits."""
    body = textwrap.indent(textwrap.dedent(code).strip(), "    ")
    wrapper = ("import resource, sys, time\nstart = time.perf_counter()\ntry:\n" + body
               + "\n    status = 0\nexcept Exception as exc:\n    print(type(exc).__name__, exc)\n"
               "    status = 1\npeak = next(int(l.split()[1]) for l in open('/proc/self/status') "
               "if l.startswith('VmHWM')) / 1024\n"
               "print('PEAK', peak, 'SECONDS', time.perf_counter() - start)\nsys.exit(status)\n")
    run = subprocess.run([sys.executable, "-c", wrapper], capture_output=True, text=True, timeout=300)
    out = run.stdout + run.stderr
    peak = float(out.split("PEAK ")[1].split()[0]) if "PEAK " in out else float("inf")
    seconds = float(out.split("SECONDS ")[1].split()[0]) if "SECONDS " in out else float("inf")
    return run.returncode, peak, out, seconds


def test_a_yaml_alias_bomb_is_refused_at_once(tmp_path):
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 10):
        prev = chr(ord("a") + i - 1)
        lines.append(f"{chr(ord('a') + i)}: &{chr(ord('a') + i)} [{', '.join(['*' + prev] * 9)}]")
    (tmp_path / "programme.yml").write_text("name: x\n" + "\n".join(lines) + "\n")
    status, peak, out, seconds = _measure(f"""
        from evalkit import load_config
        load_config({str(tmp_path)!r})
    """)
    assert status == 1 and "ConfigError" in out and "YAML anchor" in out, out
    assert seconds < 5 and peak < 300


def test_a_huge_programme_yml_is_refused(tmp_path):
    from evalkit import load_config

    (tmp_path / "programme.yml").write_text("name: x\n# " + "x" * 2_000_000 + "\n")
    with pytest.raises(ConfigError, match="larger than 1 MB"):
        load_config(tmp_path)


def _workbook_with(tmp_path, sheet_xml_edit):
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["child_id", "1A"])
    book.active.append(["C1", 3])
    base = io.BytesIO()
    book.save(base)
    with zipfile.ZipFile(base) as z:
        members = {n: z.read(n) for n in z.namelist()}
    sheet = members["xl/worksheets/sheet1.xml"].decode()
    members["xl/worksheets/sheet1.xml"] = sheet_xml_edit(sheet).encode()
    path = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for name, data in members.items():
            out.writestr(name, data)
    return path


def test_an_xlsx_with_a_cell_at_the_far_corner_is_refused_in_little_memory(tmp_path):
    path = _workbook_with(tmp_path, lambda s: s.replace(
        "</sheetData>", '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row></sheetData>'))
    status, peak, out, seconds = _measure(f"""
        from evalkit.data.read import read
        read({str(path)!r})
    """)
    assert status == 1 and "DataError" in out and "1,048,576 rows" in out, out
    assert peak < 400 and seconds < 10


@pytest.mark.slow
def test_an_xlsx_that_expands_a_thousandfold_is_refused(tmp_path):
    path = _workbook_with(tmp_path, lambda s: s)
    bomb = tmp_path / "bomb2.xlsx"
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as out:
        for name in source.namelist():
            if name != "xl/worksheets/sheet1.xml":
                out.writestr(name, source.read(name))
        head, tail = source.read("xl/worksheets/sheet1.xml").split(b"</sheetData>")
        with out.open("xl/worksheets/sheet1.xml", "w") as member:
            member.write(head)
            block = b'<row><c t="inlineStr"><is><t>x</t></is></c></row>' * 20000
            for _ in range(2000):  # 2 GB of rows, a few MB compressed
                member.write(block)
            member.write(b"</sheetData>" + tail)
    path = bomb
    assert path.stat().st_size < 10_000_000
    status, peak, out, seconds = _measure(f"""
        from evalkit.data.read import read
        read({str(path)!r})
    """)
    assert status == 1 and "DataError" in out and ("expands" in out or "expand to" in out), out
    assert peak < 400


@pytest.mark.slow
def test_an_odk_zip_bomb_is_refused_before_anything_is_expanded(tmp_path):
    path = tmp_path / "export.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        out.writestr("form.csv", "KEY,child_id,1A\n" + "uuid:1,C1,3\n")
        with out.open("form-children.csv", "w") as member:
            block = b"0" * (1 << 20)
            for _ in range(1024):  # 1 GB of zeros, about 1 MB compressed
                member.write(block)
    assert path.stat().st_size < 3_000_000
    status, peak, out, seconds = _measure(f"""
        from evalkit.data.read import read
        read({str(path)!r})
    """)
    assert status == 1 and "DataError" in out, out
    assert peak < 300 and seconds < 10


@pytest.mark.slow
def test_an_ordinary_ten_megabyte_workbook_is_read_in_under_a_gigabyte(tmp_path):
    rows = "".join(f'<row r="{i}"><c r="A{i}" t="inlineStr"><is><t>C{i % 97}</t></is></c>'
                   f'<c r="B{i}"><v>{i % 4 + 1}</v></c></row>' for i in range(3, 700_000))
    path = _workbook_with(tmp_path, lambda s: s.replace("</sheetData>", rows + "</sheetData>"))
    assert path.stat().st_size < 10_000_000
    status, peak, out, seconds = _measure(f"""
        from evalkit.data.read import read
        table = read({str(path)!r}, expect={{"child_id"}})
        assert len(table.frame) > 600_000
    """)
    assert status == 0, out
    assert peak < 1024, peak
