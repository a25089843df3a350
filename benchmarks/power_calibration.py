"""Power calibration: time a true 1.2x difference many times; count how often it is accepted.

    python -m benchmarks.power_calibration [--runs 10] [--out DIR]

The two versions are the same code, a busy loop over the input, the original doing
6 iterations per item where the candidate does 5: the candidate is 1.2x faster at
every size, up to the per-call overhead that the loop dwarfs at the sizes that decide.
The bar is at least 9 accepted runs of 10 (the A/A calibration,
benchmarks/aa_calibration.py, is its counterpart: no false wins). The true ratio is
also measured directly, in this process with `timeit`, so the report shows what the
pipeline was trying to find. Uses the default timing settings (or the ones given) and
the candidate's default budget as a deadline, as a run does; writes
power_calibration.json and .md to DIR (default benchmarks/results). Exit code 0 when
the bar is met, 1 when not, 2 on bad usage.
"""

from __future__ import annotations

import json
import os
import statistics
import time
import timeit
from collections.abc import Sequence
from typing import Any

from benchmarks.aa_calibration import (
    environment,
    measure_once,
    run_json,
    settings_of,
    size_cell,
    timing_parser,
)
from pipeline.model import Candidate, CandidateOrigin

REQUIRED_FRACTION = 9 / 10
TEMPLATE = """\
def spin(xs: list[int]) -> int:
    total = 0
    for _ in range({work} * len(xs)):
        total += 1
    return total // {work}
"""
ORIGINAL, CANDIDATE = TEMPLATE.format(work=6), TEMPLATE.format(work=5)
TRUE_RATIO = 6 / 5


def busy_loop_candidate() -> Candidate:
    return Candidate(
        function="spin",
        lineno=1,
        rules=("1.2x",),
        origin=CandidateOrigin.PASS,
        original_code=ORIGINAL,
        module_code=CANDIDATE,
        module_name="power",
        project_root=None,
    )


def direct_ratio(size: int, rounds: int = 15) -> float:
    """The ratio measured in this process: medians of interleaved CPU-clock runs of each
    (the process's CPU clock, as the pipeline's, so that other load does not count)."""
    items = list(range(size))
    functions = []
    for code in (ORIGINAL, CANDIDATE):
        namespace: dict[str, Any] = {}
        exec(code, namespace)  # our own constant code, not a user's
        functions.append(namespace["spin"])
    seconds: list[list[float]] = [[], []]
    for _ in range(rounds):
        for which, function in enumerate(functions):
            timer = timeit.Timer(lambda: function(items), timer=time.process_time)  # noqa: B023
            seconds[which].append(timer.timeit(number=10))
    return statistics.median(seconds[0]) / statistics.median(seconds[1])


def markdown(report: dict[str, Any]) -> str:
    lines = [
        "# Power calibration: a true 1.2x",
        "",
        f"{report['accepted']} of {report['runs']} runs accepted the 1.2x candidate "
        f"(bar: {report['required']}): **{'pass' if report['passed'] else 'FAIL'}**; "
        f"{report['undecided']} undecided. Direct `timeit` ratio at n={report['direct_size']}: "
        f"{report['direct_ratio']:.3f}.",
        "",
        f"{report['python']}, sandbox: {report['isolation']}, CI={report['ci']}, "
        f"load average {report['load_before']:.2f} → {report['load_after']:.2f}; "
        f"settings: {report['settings']}",
        "",
        "| run | seconds | accepted | sizes (deciding size last) |",
        "|---|---|---|---|",
    ]
    for run in report["results"]:
        cells = "; ".join(size_cell(s) for s in run["sizes"]) or run["detail"]
        lines.append(f"| {run['run']} | {run['seconds']} | {run['accepted']} | {cells} |")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = timing_parser(
        "python -m benchmarks.power_calibration",
        "Time a true 1.2x difference; count how often it is accepted.",
        runs=10,
    )
    args = parser.parse_args(argv)
    config = settings_of(args)
    if config is None:
        return 2
    load_before = os.getloadavg()[0]
    results = []
    for index in range(1, args.runs + 1):
        start = time.monotonic()
        measured = measure_once(busy_loop_candidate(), config)
        results.append(run_json(index, measured, time.monotonic() - start))
        cells = ", ".join(size_cell(s) for s in results[-1]["sizes"]) or measured.detail
        print(f"run {index}/{args.runs}: accepted={measured.accepted}: {cells}", flush=True)
    accepted = sum(run["accepted"] for run in results)
    required = max(1, round(REQUIRED_FRACTION * args.runs))
    deciding = max(config.timing.sizes)
    report = {
        "runs": args.runs,
        "accepted": accepted,
        "undecided": sum(
            bool(run["sizes"]) and run["sizes"][-1]["decision"] == "undecided" for run in results
        ),
        "required": required,
        "passed": accepted >= required,
        "true_ratio": TRUE_RATIO,
        "direct_size": deciding,
        "direct_ratio": direct_ratio(deciding),
        **environment(config, load_before),
        "results": results,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "power_calibration.json").write_text(json.dumps(report, indent=2) + "\n", "utf-8")
    (args.out / "power_calibration.md").write_text(markdown(report), "utf-8")
    print(markdown(report).splitlines()[2])
    return 0 if report["passed"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
