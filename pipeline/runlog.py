"""The run log: every run appends JSON Lines to `.optimize_cache/runs/<UTC timestamp>.jsonl`.

One event per stage and per candidate, so that "why was this rewrite
accepted?" can be answered months later: the source hashes, the pass or the
model, the verdict with its examples and counterexample, the timings per size,
the sandbox level, durations and tokens. The log is bounded: only the newest
`KEEP_RUNS` runs are kept, and a run stops logging candidates at `MAX_RUN_BYTES`.
`optimize log` reads it back.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any

from pipeline.config import Config
from pipeline.model import CandidateOrigin, FileReport, Outcome

RUNS_DIR = Path(".optimize_cache") / "runs"
KEEP_RUNS = 50
MAX_RUN_BYTES = 4 << 20
FORMAT = 1


def runs_directory(config: Config) -> Path:
    """Next to the project's pyproject.toml, else in the working directory."""
    return config.root / RUNS_DIR


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


class RunLog:
    """An open run log; writing never fails a run (a log that cannot be written is skipped)."""

    def __init__(
        self, directory: Path, model: str, keep: int = KEEP_RUNS, max_bytes: int = MAX_RUN_BYTES
    ) -> None:
        self.model, self.max_bytes = model, max_bytes
        self.path: Path | None = None
        self._handle: IO[str] | None = None
        self._bytes = 0
        self._truncated = False
        try:
            directory.mkdir(parents=True, exist_ok=True)
            ignore = directory / ".gitignore"
            if not ignore.exists():
                ignore.write_text("# created by optimize\n*\n", encoding="utf-8")
            _rotate(directory, keep - 1)
            self.path, self._handle = _new_run_file(directory)
        except OSError:
            self._handle = None

    def event(self, kind: str, **fields: Any) -> None:
        """Append one event; past the size cap only the closing "end" event is still written."""
        if self._handle is None or (self._truncated and kind != "end"):
            return
        line = json.dumps({"event": kind, **fields}, ensure_ascii=False, default=str) + "\n"
        size = len(line.encode("utf-8", "surrogatepass"))
        if self._bytes + size > self.max_bytes and kind != "end":
            self._truncated = True
            line = json.dumps({"event": "truncated", "limit_bytes": self.max_bytes}) + "\n"
        try:
            self._handle.write(line)
            self._handle.flush()
        except OSError:
            self.close()
        self._bytes += size

    def start(self, argv: Sequence[str], environment: Mapping[str, Any]) -> None:
        self.event("run", format=FORMAT, argv=list(argv), cwd=str(Path.cwd()),
                   started=_utc_now(), **environment)  # fmt: skip

    def file(self, report: FileReport, written: bool) -> None:
        for stage, seconds in report.stage_times.items():
            self.event("stage", path=str(report.path), stage=stage, seconds=round(seconds, 6))
        self.event(
            "file",
            path=str(report.path),
            source_sha256=sha256(report.source.text) if report.source else None,
            functions=list(report.functions),
            candidates=len(report.outcomes),
            accepted=len(report.accepted),
            written=written,
            llm_tokens=report.llm_tokens,
            error=report.error,
            llm_functions=[dataclasses.asdict(visit) for visit in report.llm_visits],
        )

    def candidate(
        self, path: Path, outcome: Outcome, seconds: Mapping[str, float], started: float
    ) -> None:
        candidate, verdict, timing = outcome.candidate, outcome.verdict, outcome.timing
        self.event(
            "candidate",
            path=str(path),
            function=candidate.function,
            line=candidate.lineno,
            source_sha256=sha256(candidate.original_code),
            candidate_sha256=sha256(candidate.module_code),
            origin=candidate.origin,
            rules=list(candidate.rules),
            assumptions=list(candidate.assumptions),
            model=self.model if candidate.origin == CandidateOrigin.LLM else None,
            verdict=dataclasses.asdict(verdict),
            timing=dataclasses.asdict(timing) if timing else None,
            sandbox=timing.isolation if timing else None,
            accepted=outcome.accepted,
            reason=outcome.reason,
            cached=not seconds,
            started=round(started, 3),  # Unix time; `seconds` says how long each stage took
            seconds={stage: round(spent, 6) for stage, spent in seconds.items()},
        )

    def end(self, **fields: Any) -> None:
        self.event("end", finished=_utc_now(), **fields)
        self.close()

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None


def _utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _new_run_file(directory: Path) -> tuple[Path, IO[str]]:
    """`<UTC timestamp>.jsonl`, named so that names sort by time; never reuses a name."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S.%fZ")
    for attempt in range(100):
        path = directory / (f"{stamp}.jsonl" if not attempt else f"{stamp}-{attempt}.jsonl")
        try:
            return path, path.open("x", encoding="utf-8")
        except FileExistsError:
            continue
    raise OSError(f"{directory}: cannot create a run log")


def run_files(directory: Path) -> list[Path]:
    """The logged runs, oldest first."""
    try:
        return sorted(p for p in directory.iterdir() if p.suffix == ".jsonl")
    except OSError:
        return []


def _rotate(directory: Path, keep: int) -> None:
    runs = run_files(directory)
    for old in runs[: max(0, len(runs) - keep)]:
        with contextlib.suppress(OSError):
            os.unlink(old)


def read_events(path: Path) -> list[dict[str, Any]]:
    """The events of one run; a line cut short by a crash is skipped."""
    events = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if isinstance(event, dict):
                events.append(event)
    return events
