# ruff: noqa
"""Simple algorithms: graph search, scheduling, pair search, sorting and intervals."""

import random
from typing import Callable


def bfs_distance(graph: dict[int, list[int]], start: int, goal: int) -> int:
    """Return the number of edges on a shortest path from start to goal, or -1."""
    queue = [(start, 0)]
    visited = [start]
    while queue:
        node, dist = queue.pop(0)
        if node == goal:
            return dist
        for nxt in graph[node]:
            if nxt not in visited:
                visited.append(nxt)
                queue.append((nxt, dist + 1))
    return -1


def _inputs_bfs_distance(n: int) -> tuple[object, ...]:
    rng = random.Random(n)
    graph: dict[int, list[int]] = {i: [] for i in range(n)}
    for i in range(1, n - 1):
        j = rng.randrange(0, i)
        graph[i].append(j)
        graph[j].append(i)
    for _ in range(n):
        a, b = rng.randrange(0, n - 1), rng.randrange(0, n - 1)
        graph[a].append(b)
    return (graph, 0, n - 1)  # node n-1 is isolated: the search explores everything


def round_robin(tasks: list[tuple[str, int]], quantum: int) -> list[str]:
    """Simulate round-robin scheduling and return task names in completion order."""
    queue = list(tasks)
    finished = []
    while queue:
        name, remaining = queue.pop(0)
        if remaining <= quantum:
            finished.append(name)
        else:
            queue.append((name, remaining - quantum))
    return finished


def _inputs_round_robin(n: int) -> tuple[object, ...]:
    rng = random.Random(n + 1)
    return ([(f"job-{i}", rng.randint(1, 100)) for i in range(n)], 10)


def count_islands(grid: list[list[int]]) -> int:
    """Count 4-connected regions of 1-cells in a rectangular grid."""
    seen = []
    islands = 0
    for r in range(len(grid)):
        for c in range(len(grid[0])):
            if grid[r][c] != 1 or (r, c) in seen:
                continue
            islands += 1
            seen.append((r, c))
            queue = [(r, c)]
            while queue:
                cr, cc = queue.pop(0)
                for nr, nc in ((cr + 1, cc), (cr - 1, cc), (cr, cc + 1), (cr, cc - 1)):
                    if 0 <= nr < len(grid) and 0 <= nc < len(grid[0]):
                        if grid[nr][nc] == 1 and (nr, nc) not in seen:
                            seen.append((nr, nc))
                            queue.append((nr, nc))
    return islands


def _inputs_count_islands(n: int) -> tuple[object, ...]:
    rng = random.Random(n + 2)
    side = max(2, int(n ** 0.5))
    return ([[1 if rng.random() < 0.45 else 0 for _ in range(side)] for _ in range(side)],)


def two_sum_pairs(nums: list[int], target: int) -> list[tuple[int, int]]:
    """Return all index pairs (i, j), i < j, whose values add up to target, in order."""
    pairs = []
    for i in range(len(nums)):
        for j in range(i + 1, len(nums)):
            if nums[i] + nums[j] == target:
                pairs.append((i, j))
    return pairs


def _inputs_two_sum_pairs(n: int) -> tuple[object, ...]:
    rng = random.Random(n + 3)
    return ([rng.randint(-n, n) for _ in range(n)], 7)


def bubble_sort(values: list[int]) -> list[int]:
    """Return a sorted copy of values using bubble sort with an early exit."""
    items = list(values)
    n = len(items)
    for i in range(n):
        swapped = False
        for j in range(n - 1 - i):
            if items[j] > items[j + 1]:
                items[j], items[j + 1] = items[j + 1], items[j]
                swapped = True
        if not swapped:
            break
    return items


def _inputs_bubble_sort(n: int) -> tuple[object, ...]:
    rng = random.Random(n + 4)
    return ([rng.randint(0, 10_000) for _ in range(n)],)


def count_inversions(values: list[int]) -> int:
    """Count pairs i < j with values[i] > values[j]."""
    inversions = 0
    for i in range(len(values)):
        for j in range(i + 1, len(values)):
            if values[i] > values[j]:
                inversions += 1
    return inversions


def _inputs_count_inversions(n: int) -> tuple[object, ...]:
    rng = random.Random(n + 5)
    return ([rng.randint(0, 1_000) for _ in range(n)],)


def cheapest_supplier(quotes: dict[str, int]) -> str:
    """Return the supplier with the lowest quote; the earliest listed wins ties."""
    return sorted(quotes, key=lambda s: quotes[s])[0]


def _inputs_cheapest_supplier(n: int) -> tuple[object, ...]:
    rng = random.Random(n + 6)
    return ({f"supplier-{i:05d}": rng.randint(500, 5_000) for i in range(n)},)


def max_gap(timestamps: list[int]) -> int:
    """Return the largest gap between consecutive timestamps once sorted (0 if < 2)."""
    ordered = sorted(timestamps)
    gaps = [ordered[i + 1] - ordered[i] for i in range(len(ordered) - 1)]
    return sorted(gaps)[-1] if gaps else 0


def _inputs_max_gap(n: int) -> tuple[object, ...]:
    rng = random.Random(n + 7)
    return ([rng.randint(1_600_000_000, 1_700_000_000) for _ in range(n)],)


def merge_intervals(intervals: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Merge overlapping closed intervals and return them sorted by start."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged = merged + [(start, end)]
    return merged


def _inputs_merge_intervals(n: int) -> tuple[object, ...]:
    rng = random.Random(n + 8)
    intervals = []
    for _ in range(n):
        start = rng.randint(0, n * 40)
        intervals.append((start, start + rng.randint(0, 15)))
    return (intervals,)


OPTIMIZE_INPUTS: dict[str, Callable[[int], tuple[object, ...]]] = {
    "bfs_distance": _inputs_bfs_distance,
    "round_robin": _inputs_round_robin,
    "count_islands": _inputs_count_islands,
    "two_sum_pairs": _inputs_two_sum_pairs,
    "bubble_sort": _inputs_bubble_sort,
    "count_inversions": _inputs_count_inversions,
    "cheapest_supplier": _inputs_cheapest_supplier,
    "max_gap": _inputs_max_gap,
    "merge_intervals": _inputs_merge_intervals,
}

OPTIMIZE_SIZES: dict[str, tuple[int, ...]] = {
    "bfs_distance": (200, 800, 2_000),
    "round_robin": (1_000, 4_000, 10_000),
    "count_islands": (400, 1_600, 2_500),
    "two_sum_pairs": (200, 800, 1_500),
    "bubble_sort": (100, 500, 1_200),
    "count_inversions": (200, 800, 1_500),
    "cheapest_supplier": (1_000, 10_000, 50_000),
    "max_gap": (1_000, 10_000, 50_000),
    "merge_intervals": (1_000, 4_000, 8_000),
}

CATEGORY: dict[str, str] = {
    "bfs_distance": "idiom",
    "round_robin": "idiom",
    "count_islands": "idiom",
    "two_sum_pairs": "llm-only",
    "bubble_sort": "llm-only",
    "count_inversions": "llm-only",
    "cheapest_supplier": "idiom",
    "max_gap": "idiom",
    "merge_intervals": "idiom",
}

IDIOM: dict[str, str] = {
    "bfs_distance": "list.pop(0) BFS queue plus a `visited` list (O(V^2) membership)",
    "round_robin": "list.pop(0) as a task queue (collections.deque fits)",
    "count_islands": "flood fill with list.pop(0), a `seen` list of tuples and len(grid) in the loop",
    "two_sum_pairs": "quadratic pair search (two-sum) instead of a value->indices dict",
    "bubble_sort": "hand-written bubble sort instead of sorted()",
    "count_inversions": "O(n^2) inversion count instead of merge-sort / BIT counting",
    "cheapest_supplier": "sorted(x, key=...)[0] instead of min(x, key=...)",
    "max_gap": "sorted(x)[-1] instead of max(x), range(len) comprehension",
    "merge_intervals": "`lst = lst + [x]` appending by list rebuild",
}
