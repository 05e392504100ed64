"""The cross-programme synthesis: CSI change side by side for every CSI programme, in the
spirit of the seed study's synthesis chapter — descriptive, with the differences between the
programmes (period, children, caseload) stated next to the numbers."""

from __future__ import annotations

from datetime import datetime, timezone

import numpy as np
import pandas as pd
import seaborn as sns
from IPython.display import HTML, Markdown
from matplotlib.figure import Figure

from evalkit.indices import csi
from evalkit.report import display
from evalkit.report.disclosure import SUPPRESSED, Disclosure
from evalkit.report.sections import csi as csi_section
from evalkit.report.sections.common import round_label
from evalkit.report.notebook import software_versions
from evalkit.data.programme import ProgrammeData, load


def _short(data: ProgrammeData) -> str:
    ngo = data.config.ngo
    return ngo[ngo.rfind("(") + 1:-1] if ngo.endswith(")") and "(" in ngo else ngo


OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]
"""Okabe & Ito's colour-blind-safe palette; every series also has its own marker."""
MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*"]


class SynthesisReport:
    """CSI change across programmes (each programme's configured first and last rounds)."""

    def __init__(self, programme_dirs: list[str]):
        self.programmes = [load(d) for d in programme_dirs]
        self.programmes = [p for p in self.programmes if p.csi is not None]
        names = [_short(p) for p in self.programmes]
        # two programmes of one NGO are told apart by their folder
        names = [n if names.count(n) == 1 else f"{n} ({p.config.key})"
                 for n, p in zip(names, self.programmes)]
        self.changes = {n: csi_section.change(p) for n, p in zip(names, self.programmes)}
        self.data = dict(zip(names, self.programmes))
        self.disclosure = {name: Disclosure(min_cell=d.config.min_cell, rounding=d.config.rounding)
                           for name, d in self.data.items()}

    def factor_table(self) -> pd.DataFrame:
        rows = []
        for name, r in self.changes.items():
            t = r.to_frame()
            t = t[t["level"] == "factor"]
            dc = self.disclosure[name]
            for row in t.itertuples():
                factor = f"{row.code} {row.name}"
                ok = dc.rests_on(int(row.children_paired), "Synthesis", f"{factor}: statistics")
                improved = (csi_section.share(dc, csi_section.CHANGE, factor, row.improved_pct,
                                               int(row.children_paired), "Improved") if ok else SUPPRESSED)
                rows.append({"programme": name, "factor": factor,
                             "relative_change_pct": row.relative_change_pct if ok else np.nan,
                             "improved_pct": np.nan if improved in (SUPPRESSED, "–") else float(improved),
                             "children": row.children_paired})
        return pd.DataFrame(rows)

    def title(self) -> Markdown:
        return display.markdown(
            "# Synthesis: change in children's status across CSI programmes\n\n"
            f"**Cross-programme report** · {', '.join(self.changes)} · synthetic data generated "
            "by evalkit")

    def overview(self) -> list:
        rows = []
        for name, r in self.changes.items():
            d = self.data[name]
            shown = csi_section.reassessment(self.disclosure[name], d, r)
            rows.append({
                "Programme": f"{d.config.ngo}: {d.config.name}",
                "Province": d.config.province,
                "Compared": f"{round_label(d, r.before)} → {round_label(d, r.after)}",
                "Children assessed at both": self.disclosure[name].count(r.children_paired, "Synthesis", "paired"),
                "Assessed first time only": shown["only_before"],
                "Mean factors needing services (children assessed at both)":
                    f"{r.mean_flagged_before:.2f} → {r.mean_flagged_after:.2f}"
                    if self.disclosure[name].rests_on(r.children_paired, "Synthesis", "means")
                    else SUPPRESSED,
            })
        table = pd.DataFrame(rows)
        return [display.markdown("## The programmes compared"),
                display.table(table.style.hide(axis="index").set_caption(
                    "Each programme's first and last configured CSI assessment; periods and "
                    "children differ, so the programmes' figures are not directly comparable.")),
                display.note(csi.DESCRIPTIVE_CAVEAT)]

    def findings(self) -> Markdown:
        table = self.factor_table()
        wide = table.pivot(index="factor", columns="programme", values="relative_change_pct")
        everywhere = wide[(wide >= 5).all(axis=1)].index.tolist()
        nowhere = wide[(wide.abs() < 5).all(axis=1)].index.tolist()
        best = {p: wide[p].idxmax() for p in wide.columns if wide[p].notna().any()}
        lines = []
        if everywhere:
            lines.append("Average scores rose by 5 % or more in **every** programme on "
                         + ", ".join(f.split(' ', 1)[1].lower() for f in everywhere) + ".")
        if nowhere:
            lines.append("Little changed (under 5 % either way) in every programme on "
                         + ", ".join(f.split(' ', 1)[1].lower() for f in nowhere) + ".")
        if best:
            lines.append("The largest relative change was on "
                         + "; ".join(f"{f.split(' ', 1)[1].lower()} in {p} ({wide.loc[f, p]:+.1f} %)"
                                     for p, f in best.items()) + ".")
        lines.append("The programmes cover different periods (six months to two years), "
                     "different children and different caseload turnover: a larger change in one "
                     "programme is not evidence that it works better.")
        headline = (f"CSI change across {len(self.changes)} programmes: "
                    + (f"scores rose by 5 % or more everywhere on {len(everywhere)} of 12 factors"
                       if everywhere else "no factor rose in every programme") + " (descriptive).")
        lines.insert(0, headline)
        return [display.markdown("## Key findings\n\n" + "\n".join(f"- {l}" for l in lines)),
                display.Headline({"programme": "synthesis",
                                  "title": "CSI change across programmes", "headline": headline})]

    def comparison(self) -> list:
        table = self.factor_table()
        wide = table.pivot(index="factor", columns="programme", values="relative_change_pct")
        share = table.pivot(index="factor", columns="programme", values="improved_pct")
        n = {p: self.disclosure[p].count(int(v), "Synthesis", "children")
             for p, v in table.groupby("programme")["children"].max().items()}
        combined = pd.concat({"Relative change of mean (%)": wide, "Children improved (%)": share}, axis=1)
        combined.columns = [f"{a}: {b} (n = {n[b]})" for a, b in combined.columns]
        styler = (combined.reset_index().rename(columns={"factor": "Factor"}).style.hide(axis="index")
                  .format("{:+.1f}", subset=[c for c in combined.columns if c.startswith("Relative")],
                          na_rep=SUPPRESSED)
                  .format("{:.0f}", subset=[c for c in combined.columns if c.startswith("Children")],
                          na_rep=SUPPRESSED)
                  .set_caption("Per factor and programme: relative change of the mean score and "
                               "share of paired children whose score went up."))
        return [display.markdown("## Factor by factor"), display.table(styler),
                display.figure(self.chart(table), alt="Dot plot of relative change in mean CSI "
                               "score per factor for each programme",
                               caption="Each dot is one programme's relative change of the mean "
                                       "score on that factor; right of zero is improvement.")]

    def chart(self, table: pd.DataFrame) -> Figure:
        """One dot per programme and factor, drawn from the suppressed table (a suppressed
        figure has no dot); each programme has its own marker and colour."""
        fig = Figure(figsize=(8, 6), dpi=100)
        ax = fig.subplots()
        n = {p: self.disclosure[p].count(int(v), "Synthesis", "children")
             for p, v in table.groupby("programme")["children"].max().items()}
        labelled = table.assign(Programme=table["programme"].map(lambda p: f"{p} (n = {n[p]})"))
        programmes = list(dict.fromkeys(labelled["Programme"]))
        sns.pointplot(data=labelled, y="factor", x="relative_change_pct", hue="Programme",
                      linestyle="none", dodge=0.4, ax=ax,
                      markers=[MARKERS[i % len(MARKERS)] for i in range(len(programmes))],
                      palette=[OKABE_ITO[i % len(OKABE_ITO)] for i in range(len(programmes))])
        ax.legend(title="Programme (marker and colour)", fontsize=8, title_fontsize=8)
        ax.axvline(0, color="#333333", linewidth=1, linestyle="--")
        ax.set_xlabel("Relative change of the mean CSI score (%)")
        ax.set_ylabel("")
        ax.set_title("CSI change by factor across programmes (children assessed at both)", fontsize=11)
        sns.despine(ax=ax)
        fig.tight_layout()
        return fig

    def methods(self) -> list:
        versions = ", ".join(f"{k} {v}" for k, v in software_versions().items())
        files = "\n".join(f"  - `{_short(p)}/{name}`: SHA-256 `{digest}`"
                          for p in self.programmes for name, digest in p.files.items())
        return [display.markdown("## Methods"), display.markdown(
            "- Each programme's CSI change is computed exactly as in its own report (paired "
            "children; relative change of the mean; share improved). No pooling, weighting or "
            "test across programmes is done: their periods and populations differ.\n"
            f"- **Data files.**\n{files}\n- **Software.** {versions}.")]

    @staticmethod
    def rendered_at() -> HTML:
        stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        return HTML(f'<p class="evalkit-rendered">Rendered {stamp}.</p>')
