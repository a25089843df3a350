"""Stage 5: time the original against the candidate, honestly.

Samples are interleaved (ABAB...) inside each of several fresh sandboxed
workers, run one at a time, with GC disabled during each sample. A sample is
the timed thread's CPU time, which other load on the machine does not inflate;
where a function waits or works off-thread (its wall/CPU ratio stands out),
wall-clock samples are used for that size instead, and the detail says so. The figure
reported is the ratio of medians (original / candidate, so > 1 is faster)
with a bootstrap 95% confidence interval. A size counts as *faster* only when
the whole interval clears the noise floor.

Timing never shares cores with itself: one measurement runs at a time in this
process (threads) and in its process group (a lock file, for worker processes),
even when verification runs in parallel.
"""

from __future__ import annotations

import fcntl
import os
import platform
import random
import statistics
import tempfile
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.config import Config
from pipeline.model import Candidate, SizeDecision, SizeTiming, Timing
from pipeline.sandbox.runner import run_candidate

BOOTSTRAP_RESAMPLES = 2_000
TINY_CALL_SECONDS = 10e-6
TINY_CALL_FLOOR = 1.15
_TIMING_LOCK = threading.Lock()


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


def measure(candidate: Candidate, config: Config, copy_args: bool = False) -> Timing:
    """Time `candidate` against its original at each configured input size."""
    settings = {
        "sizes": list(config.timing.sizes),
        "sample_seconds": config.timing.sample_seconds,
        "pairs": config.timing.pairs,
        "call_budget": config.timing.call_budget,
        "copy_args": copy_args,
    }
    samples: dict[int, Pooled] = {}
    isolation = "none"
    for _ in range(max(1, config.timing.workers)):  # fresh worker processes, one at a time
        with one_measurement_at_a_time():
            result = run_candidate(candidate, "measure", settings, config.limits)
        isolation = result.isolation
        payload = result.payload
        if payload is None or payload.get("status") != "ok":
            detail = result.reason if payload is None else str(payload.get("detail", ""))
            return Timing((), config.min_speedup, python_version(), isolation, detail=detail)
        _pool(samples, payload["sizes"])
    in_ci = os.environ.get("CI", "").lower() == "true"
    sizes = tuple(
        _size_timing(size, samples[size], config.min_speedup, in_ci) for size in sorted(samples)
    )
    wall = [str(size) for size in sorted(samples) if samples[size].wall_clock]
    detail = f"wall-clock samples at n={', '.join(wall)}" if wall else ""
    return Timing(sizes, config.min_speedup, python_version(), isolation, detail=detail)


@contextmanager
def one_measurement_at_a_time() -> Iterator[None]:
    """Hold the timing lock of this process and of its process group (released if we die).

    Worker processes of one `optimize` run share its process group; other runs on
    the machine do not wait for it.
    """
    lock_path = Path(tempfile.gettempdir()) / f"optimize-timing-{os.getuid()}-{os.getpgid(0)}.lock"
    with _TIMING_LOCK, lock_path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _pool(samples: dict[int, Pooled], sizes: list[dict[str, Any]]) -> None:
    """Add one worker's samples; a size that any worker timed by wall clock uses wall everywhere."""
    for entry in sizes:
        pooled = samples.setdefault(int(entry["size"]), Pooled())
        pooled.add(entry)


@dataclass
class Pooled:
    """One size: every worker's CPU-time and wall-clock samples, and which clock to use."""

    wall_clock: bool = False
    cpu: tuple[list[float], list[float]] = field(default_factory=lambda: ([], []))
    wall: tuple[list[float], list[float]] = field(default_factory=lambda: ([], []))

    def add(self, entry: dict[str, Any]) -> None:
        wall = entry.get("wall", {"original": entry["original"], "candidate": entry["candidate"]})
        self.wall_clock |= entry.get("clock") != "thread-cpu"
        self.cpu[0].extend(entry["original"])
        self.cpu[1].extend(entry["candidate"])
        self.wall[0].extend(wall["original"])
        self.wall[1].extend(wall["candidate"])

    def chosen(self) -> tuple[list[float], list[float]]:
        return self.wall if self.wall_clock else self.cpu


def _size_timing(size: int, pooled: Pooled, min_speedup: float, in_ci: bool) -> SizeTiming:
    original, candidate = pooled.chosen()
    ratio, low, high = ratio_of_medians(original, candidate, seed=size)
    original_median = statistics.median(original)
    floor = noise_floor(min_speedup, original_median, in_ci)
    return SizeTiming(
        size=size,
        ratio=ratio,
        low=low,
        high=high,
        decision=decide(low, high, floor),
        original_seconds=original_median,
        candidate_seconds=statistics.median(candidate),
    )
