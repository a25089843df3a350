"""Recorded calls' shapes to observed types: what each parameter was, as an annotation.

The traced program writes each kept call's shape as JSON: parameter (or
`self.attr` of a method's instance) -> "list[int | str] len 12", "int",
"NoneType". That text comes from user code's run, so it is checked here like
any other input. A type becomes an annotation only when builtins spell it:
`list[str]`, `dict[str, int]`, `int | None`, and a container of builtin containers
as `list[list]` (the recorder describes one level). A container of other objects
is just `list`: a pass may still rest on it being a list, never on its items.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from pipeline.model import ObservedType

SCALARS = frozenset({"int", "float", "complex", "str", "bytes", "bytearray", "bool", "None"})
CONTAINERS = frozenset({"list", "tuple", "dict", "set", "frozenset"})
_SHAPE = re.compile(r"^(?P<kind>\w+)(?:\[(?P<inner>[^\[\]]*)\])?$")
# A type name longer than this is not one the recorder writes: it is ignored.
MAX_SHAPE_TEXT = 200


@dataclass(frozen=True)
class _Kind:
    """One observed type: a scalar, or a container with its key and item types."""

    name: str
    keys: frozenset[str] = frozenset()  # a dict's key types
    items: frozenset[str] = frozenset()  # element types (a dict's value types)
    unspellable: bool = False  # some element was not a builtin scalar

    def merged(self, other: _Kind) -> _Kind:
        return _Kind(self.name, self.keys | other.keys, self.items | other.items,
                     self.unspellable or other.unspellable)  # fmt: skip

    @property
    def annotation(self) -> str:
        if self.name in SCALARS:
            return self.name
        if self.unspellable or not self.items:
            return self.name
        items = _union(self.items)
        if self.name == "dict":
            return f"dict[{_union(self.keys)}, {items}]"
        if self.name == "tuple":
            return f"tuple[{items}, ...]"
        return f"{self.name}[{items}]"


def observed_types(shapes: Sequence[str]) -> tuple[ObservedType, ...]:
    """Per parameter, over the recorded calls' shapes: its type(s) as an annotation."""
    kinds: dict[str, dict[str, _Kind]] = {}
    seen: Counter[str] = Counter()
    unspellable: set[str] = set()
    written: dict[str, Counter[str]] = {}
    lengths: dict[str, list[int]] = {}
    for text in shapes:
        for name, shape in _shape_items(text):
            seen[name] += 1
            kind_text, _, length = shape.partition(" len ")
            written.setdefault(name, Counter())[kind_text[:MAX_SHAPE_TEXT]] += 1
            if length.isdigit():
                lengths.setdefault(name, []).append(int(length))
            kind = _parse(kind_text)
            if kind is None:
                unspellable.add(name)
                continue
            known = kinds.setdefault(name, {})
            known[kind.name] = known[kind.name].merged(kind) if kind.name in known else kind
    return tuple(
        ObservedType(
            name=name,
            annotation=""
            if name in unspellable
            else _union(k.annotation for k in kinds.get(name, {}).values()),
            seen=count,
            recorded=len(shapes),
            sizes=_size_range(lengths.get(name, ())),
            described=" | ".join(kind for kind, _ in written[name].most_common()),
        )
        for name, count in seen.items()
    )


def _parse(text: str) -> _Kind | None:
    """ "list[int | str]" -> _Kind("list", items={"int", "str"}); None when no builtin
    spells the type (a class of the user's)."""
    if len(text) > MAX_SHAPE_TEXT:
        return None
    found = _SHAPE.match(text.replace("NoneType", "None"))
    if found is None:
        outer = text.partition("[")[0]  # nested: "list[list[int]]" is a list, of something
        return _Kind(outer, unspellable=True) if outer in CONTAINERS else None
    if found["kind"] not in SCALARS | CONTAINERS:
        return None
    kind, inner = found["kind"], found["inner"]
    if kind in SCALARS or inner is None:
        return _Kind(kind)
    keys, _, values = inner.partition(", ") if kind == "dict" else ("", "", inner)
    key_types, value_types = _names(keys), _names(values)
    # Items that are builtin containers of unknown items spell as bare `list`, `dict`:
    # `list[list]` tells a pass its items are lists, never what those hold.
    spellable = (
        key_types <= SCALARS
        and value_types <= SCALARS | CONTAINERS
        and (kind != "dict" or bool(key_types))
    )
    return _Kind(kind, key_types, value_types, unspellable=not spellable)


def _names(union: str) -> frozenset[str]:
    return frozenset(part.strip() for part in union.split("|") if part.strip())


def _union(names: Iterable[str]) -> str:
    """`int | str | None`: sorted, None last, so the text is the same on every run."""
    unique = set(names)
    return " | ".join(sorted(unique - {"None"}) + (["None"] if "None" in unique else []))


def _shape_items(text: str) -> list[tuple[str, str]]:
    try:
        shape = json.loads(text)
    except ValueError:
        return []
    if not isinstance(shape, dict):
        return []
    return [(k, v) for k, v in shape.items() if isinstance(k, str) and isinstance(v, str)]


def _size_range(lengths: Sequence[int]) -> str:
    if not lengths:
        return ""
    low, high = min(lengths), max(lengths)
    return f"len {low}" if low == high else f"len {low}..{high}"
