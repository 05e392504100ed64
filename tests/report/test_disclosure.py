"""Disclosure control: primary and secondary suppression, published figures, rounding and
the log, checked against an independent recoverability test; and a small-cell programme
(groups of 1–4) rendered end to end with 0 recoverable cells."""

from __future__ import annotations

import csv
import itertools
import re
import warnings

import numpy as np
import pandas as pd
import pytest

from evalkit.report.disclosure import SUPPRESSED, Disclosure, is_people


def recoverable(parts: dict[str, int], shown: dict[str, int | None], total: int | None) -> list[str]:
    """Independent check by enumeration: the hidden parts whose value is the same in every
    assignment of non-negative whole numbers consistent with what is shown."""
    hidden = [k for k, v in shown.items() if v is None]
    if not hidden:
        return []
    if total is None:
        return []  # one equation short: nothing is pinned down
    left = total - sum(v for v in shown.values() if v is not None)
    solutions = [combo for combo in itertools.product(range(left + 1), repeat=len(hidden))
                 if sum(combo) == left]
    return [k for i, k in enumerate(hidden) if len({s[i] for s in solutions}) == 1]


@pytest.mark.parametrize("parts", [
    {"a": 3, "b": 10, "c": 20}, {"a": 1, "b": 2, "c": 40}, {"a": 4, "b": 0, "c": 30},
    {"a": 0, "b": 0, "c": 12}, {"a": 2, "b": 0, "c": 0}, {"a": 7, "b": 8, "c": 9},
    {"improved": 3, "unchanged": 25, "worse": 1}, {"x": 4, "y": 4, "z": 4},
])
def test_no_suppressed_part_can_be_worked_out_from_the_total(parts):
    dc = Disclosure(min_cell=5)
    out = dc.partition("t", parts)
    for label, n in parts.items():
        if 0 < n < 5 and out.total is not None:
            assert not out.shown(label), (label, parts)  # primary
        if n == 0 and out.total is not None:
            assert out.counts[label] == 0  # zeros are shown
    assert recoverable(parts, out.counts, out.total) == []


def test_a_small_total_hides_every_non_zero_part():
    out = Disclosure(min_cell=5).partition("t", {"a": 2, "b": 1, "c": 0})
    assert out.total is None and out.counts == {"a": None, "b": None, "c": 0}


def test_protected_part_is_never_the_complement_the_total_is_hidden_instead():
    dc = Disclosure(min_cell=5)
    out = dc.partition("t", {"paired": 29, "only before": 3}, protect={"paired"})
    assert out.counts == {"paired": 29, "only before": None} and out.total is None
    kept = dc.partition("t", {"Improved": 20, "Unchanged": 6, "Worse": 3}, keep=("Improved",))
    assert kept.counts == {"Improved": 20, "Unchanged": None, "Worse": None}


def test_published_small_figures_need_a_citation():
    parts = {"PO+": 26, "PO+=": 40, "PO": 2}
    cited = Disclosure(min_cell=5).partition("ratings", parts, published={"PO": 2}, citation="SKO 2018")
    assert cited.counts["PO"] == 2
    uncited = Disclosure(min_cell=5).partition("ratings", parts, published={"PO": 2})
    assert uncited.counts["PO"] is None
    wrong = Disclosure(min_cell=5).partition("ratings", parts, published={"PO": 3}, citation="x")
    assert wrong.counts["PO"] is None


def test_rounding_to_base_five_and_percentages_from_rounded_counts():
    dc = Disclosure(min_cell=5, rounding=5)
    out = dc.partition("t", {"a": 12, "b": 23, "c": 0})
    assert out.counts == {"a": 10, "b": 25, "c": 0} and out.total == 35
    assert out.percent["a"] == pytest.approx(100 * 10 / 35)
    assert dc.count(13, "t", "n") == "15" and dc.count(3, "t", "n") == "fewer than 5"


def test_statistics_on_small_groups_are_refused_and_logged():
    dc = Disclosure(min_cell=5)
    assert dc.rests_on(5, "t", "m") and not dc.rests_on(4, "t", "m") and not dc.rests_on(0, "t", "m")
    assert [e.rule for e in dc.log] == ["primary"]


def test_the_log_holds_no_count_and_the_summary_counts_cells(tmp_path):
    dc = Disclosure(min_cell=5)
    dc.partition("t", {"a": 3, "b": 17})
    dc.partition("t", {"a": 3, "b": 17})  # the same decision twice is logged once
    path = dc.write(tmp_path / ".evalkit" / "disclosure.csv")
    rows = list(csv.DictReader(path.open()))
    assert [(r["cell"], r["rule"], r["n"]) for r in rows] == [("a", "primary", "under 5"),
                                                              ("b", "secondary", "")]
    assert not re.search(r"\b(3|17)\b", path.read_text())
    assert dc.summary().startswith("1 figure(s) resting on fewer than 5") and "and 1 more" in dc.summary()


def test_places_and_problems_are_not_people():
    assert not is_people("villages") and not is_people("problems")
    assert is_people("households") and is_people("children") and is_people("beneficiaries")
    assert is_people("something new")  # privacy by default


# ----------------------------------------------------------------------------- end to end


def _small_programme(folder):
    """A CSI programme with groups of 1–4: 57 children at baseline, 54 reassessed (3 not),
    a care group of 3 children that the configuration does not declare, a third round
    with 4 children, and factor scores where 1–2 children got worse."""
    rng = np.random.default_rng(5)
    rows = []
    factors = ["1A", "1B", "2A", "2B", "3A", "3B", "4A", "4B", "5A", "5B", "6A", "6B"]
    for i in range(57):
        group = "other-kin" if i < 3 else ("foster" if i % 2 else "kinship")
        base = rng.integers(1, 4, 12)
        rows.append({"client": f"C{i:03d}", "round": 1, "care": group,
                     **dict(zip(factors, base))})
        if i >= 3 or i == 0:
            if i == 0:
                continue
            after = np.minimum(base + (rng.random(12) < 0.5), 4)
            if i == 10:
                after[0] = max(base[0] - 1, 1)  # one child got worse on 1A
            rows.append({"client": f"C{i:03d}", "round": 2, "care": group, **dict(zip(factors, after))})
        if 3 <= i < 7:
            rows.append({"client": f"C{i:03d}", "round": 3, "care": group, **dict(zip(factors, base))})
    frame = pd.DataFrame(rows)
    # children 1 and 2 (other-kin) are reassessed, child 0 not: 57 before, 56 at round 2
    frame.to_csv(folder / "csi.csv", index=False)
    (folder / "programme.yml").write_text(
        "name: Small programme\nprivacy:\n  min_cell: 5\ncsi:\n  file: csi.csv\n"
        "  values:\n    group: {foster: foster, kinship: kinship}\n"
        "  columns: {child: client, round: round, group: care}\n  before: 1\n  after: 2\n")
    return frame


def _tables(text: str):
    """(header cells, body rows) of each table in a snapshot text."""
    for block in text.split("== table")[1:]:
        lines = [line for line in block.strip().splitlines() if not line.startswith("caption:")]
        if lines:
            yield lines[0].split(" | "), [line.split(" | ") for line in lines[1:]]


def test_a_programme_with_groups_of_one_to_four_publishes_no_recoverable_cell(tmp_path):
    from evalkit.report.notebook import ProgrammeReport
    from tests.report.test_sections import table_text

    frame = _small_programme(tmp_path)
    before = int((frame["round"] == 1).sum())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report = ProgrammeReport(tmp_path)
        outputs = report.summary_section() + report.body() + report.methods_section()
    text = "\n".join(str(getattr(o, "data", "")) for o in outputs)
    r = report.result("csi")
    assert 0 < r.only_before < 5 and r.children_before == before
    # the totals that would give away the children not reassessed are shown nowhere
    assert not re.search(rf"n = {before}\b|\b{before} (children|assessments)", text)
    for header, rows in _tables(table_text(outputs)):
        counts = [i for i, h in enumerate(header) if "(n)" in h or "assessed" in h or "Pairs" in h]
        for row in rows:
            assert not any(row[i] == str(before) for i in counts if i < len(row)), (header, row)
    assert "fewer than 5 children assessed at" in text.lower()
    # the care groups are not compared (the undeclared group of 3 could be worked out)
    assert "The comparison of care groups is not shown" in text
    # round 3 has 4 children: no count, mean or CI of it
    assert not re.search(r"Round 3 \(n = 4\)|>\s*4\s*</td>", text)
    # in every table, improved / unchanged / worse never has exactly one suppressed cell
    checked = 0
    for header, rows in _tables(table_text(outputs)):
        if "Improved (%)" in header:
            trio = [header.index(c) for c in ("Improved (%)", "Unchanged (%)", "Worse (%)")]
            for row in rows:
                assert sum(row[i] == SUPPRESSED for i in trio) != 1, row
                checked += 1
    assert checked >= 19 and SUPPRESSED in text
    # the privacy note counts what was suppressed, and the log is private
    assert "figure(s) resting on fewer than 5" in text
    log = tmp_path / ".evalkit" / "disclosure.csv"
    assert log.is_file() and "under 5" in log.read_text()


def test_a_trial_that_lost_a_few_households_hides_the_totals_that_would_count_them(synthetic_root, tmp_path):
    """Three households lost in one arm: the baseline totals (table and sentence) are hidden,
    the re-interviewed households shown, and no 'not found' share points at the three."""
    import shutil

    from evalkit.report.disclosure import Disclosure
    from evalkit.data import programme
    from evalkit.report.sections import trial
    from tests.report.test_sections import table_text

    folder = tmp_path / "cct"
    shutil.copytree(synthetic_root / "cct", folder, ignore=shutil.ignore_patterns(".evalkit"))
    survey = pd.read_csv(folder / "household_survey.csv")
    base = survey[survey["round"] == "baseline"]
    end = survey[survey["round"] == "endline"]
    missing = base[~base["household_id"].isin(end["household_id"])]
    lost = missing[missing["campaign"] == 1]["household_id"].head(3)
    found_again = missing[~missing["household_id"].isin(lost)].assign(round="endline")
    pd.concat([base, end, found_again]).to_csv(folder / "household_survey.csv", index=False)
    text = (folder / "programme.yml").read_text().replace("ri_reps: 10000", "ri_reps: 200") \
        .replace("wild_reps: 9999", "wild_reps: 199")
    (folder / "programme.yml").write_text(text)
    data = programme.load(folder)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = trial.compute(data, data.config.trial)
        dc = Disclosure(min_cell=5)
        outputs = trial.render(data, data.config.trial, result, dc)
    words = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "",
                   "\n".join(str(getattr(o, "data", "")) for o in outputs))
    n_base = len(base)
    assert f"{n_base:,}" not in words and f"({n_base} households)" not in words
    header, *rows = [line.split(" | ") for line in table_text(outputs).split("== table")[1]
                     .strip().splitlines()[1:]]
    arms = {row[0]: dict(zip(header, row)) for row in rows}
    campaign = arms["Campaign villages"]
    assert campaign["Households at baseline"] == SUPPRESSED
    assert campaign["Not found at endline (%)"] == SUPPRESSED
    assert int(campaign["Re-interviewed at endline"].replace(",", "")) == \
        int((base["campaign"] == 1).sum()) - 3
    assert "fewer than 5 households in an arm were not found again" in words
    balance = [line for line in table_text(outputs).split("== table")[2].splitlines()
               if line.startswith("Respondent")]
    assert balance and all(line.split(" | ")[8] == SUPPRESSED for line in balance)


def _ranges(cells, shown, sums, totals):
    """Independent check by integer programming (scipy's MILP): the smallest and largest
    value each hidden cell can take, as non-negative whole numbers agreeing with the shown
    cells and the shown sums."""
    from scipy.optimize import Bounds, LinearConstraint, milp

    hidden = [k for k, v in shown.items() if v is None]
    rows, rhs = [], []
    for name, (members, _) in sums.items():
        if totals[name] is None:
            continue
        rows.append([1.0 if k in members else 0.0 for k in hidden])
        rhs.append(totals[name] - sum(shown[k] for k in members if shown[k] is not None))
    out = {}
    for i, k in enumerate(hidden):
        c = np.zeros(len(hidden))
        c[i] = 1.0
        args = dict(integrality=np.ones(len(hidden)), bounds=Bounds(0, np.inf))
        if rows:
            args["constraints"] = LinearConstraint(np.array(rows), rhs, rhs)
        low, high = milp(c, **args), milp(-c, **args)
        out[k] = (round(low.fun), None if high.status != 0 else round(-high.fun))
    return out


@pytest.mark.parametrize("cells", [
    {"green": 30, "yellow": 9, "red": 3, "lost": 20, "pending": 8},
    {"green": 30, "yellow": 9, "red": 9, "lost": 20, "pending": 2},
    {"green": 3, "yellow": 9, "red": 12, "lost": 1, "pending": 8},
])
def test_nested_sums_never_pin_down_a_hidden_cell(cells):
    """The Child Tracking Tool prints three sums over its statuses (all; all but 'not yet
    updated'; the colours). Two of them differ by one status, so that status must not be
    the only one hidden between them."""
    everyone = set(cells)
    sums = {"all": (everyone, sum(cells.values())),
            "updated": (everyone - {"pending"}, sum(v for k, v in cells.items() if k != "pending")),
            "colour": ({"green", "yellow", "red"}, cells["green"] + cells["yellow"] + cells["red"])}
    shown, totals, _ = Disclosure(min_cell=5).linked("t", cells, sums)
    for k, v in cells.items():
        if 0 < v < 5:
            assert shown[k] is None
    for k, (low, high) in _ranges(cells, shown, sums, totals).items():
        assert low <= cells[k] and (high is None or cells[k] <= high)  # the truth is possible
        assert high is None or high > low, (k, low, high, shown, totals)  # and not pinned down


def test_an_indicator_denominator_that_gives_a_hidden_number_away_is_hidden(tmp_path):
    """'Stopped the business' (2 of 9) is suppressed; the next item's denominator, those
    still running it (9 − 2 = 7), would give it away, so it is hidden too."""
    from evalkit.report.notebook import ProgrammeReport
    from tests.report.test_sections import table_text

    pd.DataFrame({"business_continuing": [0, 0] + [1] * 7,
                  "income_increased": [0, 0, 1, 1, 1, 1, 1, 0, 0]}).to_csv(tmp_path / "b.csv", index=False)
    (tmp_path / "programme.yml").write_text(
        "name: Small indicators\nindicators:\n- title: Follow-up\n  file: b.csv\n  items:\n"
        "  - {label: Stopped, numerator: {business_continuing: 0}, denominator: {}}\n"
        "  - {label: Higher income, numerator: {income_increased: 1},"
        " denominator: {business_continuing: 1}}\n")
    report = ProgrammeReport(tmp_path)
    outputs = report.summary_section() + report.body()
    (header, rows), = list(_tables(table_text(outputs)))
    cells = {row[0]: dict(zip(header, row)) for row in rows}
    assert cells["Stopped"]["Number"] == SUPPRESSED
    assert cells["Higher income"]["Out of"] == SUPPRESSED and cells["Higher income"]["Number"] == SUPPRESSED
    assert "No key finding can be shown" in report.headline()
