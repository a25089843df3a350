"""A content-hash cache of verdicts, so an unchanged function costs nothing twice.

The key hashes everything the outcome depends on: the function's dependency
slice in the original and in the candidate (see `slices`: an edit elsewhere in
the file changes neither), the function and pass codes, the tool version and
the code of the sandboxed child, the Python version, the verify/timing/limits
settings and `--fast`. The value is the verdict *with its timing*, stored as
one JSON file per key. A hit reproduces the same finding with the same
numbers, which keeps CI review comments stable across re-runs; and a decision
once made for a function's content stays made (a rewrite rejected as not
faster is not re-timed until the function changes), so `--write` followed by
`--check` finds nothing new however noisy the machine.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import platform
import tempfile
from collections.abc import Callable, Sequence
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

from pipeline.config import Config
from pipeline.model import (
    Candidate,
    Counterexample,
    Outcome,
    SizeDecision,
    SizeTiming,
    Timing,
    Verdict,
    VerdictStatus,
)
from pipeline.sandbox.isolation import CHILD_DIR
from pipeline.slices import slice_digest

CACHE_DIR_NAME = ".optimize_cache"
CACHE_DIR_ENV = "OPTIMIZE_CACHE_DIR"
FORMAT = 3



class VerdictCache:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.hits = 0

    @classmethod
    def for_project(cls, config: Config) -> VerdictCache:
        """$OPTIMIZE_CACHE_DIR, else `.optimize_cache/verdicts/` by pyproject.toml, else cwd."""
        configured = os.environ.get(CACHE_DIR_ENV)
        if configured:
            return cls(Path(configured))
        return cls(config.root / CACHE_DIR_NAME / "verdicts")

    def evaluate(
        self,
        candidate: Candidate,
        config: Config,
        compute: Callable[[], Outcome],
        recorded_calls: Sequence[bytes] = (),
    ) -> Outcome:
        """The cached outcome for `candidate`, or `compute()`'s, stored when it is stable.

        `recorded_calls` (a trace's) are inputs of verification and timing: part of the key.
        """
        key = cache_key(candidate, config, recorded_calls)
        stored = self._load(key)
        if stored is not None:
            self.hits += 1
            return outcome_from_json(candidate, stored)
        outcome = compute()
        if is_stable(outcome):
            self._store(key, outcome_to_json(outcome))
        return outcome

    def _path(self, key: str) -> Path:
        return self.directory / key[:2] / f"{key}.json"

    def _load(self, key: str) -> dict[str, Any] | None:
        try:
            data = json.loads(self._path(key).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) and data.get("format") == FORMAT else None

    def _store(self, key: str, value: dict[str, Any]) -> None:
        """Write atomically; a cache that cannot be written only costs speed."""
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            ignore = self.directory / ".gitignore"
            if not ignore.exists():
                ignore.write_text("# created by optimize\n*\n", encoding="utf-8")
            descriptor, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
            with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
                json.dump(value, handle)
            os.replace(temporary, path)
        except OSError:
            return


def cache_key(candidate: Candidate, config: Config, recorded_calls: Sequence[bytes] = ()) -> str:
    relevant = {
        "format": FORMAT,
        "tool": tool_fingerprint(),
        "python": platform.python_version(),
        "ci": os.environ.get("CI", "").lower() == "true",  # doubles the noise floor
        "function": candidate.function,
        "reference": candidate.reference_function,
        "rules": list(candidate.rules),
        "original": slice_digest(candidate.original_code, candidate.reference_function),
        "candidate": slice_digest(candidate.module_code, candidate.function),
        "module": candidate.module_name,
        "min_speedup": config.min_speedup,
        # An undecided timing is kept like any other (a --check after --write must agree
        # with it); a longer budget, which could decide it, is another key.
        "candidate_budget": config.candidate_budget,
        "fast": config.fast,  # an untimed --fast verdict must not answer a timed run
        "verify": dataclasses.asdict(config.verify),
        "timing": dataclasses.asdict(config.timing),
        "limits": dataclasses.asdict(config.limits),
        "strategies": config.strategies.get(candidate.reference_function, {}),
        "recorded_calls": calls_digest(recorded_calls) if recorded_calls else "",
    }
    text = json.dumps(relevant, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def calls_digest(calls: Sequence[bytes]) -> str:
    """A content hash of recorded calls (pickles, hashed as bytes and never loaded)."""
    digest = hashlib.sha256()
    for blob in calls:
        digest.update(len(blob).to_bytes(8, "big") + blob)
    return digest.hexdigest()


@cache
def tool_fingerprint() -> str:
    """The package version plus a hash of the child package that verifies and times."""
    try:
        version = metadata.version("optimize")
    except metadata.PackageNotFoundError:
        version = "unknown"
    digest = hashlib.sha256()
    try:
        for path in sorted(CHILD_DIR.glob("*.py")):
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
        child = digest.hexdigest()[:16]
    except OSError:
        child = "unknown"
    return f"{version}+{child}"


def is_stable(outcome: Outcome) -> bool:
    """Only decisions worth repeating: not sandbox failures, import failures (installing
    the missing module must change the answer) or skipped timings.

    An accepted outcome without timing is a `--fast` verdict: timing was not skipped
    by accident but by design, so it is as repeatable as its verification.
    """
    if outcome.verdict.transient or outcome.verdict.import_failed:
        return False
    if outcome.accepted and outcome.timing is None:
        return True
    return not outcome.verdict.is_equivalent or bool(outcome.timing and outcome.timing.sizes)


def outcome_to_json(outcome: Outcome) -> dict[str, Any]:
    verdict, timing = outcome.verdict, outcome.timing
    return {
        "format": FORMAT,
        "accepted": outcome.accepted,
        "reason": outcome.reason,
        "verdict": dataclasses.asdict(verdict),
        "timing": dataclasses.asdict(timing) if timing else None,
    }


def outcome_from_json(candidate: Candidate, data: dict[str, Any]) -> Outcome:
    raw = data["verdict"]
    counterexample = raw.get("counterexample")
    verdict = Verdict(
        status=VerdictStatus(raw["status"]),
        examples=int(raw["examples"]),
        strategy_sources=tuple(raw["strategy_sources"]),
        detail=raw["detail"],
        counterexample=Counterexample(**counterexample) if counterexample else None,
        mutates_arguments=bool(raw["mutates_arguments"]),
        basis=tuple((str(label), int(count)) for label, count in raw.get("basis", ())),
    )
    timing = None
    if data["timing"] is not None:
        raw_timing = dict(data["timing"])
        sizes = tuple(
            SizeTiming(**{**size, "decision": SizeDecision(size["decision"])})
            for size in raw_timing.pop("sizes")
        )
        recorded_calls = tuple(raw_timing.pop("recorded_calls", ()))
        decision = raw_timing.pop("recorded_decision", None)
        recorded_decision = (
            SizeTiming(**{**decision, "decision": SizeDecision(decision["decision"])})
            if decision
            else None
        )
        timing = Timing(sizes=sizes, recorded_calls=recorded_calls,
                        recorded_decision=recorded_decision, **raw_timing)  # fmt: skip
    return Outcome(candidate, verdict, timing, bool(data["accepted"]), data["reason"])
