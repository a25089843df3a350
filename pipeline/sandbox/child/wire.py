"""How messages cross the process boundary: dataclasses as checked JSON, in frames.

A frame is 8 ASCII hex digits of length, then that many bytes of JSON. Both
sides use these functions: the child to write its report and read commands,
the parent to read reports (never trusting their shape) and write commands.
Stdlib only, like the rest of the child package.
"""

from __future__ import annotations

import base64
import dataclasses
import enum
import json
import os
import sys
import types
import typing
from typing import Any, TypeVar

FRAME_HEADER = 8
MAX_MESSAGE_BYTES = 256 << 20

JsonValue = Any
T = TypeVar("T")


class TextEnum(str, enum.Enum):
    """An enum whose members are their text everywhere: in JSON, str() and f-strings."""

    def __str__(self) -> str:
        return str(self.value)

    def __format__(self, spec: str) -> str:
        return format(str(self.value), spec)


class ProtocolError(ValueError):
    """A message that does not have the shape its type promises."""


# --------------------------------------------------------------------------- framing


def frame(message: Any) -> bytes:
    data = json.dumps(to_json(message)).encode("utf-8")
    return b"%08x" % len(data) + data


def split_frame(buffer: bytes, limit: int = MAX_MESSAGE_BYTES) -> tuple[bytes, bytes] | None:
    """(the first frame's JSON, the rest) once `buffer` holds a whole frame, else None."""
    if len(buffer) < FRAME_HEADER:
        return None
    try:
        length = int(buffer[:FRAME_HEADER], 16)
    except ValueError:
        raise ProtocolError("bad frame header") from None
    if length > limit:
        raise ProtocolError(f"message of {length} bytes is over the limit")
    if len(buffer) < FRAME_HEADER + length:
        return None
    return buffer[FRAME_HEADER : FRAME_HEADER + length], buffer[FRAME_HEADER + length :]


def parse(kind: type[T], data: bytes) -> T:
    """One frame's JSON read as `kind`; ProtocolError when it has another shape."""
    return from_json(kind, json_object(data))


def write_message(fd: int, message: Any) -> None:
    data = frame(message)
    while data:
        data = data[os.write(fd, data) :]


def read_message(fd: int, kind: type[T]) -> T:
    """The next message on `fd`, as `kind`; ProtocolError on EOF or a bad frame."""
    header = _read_exactly(fd, FRAME_HEADER)
    try:
        length = int(header, 16)
    except ValueError:
        raise ProtocolError("bad frame header") from None
    if length > MAX_MESSAGE_BYTES:
        raise ProtocolError(f"message of {length} bytes is over the limit")
    return parse(kind, _read_exactly(fd, length))


def _read_exactly(fd: int, count: int) -> bytes:
    chunks, remaining = [], count
    while remaining:
        chunk = os.read(fd, min(remaining, 1 << 20))
        if not chunk:
            raise ProtocolError("the other side closed the channel")
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def json_object(data: bytes) -> dict[str, Any]:
    try:
        value = json.loads(data)
    except (ValueError, UnicodeDecodeError, RecursionError) as error:
        raise ProtocolError(f"not JSON: {error}") from None
    if not isinstance(value, dict):
        raise ProtocolError("not a JSON object")
    return value


# --------------------------------------------------------------------------- (de)serialising


def to_json(value: Any) -> JsonValue:
    """Plain JSON data for a message: dataclasses become objects, bytes base64 text."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, list | tuple):
        return [to_json(item) for item in value]
    if isinstance(value, dict):
        return {str(key): to_json(item) for key, item in value.items()}
    return value


def from_json(kind: type[T], data: JsonValue) -> T:
    """`data` read as `kind` (a dataclass), each field checked against its type hint."""
    return typing.cast(T, _read(kind, data, kind.__name__))


def _read(hint: Any, data: JsonValue, where: str) -> Any:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is Any:
        return data
    if origin in (typing.Union, types.UnionType):
        if data is None and type(None) in args:
            return None
        options = [a for a in args if a is not type(None)]
        return _read(options[0], data, where)
    if dataclasses.is_dataclass(hint):
        return _read_dataclass(hint, data, where)
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        try:
            return hint(data)
        except ValueError:
            raise ProtocolError(f"{where}: {data!r} is not a {hint.__name__}") from None
    if hint is bytes:
        if not isinstance(data, str):
            raise ProtocolError(f"{where}: expected base64 text")
        try:
            return base64.b64decode(data.encode("ascii"), validate=True)
        except ValueError:
            raise ProtocolError(f"{where}: bad base64") from None
    if origin is tuple:
        items = _expect(list, data, where)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_read(args[0], item, f"{where}[]") for item in items)
        if len(items) != len(args):
            raise ProtocolError(f"{where}: expected {len(args)} items")
        return tuple(_read(a, item, f"{where}[]") for a, item in zip(args, items, strict=True))
    if origin is list:
        return [_read(args[0], item, f"{where}[]") for item in _expect(list, data, where)]
    if origin is dict:
        mapping = _expect(dict, data, where)
        return {str(k): _read(args[1], v, f"{where}.{k}") for k, v in mapping.items()}
    if hint is float:
        if isinstance(data, int | float) and not isinstance(data, bool):
            return float(data)
        raise ProtocolError(f"{where}: expected a number")
    if hint in (int, str, bool):
        if type(data) is not hint:
            raise ProtocolError(f"{where}: expected {hint.__name__}, got {type(data).__name__}")
        return data
    raise ProtocolError(f"{where}: unsupported field type {hint!r}")


def _read_dataclass(kind: Any, data: JsonValue, where: str) -> Any:
    mapping = _expect(dict, data, where)
    hints = typing.get_type_hints(kind, vars(sys.modules[kind.__module__]))
    values = {}
    for spec in dataclasses.fields(kind):
        if spec.name in mapping:
            values[spec.name] = _read(hints[spec.name], mapping[spec.name], f"{where}.{spec.name}")
        elif spec.default is dataclasses.MISSING and spec.default_factory is dataclasses.MISSING:
            raise ProtocolError(f"{where}: missing {spec.name}")
    return kind(**values)


def _expect(kind: type[T], data: JsonValue, where: str) -> T:
    if not isinstance(data, kind):
        raise ProtocolError(f"{where}: expected {kind.__name__}")
    return data
