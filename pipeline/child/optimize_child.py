"""The sandboxed side of the runner: loads untrusted code, runs it, reports JSON.

This file is executed by path (`python -s -B optimize_child.py request.json`)
inside the sandbox. It is self-contained on purpose: it must never import the
`pipeline` or `passes` packages, because a user's project may own those names.
Its only imports are the standard library and Hypothesis.
"""

from __future__ import annotations

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
import random
import signal
import sys
import time
import types
import typing

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
        result = _dispatch(request)
    except UserCodeError as error:
        result = {"status": "error", "detail": str(error)}
    with open(result_path + ".tmp", "w", encoding="utf-8") as handle:
        json.dump(result, handle)
    os.replace(result_path + ".tmp", result_path)


def _on_cpu_limit(signum, frame):
    os._exit(CPU_LIMIT_EXIT)


class UserCodeError(Exception):
    """Loading the user's module or finding the function failed."""


def _dispatch(request):
    for entry in reversed(request.get("sys_path", [])):
        sys.path.insert(0, entry)
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
    except BaseException as error:  # noqa: BLE001 - user module code may raise anything
        raise UserCodeError(f"importing the module failed: {type(error).__name__}: {error}")
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
    value: object = None
    arguments: object = None
    stdout: dict = dataclasses.field(default_factory=dict)
    stderr: dict = dataclasses.field(default_factory=dict)
    aliases: tuple = ()

    def describe(self):
        if self.kind == "timeout":
            return "timed out"
        if self.kind == "raise":
            exc_type, args = self.value
            text = f"raises {exc_type}{_short_repr(args)}"
        else:
            text = f"returns {_short_repr(self.value)}"
        if self.stdout.get("length"):
            text += f"; prints {_short_repr(self.stdout['prefix'])}"
        return text


def call_and_observe(function, args, kwargs, timeout):
    """Call on private copies of the arguments and record everything observable."""
    args, kwargs = copy.deepcopy((args, kwargs))
    out, err = CappedStream(), CappedStream()
    behaviour = Behaviour("return", stdout={}, stderr={})
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), time_limit(timeout):
            result = function(*args, **kwargs)
            behaviour.value = _drain(result)
            behaviour.aliases = tuple(i for i, arg in enumerate(args) if result is arg)
    except ExampleTimeout:
        behaviour.kind = "timeout"
    except BaseException as error:  # noqa: BLE001 - the user's exceptions are data here
        behaviour.kind = "raise"
        behaviour.value = (type(error).__qualname__, error.args)
    behaviour.arguments = (args, kwargs)
    behaviour.stdout, behaviour.stderr = out.summary(), err.summary()
    return behaviour


@dataclasses.dataclass
class Drained:
    """An iterator's type and the items it produced, so lazy results can be compared."""

    type_name: str
    items: list
    truncated: bool


def _drain(result):
    if isinstance(result, _abc.Iterator) and not isinstance(
        result, str | bytes
    ):
        items = []
        for item in result:
            items.append(item)
            if len(items) >= MAX_DRAIN:
                return Drained(type(result).__qualname__, items, True)
        return Drained(type(result).__qualname__, items, False)
    return result


# --------------------------------------------------------------------------- comparison


def same(a, b, tolerance=0.0, depth=0):
    """Strict equality: exact types, NaN == NaN, -0.0 != 0.0, ordered dicts."""
    if depth > 50:
        return a == b
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return _same_float(a, b, tolerance)
    if isinstance(a, complex):
        return _same_float(a.real, b.real, tolerance) and _same_float(a.imag, b.imag, tolerance)
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(same(x, y, tolerance, depth + 1) for x, y in zip(a, b))
    if isinstance(a, dict):
        return len(a) == len(b) and all(
            same(ka, kb, tolerance, depth + 1) and same(va, vb, tolerance, depth + 1)
            for (ka, va), (kb, vb) in zip(a.items(), b.items())
        )
    if isinstance(a, set | frozenset):
        return _same_set(a, b, tolerance, depth)
    if isinstance(a, Drained):
        return a.type_name == b.type_name and a.truncated == b.truncated and same(
            a.items, b.items, tolerance, depth + 1
        )
    if dataclasses.is_dataclass(a) or (hasattr(a, "__dict__") and not isinstance(a, type)):
        with contextlib.suppress(TypeError):
            return same(vars(a), vars(b), tolerance, depth + 1)
    try:
        return bool(a == b)
    except Exception:  # noqa: BLE001 - an __eq__ that raises means "not provably equal"
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
    except Exception as error:  # noqa: BLE001
        text = f"<unrepresentable {type(value).__name__}: {error}>"
    return text if len(text) <= MAX_REPR else text[: MAX_REPR - 3] + "..."


# --------------------------------------------------------------------------- strategies


def strategy_for_domain(spec):
    """Map a whitelisted domain description (plain data, never code) to a strategy."""
    from hypothesis import strategies as st

    kind = spec.get("type")
    if kind == "int":
        return st.integers(min_value=spec.get("min"), max_value=spec.get("max"))
    if kind == "float":
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
        return st.text(
            alphabet=alphabet if alphabet else st.characters(codec="utf-8"),
            min_size=spec.get("min_size", 0),
            max_size=spec.get("max_size", 40),
        )
    if kind in {"list", "set", "tuple"}:
        items = strategy_for_domain(spec.get("items", {"type": "int"}))
        sizes = {"min_size": spec.get("min_size", 0), "max_size": spec.get("max_size", 30)}
        if kind == "set":
            return st.sets(items, **sizes)
        collection = st.lists(items, **sizes)
        return collection.map(tuple) if kind == "tuple" else collection
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


def parameter_strategies(function, domains):
    """One strategy per parameter, or a reason why a parameter has none."""
    from hypothesis import strategies as st

    try:
        hints = typing.get_type_hints(function)
    except Exception:  # noqa: BLE001 - unresolvable annotations just mean "no hint"
        hints = {}
    strategies, sources, missing = {}, set(), []
    for name, parameter in inspect.signature(function).parameters.items():
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            continue
        if name in domains:
            strategies[name] = strategy_for_domain(domains[name]["spec"])
            sources.add(domains[name]["source"])
        elif name in hints:
            strategies[name] = st.from_type(hints[name])
            sources.add("type hints")
        elif parameter.default is not parameter.empty:
            strategies[name] = st.just(parameter.default)
            sources.add("default values")
        else:
            missing.append(name)
    return strategies, sorted(sources), missing


# --------------------------------------------------------------------------- verify


class Mismatch(AssertionError):
    pass


class Verifier:
    def __init__(self, original, candidate, settings):
        self.original = original
        self.candidate = candidate
        self.max_examples = settings.get("max_examples", 200)
        self.timeout = settings.get("example_timeout", 2.0)
        self.tolerance = settings.get("float_tolerance", 0.0)
        self.domains = settings.get("domains", {})
        self.seeds = settings.get("seed_examples", [])
        self.examples = 0
        self.timeouts = 0
        self.mutates = False
        self.failure = None

    def run(self):
        from hypothesis import HealthCheck, example, given, settings
        from hypothesis import strategies as st
        from hypothesis.errors import Unsatisfiable

        strategies, sources, missing = parameter_strategies(self.original, self.domains)
        if missing:
            return self._unverifiable(f"no type hint or domain for parameter(s): {', '.join(missing)}")
        if self.seeds:
            sources = sorted({*sources, *(seed["source"] for seed in self.seeds)})
        test = given(st.fixed_dictionaries(strategies))(self._check)
        for seed in self.seeds:
            test = example(seed["kwargs"])(test)
        test = settings(
            max_examples=self.max_examples,
            derandomize=True,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )(test)
        try:
            test()
        except Mismatch:
            return self._result("counterexample", sources, counterexample=self.failure)
        except Unsatisfiable:
            return self._unverifiable("too many examples timed out or were rejected", sources)
        if self.examples == 0:
            return self._unverifiable("no example could be run", sources)
        if self.timeouts > self.examples:
            return self._unverifiable("too many examples timed out", sources)
        return self._result("equivalent", sources)

    def _check(self, kwargs):
        from hypothesis import reject

        original = call_and_observe(self.original, (), kwargs, self.timeout)
        if original.kind == "timeout":
            self.timeouts += 1
            reject()
        candidate = call_and_observe(self.candidate, (), kwargs, self.timeout)
        self.examples += 1
        if not same(original.arguments, ((), kwargs), self.tolerance):
            self.mutates = True
        reason = difference(original, candidate, self.tolerance)
        if reason is not None:
            self.failure = {
                "arguments": ", ".join(f"{k}={_short_repr(v)}" for k, v in kwargs.items()),
                "original": original.describe(),
                "candidate": candidate.describe(),
                "reason": reason,
            }
            raise Mismatch(reason)

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
    except Exception:  # noqa: BLE001
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
_WORDS = "alpha beta gamma delta omega kappa sigma theta zeta lambda".split()


def _synthesise(hint, size, rng, top=False):
    origin, args = typing.get_origin(hint), typing.get_args(hint)
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
    if origin in (list, set, frozenset) or origin in _ABSTRACT_SEQUENCES:
        element = args[0] if args else int
        items = [_synthesise(element, size, rng) for _ in range(inner)]
        if any(item is _UNSUPPORTED for item in items):
            return _UNSUPPORTED
        return origin(items) if origin in (set, frozenset) else items
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            items = tuple(_synthesise(args[0], size, rng) for _ in range(inner))
        else:
            items = tuple(_synthesise(a, size, rng) for a in args)
        return _UNSUPPORTED if _UNSUPPORTED in items else items
    if origin in (dict,) or origin in _ABSTRACT_MAPPINGS:
        key_type, value_type = args if args else (str, int)
        pairs = [(_synthesise(key_type, size, rng), _synthesise(value_type, size, rng)) for _ in range(inner)]
        if any(_UNSUPPORTED in pair for pair in pairs):
            return _UNSUPPORTED
        return dict(pairs)
    return _UNSUPPORTED


_ABSTRACT_SEQUENCES = (_abc.Sequence, _abc.Iterable, _abc.Collection, _abc.MutableSequence, _abc.Set)
_ABSTRACT_MAPPINGS = (_abc.Mapping, _abc.MutableMapping)


def measure(original, candidate, settings, inputs_hook):
    sizes_out = []
    for size in settings["sizes"]:
        rng = random.Random(size)
        arguments = inputs_hook(size) if inputs_hook else synthesise_arguments(original, size, rng)
        if arguments is None:
            return {"status": "untimeable", "detail": "no inputs could be synthesised from type hints", "sizes": []}
        arguments = tuple(arguments)
        try:
            loops = _calibrate(original, arguments, settings)
            if loops is None:
                break
            samples = _interleaved_samples(original, candidate, arguments, loops, settings)
        except ExampleTimeout:
            break
        except BaseException as error:  # noqa: BLE001 - report, never crash the runner
            detail = f"size {size}: {type(error).__name__}: {_short_repr(error.args)}"
            return {"status": "error", "detail": detail, "sizes": sizes_out}
        sizes_out.append({"size": size, "loops": loops, **samples})
    if not sizes_out:
        return {"status": "untimeable", "detail": "even the smallest size exceeds the per-call budget", "sizes": []}
    return {"status": "ok", "sizes": sizes_out}


def _calibrate(function, arguments, settings):
    budget = settings.get("call_budget", 1.0)
    with time_limit(budget * 2), _silenced():
        elapsed = _timed_calls(function, arguments, 1, settings.get("copy_args", False))
    if elapsed > budget:
        return None
    target = settings.get("sample_seconds", 0.05)
    return max(1, math.ceil(target / max(elapsed, 1e-7)))


def _interleaved_samples(original, candidate, arguments, loops, settings):
    copy_args = settings.get("copy_args", False)
    times = {"original": [], "candidate": []}
    functions = {"original": original, "candidate": candidate}
    with _silenced():
        for pair in range(settings.get("pairs", 5)):
            order = ("original", "candidate") if pair % 2 == 0 else ("candidate", "original")
            for which in order:
                elapsed = _timed_calls(functions[which], arguments, loops, copy_args)
                times[which].append(elapsed / loops)
    return times


def _timed_calls(function, arguments, loops, copy_args):
    batches = [copy.deepcopy(arguments) for _ in range(loops)] if copy_args else None
    gc.collect()
    gc.disable()
    try:
        if batches is None:
            start = time.perf_counter()
            for _ in range(loops):
                function(*arguments)
        else:
            start = time.perf_counter()
            for batch in batches:
                function(*batch)
        return time.perf_counter() - start
    finally:
        gc.enable()


if __name__ == "__main__":
    main()
