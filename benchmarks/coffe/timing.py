"""Step 4: time the canonical solution against another module on the task's stress inputs.

Everything goes through `measure_on_stress_inputs`, the one place that knows the
project's timing API: today `pipeline.stages.measure.measure` (interleaved samples of
both functions in fresh sandboxed workers, ratio of medians with a bootstrap
95% interval) fed by the module hook `OPTIMIZE_INPUTS`, whose "size" is the
index of a stress input. When the timing protocol changes, only that function
changes.

The stress inputs are expressions (comprehensions, `range`, `str.join`,
`random`), not only literals, so the parent never evaluates them: they become
functions of the timing copy of the canonical module and run only in the
sandboxed timing child, like any code under test.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from typing import Any

from benchmarks.coffe.data import Task
from benchmarks.harness import geometric_mean
from pipeline.config import Config, TimingConfig
from pipeline.model import Candidate, CandidateOrigin, SizeTiming, Timing
from pipeline.stages.measure import measure
from pipeline.stages.verify import inputs_for

HOOK_PREFIX = "_coffe_stress_input_"
FAILED_SIZE = re.compile(r"size (\d+): ")


@dataclass(frozen=True)
class StressTiming:
    """Per stress input (`index`), the canonical/other ratio; the summary is their geo-mean."""

    inputs: tuple[dict[str, Any], ...]
    detail: str = ""

    @property
    def ratio(self) -> float | None:
        return geometric_mean([i["ratio"] for i in self.inputs]) if self.inputs else None

    @property
    def interval(self) -> tuple[float, float] | None:
        """Geo-means of the per-input interval bounds: a summary, not itself a 95% CI."""
        if not self.inputs:
            return None
        return (
            geometric_mean([i["low"] for i in self.inputs]),
            geometric_mean([i["high"] for i in self.inputs]),
        )

    def to_json(self) -> dict[str, Any]:
        interval = self.interval
        return {
            "ratio": self.ratio,
            "low": interval[0] if interval else None,
            "high": interval[1] if interval else None,
            "inputs": list(self.inputs),
            "detail": self.detail,
        }


def stress_hook(task: Task) -> str:
    """Source appended to the canonical module: one builder per stress input and the hook.

    `random` is seeded per input so both functions, and every run, see the same data.
    """
    lines = ["", "", "# Appended by benchmarks.coffe for timing: the task's stress inputs."]
    for index, expression in enumerate(task.stress_inputs):
        uses_random = any(
            isinstance(node, ast.Name) and node.id == "random"
            for node in ast.walk(ast.parse(expression, mode="eval"))
        )
        lines.append(f"def {HOOK_PREFIX}{index}():")
        if uses_random:
            lines += ["    import random", "", f"    random.seed({index})"]
        lines.append(f"    return {expression}")
        lines.append("")
    builders = ", ".join(f"{HOOK_PREFIX}{i}" for i in range(len(task.stress_inputs)))
    lines.append(
        f"OPTIMIZE_INPUTS = {{{task.entry_point!r}: lambda index: ({builders},)[index]()}}"
    )
    return "\n".join(lines) + "\n"


def measure_on_stress_inputs(
    task: Task,
    other_module: str,
    other_function: str,
    timing_config: TimingConfig,
    copy_args: bool,
) -> StressTiming:
    """Canonical vs `other_function` of `other_module` on every stress input that can be timed.

    One `measure` call for all inputs. It stops at the first input whose single
    call exceeds the budget, and reports nothing when a worker fails; then that
    input is left out (with the reason) and the rest are measured again.
    """
    candidate = Candidate(
        function=other_function,
        lineno=0,
        rules=("COFFE",),
        origin=CandidateOrigin.PASS,
        original_code=task.module_text + stress_hook(task),
        module_code=other_module,
        module_name=task.module_stem,
        project_root=None,
        original_function=task.entry_point if other_function != task.entry_point else "",
    )
    timed: dict[int, SizeTiming] = {}
    skipped: list[str] = []
    pending = list(range(len(task.stress_inputs)))
    while pending:  # each round either times everything pending or drops one blocking input
        timing = _measure(candidate, timing_config, tuple(pending), copy_args)
        timed.update({size.size: size for size in timing.sizes})
        pending = [index for index in pending if index not in timed]
        if pending:
            blocker, reason = _blocker(timing, pending, timing_config.call_budget)
            skipped.append(f"input {blocker}: {reason}")
            pending.remove(blocker)
    return StressTiming(tuple(_input_json(timed[i]) for i in sorted(timed)), "; ".join(skipped))


def _blocker(timing: Timing, pending: list[int], budget: float) -> tuple[int, str]:
    """The input that stopped a measurement, and why.

    An error names its input ("size 3: ..."); otherwise sizes were timed in order
    until one call of the canonical solution exceeded the per-call budget.
    """
    named = FAILED_SIZE.match(timing.detail)
    if named and int(named.group(1)) in pending:
        return int(named.group(1)), timing.detail
    if not timing.sizes and timing.detail:
        return pending[0], timing.detail
    return pending[0], f"one call exceeds the {budget:g} s budget"


def _measure(
    candidate: Candidate, timing: TimingConfig, indices: tuple[int, ...], copy_args: bool
) -> Timing:
    config = Config(
        timing=TimingConfig(
            sizes=indices,
            sample_seconds=timing.sample_seconds,
            pairs=timing.pairs,
            workers=timing.workers,
            call_budget=timing.call_budget,
            adaptive=False,  # a "size" here is the index of a stress input
        )
    )
    return measure(candidate, config, inputs_for(candidate, config), copy_args=copy_args)


def _input_json(size: SizeTiming) -> dict[str, Any]:
    return {
        "index": size.size,
        "ratio": size.ratio,
        "low": size.low,
        "high": size.high,
        "canonical_seconds": size.original_seconds,
        "other_seconds": size.candidate_seconds,
    }
