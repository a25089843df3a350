"""Scan speed: `python -m benchmarks.scan_speed [--sample N] [--jobs N] [--runs N]`.

Times the real CLI, end to end in a subprocess (interpreter start included):

- a *cold* scan, `optimize --check --no-verify --no-llm --jobs N` over stdlib
  files with an empty scan cache, and a *warm* one (every file a cache hit);
- `optimize FILE --check --no-llm` (the verifying run) on a ~1,000-line stdlib
  file in which no pass finds anything, with an empty cache;

each `--runs` times, with the load average next to each figure (the machine may
be shared), and `ast.parse` of the same files in-process for scale. It then
checks that the scan's findings are those of a full libcst run (every pass over
every whole file, no prefilter, no stand-in; `--no-full-run` skips this slow
part), and reports how many defs the prefilter sends to libcst.

The CLI runs as an installed tool does: from compiled `.pyc` files (an untimed
run first compiles them; `PYTHONDONTWRITEBYTECODE` is dropped for it).

Goals (issue 17): cold >= 50k lines/s with --jobs 2, warm >= 500k lines/s, the
same findings as the full libcst run, and the no-match file < 0.5 s.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from benchmarks.stdlib_run import sample, stdlib_files
from pipeline.config import Config
from pipeline.stages.analyze import analyze
from pipeline.stages.parse import InputError, parse_tree, read_source

COLD_GOAL = 50_000  # lines/s
WARM_GOAL = 500_000  # lines/s
NO_MATCH_GOAL = 0.5  # seconds
# 990 lines of which the prefilter sends no def to libcst (functools.py, say, has one
# def kept for OPT201 that the pass then declines).
NO_MATCH_FILE = ("asyncio", "tasks.py")
Findings = set[tuple[str, str, tuple[str, ...]]]


def count_lines(files: Sequence[Path]) -> int:
    return sum(path.read_bytes().count(b"\n") for path in files)


def time_ast_parse(files: Sequence[Path]) -> float:
    start = time.perf_counter()
    for path in files:
        with contextlib.suppress(SyntaxError, ValueError):  # deliberately broken test files
            ast.parse(path.read_bytes())
    return time.perf_counter() - start


def _environment(cache: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    return {**env, "OPTIMIZE_CACHE_DIR": str(cache), "NO_COLOR": "1"}


def run_cli(
    args: Sequence[str], cache: Path, cwd: Path
) -> tuple[float, subprocess.CompletedProcess[str]]:
    """Wall seconds of `python -m pipeline ARGS` and the finished process."""
    command = [sys.executable, "-m", "pipeline", *args]
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False, cwd=cwd,
                          env=_environment(cache))  # fmt: skip
    return time.perf_counter() - start, done


def scan_args(files: Sequence[Path], jobs: int) -> list[str]:
    return ["--check", "--no-verify", "--no-llm", "--json", "--jobs", str(jobs), *map(str, files)]


def findings_of(done: subprocess.CompletedProcess[str]) -> Findings:
    report = json.loads(done.stdout)
    return {
        (f["path"], o["function"], tuple(o["rules"]))
        for f in report["files"]
        for o in f["outcomes"]
    }


def load() -> str:
    return f"load {os.getloadavg()[0]:.2f}"


def full_libcst_findings(path: Path) -> Findings:
    """Every pass over the whole file with libcst, to a fixed point (no prefilter, no
    stand-in): the units whose own text changed."""
    import libcst as cst

    from passes import all_passes
    from pipeline.stages.rewrite import run_passes

    try:
        module = cst.parse_module(read_source(path, 10**8).text)
    except (InputError, cst.ParserSyntaxError):
        return set()
    _, fired = run_passes(all_passes(), module)
    return {(str(path), name, codes) for name, codes in fired.items()}


def prefilter_survivors(files: Sequence[Path]) -> tuple[int, int, int]:
    """Defs, and how many of them (and their lines) go on to libcst."""
    from pipeline.stages.orchestrate import selected_passes

    passes = selected_passes(Config())
    functions = kept = kept_lines = 0
    for path in files:
        try:
            parsed, tree = parse_tree(read_source(path, 10**8))
        except InputError:
            continue
        for fact in analyze(parsed, passes, tree):
            functions += 1
            if fact.applicable_passes:
                kept += 1
                kept_lines += fact.info.end_lineno - fact.info.lineno + 1
    return functions, kept, kept_lines


def _median(values: Sequence[float]) -> float:
    return statistics.median(values)


def _runs(values: Sequence[float]) -> str:
    return ", ".join(f"{v:.2f}" for v in values)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.scan_speed",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--sample", type=int, default=150, metavar="N", help="N spread files")
    parser.add_argument("--jobs", type=int, default=2, metavar="N")
    parser.add_argument("--runs", type=int, default=3, metavar="N", help="timed runs of each")
    parser.add_argument("--no-full-run", action="store_true", help="skip the full libcst run")
    args = parser.parse_args(argv)
    # Empty files are refused as input errors; they hold no lines to scan anyway.
    files = [path for path in sample(stdlib_files(), args.sample) if path.stat().st_size]
    lines = count_lines(files)
    ast_seconds = time_ast_parse(files)
    print(f"files: {len(files)}, lines: {lines}, jobs: {args.jobs}, cpus: {os.cpu_count()}, "
          f"{sys.implementation.name} {sys.version.split()[0]}")  # fmt: skip
    print(f"ast.parse, in-process:    {lines / ast_seconds:>10,.0f} lines/s ({ast_seconds:.2f} s, "
          f"{load()})")  # fmt: skip
    scratch = Path(tempfile.mkdtemp(prefix="scan-speed-"))
    run_cli(scan_args(files[:5], 1), scratch / "compile", scratch)  # writes the .pyc files

    cold: list[float] = []
    warm: list[float] = []
    loads: list[str] = []
    findings: Findings = set()
    exit_code = 0
    for number in range(args.runs):
        cache = scratch / f"cache-{number}"
        seconds, done = run_cli(scan_args(files, args.jobs), cache, scratch)
        cold.append(seconds)
        exit_code = max(exit_code, done.returncode)
        findings = findings_of(done)
        seconds, again = run_cli(scan_args(files, args.jobs), cache, scratch)
        warm.append(seconds)
        loads.append(load())
        if findings_of(again) != findings:
            print("warm scan found something else than the cold one: FAILED")
            exit_code = 2
    cold_rate, warm_rate = lines / _median(cold), lines / _median(warm)
    print(f"cold scan --jobs {args.jobs}:      {cold_rate:>10,.0f} lines/s (median of "
          f"{_runs(cold)} s; {'; '.join(loads)}) goal {COLD_GOAL:,}: "
          f"{'met' if cold_rate >= COLD_GOAL else 'NOT met'}")  # fmt: skip
    print(f"warm scan (cache hits):   {warm_rate:>10,.0f} lines/s (median of {_runs(warm)} s) "
          f"goal {WARM_GOAL:,}: {'met' if warm_rate >= WARM_GOAL else 'NOT met'}")  # fmt: skip
    print(f"findings: {len(findings)} (exit code {exit_code})")

    no_match = next(p for p in stdlib_files() if p.parts[-2:] == NO_MATCH_FILE)
    copy = scratch / f"no_match_{no_match.name}"
    copy.write_bytes(no_match.read_bytes())
    no_match_times: list[float] = []
    for number in range(args.runs):
        seconds, done = run_cli(
            [copy.name, "--check", "--no-llm"], scratch / f"nm-{number}", scratch
        )
        no_match_times.append(seconds)
        if done.returncode != 0:
            print(f"no-match file: exit {done.returncode}: {done.stderr.strip()[-300:]}")
    met = "met" if _median(no_match_times) < NO_MATCH_GOAL else "NOT met"
    print(f"optimize FILE --check, {count_lines([copy])}-line no-match file, cold: median "
          f"{_median(no_match_times):.2f} s ({_runs(no_match_times)}; {load()}) goal "
          f"< {NO_MATCH_GOAL} s: {met}")  # fmt: skip

    functions, kept, kept_lines = prefilter_survivors(files)
    print(f"prefilter keeps {kept}/{functions} defs ({kept_lines} lines) for libcst")
    if not args.no_full_run:
        start = time.perf_counter()
        with ProcessPoolExecutor(max_workers=args.jobs) as pool:
            full = set().union(*pool.map(full_libcst_findings, files))
        same = full == findings
        print(f"full libcst run ({time.perf_counter() - start:.0f} s): {len(full)} findings; "
              f"same findings as the scan: {'yes' if same else 'NO'}")  # fmt: skip
        for extra in sorted(full - findings):
            print(f"  only the full run: {extra}")
        for extra in sorted(findings - full):
            print(f"  only the scan: {extra}")
        exit_code = exit_code if same else 2
    return 0 if exit_code in (0, 1) else 2


if __name__ == "__main__":
    sys.exit(main())
