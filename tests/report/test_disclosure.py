"""Disclosure control decided once per report: primary and secondary suppression over every
sum the sections declare, the integer-programming audit, published figures, rounding and the
log; checked against independent recoverability tests (enumeration, and a separate integer
program written here), unit by unit and on whole reports built from adversarial data."""

from __future__ import annotations

import csv
import io
import itertools
import re
import shutil
import warnings

import numpy as np
import pandas as pd
import pytest

from evalkit.errors import ConfigError
from evalkit.report.content import Stat
from evalkit.report.disclosure import Disclosure, is_people


def partition(parts: dict[str, int], total: str = "total", **options):
    """Register parts of a whole and decide; the decision and the registry."""
    dc = Disclosure(min_cell=options.pop("min_cell", 5), rounding=options.pop("rounding", None))
    dc.whole(total, sum(parts.values()), parts, table="t", **options)
    return dc.decide(), dc


def recoverable(parts: dict[str, int], shown: dict[str, int | None], total: int | None) -> list[str]:
    """Independent check by enumeration: the hidden parts whose value is the same in every
    assignment of non-negative whole numbers consistent with what is shown."""
    hidden = [k for k, v in shown.items() if v is None]
    if not hidden or total is None:
        return []
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
    decision, _ = partition(parts)
    shown = {k: decision.count(k) for k in parts}
    total = decision.count("total")
    for label, n in parts.items():
        if 0 < n < 5 and total is not None:
            assert shown[label] is None, (label, parts)  # primary
        if n == 0:
            assert shown[label] == 0  # zeros are shown
    assert recoverable(parts, shown, total) == []


def test_a_small_total_hides_every_non_zero_part():
    decision, _ = partition({"a": 2, "b": 1, "c": 0})
    assert decision.count("total") is None
    assert [decision.count(k) for k in "abc"] == [None, None, 0]


def test_a_part_in_many_sums_is_suppressed_after_those_in_one():
    """'paired' is part of the round's total and of every factor's split: hiding it would
    spread suppression; the small complement's other neighbour goes instead."""
    dc = Disclosure(min_cell=5)
    dc.whole("round1", 32, {"paired": 29, "only": 3}, table="t")
    for f in range(3):
        dc.whole("paired", 29, {f"rated{f}": 27, f"unrated{f}": 2}, table="t")
    decision = dc.decide()
    assert decision.count("paired") == 29 and decision.count("round1") is None
    assert all(decision.count(f"rated{f}") is None for f in range(3))


def test_published_small_figures_need_a_citation():
    parts = {"PO+": 26, "PO+=": 40, "PO": 2}
    cited, _ = partition(parts, published={"PO": 2}, citation=True)
    assert cited.count("PO") == 2
    uncited, _ = partition(parts, published={"PO": 2})
    assert uncited.count("PO") is None
    wrong, _ = partition(parts, published={"PO": 3}, citation=True)
    assert wrong.count("PO") is None


def test_rounding_to_base_five_and_shares_from_rounded_counts():
    decision, _ = partition({"a": 12, "b": 23, "c": 0}, rounding=5)
    assert [decision.count(k) for k in "abc"] == [10, 25, 0] and decision.count("total") == 35
    assert decision.share("a", "total") == pytest.approx(100 * 10 / 35)


def test_statistics_on_small_groups_are_refused():
    dc = Disclosure(min_cell=5)
    dc.count("big", 5)
    dc.count("small", 4)
    decision = dc.decide()
    assert decision.stat_shown(("big",)) and not decision.stat_shown(("small",))
    assert not decision.stat_shown(("big", "small"))


def test_a_share_that_would_pin_a_suppressed_group_size_is_suppressed_too():
    """Two decimals of a percentage fit only one baseline size: the audit (an integer
    program over everything shown) catches it and withholds the statistic."""
    dc = Disclosure(min_cell=5)
    dc.whole("baseline", 300, {"found": 298, "lost": 2}, table="t")
    decision0 = dc.decide([])
    assert decision0.count("found") is None and decision0.count("lost") is None  # primary + secondary
    # a binary mean shown as a percentage with two decimals pins 'found' (191 of 298)
    dc = Disclosure(min_cell=5)
    dc.whole("baseline", 300, {"found": 298, "lost": 2}, table="t")
    precise = Stat(100 * 191 / 298, "mean", ("found",), grain=100.0)
    decision = dc.decide([precise])
    assert not decision.stat_shown(precise.n, precise)  # withheld: it pinned the count
    assert decision.bounds["lost"][0] < decision.bounds["lost"][1]


def test_whole_percentages_on_a_large_group_do_not_pin_it():
    dc = Disclosure(min_cell=5)
    dc.whole("baseline", 700, {"found": 698, "lost": 2}, table="t")
    share = Stat(100 * 447 / 698, "share", ("found",))
    decision = dc.decide([share])
    assert decision.stat_shown(share.n, share)
    low, high = decision.bounds["lost"]
    assert low < high


def test_weighted_sums_link_criteria_and_categories():
    """Two criteria; categories by the number met. Criterion A + criterion B = 1 × (met one)
    + 2 × (met both): with 'met both' small, the criteria counts would give it away."""
    dc = Disclosure(min_cell=5)
    met = {"met0": 20, "met1": 30, "met2": 2}
    dc.whole("all", 52, met, table="t")
    dc.whole("all", 52, {"a": 18, "not_a": 34}, table="t")
    dc.whole("all", 52, {"b": 16, "not_b": 36}, table="t")
    dc.relation({"a": 1, "b": 1, "met1": -1, "met2": -2})
    decision = dc.decide()
    assert decision.count("met2") is None
    for key, (low, high) in decision.bounds.items():
        assert low < high, key
    # an independent integer program over what is shown agrees: 'met2' is not pinned
    shown = {k: decision.count(k) for k in ("all", "met0", "met1", "met2", "a", "not_a", "b", "not_b")}
    assert _independent_range("met2", shown, [
        {"all": 1, "met0": -1, "met1": -1, "met2": -1}, {"all": 1, "a": -1, "not_a": -1},
        {"all": 1, "b": -1, "not_b": -1}, {"a": 1, "b": 1, "met1": -1, "met2": -2}]) != "pinned"


def _independent_range(target: str, shown: dict, relations: list[dict]) -> str | tuple:
    """A separate integer program: the range of ``target`` given the shown counts (others
    unknown, non-negative whole numbers) and the relations; 'pinned' when one value."""
    from scipy.optimize import Bounds, LinearConstraint, milp

    keys = sorted({k for r in relations for k in r} | set(shown))
    index = {k: i for i, k in enumerate(keys)}
    lower = np.zeros(len(keys))
    upper = np.full(len(keys), 10_000.0)
    for k, v in shown.items():
        if v is not None:
            lower[index[k]] = upper[index[k]] = v
    a = np.zeros((len(relations), len(keys)))
    for i, r in enumerate(relations):
        for k, c in r.items():
            a[i, index[k]] = c
    values = []
    for sign in (1, -1):
        c = np.zeros(len(keys))
        c[index[target]] = sign
        res = milp(c, constraints=LinearConstraint(a, 0, 0), integrality=np.ones(len(keys)),
                   bounds=Bounds(lower, upper))
        values.append(round(sign * res.fun))
    return "pinned" if values[0] == values[1] else tuple(values)


@pytest.mark.parametrize("cells", [
    {"green": 30, "yellow": 9, "red": 3, "lost": 20, "pending": 8},
    {"green": 30, "yellow": 9, "red": 9, "lost": 20, "pending": 2},
    {"green": 3, "yellow": 9, "red": 12, "lost": 1, "pending": 8},
    {"green": 6, "yellow": 0, "red": 0, "lost": 1, "pending": 0},
])
def test_nested_sums_never_pin_down_a_hidden_cell(cells):
    """The Child Tracking Tool prints three sums over its statuses (all; all but 'not yet
    updated'; the colours). Two of them differ by one status, and a zero shown beside a sum
    can leave one status alone between them: it must not be the only one hidden."""
    dc = Disclosure(min_cell=5)
    sums = {"all": set(cells), "updated": set(cells) - {"pending"},
            "colour": {"green", "yellow", "red"}}
    relations = []
    for name, members in sums.items():
        dc.whole(name, sum(cells[k] for k in members), {k: cells[k] for k in members}, table="t")
        relations.append({name: 1, **{k: -1 for k in members}})
    decision = dc.decide()
    shown = {k: decision.count(k) for k in [*cells, *sums]}
    for k, v in cells.items():
        if 0 < v < 5:
            assert shown[k] is None
        if shown[k] is None:
            assert _independent_range(k, shown, relations) != "pinned", (k, shown)


def test_the_log_holds_no_count(tmp_path):
    decision, dc = partition({"a": 3, "b": 17})
    rows = list(csv.DictReader(io.StringIO(dc.csv())))
    assert {(r["cell"], r["rule"], r["n"]) for r in rows} >= {("a", "primary", "under 5"),
                                                              ("b", "secondary", "")}
    assert not re.search(r"\b(3|17)\b", dc.csv())


def test_places_and_problems_are_not_people():
    assert not is_people("villages") and not is_people("problems")
    assert is_people("households") and is_people("children") and is_people("beneficiaries")
    assert is_people("something new")  # privacy by default


def test_min_cell_below_three_is_refused_and_three_or_four_warned(tmp_path):
    from evalkit import load_config

    (tmp_path / "x.csv").write_text("a\n1\n")
    for value, refused in ((1, True), (2, True), (3, False), (4, False)):
        (tmp_path / "programme.yml").write_text(
            f"name: P\nprivacy:\n  min_cell: {value}\nindicators:\n- title: T\n  file: x.csv\n"
            "  items:\n  - {label: A, numerator: {a: 1}}\n")
        if refused:
            with pytest.raises(ConfigError, match="at least 3"):
                load_config(tmp_path)
        else:
            with pytest.warns(UserWarning, match="5 or more is advised"):
                load_config(tmp_path)


# ----------------------------------------------------------------------------- whole reports


def _audit_report(report) -> None:
    """Every count the report suppressed, bounded by an integer program written here over the
    report's published counts and declared sums: none may be pinned to one value."""
    dc = report.dc
    decision = dc.decision
    shown = {k: decision.count(k) for k in decision.counts}
    relations = dc._relations
    for key in decision.protected:
        if True:
            related = [r for r in relations if key in r]
            if not related:
                continue
            keys = {k for r in related for k in r}
            local = [r for r in relations if set(r) & keys]
            sub = {k: shown[k] for r in local for k in r}
            assert _independent_range(key, sub, local) != "pinned", key


def _small_programme(folder):
    """A CSI programme with groups of 1–4: 57 children at baseline, 56 reassessed (1 not),
    a care group of 3 children that the configuration does not declare, a third round
    with 4 children, and factor scores where 1–2 children got worse."""
    rng = np.random.default_rng(5)
    rows = []
    factors = ["1A", "1B", "2A", "2B", "3A", "3B", "4A", "4B", "5A", "5B", "6A", "6B"]
    for i in range(57):
        group = "other-kin" if i < 3 else ("foster" if i % 2 else "kinship")
        base = rng.integers(1, 4, 12)
        rows.append({"client": f"C{i:03d}", "round": 1, "care": group, **dict(zip(factors, base))})
        if i > 0:
            after = np.minimum(base + (rng.random(12) < 0.5), 4)
            if i == 10:
                after[0] = max(base[0] - 1, 1)  # one child got worse on 1A
            rows.append({"client": f"C{i:03d}", "round": 2, "care": group, **dict(zip(factors, after))})
        if 3 <= i < 7:
            rows.append({"client": f"C{i:03d}", "round": 3, "care": group, **dict(zip(factors, base))})
    frame = pd.DataFrame(rows)
    frame.to_csv(folder / "csi.csv", index=False)
    (folder / "programme.yml").write_text(
        "name: Small programme\nprivacy:\n  min_cell: 5\ncsi:\n  file: csi.csv\n"
        "  values:\n    group: {foster: foster, kinship: kinship}\n"
        "  columns: {child: client, round: round, group: care}\n  before: 1\n  after: 2\n")
    return frame


def _text(report, language="en") -> str:
    """The report's parts as HTML, charts left out (their drawing coordinates are numbers)."""
    html = "\n".join(report.part(p).html[language] for p in
                     ("head", "brief", "findings", "body", "annex", "methods"))
    return re.sub(r"<svg.*?</svg>", "", html, flags=re.S)


def test_a_programme_with_groups_of_one_to_four_publishes_no_recoverable_count(tmp_path):
    from evalkit.report.notebook import ProgrammeReport

    frame = _small_programme(tmp_path)
    before = int((frame["round"] == 1).sum())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report = ProgrammeReport(tmp_path)
    text = _text(report)
    decision = report.dc.decision
    assert decision.count("csi.only_before") is None and decision.count("csi.round.3") is None
    # the totals that would give away the child not reassessed are shown nowhere
    assert decision.count("csi.round.1") is None
    assert not re.search(rf"n = {before}\b|\b{before} children", text)
    assert "fewer than 5" in text
    _audit_report(report)
    # the privacy note says what was done, and the log is private
    assert "were suppressed" in text


def test_a_trial_that_lost_a_few_households_publishes_no_recoverable_count(synthetic_root, tmp_path):
    """Two households lost in the campaign arm: the counts that would give them away are
    hidden everywhere, and balance shares (whole per cent) cannot pin the arm's size."""
    from evalkit.report.notebook import ProgrammeReport

    folder = tmp_path / "cct"
    shutil.copytree(synthetic_root / "cct", folder, ignore=shutil.ignore_patterns(".evalkit"))
    survey = pd.read_csv(folder / "household_survey.csv")
    base = survey[survey["round"] == "baseline"]
    end = survey[survey["round"] == "endline"]
    missing = base[~base["household_id"].isin(end["household_id"])]
    lost = missing[missing["campaign"] == 1]["household_id"].head(2)
    found_again = missing[~missing["household_id"].isin(lost)].assign(round="endline")
    pd.concat([base, end, found_again]).to_csv(folder / "household_survey.csv", index=False)
    text = (folder / "programme.yml").read_text().replace("ri_reps: 10000", "ri_reps: 200") \
        .replace("wild_reps: 9999", "wild_reps: 199")
    (folder / "programme.yml").write_text(text)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report = ProgrammeReport(folder)
    decision = report.dc.decision
    assert decision.count("trial.arm1.lost") is None
    assert (decision.count("trial.arm1.baseline") is None
            or decision.count("trial.arm1.endline") is None)
    _audit_report(report)


def test_child_tracking_with_a_small_status_and_a_zero(synthetic_root, tmp_path):
    """One child not located, a zero status, and three sums shown (one in a column header):
    'not located' is never recoverable."""
    from evalkit.report.notebook import ProgrammeReport

    folder = tmp_path / "plan"
    shutil.copytree(synthetic_root / "national_action_plan", folder,
                    ignore=shutil.ignore_patterns(".evalkit"))
    frame = pd.read_csv(folder / "reintegration.csv", dtype=str)
    status = ["green"] * 40 + ["not located"] + ["yellow"] * 6
    frame = frame.head(len(status)).assign(tracking_status=status)
    frame.to_csv(folder / "reintegration.csv", index=False)
    report = ProgrammeReport(folder)
    assert report.dc.decision.count("tracking.not-located") is None
    _audit_report(report)


def test_a_classification_cannot_be_differenced(tmp_path):
    """Criteria counts minus category counts would give a category of two households."""
    from evalkit.report.notebook import ProgrammeReport

    rows = [{"a": 1, "b": 1}] * 2 + [{"a": 1, "b": 0}] * 20 + [{"a": 0, "b": 1}] * 15 + \
        [{"a": 0, "b": 0}] * 30
    pd.DataFrame(rows).to_csv(tmp_path / "h.csv", index=False)
    (tmp_path / "programme.yml").write_text(
        "name: Tiers\nclassifications:\n- title: Tiers\n  file: h.csv\n  unit_label: households\n"
        "  criteria:\n  - {column: a, op: '==', value: 1, label: A}\n"
        "  - {column: b, op: '==', value: 1, label: B}\n"
        "  categories:\n  - {name: destitute, min_criteria: 2}\n  - {name: struggling, min_criteria: 1}\n"
        "  - {name: prepared, min_criteria: 0}\n")
    report = ProgrammeReport(tmp_path)
    decision = report.dc.decision
    destitute = next(k for k in decision.counts if k.endswith(".cat.0"))
    assert decision.count(destitute) is None
    _audit_report(report)


def test_an_indicator_denominator_that_gives_a_hidden_number_away_is_hidden(tmp_path):
    """'Stopped the business' (2 of 9) is suppressed; the next item's denominator, those
    still running it (9 − 2 = 7), is the same rows as the first item's rest: the count of
    all 9 is hidden with it, so that 2 cannot be worked out."""
    from evalkit.report.notebook import ProgrammeReport

    pd.DataFrame({"business_continuing": [0, 0] + [1] * 7,
                  "income_increased": [0, 0, 1, 1, 1, 1, 1, 0, 0]}).to_csv(tmp_path / "b.csv", index=False)
    (tmp_path / "programme.yml").write_text(
        "name: Small indicators\nindicators:\n- title: Follow-up\n  file: b.csv\n  items:\n"
        "  - {label: Stopped, numerator: {business_continuing: 0}, denominator: {}}\n"
        "  - {label: Higher income, numerator: {income_increased: 1},"
        " denominator: {business_continuing: 1}}\n")
    report = ProgrammeReport(tmp_path)
    html = _text(report)
    assert ">2<" not in html and not (">7<" in html and ">9<" in html)
    _audit_report(report)


@pytest.mark.slow
def test_every_synthetic_report_passes_the_independent_audit(synthetic_root):
    from evalkit.config import discover
    from evalkit.report.notebook import ProgrammeReport

    for folder in discover(synthetic_root):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _audit_report(ProgrammeReport(folder))
