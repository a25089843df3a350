"""Timing inputs of a given size: from the module's OPTIMIZE_INPUTS hook, type hints,
inferred domains, recorded calls (scaled up) or literal calls."""

from __future__ import annotations

import collections.abc as abc
import inspect
import pickle
import random
import sys
import types
import typing
from collections.abc import Callable
from typing import Any

from .instances import plain_instance, with_attributes
from .literals import decode_literal
from .observe import silenced
from .protocol import Inputs
from .strategies import bind, is_bare_collection

UNSUPPORTED = object()
_WORDS = ["alpha", "beta", "gamma", "delta", "omega", "kappa", "sigma", "theta", "zeta", "lambda"]
_ABSTRACT_SEQUENCES = (abc.Sequence, abc.Iterable, abc.Collection, abc.MutableSequence)
_ABSTRACT_SETS = (abc.Set, abc.MutableSet)
_BARE_COLLECTIONS = (list, set, frozenset, tuple, dict)
_ABSTRACT_MAPPINGS = (abc.Mapping, abc.MutableMapping)

Call = tuple[tuple[Any, ...], dict[str, Any]]


class NoInputs(Exception):
    """No inputs of this kind can be made for the function."""


def inputs_hook(function: Callable[..., Any], qualname: str) -> Callable[[int], Any] | None:
    module = sys.modules.get(getattr(function, "__module__", ""), None)
    hooks = getattr(module, "OPTIMIZE_INPUTS", None)
    if isinstance(hooks, dict) and callable(hooks.get(qualname)):
        return hooks[qualname]  # type: ignore[no-any-return]
    return None


def from_hook(hook: Callable[[int], Any], size: int) -> Call:
    with silenced():
        arguments = hook(size)
    if arguments is None:
        raise NoInputs("the OPTIMIZE_INPUTS hook returned None")
    return tuple(arguments), {}


def recorded(inputs: Inputs, index: int, scale: int) -> Call:
    args, kwargs = pickle.loads(inputs.recorded_calls[index])
    return tuple(scaled(a, scale) for a in args), {k: scaled(v, scale) for k, v in kwargs.items()}


def literal(function: Callable[..., Any], inputs: Inputs, index: int) -> Call:
    call = inputs.literal_calls[index]
    args = decode_literal(list(call.args))
    kwargs = {name: decode_literal(value) for name, value in call.kwargs.items()}
    if bind(function, args, kwargs) is None:
        raise NoInputs("the literal call does not fit the signature")
    return tuple(args), kwargs


def call_size(call: Call) -> int:
    """How big a call is: the total length of its sized arguments (an instance of a plain
    class counts its sized attributes: a method's `self`), or its largest int."""
    args, kwargs = call
    values = [*args, *kwargs.values()]
    values += [attribute for v in values if plain_instance(v) for attribute in vars(v).values()]
    lengths = [len(v) for v in values if isinstance(v, abc.Sized) and not isinstance(v, type)]
    if lengths:
        return sum(lengths)
    numbers = [abs(v) for v in values if type(v) is int]
    return max(numbers, default=0)


def scaled(value: Any, factor: int) -> Any:
    """A recorded container made `factor` times longer by repeating its items; an instance
    of a plain class with its container attributes made longer."""
    if factor <= 1:
        return value
    if type(value) in (list, str, bytes, tuple):
        return value * factor
    if plain_instance(value):
        attributes = {name: scaled(v, factor) for name, v in vars(value).items()
                      if type(v) in (list, str, bytes, tuple)}  # fmt: skip
        return with_attributes(value, attributes)
    return value


def synthesise(
    function: Callable[..., Any], inputs: Inputs, size: int, rng: random.Random,
    self_unused: bool = False,
) -> Call:  # fmt: skip
    """Positional arguments of roughly `size` for each parameter, from hints or domains."""
    try:
        hints = typing.get_type_hints(function)
    except Exception:
        hints = {}
    arguments: list[Any] = []
    for name, parameter in inspect.signature(function).parameters.items():
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            continue
        if not arguments and self_unused:
            value = None  # a method that never reads `self`
        elif name in inputs.domains or (
            name in inputs.inferred and (name not in hints or is_bare_collection(hints[name]))
        ):
            domain = inputs.domains.get(name) or inputs.inferred[name]
            value = from_domain(domain.spec, size, rng, top=True)
        elif name in hints:
            value = from_hint(hints[name], size, rng, top=True)
        elif parameter.default is not parameter.empty:
            value = parameter.default
        else:
            raise NoInputs(f"no type hint or domain for parameter {name}")
        if value is UNSUPPORTED:
            raise NoInputs(f"no inputs can be synthesised for parameter {name}")
        arguments.append(value)
    return tuple(arguments), {}


def from_hint(hint: Any, size: int, rng: random.Random, top: bool = False) -> Any:
    """A value for `hint`: top-level collections and strings get `size` items, an int is `size`."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is None and hint in _BARE_COLLECTIONS:  # a bare `list`, `dict`, ...
        origin = hint
    if origin in (typing.Union, types.UnionType):
        options = [a for a in args if a is not type(None)]
        return from_hint(options[0], size, rng, top) if options else None
    scalar = _scalar(hint, size, rng, top)
    if scalar is not UNSUPPORTED:
        return scalar
    inner = size if top else 10
    if origin in (list, set, frozenset, *_ABSTRACT_SEQUENCES, *_ABSTRACT_SETS):
        items = [from_hint(args[0] if args else int, size, rng) for _ in range(inner)]
        if any(item is UNSUPPORTED for item in items):
            return UNSUPPORTED
        if origin in _ABSTRACT_SETS:
            return set(items)
        return origin(items) if origin in (set, frozenset) else items
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            members = tuple(from_hint(args[0], size, rng) for _ in range(inner))
        else:
            members = tuple(from_hint(a, size, rng) for a in args)
        return UNSUPPORTED if any(m is UNSUPPORTED for m in members) else members
    if origin is dict or origin in _ABSTRACT_MAPPINGS:
        key_type, value_type = args if args else (str, int)
        pairs = [(from_hint(key_type, size, rng), from_hint(value_type, size, rng))
                 for _ in range(inner)]  # fmt: skip
        return UNSUPPORTED if any(UNSUPPORTED in pair for pair in pairs) else dict(pairs)
    return UNSUPPORTED


def _scalar(kind: Any, size: int, rng: random.Random, top: bool) -> Any:
    if kind is bool:
        return rng.random() < 0.5
    if kind is int:
        return size if top else rng.randint(0, max(size, 10))
    if kind is float:
        return float(size) if top else rng.uniform(-size, size)
    if kind is str:
        if top:
            return "".join(rng.choice("abcdefghij klmnop,.") for _ in range(size))
        return rng.choice(_WORDS) + str(rng.randint(0, max(size // 4, 3)))
    if kind is bytes:
        return rng.randbytes(size if top else 8)
    if kind is type(None):
        return None
    return UNSUPPORTED


_DOMAIN_TYPES = {"int": int, "float": float, "str": str, "bytes": bytes, "bool": bool,
                 "none": type(None)}  # fmt: skip


def from_domain(spec: dict[str, Any], size: int, rng: random.Random, top: bool = False) -> Any:
    """A value of a domain (see `domains`), sized like `from_hint`."""
    kind = spec.get("type")
    if kind in _DOMAIN_TYPES:
        value = _scalar(_DOMAIN_TYPES[kind], size, rng, top)
        if kind == "int" and "min" in spec and "max" in spec and not top:
            value = rng.randint(spec["min"], spec["max"])
        return value
    inner = size if top else 10
    if kind in ("list", "set", "tuple"):
        items = [from_domain(spec.get("items", {"type": "int"}), size, rng) for _ in range(inner)]
        if any(item is UNSUPPORTED for item in items):
            return UNSUPPORTED
        return {"list": list, "set": set, "tuple": tuple}[kind](items)
    if kind == "fixed_tuple":
        members = tuple(from_domain(item, size, rng) for item in spec.get("items", []))
        return UNSUPPORTED if any(m is UNSUPPORTED for m in members) else members
    if kind == "dict":
        pairs = [(from_domain(spec.get("keys", {"type": "str"}), size, rng),
                  from_domain(spec.get("values", {"type": "int"}), size, rng))
                 for _ in range(inner)]  # fmt: skip
        return UNSUPPORTED if any(UNSUPPORTED in pair for pair in pairs) else dict(pairs)
    if kind == "one_of" and spec.get("options"):
        return from_domain(spec["options"][0], size, rng, top)
    return UNSUPPORTED
