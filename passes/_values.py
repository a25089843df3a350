"""Values: what a name or expression provably holds, such as a container the
function created itself, a builtin dict or sequence, or a literal constant.

Every answer is conservative: `None` or `False` means "not proven".
"""

from __future__ import annotations

import libcst as cst
from libcst.metadata import Assignment

from passes._annotations import (
    DICT_LIKE_ANNOTATIONS,
    ITERABLE_GENERICS,
    LIST_GENERICS,
    NON_MAPPING_ITERABLES,
    PLAIN_DICT_GENERICS,
    SEQUENCE_ANNOTATIONS,
    TEXT_TYPES,
    generic_of,
    param_generic,
)
from passes._builtins import DICT_VIEWS, HASHABLE_TYPES, NEW_LIST
from passes._facts import FunctionFacts
from passes._names import binding_nodes, binding_value, names_in_function_scope
from passes._shapes import is_builtin_call

# --- literals ---------------------------------------------------------------------


def constant_type(expr: cst.BaseExpression) -> str | None:
    """The type of a literal constant (a number with an optional sign, a string or
    bytes literal, True/False/None): evaluating it can neither fail nor run code."""
    if isinstance(expr, cst.UnaryOperation) and isinstance(expr.operator, cst.Minus | cst.Plus):
        inner = constant_type(expr.expression)
        return inner if inner in {"int", "float", "complex"} else None
    if isinstance(expr, cst.Integer):
        return "int"
    if isinstance(expr, cst.Float):
        return "float"
    if isinstance(expr, cst.Imaginary):
        return "complex"
    if isinstance(expr, cst.SimpleString):
        return "bytes" if "b" in expr.prefix.lower() else "str"
    if isinstance(expr, cst.ConcatenatedString):
        left, right = constant_type(expr.left), constant_type(expr.right)
        return left if left == right else None
    if isinstance(expr, cst.Name) and expr.value in {"True", "False"}:
        return "bool"
    if isinstance(expr, cst.Name) and expr.value == "None":
        return "None"
    return None


def is_constant(expr: cst.BaseExpression) -> bool:
    return constant_type(expr) is not None


def is_str_literal(expr: cst.BaseExpression) -> bool:
    """A str (not bytes, not f-string) literal, possibly implicitly concatenated."""
    return constant_type(expr) == "str"


# --- containers -------------------------------------------------------------------


def is_fresh_container(facts: FunctionFacts, name: str) -> bool:
    """Every binding of the private local `name` is `name = <new container>`: a
    display, a comprehension, or an argument-less builtin `list()`, `dict()` or
    `set()`. So `name` never refers to an object that came from outside the call."""
    bindings = binding_nodes(facts, name)
    if not bindings:
        return False
    for binding in bindings:
        value = binding_value(facts, binding)
        if value is None or not _creates_container(facts, value):
            return False
    return True


def _creates_container(facts: FunctionFacts, value: cst.BaseExpression) -> bool:
    if isinstance(value, cst.List | cst.Set | cst.Dict | cst.ListComp | cst.SetComp | cst.DictComp):
        return True
    return (
        isinstance(value, cst.Call)
        and not value.args
        and any(is_builtin_call(facts, value, builtin) for builtin in ("list", "dict", "set"))
    )


_EMPTY_DISPLAYS: dict[str, type[cst.List] | type[cst.Dict]] = {"list": cst.List, "dict": cst.Dict}


def is_empty_container(facts: FunctionFacts, value: cst.BaseExpression, builtin: str) -> bool:
    """`value` builds an empty `builtin` container: `[]` or `list()`, `{}` or `dict()`,
    `set()` (the builtins, not shadowed)."""
    display = _EMPTY_DISPLAYS.get(builtin)
    if display is not None and isinstance(value, display) and not value.elements:
        return True
    return is_builtin_call(facts, value, builtin) and not value.args  # type: ignore[attr-defined]


def is_dict_name(facts: FunctionFacts, name: str, *, plain: bool) -> bool:
    """`name` is bound once, to a dict (`plain`: exactly `dict`, no subclass annotation)."""
    generic = param_generic(facts, name)
    if generic.name:
        return generic.name in (PLAIN_DICT_GENERICS if plain else DICT_LIKE_ANNOTATIONS)
    value = binding_value(facts, facts.single_binding(name))
    if value is None:
        return False
    return isinstance(value, cst.Dict | cst.DictComp) or is_builtin_call(facts, value, "dict")


def is_sequence_name(facts: FunctionFacts, name: str) -> bool:
    """`name` is bound once to a list/tuple/str/bytes whose iteration equals indexing."""
    binding = facts.single_binding(name)
    if isinstance(binding, cst.Param):
        if binding.star or binding.annotation is None:
            return False
        annotation = binding.annotation.annotation
        if isinstance(annotation, cst.Name) and annotation.value in TEXT_TYPES:
            return True
        return isinstance(annotation, cst.Subscript) and (
            generic_of(annotation).name in SEQUENCE_ANNOTATIONS
        )
    value = binding_value(facts, binding)
    return isinstance(
        value, cst.List | cst.ListComp | cst.Tuple | cst.SimpleString | cst.ConcatenatedString
    )


def text_type(facts: FunctionFacts, name: str) -> str | None:
    """The text type, `str` or `bytes`, that `name` is bound once to (a parameter
    annotated so, or a literal); else None."""
    binding = facts.single_binding(name)
    if isinstance(binding, cst.Param):
        annotation = binding.annotation.annotation if binding.annotation else None
        if not binding.star and isinstance(annotation, cst.Name):
            return annotation.value if annotation.value in TEXT_TYPES else None
        return None
    value = binding_value(facts, binding)
    found = constant_type(value) if value is not None else None
    return found if found in TEXT_TYPES else None


def is_non_mapping_iterable(facts: FunctionFacts, expr: cst.BaseExpression) -> bool:
    """`expr` is iterable and provably not a mapping (Counter treats mappings specially)."""
    if isinstance(expr, cst.Name):
        binding = facts.single_binding(expr.value)
        if isinstance(binding, cst.Param) and binding.annotation is not None and not binding.star:
            annotation = binding.annotation.annotation
            if isinstance(annotation, cst.Name):
                return annotation.value in TEXT_TYPES
            return generic_of(annotation).name in NON_MAPPING_ITERABLES
        value = binding_value(facts, binding)
        return isinstance(value, cst.List | cst.ListComp | cst.Tuple | cst.Set | cst.SetComp)
    if is_builtin_call(facts, expr, "range"):
        return True
    if facts.type_of(expr) == "str":
        return True
    is_split = (
        isinstance(expr, cst.Call)
        and isinstance(expr.func, cst.Attribute)
        and expr.func.attr.value == "split"
    )
    return is_split and facts.element_type(expr) == "str"


def known_iterable(facts: FunctionFacts, expr: cst.BaseExpression) -> bool:
    """`expr` is a builtin container or builtin iterator, so iterating it (or asking
    its length hint) runs no user code and raises nothing."""
    if isinstance(expr, cst.Name):
        generic = param_generic(facts, expr.value).name
        return generic in ITERABLE_GENERICS or generic in TEXT_TYPES
    if is_builtin_call(facts, expr, "range"):
        assert isinstance(expr, cst.Call)
        return (
            all(
                facts.type_of(arg.value) == "int" and not arg.keyword and not arg.star
                for arg in expr.args
            )
            and 1 <= len(expr.args) <= 3
        )
    return False


def is_list_typed(facts: FunctionFacts, expr: cst.BaseExpression) -> bool:
    """`expr` provably evaluates to a list (a display, a list comprehension, a
    `list(...)`/`sorted(...)` builtin call, a parameter annotated `list[...]` or a loop
    variable over a parameter annotated as an iterable of `list[...]`)."""
    if isinstance(expr, cst.List | cst.ListComp):
        return True
    if isinstance(expr, cst.Call) and isinstance(expr.func, cst.Name):
        return expr.func.value in NEW_LIST and facts.is_builtin(expr.func, expr.func.value)
    if not isinstance(expr, cst.Name) or not names_in_function_scope(facts, expr):
        return False
    binding = facts.single_binding(expr.value)
    if isinstance(binding, cst.Param):
        return param_generic(facts, expr.value).name in LIST_GENERICS
    if isinstance(binding, cst.Name):
        loop = facts.parent(binding)
        if isinstance(loop, cst.For) and loop.target is binding and isinstance(loop.iter, cst.Name):
            generic = param_generic(facts, loop.iter.value)
            if generic.name in ITERABLE_GENERICS - {"dict", "Dict", "Mapping"}:
                return len(generic.args) == 1 and generic_of(generic.args[0]).name in LIST_GENERICS
    return False


def dict_view_owner(facts: FunctionFacts, expr: cst.BaseExpression) -> cst.Name | None:
    """`d` when `expr` is `d.keys()`, `d.values()` or `d.items()` and `d` is a
    parameter annotated `dict[...]` that is never rebound: a builtin view whose
    length, truth and iteration run no user code and follow `d`'s insertion order."""
    if not (
        isinstance(expr, cst.Call)
        and not expr.args
        and isinstance(expr.func, cst.Attribute)
        and expr.func.attr.value in DICT_VIEWS
        and isinstance(expr.func.value, cst.Name)
    ):
        return None
    owner = expr.func.value
    return owner if param_generic(facts, owner.value).name in PLAIN_DICT_GENERICS else None


# --- immutable locals -------------------------------------------------------------


def has_immutable_bindings(facts: FunctionFacts, name: str) -> bool:
    """Every binding of local `name` gives it an immutable builtin value.

    Such values (int, float, str, bytes, bool, complex, None) have no in-place
    operators, so `x op= y` and `x = x op y` are the same for any `y`.
    """
    if not facts.is_local(name) or facts.scope is None:
        return False
    for assignment in facts.scope.assignments[name]:
        if not isinstance(assignment, Assignment):
            return False
        node = assignment.node
        if isinstance(node, cst.Param):
            if node.star or node.annotation is None:
                return False
            annotation = node.annotation.annotation
            if not (isinstance(annotation, cst.Name) and annotation.value in HASHABLE_TYPES):
                return False
            continue
        if not isinstance(node, cst.Name):
            return False
        parent = facts.parent(node)
        if isinstance(parent, cst.For) and parent.target is node:
            if facts.element_type(parent.iter) not in HASHABLE_TYPES:
                return False
            continue
        if isinstance(parent, cst.AugAssign) and parent.target is node:
            if facts.type_of(parent.value) not in HASHABLE_TYPES:
                return False
            continue
        value = binding_value(facts, node)
        if value is None or not _immutable_value(facts, value, name):
            return False
    return True


def _immutable_value(facts: FunctionFacts, value: cst.BaseExpression, name: str) -> bool:
    if facts.type_of(value) in HASHABLE_TYPES:
        return True
    if isinstance(value, cst.BinaryOperation):
        return all(
            (isinstance(side, cst.Name) and side.value == name)
            or facts.type_of(side) in HASHABLE_TYPES
            for side in (value.left, value.right)
        )
    return False
