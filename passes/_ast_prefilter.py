"""Cheap stdlib-`ast` shapes for the passes' `may_match_ast` prefilters.

A prefilter may keep a function its pass then declines, but must never drop one
the pass would rewrite. So every helper here matches a SUPERSET of what the
libcst matcher it mirrors accepts: where `ast` cannot see a detail (parentheses,
whitespace, one statement line holding several statements) the helper ignores
it rather than guess.

The scan asks ~30 passes about the same function in a row, so the nodes of the
last function seen are indexed once (by type, plus its statement blocks) and
reused until another function comes along.
"""

from __future__ import annotations

import ast
import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

Function = ast.FunctionDef | ast.AsyncFunctionDef
Loop = ast.For | ast.While

# Fields that hold a list of statements: libcst's IndentedBlocks.
_BLOCK_FIELDS = ("body", "orelse", "finalbody")


@dataclass
class FunctionIndex:
    """Every node of one function (nested scopes included), grouped by exact type."""

    by_type: dict[type[ast.AST], list[ast.AST]] = field(default_factory=dict)
    blocks: list[list[ast.stmt]] = field(default_factory=list)
    _parents: dict[int, ast.AST] | None = None

    def parent(self, node: ast.AST) -> ast.AST | None:
        """The node `node` sits in (the parents are indexed on first use)."""
        if self._parents is None:
            self._parents = {}
            for kind in list(self.by_type.values()):
                for parent in kind:
                    for child in ast.iter_child_nodes(parent):
                        self._parents[id(child)] = parent
        return self._parents.get(id(node))

    def of(self, *kinds: type[ast.AST]) -> Iterator[ast.AST]:
        for kind in kinds:
            yield from self.by_type.get(kind, ())


_last: tuple[Function, FunctionIndex] | None = None


def index(function: Function) -> FunctionIndex:
    """The index of `function`, built once while consecutive calls ask about it."""
    global _last
    if _last is not None and _last[0] is function:
        return _last[1]
    built = FunctionIndex()
    for node in ast.walk(function):
        built.by_type.setdefault(type(node), []).append(node)
        for name in _BLOCK_FIELDS:
            statements = getattr(node, name, None)
            if isinstance(statements, list) and len(statements) > 1:
                built.blocks.append(statements)
    _last = (function, built)
    return built


def nodes(function: Function, *kinds: type[ast.AST]) -> Iterator[ast.AST]:
    return index(function).of(*kinds)


def has(function: Function, *kinds: type[ast.AST]) -> bool:
    found = index(function).by_type
    return any(kind in found for kind in kinds)


# --- expression shapes ----------------------------------------------------------


def is_name(node: ast.AST | None, name: str | None = None) -> bool:
    return isinstance(node, ast.Name) and (name is None or node.id == name)


def is_method_call(node: ast.AST | None, method: str, receiver: str | None = None) -> bool:
    """`receiver.method(...)` where the receiver is a plain name."""
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == method
        and is_name(node.func.value, receiver)
    )


def is_builtin_call(node: ast.AST | None, name: str) -> bool:
    """A call spelled `name(...)` (whether `name` is the builtin is left to libcst)."""
    return isinstance(node, ast.Call) and is_name(node.func, name)


def positional_args(call: ast.Call) -> list[ast.expr] | None:
    """The arguments, when all are positional and none is starred."""
    if call.keywords or any(isinstance(arg, ast.Starred) for arg in call.args):
        return None
    return call.args


def single_positional_arg(call: ast.Call) -> ast.expr | None:
    args = positional_args(call)
    return args[0] if args is not None and len(args) == 1 else None


def is_empty_call(node: ast.AST | None, name: str) -> bool:
    """`name()` with no arguments at all."""
    return is_builtin_call(node, name) and not node.args and not node.keywords  # type: ignore[union-attr]


def constant_kind(node: ast.AST) -> str | None:
    """The type name of a literal constant, optionally signed (libcst's
    `is_hashable_constant`); f-strings and `...` are not constants there."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        inner = constant_kind(node.operand)
        return inner if inner in {"int", "float", "complex"} else None
    if isinstance(node, ast.Constant) and node.value is not Ellipsis:
        return "None" if node.value is None else type(node.value).__name__
    return None


def is_str_literal(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str)


def is_int_literal(node: ast.AST) -> bool:
    """An int literal, optionally negated (`True` is a name in libcst, not an int)."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        node = node.operand
    return isinstance(node, ast.Constant) and type(node.value) is int


def is_name_or_constant(node: ast.expr) -> bool:
    """A name, or a literal constant with an optional sign: every name, and a
    superset of the constants libcst's `is_constant` accepts."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        node = node.operand
    return isinstance(node, ast.Name | ast.Constant)


def annotated_parameters(function: Function) -> set[str]:
    """Names of annotated parameters of `function` or of any function nested in it."""
    return {
        arg.arg
        for arg in nodes(function, ast.arg)
        if isinstance(arg, ast.arg) and arg.annotation is not None
    }


# --- accumulator loops (`acc = <init>` directly followed by `for`) ----------------


@dataclass(frozen=True)
class AccumulatorShape:
    """`name = value` then `for target in iter:` whose body is one statement
    (`action`), possibly under `if`s without `else` (libcst's `accumulator_loop`)."""

    name: str
    value: ast.expr
    loop: ast.For
    action: ast.stmt
    conditions: int


def accumulator_loops(
    function: Function, *, allow_conditions: bool = True
) -> Iterator[AccumulatorShape]:
    for block in index(function).blocks:
        for init, loop in itertools.pairwise(block):
            shape = _accumulator(init, loop, allow_conditions)
            if shape is not None:
                yield shape


def _accumulator(
    init: ast.stmt, loop: ast.stmt, allow_conditions: bool
) -> AccumulatorShape | None:
    if not isinstance(loop, ast.For) or loop.orelse:
        return None
    head = _initialiser(init)
    if head is None:
        return None
    action: ast.stmt = loop
    body = loop.body
    conditions = 0
    while True:
        if len(body) != 1:
            return None
        action = body[0]
        if allow_conditions and isinstance(action, ast.If) and not action.orelse:
            conditions += 1
            body = action.body
            continue
        break
    return AccumulatorShape(head[0], head[1], loop, action, conditions)


def _initialiser(statement: ast.stmt) -> tuple[str, ast.expr] | None:
    if (
        isinstance(statement, ast.Assign)
        and len(statement.targets) == 1
        and isinstance(statement.targets[0], ast.Name)
    ):
        return statement.targets[0].id, statement.value
    if (
        isinstance(statement, ast.AnnAssign)
        and isinstance(statement.target, ast.Name)
        and statement.value is not None
    ):
        return statement.target.id, statement.value
    return None


def is_method_call_statement(statement: ast.stmt, method: str, receiver: str) -> bool:
    """`receiver.method(<one positional argument>)` as a statement."""
    return (
        isinstance(statement, ast.Expr)
        and is_method_call(statement.value, method, receiver)
        and single_positional_arg(statement.value) is not None  # type: ignore[arg-type]
    )


# --- boolean chains ---------------------------------------------------------------


OperandKey = Callable[[ast.expr, type[ast.boolop]], object]


def has_repeated_key(
    function: Function, operators: tuple[type[ast.boolop], ...], key: OperandKey
) -> bool:
    """Some `and`/`or` node has two operands with the same non-None `key(operand, op)`.

    libcst merges only runs of adjacent operands of one unparenthesised chain,
    and each such chain is one `ast.BoolOp`: grouping over the whole BoolOp can
    only find more candidates than that.
    """
    for node in nodes(function, ast.BoolOp):
        assert isinstance(node, ast.BoolOp)
        if not isinstance(node.op, operators):
            continue
        seen: set[object] = set()
        for operand in node.values:
            found = key(operand, type(node.op))
            if found is None:
                continue
            if found in seen:
                return True
            seen.add(found)
    return False


def single_index(node: ast.expr) -> ast.expr:
    """The index of `x[i]`; libcst reads `x[i,]` as the one element `i` (with a comma)."""
    if isinstance(node, ast.Tuple) and len(node.elts) == 1:
        return node.elts[0]
    return node


def is_list_of_lambda_call(node: ast.AST, inner: str) -> bool:
    """`list(inner(lambda v: ..., iterable))`, the lambda with one plain parameter."""
    if not is_builtin_call(node, "list"):
        return False
    assert isinstance(node, ast.Call)
    argument = single_positional_arg(node)
    if not is_builtin_call(argument, inner):
        return False
    assert isinstance(argument, ast.Call)
    args = positional_args(argument)
    if args is None or len(args) != 2 or not isinstance(args[0], ast.Lambda):
        return False
    params = args[0].args
    return (
        len(params.args) == 1
        and not params.posonlyargs
        and not params.kwonlyargs
        and params.vararg is None
        and params.kwarg is None
        and not params.defaults
    )


# --- names used in one way only ---------------------------------------------------


def single_name_target(statement: ast.AST) -> str | None:
    """The name of `name = value` with exactly one plain-name target."""
    if (
        isinstance(statement, ast.Assign)
        and len(statement.targets) == 1
        and isinstance(statement.targets[0], ast.Name)
    ):
        return statement.targets[0].id
    return None


def method_receiver(function: Function, name: ast.Name) -> tuple[str, ast.Call] | None:
    """(method, call) when `name` is the receiver of a call `name.method(...)`."""
    found = index(function)
    attribute = found.parent(name)
    if not isinstance(attribute, ast.Attribute) or attribute.value is not name:
        return None
    call = found.parent(attribute)
    if isinstance(call, ast.Call) and call.func is attribute:
        return attribute.attr, call
    return None


def is_membership_operand(function: Function, name: ast.Name) -> bool:
    """`name` is the right side of a one-operator `v in name` / `v not in name`."""
    compare = index(function).parent(name)
    return (
        isinstance(compare, ast.Compare)
        and len(compare.ops) == 1
        and isinstance(compare.ops[0], ast.In | ast.NotIn)
        and compare.comparators[0] is name
    )


def is_statement_value(function: Function, node: ast.AST) -> bool:
    """`node` is a whole expression statement, or the whole right side of `=` or `op=`."""
    statement = index(function).parent(node)
    if isinstance(statement, ast.Expr | ast.Assign | ast.AugAssign):
        return statement.value is node
    return False


def is_literal_index_call(node: ast.AST, index_ok: Callable[[ast.expr], bool]) -> ast.Call | None:
    """The call of `call(...)[i]`, when the one index `i` passes `index_ok`."""
    if not isinstance(node, ast.Subscript) or not isinstance(node.value, ast.Call):
        return None
    return node.value if index_ok(single_index(node.slice)) else None


def int_literal_value(node: ast.AST) -> int | None:
    """The value of an int literal, optionally negated (never a bool)."""
    sign = 1
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        node, sign = node.operand, -1
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return sign * node.value
    return None
