"""OPT213: `s = set()` + a loop of `s.add(...)` becomes a set comprehension."""

from __future__ import annotations

import ast
from collections.abc import Sequence

import libcst as cst

from passes import _ast_prefilter as pre
from passes._facts import FunctionFacts
from passes._loop_shapes import AccumulatorLoopPass, comp_for, filled_container_loop
from passes._splicing import replace_initialiser
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
        found = filled_container_loop(facts, init, loop, "set", "add")
        if found is None:
            return None
        parts, item = found
        return [replace_initialiser(init, cst.SetComp(elt=item, for_in=comp_for(parts)))]
