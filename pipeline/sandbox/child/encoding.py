"""Canonical data for any Python value: two values encode alike exactly when they behave alike.

Observations of the original and of the candidate are made in different
processes and compared by a third party (the parent), so values travel as
data, never as pickles. The encoding keeps what the strict comparator cares
about:
- exact types (a `bool` is not an `int`, a subclass is not its base);
- floats bit for bit in spirit: NaN equals NaN, -0.0 differs from 0.0;
- dict insertion order, set contents regardless of order;
- the state of any object, through the pickle protocol (`__reduce_ex__`),
  including objects with their own `__eq__`, whose state is compared instead;
- sharing: a mutable object reached twice is encoded once and then referred
  to, so `[[]] * 2` differs from `[[], []]`, and cycles terminate.

Classes of the modules under test are named `<module>.Qualname`, so the
original's and the candidate's copies of a class compare as the same type.

The graph is built breadth first and hashed node by node; the digest alone
decides exact equality. The nodes themselves are kept only for small graphs,
for comparison with a float tolerance.
"""

from __future__ import annotations

import collections
import decimal
import hashlib
import json
import re
import types
from typing import Any

MAX_NODES_KEPT = 2_000
MAX_NODES = 500_000
LONG_TEXT = 4_096
MAX_ITEMS = 1_000_000
UNDER_TEST = "<module>"

_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")
_CALLABLES = (
    types.FunctionType, types.BuiltinFunctionType, types.MethodType, types.ModuleType, type,
    types.MethodWrapperType, types.WrapperDescriptorType, types.MethodDescriptorType,
)  # fmt: skip


class TooLarge(Exception):
    """The value has more than MAX_NODES nodes."""


class Drained:
    """An iterator's type and the items it produced, so lazy results can be compared."""

    def __init__(self, type_name: str, items: list[Any], truncated: bool) -> None:
        self.type_name = type_name
        self.items = items
        self.truncated = truncated

    def __repr__(self) -> str:
        more = ", ..." if self.truncated else ""
        return f"<{self.type_name} yielding {self.items!r}{more}>"[:300]


def encode(value: Any, under_test: frozenset[str] = frozenset()) -> dict[str, Any]:
    """{"sha": digest, "n": node count, "root": inline root, "nodes": [...] or None}."""
    return _Encoder(under_test).run(value)


def type_name(cls: type, under_test: frozenset[str] = frozenset()) -> str:
    module = getattr(cls, "__module__", None) or "?"
    qualname = str(getattr(cls, "__qualname__", None) or getattr(cls, "__name__", "?"))
    if module in under_test:
        return f"{UNDER_TEST}.{qualname}"
    return qualname if module == "builtins" else f"{module}.{qualname}"


class _Encoder:
    def __init__(self, under_test: frozenset[str]) -> None:
        self.under_test = under_test
        self.memo: dict[int, int] = {}
        self.alive: list[Any] = []  # keeps every visited object alive, so no id is reused
        self.queue: collections.deque[tuple[int, Any]] = collections.deque()
        self.count = 0
        self.digest = hashlib.sha256()
        self.nodes: list[Any] | None = []

    def run(self, value: Any) -> dict[str, Any]:
        root = self.inline(value)
        self.digest.update(json.dumps(root).encode())
        while self.queue:
            index, item = self.queue.popleft()
            node = self.node(item)
            self.digest.update(b"\n%d:" % index + json.dumps(node, sort_keys=True).encode())
            if self.nodes is not None:
                self.nodes.append(node)
                if len(self.nodes) > MAX_NODES_KEPT:
                    self.nodes = None
        return {"sha": self.digest.hexdigest(), "n": self.count, "root": root, "nodes": self.nodes}

    # Atoms are written in place; everything else becomes a node that is referred to.
    def inline(self, value: Any) -> Any:
        kind = type(value)
        if value is None or kind is bool:
            return value
        if kind is int:
            return value if abs(value) < 2**53 else {"int": str(value)}
        if kind is float:
            return {"f": repr(value)}
        if kind is str:
            if len(value) <= LONG_TEXT:
                return value
            return {"s#": _sha(value.encode("utf-8", "surrogatepass")), "n": len(value)}
        if kind is bytes:
            return {"b": value.hex()} if len(value) <= LONG_TEXT else {"b#": _sha(value)}
        if kind is complex:
            return {"c": [repr(value.real), repr(value.imag)]}
        if value is Ellipsis:
            return {"...": True}
        identity = id(value)
        if _has_identity(value) and identity in self.memo:
            return {"@": self.memo[identity]}
        index = self.count
        self.count += 1
        if self.count > MAX_NODES:
            raise TooLarge()
        if _has_identity(value):
            self.memo[identity] = index
        self.alive.append(value)
        self.queue.append((index, value))
        return {"@": index}

    def node(self, value: Any) -> dict[str, Any]:
        name = type_name(type(value), self.under_test)
        if isinstance(value, Drained):
            return {"t": f"<iterator {value.type_name}>", "items": self.many(value.items),
                    "truncated": value.truncated}  # fmt: skip
        if isinstance(value, bool | int | float | str | bytes | complex):
            return {"t": name, "v": self.inline(_plain(value)), **self.attributes(value)}
        if isinstance(value, list | tuple | collections.deque | bytearray):
            return {"t": name, "items": self.many(value), **self.attributes(value)}
        if isinstance(value, dict):
            return self.mapping(name, value)
        if isinstance(value, set | frozenset):
            encoded = (encode(item, self.under_test) for item in value)
            items = sorted(json.dumps(item, sort_keys=True) for item in encoded)
            return {"t": name, "set": items, **self.attributes(value)}
        if isinstance(value, decimal.Decimal):
            return {"t": name, "v": str(value.as_tuple())}
        if isinstance(value, BaseException):
            return {"t": name, "args": self.inline(value.args), **self.attributes(value)}
        if isinstance(value, _CALLABLES):
            return {"t": name, "name": self.qualified(value)}
        return self.reduced(name, value)

    def many(self, items: Any) -> list[Any]:
        if len(items) > MAX_ITEMS:
            raise TooLarge()
        return [self.inline(item) for item in items]

    def mapping(self, name: str, value: dict[Any, Any]) -> dict[str, Any]:
        pairs = [[self.inline(k), self.inline(v)] for k, v in value.items()]
        node: dict[str, Any] = {"t": name, "pairs": pairs}
        factory = getattr(value, "default_factory", None)
        if factory is not None:
            node["factory"] = self.inline(factory)
        return {**node, **self.attributes(value)}

    def attributes(self, value: Any) -> dict[str, Any]:
        """Instance attributes of a builtin type's subclass (a list subclass with a name...)."""
        attributes = getattr(value, "__dict__", None)
        if isinstance(attributes, dict) and attributes:
            return {"attrs": self.inline(attributes)}
        return {}

    def qualified(self, value: Any) -> str:
        module = getattr(value, "__module__", None) or getattr(value, "__name__", "?")
        if isinstance(value, types.ModuleType):
            return UNDER_TEST if value.__name__ in self.under_test else value.__name__
        if module in self.under_test:
            module = UNDER_TEST
        return f"{module}.{getattr(value, '__qualname__', repr(value))}"

    def reduced(self, name: str, value: Any) -> dict[str, Any]:
        """Any other object, by the state the pickle protocol would save."""
        try:
            reduction = value.__reduce_ex__(4)
        except Exception:
            return {"t": name, "opaque": _ADDRESS.sub("", _safe_repr(value))}
        if isinstance(reduction, str):
            return {"t": name, "global": reduction}
        parts = list(reduction) + [None] * (5 - len(reduction))
        maker, arguments, state, list_items, dict_items = parts[:5]
        arguments = list(arguments or ())
        if _is_newobj(maker):
            arguments = arguments[1:]  # the class, which the node's type name already says
        node = {"t": name, "maker": self.qualified(maker), "args": self.many(arguments)}
        node["state"] = self.inline(state)
        if list_items is not None:
            node["list"] = self.many(list(list_items))
        if dict_items is not None:
            node["dict"] = [[self.inline(k), self.inline(v)] for k, v in dict_items]
        return node


def _is_newobj(maker: Any) -> bool:
    # copyreg.__newobj__(cls, *args): the class is already the node's type name.
    return getattr(maker, "__name__", "") in ("__newobj__", "__newobj_ex__")


def _has_identity(value: Any) -> bool:
    """Whether sharing this object is observable: not for immutable values."""
    return not isinstance(value, _IMMUTABLE)


_IMMUTABLE = (
    tuple,
    frozenset,
    int,
    float,
    str,
    bytes,
    complex,
    range,
    decimal.Decimal,
    *_CALLABLES,
)


def _plain(value: Any) -> Any:
    """A builtin scalar subclass's value as the builtin itself (an IntEnum member as int)."""
    base: Any
    for base in (bool, int, float, str, bytes, complex):
        if isinstance(value, base):
            return base(value)
    return value


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _safe_repr(value: Any) -> str:
    try:
        return repr(value)[:300]
    except Exception:
        return f"<unrepresentable {type(value).__name__}>"
