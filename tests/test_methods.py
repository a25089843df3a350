"""Every function and method: inventory, passes, splice, diff scoping, verification.

Methods, static and class methods, methods of nested classes, and nested
functions that capture nothing are inventoried, rewritten by the passes,
spliced back into their class or function, scoped by git hunks, and verified
in the sandbox with an instance from OPTIMIZE_INPUTS or, for a method that
never reads `self`, with any object. Checked on stdlib modules copied into
temp dirs (code nobody here wrote) and on tests/data/methods.
"""

from __future__ import annotations

import ast
import io
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tokenize
from pathlib import Path
from typing import Any

import libcst as cst
import pytest
from conftest import FAST_PYPROJECT, Runner

from benchmarks.stdlib_run import sample, stdlib_files
from passes import Example, OptimizationPass, all_passes
from passes.base import first_function
from pipeline import changes
from pipeline.model import DefKind, ParsedFile
from pipeline.stages.analyze import analyze
from pipeline.stages.defs import inventory
from pipeline.stages.orchestrate import apply_accepted
from pipeline.stages.parse import parse, parse_tree, read_source
from pipeline.stages.rewrite import propose, scan

STDLIB = Path(sysconfig.get_paths()["stdlib"])
DATA = Path(__file__).parent / "data" / "methods"


def parsed_from(tmp_path: Path, source: str, name: str = "module.py") -> ParsedFile:
    path = tmp_path / name
    path.write_text(source, encoding="utf-8")
    return parse(read_source(path, 10**7))


def kinds(tmp_path: Path, source: str) -> dict[str, tuple[DefKind, bool]]:
    return {i.qualname: (i.kind, i.self_unused) for i in parsed_from(tmp_path, source).functions}


# --------------------------------------------------------------------------- inventory

EVERY_KIND = """\
import functools


def top(xs):
    def helper(x):  # reads only its own names and globals
        return functools.reduce(max, [x, 0])

    scale = 2

    def closure(x):  # captures `scale`
        return x * scale

    return [helper(x) + closure(x) for x in xs]


class Outer:
    LIMIT = 3

    def plain(self, x):
        return self.LIMIT + x

    def pure(self, x):
        return x + 1

    @staticmethod
    def static(x):
        return x

    @classmethod
    def build(cls, x):
        return cls()

    @property
    def size(self):
        return 0

    @size.setter
    def size(self, value):
        pass

    def uses_super(self):
        return super().__repr__()

    class Inner:
        def deep(self, y):
            return y

    if True:
        def conditional(self):
            return 1
"""


def test_inventory_finds_every_kind_of_def(tmp_path: Path) -> None:
    assert kinds(tmp_path, EVERY_KIND) == {
        "top": (DefKind.FUNCTION, False),
        "top.<locals>.helper": (DefKind.NESTED, False),
        "Outer.plain": (DefKind.METHOD, False),
        "Outer.pure": (DefKind.METHOD, True),
        "Outer.static": (DefKind.STATICMETHOD, False),
        "Outer.build": (DefKind.CLASSMETHOD, False),
        "Outer.uses_super": (DefKind.METHOD, False),
        "Outer.Inner.deep": (DefKind.METHOD, True),
    }  # a closure, a property with a setter (two defs named `size`), a def under `if`: out


@pytest.mark.parametrize(
    ("body", "captures"),
    [
        ("    def inner(x):\n        return len(x)\n", False),
        ("    def inner(x):\n        return x + n\n", True),  # reads a parameter of outer
        ("    def inner(x, k=n):\n        return x + k\n", True),  # default from outer
        ("    def inner(x):\n        return inner(x - 1) if x else 0\n", True),  # recursion
        ("    def inner(x):\n        nonlocal n\n        n = x\n", True),
        ("    def inner(n):\n        return [n for _ in range(n)]\n", False),  # its own `n`
        ("    def inner(x):\n        return (lambda: y)()\n    y = 1\n", True),
    ],
)
def test_nested_functions_that_capture_are_left_out(
    tmp_path: Path, body: str, captures: bool
) -> None:
    source = f"def outer(n):\n{body}    return inner\n"
    found = "outer.<locals>.inner" in kinds(tmp_path, source)
    assert found is not captures


@pytest.mark.parametrize(
    ("method", "unused"),
    [
        ("def m(self, x):\n        return x", True),
        ("def m(self, x):\n        return self", False),
        ("def m(self, x):\n        return [self for _ in x]", False),
        ("def m(self, x):\n        return lambda: self", False),
        ("def m(self, x):\n        return super().m(x)", False),
        ("def m(self, x):\n        return __class__", False),
        ("def m(self, x):\n        return locals()", False),
        ("def m(this, x):\n        return this.y", False),  # `self` by another name
        ("def m(*args):\n        return args", False),
    ],
)
def test_self_unused_is_decided_statically(tmp_path: Path, method: str, unused: bool) -> None:
    assert kinds(tmp_path, f"class C:\n    {method}\n")["C.m"] == (DefKind.METHOD, unused)


def test_stdlib_classes_are_inventoried(tmp_path: Path) -> None:
    """textwrap.py and difflib.py (0 candidates before: only module-level functions were
    looked at) are mostly classes."""
    found: dict[str, DefKind] = {}
    for name in ("textwrap.py", "difflib.py"):
        shutil.copy(STDLIB / name, tmp_path / name)
        found.update(
            {i.qualname: i.kind for i in parse(read_source(tmp_path / name, 10**7)).functions}
        )
    assert found["TextWrapper._wrap_chunks"] == DefKind.METHOD
    assert found["SequenceMatcher.find_longest_match"] == DefKind.METHOD
    assert found["SequenceMatcher.__chain_b"] == DefKind.METHOD  # resolved mangled in the child
    assert found["diff_bytes.<locals>.decode"] == DefKind.NESTED  # captures nothing
    assert "_mdiff.<locals>._make_line" not in found  # a closure over _mdiff's locals
    assert found["dedent"] == DefKind.FUNCTION


def module_level_functions(tree: ast.Module) -> int:
    """What the inventory was before it saw methods: `def`s directly in the module."""
    return sum(isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) for n in tree.body)


def test_far_more_defs_are_found_on_a_stdlib_sample() -> None:
    before = after = methods = 0
    for path in sample(stdlib_files(), 60):
        try:
            tree = ast.parse(path.read_bytes())
        except (SyntaxError, ValueError):
            continue
        sites = inventory(tree)
        before += module_level_functions(tree)
        after += len(sites)
        methods += sum(s.kind != DefKind.FUNCTION and s.kind != DefKind.NESTED for s in sites)
    print(f"stdlib sample: {before} module-level functions before, {after} defs now")
    assert methods > 2 * before
    assert after > 3 * before


# --------------------------------------------------------------------------- passes


def as_method(source: str, name: str, static: bool) -> str:
    """`source` with its function `name` moved into `class Holder`, as a staticmethod or as
    a plain method with a `self` it never reads; everything else stays at module level."""
    module = cst.parse_module(source)
    body: list[cst.BaseStatement] = []
    for statement in module.body:
        if not (isinstance(statement, cst.FunctionDef) and statement.name.value == name):
            body.append(statement)
            continue
        method = statement.with_changes(leading_lines=())
        if static:
            decorators = [cst.Decorator(cst.Name("staticmethod")), *method.decorators]
            method = method.with_changes(decorators=decorators)
        else:
            params = method.params
            self_param = cst.Param(cst.Name("self"))
            if params.posonly_params:
                params = params.with_changes(posonly_params=[self_param, *params.posonly_params])
            else:
                params = params.with_changes(params=[self_param, *params.params])
            method = method.with_changes(params=params)
        block = cst.IndentedBlock(body=[method])
        holder = cst.ClassDef(cst.Name("Holder"), block, leading_lines=statement.leading_lines)
        body.append(holder)
    return module.with_changes(body=body).code


MODULE_LEVEL_ONLY = {"OPT108"}  # memoisation keeps a module-level table: functions only
METHOD_EXAMPLES = [
    pytest.param(pass_class, example, static, id=f"{pass_class.code}-{index}-{kind}")
    for pass_class in all_passes()
    if pass_class.code not in MODULE_LEVEL_ONLY
    for index, example in enumerate(pass_class.EXAMPLES)
    for static, kind in ((True, "static"), (False, "method"))
]


@pytest.mark.parametrize(("pass_class", "example", "static"), METHOD_EXAMPLES)
def test_every_pass_rewrites_a_method_like_the_function(
    pass_class: type[OptimizationPass], example: Example, static: bool, tmp_path: Path
) -> None:
    """Through the real rewrite stage (a bare class in the stand-in, splice into the class)."""
    name = first_function(example.before)
    parsed = parsed_from(tmp_path, as_method(example.before, name, static))
    candidates = propose(parsed, analyze(parsed, [pass_class]), [pass_class])
    (candidate,) = [c for c in candidates if c.function == f"Holder.{name}"]
    assert candidate.module_code == as_method(example.after, name, static)


SELF_ATTRIBUTES = """\
class Store:
    def __init__(self):
        self.items = []
        self.text = ""
        self.counts = {}
        self.queue = [1, 2, 3]

    def add_unique(self, values: list[int]) -> None:
        for value in values:
            if value not in self.items:
                self.items.append(value)

    def join(self, pieces: list[str]) -> str:
        for piece in pieces:
            self.text += piece
        return self.text

    def shares(self, values: list[int]) -> list[float]:
        out = []
        for v in values:
            self.add_unique([v])
            out.append(v / len(self.items))
        return out

    def count(self, words: list[str]) -> dict[str, int]:
        for word in words:
            if word in self.counts:
                self.counts[word] += 1
            else:
                self.counts[word] = 1
        return self.counts

    def drain(self) -> list[int]:
        out = []
        while self.queue:
            out.append(self.queue.pop(0))
        return out
"""


def test_state_kept_on_self_is_not_a_local(tmp_path: Path) -> None:
    """`self.items` outlives the call and other methods see it: no pass may turn it into
    a set, a join buffer, a Counter or a deque, nor hoist `len(self.items)`."""
    parsed = parsed_from(tmp_path, SELF_ATTRIBUTES)
    assert propose(parsed, analyze(parsed, all_passes()), all_passes()) == ()


# --------------------------------------------------------------------------- stdlib


STDLIB_WITH_METHOD_CANDIDATES = {
    "pstats.py": {"Stats.sort_stats", "Stats.strip_dirs", "Stats.eval_print_amount"},
    "curses/textpad.py": {"Textbox.gather"},
    "tkinter/font.py": {"Font._get"},
}


def comments(source: str) -> list[str]:
    tokens = tokenize.generate_tokens(io.StringIO(source).readline)
    return [t.string for t in tokens if t.type == tokenize.COMMENT]


def defs_except(source: str, qualname: str) -> dict[str, str]:
    """Every other inventoried def's code, normalised."""
    return {
        s.qualname: ast.dump(s.node)
        for s in inventory(ast.parse(source))
        if s.qualname != qualname and not s.qualname.startswith(f"{qualname}.")
    }


@pytest.mark.parametrize("name", sorted(STDLIB_WITH_METHOD_CANDIDATES))
def test_stdlib_method_rewrites_are_spliced_into_their_class(name: str, tmp_path: Path) -> None:
    path = tmp_path / Path(name).name
    shutil.copy(STDLIB / name, path)
    parsed, tree = parse_tree(read_source(path, 10**7))
    facts = analyze(parsed, all_passes(), tree)
    candidates = propose(parsed, facts, all_passes())
    assert {c.function for c in candidates} >= STDLIB_WITH_METHOD_CANDIDATES[name]
    # The scan (per-function libcst parse) finds exactly the same.
    found = {(c.function, c.rules) for c in scan(parsed, tree, facts, all_passes())}
    assert found == {(c.function, c.rules) for c in candidates}
    original = parsed.source.text
    for candidate in candidates:
        code = candidate.module_code
        compile(code, name, "exec")
        assert defs_except(code, candidate.function) == defs_except(original, candidate.function)
        assert comments(code) == comments(original)
        # Splicing the accepted rewrite again changes nothing (`--write` twice).
        assert apply_accepted(cst.parse_module(code), [candidate]) == code


# --------------------------------------------------------------------------- diff scoping

SCOPED = """\
class Cart:
    TAX = 0.2

    def total(self, prices):
        return sum(prices)

    class Line:
        @staticmethod
        def cost(price, count):
            return price * count


def report(cart):
    def fmt(x):
        return str(x)

    return fmt(cart)
"""


@pytest.mark.parametrize(
    ("line", "touched"),
    [
        (2, ()),  # a class attribute: no function changed
        (5, ("Cart.total",)),
        (8, ("Cart.Line.cost",)),  # the decorator line belongs to the method
        (10, ("Cart.Line.cost",)),
        (15, ("report",)),  # inside a nested function: its unit is analysed
    ],
)
def test_a_hunk_inside_a_method_maps_to_that_method(line: int, touched: tuple[str, ...]) -> None:
    assert changes.functions_touched(SCOPED, [(line, line)]) == touched


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True,
                          check=True)  # fmt: skip
    return done.stdout


def test_staged_changes_in_a_stdlib_method_scope_that_method(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.email", "test@example.com")
    git(repo, "config", "user.name", "test")
    text = (STDLIB / "textwrap.py").read_text(encoding="utf-8")
    (repo / "textwrap.py").write_text(text, encoding="utf-8")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "textwrap")
    edited = text.replace("        chunks.reverse()\n", "        chunks = chunks[::-1]\n", 1)
    assert edited != text
    (repo / "textwrap.py").write_text(edited, encoding="utf-8")
    git(repo, "add", "textwrap.py")
    scoped = changes.staged_functions([repo / "textwrap.py"])
    assert scoped == {repo / "textwrap.py": ("TextWrapper._wrap_chunks",)}


# --------------------------------------------------------------------------- end to end


def outcomes(result: subprocess.CompletedProcess[str]) -> dict[str, dict[str, object]]:
    assert result.returncode in (0, 1), result.stderr
    return {o["function"]: o for f in json.loads(result.stdout)["files"] for o in f["outcomes"]}


def test_methods_are_verified_timed_and_written(project: Path, run_cli: Runner) -> None:
    """The textbook `if x not in seen_list` in a method that reads `self` (instance from
    OPTIMIZE_INPUTS), one that never does (None stands in), a staticmethod, a classmethod
    of a nested class, and a nested helper of a function that returns it."""
    for name in ("registry.py", "factory.py"):
        shutil.copy(DATA / name, project / name)
    original = (project / "registry.py").read_text(encoding="utf-8")
    found = outcomes(run_cli("--json", "--no-llm", "registry.py", "factory.py", cwd=project))
    accepted = {name for name, outcome in found.items() if outcome["accepted"]}
    assert accepted == {
        "Registry.new_names", "Registry.distinct", "Registry.first_codes",
        "Registry.Report.headings", "make_dedupe.<locals>.dedupe",
    }, {name: outcome["reason"] for name, outcome in found.items()}  # fmt: skip
    sources = {name: outcome["verdict"]["strategy_sources"] for name, outcome in found.items()}  # type: ignore[index]
    assert "OPTIMIZE_INPUTS calls" in sources["Registry.new_names"]
    assert "any object for an unused self" in sources["Registry.distinct"]

    written = run_cli("--write", "--no-llm", "registry.py", "factory.py", cwd=project)
    assert written.returncode == 0, written.stderr
    text = (project / "registry.py").read_text(encoding="utf-8")
    compile(text, "registry.py", "exec")
    assert comments(text) == comments(original)
    assert text.count("= set()") == 4 and text.count("= []") == 4  # the outputs stay lists
    assert text.replace("= set()", "= []").replace(".add(", ".append(") == original
    assert "make_dedupe" in (project / "factory.py").read_text(encoding="utf-8")
    assert (project / "factory.py").read_text(encoding="utf-8").count("= set()") == 1

    again = run_cli("--write", "--no-llm", "registry.py", "factory.py", cwd=project)
    assert again.returncode == 0, again.stderr
    assert (project / "registry.py").read_text(encoding="utf-8") == text


def test_a_method_without_an_instance_is_unverified_with_the_reason(
    project: Path, run_cli: Runner
) -> None:
    source = (DATA / "registry.py").read_text(encoding="utf-8")
    hookless = source[: source.index("OPTIMIZE_INPUTS = ")]
    (project / "registry.py").write_text(hookless, encoding="utf-8")
    result = run_cli("--json", "--no-llm", "--function", "Registry.new_names", "registry.py",
                     cwd=project)  # fmt: skip
    (outcome,) = outcomes(result).values()
    assert outcome["accepted"] is False
    reason = str(outcome["reason"])
    assert "a method needs an instance" in reason
    assert "optimize trace" in reason and "OPTIMIZE_INPUTS" in reason
    assert (project / "registry.py").read_text(encoding="utf-8") == hookless
    summary = run_cli("--no-llm", "--function", "Registry.new_names", "registry.py", cwd=project)
    assert summary.returncode == 0, summary.stderr
    assert (
        "1 candidate(s) could not be verified (1 method(s) with no instance): run with -v to "
        "see why, then give it inputs with `optimize trace`, [tool.optimize.strategies] or an "
        "OPTIMIZE_INPUTS hook"
    ) in summary.stdout


# --------------------------------------------------------------------------- LLM

BASKET_PROPOSAL = {
    "function": (
        "def repeated(self):\n"
        "    counts = Counter(self.skus)\n"
        "    return _in_order(sku for sku in self.skus if counts[sku] > 1)\n"
    ),
    "helpers": "def _in_order(items):\n    return list(dict.fromkeys(items))\n",
    "imports": ["from collections import Counter"],
    "explanation": "One Counter pass instead of a count() per item.",
}
ANALYSIS = {
    "intent": "lists the repeated skus",
    "pure": True,
    "side_effects": [],
    "hot_spots": [],
    "complexity": "O(n^2)",
    "applicable_passes": [],
    "domains": [],
}


def test_a_model_sees_the_class_and_its_method_lands_in_it(project: Path) -> None:
    """The method goes out with its class line and the sibling method it calls; the
    model's rewrite is verified on OPTIMIZE_INPUTS instances, timed and written into the
    class, its helper and import at module level."""
    from llm_server import LLMServer

    target = project / "basket.py"
    shutil.copy(DATA / "basket.py", target)
    original = target.read_text(encoding="utf-8")
    environment = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    with LLMServer() as server:
        server.add("function_analysis", ANALYSIS)
        server.add("rewrite_proposals", {"candidates": [BASKET_PROPOSAL]})
        environment |= {"OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": "sk-test"}
        done = subprocess.run(
            [sys.executable, "-m", "pipeline", "--write", "--function", "Basket.repeated",
             "basket.py"],
            cwd=project, env=environment, capture_output=True, text=True, timeout=600,
            check=False,
        )  # fmt: skip
        sent = server.bodies("rewrite_proposals")[0]["messages"][-1]["content"]
    assert done.returncode == 0, done.stdout + done.stderr
    assert "class Basket:  # `repeated` is a method of this class" in sent
    assert "    def count(self, sku):" in sent and "def empty" not in sent
    assert "def repeated(self):\n    out = []" in sent  # dedented
    text = target.read_text(encoding="utf-8")
    compile(text, "basket.py", "exec")
    assert "from collections import Counter" in text
    assert text.index("def _in_order") < text.index("class Basket")
    assert (
        "    # SKUs bought more than once, in first-seen order.\n"
        "    def repeated(self):\n"
        "        counts = Counter(self.skus)\n"
    ) in text
    assert defs_except(text, "Basket.repeated") == {
        **defs_except(original, "Basket.repeated"),
        "_in_order": defs_except(text, "")["_in_order"],
    }


# --------------------------------------------------------------------------- traced methods


class Shelf:
    """A plain class: its state is its __dict__."""

    def __init__(self, items: list[object], label: str) -> None:
        self.items = items
        self.label = label


class Packed:
    __slots__ = ("items",)

    def __init__(self, items: list[object]) -> None:
        self.items = items


def test_neighbours_of_a_recorded_instance_reuse_its_real_items() -> None:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from pipeline.sandbox.child.instances import instance_neighbours

    books = [object() for _ in range(5)]
    recorded = Shelf(books[:3], "fiction")
    strategy = instance_neighbours([recorded, Shelf(books[3:], "poetry")])
    assert strategy is not None
    assert instance_neighbours([Packed(books)]) is None  # state kept elsewhere than __dict__
    assert instance_neighbours([recorded, 3]) is None
    drawn: list[Shelf] = []

    @settings(max_examples=60, database=None, suppress_health_check=list(HealthCheck))
    @given(st.data())
    def draw(data: st.DataObject) -> None:
        drawn.append(data.draw(strategy))

    draw()
    assert all(type(s) is Shelf and s is not recorded for s in drawn)
    assert all(item in books for s in drawn for item in s.items)
    assert len({len(s.items) for s in drawn}) > 3 and len({s.label for s in drawn}) > 2
    assert recorded.items == books[:3] and recorded.label == "fiction"  # copies, not edits


def test_traced_methods_are_verified_on_their_recorded_self_timed_and_written(
    tmp_path: Path, run_cli: Runner
) -> None:
    """One recorded call of `Catalog.categories` (self only) is not enough examples alone:
    neighbours of the recorded Catalog make up the rest; timing uses the recorded call,
    whose size is the length of the catalog's product list."""
    app = tmp_path / "app"
    shutil.copytree(Path(__file__).parent / "data" / "trace_app", app)
    (app / "pyproject.toml").write_text(FAST_PYPROJECT, encoding="utf-8")
    before = subprocess.run([sys.executable, "run.py"], cwd=app, capture_output=True,
                            text=True, timeout=300, check=True)  # fmt: skip
    traced = run_cli("trace", "run.py", cwd=app)
    assert traced.returncode == 0, traced.stderr
    methods = ("Catalog.categories", "Catalog.restock_lines")
    selected = [arg for name in methods for arg in ("--function", name)]
    found = outcomes(run_cli("--json", *selected, "inventory/catalog.py", cwd=app))
    assert set(found) == set(methods)
    for name in methods:
        outcome: dict[str, Any] = found[name]  # type: ignore[assignment]
        assert outcome["accepted"], outcome["reason"]
        basis = dict(outcome["verdict"]["basis"])
        assert basis["recorded calls"] == 1 and basis["generated"] >= 20, basis
        assert {s["source"] for s in outcome["timing"]["sizes"]} == {"recorded"}
        assert outcome["timing"]["sizes"][-1]["size"] == 6000  # len(catalog.products)
    written = run_cli("--write", *selected, "inventory/catalog.py", cwd=app)
    assert written.returncode == 0, written.stderr
    text = (app / "inventory" / "catalog.py").read_text(encoding="utf-8")
    assert "seen = set()" in text and "lines = lines + [" not in text
    after = subprocess.run([sys.executable, "run.py"], cwd=app, capture_output=True,
                           text=True, timeout=300, check=True)  # fmt: skip
    assert after.stdout == before.stdout


def test_a_method_with_no_way_to_an_instance_is_not_sent(project: Path) -> None:
    """No OPTIMIZE_INPUTS, no trace, and `self` is read: every proposal would end
    unverified, so the model is not asked and the report says why."""
    from llm_server import LLMServer

    source = (DATA / "basket.py").read_text(encoding="utf-8")
    (project / "basket.py").write_text(source[: source.index("def _basket")], encoding="utf-8")
    environment = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    with LLMServer() as server:
        environment |= {"OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": "sk-test"}
        done = subprocess.run(
            [sys.executable, "-m", "pipeline", "--json", "--function", "Basket.repeated",
             "basket.py"],
            cwd=project, env=environment, capture_output=True, text=True, timeout=300,
            check=False,
        )  # fmt: skip
        asked = server.count()
    assert done.returncode == 0, done.stderr
    (visit,) = json.loads(done.stdout)["files"][0]["llm_functions"]
    assert (visit["function"], visit["no_proposal"]) == (
        "Basket.repeated",
        "no instance for a method",
    )
    assert "optimize trace" in visit["detail"] and asked == 0
