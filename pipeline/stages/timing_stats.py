"""From timing samples to a decision: the noise floor, the interval over worker pairs
(or, with too few of them, the bootstrap over pooled samples), and the sequential rule
that samples the deciding size until its interval settles."""

from __future__ import annotations

import math
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
# Each look at the deciding size has this many worker pairs (at least `workers`): the
# interval is over worker pairs, so it needs a few of them to be narrow (see `unit_interval`).
LOOK_UNITS = 4
# Fewer worker pairs than this and the interval is the bootstrap over pooled samples.
MIN_UNITS = 3
# The share of worker pairs set aside at each end of the interval over them (see `unit_interval`).
TRIM = 0.2
# A speedup of this many times the floor's margin (1.2x at the default 1.05) is what the
# tool promises to find (benchmarks/power_calibration.py): see `precision`.
TARGET_MARGINS = 4
Versions = tuple[list[float], list[float]]  # (original, candidate) samples


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


def student_t_cdf(t: float, df: int) -> float:
    """P(T <= t) for Student's t with an integer number of degrees of freedom (closed forms,
    Abramowitz & Stegun 26.7.3 and 26.7.4)."""
    theta = math.atan(t / math.sqrt(df))
    cos2 = math.cos(theta) ** 2
    if df % 2 == 0:
        term, total = 1.0, 1.0
        for k in range(1, df // 2):
            term *= cos2 * (2 * k - 1) / (2 * k)
            total += term
        return 0.5 + math.sin(theta) * total / 2
    series = 0.0
    if df > 1:
        term = total = 1.0
        for k in range(1, (df - 1) // 2):
            term *= cos2 * (2 * k) / (2 * k + 1)
            total += term
        series = math.sin(theta) * math.cos(theta) * total
    return 0.5 + (theta + series) / math.pi


def student_t_quantile(probability: float, df: int) -> float:
    """The t with P(T <= t) = probability (0.5 < probability < 1), by bisection."""
    low, high = 0.0, 1.0
    while student_t_cdf(high, df) < probability:
        low, high = high, high * 2
    for _ in range(100):
        middle = (low + high) / 2
        low, high = (middle, high) if student_t_cdf(middle, df) < probability else (low, middle)
    return (low + high) / 2


def lower_quartile(seconds: Sequence[float]) -> float:
    """The per-call time of a version in one worker pair: other processes only ever add
    time (they take the core, evict caches), so the lower quartile is the sample least
    inflated by load that is still not a single lucky one, as the minimum would be."""
    if len(seconds) < 2:
        return seconds[0]
    return statistics.quantiles(seconds, n=4, method="inclusive")[0]


def unit_interval(
    units: Sequence[Versions], confidence: float, trim: float = TRIM
) -> tuple[float, float, float]:
    """The speedup over worker pairs: each pair's (original, candidate) samples give one
    log ratio of lower quartiles; the figure is their trimmed mean, with Yuen's trimmed
    t interval over the pairs (needs at least two).

    The worker pair is the unit because the two workers of one pair share an offset of a
    few percent (memory layout, hash seeds, the load of that moment) that an interval over
    their samples cannot see; over pairs it is part of the spread. A load spike can
    still spoil a whole pair: the `trim` share of pairs at each end is set aside (none of
    4, one of 5 to 9, ...) and the spread is the winsorized one (Tukey and McLaughlin 1963;
    Yuen 1974), so one spoiled pair widens the interval little, and identical code stays
    symmetric around 1."""
    logs = sorted(math.log(lower_quartile(o) / max(lower_quartile(c), 1e-12)) for o, c in units)
    count = len(logs)
    cut = int(trim * count)
    kept = logs[cut : count - cut]
    winsorized = [logs[cut]] * cut + kept + [logs[count - cut - 1]] * cut
    center = statistics.fmean(kept)
    error = statistics.stdev(winsorized) * math.sqrt((count - 1) / (len(kept) * (len(kept) - 1)))
    half = student_t_quantile(1 - (1 - confidence) / 2, len(kept) - 1) * error
    return math.exp(center), math.exp(center - half), math.exp(center + half)


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


def precision(floor: float, target: float | None = None) -> float:
    """The half-width, as a share of the ratio, under which an interval that straddles the
    floor is settled as "no change": 6.25% at the default floor of 1.05.

    An interval [low, high] with low <= floor and half-width h*ratio has
    high <= floor / (1 - 2h), so this h puts its upper end at or below the target speedup,
    1 + TARGET_MARGINS * (floor - 1) (1.2 at the default floor): a "no change" then rules
    out the speedups the tool promises to find, and only smaller ones would need more samples.
    `target` overrides that speedup (see `settled`); at or below the floor nothing settles.
    """
    target = target_speedup(floor) if target is None else target
    return max(0.0, (1 - floor / target) / 2)


def settled(size: SizeTiming, floor: float, target: float | None = None) -> bool:
    """The interval is precise enough to call "no change" though it straddles the floor.

    `target` is the speedup a "no change" must rule out: `promised_speedup`, when the floor
    was raised for a tiny call. The raised floor's own target (1.6x at 1.15) would settle
    a real 1.22x [1.13, 1.32] on a traced run's sub-microsecond calls as "no change" at the
    first look, though the tool promises to find 1.2x."""
    return (size.high - size.low) / 2 <= precision(floor, target) * size.ratio


def promised_speedup(min_speedup: float, in_ci: bool) -> float:
    """The speedup the tool promises to find at this floor, whatever a call's duration."""
    return target_speedup(noise_floor(min_speedup, TINY_CALL_SECONDS, in_ci))


def target_speedup(floor: float) -> float:
    """The speedup the tool promises to find: 1.2x at the default floor of 1.05."""
    return 1 + TARGET_MARGINS * (floor - 1)


def beyond_doubt(size: SizeTiming, floor: float) -> bool:
    """Whether the first pass's few worker pairs may decide without more: the interval
    clears the target speedup (not just the floor) either way, or cannot reach the floor.

    With fewer than MIN_UNITS worker pairs the interval is over pooled samples and misses
    the offset two workers can share (A/A: 1.09x [1.06, 1.14] once); clearing 1.2x asks
    for several times any offset seen, and a size that cannot reach the floor can only
    be "no change" however many pairs follow. Clear wins, most rewrites, then cost no
    more worker pairs than before the sequential design."""
    target = target_speedup(floor)
    cannot_reach = size.decision == SizeDecision.NO_CHANGE and size.high <= floor
    return size.low > target or size.high < 1 / target or cannot_reach


def straddles(size: SizeTiming, floor: float) -> bool:
    """Neither faster nor slower, and more samples could still make it faster."""
    return size.decision == SizeDecision.NO_CHANGE and size.low <= floor < size.high


def decide_sequentially(
    samples: Samples,
    min_speedup: float,
    in_ci: bool,
    add_units: Callable[[int], bool],
    look_units: int = LOOK_UNITS,
    max_looks: int = MAX_LOOKS,
    confidence: float | None = None,
) -> SizeTiming:
    """The deciding size's result. Unless the worker pairs of the first pass over every size
    already decide it beyond doubt, its first look tops them up to `look_units`;
    while the interval straddles the floor and is wider than the precision, each later
    look adds `look_units` more. `add_units(n)` adds n worker pairs' samples (False: the
    candidate's budget cannot pay for them). Out of looks or budget it is undecided.

    Every look, the first included, uses Pocock's per-look interval, so stopping at any
    look is no likelier to call an A/A pair faster than one 95% look was; stopping early
    for "no change" (the precision rule) only makes a false win rarer. (`confidence`
    overrides the per-look level: benchmarks/sequential_simulation.py compares designs.)
    """
    confidence = look_confidence(max_looks) if confidence is None else confidence
    missing = look_units - len(samples.units)
    if missing > 0:
        size = samples.decide(min_speedup, in_ci, confidence)
        if beyond_doubt(size, samples.floor(min_speedup, in_ci)):
            return size
    budget_left = missing <= 0 or add_units(missing)
    for look in range(1, max_looks + 1):
        size = samples.decide(min_speedup, in_ci, confidence)
        floor = samples.floor(min_speedup, in_ci)
        if not straddles(size, floor) or settled(size, floor, promised_speedup(min_speedup, in_ci)):
            return size
        if look == max_looks or not budget_left or not add_units(look_units):
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
    # Where each worker pair's samples start, in each version's lists.
    units: list[tuple[int, int]] = field(default_factory=list)

    def new_unit(self) -> None:
        """The samples added from now on come from another (fresh) worker pair."""
        self.units.append((len(self.cpu[0]), len(self.cpu[1])))

    def add(self, candidate: bool, cpu: float, wall: float, waits: float) -> None:
        """One sample's per-call CPU and wall seconds, and per-call voluntary context
        switches (the kernel's count of times the worker blocked: slept, waited)."""
        if not self.units:
            self.new_unit()
        self.cpu[candidate].append(cpu)
        self.wall[candidate].append(wall)
        self.waits[candidate].append(waits)

    def extend(self, other: Samples) -> None:
        """Pool another look's samples of the same input into these, worker pairs kept apart."""
        offsets = (len(self.cpu[0]), len(self.cpu[1]))
        self.units.extend((offsets[0] + o, offsets[1] + c) for o, c in other.units)
        for mine, theirs in ((self.cpu, other.cpu), (self.wall, other.wall),
                             (self.waits, other.waits)):  # fmt: skip
            for which in (0, 1):
                mine[which].extend(theirs[which])

    def by_unit(self, clocked: Versions) -> list[Versions]:
        """Each worker pair's (original, candidate) samples of the given clock."""
        ends = [*self.units[1:], (len(clocked[0]), len(clocked[1]))]
        return [(clocked[0][o:end_o], clocked[1][c:end_c])
                for (o, c), (end_o, end_c) in zip(self.units, ends, strict=True)
                if end_o > o and end_c > c]  # fmt: skip

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
        units = self.by_unit((original, candidate))
        if len(units) >= MIN_UNITS:
            ratio, low, high = unit_interval(units, confidence)
        else:  # too few worker pairs for an interval over them: pool their samples
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
            worker_pairs=len(units),
        )
