"""The recorder of store version 3, driven through the real `optimize trace` CLI:
every call's size in a histogram, the outermost calls of recursive functions kept
first, element type unions in the shapes, and a tracer that never changes the program.

Recorded pickles are opened here, in the test, only to check what was recorded.
"""

from __future__ import annotations

import json
import pickle
import sqlite3
import subprocess
import sys
import textwrap
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from pipeline.sandbox.child.synthesis import call_size
from pipeline.trace.recorder import size_bucket
from pipeline.trace.store import SCHEMA_VERSION, TraceStore
from tests.conftest import Runner

RUNAWAY = """\
def runaway(n):
    return runaway(n + 1)


class Node:
    def visit(self, n):  # recursion through a builtin and a lambda: C calls on the way
        return sorted([n], key=lambda k: self.visit(k + 1))


def double(x):
    return 2 * x


for start in (lambda: runaway(0), lambda: Node().visit(0)):
    try:
        start()
    except RecursionError as error:
        print(error)
    print(sum(double(i) for i in range(50)))
"""


def _write(project: Path, name: str, source: str) -> None:
    (project / name).write_text(textwrap.dedent(source), encoding="utf-8")


def _python(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120, check=False)  # fmt: skip


def _store(project: Path) -> TraceStore:
    return TraceStore(project / ".optimize_cache" / "trace.sqlite")


def _calls(project: Path, path: str, qualname: str) -> list[tuple[tuple[Any, ...], dict[str, Any]]]:
    sys.path.insert(0, str(project))  # classes of a script are pickled under its module name
    try:
        with _store(project) as trace:
            return [pickle.loads(blob) for blob in trace.calls(path, qualname)]
    finally:
        sys.path.remove(str(project))


def _recorded(project: Path) -> dict[str, int]:
    with _store(project) as trace:
        return {f.qualname: f.recorded for f in trace.functions()}


def test_a_recursion_error_reads_as_in_plain_python_and_later_calls_are_sampled(
    project: Path, run_cli: Runner
):
    _write(project, "runaway.py", RUNAWAY)
    plain = _python(project, "runaway.py")
    traced = run_cli("trace", "runaway.py", cwd=project)
    assert plain.stdout.count("maximum recursion depth exceeded") == 2
    assert plain.stdout.count("2450\n") == 2
    assert (traced.stdout, traced.stderr, traced.returncode) == (plain.stdout, "", 0)
    # The trace function was unset by Python when the recursion hit the limit; it was set
    # again, so the calls after it were seen, counted and sampled.
    assert _recorded(project)["double"] == 32
    with _store(project) as trace:
        assert sum(trace.size_counts("runaway.py", "double").values()) == 100


def test_a_doctest_that_expects_a_recursion_error_passes_under_trace(
    project: Path, run_cli: Runner
):
    _write(
        project,
        "deep.py",
        '''\
        def runaway(n):
            """
            >>> runaway(0)
            Traceback (most recent call last):
            ...
            RecursionError: maximum recursion depth exceeded
            >>> 1 + 1
            2
            >>> [double(i) for i in range(40)][-1]
            78
            """
            return runaway(n + 1)


        def double(x):
            """
            >>> double(4)
            8
            """
            return 2 * x
    ''',
    )
    pytest_args = ("-m", "pytest", "--doctest-modules", "deep.py", "-q", "-p", "no:cacheprovider")
    assert _python(project, *pytest_args).returncode == 0
    traced = run_cli("trace", *pytest_args, cwd=project)
    assert traced.returncode == 0, traced.stdout + traced.stderr
    assert "2 passed" in traced.stdout
    with _store(project) as trace:
        assert sum(trace.size_counts("deep.py", "double").values()) == 41
    assert _recorded(project)["double"] == 32


def test_the_program_that_unsets_the_trace_is_named_in_a_warning(project: Path, run_cli: Runner):
    _write(
        project,
        "quiet.py",
        """\
        import sys


        def double(x):
            return 2 * x


        double(1)
        sys.settrace(None)
        print(sum(double(i) for i in range(10)))
    """,
    )
    traced = run_cli("trace", "quiet.py", cwd=project)
    assert traced.stdout == "90\n"
    assert traced.stderr.count("\n") == 1
    assert "warning: sampling stopped" in traced.stderr and "quiet.py::double" in traced.stderr


def test_recursive_functions_keep_their_outermost_calls(project: Path, run_cli: Runner):
    _write(
        project,
        "walk.py",
        """\
        def total(items):
            return 0 if not items else items[0] + total(items[1:])


        print(sum(total(list(range(30))) for _ in range(50)))
    """,
    )
    assert run_cli("trace", "walk.py", cwd=project).stdout == f"{50 * 435}\n"
    # 50 top-level calls of 30 items, 1500 inner ones: the 32 kept are top-level ones.
    assert [len(args[0]) for args, _ in _calls(project, "walk.py", "total")] == [30] * 32
    # The histogram counts the calls a caller made: the 50 of size 30 (bucket 27); the
    # inner calls are part of their time.
    with _store(project) as trace:
        assert trace.size_counts("walk.py", "total") == {size_bucket(30): 50}
    # A second run adds to the histogram, and still keeps top-level calls only.
    run_cli("trace", "walk.py", cwd=project)
    with _store(project) as trace:
        assert trace.size_counts("walk.py", "total") == {size_bucket(30): 100}
    assert [len(args[0]) for args, _ in _calls(project, "walk.py", "total")] == [30] * 32


SIZES_APP = """\
class Basket:
    def __init__(self, items):
        self.items = items
        self.label = "basket"

    def add(self, item, times=1):
        return len(self.items) + times


class Counted:
    \"\"\"len() of it would print: the recorder must never call it.\"\"\"

    def __len__(self):
        print("__len__ called")
        return 5

    @property
    def items(self):
        print("property called")
        return []


def join(*parts, sep=" ", **extra):
    return sep.join(parts)


def lookup(table, key):
    return table.get(key)


def power(n):
    return n * n


def describe(thing, count):
    return count


basket = Basket(["a", "b", "c"])
for n in range(40):
    basket.add("x" * (n % 5), times=n)
    join("ab", "cde" * n, sep="-", end="!")
    lookup({str(i): i for i in range(n)}, "1")
    power(-(3 ** n))
    describe(Counted(), n)
print("done")
"""


def test_every_call_is_counted_at_the_size_the_sandbox_gives_it(project: Path, run_cli: Runner):
    _write(project, "sizes.py", SIZES_APP)
    traced = run_cli("trace", "sizes.py", cwd=project)
    assert (traced.stdout, traced.stderr) == ("done\n", "")  # no __len__, no property ran
    checked = {"Basket.add", "join", "lookup", "power"}
    with _store(project) as trace:
        counts = {name: trace.size_counts("sizes.py", name) for name in checked | {"describe"}}
    for name in checked:
        assert sum(counts[name].values()) == 40, name
        calls = _calls(project, "sizes.py", name)
        assert len(calls) == 32
        # Each recorded call's size, as the sandbox measures it, is in the histogram.
        assert {size_bucket(call_size(call)) for call in calls} <= set(counts[name]), name
    # self's list of 3 and label of 6, and the item's length n % 5 (the int keyword is not
    # counted: a sized argument wins).
    assert counts["Basket.add"] == {9: 8, 10: 8, 11: 8, 12: 8, 13: 8}
    assert counts["join"] == Counter(size_bucket(2 + 3 * n + 1 + 1) for n in range(40))
    assert counts["lookup"] == Counter(size_bucket(n + 1) for n in range(40))
    assert counts["power"] == Counter(size_bucket(3**n) for n in range(40))
    # A user class's __len__ is never called: describe's size is its int argument.
    assert counts["describe"] == Counter(size_bucket(n) for n in range(40))


def test_shapes_describe_every_element_type_and_a_methods_attributes(
    project: Path, run_cli: Runner
):
    _write(
        project,
        "shapes.py",
        """\
        class Shelf:
            def __init__(self):
                self.books = ["a", "b"]
                self.size = 3

            def put(self, where, what):
                return where, what


        def mixed(items, table, empty, word):
            return items


        mixed([1, "a", None, 2.5], {"a": 1, "b": None}, [], "hey")
        Shelf().put((1, "a"), {"k": [("x", 1)], "j": []})
    """,
    )
    run_cli("trace", "shapes.py", cwd=project)
    with _store(project) as trace:
        (mixed,) = [json.loads(s) for s in trace.shapes("shapes.py", "mixed")]
        (put,) = [json.loads(s) for s in trace.shapes("shapes.py", "Shelf.put")]
    assert mixed == {
        "items": "list[None | float | int | str] len 4",
        "table": "dict[str, None | int] len 2",
        "empty": "list len 0",
        "word": "str len 3",
    }
    assert put == {
        "self.books": "list[str] len 2",
        "self.size": "int",
        "where": "tuple[int, str] len 2",  # a short tuple: one type per position
        "what": "dict[str, list[tuple[str, int]]] len 2",  # nested: the empty list adds nothing
    }


def test_a_store_of_version_2_asks_to_be_traced_again(project: Path, run_cli: Runner):
    _write(project, "app.py", "print('ran')\n")
    store = project / ".optimize_cache" / "trace.sqlite"
    store.parent.mkdir()
    with sqlite3.connect(store) as db:
        db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        db.execute("INSERT INTO meta VALUES ('schema_version', '2')")
    done = run_cli("trace", "app.py", cwd=project)
    assert done.returncode == 2 and done.stdout == ""
    assert f"trace schema version 2, this optimize reads {SCHEMA_VERSION}" in done.stderr
    assert "delete the file and trace again" in done.stderr


HEADROOM = """\
import sys


def depth():
    try:
        sys.setrecursionlimit(1)
    except RecursionError as error:  # "... at the recursion depth N: the limit is too low"
        return int(str(error).split("recursion depth ")[1].split(":")[0])


print("stack left:", sys.getrecursionlimit() - depth())
"""


@pytest.mark.parametrize("how", ["script", "module", "directory"])
def test_the_program_has_as_much_stack_as_under_plain_python(
    project: Path, run_cli: Runner, how: str
):
    (project / "pkg").mkdir()
    _write(project, "pkg/__main__.py", HEADROOM)
    _write(project, "headroom.py", HEADROOM)
    argv = {"script": ["headroom.py"], "module": ["-m", "pkg"], "directory": ["pkg"]}[how]
    plain = _python(project, *argv)
    assert plain.stdout.startswith("stack left: ")
    assert run_cli("trace", *argv, cwd=project).stdout == plain.stdout
