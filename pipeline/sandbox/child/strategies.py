"""Hypothesis strategies for a function's parameters, from every source of inputs we have.

Precedence per parameter: a configured domain; the type hint (the whole typed
domain, mixed with recorded values when there are any); recorded calls and
their generated neighbours; a domain inferred from literals; the default
value. Edge values that rewrites break on (-0.0, NaN, "ß", 2**53 + 1) are
mixed into ints, floats and text.
"""

from __future__ import annotations

import collections.abc as abc
import inspect
import math
import typing
from collections.abc import Callable
from typing import Any

from .domains import domain_of_values, widened
from .encoding import encode
from .instances import instance_neighbours
from .literals import decode_literal
from .protocol import Domain, Inputs, LiteralCall

# Hypothesis's own distributions rarely produce -0.0, a superscript digit or a
# German sharp s within a few hundred examples; rewrites break exactly there.
NASTY_FLOATS = (
    0.0, -0.0, math.nan, math.inf, -math.inf, 0.5, -0.5, 1.5, 2.5, -2.5, 0.1,
    2.0**53, 2.0**53 + 2, 1e308, 5e-324, -5e-324,
)  # fmt: skip
NASTY_INTS = (0, 1, -1, 2, -2, 2**31, 2**53 + 1, -(2**53 + 1), 2**63, 10**20 + 1)
TRICKY_CHARACTERS = (
    "ß", "ẞ", "ﬁ", "İ", "\u0131", "ς", "Σ", "ǅ", "K", "Å", "é", "e\u0301", "²", "½", "٣",
    "\u09ea", "\u00a0", "\u2028", "\x85", "\t", "\n", " ", "\U0001f600", "0", "7", "a", "A",
    "-", ".",
)  # fmt: skip
RECORDED_SOURCE = "recorded calls"
NEIGHBOUR_SOURCE = "neighbours of recorded calls"
HOOK_SOURCE = "OPTIMIZE_INPUTS calls"
_MISSING = object()
_UNINFORMATIVE_HINTS = (typing.Any, object)


def nasty_floats() -> Any:
    from hypothesis import strategies as st

    return st.one_of(st.floats(), st.sampled_from(NASTY_FLOATS))


def nasty_ints() -> Any:
    from hypothesis import strategies as st

    return st.one_of(st.integers(), st.sampled_from(NASTY_INTS))


def nasty_text(min_size: int = 0, max_size: int | None = None) -> Any:
    from hypothesis import strategies as st

    pieces = st.lists(st.sampled_from(TRICKY_CHARACTERS), min_size=min_size, max_size=8)
    tricky = pieces.map("".join)
    if max_size is not None:
        tricky = tricky.filter(lambda text: len(text) <= max_size)
    options = [st.text(min_size=min_size, max_size=max_size), tricky]
    if min_size <= 1 and (max_size is None or max_size >= 1):
        # One tricky character alone: where str methods disagree (isdigit vs isdecimal on "²").
        options.append(st.sampled_from(TRICKY_CHARACTERS))
    return st.one_of(options)


def register_nasty_values() -> None:
    """Make st.from_type (and so every hint containing them) mix in edge values."""
    from hypothesis import strategies as st

    st.register_type_strategy(float, nasty_floats())
    st.register_type_strategy(int, nasty_ints())
    st.register_type_strategy(str, nasty_text())


class PureFunction:
    """A generated callable that always answers the same for the same arguments.

    Hypothesis's own `functions()` may answer differently on repeated calls,
    which would blame a rewrite that calls a key function once instead of twice.
    It is picklable, so inputs holding one can be replayed in another process.
    """

    def __init__(self, answers: list[Any]) -> None:
        self.answers = answers

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if not self.answers:
            return None
        digest = encode((args, sorted(kwargs.items())))["sha"]
        return self.answers[int(digest[:12], 16) % len(self.answers)]

    def __repr__(self) -> str:
        return f"<pure function answering from {self.answers!r}>"[:200]


def pure_functions(hint: Any) -> Any:
    from hypothesis import strategies as st

    arguments = typing.get_args(hint)
    returns = arguments[1] if len(arguments) == 2 else type(None)
    answers = st.from_type(returns) if returns is not type(None) else st.none()
    return st.lists(answers, min_size=1, max_size=5).map(PureFunction)


def _is_callable_hint(hint: Any) -> bool:
    return hint is abc.Callable or typing.get_origin(hint) is abc.Callable


def strategy_for_hint(hint: Any) -> Any:
    from hypothesis import strategies as st

    return pure_functions(hint) if _is_callable_hint(hint) else st.from_type(hint)


def strategy_for_domain(spec: dict[str, Any]) -> Any:
    """Map a domain description (plain data, never code) to a strategy."""
    from hypothesis import strategies as st

    kind = spec.get("type")
    if kind == "int":
        if "min" not in spec and "max" not in spec:
            return nasty_ints()
        return st.integers(min_value=spec.get("min"), max_value=spec.get("max"))
    if kind == "float":
        bounded = "min" in spec or "max" in spec
        if not bounded and len(spec) == 1:
            return nasty_floats()
        return st.floats(
            min_value=spec.get("min"),
            max_value=spec.get("max"),
            allow_nan=spec.get("allow_nan", not bounded),
            allow_infinity=spec.get("allow_infinity", not bounded),
        )
    if kind == "bool":
        return st.booleans()
    if kind == "none":
        return st.none()
    if kind == "str":
        alphabet = spec.get("alphabet")
        if not alphabet:
            return nasty_text(spec.get("min_size", 0), spec.get("max_size"))
        return st.text(
            alphabet, min_size=spec.get("min_size", 0), max_size=spec.get("max_size", 40)
        )
    if kind == "bytes":
        return st.binary(min_size=spec.get("min_size", 0), max_size=spec.get("max_size", 40))
    if kind in {"list", "set", "tuple"}:
        items = strategy_for_domain(spec.get("items", {"type": "int"}))
        sizes = {"min_size": spec.get("min_size", 0), "max_size": spec.get("max_size", 30)}
        if kind == "set":
            return st.sets(items, **sizes)
        collection = st.lists(items, **sizes)
        return collection.map(tuple) if kind == "tuple" else collection
    if kind == "fixed_tuple":
        return st.tuples(*[strategy_for_domain(item) for item in spec.get("items", [])])
    if kind == "dict":
        return st.dictionaries(
            strategy_for_domain(spec.get("keys", {"type": "str"})),
            strategy_for_domain(spec.get("values", {"type": "int"})),
            max_size=spec.get("max_size", 30),
        )
    if kind == "one_of":
        return st.one_of([strategy_for_domain(option) for option in spec.get("options", [])])
    if kind == "sampled_from":
        return st.sampled_from(list(spec["values"]))
    raise ValueError(f"unsupported domain type {kind!r}")


class Parameters:
    """One strategy per parameter of `function`, and which sources they came from."""

    def __init__(
        self,
        function: Callable[..., Any],
        inputs: Inputs,
        recorded: list[dict[str, Any]],
        self_unused: bool = False,
        hooked: list[dict[str, Any]] | None = None,
    ) -> None:
        self.function = function
        self.inputs = inputs
        self.recorded = recorded
        self.hooked = hooked or []
        self.self_unused = self_unused
        self.strategies: dict[str, Any] = {}
        self.sources: set[str] = set()
        self.missing: list[str] = []
        self._build()

    def _build(self) -> None:
        try:
            hints = typing.get_type_hints(self.function)
        except Exception:
            hints = {}
        for position, (name, parameter) in enumerate(_parameters(self.function)):
            strategy = self._strategy(name, parameter, hints.get(name, _MISSING), position)
            if strategy is None:
                self.missing.append(name)
            else:
                self.strategies[name] = strategy

    def _strategy(self, name: str, parameter: inspect.Parameter, hint: Any, position: int) -> Any:
        from hypothesis import strategies as st

        recorded = [call[name] for call in self.recorded if name in call]
        if name in self.inputs.domains:
            return self._use(strategy_for_domain(self.inputs.domains[name].spec),
                             self.inputs.domains[name].source)  # fmt: skip
        informative = hint is not _MISSING and not any(hint is h for h in _UNINFORMATIVE_HINTS)
        if informative and is_bare_collection(hint) and name in self.inputs.inferred:
            informative = False  # `l: list` says less than the doctest's `[5, 3, 2]`
        if informative:
            typed = self._use(strategy_for_hint(hint), "type hints")
            return st.one_of(typed, self._recorded(recorded)) if recorded else typed
        if recorded:
            return self._recorded(recorded)
        hooked = [call[name] for call in self.hooked if name in call]
        if hooked:  # the values the hook made, as they are (an instance has no neighbours)
            return self._use(st.sampled_from(hooked), HOOK_SOURCE)
        if position == 0 and self.self_unused:
            return self._use(st.none(), "any object for an unused self")
        if name in self.inputs.inferred:
            inferred: Domain = self.inputs.inferred[name]
            return self._use(strategy_for_domain(inferred.spec), inferred.source)
        if parameter.default is not parameter.empty:
            return self._use(st.just(parameter.default), "default values")
        return None

    def _recorded(self, values: list[Any]) -> Any:
        """The recorded values themselves, and generated neighbours of the same shape
        (of a recorded instance: copies with neighbouring attributes)."""
        from hypothesis import strategies as st

        self.sources.add(RECORDED_SOURCE)
        seen = st.sampled_from(values)
        spec = domain_of_values(values)
        nearby = strategy_for_domain(widened(spec)) if spec else instance_neighbours(values)
        if nearby is None:
            return seen
        self.sources.add(NEIGHBOUR_SOURCE)
        return st.one_of(seen, nearby)

    def _use(self, strategy: Any, source: str) -> Any:
        self.sources.add(source)
        return strategy


def is_bare_collection(hint: Any) -> bool:
    """`list`, `dict`, `typing.List`...: a container whose items' type is not said."""
    bare = (list, dict, set, frozenset, tuple)
    return hint in bare or (typing.get_origin(hint) in bare and not typing.get_args(hint))


def _parameters(function: Callable[..., Any]) -> list[tuple[str, inspect.Parameter]]:
    variadic = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    parameters = inspect.signature(function).parameters.items()
    return [(name, p) for name, p in parameters if p.kind not in variadic]


def bind(function: Callable[..., Any], args: Any, kwargs: dict[str, Any]) -> dict[str, Any] | None:
    """A call bound to `function`'s named parameters with defaults filled in, or None."""
    try:
        bound = inspect.signature(function).bind(*args, **kwargs)
    except (TypeError, ValueError):
        return None
    bound.apply_defaults()
    parameters = inspect.signature(function).parameters
    variadic = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    # `apply_defaults` binds an empty () or {} to *args and **kwargs (networkx's dispatch
    # wrapper adds `**backend_kwargs` to every algorithm): only a call that passes
    # something through them cannot be told by its named parameters.
    arguments = bound.arguments.items()
    if any(parameters[name].kind in variadic and value for name, value in arguments):
        return None
    return {name: value for name, value in arguments if parameters[name].kind not in variadic}


def bind_literal(function: Callable[..., Any], call: LiteralCall) -> dict[str, Any] | None:
    try:
        args = decode_literal(list(call.args))
        kwargs = {name: decode_literal(value) for name, value in call.kwargs.items()}
    except (TypeError, ValueError):
        return None
    return bind(function, args, kwargs)


def call_arguments(
    function: Callable[..., Any], values: dict[str, Any]
) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """Named values as a call: positional where allowed, so renamed parameters line up."""
    args, kwargs = [], {}
    for name, parameter in inspect.signature(function).parameters.items():
        if name not in values:
            continue
        if parameter.kind in (parameter.POSITIONAL_ONLY, parameter.POSITIONAL_OR_KEYWORD):
            args.append(values[name])
        else:
            kwargs[name] = values[name]
    return tuple(args), kwargs
