"""With a trace, the real calls decide: the ratio over the recorded calls that were timed,
each weighted by how many traced calls it stands for.

The weights come from the size histogram of every traced call (or, from a store
without one, the recorded sample's sizes): each traced size goes to the timed
recorded call nearest to it in logarithmic size. The ratio is the weighted
original time over the weighted candidate time, so it is the function's share
of the workload sped up (or slowed down), and its bootstrap interval resamples
each timed call's samples. Calls enlarged beyond what the trace saw never
weigh: no real call was that big.

While the interval straddles the floor, further looks time every weighing call again
in fresh worker pairs, under the deciding size's design (`timing_stats`: Pocock's
per-look interval, the precision rule, the same number of looks and the candidate's
budget); out of looks or budget the decision is undecided.
"""

from __future__ import annotations

import math
import random
import statistics
from collections.abc import Callable, Sequence
from dataclasses import replace

from pipeline.model import SizeDecision, SizeTiming
from pipeline.stages.timing_stats import (
    BOOTSTRAP_RESAMPLES,
    CONFIDENCE,
    MAX_LOOKS,
    Samples,
    decide,
    look_confidence,
    noise_floor,
    promised_speedup,
    settled,
    straddles,
)

SOURCE = "recorded calls, weighted"


def call_weights(timed_sizes: Sequence[int], histogram: Sequence[tuple[int, int]]) -> list[int]:
    """How many traced calls each timed size stands for: those nearest to it in log size."""
    weights = [0] * len(timed_sizes)
    if not timed_sizes:
        return weights
    for size, calls in histogram:
        nearest = min(
            range(len(timed_sizes)),
            key=lambda i: abs(_log_size(size) - _log_size(timed_sizes[i])),
        )
        weights[nearest] += calls
    return weights


def _log_size(size: int) -> float:
    """log(size + 1); a size may be an int too large for a float (a recorded `10**400`),
    which `math.log` takes and `math.log1p` does not."""
    return math.log(max(size, 0) + 1)


def weighted_decision(
    timed: Sequence[Samples],
    weights: Sequence[int],
    min_speedup: float,
    in_ci: bool,
    confidence: float = CONFIDENCE,
) -> SizeTiming | None:
    """The decision over the timed recorded calls, weighted; None when none weighs.
    `samples` is how many samples of each version every weighing call has."""
    kept = [(samples, weight) for samples, weight in zip(timed, weights, strict=True) if weight]
    if not kept:
        return None
    by_cpu = all(samples.cpu_tells_it_all() for samples, _ in kept)
    clocks = [(s.cpu if by_cpu else s.wall, w) for s, w in kept]
    total = sum(weight for _, weight in clocks)
    original = sum(w * statistics.median(c[0]) for c, w in clocks) / total
    candidate = sum(w * statistics.median(c[1]) for c, w in clocks) / total
    low, high = _interval(clocks, confidence)
    ratio = original / max(candidate, 1e-12)
    return SizeTiming(
        size=max(samples.size for samples, _ in kept),
        ratio=ratio,
        low=low,
        high=high,
        decision=decide(low, high, noise_floor(min_speedup, original, in_ci)),
        original_seconds=original,
        candidate_seconds=candidate,
        source=f"{SOURCE} by {total:,} traced call(s)",
        clock="cpu" if by_cpu else "wall",
        samples=min(min(len(c[0]), len(c[1])) for c, _ in clocks),
        confidence=confidence,
    )


def decide_weighted_sequentially(
    timed: Sequence[Samples],
    weights: Sequence[int],
    min_speedup: float,
    in_ci: bool,
    another_look: Callable[[], bool],
    max_looks: int = MAX_LOOKS,
) -> SizeTiming | None:
    """The weighted decision, looked at as the deciding size is (`decide_sequentially`):
    while its interval straddles the floor and is wider than the precision,
    `another_look()` adds to every weighing call's samples as many as its first look
    took (False: the budget cannot pay for it). Out of looks or budget it is undecided.
    Every look uses Pocock's per-look interval, the first included."""
    confidence = look_confidence(max_looks)
    for look in range(1, max_looks + 1):
        decision = weighted_decision(timed, weights, min_speedup, in_ci, confidence)
        if decision is None:
            return None
        floor = noise_floor(min_speedup, decision.original_seconds, in_ci)
        promised = promised_speedup(min_speedup, in_ci)
        if not straddles(decision, floor) or settled(decision, floor, promised):
            return decision
        if look == max_looks or not another_look():
            return replace(decision, decision=SizeDecision.UNDECIDED)
    raise AssertionError("unreachable: the last look returns")


def _interval(
    clocks: Sequence[tuple[tuple[list[float], list[float]], int]], confidence: float, seed: int = 0
) -> tuple[float, float]:
    """Percentile-bootstrap interval of the weighted ratio at `confidence`, resampling every
    timed call's original and candidate samples independently."""
    rng = random.Random(seed)

    def resampled_ratio() -> float:
        original = candidate = 0.0
        for (before, after), weight in clocks:
            original += weight * statistics.median(rng.choices(before, k=len(before)))
            candidate += weight * statistics.median(rng.choices(after, k=len(after)))
        return original / max(candidate, 1e-12)

    ratios = sorted(resampled_ratio() for _ in range(BOOTSTRAP_RESAMPLES))
    tail = (1 - confidence) / 2
    return ratios[round(tail * len(ratios))], ratios[round((1 - tail) * len(ratios)) - 1]
