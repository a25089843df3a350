"""Run every pass over the installed stdlib: `python -m benchmarks.stdlib_run [--sample N]`.

Detection and transform only, no verification: the `--no-verify` scan path
(per-function libcst parse). Reports files, functions, matches per pass,
crashes (must be 0) and transformed files that no longer compile (must be 0).
Files libcst itself cannot parse (valid Python it does not support yet, e.g.
libcst issue #1011) are counted apart, not as crashes. Exits 1 on any crash or
compile failure.
"""

from __future__ import annotations

import argparse
import ast
import sys
import sysconfig
import time
import traceback
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

from pipeline.config import Config
from pipeline.stages.defs import inventory
from pipeline.stages.orchestrate import scan_file


@dataclass(frozen=True)
class FileResult:
    path: Path
    lines: int
    functions: int  # module-level functions
    defs: int = 0  # every def the inventory holds: functions, methods, nested functions
    matches: tuple[str, ...] = ()  # one pass code per match
    libcst_cannot_parse: str = ""
    input_error: str = ""
    crash: str = ""
    does_not_compile: tuple[str, ...] = ()  # functions whose transformed module fails


@dataclass
class Totals:
    files: int = 0
    lines: int = 0
    functions: int = 0
    defs: int = 0
    matches: Counter[str] = field(default_factory=Counter)
    libcst_cannot_parse: list[str] = field(default_factory=list)
    input_errors: list[str] = field(default_factory=list)
    crashes: list[str] = field(default_factory=list)
    does_not_compile: list[str] = field(default_factory=list)

    def add(self, result: FileResult) -> None:
        self.files += 1
        self.lines += result.lines
        self.functions += result.functions
        self.defs += result.defs
        self.matches.update(result.matches)
        if result.libcst_cannot_parse:
            self.libcst_cannot_parse.append(result.libcst_cannot_parse)
        if result.input_error:
            self.input_errors.append(result.input_error)
        if result.crash:
            self.crashes.append(result.crash)
        self.does_not_compile.extend(f"{result.path}::{f}" for f in result.does_not_compile)


def stdlib_files() -> list[Path]:
    """Every `.py` of the installed stdlib (tests included), in a stable order."""
    root = Path(sysconfig.get_paths()["stdlib"])
    return sorted(p for p in root.rglob("*.py") if "site-packages" not in p.parts)


def sample(files: Sequence[Path], count: int | None) -> list[Path]:
    """`count` files spread evenly over the sorted list (all when None)."""
    if count is None or count >= len(files):
        return list(files)
    step = len(files) / count
    return [files[int(i * step)] for i in range(count)]


def run_file(path: Path) -> FileResult:
    raw = path.read_bytes()
    functions = raw.count(b"\ndef ") + raw.count(b"\nasync def ") + raw.startswith(b"def ")
    base = FileResult(path, raw.count(b"\n"), functions, _defs(raw))
    try:
        report = scan_file(path, Config(max_file_bytes=len(raw) + 1))
    except Exception:  # a crash in a pass or in the scan: the thing this run looks for
        return replace(base, crash=f"{path}\n{traceback.format_exc()}")
    if report.error:
        if "libcst cannot parse" in report.error:
            return replace(base, libcst_cannot_parse=report.error)
        return replace(base, input_error=report.error)
    candidates = [o.candidate for o in report.outcomes]
    return FileResult(
        path,
        base.lines,
        functions,
        base.defs,
        matches=tuple(code for c in candidates for code in c.rules),
        does_not_compile=tuple(c.function for c in candidates if not _compiles(c.module_code)),
    )


def _defs(raw: bytes) -> int:
    try:
        return len(inventory(ast.parse(raw)))
    except (SyntaxError, ValueError):
        return 0


def _compiles(source: str) -> bool:
    try:
        compile(source, "<transformed>", "exec", dont_inherit=True)
    except (SyntaxError, ValueError):
        return False
    return True


def run(files: Sequence[Path], jobs: int) -> Totals:
    totals = Totals()
    if jobs <= 1:
        for path in files:
            totals.add(run_file(path))
        return totals
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        for result in pool.map(run_file, files, chunksize=4):
            totals.add(result)
    return totals


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.stdlib_run", description=__doc__)
    parser.add_argument("--sample", type=int, metavar="N", help="only N evenly spread files")
    parser.add_argument("--jobs", type=int, default=1, metavar="N", help="processes")
    args = parser.parse_args(argv)
    files = sample(stdlib_files(), args.sample)
    start = time.perf_counter()
    totals = run(files, max(1, args.jobs))
    seconds = time.perf_counter() - start
    print(f"stdlib:                  {sysconfig.get_paths()['stdlib']}")
    print(f"files:                   {totals.files} ({totals.lines} lines, {seconds:.1f} s)")
    print(f"module-level functions:  {totals.functions}")
    print(f"functions and methods:   {totals.defs} (every def the inventory holds)")
    print(f"matches per pass:        {dict(sorted(totals.matches.items()))}")
    print(f"libcst cannot parse:     {len(totals.libcst_cannot_parse)}")
    print(f"other input errors:      {len(totals.input_errors)}")
    print(f"crashes:                 {len(totals.crashes)}")
    print(f"transformed, no compile: {len(totals.does_not_compile)}")
    for line in [*totals.libcst_cannot_parse, *totals.input_errors]:
        print(f"  {line}")
    for crash in totals.crashes:
        print(f"\n--- crash: {crash}")
    for where in totals.does_not_compile:
        print(f"  does not compile after transform: {where}")
    return 1 if totals.crashes or totals.does_not_compile else 0


if __name__ == "__main__":
    sys.exit(main())
