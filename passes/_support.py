"""Facts that several passes' preconditions need, derived from libcst metadata.

Every helper answers conservatively: `None` or `False` means "not proven", and a
pass must then decline.
"""

from __future__ import annotations

import libcst as cst
import libcst.matchers as m
from libcst.codemod import ContextAwareTransformer
from libcst.metadata import (
    ComprehensionScope,
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
                if annotation is not None and generic_name(annotation) in {"list", "List"}:
                    return _element_of_annotation(annotation)
        return None


def generic_name(annotation: cst.BaseExpression) -> str | None:
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
    generic = generic_name(annotation)
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
# Builtins that read an iterable argument without mutating it.
READING_BUILTINS = frozenset(
    {"len", "sorted", "min", "max", "sum", "set", "frozenset", "tuple", "list", "any", "all",
     "enumerate", "reversed", "zip", "dict", "bool"}
)  # fmt: skip
READING_LIST_METHODS = frozenset({"count", "index", "copy"})
_AUGMENTED_OPERATORS: dict[type[cst.BaseAugOp], type[cst.BaseBinaryOp]] = {
    cst.AddAssign: cst.Add, cst.SubtractAssign: cst.Subtract,
    cst.MultiplyAssign: cst.Multiply, cst.FloorDivideAssign: cst.FloorDivide,
    cst.ModuloAssign: cst.Modulo,
}  # fmt: skip
_EMPTY_LIST = "list[]"


def list_of(element: str | None) -> str | None:
    """The flow type name of a list of `element` ("list[int]")."""
    return f"list[{element}]" if element in HASHABLE_TYPES else None


def list_element(kind: str | None) -> str | None:
    """`T` for the flow type name "list[T]"."""
    if kind is not None and kind.startswith("list[") and kind != _EMPTY_LIST:
        return kind[len("list[") : -1]
    return None


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
    assignment, loop target, tuple-unpacking target) provably stores the same type,
    assuming the variable itself holds that type, the variable has that type
    (induction over the order in which the bindings run; reading it unbound raises).

    It also knows lists of simple types, "list[T]": `str.split(...)` results,
    `list[T]` parameters, displays, comprehensions and `sorted`/`list` calls. A local
    typed as a list must also never be mutated except by `x.append(v)` with `v` of
    type `T`, nor escape: every other use only reads it (index, iterate, truth or
    membership test, reading builtins and methods). Comprehension variables are
    typed from their `for` clause.
    """

    def __init__(self, facts: FunctionFacts, parameters: dict[str, str] | None = None) -> None:
        super().__init__(facts)
        self.assumed: dict[str, str | None] = {}
        self.parameters = parameters or {}

    def infer(self, expr: cst.BaseExpression) -> str | None:
        if isinstance(expr, cst.IfExp):
            body = self.infer(expr.body)
            return body if body is not None and body == self.infer(expr.orelse) else None
        if isinstance(expr, cst.List):
            kind = self._display(expr)
            return None if kind == _EMPTY_LIST else kind
        if isinstance(expr, cst.ListComp):
            return list_of(self.infer(expr.elt))
        kind = super().infer(expr)
        return None if kind == _EMPTY_LIST else kind

    def _display(self, expr: cst.List) -> str | None:
        if not expr.elements:
            return _EMPTY_LIST
        if not all(isinstance(e, cst.Element) for e in expr.elements):
            return None
        kinds = {self.infer(e.value) for e in expr.elements}
        return list_of(kinds.pop()) if len(kinds) == 1 else None

    def _name(self, expr: cst.Name) -> str | None:
        if expr.value in {"True", "False", "None"}:
            return super()._name(expr)
        facts = self.facts
        name = expr.value
        inner_scope = self._inner_binding_scope(expr)
        if inner_scope is not facts.scope:
            return self._inner_scope_name(inner_scope, name) if inner_scope is not None else None
        if name in self.assumed:
            return self.assumed[name]
        if facts.scope is None or not self._bindings_known(name):
            return None
        bindings = [getattr(a, "node", None) for a in facts.scope.assignments[name]]
        self.assumed[name] = None
        try:
            kinds = {self._binding_type(binding) for binding in bindings}
            # Self-referring bindings (`s += ...`) are None until a type is assumed.
            candidates = kinds - {_EMPTY_LIST, None}
            if not candidates and _EMPTY_LIST in kinds:
                candidates = {list_of(self._appended_type(name))}
            if len(candidates) != 1 or None in candidates:
                return None
            candidate = candidates.pop()
            assert candidate is not None
            self.assumed[name] = candidate
            if any(self._binding_type(b) not in {candidate, _EMPTY_LIST} for b in bindings):
                return None
            if list_element(candidate) is None and _EMPTY_LIST in kinds:
                return None
            if list_element(candidate) is not None and not self._reads_only(name, candidate):
                return None
            return candidate
        finally:
            del self.assumed[name]

    def _inner_binding_scope(self, expr: cst.Name) -> Scope | None:
        """The scope whose binding `expr` reads: the function's own scope, or a
        comprehension or lambda inside it; None for anything else (unknown, nested
        def or class, global)."""
        scope = self.facts.transformer.get_metadata(ScopeProvider, expr, None)
        while scope is not None and scope is not self.facts.scope:
            if expr.value in scope.assignments:
                return scope
            # Reading through a comprehension or lambda reaches the function's binding.
            node = getattr(scope, "node", None)
            inner = isinstance(scope, ComprehensionScope) or (
                isinstance(scope, FunctionScope) and isinstance(node, cst.Lambda)
            )
            if not inner or scope.parent is scope:
                return None
            scope = scope.parent
        return scope

    def _bindings_known(self, name: str) -> bool:
        """Every binding of `name` is in this function's own scope: no nested scope
        can rebind it (`nonlocal`/`global`); nested scopes may still read it."""
        if not self.facts.is_local(name):
            return False
        for statement in m.findall(self.facts.function, m.Nonlocal() | m.Global()):
            assert isinstance(statement, cst.Nonlocal | cst.Global)
            if any(item.name.value == name for item in statement.names):
                return False
        return True

    def _inner_scope_name(self, scope: Scope, name: str) -> str | None:
        """A comprehension variable (typed by its `for` clause) or a lambda parameter
        given in `parameters`."""
        if isinstance(scope, ComprehensionScope):
            assignments = list(scope.assignments[name])
            node = getattr(assignments[0], "node", None) if len(assignments) == 1 else None
            holder = self.facts.parent(node) if isinstance(node, cst.Name) else None
            if isinstance(holder, cst.CompFor) and holder.target is node:
                return self.element(holder.iter)
            return None
        lambdas = [
            a for a in scope.assignments[name] if isinstance(getattr(a, "node", None), cst.Param)
        ]
        if len(lambdas) == len(scope.assignments[name]) == 1:
            return self.parameters.get(name)
        return None

    def _appended_type(self, name: str) -> str | None:
        """The type of the first item appended to the list local `name`."""
        for reference in name_references(self.facts.function.body, name):
            attribute = self.facts.parent(reference)
            call = self.facts.parent(attribute) if attribute is not None else None
            if (
                isinstance(attribute, cst.Attribute)
                and attribute.attr.value == "append"
                and isinstance(call, cst.Call)
                and len(call.args) == 1
            ):
                return self.infer(call.args[0].value)
        return None

    def _reads_only(self, name: str, kind: str) -> bool:
        """Every use of the list local `name` reads it, or appends an item of its type."""
        element = list_element(kind)
        for reference in name_references(self.facts.function.body, name):
            parent = self.facts.parent(reference)
            if isinstance(parent, cst.AssignTarget | cst.AnnAssign | cst.For) and (
                getattr(parent, "target", None) is reference
            ):
                continue
            if not self._reading_use(reference, parent, element):
                return False
        return True

    def _reading_use(
        self, reference: cst.Name, parent: cst.CSTNode | None, element: str | None
    ) -> bool:
        if isinstance(parent, cst.Subscript) and parent.value is reference:
            return not _stored_into(self.facts, parent)
        if isinstance(parent, cst.For | cst.CompFor) and parent.iter is reference:
            return True
        if isinstance(parent, cst.If | cst.While | cst.IfExp) and parent.test is reference:
            return True
        if isinstance(parent, cst.BooleanOperation | cst.UnaryOperation):
            return isinstance(self.facts.parent(parent), cst.If | cst.While | cst.IfExp)
        if isinstance(parent, cst.ComparisonTarget) and parent.comparator is reference:
            return isinstance(parent.operator, cst.In | cst.NotIn)
        if isinstance(parent, cst.Arg) and not parent.keyword and not parent.star:
            call = self.facts.parent(parent)
            return (
                isinstance(call, cst.Call)
                and isinstance(call.func, cst.Name)
                and call.func.value in READING_BUILTINS
                and self.facts.is_builtin(call.func, call.func.value)
            )
        if isinstance(parent, cst.Attribute) and parent.value is reference:
            call = self.facts.parent(parent)
            if not isinstance(call, cst.Call) or call.func is not parent:
                return False
            if parent.attr.value in READING_LIST_METHODS:
                return True
            return (
                parent.attr.value == "append"
                and isinstance(self.facts.parent(call), cst.Expr)
                and len(call.args) == 1
                and not call.args[0].keyword
                and not call.args[0].star
                and self.infer(call.args[0].value) == element
            )
        return False

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
            if not isinstance(assign, cst.Assign):
                return None
            value = assign.value
            return _EMPTY_LIST if m.matches(value, m.List([])) else self.infer(value)
        if isinstance(holder, cst.AnnAssign) and holder.target is binding:
            if holder.value is None:
                return None
            return _EMPTY_LIST if m.matches(holder.value, m.List([])) else self.infer(holder.value)
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
        """`name` in `for a, name in xs:` where xs is annotated `...[tuple[A, B]]`, or
        in `a, name = <list[T]>`."""
        target = self.facts.parent(element)
        holder = self.facts.parent(target) if isinstance(target, cst.Tuple) else None
        if not isinstance(target, cst.Tuple) or not all(
            isinstance(e, cst.Element) and isinstance(e.value, cst.Name) for e in target.elements
        ):
            return None
        if isinstance(holder, cst.AssignTarget):
            assign = self.facts.parent(holder)
            if isinstance(assign, cst.Assign):
                return list_element(self.infer(assign.value))
            return None
        if not (isinstance(holder, cst.For) and holder.target is target):
            return None
        annotation = self._element_annotation(holder.iter)
        if not (
            isinstance(annotation, cst.Subscript)
            and generic_name(annotation) in {"tuple", "Tuple"}
        ):
            return list_element(self.element(holder.iter))
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
            and generic_name(annotation) in SEQUENCE_GENERICS
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
        if self.facts.scope is None or self._inner_binding_scope(expr) is not self.facts.scope:
            return None
        binding = self.facts.single_binding(expr.value)
        if isinstance(binding, cst.Param):
            if binding.annotation is None or binding.star:
                return None
            if not self._bindings_known(expr.value):
                return None
            return binding.annotation.annotation
        if isinstance(binding, cst.Name) and self._bindings_known(expr.value):
            loop = self.facts.parent(binding)
            if isinstance(loop, cst.For) and loop.target is binding:
                return self._element_annotation(loop.iter)
        return None

    def _annotation_type(self, annotation: cst.BaseExpression) -> str | None:
        simple = _simple_annotation(annotation)
        if simple is not None:
            return simple
        if isinstance(annotation, cst.Subscript) and generic_name(annotation) in {"list", "List"}:
            items = annotation.slice
            if len(items) == 1 and isinstance(items[0].slice, cst.Index):
                return list_of(_simple_annotation(items[0].slice.value))
        return None

    def element(self, iterable: cst.BaseExpression) -> str | None:
        kind = self.infer(iterable)
        if kind == "str":
            return "str"
        if list_element(kind) is not None:
            return list_element(kind)
        annotation = self._element_annotation(iterable)
        if annotation is not None:
            return self._annotation_type(annotation)
        return super().element(iterable)

    def _call(self, expr: cst.Call) -> str | None:
        func = expr.func
        if isinstance(func, cst.Attribute) and func.attr.value in STR_METHODS_RETURNING_STR_LIST:
            return STR_LIST if self.infer(func.value) == "str" else None
        if (
            isinstance(func, cst.Name)
            and func.value in {"sorted", "list"}
            and len(expr.args) == 1
            and not expr.args[0].keyword
            and not expr.args[0].star
            and self.facts.is_builtin(func, func.value)
        ):
            return list_of(self.element(expr.args[0].value))
        return super()._call(expr)

    def _binary(self, expr: cst.BinaryOperation) -> str | None:
        return binary_result(self.infer(expr.left), expr.operator, self.infer(expr.right))

    def _subscript(self, expr: cst.Subscript) -> str | None:
        kind = self.infer(expr.value)
        if kind == "str":
            return "str"
        if list_element(kind) is not None and len(expr.slice) == 1:
            return list_element(kind) if isinstance(expr.slice[0].slice, cst.Index) else kind
        if kind is not None:
            return None
        annotation = self._annotation_of(expr.value)
        if (
            isinstance(annotation, cst.Subscript)
            and generic_name(annotation) in DICT_GENERICS
            and len(expr.slice) == 1
            and isinstance(expr.slice[0].slice, cst.Index)
            and len(annotation.slice) == 2
            and isinstance(annotation.slice[1].slice, cst.Index)
        ):
            return _simple_annotation(annotation.slice[1].slice.value)
        return super()._subscript(expr)


def _stored_into(facts: FunctionFacts, node: cst.CSTNode) -> bool:
    """`node` is (part of) an assignment, augmented assignment, deletion or loop target."""
    child, parent = node, facts.parent(node)
    while isinstance(parent, cst.Element | cst.StarredElement | cst.Tuple | cst.List):
        child, parent = parent, facts.parent(parent)
    if isinstance(parent, cst.AssignTarget | cst.Del):
        return True
    if isinstance(parent, cst.AugAssign | cst.AnnAssign | cst.For | cst.CompFor):
        return getattr(parent, "target", None) is child
    return False


def flow_type_of(
    facts: FunctionFacts, expr: cst.BaseExpression, parameters: dict[str, str] | None = None
) -> str | None:
    """Like `facts.type_of(expr)`, but also through locals bound several times, tuple-
    unpacking targets, comprehension variables, lists of simple types ("list[int]")
    and `str.split` results (see `_BindingTypeInference`). `parameters` types the
    parameters of a lambda around `expr`; other names of nested functions, lambdas
    or classes are not typed."""
    return _BindingTypeInference(facts, parameters).infer(expr)


def plain_lambda_param(function: cst.Lambda) -> str | None:
    """The name of a lambda's only parameter when it is plain (no default, no stars)."""
    params = function.params
    if (
        len(params.params) != 1
        or params.posonly_params
        or params.kwonly_params
        or not isinstance(params.star_arg, cst.MaybeSentinel)
        or params.star_kwarg is not None
        or params.params[0].default is not None
    ):
        return None
    return params.params[0].name.value
