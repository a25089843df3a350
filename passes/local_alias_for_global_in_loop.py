"""OPT214: `math.<func>(...)` calls in a loop go through a local alias bound before it."""

from __future__ import annotations

import ast

import libcst as cst
import libcst.matchers as m
from libcst.metadata import Assignment, QualifiedNameProvider, QualifiedNameSource

from passes import _ast_prefilter as pre
from passes._facts import FunctionFacts, FunctionPass
from passes._loop_shapes import aliased_loop
from passes._names import has_scope_hazard
from passes.base import Example

MODULE = "math"
FUNCTIONS = frozenset(
    {
        "sqrt", "exp", "log", "log2", "log10", "sin", "cos", "tan", "atan2", "hypot",
        "floor", "ceil", "fabs", "isqrt", "gcd", "isclose", "isfinite", "isnan", "copysign",
        "pow", "fsum", "prod", "comb", "factorial", "trunc", "dist",
    }
)  # fmt: skip
Loop = cst.For | cst.While


class LocalAliasForGlobalInLoop(FunctionPass):
    """What it does:
        Binds `sqrt = math.sqrt` (a fresh local name) right before a loop that
        calls `math.sqrt(...)`, and calls the local inside the loop. Only
        functions of the stdlib `math` module are aliased.

    Why it is faster:
        Each `math.sqrt` in the loop is a global lookup plus an attribute lookup;
        a local is one `LOAD_FAST`. On 3.11+ the specialising interpreter makes
        this close to neutral (about 1.0-1.1x; it helped ~1.2x on 3.10), so the
        pass is deliberately narrow and timing decides whether it is kept.

    Fix safety:
        The pass fires only when all of these are proven:
        - `math` in the function resolves to a module-level `import math` and
          nothing else binds that name; every aliased attribute is a real
          `math` function, so evaluating it once before the loop (even when the
          loop runs zero times) cannot fail;
        - the loop holds no nested def/lambda/class, global/nonlocal, walrus,
          yield or await, and is a plain `for`/`while` of the function;
        - the alias name is fresh in the function (never mentioned in it), so it
          shadows nothing the function uses. Code that rebinds `math.sqrt` at
          run time while the loop runs (monkey-patching) is not supported.
    """

    code = "OPT214"
    name = "local-alias-for-global-in-loop"
    summary = "Alias math.<func> to a local before a loop that calls it."
    triggers = ("math.",)

    @classmethod
    def may_match_ast(cls, function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
        """A `for`/`while` calling `math.<f>(...)`, every such `f` in FUNCTIONS."""
        if not any(_math_call(call) for call in pre.nodes(function, ast.Call)):
            return False
        return any(_ast_hoistable(loop) for loop in pre.nodes(function, ast.For, ast.While))

    EXAMPLES = (
        Example(
            before='''\
import math

def norms(points: list[tuple[float, float]]) -> list[float]:
    out = []
    for x, y in points:
        out.append(math.sqrt(x * x + y * y))
    return out
''',
            after='''\
import math

def norms(points: list[tuple[float, float]]) -> list[float]:
    out = []
    _sqrt = math.sqrt
    for x, y in points:
        out.append(_sqrt(x * x + y * y))
    return out
''',
        ),
        Example(
            before='''\
import math

def floors(values: list[float], step: float) -> int:
    total = 0
    i = 0
    while i < len(values):
        if math.isfinite(values[i]):
            total += math.floor(values[i] / step) if step else 0
        i += 1
    return total
''',
            after='''\
import math

def floors(values: list[float], step: float) -> int:
    total = 0
    i = 0
    _isfinite = math.isfinite
    _floor = math.floor
    while i < len(values):
        if _isfinite(values[i]):
            total += _floor(values[i] / step) if step else 0
        i += 1
    return total
''',
        ),
        Example(
            before='''\
import math

def growth(rates: list[float], years: int) -> list[float]:
    out = []
    for rate in rates:
        out.append(math.pow(1 + rate, years))
    return out
''',
            after='''\
import math

def growth(rates: list[float], years: int) -> list[float]:
    out = []
    _pow = math.pow
    for rate in rates:
        out.append(_pow(1 + rate, years))
    return out
''',
        ),
    )
    NON_EXAMPLES = (
        # `math` is not the stdlib module here (a parameter shadows it).
        '''\
def scaled(values: list[float], math: object) -> list[float]:
    out = []
    for v in values:
        out.append(math.sqrt(v))
    return out
''',
        # A lambda in the loop: the alias would change what its closure sees.
        '''\
import math

def lazy(values: list[float]) -> list[float]:
    funcs = []
    for v in values:
        funcs.append(lambda v=v: math.sqrt(v))
    return [f() for f in funcs]
''',
        # `math` is rebound at module level after the import.
        '''\
import math
math = None

def roots(values: list[float]) -> list[float]:
    out = []
    for v in values:
        out.append(math.sqrt(v))
    return out
''',
    )

    def leave_IndentedBlock(
        self, original_node: cst.IndentedBlock, updated_node: cst.IndentedBlock
    ) -> cst.IndentedBlock:
        facts = self.facts
        if facts is None or not self._math_is_module(facts):
            return updated_node
        body: list[cst.BaseStatement] = []
        changed = False
        for original, updated in zip(original_node.body, updated_node.body, strict=True):
            functions = self._hoistable(facts, original)
            if not functions or not updated.deep_equals(original):
                body.append(updated)
                continue
            aliases = {name: facts.fresh_name(f"_{name}") for name in functions}
            assert isinstance(updated, Loop)
            bindings = [(aliases[name], f"{MODULE}.{name}") for name in functions]
            body.extend(aliased_loop(updated, bindings, _UseAliases(aliases)))
            changed = True
        return updated_node.with_changes(body=body) if changed else updated_node

    def _math_is_module(self, facts: FunctionFacts) -> bool:
        if facts.scope is None:
            return False
        assignments = list(facts.scope[MODULE])
        return bool(assignments) and all(
            isinstance(a, Assignment)
            and isinstance(a.node, cst.Import)
            and a.scope is not facts.scope
            and m.matches(
                a.node, m.Import(names=[m.ImportAlias(name=m.Name(MODULE), asname=None)])
            )
            for a in assignments
        )

    def _hoistable(self, facts: FunctionFacts, statement: cst.BaseStatement) -> list[str]:
        if not isinstance(statement, Loop) or has_scope_hazard(statement):
            return []
        if isinstance(statement, cst.For) and statement.asynchronous is not None:
            return []
        found: list[str] = []
        for call in m.findall(statement, m.Call(func=m.Attribute(value=m.Name(MODULE)))):
            assert isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute)
            attr = call.func.attr.value
            names = self.get_metadata(QualifiedNameProvider, call.func, set())
            proven = any(
                q.name == f"{MODULE}.{attr}" and q.source == QualifiedNameSource.IMPORT
                for q in names
            )
            if not proven or attr not in FUNCTIONS:
                return []
            if attr not in found:
                found.append(attr)
        return found


class _UseAliases(cst.CSTTransformer):
    def __init__(self, aliases: dict[str, str]) -> None:
        self.aliases = aliases

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.Call:
        func = updated_node.func
        if (
            isinstance(func, cst.Attribute)
            and m.matches(func.value, m.Name(MODULE))
            and func.attr.value in self.aliases
        ):
            return updated_node.with_changes(func=cst.Name(self.aliases[func.attr.value]))
        return updated_node


def _math_call(node: ast.AST) -> str | None:
    """`f` for a call spelled `math.f(...)`."""
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == MODULE
    ):
        return node.func.attr
    return None


def _ast_hoistable(loop: ast.AST) -> bool:
    called = {attr for node in ast.walk(loop) if (attr := _math_call(node)) is not None}
    return bool(called) and called <= FUNCTIONS
