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
dir. A call is kept by the bottom-k rule (see `store`): it draws a uniform key
and is pickled only if the key is among the smallest `calls_per_function` so
far, so of n calls about k·(1 + ln(n/k)) are pickled. Pickling happens at call
time, before the function can change its arguments: the pickle is the deep
copy. A pickle over `max_call_bytes` is abandoned as soon as it grows past the
cap, and a function whose calls are slow to pickle stops being sampled once it
has used its share of time. Anything that cannot be pickled (a lambda, an open
file, a generator...) is counted and skipped; so is a call over the size cap.
"""

from __future__ import annotations

import _lsprof
import importlib
import inspect
import io
import json
import operator
import os
import pickle
import random
import sys
import threading
import time
import types
from collections.abc import Callable
from typing import Any

from .settings import TraceSettings
from .store import FunctionTrace, KeptCall

HERE = os.path.dirname(os.path.abspath(__file__))
Call = tuple[tuple[Any, ...], dict[str, Any]]
# Sampling may take, per function, an allowance plus a share of the run so far, and overall
# another: a function with huge arguments costs a little, then is left alone.
FUNCTION_ALLOWANCE_NS, FUNCTION_SHARE = 30_000_000, 0.02
TOTAL_ALLOWANCE_NS, TOTAL_SHARE = 100_000_000, 0.10
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
        "first_offset", "kwonly", "name", "owned", "positional", "sample_bytes", "sample_ns",
        "threshold", "trace", "varargs", "varkw",
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
        self.name = code.co_name
        self.threshold = 1.0  # keys at or above this cannot enter the sample
        self.sample_bytes = 0
        self.sample_ns = 0  # time spent pickling this function's calls
        # A generator or coroutine is entered again on every resume: only its start is a call.
        suspendable = code.co_flags & _SUSPENDABLE
        self.first_offset = _first_resume_offset(code) if suspendable else sys.maxsize


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

    def on_call(self, function: _Function, frame: types.FrameType, key: float) -> None:
        """A call of a project function whose key is under its threshold starts: keep it
        if the sampling budgets allow."""
        now = time.perf_counter_ns()
        run = now - self.started
        if function.sample_ns > FUNCTION_ALLOWANCE_NS + FUNCTION_SHARE * run:
            return
        if self.sampling_ns > TOTAL_ALLOWANCE_NS + TOTAL_SHARE * run:
            return
        self._keep(function, frame, key)
        spent = time.perf_counter_ns() - now
        function.sample_ns += spent
        self.sampling_ns += spent

    def _keep(self, function: _Function, frame: types.FrameType, key: float) -> None:
        trace, settings = function.trace, self.settings
        try:
            blob = _pickle(_call_of(function, frame), settings.max_call_bytes, self.main_module)
        except _TooLarge:
            trace.oversized += 1
            return
        except BaseException:  # user code in __reduce__ may raise anything
            trace.unpicklable += 1
            return
        trace.sample.append(KeptCall(key, blob, _shape(function, frame)))
        function.sample_bytes += len(blob)
        while len(trace.sample) > settings.calls_per_function or (
            function.sample_bytes > settings.max_function_bytes and trace.sample
        ):
            largest = max(range(len(trace.sample)), key=lambda i: trace.sample[i].key)
            function.sample_bytes -= len(trace.sample.pop(largest).blob)
        if len(trace.sample) >= settings.calls_per_function:
            function.threshold = max(call.key for call in trace.sample)


def _ns(seconds: float) -> int:
    return round(seconds * 1e9)


# --------------------------------------------------------------------------- samplers


class _Sampler:
    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder

    def install(self) -> None:
        raise NotImplementedError

    def remove(self) -> None:
        raise NotImplementedError


class _Tracing(_Sampler):
    """Before 3.12: a trace function that sees each call start and asks for nothing more."""

    def install(self) -> None:
        callback = self.callback()
        threading.settrace(callback)
        sys.settrace(callback)

    def remove(self) -> None:
        sys.settrace(None)
        threading.settrace(None)  # type: ignore[arg-type]

    def callback(self) -> Callable[[types.FrameType, str, Any], None]:
        """The trace function. It runs on every Python call of the program, so its common
        paths are one dict lookup (code outside the project) or that and one draw."""
        recorder, codes, draw = self.recorder, self.recorder.codes, self.recorder.random

        def on_call(frame: types.FrameType, event: str, arg: Any) -> None:
            function = codes.get(frame.f_code, _UNSEEN)
            if function is _UNSEEN:
                function = recorder.lookup(frame.f_code, frame)
            if function is None:
                return  # None: no line, return or exception events for this frame
            key = draw()
            if key < function.threshold and frame.f_lasti <= function.first_offset:
                recorder.on_call(function, frame, key)

        return on_call


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
        frame = sys._getframe(1)  # the callee's frame is on the stack at PY_START
        function = self.recorder.lookup(code, frame)
        if function is None:
            return self.monitoring.DISABLE
        key = self.recorder.random()
        if key < function.threshold:
            self.recorder.on_call(function, frame, key)
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


# Only these are measured: len() of any other type would run the user's __len__.
_SIZED = (list, tuple, dict, set, frozenset, str, bytes, bytearray)


def _shape(function: _Function, frame: types.FrameType) -> str:
    """The call's arguments as types and sizes, for the model's prompt: JSON of
    parameter -> "list[int] len 12". Never the values themselves."""
    values = frame.f_locals
    names = [*function.positional, *function.kwonly]
    if function.owned and names:
        names = names[1:]  # self or cls: the prompt shows the class already
    return json.dumps({name: _describe(values[name]) for name in names if name in values})


def _describe(value: Any) -> str:
    kind = type(value)
    if kind not in _SIZED:
        return kind.__qualname__
    if kind in (str, bytes, bytearray) or not value:
        return f"{kind.__qualname__} len {len(value)}"
    first = next(iter(value.items() if kind is dict else value))
    inner = (
        f"{type(first[0]).__qualname__}, {type(first[1]).__qualname__}"
        if kind is dict
        else type(first).__qualname__
    )
    return f"{kind.__qualname__}[{inner}] len {len(value)}"


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
