"""`python -m benchmarks [--quick] [--out DIR] [--compare old.json] [--update-readme]`."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks import harness, markdown_report

RESULTS_DIR = Path(__file__).with_name("results")
# Both READMEs quote the headline of the latest full run between the same markers.
READMES = (Path(__file__).with_name("README.md"), Path(__file__).parent.parent / "README.md")
EXIT_OK, EXIT_WRONG, EXIT_ERROR = 0, 1, 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Run optimize and the Ruff baseline over the benchmark corpus and report.",
        epilog="Exit codes: 0 ok, 1 optimize produced a wrong output, 2 bad usage.",
    )
    parser.add_argument(
        "--quick", action="store_true", help="a small subset, one size, few samples (CI smoke run)"
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=RESULTS_DIR,
        metavar="DIR",
        help="where to write results.json, report.md, report.html",
    )
    parser.add_argument(
        "--compare",
        type=Path,
        metavar="OLD_JSON",
        help="print deltas against an earlier results.json",
    )
    parser.add_argument(
        "--function",
        action="append",
        default=[],
        metavar="MODULE.NAME",
        help="only this corpus function (repeatable)",
    )
    parser.add_argument(
        "--update-readme",
        action="store_true",
        help="write the headline of this run into README.md and benchmarks/README.md",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    old = _load(args.compare) if args.compare else None
    if args.compare and old is None:
        return EXIT_ERROR
    only = [tuple(spec.split(".", 1)) for spec in args.function] or None
    if only and any(len(pair) != 2 for pair in only):
        print("benchmarks: error: --function takes MODULE.NAME", file=sys.stderr)
        return EXIT_ERROR
    settings = harness.Settings.quick_run() if args.quick else harness.Settings.full()
    log = lambda line: print(line, file=sys.stderr, flush=True)  # noqa: E731
    results = harness.run(settings, only=only, log=log)  # type: ignore[arg-type]
    if not results["functions"]:
        print("benchmarks: error: no corpus function matched", file=sys.stderr)
        return EXIT_ERROR
    written = write_reports(results, args.out)
    print(markdown_report.headline_markdown(results))
    for path in written:
        print(f"wrote {path}")
    if old is not None:
        print("\n".join(harness.compare(old, results)))
    if args.update_readme:
        for readme in READMES:
            markdown_report.update_readme(readme, results)
            print(f"updated {readme}")
    return EXIT_WRONG if results["headline"]["optimize_wrong_outputs"] else EXIT_OK


def write_reports(results: dict[str, Any], out: Path) -> list[Path]:
    return markdown_report.write_report_files(
        out, results, markdown_report.render(results), markdown_report.page(results)
    )


def _load(path: Path) -> dict[str, Any] | None:
    try:
        loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        print(f"benchmarks: error: cannot read {path}: {error}", file=sys.stderr)
        return None
    if loaded.get("schema") != harness.SCHEMA_VERSION or "headline" not in loaded:
        print(f"benchmarks: error: {path} is not a benchmarks results.json", file=sys.stderr)
        return None
    return loaded


if __name__ == "__main__":
    sys.exit(main())
