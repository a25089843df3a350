"""Annotations: what a parameter's annotation proves about the value it holds.

An annotation is only trusted for a parameter the function never rebinds (see
`param_generic`); everything else is unknown.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import libcst as cst

from passes._builtins import HASHABLE_TYPES

if TYPE_CHECKING:
    from passes._facts import FunctionFacts

# Annotation names by what they promise about the runtime object. The builtin
# container names promise that exact class or a subclass; callers that need
# builtin behaviour exactly (no user `__iter__`, `__len__`, ...) ask for them.
LIST_GENERICS = frozenset({"list", "List"})
TUPLE_GENERICS = frozenset({"tuple", "Tuple"})
SET_GENERICS = frozenset({"set", "Set", "frozenset", "FrozenSet"})
PLAIN_DICT_GENERICS = frozenset({"dict", "Dict"})
SIZED_GENERICS = LIST_GENERICS | TUPLE_GENERICS | SET_GENERICS | PLAIN_DICT_GENERICS
TEXT_TYPES = frozenset({"str", "bytes"})
# Builtin sequences whose iteration order equals index order and which are never mappings.
SEQUENCE_ANNOTATIONS = LIST_GENERICS | TUPLE_GENERICS
ITERABLE_GENERICS = SIZED_GENERICS | frozenset(
    {"Sequence", "MutableSequence", "Iterable", "Collection", "AbstractSet", "Mapping"}
)
DICT_GENERICS = PLAIN_DICT_GENERICS | frozenset({"Mapping", "MutableMapping"})
DICT_LIKE_ANNOTATIONS = DICT_GENERICS | frozenset({"OrderedDict", "defaultdict", "Counter"})
NON_MAPPING_ITERABLES = (
    SEQUENCE_ANNOTATIONS | SET_GENERICS | frozenset({"Sequence", "MutableSequence", "AbstractSet"})
)
# Generics of one parameter whose iteration yields items of that type.
ELEMENT_GENERICS = LIST_GENERICS | SET_GENERICS | frozenset(
    {"Sequence", "Iterable", "Iterator", "Collection", "AbstractSet", "MutableSequence",
     "Reversible"}
)  # fmt: skip


@dataclass(frozen=True)
class Generic:
    """`list[int]` as Generic("list", (int,)); `name` is "" when the annotation is
    not a plain name or a generic with plain arguments."""

    name: str
    args: tuple[cst.BaseExpression, ...] = ()


UNKNOWN = Generic("")


def generic_of(annotation: cst.BaseExpression | None) -> Generic:
    if annotation is None:
        return UNKNOWN
    target = annotation.value if isinstance(annotation, cst.Subscript) else annotation
    if isinstance(target, cst.Name):
        name = target.value
    elif isinstance(target, cst.Attribute):
        name = target.attr.value
    else:
        return UNKNOWN
    if not isinstance(annotation, cst.Subscript):
        return Generic(name)
    args: list[cst.BaseExpression] = []
    for element in annotation.slice:
        if not isinstance(element.slice, cst.Index):
            return UNKNOWN
        args.append(element.slice.value)
    return Generic(name, tuple(args))


def param_generic(facts: FunctionFacts, name: str) -> Generic:
    """The annotation of a parameter that the function never rebinds."""
    binding = facts.single_binding(name)
    if not isinstance(binding, cst.Param) or binding.star or binding.annotation is None:
        return UNKNOWN
    return generic_of(binding.annotation.annotation)


def simple_type(annotation: cst.BaseExpression | None) -> str | None:
    """ "int" for the annotation `int`: a simple type the type inference names."""
    if isinstance(annotation, cst.Name) and annotation.value in HASHABLE_TYPES:
        return annotation.value
    return None


def element_type(generic: Generic) -> str | None:
    """The simple type of the items that iterating a value of this generic yields:
    list[T], Sequence[T], set[T], tuple[T, ...], dict[T, V] (its keys)."""
    args: Sequence[cst.BaseExpression] = generic.args
    if generic.name in TUPLE_GENERICS:
        if len(args) == 2 and isinstance(args[1], cst.Ellipsis):
            return simple_type(args[0])
        return None
    if generic.name in ELEMENT_GENERICS and len(args) == 1:
        return simple_type(args[0])
    if generic.name in DICT_GENERICS and len(args) == 2:
        return simple_type(args[0])
    return None
