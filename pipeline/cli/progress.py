"""Progress while a run works: a rich bar on a terminal, one line per function elsewhere.

Both count functions, done/total, as a user counts them: a nested function is
part of the one around it, not one more. On a terminal the bar names the function
being worked on; without one (CI logs, pre-commit), each function with at least
one candidate gets a line when it is decided, so a long run is never silent.
Everything goes to stderr, so `--json` and `--diff` output stays clean.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

from pipeline.model import Outcome
from pipeline.report.summary import rejection, units
from pipeline.report.terminal import speedup_text
from pipeline.stages.observe import Unobserved


def verdict_text(outcomes: Sequence[Outcome]) -> str:
    """One function's result in a few words: its accepted rewrite, or why none was."""
    for outcome in outcomes:
        if outcome.accepted:
            rules = outcome.candidate.label or "LLM"
            return f"accepted {rules} {speedup_text(outcome.timing)}"
    reasons = sorted({rejection(o) for o in outcomes})
    return "rejected: " + ", ".join(reasons) if reasons else "no candidate"


class LineProgress(Unobserved):
    """One line per decided function: `[3/40] src/m.py::f accepted OPT106 2.31× [2.27, 2.35]
    (4.2 s)`."""

    def __init__(self, total: int, stream: TextIO = sys.stderr) -> None:
        self.total, self.done, self.stream = total, 0, stream
        self._started: dict[tuple[Path, str], float] = {}

    def function_started(self, path: Path, function: str) -> None:
        self._started[(path, function)] = time.monotonic()

    def function_finished(self, path: Path, function: str, outcomes: Sequence[Outcome]) -> None:
        self.done += units([function])
        started = self._started.pop((path, function), time.monotonic())
        if outcomes:
            seconds = time.monotonic() - started
            print(f"[{self.done}/{self.total}] {path}::{function} {verdict_text(outcomes)} "
                  f"({seconds:.1f} s)", file=self.stream, flush=True)  # fmt: skip

    def close(self) -> None:
        pass


class BarProgress(Unobserved):
    """A transient rich bar over functions, naming the ones being worked on."""

    def __init__(self, total: int, console: Console) -> None:
        self._working: list[str] = []
        self._bar = Progress(
            SpinnerColumn(),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("functions"),
            TimeElapsedColumn(),
            TextColumn("{task.description}"),
            console=console,
            transient=True,
        )
        self._task = self._bar.add_task("", total=total)
        self._bar.start()

    def function_started(self, path: Path, function: str) -> None:
        self._working.append(f"{path.name}::{function}")
        self._show()

    def function_finished(self, path: Path, function: str, outcomes: Sequence[Outcome]) -> None:
        name = f"{path.name}::{function}"
        if name in self._working:
            self._working.remove(name)
        self._bar.advance(self._task, units([function]))
        self._show()

    def _show(self) -> None:
        self._bar.update(self._task, description=", ".join(self._working[:3]))

    def close(self) -> None:
        self._bar.stop()


class Silent(Unobserved):
    def close(self) -> None:
        pass


Display = LineProgress | BarProgress | Silent


def display(total: int, console: Console, quiet: bool) -> Display:
    if quiet or total == 0:
        return Silent()
    return BarProgress(total, console) if console.is_terminal else LineProgress(total)
