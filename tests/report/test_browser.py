"""Every report opens in a real browser, offline, without console errors, with every image
rendered. Uses Debian's Chromium through Playwright (no browser download); skipped, with the
reason, where Chromium is not installed (.ci/run installs it)."""

from __future__ import annotations

import shutil

import pytest

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None:
        pytest.skip("Chromium is not installed (apt-get install chromium); browser tests skipped")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    with sync_api.sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield instance
        instance.close()


def test_every_report_renders_offline_without_errors(browser, rendered_collection, tmp_path):
    results, synthesis, index = rendered_collection
    pages = [r.html for r in results] + [synthesis.html, index]
    for path in pages:
        context = browser.new_context(offline=True, viewport={"width": 1150, "height": 900})
        page = context.new_page()
        errors, requests = [], []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("request", lambda r: requests.append(r.url) if not r.url.startswith(("file:", "data:")) else None)
        page.goto(path.as_uri(), wait_until="load")
        images = page.evaluate(
            "Array.from(document.images).map(i => ({ok: i.complete && i.naturalWidth > 0, alt: i.alt}))")
        shot = tmp_path / f"{path.stem}.png"
        page.screenshot(path=str(shot), full_page=True)
        context.close()
        assert errors == [], (path.name, errors)
        assert requests == [], (path.name, requests)
        assert all(i["ok"] for i in images), (path.name, images)
        assert all(i["alt"] for i in images), (path.name, "every chart has alt text")
        assert shot.stat().st_size > 10_000
    assert any(True for _ in pages)


def test_index_links_every_report(rendered_collection):
    results, synthesis, index = rendered_collection
    html = index.read_text()
    for r in results + [synthesis]:
        assert f'href="{r.html.name}"' in html


TABLE_FIT = """() => Array.from(document.querySelectorAll('table')).map(t => {
  const box = t.closest('.evalkit-scroll') || t.parentElement;
  const cap = document.getElementById(t.getAttribute('aria-labelledby') || '');
  return {caption: cap ? cap.textContent.slice(0, 60) : '',
          width: t.getBoundingClientRect().width, room: box.clientWidth,
          wide: !!t.closest('.evalkit-wide'), scrolls: ['auto', 'scroll'].includes(getComputedStyle(box).overflowX),
          cue: t.closest('.evalkit-wide') ? getComputedStyle(t.closest('.evalkit-wide'), '::before').content : ''};
})"""
A4_PRINTABLE_PX = 700  # 210 mm − 2 × 12 mm margins at 96 px per inch


def _measured(browser, rendered_collection, media: str, width: int, script: str,
              print_pdf: bool = False):
    """(page, what ``script`` returns there) for every report, Khmer edition and the
    synthesis, opened offline at ``width`` px for ``media``; printed to A4 too on request
    (it must print without error)."""
    results, synthesis, _ = rendered_collection
    editions = [path for r in results for _code, path in r.editions]  # the Khmer MoSVY report
    for path in [r.html for r in results] + editions + [synthesis.html]:
        context = browser.new_context(offline=True, viewport={"width": width, "height": 900})
        page = context.new_page()
        page.emulate_media(media=media)
        page.goto(path.as_uri(), wait_until="load")
        measured = page.evaluate(script)
        if print_pdf:
            page.pdf(format="A4")
        context.close()
        yield path, measured


@pytest.mark.parametrize("media, width", [("screen", 1280), ("screen", 390), ("print", A4_PRINTABLE_PX)])
def test_tables_never_lose_columns(browser, rendered_collection, media, width):
    """At 1280 px and printed on A4 every table fits its column; on a 390 px phone a table
    that cannot fit scrolls inside its box, under a visible 'scroll sideways' cue."""
    for path, tables in _measured(browser, rendered_collection, media, width, TABLE_FIT,
                                  print_pdf=media == "print"):
        assert tables, path.name
        for t in tables:
            if t["width"] <= t["room"] + 1:
                continue
            assert width == 390, (path.name, media, width, t)
            cue = "scroll sideways" if ".km." not in path.name else "រំកិលទៅចំហៀង"
            assert t["scrolls"] and t["wide"] and cue in t["cue"], (path.name, t)


def test_each_page_has_its_own_title_and_no_internal_words(browser, rendered_collection):
    results, synthesis, index = rendered_collection
    titles = []
    editions = [path for r in results for _code, path in r.editions]
    for path in [r.html for r in results] + editions + [synthesis.html, index]:
        context = browser.new_context(offline=True)
        page = context.new_page()
        page.goto(path.as_uri(), wait_until="load")
        titles.append(page.title())
        text = page.inner_text("body")
        context.close()
        for word in ("seed report", "the seed", "nan", "0.0000", "= <"):
            assert f" {word} " not in f" {text} ".replace("\n", " "), (path.name, word)
    assert len(set(titles)) == len(titles), titles


SMALLEST_TEXT = """() => {
  const cells = Array.from(document.querySelectorAll('table td, table th'))
    .filter(c => c.textContent.trim()).map(c => parseFloat(getComputedStyle(c).fontSize));
  const labels = Array.from(document.querySelectorAll('svg.evalkit-svg text'))
    .filter(t => t.textContent.trim() && t.getBoundingClientRect().height > 0)
    .map(t => t.getBoundingClientRect().height);
  return {cell: Math.min(...cells), label: labels.length ? Math.min(...labels) : null};
}"""


@pytest.mark.parametrize("media, width", [("screen", 390), ("print", A4_PRINTABLE_PX)])
def test_table_and_chart_text_stays_readable_on_a_phone_and_on_paper(browser, rendered_collection,
                                                                     media, width):
    """No table cell under 8 pt (10.7 px) printed on A4; on a 390 px phone chart labels (real
    SVG text) stay at least 8 px tall, where a shrunk 800 px image gave about 5 px."""
    for path, smallest in _measured(browser, rendered_collection, media, width, SMALLEST_TEXT):
        if media == "print":
            assert smallest["cell"] >= 8 * 96 / 72 - 0.01, (path.name, smallest)
        elif smallest["label"] is not None:
            assert smallest["label"] >= 8, (path.name, smallest)
