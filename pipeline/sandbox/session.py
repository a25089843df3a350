"""A timing worker in the sandbox, driven one command at a time, clocked from outside.

The worker's replies are untrusted. Its CPU time is read here from the kernel
(the process's CPU clock, by PID) and wall time from our own clock, around
each RUN; between runs the worker must be idle. Before it stops, its whole
CPU use (its own clock plus its reaped children's) and any other process it
started tell whether it did work outside the timed runs.
"""

from __future__ import annotations

import contextlib
import os
import select
import shutil
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from pipeline.sandbox.child.protocol import Command, Limits, TimeRequest, TimingCommand, TimingReply
from pipeline.sandbox.child.wire import ProtocolError, frame, parse, split_frame
from pipeline.sandbox.isolation import (
    exits_within,
    kill_group,
    kill_namespace,
    python_pid,
    sandbox_init_pid,
)
from pipeline.sandbox.runner import Launched, launch

STOP_GRACE_SECONDS = 5.0
MAX_REPLY_BYTES = 512 << 20


class WorkerGone(Exception):
    """The worker died, hung, or broke the protocol; the message says which."""


@dataclass(frozen=True)
class Clocks:
    """Kernel CPU seconds of the worker process and our wall seconds, at one instant."""

    cpu: float
    wall: float


class Session:
    def __init__(self, request: TimeRequest, sources: Mapping[str, str], limits: Limits) -> None:
        self.limits = limits
        self.launched: Launched = launch(request, sources, limits, conversation=True)
        self.buffer = b""
        self.deadline = time.monotonic() + limits.wall_seconds
        self.pid: int | None = None
        self.init_pid: int | None = None

    @property
    def isolation(self) -> str:
        return self.launched.isolation.value

    def first_reply(self) -> TimingReply:
        reply = self._read(time.monotonic() + min(60.0, self.limits.wall_seconds))
        self.init_pid = sandbox_init_pid(self.launched.info_read)
        self.pid = python_pid(self.launched.process.pid, self.init_pid)
        return reply

    def ask(self, command: TimingCommand, timeout: float) -> TimingReply:
        assert self.launched.commands is not None
        try:
            os.write(self.launched.commands, frame(command))
        except OSError as error:
            raise WorkerGone(f"the worker stopped listening: {error.strerror}") from None
        return self._read(time.monotonic() + timeout)

    def clocks(self) -> Clocks:
        """The worker's process CPU clock, as the kernel keeps it; and our monotonic clock."""
        assert self.pid is not None
        cpu_clock = ((~self.pid) << 3) | 2  # CPUCLOCK_SCHED of the whole process (Linux)
        try:
            cpu = time.clock_gettime_ns(cpu_clock) / 1e9
        except OSError:
            raise WorkerGone("the worker process is gone") from None
        return Clocks(cpu, time.perf_counter())

    def voluntary_switches(self) -> int:
        """How often the worker's main thread gave up the CPU to wait (kernel count)."""
        assert self.pid is not None
        try:
            for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
                if line.startswith("voluntary_ctxt_switches:"):
                    return int(line.split()[1])
        except (OSError, ValueError):
            pass
        raise WorkerGone("the worker process is gone")

    def total_cpu(self) -> float:
        """CPU seconds the worker used so far, with its reaped children's (kernel figures)."""
        assert self.pid is not None
        try:
            fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
            children = (int(fields[13]) + int(fields[14])) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError, ValueError):
            raise WorkerGone("the worker process is gone") from None
        return self.clocks().cpu + children

    def other_processes(self) -> int:
        """Processes in the worker's sandbox besides the worker: its children, or orphans."""
        assert self.pid is not None
        init = self.init_pid
        pids = set(_children(self.pid))
        if init is not None:
            pids |= set(_children(init)) - {self.pid}
        return len(pids)

    def close(self) -> None:
        """Stop the worker and leave nothing of it behind."""
        with contextlib.suppress(WorkerGone, OSError):
            assert self.launched.commands is not None
            os.write(self.launched.commands, frame(TimingCommand(Command.STOP)))
        process = self.launched.process
        if not exits_within(process.pid, STOP_GRACE_SECONDS):
            kill_namespace(self.init_pid)
        kill_group(process.pid)
        process.wait()
        self.launched.close_fds()
        shutil.rmtree(self.launched.scratch, ignore_errors=True)

    def _read(self, deadline: float) -> TimingReply:
        deadline = min(deadline, self.deadline)
        while True:
            try:
                framed = split_frame(self.buffer, MAX_REPLY_BYTES)
                if framed is not None:
                    data, self.buffer = framed
                    return parse(TimingReply, data)
            except ProtocolError as error:
                raise WorkerGone(f"the worker sent a malformed reply: {error}") from None
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise WorkerGone("the worker did not answer in time")
            readable, _, _ = select.select([self.launched.results], [], [], remaining)
            if readable:
                chunk = os.read(self.launched.results, 1 << 20)
                if not chunk:
                    raise WorkerGone(self._why_gone())
                self.buffer += chunk

    def _why_gone(self) -> str:
        tail = ""
        with contextlib.suppress(OSError):
            tail = (self.launched.scratch / "stdout.txt").read_text("utf-8", "replace")[-300:]
        if "MemoryError" in tail:
            return "the worker ran out of memory"
        return "the worker exited" + (f": {tail.strip().splitlines()[-1]}" if tail.strip() else "")


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except (OSError, ValueError):
        return []
