"""From timing samples to a decision: ratio of medians, bootstrap interval, noise floor."""

from __future__ import annotations

import platform
import random
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field

from pipeline.model import SizeDecision, SizeTiming

BOOTSTRAP_RESAMPLES = 2_000
TINY_CALL_SECONDS = 10e-6
TINY_CALL_FLOOR = 1.15
# A version that blocks on at least this share of its calls is timed by the wall clock.
WAITS_PER_CALL = 0.25


def python_version() -> str:
    return f"{platform.python_implementation()} {platform.python_version()}"


def noise_floor(min_speedup: float, original_seconds: float, in_ci: bool) -> float:
    """The ratio a size must clear: larger for tiny calls, doubled on shared CI runners."""
    floor = min_speedup
    if original_seconds < TINY_CALL_SECONDS:
        floor = max(floor, TINY_CALL_FLOOR)
    return 1 + 2 * (floor - 1) if in_ci else floor


def ratio_of_medians(
    original: Sequence[float], candidate: Sequence[float], seed: int = 0
) -> tuple[float, float, float]:
    """Median(original) / median(candidate) with a percentile-bootstrap 95% CI."""
    ratio = _ratio(original, candidate)
    rng = random.Random(seed)
    resampled = sorted(
        _ratio(rng.choices(original, k=len(original)), rng.choices(candidate, k=len(candidate)))
        for _ in range(BOOTSTRAP_RESAMPLES)
    )
    low = resampled[int(0.025 * BOOTSTRAP_RESAMPLES)]
    high = resampled[int(0.975 * BOOTSTRAP_RESAMPLES) - 1]
    return ratio, low, high


def _ratio(original: Sequence[float], candidate: Sequence[float]) -> float:
    return statistics.median(original) / max(statistics.median(candidate), 1e-12)


def decide(low: float, high: float, floor: float) -> SizeDecision:
    """Faster: the whole CI clears the floor; slower: it lies wholly below 1/floor."""
    if low > floor:
        return SizeDecision.FASTER
    if high < 1 / floor:
        return SizeDecision.SLOWER
    return SizeDecision.NO_CHANGE


@dataclass
class Samples:
    """One input's per-call seconds, by CPU clock and by wall clock, for both versions."""

    size: int
    source: str
    cpu: tuple[list[float], list[float]] = field(default_factory=lambda: ([], []))
    wall: tuple[list[float], list[float]] = field(default_factory=lambda: ([], []))
    waits: tuple[list[float], list[float]] = field(default_factory=lambda: ([], []))

    def add(self, candidate: bool, cpu: float, wall: float, waits: float) -> None:
        """One sample's per-call CPU and wall seconds, and per-call voluntary context
        switches (the kernel's count of times the worker blocked: slept, waited)."""
        self.cpu[candidate].append(cpu)
        self.wall[candidate].append(wall)
        self.waits[candidate].append(waits)

    def cpu_tells_it_all(self) -> bool:
        """Whether CPU time stands for the cost of both functions.

        CPU time ignores the time other processes hold the core, which on a shared
        machine is most of the noise. It also ignores sleeping and waiting: a
        function that blocks on most calls (the kernel counts each time the worker
        gives up the CPU voluntarily) is timed by the wall clock instead, and so is
        the other version, at that size. Load alone causes only involuntary
        switches, so it never tips the choice.
        """
        return all(statistics.median(waits) < WAITS_PER_CALL for waits in self.waits)

    def decide(self, min_speedup: float, in_ci: bool) -> SizeTiming:
        original, candidate = self.cpu if self.cpu_tells_it_all() else self.wall
        ratio, low, high = ratio_of_medians(original, candidate, seed=self.size)
        original_median = statistics.median(original)
        floor = noise_floor(min_speedup, original_median, in_ci)
        return SizeTiming(
            size=self.size,
            ratio=ratio,
            low=low,
            high=high,
            decision=decide(low, high, floor),
            original_seconds=original_median,
            candidate_seconds=statistics.median(candidate),
            source=self.source,
            clock="cpu" if self.cpu_tells_it_all() else "wall",
        )
