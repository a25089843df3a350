"""Input domains as plain data: what a set of example values says about a parameter.

A domain is a JSON object such as `{"type": "list", "items": {"type": "int",
"min": 0, "max": 9}, "max_size": 40}`; the child's `strategies` turns it into a
Hypothesis strategy. The parent infers domains from literals it found
statically, the child from calls recorded in a trace; both use this module.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

DomainSpec = dict[str, Any]
# Generated collections stay near the observed lengths, within what Hypothesis generates well.
MAX_GENERATED_SIZE = 1_000


def domain_of_values(values: Iterable[Any]) -> DomainSpec | None:
    """One domain covering every value, or None when one of them has no domain."""
    return _merge_optional([domain_of(value) for value in values])


def domain_of(value: Any) -> DomainSpec | None:
    """The domain a value belongs to, with its observed range or length."""
    scalar = {bool: "bool", str: "str", bytes: "bytes"}
    if value is None:
        return {"type": "none"}
    if type(value) is int:
        return {"type": "int", "min": value, "max": value}
    if type(value) is float:
        return {"type": "float"}
    if type(value) in scalar:
        spec: DomainSpec = {"type": scalar[type(value)]}
        if type(value) is not bool:
            spec["max_size"] = len(value)
        return spec
    if type(value) in (list, set):
        kind = "list" if type(value) is list else "set"
        return _collection(kind, list(value))
    if type(value) is tuple:
        items = [domain_of(item) for item in value]
        if any(item is None for item in items):
            return None
        return {"type": "fixed_tuple", "items": items}
    if type(value) is dict:
        keys = _merge_optional([domain_of(k) for k in value])
        values = _merge_optional([domain_of(v) for v in value.values()])
        if keys is None or values is None:
            return None
        return {"type": "dict", "keys": keys, "values": values, "max_size": len(value)}
    return None


def _collection(kind: str, items: list[Any]) -> DomainSpec | None:
    item_spec = _merge_optional([domain_of(item) for item in items])
    if item_spec is None:
        return None
    return {"type": kind, "items": item_spec, "max_size": len(items)}


def _merge_optional(specs: list[DomainSpec | None]) -> DomainSpec | None:
    if any(spec is None for spec in specs):
        return None
    present = [spec for spec in specs if spec is not None]
    return merge(present) if present else {"type": "int"}  # an empty literal says nothing


def merge(specs: list[DomainSpec]) -> DomainSpec:
    """The smallest domain covering all of `specs`: ranges and lengths widen, kinds unite."""
    by_kind: dict[str, list[DomainSpec]] = {}
    for spec in specs:
        by_kind.setdefault(_shape(spec), []).append(spec)
    options = [_widen(group) for group in by_kind.values()]
    return options[0] if len(options) == 1 else {"type": "one_of", "options": options}


def _shape(spec: DomainSpec) -> str:
    """Specs of one shape merge by widening; e.g. all ints, or all lists of ints."""
    stripped = {k: v for k, v in spec.items() if k not in ("min", "max", "max_size")}
    if isinstance(stripped.get("items"), dict):
        stripped["items"] = _shape(stripped["items"])
    elif isinstance(stripped.get("items"), list):  # a fixed tuple: item by item
        stripped["items"] = [_shape(item) for item in stripped["items"]]
    if "keys" in stripped:
        stripped = {**stripped, "keys": _shape(stripped["keys"])}
        stripped["values"] = _shape(stripped["values"])
    return json.dumps(stripped, sort_keys=True)


def _widen(group: list[DomainSpec]) -> DomainSpec:
    merged = dict(group[0])
    for key, pick in (("min", min), ("max", max), ("max_size", max)):
        present = [spec[key] for spec in group if key in spec]
        if len(present) == len(group):
            merged[key] = pick(present)
        else:
            merged.pop(key, None)
    if "max_size" in merged:
        merged["max_size"] = min(merged["max_size"], MAX_GENERATED_SIZE)
    for key in ("items", "keys", "values"):
        if isinstance(merged.get(key), dict):
            merged[key] = merge([spec[key] for spec in group])
    if isinstance(merged.get("items"), list):
        columns = zip(*(spec["items"] for spec in group), strict=True)
        merged["items"] = [merge(list(column)) for column in columns]
    return merged


def widened(spec: DomainSpec) -> DomainSpec:
    """A range around the observed one, so generated neighbours go a little beyond it."""
    spec = dict(spec)
    if spec.get("type") == "int" and "min" in spec and "max" in spec:
        low, high = spec["min"], spec["max"]
        margin = max(2, (high - low) // 4)
        # Observed counts and sizes are never negative; their neighbours need not be either.
        spec["min"] = low - margin if low < 0 else max(0, low - margin)
        spec["max"] = high + margin
    if "max_size" in spec:
        spec["max_size"] = min(max(2 * spec["max_size"], 4), MAX_GENERATED_SIZE)
    for key in ("items", "keys", "values"):
        if isinstance(spec.get(key), dict):
            spec[key] = widened(spec[key])
    if isinstance(spec.get("items"), list):
        spec["items"] = [widened(item) for item in spec["items"]]
    if spec.get("type") == "one_of":
        spec["options"] = [widened(option) for option in spec["options"]]
    return spec


def type_only(spec: DomainSpec) -> DomainSpec:
    """The domain's shape without its observed ranges: literals say what type, not how big."""
    spec = {k: v for k, v in spec.items() if k not in ("min", "max", "max_size")}
    for key in ("items", "keys", "values"):
        if isinstance(spec.get(key), dict):
            spec[key] = type_only(spec[key])
    if spec.get("type") == "one_of":
        options = {json.dumps(type_only(o), sort_keys=True): type_only(o) for o in spec["options"]}
        spec["options"] = list(options.values())
        if len(spec["options"]) == 1:
            return spec["options"][0]  # type: ignore[no-any-return]
    if spec.get("type") == "fixed_tuple":
        spec["items"] = [type_only(item) for item in spec["items"]]
    return spec
