"""Splicing: putting rewritten nodes back into the tree a pass is leaving.

libcst metadata (scopes, parents) is keyed on the ORIGINAL nodes, so a pass
analyses original nodes and then edits the updated tree through these helpers.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence

import libcst as cst
import libcst.matchers as m

# Callbacks keyed by id() of an original node; a statement may become a FlattenSentinel.
Replacements = dict[int, Callable[[cst.CSTNode], "cst.CSTNode | cst.FlattenSentinel[cst.CSTNode]"]]


def code_of(node: cst.CSTNode) -> str:
    return cst.Module([]).code_for_node(node)


def has_comment(node: cst.CSTNode) -> bool:
    return bool(m.findall(node, m.Comment()))


def _comments_in(nodes: Sequence[cst.CSTNode]) -> list[str]:
    return [
        comment.value
        for node in nodes
        for comment in m.findall(node, m.Comment())
        if isinstance(comment, cst.Comment)
    ]


def lost_comments(before: Sequence[cst.CSTNode], after: Sequence[cst.CSTNode]) -> list[str]:
    """The comments of `before` that `after` lacks (counting repeats), in source order."""
    missing = Counter(_comments_in(after))
    lost: list[str] = []
    for comment in _comments_in(before):
        if missing[comment] > 0:
            missing[comment] -= 1
        else:
            lost.append(comment)
    return lost


def keep_comments(
    replaced: Sequence[cst.BaseStatement], replacement: Sequence[cst.BaseStatement]
) -> list[cst.BaseStatement]:
    """`replacement` (statements standing where `replaced` stood) with the blank lines
    and comments above the first replaced statement, the trailing comment of a
    replaced one-line statement, and every other comment of `replaced` that would
    be lost placed above the first new statement."""
    if not replacement:
        return []
    first, *rest = replacement
    if not _leading_lines(first) and replaced:
        first = first.with_changes(leading_lines=_leading_lines(replaced[0]))
    last = rest[-1] if rest else first
    if (
        len(replaced) == 1
        and isinstance(replaced[0], cst.SimpleStatementLine)
        and isinstance(last, cst.SimpleStatementLine)
        and last.trailing_whitespace.comment is None
        and not _trailing_comment_kept(replaced[0], replacement)
    ):
        last = last.with_changes(trailing_whitespace=replaced[0].trailing_whitespace)
        if rest:
            rest[-1] = last
        else:
            first = last
    lost = lost_comments(replaced, [first, *rest])
    if lost:
        moved = [cst.EmptyLine(comment=cst.Comment(comment)) for comment in lost]
        first = first.with_changes(leading_lines=[*_leading_lines(first), *moved])
    return [first, *rest]


def _trailing_comment_kept(
    replaced: cst.SimpleStatementLine, replacement: Sequence[cst.BaseStatement]
) -> bool:
    """A statement of `replacement` (say, the replaced one itself, followed by a new one)
    already ends with the trailing comment of `replaced`."""
    comment = replaced.trailing_whitespace.comment
    return comment is not None and any(
        isinstance(statement, cst.SimpleStatementLine)
        and statement.trailing_whitespace.comment is not None
        and statement.trailing_whitespace.comment.value == comment.value
        for statement in replacement
    )


def _leading_lines(statement: cst.BaseStatement) -> Sequence[cst.EmptyLine]:
    """The blank and comment lines above a statement (every concrete statement has them)."""
    lines: Sequence[cst.EmptyLine] = getattr(statement, "leading_lines", ())
    return lines


class ReplaceNodes(cst.CSTTransformer):
    """Replace nodes of the tree being visited, chosen by identity, via callbacks that
    receive the updated node. Run it over the ORIGINAL tree whose nodes were analysed."""

    def __init__(self, replacements: Replacements) -> None:
        super().__init__()
        self.replacements = replacements

    def on_leave(  # type: ignore[override]
        self, original_node: cst.CSTNode, updated_node: cst.CSTNode
    ) -> cst.CSTNode | cst.FlattenSentinel[cst.CSTNode]:
        callback = self.replacements.get(id(original_node))
        if callback is None:
            return updated_node
        return carry_comments(updated_node, callback(updated_node))


def carry_comments(
    before: cst.CSTNode, after: cst.CSTNode | cst.FlattenSentinel[cst.CSTNode]
) -> cst.CSTNode | cst.FlattenSentinel[cst.CSTNode]:
    """`after`, the replacement of `before`, keeping the comments of `before`: a
    statement keeps them above it (see `keep_comments`); any other node keeps only
    those it already has (a caller checks the function lost none)."""
    nodes = list(after.nodes) if isinstance(after, cst.FlattenSentinel) else [after]
    statements = [node for node in nodes if isinstance(node, cst.BaseStatement)]
    if not isinstance(before, cst.BaseStatement) or len(statements) != len(nodes):
        return after
    kept: list[cst.CSTNode] = [*keep_comments([before], statements)]
    return cst.FlattenSentinel(kept) if isinstance(after, cst.FlattenSentinel) else kept[0]


def rewrite_function(
    original: cst.FunctionDef,
    updated: cst.FunctionDef,
    replacements: Replacements,
) -> cst.FunctionDef:
    """Apply `replacements` (keyed on nodes of `original`) when nothing else inside the
    function has changed yet; otherwise leave it for a later round."""
    if not replacements or not updated.deep_equals(original):
        return updated
    result = original.visit(ReplaceNodes(replacements))
    assert isinstance(result, cst.FunctionDef)
    return result


def rewrite_block_pairs(
    original: cst.IndentedBlock,
    updated: cst.IndentedBlock,
    rewrite: Callable[[cst.BaseStatement, cst.BaseStatement], Sequence[cst.BaseStatement] | None],
) -> cst.IndentedBlock:
    """Offer each (statement, next statement) pair of a block to `rewrite`.

    `rewrite` analyses the ORIGINAL pair (metadata is keyed on it) and returns the
    statements that replace both, or None. Pairs whose children were already
    changed by another rewrite are skipped.
    """
    body: list[cst.BaseStatement] = []
    index = 0
    changed = False
    while index < len(original.body):
        if index + 1 < len(original.body) and all(
            updated.body[i].deep_equals(original.body[i]) for i in (index, index + 1)
        ):
            pair = [original.body[index], original.body[index + 1]]
            replacement = rewrite(*pair)
            if replacement is not None:
                body.extend(keep_comments(pair, replacement))
                index += 2
                changed = True
                continue
        body.append(updated.body[index])
        index += 1
    return updated.with_changes(body=body) if changed else updated


def replace_initialiser(
    statement: cst.BaseStatement, value: cst.BaseExpression
) -> cst.BaseStatement:
    """`name = value` (or `name: T = value`) with a new value, keeping everything else."""
    assert isinstance(statement, cst.SimpleStatementLine)
    small = statement.body[0]
    assert isinstance(small, cst.Assign | cst.AnnAssign)
    return statement.with_changes(body=[small.with_changes(value=value)])


def comprehension_operand(expr: cst.BaseExpression) -> cst.BaseExpression:
    """Parenthesise an expression that cannot stand bare as a comprehension's iter/if."""
    needs = isinstance(expr, cst.IfExp | cst.Lambda | cst.NamedExpr | cst.Yield) or (
        isinstance(expr, cst.Tuple) and not expr.lpar
    )
    if needs and not expr.lpar:
        return expr.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
    return expr


def comma_separated(values: Sequence[cst.BaseExpression]) -> list[cst.Element]:
    """Display elements `a, b, c` with the usual `, ` separators."""
    return [
        cst.Element(
            value,
            comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
            if index < len(values) - 1
            else cst.MaybeSentinel.DEFAULT,
        )
        for index, value in enumerate(values)
    ]


def tuple_of(values: Sequence[cst.BaseExpression]) -> cst.Tuple:
    """`(a, b, c)` with the usual `, ` separators."""
    return cst.Tuple(comma_separated(values))
