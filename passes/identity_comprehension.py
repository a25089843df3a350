"""OPT114: `[x for x in it]` becomes `list(it)`, `{x for x in it}` becomes `set(it)`."""

from __future__ import annotations

import ast

import libcst as cst

from passes import _ast_prefilter as pre
from passes._annotations import SIZED_GENERICS, TEXT_TYPES, param_generic
from passes._facts import FunctionPass
from passes._names import builtin_available, names_in_function_scope
from passes._values import dict_view_owner
from passes.base import Example

CONCRETE = SIZED_GENERICS | TEXT_TYPES


class IdentityComprehension(FunctionPass):
    """What it does:
        Rewrites a comprehension that copies its iterable unchanged,
        `[x for x in it]` or `{x for x in it}`, into `list(it)` or `set(it)`.

    Why it is faster:
        The comprehension runs bytecode per element; `list(it)` / `set(it)` copy in C
        and can pre-size the result from the length of the iterable.

    Fix safety:
        The pass fires only when all of these are proven:
        - a single `for` clause with a plain name target, no `if` and no `async`,
          and the element is exactly that name;
        - the iterable is a parameter annotated with a concrete builtin container
          (`list`, `tuple`, `set`, `frozenset`, `dict`, `str`, `bytes`) that the
          function never rebinds, its `.keys()`/`.values()`/`.items()` view when
          it is a `dict`, or a `range(...)` call: `list(it)` also asks
          for the length, which for these runs no user code, and iteration
          yields the same items in the same order;
        - `list` / `set` are not shadowed.
    """

    code = "OPT114"
    name = "identity-comprehension"
    summary = "Copy an iterable with list(it) / set(it) instead of an identity comprehension."
    triggers = (" for ",)

    @classmethod
    def may_match_ast(cls, function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
        """`[x for x in it]` / `{x for x in it}`: one plain clause, no `if`, element = target."""
        for node in pre.nodes(function, ast.ListComp, ast.SetComp):
            assert isinstance(node, ast.ListComp | ast.SetComp)
            clause = node.generators[0]
            if (
                len(node.generators) == 1
                and not clause.ifs
                and not clause.is_async
                and isinstance(clause.target, ast.Name)
                and pre.is_name(node.elt, clause.target.id)
            ):
                return True
        return False

    EXAMPLES = (
        Example(
            before='''\
def copy_scores(scores: list[int]) -> list[int]:
    return [s for s in scores]
''',
            after='''\
def copy_scores(scores: list[int]) -> list[int]:
    return list(scores)
''',
        ),
        Example(
            before='''\
def letters(word: str, n: int) -> tuple[set[str], list[int]]:
    return {c for c in word}, [i for i in range(n % 50)]
''',
            after='''\
def letters(word: str, n: int) -> tuple[set[str], list[int]]:
    return set(word), list(range(n % 50))
''',
        ),
        Example(
            before='''\
def names(table: dict[str, int]) -> list[str]:
    return [name for name in table.keys()]
''',
            after='''\
def names(table: dict[str, int]) -> list[str]:
    return list(table.keys())
''',
        ),
    )
    NON_EXAMPLES = (
        # The element is transformed, so this is not a copy.
        '''\
def doubled(xs: list[int]) -> list[int]:
    return [x * 2 for x in xs]
''',
        # The iterable has no known type: list() would also call its __len__.
        '''\
def copy_any(items) -> list:
    return [item for item in items]
''',
        # `list` is shadowed in the module.
        '''\
list = tuple


def copy_shadowed(xs: list[int]) -> object:
    return [x for x in xs]
''',
        # A user Mapping's keys() may run code when list() asks its length.
        '''\
from collections.abc import Mapping


def names(table: Mapping[str, int]) -> list[str]:
    return [name for name in table.keys()]
''',
    )

    def leave_ListComp(
        self, original_node: cst.ListComp, updated_node: cst.ListComp
    ) -> cst.BaseExpression:
        return self._copy(original_node, updated_node, "list")

    def leave_SetComp(
        self, original_node: cst.SetComp, updated_node: cst.SetComp
    ) -> cst.BaseExpression:
        return self._copy(original_node, updated_node, "set")

    def _copy(
        self,
        original: cst.ListComp | cst.SetComp,
        updated: cst.ListComp | cst.SetComp,
        builtin: str,
    ) -> cst.BaseExpression:
        facts = self.facts
        clause = original.for_in
        if (
            facts is None
            or clause.ifs
            or clause.inner_for_in is not None
            or clause.asynchronous is not None
            or not isinstance(clause.target, cst.Name)
            or not isinstance(original.elt, cst.Name)
            or original.elt.value != clause.target.value
        ):
            return updated
        if not self._known(clause.iter) or not builtin_available(facts, builtin):
            return updated
        return cst.Call(
            func=cst.Name(builtin),
            args=[cst.Arg(updated.for_in.iter)],
            lpar=updated.lpar,
            rpar=updated.rpar,
        )

    def _known(self, iterable: cst.BaseExpression) -> bool:
        facts = self.facts
        if facts is None or not names_in_function_scope(facts, iterable):
            return False
        if isinstance(iterable, cst.Name):
            return param_generic(facts, iterable.value).name in CONCRETE
        if dict_view_owner(facts, iterable) is not None:
            return True
        if isinstance(iterable, cst.Call) and isinstance(iterable.func, cst.Name):
            return (
                iterable.func.value == "range"
                and facts.is_builtin(iterable.func, "range")
                and all(not arg.star and not arg.keyword for arg in iterable.args)
            )
        return False
