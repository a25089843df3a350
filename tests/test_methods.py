"""Every function and method: inventory, passes, splice, diff scoping.

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
import shutil
import subprocess
import sysconfig
import tokenize
from pathlib import Path

import libcst as cst
import pytest

from benchmarks.stdlib_run import sample, stdlib_files
from passes import Example, OptimizationPass, all_passes
from passes.base import first_function
from pipeline import changes
from pipeline.config import Config
from pipeline.model import DefKind, ParsedFile
from pipeline.stages.analyze import analyze
from pipeline.stages.defs import inventory
from pipeline.stages.orchestrate import apply_accepted, scan_file
from pipeline.stages.parse import parse, parse_tree, read_source
from pipeline.stages.rewrite import propose
from pipeline.stages.style import Style, restyle
from tests.conftest import example_traces

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


MODULE_LEVEL_ONLY = {"OPT108", "OPT116"}  # memoisation: module-level functions only
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
    """Through the real rewrite stage (a bare class in the stand-in, splice into the class),
    laid out in the default style (one level deeper, a line may now be too long)."""
    name = first_function(example.before)
    before = as_method(example.before, name, static)
    parsed = parsed_from(tmp_path, before)
    traces = {f"Holder.{n}": facts for n, facts in example_traces(example).items()}
    candidates = propose(parsed, analyze(parsed, [pass_class], traces=traces), [pass_class])
    (candidate,) = [c for c in candidates if c.function == f"Holder.{name}"]
    after = as_method(example.after, name, static)
    expected = restyle(after, before, f"Holder.{name}", Style(), parsed.source.path)
    assert candidate.module_code == expected


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
    # The scan (`--no-verify`) shows exactly the same texts.
    scanned = scan_file(path, Config())
    found = {
        (o.candidate.function, o.candidate.rules, o.candidate.module_code) for o in scanned.outcomes
    }
    assert found == {(c.function, c.rules, c.module_code) for c in candidates}
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
