# ruff: noqa
"""Numeric loops: primes, recurrences, histograms, scaling, windows and medians."""

import random
from typing import Callable


def primes_up_to(limit: int) -> list[int]:
    """Return all primes <= limit using trial division by every smaller number."""
    primes = []
    for candidate in range(2, limit + 1):
        is_prime = True
        for divisor in range(2, candidate):
            if candidate % divisor == 0:
                is_prime = False
                break
        if is_prime:
            primes.append(candidate)
    return primes


def _inputs_primes_up_to(n: int) -> tuple[object, ...]:
    return (n,)


def lattice_paths(rows: int, cols: int) -> int:
    """Count monotone right/down paths across a rows x cols grid of cells."""
    if rows == 0 or cols == 0:
        return 1
    return lattice_paths(rows - 1, cols) + lattice_paths(rows, cols - 1)


def _inputs_lattice_paths(n: int) -> tuple[object, ...]:
    return (n, n + 1)


def tribonacci(n: int) -> int:
    """Return the n-th tribonacci number (0, 0, 1, 1, 2, 4, 7, ...)."""
    if n < 2:
        return 0
    if n == 2:
        return 1
    return tribonacci(n - 1) + tribonacci(n - 2) + tribonacci(n - 3)


def _inputs_tribonacci(n: int) -> tuple[object, ...]:
    return (n,)


def partition_count(total: int, largest: int) -> int:
    """Count the ways to write total as a sum of positive parts no bigger than largest."""
    if total == 0:
        return 1
    if total < 0 or largest == 0:
        return 0
    return partition_count(total - largest, largest) + partition_count(total, largest - 1)


def _inputs_partition_count(n: int) -> tuple[object, ...]:
    return (n, n // 2)


def histogram(values: list[int], bucket_width: int) -> dict[int, int]:
    """Count values per bucket, keyed by the bucket's lower bound."""
    hist = {}
    for v in values:
        bucket = (v // bucket_width) * bucket_width
        if bucket in hist:
            hist[bucket] += 1
        else:
            hist[bucket] = 1
    return hist


def _inputs_histogram(n: int) -> tuple[object, ...]:
    rng = random.Random(n)
    return ([int(rng.gauss(500, 120)) for _ in range(n)], 25)


def normalize_to_max(scores: list[int]) -> list[float]:
    """Scale positive scores so that the highest one becomes 1.0."""
    return [s / max(scores) for s in scores]


def _inputs_normalize_to_max(n: int) -> tuple[object, ...]:
    rng = random.Random(n + 1)
    return ([rng.randint(1, 10_000) for _ in range(n)],)


def squares_of_evens(values: list[int]) -> list[int]:
    """Return the squares of the even values, in order."""
    return list(map(lambda v: v * v, filter(lambda v: v % 2 == 0, values)))


def _inputs_squares_of_evens(n: int) -> tuple[object, ...]:
    rng = random.Random(n + 2)
    return ([rng.randint(-1_000, 1_000) for _ in range(n)],)


def dot_product(a: list[int], b: list[int]) -> int:
    """Return the dot product of two equal-length integer vectors."""
    total = 0
    for i in range(len(a)):
        total += a[i] * b[i]
    return total


def _inputs_dot_product(n: int) -> tuple[object, ...]:
    rng = random.Random(n + 3)
    return ([rng.randint(-100, 100) for _ in range(n)], [rng.randint(-100, 100) for _ in range(n)])


def moving_average(values: list[int], window: int) -> list[float]:
    """Return the mean of every full window of consecutive values."""
    averages = []
    for i in range(len(values) - window + 1):
        averages.append(sum(values[i:i + window]) / window)
    return averages


def _inputs_moving_average(n: int) -> tuple[object, ...]:
    rng = random.Random(n + 4)
    return ([rng.randint(0, 1_000) for _ in range(n)], max(1, n // 10))


def running_median(values: list[int]) -> list[int]:
    """Return the lower median of every prefix of values."""
    medians = []
    for i in range(1, len(values) + 1):
        ordered = sorted(values[:i])
        medians.append(ordered[(i - 1) // 2])
    return medians


def _inputs_running_median(n: int) -> tuple[object, ...]:
    rng = random.Random(n + 5)
    return ([rng.randint(0, 10_000) for _ in range(n)],)


OPTIMIZE_INPUTS: dict[str, Callable[[int], tuple[object, ...]]] = {
    "primes_up_to": _inputs_primes_up_to,
    "lattice_paths": _inputs_lattice_paths,
    "tribonacci": _inputs_tribonacci,
    "partition_count": _inputs_partition_count,
    "histogram": _inputs_histogram,
    "normalize_to_max": _inputs_normalize_to_max,
    "squares_of_evens": _inputs_squares_of_evens,
    "dot_product": _inputs_dot_product,
    "moving_average": _inputs_moving_average,
    "running_median": _inputs_running_median,
}

OPTIMIZE_SIZES: dict[str, tuple[int, ...]] = {
    "primes_up_to": (1_000, 3_000, 6_000),
    "lattice_paths": (6, 8, 10),
    "tribonacci": (15, 19, 23),
    "partition_count": (25, 35, 45),
    "histogram": (1_000, 10_000, 100_000),
    "normalize_to_max": (200, 1_000, 2_000),
    "squares_of_evens": (1_000, 10_000, 100_000),
    "dot_product": (1_000, 10_000, 100_000),
    "moving_average": (1_000, 5_000, 12_000),
    "running_median": (200, 800, 1_500),
}

CATEGORY: dict[str, str] = {
    "primes_up_to": "llm-only",
    "lattice_paths": "idiom",
    "tribonacci": "idiom",
    "partition_count": "idiom",
    "histogram": "idiom",
    "normalize_to_max": "idiom",
    "squares_of_evens": "idiom",
    "dot_product": "idiom",
    "moving_average": "llm-only",
    "running_median": "llm-only",
}

IDIOM: dict[str, str] = {
    "primes_up_to": "naive trial division by every smaller number over a range (sieve fits)",
    "lattice_paths": "pure recursion on int args without memoisation (exponential)",
    "tribonacci": "fibonacci-like recurrence without memoisation (exponential)",
    "partition_count": "partition-count recursion without memoisation",
    "histogram": "manual counting dict with `if k in d: ... else: ...`",
    "normalize_to_max": "loop-invariant max(scores) recomputed per element (quadratic)",
    "squares_of_evens": "list(map(lambda ..., filter(lambda ...)))",
    "dot_product": "range(len(a)) indexing loop with += accumulation",
    "moving_average": "re-summing every window slice (O(n*w)) instead of a sliding sum",
    "running_median": "re-sorting the prefix inside the loop (O(n^2 log n))",
}
