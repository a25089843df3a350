"""Who is told what happens while files are worked on (progress displays, the run log).

Its own module, so that the command line can show progress without importing
the stages (and libcst) before it needs them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Protocol

from pipeline.model import Outcome


class Observer(Protocol):
    """Told what happens while a file is worked on: progress displays and the run log.

    `seconds` holds the verify/measure time a candidate took (empty for a verdict
    from the cache); `started` is when its evaluation began (`time.time()`).
    """

    def function_started(self, path: Path, function: str) -> None: ...

    def function_finished(self, path: Path, function: str, outcomes: Sequence[Outcome]) -> None: ...

    def candidate_evaluated(
        self, path: Path, outcome: Outcome, seconds: Mapping[str, float], started: float
    ) -> None: ...


class Unobserved:
    """An Observer that ignores everything."""

    def function_started(self, path: Path, function: str) -> None:
        pass

    def function_finished(self, path: Path, function: str, outcomes: Sequence[Outcome]) -> None:
        pass

    def candidate_evaluated(
        self, path: Path, outcome: Outcome, seconds: Mapping[str, float], started: float
    ) -> None:
        pass
