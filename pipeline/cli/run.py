"""`optimize [run] PATH...`: find, verify and time faster versions of your functions."""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console

from pipeline import changes
from pipeline.cache import VerdictCache
from pipeline.cli import outputs
from pipeline.cli.exit_codes import ExitCode, fail
from pipeline.cli.options import (
    add_pass_selection,
    add_scale_out,
    check_codes,
    codes,
    min_speedup,
    positive,
    seconds,
    token_count,
)
from pipeline.cli.session import Session, check_functions
from pipeline.config import Config, ConfigError, load_config
from pipeline.discover import discover
from pipeline.model import FileReport
from pipeline.report import terminal as report
from pipeline.report.summary import Skipped, Totals, summary_lines
from pipeline.sandbox.isolation import ISOLATION_WARNING, Isolation, best_isolation
from pipeline.scan_cache import ScanCache
from pipeline.stages.defs import LOCALS
from pipeline.stages.parse import InputError, newer_python_reason, parse, read_source
from pipeline.stages.scan import scan_files
from pipeline.testcode import PytestFiles
from pipeline.workload import StoreError, default_store, workload_for
from pipeline.writeback import WriteRefused, write_atomically

if TYPE_CHECKING:  # the LLM stage (and the openai SDK) load only when it is used
    from pipeline.llm.stage import LLMStage

COMMAND = "optimize"


def add_parser(subparsers: Any, epilog: str) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "run",
        prog="optimize",
        help="optimise files or directories (the default command)",
        description=(
            "Propose faster versions of your functions, prove each one equivalent with "
            "Hypothesis in a sandbox, time it, and keep only verified speedups."
        ),
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("paths", nargs="*", type=Path, help="files or directories")
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--write", action="store_true", help="apply accepted rewrites in place")
    action.add_argument("--check", action="store_true", help="exit 1 if any speedup is found")
    parser.add_argument("--diff", action="store_true", help="print only the unified diff")
    parser.add_argument("--json", action="store_true",
                        help="print a machine-readable report (combines with --write, "
                             "--check and --no-verify)")  # fmt: skip
    outputs.add_file_outputs(parser)
    add_pass_selection(parser)
    parser.add_argument("--function", action="append", default=[], metavar="NAME",
                        help="only optimise this function (repeatable)")  # fmt: skip
    parser.add_argument("--min-speedup", type=min_speedup, metavar="X",
                        help="acceptance floor for the speedup ratio (default 1.05)")  # fmt: skip
    parser.add_argument("--list-passes", action="store_true", help="list built-in passes")
    parser.add_argument("--explain", metavar="CODE", help="print the documentation of a pass")
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="also show rejected candidates"
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="print only errors")
    parser.add_argument("--staged", action="store_true",
                        help="only functions touched by staged changes (pre-commit)")  # fmt: skip
    parser.add_argument("--no-cache", action="store_true",
                        help="re-verify, re-time and re-ask the LLM, ignoring caches")  # fmt: skip
    parser.add_argument("--llm", action=argparse.BooleanOptionalAction, default=None,
                        help="ask an OpenAI-compatible LLM for rewrites (default: when "
                             "OPENAI_API_KEY or OPENAI_BASE_URL is set)")  # fmt: skip
    parser.add_argument("--model", help="LLM model name (default from [tool.optimize.llm])")
    parser.add_argument("--llm-max-tokens", type=token_count, metavar="N",
                        help="stop asking the LLM once N tokens are used in this run "
                             "(default from [tool.optimize.llm] token_budget: no cap)")  # fmt: skip
    parser.add_argument("--llm-time-budget", type=seconds, metavar="SECONDS",
                        help="stop asking the LLM after this long waiting on it in this run "
                             "(default from [tool.optimize.llm] time_budget: 600)")  # fmt: skip
    parser.add_argument("--no-verify", action="store_true",
                        help="detect and transform only: report unverified candidates, "
                             "never write (a fast scan)")  # fmt: skip
    add_scale_out(parser)
    parser.add_argument("--fast", action="store_true", default=None,
                        help="verify every candidate but skip timing for passes that "
                             "change asymptotic cost (for hooks; see README)")  # fmt: skip
    parser.add_argument("--report", type=Path, metavar="FILE",
                        help="also write a self-contained HTML report to FILE")  # fmt: skip
    trace = parser.add_mutually_exclusive_group()
    trace.add_argument("--trace", type=Path, metavar="FILE",
                       help="verify and time on the real calls recorded by `optimize trace` "
                            "(default: .optimize_cache/trace.sqlite when it exists)")  # fmt: skip
    trace.add_argument("--no-trace", action="store_true", help="ignore any recorded trace")
    parser.add_argument("--top", type=positive, metavar="N",
                        help="optimise only the N functions that take most of the traced "
                             "run's time")  # fmt: skip
    parser.add_argument("--include-tests", action="store_true", default=None,
                        help="also examine test code found in directories (tests/, test_*.py, "
                             "*_test.py, conftest.py) and rank it for --top")  # fmt: skip
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    out = Console(highlight=False, soft_wrap=True)
    if args.list_passes:
        from pipeline.stages.orchestrate import selected_passes

        for pass_class in selected_passes(Config()):
            print(f"{pass_class.code}  {pass_class.name:<34} {pass_class.summary}")
        return ExitCode.OK
    if args.explain:
        return _explain(out, args.explain)
    if not args.paths:
        return fail(COMMAND, "no paths given (try `optimize --help`)")
    if args.no_verify and args.write:
        return fail(COMMAND, "--write refuses unverified code; drop --no-verify")
    try:
        outputs.check_single_stdout(args)
        config = _with_trace(_config(args), args)
        check_codes(args, config)
    except (ConfigError, StoreError) as error:
        return fail(COMMAND, str(error))
    return _Run(args, config, out).execute()


def _with_trace(config: Config, args: argparse.Namespace) -> Config:
    """The trace to use: --trace FILE, else the project's when one exists; --no-trace: none."""
    if args.no_trace:
        if args.top:
            raise ConfigError("--top ranks functions by a trace: drop --no-trace")
        return config
    store = args.trace or default_store(config)
    if args.trace is None and not store.is_file():
        if args.top:
            raise ConfigError(f"--top needs a trace: run `optimize trace` first (no {store})")
        return config
    chosen = dataclasses.replace(config, trace_store=store)
    try:
        workload_for(chosen)  # read now, so a broken store is one clear error
    except StoreError as error:
        if args.trace is not None or args.top:
            raise
        print(f"{COMMAND}: warning: ignoring the trace: {error}", file=sys.stderr)
        return config
    return chosen


@dataclass(frozen=True)
class _Hot:
    """One function `--top` chose, and its share of the traced run."""

    path: Path  # as discovered
    module: str
    qualname: str
    share: float  # its own time and that of the functions nested in it / the run's

    @property
    def label(self) -> str:
        return f"{self.module}.{self.qualname}"


def _hottest(files: list[Path], config: Config, count: int) -> list[_Hot]:
    """`--top N`: the N functions with the most own time in the traced run, counted as a
    user counts them: a nested function (a lambda, a comprehension) is part of the
    function around it, and a function this tool cannot examine takes no slot."""
    workload = workload_for(config)
    assert workload is not None  # --top without a trace is refused earlier
    by_path = {path.resolve(): path for path in files}
    shares: dict[tuple[Path, str, str], float] = {}
    for load in workload.hottest(list(by_path), len(workload.functions)):
        unit = load.qualname.split(f".{LOCALS}.")[0]
        key = (by_path[load.path], load.module, unit)
        shares[key] = shares.get(key, 0.0) + load.share
    ranked = sorted(shares.items(), key=lambda item: item[1], reverse=True)
    examinable = _Examinable(config)
    chosen = [_Hot(*key, share) for key, share in ranked if examinable(key[0], key[2])]
    return chosen[:count]


class _Examinable:
    """Whether a file's inventory holds a function (unit) by this name; each file parsed once."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.units: dict[Path, frozenset[str]] = {}

    def __call__(self, path: Path, qualname: str) -> bool:
        if path not in self.units:
            try:
                parsed = parse(read_source(path, self.config.max_file_bytes))
            except InputError:  # changed since it was traced: the plan reports it if named
                self.units[path] = frozenset()
            else:
                self.units[path] = frozenset(info.qualname for info in parsed.functions)
        return qualname in self.units[path]


def _explain(out: Console, code: str) -> int:
    from passes import by_code  # the passes (and libcst): only when asked about one

    pass_class = by_code().get(code.upper())
    if pass_class is None:
        return fail(COMMAND, f"unknown pass code {code!r} (see --list-passes)")
    out.print(pass_class.documentation(), highlight=False, markup=False)
    return ExitCode.OK


def _config(args: argparse.Namespace) -> Config:
    """The project's settings with the command line's applied: what the run will do, so
    that the JSON, the HTML report and the run log say what actually ran."""
    config = load_config(args.paths[0] if args.paths[0].exists() else Path.cwd())
    llm_wanted = config.llm.enabled if args.llm is None else args.llm
    return config.replace(
        select=codes(args.select),
        ignore=codes(args.ignore),
        min_speedup=args.min_speedup,
        fast=args.fast,
        include_tests=args.include_tests,
        llm=dataclasses.replace(
            config.llm,
            # A scan verifies nothing, so it asks no model.
            enabled=llm_wanted and not args.no_verify,
            model=args.model or config.llm.model,
            cache=config.llm.cache and not args.no_cache,
            token_budget=(
                config.llm.token_budget if args.llm_max_tokens is None else args.llm_max_tokens
            ),
            time_budget=(
                config.llm.time_budget if args.llm_time_budget is None else args.llm_time_budget
            ),
        ),
    )


class _Run:
    """One `optimize` run: discover, plan, work (writing as files finish), then report."""

    def __init__(self, args: argparse.Namespace, config: Config, out: Console) -> None:
        # Wanted but with no endpoint to ask: off, and the settings say so.
        self.llm_offline = config.llm.enabled and not _endpoint_configured(config)
        if self.llm_offline:
            config = dataclasses.replace(config, llm=dataclasses.replace(config.llm, enabled=False))
        self.args, self.config, self.out = args, config, out
        self.err = Console(stderr=True, highlight=False, soft_wrap=True)
        mode = "write" if args.write else "check" if args.check else "report"
        self.session = Session(
            config,
            sys.argv,
            self.err,
            jobs=args.jobs or (1 if not args.no_verify else os.cpu_count() or 1),
            shard=args.shard,
            quiet=args.quiet,
            settings={
                "mode": mode,
                "verified": not args.no_verify,
                "functions": list(args.function),
                "staged": args.staged,
                "top": args.top,
                "cache": not args.no_cache,
            },
        )
        self.written: set[Path] = set()
        self.scope: dict[Path, tuple[str, ...]] = {}
        self.human = out  # where the summary and notices go: stderr when stdout is machine output
        self.failed = False
        self.named: set[Path] = set()  # files named on the command line, not found by a walk

    def execute(self) -> int:
        args = self.args
        files = self._files()
        if files is None:
            return self._end([], ExitCode.ERROR)
        if not args.no_verify and best_isolation() == Isolation.NONE and not args.quiet:
            self._error(f"warning: {ISOLATION_WARNING}")
        reports = self._scan(files) if args.no_verify else self._optimize(files)
        if reports is None:
            return self._end([], ExitCode.ERROR)
        reports = self._without_newer_python(reports)
        for file_report in reports:
            if file_report.error:
                self._error(f"error: {file_report.error}")
                self.failed = True
        self._show(reports)
        self.failed |= not outputs.write_files(args, reports, self.session, self._say, self._error)
        if self.failed:
            return self._end(reports, ExitCode.ERROR)
        found = any(r.outcomes if args.no_verify else r.accepted for r in reports)
        return self._end(reports, ExitCode.FOUND if args.check and found else ExitCode.OK)

    def _end(self, reports: Sequence[FileReport], code: ExitCode) -> int:
        self.session.end(reports, int(code), written=len(self.written))
        return int(code)

    def _error(self, message: str) -> None:
        self.err.print(f"{COMMAND}: {message}", markup=False)

    def _say(self, message: str) -> None:
        if not self.args.quiet:
            self.human.print(f"{COMMAND}: {message}", markup=False)

    def _files(self) -> list[Path] | None:
        """The files to work on, or None after a one-line error."""
        config = self.config
        tests = None if config.include_tests else PytestFiles.for_project(config.root)
        found = discover(self.args.paths, config.exclude, tests, config.root)
        files, skipped_tests = found.files, found.test_files_skipped
        if self.args.staged and tests is not None:
            # pre-commit names every staged file: that is no choice of the user's.
            staged_tests = [f for f in files if tests.is_test_in_project(f, config.root)]
            files = [f for f in files if f not in staged_tests]
            skipped_tests += len(staged_tests)
        self.named = {path for path in self.args.paths if not path.is_dir()}
        self.session.skipped = Skipped(test_files=skipped_tests)
        for message in found.errors:
            self._error(f"error: {message}")
        self.failed |= bool(found.errors)
        for path in self.args.paths:
            if path.is_dir() and not any(path in f.parents for f in files):
                only_tests = " (only test code: --include-tests examines it)" * bool(
                    found.test_files_skipped
                )
                self._error(f"warning: {path}: no Python files found{only_tests}")
        if self.args.staged:  # the pre-commit hook: only functions the commit changes
            try:
                self.scope = changes.staged_functions(files)
            except changes.GitError as error:
                self._error(f"error: --staged: {error}")
                return None
            files = list(self.scope)
        if self.args.top:  # only the hottest functions of the traced run
            hot = _hottest(files, self.config, self.args.top)
            self._say_chosen(hot)
            self.scope = {}
            for chosen in hot:
                self.scope[chosen.path] = (*self.scope.get(chosen.path, ()), chosen.qualname)
            files = list(self.scope)
        return files

    def _say_chosen(self, hot: Sequence[_Hot]) -> None:
        """`--top`: which functions, before the work on them starts."""
        if self.args.quiet:
            return
        listed = ", ".join(f"{h.label} {_percent(h.share)}" for h in hot) or "none in these files"
        where = self.err if outputs.stdout_is_machine(self.args) else self.out
        where.print(f"{COMMAND}: top {self.args.top} of the traced workload: {listed}",
                    markup=False)  # fmt: skip

    def _without_newer_python(self, reports: list[FileReport]) -> list[FileReport]:
        """Files a walk found that need a newer Python are skipped with a note, not errors:
        their code is fine, this interpreter cannot run it. A file named on the command
        line stays an error (exit 2), as any file that cannot be read."""
        kept: list[FileReport] = []
        newer: list[tuple[str, str]] = []
        for file_report in reports:
            needs = newer_python_reason(file_report.error or "")
            if needs is None or file_report.path in self.named:
                kept.append(file_report)
                continue
            newer.append((str(file_report.path), needs))
            if not self.args.quiet:
                self._error(f"note: skipped {file_report.error}")
        self.session.skipped = dataclasses.replace(self.session.skipped, newer_python=tuple(newer))
        return kept

    def _scan(self, files: list[Path]) -> list[FileReport] | None:
        config = self.config
        cache = None
        if not self.args.no_cache:
            cache = ScanCache.for_project(
                config.root, config.select, config.ignore, config.max_file_bytes
            )
        reports = scan_files(files, config, self.session.jobs, cache)
        if not self._functions_exist({name for r in reports for name in r.functions}, reports):
            return None
        narrowed = [self._narrowed(r) for r in reports]
        for file_report in narrowed:  # no candidate events: nothing was judged
            self.session.log.file(file_report, written=False)
        return narrowed

    def _narrowed(self, report: FileReport) -> FileReport:
        """--no-verify scans whole files; --function, --top and --shard narrow what it reports."""
        path = report.path
        outcomes = tuple(o for o in report.outcomes if self._in_scope(path, o.candidate.function))
        functions = tuple(f for f in report.functions if self._in_scope(path, f))
        return dataclasses.replace(report, outcomes=outcomes, functions=functions)

    def _in_scope(self, path: Path, function: str) -> bool:
        shard = self.session.shard
        wanted = self.args.function or (self.scope.get(path, ()) if self.args.top else ())
        unit = function.split(f".{LOCALS}.")[0]  # a nested function goes with its unit
        return (not wanted or function in wanted or unit in wanted) and (
            shard is None or shard.owns(path, function, self.config.root)
        )

    def _functions_exist(self, known: set[str], reports: Sequence[FileReport]) -> bool:
        """False (after a one-line error) when a --function name matches nothing."""
        if not self.args.function or any(r.error for r in reports):
            return True  # an unreadable file may hold the function: its error is enough
        try:
            check_functions(self.args.function, known)
        except ConfigError as error:
            self._error(f"error: {error}")
            return False
        return True

    def _optimize(self, files: list[Path]) -> list[FileReport] | None:
        args = self.args
        plans, failed = self.session.plan(
            files, lambda path: args.function or self.scope.get(path, ())
        )
        known = {info.qualname for plan in plans for info in plan.parsed.functions}
        if not self._functions_exist(known, failed):
            return None
        cache = None if args.no_cache else VerdictCache.for_project(self.config)
        finished = self.session.work(plans, self._decided, cache, self._llm_stage())
        order = {path: index for index, path in enumerate(files)}
        return sorted([*failed, *finished], key=lambda r: order.get(r.path, len(order)))

    def _decided(self, file_report: FileReport) -> bool:
        """Write a finished file at once under --write; True when it was written."""
        if not self.args.write or file_report.new_text is None or file_report.source is None:
            return False
        try:
            write_atomically(file_report.source, file_report.new_text)
        except (WriteRefused, OSError) as error:
            self._error(f"error: {error}")
            self.failed = True
            return False
        self.written.add(file_report.path)
        return True

    def _llm_stage(self) -> LLMStage | None:
        from pipeline.llm.stage import start_llm  # the openai SDK: only on this path

        args = self.args

        def note(message: str) -> None:
            # The offline note is part of the human report (stdout); stderr stays for problems.
            if not (args.quiet or outputs.stdout_is_machine(args)):
                print(f"optimize: {message}")

        def notify(message: str) -> None:  # progress while waiting on the endpoint: stderr
            if not args.quiet:
                self._error(message)

        if self.llm_offline:
            from pipeline.llm.client import OFFLINE_NOTE

            note(OFFLINE_NOTE)
            return None
        return start_llm(self.config, None, self._error, note, notify=notify)

    def _show(self, reports: list[FileReport]) -> None:
        args = self.args
        totals = Totals.of(reports)
        if outputs.print_machine_output(args, reports, self.session, self.written):
            self.human = self.err  # the summary must not corrupt machine output on stdout
        elif args.quiet:
            pass
        elif args.no_verify:
            _print_unverified(self.out, reports)
        else:
            report.print_terminal(self.out, reports, show_rejected=args.verbose)
        if args.quiet:
            return
        skipped = self.session.skipped.lines()
        if args.no_verify:
            for line in skipped:
                self.human.print(line, markup=False)
            return
        lines = summary_lines(totals, self.session.elapsed, wrote=args.write, verbose=args.verbose)
        extra = [report.llm_summary(reports, args.verbose), report.workload_summary(reports)]
        for line in [*lines, *skipped, *filter(None, extra)]:
            self.human.print(line, markup=False)


def _percent(share: float) -> str:
    return "<0.1%" if 0 < share < 0.001 else f"{share:.1%}"


def _endpoint_configured(config: Config) -> bool:
    from pipeline.llm.client import endpoint  # the LLM modules: only when the stage is wanted

    return endpoint(config.llm).configured


def _print_unverified(out: Console, reports: list[FileReport]) -> None:
    found = [(r.path, o.candidate) for r in reports for o in r.outcomes]
    for path, candidate in found:
        out.print(f"{path}:{candidate.lineno} {candidate.function}: {candidate.label} "
                  "(unverified)", markup=False)  # fmt: skip
    out.print(f"{len(found)} unverified candidate(s) in {len(reports)} file(s)", markup=False)
