"""Calling user code and recording everything observable about the call."""

from __future__ import annotations

import collections
import collections.abc as abc
import contextlib
import copy
import hashlib
import io
import signal
import sys
from collections.abc import Callable, Iterator
from types import FrameType
from typing import Any

from .encoding import Drained, TooLarge, encode, type_name
from .protocol import CallKind, Observation, Stream

MAX_DRAIN = 10_000
MAX_REPR = 300


class CappedStream(io.TextIOBase):
    """A text sink that hashes everything but keeps only a bounded prefix."""

    KEEP = 2_000

    def __init__(self) -> None:
        self.digest = hashlib.sha256()
        self.length = 0
        self.prefix = ""

    def writable(self) -> bool:
        return True

    def write(self, text: Any) -> int:
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        self.digest.update(text.encode("utf-8", "surrogatepass"))
        if len(self.prefix) < self.KEEP:
            self.prefix += text[: self.KEEP - len(self.prefix)]
        self.length += len(text)
        return len(text)

    def summary(self) -> Stream:
        return Stream(self.digest.hexdigest(), self.length, self.prefix)


@contextlib.contextmanager
def silenced() -> Iterator[None]:
    sink = CappedStream()
    with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        yield


class ExampleTimeout(BaseException):
    """Raised by the interval timer when one call runs too long."""


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    def expire(signum: int, frame: Any) -> None:
        raise ExampleTimeout()

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


# The recursion limit a plain program starts with (Hypothesis raises the limit while it
# runs a test, and restores it afterwards).
PLAIN_RECURSION_LIMIT = sys.getrecursionlimit()


def _stack_depth() -> int:
    frame: FrameType | None = sys._getframe(1)
    depth = 0
    while frame is not None:
        frame, depth = frame.f_back, depth + 1
    return depth


@contextlib.contextmanager
def plain_recursion_limit() -> Iterator[None]:
    """The call gets the stack a plain program gives a function it calls from its top
    level, wherever the child calls it from: under Hypothesis (which raises the limit
    and adds frames) or straight from a replay. Otherwise a deterministic function near
    the limit returns when recorded and raises RecursionError when replayed."""
    previous = sys.getrecursionlimit()
    sys.setrecursionlimit(_stack_depth() + PLAIN_RECURSION_LIMIT)
    try:
        yield
    finally:
        sys.setrecursionlimit(previous)


class Observer:
    """Calls functions of the modules under test on private copies of their inputs."""

    def __init__(self, under_test: frozenset[str], timeout: float) -> None:
        self.under_test = under_test
        self.timeout = timeout

    def observe(
        self, function: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any],
        names: tuple[str, ...] = (), timeout: float | None = None,
    ) -> Observation:  # fmt: skip
        args, kwargs = copy.deepcopy((args, kwargs))
        out, err = CappedStream(), CappedStream()
        kind, value, exception, result, drained = CallKind.RETURN, None, "", None, None
        try:
            with (
                contextlib.redirect_stdout(out),
                contextlib.redirect_stderr(err),
                time_limit(timeout or self.timeout),
                plain_recursion_limit(),
            ):
                result = function(*args, **kwargs)
                drained = drain(result)
        except ExampleTimeout:
            kind = CallKind.TIMEOUT
        except BaseException as error:
            kind, exception, value = CallKind.RAISE, self.exception_name(type(error)), error.args
        else:  # outside the try: a bug here is ours, not the user's behaviour
            value = drained
        return Observation(
            kind=kind,
            value=self.encode(value) if kind != CallKind.TIMEOUT else None,
            exception=exception,
            arguments=self.encode((args, kwargs)),
            aliases=aliases(result, drained, args, kwargs) if kind == CallKind.RETURN else (),
            stdout=out.summary(),
            stderr=err.summary(),
            shown=tuple(_shown(kind, exception, value)),
            shown_arguments=describe_call(args, kwargs, names),
        )

    def encode(self, value: Any) -> Any:
        try:
            return encode(value, self.under_test)
        except TooLarge:
            return {"sha": "too large", "n": -1, "root": None, "nodes": None}
        except RecursionError:
            return {"sha": "too deep", "n": -1, "root": None, "nodes": None}

    def exception_name(self, exc_type: type) -> str:
        return type_name(exc_type, self.under_test)


def _shown(kind: CallKind, exception: str, value: Any) -> list[str]:
    if kind == CallKind.TIMEOUT:
        return ["timed out"]
    if kind == CallKind.RAISE:
        return [f"raises {exception}{short_repr(value)}"]
    return [f"returns {short_repr(value)}"]


def describe_call(args: tuple[Any, ...], kwargs: dict[str, Any], names: tuple[str, ...]) -> str:
    named = [*zip(names, args, strict=False), *kwargs.items()]
    unnamed = [short_repr(arg) for arg in args[len(names) :]]
    return ", ".join([*(f"{name}={short_repr(value)}" for name, value in named), *unnamed])


def drain(result: Any) -> Any:
    if isinstance(result, abc.Iterator) and not isinstance(result, str | bytes):
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


def aliases(
    result: Any, drained: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> tuple[tuple[str, str], ...]:
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


def _reachable(root: Any, limit: int = _ALIAS_WALK_LIMIT) -> list[tuple[str, Any]]:
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


def _children(path: str, value: Any) -> list[tuple[str, Any]]:
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


def short_repr(value: Any) -> str:
    try:
        text = repr(value)
    except Exception as error:
        text = f"<unrepresentable {type(value).__name__}: {error}>"
    return text if len(text) <= MAX_REPR else text[: MAX_REPR - 3] + "..."


def first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0][:MAX_REPR] if text else ""
