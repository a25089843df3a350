"""A/A calibration: time a function against an identical copy of itself, many times.

    python -m benchmarks.aa_calibration [--runs 20] [--out DIR]

With honest timing every run says "no change" at every size; the issue's bar
is at least 19 of 20. Uses the default timing settings (or the ones given),
runs one measurement at a time, and writes aa_calibration.json and
aa_calibration.md to DIR (default benchmarks/results). Exit code 0 when the
bar is met, 1 when not, 2 on bad usage.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from pipeline.config import Config, TimingConfig
from pipeline.model import Candidate, CandidateOrigin, Timing
from pipeline.sandbox.isolation import best_isolation
from pipeline.stages.measure import measure
from pipeline.stages.timing_stats import python_version
from pipeline.stages.verify import inputs_for

RESULTS_DIR = Path(__file__).with_name("results")
REQUIRED_FRACTION = 19 / 20
FUNCTION = """\
def total(xs: list[int]) -> int:
    result = 0
    for x in xs:
        result += x
    return result
"""


def build_parser() -> argparse.ArgumentParser:
    return timing_parser(
        "python -m benchmarks.aa_calibration",
        "Time a function against itself; count how often the verdict is 'no change'.",
        runs=20,
    )


def timing_parser(prog: str, description: str, runs: int) -> argparse.ArgumentParser:
    """The options of a calibration: how many runs, and the timing settings."""
    defaults = TimingConfig()
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--runs", type=int, default=runs, help=f"measurements (default {runs})")
    parser.add_argument("--sizes", type=int, nargs="+", default=list(defaults.sizes))
    parser.add_argument("--sample-seconds", type=float, default=defaults.sample_seconds)
    parser.add_argument("--pairs", type=int, default=defaults.pairs)
    parser.add_argument("--workers", type=int, default=defaults.workers)
    parser.add_argument("--out", type=Path, default=RESULTS_DIR, help="where to write the report")
    return parser


def identical_candidate() -> Candidate:
    return Candidate(
        function="total",
        lineno=1,
        rules=("A/A",),
        origin=CandidateOrigin.PASS,
        original_code=FUNCTION,
        module_code=FUNCTION,
        module_name="aa",
        project_root=None,
    )


def run_json(index: int, timing: Timing, seconds: float) -> dict[str, Any]:
    return {
        "run": index,
        "seconds": round(seconds, 2),
        "no_change": bool(timing.sizes) and all(s.decision == "no change" for s in timing.sizes),
        "accepted": timing.accepted,
        "detail": timing.detail,
        "sizes": [
            {
                "size": s.size,
                "ratio": s.ratio,
                "ci95": [s.low, s.high],
                "decision": s.decision,
                "samples": s.samples,
                "worker_pairs": s.worker_pairs,
                "confidence": s.confidence,
            }
            for s in timing.sizes
        ],
    }


def settings_of(args: argparse.Namespace) -> Config | None:
    """The config the options ask for; None (after a one-line error) when they make no sense."""
    if args.runs < 1 or args.pairs < 1 or args.workers < 1 or args.sample_seconds <= 0:
        print("error: --runs, --pairs, --workers, --sample-seconds must be > 0", file=sys.stderr)
        return None
    timing = TimingConfig(
        sizes=tuple(args.sizes),
        sample_seconds=args.sample_seconds,
        pairs=args.pairs,
        workers=args.workers,
    )
    return replace(Config(), timing=timing)


def environment(config: Config, load_before: float) -> dict[str, Any]:
    """Where and how the runs were made: Python, sandbox, CI, load, settings."""
    timing = config.timing
    return {
        "python": python_version(),
        "isolation": best_isolation(),
        "ci": os.environ.get("CI", "").lower() == "true",
        "load_before": load_before,
        "load_after": os.getloadavg()[0],
        "settings": {
            "sizes": list(timing.sizes),
            "sample_seconds": timing.sample_seconds,
            "pairs": timing.pairs,
            "workers": timing.workers,
            "min_speedup": config.min_speedup,
            "candidate_budget": config.candidate_budget,
        },
    }


def runs_with(results: list[dict[str, Any]], decisions: tuple[str, ...]) -> int:
    """How many runs said one of `decisions` at some size."""
    return sum(any(s["decision"] in decisions for s in run["sizes"]) for run in results)


def size_cell(size: dict[str, Any]) -> str:
    return (
        f"n={size['size']}: {size['ratio']:.3f} [{size['ci95'][0]:.3f}, {size['ci95'][1]:.3f}] "
        f"{size['decision']} ({size.get('worker_pairs', '?')} worker pairs, "
        f"{size.get('samples', '?')} samples)"
    )


def measure_once(candidate: Candidate, config: Config) -> Timing:
    """One measurement as a run makes it: with the candidate's budget as its deadline."""
    deadline = time.monotonic() + config.candidate_budget
    return measure(candidate, config, inputs_for(candidate, config), deadline=deadline)


def markdown(report: dict[str, Any]) -> str:
    lines = [
        "# A/A timing calibration",
        "",
        f"{report['no_change']} of {report['runs']} runs said *no change* at every size "
        f"(bar: {report['required']}): **{'pass' if report['passed'] else 'FAIL'}**; "
        f"{report['undecided']} undecided, {report['false_decisions']} said faster or slower.",
        "",
        f"{report['python']}, sandbox: {report['isolation']}, CI={report['ci']}, "
        f"load average {report['load_before']:.2f} → {report['load_after']:.2f}; "
        f"settings: {report['settings']}",
        "",
        "Sizes grow from the smallest configured one while a call stays in budget; each",
        "cell names the size it was timed at.",
        "",
        "| run | smallest | middle | largest |",
        "|---|---|---|---|",
    ]
    for run in report["results"]:
        cells = [size_cell(s) for s in run["sizes"]] or [run["detail"]]
        lines.append(f"| {run['run']} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    config = settings_of(args)
    if config is None:
        return 2
    load_before = os.getloadavg()[0]
    results = []
    for index in range(1, args.runs + 1):
        start = time.monotonic()
        measured = measure_once(identical_candidate(), config)
        results.append(run_json(index, measured, time.monotonic() - start))
        print(f"run {index}/{args.runs}: " + ", ".join(size_cell(s) for s in results[-1]["sizes"])
              + (f" {measured.detail}" if measured.detail else ""), flush=True)  # fmt: skip
    no_change = sum(run["no_change"] for run in results)
    required = max(1, round(REQUIRED_FRACTION * args.runs))
    report = {
        "runs": args.runs,
        "no_change": no_change,
        # Not "no change" either, but no false claim: the interval still straddled the floor.
        "undecided": runs_with(results, ("undecided",)),
        "false_decisions": runs_with(results, ("faster", "slower")),
        "required": required,
        "passed": no_change >= required,
        **environment(config, load_before),
        "results": results,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "aa_calibration.json").write_text(json.dumps(report, indent=2) + "\n", "utf-8")
    (args.out / "aa_calibration.md").write_text(markdown(report), "utf-8")
    print(markdown(report).splitlines()[2])
    return 0 if report["passed"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
