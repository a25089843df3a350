"""Per function of the project: call count, total and own time, and a sample of real calls.

Runs inside the traced program, so it is stdlib only and keeps the per-call work
small. Counts and times come from the C profiler behind cProfile (`_lsprof`):
it runs on the profile hook before 3.12 and on `sys.monitoring` from 3.12 on,
and its per-call cost is a fraction of any Python callback's. A function's own
time is what the profiler charges to it plus the time of the non-project code
it calls (the standard library, site-packages): time spent in other project
functions is theirs.

Real calls are sampled by a second, Python-level hook that sees only call
starts: `sys.settrace` (which returns None, so no line or return events
follow) before 3.12, a `sys.monitoring` PY_START callback from 3.12 on (which
switches itself off for code outside the project). Which code is the project's
is decided once per code object: a function (not a module or class body,
lambda or comprehension) in a file under the root and outside every excluded
dir. Every call of such a function that a caller makes (not the inner calls of
a direct recursion, whose time is their outermost call's) adds its size
(`_call_size`, as the sandbox measures a call) to the function's histogram. A
call is kept by the bottom-k rule (see `store`): it draws a uniform u, its key
is u plus its recursion depth (activations of the same function above it), and
it is pickled only if the key is among the smallest `calls_per_function` so far, so of n calls about
k·(1 + ln(n/k)) are pickled, the outermost ones of a recursive function first.
The depth is only looked for when u alone could enter. Pickling happens at call
time, before the function can change its arguments: the pickle is the deep
copy. A pickle over `max_call_bytes` is abandoned as soon as it grows past the
cap; the call is then kept shortened (`_shortened`: its long arguments cut to a
prefix that fits), or, if none fits, counted and skipped. A function whose calls
are slow to pickle stops being sampled once it has used its share of time.
Anything that cannot be pickled (a lambda, an open file, a generator...) is
counted and skipped.
"""

from __future__ import annotations

import _lsprof
import importlib
import inspect
import io
import itertools
import json
import math
import operator
import os
import pickle
import random
import sys
import threading
import time
import types
from collections.abc import Callable, Iterable
from typing import Any

from .settings import TraceSettings
from .store import FunctionTrace, KeptCall

HERE = os.path.dirname(os.path.abspath(__file__))
Call = tuple[tuple[Any, ...], dict[str, Any]]
# Sampling may take, per function, an allowance plus a share of the run so far, and overall
# another: a function with huge arguments costs a little, then is left alone.
FUNCTION_ALLOWANCE_NS, FUNCTION_SHARE = 30_000_000, 0.02
TOTAL_ALLOWANCE_NS, TOTAL_SHARE = 100_000_000, 0.10
KEPT_OVER_BUDGET = 4  # calls a function may keep once the run's budget is spent
_SUSPENDABLE = inspect.CO_GENERATOR | inspect.CO_COROUTINE | inspect.CO_ASYNC_GENERATOR
_MONITORING_TOOLS = (3, 4, 5)
_UNSEEN: Any = object()  # ids no standard tool claims (0-2 are debugger, coverage, profiler)


class Scope:
    """Which source files belong to the project: under the root, outside every excluded dir."""

    def __init__(self, root: str, excluded_names: tuple[str, ...]) -> None:
        import fnmatch

        self.root = os.path.join(os.path.realpath(root), "")
        self._match = fnmatch.fnmatch
        self.excluded_names = excluded_names
        prefixes = {sys.prefix, sys.base_prefix, sys.exec_prefix, HERE}
        self.excluded_dirs = tuple(os.path.join(os.path.realpath(p), "") for p in prefixes)
        self._files: dict[str, str | None] = {}

    def relative(self, filename: str) -> str | None:
        """The file's path under the root in POSIX form, or None if it is not the project's."""
        if filename not in self._files:
            self._files[filename] = self._classify(filename)
        return self._files[filename]

    def _classify(self, filename: str) -> str | None:
        if not filename.endswith(".py") or filename.startswith("<"):
            return None
        path = os.path.realpath(filename)
        if not path.startswith(self.root) or path.startswith(self.excluded_dirs):
            return None
        relative = path[len(self.root) :]
        parts = relative.split(os.sep)
        if any(self._match(part, name) for part in parts[:-1] for name in self.excluded_names):
            return None
        return "/".join(parts)


class _Function:
    """One code object of the project, and how to read its arguments from a frame."""

    __slots__ = (
        "counts", "first_offset", "inner", "kwonly", "large", "name", "owned", "positional",
        "sample_bytes", "sample_ns", "simple", "suspendable", "threshold", "trace", "varargs",
        "varkw",
    )  # fmt: skip

    def __init__(self, trace: FunctionTrace, code: types.CodeType) -> None:
        self.trace = trace
        self.owned = "." in trace.qualname and "<locals>" not in trace.qualname
        names = code.co_varnames
        positional = code.co_argcount
        keyword_only = code.co_kwonlyargcount
        self.positional = names[:positional]
        self.kwonly = names[positional : positional + keyword_only]
        extra = positional + keyword_only
        self.varargs = names[extra] if code.co_flags & inspect.CO_VARARGS else None
        if self.varargs is not None:
            extra += 1
        self.varkw = names[extra] if code.co_flags & inspect.CO_VARKEYWORDS else None
        # Whether f_locals' values at the call's start are exactly its arguments (no *args
        # or **kwargs, no closure variables): they are then measured as they are.
        parameters = {*self.positional, *self.kwonly}
        self.simple = (
            self.varargs is None and self.varkw is None and not code.co_freevars
            and parameters.issuperset(code.co_cellvars)
        )  # fmt: skip
        self.name = code.co_name
        # Keys are depth + u (see `_depth`): until the sample is full, any key may enter.
        self.threshold = math.inf  # keys at or above this cannot enter the sample
        self.sample_bytes = 0
        self.sample_ns = 0  # time spent pickling this function's calls
        # Calls per size bucket, every call of the run: a list indexed by bucket below
        # _TABLED (the common case, the quickest to count in), a dict by size above.
        self.counts = [0] * len(_TABLED_BUCKETS)
        self.large: dict[int, int] = {}
        # Calls of a direct recursion: their time is their outermost call's, so they are
        # left out of the histogram (which weighs timings) and only counted.
        self.inner = 0
        # A generator or coroutine is entered again on every resume: only its start is a call.
        self.suspendable = bool(code.co_flags & _SUSPENDABLE)
        self.first_offset = _first_resume_offset(code) if self.suspendable else sys.maxsize


class Recorder:
    """Counts, times and samples calls while started; `functions()` has the result."""

    def __init__(
        self, scope: Scope, settings: TraceSettings, main_module: str = "", seed: int | None = None
    ) -> None:
        self.scope = scope
        self.settings = settings
        self.main_module = main_module  # the script's own module name, for `__main__` objects
        self.random = random.Random(seed).random
        self.codes: dict[types.CodeType, _Function | None] = {}
        self.traces: dict[tuple[str, str], FunctionTrace] = {}
        self.profiler = _lsprof.Profiler()
        self.sampler: _Sampler | None = None
        self.sampling_ns = 0  # time spent pickling calls, all functions together
        self.started = 0

    # ----------------------------------------------------------------------- control

    def start(self) -> str:
        """Start profiling and sampling; returns how times are taken, for the record."""
        self.started = time.perf_counter_ns()
        self.sampler = _Monitoring(self) if hasattr(sys, "monitoring") else _Tracing(self)
        self.sampler.install()
        self.profiler.enable(subcalls=True, builtins=False)
        hooks = "sys.monitoring" if hasattr(sys, "monitoring") else "sys.setprofile + sys.settrace"
        return f"cProfile's _lsprof ({hooks})"

    def stop(self) -> None:
        self.profiler.disable()
        if self.sampler is not None:
            self.sampler.remove()

    def functions(self) -> list[FunctionTrace]:
        """Every project function that ran, with its counts, times and kept calls."""
        for function in self.codes.values():
            if function is not None:
                _add_sizes(function)
        entries = {e.code: e for e in self.profiler.getstats() if not isinstance(e.code, str)}
        for code, entry in entries.items():
            function = self.lookup(code)
            if function is None:
                continue
            trace = function.trace
            trace.calls += entry.callcount
            trace.total_ns += _ns(entry.totaltime)
            trace.own_ns += _ns(entry.inlinetime + self._outside(entry, entries, depth=3))
        return [t for t in self.traces.values() if t.calls or t.unpicklable or t.oversized]

    def unsampled(self) -> list[str]:
        """Functions (`path::qualname`) with calls the sampler never saw because its hook
        was unset, by the program or by Python, and not set again; call after `functions`."""
        if self.sampler is None or self.sampler.lasted:
            return []
        functions = {id(f): f for f in self.codes.values() if f is not None}.values()
        return sorted(
            f"{f.trace.path}::{f.trace.qualname}"
            for f in functions
            if not f.suspendable and f.trace.calls > sum(f.trace.sizes.values()) + f.inner
        )

    def _outside(self, entry: Any, entries: dict[Any, Any], depth: int) -> float:
        """Seconds `entry` spends in code that is not the project's, which count as its own.

        A lambda or comprehension of the project is part of the function that runs it:
        its inline time counts, and the share of its outside time that this caller caused.
        """
        seconds = 0.0
        for sub in entry.calls or ():
            if isinstance(sub.code, str) or not self._is_project_file(sub.code):
                seconds += sub.totaltime
            elif self.lookup(sub.code) is None and depth > 0 and sub.code in entries:
                inner = entries[sub.code]
                share = sub.totaltime / inner.totaltime if inner.totaltime > 0 else 0.0
                seconds += sub.inlinetime + share * self._outside(inner, entries, depth - 1)
        return seconds

    def _is_project_file(self, code: types.CodeType) -> bool:
        """A function, lambda or comprehension in a project file (not a module or class body)."""
        return bool(code.co_flags & inspect.CO_OPTIMIZED) and (
            self.scope.relative(code.co_filename) is not None
        )

    # ----------------------------------------------------------------------- sampling

    def lookup(
        self, code: types.CodeType, frame: types.FrameType | None = None
    ) -> _Function | None:
        """The project function `code` belongs to, or None; decided once per code object."""
        try:
            return self.codes[code]
        except KeyError:
            pass
        function = None
        relative = self.scope.relative(code.co_filename)
        # Functions only: not a module or class body, lambda or comprehension.
        is_function = code.co_flags & inspect.CO_OPTIMIZED and not code.co_name.startswith("<")
        if relative is not None and is_function:
            qualname = _qualname(code, frame)
            trace = self.traces.setdefault((relative, qualname), FunctionTrace(relative, qualname))
            function = _Function(trace, code)
        self.codes[code] = function
        return function

    def on_start(self, function: _Function, frame: types.FrameType) -> None:
        """Any call of a project function starts: its size goes into the histogram, and it
        is offered to the sample when its key can enter. (`_Tracing` has this inlined.)"""
        caller = frame.f_back
        if caller is not None and caller.f_code is frame.f_code:
            function.inner += 1
        else:
            size = _call_size(function, frame.f_locals)
            if size < _TABLED:
                function.counts[_BUCKET_INDEX[size]] += 1
            else:
                size = size_bucket(size)
                function.large[size] = function.large.get(size, 0) + 1
        draw = self.random()
        if draw < function.threshold:
            self.offer(function, frame, draw)

    def offer(self, function: _Function, frame: types.FrameType, draw: float) -> None:
        """A call whose uniform draw is under the threshold: its key is its recursion depth
        plus the draw, and it is kept if that key is still under the threshold."""
        depth = _depth(frame, function.threshold - draw)
        if depth is not None:
            self.on_call(function, frame, depth + draw)

    def on_call(self, function: _Function, frame: types.FrameType, key: float) -> None:
        """A call of a project function whose key is under its threshold starts: keep it
        if the sampling budgets allow."""
        now = time.perf_counter_ns()
        run = now - self.started
        if function.sample_ns > FUNCTION_ALLOWANCE_NS + FUNCTION_SHARE * run:
            return
        # The run's budget may be spent by the functions that ran first: a function still
        # gets its first few calls, so that none is left with nothing to verify on.
        over = self.sampling_ns > TOTAL_ALLOWANCE_NS + TOTAL_SHARE * run
        if over and len(function.trace.sample) >= KEPT_OVER_BUDGET:
            return
        self._keep(function, frame, key)
        spent = time.perf_counter_ns() - now
        function.sample_ns += spent
        self.sampling_ns += spent

    def _keep(self, function: _Function, frame: types.FrameType, key: float) -> None:
        trace, settings = function.trace, self.settings
        try:
            call = _call_of(function, frame)
            blob, shortened = _pickle_or_shorten(call, settings.max_call_bytes, self.main_module)
        except _TooLarge:
            trace.oversized += 1
            return
        except BaseException:  # user code in __reduce__ may raise anything
            trace.unpicklable += 1
            return
        trace.shortened += shortened
        trace.sample.append(KeptCall(key, blob, _shape(function, frame)))
        function.sample_bytes += len(blob)
        while len(trace.sample) > settings.calls_per_function or (
            function.sample_bytes > settings.max_function_bytes and trace.sample
        ):
            largest = max(range(len(trace.sample)), key=lambda i: trace.sample[i].key)
            function.sample_bytes -= len(trace.sample.pop(largest).blob)
        if len(trace.sample) >= settings.calls_per_function:
            function.threshold = max(call.key for call in trace.sample)


def _add_sizes(function: _Function) -> None:
    """Move a code object's size counts into its function's histogram."""
    sizes = function.trace.sizes
    for index, calls in enumerate(function.counts):
        if calls:
            size = _TABLED_BUCKETS[index]
            sizes[size] = sizes.get(size, 0) + calls
    for size, calls in function.large.items():
        sizes[size] = sizes.get(size, 0) + calls
    function.counts = [0] * len(_TABLED_BUCKETS)
    function.large = {}


def _ns(seconds: float) -> int:
    return round(seconds * 1e9)


# --------------------------------------------------------------------------- depth and size

MAX_DEPTH_HOPS = 1000  # frames walked to find a call's recursion depth


def _depth(frame: types.FrameType, bound: float) -> int | None:
    """How many activations of the frame's function are above it on the stack (within
    MAX_DEPTH_HOPS frames), or None once that reaches `bound`: the key could not enter."""
    code, depth, hops = frame.f_code, 0, MAX_DEPTH_HOPS
    back = frame.f_back
    while back is not None and hops:
        if back.f_code is code:
            depth += 1
            if depth >= bound:
                return None
        back, hops = back.f_back, hops - 1
    return depth


# Quarter-octave buckets: a function's histogram has 4 rows per doubling of size. The
# bounds of the sizes of bit length n: 2**(n-1) and the smallest integers at or above
# 2**(n-1+j/4), j = 1..3. Sizes of 63 bits and more share the last bucket.
_QUARTERS = [(0, 0, 0, 0)] + [
    tuple(math.ceil(2 ** (n - 1 + j / 4)) for j in range(4)) for n in range(1, 64)
]
_EXACT_BELOW = 16
_TABLED = 1 << 14


def size_bucket(size: int) -> int:
    """The histogram row of a call of this size: the size itself below 16, else the lower
    bound of its quarter octave: 16, 20, 23, 27, 32, 39, 46, 54, 64, 77..."""
    if size < _EXACT_BELOW:
        return size
    low, first, second, third = _QUARTERS[min(size.bit_length(), 63)]
    if size >= third:
        return third
    return second if size >= second else first if size >= first else low


_TABLED_BUCKETS = sorted({size_bucket(size) for size in range(_TABLED)})
# A size's bucket as an index into _TABLED_BUCKETS: the hook's quickest way to count a call.
_BUCKET_INDEX = [
    index
    for index, (low, high) in enumerate(itertools.pairwise([*_TABLED_BUCKETS, _TABLED]))
    for _ in range(low, high)
]


# Only these are measured: len() of any other type would run the user's __len__.
_SIZED = (list, tuple, dict, set, frozenset, str, bytes, bytearray)
_SIZED_IDS = frozenset(id(kind) for kind in _SIZED)  # ids: hashing a type may run its metaclass
_CUSTOM_STATE = ("__slots__", "__reduce__", "__reduce_ex__", "__getstate__", "__setstate__",
                 "__getnewargs__", "__getnewargs_ex__", "__copy__")  # fmt: skip
# Types whose values add nothing to a call's size (and are never plain instances).
_ATOMIC_IDS = frozenset(id(kind) for kind in (float, bool, type(None), complex))
_INT_ID = id(int)
_plain_types: dict[int, tuple[type, bool]] = {}  # id -> (the type, kept alive; plain or not)


def _call_size(function: _Function, values: dict[str, Any]) -> int:
    """The call's size as the sandbox's `call_size` measures it (see `_measure`)."""
    if function.simple:
        return _measure(values.values())
    arguments = [values[name] for name in function.positional if name in values]
    arguments += [values[name] for name in function.kwonly if name in values]
    if function.varargs is not None:
        arguments.extend(values.get(function.varargs, ()))
    if function.varkw is not None:
        arguments.extend(dict.values(values.get(function.varkw, {})))
    return _measure(arguments)


def _measure(arguments: Iterable[Any]) -> int:
    """The total length of the sized arguments (a plain instance, such as a method's `self`,
    counts its sized attributes), else the largest int in absolute value, else 0. Only the
    builtin containers and strings are measured: no user `__len__` or property ever runs.
    (`_Tracing.callback` has this inlined: keep the two the same.)"""
    total, largest, sized = 0, 0, False
    groups = [arguments]  # then the attributes of the plain instances among the arguments
    for group in groups:
        for value in group:
            kind = type(value)
            if kind is int:
                largest = max(largest, abs(value))
            elif id(kind) in _SIZED_IDS:
                total, sized = total + len(value), True
            elif group is arguments and id(kind) not in _ATOMIC_IDS:
                plain = _plain_types.get(id(kind)) or _remember_type(kind)
                if plain[1]:
                    groups.append(dict.values(object.__getattribute__(value, "__dict__")))
    return total if sized else largest


def _remember_type(kind: type) -> tuple[type, bool]:
    """Whether instances of `kind` are plain (a user class with the default `__dict__` and
    no custom state, as the sandbox's `plain_instance`), found once per type."""
    known = _plain_types[id(kind)] = (kind, _is_plain_type(kind))
    return known


def _is_plain_type(kind: type) -> bool:
    try:
        if kind.__module__ == "builtins" or issubclass(kind, type) or not kind.__dictoffset__:
            return False
        bases = kind.__mro__[:-1]
        if any(name in vars(base) for base in bases for name in _CUSTOM_STATE):
            return False
        # The `__dict__` slot must be the interpreter's own, not a property of the class.
        slots = [vars(base).get("__dict__") for base in bases]
        return all(s is None or type(s) is types.GetSetDescriptorType for s in slots)
    except BaseException:
        return False


# --------------------------------------------------------------------------- samplers


class _Sampler:
    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder
        self.lasted = True  # whether the sampler was still set when the run ended

    def install(self) -> None:
        raise NotImplementedError

    def remove(self) -> None:
        raise NotImplementedError


class _Tracing(_Sampler):
    """Before 3.12: a trace function that sees each call start and asks for nothing more.

    It must never change the program. Its body catches everything, so it never raises
    into the user's code. But a trace function is itself a call: when the program
    recurses to the very limit, CPython cannot enter it, raises the program's
    RecursionError from there (with the message plain Python gives) and unsets the
    trace function for good. So as soon as the body itself runs out of stack, the trace
    function hangs a `_Rearm` on a frame well below (as that frame's `f_trace`, the one
    place a frame holds an object of ours); when that frame is released, once the
    RecursionError is handled, the trace function is set again. A trace that is still
    unset when the program ends is reported (see `Recorder.unsampled`): that may
    happen when a recursion runs through builtins (`sorted(key=...)`) and frames
    whose trace calls call nothing, so the body does not run out of stack first.
    """

    def install(self) -> None:
        self.on_call = self.callback()
        self.spare: _Rearm | None = _Rearm(self)
        self.installed = True
        threading.settrace(self.on_call)
        sys.settrace(self.on_call)

    def remove(self) -> None:
        self.lasted = sys.gettrace() is self.on_call
        self.installed = False
        sys.settrace(None)
        threading.settrace(None)  # type: ignore[arg-type]
        self.spare = None

    def rearm(self) -> None:
        """A frame holding a `_Rearm` was released: set the trace function again if it was
        lost (and not replaced by the program's own), and have a spare for next time."""
        if self.spare is None and self.installed:
            if sys.gettrace() is None:
                sys.settrace(self.on_call)
            self.spare = _Rearm(self)

    def callback(self) -> Callable[[types.FrameType, str, Any], None]:
        """The trace function. It runs on every Python call of the program, so its common
        paths are one dict lookup (code outside the project) or that and `on_start`."""
        recorder, codes, draw = self.recorder, self.recorder.codes, self.recorder.random
        sampler, sized_ids, atomic_ids = self, _SIZED_IDS, _ATOMIC_IDS
        bucket_index, quarters = _BUCKET_INDEX, _QUARTERS
        plain_types, getattribute, dict_values = _plain_types, object.__getattribute__, dict.values

        def on_call(frame: types.FrameType, event: str, arg: Any) -> None:
            try:
                function = codes.get(frame.f_code, _UNSEEN)
                if function is _UNSEEN:
                    function = recorder.lookup(frame.f_code, frame)
                if function is None or frame.f_lasti > function.first_offset:
                    return None
                caller = frame.f_back
                if caller is not None and caller.f_code is frame.f_code:
                    function.inner += 1  # a direct recursion: see `_Function.inner`
                else:
                    # _measure inlined (this runs on every call of the project's functions).
                    values = frame.f_locals
                    total, largest, sized = 0, 0, False
                    if function.simple:
                        arguments = values.values()
                        groups = [arguments]
                    else:
                        largest, groups = _call_size(function, values), []
                    for group in groups:
                        for value in group:
                            kind = type(value)
                            if kind is int:
                                if value < 0:
                                    value = -value
                                if value > largest:
                                    largest = value
                            elif kind is str or kind is list or id(kind) in sized_ids:
                                total, sized = total + len(value), True
                            elif group is arguments and id(kind) not in atomic_ids:
                                plain = plain_types.get(id(kind)) or _remember_type(kind)
                                if plain[1]:
                                    groups.append(dict_values(getattribute(value, "__dict__")))
                    size = total if sized else largest
                    if size < _TABLED:
                        function.counts[bucket_index[size]] += 1
                    else:  # size_bucket, inlined
                        bits = size.bit_length()
                        low, first, second, third = quarters[bits if bits < 64 else 63]
                        if size >= third:
                            size = third
                        else:
                            size = second if size >= second else first if size >= first else low
                        large = function.large
                        large[size] = large.get(size, 0) + 1
                key = draw()
                if key < function.threshold:
                    recorder.offer(function, frame, key)
            except RecursionError:
                # Out of stack: no calls here (each would raise again), only attribute work.
                try:
                    spare = sampler.spare
                    if spare is not None:
                        target, hops = frame, _REARM_HOPS
                        while hops and target.f_back is not None:
                            target, hops = target.f_back, hops - 1
                        if target.f_trace is None:
                            target.f_trace_lines = False
                            target.f_trace = spare
                            sampler.spare = None
                except BaseException:
                    pass
            except BaseException:
                pass  # the program must not see our failure: the call goes unrecorded
            return None  # no line, return or exception events for this frame

        return on_call


# Frames between the one whose trace function ran out of stack and the one that holds the
# `_Rearm`: enough stack for `_Rearm.__del__` when that frame is released.
_REARM_HOPS = 40


class _Rearm:
    """Held by a frame as its `f_trace`: re-arms the trace function when that frame goes."""

    def __init__(self, sampler: _Tracing) -> None:
        self.sampler = sampler

    def __call__(self, frame: types.FrameType, event: str, arg: Any) -> None:
        return None  # a 'return' or 'exception' event of the frame that holds it: nothing

    def __del__(self) -> None:
        try:  # noqa: SIM105 - a plain try: suppress() would be one more call on a short stack
            self.sampler.rearm()
        except BaseException:
            pass


class _Monitoring(_Sampler):
    """3.12+: a PY_START callback; code outside the project stops reporting after once."""

    def install(self) -> None:
        self.monitoring: Any = getattr(sys, "monitoring")  # noqa: B009 - 3.12+ only
        for tool in _MONITORING_TOOLS:
            if self.monitoring.get_tool(tool) is None:
                self.tool = tool
                break
        else:
            raise RuntimeError("every sys.monitoring tool id is in use")
        self.monitoring.use_tool_id(self.tool, "optimize trace")
        start = self.monitoring.events.PY_START
        self.monitoring.register_callback(self.tool, start, self.on_start)
        self.monitoring.set_events(self.tool, start)

    def remove(self) -> None:
        self.monitoring.set_events(self.tool, 0)
        self.monitoring.free_tool_id(self.tool)

    def on_start(self, code: types.CodeType, offset: int) -> Any:
        try:
            frame = sys._getframe(1)  # the callee's frame is on the stack at PY_START
            function = self.recorder.lookup(code, frame)
            if function is None:
                return self.monitoring.DISABLE
            self.recorder.on_start(function, frame)
        except BaseException:
            pass  # the program must not see our failure: the call goes unrecorded
        return None


# --------------------------------------------------------------------------- calls


class _TooLarge(Exception):
    pass


class _CappedSink(io.RawIOBase):
    """A pickle's destination that gives up as soon as the pickle passes `cap` bytes."""

    def __init__(self, cap: int) -> None:
        self.cap, self.size = cap, 0
        self.parts: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self.size += len(data)
        if self.size > self.cap:
            raise _TooLarge()
        self.parts.append(bytes(data))
        return len(data)


def _pickle(call: Call, cap: int, main_module: str) -> bytes:
    blob = _pickle_with(pickle.Pickler, call, cap)
    if main_module and b"__main__" in blob:  # rare: only then pay for a Python-level hook
        _MainByName.main_module = main_module
        blob = _pickle_with(_MainByName, call, cap)
    return blob


def _pickle_or_shorten(call: Call, cap: int, main_module: str) -> tuple[bytes, bool]:
    """The call's pickle, or one of it shortened (`_shortened`), and whether it was."""
    try:
        return _pickle(call, cap, main_module), False
    except _TooLarge:
        shorter = _shortened(call, cap, main_module)
        if shorter is None:
            raise
        return shorter, True


_PREFIXABLE = (list, tuple, str, bytes)
_SUBSETTABLE = (dict, set, frozenset)


def _shortened(call: Call, cap: int, main_module: str) -> bytes | None:
    """The pickle of `call` with its long arguments cut to their first k items (a list,
    tuple, str or bytes to a prefix; a dict, set or frozenset to its first k in iteration
    order), the largest k, halving from half the longest, whose pickle fits `cap`; None if
    none does. The hottest calls are often the largest: a shortened one is still real data,
    where a skipped one would leave the function with nothing to verify and time on."""
    args, kwargs = call
    values = (*args, *kwargs.values())
    keep = max((len(v) for v in values if type(v) in _PREFIXABLE + _SUBSETTABLE), default=0) // 2
    while keep >= 1:
        cut: dict[int, Any] = {}  # by id: an argument passed twice stays one object
        shorter = (
            tuple(_cut(v, keep, cut) for v in args),
            {name: _cut(v, keep, cut) for name, v in kwargs.items()},
        )
        try:
            return _pickle(shorter, cap, main_module)
        except _TooLarge:
            keep //= 2
    return None


def _cut(value: Any, keep: int, cut: dict[int, Any]) -> Any:
    kind = type(value)
    if kind not in _PREFIXABLE + _SUBSETTABLE or len(value) <= keep:
        return value
    if id(value) not in cut:
        if kind in _PREFIXABLE:
            cut[id(value)] = value[:keep]
        elif kind is dict:
            cut[id(value)] = dict(itertools.islice(value.items(), keep))
        else:
            cut[id(value)] = kind(itertools.islice(value, keep))
    return cut[id(value)]


def _pickle_with(kind: type[pickle.Pickler], call: Call, cap: int) -> bytes:
    sink = _CappedSink(cap)
    kind(sink, protocol=pickle.HIGHEST_PROTOCOL).dump(call)
    return b"".join(sink.parts)


class _MainByName(pickle.Pickler):
    """Classes and functions of the script (`__main__` while it runs) are pickled under the
    script's module name, which is how the sandbox imports that file."""

    main_module = ""

    def reducer_override(self, obj: Any) -> Any:
        # Not called for plain ints, strs, lists, dicts...: only objects that may be the script's.
        if (
            self.main_module
            and getattr(obj, "__module__", None) == "__main__"
            and isinstance(obj, type | types.FunctionType)
        ):
            return operator.attrgetter(obj.__qualname__), (_ModuleByName(self.main_module),)
        return NotImplemented


class _ModuleByName:
    def __init__(self, name: str) -> None:
        self.name = name

    def __reduce__(self) -> tuple[Any, ...]:
        return importlib.import_module, (self.name,)


MAX_ELEMENTS_DESCRIBED = 1000  # a container's element types: the union over its first ones
MAX_NESTED_ELEMENTS = 50  # the same, for a container inside another
# Elements looked at inside the containers of one value, all levels together: past it, an
# inner container is described by its kind alone ("list"), as an empty one is. Small:
# the description is part of a kept call's cost, which the sampling budgets count (a
# list of 2,000 small dicts costs 15 ms at 5,000, under 1 ms at 400), and the types a
# pass rests on are verified on the recorded calls themselves.
MAX_NESTED_VISITS = 400
MAX_DEPTH_DESCRIBED = 3  # "dict[str, list[tuple[str, int]]]"; deeper: the kind alone
MAX_TUPLE_POSITIONS = 8  # a longer tuple is "tuple[int | str, ...]"
MAX_ATTRIBUTES_DESCRIBED = 32
_CONTAINER_IDS = frozenset(id(kind) for kind in (list, tuple, dict, set, frozenset))


def _shape(function: _Function, frame: types.FrameType) -> str:
    """The call's arguments as types and sizes, for the model's prompt: JSON of
    parameter -> "list[int | str] len 12", and for a method `self.<attribute>` -> the
    same of each attribute of the instance. Never the values themselves."""
    values = frame.f_locals
    names = [*function.positional, *function.kwonly]
    shape: dict[str, str] = {}
    if function.owned and names:
        first, names = values.get(names[0]), names[1:]  # self or cls: the prompt shows the class
        shape.update(_describe_attributes(first))
    shape.update({name: _describe(values[name]) for name in names if name in values})
    return json.dumps(shape)


def _describe_attributes(instance: Any) -> dict[str, str]:
    """`self.<name>` -> description, for an instance's own `__dict__` (no property or
    `__getattr__` runs); empty for a class (a classmethod's `cls`) or a dict-less object."""
    if isinstance(instance, type):
        return {}
    try:
        attributes = object.__getattribute__(instance, "__dict__")
    except BaseException:
        return {}
    if not isinstance(attributes, dict):
        return {}
    items = itertools.islice(dict.items(attributes), MAX_ATTRIBUTES_DESCRIBED)
    return {f"self.{name}": _describe(value) for name, value in items if type(name) is str}


def _describe(value: Any) -> str:
    """`TYPE len N` for the builtin containers and strings, with the element types of a
    non-empty container, nested ones included ("dict[str, list[int] | None] len 3",
    "list[tuple[str, int]] len 9"); else the type's name. A container's element types
    are the union over its first elements; a tuple's, one per position when it is short.
    An inner container described by its kind alone ("list") was empty or not looked into:
    beside the same kind with items ("list[int]") it adds nothing, and is left out."""
    kind = type(value)
    if id(kind) not in _SIZED_IDS:
        return _type_name(kind)
    if kind in (str, bytes, bytearray) or not value:
        return f"{kind.__qualname__} len {len(value)}"
    return f"{_container_type(value, 0, [MAX_NESTED_VISITS])} len {len(value)}"


def _container_type(value: Any, depth: int, budget: list[int]) -> str:
    """ "list[int | str]" of a non-empty list, tuple, dict, set or frozenset (exact types
    only: iterating them runs no user code). `budget` counts nested elements left to visit."""
    kind = type(value)
    limit = MAX_ELEMENTS_DESCRIBED if depth == 0 else min(MAX_NESTED_ELEMENTS, budget[0])
    if depth > 0:
        budget[0] -= min(len(value), limit)
    if kind is dict:
        keys = _union(itertools.islice(dict.keys(value), limit), depth, budget)
        items = _union(itertools.islice(dict.values(value), limit), depth, budget)
        return f"dict[{keys}, {items}]"
    if kind is tuple and len(value) <= MAX_TUPLE_POSITIONS:
        return f"tuple[{', '.join(_union((element,), depth, budget) for element in value)}]"
    inner = _union(itertools.islice(iter(value), limit), depth, budget)
    return f"tuple[{inner}, ...]" if kind is tuple else f"{kind.__qualname__}[{inner}]"


def _union(elements: Iterable[Any], depth: int, budget: list[int]) -> str:
    """The elements' types as a sorted union: "int | str", "int | None", "list[str] | None"."""
    kinds: dict[int, type] = {}
    described: set[str] = set()
    for element in elements:
        kind = type(element)
        if (
            id(kind) in _CONTAINER_IDS
            and element
            and depth + 1 < MAX_DEPTH_DESCRIBED
            and budget[0] > 0
        ):
            described.add(_container_type(element, depth + 1, budget))
        else:
            kinds[id(kind)] = kind
    names = described | {_type_name(kind) for kind in kinds.values()}
    bare = {name for name in names if "[" not in name}
    names -= {name for name in bare if any(n.startswith(f"{name}[") for n in names)}
    return " | ".join(sorted(names))


def _type_name(kind: type) -> str:
    return "None" if kind is type(None) else str(kind.__qualname__)


def _call_of(function: _Function, frame: types.FrameType) -> Call:
    """(args, kwargs) as the sandbox calls the function: a method's start with `self`, a
    classmethod's leave out `cls` (the child calls it bound to its class)."""
    values = frame.f_locals
    args = [values[name] for name in function.positional]
    if function.varargs is not None:
        args.extend(values[function.varargs])
    kwargs = {name: values[name] for name in function.kwonly}
    if function.varkw is not None:
        kwargs.update(values[function.varkw])
    first = args[0] if function.owned and args else None
    if isinstance(first, type) and isinstance(
        inspect.getattr_static(first, function.name, None), classmethod
    ):
        args = args[1:]
    return tuple(args), kwargs


def _first_resume_offset(code: types.CodeType) -> int:
    """Where a generator's first activation starts (3.11+: its first RESUME; 3.10: -1)."""
    import dis

    for instruction in dis.get_instructions(code):
        if instruction.opname == "RESUME":
            return instruction.offset
    return -1


def _qualname(code: types.CodeType, frame: types.FrameType | None) -> str:
    qualname = getattr(code, "co_qualname", None)  # 3.11+
    if qualname is not None:
        return str(qualname)
    found = _find_qualname(code, frame.f_globals if frame else {}, 3)
    return found or code.co_name


def _find_qualname(code: types.CodeType, namespace: Any, depth: int) -> str | None:
    """Python 3.10 has no co_qualname: find the function or method whose code this is."""
    for value in list(dict(namespace).values()):
        value = getattr(value, "__func__", value)  # classmethod, staticmethod
        if getattr(value, "__code__", None) is code:
            return str(value.__qualname__)
        if isinstance(value, type) and depth > 0:
            found = _find_qualname(code, vars(value), depth - 1)
            if found:
                return found
    return None
