"""Step 4: time the canonical solution against another module on the task's stress inputs.

Everything goes through `measure_on_stress_inputs`, the one place that knows the
project's timing API: today `pipeline.stages.measure.measure` (original and
candidate each in its own sandboxed worker, samples alternated, ratio of
medians with a bootstrap 95% interval) fed by the module hook
`OPTIMIZE_INPUTS`, whose "size" is the index of a stress input (with
`adaptive = false`, so exactly that input is timed). When the timing protocol
changes, only that function changes.

The stress inputs are expressions (comprehensions, `range`, `str.join`,
`random`), not only literals, so the parent never evaluates them: they become
functions of the timing copy of the canonical module and run only in the
sandboxed timing child, like any code under test.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Any

from benchmarks.coffe.data import Task
from benchmarks.harness import geometric_mean
from pipeline.config import Config, TimingConfig
from pipeline.model import Candidate, CandidateOrigin, SizeTiming, Timing
from pipeline.stages.measure import measure
from pipeline.stages.verify import inputs_for

HOOK_PREFIX = "_coffe_stress_input_"
NOT_FROM_HOOK = ("literal", "recorded")  # inputs the protocol falls back to


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

    One measurement per input: the protocol reports an input by its size, not by
    the hook's index, and when the hook's input is over the per-call budget it
    falls back to doctest calls, which are not stress inputs and are dropped.
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
    timed: list[dict[str, Any]] = []
    skipped: list[str] = []
    for index in range(len(task.stress_inputs)):
        timing = _measure(candidate, timing_config, index, copy_args)
        from_hook = [size for size in timing.sizes if size.source not in NOT_FROM_HOOK]
        if from_hook:
            timed.append(_input_json(index, from_hook[0]))
        else:
            budget = f"one call exceeds the {timing_config.call_budget:g} s budget"
            skipped.append(f"input {index}: {timing.detail or budget}")
    return StressTiming(tuple(timed), "; ".join(skipped))


def _measure(candidate: Candidate, timing: TimingConfig, index: int, copy_args: bool) -> Timing:
    config = Config(
        timing=TimingConfig(
            sizes=(index,),
            sample_seconds=timing.sample_seconds,
            pairs=timing.pairs,
            workers=timing.workers,
            call_budget=timing.call_budget,
            adaptive=False,  # a "size" here is the index of a stress input
        )
    )
    return measure(candidate, config, inputs_for(candidate, config), copy_args=copy_args)


def _input_json(index: int, size: SizeTiming) -> dict[str, Any]:
    return {
        "index": index,
        "size": size.size,
        "ratio": size.ratio,
        "low": size.low,
        "high": size.high,
        "canonical_seconds": size.original_seconds,
        "other_seconds": size.candidate_seconds,
    }
