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
import fnmatch
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from pipeline import changes
from pipeline.cache import VerdictCache
from pipeline.config import DEFAULT_EXCLUDE, Config, ConfigError, load_config
from pipeline.model import FileReport
from pipeline.report import github as github_annotations
from pipeline.report import markdown, sarif
from pipeline.report.findings import Finding, collect
from pipeline.stages.orchestrate import optimize_file

EXIT_OK, EXIT_FOUND, EXIT_ERROR = 0, 1, 2
REVIEW_MIN_SPEEDUP = 1.2
DEFAULT_MAX_SUGGESTIONS = 10


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="optimize review",
        description="Verified speedups for the functions changed since the merge base of REF.",
        epilog="Exit codes: 0 nothing found (or --exit-zero), 1 speedups found, 2 error.",
    )
    parser.add_argument("paths", nargs="*", type=Path, help="only changed files under these")
    parser.add_argument("--base", required=True, metavar="REF", help="e.g. origin/main")
    parser.add_argument("--sarif", type=Path, metavar="FILE", help="write a SARIF 2.1.0 log")
    parser.add_argument("--markdown", type=Path, metavar="FILE", help="write a Markdown summary")
    parser.add_argument("--min-speedup", type=float, default=REVIEW_MIN_SPEEDUP, metavar="X",
                        help=f"acceptance floor (default {REVIEW_MIN_SPEEDUP})")  # fmt: skip
    parser.add_argument("--max-suggestions", type=int, default=DEFAULT_MAX_SUGGESTIONS,
                        metavar="N", help="report at most N, biggest first")  # fmt: skip
    parser.add_argument("--select", metavar="CODES", help="comma-separated pass codes or prefixes")
    parser.add_argument("--ignore", metavar="CODES", help="comma-separated pass codes to skip")
    parser.add_argument("--exit-zero", action="store_true", help="advisory: exit 0 on findings")
    parser.add_argument("--no-cache", action="store_true", help="do not reuse cached verdicts")
    parser.add_argument("-q", "--quiet", action="store_true", help="print only errors")
    return parser


def main(argv: Sequence[str]) -> int:
    args = build_parser().parse_args(argv)
    try:
        root = changes.repository_root(Path.cwd())
        config = _config(args, root)
        scope = _in_scope(changes.functions_since(root, args.base), args.paths, config)
    except (changes.GitError, ConfigError) as error:
        print(f"optimize review: error: {error}", file=sys.stderr)
        return EXIT_ERROR
    cache = None if args.no_cache else VerdictCache.for_project(config)
    reports = [
        optimize_file(path, config, functions=names, cache=cache) for path, names in scope.items()
    ]
    failed = _print_errors(reports)
    findings = collect(reports, root, args.max_suggestions)
    if not args.quiet:
        _print_findings(findings, sum(len(names) for names in scope.values()))
    if os.environ.get("GITHUB_ACTIONS") == "true":
        sys.stdout.write(github_annotations.workflow_commands(findings))
    failed |= not _write_outputs(args, findings)
    if failed:
        return EXIT_ERROR
    return EXIT_FOUND if findings and not args.exit_zero else EXIT_OK


def _config(args: argparse.Namespace, root: Path) -> Config:
    def codes(text: str | None) -> tuple[str, ...] | None:
        return tuple(c.strip().upper() for c in text.split(",") if c.strip()) if text else None

    return load_config(root).replace(
        min_speedup=args.min_speedup, select=codes(args.select), ignore=codes(args.ignore)
    )


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
            print(f"optimize review: error: {report.error}", file=sys.stderr)
            failed = True
    return failed


def _print_findings(findings: Sequence[Finding], functions: int) -> None:
    for finding in findings:
        print(f"{finding.path}:{finding.span[0]}: {finding.rule} {finding.message}")
    print(f"{len(findings)} verified speedup(s) in {functions} changed function(s)")


def _write_outputs(args: argparse.Namespace, findings: Sequence[Finding]) -> bool:
    summary = markdown.summary(findings)
    writes: list[tuple[Path, str, str]] = []
    if args.sarif:
        writes.append((args.sarif, "w", sarif.dumps(findings)))
    if args.markdown:
        writes.append((args.markdown, "w", summary))
    step_summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if step_summary:
        writes.append((Path(step_summary), "a", summary))
    ok = True
    for path, mode, text in writes:
        try:
            with path.open(mode, encoding="utf-8") as handle:
                handle.write(text)
        except OSError as error:
            print(f"optimize review: error: {path}: {error.strerror}", file=sys.stderr)
            ok = False
    return ok
