"""Rendered reports: the expected figures, no code, offline, inert, and no child's personal
data."""

from __future__ import annotations

import html as html_module
import json
import re
import shutil
import subprocess
import sys
import warnings

import pytest

from evalkit import load_programme
from evalkit.data.read import read_table
from evalkit.indices import csi
from evalkit.report import gate
from evalkit.report.render import render_programme


def text_of(html: str) -> str:
    """Visible text, tags, styles and charts removed, whitespace folded."""
    body = re.sub(r"<style.*?</style>|<svg.*?</svg>", " ", html, flags=re.S)
    return html_module.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body)))


ALL = ["cct", "cfi", "cif", "mlop_tapang", "sko", "ccpcr", "national_action_plan"]


def test_one_report_per_programme(rendered):
    assert set(rendered) == set(ALL)


@pytest.mark.parametrize("key", ALL)
def test_report_holds_no_code_prompts_or_parameters(rendered, key):
    html = rendered[key].read_text()
    for marker in ("ProgrammeReport", "import ", "programme_dir", "canary_file",
                   "injected-parameters", "In&nbsp;[", "jp-InputArea", "Traceback", "Warning",
                   "this cell is not part of the report"):
        assert marker not in html, marker


@pytest.mark.parametrize("key", ALL)
def test_report_is_offline_and_inert(rendered, key):
    html = rendered[key].read_text()
    assert gate.live_content(html) == []
    assert "<script" not in html and "<img" not in html  # nothing to run; charts are inline SVG
    if key in ("cct", "cfi", "cif"):
        assert html.count('<svg ') >= 2  # each chart for a page and for a phone


@pytest.mark.parametrize("key", ["cct", "cfi", "cif"])
def test_report_has_no_child_names_or_birth_dates(rendered, synthetic_root, key):
    html = rendered[key].read_text()
    raw = read_table(synthetic_root / key / "csi_assessments.csv")
    names = set(raw["child_name"])
    births = set(raw["date_of_birth"])
    assert len(names) > 50 and len(births) > 50
    assert not [n for n in names if n in html]
    assert not [b for b in births if b in html]
    assert "child_name" not in html and "date_of_birth" not in html
    assert not re.search(r"\b(CCT|CFI|CIF)-\d{4}\b", html)  # nor the ids


@pytest.mark.parametrize("key", ALL)
def test_no_personal_value_of_any_input_file_reaches_the_report(rendered, synthetic_root, key):
    from evalkit.data.personal import personal_columns

    html = rendered[key].read_text()
    checked = 0
    for path in sorted((synthetic_root / key).glob("*.csv")):
        raw = read_table(path)
        for column in personal_columns(raw.columns):
            values = {v for v in raw[column].dropna().astype(str) if len(v) >= 6}
            checked += len(values)
            assert not [v for v in values if v in html], (key, path.name, column)
    assert checked > 10  # every programme has generated names (and dates or phones)


def test_cct_report_shows_the_api_figures(rendered, synthetic_root):
    text = text_of(rendered["cct"].read_text())
    data = load_programme(synthetic_root / "cct")
    result = csi.change(data.csi, child="child", round="round", before=1, after=2)
    table = result.to_frame().set_index("code")
    assert "219 children were assessed at Baseline and 29 at Six months" in text
    assert "190 children assessed at Baseline were not reassessed" in text
    for code in ("1A", "2A", "6A"):  # the change table carries the API's numbers, formatted
        row = table.loc[code]
        assert f"{row['mean_before']:.2f}" in text
        assert f"{row['relative_change_pct']:+.1f}".replace("-", "−") in text
    assert "relative change of the mean score" in text  # the published reading is stated
    shelter = result.improvement()["Shelter"]
    assert f"{shelter:+.1f}" in text and abs(shelter - 20) <= 1
    assert "not an impact estimate" in text


def test_cfi_report_shows_every_round(rendered, synthetic_root):
    text = text_of(rendered["cfi"].read_text())
    data = load_programme(synthetic_root / "cfi")
    by_round = csi.flagged_by_round(data.csi, round="round")
    for number, pct in zip(by_round["round"], by_round["any_flagged_pct"]):
        assert data.rounds.label(number) in text
        assert f"{pct:.0f}" in text
    assert "24 months" in text and "280" in text


@pytest.mark.slow
def test_bad_score_fails_with_one_sentence_and_writes_no_report(synthetic_root, tmp_path):
    folder = tmp_path / "broken"
    shutil.copytree(synthetic_root / "cct", folder, ignore=shutil.ignore_patterns(".evalkit"))
    lines = (folder / "csi_assessments.csv").read_text().splitlines()
    header = lines[0].split(",")
    cells = lines[13].split(",")
    cells[header.index("3B")] = "5"
    lines[13] = ",".join(cells)
    (folder / "csi_assessments.csv").write_text("\n".join(lines) + "\n")
    result = render_programme(folder, tmp_path / "out")
    assert not result.ok
    assert result.error == (
        "broken: file 1, line 14, column '3B': the value is not a CSI score; expected a whole "
        "number from 1 (very bad) to 4 (good), a scale word (Very bad, Bad, Fair, Good), 'n/a' "
        "where the factor does not apply, or a blank cell where it was not rated.")
    assert not (tmp_path / "out" / "broken.html").exists()
    # the owner reads the full sentence (with the value) in the private folder
    private = (folder / ".evalkit" / "report-error.txt").read_text()
    assert "csi_assessments.csv, line 14, column '3B'" in private
    cli = subprocess.run([sys.executable, "-m", "evalkit", "report", str(folder), "--out",
                          str(tmp_path / "out")], capture_output=True, text=True)
    assert cli.returncode == 1
    assert "Traceback" not in cli.stderr
    assert "line 14, column '3B': the value is not a CSI score" in cli.stderr
    assert "report-error.txt" in cli.stderr


def test_the_gate_refuses_a_leaking_or_live_page(synthetic_root):
    from evalkit.errors import ReportError

    data = load_programme(synthetic_root / "cct", use_cache=False)
    raw = read_table(synthetic_root / "cct" / "csi_assessments.csv")
    with pytest.raises(ReportError, match="personal data"):
        gate.check_page(f"<p>{raw['child_name'].iloc[3]}</p>", "cct", data.canaries)
    with pytest.raises(ReportError, match="<script>"):
        gate.check_page('<script src="https://cdn.example.org/x.js"></script>', "cct")


def test_cct_report_has_the_trial_section_with_the_api_numbers(rendered, synthetic_root):
    from evalkit.display import p_value
    from evalkit.report.sections import trial as trial_section

    html = rendered["cct"].read_text()
    text = text_of(html)
    data = load_programme(synthetic_root / "cct")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        analysis = trial_section.compute(data, data.config.trial)
    assert "Village campaign trial" in text
    assert "18 of 36 villages were chosen at random within each commune" in text
    for r in analysis.effects.results:
        outcome = analysis.outcome(r.outcome)
        binary = outcome.kind == "binary"
        value = f"{r.estimate * (100 if binary else 1):+.{1 if binary else 2}f}".replace("-", "−")
        assert value in text, r.outcome
        for p in (r.p_value, r.p_ri, r.p_wild):
            assert p_value(p) in text
        verdict = "a detectable difference" if r.p_value < 0.05 else "no detectable difference"
        assert f"{outcome.label}: {verdict}" in text
        assert ("lower is better" if outcome.better == "lower" else "higher is better") in text
    assert "no effect." not in text.lower()
    first = analysis.config.outcomes[0].name
    assert f"about {analysis.mde_sd[first]:.2f} standard deviations with 80 % power" in text
    assert f"p = {analysis.balance.omnibus_p:.3f}" in text
    n = analysis.effects.results[0]
    assert re.search(rf">\s*{n.n_obs}\s*</td>\s*</tr>", html)  # households behind each estimate
    assert f"({n.n_clusters} villages in all)" in text
    raw = read_table(synthetic_root / "cct" / "household_survey.csv")
    assert not [n for n in set(raw["respondent_name"]) if n in html]
    assert not [p for p in set(raw["phone"]) if p in html]
    assert not re.search(r"\bHH-\d{4}\b", html)


def section(doc: str, anchor: str) -> str:
    """The text of a rendered report's part (up to the next part)."""
    doc = re.sub(r"<nav .*?</nav>", " ", doc, flags=re.S)  # the table of contents
    chunks = [c for c in re.split(r'(?=<section class="evalkit-part")', doc)
              if c.startswith(f'<section class="evalkit-part" id="part-{anchor}"')]
    assert len(chunks) == 1, anchor
    return text_of(chunks[0])


def test_cct_key_findings_agree_with_the_published_no_significant_difference(rendered):
    """The study reports no significant difference in attitudes and knowledge; the synthetic
    trial reproduces it, and the brief, the key findings and the index headline say so."""
    doc = rendered["cct"].read_text()
    for part in ("brief", "findings"):
        key = section(doc, part)
        assert "no detectable difference on any of the 4 outcomes" in key
        assert "The published study also reports" in key
    headline = json.loads(rendered["cct"].with_name("cct.headline.json").read_text())
    assert "no detectable difference on any of the 4 outcomes, as the published study found" \
        in headline["headline"]
    assert "This analysis agrees" in text_of(doc)


def test_illustrations_are_set_apart_and_never_key_findings(rendered):
    for key, title in (("mlop_tapang", "Household vulnerability tiers"),
                       ("cct", "Village risk categories")):
        html = rendered[key].read_text()
        assert f"Illustration: {title}" in text_of(html)
        assert 'class="evalkit-box evalkit-box-illustration"' in html
        summary = section(html, "findings") + section(html, "brief")
        assert "destitute" not in summary.lower() and title not in summary


def test_reports_without_a_trial_have_no_trial_section(rendered):
    assert "Village campaign trial" not in text_of(rendered["cfi"].read_text())


SEED_FIGURES = {
    "mlop_tapang": ["32", "50", "64", "81", "66", "clean water: 7 of 28 (25 %)",
                    "toilet: 8 of 36 (22 %)", "8 of 17 (47 %)", "6 of 25 (24 %)",
                    "Alcohol support group", "destitute"],
    "sko": ["PO+=", "26", "40", "388", "114", "234", "administrative problems (24 % unsolved)",
            "addiction/substance use problems (25 % unsolved)"],
    "ccpcr": ["Security", "Access to justice", "Family problem-solving", "20"],
    "national_action_plan": ["16,579", "6,778", "9,801", "7,579", "11,788", "4,209", "1,419",
                             "3,500", "1,021", "134", "Table 7 is cited",
                             "reproduced only with the denominator “cases updated and entered",
                             "RCIs and children by province"],
}


@pytest.mark.parametrize("key", sorted(SEED_FIGURES))
def test_every_seed_programme_report_shows_its_seed_figures(rendered, key):
    text = text_of(rendered[key].read_text()).replace("\u00a0", " ")
    for figure in SEED_FIGURES[key]:
        assert figure in text, (key, figure)
    assert "Source:" in text


def test_csi_programmes_have_each_childs_change(rendered):
    for key in ("cct", "cfi", "cif"):
        text = text_of(rendered[key].read_text())
        assert "Each child's change" in text
        assert "not an impact estimate" in text
    assert "Trajectory of the number of factors needing services" in text_of(rendered["cfi"].read_text())
    cif = text_of(rendered["cif"].read_text())
    assert "Two groups compared (descriptive)" in cif and "kinship" in cif
    assert "improved more" in cif or "do not differ detectably" in cif


def test_each_report_writes_a_structured_headline_the_index_uses(rendered):
    index = (rendered["cct"].parent / "index.html").read_text()
    for key, report in [*rendered.items(), ("synthesis", rendered["cct"].parent / "synthesis.html")]:
        record = json.loads(report.with_name(report.stem + ".headline.json").read_text())
        assert record["programme"] == key and record["headline"] and record["title"]
        assert record["synthetic"] is True
        assert html_module.escape(record["headline"]) in index


KEY_FINDING_WORDS = [r"on \d+ of (the )?12 factors", r"by 5 % or more", r"less than 5 % either way",
                     r"of (the )?12 factors", r"\(a score of 1 or 2\)", r"across \d+ programmes",
                     r"any of the \d+ outcomes", r"\d+ of \d+ outcomes", r"since \d{4}",
                     r"\(0–10\)", r"1 or 2", r"1 July 2017 – 30 June 2018"]
"""Fixed wording around the key findings' numbers (thresholds, counts of table rows such as
factors or outcomes, years), not figures."""


@pytest.mark.parametrize("key", ["ccpcr", "cct", "cfi", "cif", "mlop_tapang",
                                 "national_action_plan", "sko", "synthesis"])
def test_every_key_finding_number_is_in_a_table_of_the_same_report(rendered, rendered_collection, key):
    """A headline is a promise: each number in "Key findings" is the number, as printed, in a
    table (cell or caption) of the same report."""
    from tests.report.test_sections import _Tables

    path = rendered_collection[1].html if key == "synthesis" else rendered[key]
    doc = path.read_text()
    words = section(doc, "findings")
    for pattern in KEY_FINDING_WORDS:
        words = re.sub(pattern, " ", words)
    tables = _Tables()
    tables.feed(doc)

    def numbers(text):
        return [n.replace("−", "-").replace(",", "").lstrip("+")
                for n in re.findall(r"(?<![\w.])[+−-]?\d[\d,]*(?:\.\d+)?(?![\w])", text)]

    in_tables = set(numbers(" ".join(tables.lines)))
    missing = [n for n in numbers(words) if n not in in_tables]
    assert numbers(words), key
    assert missing == [], f"{key}: key-finding numbers not in any table: {missing}"


JARGON = ("CR2", "ANCOVA", "Holm", "Wilcoxon", "McNemar", "PanelOLS", "Welch", "Bell–McCaffrey",
          "Imbens–Kolesár", "Rademacher", "ICC", "R²")


@pytest.mark.parametrize("key", ALL)
def test_statistical_names_stay_in_the_annex_methods_and_glossary(rendered, key):
    """A committee reads the brief and the body in plain words; the names of the methods and
    technical tables are in the annex, Methods and the Glossary, at the end."""
    doc = rendered[key].read_text()
    body = "".join(section(doc, part) for part in ("head", "brief", "findings", "body"))
    assert [word for word in JARGON if word in body] == [], key
    assert "Methods" in text_of(doc) and "Glossary" in text_of(doc)


INTERNAL = ("seed", "programme.yml", "units", "nan", "NaN", "None", "null", "undefined",
            "FILL-IN", "Traceback")


@pytest.mark.parametrize("key", ALL)
def test_no_internal_word_reaches_a_reader(rendered, key):
    """Words of the kit's insides (its generator's seed, its configuration file, 'units', a
    missing value printed as 'nan' or 'None') never reach the page's text."""
    text = text_of(rendered[key].read_text())
    found = [w for w in INTERNAL if re.search(r"(?<![\w.])" + re.escape(w) + r"(?![\w])", text)]
    assert found == [], (key, [text[max(0, text.find(w) - 60):text.find(w) + 40] for w in found])
    assert "__" not in text  # an internal column name
