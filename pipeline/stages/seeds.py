"""Literal example calls mined from a module's source, to seed the verifier.

Two sources, both read statically (the stdlib `doctest` parser, `ast`, and
`ast.literal_eval`; nothing is ever evaluated):
- doctest examples in any docstring of the module that call the function;
- calls with only literal arguments elsewhere in the module ("call sites").

Each becomes an explicit Hypothesis `@example`. Values cross into the child as
JSON with a small tagged encoding for what JSON lacks (tuples, sets, bytes,
non-string dict keys, NaN, infinities, -0.0). For parameters that have no type
hint, the shapes of the seeds also suggest a domain to generate more inputs.
"""

from __future__ import annotations

import ast
import doctest
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

SEEDS_PER_SOURCE = 20
DOCTEST_SOURCE = "doctest examples"
CALL_SITE_SOURCE = "call sites"
INFERRED_SOURCE = "types inferred from literal examples"

JsonValue = Any
DomainSpec = dict[str, Any]


@dataclass(frozen=True)
class Seed:
    """One literal call: its positional and keyword arguments and where it was found."""

    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    source: str

    def to_json(self) -> dict[str, JsonValue]:
        return {
            "args": [encode_value(arg) for arg in self.args],
            "kwargs": {name: encode_value(value) for name, value in self.kwargs.items()},
            "source": self.source,
        }


def mine_seeds(module_source: str, function: str) -> list[Seed]:
    """Doctest examples first, then call sites; duplicates and unparseable calls dropped."""
    try:
        tree = ast.parse(module_source)
    except SyntaxError:
        return []
    found: list[Seed] = []
    seen: set[str] = set()
    for source, calls in (
        (DOCTEST_SOURCE, _doctest_calls(tree, function)),
        (CALL_SITE_SOURCE, _calls_to(tree, function)),
    ):
        count = 0
        for call in calls:
            seed = _literal_seed(call, source)
            if seed is None or count >= SEEDS_PER_SOURCE:
                continue
            key = json.dumps([seed.to_json()["args"], seed.to_json()["kwargs"]], sort_keys=True)
            if key not in seen:
                seen.add(key)
                found.append(seed)
                count += 1
    return found


def _doctest_calls(tree: ast.Module, function: str) -> Iterator[ast.Call]:
    parser = doctest.DocTestParser()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        docstring = ast.get_docstring(node, clean=True)
        if not docstring or ">>>" not in docstring:
            continue
        try:
            examples = parser.get_examples(docstring)
        except ValueError:  # malformed doctest layout
            continue
        for example in examples:
            try:
                yield from _calls_to(ast.parse(example.source), function)
            except SyntaxError:
                continue


def _calls_to(tree: ast.AST, function: str) -> Iterator[ast.Call]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _names(node.func, function):
            yield node


def _names(func: ast.expr, function: str) -> bool:
    if isinstance(func, ast.Name):
        return func.id == function
    return isinstance(func, ast.Attribute) and func.attr == function


def _literal_seed(call: ast.Call, source: str) -> Seed | None:
    if any(isinstance(arg, ast.Starred) for arg in call.args):
        return None
    if any(keyword.arg is None for keyword in call.keywords):
        return None
    try:
        args = tuple(ast.literal_eval(arg) for arg in call.args)
        kwargs = {str(k.arg): ast.literal_eval(k.value) for k in call.keywords}
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None
    return Seed(args, kwargs, source)


# --------------------------------------------------------------------------- encoding


def encode_value(value: Any) -> JsonValue:
    """Tagged JSON for a literal; decoded by `decode_value` in the child."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        if math.isfinite(value) and not (value == 0.0 and math.copysign(1.0, value) < 0):
            return value
        return {"$float": repr(value)}  # 'nan', 'inf', '-inf', '-0.0'
    if isinstance(value, list):
        return [encode_value(item) for item in value]
    if isinstance(value, tuple):
        return {"$tuple": [encode_value(item) for item in value]}
    if isinstance(value, frozenset):
        return {"$frozenset": [encode_value(item) for item in value]}
    if isinstance(value, set):
        return {"$set": [encode_value(item) for item in value]}
    if isinstance(value, dict):
        return {"$dict": [[encode_value(k), encode_value(v)] for k, v in value.items()]}
    if isinstance(value, bytes):
        return {"$bytes": value.hex()}
    if isinstance(value, complex):
        return {"$complex": [encode_value(value.real), encode_value(value.imag)]}
    if value is Ellipsis:
        return {"$ellipsis": None}
    raise TypeError(f"cannot encode {type(value).__name__}")


# --------------------------------------------------------------------------- inference


def inferred_domains(seeds: list[Seed], parameters: list[str]) -> dict[str, dict[str, Any]]:
    """Domains for each named parameter, from the shapes of the literal values passed to it."""
    shapes: dict[str, list[DomainSpec]] = {}
    for seed in seeds:
        bound = dict(zip(parameters, seed.args, strict=False)) | seed.kwargs
        for name, value in bound.items():
            spec = domain_of(value)
            if name in parameters and spec is not None:
                shapes.setdefault(name, []).append(spec)
    return {
        name: {"spec": _merge(specs), "source": INFERRED_SOURCE} for name, specs in shapes.items()
    }


def domain_of(value: Any) -> DomainSpec | None:
    """The domain spec (see the child's `strategy_for_domain`) a literal value belongs to."""
    scalar = {bool: "bool", int: "int", float: "float", str: "str", bytes: "bytes"}
    if value is None:
        return {"type": "none"}
    if type(value) in scalar:
        return {"type": scalar[type(value)]}
    if isinstance(value, list | set) and type(value) in (list, set):
        kind = "list" if isinstance(value, list) else "set"
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
        return {"type": "dict", "keys": keys, "values": values}
    return None


def _collection(kind: str, items: list[Any]) -> DomainSpec | None:
    item_spec = _merge_optional([domain_of(item) for item in items])
    if item_spec is None:
        return None
    return {"type": kind, "items": item_spec}


def _merge_optional(specs: list[DomainSpec | None]) -> DomainSpec | None:
    if any(spec is None for spec in specs):
        return None
    present = [spec for spec in specs if spec is not None]
    return _merge(present) if present else {"type": "int"}  # an empty literal says nothing


def _merge(specs: list[DomainSpec]) -> DomainSpec:
    unique = {json.dumps(spec, sort_keys=True): spec for spec in specs}
    options = list(unique.values())
    return options[0] if len(options) == 1 else {"type": "one_of", "options": options}
