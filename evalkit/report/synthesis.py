"""The cross-programme synthesis: CSI change side by side for every CSI programme, in the spirit
of the seed study's synthesis chapter — descriptive, with the differences between the
programmes (period, children, caseload) stated next to the numbers.

It is built from the programme reports' published headline records only: every figure it
shows is one the programme's own report already publishes (after that report's disclosure
decision), so it reads no data and can reveal nothing the reports do not.
"""

from __future__ import annotations

from datetime import datetime, timezone

import numpy as np

from evalkit.i18n import N_
from evalkit.instruments.csi import FACTORS, LABELS
from evalkit.report import publish
from evalkit.report.content import (ILLUSTRATION, Box, Bullets, Chart, Code, Column, Heading, Msg,
                                    Note, Num, Para, Part, Provenance, Strong, Table, join)
from evalkit.report.disclosure import Decision
from evalkit.report.notebook import software_versions

OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]
"""Okabe & Ito's colour-blind-safe palette; every series also has its own marker."""
MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*"]
CAVEAT = N_("CSI change describes the children assessed at both rounds; without a comparison "
            "group it does not show what caused the change, and children who left the caseload "
            "are not in it.")


def _short_names(records: list[dict]) -> list[str]:
    """Each programme's short name (its NGO's abbreviation in brackets, else its name),
    with the programme's folder name where two would read alike."""
    names = [r.get("ngo") or r.get("name") or r.get("programme", "") for r in records]
    short = [n[n.rfind("(") + 1:-1] if n.endswith(")") and "(" in n else n for n in names]
    return [s if short.count(s) == 1 else f"{s} ({r['programme']})"
            for s, r in zip(short, records)]


def _declared_words(records: list[dict], names: list[str]) -> frozenset:
    """The programmes' own words the synthesis may print: names, titles, provinces, rounds."""
    return (frozenset(names)
            | frozenset(str(r.get(k, "")) for r in records for k in ("title", "province", "name", "ngo"))
            | frozenset(str(r["csi"].get(k, "")) for r in records for k in ("before", "after")))


class SynthesisReport:
    """CSI change across programmes, from their reports' records."""

    def __init__(self, records: list[dict]):
        self.records = [r for r in records if r.get("csi")]
        self.names = _short_names(self.records)
        self.synthetic = any(r.get("synthetic") for r in self.records)
        self.declared = _declared_words(self.records, self.names)
        self.writer = publish.Writer(Decision(5, None, {}, {}), "en", self.declared)

    # ------------------------------------------------------------------ helpers

    def _d(self, text: str):
        from evalkit.report.content import Declared

        return Declared(str(text))

    def _prov(self) -> Provenance:
        return Provenance(ILLUSTRATION) if self.synthetic else Provenance()

    def _table_values(self):
        """programme -> factor code -> (relative change, improved %) as published."""
        return {name: {f["code"]: f for f in r["csi"]["factors"]}
                for name, r in zip(self.names, self.records)}

    # ------------------------------------------------------------------ parts

    def head(self) -> Part:
        facts = [Strong(Msg("Cross-programme report")), join([self._d(n) for n in self.names], ", ")]
        if self.synthetic:
            facts.append(Msg("synthetic data: no real child or household"))
        blocks = [Heading(1, Msg("Synthesis: change in children's status across CSI programmes")),
                  Para(join(facts, " · "))]
        if self.synthetic:
            blocks.append(Box("illustration", (Para(Msg(
                "Every figure here comes from the programme reports, which are computed from "
                "synthetic data; none is a finding about real children.")),),
                label=Msg("Synthetic data")))
        return Part("head", tuple(blocks))

    def _findings(self):
        values = self._table_values()
        everywhere, nowhere = _rose_everywhere(values, self.names)
        lines = []
        headline = (Msg("CSI change across {n} programmes: scores rose by 5 % or more everywhere "
                        "on {k} of 12 factors (descriptive).", n=len(self.names), k=len(everywhere))
                    if everywhere else
                    Msg("CSI change across {n} programmes: no factor rose by 5 % or more in every "
                        "programme (descriptive).", n=len(self.names)))
        lines.append(headline)
        if everywhere:
            lines.append(Msg("Average scores rose by 5 % or more in every programme on {names}.",
                             names=join([Msg(LABELS[c]) for c in everywhere], ", ")))
        if nowhere:
            lines.append(Msg("Little changed (under 5 % either way) in every programme on {names}.",
                             names=join([Msg(LABELS[c]) for c in nowhere], ", ")))
        best = [self._largest(name, values[name]) for name in self.names]
        best = [item for item in best if item is not None]
        if best:
            lines.append(Msg("The largest relative change was on {items}.", items=join(best, "; ")))
        lines.append(Msg("The programmes cover different periods (six months to two years), "
                         "different children and different caseload turnover: a larger change in "
                         "one programme is not evidence that it works better."))
        return headline, lines

    def _largest(self, name: str, factors: dict):
        """The factor with the largest relative change in programme ``name``, or None."""
        shown = [(f["relative_change_pct"], code) for code, f in factors.items()
                 if f.get("relative_change_pct") is not None]
        if not shown:
            return None
        value, code = max(shown)
        return Msg("{factor} in {programme} ({value} %)", factor=Msg(LABELS[code]),
                   programme=self._d(name), value=Num(value, "pct1", signed=True))

    def findings(self) -> Part:
        _headline, lines = self._findings()
        inner = (Bullets(tuple(lines)),)
        blocks = [Heading(2, Msg("Key findings"), "key-findings")]
        blocks += [Box("illustration", inner, label=Msg("Illustration: computed from synthetic "
                                                        "data"))] if self.synthetic else list(inner)
        return Part("findings", tuple(blocks))

    def overview(self) -> Part:
        rows = []
        for name, r in zip(self.names, self.records):
            c = r["csi"]
            flags = c.get("mean_flagged") or [None, None]
            rows.append((self._d(r.get("title", name)),
                         self._d(r["province"]) if r.get("province") else None,
                         Msg("{before} → {after}", before=self._d(c["before"]), after=self._d(c["after"])),
                         Num(c["paired"]) if c.get("paired") is not None else Msg("suppressed"),
                         (Num(c["only_before"]) if c.get("only_before") is not None else
                          Msg("fewer than {n}", n=int(c.get("min_cell", 5))) if c.get("only_before_small")
                          else Msg("suppressed")),
                         Msg("{a} → {b}", a=Num(flags[0], "score"), b=Num(flags[1], "score"))
                         if None not in flags else Msg("suppressed")))
        table = Table("synthesis-programmes",
                      Msg("Each programme's first and last configured CSI assessment; periods and "
                          "children differ, so the programmes' figures are not directly comparable."),
                      (Column(Msg("Programme"), numeric=False), Column(Msg("Province"), numeric=False),
                       Column(Msg("Compared"), numeric=False), Column(Msg("Children assessed at both")),
                       Column(Msg("Assessed first time only")),
                       Column(Msg("Mean factors needing services (children assessed at both)"))),
                      tuple(rows), self._prov())
        return Part("overview", (Heading(2, Msg("The programmes compared"), "programmes"), table,
                                 Note(Msg(CAVEAT))))

    def comparison(self) -> Part:
        values = self._table_values()
        rows = []
        for code in FACTORS:
            row = [Msg("{code} {name}", code=Msg(code), name=Msg(LABELS[code]))]
            for name in self.names:
                f = values[name].get(code, {})
                rc = f.get("relative_change_pct")
                row.append(Num(rc, "pct1", signed=True) if rc is not None else Msg("suppressed"))
            for name in self.names:
                f = values[name].get(code, {})
                imp = f.get("improved_pct")
                row.append(Num(imp, "share") if imp is not None else Msg("suppressed"))
            rows.append(tuple(row))
        columns = [Column(Msg("Factor"), numeric=False)]
        columns += [Column(self._d(n), group=Msg("Relative change of mean (%)")) for n in self.names]
        columns += [Column(self._d(n), group=Msg("Children improved (%)")) for n in self.names]
        table = Table("synthesis-factors", Msg("Per factor and programme: relative change of the "
                                               "mean score and share of paired children whose "
                                               "score went up."),
                      tuple(columns), tuple(rows), self._prov())
        return Part("comparison", (Heading(2, Msg("Factor by factor"), "factors"), table,
                                   self._chart(values)))

    def _chart(self, values) -> Chart:
        names = list(self.names)

        def draw(view, text, narrow):
            from evalkit.report import charts

            fig = charts.figure(narrow, 9.0 if narrow else 6.0)
            ax = fig.subplots()
            y = np.arange(len(FACTORS))[::-1]
            offsets = np.linspace(-0.25, 0.25, max(len(names), 1))
            size = 11 if narrow else 9
            for i, name in enumerate(names):
                xs = [values[name].get(code, {}).get("relative_change_pct") for code in FACTORS]
                xs = [np.nan if v is None else v for v in xs]
                ax.plot(xs, y + offsets[i], linestyle="none", marker=MARKERS[i % len(MARKERS)],
                        color=OKABE_ITO[i % len(OKABE_ITO)], label=name, markersize=7)
            ax.axvline(0, color=charts.PALETTE["zero"], linewidth=1, linestyle="--")
            ax.set_yticks(y, [text(Msg(LABELS[c])) for c in FACTORS], fontsize=size)
            ax.set_xlabel(text(Msg("Relative change of the mean CSI score (%); right of zero is "
                                   "improvement")), fontsize=size)
            ax.legend(title=text(Msg("Programme (marker and colour)")), fontsize=size - 1,
                      title_fontsize=size - 1)
            for side in ("top", "right"):
                ax.spines[side].set_visible(False)
            fig.tight_layout()
            return fig

        return Chart("synthesis-chart", draw,
                     alt=Msg("Dot chart: the relative change of the mean CSI score on each factor "
                             "in each of the {n} programmes; right of zero is improvement.",
                             n=len(names)),
                     caption=Msg("Each dot is one programme's relative change of the mean score on "
                                 "that factor; right of zero is improvement."),
                     provenance=self._prov())

    def methods(self) -> Part:
        versions = ", ".join(f"{k} {v}" for k, v in software_versions().items())
        lines = (Msg("Each programme's CSI change is taken from its own report (paired children; "
                     "relative change of the mean; share improved), as that report publishes it: "
                     "a figure suppressed there is suppressed here. No pooling, weighting or test "
                     "across programmes is done: their periods and populations differ."),
                 Msg("{label} {text}", label=Strong(Msg("Software.")), text=Code(versions)))
        return Part("methods", (Heading(2, Msg("Methods"), "methods"), Bullets(lines)), fold=True)

    def part(self, name: str):
        from evalkit.report.notebook import _Part

        if name == "rendered":
            stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
            html = ('<p class="evalkit-rendered">'
                    + self.writer.html(Msg("Rendered {stamp}.", stamp=Code(stamp))) + "</p>")
            return _Part({"en": html}, "en")
        part = getattr(self, name)()
        return _Part({"en": self.writer.part(part)}, "en")

    def headline(self):
        from evalkit.report.notebook import _Record

        headline, _lines = self._findings()
        return _Record({"en": {"programme": "synthesis", "title": "CSI change across programmes",
                               "headline": self.writer.text(headline), "language": "en",
                               "synthetic": self.synthetic,
                               "provenance": "illustration" if self.synthetic else "data"}}, "en")


def _rose_everywhere(values: dict, names: list) -> tuple[list, list]:
    """The factors whose mean rose by 5 % or more in every programme, and those that changed
    by under 5 % either way in every programme."""
    everywhere, nowhere = [], []
    for code in FACTORS:
        changes = [values[n].get(code, {}).get("relative_change_pct") for n in names]
        if not changes or any(c is None for c in changes):
            continue
        if all(c >= 5 for c in changes):
            everywhere.append(code)
        if all(abs(c) < 5 for c in changes):
            nowhere.append(code)
    return everywhere, nowhere
