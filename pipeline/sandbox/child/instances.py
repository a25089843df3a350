"""Generated neighbours of recorded instances of the user's classes (a method's `self`).

A trace may hold a single call of a method, so its `self` alone gives one example.
Its neighbours are copies of a recorded instance whose attributes are each a
neighbour of the values that attribute was recorded with: numbers and strings
from a widened domain, lists rebuilt from the items the recorded lists held (so
every item is a real one), nested instances the same way. An attribute may thus
take a value no real run made together with the others (say, a list with a cached
total that no longer matches); a rewrite that relies on such an invariant is then
rejected, never wrongly accepted.

Only plain instances qualify: a class with a `__dict__`, no `__slots__`, and the
default pickling (copying its `__dict__` is then what pickling it does).
"""

from __future__ import annotations

import copy
from typing import Any

from .domains import MAX_GENERATED_SIZE, domain_of_values, widened

MAX_DEPTH = 2


def instance_neighbours(values: list[Any], depth: int = 0) -> Any | None:
    """A strategy for neighbours of `values`, all plain instances of one class; or None."""
    from hypothesis import strategies as st

    if not values or depth > MAX_DEPTH or not all(plain_instance(v) for v in values):
        return None
    if len({type(v) for v in values}) != 1:
        return None
    names = set(vars(values[0]))
    if not names or any(set(vars(v)) != names for v in values):
        return None
    attributes = {
        name: neighbours([vars(v)[name] for v in values], depth) for name in sorted(names)
    }
    return st.builds(with_attributes, st.sampled_from(values), st.fixed_dictionaries(attributes))


def neighbours(values: list[Any], depth: int = 0) -> Any:
    """The recorded values of one attribute, and neighbours of them where there are any."""
    from hypothesis import strategies as st

    from .strategies import strategy_for_domain

    recorded = st.sampled_from(values)
    spec = domain_of_values(values)
    if spec is not None:
        return st.one_of(recorded, strategy_for_domain(widened(spec)))
    if all(type(v) is list for v in values):
        pool = [item for value in values for item in value]
        if pool:
            longest = max(len(value) for value in values)
            size = min(max(2 * longest, 4), MAX_GENERATED_SIZE)
            return st.one_of(recorded, st.lists(st.sampled_from(pool), max_size=size))
    nested = instance_neighbours(values, depth + 1)
    return st.one_of(recorded, nested) if nested is not None else recorded


# Any of these in a class (or a base other than `object`) changes how it pickles or copies.
_CUSTOM_STATE = ("__slots__", "__reduce__", "__reduce_ex__", "__getstate__", "__setstate__",
                 "__getnewargs__", "__getnewargs_ex__", "__copy__")  # fmt: skip


def plain_instance(value: Any) -> bool:
    """An instance of a user's class whose state is its `__dict__` (see the module doc)."""
    kind = type(value)
    if kind.__module__ == "builtins" or isinstance(value, type) or not hasattr(value, "__dict__"):
        return False
    return not any(name in vars(base) for base in kind.__mro__[:-1] for name in _CUSTOM_STATE)


def with_attributes(template: Any, attributes: dict[str, Any]) -> Any:
    """A shallow copy of a plain instance with some attributes replaced."""
    made = copy.copy(template)
    vars(made).update(attributes)
    return made
