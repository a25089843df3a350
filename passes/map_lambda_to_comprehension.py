"""OPT203: `list(map(lambda v: expr, it))` becomes `[expr for v in it]`."""

from __future__ import annotations

import ast

import libcst as cst

from passes import _ast_prefilter as pre
from passes._facts import FunctionPass
from passes._loop_shapes import list_of_lambda_call
from passes._splicing import comprehension_operand
from passes.base import Example


class MapLambdaToComprehension(FunctionPass):
    """What it does:
        Rewrites `list(map(lambda v: expr, iterable))` with a single iterable
        into the list comprehension `[expr for v in iterable]`.

    Why it is faster:
        `map` calls the lambda, a full Python function call, once per element.
        The comprehension evaluates `expr` inline in one frame.

    Fix safety:
        The pass fires only when all of these are proven:
        - `list` and `map` are the builtins (not shadowed or rebound);
        - `map` gets exactly one iterable (several iterables would need `zip`);
        - the lambda has exactly one plain positional parameter without default;
        - the lambda body holds no nested lambda/def (a comprehension shares one
          cell for `v`, so closures would see only the last element), walrus,
          yield, await, `super()`/`locals()` or comment;
        - the iterable does not mention the parameter name.
        Both forms call `iter(iterable)` once, up front, and evaluate `expr` for
        each element in order.
    """

    code = "OPT203"
    name = "map-lambda-to-comprehension"
    summary = "Use a list comprehension instead of list(map(lambda ...))."
    triggers = ("map(lambda",)

    @classmethod
    def may_match_ast(cls, function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
        """`list(map(lambda v: ..., iterable))` with a one-parameter lambda."""
        return any(
            pre.is_list_of_lambda_call(call, "map") for call in pre.nodes(function, ast.Call)
        )

    EXAMPLES = (
        Example(
            before='''\
def doubled(values: list[int]) -> list[int]:
    return list(map(lambda v: v * 2, values))
''',
            after='''\
def doubled(values: list[int]) -> list[int]:
    return [v * 2 for v in values]
''',
        ),
        Example(
            before='''\
def labels(words: list[str], prefix: str) -> list[str]:
    out = list(map(lambda w: prefix + w.strip() if w else prefix, words))
    return out
''',
            after='''\
def labels(words: list[str], prefix: str) -> list[str]:
    out = [prefix + w.strip() if w else prefix for w in words]
    return out
''',
        ),
    )
    NON_EXAMPLES = (
        # The lambda returns a closure: each closure must see its own `v`, but a
        # comprehension shares one cell, so all would see the last element.
        '''\
def makers(values: list[int]) -> list[int]:
    funcs = list(map(lambda v: lambda: v, values))
    return [f() for f in funcs]
''',
        # Two iterables: map stops at the shorter, needs zip to translate.
        '''\
def sums(xs: list[int], ys: list[int]) -> list[int]:
    return list(map(lambda a, b: a + b, xs, ys))
''',
        # `map` is a module-level function here, not the builtin.
        '''\
def map(f: object, xs: object) -> list[int]:
    return []

def use(values: list[int]) -> list[int]:
    return list(map(lambda v: v, values))
''',
    )

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        facts = self.facts
        if facts is None:
            return updated_node
        parts = list_of_lambda_call(facts, original_node, updated_node, "map")
        if parts is None:
            return updated_node
        return cst.ListComp(
            elt=parts.body,
            for_in=cst.CompFor(
                target=cst.Name(parts.param), iter=comprehension_operand(parts.iterable)
            ),
            lpar=updated_node.lpar,
            rpar=updated_node.rpar,
        )
