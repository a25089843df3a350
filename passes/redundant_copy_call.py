"""OPT104: a copy that the enclosing builtin makes anyway, e.g. `sorted(list(x))`."""

from __future__ import annotations

import ast

import libcst as cst

from passes import _ast_prefilter as pre
from passes._facts import FunctionPass
from passes._shapes import single_positional_arg
from passes.base import Example

# outer builtin -> inner builtins whose copy it makes redundant
REDUNDANT_INNER = {
    "sorted": frozenset({"list", "tuple"}),
    "set": frozenset({"list", "tuple"}),
    "frozenset": frozenset({"list", "tuple"}),
    "list": frozenset({"sorted"}),
}


class RedundantCopyCall(FunctionPass):
    """What it does:
        Drops a copy that the enclosing builtin makes anyway:
        `sorted(list(x))` and `sorted(tuple(x))` become `sorted(x)`,
        `set(list(x))`/`frozenset(tuple(x))` become `set(x)`/`frozenset(x)`,
        and `list(sorted(x))` becomes `sorted(x)`.

    Why it is faster:
        The inner call builds a whole intermediate list or tuple that is read
        once and thrown away: `sorted`, `set` and `frozenset` already iterate
        their argument themselves, and `sorted` already returns a new list.
        Removing it saves one O(n) allocation and copy.

    Fix safety:
        The pass fires only when all of these are proven:
        - both calls resolve to the builtins (QualifiedNameProvider), so neither
          name is shadowed;
        - the inner call has exactly one positional argument and nothing else,
          so it is a plain copy; the outer call's other arguments (`key=`,
          `reverse=`) are kept as they are;
        - the outer builtin consumes its argument with the same single
          iteration (`sorted` and `set` call `iter()` on it exactly as `list()`
          does), so the order of `__iter__`/`__next__` calls, any exception they
          raise and the result are unchanged; `list(sorted(x))` and `sorted(x)`
          are both fresh lists with the same items.
    """

    code = "OPT104"
    name = "redundant-copy-call"
    summary = "Drop a list/tuple copy that sorted(), set() or list() makes anyway."
    triggers = ("sorted(list(", "sorted(tuple(", "set(list(", "set(tuple(", "list(sorted(")

    @classmethod
    def may_match_ast(cls, function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
        """A call of an outer builtin whose first argument is a call of a redundant inner one."""
        for call in pre.nodes(function, ast.Call):
            assert isinstance(call, ast.Call)
            if isinstance(call.func, ast.Name) and call.args:
                inner = REDUNDANT_INNER.get(call.func.id, frozenset())
                if any(pre.is_builtin_call(call.args[0], name) for name in inner):
                    return True
        return False

    EXAMPLES = (
        Example(
            before="""\
def ranked(scores: dict[str, int]) -> list[str]:
    return sorted(list(scores), key=scores.get, reverse=True)
""",
            after="""\
def ranked(scores: dict[str, int]) -> list[str]:
    return sorted(scores, key=scores.get, reverse=True)
""",
        ),
        Example(
            before="""\
def distinct_sorted(values: list[int]) -> list[int]:
    unique = set(list(values))
    return list(sorted(unique))
""",
            after="""\
def distinct_sorted(values: list[int]) -> list[int]:
    unique = set(values)
    return sorted(unique)
""",
        ),
    )
    NON_EXAMPLES = (
        # A shadowed `list` may not copy at all.
        """\
def list(values: object) -> list[int]:
    return [1, 2]


def ordered(values: list[int]) -> list[int]:
    return sorted(list(values))
""",
        # `list(x, ...)` with more than the iterable is not a plain copy.
        """\
def ordered(values: list[int]) -> list[int]:
    return sorted(list(*[values]))
""",
        # `tuple(sorted(x))` changes the result type: it is not redundant.
        """\
def frozen(values: list[int]) -> tuple[int, ...]:
    return tuple(sorted(values))
""",
    )

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        facts = self.facts
        if facts is None or not original_node.args or not isinstance(original_node.func, cst.Name):
            return updated_node
        outer = original_node.func.value
        first = original_node.args[0]
        inner = first.value
        if (
            outer not in REDUNDANT_INNER
            or first.star
            or first.keyword is not None
            or not isinstance(inner, cst.Call)
            or not isinstance(inner.func, cst.Name)
            or inner.func.value not in REDUNDANT_INNER[outer]
            or single_positional_arg(inner) is None
            or not facts.is_builtin(original_node.func, outer)
            or not facts.is_builtin(inner.func, inner.func.value)
        ):
            return updated_node
        updated_first = updated_node.args[0].value
        assert isinstance(updated_first, cst.Call)
        if outer == "list":  # list(sorted(x, ...)) -> sorted(x, ...)
            return (
                updated_first.with_changes(lpar=updated_node.lpar, rpar=updated_node.rpar)
                if len(original_node.args) == 1
                else updated_node
            )
        copied = updated_first.args[0].with_changes(comma=updated_node.args[0].comma)
        return updated_node.with_changes(args=[copied, *updated_node.args[1:]])
