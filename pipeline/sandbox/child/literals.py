"""Literal values as tagged JSON, for what JSON lacks: tuples, sets, bytes, non-string dict
keys, NaN, infinities and -0.0. The parent encodes literals it found statically; the
child decodes them. Nothing is ever evaluated."""

from __future__ import annotations

import math
from typing import Any

JsonValue = Any


def encode_literal(value: Any) -> JsonValue:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        if math.isfinite(value) and not (value == 0.0 and math.copysign(1.0, value) < 0):
            return value
        return {"$float": repr(value)}  # 'nan', 'inf', '-inf', '-0.0'
    if isinstance(value, list):
        return [encode_literal(item) for item in value]
    if isinstance(value, tuple):
        return {"$tuple": [encode_literal(item) for item in value]}
    if isinstance(value, frozenset):
        return {"$frozenset": [encode_literal(item) for item in value]}
    if isinstance(value, set):
        return {"$set": [encode_literal(item) for item in value]}
    if isinstance(value, dict):
        return {"$dict": [[encode_literal(k), encode_literal(v)] for k, v in value.items()]}
    if isinstance(value, bytes):
        return {"$bytes": value.hex()}
    if isinstance(value, complex):
        return {"$complex": [encode_literal(value.real), encode_literal(value.imag)]}
    if value is Ellipsis:
        return {"$ellipsis": None}
    raise TypeError(f"cannot encode {type(value).__name__}")


def decode_literal(value: JsonValue) -> Any:
    if isinstance(value, list):
        return [decode_literal(item) for item in value]
    if not isinstance(value, dict):
        return value
    ((tag, payload),) = value.items()
    if tag == "$float":
        return float(payload)
    if tag == "$tuple":
        return tuple(decode_literal(item) for item in payload)
    if tag == "$set":
        return {decode_literal(item) for item in payload}
    if tag == "$frozenset":
        return frozenset(decode_literal(item) for item in payload)
    if tag == "$dict":
        return {decode_literal(k): decode_literal(v) for k, v in payload}
    if tag == "$bytes":
        return bytes.fromhex(payload)
    if tag == "$complex":
        return complex(decode_literal(payload[0]), decode_literal(payload[1]))
    if tag == "$ellipsis":
        return ...
    raise ValueError(f"unknown literal tag {tag!r}")
