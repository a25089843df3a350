"""`optimize`: find, verify and time faster versions of your Python functions."""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn

from passes import by_code
from pipeline import changes
from pipeline.cache import VerdictCache
from pipeline.cli import review
from pipeline.config import Config, ConfigError, load_config
from pipeline.discover import discover
from pipeline.llm.stage import LLMStage, start_llm
from pipeline.model import FileReport
from pipeline.report import html as html_report
from pipeline.report import terminal as report
from pipeline.sandbox.isolation import ISOLATION_WARNING, Isolation, best_isolation
from pipeline.stages.orchestrate import optimize_file, scan_files, selected_passes
from pipeline.workload import StoreError, default_store, workload_for
from pipeline.writeback import WriteRefused, write_atomically

EXIT_OK, EXIT_FOUND, EXIT_ERROR = 0, 1, 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="optimize",
        description=(
            "Propose faster versions of your functions, prove each one equivalent with "
            "Hypothesis in a sandbox, time it, and keep only verified speedups."
        ),
        epilog=(
            "Also: `optimize verify A.py::f B.py::g` checks two functions for equivalence; "
            "`optimize review --base REF` reviews changed functions for CI (SARIF, Markdown). "
            "Exit codes: 0 nothing to do or done, 1 --check found speedups, 2 error."
        ),
    )
    parser.add_argument("paths", nargs="*", type=Path, help="files or directories")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--write", action="store_true", help="apply accepted rewrites in place")
    mode.add_argument("--check", action="store_true", help="exit 1 if any speedup is found")
    mode.add_argument("--diff", action="store_true", help="print only the unified diff")
    mode.add_argument("--json", action="store_true", help="print a machine-readable report")
    parser.add_argument("--select", metavar="CODES", help="comma-separated pass codes or prefixes")
    parser.add_argument("--ignore", metavar="CODES", help="comma-separated pass codes to skip")
    parser.add_argument("--function", action="append", default=[], metavar="NAME",
                        help="only optimise this function (repeatable)")  # fmt: skip
    parser.add_argument("--min-speedup", type=float, metavar="X",
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
    parser.add_argument("--llm-max-tokens", type=_token_count, metavar="N",
                        help="stop asking the LLM once N tokens are used in this run "
                             "(default from [tool.optimize.llm] token_budget: no cap)")  # fmt: skip
    parser.add_argument("--llm-time-budget", type=_seconds, metavar="SECONDS",
                        help="stop asking the LLM after this long waiting on it in this run "
                             "(default from [tool.optimize.llm] time_budget: 600)")  # fmt: skip
    parser.add_argument("--no-verify", action="store_true",
                        help="detect and transform only: report unverified candidates, "
                             "never write (a fast scan)")  # fmt: skip
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, metavar="N",
                        help="processes for the --no-verify scan (default: CPU count)")  # fmt: skip
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
    parser.add_argument("--top", type=_positive, metavar="N",
                        help="optimise only the N functions that take most of the traced "
                             "run's time")  # fmt: skip
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return _main(argv)
    except KeyboardInterrupt:
        # Writes are atomic, so an interrupted run leaves every file old or new.
        print("optimize: interrupted", file=sys.stderr)
        return 130


def _main(argv: Sequence[str] | None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments[:1] == ["review"]:
        return review.main(arguments[1:])
    if arguments[:1] == ["verify"]:  # `optimize verify A.py::f B.py::g`
        from pipeline.cli import verify as verify_cli

        return verify_cli.main(arguments[1:])
    if arguments[:1] == ["trace"]:  # `optimize trace app.py ARGS` / `optimize trace -m pytest`
        from pipeline.cli import trace as trace_cli

        return trace_cli.main(arguments[1:])
    args = build_parser().parse_args(arguments)
    out = Console(highlight=False, soft_wrap=True)
    err = Console(stderr=True, highlight=False)
    if args.list_passes:
        for pass_class in selected_passes(Config()):
            print(f"{pass_class.code}  {pass_class.name:<34} {pass_class.summary}")
        return EXIT_OK
    if args.explain:
        return _explain(out, err, args.explain)
    if not args.paths:
        err.print("optimize: error: no paths given (try `optimize --help`)")
        return EXIT_ERROR
    try:
        config = _with_trace(_config(args), args, err)
    except (ConfigError, StoreError) as error:
        err.print(f"optimize: error: {error}", markup=False, soft_wrap=True)
        return EXIT_ERROR
    return _run(args, config, out, err)


def _with_trace(config: Config, args: argparse.Namespace, err: Console) -> Config:
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
    except StoreError:
        if args.trace is not None or args.top:
            raise
        err.print(f"optimize: warning: ignoring the trace: {sys.exc_info()[1]}", markup=False,
                  soft_wrap=True)  # fmt: skip
        return config
    return chosen


def _explain(out: Console, err: Console, code: str) -> int:
    pass_class = by_code().get(code.upper())
    if pass_class is None:
        err.print(f"optimize: error: unknown pass code {code!r} (see --list-passes)")
        return EXIT_ERROR
    out.print(pass_class.documentation(), highlight=False, markup=False)
    return EXIT_OK


def _config(args: argparse.Namespace) -> Config:
    config = load_config(args.paths[0] if args.paths[0].exists() else Path.cwd())
    return config.replace(
        select=_codes(args.select),
        ignore=_codes(args.ignore),
        min_speedup=args.min_speedup,
        fast=args.fast,
        llm=dataclasses.replace(
            config.llm,
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


def _positive(text: str) -> int:
    value = int(_at_least_zero(text, int))
    if value == 0:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def _token_count(text: str) -> int:
    return int(_at_least_zero(text, int))


def _seconds(text: str) -> float:
    return _at_least_zero(text, float)


def _at_least_zero(text: str, kind: type[int] | type[float]) -> float:
    try:
        value = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, not {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, not {text}")
    return value


def _codes(text: str | None) -> tuple[str, ...] | None:
    return tuple(c.strip().upper() for c in text.split(",") if c.strip()) if text else None


def _run(args: argparse.Namespace, config: Config, out: Console, err: Console) -> int:
    if args.no_verify and args.write:
        err.print("optimize: error: --write refuses unverified code; drop --no-verify")
        return EXIT_ERROR
    files, walk_errors = discover(args.paths, config.exclude)
    scope: dict[Path, tuple[str, ...]] = {}
    if args.staged:  # the pre-commit hook: only functions the commit changes
        try:
            scope = changes.staged_functions(files)
        except changes.GitError as error:
            err.print(f"optimize: error: --staged: {error}", markup=False)
            return EXIT_ERROR
        files = list(scope)
    if args.top:
        scope = _hottest(files, config, args.top)
        files = list(scope)
    for message in walk_errors:
        err.print(f"optimize: error: {message}", markup=False)
    if best_isolation() == Isolation.NONE and not args.quiet:
        err.print(f"optimize: warning: {ISOLATION_WARNING}")
    if args.no_verify:
        reports = scan_files(files, config, max(1, args.jobs))
    else:
        reports = _optimize_all(files, config, args, err, scope)
    failed = bool(walk_errors)
    for file_report in reports:
        if file_report.error:
            err.print(f"optimize: error: {file_report.error}", markup=False, soft_wrap=True)
            failed = True
    if args.write:
        failed |= not _write(reports, err)
    if args.no_verify and not (args.json or args.quiet):
        _print_unverified(out, reports)
    else:
        _print(args, out, reports)
    failed |= not _write_html_report(args.report, reports, err)
    if failed:
        return EXIT_ERROR
    found = any(r.outcomes if args.no_verify else r.accepted for r in reports)
    return EXIT_FOUND if args.check and found else EXIT_OK


def _hottest(files: list[Path], config: Config, count: int) -> dict[Path, tuple[str, ...]]:
    """`--top N`: the N functions with the most own time in the traced run, by file."""
    workload = workload_for(config)
    assert workload is not None  # --top without a trace is refused earlier
    chosen: dict[Path, tuple[str, ...]] = {}
    by_path = {path.resolve(): path for path in files}
    for load in workload.hottest(list(by_path), count):
        path = by_path[load.path]
        chosen[path] = (*chosen.get(path, ()), load.qualname)
    return chosen


def _print_unverified(out: Console, reports: list[FileReport]) -> None:
    found = [(r.path, o.candidate) for r in reports for o in r.outcomes]
    for path, candidate in found:
        out.print(f"{path}:{candidate.lineno} {candidate.function}: {candidate.label} "
                  "(unverified)", markup=False)  # fmt: skip
    out.print(f"{len(found)} unverified candidate(s) in {len(reports)} file(s)", markup=False)


def _optimize_all(
    files: list[Path],
    config: Config,
    args: argparse.Namespace,
    err: Console,
    scope: dict[Path, tuple[str, ...]] | None = None,
) -> list[FileReport]:
    cache = None if args.no_cache else VerdictCache.for_project(config)
    show = err.is_terminal and not args.quiet and not args.json
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), console=err,
                  transient=True, disable=not show) as progress:  # fmt: skip
        task = progress.add_task("optimizing", total=len(files))
        llm = _llm_stage(config, args, err)
        reports = []
        for path in files:
            progress.update(task, description=f"optimizing {path}")
            reports.append(
                optimize_file(
                    path,
                    config,
                    functions=args.function or (scope or {}).get(path, ()),
                    progress=lambda what: progress.update(task, description=f"checking {what}"),
                    cache=cache,
                    llm=llm,
                )
            )
            progress.advance(task)
    return reports


def _llm_stage(config: Config, args: argparse.Namespace, err: Console) -> LLMStage | None:
    def warn(message: str) -> None:
        # The offline note is part of the human report (stdout); stderr stays for problems.
        if not message.startswith("note:"):
            err.print(f"optimize: {message}", markup=False, soft_wrap=True)
        elif not (args.quiet or args.json or args.diff):
            print(f"optimize: {message}")

    def notify(message: str) -> None:  # progress while waiting on the endpoint: stderr
        if not args.quiet:
            err.print(f"optimize: {message}", markup=False, soft_wrap=True)

    return start_llm(config, args.llm, warn, notify=notify)


def _write(reports: list[FileReport], err: Console) -> bool:
    ok = True
    for file_report in reports:
        if file_report.new_text is None or file_report.source is None:
            continue
        try:
            write_atomically(file_report.source, file_report.new_text)
        except (WriteRefused, OSError) as error:
            err.print(f"optimize: error: {error}", markup=False)
            ok = False
    return ok


def _write_html_report(target: Path | None, reports: list[FileReport], err: Console) -> bool:
    if target is None:
        return True
    page = html_report.page_from_file_reports(reports)
    try:
        target.write_text(html_report.render(page), encoding="utf-8")
    except OSError as error:
        err.print(f"optimize: error: --report: {error}", markup=False)
        return False
    return True


def _print(args: argparse.Namespace, out: Console, reports: list[FileReport]) -> None:
    if args.json:
        print(report.to_json(reports))
        return
    if args.diff:
        for file_report in reports:
            if file_report.new_text is not None:
                diff = report.unified_diff(
                    str(file_report.path), file_report.original_text, file_report.new_text
                )
                sys.stdout.write(diff)
        return
    if args.quiet:
        return
    report.print_terminal(out, reports, show_rejected=args.verbose)
    report.print_summary(out, reports, wrote=args.write, verbose=args.verbose)


if __name__ == "__main__":
    sys.exit(main())
