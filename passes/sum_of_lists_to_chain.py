"""OPT111: `sum(lists, [])` becomes `list(itertools.chain.from_iterable(lists))`."""

from __future__ import annotations

import ast

import libcst as cst
import libcst.matchers as m
from libcst.codemod.visitors import AddImportsVisitor

from passes import _ast_prefilter as pre
from passes._annotations import (
    ITERABLE_GENERICS,
    LIST_GENERICS,
    TUPLE_GENERICS,
    generic_of,
    param_generic,
)
from passes._facts import FunctionPass
from passes._names import builtin_available, import_available, names_in_function_scope
from passes.base import Example

EMPTY_LIST = m.List([])


class SumOfListsToChain(FunctionPass):
    """What it does:
        Rewrites `sum(lists, [])` (or `sum(lists, start=[])`) into
        `list(itertools.chain.from_iterable(lists))`.

    Why it is faster:
        `sum` adds the lists pairwise, copying the growing result every time, so it
        is quadratic in the total length. `chain.from_iterable` visits each item once
        and `list` builds the result in one pass.

    Fix safety:
        The pass fires only when all of these are proven:
        - `sum` is the builtin and the start value is a literal `[]`, so the result
          is a new list in both versions, also for empty input;
        - `lists` is a parameter, never rebound, annotated as a builtin or abstract
          iterable of `list[...]` (e.g. `list[list[int]]`): `[] + item` cannot raise
          (adding a tuple would) and yields the items in the same order;
        - `list` is not shadowed and `itertools` is unbound or imported as itself.
    """

    code = "OPT111"
    name = "sum-of-lists-to-chain"
    summary = "Flatten lists with itertools.chain.from_iterable instead of sum(lists, [])."
    complexity_win = True
    triggers = ("sum(",)

    @classmethod
    def may_match_ast(cls, function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
        """`sum(name, [])` or `sum(name, start=[])` with `name` an annotated parameter."""
        sources = [
            source
            for call in pre.nodes(function, ast.Call)
            if (source := _summed_name(call)) is not None
        ]
        return bool(sources) and not pre.annotated_parameters(function).isdisjoint(sources)

    EXAMPLES = (
        Example(
            before='''\
def flatten(rows: list[list[int]]) -> list[int]:
    return sum(rows, [])
''',
            after='''\
import itertools

def flatten(rows: list[list[int]]) -> list[int]:
    return list(itertools.chain.from_iterable(rows))
''',
        ),
        Example(
            before='''\
import itertools


def total_length(groups: tuple[list[str], ...]) -> int:
    merged = sum(groups, start=[])
    return len(merged) + len(list(itertools.repeat(0, 2)))
''',
            after='''\
import itertools


def total_length(groups: tuple[list[str], ...]) -> int:
    merged = list(itertools.chain.from_iterable(groups))
    return len(merged) + len(list(itertools.repeat(0, 2)))
''',
        ),
    )
    NON_EXAMPLES = (
        # The items are tuples: `[] + (1,)` raises TypeError, chain would not.
        '''\
def flatten_pairs(pairs: list[tuple[int, int]]) -> list[int]:
    return sum(pairs, [])
''',
        # The start list is not empty literal: it is the caller's list.
        '''\
def extend_from(rows: list[list[int]], base: list[int]) -> list[int]:
    return sum(rows, base)
''',
        # `sum` is shadowed.
        '''\
def flat(rows: list[list[int]], sum: object) -> object:
    return sum(rows, [])
''',
    )

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        facts = self.facts
        func = original_node.func
        if facts is None or not m.matches(func, m.Name("sum")):
            return updated_node
        args = original_node.args
        if len(args) != 2 or args[0].keyword is not None or args[0].star or args[1].star:
            return updated_node
        if args[1].keyword is not None and args[1].keyword.value != "start":
            return updated_node
        source = args[0].value
        if not m.matches(args[1].value, EMPTY_LIST) or not isinstance(source, cst.Name):
            return updated_node
        if not facts.is_builtin(func, "sum") or not names_in_function_scope(facts, source):
            return updated_node
        generic = param_generic(facts, source.value)
        params = generic.args
        if generic.name in TUPLE_GENERICS:
            if len(params) != 2 or not isinstance(params[1], cst.Ellipsis):
                return updated_node
        elif (
            generic.name not in ITERABLE_GENERICS - {"dict", "Dict", "Mapping"} or len(params) != 1
        ):
            return updated_node
        if generic_of(params[0]).name not in LIST_GENERICS:
            return updated_node
        if not builtin_available(facts, "list") or not import_available(facts, "itertools", None):
            return updated_node
        AddImportsVisitor.add_needed_import(self.context, "itertools")
        replacement = cst.parse_expression(
            f"list(itertools.chain.from_iterable({source.value}))"
        )
        return replacement.with_changes(lpar=updated_node.lpar, rpar=updated_node.rpar)


def _summed_name(call: ast.AST) -> str | None:
    if not isinstance(call, ast.Call) or not pre.is_name(call.func, "sum"):
        return None
    if len(call.args) == 2 and not call.keywords:
        source, start = call.args
    elif len(call.args) == 1 and len(call.keywords) == 1 and call.keywords[0].arg == "start":
        source, start = call.args[0], call.keywords[0].value
    else:
        return None
    empty = isinstance(start, ast.List) and not start.elts
    return source.id if empty and isinstance(source, ast.Name) else None
