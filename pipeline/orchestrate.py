"""Runs the five stages for one file: parse, analyze, rewrite, verify, measure."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import libcst as cst

from passes import OptimizationPass, all_passes
from pipeline.analyze import analyze
from pipeline.config import Config
from pipeline.measure import measure
from pipeline.model import Candidate, FileReport, Outcome
from pipeline.parse import InputError, libcst_module, parse, read_source
from pipeline.rewrite import splice
from pipeline.rewrite import propose as propose_from_passes
from pipeline.verify import verify

Progress = Callable[[str], None]


def selected_passes(config: Config) -> tuple[type[OptimizationPass], ...]:
    def chosen(code: str) -> bool:
        selected = not config.select or any(code.startswith(s) for s in config.select)
        return selected and not any(code.startswith(i) for i in config.ignore)

    return tuple(p for p in all_passes() if chosen(p.code))


def optimize_file(
    path: Path,
    config: Config,
    functions: Sequence[str] = (),
    progress: Progress | None = None,
) -> FileReport:
    try:
        source = read_source(path, config.max_file_bytes)
        parsed = parse(source)
        facts = analyze(parsed, selected_passes(config))
        if functions:
            facts = tuple(f for f in facts if f.info.name in functions)
        module = libcst_module(parsed) if any(f.applicable_passes for f in facts) else None
        candidates = propose_from_passes(parsed, facts, selected_passes(config), module)
    except InputError as error:
        return FileReport(path, error=str(error))
    outcomes = []
    for candidate in candidates:
        if progress:
            progress(f"{path.name}::{candidate.function}")
        outcomes.append(evaluate(candidate, config))
    accepted = [o.candidate for o in outcomes if o.accepted]
    new_text = apply_accepted(module, accepted) if module is not None and accepted else None
    return FileReport(path, tuple(outcomes), source=source, new_text=new_text)


def evaluate(candidate: Candidate, config: Config) -> Outcome:
    """Verify, then time; accept only an equivalent candidate that is measurably faster."""
    verdict = verify(candidate, config)
    if not verdict.is_equivalent:
        return Outcome(candidate, verdict, None, False, _rejection(verdict.status, verdict.detail))
    timing = measure(candidate, config, copy_args=verdict.mutates_arguments)
    if timing.accepted:
        return Outcome(candidate, verdict, timing, True, "verified and faster")
    if not timing.sizes:
        return Outcome(candidate, verdict, timing, False, f"not timed: {timing.detail}")
    slower = [s for s in timing.sizes if s.decision == "slower"]
    reason = (
        f"slower at n={slower[0].size}" if slower else "not measurably faster at the largest size"
    )
    return Outcome(candidate, verdict, timing, False, reason)


def _rejection(status: str, detail: str) -> str:
    label = {"counterexample": "behaviour differs", "unverifiable": "unverified"}[status]
    return f"{label}: {detail}" if detail else label


def apply_accepted(module: cst.Module, accepted: Sequence[Candidate]) -> str:
    for candidate in accepted:
        module = splice(module, cst.parse_module(candidate.module_code), candidate.function)
    return module.code
