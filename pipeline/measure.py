"""Stage 5: time the original against the candidate, honestly.

Samples are interleaved (ABAB...) inside each of several fresh sandboxed
workers, run one at a time, with GC disabled during each sample. The figure
reported is the ratio of medians (original / candidate, so > 1 is faster)
with a bootstrap 95% confidence interval. A size counts as *faster* only when
the whole interval clears the noise floor.

Timing never shares cores: one measurement runs at a time in this process
(threads) and on this machine (a lock file), even when verification runs in
parallel.
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
from pathlib import Path
from typing import Any

from pipeline.config import Config
from pipeline.model import Candidate, SizeDecision, SizeTiming, Timing
from pipeline.sandbox import run_candidate

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
        return "faster"
    if high < 1 / floor:
        return "slower"
    return "no change"


def measure(candidate: Candidate, config: Config, copy_args: bool = False) -> Timing:
    """Time `candidate` against its original at each configured input size."""
    settings = {
        "sizes": list(config.timing.sizes),
        "sample_seconds": config.timing.sample_seconds,
        "pairs": config.timing.pairs,
        "call_budget": config.timing.call_budget,
        "copy_args": copy_args,
    }
    samples: dict[int, dict[str, list[float]]] = {}
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
    return Timing(sizes, config.min_speedup, python_version(), isolation)


@contextmanager
def one_measurement_at_a_time() -> Iterator[None]:
    """Hold the timing lock of this process and of this machine (released if we die)."""
    lock_path = Path(tempfile.gettempdir()) / f"optimize-timing-{os.getuid()}.lock"
    with _TIMING_LOCK, lock_path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _pool(samples: dict[int, dict[str, list[float]]], sizes: list[dict[str, Any]]) -> None:
    for entry in sizes:
        pooled = samples.setdefault(int(entry["size"]), {"original": [], "candidate": []})
        pooled["original"] += entry["original"]
        pooled["candidate"] += entry["candidate"]


def _size_timing(
    size: int, pooled: dict[str, list[float]], min_speedup: float, in_ci: bool
) -> SizeTiming:
    original, candidate = pooled["original"], pooled["candidate"]
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
