"""Starting sandboxed children and collecting what they report.

A child gets a scratch dir holding its request and the module sources it
needs, a scrubbed environment, resource limits and a wall-clock limit. It
reports on a pipe that this process made (never a file in a directory the
child can write), and the report is read as one typed message (see
`child.protocol`); anything else (no message, a malformed one, a crash) is a
failure with a one-line reason. See the package docstring for the threat model.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import signal
import subprocess
import tempfile
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Generic, TypeVar

from pipeline.sandbox.child.protocol import (
    CPU_LIMIT_EXIT,
    Limits,
    PrepareRequest,
    PrepareResult,
    Request,
    encode_request,
)
from pipeline.sandbox.child.wire import ProtocolError, parse, split_frame
from pipeline.sandbox.isolation import (
    Isolation,
    apply_limits,
    best_isolation,
    child_command,
    child_environment,
    environment_import_path,
    exits_within,
    hand_over,
    kill_group,
    kill_namespace,
    sandbox_init_pid,
    wrapper,
)

T = TypeVar("T")
READER_GRACE_SECONDS = 5.0


@dataclass(frozen=True)
class JobResult(Generic[T]):
    """The child's report, or None and a one-line reason why there is none."""

    result: T | None
    reason: str
    isolation: Isolation


@dataclass
class Launched:
    """A started child: its process, its scratch dir and our ends of its pipes."""

    process: subprocess.Popen[bytes]
    scratch: Path
    isolation: Isolation
    info_read: int
    results: int  # we read the child's messages here
    commands: int | None  # we write commands here (timing workers only)

    def close_fds(self) -> None:
        for fd in (self.info_read, self.results, self.commands):
            if fd is not None:
                with contextlib.suppress(OSError):
                    os.close(fd)


def launch(
    request: Request,
    sources: Mapping[str, str],
    limits: Limits,
    conversation: bool = False,
    unicode_tables: Path | None = None,
) -> Launched:
    """Write the request and `sources` (relative path -> text) into a scratch dir; start the
    child on them. The caller must `finish` it."""
    isolation = best_isolation()
    # What the user's interpreter can import, the child can: after the request's own
    # entries (the project root first), this environment's import path.
    request = dataclasses.replace(request, sys_path=(*request.sys_path, *environment_import_path()))
    scratch = Path(tempfile.mkdtemp(prefix="optimize-"))
    for relative, text in sources.items():
        target = scratch / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    if unicode_tables is not None:
        shutil.copytree(unicode_tables, scratch / ".hypothesis" / UNICODE_TABLES)
    (scratch / "request.json").write_bytes(encode_request(request))
    hand_over(scratch, isolation)
    result_read, result_write = os.pipe()
    command_read, command_write = os.pipe() if conversation else (-1, -1)
    info_read, info_write = os.pipe()
    child_fds = (result_write, command_read) if conversation else (result_write,)
    command = wrapper(isolation, scratch, request.sys_path) + child_command(scratch, child_fds)
    if isolation == Isolation.BUBBLEWRAP:
        command = [command[0], "--info-fd", str(info_write), *command[1:]]
    try:
        with (scratch / "stdout.txt").open("wb") as out:
            process = subprocess.Popen(
                command, cwd=scratch, env=child_environment(scratch), stdin=subprocess.DEVNULL,
                stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
                pass_fds=(info_write, *child_fds), preexec_fn=lambda: apply_limits(limits),
            )  # fmt: skip
    except BaseException:
        for fd in (result_read, command_write, info_read):
            if fd >= 0:
                os.close(fd)
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    finally:
        for fd in (info_write, *child_fds):
            os.close(fd)
    commands = command_write if conversation else None
    return Launched(process, scratch, isolation, info_read, result_read, commands)


def run_job(
    request: Request,
    sources: Mapping[str, str],
    limits: Limits,
    result_type: type[T],
    harvest: Callable[[Path], None] | None = None,
) -> JobResult[T]:
    """Run a one-shot child to completion or its wall-clock limit; read its one report."""
    launched = launch(request, sources, limits, unicode_tables=_unicode_tables_for(request))
    try:
        received = _Drain(launched.results)
        timed_out = not exits_within(launched.process.pid, limits.wall_seconds)
        returncode = finish(launched, timed_out)
        data = received.collected()
        result = _parse(data, result_type)
        if result is None:
            reason = _failure_reason(launched.scratch, returncode, timed_out, limits, data)
            return JobResult(None, reason, launched.isolation)
        if harvest is not None:
            harvest(launched.scratch)
        return JobResult(result, "", launched.isolation)
    finally:
        launched.close_fds()
        shutil.rmtree(launched.scratch, ignore_errors=True)


def finish(launched: Launched, timed_out: bool) -> int:
    """Leave none of the child's processes behind; its exit code."""
    if timed_out:
        kill_namespace(sandbox_init_pid(launched.info_read))
    # The child is a zombie now (not yet reaped), so its group id cannot be reused:
    # sweep up whatever it forked (levels 2 and 3 have no PID namespace to do it).
    kill_group(launched.process.pid)
    return launched.process.wait()


class _Drain:
    """Reads a pipe to its end in a thread, so a child writing a large report never blocks."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.chunks: list[bytes] = []
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        with contextlib.suppress(OSError):
            while chunk := os.read(self.fd, 1 << 20):
                self.chunks.append(chunk)

    def collected(self) -> bytes:
        # A grandchild that escaped the kill may hold the pipe open: do not wait for it forever.
        self.thread.join(READER_GRACE_SECONDS)
        return b"".join(self.chunks)


def _parse(data: bytes, result_type: type[T]) -> T | None:
    try:
        framed = split_frame(data)
        return None if framed is None else parse(result_type, framed[0])
    except ProtocolError:
        return None


def _failure_reason(
    scratch: Path, returncode: int, timed_out: bool, limits: Limits, data: bytes
) -> str:
    if timed_out:
        return f"wall-clock timeout after {limits.wall_seconds:g} s"
    if returncode == CPU_LIMIT_EXIT or returncode in (-signal.SIGXCPU, 128 + signal.SIGXCPU):
        return f"CPU time limit of {limits.cpu_seconds} s exceeded"
    if returncode < 0 or returncode > 128:
        number = -returncode if returncode < 0 else returncode - 128
        name = signal.Signals(number).name if number in signal.valid_signals() else str(number)
        if number == signal.SIGXFSZ:
            return "output file size limit exceeded"
        return f"the child was killed by {name}"
    if data:
        return "the child's report is malformed"
    tail = _tail(scratch / "stdout.txt")
    if "MemoryError" in tail:
        return "memory limit exceeded"
    return f"the child exited with code {returncode} before reporting" + (
        f": {tail}" if tail else ""
    )


def _tail(path: Path) -> str:
    try:
        with path.open("rb") as handle:
            handle.seek(max(0, path.stat().st_size - 400))
            lines = handle.read().decode("utf-8", "replace").strip().splitlines()
    except OSError:
        return ""
    return lines[-1][:200] if lines else ""


# --------------------------------------------------------------------------- hypothesis tables

UNICODE_TABLES = "unicode_data"


def _unicode_tables_for(request: Request) -> Path | None:
    return None if isinstance(request, PrepareRequest) else unicode_tables()


@cache
def unicode_tables() -> Path | None:
    """Hypothesis's Unicode tables, built once by a child that runs none of the user's code.

    Each child starts with an empty Hypothesis dir; without these tables every
    verification of a `str` parameter spends seconds of CPU rebuilding them.
    """
    try:
        root = cache_dir() / f"hypothesis-{metadata.version('hypothesis')}"
        tables = root / UNICODE_TABLES
        if tables.is_dir():
            return tables
        root.mkdir(parents=True, exist_ok=True)
    except (OSError, metadata.PackageNotFoundError):
        return None

    def keep_tables(scratch: Path) -> None:
        built = scratch / ".hypothesis" / UNICODE_TABLES
        staging = Path(tempfile.mkdtemp(dir=root))
        shutil.copytree(built, staging / UNICODE_TABLES)
        with contextlib.suppress(OSError):  # another process may have won the race
            (staging / UNICODE_TABLES).rename(tables)
        shutil.rmtree(staging, ignore_errors=True)

    with contextlib.suppress(OSError):
        run_job(PrepareRequest(), {}, Limits(), PrepareResult, keep_tables)
    return tables if tables.is_dir() else None


def cache_dir() -> Path:
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "optimize"
