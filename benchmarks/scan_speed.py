"""Scan speed: `python -m benchmarks.scan_speed [--sample N] [--jobs N]`.

Times `optimize --check --no-verify --no-llm --jobs N` over stdlib files (a
real subprocess, end to end) and plain `ast.parse` of the same files, in the
same run, and reports lines/s for both and their ratio. The target is
100k lines/s.

It also reports the prefilter: how many module-level functions (and their
lines) survive each pass's `triggers` and `may_match_ast`, because only those
get a libcst parse, and libcst plus the passes is where the time goes.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from benchmarks.stdlib_run import sample, stdlib_files
from pipeline.config import Config
from pipeline.stages.analyze import analyze
from pipeline.stages.orchestrate import selected_passes
from pipeline.stages.parse import InputError, parse_tree, read_source

TARGET_LINES_PER_SECOND = 100_000


def count_lines(files: Sequence[Path]) -> int:
    return sum(path.read_bytes().count(b"\n") for path in files)


def time_ast_parse(files: Sequence[Path]) -> float:
    start = time.perf_counter()
    for path in files:
        with contextlib.suppress(SyntaxError, ValueError):  # deliberately broken test files
            ast.parse(path.read_bytes())
    return time.perf_counter() - start


def time_optimize_scan(files: Sequence[Path], jobs: int) -> tuple[float, int]:
    """Wall seconds of the real CLI, and its exit code."""
    command = [sys.executable, "-m", "pipeline", "--check", "--no-verify", "--no-llm",
               "--quiet", "--jobs", str(jobs), *map(str, files)]  # fmt: skip
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, check=False)
    return time.perf_counter() - start, done.returncode


def prefilter_survivors(files: Sequence[Path]) -> tuple[int, int, int, Counter[str]]:
    """Functions, their lines, and how many of each go on to a libcst parse (per pass)."""
    passes = selected_passes(Config())
    functions = kept = kept_lines = 0
    per_pass: Counter[str] = Counter()
    for path in files:
        try:
            parsed, tree = parse_tree(read_source(path, 10**8))
        except InputError:
            continue
        for fact in analyze(parsed, passes, tree):
            functions += 1
            per_pass.update(fact.applicable_passes)
            if fact.applicable_passes:
                kept += 1
                kept_lines += fact.info.end_lineno - fact.info.lineno + 1
    return functions, kept, kept_lines, per_pass


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scan_speed", description=__doc__)
    parser.add_argument("--sample", type=int, metavar="N", help="only N evenly spread files")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, metavar="N")
    args = parser.parse_args(argv)
    files = sample(stdlib_files(), args.sample)
    lines = count_lines(files)
    ast_seconds = time_ast_parse(files)
    scan_seconds, exit_code = time_optimize_scan(files, args.jobs)
    functions, kept, kept_lines, per_pass = prefilter_survivors(files)
    ast_rate, scan_rate = lines / ast_seconds, lines / scan_seconds
    print(f"files: {len(files)}, lines: {lines}, jobs: {args.jobs}, cpus: {os.cpu_count()}")
    print(f"ast.parse:                       {ast_rate:>10,.0f} lines/s ({ast_seconds:.2f} s)")
    print(f"optimize --check --no-verify:    {scan_rate:>10,.0f} lines/s ({scan_seconds:.2f} s, "
          f"exit {exit_code})")  # fmt: skip
    print(f"ratio to ast.parse:              {scan_rate / ast_rate:10.4f}")
    met = "met" if scan_rate >= TARGET_LINES_PER_SECOND else "NOT met"
    print(f"target {TARGET_LINES_PER_SECOND:,} lines/s:          {met}")
    print(f"prefilter keeps {kept}/{functions} module-level functions ({kept_lines} lines) "
          "for a libcst parse; functions kept per pass:")  # fmt: skip
    for code, count in sorted(per_pass.items(), key=lambda item: -item[1]):
        print(f"  {code}: {count}")
    return 0 if exit_code in (0, 1) else 2


if __name__ == "__main__":
    sys.exit(main())
