"""A pass that breaks the contract on purpose, for the checks that must catch it."""

from __future__ import annotations

import libcst as cst

from passes import OptimizationPass


class DropsOwnLineComments(OptimizationPass):
    """A deliberately careless rewrite: it deletes every comment on a line of its own."""

    code, name, summary, triggers = "OPT999", "drops-comments", "test only", ("#",)
    EXAMPLES, NON_EXAMPLES = (), ()

    def leave_EmptyLine(
        self, original_node: cst.EmptyLine, updated_node: cst.EmptyLine
    ) -> cst.EmptyLine | cst.RemovalSentinel:
        return cst.RemoveFromParent() if updated_node.comment else updated_node


class NestsFStringQuotes(OptimizationPass):
    """A deliberately careless rewrite: it wraps every f-string placeholder's expression
    in an f-string with the same quotes, which libcst accepts and Python before 3.12
    cannot compile."""

    code, name, summary, triggers = "OPT998", "nests-f-string-quotes", "test only", ('f"',)
    EXAMPLES, NON_EXAMPLES = (), ()

    def leave_FormattedStringExpression(
        self,
        original_node: cst.FormattedStringExpression,
        updated_node: cst.FormattedStringExpression,
    ) -> cst.FormattedStringExpression:
        nested = cst.FormattedString(
            parts=[cst.FormattedStringExpression(expression=updated_node.expression)],
            start='f"',
            end='"',
        )
        return updated_node.with_changes(expression=nested)
