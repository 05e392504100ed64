"""The ``evalkit`` command: generate synthetic data, list programmes, render reports.

Errors in data or configuration are printed as one sentence (exit status 2); a batch of
reports exits 1 when any report failed, after rendering all the others.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from evalkit import __version__
from evalkit.errors import EvalkitError

DEFAULT_DATA = Path("data/synthetic")
DEFAULT_OUT = Path("reports")


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def cmd_synth(args: argparse.Namespace) -> int:
    from evalkit import synth

    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise EvalkitError(f"{out}: is not a folder; expected a folder to write the synthetic "
                           "programmes into (--out).")
    if args.if_missing and synth.up_to_date(out, args.seed):
        _say(f"synthetic data already in {out}; nothing to do (drop --if-missing to rewrite).")
        return 0
    try:
        synth.write_all(out, seed=args.seed, progress=_say)
    except FileExistsError as exc:
        _say(f"evalkit synth: {exc}")
        return 2
    except OSError as exc:
        raise EvalkitError(f"{out}: the synthetic data could not be written there "
                           f"({exc.strerror or type(exc).__name__}); expected a folder you can "
                           "write to (--out).") from None
    return 0


def _programme_folders(args: argparse.Namespace) -> list[Path]:
    from evalkit.config import discover

    if args.all:
        folders = discover(args.data)
        if not folders:
            raise EvalkitError(f"{args.data}: no programme folders (folders with a programme.yml) "
                               "found; run 'evalkit synth' or pass --data.")
        return folders
    if not args.folders:
        raise EvalkitError("name a programme folder (e.g. data/synthetic/cct) or pass --all.")
    return [Path(f) for f in args.folders]


def cmd_report(args: argparse.Namespace) -> int:
    from evalkit.report import pdf
    from evalkit.report.batch import progress_printer, render_many
    from evalkit.report.collection import render_collection
    from evalkit.report.render import Extras

    folders = _programme_folders(args)
    if args.jobs < 1:
        raise EvalkitError(f"--jobs is {args.jobs}; expected a whole number of at least 1.")
    _writable(Path(args.out))
    extras = Extras(notebook=args.keep_notebooks, tables=args.tables, pdf=args.pdf)
    if extras.pdf:
        pdf.require_browser()  # before any work: one sentence if no browser can print
    _say(f"rendering {len(folders)} report(s) with {min(args.jobs, len(folders))} worker(s) into {args.out} …")
    started = time.perf_counter()
    synthesis = None
    if args.all:
        results, synthesis, index = render_collection(folders, Path(args.out), jobs=args.jobs,
                                                      timeout=args.timeout,
                                                      on_result=progress_printer(),
                                                      force=args.force, extras=extras)
        _say_synthesis(synthesis)
        _say(f"index: {index}")
    else:
        results = render_many(folders, Path(args.out), jobs=args.jobs, timeout=args.timeout,
                              extras=extras, on_result=progress_printer())
    failed = [r for r in [*results, synthesis] if r is not None and not r.ok]
    _summary(results, synthesis, args.all, time.perf_counter() - started)
    _details(failed)
    return 1 if failed else 0


def _summary(results, synthesis, every: bool, seconds: float) -> None:
    """The per-programme table and the one-line tally."""
    _say("\nprogramme                seconds  result")
    for r in results:
        _say(f"{r.programme:<24} {r.seconds:7.1f}  {_outcome(r)}")
        for line in r.rows:
            _say(f"    {line}")
    unchanged = sum(r.skipped for r in results)
    failed = [r for r in results if not r.ok]
    tail = "" if synthesis is None or not synthesis.ok else {
        "unchanged": "; the synthesis is unchanged", "ok": "; the synthesis report rendered too"
    }[_outcome(synthesis)]
    _say(f"{len(results) - len(failed) - unchanged} of {len(results)} programme report(s) "
         f"rendered in {seconds:.1f} s"
         + (f", {unchanged} unchanged since the last run (--force renders them)" if unchanged
            else "") + tail + ".")
    if failed:
        _say(f"{len(failed)} of {len(results)} programme report(s) failed.")
    if every and synthesis is not None and not synthesis.ok:
        _say("The synthesis report failed.")


def _say_synthesis(synthesis) -> None:
    """Where the synthesis report is, or why it failed (nothing without one)."""
    if synthesis is not None:
        _say(f"synthesis: {synthesis.html if synthesis.ok else 'FAILED ' + str(synthesis.error)}")


def _outcome(result) -> str:
    """'unchanged' (kept from the last run), 'ok' or 'FAILED'."""
    if result.skipped:
        return "unchanged"
    return "ok" if result.ok else "FAILED"


def _details(failed) -> None:
    """Each failure's full sentences, for the data owner's terminal (never published)."""
    details = [r.detail for r in failed if r.detail and Path(r.detail).exists()]
    if not details:
        return
    _say("In full (for the data's owner: these may quote cells, and are never published):")
    for detail in details:
        for line in Path(detail).read_text(encoding="utf-8").splitlines()[:20]:
            _say(f"  {line}")
    _say("(kept in " + ", ".join(details) + ")")


def _writable(out: Path) -> None:
    """Refuse, in one sentence, an output folder that cannot be written."""
    import tempfile

    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=out, prefix=".evalkit-probe-"):
            pass
    except OSError as exc:
        raise EvalkitError(f"{out}: reports cannot be written there ({exc.strerror or exc}); "
                           "expected a folder you can write to (--out).") from None


def cmd_list(args: argparse.Namespace) -> int:
    from evalkit.config import discover, load
    from evalkit.report.sections import BY_KEY, REGISTRY

    folders = discover(args.data)
    if not folders:
        _say(f"{args.data}: no programme folders found (run 'evalkit synth').")
        return 0
    for folder in folders:
        try:
            cfg = load(folder, REGISTRY)
            who = " — ".join(x for x in (cfg.ngo, cfg.name) if x)
            where = f" ({cfg.province})" if cfg.province else ""
            analyses = list(dict.fromkeys(BY_KEY[key].ANALYSIS for key, _c in cfg.sections))
            print(f"{folder.name:<12} {who}{where}; report: "
                  f"{', '.join(analyses) or 'nothing configured'}")
        except EvalkitError as exc:
            print(f"{folder.name:<12} CONFIG ERROR: {exc}")
    _say("(configurations checked; the data were not read: 'evalkit check --all' validates them)")
    return 0


def cmd_new(args: argparse.Namespace) -> int:
    from evalkit.data.scaffold import new

    plan = new(args.folder, args.sources)
    target = Path(args.folder) / "programme.yml"
    for line in plan.found:
        _say(f"  {line}")
    if plan.todo:
        _say(f"wrote {target}; fill in {len(plan.todo)} line(s) marked FILL-IN before rendering: "
             f"{', '.join(plan.todo)}.")
    else:
        _say(f"wrote {target}; next: 'evalkit check {args.folder}' and "
             f"'evalkit report {args.folder}'.")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from evalkit.data.check import check, terminal_lines, write_page

    folders = _programme_folders(args)
    failed = 0
    from evalkit.report.sections import REGISTRY

    for folder in folders:
        result = check(folder, REGISTRY)
        for line in terminal_lines(result):
            print(line)
        page = write_page(result)
        if page is not None:
            print(f"  data-quality page: {page}")
        private = Path(folder) / ".evalkit"
        kept = [name for name in ("key", "cache", "set_aside.csv", "disclosure.csv")
                if (private / name).exists()]
        if kept:
            print(f"  private files (never published; do not share): {private}/ "
                  f"({', '.join(kept)}; the disclosure log is written by 'evalkit report')")
        failed += not result.ok
    if len(folders) > 1:
        print(f"{len(folders) - failed} of {len(folders)} programme(s) passed the check.")
    return 1 if failed else 0


def _folder_arguments(p: argparse.ArgumentParser, verb: str) -> None:
    """The programme folders a command works on: named, or --all under --data."""
    p.add_argument("folders", nargs="*", help="programme folder(s), each holding a programme.yml")
    p.add_argument("--all", action="store_true", help=f"{verb} every programme folder under --data")
    p.add_argument("--data", default=str(DEFAULT_DATA), help="where --all looks (default: %(default)s)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="evalkit",
        description="Programme evaluation kit: Child Status Index scoring, pre/post and village "
                    "comparisons, and one HTML report per NGO programme.",
        epilog="Quick start: 'evalkit synth' then 'evalkit report --all'; reports land in reports/.",
    )
    parser.add_argument("--version", action="version", version=f"evalkit {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("synth", help="write the embedded synthetic programme data",
                       description="Write deterministic synthetic data for every seed programme "
                                   "(CCT, CFI, CIF, M'Lop Tapang, SKO, CCPCR, national action "
                                   "plan) into one folder each, with programme.yml, MODEL.md "
                                   "(the generating model) and truth.json.")
    p.add_argument("--out", default=str(DEFAULT_DATA), help="where to write (default: %(default)s)")
    p.add_argument("--seed", type=int, default=None, help="random seed (default: the kit's fixed seed)")
    p.add_argument("--if-missing", action="store_true",
                   help="do nothing when the synthetic data are already there and current")
    p.set_defaults(func=cmd_synth)

    p = sub.add_parser("report", help="render HTML reports for programme folders",
                       description="Execute the report notebook for each programme folder with "
                                   "papermill and convert it to self-contained HTML in --out. "
                                   "A programme that fails is reported in one line and does not "
                                   "stop the others; the exit status is 1 if any failed.")
    _folder_arguments(p, "render")
    p.add_argument("--out", default=str(DEFAULT_OUT), help="where reports go (default: %(default)s)")
    p.add_argument("--timeout", type=int, default=600,
                   help="seconds a notebook cell may run before the report fails (default: %(default)s)")
    p.add_argument("--jobs", "-j", type=int, default=1,
                   help="reports rendered in parallel, one worker process each (default: %(default)s)")
    p.add_argument("--force", action="store_true",
                   help="with --all, render every programme even if its data, configuration and "
                        "the kit are unchanged since its report was last rendered into --out")
    p.add_argument("--tables", action="store_true",
                   help="also write each report's tables, as the report shows them (small counts "
                        "suppressed), to OUT/<programme>.tables.xlsx")
    p.add_argument("--pdf", action="store_true",
                   help="also print each page to an A4 PDF beside it (OUT/<programme>.pdf; "
                        "Khmer text stays searchable); needs Chromium or Google Chrome")
    p.add_argument("--keep-notebooks", action="store_true",
                   help="also keep each executed notebook under OUT/_executed/ (without its "
                        "parameters, paths or tracebacks)")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("new", help="start a programme folder from data exports",
                       description="Copy the export(s) into FOLDER, recognise their layout (OSCaR, "
                                   "KoBoToolbox, ODK Central, Stata/SPSS, wide sheets; encoding, "
                                   "separator, sheet and header row) and write FOLDER/programme.yml. "
                                   "What could not be decided is marked FILL-IN, one line each.")
    p.add_argument("folder", help="the programme folder to create (or the one holding the file)")
    p.add_argument("--from", dest="sources", nargs="+", required=True, metavar="FILE",
                   help="the data export(s) to copy in: files, or a folder of them (an ODK "
                        "Central or KoBoToolbox export unzipped: its main and repeat CSVs)")
    p.set_defaults(func=cmd_new)

    p = sub.add_parser("check", help="load and validate programme data without rendering",
                       description="Read every file a programme.yml names, validate every cell and "
                                   "print rows read, used and set aside, children and rounds, "
                                   "duplicates, children assessed once, missing values and dates "
                                   "out of order. Writes FOLDER/.evalkit/check.html (no personal "
                                   "data). Exit status 0 when no problem was found, 1 otherwise.")
    _folder_arguments(p, "check")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("list", help="list the programmes found and what each report contains",
                       description="List programme folders under --data and their report sections.")
    p.add_argument("--data", default=str(DEFAULT_DATA), help="where to look (default: %(default)s)")
    p.set_defaults(func=cmd_list)
    return parser


def _stop_on_sigterm() -> None:
    """SIGTERM stops a command as Ctrl-C does: workers and kernels stopped, nothing
    half-written."""
    import signal
    import threading

    if threading.current_thread() is threading.main_thread():
        def stop(signum, frame):
            raise KeyboardInterrupt

        signal.signal(signal.SIGTERM, stop)


def _one_line_warnings() -> None:
    """Warnings for the user (a risky privacy setting) as one line, never a source quote."""
    import warnings

    def show(message, category, filename, lineno, file=None, line=None):
        _say(f"evalkit: warning: {message}")

    warnings.showwarning = show


def main(argv: list[str] | None = None) -> int:
    import signal
    import warnings

    handlers = (signal.getsignal(signal.SIGTERM), warnings.showwarning)
    _stop_on_sigterm()
    _one_line_warnings()
    try:
        return _main(argv)
    finally:
        signal.signal(signal.SIGTERM, handlers[0])
        warnings.showwarning = handlers[1]


def _main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "func", None) is None:
        parser.print_help()
        return 0
    if getattr(args, "seed", "absent") is None:
        from evalkit.synth import DEFAULT_SEED

        args.seed = DEFAULT_SEED
    try:
        return args.func(args)
    except EvalkitError as exc:
        _say(f"evalkit: {exc}")
        return 2
    except KeyboardInterrupt:
        _say("evalkit: stopped; nothing half-written.")
        return 130


if __name__ == "__main__":
    sys.exit(main())
