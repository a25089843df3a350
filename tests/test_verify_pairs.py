"""Wrong and right rewrites, each classified by the real verify engine in the sandbox.

Every pair is written to two real files and checked with the function behind
`optimize verify` (a few go through the installed command as a subprocess).
A wrong rewrite must produce a counterexample, a right one must be equivalent,
and a pair that cannot be checked honestly must be unverifiable.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from pipeline.cli.verify import parse_target, verify_targets
from pipeline.config import load_config

PYPROJECT = """\
[tool.optimize.verify]
max_examples = 50
"""

RAISES_VALUE_ERROR = (
    "def f(n: int) -> int:\n    if n < 0:\n        raise ValueError('negative')\n    return n\n"
)


BAG = (
    "class Bag:\n    def __init__(self, items):\n        self.items = list(items)\n\n"
    "    def total(self) -> int:\n{body}\n\n"
    "OPTIMIZE_INPUTS = {{'Bag.total': lambda n: (Bag(range(n)),)}}\n"
)


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
        "unverifiable",
        reason="different results",
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


def _write_pair(directory: Path, pair: Pair) -> tuple[str, str]:
    settings = f"example_timeout = {pair.example_timeout}\n{pair.pyproject_extra}"
    (directory / "pyproject.toml").write_text(PYPROJECT + settings, encoding="utf-8")
    (directory / "original.py").write_text(pair.original, encoding="utf-8")
    (directory / "rewrite.py").write_text(pair.candidate, encoding="utf-8")
    return (
        f"{directory / 'original.py'}::{pair.function}",
        f"{directory / 'rewrite.py'}::{pair.candidate_function}",
    )


def test_the_suite_is_big_enough() -> None:
    assert len(WRONG) + len([p for p in RIGHT if p.expected == "counterexample"]) >= 17
    assert len([p for p in RIGHT if p.expected == "equivalent"]) >= 8
    assert len(ALL) >= 25


@pytest.mark.parametrize("pair", ALL, ids=[p.name for p in ALL])
def test_pair_is_classified(pair: Pair, tmp_path: Path) -> None:
    original, candidate = _write_pair(tmp_path, pair)
    config = load_config(tmp_path)
    verdict = verify_targets(parse_target(original), parse_target(candidate), config)
    assert verdict.status == pair.expected, (verdict.detail, verdict.counterexample)
    assert pair.reason in verdict.detail
    if verdict.status == "counterexample":
        assert verdict.counterexample is not None
        assert verdict.counterexample.original != verdict.counterexample.candidate or (
            "mutation" in verdict.detail or "aliasing" in verdict.detail
        )
    if verdict.status == "equivalent":
        assert verdict.examples >= 20
        assert verdict.strategy_sources


def _optimize(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "pipeline", "verify", *args]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=120)


def test_cli_exits_0_on_an_equivalent_pair(tmp_path: Path) -> None:
    original, candidate = _write_pair(tmp_path, RIGHT[0])
    done = _optimize(original, candidate, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("equivalent: ")
    assert "type hints" in done.stdout


def test_cli_exits_1_and_shows_both_behaviours_side_by_side(tmp_path: Path) -> None:
    original, candidate = _write_pair(tmp_path, WRONG[0])
    done = _optimize(original, candidate, cwd=tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("counterexample: differs in argument mutation")
    assert lines[1].startswith("input: xs=")
    header = next(line for line in lines if "original.py::f" in line)
    assert "rewrite.py::f" in header and "|" in header
    mutated = next(line for line in lines if line.startswith("arguments after the call"))
    left, right = mutated.split("|")
    assert left.strip() != right.strip().replace("arguments after the call: ", "") or left != right


def test_cli_exits_2_when_unverifiable(tmp_path: Path) -> None:
    original, candidate = _write_pair(tmp_path, UNVERIFIABLE[0])
    done = _optimize(original, candidate, cwd=tmp_path)
    assert done.returncode == 2
    assert done.stdout.startswith("unverifiable: no type hint")


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["original.py", "rewrite.py::f"], "expected path.py::function_name"),
        (["missing.py::f", "rewrite.py::f"], "no such file"),
        (["original.py::nope", "rewrite.py::f"], "no function or method named 'nope'"),
    ],
)
def test_cli_rejects_bad_targets_with_one_line(
    tmp_path: Path,
    arguments: list[str],
    message: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """In-process through `optimize`'s own entry point: no sandbox run is needed to refuse."""
    from pipeline.cli.main import main

    _write_pair(tmp_path, RIGHT[0])
    monkeypatch.chdir(tmp_path)
    assert main(["verify", *arguments]) == 2
    stderr = capsys.readouterr().err
    assert message in stderr
    assert len(stderr.strip().splitlines()) == 1


def _project_with_tests(root: Path) -> None:
    (root / "pkg").mkdir()
    (root / "tests").mkdir()
    (root / "pkg" / "__init__.py").write_text("", encoding="utf-8")
    (root / "pkg" / "stats.py").write_text(
        "def total(xs: list[int]) -> int:\n    t = 0\n    for x in xs:\n        t += x\n"
        "    return t\n",
        encoding="utf-8",
    )
    (root / "tests" / "test_stats.py").write_text(
        "from pkg.stats import total\n\n\ndef test_total_of_a_tuple():\n"
        "    assert total((1, 2)) == 3\n",
        encoding="utf-8",
    )
    (root / "tests" / "test_unrelated.py").write_text(
        "def test_always_fails():\n    assert False\n", encoding="utf-8"
    )
    (root / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("    return sum(xs)\n", "equivalent"),
        # Equivalent on every list[int], but the project's own test passes a tuple.
        ("    ys = xs.copy()\n    return sum(ys)\n", "counterexample"),
    ],
    ids=["passes-project-tests", "breaks-a-project-test"],
)
def test_project_tests_touching_the_module_decide(tmp_path: Path, body: str, expected: str) -> None:
    from pipeline.model import Candidate
    from pipeline.stages.verify import verify

    _project_with_tests(tmp_path)
    original = (tmp_path / "pkg" / "stats.py").read_text(encoding="utf-8")
    rewrite = "def total(xs: list[int]) -> int:\n" + body
    candidate = Candidate("total", 1, ("TEST",), "pass", original, rewrite, "pkg.stats", tmp_path)
    verdict = verify(candidate, load_config(tmp_path))
    assert verdict.status == expected, verdict.detail
    if expected == "equivalent":
        assert "project tests" in verdict.strategy_sources
    else:
        assert "tests/test_stats.py::test_total_of_a_tuple" in verdict.detail
        assert "test_always_fails" not in verdict.detail


def test_doctest_literals_cross_into_the_child_exactly(tmp_path: Path) -> None:
    """A tuple holding -0.0 and a set survive the tagged JSON encoding as an explicit example."""
    pair = Pair(
        "doctest seed with a tuple, -0.0 and a set",
        'def f(point, tags):\n    """\n    >>> f((1.5, -0.0), {3, 1})\n    (0.0, [1, 3])\n'
        '    """\n    x, y = point\n    return (abs(y), sorted(tags))\n',
        "def f(point, tags):\n    x, y = point\n    return (y if y >= 0 else -y, sorted(tags))\n",
        "counterexample",
    )
    original, candidate = _write_pair(tmp_path, pair)
    verdict = verify_targets(parse_target(original), parse_target(candidate), load_config(tmp_path))
    assert verdict.status == "counterexample", verdict.detail
    assert verdict.counterexample is not None
    assert verdict.counterexample.arguments == "point=(1.5, -0.0), tags={1, 3}"
    assert "doctest examples" in verdict.strategy_sources
