# ruff: noqa
"""Collection idioms: dedupe, flattening, inversion, copying, filtering and counting."""

import random
from typing import Callable

_TAGS: tuple[str, ...] = tuple(f"tag{i}" for i in range(400)) + (
    "python", "rust", "go", "sql", "devops", "ml", "web", "security", "testing", "cloud",
)


def unique_tags(posts: list[list[str]]) -> list[str]:
    """Return every tag used across posts, in order of first use."""
    seen: list[str] = []
    for tags in posts:
        for tag in tags:
            if tag not in seen:
                seen.append(tag)
    return seen


def _inputs_unique_tags(n: int) -> tuple[object, ...]:
    rng = random.Random(n)
    pool = _TAGS[: max(10, min(len(_TAGS), n // 5))]
    return ([[rng.choice(pool) for _ in range(rng.randint(1, 6))] for _ in range(n)],)


def flatten(nested: list[list[str]]) -> list[str]:
    """Flatten one level of nesting, keeping order."""
    flat: list[str] = []
    for sub in nested:
        flat = flat + sub
    return flat


def _inputs_flatten(n: int) -> tuple[object, ...]:
    rng = random.Random(n + 1)
    return ([[rng.choice(_TAGS) for _ in range(rng.randint(0, 8))] for _ in range(n)],)


def invert_mapping(mapping: dict[str, int]) -> dict[int, list[str]]:
    """Invert a key -> value mapping into value -> list of keys."""
    inverted = {}
    for key in mapping.keys():
        value = mapping[key]
        if value in inverted.keys():
            inverted[value].append(key)
        else:
            inverted[value] = [key]
    return inverted


def _inputs_invert_mapping(n: int) -> tuple[object, ...]:
    rng = random.Random(n + 2)
    return ({f"user{i}": rng.randint(0, max(1, n // 20)) for i in range(n)},)


def first_key(mapping: dict[str, int]) -> str:
    """Return the first-inserted key of a non-empty mapping."""
    return list(mapping.keys())[0]


def _inputs_first_key(n: int) -> tuple[object, ...]:
    return ({f"k{i}": i for i in range(n)},)


def settings_pairs(settings: dict[str, str]) -> list[tuple[str, str]]:
    """Return the settings as a list of (name, value) pairs."""
    return [item for item in settings.items()]


def _inputs_settings_pairs(n: int) -> tuple[object, ...]:
    return ({f"option_{i}": str(i * 7 % 13) for i in range(n)},)


def positive_values(values: list[int]) -> list[int]:
    """Keep only the strictly positive values."""
    return list(filter(lambda v: v > 0, values))


def _inputs_positive_values(n: int) -> tuple[object, ...]:
    rng = random.Random(n + 3)
    return ([rng.randint(-500, 500) for _ in range(n)],)


def pairwise_deltas(values: list[int]) -> list[int]:
    """Return the differences between consecutive values."""
    deltas = []
    for i in range(len(values) - 1):
        deltas.append(values[i + 1] - values[i])
    return deltas


def _inputs_pairwise_deltas(n: int) -> tuple[object, ...]:
    rng = random.Random(n + 4)
    return ([rng.randint(0, 10**6) for _ in range(n)],)


def common_items(a: list[int], b: list[int]) -> list[int]:
    """Return the items of a that also occur in b, in a's order (duplicates kept)."""
    return [x for x in a if x in b]


def _inputs_common_items(n: int) -> tuple[object, ...]:
    rng = random.Random(n + 5)
    return ([rng.randint(0, n * 4) for _ in range(n)], [rng.randint(0, n * 4) for _ in range(n)])


def chunked(values: list[int], size: int) -> list[list[int]]:
    """Split values into consecutive chunks of the given size (last may be shorter)."""
    chunks = []
    chunk: list[int] = []
    for v in values:
        chunk = chunk + [v]
        if len(chunk) == size:
            chunks.append(chunk)
            chunk = []
    if chunk:
        chunks.append(chunk)
    return chunks


def _inputs_chunked(n: int) -> tuple[object, ...]:
    return (list(range(n)), 500)


def char_counts(text: str) -> dict[str, int]:
    """Count the occurrences of each character in a text."""
    counts: dict[str, int] = {}
    for ch in text:
        counts[ch] = counts.get(ch, 0) + 1
    return counts


def _inputs_char_counts(n: int) -> tuple[object, ...]:
    rng = random.Random(n + 6)
    alphabet = "etaoinshrdlucmfwypvbgkjqxz      ,.\n"
    return ("".join(rng.choice(alphabet) for _ in range(n)),)


def index_by_id(rows: list[tuple[int, str]]) -> dict[int, str]:
    """Build an id -> label lookup from (id, label) rows; later rows win."""
    index = {}
    for i in range(len(rows)):
        index[rows[i][0]] = rows[i][1]
    return index


def _inputs_index_by_id(n: int) -> tuple[object, ...]:
    rng = random.Random(n + 7)
    return ([(rng.randint(0, n), f"label-{i}") for i in range(n)],)


OPTIMIZE_INPUTS: dict[str, Callable[[int], tuple[object, ...]]] = {
    "unique_tags": _inputs_unique_tags,
    "flatten": _inputs_flatten,
    "invert_mapping": _inputs_invert_mapping,
    "first_key": _inputs_first_key,
    "settings_pairs": _inputs_settings_pairs,
    "positive_values": _inputs_positive_values,
    "pairwise_deltas": _inputs_pairwise_deltas,
    "common_items": _inputs_common_items,
    "chunked": _inputs_chunked,
    "char_counts": _inputs_char_counts,
    "index_by_id": _inputs_index_by_id,
}

OPTIMIZE_SIZES: dict[str, tuple[int, ...]] = {
    "unique_tags": (500, 2_000, 8_000),
    "flatten": (500, 2_000, 4_000),
    "invert_mapping": (1_000, 10_000, 50_000),
    "first_key": (1_000, 10_000, 100_000),
    "settings_pairs": (1_000, 10_000, 100_000),
    "positive_values": (1_000, 10_000, 100_000),
    "pairwise_deltas": (1_000, 10_000, 100_000),
    "common_items": (500, 1_000, 2_000),
    "chunked": (1_000, 10_000, 50_000),
    "char_counts": (1_000, 10_000, 100_000),
    "index_by_id": (1_000, 10_000, 100_000),
}

CATEGORY: dict[str, str] = {
    "unique_tags": "idiom",
    "flatten": "idiom",
    "invert_mapping": "idiom",
    "first_key": "idiom",
    "settings_pairs": "idiom",
    "positive_values": "idiom",
    "pairwise_deltas": "idiom",
    "common_items": "idiom",
    "chunked": "idiom",
    "char_counts": "idiom",
    "index_by_id": "idiom",
}

IDIOM: dict[str, str] = {
    "unique_tags": "`seen` list dedupe across nested loops",
    "flatten": "`flat = flat + sub` list rebuild per sublist (quadratic)",
    "invert_mapping": "iterating d.keys() then indexing, `k in d.keys()` membership",
    "first_key": "list(d.keys())[0] instead of next(iter(d))",
    "settings_pairs": "identity comprehension [x for x in it] instead of list(it)",
    "positive_values": "list(filter(lambda ...))",
    "pairwise_deltas": "range(len(xs) - 1) indexing loop",
    "common_items": "membership on a list parameter inside a comprehension (O(n*m))",
    "chunked": "`chunk = chunk + [v]` list rebuild per element",
    "char_counts": "manual counting dict with d.get(k, 0) + 1 (Counter fits)",
    "index_by_id": "range(len(rows)) with rows[i][0] / rows[i][1] indexing",
}
