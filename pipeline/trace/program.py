"""Run the user's program as `python app.py ARGS` or `python -m module ARGS` would, traced.

The program is `__main__` with the `sys.argv` and `sys.path[0]` Python would
give it; what it prints goes straight to the inherited stdout and stderr. Its
exit status is kept: `sys.exit(n)` exits with n, an uncaught exception prints
its traceback (without our frames) and exits 1, Ctrl-C ends the process by
SIGINT. The trace is saved first, by this process only (not by a forked child).
"""

from __future__ import annotations

import builtins
import importlib.machinery
import io
import json
import os
import platform
import re
import runpy
import signal
import sys
import time
import traceback
import types
from dataclasses import dataclass
from pathlib import Path

from .recorder import Recorder, Scope
from .settings import TraceSettings
from .store import Run, StoreError, save

# The frames of these files are ours, not the program's: left out of its tracebacks.
_OUR_FILES = (os.path.join(os.path.dirname(os.path.abspath(__file__)), ""), runpy.__file__,
              "<frozen runpy>")  # fmt: skip


@dataclass(frozen=True)
class Job:
    """What the parent asks for, as JSON in argv[1]."""

    root: str
    store: str
    excluded: tuple[str, ...]
    settings: TraceSettings
    command: str  # for the store's record of runs
    main_module: str  # the script's module name as `optimize PATH` names it ("" for -m)

    @classmethod
    def from_json(cls, text: str) -> Job:
        data = json.loads(text)
        return cls(
            root=data["root"],
            store=data["store"],
            excluded=tuple(data["excluded"]),
            settings=TraceSettings(**data["settings"]),
            command=data["command"],
            main_module=data["main_module"],
        )


def main(argv: list[str]) -> None:
    """argv: the job's JSON, then `-m module ARGS...` or `script ARGS...`."""
    job = Job.from_json(argv[1])
    program = argv[2:]
    recorder = Recorder(Scope(job.root, job.excluded), job.settings, job.main_module)
    pid = os.getpid()
    started, clock = time.time(), time.perf_counter_ns()
    tracer = recorder.start()
    outcome: BaseException | None = None
    try:
        _run(program)
    except BaseException as error:  # the program's own ending, passed on below
        outcome = error
    finally:
        recorder.stop()
    wall = time.perf_counter_ns() - clock
    if os.getpid() == pid:  # a forked child that returned here must not save the parent's data
        run = Run(job.command, started, wall, _exit_code(outcome), platform.python_version(),
                  tracer)  # fmt: skip
        functions = recorder.functions()
        try:
            save(Path(job.store), run, functions, job.settings)
        except StoreError as error:
            print(f"optimize trace: error: {error}", file=sys.stderr)
        if not isinstance(outcome, RecursionError):  # else the trace was lost as it ended
            _warn_unsampled(recorder.unsampled())
    _end_like_python(outcome)


def _warn_unsampled(names: list[str]) -> None:
    if names:
        shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
        print(f"optimize trace: warning: sampling stopped when the trace function was unset "
              f"during the run; calls not sampled: {shown}", file=sys.stderr)  # fmt: skip


def _run(program: list[str]) -> None:
    if program[0] == "-m":
        name = program[1]
        sys.argv = [name, *program[2:]]  # runpy puts the module's path in argv[0]
        sys.path[0] = os.getcwd()
        _give_back_our_stack()
        runpy.run_module(name, run_name="__main__", alter_sys=True)
    else:
        _run_script(program)


def _give_back_our_stack(runpy_calls_fewer: int = 0) -> None:
    """Raise the recursion limit by the stack our frames take below the program, so that
    it recurses exactly as deep as under plain Python and, at the limit, the same check
    fails with the same message ("... while calling a Python object" or not).

    Called by the function that starts the program: its module frame then sits as deep
    above this caller as plain Python's sits above nothing (`python -m` has runpy's
    frames too, as many as `runpy.run_module` adds here; `runpy.run_path` adds one fewer
    than plain `python DIR` runs through).
    """
    depth = _stack_depth()  # this frame, and the call that measures, included
    if depth is not None and depth > 2 + runpy_calls_fewer:
        sys.setrecursionlimit(sys.getrecursionlimit() + depth - 2 - runpy_calls_fewer)


def _stack_depth() -> int | None:
    """The interpreter's recursion depth here, frames and C calls, as the error for a
    limit below it tells; None if its message is not the one we know."""
    try:
        sys.setrecursionlimit(1)  # always below the depth: refused, and nothing changes
    except RecursionError as error:
        found = re.search(r"recursion depth (\d+)", str(error))
        return int(found.group(1)) if found else None
    return None


def _run_script(program: list[str]) -> None:
    """As `python script.py ARGS`: the module `__main__`, its code named by absolute path."""
    path = os.path.abspath(program[0])
    sys.argv = list(program)
    sys.path[0] = os.path.dirname(path)
    if os.path.isdir(path) or not path.endswith(".py"):  # a directory or zip with __main__.py
        _give_back_our_stack(runpy_calls_fewer=1)
        runpy.run_path(path, run_name="__main__")
        return
    main = types.ModuleType("__main__")
    main.__file__ = path
    main.__loader__ = importlib.machinery.SourceFileLoader("__main__", path)
    main.__dict__["__builtins__"] = builtins
    sys.modules["__main__"] = main
    with io.open_code(path) as handle:
        code = compile(handle.read(), path, "exec", dont_inherit=True)
    _give_back_our_stack()
    exec(code, main.__dict__)


def _exit_code(outcome: BaseException | None) -> int:
    if outcome is None:
        return 0
    if isinstance(outcome, SystemExit):
        code = outcome.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    if isinstance(outcome, KeyboardInterrupt):
        return 128 + signal.SIGINT
    return 1


def _end_like_python(outcome: BaseException | None) -> None:
    if outcome is None:
        return
    if isinstance(outcome, SystemExit):
        raise outcome  # the interpreter prints a string code and exits as the program asked
    _print_traceback(outcome)
    if isinstance(outcome, KeyboardInterrupt):
        sys.stdout.flush()
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGINT)
    sys.exit(1)


def _print_traceback(error: BaseException) -> None:
    tb = error.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename.startswith(_OUR_FILES):
        tb = tb.tb_next
    sys.stdout.flush()
    traceback.print_exception(type(error), error, tb)
