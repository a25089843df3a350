"""OPT212: `d = {}` + a loop of `d[key] = value` becomes a dict comprehension."""

from __future__ import annotations

import ast
from collections.abc import Sequence

import libcst as cst
import libcst.matchers as m

from passes import _ast_prefilter as pre
from passes._facts import FunctionFacts
from passes._loop_shapes import AccumulatorLoopPass, accumulator_loop, comp_for
from passes._names import name_references
from passes._splicing import replace_initialiser
from passes._values import is_constant, is_empty_container
from passes.base import Example


class DictComprehensionFromLoop(AccumulatorLoopPass):
    """What it does:
        Rewrites an empty dict filled by a `for` loop whose only statement is
        `d[key] = value` (optionally under `if` tests) into one dict
        comprehension.

    Why it is faster:
        The comprehension stores with the `MAP_ADD` opcode inside one code object
        instead of a generic `STORE_SUBSCR` on a looked-up local. The gain is
        small on 3.11 and tiny inputs may be slower; timing decides.

    Fix safety:
        The pass fires only when all of these are proven:
        - `d` is a private local initialised with `{}` or builtin `dict()` in the
          statement directly before the loop;
        - the loop body is one `d[key] = value` (a single target, not augmented),
          under nothing but `if` tests without `else`; no `break`/`continue`, no
          loop `else`;
        - `d` is mentioned in the loop only as that store's target;
        - `key` or `value` is a loop-target name or a literal: the loop evaluates
          `value` before `key`, the comprehension `key` before `value`, so the
          order only stops mattering when one side cannot fail or run code;
        - the loop target is names only, none mentioned outside the loop or in
          the iterable; the loop is outside try/with blocks and holds no lambda,
          nested def, walrus, yield, await, `super()`/`locals()` or comment.
        Later stores still overwrite earlier ones and the first-inserted key
        object is kept, as in the loop.
    """

    code = "OPT212"
    name = "dict-comprehension-from-loop"
    summary = "Build a dict with a comprehension instead of a loop of item stores."
    triggers = ("] =",)

    @classmethod
    def may_match_ast(cls, function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
        """`d = {}` then a `for` whose one statement is `d[key] = value`, key or value
        a name or a literal."""
        return any(
            _is_empty_dict(shape.value) and _ast_item_store(shape.action, shape.name)
            for shape in pre.accumulator_loops(function)
        )

    EXAMPLES = (
        Example(
            before='''\
def index_by_name(rows: list[tuple[str, int]]) -> dict[str, int]:
    table = {}
    for name, value in rows:
        table[name] = value
    return table
''',
            after='''\
def index_by_name(rows: list[tuple[str, int]]) -> dict[str, int]:
    table = {name: value for name, value in rows}
    return table
''',
        ),
        Example(
            before='''\
def lengths(words: list[str]) -> dict[str, int]:
    sizes: dict[str, int] = dict()
    for word in words:
        if word.isalpha():
            sizes[word] = len(word)
    return sizes
''',
            after='''\
def lengths(words: list[str]) -> dict[str, int]:
    sizes: dict[str, int] = {word: len(word) for word in words if word.isalpha()}
    return sizes
''',
        ),
    )
    NON_EXAMPLES = (
        # Key and value are both calls: the loop runs value() before key(), the
        # comprehension key() before value(), so which exception wins could change.
        '''\
def both_calls(texts: list[str]) -> dict[int, int]:
    out = {}
    for text in texts:
        out[int(text)] = int(text[::-1])
    return out
''',
        # The dict is read inside the loop.
        '''\
def numbered(words: list[str]) -> dict[str, int]:
    out = {}
    for word in words:
        out[word] = len(out)
    return out
''',
        # The loop variable is read after the loop.
        '''\
def keep_last(words: list[str]) -> str:
    out = {}
    word = ""
    for word in words:
        out[word] = 1
    return word
''',
        # Augmented store reads the previous value: not a plain comprehension.
        '''\
def tally(words: list[str]) -> dict[str, int]:
    out = {}
    for word in words:
        out[word] += 1
    return out
''',
    )

    def rewrite_pair(
        self, facts: FunctionFacts, init: cst.BaseStatement, loop: cst.BaseStatement
    ) -> Sequence[cst.BaseStatement] | None:
        parts = accumulator_loop(facts, init, loop)
        if parts is None or not is_empty_container(facts, parts.value, "dict"):
            return None
        action = parts.action
        if not m.matches(
            action,
            m.Assign(
                targets=[
                    m.AssignTarget(
                        target=m.Subscript(
                            value=m.Name(parts.name), slice=[m.SubscriptElement(slice=m.Index())]
                        )
                    )
                ]
            ),
        ):
            return None
        assert isinstance(action, cst.Assign)
        subscript = action.targets[0].target
        assert isinstance(subscript, cst.Subscript)
        index = subscript.slice[0].slice
        assert isinstance(index, cst.Index)
        key, value = index.value, action.value
        if index.star is not None or len(name_references(parts.loop, parts.name)) != 1:
            return None
        if not (_order_free(key, parts.targets) or _order_free(value, parts.targets)):
            return None
        comprehension = cst.DictComp(key=key, value=value, for_in=comp_for(parts))
        return [replace_initialiser(init, comprehension)]


def _order_free(expr: cst.BaseExpression, targets: tuple[str, ...]) -> bool:
    """Evaluating `expr` cannot fail or run code, so moving it is unobservable."""
    return is_constant(expr) or (isinstance(expr, cst.Name) and expr.value in targets)


def _is_empty_dict(value: ast.expr) -> bool:
    return (isinstance(value, ast.Dict) and not value.keys) or pre.is_empty_call(value, "dict")


def _ast_item_store(action: ast.stmt, name: str) -> bool:
    if not (isinstance(action, ast.Assign) and len(action.targets) == 1):
        return False
    target = action.targets[0]
    if not (
        isinstance(target, ast.Subscript)
        and pre.is_name(target.value, name)
        and not isinstance(target.slice, ast.Slice)
    ):
        return False
    key = pre.single_index(target.slice)
    return pre.is_name_or_constant(key) or pre.is_name_or_constant(action.value)
