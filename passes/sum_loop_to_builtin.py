"""OPT207: an int accumulation loop becomes one call to builtin `sum`."""

from __future__ import annotations

import ast
from collections.abc import Sequence

import libcst as cst

from passes import _ast_prefilter as pre
from passes._facts import FunctionFacts
from passes._loop_shapes import AccumulatorLoopPass, accumulator_loop
from passes._names import builtin_available, name_references
from passes._splicing import replace_initialiser
from passes.base import Example


class SumLoopToBuiltin(AccumulatorLoopPass):
    """What it does:
        Rewrites `total = <int literal>` followed by `for x in xs: total += x`
        into `total = sum(xs)` (or `sum(xs, start)` for a non-zero start).

    Why it is faster:
        `sum` adds machine-size ints in C without creating intermediate int
        objects or running one bytecode loop iteration per element.

    Fix safety:
        The pass fires only when all of these are proven:
        - the elements are `int`: the iterable is a `list[int]`-style parameter
          or `range(...)`. Floats are declined: `sum` of floats is compensated
          on 3.12+ and would give different results; bools, custom numbers and
          unknown types are declined too;
        - `total` is a private local initialised with an int literal directly
          before the loop and not mentioned in the loop except as the `+=`
          target;
        - the body is exactly `total += x` with `x` the loop's single name
          target, which is not mentioned outside the loop;
        - the loop has no `else`, no `break`, is outside try/with blocks (so a
          failing iterable leaves no partial total to observe), and `sum` is
          the builtin in this function.
    """

    code = "OPT207"
    name = "sum-loop-to-builtin"
    summary = "Add up ints with builtin sum() instead of a += loop."
    triggers = ("+=",)

    @classmethod
    def may_match_ast(cls, function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
        """`total = <int>` then `for x in xs: total += x`."""
        return any(
            isinstance(shape.value, ast.Constant)
            and type(shape.value.value) is int
            and isinstance(shape.loop.target, ast.Name)
            and isinstance(shape.action, ast.AugAssign)
            and isinstance(shape.action.op, ast.Add)
            and pre.is_name(shape.action.target, shape.name)
            and pre.is_name(shape.action.value, shape.loop.target.id)
            for shape in pre.accumulator_loops(function, allow_conditions=False)
        )

    EXAMPLES = (
        Example(
            before='''\
def total_size(sizes: list[int]) -> int:
    total = 0
    for size in sizes:
        total += size
    return total
''',
            after='''\
def total_size(sizes: list[int]) -> int:
    total = sum(sizes)
    return total
''',
        ),
        Example(
            before='''\
def offset_sum(limit: int) -> int:
    acc = 10
    for i in range(limit):
        acc += i
    return acc * 2
''',
            after='''\
def offset_sum(limit: int) -> int:
    acc = sum(range(limit), 10)
    return acc * 2
''',
        ),
    )
    NON_EXAMPLES = (
        # Float accumulation: sum() is compensated on 3.12+, so results differ.
        '''\
def mean(values: list[float]) -> float:
    total = 0
    for value in values:
        total += value
    return total / max(len(values), 1)
''',
        # Element type unknown: `+=` may call a custom __iadd__/__add__.
        '''\
def combine(values: list) -> object:
    total = 0
    for value in values:
        total += value
    return total
''',
        # `sum` is shadowed at module level, so a new call would not reach the builtin.
        '''\
def sum(values: list[int]) -> int:
    return 0

def count(values: list[int]) -> int:
    total = 0
    for value in values:
        total += value
    return total
''',
        # The running total is read inside the loop.
        '''\
def prefix(values: list[int]) -> list[int]:
    total = 0
    seen = []
    for value in values:
        total += value
        seen.append(total)
    return seen
''',
    )

    def rewrite_pair(
        self, facts: FunctionFacts, init: cst.BaseStatement, loop: cst.BaseStatement
    ) -> Sequence[cst.BaseStatement] | None:
        parts = accumulator_loop(facts, init, loop, allow_conditions=False)
        if parts is None or not isinstance(parts.value, cst.Integer) or len(parts.targets) != 1:
            return None
        action = parts.action
        if not (
            isinstance(action, cst.AugAssign)
            and isinstance(action.operator, cst.AddAssign)
            and isinstance(action.target, cst.Name)
            and action.target.value == parts.name
            and isinstance(action.value, cst.Name)
            and action.value.value == parts.targets[0]
            and isinstance(parts.loop.target, cst.Name)
        ):
            return None
        if len(name_references(parts.loop, parts.name)) != 1:
            return None
        if facts.element_type(parts.loop.iter) != "int" or not builtin_available(facts, "sum"):
            return None
        args = [cst.Arg(parts.loop.iter)]
        if parts.value.evaluated_value != 0:
            args.append(cst.Arg(parts.value))
        return [replace_initialiser(init, cst.Call(func=cst.Name("sum"), args=args))]
