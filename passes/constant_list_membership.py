"""OPT106: `x in [constants]` becomes `x in {constants}`."""

from __future__ import annotations

import ast

import libcst as cst

from passes import _ast_prefilter as pre
from passes._builtins import HASHABLE_TYPES
from passes._facts import FunctionPass
from passes._flow_types import proven_value_type
from passes._values import constant_type
from passes.base import Example


class ConstantListMembership(FunctionPass):
    """What it does:
        Rewrites a membership test against a list or tuple display of constants,
        `x in [a, b, c]` / `x not in (a, b, c)`, into a test against a set display,
        `x in {a, b, c}`.

    Why it is faster:
        A list or tuple is scanned element by element, comparing `x` with each
        constant. CPython folds a set display of constants used in `in` into a
        frozenset constant, so the test is one hash lookup whatever the length.

    Fix safety:
        The pass fires only when all of these are proven:
        - the display has at least two elements, all literal constants (numbers,
          strings, bytes, True/False/None), so building it runs no code;
        - `x` provably has a builtin hashable type (int, str, float, bool, bytes,
          complex, None) from annotations or literals, so the set lookup cannot
          raise `TypeError: unhashable type` and no user `__eq__`/`__hash__` runs;
          for these types equality and hashing agree, and both containers test
          identity before equality, so NaN and -0.0 behave the same;
        - str and bytes are never compared with each other (which `python -b`
          would report only on the list side);
        - every name in `x` is looked up in the function's own scope, so a
          comprehension variable cannot shadow the annotated parameter; only a
          plain name `x` may be a comprehension's own variable, typed from its
          `for` clause (`ch` in `(1 for ch in word if ch in "aeiou")`).
    """

    code = "OPT106"
    name = "constant-list-membership"
    summary = "Test membership in a set literal instead of a list or tuple of constants."
    triggers = (" in [", " in (")

    @classmethod
    def may_match_ast(cls, function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
        """An `in`/`not in` test against a list or tuple display of >=2 constants."""
        for node in pre.nodes(function, ast.Compare):
            assert isinstance(node, ast.Compare)
            for operator, comparator in zip(node.ops, node.comparators, strict=True):
                if isinstance(operator, ast.In | ast.NotIn) and _constant_display(comparator):
                    return True
        return False

    EXAMPLES = (
        Example(
            before='''\
def count_vowels(text: str) -> int:
    total = 0
    for ch in text:
        if ch in ["a", "e", "i", "o", "u"]:
            total += 1
    return total
''',
            after='''\
def count_vowels(text: str) -> int:
    total = 0
    for ch in text:
        if ch in {"a", "e", "i", "o", "u"}:
            total += 1
    return total
''',
        ),
        Example(
            before='''\
def is_plain(code: int) -> bool:
    return code not in (301, 302, 307, 308)
''',
            after='''\
def is_plain(code: int) -> bool:
    return code not in {301, 302, 307, 308}
''',
        ),
        Example(
            before='''\
def vowels(word: str) -> int:
    return sum(1 for ch in word if ch in ["a", "e", "i", "o", "u"])
''',
            after='''\
def vowels(word: str) -> int:
    return sum(1 for ch in word if ch in {"a", "e", "i", "o", "u"})
''',
        ),
    )
    NON_EXAMPLES = (
        # `item` is not provably hashable: a list item would make the set raise TypeError.
        '''\
def known(item: list[int]) -> bool:
    return item in [1, 2, 3]
''',
        # An element is a call, not a constant: building the list runs code.
        '''\
def pick(word: str) -> bool:
    return word in [str(1), "two", "three"]
''',
        # The comprehension variable shadows the annotated parameter `y`.
        '''\
def shadowed(y: int, rows: list[list[int]]) -> list[list[int]]:
    return [y for y in rows if y in (1, 2, 3)]
''',
        # bytes compared with str: the list comparison warns under `python -b`.
        '''\
def mixed(tag: str) -> bool:
    return tag in ("a", b"a", "b")
''',
    )

    def leave_Comparison(
        self, original_node: cst.Comparison, updated_node: cst.Comparison
    ) -> cst.BaseExpression:
        facts = self.facts
        if facts is None:
            return updated_node
        targets = list(updated_node.comparisons)
        left: cst.BaseExpression = original_node.left
        for index, target in enumerate(original_node.comparisons):
            if isinstance(target.operator, cst.In | cst.NotIn) and self._convertible(
                left, target.comparator
            ):
                new = _as_set(targets[index].comparator)
                if new is not None:
                    targets[index] = targets[index].with_changes(comparator=new)
            left = target.comparator
        return updated_node.with_changes(comparisons=targets)

    def _convertible(self, left: cst.BaseExpression, display: cst.BaseExpression) -> bool:
        facts = self.facts
        if facts is None or not isinstance(display, cst.List | cst.Tuple):
            return False
        if len(display.elements) < 2 or not all(
            isinstance(element, cst.Element) for element in display.elements
        ):
            return False
        kinds = {constant_type(element.value) for element in display.elements}
        if None in kinds:
            return False
        left_type = proven_value_type(facts, left)
        if left_type not in HASHABLE_TYPES:
            return False
        text_kinds = (kinds | {left_type}) & {"str", "bytes"}
        return len(text_kinds) <= 1


def _as_set(display: cst.BaseExpression) -> cst.Set | None:
    if isinstance(display, cst.List):
        return cst.Set(
            elements=display.elements,
            lbrace=cst.LeftCurlyBrace(whitespace_after=display.lbracket.whitespace_after),
            rbrace=cst.RightCurlyBrace(whitespace_before=display.rbracket.whitespace_before),
            lpar=display.lpar,
            rpar=display.rpar,
        )
    if isinstance(display, cst.Tuple) and display.lpar:
        return cst.Set(
            elements=display.elements,
            lbrace=cst.LeftCurlyBrace(whitespace_after=display.lpar[0].whitespace_after),
            rbrace=cst.RightCurlyBrace(whitespace_before=display.rpar[-1].whitespace_before),
            lpar=display.lpar[1:],
            rpar=display.rpar[:-1],
        )
    return None


def _constant_display(node: ast.expr) -> bool:
    return (
        isinstance(node, ast.List | ast.Tuple)
        and len(node.elts) >= 2
        and all(pre.constant_kind(element) is not None for element in node.elts)
    )
