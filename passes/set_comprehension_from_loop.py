"""OPT213: `s = set()` + a loop of `s.add(...)` becomes a set comprehension."""

from __future__ import annotations

import ast
from collections.abc import Sequence

import libcst as cst
import libcst.matchers as m

from passes import _ast_prefilter as pre
from passes._blocks import (
    AccumulatorLoopPass,
    accumulator_loop,
    comp_for,
    is_builtin_call,
    replace_initialiser,
    single_positional_arg,
)
from passes._support import FunctionFacts, name_references
from passes.base import Example


class SetComprehensionFromLoop(AccumulatorLoopPass):
    """What it does:
        Rewrites an empty set filled by a `for` loop whose only statement is
        `s.add(expr)` (optionally under `if` tests) into one set comprehension.

    Why it is faster:
        The comprehension adds with the `SET_ADD` opcode instead of looking up and
        calling the bound method `s.add` on every iteration. On 3.11 a
        comprehension costs one extra function call, so tiny inputs may not gain;
        timing decides whether the rewrite is kept.

    Fix safety:
        The pass fires only when all of these are proven:
        - `s` is a private local initialised with builtin `set()` (not shadowed)
          in the statement directly before the loop;
        - the loop body is one `s.add(<one positional arg>)`, under nothing but
          `if` tests without `else`; no `break`/`continue`, no loop `else`;
        - `s` is mentioned in the loop only as that call's receiver;
        - the loop target is names only, none mentioned outside the loop or in
          the iterable (a comprehension does not leak its variable);
        - the loop is outside try/with blocks and holds no lambda, nested def,
          walrus, yield, await, `super()`/`locals()` or comment.
        Elements are added in the same order, so with equal-but-distinct
        elements (1 and 1.0) the first one is kept, exactly as before.
    """

    code = "OPT213"
    name = "set-comprehension-from-loop"
    summary = "Build a set with a comprehension instead of a loop of add calls."
    triggers = (".add(",)

    @classmethod
    def may_match_ast(cls, function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
        """`s = set()` then a `for` whose one statement is `s.add(v)`."""
        return any(
            pre.is_empty_call(shape.value, "set")
            and pre.is_method_call_statement(shape.action, "add", shape.name)
            for shape in pre.accumulator_loops(function)
        )

    EXAMPLES = (
        Example(
            before='''\
def initials(words: list[str]) -> set[str]:
    seen = set()
    for word in words:
        if word:
            seen.add(word[0].lower())
    return seen
''',
            after='''\
def initials(words: list[str]) -> set[str]:
    seen = {word[0].lower() for word in words if word}
    return seen
''',
        ),
        Example(
            before='''\
def remainders(values: list[int], modulus: int) -> list[int]:
    found: set[int] = set()
    for value in values:
        found.add(value % modulus)
    return sorted(found)
''',
            after='''\
def remainders(values: list[int], modulus: int) -> list[int]:
    found: set[int] = {value % modulus for value in values}
    return sorted(found)
''',
        ),
    )
    NON_EXAMPLES = (
        # `set` is shadowed by a parameter: `set()` is not the builtin constructor.
        '''\
def collect(values: list[int], set: type) -> object:
    seen = set()
    for value in values:
        seen.add(value)
    return seen
''',
        # The set is read inside the loop (each step depends on earlier adds).
        '''\
def first_new(values: list[int]) -> list[int]:
    seen = set()
    for value in values:
        seen.add(value + len(seen))
    return sorted(seen)
''',
        # The loop variable is read after the loop.
        '''\
def with_last(values: list[int]) -> int:
    seen = set()
    value = -1
    for value in values:
        seen.add(value)
    return value + len(seen)
''',
        # The half-built set is visible to the exception handler.
        '''\
def parse_set(texts: list[str]) -> set[int]:
    seen = set()
    try:
        for text in texts:
            seen.add(int(text))
    except ValueError:
        pass
    return seen
''',
    )

    def rewrite_pair(
        self, facts: FunctionFacts, init: cst.BaseStatement, loop: cst.BaseStatement
    ) -> Sequence[cst.BaseStatement] | None:
        parts = accumulator_loop(facts, init, loop)
        if parts is None or not is_builtin_call(facts, parts.value, "set"):
            return None
        if parts.value.args:  # type: ignore[attr-defined]
            return None
        action = parts.action
        if not m.matches(
            action,
            m.Expr(value=m.Call(func=m.Attribute(value=m.Name(parts.name), attr=m.Name("add")))),
        ):
            return None
        assert isinstance(action, cst.Expr) and isinstance(action.value, cst.Call)
        element = single_positional_arg(action.value)
        if element is None or len(name_references(parts.loop, parts.name)) != 1:
            return None
        comprehension = cst.SetComp(elt=element, for_in=comp_for(parts))
        return [replace_initialiser(init, comprehension)]
