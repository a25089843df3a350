# ruff: noqa
"""Traps: code that looks optimisable, but whose obvious rewrite changes behaviour or is slower."""

import random
from typing import Callable


def total_amount(amounts: list[float]) -> float:
    """Add up float amounts left to right with plain float arithmetic."""
    total = 0.0
    for amount in amounts:
        total += amount
    return total


def _inputs_total_amount(n: int) -> tuple[object, ...]:
    rng = random.Random(n)
    return ([round(rng.uniform(-500, 500), 2) * 10 ** rng.randint(-3, 6) for _ in range(n)],)


def peak_reading(readings: list[float]) -> float:
    """Return the largest reading, taking the last of equal maxima in input order."""
    return sorted(readings)[-1]


def _inputs_peak_reading(n: int) -> tuple[object, ...]:
    rng = random.Random(n + 1)
    readings = [-rng.uniform(0.1, 40.0) for _ in range(n)]
    readings[n // 4] = 0.0
    readings[(3 * n) // 4] = -0.0
    return (readings,)


def latest_event(events: list[tuple[int, str]]) -> tuple[int, str]:
    """Return the event with the greatest timestamp; the last one logged wins ties."""
    return sorted(events, key=lambda e: e[0])[-1]


def _inputs_latest_event(n: int) -> tuple[object, ...]:
    rng = random.Random(n + 2)
    kinds = ["deploy", "rollback", "restart", "scale", "alert"]
    top = 1_700_000_000 + n // 10
    events = [(rng.randint(1_700_000_000, top), f"{rng.choice(kinds)}-{i}") for i in range(n)]
    events[n // 3] = (top, "deploy-first")
    events[-2] = (top, "alert-last")
    return (events,)


def dedupe_rows(rows: list[list[int]]) -> list[list[int]]:
    """Drop repeated rows (lists of ints), keeping the first copy of each."""
    seen: list[list[int]] = []
    for row in rows:
        if row not in seen:
            seen.append(row)
    return seen


def _inputs_dedupe_rows(n: int) -> tuple[object, ...]:
    rng = random.Random(n + 3)
    pool = [[rng.randint(0, 9) for _ in range(4)] for _ in range(max(1, n // 3))]
    return ([list(rng.choice(pool)) for _ in range(n)],)


def drop_sentinels(readings: list[float], sentinels: list[float]) -> list[float]:
    """Remove readings that are one of the sentinel values (the NaN sentinel by identity)."""
    kept = []
    for r in readings:
        if r in sentinels:
            continue
        kept.append(r)
    return kept


def _inputs_drop_sentinels(n: int) -> tuple[object, ...]:
    rng = random.Random(n + 4)
    missing = float("nan")
    inf = float("inf")
    readings: list[float] = []
    for _ in range(n):
        roll = rng.random()
        if roll < 0.05:
            readings.append(missing)  # the sentinel object itself
        elif roll < 0.08:
            readings.append(inf - inf)  # a computed NaN: a different object, not a sentinel
        elif roll < 0.1:
            readings.append(-999.0)
        else:
            readings.append(round(rng.uniform(-20.0, 45.0), 1))
    return (readings, [missing, -999.0])


def clamp_in_place(values: list[int], lo: int, hi: int) -> int:
    """Clamp values into [lo, hi] in place and return how many were changed."""
    changed = 0
    for i in range(len(values)):
        if values[i] < lo:
            values[i] = lo
            changed += 1
        elif values[i] > hi:
            values[i] = hi
            changed += 1
    return changed


def _inputs_clamp_in_place(n: int) -> tuple[object, ...]:
    rng = random.Random(n + 5)
    return ([rng.randint(-200, 1_200) for _ in range(n)], 0, 1_000)


def wrap_words(words: list[str], width: int) -> str:
    """Greedily wrap words into lines of at most width characters (long words stand alone)."""
    text = ""
    for word in words:
        current_line = text[text.rfind("\n") + 1:]
        if current_line and len(current_line) + 1 + len(word) > width:
            text += "\n"
        elif current_line:
            text += " "
        text += word
    return text


def _inputs_wrap_words(n: int) -> tuple[object, ...]:
    rng = random.Random(n + 6)
    vocab = ["lorem", "ipsum", "dolor", "sit", "amet", "consectetur", "adipiscing", "elit",
             "sed", "do", "eiusmod", "tempor", "incididunt", "ut", "labore", "magna"]
    return ([rng.choice(vocab) for _ in range(n)], 72)


def dedupe_keep_last(items: list[tuple[str, int]]) -> list[tuple[str, int]]:
    """Keep the last value per key, ordered by each key's last occurrence."""
    latest: dict[str, int] = {}
    for key, value in items:
        if key in latest.keys():
            del latest[key]
        latest[key] = value
    return list(latest.items())


def _inputs_dedupe_keep_last(n: int) -> tuple[object, ...]:
    rng = random.Random(n + 7)
    keys = [f"sku-{i}" for i in range(max(2, n // 4))]
    return ([(rng.choice(keys), rng.randint(0, 500)) for _ in range(n)],)


def has_negative(values: list[int]) -> bool:
    """Return True if any value is negative."""
    return any([v < 0 for v in values])


def _inputs_has_negative(n: int) -> tuple[object, ...]:
    rng = random.Random(n + 8)
    return ([rng.randint(0, 10_000) for _ in range(n)],)


def accept_until_invalid(values: list[int], accepted: list[int]) -> bool:
    """Append values to accepted until a negative one; return False if one was found."""
    for v in values:
        if v < 0:
            return False
        accepted.append(v)
    return True


def _inputs_accept_until_invalid(n: int) -> tuple[object, ...]:
    rng = random.Random(n + 9)
    values = [rng.randint(0, 1_000) for _ in range(n)]
    values[(7 * n) // 10] = -1
    return (values, [])


def best_score(scores: list[int]) -> int:
    """Return the highest score, or 0 if there are none or all are negative."""
    best = 0
    for s in scores:
        if s > best:
            best = s
    return best


def _inputs_best_score(n: int) -> tuple[object, ...]:
    rng = random.Random(n + 10)
    return ([rng.randint(-10**6, 10**6) for _ in range(n)],)


def first_words(lines: list[str]) -> list[str]:
    """Return the first whitespace-separated word of every non-blank line."""
    words = []
    for line in lines:
        if line.strip():
            words.append(line.split()[0])
    return words


def _inputs_first_words(n: int) -> tuple[object, ...]:
    rng = random.Random(n + 11)
    cmds = ["git", "ls", "cd", "make", "python", "docker", "kubectl"]
    indents = ["", "", "", "    ", "\t", "  \t "]
    seps = [" ", " ", "\t", "   "]
    lines = []
    for _ in range(n):
        if rng.random() < 0.05:
            lines.append("   ")
        else:
            lines.append(rng.choice(indents) + rng.choice(cmds) + rng.choice(seps) + "--flag value")
    return (lines,)


def expand_aliases(names: list[str], aliases: dict[str, str]) -> list[str]:
    """Return names followed by one level of alias expansions for the original names."""
    result = list(names)
    for i in range(len(result)):
        alias = aliases.get(result[i])
        if alias is not None:
            result.append(alias)
    return result


def _inputs_expand_aliases(n: int) -> tuple[object, ...]:
    rng = random.Random(n + 12)
    hosts = [f"host{i}" for i in range(max(4, n // 2))]
    # aliases chain and even cycle (a -> b -> a): following appended items would not terminate
    aliases = {hosts[i]: hosts[(i + 1) % len(hosts)] for i in range(0, len(hosts), 2)}
    aliases.update({hosts[i]: hosts[i - 1] for i in range(1, len(hosts), 4)})
    return ([rng.choice(hosts) for _ in range(n)], aliases)


OPTIMIZE_INPUTS: dict[str, Callable[[int], tuple[object, ...]]] = {
    "total_amount": _inputs_total_amount,
    "peak_reading": _inputs_peak_reading,
    "latest_event": _inputs_latest_event,
    "dedupe_rows": _inputs_dedupe_rows,
    "drop_sentinels": _inputs_drop_sentinels,
    "clamp_in_place": _inputs_clamp_in_place,
    "wrap_words": _inputs_wrap_words,
    "dedupe_keep_last": _inputs_dedupe_keep_last,
    "has_negative": _inputs_has_negative,
    "accept_until_invalid": _inputs_accept_until_invalid,
    "best_score": _inputs_best_score,
    "first_words": _inputs_first_words,
    "expand_aliases": _inputs_expand_aliases,
}

OPTIMIZE_SIZES: dict[str, tuple[int, ...]] = {
    "total_amount": (1_000, 10_000, 100_000),
    "peak_reading": (1_000, 10_000, 100_000),
    "latest_event": (1_000, 10_000, 100_000),
    "dedupe_rows": (300, 1_500, 4_000),
    "drop_sentinels": (1_000, 10_000, 100_000),
    "clamp_in_place": (1_000, 10_000, 100_000),
    "wrap_words": (1_000, 10_000, 50_000),
    "dedupe_keep_last": (1_000, 10_000, 100_000),
    "has_negative": (1_000, 10_000, 100_000),
    "accept_until_invalid": (1_000, 10_000, 100_000),
    "best_score": (1_000, 10_000, 100_000),
    "first_words": (1_000, 10_000, 100_000),
    "expand_aliases": (1_000, 10_000, 100_000),
}

CATEGORY: dict[str, str] = {name: "trap" for name in OPTIMIZE_INPUTS}

IDIOM: dict[str, str] = {
    "total_amount": "float accumulation loop: sum() uses compensated summation on 3.12+, so results differ",
    "peak_reading": "sorted(x)[-1] on floats with 0.0 and -0.0: max() returns the first equal maximum, not the last",
    "latest_event": "sorted(x, key)[-1] with equal keys: max(x, key) returns the first tied event, not the last",
    "dedupe_rows": "`seen` list of unhashable rows (lists): a set-based rewrite raises TypeError",
    "drop_sentinels": "`in` on possibly-NaN floats matches the sentinel NaN by identity; == or math.isnan rewrites differ",
    "clamp_in_place": "range(len) loop mutating its argument in place: a comprehension rewrite loses the caller-visible mutation",
    "wrap_words": "str += loop whose accumulator is read (rfind/slice) inside the loop: list+join rewrite breaks",
    "dedupe_keep_last": "del + reinsert moves keys to the end: dict(items) gives the same values in a different order",
    "has_negative": "any([...]) over a full scan is faster on 3.11 than the generator form any(...)",
    "accept_until_invalid": "early return skips later appends to an argument: all()+extend() rewrite appends nothing or everything",
    "best_score": "manual max loop from 0: max() breaks on empty/all-negative input and is not faster on 3.11",
    "first_words": "line.split()[0] (whitespace split): partition(' ')[0] differs on indented/tab-separated lines",
    "expand_aliases": "range(len(result)) is fixed before the loop appends: `for x in result` would follow the appended items (cycles never end)",
}
