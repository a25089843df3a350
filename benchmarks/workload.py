"""`python -m benchmarks.workload`: trace, optimise and re-time two untyped workloads.

The flow the README recommends for a real project, run end to end through the
real CLI on `tests/data/trace_app` (an inventory app with no type hints):

1. copy the app to a temporary directory (the repository is never modified);
2. time its workload untraced, `python run.py`, `--repeat` times;
3. time it traced, `optimize trace run.py`, the same number of times (the tracing
   overhead); the store keeps the last trace;
4. `optimize . --write`: rewrites verified and timed on the recorded calls;
5. time the workload again and check that its output is byte-identical.

It also traces a call-heavy program (hundreds of thousands of tiny calls), the
worst case for any tracer, so the overhead figure is not only the flattering one.
Then the same flow (steps 1, 2, 4, 5, with one trace) on `benchmarks/untyped_shop`,
a module nobody wrote for the passes: functions and a class with methods, no type
hints, whose idioms only the trace's observed types (nested ones, and `self`
attributes) let the passes rewrite.
Times are medians of wall and CPU seconds (the CPU of the process and its
children, from the kernel), so a loaded machine shows in wall time more than CPU.
Results: printed as Markdown, and written to `benchmarks/results/workload.json`.
Exit status: 0 when the run completed with identical output, 1 when the output
changed, 2 when a step failed.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
APP = REPO / "tests" / "data" / "trace_app"
UNTYPED_MODULE = Path(__file__).resolve().parent / "untyped_shop"
RESULTS = Path(__file__).with_name("results") / "workload.json"
OVERHEAD_GOAL = 3.0
EXIT_OK, EXIT_CHANGED, EXIT_FAILED = 0, 1, 2
# --quick: settings that keep verification and timing short (a smoke run, not a figure).
QUICK_PYPROJECT = """\
[tool.optimize.timing]
sizes = [10, 1000]
sample_seconds = 0.005
pairs = 9
workers = 1

[tool.optimize.verify]
max_examples = 30
"""
CALL_HEAVY = '''\
"""Many tiny calls: the worst case for a tracer."""


def double(x):
    return 2 * x + 1


class Point:
    def __init__(self, x, y):
        self.x = x
        self.y = y

    def norm1(self):
        return abs(self.x) + abs(self.y)


def main():
    total = 0
    for i in range(300_000):
        total += double(i)
    points = [Point(i, -i) for i in range(100_000)]
    print(total, sum(point.norm1() for point in points))


if __name__ == "__main__":
    main()
'''


class StepFailed(Exception):
    pass


@dataclass(frozen=True)
class Timed:
    wall: float
    cpu: float
    stdout: str


@dataclass(frozen=True)
class Figures:
    """Medians over the repeats."""

    wall: float
    cpu: float

    @classmethod
    def of(cls, runs: Sequence[Timed]) -> Figures:
        return cls(statistics.median(r.wall for r in runs), statistics.median(r.cpu for r in runs))


def run(command: Sequence[str], cwd: Path, timeout: float = 3600) -> Timed:
    """Run a command; its wall time and the CPU time of it and its children."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    environment = {**os.environ, "NO_COLOR": "1"}
    done = subprocess.run(list(command), cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, check=False, env=environment)  # fmt: skip
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise StepFailed(f"{' '.join(command)} exited {done.returncode}:\n{done.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Timed(wall, cpu, done.stdout)


def optimize(*arguments: str) -> list[str]:
    return [sys.executable, "-m", "pipeline", *arguments]


def traced_program_seconds(project: Path) -> float:
    """The traced program's own wall time, as the store recorded it (no CLI start-up)."""
    from pipeline.trace.store import DEFAULT_STORE, TraceStore

    with TraceStore(project / DEFAULT_STORE) as trace:
        return trace.runs()[-1].wall_ns / 1e9


def overhead(project: Path, script: str, repeat: int) -> dict[str, Any]:
    """Untraced and traced runs of `script`, alternating; the ratios of their medians."""
    plain, traced, program = [], [], []
    for _ in range(repeat):
        plain.append(run([sys.executable, script], project))
        traced.append(run(optimize("trace", "--fresh", script), project))
        program.append(traced_program_seconds(project))
    if any(t.stdout != plain[0].stdout for t in (*plain, *traced)):
        raise StepFailed(f"{script}: the traced run printed something else")
    untraced, whole = Figures.of(plain), Figures.of(traced)
    return {
        "untraced": asdict(untraced),
        "traced_command": asdict(whole),
        "traced_program_wall": statistics.median(program),
        "ratio_wall": whole.wall / untraced.wall,
        "ratio_cpu": whole.cpu / untraced.cpu,
        "ratio_program_wall": statistics.median(program) / untraced.wall,
    }


def measure(project: Path, repeat: int, quick: bool) -> dict[str, Any]:
    if quick:
        (project / "pyproject.toml").write_text(QUICK_PYPROJECT, encoding="utf-8")
    (project / "call_heavy.py").write_text(CALL_HEAVY, encoding="utf-8")
    results: dict[str, Any] = {"python": sys.version.split()[0], "cpus": os.cpu_count()}
    results["call_heavy"] = overhead(project, "call_heavy.py", repeat)
    (project / "call_heavy.py").unlink()
    results["workload"] = overhead(project, "run.py", repeat)  # leaves the last trace stored
    return results | optimised(project, repeat)


def measure_untyped_module(project: Path, repeat: int, quick: bool) -> dict[str, Any]:
    """The untyped module: one trace, then `--write` and the workload before and after."""
    if quick:
        (project / "pyproject.toml").write_text(QUICK_PYPROJECT, encoding="utf-8")
    run(optimize("trace", "run.py"), project)
    return optimised(project, repeat)


def optimised(project: Path, repeat: int) -> dict[str, Any]:
    """`optimize . --json`, `--write`, and the workload timed before and after."""
    results: dict[str, Any] = {}
    before = [run([sys.executable, "run.py"], project) for _ in range(repeat)]
    report = run(optimize(".", "--json"), project)
    results["optimize_seconds"] = report.wall
    results["accepted"] = _accepted(report.stdout)
    results["not_accepted"] = _not_accepted(report.stdout)
    run(optimize(".", "--write"), project)  # the same verdicts, from the verdict cache
    after = [run([sys.executable, "run.py"], project) for _ in range(repeat)]
    old, new = Figures.of(before), Figures.of(after)
    results["before"], results["after"] = asdict(old), asdict(new)
    results["speedup_wall"] = old.wall / new.wall
    results["speedup_cpu"] = old.cpu / new.cpu
    results["identical_output"] = all(r.stdout == before[0].stdout for r in (*before, *after))
    return results


def _accepted(report: str) -> list[dict[str, Any]]:
    files = json.loads(report)["files"]
    return [
        {
            "function": f"{Path(file['path']).as_posix()}::{outcome['function']}",
            "rules": outcome["rules"],
            "speedup": outcome["timing"]["speedup"] if outcome["timing"] else None,
            "basis": outcome["verdict"].get("basis"),
            "assumptions": outcome.get("assumptions", []),
        }
        for file in files
        for outcome in file["outcomes"]
        if outcome["accepted"]
    ]


def _not_accepted(report: str) -> list[dict[str, Any]]:
    """The candidates not written, and why: the figure is read with them."""
    files = json.loads(report)["files"]
    return [
        {
            "function": f"{Path(file['path']).as_posix()}::{outcome['function']}",
            "rules": outcome["rules"],
            "reason": outcome["reason"],
        }
        for file in files
        for outcome in file["outcomes"]
        if not outcome["accepted"]
    ]


def markdown(results: dict[str, Any]) -> str:
    parts = []
    if "workload" in results:
        parts.append(_sample_app_markdown(results))
    if "untyped_module" in results:
        parts.append(_untyped_module_markdown(results["untyped_module"], results))
    return "\n".join(parts)


def _untyped_module_markdown(case: dict[str, Any], results: dict[str, Any]) -> str:
    lines = [
        f"## Untyped module with methods, `benchmarks/untyped_shop` (CPython "
        f"{results['python']}, {results['cpus']} CPU(s))",
        "",
        "`optimize trace run.py`, then `optimize . --write`:",
        "",
        "| figure | wall | CPU |",
        "| --- | --- | --- |",
        *_before_after_rows(case),
        "",
        "Accepted rewrites:",
        "",
        *_accepted_lines(case),
        *_not_accepted_lines(case),
    ]
    return "\n".join(lines) + "\n"


def _not_accepted_lines(results: dict[str, Any]) -> list[str]:
    rejected = results.get("not_accepted") or []
    lines = ["", "Not written:", ""] if rejected else []
    for outcome in rejected:
        lines.append(f"- `{outcome['function']}` {'+'.join(outcome['rules'])}: {outcome['reason']}")
    return lines


def _before_after_rows(results: dict[str, Any]) -> list[str]:
    before, after = results["before"], results["after"]
    return [
        f"| workload before `optimize . --write` | {before['wall']:.2f} s | "
        f"{before['cpu']:.2f} s |",
        f"| workload after | {after['wall']:.2f} s | {after['cpu']:.2f} s |",
        f"| workload speedup | {results['speedup_wall']:.1f}× | {results['speedup_cpu']:.1f}× |",
        f"| output byte-identical | {'yes' if results['identical_output'] else '**no**'} | |",
        f"| `optimize . --write` took | {results['optimize_seconds']:.0f} s | |",
    ]


def _accepted_lines(results: dict[str, Any]) -> list[str]:
    lines = []
    for accepted in results["accepted"]:
        basis = ", ".join(f"{count} {label}" for label, count in accepted["basis"] or [])
        speedup = f"{accepted['speedup']:.1f}×" if accepted["speedup"] else "untimed"
        assumed = accepted.get("assumptions") or []
        assumes = f"; assumes {', '.join(assumed)}" if assumed else ""
        lines.append(f"- `{accepted['function']}` {'+'.join(accepted['rules'])}: "
                     f"{speedup}, verified on {basis or 'generated inputs'}{assumes}")  # fmt: skip
    return lines


def _sample_app_markdown(results: dict[str, Any]) -> str:
    work, heavy = results["workload"], results["call_heavy"]
    lines = [
        f"## Sample app workload (CPython {results['python']}, {results['cpus']} CPU(s))",
        "",
        "| figure | wall | CPU |",
        "| --- | --- | --- |",
        f"| workload untraced | {work['untraced']['wall']:.2f} s | "
        f"{work['untraced']['cpu']:.2f} s |",
        f"| `optimize trace run.py` | {work['traced_command']['wall']:.2f} s | "
        f"{work['traced_command']['cpu']:.2f} s |",
        f"| tracing overhead (whole command) | {work['ratio_wall']:.2f}× | "
        f"{work['ratio_cpu']:.2f}× |",
        f"| tracing overhead (the program alone) | {work['ratio_program_wall']:.2f}× | |",
        f"| call-heavy program: overhead (whole command) | {heavy['ratio_wall']:.2f}× | "
        f"{heavy['ratio_cpu']:.2f}× |",
        f"| call-heavy program: overhead (the program alone) | "
        f"{heavy['ratio_program_wall']:.2f}× | |",
        *_before_after_rows(results),
        "",
        f"Overhead goal: at most {OVERHEAD_GOAL:g}× (whole command, wall).",
        "",
        "Accepted rewrites:",
        "",
        *_accepted_lines(results),
        *_not_accepted_lines(results),
    ]
    return "\n".join(lines) + "\n"


def build_parser() -> argparse.ArgumentParser:
    summary = textwrap.dedent(__doc__ or "").split("\n\n")[0]
    parser = argparse.ArgumentParser(prog="python -m benchmarks.workload", description=summary)
    parser.add_argument("--repeat", type=int, default=3, metavar="N",
                        help="runs per timed step; medians are reported (default 3)")  # fmt: skip
    parser.add_argument("--quick", action="store_true",
                        help="short verification and timing settings (a smoke run)")  # fmt: skip
    parser.add_argument("--case", choices=("all", "sample-app", "untyped-module"),
                        default="all", help="which workload to run (default: both)")  # fmt: skip
    parser.add_argument("--out", type=Path, default=RESULTS, metavar="FILE",
                        help=f"where to write the JSON results (default {RESULTS})")  # fmt: skip
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    repeat = max(1, args.repeat)
    results: dict[str, Any] = {"python": sys.version.split()[0], "cpus": os.cpu_count()}
    with tempfile.TemporaryDirectory(prefix="optimize-workload-") as temporary:
        try:
            if args.case in ("all", "sample-app"):
                project = Path(temporary) / "trace_app"
                shutil.copytree(APP, project)
                results |= measure(project, repeat, args.quick)
            if args.case in ("all", "untyped-module"):
                project = Path(temporary) / "untyped_shop"
                shutil.copytree(UNTYPED_MODULE, project, ignore=shutil.ignore_patterns(
                    "__pycache__", ".optimize_cache"))  # fmt: skip
                results["untyped_module"] = measure_untyped_module(project, repeat, args.quick)
        except (StepFailed, subprocess.TimeoutExpired) as error:
            print(f"benchmarks.workload: {error}", file=sys.stderr)
            return EXIT_FAILED
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(markdown(results))
    cases = [results] if "workload" in results else []
    cases += [results["untyped_module"]] if "untyped_module" in results else []
    return EXIT_OK if all(case["identical_output"] for case in cases) else EXIT_CHANGED


if __name__ == "__main__":
    sys.exit(main())
