"""OPT201: `out = []` + a loop of `out.append(...)` becomes a list comprehension."""

from __future__ import annotations

import ast
from collections.abc import Sequence

import libcst as cst

from passes import _ast_prefilter as pre
from passes._facts import FunctionFacts
from passes._loop_shapes import AccumulatorLoopPass, comp_for, filled_container_loop
from passes._splicing import replace_initialiser
from passes.base import Example


class AppendLoopToComprehension(AccumulatorLoopPass):
    """What it does:
        Rewrites an empty list that is filled by a `for` loop whose only statement
        is `out.append(expr)` (optionally under `if` tests) into one list
        comprehension assigned where the empty list was (Ruff PERF401 style).

    Why it is faster:
        The comprehension appends with the `LIST_APPEND` opcode instead of looking
        up and calling the bound method `out.append` on every iteration. The gain
        is small on 3.11 (and a comprehension costs a function call there, so
        tiny inputs can be slower); timing decides whether the rewrite is kept.

    Fix safety:
        The pass fires only when all of these are proven:
        - `out` is a private local initialised with `[]` or builtin `list()` in
          the statement directly before the loop;
        - the loop body is one `out.append(<one positional arg>)` statement, under
          nothing but `if` tests without `else`: no `break`, `continue` or other
          statements, and the loop has no `else` clause;
        - `out` is mentioned in the loop only as that append's receiver, so no
          iteration can observe the half-built list;
        - the loop target is names only, and none of them is mentioned outside
          the loop (a comprehension does not leak its variable) or in the
          iterable;
        - the loop is not in a try/with block of the function, and holds no
          lambda, nested def, walrus, yield, await, `super()`, `locals()` or
          comment, whose meaning or presence a nested scope would change.
    """

    code = "OPT201"
    name = "append-loop-to-comprehension"
    summary = "Build a list with a comprehension instead of a loop of append calls."
    triggers = (".append(",)

    @classmethod
    def may_match_ast(cls, function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
        """`out = []` (or `list()`) then a `for` whose one statement is `out.append(v)`."""
        return any(
            _is_empty_list(shape.value)
            and pre.is_method_call_statement(shape.action, "append", shape.name)
            for shape in pre.accumulator_loops(function)
        )

    EXAMPLES = (
        Example(
            before='''\
def squares(values: list[int]) -> list[int]:
    out = []
    for value in values:
        out.append(value * value)
    return out
''',
            after='''\
def squares(values: list[int]) -> list[int]:
    out = [value * value for value in values]
    return out
''',
        ),
        Example(
            before='''\
def short_upper(words: list[str], limit: int) -> list[str]:
    result: list[str] = []
    for word in words:
        if len(word) <= limit:
            if word:
                result.append(word.upper())
    return result
''',
            after='''\
def short_upper(words: list[str], limit: int) -> list[str]:
    result: list[str] = [word.upper() for word in words if len(word) <= limit if word]
    return result
''',
        ),
        Example(
            before='''\
def pairs(items: list[tuple[str, int]]) -> list[str]:
    names = list()
    for name, count in items:
        names.append(name + str(count))
    return names
''',
            after='''\
def pairs(items: list[tuple[str, int]]) -> list[str]:
    names = [name + str(count) for name, count in items]
    return names
''',
        ),
    )
    NON_EXAMPLES = (
        # The loop variable is read after the loop; a comprehension would not bind it.
        '''\
def last_seen(values: list[int]) -> int:
    out = []
    value = 0
    for value in values:
        out.append(value)
    return value + len(out)
''',
        # The half-built list is visible to the exception handler.
        '''\
def parse_all(texts: list[str]) -> list[int]:
    out = []
    try:
        for text in texts:
            out.append(int(text))
    except ValueError:
        return out
    return out
''',
        # The list is read inside the loop, so each step sees the earlier ones.
        '''\
def running(values: list[int]) -> list[int]:
    out = []
    for value in values:
        out.append(value + len(out))
    return out
''',
        # `break` makes the loop stop early; there is no comprehension equivalent.
        '''\
def until_zero(values: list[int]) -> list[int]:
    out = []
    for value in values:
        if value == 0:
            break
        out.append(value)
    return out
''',
        # A shadowed `list` is not the builtin, so `list()` may not be a new list.
        '''\
list = tuple

def wrapped(values: list[int]) -> list[int]:
    out = list()
    for value in values:
        out.append(value)
    return out
''',
    )

    def rewrite_pair(
        self, facts: FunctionFacts, init: cst.BaseStatement, loop: cst.BaseStatement
    ) -> Sequence[cst.BaseStatement] | None:
        found = filled_container_loop(facts, init, loop, "list", "append")
        if found is None:
            return None
        parts, item = found
        return [replace_initialiser(init, cst.ListComp(elt=item, for_in=comp_for(parts)))]


def _is_empty_list(value: ast.expr) -> bool:
    return (isinstance(value, ast.List) and not value.elts) or pre.is_empty_call(value, "list")
