"""Flow typing: the type of a local bound several times, of list locals ("list[T]")
and of comprehension variables, by induction over every binding of the name.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst
import libcst.matchers as m
from libcst.metadata import ComprehensionScope, FunctionScope, Scope, ScopeProvider

from passes._annotations import (
    DICT_GENERICS,
    ELEMENT_GENERICS,
    LIST_GENERICS,
    TUPLE_GENERICS,
    generic_of,
    simple_type,
)
from passes._builtins import (
    NEW_LIST,
    READING_LIST_METHODS,
    READS_ITERABLE,
    STR_METHODS_RETURNING_STR_LIST,
)
from passes._names import in_store_context, name_references, names_in_function_scope
from passes._types import (
    EMPTY_LIST,
    TypeInference,
    binary_result,
    list_element,
    list_of,
)

if TYPE_CHECKING:
    from passes._facts import FunctionFacts

STR_LIST = "list[str]"
# Methods that take items out of a list: what is left still holds only its type.
TAKING_LIST_METHODS = frozenset({"pop"})
# Generics of one parameter whose `x[i]` is an item of that type.
SEQUENCE_ITEMS = LIST_GENERICS | frozenset({"Sequence", "MutableSequence"})
_AUGMENTED_OPERATORS: dict[type[cst.BaseAugOp], type[cst.BaseBinaryOp]] = {
    cst.AddAssign: cst.Add, cst.SubtractAssign: cst.Subtract,
    cst.MultiplyAssign: cst.Multiply, cst.FloorDivideAssign: cst.FloorDivide,
    cst.ModuloAssign: cst.Modulo,
}  # fmt: skip


class _BindingTypeInference(TypeInference):
    """`TypeInference` that also types a private local with several bindings: when
    every binding (parameter annotation, plain or annotated assignment, augmented
    assignment, loop target, tuple-unpacking target) provably stores the same type,
    assuming the variable itself holds that type, the variable has that type
    (induction over the order in which the bindings run; reading it unbound raises).

    It also knows lists of simple types, "list[T]": `str.split(...)` results,
    `list[T]` parameters, displays, comprehensions and `sorted`/`list` calls. A local
    typed as a list must also never be mutated except by `x.append(v)` with `v` of
    type `T` or `x.pop(...)` (a `T`), nor escape: every other use only reads it (index,
    iterate, truth or membership test, reading builtins and methods). Comprehension
    variables are typed from their `for` clause; items of annotated containers
    (`graph[node]`) and a method's `self.attr` from what the annotations (or a trace)
    say.
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
            return None if kind == EMPTY_LIST else kind
        if isinstance(expr, cst.ListComp):
            return list_of(self.infer(expr.elt))
        if isinstance(expr, cst.Attribute):
            annotation = self.facts.attribute_annotation(expr)
            return self._annotation_type(annotation) if annotation is not None else None
        kind = super().infer(expr)
        return None if kind == EMPTY_LIST else kind

    def _display(self, expr: cst.List) -> str | None:
        if not expr.elements:
            return EMPTY_LIST
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
            candidates = kinds - {EMPTY_LIST, None}
            if not candidates and EMPTY_LIST in kinds:
                candidates = {list_of(self._appended_type(name))}
            if len(candidates) != 1 or None in candidates:
                return None
            candidate = candidates.pop()
            assert candidate is not None
            self.assumed[name] = candidate
            if any(self._binding_type(b) not in {candidate, EMPTY_LIST} for b in bindings):
                return None
            if list_element(candidate) is None and EMPTY_LIST in kinds:
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
            return not in_store_context(self.facts, parent)
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
                and call.func.value in READS_ITERABLE
                and self.facts.is_builtin(call.func, call.func.value)
            )
        if isinstance(parent, cst.Attribute) and parent.value is reference:
            call = self.facts.parent(parent)
            if not isinstance(call, cst.Call) or call.func is not parent:
                return False
            if parent.attr.value in READING_LIST_METHODS | TAKING_LIST_METHODS:
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
            return EMPTY_LIST if m.matches(value, m.List([])) else self.infer(value)
        if isinstance(holder, cst.AnnAssign) and holder.target is binding:
            if holder.value is None:
                return None
            return EMPTY_LIST if m.matches(holder.value, m.List([])) else self.infer(holder.value)
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
            isinstance(annotation, cst.Subscript) and generic_of(annotation).name in TUPLE_GENERICS
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
            and generic_of(annotation).name in ELEMENT_GENERICS
        ):
            return None
        if len(annotation.slice) != 1 or not isinstance(annotation.slice[0].slice, cst.Index):
            return None
        return annotation.slice[0].slice.value

    def _annotation_of(self, expr: cst.BaseExpression) -> cst.BaseExpression | None:
        """The annotation an expression provably satisfies: an unrebound annotated
        parameter, the single-binding loop variable over such a parameter's elements,
        an item of either (`graph[node]` of `graph: dict[str, list[str]]` is `list[str]`),
        or a method's `self.attr` of an observed type."""
        if isinstance(expr, cst.Subscript):
            return self._item_annotation(expr)
        if isinstance(expr, cst.Call):
            return self._get_with_empty_default(expr)
        if isinstance(expr, cst.Attribute):
            return self.facts.attribute_annotation(expr)
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
        simple = simple_type(annotation)
        if simple is not None:
            return simple
        if isinstance(annotation, cst.Subscript) and generic_of(annotation).name in LIST_GENERICS:
            items = annotation.slice
            if len(items) == 1 and isinstance(items[0].slice, cst.Index):
                return list_of(simple_type(items[0].slice.value))
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
        if isinstance(func, cst.Attribute) and func.attr.value in TAKING_LIST_METHODS:
            return list_element(self.infer(func.value))  # `stack.pop()` of a list[T]: a T
        if (
            isinstance(func, cst.Name)
            and func.value in NEW_LIST
            and len(expr.args) == 1
            and not expr.args[0].keyword
            and not expr.args[0].star
            and self.facts.is_builtin(func, func.value)
        ):
            return list_of(self.element(expr.args[0].value))
        return super()._call(expr)

    def _subscript(self, expr: cst.Subscript) -> str | None:
        kind = self.infer(expr.value)
        if kind == "str":
            return "str"
        if list_element(kind) is not None and len(expr.slice) == 1:
            return list_element(kind) if isinstance(expr.slice[0].slice, cst.Index) else kind
        if kind is not None:
            return None
        item = self._item_annotation(expr)
        if item is not None:
            return self._annotation_type(item)
        return super()._subscript(expr)

    def _get_with_empty_default(self, expr: cst.Call) -> cst.BaseExpression | None:
        """The value annotation `list[T]` of `mapping.get(key, [])` on a `dict[K, list[T]]`:
        the empty default has no elements, so every element it yields is a `T`."""
        func = expr.func
        if not (
            isinstance(func, cst.Attribute)
            and func.attr.value == "get"
            and len(expr.args) == 2
            and not any(arg.keyword or arg.star for arg in expr.args)
            and isinstance(expr.args[1].value, cst.List)
            and not expr.args[1].value.elements
        ):
            return None
        generic = generic_of(self._annotation_of(func.value))
        if generic.name not in DICT_GENERICS or len(generic.args) != 2:
            return None
        value = generic.args[1]
        return value if generic_of(value).name in LIST_GENERICS else None

    def _item_annotation(self, expr: cst.Subscript) -> cst.BaseExpression | None:
        """The annotation of `container[key]` (one index, not a slice): a dict's value
        type, a list's, sequence's or `tuple[T, ...]`'s item type."""
        if len(expr.slice) != 1 or not isinstance(expr.slice[0].slice, cst.Index):
            return None
        generic = generic_of(self._annotation_of(expr.value))
        if generic.name in DICT_GENERICS and len(generic.args) == 2:
            return generic.args[1]
        if generic.name in SEQUENCE_ITEMS and len(generic.args) == 1:
            return generic.args[0]
        if (
            generic.name in TUPLE_GENERICS
            and len(generic.args) == 2
            and isinstance(generic.args[1], cst.Ellipsis)
        ):
            return generic.args[0]
        return None


def flow_type_of(
    facts: FunctionFacts, expr: cst.BaseExpression, parameters: dict[str, str] | None = None
) -> str | None:
    """Like `facts.type_of(expr)`, but also through locals bound several times, tuple-
    unpacking targets, comprehension variables, lists of simple types ("list[int]")
    and `str.split` results (see `_BindingTypeInference`). `parameters` types the
    parameters of a lambda around `expr`; other names of nested functions, lambdas
    or classes are not typed."""
    return _BindingTypeInference(facts, parameters).infer(expr)


def proven_type(facts: FunctionFacts, expr: cst.BaseExpression) -> str | None:
    """The type of `expr` (see `flow_type_of`), only trusted when no name in `expr` can
    be shadowed."""
    if not names_in_function_scope(facts, expr):
        return None
    return flow_type_of(facts, expr)


def proven_value_type(facts: FunctionFacts, expr: cst.BaseExpression) -> str | None:
    """`proven_type`, except that a plain name is typed wherever it resolves: a name
    bound by a comprehension's `for` clause is typed from the clause's iterable, so
    `ch` in `(1 for ch in word if ch in ...)` is a str when `word` is one."""
    if isinstance(expr, cst.Name):
        return flow_type_of(facts, expr)
    return proven_type(facts, expr)
