"""`optimize trace app.py ARGS...` / `optimize trace -m pytest tests/`: record a real run.

coverage.py's conventions: the program runs as `python app.py ARGS` (or
`python -m module ARGS`) would run it, under a tracer limited to the project's
files, and its output and exit code pass through unchanged. The trace goes to
`.optimize_cache/trace.sqlite` under the project root (the directory of the
nearest pyproject.toml, else the current one), adding to what is there;
`optimize PATH` then uses it. `optimize trace --show` prints what a store holds.
"""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
from pathlib import Path, PurePosixPath
from typing import Any

from pipeline.cli.exit_codes import ExitCode, fail
from pipeline.config import DEFAULT_EXCLUDE, Config, ConfigError, load_config, shown_path
from pipeline.stages.parse import module_location
from pipeline.testcode import PytestFiles
from pipeline.trace import store

COMMAND = "optimize trace"
BOOTSTRAP = Path(store.__file__).with_name("bootstrap.py")
_OPTIONS_WITH_VALUE = ("--store",)


def add_parser(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "trace",
        help="record a real run of your program, for `optimize PATH` to use",
        description=(
            "Run a program the way Python would and record, per function of this project, "
            "its calls, its time and a sample of real arguments. `optimize PATH` then "
            "verifies and times rewrites on those calls and ranks functions by their share "
            "of the run."
        ),
        epilog=(
            "Examples: `optimize trace app.py --input data.csv`, `optimize trace -m pytest "
            "tests/`. A second trace adds to the first. The exit code is the program's."
        ),
        usage=f"{COMMAND} [--store FILE] [--fresh] (SCRIPT | -m MODULE) [ARGS...]\n"
        f"       {COMMAND} [--store FILE] --show [--include-tests]",
    )
    default = f"<project root>/{store.DEFAULT_STORE}"
    parser.add_argument("--store", type=Path, metavar="FILE",
                        help=f"the trace store (default: {default})")  # fmt: skip
    parser.add_argument("--fresh", action="store_true", help="discard the stored trace first")
    parser.add_argument("--show", action="store_true",
                        help="print what the store holds, hottest functions first")  # fmt: skip
    parser.add_argument("--include-tests", action="store_true",
                        help="--show: also list test code (tests/, test_*.py, conftest.py), "
                             "hidden by default")  # fmt: skip
    # The program and its arguments are not ours: `pipeline.cli.main` puts `--` before them.
    parser.add_argument("program", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    parser.set_defaults(handler=run)


def with_program_separated(arguments: list[str]) -> list[str]:
    """`--` between our options and the program, so that its own options stay its own."""
    options, program = split_program(arguments)
    return [*options, "--", *program] if program else options


def run(args: argparse.Namespace) -> int:
    program = args.program[1:] if args.program[:1] == ["--"] else args.program
    try:
        config = load_config(Path.cwd())
    except ConfigError as error:
        return _fail(str(error))
    root = config.root
    store_path = (args.store or root / store.DEFAULT_STORE).absolute()
    if args.show:
        with_tests = args.include_tests or config.include_tests
        return show(store_path, None if with_tests else PytestFiles.for_project(root))
    if not program or program == ["-m"]:
        return _fail("nothing to run: give a script (`optimize trace app.py`) or `-m MODULE`")
    if program[0] != "-m" and not Path(program[0]).exists():
        return _fail(f"{program[0]}: no such file")
    try:
        if args.fresh:
            store_path.unlink(missing_ok=True)
        store.check(store_path)
    except (store.StoreError, OSError) as error:
        return _fail(str(error))
    return run_traced(program, root, store_path, config)


def split_program(argv: list[str]) -> tuple[list[str], list[str]]:
    """Our options, then the program: from `-m` or the first argument that is not an option."""
    index = 0
    while index < len(argv):
        token = argv[index]
        if token == "-m" or not token.startswith("-"):
            return argv[:index], argv[index:]
        index += 2 if token in _OPTIONS_WITH_VALUE else 1
    return argv, []


def run_traced(program: list[str], root: Path, store_path: Path, config: Config) -> int:
    """Run the program in a fresh interpreter under the tracer; its exit code as a shell sees it."""
    job = {
        "root": str(root),
        "store": str(store_path),
        "excluded": [*DEFAULT_EXCLUDE, *config.exclude],
        "settings": vars(config.trace),
        "command": " ".join(["optimize trace", *program]),
        "main_module": "" if program[0] == "-m" else module_location(Path(program[0]))[0],
    }
    command = [sys.executable, str(BOOTSTRAP), json.dumps(job), *program]
    # Ctrl-C reaches the program (same process group); we wait for it to finish and save.
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        code = subprocess.call(command)
    finally:
        signal.signal(signal.SIGINT, previous)
    if sys.stderr.isatty() and store_path.exists():
        print(summary(store_path), file=sys.stderr)
    return code if code >= 0 else 128 - code  # killed by signal N: 128 + N, as a shell says


def summary(store_path: Path) -> str:
    """One line about the store: functions, calls, calls kept and calls skipped."""
    try:
        with store.TraceStore(store_path) as trace:
            functions, runs = trace.functions(), trace.runs()
    except store.StoreError as error:
        return f"{COMMAND}: {error}"
    calls = sum(f.calls for f in functions)
    kept = sum(f.recorded for f in functions)
    unpicklable = sum(f.unpicklable for f in functions)
    oversized = sum(f.oversized for f in functions)
    shortened = sum(f.shortened for f in functions)
    kept_short = f" ({shortened} shortened to fit the size cap)" if shortened else ""
    return (
        f"{COMMAND}: {len(runs)} run(s), {len(functions)} function(s), {calls:,} call(s), "
        f"{kept} recorded{kept_short}; skipped {unpicklable} unpicklable and {oversized} over "
        f"the size cap -> {shown_path(store_path)}"
    )


def show(store_path: Path, tests: PytestFiles | None = None) -> int:
    """The store's runs and functions, hottest first; test code (by `tests`) left out."""
    try:
        with store.TraceStore(store_path) as trace:
            functions, runs = trace.functions(), trace.runs()
    except store.StoreError as error:
        return _fail(str(error))
    workload = sum(run.wall_ns for run in runs) or 1
    print(summary(store_path))
    listed = functions
    if tests is not None:
        listed = [f for f in functions if not tests.is_test_path(PurePosixPath(f.path))]
    for run in runs:
        print(f"  run: {run.command} ({run.wall_ns / 1e9:.2f} s, exit {run.exit_code}, "
              f"{run.tracer}, Python {run.python})")  # fmt: skip
    print(f"{'own %':>6} {'total %':>7} {'calls':>9} {'kept':>5} {'skipped':>7}  function")
    for f in listed:
        print(f"{100 * f.own_ns / workload:6.1f} {100 * f.total_ns / workload:7.1f} "
              f"{f.calls:9,} {f.recorded:5} {f.unpicklable + f.oversized:7}  "
              f"{f.path}::{f.qualname}")  # fmt: skip
    if len(listed) < len(functions):
        print(f"{len(functions) - len(listed)} function(s) of test code not listed: "
              "--include-tests lists them")  # fmt: skip
    return ExitCode.OK


def _fail(message: str) -> int:
    return fail(COMMAND, message)
