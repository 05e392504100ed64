"""What a report notebook calls: :class:`ProgrammeReport` loads a programme once, computes
every section once, builds the content of every language edition from the same results, takes
one disclosure decision for all of them, and hands the notebook each part of the page as HTML
for every edition. The notebook holds no logic of its own.

A part displays as the first edition's HTML (what a researcher sees in JupyterLab) and carries
the other editions' HTML beside it (:data:`EDITIONS_MIME`), so that one run of the notebook
renders every edition (:mod:`evalkit.report.render`).
"""

from __future__ import annotations

import dataclasses
import json
import platform
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

from evalkit import config as config_mod
from evalkit import files
from evalkit.data.programme import PRIVATE, ProgrammeData, load
from evalkit.errors import ConfigError, DataError, EvalkitError, ReportError
from evalkit.i18n import N_, date_time
from evalkit.report import glossary, publish
from evalkit.report.content import (ILLUSTRATION, MATCHED, PUBLISHED, Box, Bullets, Code, Count,
                                    Declared, Deferred, Em, Heading, Inline, Msg, Note, Num, Para,
                                    Lang, Part, Strong, counts_of, join)
from evalkit.report.disclosure import (AUDIT, PRIMARY, PUBLISHED as PUBLISHED_RULE, SECONDARY,
                                       WITHHELD, Disclosure)
from evalkit.report.mime import EDITIONS_MIME, HEADLINE_MIME, TABLES_MIME
from evalkit.report.sections import BY_KEY, REGISTRY
from evalkit.report.sections.common import Build, Finding, Section

PACKAGES = ("evalkit", "pandas", "numpy", "scipy", "statsmodels", "linearmodels", "seaborn",
            "matplotlib", "papermill", "nbconvert")
PARTS = ("head", "brief", "findings", "body", "annex", "methods", "glossary", "rendered")
BRIEF_RESULTS = 3


def software_versions() -> dict[str, str]:
    versions = {"Python": platform.python_version()}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


@dataclasses.dataclass(frozen=True)
class Edition:
    """One language edition: its parts as content, and its headline."""

    language: str
    config: config_mod.ProgrammeConfig
    sections: tuple[Section, ...]
    parts: dict
    headline: Inline


class _Part:
    """A part of the page, displayed as HTML in every edition."""

    def __init__(self, html: dict[str, str], first: str):
        self.html = html
        self.first = first

    def _repr_mimebundle_(self, include=None, exclude=None):
        return {"text/html": self.html[self.first], EDITIONS_MIME: dict(self.html)}


class _Tables:
    """The report's tables as records (not shown on the page; the renderer may write them
    to a spreadsheet)."""

    def __init__(self, records: dict[str, list]):
        self.records = records

    def _repr_mimebundle_(self, include=None, exclude=None):
        return {"text/html": "", TABLES_MIME: self.records}


class _Record:
    """The report's structured headline (one record per edition), read from the executed
    notebook and written beside each page as ``<name>.headline.json``."""

    def __init__(self, records: dict[str, dict], first: str):
        self.records = records
        self.first = first

    def _repr_mimebundle_(self, include=None, exclude=None):
        return {"text/html": '<span class="evalkit-headline"></span>',
                HEADLINE_MIME: self.records}


def _public_problem(problems, config: config_mod.ProgrammeConfig | None) -> str:
    """The first problem as a published file may say it: the file's number, the row, a
    column named in programme.yml (or one of 3 characters, such as a factor code), the rule."""
    from evalkit.data.validate import RULES

    first = problems[0]
    numbers = {name: i for i, name in enumerate((config.files if config else {}), start=1)}
    name = first.file.split("/", 1)[-1]
    where = f"file {numbers[name]}" if name in numbers else "a data file"
    declared = config.declared if config is not None else frozenset()
    column = (f"column '{first.column}'" if first.column in declared or len(first.column) <= 3
              else "a column")
    more = f" ({len(problems) - 1} more problem(s))" if len(problems) > 1 else ""
    return (f"{where}, {first.where.rsplit(', ', 1)[-1]}, {column}: the value "
            f"{RULES.get(first.rule, first.rule)}{more}.")


def public_error(exc: EvalkitError, folder: Path, config: config_mod.ProgrammeConfig | None) -> str:
    """An error as a published file may say it: what went wrong and where (file number, row,
    column named in programme.yml, rule), never a value from the data."""
    problems = getattr(exc, "problems", None)
    if problems:
        return _public_problem(problems, config)
    from evalkit.files import UnsafePath

    if isinstance(exc, UnsafePath):
        return str(exc)
    if isinstance(exc, ConfigError):
        return "programme.yml: the configuration was refused (run 'evalkit check' on the folder to see why)."
    if isinstance(exc, DataError):
        return "the data could not be read as configured (run 'evalkit check' on the folder to see why)."
    return "the report could not be built (run 'evalkit check' on the folder to see why)."


class ProgrammeReport:
    """One programme's report: loaded once, computed once, decided once, in every edition."""

    def __init__(self, programme_dir: str | Path, canary_file: str = ""):
        folder = Path(programme_dir)
        self.folder = folder
        config = None
        try:
            config = config_mod.load(folder, REGISTRY)
            self.data: ProgrammeData = load(folder, REGISTRY, config=config)
            self._build()
        except EvalkitError as exc:
            self._private_error(exc)
            raise ReportError(public_error(exc, folder, config)) from None
        try:  # the disclosure log: private, beside the data (never beside the report)
            files.write(folder, f"{PRIVATE}/disclosure.csv", self.dc.csv(), private=True)
        except (OSError, EvalkitError):
            pass
        if canary_file:  # for the renderer, in its private folder: never published
            record = self.data.canaries.record() if self.data.canaries is not None else {}
            record["rows"] = [a.line() for a in self.data.accounts]
            Path(canary_file).write_text(json.dumps(record), encoding="utf-8")

    def _private_error(self, exc: Exception) -> None:
        """The full sentence, values included, for the programme's owner (private folder)."""
        try:
            files.write(self.folder, f"{PRIVATE}/report-error.txt", str(exc) + "\n", private=True)
        except (OSError, EvalkitError):
            pass

    # ------------------------------------------------------------------ building

    def _build(self) -> None:
        data = self.data
        cfg = data.config
        self.results = [(key, section_cfg, BY_KEY[key].compute(data, section_cfg))
                        for key, section_cfg in cfg.sections]
        self.dc = Disclosure(min_cell=cfg.min_cell, rounding=cfg.rounding)
        self.editions: dict[str, Edition] = {}
        for language in cfg.languages:
            edition_cfg = cfg if language == cfg.language else config_mod.load(
                self.folder, REGISTRY, language)
            b = Build(data, edition_cfg, self.dc)
            sections = tuple(BY_KEY[key].build(b, section_cfg, result)
                             for (key, _c, result), (_k, section_cfg)
                             in zip(self.results, edition_cfg.sections))
            self._register_rows(b)
            parts = self._parts(b, sections)
            if self.dc.decision is None:  # one decision, over the first edition's every figure
                blocks = [blk for part in parts.values() for blk in part.blocks]
                self.dc.decide(publish.stats_of(blocks), displayed=counts_of(blocks))
            self.editions[language] = Edition(language, edition_cfg, sections, parts,
                                              self._headline(b, sections))

    def _register_rows(self, b: Build) -> None:
        for a in self.data.accounts:
            if a.rows_set_aside:
                key = f"rows.file{a.number}.aside"
                self.dc.whole(key, a.rows_set_aside,
                              {f"{key}.{rule}": n for rule, n in a.set_aside.items()},
                              table="Rows set aside")

    # ------------------------------------------------------------------ parts

    def _parts(self, b: Build, sections: tuple[Section, ...]) -> dict:
        return {"head": self._head(b), "brief": self._brief(b, sections),
                "findings": self._findings(b, sections), "body": self._body(sections),
                "annex": self._annex(sections), "methods": self._methods(b, sections),
                "glossary": self._glossary(sections)}

    def _head(self, b: Build) -> Part:
        c = b.config
        title = (Msg("{ngo}: {name}", ngo=Declared(c.ngo), name=Declared(c.name)) if c.ngo
                 else Declared(c.name))
        facts = [Strong(Msg("Programme evaluation report"))]
        if c.province:
            facts.append(Declared(c.province))
        facts.append(Msg("synthetic data: no real child or household") if c.synthetic
                     else Msg("the programme's own data export"))
        blocks = [Heading(1, title), Para(join(facts, " · "))]
        if c.synthetic:
            blocks.append(Box("illustration", (Para(Msg(
                "Every figure in this report is computed from synthetic data that evalkit "
                "generated; no real child or household is in it. Figures marked 'matched' were "
                "generated to reproduce figures the sources published; all others are "
                "illustrations the sources did not publish.")),),
                label=Msg("Synthetic data")))
        return Part("head", tuple(blocks))

    def _ranked(self, sections) -> list[tuple[Finding, Section]]:
        return sorted(((f, s) for s in sections for f in s.findings),
                      key=lambda pair: pair[0].rank)

    @staticmethod
    def _tagged(b: Build, finding: Finding) -> Inline:
        kind = finding.provenance.kind
        if kind == ILLUSTRATION:
            return Msg("{tag} {text}", tag=Strong(Msg("Illustration:")), text=finding.text)
        if kind in (MATCHED, PUBLISHED) and b.synthetic:
            return Msg("{tag} {text}", tag=Strong(Msg("Matched to the published figures:")),
                       text=finding.text)
        return finding.text

    def _brief(self, b: Build, sections) -> Part:
        c = b.config
        questions = [s.question for s in sections if s.question is not None]
        question = (Declared(c.question) if c.question else join(questions, " ") if questions
                    else Msg("What changed for the people this programme serves?"))
        ranked = self._ranked(sections)[:BRIEF_RESULTS]
        evidence = list(dict.fromkeys(e for s in sections for e in s.evidence))
        caveats = list(dict.fromkeys(x for s in sections for x in s.caveats))
        inner = [Para(Msg("{label} {text}", label=Strong(Msg("The question.")), text=question)),
                 Para(Strong(Msg("What we found."))),
                 Bullets(tuple(self._tagged(b, f) for f, _s in ranked))]
        if evidence:
            inner.append(Para(Msg("{label} {text}", label=Strong(Msg("How strong the evidence is.")),
                                  text=join(evidence, " "))))
        if caveats:
            inner += [Para(Strong(Msg("What to keep in mind."))), Bullets(tuple(caveats))]
        if c.synthetic:
            inner.append(Para(Em(Msg("These figures come from synthetic data and illustrate the "
                                     "method; they are not findings about real children."))))
        return Part("brief", (Heading(2, Msg("In brief"), "in-brief"),
                              Box("brief", tuple(inner), label=Msg("One-page brief"))))

    def _findings(self, b: Build, sections) -> Part:
        blocks: list = [Heading(2, Msg("Key findings"), "key-findings")]
        for s in sections:
            if not s.findings:
                continue
            items = tuple(f.text for f in s.findings)
            illustrative = all(f.provenance.kind == ILLUSTRATION for f in s.findings)
            inner = (Para(Strong(s.title)), Bullets(items))
            if illustrative:
                blocks.append(Box("illustration", inner,
                                  label=Msg("Illustration: computed from synthetic data; the "
                                            "source published no such figure")))
            else:
                blocks += inner
        if not any(s.findings for s in sections):
            blocks.append(Para(Msg("No key finding can be shown: the figures rest on too few "
                                   "people to be published without risking identifying them.")))
        if any(a.rows_set_aside for a in self.data.accounts):
            blocks.append(Note(Msg(
                "Some rows of the programme's data broke a validation rule and were set aside: "
                "they are not in any figure of this report. The Methods section says which "
                "rules; 'evalkit check' shows the programme's staff where they are."), kind="info"))
        return Part("findings", tuple(blocks))

    @staticmethod
    def _body(sections) -> Part:
        blocks = []
        for s in sections:
            blocks.append(Heading(2, s.title, s.anchor))
            blocks += s.blocks
        return Part("body", tuple(blocks))

    @staticmethod
    def _annex(sections) -> Part:
        blocks = [blk for s in sections for blk in s.annex]
        if not blocks:
            return Part("annex", ())
        return Part("annex", (Heading(2, Msg("Annex: technical tables"), "annex"),
                              Para(Msg("Tables for readers who want the statistical detail behind "
                                       "the findings: balance between the groups compared, the "
                                       "precision of the study, and trends over time.")),
                              *blocks))

    def _rows_used(self) -> Inline:
        parts = []
        for a in self.data.accounts:
            label = Msg("file {n}", n=a.number)
            if not a.rows_set_aside:
                parts.append(Msg("{file}: every row used", file=label))
                continue
            key = f"rows.file{a.number}.aside"
            reasons = join([Msg("{n} for {rule}", n=Count(f"{key}.{rule}", words=True),
                                rule=Msg(RULE_WORDS.get(rule, "another rule")))
                            for rule in a.set_aside], ", ")
            parts.append(Msg("{file}: {n} rows set aside ({reasons})", file=label,
                             n=Count(key, words=True), reasons=reasons))
        return join(parts, "; ")

    def _methods(self, b: Build, sections) -> Part:
        c = b.config
        privacy = [Msg("Names, dates of birth, phone numbers and other personal columns are "
                       "removed before any table is built, and every published page is checked "
                       "for them. Any figure resting on fewer than {n} children, families or "
                       "households is shown as '{suppressed}' or 'fewer than {n}'.",
                       n=c.min_cell, suppressed=Msg("suppressed")),
                   Deferred(lambda d: _privacy_counts(d, c))]
        versions = ", ".join(f"{k} {v}" for k, v in software_versions().items())
        digests = [self.data.files[p] for p in c.files if p in self.data.files]
        files_list = join([Msg("file {n}: SHA-256 {digest}", n=i, digest=Code(digest))
                           for i, digest in enumerate(digests, start=1)], "; ")
        lines = [m for s in sections for m in s.methods]
        lines += [
            Msg("{label} {text}", label=Strong(Msg("Rows used.")), text=self._rows_used()),
            Msg("{label} {text}", label=Strong(Msg("Privacy.")), text=join(privacy, " ")),
            Msg("{label} {text}", label=Strong(Msg("Numbers.")), text=Msg(
                "Percentages of people are whole numbers; changes and differences in percentage "
                "points, relative changes in per cent and numbers of factors have one decimal; "
                "mean scores and their changes two; p-values three (or '< 0.001').")),
            Msg("{label} {text}", label=Strong(Msg("Data files.")), text=files_list),
            Msg("{label} {text}", label=Strong(Msg("Software.")),
                text=Lang(Code(versions), "en")),
            Msg("{label} {text}", label=Strong(Msg("Source of the programme description.")),
                text=b.declared(c.source, markdown=True) if c.source
                else Msg("not given in the configuration")),
        ]
        if c.synthetic:
            lines.append(Msg("{label} Generated by evalkit from the starting number {seed}, so "
                             "that the same data can be generated again exactly.",
                             label=Strong(Msg("Synthetic data.")), seed=Num(c.seed, "year")))
        return Part("methods", (Heading(2, Msg("Methods"), "methods"), Bullets(tuple(lines))),
                    fold=True)

    @staticmethod
    def _glossary(sections) -> Part:
        groups = list(dict.fromkeys(g for s in sections for g in s.glossary))
        terms = glossary.terms_for(groups)
        items = tuple(Msg("{term} {text}", term=Strong(Msg("{t}.", t=Msg(term))), text=Msg(text))
                      for term, text in terms.items())
        return Part("glossary", (Heading(2, Msg("Glossary"), "glossary"), Bullets(items)), fold=True)

    def _headline(self, b: Build, sections) -> Inline:
        lines = []
        for key, _cfg, result in self.results:
            function = getattr(BY_KEY[key], "headline", None)
            if function is not None:
                lines.append(function(b, result))
        if lines:
            return Msg("{text}.", text=join(lines, "; "))
        ranked = self._ranked(sections)
        if ranked:
            return ranked[0][0].text
        return Msg("No key finding can be shown: the figures rest on too few people to be "
                   "published without risking identifying them.")

    # ------------------------------------------------------------------ display

    def writer(self, language: str) -> publish.Writer:
        return publish.Writer(self.dc.decision, language, self.data.config.declared)

    def part(self, name: str) -> _Part:
        """A part of the page (see :data:`PARTS`) in every edition."""
        html = {}
        now = datetime.now(timezone.utc)
        for language, edition in self.editions.items():
            writer = self.writer(language)
            if name == "rendered":
                stamp = date_time(now, language)
                html[language] = ('<p class="evalkit-rendered">'
                                  + writer.html(Msg("Rendered {stamp}.", stamp=Code(stamp))) + "</p>")
                continue
            part = edition.parts[name]
            html[language] = writer.part(part) if part.blocks else ""
        return _Part(html, self.data.config.languages[0])

    def tables(self) -> "_Tables":
        """Every table of the report, as its pages show them, for a spreadsheet of them."""
        from evalkit.report.content import Box, Table

        out = {}
        for language, edition in self.editions.items():
            blocks = []
            for name in ("body", "annex"):
                for block in edition.parts[name].blocks:
                    blocks += list(block.blocks) if isinstance(block, Box) else [block]
            tables = [b for b in blocks if isinstance(b, Table)]
            out[language] = publish.table_records(self.writer(language), tables)
        return _Tables(out)

    def headline(self) -> _Record:
        """The structured headline record of every edition (for the index and the synthesis)."""
        csi_result = next((r for k, _c, r in self.results if k == "csi"), None)
        records = {}
        for language, edition in self.editions.items():
            writer = self.writer(language)
            c = edition.config
            title = Msg("{ngo}: {name}", ngo=Declared(c.ngo), name=Declared(c.name)) if c.ngo \
                else Declared(c.name)
            record = {"programme": c.key, "title": writer.text(title),
                      "headline": writer.text(edition.headline), "language": language,
                      "number_script": c.number_script, "synthetic": c.synthetic,
                      "provenance": _provenance_of(edition)}
            if csi_result is not None:
                record.update(self._csi_record(c, csi_result, writer))
            records[language] = record
        return _Record(records, self.data.config.languages[0])

    def _csi_record(self, c, csi_result, writer) -> dict:
        """The CSI change an edition's record carries for the synthesis, and its names."""
        from evalkit.report.sections import csi as csi_section

        return {"csi": csi_section.record(Build(self.data, c, self.dc), csi_result, writer.text),
                "ngo": writer.text(Declared(c.ngo)) if c.ngo else "",
                "province": writer.text(Declared(c.province)) if c.province else "",
                "name": writer.text(Declared(c.name))}


def _provenance_of(edition) -> str:
    """Where the key findings' numbers come from: 'illustration' when every finding is one,
    else 'matched' (synthetic data matched to published figures) or 'data'."""
    kinds = {f.provenance.kind for s in edition.sections for f in s.findings}
    if kinds and kinds <= {ILLUSTRATION}:
        return "illustration"
    return "matched" if edition.config.synthetic else "data"


def _privacy_counts(decision, c) -> Inline:
    """What the disclosure decision did, in words (known once it is taken)."""
    counts = decision.rules
    parts = [Msg("{primary} figure(s) resting on fewer than {n} people were suppressed, and "
                 "{secondary} more so that none of them can be worked out from totals; the "
                 "suppression was decided once for the whole report and checked by working out, "
                 "for every suppressed count, the range of values the published figures allow.",
                 primary=counts.get(PRIMARY, 0), n=c.min_cell,
                 secondary=counts.get(SECONDARY, 0) + counts.get(AUDIT, 0))]
    if counts.get(PUBLISHED_RULE):
        parts.append(Msg("{n} small figure(s) are shown because the study published them (each "
                         "with its source).", n=counts[PUBLISHED_RULE]))
    if counts.get(WITHHELD):
        parts.append(Msg("{n} comparison(s) were left out because a small group could have been "
                         "worked out from figures elsewhere in the report.", n=counts[WITHHELD]))
    if c.rounding:
        parts.append(Msg("Counts are rounded to the nearest {n}.", n=c.rounding))
    return join(parts, " ")


RULE_WORDS = {"factor": N_("a CSI score outside 1–4"), "date": N_("a date that could not be read"),
              "id": N_("a blank id"), "round": N_("a blank round"),
              "duplicate": N_("a repeated child and round"),
              "binary": N_("a value that is not 0/1"), "number": N_("a value that is not a number"),
              "required": N_("a blank required value"), "range": N_("a value outside its range"),
              "whole": N_("a value that is not a whole number")}
