"""The COFFE run: per task, project -> CLI -> correctness tests -> stress timing; the headline.

Results are plain JSON-able dicts, so a run can be saved and rendered without
re-running (see `report.py`).
"""

from __future__ import annotations

import math
import re
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.coffe import check, project, timing
from benchmarks.coffe.data import BEST_KNOWN_FUNCTION, Task
from benchmarks.harness import environment, geometric_mean
from pipeline.config import TimingConfig, VerifyConfig
from pipeline.sandbox.child.protocol import Limits

SCHEMA_VERSION = 1
IMPROVED_AT = 1.1
Log = Callable[[str], None]


@dataclass(frozen=True)
class Settings:
    """The full run keeps the tool's defaults; --quick shrinks examples and samples."""

    quick: bool
    cli: project.CliSettings
    timing: TimingConfig

    @classmethod
    def full(cls, llm: bool = False, trace: bool = False) -> Settings:
        return cls(False, project.CliSettings(llm=llm, trace=trace), TimingConfig())

    @classmethod
    def quick_run(cls, llm: bool = False, trace: bool = False) -> Settings:
        # Sizes capped at 1000: beyond it these small functions are bound by allocating
        # big lists (a 5x rewrite reads 1.25x at n=4096), which 3 pairs cannot resolve.
        sample_seconds, pairs, workers, sizes = 0.01, 3, 1, (10, 1000)
        cli = project.CliSettings(40, sample_seconds, pairs, workers, sizes, llm=llm, trace=trace)
        timing_config = TimingConfig(
            sizes=sizes, sample_seconds=sample_seconds, pairs=pairs, workers=workers
        )
        return cls(True, cli, timing_config)

    def to_json(self) -> dict[str, Any]:
        return {
            "quick": self.quick,
            "llm": self.cli.llm,
            "trace": self.cli.trace,
            "max_examples": self.cli.max_examples or VerifyConfig().max_examples,
            "sample_seconds": self.timing.sample_seconds,
            "pairs": self.timing.pairs,
            "workers": self.timing.workers,
            "sizes": list(self.timing.sizes),
            "call_budget": self.timing.call_budget,
        }


def run(tasks: list[Task], settings: Settings, log: Log = print) -> dict[str, Any]:
    started = time.perf_counter()
    machine = environment()  # before the run: the commit whose code runs
    rows = []
    for index, task in enumerate(tasks, 1):
        row = run_task(task, settings)
        log(f"[{index}/{len(tasks)}] {task.task_id} {task.entry_point}: {_progress(row)}")
        rows.append(row)
    return {
        "schema": SCHEMA_VERSION,
        "benchmark": "COFFE function-level (FSE 2025), Apache-2.0",
        "environment": machine,
        "settings": settings.to_json(),
        "wall_seconds": time.perf_counter() - started,
        "headline": headline(rows),
        "tasks": rows,
    }


def run_task(task: Task, settings: Settings) -> dict[str, Any]:
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="optimize-coffe-") as scratch:
        root = Path(scratch)
        cli = project.run_cli(task, project.make_project(task, root, settings.cli), settings.cli)
    others = {}  # what gets tested and timed against the canonical solution
    if cli.written is not None:
        others["optimized"] = (cli.written, task.entry_point)
    if not task.best_known_is_canonical:  # else it runs exactly as fast: 1.00x, not timed
        others["best_known"] = (task.best_known, BEST_KNOWN_FUNCTION)
    tests = None
    if others:
        best_known = task.best_known if "best_known" in others else None
        tests = check.check_task(task, cli.written, best_known, Limits())
    copy_args = tests is None or not tests.ran or tests.mutates_arguments
    timed = {
        role: timing.measure_on_stress_inputs(task, text, name, settings.timing, copy_args)
        for role, (text, name) in others.items()
    }
    verdict, reason = verdict_of(cli)
    optimized, best = timed.get("optimized"), timed.get("best_known")
    return {
        "task": task.task_id,
        "function": task.entry_point,
        "module": task.module_stem,
        "stress_inputs": len(task.stress_inputs),
        "verdict": verdict,
        "reason": reason,
        "rules": _rules(cli),
        "outcomes": [_outcome_json(o) for o in cli.outcomes],
        "cli_error": cli.error,
        "cli_seconds": cli.seconds,
        "tests": _tests_json(task, tests) if tests else None,
        "wrong_output": cli.written is not None and _fails(tests),
        "optimized": optimized.to_json() if optimized else None,
        "speedup": (optimized.ratio or 1.0) if optimized else 1.0,
        "best_known_is_canonical": task.best_known_is_canonical,
        "best_known": best.to_json() if best else None,
        "best_speedup": best.ratio if best else 1.0 if task.best_known_is_canonical else None,
        "best_known_valid": task.best_known_is_canonical or _best_known_valid(tests),
        "seconds": time.perf_counter() - started,
    }


def _rules(cli: project.CliRun) -> list[str]:
    """The passes (or LLM) behind the written rewrite, else every pass that was tried."""
    shown = [o for o in cli.outcomes if o["accepted"]] or cli.outcomes
    return sorted({rule for outcome in shown for rule in outcome["rules"]})


def _fails(tests: check.CheckResult | None) -> bool:
    """Whether the written module could not be shown to pass: wrong cases, or no test run."""
    return tests is None or not tests.ran or bool(tests.wrong_cases())


def verdict_of(cli: project.CliRun) -> tuple[str, str]:
    """One verdict per task: written, error, no candidate, or the reason the best try failed."""
    if cli.error:
        return "error", cli.error
    if cli.written is not None:
        return "written", "verified and faster"
    if not cli.outcomes:
        return "no candidate", "no pass applies"
    return "rejected", reason_kind(cli.outcomes[-1]["reason"])


def reason_kind(reason: str) -> str:
    """A reason without its particulars, so that verdicts group.

    "unverified: no type hint or domain for parameter(s): n, m" becomes
    "unverified: no type hint or domain for parameter(s)"; numbers become N.
    """
    kind = ":".join(reason.split(":")[:2]).split(";")[0].strip()
    return re.sub(r"\d+", "N", kind)[:100] or "unknown"


def _outcome_json(outcome: dict[str, Any]) -> dict[str, Any]:
    timing_json = outcome.get("timing") or {}
    return {
        "function": outcome["function"],
        "rules": outcome["rules"],
        "origin": outcome["origin"],
        "accepted": outcome["accepted"],
        "reason": outcome["reason"],
        "verification": outcome["verdict"]["status"],
        "examples": outcome["verdict"]["examples"],
        "strategy_sources": outcome["verdict"]["strategy_sources"],
        "cli_speedup": timing_json.get("speedup"),
    }


def _tests_json(task: Task, tests: check.CheckResult) -> dict[str, Any]:
    roles = {
        role: {
            "failed_expected": list(result.failed_expected),
            "differs_from_canonical": list(result.differs_from_canonical),
            "mutates_arguments": result.mutates_arguments,
        }
        for role, result in tests.roles.items()
    }
    return {
        "ran": tests.ran,
        "problem": tests.problem,
        "cases": len(task.tests),
        "roles": roles,
        "wrong_cases": list(tests.wrong_cases()),
    }


def _best_known_valid(tests: check.CheckResult | None) -> bool:
    """The best known solution passes every test the canonical passes."""
    if tests is None:
        return False
    best, canonical = tests.roles.get("best_known"), tests.roles.get("canonical")
    if best is None or canonical is None:
        return False
    return set(best.failed_expected) <= set(canonical.failed_expected)


def _progress(row: dict[str, Any]) -> str:
    best = row["best_speedup"]
    text = f"{row['verdict']}"
    if row["verdict"] == "rejected":
        text += f" ({row['reason']})"
    if row["verdict"] == "written":
        text += f" {row['speedup']:.2f}x" + (" WRONG OUTPUT" if row["wrong_output"] else "")
    if row["best_known_is_canonical"]:
        return text + "; best known = canonical"
    return text + (f"; best known {best:.2f}x" if best else "; best known not timed")


def headline(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The figures the READMEs quote; a task left unchanged counts as 1.00x."""
    written = [r for r in rows if r["verdict"] == "written"]
    with_gap = [r for r in rows if r["best_known_valid"] and (r["best_speedup"] or 0) > 1]
    gap = sum(math.log(r["best_speedup"]) for r in with_gap)
    closed = sum(math.log(r["speedup"]) for r in with_gap)
    return {
        "tasks": len(rows),
        "written": len(written),
        "improved": sum(1 for r in written if r["speedup"] >= IMPROVED_AT),
        "geomean": geometric_mean(r["speedup"] for r in rows),
        "best_known_geomean": geometric_mean(
            r["best_speedup"] for r in rows if r["best_known_valid"] and r["best_speedup"]
        ),
        "best_known_faster_tasks": len(with_gap),
        "best_known_is_canonical": sum(1 for r in rows if r["best_known_is_canonical"]),
        "gap_closed": closed / gap if gap else 0.0,
        "wrong_outputs": sum(1 for r in rows if r["wrong_output"]),
        "wrong_output_tasks": [r["task"] for r in rows if r["wrong_output"]],
        "cli_errors": sum(1 for r in rows if r["verdict"] == "error"),
        "verdicts": dict(Counter(_verdict_label(r) for r in rows).most_common()),
    }


def _verdict_label(row: dict[str, Any]) -> str:
    return f"rejected: {row['reason']}" if row["verdict"] == "rejected" else row["verdict"]
