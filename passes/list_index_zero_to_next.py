"""OPT112: `list(x)[0]` reads the first item without copying `x`."""

from __future__ import annotations

import ast

import libcst as cst
import libcst.matchers as m

from passes import _ast_prefilter as pre
from passes._annotations import LIST_GENERICS, SIZED_GENERICS, TEXT_TYPES, param_generic
from passes._facts import FunctionPass
from passes._names import builtin_available, in_store_context, names_in_function_scope
from passes._splicing import code_of
from passes._values import dict_view_owner
from passes.base import Example

OTHER_SIZED = (SIZED_GENERICS - LIST_GENERICS) | TEXT_TYPES


class ListIndexZeroToNext(FunctionPass):
    """What it does:
        Rewrites `list(x)[0]`: into `x[0]` when `x` is a list, and into
        `(next(iter(x)) if x else [][0])` when `x` is another builtin sized
        container (tuple, set, frozenset, dict, str, bytes).

    Why it is faster:
        `list(x)` copies the whole container to read one item; `x[0]` and
        `next(iter(x))` are O(1).

    Fix safety:
        The pass fires only when all of these are proven:
        - `list` is the builtin (and `next`/`iter` for the guarded form) and the
          subscript is the literal `0`, not an assignment or deletion target;
        - `x` is a parameter, never rebound, annotated with a concrete builtin
          container, so iteration order is the container's own and truth means
          non-empty; or `x` is `d.keys()`/`d.values()`/`d.items()` of such a `dict`
          parameter `d`, whose truth is the view's;
        - empty input: `list(x)[0]` raises `IndexError("list index out of range")`.
          For a list, `x[0]` raises exactly that; otherwise `next` would raise
          StopIteration (and `x[0]` a "tuple"/"string" message), so the guard
          `[][0]` re-raises the original error instead.
    """

    code = "OPT112"
    name = "list-index-zero-to-next"
    summary = "Read the first item directly instead of copying with list(x)[0]."
    complexity_win = True
    triggers = ("list(",)

    @classmethod
    def may_match_ast(cls, function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
        """`list(<one positional argument>)[0]`."""
        for node in pre.nodes(function, ast.Subscript):
            assert isinstance(node, ast.Subscript)
            index = pre.single_index(node.slice)
            if (
                isinstance(index, ast.Constant)
                and type(index.value) is int
                and index.value == 0
                and pre.is_builtin_call(node.value, "list")
                and pre.single_positional_arg(node.value) is not None  # type: ignore[arg-type]
            ):
                return True
        return False

    EXAMPLES = (
        Example(
            before='''\
def first_key(table: dict[str, int]) -> str:
    return list(table)[0]
''',
            after='''\
def first_key(table: dict[str, int]) -> str:
    return (next(iter(table)) if table else [][0])
''',
        ),
        Example(
            before='''\
def head_twice(values: list[int]) -> int:
    return list(values)[0] * 2
''',
            after='''\
def head_twice(values: list[int]) -> int:
    return values[0] * 2
''',
        ),
        Example(
            before='''\
def first_pair(scores: dict[str, int]) -> tuple[str, int]:
    return list(scores.items())[0]
''',
            after='''\
def first_pair(scores: dict[str, int]) -> tuple[str, int]:
    return (next(iter(scores.items())) if scores else [][0])
''',
        ),
    )
    NON_EXAMPLES = (
        # Unknown iterable: a generator's emptiness cannot be tested with `if x`.
        '''\
def first(items) -> object:
    return list(items)[0]
''',
        # Index 1: not the first item.
        '''\
def second(values: set[int]) -> int:
    return list(values)[1]
''',
        # `list` is shadowed by a parameter.
        '''\
def shadow(values: tuple[int, ...], list: type) -> object:
    return list(values)[0]
''',
        # A Mapping may be any user class: its view's truth and iteration are unknown.
        '''\
from collections.abc import Mapping


def first_value(scores: Mapping[str, int]) -> int:
    return list(scores.values())[0]
''',
    )

    def leave_Subscript(
        self, original_node: cst.Subscript, updated_node: cst.Subscript
    ) -> cst.BaseExpression:
        facts = self.facts
        if facts is None or len(original_node.slice) != 1:
            return updated_node
        index = original_node.slice[0].slice
        if not isinstance(index, cst.Index) or not m.matches(index.value, m.Integer("0")):
            return updated_node
        call = original_node.value
        if not m.matches(
            call, m.Call(func=m.Name("list"), args=[m.Arg(keyword=None, star="")])
        ):
            return updated_node
        assert isinstance(call, cst.Call)
        source = call.args[0].value
        if not facts.is_builtin(call.func, "list") or in_store_context(facts, original_node):
            return updated_node
        if not names_in_function_scope(facts, source):
            return updated_node
        owner = dict_view_owner(facts, source)
        if isinstance(source, cst.Name):
            generic = param_generic(facts, source.value).name
            name = guard = source.value
        elif owner is not None:
            generic, name, guard = "view", code_of(source), owner.value
        else:
            return updated_node
        if generic in LIST_GENERICS:
            replacement = cst.parse_expression(f"{name}[0]")
        elif (generic in OTHER_SIZED or generic == "view") and all(
            builtin_available(facts, builtin) for builtin in ("next", "iter")
        ):
            replacement = cst.parse_expression(f"(next(iter({name})) if {guard} else [][0])")
        else:
            return updated_node
        return replacement.with_changes(
            lpar=(*updated_node.lpar, *replacement.lpar),
            rpar=(*replacement.rpar, *updated_node.rpar),
        )
