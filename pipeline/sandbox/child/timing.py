"""A timing worker: one function alone in its process, running calls when the parent says.

The parent keeps every clock. It reads this process's CPU clock from outside
(the kernel's, which nothing in here can patch) and its own wall clock around
each RUN, so code under test cannot make itself look fast by patching `time`
or this module: at most it can lie in its replies, and the parent checks those
(result digests, CPU spent outside the timed runs, CPU spent while idle).
"""

from __future__ import annotations

import gc
import itertools
import pickle
import random
from collections.abc import Callable, Iterator
from typing import Any

from .encoding import TooLarge, encode
from .loading import load_module, resolve
from .observe import MAX_DRAIN, ExampleTimeout, first_line, silenced, time_limit
from .protocol import Command, TimeRequest, TimingCommand, TimingReply
from .synthesis import (
    NoInputs,
    call_size,
    from_hook,
    inputs_hook,
    literal,
    recorded,
    synthesise,
)
from .wire import ProtocolError, read_message, write_message


def serve(request: TimeRequest, commands: int, replies: int) -> None:
    """Answer commands until STOP or the end of the channel."""
    worker = Worker(request)
    write_message(replies, worker.ready())
    while True:
        try:
            command = read_message(commands, TimingCommand)
        except ProtocolError:  # the parent is gone
            return
        if command.command == Command.STOP:
            return
        write_message(replies, worker.handle(command))


class Worker:
    def __init__(self, request: TimeRequest) -> None:
        self.request = request
        target = request.target
        self.function: Callable[..., Any] = resolve(load_module(target), target.qualname)
        self.hook = inputs_hook(self.function, target.qualname)
        self.call: tuple[tuple[Any, ...], dict[str, Any]] = ((), {})
        self.batches: list[tuple[tuple[Any, ...], dict[str, Any]]] | None = None
        self.loops = 1

    def ready(self) -> TimingReply:
        inputs = self.request.inputs
        sizes = []
        for index in range(len(inputs.recorded_calls)):
            try:
                sizes.append(call_size(recorded(inputs, index, 1)))
            except Exception:
                sizes.append(-1)
        return TimingReply(True, detail="hook" if self.hook else "", sizes=tuple(sizes))

    def handle(self, command: TimingCommand) -> TimingReply:
        try:
            if command.command == Command.BUILD:
                return self.build(command)
            if command.command == Command.LOAD:
                self.call = pickle.loads(command.blob)
                return TimingReply(True)
            if command.command == Command.PREPARE:
                return self.prepare(command.loops, command.copy_args)
            if command.command == Command.RUN:
                return self.run(command.limit)
        except ExampleTimeout:
            return TimingReply(False, detail="over the time limit")
        except NoInputs as error:
            return TimingReply(False, detail=str(error))
        except BaseException as error:  # the user's code raised: report it, keep serving
            return TimingReply(False, detail=f"{type(error).__name__}: {first_line(error)}")
        return TimingReply(False, detail=f"unknown command {command.command}")

    def build(self, command: TimingCommand) -> TimingReply:
        inputs, size = self.request.inputs, command.size
        with silenced():
            if command.recorded >= 0:
                call = recorded(inputs, command.recorded, max(1, command.scale))
            elif command.literal >= 0:
                call = literal(self.function, inputs, command.literal)
            elif self.hook is not None:
                call = from_hook(self.hook, size)
            else:
                call = synthesise(self.function, inputs, size, random.Random(size),
                                  self.request.target.self_unused)  # fmt: skip
        self.call = call
        blob = pickle.dumps(call, protocol=pickle.HIGHEST_PROTOCOL)
        # A size asked for is the size (a hook's n may be an index); a given call is measured.
        given = command.recorded >= 0 or command.literal >= 0
        return TimingReply(True, blob=blob, sizes=(call_size(call) if given else size,))

    def prepare(self, loops: int, copy_args: bool) -> TimingReply:
        """Fresh copies for a function that mutates its inputs, made before the clock starts."""
        self.loops = max(1, loops)
        self.batches = None
        if copy_args:
            blob = pickle.dumps(self.call, protocol=pickle.HIGHEST_PROTOCOL)
            self.batches = [pickle.loads(blob) for _ in range(self.loops)]
        gc.collect()
        return TimingReply(True)

    def run(self, limit: float) -> TimingReply:
        function, (args, kwargs), result = self.function, self.call, None
        limit = limit or self.request.settings.call_budget * 2 * self.loops + 1
        gc.disable()
        try:
            with silenced(), time_limit(limit):
                if self.batches is None:
                    for _ in range(self.loops):
                        result = _consumed(function(*args, **kwargs))
                else:
                    for batch_args, batch_kwargs in self.batches:
                        result = _consumed(function(*batch_args, **batch_kwargs))
        finally:
            gc.enable()
            self.batches = None
        return TimingReply(True, digest=_digest(result))


_ITERATES: dict[type, bool] = {}


def _consumed(result: Any) -> Any:
    """A generator's (an iterator's) items, up to the bound verification drains: calling
    one only makes it, and its caller pays for the items (a generator's rewrite was timed
    at making it, ~1 µs whatever its work). Other results as they are."""
    kind = type(result)
    iterates = _ITERATES.get(kind)
    if iterates is None:
        iterates = issubclass(kind, Iterator) and not issubclass(kind, str | bytes)
        _ITERATES[kind] = iterates
    return list(itertools.islice(result, MAX_DRAIN)) if iterates else result


def _digest(result: Any) -> str:
    try:
        return str(encode(result)["sha"])
    except (TooLarge, RecursionError):
        return "too large"
