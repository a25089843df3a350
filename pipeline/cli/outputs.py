"""Where a run's results go: stdout (one format at most) and files (HTML, SARIF, Markdown).

`-` as a file name means stdout. Only one output may use stdout, so that what
arrives there is always parseable; the human summary then goes to stderr.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Collection, Sequence
from pathlib import Path
from typing import Any

from pipeline import changes
from pipeline.cli.session import Session
from pipeline.config import ConfigError
from pipeline.model import FileReport
from pipeline.report import html as html_report
from pipeline.report import markdown, sarif
from pipeline.report import terminal as report
from pipeline.report.findings import Finding, collect
from pipeline.report.summary import Totals

STDOUT = Path("-")
Say = Callable[[str], None]


def add_file_outputs(parser: argparse.ArgumentParser) -> None:
    sarif_help = "write accepted rewrites as a SARIF 2.1.0 log (- for stdout)"
    parser.add_argument("--sarif", type=Path, metavar="FILE", help=sarif_help)
    markdown_help = "write a Markdown summary (- for stdout)"
    parser.add_argument("--markdown", type=Path, metavar="FILE", help=markdown_help)


def _stdout_users(args: argparse.Namespace) -> list[str]:
    users = [flag for flag in ("json", "diff") if getattr(args, flag, False)]
    users += [f"{flag} -" for flag in ("sarif", "markdown") if getattr(args, flag, None) == STDOUT]
    return [f"--{user}" for user in users]


def check_single_stdout(args: argparse.Namespace) -> None:
    users = _stdout_users(args)
    if len(users) > 1:
        raise ConfigError(f"{' and '.join(users)} would both write to stdout; choose one")


def stdout_is_machine(args: argparse.Namespace) -> bool:
    return bool(_stdout_users(args))


def run_json(session: Session, reports: Sequence[FileReport]) -> dict[str, Any]:
    """What `--json` says about the run as a whole, next to the per-file results."""
    return {
        **session.environment,
        "totals": Totals.of(reports).to_json(),
        "skipped": session.skipped.to_json(),
        "wall_seconds": round(session.elapsed, 3),
    }


def print_machine_output(
    args: argparse.Namespace,
    reports: Sequence[FileReport],
    session: Session,
    written: Collection[Path],
) -> bool:
    """Print the one machine-readable output that owns stdout; False when there is none."""
    if args.json:
        print(report.to_json(reports, run_json(session, reports), written))
    elif args.diff:
        for file_report in reports:
            if args.no_verify:
                sys.stdout.write(scan_diff(file_report))
            elif file_report.new_text is not None:
                sys.stdout.write(
                    report.unified_diff(
                        str(file_report.path), file_report.original_text, file_report.new_text
                    )
                )
    elif args.sarif == STDOUT:
        sys.stdout.write(sarif.dumps(_findings(reports)))
    elif args.markdown == STDOUT:
        sys.stdout.write(markdown.summary(_findings(reports)))
    else:
        return False
    return True


def scan_diff(file_report: FileReport) -> str:
    """The diff of a scan's file with every finding spliced in, as `--write` would
    splice them had they all been verified."""
    if not file_report.outcomes:
        return ""
    original = file_report.outcomes[0].candidate.original_code
    found = [outcome.candidate for outcome in file_report.outcomes]
    import libcst as cst  # libcst and the stages: only for findings to splice in

    from pipeline.stages.orchestrate import apply_accepted

    after = apply_accepted(cst.parse_module(original), found)
    return report.unified_diff(str(file_report.path), original, after)


def write_files(
    args: argparse.Namespace,
    reports: Sequence[FileReport],
    session: Session,
    say: Say,
    error: Say,
) -> bool:
    """The --report/--sarif/--markdown files; says where each went. False if one failed."""
    writes: list[tuple[Path, str, str]] = []
    if args.report is not None:
        page = html_report.page_from_file_reports(reports, session.environment)
        writes.append((args.report, "HTML report", html_report.render(page)))
    if args.sarif not in (None, STDOUT):
        writes.append((args.sarif, "SARIF log", sarif.dumps(_findings(reports))))
    if args.markdown not in (None, STDOUT):
        writes.append((args.markdown, "Markdown summary", markdown.summary(_findings(reports))))
    return all(write_text(path, what, text, say, error) for path, what, text in writes)


def write_text(path: Path, what: str, text: str, say: Say, error: Say, mode: str = "w") -> bool:
    """Write `text` to `path` (stdout for `-`) and say so; False after a one-line error."""
    if path == STDOUT:
        sys.stdout.write(text)
        return True
    try:
        with path.open(mode, encoding="utf-8") as handle:
            handle.write(text)
    except OSError as failure:
        error(f"error: {path}: cannot write the {what}: {failure.strerror}")
        return False
    say(f"wrote the {what} to {path}")
    return True


def _findings(reports: Sequence[FileReport]) -> list[Finding]:
    try:
        root = changes.repository_root(Path.cwd())
    except changes.GitError:
        root = Path.cwd().resolve()
    return collect(reports, root, None)
