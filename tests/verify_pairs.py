"""The held-out pairs: wrong, right and uncheckable rewrites, with the verdict each must get."""

from __future__ import annotations

from dataclasses import dataclass

RAISES_VALUE_ERROR = (
    "def f(n: int) -> int:\n    if n < 0:\n        raise ValueError('negative')\n    return n\n"
)


BAG = (
    "class Bag:\n    def __init__(self, items):\n        self.items = list(items)\n\n"
    "    def total(self) -> int:\n{body}\n\n"
    "OPTIMIZE_INPUTS = {{'Bag.total': lambda n: (Bag(range(n)),)}}\n"
)


# A plain program can call f(995, "q") from its top level; so must verification, in
# the recorder (under Hypothesis, which raises the limit) and in a replay alike.
NEAR_THE_LIMIT = """\
def f(n: int, word: str) -> int:
    if n <= 0:
        return 0
    if word in {words}:
        return 2 + f(n - 1, word)
    return 1 + f(n - 1, word)


def deepest() -> int:
    return f(995, "q") + f(990, "alpha")
"""


@dataclass(frozen=True)
class Pair:
    name: str
    original: str
    candidate: str
    expected: str  # "equivalent", "counterexample" or "unverifiable"
    function: str = "f"
    candidate_function: str = "f"
    reason: str = ""  # a word the verdict's detail must contain
    pyproject_extra: str = ""
    example_timeout: float = 0.5


WRONG = [
    Pair(
        "argument mutation: in-place sort of the caller's list",
        "def f(xs: list[int]) -> list[int]:\n    return sorted(xs)\n",
        "def f(xs: list[int]) -> list[int]:\n    xs.sort()\n    return list(xs)\n",
        "counterexample",
        reason="mutation",
    ),
    Pair(
        "stdout: a leftover debug print",
        "def f(xs: list[int]) -> int:\n    return sum(xs)\n",
        "def f(xs: list[int]) -> int:\n    total = sum(xs)\n    print('total', total)\n"
        "    return total\n",
        "counterexample",
        reason="stdout",
    ),
    Pair(
        "stderr: a warning the original never wrote",
        "def f(n: int) -> int:\n    return n * 2\n",
        "import sys\n\ndef f(n: int) -> int:\n    if n < 0:\n"
        "        print('negative', file=sys.stderr)\n    return n * 2\n",
        "counterexample",
        reason="stderr",
    ),
    Pair(
        "NaN: comparing with float('nan') is always false",
        "def f(x: float) -> bool:\n    return x != x\n",
        "def f(x: float) -> bool:\n    return x == float('nan')\n",
        "counterexample",
        reason="return",
    ),
    Pair(
        "-0.0: a hand-written abs keeps the sign of zero",
        "def f(x: float) -> float:\n    return abs(x)\n",
        "def f(x: float) -> float:\n    return x if x >= 0 else -x\n",
        "counterexample",
        reason="return",
    ),
    Pair(
        "bool vs int: int(x > 0) is 1, not True",
        "def f(x: int) -> bool:\n    return x > 0\n",
        "def f(x: int) -> int:\n    return int(x > 0)\n",
        "counterexample",
        reason="return",
    ),
    Pair(
        "generator vs list",
        "def f(xs: list[int]) -> list[int]:\n    return [x * 2 for x in xs]\n",
        "def f(xs: list[int]):\n    return (x * 2 for x in xs)\n",
        "counterexample",
        reason="return",
    ),
    Pair(
        "list vs tuple",
        "def f(xs: list[int]) -> list[int]:\n    return list(xs)\n",
        "def f(xs: list[int]) -> tuple[int, ...]:\n    return tuple(xs)\n",
        "counterexample",
    ),
    Pair(
        "empty input: the guard was dropped",
        "def f(xs: list[int]) -> int | None:\n    return xs[0] if xs else None\n",
        "def f(xs: list[int]) -> int | None:\n    return xs[0]\n",
        "counterexample",
        reason="outcome",
    ),
    Pair(
        "exception type: ValueError became TypeError",
        RAISES_VALUE_ERROR,
        "def f(n: int) -> int:\n    if n < 0:\n        raise TypeError('negative')\n    return n\n",
        "counterexample",
        reason="exception type",
    ),
    Pair(
        "exception args: a reworded message",
        RAISES_VALUE_ERROR,
        "def f(n: int) -> int:\n    if n < 0:\n        raise ValueError(f'negative: {n}')\n"
        "    return n\n",
        "counterexample",
        reason="exception args",
    ),
    Pair(
        "boundary: < became <=",
        "def f(xs: list[int], limit: int) -> list[int]:\n    return [x for x in xs if x < limit]\n",
        "def f(xs: list[int], limit: int) -> list[int]:\n"
        "    return [x for x in xs if x <= limit]\n",
        "counterexample",
    ),
    Pair(
        "unicode: lower() is not casefold()",
        'def f(word: str) -> str:\n    """\n    >>> f("Straße")\n    \'strasse\'\n    """\n'
        "    return word.casefold()\n",
        "def f(word: str) -> str:\n    return word.lower()\n",
        "counterexample",
    ),
    Pair(
        "unicode: isdigit() accepts superscripts, isdecimal() does not",
        "def f(text: str) -> bool:\n    return text.isdecimal()\n",
        "def f(text: str) -> bool:\n    return text.isdigit()\n",
        "counterexample",
    ),
    Pair(
        "large integers through float division",
        "def f(n: int) -> int:\n    return abs(n) // 3\n",
        "def f(n: int) -> int:\n    return int(abs(n) / 3)\n",
        "counterexample",
    ),
    Pair(
        "banker's rounding: round() is not floor(x + 0.5)",
        "def f(n: int) -> int:\n    k = abs(n) % 1000\n    return round(k / 2)\n",
        "import math\n\ndef f(n: int) -> int:\n    k = abs(n) % 1000\n"
        "    return math.floor(k / 2 + 0.5)\n",
        "counterexample",
    ),
    Pair(
        "early return skips a side effect",
        "def f(log: list[str], value: int) -> bool:\n    log.append(f'saw {value}')\n"
        "    if value < 0:\n        return False\n    return True\n",
        "def f(log: list[str], value: int) -> bool:\n    if value < 0:\n        return False\n"
        "    log.append(f'saw {value}')\n    return True\n",
        "counterexample",
        reason="mutation",
    ),
    Pair(
        "aliasing: returning the caller's list instead of a copy",
        "def f(xs: list[int]) -> list[int]:\n    return list(xs)\n",
        "def f(xs: list[int]) -> list[int]:\n    return xs\n",
        "counterexample",
        reason="aliasing",
    ),
    Pair(
        "dict order: a sorted dict is not the same dict",
        "def f(d: dict[str, int]) -> dict[str, int]:\n    return dict(d)\n",
        "def f(d: dict[str, int]) -> dict[str, int]:\n    return dict(sorted(d.items()))\n",
        "counterexample",
        reason="return",
    ),
    Pair(
        "set vs frozenset",
        "def f(xs: list[int]) -> set[int]:\n    return set(xs)\n",
        "def f(xs: list[int]) -> frozenset[int]:\n    return frozenset(xs)\n",
        "counterexample",
    ),
    Pair(
        "float sums differ in the last bits without a tolerance",
        "def f(x: float) -> float:\n    return x * 0.1 * 3\n",
        "def f(x: float) -> float:\n    return x * 0.3\n",
        "counterexample",
        reason="return",
    ),
    Pair(
        "untyped function seeded only by a call site",
        "def f(xs, k):\n    return [x for x in xs if x > k]\n\nTOP = f([5, 1, 7], 4)\n",
        "def f(xs, k):\n    return [x for x in xs if x >= k]\n",
        "counterexample",
    ),
    Pair(
        "a method that leaves a cache on self: mutation of self is argument mutation",
        BAG.format(body="        return sum(self.items)"),
        BAG.format(body="        self.cached = sum(self.items)\n        return self.cached"),
        "counterexample",
        function="Bag.total",
        candidate_function="Bag.total",
        reason="mutation",
    ),
]

RIGHT = [
    Pair(
        "sum loop vs sum()",
        "def f(xs: list[int]) -> int:\n    t = 0\n    for x in xs:\n        t += x\n    return t\n",
        "def f(xs: list[int]) -> int:\n    return sum(xs)\n",
        "equivalent",
    ),
    Pair(
        "append loop vs comprehension",
        "def f(xs: list[int]) -> list[int]:\n    out = []\n    for x in xs:\n"
        "        out.append(x * 2)\n    return out\n",
        "def f(xs: list[int]) -> list[int]:\n    return [x * 2 for x in xs]\n",
        "equivalent",
    ),
    Pair(
        "sorted() vs copy and sort",
        "def f(xs: list[int]) -> list[int]:\n    return sorted(xs)\n",
        "def f(xs: list[int]) -> list[int]:\n    ys = list(xs)\n    ys.sort()\n    return ys\n",
        "equivalent",
    ),
    Pair(
        "list membership vs set membership",
        "def f(a: list[int], b: list[int]) -> int:\n    return sum(1 for x in a if x in b)\n",
        "def f(a: list[int], b: list[int]) -> int:\n    bs = set(b)\n"
        "    return sum(1 for x in a if x in bs)\n",
        "equivalent",
    ),
    Pair(
        "string concatenation vs join",
        "def f(words: list[str]) -> str:\n    out = ''\n    for w in words:\n"
        "        out += w + ','\n    return out\n",
        "def f(words: list[str]) -> str:\n    return ''.join(w + ',' for w in words)\n",
        "equivalent",
    ),
    Pair(
        "NaN, inf and -0.0 survive both versions (NaN equals NaN)",
        "def f(xs: list[float]) -> list[float]:\n    return [x * 1.0 for x in xs]\n",
        "def f(xs: list[float]) -> list[float]:\n    return list(xs)\n",
        "equivalent",
    ),
    Pair(
        "counting loop vs Counter, insertion order kept",
        "def f(xs: list[str]) -> dict[str, int]:\n    counts = {}\n    for x in xs:\n"
        "        counts[x] = counts.get(x, 0) + 1\n    return counts\n",
        "from collections import Counter\n\ndef f(xs: list[str]) -> dict[str, int]:\n"
        "    return dict(Counter(xs))\n",
        "equivalent",
    ),
    Pair(
        "recursive vs iterative, different names; deep inputs skipped",
        "def fib(n: int) -> int:\n    if n < 2:\n        return n\n"
        "    return fib(n - 1) + fib(n - 2)\n",
        "def fast_fib(n: int) -> int:\n    if n < 2:\n        return n\n    a, b = 0, 1\n"
        "    for _ in range(n):\n        a, b = b, a + b\n    return a\n",
        "equivalent",
        function="fib",
        candidate_function="fast_fib",
        example_timeout=0.1,  # each deep input costs one timeout before it is skipped
    ),
    Pair(
        "dataclass argument, with the class defined in both files",
        "from dataclasses import dataclass\n\n@dataclass\nclass Point:\n    x: int\n    y: int\n\n"
        "def f(p: Point) -> int:\n    return abs(p.x) + abs(p.y)\n",
        "from dataclasses import dataclass\n\n@dataclass\nclass Point:\n    x: int\n    y: int\n\n"
        "def f(p: Point) -> int:\n    if not isinstance(p, Point):\n        raise TypeError\n"
        "    return sum(map(abs, (p.x, p.y)))\n",
        "equivalent",
    ),
    Pair(
        "tuple[float, float] and float | None",
        "def f(p: tuple[float, float], k: float | None) -> tuple[float, float]:\n"
        "    k = 1.0 if k is None else k\n    return (p[0] * k, p[1] * k)\n",
        "def f(p: tuple[float, float], k: float | None) -> tuple[float, float]:\n"
        "    factor = 1.0 if k is None else k\n    x, y = p\n    return x * factor, y * factor\n",
        "equivalent",
    ),
    Pair(
        "TypedDict rows",
        "from typing import TypedDict\n\nclass Row(TypedDict):\n    name: str\n    qty: int\n\n"
        "def f(rows: list[Row]) -> int:\n    return sum(r['qty'] for r in rows)\n",
        "from typing import TypedDict\n\nclass Row(TypedDict):\n    name: str\n    qty: int\n\n"
        "def f(rows: list[Row]) -> int:\n    total = 0\n    for row in rows:\n"
        "        total += row['qty']\n    return total\n",
        "equivalent",
    ),
    Pair(
        "untyped function: doctest examples seed inputs and suggest types",
        'def f(xs):\n    """\n    >>> f([3, 1, 2])\n    [6, 2, 4]\n    """\n'
        "    out = []\n    for x in xs:\n        out.append(x * 2)\n    return out\n",
        "def f(xs):\n    return [x * 2 for x in xs]\n",
        "equivalent",
    ),
    Pair(
        "generator vs generator",
        "def f(n: int):\n    i = 0\n    while i < min(n, 50):\n"
        "        yield i * i\n        i += 1\n",
        "def f(n: int):\n    return (i * i for i in range(min(n, 50)))\n",
        "equivalent",  # a generator function and a generator expression: same type
    ),
    Pair(
        "float arithmetic within a configured tolerance",
        "def f(x: float) -> float:\n    return x * 0.1 * 3\n",
        "def f(x: float) -> float:\n    return x * 0.3\n",
        "equivalent",
        pyproject_extra="float_tolerance = 1e-9\n",
    ),
    Pair(
        "a method on an instance from OPTIMIZE_INPUTS",
        BAG.format(
            body="        total = 0\n        for item in self.items:\n"
            "            total += item\n        return total"
        ),
        BAG.format(body="        return sum(self.items)"),
        "equivalent",
        function="Bag.total",
        candidate_function="Bag.total",
    ),
    Pair(
        "a method that never reads self: None stands in for it",
        "class Maths:\n    def double(self, n: int) -> int:\n        return n * 2\n",
        "class Maths:\n    def double(self, n: int) -> int:\n        return n + n\n",
        "equivalent",
        function="Maths.double",
        candidate_function="Maths.double",
    ),
    Pair(
        "a generated callable argument is pure: called once per item instead of twice",
        "from collections.abc import Callable\n\n"
        "def f(words: list[str], width: Callable[[str], int]) -> int:\n"
        "    return sum(width(w) for w in words if width(w) > 0)\n",
        "from collections.abc import Callable\n\n"
        "def f(words: list[str], width: Callable[[str], int]) -> int:\n"
        "    total = 0\n    for w in words:\n        n = width(w)\n"
        "        if n > 0:\n            total += n\n    return total\n",
        "equivalent",
    ),
    Pair(
        "deterministic near the recursion limit: a literal call 995 frames deep",
        NEAR_THE_LIMIT.format(words='["alpha", "beta", "gamma"]'),
        NEAR_THE_LIMIT.format(words='{"alpha", "beta", "gamma"}'),
        "equivalent",
    ),
]

UNVERIFIABLE = [
    Pair(
        "no type hint, no example, no default",
        "def f(x):\n    return x\n",
        "def f(x):\n    return x\n",
        "unverifiable",
        reason="no type hint",
    ),
    Pair(
        "the original is not deterministic",
        "import random\n\ndef f(n: int) -> float:\n    return random.random() + n\n",
        "import random\n\ndef f(n: int) -> float:\n    return n + random.random()\n",
        "nondeterministic",
        reason="nondeterministic",
    ),
    Pair(
        "the original flips a coin: half the time it agrees with itself",
        "import random\n\ndef f(xs: list[int]) -> int:\n"
        "    return sum(random.randint(0, 1) for x in xs if x > 0)\n",
        "import random\n\ndef f(xs: list[int]) -> int:\n"
        "    return sum([random.randint(0, 1) for x in xs if x > 0])\n",
        "nondeterministic",
        reason="nondeterministic",
    ),
    Pair(
        "a method that reads self, with no instance anywhere",
        "class Maths:\n    def scaled(self, n: int) -> int:\n        return n * self.k\n",
        "class Maths:\n    def scaled(self, n: int) -> int:\n        return self.k * n\n",
        "unverifiable",
        function="Maths.scaled",
        candidate_function="Maths.scaled",
        reason="a method needs an instance",
    ),
]

ALL = WRONG + RIGHT + UNVERIFIABLE
