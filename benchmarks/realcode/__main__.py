"""`python -m benchmarks.realcode [--quick] [--llm | --scripted-llm] [--packages a,b] [--out DIR]
[--cache DIR]`."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.markdown_report import write_report_files
from benchmarks.realcode import harness, report, scripted
from benchmarks.realcode.packages import UnknownPackage, select

RESULTS_DIR = Path(__file__).parent.parent / "results" / "realcode"
READMES = (Path(__file__).with_name("README.md"), Path(__file__).parents[2] / "README.md")
EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.realcode",
        description="Real PyPI libraries: test, trace, optimize --write, test again, time.",
        epilog="Exit codes: 0 ok, 1 a wrong output or a package that failed, 2 bad usage.",
    )
    parser.add_argument("--quick", action="store_true", help="3 small packages, --top 10")
    parser.add_argument(
        "--llm", action="store_true", help="also let optimize ask its LLM (needs OPENAI_BASE_URL)"
    )
    parser.add_argument(
        "--scripted-llm",
        action="store_true",
        help="the LLM path on the packages with a script (scripted.py), against a scripted "
        "endpoint: right and subtly wrong proposals for a few hot functions",
    )
    parser.add_argument("--packages", default="", metavar="A,B", help="only these packages")
    parser.add_argument(
        "--out", type=Path, default=RESULTS_DIR, metavar="DIR", help="where the reports go"
    )
    parser.add_argument(
        "--cache",
        type=Path,
        default=harness.DEFAULT_CACHE,
        metavar="DIR",
        help="sdists, unpacked copies and work copies (default ~/.cache/optimize-realcode)",
    )
    parser.add_argument(
        "--from-json",
        type=Path,
        metavar="FILE",
        help="run nothing: rebuild the reports (and READMEs) from a results.json",
    )
    parser.add_argument(
        "--update-readme",
        action="store_true",
        help="write this run's headline into README.md and benchmarks/realcode/README.md",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    names = tuple(n.strip() for n in args.packages.split(",") if n.strip())
    if args.scripted_llm and args.llm:
        print("benchmarks.realcode: error: --llm and --scripted-llm exclude each other",
              file=sys.stderr)  # fmt: skip
        return EXIT_USAGE
    if args.scripted_llm and not names:
        names = tuple(scripted.SCRIPTS)
    try:
        packages = select(names, args.quick)
    except UnknownPackage as error:
        print(f"benchmarks.realcode: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    if args.llm and not (os.environ.get("OPENAI_BASE_URL") or os.environ.get("OPENAI_API_KEY")):
        print("benchmarks.realcode: error: --llm needs OPENAI_BASE_URL", file=sys.stderr)
        return EXIT_USAGE
    if args.from_json:
        try:
            results = json.loads(args.from_json.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            print(f"benchmarks.realcode: error: {args.from_json}: {error}", file=sys.stderr)
            return EXIT_USAGE
    else:
        settings = harness.Settings.for_run(
            args.quick, args.llm, args.cache.expanduser(), args.scripted_llm
        )
        results = harness.run(packages, settings, log=lambda line: print(line, file=sys.stderr))
    for path in write_reports(results, args.out):
        print(f"wrote {path}")
    print(report.headline_markdown(results))
    if args.update_readme:
        for readme in READMES:
            report.update_readme(readme, results)
            print(f"updated {readme}")
    h = results["headline"]
    return EXIT_FAILED if h["wrong_outputs"] or h["packages_failed"] else EXIT_OK


def write_reports(results: dict[str, Any], out: Path) -> list[Path]:
    return write_report_files(out, results, report.render(results), report.page(results))


if __name__ == "__main__":
    sys.exit(main())
