"""Boolean chains: `a or b or c` flattened into operands, runs of operands that one
expression can replace, and the passes that merge such runs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import libcst as cst

from passes._facts import FunctionFacts, FunctionPass
from passes._splicing import tuple_of


def flatten_chain(
    node: cst.BaseExpression, operator: type[cst.BaseBooleanOp]
) -> list[cst.BaseExpression]:
    """`a or b or c` (left-nested, unparenthesised) as [a, b, c]."""
    if (
        isinstance(node, cst.BooleanOperation)
        and isinstance(node.operator, operator)
        and not node.lpar
    ):
        return [*flatten_chain(node.left, operator), node.right]
    return [node]


def is_chain_top(facts_parent: cst.CSTNode | None, node: cst.BooleanOperation) -> bool:
    """`node` is not the left operand of a longer unparenthesised chain of its operator."""
    return not (
        isinstance(facts_parent, cst.BooleanOperation)
        and type(facts_parent.operator) is type(node.operator)
        and facts_parent.left is node
        and not node.lpar
    )


def rebuild_chain(
    operands: Sequence[cst.BaseExpression],
    operator: cst.BaseBooleanOp,
    template: cst.BooleanOperation,
) -> cst.BaseExpression:
    result = operands[0]
    for operand in operands[1:]:
        result = cst.BooleanOperation(left=result, operator=operator, right=operand)
    if isinstance(result, cst.BooleanOperation) or template.lpar:
        return result.with_changes(lpar=template.lpar, rpar=template.rpar)
    return result


def group_runs(
    original: Sequence[cst.BaseExpression],
    key: Callable[[cst.BaseExpression], str | None],
) -> list[tuple[int, int]]:
    """Maximal runs [start, end) of ≥2 consecutive operands sharing a non-None key."""
    runs: list[tuple[int, int]] = []
    start = 0
    while start < len(original):
        current = key(original[start])
        end = start + 1
        if current is not None:
            while end < len(original) and key(original[end]) == current:
                end += 1
        if current is not None and end - start >= 2:
            runs.append((start, end))
        start = end
    return runs


class ChainPass(FunctionPass):
    """Merges maximal runs of ≥2 adjacent operands of an `or`/`and` chain.

    Subclasses give `operand_key` (on ORIGINAL operands, with facts; operands
    with equal non-None keys may be merged) and `merge` (on the UPDATED
    operands of one run; None declines). Only the top of a chain is handled,
    so `a or b or c` is seen once as three operands.
    """

    chain_operators: tuple[type[cst.BaseBooleanOp], ...] = (cst.Or,)

    def operand_key(
        self, facts: FunctionFacts, operand: cst.BaseExpression, operator: cst.BaseBooleanOp
    ) -> str | None:
        raise NotImplementedError

    def merge(
        self, operands: Sequence[cst.BaseExpression], operator: cst.BaseBooleanOp
    ) -> cst.BaseExpression | None:
        raise NotImplementedError

    def leave_BooleanOperation(
        self, original_node: cst.BooleanOperation, updated_node: cst.BooleanOperation
    ) -> cst.BaseExpression:
        operator_type = type(original_node.operator)
        if operator_type not in self.chain_operators:
            return updated_node
        facts = self.facts_for(original_node)
        if facts is None or not is_chain_top(facts.parent(original_node), original_node):
            return updated_node
        # The top node's own parentheses do not stop flattening of its operands.
        originals = [*flatten_chain(original_node.left, operator_type), original_node.right]
        updateds = [*flatten_chain(updated_node.left, operator_type), updated_node.right]
        if len(originals) != len(updateds):
            return updated_node
        operator = original_node.operator
        runs = group_runs(originals, lambda op: self.operand_key(facts, op, operator))
        if not runs:
            return updated_node
        operands: list[cst.BaseExpression] = []
        position = 0
        for start, end in runs:
            merged = self.merge(updateds[start:end], operator)
            if merged is None:
                continue
            operands.extend(updateds[position:start])
            operands.append(merged)
            position = end
        if position == 0:
            return updated_node
        operands.extend(updateds[position:])
        return rebuild_chain(operands, updated_node.operator, updated_node)


class TupleArgumentChainPass(ChainPass):
    """Merges a run of calls that differ only in one argument into one call taking a
    tuple of all of them: `f(x, A) or f(x, B)` becomes `f(x, (A, B))`.

    Subclasses give `tuple_items` (the items one call contributes, or None) and
    `with_tuple` (the first call of the run rebuilt around the tuple).
    """

    def tuple_items(self, call: cst.Call) -> list[cst.BaseExpression] | None:
        raise NotImplementedError

    def with_tuple(self, first: cst.Call, items: cst.Tuple) -> cst.Call:
        raise NotImplementedError

    def merge(
        self, operands: Sequence[cst.BaseExpression], operator: cst.BaseBooleanOp
    ) -> cst.BaseExpression | None:
        items: list[cst.BaseExpression] = []
        for operand in operands:
            found = self.tuple_items(operand) if isinstance(operand, cst.Call) else None
            if found is None:
                return None
            items.extend(found)
        first = operands[0]
        assert isinstance(first, cst.Call)
        return self.with_tuple(first, tuple_of(items))
