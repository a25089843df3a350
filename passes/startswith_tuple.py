"""OPT209: `s.startswith(a) or s.startswith(b)` becomes `s.startswith((a, b))`."""

from __future__ import annotations

import ast

import libcst as cst
import libcst.matchers as m

from passes import _ast_prefilter as pre
from passes._chains import TupleArgumentChainPass
from passes._facts import FunctionFacts
from passes._shapes import single_positional_arg
from passes._values import is_str_literal
from passes.base import Example

METHODS = frozenset({"startswith", "endswith"})


class StartswithTuple(TupleArgumentChainPass):
    """What it does:
        Merges adjacent `s.startswith("a") or s.startswith("b")` tests on the same
        string into one call with a tuple, `s.startswith(("a", "b"))`; the same
        for `endswith`. Existing tuple arguments are flattened in.

    Why it is faster:
        One method call instead of several; the tuple of literals is a constant
        (measured 2.1x on 3.11 when the first test fails, 1.08x when it passes).

    Fix safety:
        The pass fires only when all of these are proven:
        - the receiver is a plain name that is provably a `str` (annotation,
          literal, str method result...), so the method is `str.startswith`,
          which returns a bool and accepts a tuple of prefixes;
        - every argument is a str literal (or a tuple of them), one positional
          argument per call, so evaluating them all up front has no effect and
          cannot fail;
        - the merged calls are adjacent operands of the same `or` chain, so the
          result (True if any prefix matches) and the rest of the chain's
          short-circuiting are unchanged.
    """

    code = "OPT209"
    name = "startswith-tuple"
    summary = "Merge or-ed startswith/endswith calls into one call with a tuple."
    triggers = ("startswith(", "endswith(")

    @classmethod
    def may_match_ast(cls, function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
        """Two `or` operands `s.startswith(<str literals>)` on one name and method."""
        return pre.has_repeated_key(function, (ast.Or,), _ast_operand_key)

    EXAMPLES = (
        Example(
            before='''\
def is_comment(line: str) -> bool:
    return line.startswith("#") or line.startswith("//") or line.startswith(";")
''',
            after='''\
def is_comment(line: str) -> bool:
    return line.startswith(("#", "//", ";"))
''',
        ),
        Example(
            before='''\
def images(names: list[str]) -> list[str]:
    out = []
    for name in names:
        if name.endswith(".png") or name.endswith((".jpg", ".jpeg")) or not name:
            out.append(name)
    return out
''',
            after='''\
def images(names: list[str]) -> list[str]:
    out = []
    for name in names:
        if name.endswith((".png", ".jpg", ".jpeg")) or not name:
            out.append(name)
    return out
''',
        ),
    )
    NON_EXAMPLES = (
        # The receiver's type is unknown: a custom startswith may not accept a tuple.
        '''\
def check(s: object) -> bool:
    return s.startswith("a") or s.startswith("b")
''',
        # Non-literal prefixes: they would all be evaluated up front.
        '''\
def either(s: str, a: str, b: str) -> bool:
    return s.startswith(a) or s.startswith(b)
''',
        # bytes receiver and arguments: declined (only str is proven).
        '''\
def magic(data: bytes) -> bool:
    return data.startswith(b"PK") or data.startswith(b"GZ")
''',
        # Different receivers.
        '''\
def two(s: str, t: str) -> bool:
    return s.startswith("a") or t.startswith("a")
''',
    )

    def operand_key(
        self, facts: FunctionFacts, operand: cst.BaseExpression, operator: cst.BaseBooleanOp
    ) -> str | None:
        if not m.matches(
            operand,
            m.Call(func=m.Attribute(value=m.Name(lpar=[]), attr=m.Name()), lpar=[]),
        ):
            return None
        assert isinstance(operand, cst.Call) and isinstance(operand.func, cst.Attribute)
        method = operand.func.attr.value
        receiver = operand.func.value
        if method not in METHODS or _prefixes(operand) is None:
            return None
        if facts.type_of(receiver) != "str":
            return None
        assert isinstance(receiver, cst.Name)
        return f"{receiver.value}.{method}"

    def tuple_items(self, call: cst.Call) -> list[cst.BaseExpression] | None:
        return _prefixes(call)

    def with_tuple(self, first: cst.Call, items: cst.Tuple) -> cst.Call:
        return first.with_changes(args=[cst.Arg(items)])


def _prefixes(call: cst.Call) -> list[cst.BaseExpression] | None:
    argument = single_positional_arg(call)
    if argument is None:
        return None
    if is_str_literal(argument):
        return [argument]
    if isinstance(argument, cst.Tuple) and argument.elements:
        values = [element.value for element in argument.elements]
        if all(isinstance(e, cst.Element) for e in argument.elements) and all(
            is_str_literal(v) for v in values
        ):
            return values
    return None


def _ast_operand_key(operand: ast.expr, operator: type[ast.boolop]) -> object:
    if not (
        isinstance(operand, ast.Call)
        and isinstance(operand.func, ast.Attribute)
        and operand.func.attr in METHODS
        and isinstance(operand.func.value, ast.Name)
    ):
        return None
    argument = pre.single_positional_arg(operand)
    if argument is None:
        return None
    if not (
        pre.is_str_literal(argument)
        or (
            isinstance(argument, ast.Tuple)
            and argument.elts
            and all(pre.is_str_literal(element) for element in argument.elts)
        )
    ):
        return None
    return (operand.func.value.id, operand.func.attr)
