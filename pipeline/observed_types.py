"""Recorded calls' shapes to observed types: what each parameter was, as an annotation.

The traced program writes each kept call's shape as JSON: parameter (or
`self.attr` of a method's instance) -> "dict[str, list[int] | None] len 12", "int",
"NoneType". That text comes from user code's run, so it is parsed here like any
other input: a small grammar (`NAME`, `NAME[UNION, ...]`, `UNION = T | T`, a
tuple's `T, ...`), bounded in length and depth, and anything else is not a type.
A type becomes an annotation only as far as builtins spell it: `list[str]`,
`dict[str, list[str]]`, `list[tuple[str, int]]`, `int | None`. A container whose
items include another kind of object is just `list`: a pass may still rest on it
being a list, never on its items. A bare `list` inside a container was empty (or
not looked into): it holds any items, so beside `list[str]` it adds nothing.
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
# A type text longer, or nested deeper, than this is not one the recorder writes: ignored.
MAX_SHAPE_TEXT = 2000
MAX_DEPTH = 6
_TOKEN = re.compile(r"\[|\]|, |\s*\|\s*|\.\.\.|[^\[\],| ]+")


@dataclass(frozen=True)
class _Kind:
    """One observed type: a name, and for a container one union per argument (a list's
    items; a dict's keys, then values; a tuple's positions, or its items when `variadic`)."""

    name: str
    args: tuple[_Union, ...] = ()
    variadic: bool = False  # tuple[T, ...]

    @property
    def key(self) -> tuple[str, int, bool]:
        """Kinds with the same key merge argument by argument."""
        arity = len(self.args) if self.name == "tuple" and not self.variadic else -1
        return self.name, arity, self.variadic

    def merged(self, other: _Kind) -> _Kind:
        if not self.args or not other.args:  # an empty container holds any items
            return self if self.args else other
        args = tuple(_merge(a, b) for a, b in zip(self.args, other.args, strict=True))
        return _Kind(self.name, args, self.variadic)

    @property
    def annotation(self) -> str | None:
        """As builtins spell it, or None for a type of the user's (or one that is not a type)."""
        if self.name in SCALARS:
            return self.name
        if self.name not in CONTAINERS:
            return None
        args = [_spelled(union) for union in self.args]
        if not args or any(arg is None for arg in args) or len(args) != _arity(self):
            return self.name  # a container, of items no builtin spells
        if self.variadic:
            return f"tuple[{args[0]}, ...]"
        return f"{self.name}[{', '.join(a for a in args if a is not None)}]"


_Union = tuple[_Kind, ...]  # sorted by key, one per key


def _arity(kind: _Kind) -> int:
    if kind.name == "dict":
        return 2
    if kind.name == "tuple" and not kind.variadic:
        return len(kind.args)
    return 1


def _merge(first: _Union, second: _Union) -> _Union:
    kinds: dict[tuple[str, int, bool], _Kind] = {}
    for kind in (*first, *second):
        kinds[kind.key] = kinds[kind.key].merged(kind) if kind.key in kinds else kind
    return tuple(kinds[key] for key in sorted(kinds))


def _spelled(union: _Union) -> str | None:
    spelled = [kind.annotation for kind in union]
    if not spelled or any(text is None for text in spelled):
        return None
    return _union_text(text for text in spelled if text is not None)


def observed_types(shapes: Sequence[str]) -> tuple[ObservedType, ...]:
    """Per parameter, over the recorded calls' shapes: its type(s) as an annotation."""
    kinds: dict[str, _Union] = {}
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
            kind = parse_type(kind_text)
            if kind is None or kind.annotation is None:
                unspellable.add(name)
                continue
            kinds[name] = _merge(kinds.get(name, ()), (kind,))
    return tuple(
        ObservedType(
            name=name,
            annotation="" if name in unspellable else _spelled(kinds.get(name, ())) or "",
            seen=count,
            recorded=len(shapes),
            sizes=_size_range(lengths.get(name, ())),
            described=" | ".join(kind for kind, _ in written[name].most_common()),
        )
        for name, count in seen.items()
    )


def parse_type(text: str) -> _Kind | None:
    """ "dict[str, list[int] | None]" -> its `_Kind`; None for text the grammar does not
    accept (too long, too deep, malformed). A union at the top is not one type: None."""
    if len(text) > MAX_SHAPE_TEXT:
        return None
    text = text.replace("NoneType", "None")
    tokens = _TOKEN.findall(text)
    if "".join(tokens) != text:  # a character the grammar has no place for
        return None
    parser = _Parser([token.strip() for token in tokens])
    kind = parser.kind(0)
    return kind if kind is not None and parser.done else None


class _Parser:
    """Recursive descent over the tokens of one type text."""

    def __init__(self, tokens: list[str]) -> None:
        self.tokens = tokens
        self.at = 0

    @property
    def done(self) -> bool:
        return self.at == len(self.tokens)

    def _peek(self) -> str:
        return self.tokens[self.at] if self.at < len(self.tokens) else ""

    def _take(self, token: str) -> bool:
        if self._peek() == token:
            self.at += 1
            return True
        return False

    def kind(self, depth: int) -> _Kind | None:
        name = self._peek()
        if depth > MAX_DEPTH or not name or name in {"[", "]", ",", "|", "..."}:
            return None
        self.at += 1
        if not self._take("["):
            return _Kind(name)
        args: list[_Union] = []
        variadic = False
        while True:
            union = self.union(depth + 1)
            if union is None:
                return None
            args.append(union)
            if self._take("]"):
                break
            if not self._take(","):
                return None
            if self._take("..."):
                variadic = True
                if not self._take("]"):
                    return None
                break
        return _Kind(name, tuple(args), variadic and name == "tuple" and len(args) == 1)

    def union(self, depth: int) -> _Union | None:
        found: _Union = ()
        while True:
            kind = self.kind(depth)
            if kind is None:
                return None
            found = _merge(found, (kind,))
            if not self._take("|"):
                return found


def _union_text(names: Iterable[str]) -> str:
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
