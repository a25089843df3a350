"""Type inference: the simple type ("int", "str", ..., or "list[T]") an expression
provably evaluates to, from annotations, literals, builtin calls and bindings.

`FunctionFacts.type_of` asks the plain inference (single bindings only);
`flow_type_of` also follows locals bound several times. Both answer None when
the type is not proven.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst
import libcst.matchers as m

from passes._annotations import (
    LIST_GENERICS,
    element_type,
    generic_of,
    simple_type,
)
from passes._builtins import (
    HASHABLE_TYPES,
    KEEPS_ELEMENTS,
    RESULT_TYPE,
    STR_METHODS_RETURNING_STR,
)

if TYPE_CHECKING:
    from passes._facts import FunctionFacts

# The flow type of `[]`: a list whose items are not known yet.
EMPTY_LIST = "list[]"


def element_of_annotation(annotation: cst.BaseExpression) -> str | None:
    """The simple type of the items that iterating a value annotated so yields."""
    if isinstance(annotation, cst.Name) and annotation.value == "str":
        return "str"
    if not isinstance(annotation, cst.Subscript):
        return None
    return element_type(generic_of(annotation))


def list_of(element: str | None) -> str | None:
    """The flow type name of a list of `element` ("list[int]")."""
    return f"list[{element}]" if element in HASHABLE_TYPES else None


def list_element(kind: str | None) -> str | None:
    """`T` for the flow type name "list[T]"."""
    if kind is not None and kind.startswith("list[") and kind != EMPTY_LIST:
        return kind[len("list[") : -1]
    return None


def binary_result(left: str | None, operator: cst.BaseBinaryOp, right: str | None) -> str | None:
    """The type of `left <operator> right` for the simple types `TypeInference` knows."""
    if left is None or left != right:
        return None
    if left == "str" and isinstance(operator, cst.Add):
        return "str"
    if left == "int" and isinstance(
        operator, cst.Add | cst.Subtract | cst.Multiply | cst.FloorDivide | cst.Modulo
    ):
        return "int"
    return None


class TypeInference:
    """The simple type of an expression from literals, builtin calls, annotated
    parameters bound once and loop variables over typed iterables."""

    def __init__(self, facts: FunctionFacts) -> None:
        self.facts = facts

    def infer(self, expr: cst.BaseExpression) -> str | None:
        if isinstance(expr, cst.SimpleString | cst.ConcatenatedString | cst.FormattedString):
            return self._string_kind(expr)
        if isinstance(expr, cst.Integer):
            return "int"
        if isinstance(expr, cst.Float):
            return "float"
        if isinstance(expr, cst.Name):
            return self._name(expr)
        if isinstance(expr, cst.Call):
            return self._call(expr)
        if isinstance(expr, cst.BinaryOperation):
            return self._binary(expr)
        if isinstance(expr, cst.Comparison) or m.matches(expr, m.UnaryOperation(operator=m.Not())):
            return "bool"
        if isinstance(expr, cst.Subscript):
            return self._subscript(expr)
        return None

    def element(self, iterable: cst.BaseExpression) -> str | None:
        if isinstance(iterable, cst.Name):
            annotation = self.facts.annotation_of(iterable.value)
            return element_of_annotation(annotation) if annotation is not None else None
        if isinstance(iterable, cst.Call) and isinstance(iterable.func, cst.Name):
            func = iterable.func
            if self.facts.is_builtin(func, "range"):
                return "int"
            if func.value in KEEPS_ELEMENTS and (
                self.facts.is_builtin(func, func.value) and len(iterable.args) >= 1
            ):
                return self.element(iterable.args[0].value)
        if m.matches(iterable, m.Call(func=m.Attribute(attr=m.Name("split")))):
            receiver = iterable.func.value  # type: ignore[attr-defined]
            return "str" if self.infer(receiver) == "str" else None
        if self.infer(iterable) == "str":
            return "str"
        return None

    def _string_kind(self, expr: cst.BaseExpression) -> str | None:
        if isinstance(expr, cst.SimpleString):
            return "bytes" if "b" in expr.prefix.lower() else "str"
        if isinstance(expr, cst.FormattedString):
            return "str"
        if isinstance(expr, cst.ConcatenatedString):
            left = self._string_kind(expr.left)
            return left if left == self._string_kind(expr.right) else None
        return None

    def _name(self, expr: cst.Name) -> str | None:
        if expr.value in {"True", "False"}:
            return "bool"
        if expr.value == "None":
            return "None"
        binding = self.facts.single_binding(expr.value)
        if isinstance(binding, cst.Param):
            if binding.annotation is None or binding.star:
                return None
            return simple_type(binding.annotation.annotation)
        if isinstance(binding, cst.Name):
            loop = self.facts.parent(binding)
            if isinstance(loop, cst.For) and loop.target is binding:
                return self.element(loop.iter)
        return None

    def _call(self, expr: cst.Call) -> str | None:
        func = expr.func
        if isinstance(func, cst.Name) and func.value in RESULT_TYPE:
            is_builtin = self.facts.is_builtin(func, func.value)
            return RESULT_TYPE[func.value] if is_builtin else None
        if isinstance(func, cst.Attribute) and func.attr.value in STR_METHODS_RETURNING_STR:
            return "str" if self.infer(func.value) == "str" else None
        return None

    def _binary(self, expr: cst.BinaryOperation) -> str | None:
        return binary_result(self.infer(expr.left), expr.operator, self.infer(expr.right))

    def _subscript(self, expr: cst.Subscript) -> str | None:
        if self.infer(expr.value) == "str":
            return "str"
        if isinstance(expr.value, cst.Name) and len(expr.slice) == 1:
            index = expr.slice[0].slice
            if isinstance(index, cst.Index):
                annotation = self.facts.annotation_of(expr.value.value)
                if annotation is not None and generic_of(annotation).name in LIST_GENERICS:
                    return element_of_annotation(annotation)
        return None
