"""Shapes of calls and comparisons around a name, and where a node sits.

Each helper matches one syntactic shape on ORIGINAL nodes (parents come from
metadata) and answers None or False when the shape is not there.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

if TYPE_CHECKING:
    from passes._facts import FunctionFacts


def plain_args(call: cst.Call, count: int) -> list[cst.BaseExpression] | None:
    """The positional argument values when `call` has exactly `count` plain ones."""
    if len(call.args) != count or any(arg.keyword or arg.star for arg in call.args):
        return None
    return [arg.value for arg in call.args]


def single_positional_arg(call: cst.Call) -> cst.BaseExpression | None:
    args = plain_args(call, 1)
    return args[0] if args is not None else None


def is_builtin_call(facts: FunctionFacts, node: cst.BaseExpression, builtin: str) -> bool:
    """`node` is a call of the (unshadowed) builtin `builtin`."""
    return (
        isinstance(node, cst.Call)
        and isinstance(node.func, cst.Name)
        and node.func.value == builtin
        and facts.is_builtin(node.func, builtin)
    )


def is_builtin_len_of(facts: FunctionFacts, reference: cst.BaseExpression) -> bool:
    """`reference` is the only argument of a builtin `len(...)` call."""
    arg = facts.parent(reference)
    call = facts.parent(arg) if isinstance(arg, cst.Arg) else None
    return (
        isinstance(call, cst.Call)
        and is_builtin_call(facts, call, "len")
        and plain_args(call, 1) is not None
        and call.args[0].value is reference
    )


def method_call(facts: FunctionFacts, reference: cst.Name) -> tuple[str, cst.Call] | None:
    """("append", call) when `reference` is the receiver of `name.append(...)`."""
    attribute = facts.parent(reference)
    if not isinstance(attribute, cst.Attribute) or attribute.value is not reference:
        return None
    call = facts.parent(attribute)
    if isinstance(call, cst.Call) and call.func is attribute:
        return attribute.attr.value, call
    return None


def membership_target(
    facts: FunctionFacts, reference: cst.BaseExpression
) -> cst.BaseExpression | None:
    """For `v in name` / `v not in name` (a one-operator comparison whose right side
    is `reference`), return `v`."""
    target = facts.parent(reference)
    if not (
        isinstance(target, cst.ComparisonTarget)
        and target.comparator is reference
        and isinstance(target.operator, cst.In | cst.NotIn)
    ):
        return None
    comparison = facts.parent(target)
    if isinstance(comparison, cst.Comparison) and len(comparison.comparisons) == 1:
        return comparison.left
    return None


# --- where a node sits -------------------------------------------------------------


def enclosing_statement(facts: FunctionFacts, node: cst.CSTNode) -> cst.CSTNode | None:
    """The nearest SimpleStatementLine or compound statement around `node`."""
    current: cst.CSTNode | None = node
    while current is not None and not isinstance(
        current, cst.SimpleStatementLine | cst.BaseCompoundStatement
    ):
        current = facts.parent(current)
    return current


def inside(facts: FunctionFacts, node: cst.CSTNode, ancestor: cst.CSTNode) -> bool:
    current: cst.CSTNode | None = node
    while current is not None:
        if current is ancestor:
            return True
        current = facts.parent(current)
    return False
