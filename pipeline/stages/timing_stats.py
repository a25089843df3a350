"""From timing samples to a decision: the ratio of medians, bootstrap interval,
noise floor, and the sequential rule that samples the deciding size until its interval
settles."""

from __future__ import annotations

import platform
import random
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from pipeline.model import SizeDecision, SizeTiming

BOOTSTRAP_RESAMPLES = 2_000
TINY_CALL_SECONDS = 10e-6
TINY_CALL_FLOOR = 1.15
# A version that blocks on at least this share of its calls is timed by the wall clock.
WAITS_PER_CALL = 0.25
CONFIDENCE = 0.95
# The deciding size is looked at up to MAX_LOOKS times, each look adding as many samples as
# the first. Pocock's boundary keeps the chance of a false decision over all the looks at
# the single look's 5% (two-sided): each look uses the same, wider interval. Constants for
# K equally spaced looks at an overall two-sided 5% (Pocock 1977, Biometrika 64(2)).
MAX_LOOKS = 4
POCOCK_Z = {1: 1.960, 2: 2.178, 3: 2.289, 4: 2.361, 5: 2.413}


def python_version() -> str:
    return f"{platform.python_implementation()} {platform.python_version()}"


def noise_floor(min_speedup: float, original_seconds: float, in_ci: bool) -> float:
    """The ratio a size must clear: larger for tiny calls, doubled on shared CI runners."""
    floor = min_speedup
    if original_seconds < TINY_CALL_SECONDS:
        floor = max(floor, TINY_CALL_FLOOR)
    return 1 + 2 * (floor - 1) if in_ci else floor


def look_confidence(max_looks: int = MAX_LOOKS) -> float:
    """The confidence of each look's interval in a Pocock design of `max_looks` looks."""
    return 1 - 2 * (1 - statistics.NormalDist().cdf(POCOCK_Z[max_looks]))


def ratio_of_medians(
    original: Sequence[float],
    candidate: Sequence[float],
    seed: int = 0,
    confidence: float = CONFIDENCE,
) -> tuple[float, float, float]:
    """Median(original) / median(candidate) with a percentile-bootstrap interval."""
    ratio = _ratio(original, candidate)
    rng = random.Random(seed)
    resampled = [
        _ratio(rng.choices(original, k=len(original)), rng.choices(candidate, k=len(candidate)))
        for _ in range(BOOTSTRAP_RESAMPLES)
    ]
    return (ratio, *_percentile_interval(resampled, confidence))


def _percentile_interval(resampled: list[float], confidence: float) -> tuple[float, float]:
    ordered, tail = sorted(resampled), (1 - confidence) / 2
    return ordered[round(tail * len(ordered))], ordered[round((1 - tail) * len(ordered)) - 1]


def _ratio(original: Sequence[float], candidate: Sequence[float]) -> float:
    return statistics.median(original) / max(statistics.median(candidate), 1e-12)


def decide(low: float, high: float, floor: float) -> SizeDecision:
    """Faster: the whole CI clears the floor; slower: it lies wholly below 1/floor."""
    if low > floor:
        return SizeDecision.FASTER
    if high < 1 / floor:
        return SizeDecision.SLOWER
    return SizeDecision.NO_CHANGE


def settled(size: SizeTiming, floor: float) -> bool:
    """The interval is precise enough to call "no change" though it straddles the floor: its
    half-width is at most the floor's own margin (5% of the ratio at the default 1.05), so
    the ratio is known to within the smallest speedup worth having."""
    return (size.high - size.low) / 2 <= (floor - 1) * size.ratio


def straddles(size: SizeTiming, floor: float) -> bool:
    """Neither faster nor slower, and more samples could still make it faster."""
    return size.decision == SizeDecision.NO_CHANGE and size.low <= floor < size.high


def decide_sequentially(
    samples: Samples,
    min_speedup: float,
    in_ci: bool,
    another_look: Callable[[], bool],
    max_looks: int = MAX_LOOKS,
    confidence: float | None = None,
) -> SizeTiming:
    """The deciding size's result: while its interval straddles the floor and is wider than
    the precision, `another_look()` adds as many samples as the first look took (False:
    the candidate's budget cannot pay for one). Out of looks or budget it is undecided.

    Every look, the first included, uses Pocock's per-look interval, so stopping at any
    look is no likelier to call an A/A pair faster than one 95% look was; stopping early
    for "no change" (the precision rule) only makes a false win rarer. (`confidence`
    overrides the per-look level: benchmarks/sequential_simulation.py compares designs.)
    """
    confidence = look_confidence(max_looks) if confidence is None else confidence
    for look in range(1, max_looks + 1):
        size = samples.decide(min_speedup, in_ci, confidence)
        floor = samples.floor(min_speedup, in_ci)
        if not straddles(size, floor) or settled(size, floor):
            return size
        if look == max_looks or not another_look():
            return replace(size, decision=SizeDecision.UNDECIDED)
    raise AssertionError("unreachable: the last look returns")


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

    def extend(self, other: Samples) -> None:
        """Pool another worker pair's samples of the same input into these."""
        for mine, theirs in ((self.cpu, other.cpu), (self.wall, other.wall),
                             (self.waits, other.waits)):  # fmt: skip
            for which in (0, 1):
                mine[which].extend(theirs[which])

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

    def _clocked(self) -> tuple[list[float], list[float]]:
        return self.cpu if self.cpu_tells_it_all() else self.wall

    def floor(self, min_speedup: float, in_ci: bool) -> float:
        return noise_floor(min_speedup, statistics.median(self._clocked()[0]), in_ci)

    def decide(self, min_speedup: float, in_ci: bool, confidence: float = CONFIDENCE) -> SizeTiming:
        original, candidate = self._clocked()
        # Not the median of paired ratios: the two workers of a look can share an offset
        # of a few percent that an interval over their pairs cannot see (A/A runs then
        # called identical code faster or slower in 4 of 5 runs at low load).
        ratio, low, high = ratio_of_medians(original, candidate, self.size, confidence)
        return SizeTiming(
            size=self.size,
            ratio=ratio,
            low=low,
            high=high,
            decision=decide(low, high, self.floor(min_speedup, in_ci)),
            original_seconds=statistics.median(original),
            candidate_seconds=statistics.median(candidate),
            source=self.source,
            clock="cpu" if self.cpu_tells_it_all() else "wall",
            samples=min(len(original), len(candidate)),
            confidence=confidence,
        )
