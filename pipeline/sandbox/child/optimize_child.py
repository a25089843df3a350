"""The sandboxed side of the runner: loads untrusted code, runs it, reports JSON.

This file is executed by path (`python -s -B optimize_child.py request.json`)
inside the sandbox. It is self-contained on purpose: it must never import the
`pipeline` or `passes` packages, because a user's project may own those names.
Its only imports are the standard library and Hypothesis.
"""

from __future__ import annotations

import collections
import collections.abc as _abc
import contextlib
import copy
import dataclasses
import gc
import hashlib
import importlib.util
import inspect
import io
import json
import math
import os
import pickle
import random
import signal
import sys
import time
import types
import typing
from typing import Any

sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != os.path.dirname(__file__)]

CPU_LIMIT_EXIT = 86
MAX_DRAIN = 10_000
MAX_REPR = 300


def main() -> None:
    request_path = sys.argv[1]
    with open(request_path, encoding="utf-8") as handle:
        request = json.load(handle)
    signal.signal(signal.SIGXCPU, _on_cpu_limit)
    result_path = os.path.join(os.path.dirname(request_path), "result.json")
    try:
        result = _prepare_hypothesis() if request["mode"] == "prepare" else _dispatch(request)
    except UserCodeError as error:
        result = {"status": "error", "detail": str(error)}
    with open(result_path + ".tmp", "w", encoding="utf-8") as handle:
        json.dump(result, handle)
    os.replace(result_path + ".tmp", result_path)


def _on_cpu_limit(signum, frame):
    os._exit(CPU_LIMIT_EXIT)


def _prepare_hypothesis():
    """Make Hypothesis build its Unicode tables (no user code runs), for the parent to reuse."""
    from hypothesis import find, settings
    from hypothesis import strategies as st

    for text in (st.text(), st.text(st.characters(codec="utf-8")), st.from_type(str)):
        find(text, lambda value: True, settings=settings(database=None))
    return {"status": "ok"}


class UserCodeError(Exception):
    """Loading the user's module or finding the function failed."""


def _dispatch(request):
    for entry in reversed(request.get("sys_path", [])):
        sys.path.insert(0, entry)
    if request["mode"] == "project_tests":
        return run_project_tests(request["project_tests"])
    original = _load_function(request["original"])
    candidate = _load_function(request["candidate"])
    if request["mode"] == "verify":
        return Verifier(original, candidate, request["verify"]).run()
    if request["mode"] == "measure":
        inputs_hook = _inputs_hook(original, request["original"]["function"])
        return measure(original, candidate, request["measure"], inputs_hook)
    raise UserCodeError(f"unknown mode {request['mode']!r}")


def _load_function(spec):
    module_spec = importlib.util.spec_from_file_location(spec["module"], spec["path"])
    if module_spec is None or module_spec.loader is None:
        raise UserCodeError(f"cannot load {spec['path']}")
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[spec["module"]] = module
    try:
        with _silenced():
            module_spec.loader.exec_module(module)
    except BaseException as error:
        raise UserCodeError(
            f"importing the module failed: {type(error).__name__}: {error}"
        ) from None
    function = getattr(module, spec["function"], None)
    if not callable(function):
        raise UserCodeError(f"{spec['function']} is not a function of the module")
    return function


@contextlib.contextmanager
def _silenced():
    sink = CappedStream()
    with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        yield


# --------------------------------------------------------------------------- capture


class CappedStream(io.TextIOBase):
    """A text sink that hashes everything but keeps only a bounded prefix."""

    KEEP = 2_000

    def __init__(self):
        self.digest = hashlib.sha256()
        self.length = 0
        self.prefix = ""

    def writable(self):
        return True

    def write(self, text):
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        self.digest.update(text.encode("utf-8", "surrogatepass"))
        if len(self.prefix) < self.KEEP:
            self.prefix += text[: self.KEEP - len(self.prefix)]
        self.length += len(text)
        return len(text)

    def summary(self):
        return {"sha256": self.digest.hexdigest(), "length": self.length, "prefix": self.prefix}


class ExampleTimeout(BaseException):
    """Raised by the interval timer when one call runs too long."""


@contextlib.contextmanager
def time_limit(seconds):
    def _expire(signum, frame):
        raise ExampleTimeout()

    previous = signal.signal(signal.SIGALRM, _expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@dataclasses.dataclass
class Behaviour:
    kind: str  # "return", "raise" or "timeout"
    value: Any = None
    arguments: Any = None
    stdout: dict = dataclasses.field(default_factory=dict)
    stderr: dict = dataclasses.field(default_factory=dict)
    aliases: tuple = ()

    def lines(self, show_arguments=False, names=()):
        """What a reader needs to see of this behaviour, one fact a line."""
        if self.kind == "timeout":
            lines = ["timed out"]
        elif self.kind == "raise":
            exc_type, args = self.value
            lines = [f"raises {exc_type}{_short_repr(args)}"]
        else:
            lines = [f"returns {_short_repr(self.value)}"]
        if show_arguments:
            lines.append(f"arguments after the call: {self._arguments_text(names)}")
        for name, stream in (("stdout", self.stdout), ("stderr", self.stderr)):
            if stream.get("length"):
                lines.append(f"{name}: {_short_repr(stream['prefix'])}")
        if self.aliases:
            shared = ", ".join(f"{arg} (at {where})" for where, arg in self.aliases)
            lines.append(f"result aliases {shared}")
        return lines

    def describe(self, show_arguments=False, names=()):
        return "\n".join(self.lines(show_arguments, names))

    def _arguments_text(self, names):
        args, kwargs = self.arguments
        named = [*zip(names, args, strict=False), *kwargs.items()]
        return ", ".join(f"{name}={_short_repr(value)}" for name, value in named)


def call_and_observe(function, args, kwargs, timeout):
    """Call on private copies of the arguments and record everything observable."""
    args, kwargs = copy.deepcopy((args, kwargs))
    out, err = CappedStream(), CappedStream()
    behaviour = Behaviour("return", stdout={}, stderr={})
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), time_limit(timeout):
            result = function(*args, **kwargs)
            behaviour.value = _drain(result)
    except ExampleTimeout:
        behaviour.kind = "timeout"
    except BaseException as error:
        behaviour.kind = "raise"
        behaviour.value = (_exception_name(type(error)), error.args)
    else:  # outside the try: a bug here is ours, not the user's behaviour
        behaviour.aliases = _aliases(result, behaviour.value, args, kwargs)
    behaviour.arguments = (args, kwargs)
    behaviour.stdout, behaviour.stderr = out.summary(), err.summary()
    return behaviour


def _exception_name(exc_type):
    module = exc_type.__module__
    if module in ("builtins", "__main__") or module in _MODULES_UNDER_TEST:
        return exc_type.__qualname__
    return f"{module}.{exc_type.__qualname__}"


@dataclasses.dataclass
class Drained:
    """An iterator's type and the items it produced, so lazy results can be compared."""

    type_name: str
    items: list
    truncated: bool

    def __repr__(self):
        more = ", ..." if self.truncated else ""
        return f"<{self.type_name} yielding {_short_repr(self.items)}{more}>"


def _drain(result):
    if isinstance(result, _abc.Iterator) and not isinstance(result, str | bytes):
        items = []
        for item in result:
            items.append(item)
            if len(items) >= MAX_DRAIN:
                return Drained(type(result).__qualname__, items, True)
        return Drained(type(result).__qualname__, items, False)
    return result


# Immutable values: their identity is an interpreter detail, never behaviour.
_ATOMS = (int, float, complex, str, bytes, bool, type(None), tuple, frozenset, range)
_ALIAS_WALK_LIMIT = 5_000


def _reachable(root, limit=_ALIAS_WALK_LIMIT):
    """(path, object) for every mutable object reachable from `root`, breadth first."""
    found: list[tuple[str, Any]] = []
    queue = collections.deque([("", root)])
    seen: set[int] = set()
    while queue and len(seen) < limit:
        path, value = queue.popleft()
        if id(value) in seen:
            continue
        seen.add(id(value))
        if not isinstance(value, _ATOMS):
            found.append((path, value))
        queue.extend(_children(path, value))
    return found


def _children(path, value):
    if isinstance(value, list | tuple):
        return [(f"{path}[{i}]", item) for i, item in enumerate(value)]
    if isinstance(value, dict):
        return [(f"{path}[{key!r}]", item) for key, item in value.items()]
    if isinstance(value, Drained):
        return [(f"{path}[{i}]", item) for i, item in enumerate(value.items)]
    if isinstance(value, (*_ATOMS, set, frozenset, type)):
        return []
    attributes = getattr(value, "__dict__", None)
    if isinstance(attributes, dict):
        return [(f"{path}.{name}", item) for name, item in attributes.items()]
    return []


def _aliases(result, drained, args, kwargs):
    """Which parts of the result are the caller's own (mutable) argument objects."""
    owners: dict[int, str] = {}
    roots = [(f"argument {i}", arg) for i, arg in enumerate(args)]
    roots += [(f"argument {name}", arg) for name, arg in kwargs.items()]
    for label, arg in roots:
        for path, value in _reachable(arg):
            owners.setdefault(id(value), label + path)
    if not owners:
        return ()
    found = []
    for path, value in _reachable(drained):
        if id(value) in owners:
            found.append(("result" + path, owners[id(value)]))
    if result is not drained and id(result) in owners:
        found.append(("result", owners[id(result)]))
    return tuple(found)


# --------------------------------------------------------------------------- comparison

# Names of the two loaded modules: a class defined in both compares by name.
_MODULES_UNDER_TEST: set[str] = set()


def _same_type(a, b):
    type_a, type_b = type(a), type(b)
    if type_a is type_b:
        return True
    return (
        type_a.__module__ in _MODULES_UNDER_TEST
        and type_b.__module__ in _MODULES_UNDER_TEST
        and type_a.__qualname__ == type_b.__qualname__
    )


def same(a, b, tolerance=0.0, depth=0):
    """Strict equality: exact types, NaN == NaN, -0.0 != 0.0, ordered dicts."""
    if a is b and not isinstance(a, float | complex):
        return True
    if depth > 60 or not _same_type(a, b):
        return False
    if isinstance(a, bool | int | str | bytes | bytearray | type(None)):
        return a == b
    if isinstance(a, float):
        return _same_float(a, b, tolerance)
    if isinstance(a, complex):
        return _same_float(a.real, b.real, tolerance) and _same_float(a.imag, b.imag, tolerance)
    if isinstance(a, list | tuple):
        pairs = zip(a, b, strict=False)  # lengths are checked first
        return len(a) == len(b) and all(same(x, y, tolerance, depth + 1) for x, y in pairs)
    if isinstance(a, dict):
        # Insertion order is observable (iteration, repr, popitem), so it must match.
        return _same_dict(a, b, tolerance, depth)
    if isinstance(a, set | frozenset):
        return _same_set(a, b, tolerance, depth)
    if isinstance(a, Drained):
        return a.type_name == b.type_name and a.truncated == b.truncated and same(
            a.items, b.items, tolerance, depth + 1
        )
    return _same_other(a, b, tolerance, depth)


def _same_dict(a, b, tolerance, depth):
    factories = getattr(a, "default_factory", None), getattr(b, "default_factory", None)
    if len(a) != len(b) or not same(*factories):
        return False
    return all(
        same(ka, kb, tolerance, depth + 1) and same(va, vb, tolerance, depth + 1)
        for (ka, va), (kb, vb) in zip(a.items(), b.items(), strict=True)
    )


def _same_other(a, b, tolerance, depth):
    import decimal

    if isinstance(a, decimal.Decimal):
        # Decimal("1.0") == Decimal("1.00") and Decimal("-0") == Decimal("0"), yet they print
        # differently.
        return a.as_tuple() == b.as_tuple()
    if isinstance(a, BaseException):
        return same(a.args, b.args, tolerance, depth + 1)
    if _has_own_eq(type(a)):
        return _safe_eq(a, b)
    slots = _slot_values(a), _slot_values(b)
    attributes = getattr(a, "__dict__", None), getattr(b, "__dict__", None)
    if isinstance(attributes[0], dict) and isinstance(attributes[1], dict):
        same_attributes = same(attributes[0], attributes[1], tolerance, depth + 1)
        return same_attributes and same(*slots, tolerance, depth + 1)
    if slots[0]:
        return same(*slots, tolerance, depth + 1)
    return _safe_eq(a, b)


def _has_own_eq(cls):
    """True when equality means something more than identity for `cls`."""
    if dataclasses.is_dataclass(cls):
        return False  # the generated __eq__ ignores NaN/-0.0 subtleties; compare fields instead
    return any("__eq__" in vars(klass) for klass in cls.__mro__[:-1])


def _slot_values(value):
    names = [name for klass in type(value).__mro__ for name in getattr(klass, "__slots__", ())]
    if isinstance(names, str):
        names = [names]
    names = [name for name in names if name not in ("__dict__", "__weakref__")]
    return {name: getattr(value, name, _MISSING) for name in names}


_MISSING = "<unset>"


def _safe_eq(a, b):
    try:
        return bool(a == b)
    except Exception:
        return False


def _same_float(a, b, tolerance):
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if a == b:
        return math.copysign(1.0, a) == math.copysign(1.0, b)
    return tolerance > 0 and math.isclose(a, b, rel_tol=tolerance, abs_tol=tolerance)


def _same_set(a, b, tolerance, depth):
    if len(a) != len(b):
        return False
    unmatched = list(b)
    for item in a:
        for index, other in enumerate(unmatched):
            if same(item, other, tolerance, depth + 1):
                del unmatched[index]
                break
        else:
            return False
    return True


def difference(original, candidate, tolerance):
    """The first observable difference between two behaviours, or None."""
    if original.kind != candidate.kind:
        return "outcome"
    if original.kind == "raise":
        if original.value[0] != candidate.value[0]:
            return "exception type"
        if not same(original.value[1], candidate.value[1], tolerance):
            return "exception args"
    elif original.kind == "return" and not same(original.value, candidate.value, tolerance):
        return "return value"
    if not same(original.arguments, candidate.arguments, tolerance):
        return "argument mutation"
    if original.stdout != candidate.stdout:
        return "stdout"
    if original.stderr != candidate.stderr:
        return "stderr"
    if original.aliases != candidate.aliases:
        return "aliasing of the result with an argument"
    return None


def _short_repr(value):
    try:
        text = repr(value)
    except Exception as error:
        text = f"<unrepresentable {type(value).__name__}: {error}>"
    return text if len(text) <= MAX_REPR else text[: MAX_REPR - 3] + "..."


# --------------------------------------------------------------------------- seeds


def decode_value(value):
    """Undo the parent's tagged JSON encoding of a literal (see pipeline/seeds.py)."""
    if isinstance(value, list):
        return [decode_value(item) for item in value]
    if not isinstance(value, dict):
        return value
    (tag, payload), = value.items()
    if tag == "$float":
        return float(payload)
    if tag == "$tuple":
        return tuple(decode_value(item) for item in payload)
    if tag == "$set":
        return {decode_value(item) for item in payload}
    if tag == "$frozenset":
        return frozenset(decode_value(item) for item in payload)
    if tag == "$dict":
        return {decode_value(k): decode_value(v) for k, v in payload}
    if tag == "$bytes":
        return bytes.fromhex(payload)
    if tag == "$complex":
        return complex(decode_value(payload[0]), decode_value(payload[1]))
    if tag == "$ellipsis":
        return ...
    raise ValueError(f"unknown seed tag {tag!r}")


def bind_seed(function, seed):
    """A seed's call bound to `function`'s parameters with defaults filled in, or None."""
    try:
        args = decode_value(seed.get("args", []))
        kwargs = {name: decode_value(value) for name, value in seed.get("kwargs", {}).items()}
        bound = inspect.signature(function).bind(*args, **kwargs)
    except (TypeError, ValueError):
        return None
    bound.apply_defaults()
    parameters = inspect.signature(function).parameters
    variadic = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    if any(parameters[name].kind in variadic for name in bound.arguments):
        return None
    return dict(bound.arguments)


# --------------------------------------------------------------------------- strategies

# Hypothesis' own distributions rarely produce -0.0, a superscript digit or a
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


def nasty_floats():
    from hypothesis import strategies as st

    return st.one_of(st.floats(), st.sampled_from(NASTY_FLOATS))


def nasty_ints():
    from hypothesis import strategies as st

    return st.one_of(st.integers(), st.sampled_from(NASTY_INTS))


def nasty_text(min_size=0, max_size=None):
    from hypothesis import strategies as st

    pieces = st.lists(st.sampled_from(TRICKY_CHARACTERS), min_size=min_size, max_size=8)
    tricky = pieces.map("".join)
    return st.one_of(st.text(min_size=min_size, max_size=max_size), tricky)


def register_nasty_values():
    """Make st.from_type (and so every hint containing them) mix in edge values."""
    from hypothesis import strategies as st

    st.register_type_strategy(float, nasty_floats())
    st.register_type_strategy(int, nasty_ints())
    st.register_type_strategy(str, nasty_text())



def strategy_for_domain(spec):
    """Map a whitelisted domain description (plain data, never code) to a strategy."""
    from hypothesis import strategies as st

    kind = spec.get("type")
    if kind == "int":
        if "min" not in spec and "max" not in spec:
            return nasty_ints()
        return st.integers(min_value=spec.get("min"), max_value=spec.get("max"))
    if kind == "float":
        if "min" not in spec and "max" not in spec and len(spec) == 1:
            return nasty_floats()
        return st.floats(
            min_value=spec.get("min"),
            max_value=spec.get("max"),
            allow_nan=spec.get("allow_nan", "min" not in spec and "max" not in spec),
            allow_infinity=spec.get("allow_infinity", "min" not in spec and "max" not in spec),
        )
    if kind == "bool":
        return st.booleans()
    if kind == "none":
        return st.none()
    if kind == "str":
        alphabet = spec.get("alphabet")
        if not alphabet and "max_size" not in spec:
            return nasty_text(min_size=spec.get("min_size", 0))
        return st.text(
            alphabet=alphabet if alphabet else st.characters(codec="utf-8"),
            min_size=spec.get("min_size", 0),
            max_size=spec.get("max_size", 40),
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


_UNINFORMATIVE_HINTS = (typing.Any, object)


def parameter_strategies(function, domains, inferred=None):
    """One strategy per parameter, or a reason why a parameter has none.

    Precedence: configured domains, type hints, domains inferred from literal
    seeds (doctests, call sites), then the default value alone.
    """
    from hypothesis import strategies as st

    inferred = inferred or {}
    try:
        hints = typing.get_type_hints(function)
    except Exception:
        hints = {}
    strategies, sources, missing = {}, set(), []
    for name, parameter in inspect.signature(function).parameters.items():
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            continue
        hint = hints.get(name, _MISSING)
        if name in domains:
            strategies[name] = strategy_for_domain(domains[name]["spec"])
            sources.add(domains[name]["source"])
        elif hint is not _MISSING and not any(hint is h for h in _UNINFORMATIVE_HINTS):
            strategies[name] = st.from_type(hint)
            sources.add("type hints")
        elif name in inferred:
            strategies[name] = strategy_for_domain(inferred[name]["spec"])
            sources.add(inferred[name]["source"])
        elif parameter.default is not parameter.empty:
            strategies[name] = st.just(parameter.default)
            sources.add("default values")
        else:
            missing.append(name)
    return strategies, sorted(sources), missing


def call_arguments(function, values):
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


def unify_classes(original, candidate):
    """Let the candidate's module use the original's classes when their source is identical.

    Both modules define their own copies of every class; values built from the
    original's type hints must pass the candidate's isinstance checks, and
    results must compare as the same type.
    """
    original_module = sys.modules.get(original.__module__)
    candidate_module = sys.modules.get(candidate.__module__)
    _MODULES_UNDER_TEST.update({original.__module__, candidate.__module__})
    if original_module is None or candidate_module is None or original_module is candidate_module:
        return
    for name, value in list(vars(candidate_module).items()):
        twin = getattr(original_module, name, None)
        if not (isinstance(value, type) and isinstance(twin, type)) or value is twin:
            continue
        source = _class_source(value)
        if source is not None and source == _class_source(twin):
            setattr(candidate_module, name, twin)


def _class_source(cls):
    try:
        return inspect.getsource(cls)
    except (OSError, TypeError):
        return None


# --------------------------------------------------------------------------- verify


class Mismatch(AssertionError):
    pass


# Hypothesis may raise an ExceptionGroup (Python 3.11+) holding several failures.
_ExceptionGroup = getattr(sys.modules["builtins"], "ExceptionGroup", Mismatch)


class Nondeterministic(Exception):
    """The original disagrees with itself on the same input."""


class TooManySkipped(Exception):
    """Most inputs exhaust the original's time or stack: no honest verdict is possible."""


# The original running out of stack or memory is a resource limit, not behaviour
# a rewrite must keep (an iterative rewrite of a recursive function is welcome).
RESOURCE_ERRORS = ("RecursionError", "MemoryError")
MAX_SKIPPED = 20
MIN_EXAMPLES = 20


class Verifier:
    def __init__(self, original, candidate, settings):
        self.original = original
        self.candidate = candidate
        self.max_examples = settings.get("max_examples", 200)
        self.timeout = settings.get("example_timeout", 2.0)
        self.tolerance = settings.get("float_tolerance", 0.0)
        self.shrink_seconds = settings.get("shrink_seconds", 10.0)
        self.domains = settings.get("domains", {})
        self.inferred = settings.get("inferred_domains", {})
        self.seeds = settings.get("seed_examples", [])
        self.examples = 0
        self.skipped = 0
        self.mutates = False
        self.failure = None
        self.first_failure_at = None

    def run(self):
        from hypothesis import HealthCheck, Phase, example, given, settings
        from hypothesis import strategies as st
        from hypothesis.errors import HypothesisException, Unsatisfiable

        unify_classes(self.original, self.candidate)
        register_nasty_values()
        strategies, sources, missing = parameter_strategies(
            self.original, self.domains, self.inferred
        )
        if missing:
            names = ", ".join(missing)
            return self._unverifiable(f"no type hint or domain for parameter(s): {names}")
        test = given(st.fixed_dictionaries(strategies))(self._check)
        seeds = [(bind_seed(self.original, seed), seed["source"]) for seed in self.seeds]
        seeds = [(v, source) for v, source in seeds if v is not None and set(v) == set(strategies)]
        for values, _ in seeds:
            test = example(values)(test)
        sources = sorted({*sources, *(source for _, source in seeds)})
        test = settings(
            max_examples=self.max_examples,
            # No "explain" phase: it replays a failure dozens of times for a hint we don't show.
            phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink],
            derandomize=True,
            deadline=None,
            database=None,
            report_multiple_bugs=False,
            suppress_health_check=list(HealthCheck),
        )(test)
        try:
            test()
        except Mismatch:
            return self._result("counterexample", sources, counterexample=self.failure)
        except Nondeterministic as error:
            detail = f"the original gives different results on the same input: {error}"
            return self._unverifiable(detail, sources)
        except (Unsatisfiable, TooManySkipped):
            detail = "too many inputs exceed the original's time or stack limits"
            return self._unverifiable(detail, sources)
        except (HypothesisException, _ExceptionGroup) as error:
            if self.failure is not None:  # e.g. flaky under load, or shrinking was cut short
                return self._result("counterexample", sources, counterexample=self.failure)
            detail = f"input generation failed: {type(error).__name__}: {_first_line(error)}"
            return self._unverifiable(detail, sources)
        if self.examples < min(MIN_EXAMPLES, self.max_examples):
            detail = (
                f"only {self.examples} examples could be run; {self.skipped} exceeded "
                "the original's time or stack limits"
            )
            return self._unverifiable(detail, sources)
        skipped = f"{self.skipped} inputs skipped: the original timed out or ran out of stack"
        return self._result("equivalent", sources, detail=skipped if self.skipped else "")

    def _check(self, values):
        from hypothesis import reject

        if self._shrinking_is_over():
            return  # keep the smallest difference found so far; see run()
        args, kwargs = call_arguments(self.original, values)
        original = call_and_observe(self.original, args, kwargs, self.timeout)
        if original.kind == "timeout" or _resource_error(original):
            self.skipped += 1
            if self.skipped >= MAX_SKIPPED and self.skipped > 2 * self.examples:
                raise TooManySkipped()
            reject()
        candidate = call_and_observe(self.candidate, args, kwargs, self.timeout)
        if candidate.kind == "timeout":  # a loaded machine gets a second, longer chance
            candidate = call_and_observe(self.candidate, args, kwargs, self.timeout * 3)
        self.examples += 1
        mutated = not same(original.arguments, (args, kwargs), self.tolerance)
        self.mutates |= mutated
        reason = difference(original, candidate, self.tolerance)
        if reason is None:
            return
        again = call_and_observe(self.original, args, kwargs, self.timeout)
        if again.kind != "timeout" and difference(original, again, self.tolerance) is not None:
            raise Nondeterministic(_describe_call(values))
        self._record(values, original, candidate, reason, mutated)
        raise Mismatch(reason)

    def _shrinking_is_over(self):
        """Shrinking slow failures can take minutes; past a budget, keep what we have."""
        if self.first_failure_at is None:
            return False
        return time.monotonic() - self.first_failure_at > self.shrink_seconds

    def _record(self, values, original, candidate, reason, mutated):
        if self.first_failure_at is None:
            self.first_failure_at = time.monotonic()
        names = list(values)
        show_arguments = reason == "argument mutation" or mutated
        self.failure = {
            "arguments": _describe_call(values),
            "original": original.describe(show_arguments, names),
            "candidate": candidate.describe(show_arguments, names),
            "reason": reason,
        }

    def _unverifiable(self, detail, sources=()):
        return self._result("unverifiable", sources, detail=detail)

    def _result(self, status, sources, detail="", counterexample=None):
        if counterexample is not None:
            detail = f"differs in {counterexample['reason']}"
        return {
            "status": status,
            "examples": self.examples,
            "sources": list(sources),
            "detail": detail,
            "counterexample": counterexample,
            "mutates_arguments": self.mutates,
        }


def _resource_error(behaviour):
    return behaviour.kind == "raise" and behaviour.value[0] in RESOURCE_ERRORS


def _describe_call(values):
    return ", ".join(f"{name}={_short_repr(value)}" for name, value in values.items())


def _first_line(error):
    text = str(error).strip().splitlines()
    return text[0][:MAX_REPR] if text else ""


# --------------------------------------------------------------------------- project tests


def run_project_tests(settings):
    """Run the user's own pytest files on a copy of their project; report each test's outcome."""
    try:
        import pytest
    except ImportError:
        return {"status": "skipped", "detail": "pytest is not installed", "outcomes": {}}
    root = settings["root"]
    os.chdir(root)
    sys.path.insert(0, root)
    outcomes: dict[str, str] = {}

    class Recorder:
        def pytest_runtest_logreport(self, report):
            if report.failed or report.when == "call":
                outcomes.setdefault(report.nodeid, report.outcome)
                if report.failed:
                    outcomes[report.nodeid] = "failed"

        def pytest_collectreport(self, report):
            if report.failed:
                outcomes[report.nodeid or "collection"] = "failed"

    arguments = [*settings["tests"], "-q", "-p", "no:cacheprovider", "--rootdir", root]
    code = pytest.main(arguments, plugins=[Recorder()])
    return {"status": "ran", "exit_code": int(code), "outcomes": outcomes}


# --------------------------------------------------------------------------- measure


def _inputs_hook(function, name):
    hooks = getattr(sys.modules[function.__module__], "OPTIMIZE_INPUTS", None)
    if isinstance(hooks, dict) and callable(hooks.get(name)):
        return hooks[name]
    return None


def synthesise_arguments(function, size, rng):
    """Positional arguments of roughly `size` for each parameter, from type hints."""
    try:
        hints = typing.get_type_hints(function)
    except Exception:
        return None
    arguments = []
    for name, parameter in inspect.signature(function).parameters.items():
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            continue
        if name not in hints:
            if parameter.default is parameter.empty:
                return None
            arguments.append(parameter.default)
            continue
        value = _synthesise(hints[name], size, rng, top=True)
        if value is _UNSUPPORTED:
            return None
        arguments.append(value)
    return tuple(arguments)


_UNSUPPORTED = object()
_WORDS = ["alpha", "beta", "gamma", "delta", "omega", "kappa", "sigma", "theta", "zeta", "lambda"]


def _synthesise(hint, size, rng, top=False):
    """A value for `hint`: top-level collections and strings get `size` items, an int is `size`."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is None and hint in _BARE_COLLECTIONS:  # a bare `list`, `dict`, ...
        origin = hint
    if origin in (typing.Union, types.UnionType):
        options = [a for a in args if a is not type(None)]
        return _synthesise(options[0], size, rng, top) if options else None
    if hint is bool:
        return rng.random() < 0.5
    if hint is int:
        return size if top else rng.randint(0, max(size, 10))
    if hint is float:
        return float(size) if top else rng.uniform(-size, size)
    if hint is str:
        if top:
            return "".join(rng.choice("abcdefghij klmnop,.") for _ in range(size))
        return rng.choice(_WORDS) + str(rng.randint(0, max(size // 4, 3)))
    if hint is bytes:
        return rng.randbytes(size if top else 8)
    inner = size if top else 10
    sequence_or_set = (list, set, frozenset, *_ABSTRACT_SEQUENCES, *_ABSTRACT_SETS)
    if origin in sequence_or_set:
        element = args[0] if args else int
        items = [_synthesise(element, size, rng) for _ in range(inner)]
        if any(item is _UNSUPPORTED for item in items):
            return _UNSUPPORTED
        if origin in _ABSTRACT_SETS:
            return set(items)
        return origin(items) if origin in (set, frozenset) else items
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            members = tuple(_synthesise(args[0], size, rng) for _ in range(inner))
        else:
            members = tuple(_synthesise(a, size, rng) for a in args)
        return _UNSUPPORTED if any(m is _UNSUPPORTED for m in members) else members
    if origin in (dict,) or origin in _ABSTRACT_MAPPINGS:
        key_type, value_type = args if args else (str, int)
        pairs = [
            (_synthesise(key_type, size, rng), _synthesise(value_type, size, rng))
            for _ in range(inner)
        ]
        if any(_UNSUPPORTED in pair for pair in pairs):
            return _UNSUPPORTED
        return dict(pairs)
    return _UNSUPPORTED


_ABSTRACT_SEQUENCES = (_abc.Sequence, _abc.Iterable, _abc.Collection, _abc.MutableSequence)
_ABSTRACT_SETS = (_abc.Set, _abc.MutableSet)
_BARE_COLLECTIONS = (list, set, frozenset, tuple, dict)
_ABSTRACT_MAPPINGS = (_abc.Mapping, _abc.MutableMapping)


def measure(original, candidate, settings, inputs_hook):
    """Per size: calibrate, then interleaved samples of both functions on the same inputs."""
    sizes_out: list[dict[str, Any]] = []
    for size in sorted(settings["sizes"]):
        try:
            arguments = _arguments_for(original, size, inputs_hook)
            if arguments is None:
                return _untimeable("no inputs could be synthesised from type hints")
            loops = _calibrate(original, candidate, arguments, settings)
            if loops is None:
                break  # larger sizes would only take longer
            samples = _interleaved_samples(original, candidate, arguments, loops, settings)
        except TimingOverrun as overrun:
            return {"status": "error", "detail": f"size {size}: {overrun}", "sizes": sizes_out}
        except BaseException as error:  # report, never crash the runner
            detail = f"size {size}: {type(error).__name__}: {_short_repr(error.args)}"
            return {"status": "error", "detail": detail, "sizes": sizes_out}
        sizes_out.append({"size": size, "loops": loops, **samples})
    if not sizes_out:
        return _untimeable("even the smallest size exceeds the per-call budget")
    return {"status": "ok", "sizes": sizes_out}


def _untimeable(detail):
    return {"status": "untimeable", "detail": detail, "sizes": []}


def _arguments_for(function, size, inputs_hook):
    if inputs_hook is not None:
        with _silenced():
            arguments = inputs_hook(size)
        return None if arguments is None else tuple(arguments)
    return synthesise_arguments(function, size, random.Random(size))


def _calibrate(original, candidate, arguments, settings):
    """Loops per sample, so that a sample of the faster function lasts about `sample_seconds`.

    None when one call of either function exceeds the per-call budget. The loop
    count is capped so that a sample of the slower function stays bounded too.
    """
    budget = settings.get("call_budget", 1.0)
    target = settings.get("sample_seconds", 0.05)
    copy_args = settings.get("copy_args", False)
    max_loops = _copies_affordable(arguments, target) if copy_args else 10**7
    try:
        original_seconds = _seconds_per_call(
            original, arguments, copy_args, budget, target, max_loops
        )
    except ExampleTimeout:
        return None
    if original_seconds is None:
        return None
    try:
        candidate_seconds = _seconds_per_call(
            candidate, arguments, copy_args, budget, target, max_loops
        )
    except ExampleTimeout:
        candidate_seconds = None
    if candidate_seconds is None:  # never drop this size silently: it is where the rewrite hurts
        raise TimingOverrun(f"one call of the candidate exceeds the {budget:g} s budget")
    fastest = max(min(original_seconds, candidate_seconds), 1e-9)
    slowest = max(original_seconds, candidate_seconds, 1e-9)
    loops = max(1, math.ceil(target / fastest))
    loops = min(loops, math.floor(SLOW_SAMPLE_FACTOR * target / slowest), max_loops)
    return max(1, loops)


SLOW_SAMPLE_FACTOR = 20
COPY_BYTES_PER_SAMPLE = 64 << 20


def _copies_affordable(arguments, target):
    """How many argument copies one sample may prepare: at most ~2 samples' time and 64 MB.

    A mutating function that is much cheaper than copying its input gets
    shorter samples rather than minutes of copying; the CI shows the extra noise.
    """
    start = time.perf_counter()
    copies = _fresh_copies(arguments, 10)
    per_copy = max((time.perf_counter() - start) / 10, 1e-9)
    try:
        per_copy_bytes = len(pickle.dumps(copies[0], protocol=pickle.HIGHEST_PROTOCOL))
    except Exception:  # unpicklable: the time bound alone applies
        per_copy_bytes = 1
    return max(1, min(math.floor(2 * target / per_copy), COPY_BYTES_PER_SAMPLE // per_copy_bytes))


class TimingOverrun(Exception):
    """Timing at one size took far longer than planned: reported, never skipped."""


def _seconds_per_call(function, arguments, copy_args, budget, target, max_loops):
    """Like timeit's autorange: grow the loop count tenfold until a batch takes target/10."""
    loops = 1
    while True:
        with time_limit(budget * 2 + 1), _silenced():
            _, elapsed = _timed_calls(function, arguments, loops, copy_args)
        if loops == 1 and elapsed > budget:
            return None
        if elapsed >= target / 10 or loops * 10 > max_loops:
            return elapsed / loops
        loops *= 10


def _interleaved_samples(original, candidate, arguments, loops, settings):
    """ABBA ABBA...: each pair alternates which function goes first, so drift hits both alike."""
    copy_args = settings.get("copy_args", False)
    pairs = settings.get("pairs", 5)
    cpu: dict[str, list[float]] = {"original": [], "candidate": []}
    wall: dict[str, list[float]] = {"original": [], "candidate": []}
    functions = {"original": original, "candidate": candidate}
    # Twice the worst case calibration allows; the CPU and wall limits are the backstop.
    longest_sample = max(
        SLOW_SAMPLE_FACTOR * settings.get("sample_seconds", 0.05), settings.get("call_budget", 1.0)
    )
    allowed = 2 * pairs * 2 * longest_sample + 1
    try:
        with time_limit(allowed), _silenced():
            for pair in range(pairs):
                order = ("original", "candidate") if pair % 2 == 0 else ("candidate", "original")
                for which in order:
                    used = _timed_calls(functions[which], arguments, loops, copy_args)
                    cpu[which].append(used[0] / loops)
                    wall[which].append(used[1] / loops)
    except ExampleTimeout:
        raise TimingOverrun(f"the samples took longer than {allowed:g} s") from None
    clock = "thread-cpu" if _cpu_time_tells_it_all(cpu, wall) else "wall"
    chosen = cpu if clock == "thread-cpu" else wall
    return {**chosen, "clock": clock, "wall": wall}


def _cpu_time_tells_it_all(cpu, wall):
    """Whether the thread's CPU time stands for the cost of both functions.

    CPU time ignores the time other processes hold the core, which on a shared
    machine is most of the noise. It also ignores sleeping, waiting and work
    done in other threads or processes: a function doing those has a much
    larger wall/CPU ratio in a typical sample than the other one (both see the
    same machine load, interleaved), and then wall time is used instead.
    """
    stretch = [
        _median([w / max(c, 1e-12) for w, c in zip(wall[which], cpu[which], strict=True)])
        for which in ("original", "candidate")
    ]
    return max(stretch) <= WAIT_TOLERANCE * min(stretch)


def _median(values):
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


WAIT_TOLERANCE = 2.0


def _fresh_copies(arguments, count):
    """`count` deep copies, made before the clock starts; a pickle round trip is far quicker."""
    try:
        blob = pickle.dumps(arguments, protocol=pickle.HIGHEST_PROTOCOL)
        return [pickle.loads(blob) for _ in range(count)]
    except Exception:  # unpicklable arguments: fall back to deepcopy
        return [copy.deepcopy(arguments) for _ in range(count)]


def _timed_calls(function, arguments, loops, copy_args):
    """(thread CPU seconds, wall seconds) for `loops` calls with the GC off.

    Fresh argument copies, made before the clocks start, when the function
    mutates its arguments. The thread's CPU clock, not the process's: under
    RLIMIT_CPU some kernels update process CPU time only once per tick (4 ms).
    """
    batches = _fresh_copies(arguments, loops) if copy_args else None
    gc.collect()
    gc.disable()
    try:
        if batches is None:
            start_cpu, start_wall = time.thread_time(), time.perf_counter()
            for _ in range(loops):
                function(*arguments)
        else:
            start_cpu, start_wall = time.thread_time(), time.perf_counter()
            for batch in batches:
                function(*batch)
        return time.thread_time() - start_cpu, time.perf_counter() - start_wall
    finally:
        gc.enable()


if __name__ == "__main__":
    main()
