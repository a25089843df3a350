"""`optimize review --base REF`: the CI code-review step.

Analyses only the functions and methods added or changed since the merge base
of REF and HEAD, then reports the verified speedups as GitHub annotations, a
SARIF 2.1.0 log and a Markdown summary. To keep the noise down, the speedup
floor is higher than in `--check` (1.2x), the number of suggestions is capped,
and verdicts come from the content-hash cache, so a re-run repeats the same
findings with the same numbers instead of re-timing them.
"""

from __future__ import annotations

import argparse
import dataclasses
import fnmatch
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

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
)
from pipeline.cli.session import Session
from pipeline.config import DEFAULT_EXCLUDE, Config, ConfigError, load_config
from pipeline.model import FileReport
from pipeline.report import github as github_annotations
from pipeline.report import markdown, sarif
from pipeline.report.findings import Finding, collect
from pipeline.report.summary import Skipped
from pipeline.testcode import PytestFiles

COMMAND = "optimize review"
REVIEW_MIN_SPEEDUP = 1.2
DEFAULT_MAX_SUGGESTIONS = 10


def add_parser(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "review",
        help="verified speedups for the functions changed since a base ref (CI)",
        description="Verified speedups for the functions changed since the merge base of REF.",
        epilog="Exit codes: 0 nothing found (or --exit-zero), 1 speedups found, 2 error.",
    )
    parser.add_argument("paths", nargs="*", type=Path, help="only changed files under these")
    parser.add_argument("--base", required=True, metavar="REF", help="e.g. origin/main")
    outputs.add_file_outputs(parser)
    parser.add_argument("--min-speedup", type=min_speedup, default=REVIEW_MIN_SPEEDUP, metavar="X",
                        help=f"acceptance floor (default {REVIEW_MIN_SPEEDUP})")  # fmt: skip
    parser.add_argument("--max-suggestions", type=int, default=DEFAULT_MAX_SUGGESTIONS,
                        metavar="N", help="report at most N, biggest first")  # fmt: skip
    add_pass_selection(parser)
    add_scale_out(parser)
    parser.add_argument("--exit-zero", action="store_true", help="advisory: exit 0 on findings")
    parser.add_argument("--no-cache", action="store_true", help="do not reuse cached verdicts")
    parser.add_argument("--include-tests", action="store_true", default=None,
                        help="also review changed test code (tests/, test_*.py, "
                             "conftest.py)")  # fmt: skip
    parser.add_argument("-q", "--quiet", action="store_true", help="print only errors")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    try:
        outputs.check_single_stdout(args)
        root = changes.repository_root(Path.cwd())
        config = _config(args, root)
        check_codes(args, config)
        changed = changes.functions_since(root, args.base)
        scope = _in_scope(changed, args.paths, config)
        named = {path.resolve() for path in args.paths if not path.is_dir()}
        tests = {path for path in _test_code(scope, root, config) if path.resolve() not in named}
        scope = {path: names for path, names in scope.items() if path not in tests}
    except (changes.GitError, ConfigError) as error:
        return fail(COMMAND, str(error))
    # With `--sarif -` or `--markdown -`, stdout carries that output and nothing else.
    human = sys.stderr if outputs.stdout_is_machine(args) else sys.stdout
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    session = Session(config, sys.argv, err, jobs=args.jobs or 1, shard=args.shard,
                      quiet=args.quiet, settings={"mode": "review", "base": args.base})  # fmt: skip
    session.skipped = Skipped(test_files=len(tests))
    plans, failed = session.plan(list(scope), lambda path: scope[path])
    cache = None if args.no_cache else VerdictCache.for_project(config)
    reports = [*failed, *session.work(plans, lambda _: False, cache)]
    errors = _print_errors(reports)
    findings = collect(reports, root, args.max_suggestions)
    if not args.quiet:
        _print_findings(findings, sum(len(plan.facts) for plan in plans), human)
    if os.environ.get("GITHUB_ACTIONS") == "true":  # the runner reads both streams
        human.write(github_annotations.workflow_commands(findings))
    errors |= not _write_outputs(args, findings, human)
    code = ExitCode.ERROR if errors else ExitCode.OK
    if findings and not errors and not args.exit_zero:
        code = ExitCode.FOUND
    session.end(reports, int(code))
    return int(code)


def _config(args: argparse.Namespace, root: Path) -> Config:
    config = load_config(root)
    return config.replace(
        min_speedup=args.min_speedup,
        select=codes(args.select),
        ignore=codes(args.ignore),
        include_tests=args.include_tests,
        llm=dataclasses.replace(config.llm, enabled=False),  # review asks no model
    )


def _test_code(scope: dict[Path, tuple[str, ...]], root: Path, config: Config) -> set[Path]:
    """The changed files that are test code (`pipeline.testcode`), unless tests are included."""
    if config.include_tests:
        return set()
    tests = PytestFiles.for_project(config.root)
    return {path for path in scope if tests.is_test_in_project(path, root)}


def _in_scope(
    changed: dict[Path, tuple[str, ...]], paths: Sequence[Path], config: Config
) -> dict[Path, tuple[str, ...]]:
    """Changed files under the given paths (all when none), minus excluded names."""
    patterns = (*DEFAULT_EXCLUDE, *config.exclude)
    roots = [p.resolve() for p in paths]
    return {
        path: names
        for path, names in changed.items()
        if (not roots or any(path == r or r in path.parents for r in roots))
        and not any(fnmatch.fnmatch(part, pattern) for part in path.parts for pattern in patterns)
    }


def _print_errors(reports: Sequence[FileReport]) -> bool:
    failed = False
    for report in reports:
        if report.error:
            print(f"{COMMAND}: error: {report.error}", file=sys.stderr)
            failed = True
    return failed


def _print_findings(findings: Sequence[Finding], functions: int, human: Any) -> None:
    for finding in findings:
        print(f"{finding.path}:{finding.span[0]}: {finding.rule} {finding.message}", file=human)
    print(f"{len(findings)} verified speedup(s) in {functions} changed function(s)", file=human)


def _write_outputs(args: argparse.Namespace, findings: Sequence[Finding], human: Any) -> bool:
    summary = markdown.summary(findings)
    writes: list[tuple[Path, str, str, str]] = []
    if args.sarif:
        writes.append((args.sarif, "SARIF log", sarif.dumps(findings), "w"))
    if args.markdown:
        writes.append((args.markdown, "Markdown summary", summary, "w"))
    step_summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if step_summary:
        writes.append((Path(step_summary), "step summary", summary, "a"))

    def say(message: str) -> None:
        if not args.quiet:
            print(f"{COMMAND}: {message}", file=human)

    def error(message: str) -> None:
        print(f"{COMMAND}: {message}", file=sys.stderr)

    return all(
        [
            outputs.write_text(path, what, text, say, error, mode)
            for path, what, text, mode in writes
        ]
    )
