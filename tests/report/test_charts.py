"""Charts a colour-blind reader can read: under a simulated deuteranopia (Machado, Oliveira &
Fernandes 2009, severity 1) the series on every chart stay distinguishable — by colour
(CIE76 ΔE ≥ 12 after simulation) or by marker, line style or fill — and every axis names
its unit."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest
from matplotlib.colors import to_rgb
from matplotlib.container import BarContainer
from matplotlib.figure import Figure


DEUTERANOPIA = np.array([[0.367322, 0.860646, -0.227968],
                         [0.280085, 0.672501, 0.047413],
                         [-0.011820, 0.042940, 0.968881]])


def _linear(c):
    c = np.asarray(c, float)
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def _lab(rgb_linear):
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722],
                    [0.0193, 0.1192, 0.9505]]) @ rgb_linear
    xyz = xyz / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def seen_by_deuteranope(colour) -> np.ndarray:
    """The CIELAB colour a deuteranope sees for ``colour``."""
    return _lab(np.clip(DEUTERANOPIA @ _linear(to_rgb(colour)), 0, 1))


def delta_e(a, b) -> float:
    return float(np.linalg.norm(seen_by_deuteranope(a) - seen_by_deuteranope(b)))


def _series(ax):
    """(colour, marker, line style, filled) of each data series on ``ax``."""
    out = []
    for line in ax.get_lines():
        if len(line.get_xdata()) >= 1 and line.get_label() and not line.get_label().startswith("_child") \
                or line.get_marker() not in ("None", None, ""):
            if line.get_linestyle() == "--" and len(set(np.ravel(line.get_xdata()))) == 1:
                continue  # a reference line (zero)
            out.append((line.get_color(), line.get_marker(), line.get_linestyle(),
                        line.get_markerfacecolor() != "none"))
    for coll in ax.collections:
        faces = coll.get_facecolors()
        edges = coll.get_edgecolors()
        if len(faces) or len(edges):
            face = tuple(faces[0][:3]) if len(faces) else None
            edge = tuple(edges[0][:3]) if len(edges) else face
            filled = face is not None and not np.allclose(face, (1, 1, 1))
            out.append((edge if not filled else face, "collection", "", filled))
    for container in ax.containers:
        if not isinstance(container, BarContainer):
            continue
        patches = list(container)
        if patches:
            out.append((patches[0].get_facecolor()[:3], "bar", "", True))
    return out


def distinguishable(fig: Figure) -> list[str]:
    """The pairs of series on one axes a deuteranope could not tell apart."""
    problems = []
    for ax in fig.axes:
        series = list(dict.fromkeys(_series(ax)))
        for a, b in itertools.combinations(series, 2):
            same_shape = a[1:] == b[1:]
            if same_shape and delta_e(a[0], b[0]) < 12:
                problems.append(f"{ax.get_title() or ax.get_xlabel()}: {a} vs {b}")
    return problems


def test_the_check_fails_red_against_green_and_passes_blue_against_orange():
    assert delta_e("#d62728", "#2ca02c") < 12  # the classic red/green pair
    assert delta_e("#0072B2", "#E69F00") > 12  # Okabe–Ito blue and orange
    bad = Figure()
    ax = bad.subplots()
    ax.plot([0, 1], [0, 1], color="#d62728", marker="o")
    ax.plot([0, 1], [1, 0], color="#2ca02c", marker="o")
    assert distinguishable(bad)


@pytest.fixture(scope="module")
def charts(synthetic_root):
    """Every chart of the synthetic reports and the synthesis, drawn for a page and for a
    phone, as the reports draw them (after their disclosure decisions)."""
    import json

    from evalkit.report.content import Chart
    from evalkit.report.notebook import ProgrammeReport
    from evalkit.report.synthesis import SynthesisReport

    out = {}
    records = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for key in ("cct", "cfi", "cif"):
            report = ProgrammeReport(synthetic_root / key)
            writer = report.writer("en")
            for section in report.editions["en"].sections:
                for block in section.blocks:
                    if isinstance(block, Chart):
                        for narrow in (False, True):
                            out[f"{key} {block.key}{' phone' if narrow else ''}"] = block.draw(
                                report.dc.decision, writer.text, narrow)
            records.append(report.headline().records["en"])
        synthesis = SynthesisReport(json.loads(json.dumps(records)))
        chart = synthesis.comparison().blocks[-1]
        out["synthesis"] = chart.draw(None, synthesis.writer.text, False)
    return out


def test_every_chart_stays_readable_under_deuteranopia(charts):
    assert len(charts) >= 13
    for name, fig in charts.items():
        assert distinguishable(fig) == [], name


def test_every_axis_names_its_unit(charts):
    for name, fig in charts.items():
        labels = [ax.get_xlabel() + " " + ax.get_ylabel() for ax in fig.axes]
        assert any(("%" in text or "points" in text or "score" in text.lower()
                    or "of 12" in text) for text in labels), (name, labels)


def test_multi_series_charts_are_really_checked(charts):
    """The check is not vacuous: the charts with several series expose them to it."""
    def most(fig):
        return max(len(set(_series(ax))) for ax in fig.axes)

    assert most(charts["cct csi-change-chart"]) == 2  # before / after bars
    assert most(charts["synthesis"]) >= 3  # one series per programme
    assert most(charts["cct trial-effects-chart"]) >= 2  # filled and open dots
