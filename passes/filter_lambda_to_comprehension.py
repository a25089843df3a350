"""OPT202: `list(filter(lambda v: cond, it))` becomes `[v for v in it if cond]`."""

from __future__ import annotations

import ast

import libcst as cst

from passes import _ast_prefilter as pre
from passes._facts import FunctionPass
from passes._loop_shapes import list_of_lambda_call
from passes._splicing import comprehension_operand
from passes.base import Example


class FilterLambdaToComprehension(FunctionPass):
    """What it does:
        Rewrites `list(filter(lambda v: cond, iterable))` into the list
        comprehension `[v for v in iterable if cond]`.

    Why it is faster:
        `filter` calls the lambda, a full Python function call, once per element.
        The comprehension evaluates `cond` inline in one frame.

    Fix safety:
        The pass fires only when all of these are proven:
        - `list` and `filter` are the builtins (not shadowed or rebound);
        - the lambda has exactly one plain positional parameter without default
          (no `*args`, keyword-only or positional-only parameters);
        - the lambda body holds no nested lambda/def (a comprehension shares one
          cell for `v`, lambdas do not), walrus (it would bind in the function,
          not the lambda), yield, await, `super()`/`locals()` or comment;
        - the iterable does not mention the parameter name.
        Both forms call `iter(iterable)` once, up front, and keep the elements for
        which `cond` is truthy, in order.
    """

    code = "OPT202"
    name = "filter-lambda-to-comprehension"
    summary = "Use a list comprehension instead of list(filter(lambda ...))."
    triggers = ("filter(lambda",)

    @classmethod
    def may_match_ast(cls, function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
        """`list(filter(lambda v: ..., iterable))` with a one-parameter lambda."""
        return any(
            pre.is_list_of_lambda_call(call, "filter") for call in pre.nodes(function, ast.Call)
        )

    EXAMPLES = (
        Example(
            before='''\
def positives(values: list[int]) -> list[int]:
    return list(filter(lambda v: v > 0, values))
''',
            after='''\
def positives(values: list[int]) -> list[int]:
    return [v for v in values if v > 0]
''',
        ),
        Example(
            before='''\
def long_words(words: list[str], limit: int) -> list[str]:
    kept = list(filter(lambda w: len(w) > limit if w else False, words))
    return kept
''',
            after='''\
def long_words(words: list[str], limit: int) -> list[str]:
    kept = [w for w in words if (len(w) > limit if w else False)]
    return kept
''',
        ),
    )
    NON_EXAMPLES = (
        # `filter` is shadowed by a parameter: not the builtin.
        '''\
def pick(values: list[int], filter: object) -> list[int]:
    return list(filter(lambda v: v > 0, values))
''',
        # A walrus in the lambda binds inside the lambda; in a comprehension it
        # would rebind the function's `last`.
        '''\
def tracked(values: list[int]) -> int:
    last = 0
    kept = list(filter(lambda v: (last := v) > 0, values))
    return last + len(kept)
''',
        # The lambda has a default value: `lambda v, k=...` is not one plain parameter.
        '''\
def over(values: list[int], limit: int) -> list[int]:
    return list(filter(lambda v, limit=limit: v > limit, values))
''',
        # `list` is rebound at module level.
        '''\
list = tuple

def as_tuple(values: list[int]) -> object:
    return list(filter(lambda v: v, values))
''',
    )

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        facts = self.facts
        if facts is None:
            return updated_node
        parts = list_of_lambda_call(facts, original_node, updated_node, "filter")
        if parts is None:
            return updated_node
        return cst.ListComp(
            elt=cst.Name(parts.param),
            for_in=cst.CompFor(
                target=cst.Name(parts.param),
                iter=comprehension_operand(parts.iterable),
                ifs=[cst.CompIf(test=comprehension_operand(parts.body))],
            ),
            lpar=updated_node.lpar,
            rpar=updated_node.rpar,
        )
