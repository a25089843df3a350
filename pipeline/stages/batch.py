"""Many files through `finish_file`: verification in parallel, timing one at a time.

`jobs` worker threads each take the next planned file. Verification runs in
sandboxed child processes, so the threads really do run in parallel; timing
holds the run's timing lock (`measure.one_measurement_at_a_time`), so it stays
serial whatever `jobs` is. Observer calls and finished reports are handed to the
calling thread, which alone prints, logs and writes files, so each file can be
written as soon as it is decided. The workers are daemon threads: Ctrl-C in the
calling thread ends the run at once, keeping what was already finished.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.model import FileReport, Outcome
from pipeline.stages.observe import Observer

if TYPE_CHECKING:  # the stages (and libcst) load only when a file is worked on
    from pipeline.stages.orchestrate import FilePlan

Work = Callable[["FilePlan", Observer], FileReport]
_Message = tuple[str, object]  # ("call", thunk) | ("report", FileReport) | ("error", exc)


def run_in_parallel(
    plans: Sequence[FilePlan], work: Work, jobs: int, observer: Observer
) -> Iterator[FileReport]:
    """Each plan's report, in the order they finish; `observer` is called in this thread."""
    todo: queue.SimpleQueue[FilePlan] = queue.SimpleQueue()
    for plan in plans:
        todo.put(plan)
    done: queue.SimpleQueue[_Message] = queue.SimpleQueue()
    relay = _Relay(done)

    def worker() -> None:
        while True:
            try:
                plan = todo.get_nowait()
            except queue.Empty:
                return
            try:
                done.put(("report", work(plan, relay)))
            except BaseException as error:  # handed to the caller, which re-raises it
                done.put(("error", error))
                return

    for _ in range(max(1, min(jobs, len(plans)))):
        threading.Thread(target=worker, name="optimize-worker", daemon=True).start()
    remaining = len(plans)
    while remaining:
        kind, value = done.get()
        if kind == "call":
            assert callable(value)
            value(observer)
        elif kind == "report":
            assert isinstance(value, FileReport)
            remaining -= 1
            yield value
        else:
            assert isinstance(value, BaseException)
            raise value


class _Relay:
    """An Observer that forwards each call to the thread reading `done`."""

    def __init__(self, done: queue.SimpleQueue[_Message]) -> None:
        self._done = done

    def function_started(self, path: Path, function: str) -> None:
        self._done.put(("call", lambda o: o.function_started(path, function)))

    def function_finished(self, path: Path, function: str, outcomes: Sequence[Outcome]) -> None:
        self._done.put(("call", lambda o: o.function_finished(path, function, outcomes)))

    def candidate_evaluated(
        self, path: Path, outcome: Outcome, seconds: Mapping[str, float], started: float
    ) -> None:
        self._done.put(("call", lambda o: o.candidate_evaluated(path, outcome, seconds, started)))
