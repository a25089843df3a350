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
