"""COFFE's correctness tests for one task, as pytest tests; runs only inside the sandbox.

`benchmarks.coffe.check` ships this file's text as `test_coffe_task.py` into a
scratch project beside `cases.json` and the modules under test (`canonical`,
and `written` and `best_known` when present), and the sandboxed child runs
pytest on it. It imports nothing of this repository.

For each role and each test case:
- `test_matches_expected`: the return value, normalised as JSON would have it
  (tuples as lists, floats to 1e-6), equals the expected output;
- `test_keeps_arguments`: the call leaves its arguments unchanged (a failure
  tells the harness to time that task with fresh argument copies);
- `test_same_as_canonical` (not for `canonical`): the same return value with
  exactly the same types, or the same exception type, the same argument
  mutation and the same output as the canonical solution.
"""

from __future__ import annotations

import contextlib
import copy
import importlib
import io
import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SPEC = json.loads((HERE / "cases.json").read_text(encoding="utf-8"))
ROLES = [role for role in ("canonical", "written", "best_known") if role in SPEC["functions"]]
CASES = range(len(SPEC["cases"]))
FLOAT_TOLERANCE = 1e-6
MAX_ITEMS = 100_000


def pytest_generate_tests(metafunc: Any) -> None:
    roles = ROLES if metafunc.function.__name__ != "test_same_as_canonical" else ROLES[1:]
    metafunc.parametrize(
        "role,case", [(role, case) for role in roles for case in CASES], ids=_ids(roles)
    )


def _ids(roles: list[str]) -> list[str]:
    return [f"{role}-{case}" for role in roles for case in CASES]


def call(role: str, case: int) -> dict[str, Any]:
    """What one call does: return value or exception type, arguments after, output."""
    function = getattr(importlib.import_module(role), SPEC["functions"][role])
    arguments = copy.deepcopy(SPEC["cases"][case]["arguments"])
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        try:
            outcome: tuple[str, Any] = ("returned", _drained(function(*arguments)))
        except Exception as error:
            outcome = ("raised", type(error).__name__)
    return {"outcome": outcome, "arguments": arguments, "stdout": printed.getvalue()}


def _drained(value: Any) -> Any:
    """Iterators and generators are compared by what they yield."""
    if isinstance(value, Iterator):
        return ("iterator", [item for _, item in zip(range(MAX_ITEMS), value, strict=False)])
    return value


def test_matches_expected(role: str, case: int) -> None:
    kind, value = call(role, case)["outcome"]
    assert kind == "returned", f"raised {value}"
    assert as_json(value, SPEC["cases"][case]["expected"])


def test_keeps_arguments(role: str, case: int) -> None:
    assert same(call(role, case)["arguments"], SPEC["cases"][case]["arguments"])


def test_same_as_canonical(role: str, case: int) -> None:
    got, reference = call(role, case), call("canonical", case)
    assert same(got["outcome"], reference["outcome"]), (got["outcome"], reference["outcome"])
    assert same(got["arguments"], reference["arguments"]), "arguments mutated differently"
    assert got["stdout"] == reference["stdout"], "printed output differs"


def as_json(value: Any, expected: Any) -> bool:
    """`value` equals the JSON-decoded `expected`: tuples as lists, string keys, close floats."""
    if isinstance(value, tuple) and value[:1] == ("iterator",) and len(value) == 2:
        value = value[1]
    if isinstance(value, bool) or isinstance(expected, bool):
        return value is expected
    if isinstance(value, int | float) and isinstance(expected, int | float):
        if isinstance(value, float) and math.isnan(value):
            return False
        return math.isclose(value, expected, rel_tol=FLOAT_TOLERANCE, abs_tol=FLOAT_TOLERANCE)
    if isinstance(value, list | tuple) and isinstance(expected, list):
        pairs = zip(value, expected, strict=False)
        return len(value) == len(expected) and all(as_json(v, e) for v, e in pairs)
    if isinstance(value, dict) and isinstance(expected, dict):
        keys = {str(key): item for key, item in value.items()}
        return keys.keys() == expected.keys() and all(as_json(keys[k], expected[k]) for k in keys)
    return bool(value == expected)


def same(a: Any, b: Any) -> bool:
    """Strict: exact types, NaN equals NaN, -0.0 differs from 0.0, dict order matters."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        pairs = zip(a.items(), b.items(), strict=False)
        return len(a) == len(b) and all(same(k, j) and same(v, w) for (k, v), (j, w) in pairs)
    return bool(a == b)
