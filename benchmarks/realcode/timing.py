"""The workload script, before and after, side by side: a ratio of medians with its interval.

Each sample is one fresh interpreter running `workload_timer.py` on the package
as it was (the pristine sdist) or as it is (the rewritten work copy): the median
of its `repeats` runs. The two sides alternate (ABBA), so drifts in the
machine's load fall on both. The ratio and its bootstrap interval come from the
same `pipeline.stages.timing_stats` the tool decides with.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.stages.timing_stats import ratio_of_medians

TIMER = Path(__file__).with_name("workload_timer.py")
TIMEOUT = 300.0


class WorkloadError(RuntimeError):
    pass


@dataclass(frozen=True)
class WorkloadTiming:
    before: tuple[float, ...]  # seconds per workload run, one sample per process
    after: tuple[float, ...]
    same_output: bool

    @property
    def ratio(self) -> tuple[float, float, float]:
        """before / after: above 1 the rewritten package is faster."""
        return ratio_of_medians(self.before, self.after)

    def describe(self) -> str:
        ratio, low, high = self.ratio
        same = "" if self.same_output else ", OUTPUT DIFFERS"
        return f"{ratio:.2f}x [{low:.2f}, {high:.2f}]{same}"

    def to_json(self) -> dict[str, Any]:
        ratio, low, high = self.ratio
        return {
            "ratio": ratio,
            "low": low,
            "high": high,
            "before_median": statistics.median(self.before),
            "after_median": statistics.median(self.after),
            "samples": len(self.before),
            "same_output": self.same_output,
        }


def time_workload(
    script: Path,
    before_env: dict[str, str],
    after_env: dict[str, str],
    pairs: int,
    repeats: int,
) -> WorkloadTiming:
    before: list[float] = []
    after: list[float] = []
    digests = set()
    for index in range(pairs):
        sides = [(before_env, before), (after_env, after)]
        for env, samples in sides if index % 2 == 0 else reversed(sides):
            seconds, digest = _sample(script, env, repeats)
            samples.append(seconds)
            digests.add(digest)
    return WorkloadTiming(tuple(before), tuple(after), same_output=len(digests) == 1)


def _sample(script: Path, env: dict[str, str], repeats: int) -> tuple[float, str]:
    command = [sys.executable, str(TIMER), str(script), str(repeats)]
    done = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=TIMEOUT, check=False
    )
    if done.returncode != 0:
        tail = " | ".join(done.stderr.strip().splitlines()[-3:])
        raise WorkloadError(f"{script.name} exited {done.returncode}: {tail}")
    report = json.loads(done.stdout.strip().splitlines()[-1])
    return statistics.median(report["seconds"]), report["digest"]
