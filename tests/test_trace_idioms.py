"""Idioms of untyped code that only a trace can type get rewritten: an order-keeping
dedupe (OPT117), a membership test in a comprehension (OPT105), a constant list
tested in a generator over a str (OPT106) and list concatenation in a loop over a
list of lists (OPT102). Through the real CLI, in subprocesses,
with the real sandbox, on a module nobody annotated."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from pipeline.observed_types import observed_types
from tests.conftest import FAST_PYPROJECT, Runner, outcomes_by_function

SHOP = '''\
def unique_skus(orders):
    out = []
    for sku in orders:
        if sku not in out:
            out.append(sku)
    return out


def common(left, right):
    return [t for t in left if t in right]


def vowels(word):
    return sum(1 for ch in word if ch in ["a", "e", "i", "o", "u"])


def merge(reports):
    merged = []
    for report in reports:
        merged = merged + report
    return merged
'''

WORKLOAD = """\
from shop import common, merge, unique_skus, vowels

skus = [f"sku{i % 300}" for i in range(1200)]
for _ in range(3):
    print(unique_skus(skus)[:5], len(unique_skus(skus)))
print(len(common([f"t{i}" for i in range(800)], [f"t{i}" for i in range(400, 1200)])))
print(vowels("the quick brown fox jumps over the lazy dog " * 300))
print(merge([[f"r{j}" for j in range(40)] for _ in range(400)])[-3:])
"""


def _project(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text(FAST_PYPROJECT, encoding="utf-8")
    (tmp_path / "shop.py").write_text(SHOP, encoding="utf-8")
    (tmp_path / "run.py").write_text(WORKLOAD, encoding="utf-8")
    return tmp_path


def _workload_output(project: Path) -> str:
    return subprocess.run([sys.executable, "run.py"], cwd=project, capture_output=True,
                          text=True, check=True).stdout  # fmt: skip


def test_containers_of_builtin_containers_are_observed_with_their_items() -> None:
    shapes = [
        json.dumps({"rows": "list[list] len 3", "graph": "dict[str, list[str]] len 2",
                    "mixed": "list[Token | list] len 2", "keyed": "dict[tuple, int] len 1",
                    "pairs": "list[tuple[str, int]] len 4", "deep": "list[dict[str, Token]]"}),
        json.dumps({"rows": "list[list] len 5", "graph": "dict[str, list | None] len 1",
                    "mixed": "list[list] len 1", "keyed": "dict[tuple, int] len 1",
                    "pairs": "list len 0", "deep": "list[dict[str, Token]]"}),
    ]  # fmt: skip
    found = {o.name: o.annotation for o in observed_types(shapes)}
    assert found["rows"] == "list[list]"  # its items are lists, of nothing known
    # An inner list described bare was empty: beside `list[str]` it adds nothing.
    assert found["graph"] == "dict[str, list[str] | None]"
    assert found["mixed"] == "list"  # a class of the user's among the items
    assert found["keyed"] == "dict[tuple, int]"  # tuples, of items nothing spells
    assert found["pairs"] == "list[tuple[str, int]]"  # the empty list holds any items
    assert found["deep"] == "list[dict]"  # as far as builtins spell it


def test_untyped_idioms_are_rewritten_on_the_types_a_trace_observed(
    tmp_path: Path, run_cli: Runner
) -> None:
    project = _project(tmp_path)
    before = _workload_output(project)
    untraced = outcomes_by_function(run_cli("shop.py", "--json", cwd=project).stdout)
    assert not any(o["accepted"] for o in untraced.values())  # no types, no rewrite
    assert run_cli("trace", "run.py", cwd=project).returncode == 0

    outcomes = outcomes_by_function(run_cli("shop.py", "--json", cwd=project).stdout)
    expected = {
        "unique_skus": ("OPT117", ["orders: list[str] (observed in 6 of 6 recorded calls)"]),
        "common": ("OPT105", ["left: list[str] (observed in 1 of 1 recorded calls)",
                              "right: list[str] (observed in 1 of 1 recorded calls)"]),
        "vowels": ("OPT106", ["word: str (observed in 1 of 1 recorded calls)"]),
        "merge": ("OPT102", ["reports: list[list[str]] (observed in 1 of 1 recorded calls)"]),
    }  # fmt: skip
    for function, (rule, assumptions) in expected.items():
        outcome = outcomes[function]
        assert outcome["accepted"], (function, outcome["reason"])
        assert outcome["rules"] == [rule]
        assert outcome["assumptions"] == assumptions
        assert outcome["verdict"]["basis"][0][0] == "recorded calls"

    assert run_cli("shop.py", "--write", cwd=project).returncode == 0
    written = (project / "shop.py").read_text(encoding="utf-8")
    assert "def unique_skus(orders):" in written  # the observed types stay out of the file
    assert "out_seen = set()" in written and "out_seen.add(sku)" in written
    assert "return out\n" in written  # the ordered list is still the result
    assert "right_set = set(right)\n    return [t for t in left if t in right_set]" in written
    assert 'ch in {"a", "e", "i", "o", "u"}' in written
    assert "merged.extend(report)" in written
    assert _workload_output(project) == before


def test_an_ordered_dedupe_of_unhashable_items_is_left_alone(
    tmp_path: Path, run_cli: Runner
) -> None:
    project = _project(tmp_path)
    (project / "run.py").write_text(
        "from shop import unique_skus\n"
        "print(unique_skus([[1], [2], [1]]))\n"
        "print(unique_skus([[3], [3]]))\n",
        encoding="utf-8",
    )
    assert run_cli("trace", "run.py", cwd=project).returncode == 0
    report = run_cli("shop.py", "--json", "--function", "unique_skus", cwd=project)
    outcome = outcomes_by_function(report.stdout).get("unique_skus")
    assert outcome is None or "OPT117" not in outcome["rules"]
