"""Facts that several passes' preconditions need, derived from libcst metadata.

Every helper answers conservatively: `None` or `False` means "not proven", and a
pass must then decline.
"""

from __future__ import annotations

import libcst as cst
import libcst.matchers as m
from libcst.codemod import ContextAwareTransformer
from libcst.metadata import (
    FunctionScope,
    ParentNodeProvider,
    QualifiedNameProvider,
    QualifiedNameSource,
    Scope,
    ScopeProvider,
)

HASHABLE_TYPES = frozenset({"int", "str", "float", "bool", "bytes", "complex", "None"})
SEQUENCE_GENERICS = frozenset(
    {
        "list", "List", "Sequence", "Iterable", "Iterator", "Collection", "set", "Set",
        "frozenset", "FrozenSet", "AbstractSet", "MutableSequence", "Reversible",
    }
)  # fmt: skip
DICT_GENERICS = frozenset({"dict", "Dict", "Mapping", "MutableMapping"})
STR_METHODS_RETURNING_STR = frozenset(
    {
        "lower", "upper", "strip", "lstrip", "rstrip", "casefold", "title", "capitalize",
        "replace", "swapcase", "center", "ljust", "rjust", "zfill", "expandtabs", "join",
        "removeprefix", "removesuffix", "format",
    }
)  # fmt: skip
BUILTINS_RETURNING = {
    "str": "str", "repr": "str", "chr": "str", "ascii": "str", "format": "str",
    "len": "int", "ord": "int", "hash": "int", "int": "int", "bool": "bool", "float": "float",
}  # fmt: skip


def name_references(node: cst.CSTNode, name: str) -> list[cst.Name]:
    """Every Name node spelling `name` as a variable (not an attribute or keyword)."""
    collector = _NameCollector(name)
    node.visit(collector)
    return collector.found


class _NameCollector(cst.CSTVisitor):
    def __init__(self, name: str) -> None:
        self.name = name
        self.found: list[cst.Name] = []

    def visit_Name(self, node: cst.Name) -> None:
        if node.value == self.name:
            self.found.append(node)

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        node.value.visit(self)
        return False

    def visit_Arg(self, node: cst.Arg) -> bool:
        node.value.visit(self)
        return False


def contains(node: cst.CSTNode, matcher: m.BaseMatcherNode) -> bool:
    return bool(m.findall(node, matcher))


class FunctionFacts:
    """Facts about names inside one function, for use by a transformer with metadata."""

    def __init__(self, transformer: ContextAwareTransformer, function: cst.FunctionDef) -> None:
        self.transformer = transformer
        self.function = function
        scope = transformer.get_metadata(ScopeProvider, function.body, None)
        self.scope: Scope | None = scope if isinstance(scope, FunctionScope) else None

    def is_local(self, name: str) -> bool:
        """`name` is bound only in this function's own scope (no global/nonlocal)."""
        if self.scope is None or name not in self.scope:
            return False
        assignments = self.scope.assignments[name]
        return bool(assignments) and all(a.scope is self.scope for a in assignments)

    def is_captured(self, name: str) -> bool:
        """A nested function, lambda or class in this function mentions `name`."""
        nested = m.findall(self.function.body, m.FunctionDef() | m.Lambda() | m.ClassDef())
        return any(name_references(node, name) for node in nested)

    def is_private_local(self, name: str) -> bool:
        """`name` is local and no nested scope can read or rebind it."""
        return self.is_local(name) and not self.is_captured(name)

    def single_binding(self, name: str) -> cst.CSTNode | None:
        """The node that binds `name`, when the function binds it exactly once."""
        if not self.is_local(name) or self.scope is None:
            return None
        assignments = list(self.scope.assignments[name])
        if len(assignments) != 1:
            return None
        node: cst.CSTNode | None = getattr(assignments[0], "node", None)
        return node

    def is_builtin(self, node: cst.CSTNode, builtin: str) -> bool:
        """`node` (a Name or Call's func) provably refers to the builtin `builtin`."""
        names = self.transformer.get_metadata(QualifiedNameProvider, node, set())
        return any(
            q.name == f"builtins.{builtin}" and q.source == QualifiedNameSource.BUILTIN
            for q in names
        )

    def parent(self, node: cst.CSTNode) -> cst.CSTNode | None:
        return self.transformer.get_metadata(ParentNodeProvider, node, None)

    def annotation_of(self, name: str) -> cst.BaseExpression | None:
        binding = self.single_binding(name)
        if isinstance(binding, cst.Param) and binding.annotation is not None:
            return binding.annotation.annotation
        return None

    def type_of(self, expr: cst.BaseExpression) -> str | None:
        """A simple type name ("int", "str", ...) that `expr` provably evaluates to."""
        return _TypeInference(self).infer(expr)

    def element_type(self, iterable: cst.BaseExpression) -> str | None:
        """The simple type of the items that iterating over `iterable` yields."""
        return _TypeInference(self).element(iterable)

    def is_hashable(self, expr: cst.BaseExpression) -> bool:
        return self.type_of(expr) in HASHABLE_TYPES

    def in_try_block(self, node: cst.CSTNode) -> bool:
        """`node` sits inside a try statement or a with block of this function."""
        current = self.parent(node)
        while current is not None and current is not self.function:
            if isinstance(current, cst.Try | cst.TryStar | cst.With):
                return True
            current = self.parent(current)
        return False

    def fresh_name(self, base: str) -> str:
        """A name not used anywhere in the function."""
        candidate, suffix = base, 1
        while name_references(self.function, candidate):
            suffix += 1
            candidate = f"{base}_{suffix}"
        return candidate


class _TypeInference:
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
        if isinstance(expr, cst.Comparison) or m.matches(
            expr, m.UnaryOperation(operator=m.Not())
        ):
            return "bool"
        if isinstance(expr, cst.Subscript):
            return self._subscript(expr)
        return None

    def element(self, iterable: cst.BaseExpression) -> str | None:
        if isinstance(iterable, cst.Name):
            annotation = self.facts.annotation_of(iterable.value)
            return _element_of_annotation(annotation) if annotation is not None else None
        if isinstance(iterable, cst.Call) and isinstance(iterable.func, cst.Name):
            func = iterable.func
            if self.facts.is_builtin(func, "range"):
                return "int"
            if func.value in {"sorted", "reversed", "set", "list", "tuple"} and (
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
            return _simple_annotation(binding.annotation.annotation)
        if isinstance(binding, cst.Name):
            loop = self.facts.parent(binding)
            if isinstance(loop, cst.For) and loop.target is binding:
                return self.element(loop.iter)
        return None

    def _call(self, expr: cst.Call) -> str | None:
        func = expr.func
        if isinstance(func, cst.Name) and func.value in BUILTINS_RETURNING:
            is_builtin = self.facts.is_builtin(func, func.value)
            return BUILTINS_RETURNING[func.value] if is_builtin else None
        if isinstance(func, cst.Attribute) and func.attr.value in STR_METHODS_RETURNING_STR:
            return "str" if self.infer(func.value) == "str" else None
        return None

    def _binary(self, expr: cst.BinaryOperation) -> str | None:
        left, right = self.infer(expr.left), self.infer(expr.right)
        if left is None or left != right:
            return None
        if left == "str" and isinstance(expr.operator, cst.Add):
            return "str"
        if left == "int" and isinstance(
            expr.operator, cst.Add | cst.Subtract | cst.Multiply | cst.FloorDivide | cst.Modulo
        ):
            return "int"
        return None

    def _subscript(self, expr: cst.Subscript) -> str | None:
        if self.infer(expr.value) == "str":
            return "str"
        if isinstance(expr.value, cst.Name) and len(expr.slice) == 1:
            index = expr.slice[0].slice
            if isinstance(index, cst.Index):
                annotation = self.facts.annotation_of(expr.value.value)
                if annotation is not None and _generic_name(annotation) in {"list", "List"}:
                    return _element_of_annotation(annotation)
        return None


def _generic_name(annotation: cst.BaseExpression) -> str | None:
    target = annotation.value if isinstance(annotation, cst.Subscript) else annotation
    if isinstance(target, cst.Name):
        return target.value
    if isinstance(target, cst.Attribute):
        return target.attr.value
    return None


def _simple_annotation(annotation: cst.BaseExpression) -> str | None:
    if isinstance(annotation, cst.Name) and annotation.value in HASHABLE_TYPES:
        return annotation.value
    return None


def _element_of_annotation(annotation: cst.BaseExpression) -> str | None:
    if isinstance(annotation, cst.Name) and annotation.value == "str":
        return "str"
    if not isinstance(annotation, cst.Subscript):
        return None
    generic = _generic_name(annotation)
    items = [e.slice for e in annotation.slice]
    if not items or not all(isinstance(item, cst.Index) for item in items):
        return None
    first = items[0].value  # type: ignore[attr-defined]
    if generic in SEQUENCE_GENERICS and len(items) == 1:
        return _simple_annotation(first)
    if generic in {"tuple", "Tuple"} and len(items) == 2 and m.matches(
        items[1].value,  # type: ignore[attr-defined]
        m.Ellipsis(),
    ):
        return _simple_annotation(first)
    if generic in DICT_GENERICS and len(items) == 2:
        return _simple_annotation(first)
    return None



# --- flow-insensitive inference over every binding (opt-in, see FunctionFacts) ----------

STR_LIST = "list[str]"
STR_METHODS_RETURNING_STR_LIST = frozenset({"split", "rsplit", "splitlines"})
_AUGMENTED_OPERATORS: dict[type[cst.BaseAugOp], type[cst.BaseBinaryOp]] = {
    cst.AddAssign: cst.Add, cst.SubtractAssign: cst.Subtract,
    cst.MultiplyAssign: cst.Multiply, cst.FloorDivideAssign: cst.FloorDivide,
    cst.ModuloAssign: cst.Modulo,
}  # fmt: skip


def binary_result(left: str | None, operator: cst.BaseBinaryOp, right: str | None) -> str | None:
    """The type of `left <operator> right` for the simple types `_TypeInference` knows."""
    if left is None or left != right:
        return None
    if left == "str" and isinstance(operator, cst.Add):
        return "str"
    if left == "int" and isinstance(
        operator, cst.Add | cst.Subtract | cst.Multiply | cst.FloorDivide | cst.Modulo
    ):
        return "int"
    return None


class _BindingTypeInference(_TypeInference):
    """`_TypeInference` that also types a private local with several bindings: when
    every binding (parameter annotation, plain or annotated assignment, augmented
    assignment, loop target, tuple-unpacking loop target) provably stores the same
    type, assuming the variable itself holds that type, the variable has that type
    (induction over the order in which the bindings run; reading it unbound raises).
    It also knows `list[str]` for `str.split(...)` results and `list[str]` params.
    """

    def __init__(self, facts: FunctionFacts) -> None:
        super().__init__(facts)
        self.assumed: dict[str, str | None] = {}

    def _name(self, expr: cst.Name) -> str | None:
        if expr.value in {"True", "False", "None"}:
            return super()._name(expr)
        facts = self.facts
        scope = facts.transformer.get_metadata(ScopeProvider, expr, None)
        if facts.scope is None or scope is not facts.scope:
            return None
        name = expr.value
        if name in self.assumed:
            return self.assumed[name]
        if not facts.is_private_local(name):
            return None
        bindings = [getattr(a, "node", None) for a in facts.scope.assignments[name]]
        self.assumed[name] = None
        try:
            candidate = next(
                (t for t in (self._binding_type(b) for b in bindings) if t is not None), None
            )
            if candidate is None:
                return None
            self.assumed[name] = candidate
            agreed = all(self._binding_type(b) == candidate for b in bindings)
            return candidate if agreed else None
        finally:
            del self.assumed[name]

    def infer(self, expr: cst.BaseExpression) -> str | None:
        if isinstance(expr, cst.IfExp):
            body = self.infer(expr.body)
            return body if body is not None and body == self.infer(expr.orelse) else None
        return super().infer(expr)

    def _binding_type(self, binding: object) -> str | None:
        if isinstance(binding, cst.Param):
            if binding.annotation is None or binding.star:
                return None
            return self._annotation_type(binding.annotation.annotation)
        if not isinstance(binding, cst.Name):
            return None
        holder = self.facts.parent(binding)
        if isinstance(holder, cst.AssignTarget):
            assign = self.facts.parent(holder)
            return self.infer(assign.value) if isinstance(assign, cst.Assign) else None
        if isinstance(holder, cst.AnnAssign) and holder.target is binding:
            return self.infer(holder.value) if holder.value is not None else None
        if isinstance(holder, cst.AugAssign) and holder.target is binding:
            operator = _AUGMENTED_OPERATORS.get(type(holder.operator))
            if operator is None:
                return None
            current = self.assumed.get(binding.value)
            return binary_result(current, operator(), self.infer(holder.value))
        if isinstance(holder, cst.For) and holder.target is binding:
            return self.element(holder.iter)
        if isinstance(holder, cst.Element):
            return self._unpacked_type(holder)
        return None

    def _unpacked_type(self, element: cst.Element) -> str | None:
        """`name` in `for a, name in xs:` where xs is annotated `...[tuple[A, B]]`."""
        target = self.facts.parent(element)
        loop = self.facts.parent(target) if isinstance(target, cst.Tuple) else None
        if not (
            isinstance(target, cst.Tuple) and isinstance(loop, cst.For) and loop.target is target
        ):
            return None
        if not all(
            isinstance(e, cst.Element) and isinstance(e.value, cst.Name) for e in target.elements
        ):
            return None
        annotation = self._element_annotation(loop.iter)
        if not (
            isinstance(annotation, cst.Subscript)
            and _generic_name(annotation) in {"tuple", "Tuple"}
        ):
            return None
        items = [e.slice for e in annotation.slice]
        if len(items) != len(target.elements) or not all(isinstance(i, cst.Index) for i in items):
            return None
        position = next(i for i, e in enumerate(target.elements) if e is element)
        return self._annotation_type(items[position].value)  # type: ignore[attr-defined]

    def _element_annotation(self, iterable: cst.BaseExpression) -> cst.BaseExpression | None:
        """The element annotation `T` of an iterable whose annotation is `list[T]` etc."""
        annotation = self._annotation_of(iterable)
        if not (
            isinstance(annotation, cst.Subscript)
            and _generic_name(annotation) in SEQUENCE_GENERICS
        ):
            return None
        if len(annotation.slice) != 1 or not isinstance(annotation.slice[0].slice, cst.Index):
            return None
        return annotation.slice[0].slice.value

    def _annotation_of(self, expr: cst.BaseExpression) -> cst.BaseExpression | None:
        """The annotation a Name provably satisfies: an unrebound annotated parameter,
        or the single-binding loop variable over such a parameter's elements."""
        if not isinstance(expr, cst.Name):
            return None
        if self.facts.transformer.get_metadata(ScopeProvider, expr, None) is not self.facts.scope:
            return None
        binding = self.facts.single_binding(expr.value)
        if isinstance(binding, cst.Param):
            if binding.annotation is None or binding.star:
                return None
            if not self.facts.is_private_local(expr.value):
                return None
            return binding.annotation.annotation
        if isinstance(binding, cst.Name) and self.facts.is_private_local(expr.value):
            loop = self.facts.parent(binding)
            if isinstance(loop, cst.For) and loop.target is binding:
                return self._element_annotation(loop.iter)
        return None

    def _annotation_type(self, annotation: cst.BaseExpression) -> str | None:
        simple = _simple_annotation(annotation)
        if simple is not None:
            return simple
        if isinstance(annotation, cst.Subscript) and _generic_name(annotation) in {"list", "List"}:
            items = annotation.slice
            if (
                len(items) == 1
                and isinstance(items[0].slice, cst.Index)
                and _simple_annotation(items[0].slice.value) == "str"
            ):
                return STR_LIST
        return None

    def element(self, iterable: cst.BaseExpression) -> str | None:
        kind = self.infer(iterable)
        if kind in {"str", STR_LIST}:
            return "str"
        annotation = self._element_annotation(iterable)
        if annotation is not None:
            return self._annotation_type(annotation)
        return super().element(iterable)

    def _call(self, expr: cst.Call) -> str | None:
        func = expr.func
        if isinstance(func, cst.Attribute) and func.attr.value in STR_METHODS_RETURNING_STR_LIST:
            return STR_LIST if self.infer(func.value) == "str" else None
        return super()._call(expr)

    def _binary(self, expr: cst.BinaryOperation) -> str | None:
        return binary_result(self.infer(expr.left), expr.operator, self.infer(expr.right))

    def _subscript(self, expr: cst.Subscript) -> str | None:
        kind = self.infer(expr.value)
        if kind == "str":
            return "str"
        if kind == STR_LIST and len(expr.slice) == 1:
            return "str" if isinstance(expr.slice[0].slice, cst.Index) else STR_LIST
        if kind is not None:
            return None
        return super()._subscript(expr)


def flow_type_of(facts: FunctionFacts, expr: cst.BaseExpression) -> str | None:
    """Like `facts.type_of(expr)`, but also through locals bound several times, tuple-
    unpacking loop targets and `str.split` results (see `_BindingTypeInference`).
    Names looked up outside the function's own scope (comprehensions, lambdas) are
    not typed. May return "list[str]" besides the simple type names."""
    return _BindingTypeInference(facts).infer(expr)
