"""What a run did, in numbers: the totals behind the summary line, JSON, HTML and the run log."""

from __future__ import annotations

import dataclasses
import json
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

from pipeline.config import Config
from pipeline.model import FileReport, Outcome, SizeDecision, VerdictStatus
from pipeline.sandbox.child.protocol import NEEDS_INSTANCE
from pipeline.sandbox.isolation import best_isolation
from pipeline.stages.defs import LOCALS
from pipeline.stages.timing_stats import python_version

UNVERIFIABLE_HINT = (
    "give it inputs with `optimize trace`, [tool.optimize.strategies] or an "
    "OPTIMIZE_INPUTS hook (see the README)"
)
UNDECIDED_HINT = (
    "a longer candidate-budget (or more [tool.optimize.timing] pairs) could decide them"
)


def rejection(outcome: Outcome) -> str:
    """Why a candidate was not accepted, as one of a few fixed words."""
    verdict, timing = outcome.verdict, outcome.timing
    if verdict.status == VerdictStatus.COUNTEREXAMPLE:
        return "behaviour differs"
    if verdict.status == VerdictStatus.UNVERIFIABLE:
        return "unverifiable"
    if verdict.status == VerdictStatus.NONDETERMINISTIC:
        return "nondeterministic"
    if verdict.status == VerdictStatus.NOT_RUN:
        return "refused before verification"
    if timing is None or not timing.sizes:
        return "not timed"
    if timing.accepted:
        return "a faster variant won"
    if timing.headline and timing.headline.decision == SizeDecision.UNDECIDED:
        return "undecided"  # as `timing_rejection` says: the deciding size comes first
    if any(size.decision == SizeDecision.SLOWER for size in timing.sizes):
        return "slower"
    return "not faster"


@dataclass(frozen=True)
class Totals:
    files: int = 0
    functions: int = 0
    candidates: int = 0
    accepted: int = 0
    rejected: dict[str, int] = field(default_factory=dict)  # by `rejection`, these two apart:
    unverifiable: int = 0
    undecided: int = 0  # the deciding interval still straddled the floor when the budget ended
    errors: int = 0
    llm_tokens: int = 0
    no_instance: int = 0  # of the unverifiable: methods that had no instance to run on
    import_failed: int = 0  # of the unverifiable: the sandbox could not import their module
    missing_modules: dict[str, int] = field(default_factory=dict)  # what those imports lacked

    @classmethod
    def of(cls, reports: Sequence[FileReport]) -> Totals:
        outcomes = [o for r in reports for o in r.outcomes]
        reasons = Counter(rejection(o) for o in outcomes if not o.accepted)
        unverifiable = reasons.pop("unverifiable", 0)
        missing = Counter(o.verdict.missing_module for o in outcomes if o.verdict.missing_module)
        undecided = reasons.pop("undecided", 0)
        return cls(
            no_instance=sum(o.verdict.detail.startswith(NEEDS_INSTANCE) for o in outcomes),
            import_failed=sum(o.verdict.import_failed for o in outcomes),
            missing_modules=dict(sorted(missing.items())),
            files=len(reports),
            functions=sum(units(r.functions) for r in reports),
            candidates=len(outcomes),
            accepted=sum(o.accepted for o in outcomes),
            rejected=dict(sorted(reasons.items())),
            unverifiable=unverifiable,
            undecided=undecided,
            errors=sum(1 for r in reports if r.error),
            llm_tokens=sum(r.llm_tokens for r in reports),
        )

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Totals:
        """Totals from JSON; a field that an older run log lacks keeps its default."""
        return cls(**{f.name: data[f.name] for f in dataclasses.fields(cls) if f.name in data})

    def __add__(self, other: Totals) -> Totals:
        values: dict[str, Any] = {}
        for name in (f.name for f in dataclasses.fields(self)):
            mine, theirs = getattr(self, name), getattr(other, name)
            if isinstance(mine, dict):  # counts by reason or by module
                merged = Counter(mine)
                merged.update(theirs)
                values[name] = dict(sorted(merged.items()))
            else:
                values[name] = mine + theirs
        return Totals(**values)


def units(qualnames: Sequence[str]) -> int:
    """How many functions a user would count: a nested function is part of the one
    around it (it is examined with it), not one more."""
    return sum(1 for name in qualnames if f".{LOCALS}." not in name)


@dataclass(frozen=True)
class Skipped:
    """Files a directory walk found and the run left alone on purpose."""

    test_files: int = 0
    # (path as given, what it needs: "3.12 syntax")
    newer_python: tuple[tuple[str, str], ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "test_files": self.test_files,
            "newer_python": [{"path": path, "needs": why} for path, why in self.newer_python],
        }

    def lines(self) -> list[str]:
        """The summary's lines about skipped files (none when nothing was skipped)."""
        lines = []
        if self.newer_python:
            needs = Counter(why for _, why in self.newer_python)
            why = ", ".join(
                reason if len(needs) == 1 else f"{reason} ({count})"
                for reason, count in sorted(needs.items())
            )
            lines.append(f"{len(self.newer_python)} file(s) skipped: they need a newer Python: "
                         f"{why}")  # fmt: skip
        if self.test_files:
            lines.append(f"{self.test_files} test file(s) skipped: --include-tests "
                         "examines them")  # fmt: skip
        return lines


def summary_lines(totals: Totals, seconds: float, *, wrote: bool, verbose: bool) -> list[str]:
    """The summary line, and a hint line when something could not be verified."""
    verb = "applied" if wrote else "found"
    parts = [
        f"{totals.accepted} verified speedup(s) {verb}",
        f"{totals.functions} function(s) examined in {totals.files} file(s)",
        f"{totals.candidates} candidate(s): {totals.accepted} accepted, "
        + _rejected_text(totals)
        + f", {totals.undecided} undecided" * bool(totals.undecided)
        + f", {totals.unverifiable} unverifiable",
    ]
    if totals.errors:
        parts.append(f"{totals.errors} error(s)")
    if totals.llm_tokens:
        parts.append(f"{totals.llm_tokens} LLM token(s) used")
    line = "; ".join(parts) + f"; {seconds:.1f} s"
    if totals.accepted and not wrote:
        line += "; nothing written: run with --write"
    lines = [line]
    if totals.undecided:
        lines.append(f"{totals.undecided} undecided: {UNDECIDED_HINT}")
    if totals.import_failed:
        lines.append(_import_hint(totals, verbose))
    without_inputs = totals.unverifiable - totals.import_failed
    if without_inputs > 0:
        see = "" if verbose else "run with -v to see why, then "
        methods = f" ({totals.no_instance} method(s) with no instance)" * bool(totals.no_instance)
        lines.append(f"{without_inputs} candidate(s) could not be verified{methods}: {see}"
                     f"{UNVERIFIABLE_HINT}")  # fmt: skip
    return lines


def _import_hint(totals: Totals, verbose: bool) -> str:
    """Inputs are not the problem here: the sandbox could not import the module."""
    head = f"{totals.import_failed} candidate(s) could not be verified: importing the module failed"
    where = f"the environment that runs optimize ({sys.prefix}) or its PYTHONPATH"
    names = ", ".join(f"`{name}`" for name in totals.missing_modules)
    if names:
        return (f"{head} (no module named {names}): make {names} importable in {where}, "
                "then run again (import failures are never cached)")  # fmt: skip
    see = "" if verbose else "run with -v to see the error, "
    return (f"{head}: {see}fix it so that the module imports in {where}, then run again "
            "(import failures are never cached)")  # fmt: skip


def _rejected_text(totals: Totals) -> str:
    count = sum(totals.rejected.values())
    if not count:
        return "0 rejected"
    reasons = ", ".join(f"{n} {reason}" for reason, n in totals.rejected.items())
    return f"{count} rejected ({reasons})"


def tool_version() -> str:
    try:
        return metadata.version("optimize")
    except metadata.PackageNotFoundError:
        return "unknown"


def run_environment(config: Config, **run_settings: Any) -> dict[str, Any]:
    """Python, sandbox level and every setting that shaped the verdicts, for reports and logs.

    A run that verifies nothing (`verified=False`: `--no-verify`) runs no sandbox, so
    its level is not probed (a probe starts a sandboxed child) and reads "not used"."""
    environment = {
        "tool": f"optimize {tool_version()}",
        "python": python_version(),
        "sandbox": best_isolation() if run_settings.get("verified", True) else "not used",
        "settings": {**run_settings, "config": dataclasses.asdict(config)},
    }
    # Paths and enums as the text JSON shows them, so every output can carry this as is.
    plain: dict[str, Any] = json.loads(json.dumps(environment, default=str))
    return plain
