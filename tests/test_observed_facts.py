"""Observed facts beyond a parameter's own type: the element types of nested containers
(`dict[str, list[str]]`) and the types of a method's `self` attributes. Through the real
CLI, in subprocesses, with the real sandbox, on a module nobody annotated."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from pipeline.observed_types import observed_types
from tests.conftest import FAST_PYPROJECT, Runner, outcomes_by_function

# Nothing here is typed: `graph[node]` is a list of str only because the trace saw a
# dict[str, list[str]], and `self.items` a list of str only because it saw the instance.
GRAPHS = '''\
def reachable(graph, start):
    seen = [start]
    todo = [start]
    order = []
    while todo:
        node = todo.pop()
        order.append(node)
        for nxt in graph[node]:
            if nxt not in seen:
                seen.append(nxt)
                todo.append(nxt)
    return order


class Catalog:
    def __init__(self, items):
        self.items = items

    def known(self, wanted):
        hits = []
        for w in wanted:
            if w in self.items:
                hits.append(w)
        return hits
'''

WORKLOAD = """\
from graphs import Catalog, reachable

graph = {f"n{i}": [f"n{(i * 7 + k) % 600}" for k in range(3)] for i in range(600)}
print(reachable(graph, "n0")[-3:], len(reachable(graph, "n5")))
print(len(Catalog([f"t{i}" for i in range(500)]).known([f"t{i}" for i in range(250, 900)])))
"""


def _project(tmp_path: Path, workload: str) -> Path:
    (tmp_path / "pyproject.toml").write_text(FAST_PYPROJECT, encoding="utf-8")
    (tmp_path / "graphs.py").write_text(GRAPHS, encoding="utf-8")
    (tmp_path / "run.py").write_text(workload, encoding="utf-8")
    return tmp_path


def _output(project: Path) -> str:
    return subprocess.run([sys.executable, "run.py"], cwd=project, capture_output=True,
                          text=True, check=True).stdout  # fmt: skip


def test_the_grammar_of_recorded_types_is_checked_before_anything_rests_on_it() -> None:
    shapes = [
        json.dumps({"ok": "dict[str, list[tuple[str, int]]] len 2", "open": "list[list[int]",
                    "junk": "list[int]] x", "deep": "list[" * 40 + "int" + "]" * 40}),
    ]  # fmt: skip
    found = {o.name: o.annotation for o in observed_types(shapes)}
    assert found == {"ok": "dict[str, list[tuple[str, int]]]", "open": "", "junk": "",
                     "deep": ""}  # fmt: skip


def test_nested_element_types_and_self_attributes_let_passes_rewrite_untyped_code(
    tmp_path: Path, run_cli: Runner
) -> None:
    project = _project(tmp_path, WORKLOAD)
    before = _output(project)
    untraced = outcomes_by_function(run_cli("graphs.py", "--json", cwd=project).stdout)
    assert not any(o["accepted"] for o in untraced.values())  # no types, no rewrite
    assert run_cli("trace", "run.py", cwd=project).returncode == 0

    outcomes = outcomes_by_function(run_cli("graphs.py", "--json", cwd=project).stdout)
    graph = outcomes["reachable"]
    assert graph["accepted"], graph["reason"]
    assert graph["rules"] == ["OPT103"]  # `nxt` is a str: an item of an item of `graph`
    assert graph["assumptions"] == [
        "graph: dict[str, list[str]] (observed in 2 of 2 recorded calls)",
        "start: str (observed in 2 of 2 recorded calls)",
    ]
    known = outcomes["Catalog.known"]
    assert known["accepted"], known["reason"]
    assert known["rules"] == ["OPT105"]  # a set built once from `self.items`
    assert known["assumptions"] == [
        "wanted: list[str] (observed in 1 of 1 recorded calls)",
        "self.items: list[str] (observed in 1 of 1 recorded calls)",
    ]
    shown = run_cli("graphs.py", cwd=project).stdout
    assert "self.items: list[str] (observed in 1 of 1 recorded calls)" in shown

    assert run_cli("graphs.py", "--write", cwd=project).returncode == 0
    written = (project / "graphs.py").read_text(encoding="utf-8")
    assert "def reachable(graph, start):\n    seen = {start}\n" in written
    assert "seen.add(nxt)" in written and "todo.append(nxt)" in written
    assert "items_set = set(self.items)\n        for w in wanted:\n" in written
    assert "def known(self, wanted):" in written and "items:" not in written
    assert _output(project) == before


def test_a_type_seen_only_in_some_calls_counts_as_what_it_is(
    tmp_path: Path, run_cli: Runner
) -> None:
    """One call's catalog holds lists: `set(self.items)` would raise on it, so `self.items`
    is `list[list[str] | str]` and no set is built. The nested lists are hashable-looking
    only in the other call."""
    project = _project(
        tmp_path,
        "from graphs import Catalog\n"
        "print(Catalog(['a', 'b', 'c']).known(['a', 'x']))\n"
        "print(Catalog([['a'], ['b']]).known([['a'], ['x']]))\n",
    )
    assert run_cli("trace", "run.py", cwd=project).returncode == 0
    report = run_cli("graphs.py", "--json", "--function", "Catalog.known", cwd=project)
    outcome = outcomes_by_function(report.stdout).get("Catalog.known")
    assert outcome is None or "OPT105" not in outcome["rules"], outcome
