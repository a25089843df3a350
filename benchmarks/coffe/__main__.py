"""`python -m benchmarks.coffe [--quick] [--data DIR] [--llm] [--no-trace] [--out DIR] ...`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.coffe import harness, report
from benchmarks.coffe.data import QUICK_TASKS, DataError, default_data_dir, load_tasks
from benchmarks.markdown_report import write_report_files

RESULTS_DIR = Path(__file__).parent.parent / "results" / "coffe"
READMES = (Path(__file__).parent.parent / "README.md", Path(__file__).parents[2] / "README.md")
EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.coffe",
        description="Run the optimize CLI over COFFE's tasks: write, test, time and report.",
        epilog="Exit codes: 0 ok, 1 a wrong output or a CLI error, 2 bad usage or data.",
    )
    parser.add_argument("--quick", action="store_true", help=f"{len(QUICK_TASKS)} fixed tasks")
    parser.add_argument(
        "--data", type=Path, metavar="DIR", help="the COFFE data (default ../shared/...)"
    )
    parser.add_argument("--llm", action="store_true", help="let optimize use its LLM endpoint")
    parser.add_argument(
        "--trace",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="first run `optimize trace` on a workload of the task's tests (default: on)",
    )
    parser.add_argument(
        "--task", action="append", default=[], metavar="ID", help="only this task (repeatable)"
    )
    parser.add_argument(
        "--out", type=Path, default=RESULTS_DIR, metavar="DIR", help="where the reports go"
    )
    parser.add_argument(
        "--update-readme",
        action="store_true",
        help="write this run's headline into README.md and benchmarks/README.md",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    only = tuple(args.task) or (QUICK_TASKS if args.quick else ())
    try:
        tasks = load_tasks(args.data or default_data_dir(), only)
    except DataError as error:
        print(f"benchmarks.coffe: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    make = harness.Settings.quick_run if args.quick else harness.Settings.full
    settings = make(llm=args.llm, trace=args.trace)
    results = harness.run(tasks, settings, log=lambda line: print(line, file=sys.stderr))
    for path in write_reports(results, args.out):
        print(f"wrote {path}")
    print(report.headline_markdown(results))
    if args.update_readme:
        for readme in READMES:
            report.update_readme(readme, results)
            print(f"updated {readme}")
    failed = results["headline"]["wrong_outputs"] or results["headline"]["cli_errors"]
    return EXIT_FAILED if failed else EXIT_OK


def write_reports(results: dict[str, Any], out: Path) -> list[Path]:
    return write_report_files(out, results, report.render(results), report.page(results))


if __name__ == "__main__":
    sys.exit(main())
