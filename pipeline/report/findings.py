"""Accepted rewrites as review findings: where they are, what they change, how fast.

The review outputs (GitHub annotations, SARIF, Markdown) all render the same
`Finding`s, in the same order, so they agree with each other.
"""

from __future__ import annotations

import ast
import difflib
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from pipeline.model import CandidateOrigin, FileReport, Outcome, SizeTiming
from pipeline.report.terminal import (
    NOT_TIMED_FAST,
    assumptions_text,
    candidate_diff,
    headline_where,
    speedup_text,
)
from pipeline.stages.defs import find_node, span


@dataclass(frozen=True)
class Replacement:
    """Lines [first, last_exclusive) of the original (1-based) become `text`."""

    first: int
    last_exclusive: int
    text: str


@dataclass(frozen=True)
class Finding:
    path: str  # repository-relative, forward slashes
    outcome: Outcome

    @property
    def function(self) -> str:
        return self.outcome.candidate.function

    @property
    def rule(self) -> str:
        """The pass code (first, when passes composed), or `LLM` for model proposals."""
        candidate = self.outcome.candidate
        if candidate.origin == CandidateOrigin.LLM or not candidate.rules:
            return "LLM"
        return candidate.rules[0]

    @property
    def headline(self) -> SizeTiming | None:
        """The measured speedup; None for a `--fast` acceptance, which was not timed."""
        timing = self.outcome.timing
        return timing.headline if timing else None

    @property
    def speedup(self) -> str:
        return speedup_text(self.outcome.timing) if self.headline else NOT_TIMED_FAST

    @property
    def span(self) -> tuple[int, int]:
        """First and last line of the original function, decorators included."""
        return function_span(self.outcome.candidate.original_code, self.function) or (
            self.outcome.candidate.lineno,
            self.outcome.candidate.lineno,
        )

    @property
    def diff(self) -> str:
        return candidate_diff(self.path, self.outcome)

    @property
    def message(self) -> str:
        verdict = self.outcome.verdict
        label = self.outcome.candidate.label or "LLM"
        verified = f"({label}); verified equivalent on {verdict.examples} examples"
        if self.headline is None:  # never worded as a measured speedup
            claim = "has an asymptotically faster rewrite"
            message = f"{self.function} {claim} {verified}; {self.speedup}"
            return message + assumptions_text(self.outcome.candidate.assumptions)
        where = headline_where(self.outcome.timing) if self.outcome.timing else ""
        message = f"{self.function} can be {self.speedup} faster {where} {verified}"
        return message + assumptions_text(self.outcome.candidate.assumptions)

    @property
    def fingerprint(self) -> str:
        """Stable across re-runs of the same code, so code scanning dedupes it."""
        candidate = self.outcome.candidate
        text = "\0".join((self.path, self.function, self.rule, candidate.module_code))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]

    def replacements(self) -> list[Replacement]:
        candidate = self.outcome.candidate
        before = candidate.original_code.splitlines(keepends=True)
        after = candidate.module_code.splitlines(keepends=True)
        matcher = difflib.SequenceMatcher(a=before, b=after, autojunk=False)
        return [
            Replacement(i1 + 1, i2 + 1, "".join(after[j1:j2]))
            for tag, i1, i2, j1, j2 in matcher.get_opcodes()
            if tag != "equal"
        ]


def function_span(code: str, name: str) -> tuple[int, int] | None:
    """First (decorator) and last line of the def `name` (a qualname)."""
    try:
        node = find_node(ast.parse(code), name)
    except (SyntaxError, ValueError):
        return None
    return None if node is None else span(node)


def collect(reports: Iterable[FileReport], root: Path, limit: int | None) -> list[Finding]:
    """Accepted rewrites, biggest speedup first (ties by place), at most `limit`.

    Untimed `--fast` acceptances come after every measured speedup.
    """
    found = [
        Finding(_relative(report.path, root), outcome)
        for report in reports
        for outcome in report.accepted
    ]
    found.sort(key=_rank)
    return found if limit is None else found[: max(0, limit)]


def _rank(finding: Finding) -> tuple[bool, float, str, int]:
    headline, where = finding.headline, (finding.path, finding.outcome.candidate.lineno)
    return (headline is None, -headline.ratio if headline else 0.0, *where)


def _relative(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()
