"""OPT115: `out = []` plus a loop that appends every item becomes `out = list(xs)`."""

from __future__ import annotations

import ast
from collections.abc import Sequence

import libcst as cst
import libcst.matchers as m

from passes import _ast_prefilter as pre
from passes._annotations import SIZED_GENERICS, TEXT_TYPES, param_generic
from passes._facts import FunctionFacts
from passes._loop_shapes import AccumulatorLoopPass
from passes._names import builtin_available, name_references, names_in_function_scope
from passes._splicing import replace_initialiser
from passes.base import Example

CONCRETE = SIZED_GENERICS | TEXT_TYPES


class CopyLoopToList(AccumulatorLoopPass):
    """What it does:
        Rewrites `out = []` immediately followed by `for x in xs: out.append(x)`
        (nothing else in the loop) into `out = list(xs)`.

    Why it is faster:
        The loop runs a method call per element in bytecode; `list(xs)` copies in C,
        pre-sized from the length of `xs`.

    Fix safety:
        The pass fires only when all of these are proven:
        - `out` is a private local and the two statements are adjacent in one block;
          `out = []` makes `append` the list method;
        - the loop has a plain name target `x`, no `else`, and its body is exactly
          `out.append(x)`; `x` is a private local used nowhere else in the function,
          so the value it keeps after a loop is never read;
        - `xs` is a parameter annotated with a concrete builtin container (`list`,
          `tuple`, `set`, `frozenset`, `dict`, `str`, `bytes`) that the function never
          rebinds: iterating and sizing it run no user code and cannot raise;
        - `xs` does not mention `out`, and `list` is not shadowed.
    """

    code = "OPT115"
    name = "copy-loop-to-list"
    summary = "Replace a loop that appends every item to a new list with list(xs)."
    triggers = (".append(",)

    @classmethod
    def may_match_ast(cls, function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
        """`out = []` then `for x in xs: out.append(x)` with `xs` an annotated parameter."""
        sources = [
            source
            for shape in pre.accumulator_loops(function, allow_conditions=False)
            if (source := _copied_name(shape)) is not None
        ]
        return bool(sources) and not pre.annotated_parameters(function).isdisjoint(sources)

    EXAMPLES = (
        Example(
            before='''\
def snapshot(values: list[int]) -> list[int]:
    copied = []
    for value in values:
        copied.append(value)
    copied.sort()
    return copied
''',
            after='''\
def snapshot(values: list[int]) -> list[int]:
    copied = list(values)
    copied.sort()
    return copied
''',
        ),
        Example(
            before='''\
def keys_then_total(table: dict[str, int]) -> tuple[list[str], int]:
    names = []
    for key in table:
        names.append(key)
    return names, sum(table.values())
''',
            after='''\
def keys_then_total(table: dict[str, int]) -> tuple[list[str], int]:
    names = list(table)
    return names, sum(table.values())
''',
        ),
    )
    NON_EXAMPLES = (
        # The loop variable is read after the loop: list(xs) would not bind it.
        '''\
def last_copied(values: list[int]) -> int:
    out = []
    for v in values:
        out.append(v)
    return v + len(out)
''',
        # The items are transformed, so this is not a plain copy.
        '''\
def doubled(values: list[int]) -> list[int]:
    out = []
    for v in values:
        out.append(v * 2)
    return out
''',
        # Unknown iterable: a generator or user object, whose iteration may raise midway.
        '''\
def drained(values) -> list:
    out = []
    for v in values:
        out.append(v)
    return out
''',
    )

    def rewrite_pair(
        self, facts: FunctionFacts, init: cst.BaseStatement, loop: cst.BaseStatement
    ) -> Sequence[cst.BaseStatement] | None:
        source = self._copied(facts, init, loop)
        if source is None:
            return None
        copy = cst.Call(func=cst.Name("list"), args=[cst.Arg(source)])
        return [replace_initialiser(init, copy)]

    def _copied(
        self, facts: FunctionFacts, init: cst.BaseStatement, loop: cst.BaseStatement
    ) -> cst.BaseExpression | None:
        if not isinstance(loop, cst.For) or loop.orelse is not None or loop.asynchronous:
            return None
        if not isinstance(loop.target, cst.Name) or not isinstance(loop.iter, cst.Name):
            return None
        item, source = loop.target.value, loop.iter
        if not m.matches(
            init,
            m.SimpleStatementLine(
                body=[m.Assign(targets=[m.AssignTarget(target=m.Name())], value=m.List([]))]
            ),
        ):
            return None
        out = init.body[0].targets[0].target.value  # type: ignore[attr-defined]
        append = m.SimpleStatementLine(
            body=[
                m.Expr(
                    m.Call(
                        func=m.Attribute(value=m.Name(out), attr=m.Name("append")),
                        args=[m.Arg(value=m.Name(item), keyword=None, star="")],
                    )
                )
            ]
        )
        if not m.matches(loop.body, m.IndentedBlock(body=[append])):
            return None
        if not (facts.is_private_local(out) and facts.is_private_local(item)):
            return None
        if len(name_references(facts.function, item)) != 2 or item == out or source.value == out:
            return None
        if not names_in_function_scope(facts, source):
            return None
        if param_generic(facts, source.value).name not in CONCRETE:
            return None
        if not builtin_available(facts, "list"):
            return None
        return source


def _copied_name(shape: pre.AccumulatorShape) -> str | None:
    """`xs` when the shape is `out = []; for x in xs: out.append(x)`."""
    loop, action = shape.loop, shape.action
    if not (isinstance(shape.value, ast.List) and not shape.value.elts):
        return None
    if not (isinstance(loop.target, ast.Name) and isinstance(loop.iter, ast.Name)):
        return None
    if not pre.is_method_call_statement(action, "append", shape.name):
        return None
    assert isinstance(action, ast.Expr) and isinstance(action.value, ast.Call)
    return loop.iter.id if pre.is_name(action.value.args[0], loop.target.id) else None
