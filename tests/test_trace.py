"""`optimize trace`: real programs run under the tracer in real subprocesses.

The recorded pickles are opened here, in the test, only to check what was
recorded; `optimize` itself never unpickles them outside the sandbox (see
test_trace_pipeline.py).
"""

from __future__ import annotations

import pickle
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from pipeline.trace.store import SCHEMA_VERSION, TraceStore
from tests.conftest import Runner

APP = """\
import sys


class Cart:
    def __init__(self):
        self.items = []

    def add(self, name, qty=1, *extra, note=None, **options):
        self.items.append((name, qty))

    @classmethod
    def of(cls, names):
        cart = cls()
        for name in names:
            cart.add(name)
        return cart

    @staticmethod
    def clean(text):
        return text.strip().lower()


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def apply(function, value):
    return function(value)


def tag(label, *rest, sep="-", **more):
    return sep.join([label, *rest, *more])


def main():
    cart = Cart.of([Cart.clean(" Tea%d " % (i % 7)) for i in range(50)])
    cart.add("jam", 2, note="n")
    tag("a", "b", sep="+", gift=True)
    print(len(cart.items), fib(15), apply(lambda v: v + 1, 41))
    print("to stderr", file=sys.stderr)
    if len(sys.argv) > 1 and sys.argv[1] == "crash":
        {}["missing"]
    sys.exit(int(sys.argv[1]) if len(sys.argv) > 1 else 0)


if __name__ == "__main__":
    main()
"""


@pytest.fixture
def app(project: Path) -> Path:
    (project / "app.py").write_text(APP, encoding="utf-8")
    return project


def _python(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120, check=False)  # fmt: skip


def _store(project: Path) -> Path:
    return project / ".optimize_cache" / "trace.sqlite"


def _functions(project: Path) -> dict[str, Any]:
    with TraceStore(_store(project)) as trace:
        return {f.qualname: f for f in trace.functions()}


def _calls(project: Path, path: str, qualname: str) -> list[tuple[tuple[Any, ...], dict[str, Any]]]:
    with TraceStore(_store(project)) as trace:
        return [pickle.loads(blob) for blob in trace.calls(path, qualname)]


@pytest.mark.parametrize("argv", [[], ["3"], ["crash"]])
def test_output_and_exit_code_pass_through_unchanged(
    app: Path, run_cli: Runner, argv: list[str]
) -> None:
    plain = _python(app, "app.py", *argv)
    traced = run_cli("trace", "app.py", *argv, cwd=app)
    assert (traced.stdout, traced.stderr, traced.returncode) == (
        plain.stdout, plain.stderr, plain.returncode,
    )  # fmt: skip
    assert plain.returncode == {(): 0, ("3",): 3, ("crash",): 1}[tuple(argv)]
    assert "KeyError" in plain.stderr or argv != ["crash"]


def test_counts_times_and_real_calls_per_function(app: Path, run_cli: Runner):
    assert run_cli("trace", "app.py", cwd=app).returncode == 0
    functions = _functions(app)
    assert set(functions) == {
        "Cart.__init__", "Cart.add", "Cart.of", "Cart.clean", "fib", "apply", "tag", "main",
    }  # fmt: skip
    assert functions["fib"].calls == 1973  # fib(15), every recursive call
    assert functions["Cart.add"].calls == 51
    assert functions["Cart.clean"].calls == 50
    assert all(f.path == "app.py" for f in functions.values())
    for function in functions.values():
        assert 0 < function.own_ns <= function.total_ns * 1.01 + 1000
    # main runs everything: its total covers fib's, its own leaves out the project's callees
    assert functions["main"].total_ns >= functions["fib"].total_ns
    assert functions["main"].own_ns < functions["main"].total_ns - functions["fib"].total_ns
    assert functions["Cart.add"].recorded == 32  # the cap, out of 51 calls
    assert functions["fib"].recorded == 32


def test_recorded_calls_are_as_the_sandbox_calls_them(app: Path, run_cli: Runner):
    run_cli("trace", "app.py", cwd=app)
    sys.path.insert(0, str(app))  # the script's classes are pickled as module `app`'s
    try:
        sys.modules.pop("app", None)
        adds = _calls(app, "app.py", "Cart.add")
        of = _calls(app, "app.py", "Cart.of")
        clean = _calls(app, "app.py", "Cart.clean")
        tag = _calls(app, "app.py", "tag")
    finally:
        sys.path.remove(str(app))
        sys.modules.pop("app", None)
    # A method's args start with self (as it was at call time: items recorded before the call).
    self_, name, qty = adds[0][0][:3]
    assert type(self_).__qualname__ == "Cart" and isinstance(name, str) and qty in (1, 2)
    assert all(kwargs in ({"note": None}, {"note": "n"}) for _, kwargs in adds)
    # *args are positional, keyword-only parameters and **kwargs are keywords.
    assert tag == [(("a", "b"), {"sep": "+", "gift": True})]
    # A classmethod's leave out cls; a staticmethod's are as called.
    assert of[0][0] == ([f"tea{i % 7}" for i in range(50)],) and of[0][1] == {}
    assert all(len(args) == 1 and args[0].startswith(" Tea") for args, _ in clean)


def test_unpicklable_argument_is_counted_and_skipped(app: Path, run_cli: Runner):
    run_cli("trace", "app.py", cwd=app)
    apply = _functions(app)["apply"]
    assert (apply.calls, apply.unpicklable, apply.recorded) == (1, 1, 0)  # a lambda
    shown = run_cli("trace", "--show", cwd=app)
    assert "1 unpicklable" in shown.stdout
    assert "app.py::apply" in shown.stdout


def test_a_call_over_the_size_cap_is_kept_shortened_or_else_skipped(
    project: Path, run_cli: Runner
):
    (project / "big.py").write_text(textwrap.dedent("""\
        def size(items, lookup=None):
            return len(items)

        rows = [str(i) * 20 for i in range(20_000)]
        print(size(list(range(10))), size(rows, {row: 1 for row in rows}))
        print(size([list(range(300_000))]))  # one item, too large alone: cannot be cut
    """), encoding="utf-8")  # fmt: skip
    traced = run_cli("trace", "big.py", cwd=project)
    assert traced.stdout == "10 20000\n1\n"
    assert "(1 shortened to fit the size cap)" in run_cli("trace", "--show", cwd=project).stdout
    size = _functions(project)["size"]
    assert (size.calls, size.shortened, size.oversized, size.recorded) == (3, 1, 1, 2)
    calls = _calls(project, "big.py", "size")
    (items, lookup), _ = max(calls, key=lambda call: len(call[0][0]))
    assert 1 < len(items) < 20_000 and items == [str(i) * 20 for i in range(len(items))]
    assert len(lookup) == len(items) and list(lookup) == items  # each cut to its first k


def test_a_second_trace_adds_to_the_first(app: Path, run_cli: Runner):
    run_cli("trace", "app.py", cwd=app)
    run_cli("trace", "app.py", "3", cwd=app)
    functions = _functions(app)
    assert functions["fib"].calls == 2 * 1973
    assert functions["fib"].recorded == 32  # still the cap: one sample of both runs
    with TraceStore(_store(app)) as trace:
        assert [run.exit_code for run in trace.runs()] == [0, 3]
    run_cli("trace", "--fresh", "app.py", cwd=app)
    assert _functions(app)["fib"].calls == 1973


def test_only_the_projects_files_are_traced(project: Path, run_cli: Runner):
    """Not the stdlib, not a virtualenv under the root, not optimize itself."""
    vendored = project / ".venv" / "lib" / "site-packages"
    vendored.mkdir(parents=True)
    (vendored / "vendored.py").write_text("def helper(x):\n    return x\n", encoding="utf-8")
    (project / "main.py").write_text(textwrap.dedent("""\
        import json, sys
        sys.path.insert(0, ".venv/lib/site-packages")
        import vendored

        def encode(value):
            return json.dumps(vendored.helper(value))

        print(encode({"a": 1}))
    """), encoding="utf-8")  # fmt: skip
    assert run_cli("trace", "main.py", cwd=project).stdout == '{"a": 1}\n'
    assert set(_functions(project)) == {"encode"}


def test_trace_of_pytest(project: Path, run_cli: Runner):
    (project / "shop.py").write_text(textwrap.dedent("""\
        def total(prices):
            result = 0
            for price in prices:
                result += price
            return result
    """), encoding="utf-8")  # fmt: skip
    tests = project / "tests"
    tests.mkdir()
    (tests / "test_shop.py").write_text(textwrap.dedent("""\
        from shop import total

        def test_total():
            assert total([1, 2, 3]) == 6

        def test_empty():
            assert total([]) == 0
    """), encoding="utf-8")  # fmt: skip
    pytest_table = '\n[tool.pytest.ini_options]\npythonpath = ["."]\n'
    (project / "pyproject.toml").write_text((project / "pyproject.toml").read_text() + pytest_table)
    done = run_cli("trace", "-m", "pytest", "tests/", "-q", "-p", "no:cacheprovider", cwd=project)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 passed" in done.stdout
    functions = _functions(project)
    assert functions["total"].calls == 2 and functions["total"].recorded == 2
    assert {"test_total", "test_empty"} <= set(functions)
    assert all(not f.path.startswith(("/", "..")) for f in functions.values())
    # A failing test fails the traced run the same way.
    (tests / "test_shop.py").write_text("def test_fails():\n    assert False\n")
    failed = run_cli("trace", "-m", "pytest", "tests/", "-q", "-p", "no:cacheprovider", cwd=project)
    assert failed.returncode == 1


def test_a_store_of_another_schema_version_is_refused(app: Path, run_cli: Runner):
    store = _store(app)
    store.parent.mkdir()
    with sqlite3.connect(store) as db:
        db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        db.execute("INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION + 1),))
    done = run_cli("trace", "app.py", cwd=app)
    assert done.returncode == 2
    assert done.stdout == ""  # the program did not run
    assert done.stderr.count("\n") == 1 and "schema version" in done.stderr


def test_usage_errors_are_one_line(app: Path, run_cli: Runner):
    for argv, message in ((["trace"], "nothing to run"), (["trace", "nope.py"], "no such file")):
        done = run_cli(*argv, cwd=app)
        assert done.returncode == 2 and message in done.stderr
        assert done.stderr.count("\n") == 1
