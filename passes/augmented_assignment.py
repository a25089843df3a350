"""OPT211: `x = x + y` becomes `x += y` when `x` is an immutable builtin local."""

from __future__ import annotations

import ast

import libcst as cst

from passes import _ast_prefilter as pre
from passes._facts import FunctionPass
from passes._values import has_immutable_bindings
from passes.base import Example

AUGMENTED: dict[type[cst.BaseBinaryOp], type[cst.BaseAugOp]] = {
    cst.Add: cst.AddAssign,
    cst.Subtract: cst.SubtractAssign,
    cst.Multiply: cst.MultiplyAssign,
    cst.Divide: cst.DivideAssign,
    cst.FloorDivide: cst.FloorDivideAssign,
    cst.Modulo: cst.ModuloAssign,
    cst.Power: cst.PowerAssign,
    cst.LeftShift: cst.LeftShiftAssign,
    cst.RightShift: cst.RightShiftAssign,
    cst.BitOr: cst.BitOrAssign,
    cst.BitAnd: cst.BitAndAssign,
    cst.BitXor: cst.BitXorAssign,
}


class AugmentedAssignment(FunctionPass):
    """What it does:
        Rewrites `x = x <op> y` into `x <op>= y` when every value `x` can hold is
        an immutable builtin (int, float, complex, str, bytes, bool, None).

    Why it is faster:
        It loads `x` by the same opcode but lets CPython use its in-place string
        append path for `str` and saves re-reading the target expression. On
        3.11 the effect for ints is within noise (sometimes slower); timing keeps
        it only where it measurably helps.

    Fix safety:
        The pass fires only when all of these are proven:
        - `x` is a local of the function (no `global`/`nonlocal`), and every one
          of its bindings gives it an immutable builtin value: a parameter
          annotated `int`/`str`/`float`/..., a literal or typed expression, a loop
          over typed items, or `x = x <op> <typed operand>`. Immutable builtins
          define no in-place operators, so `x <op>= y` falls back to exactly
          `x = x <op> y` (same reflected-operator calls, results and
          exceptions). A list would be mutated in place instead, changing what
          aliases see, so anything not proven immutable is declined;
        - the right-hand side is exactly `x <op> y` with `x` as the bare left
          operand (`x = x + a + b` is `(x + a) + b`, not `x += a + b`).
    """

    code = "OPT211"
    name = "augmented-assignment"
    summary = "Use x += y instead of x = x + y for immutable builtin locals."
    triggers = (" = ",)

    @classmethod
    def may_match_ast(cls, function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
        """`x = x <op> y` with a single name target and an operator that has `op=`."""
        for node in pre.nodes(function, ast.Assign):
            assert isinstance(node, ast.Assign)
            value = node.value
            if (
                len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name)
                and isinstance(value, ast.BinOp)
                and type(value.op) in _AST_AUGMENTABLE
                and pre.is_name(value.left, node.targets[0].id)
            ):
                return True
        return False

    EXAMPLES = (
        Example(
            before='''\
def weighted(values: list[int], scale: int) -> int:
    total = 0
    for value in values:
        total = total + value * scale
    return total
''',
            after='''\
def weighted(values: list[int], scale: int) -> int:
    total = 0
    for value in values:
        total += value * scale
    return total
''',
        ),
        Example(
            before='''\
def banner(title: str, width: int) -> str:
    title = title + "!"
    width = width // 2
    return title[:width]
''',
            after='''\
def banner(title: str, width: int) -> str:
    title += "!"
    width //= 2
    return title[:width]
''',
        ),
    )
    NON_EXAMPLES = (
        # A list: `+=` extends it in place, so the caller's list would change.
        '''\
def extended(items: list[int]) -> list[int]:
    items = items + [0]
    return items
''',
        # Unknown type: `+=` may call a custom __iadd__.
        '''\
def grow(acc: object, step: int) -> object:
    acc = acc + step
    return acc
''',
        # `x = x + a + b` is `(x + a) + b`; `x += a + b` would be `x + (a + b)`.
        '''\
def join3(text: str, a: str, b: str) -> str:
    text = text + a + b
    return text
''',
        # A global: not a local of the function.
        '''\
count = 0

def bump(step: int) -> int:
    global count
    count = count + step
    return count
''',
    )

    def leave_Assign(
        self, original_node: cst.Assign, updated_node: cst.Assign
    ) -> cst.BaseSmallStatement:
        facts = self.facts_for(original_node)
        if facts is None or len(original_node.targets) != 1:
            return updated_node
        target = original_node.targets[0].target
        value = original_node.value
        if not (
            isinstance(target, cst.Name)
            and isinstance(value, cst.BinaryOperation)
            and isinstance(value.left, cst.Name)
            and value.left.value == target.value
            and not value.left.lpar
            and type(value.operator) in AUGMENTED
        ):
            return updated_node
        if not updated_node.deep_equals(original_node):
            return updated_node
        if not has_immutable_bindings(facts, target.value):
            return updated_node
        operator = AUGMENTED[type(value.operator)]()
        return cst.AugAssign(
            target=updated_node.targets[0].target,
            operator=operator,
            value=value.right,
            semicolon=updated_node.semicolon,
        )


_AST_AUGMENTABLE = frozenset(
    {ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow, ast.LShift,
     ast.RShift, ast.BitOr, ast.BitAnd, ast.BitXor}
)  # fmt: skip
