"""Turning file reports into what people read: terminal text, diffs and JSON."""

from __future__ import annotations

import difflib
import json
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.markup import escape

from pipeline.model import (
    FileReport,
    LLMVisit,
    Outcome,
    SizeDecision,
    SizeTiming,
    Timing,
    Verdict,
    WorkloadShare,
)

if TYPE_CHECKING:
    from passes import OptimizationPass

SCHEMA_VERSION = 1
# An accepted outcome without timing: `--fast` accepted an asymptotic win on its
# proof of equivalence alone. It is never presented as a measured speedup.
NOT_TIMED_FAST = "not timed (--fast)"


def speedup_text(timing: Timing | None) -> str:
    headline = timing.headline if timing else None
    if headline is None:
        return "not timed"
    return ratio_text(headline.ratio, headline.low, headline.high)


def ratio_text(ratio: float, low: float, high: float) -> str:
    """`118× [80, 150]`: the ratio and its interval (95%; at the deciding size, the
    sequential design's per-look interval), which need not be symmetric."""
    return f"{_figure(ratio)}× [{_figure(low)}, {_figure(high)}]"


def _figure(value: float) -> str:
    """Three significant digits, no more: 2.31, 23.1, 231, 2310."""
    if value >= 100:
        return f"{value:.0f}"
    return f"{value:.1f}" if value >= 10 else f"{value:.2f}"


def size_text(size: SizeTiming) -> str:
    """One input's result; a forgiven small-size loss says what it costs per call."""
    text = f"n={size.size}{_source(size.source)}: {ratio_text(size.ratio, size.low, size.high)}"
    if size.samples:
        text += f" ({samples_text(size)})"
    if size.decision == SizeDecision.SLOWER:
        text += f" (slower by {size.loss_seconds * 1e6:.2g} µs per call)"
    return text


def headline_where(timing: Timing) -> str:
    """Where the headline was measured: "at n=3200", or "on the recorded calls"."""
    headline = timing.headline
    if timing.recorded_decision is not None:
        return "on the recorded calls"
    return f"at n={headline.size}" if headline else ""


def samples_text(size: SizeTiming) -> str:
    """How many samples of each version a size's figure rests on."""
    return f"{size.samples} samples"


def recorded_saving_text(timing: Timing) -> str:
    """With a trace, what the recorded calls gain per call, weighted by the traced calls."""
    decision = timing.recorded_decision
    if decision is not None:
        measured = ratio_text(decision.ratio, decision.low, decision.high)
        looked = f" ({decision.samples} samples per call)" if decision.samples else ""
        return f"; the {decision.source}: {measured}{looked}, the decision"
    saving = timing.recorded_saving
    if saving is None:
        return ""
    calls = sum(timing.recorded_calls)
    verb = "saves" if saving >= 0 else "costs"
    per_call = f"{verb} {abs(saving) * 1e6:.2g} µs per call"
    return f"; over {calls} recorded call(s), weighted by size: {per_call}"


def unified_diff(path: str, before: str, after: str) -> str:
    return "".join(
        difflib.unified_diff(
            before.splitlines(keepends=True),
            after.splitlines(keepends=True),
            fromfile=f"a/{path}",
            tofile=f"b/{path}",
        )
    )


def candidate_diff(path: str, outcome: Outcome) -> str:
    return unified_diff(path, outcome.candidate.original_code, outcome.candidate.module_code)


def rule_names(rules: Sequence[str]) -> str:
    known = _passes_by_code()
    return ", ".join(f"{code} {known[code].name}" if code in known else code for code in rules)


def basis_text(verdict: Verdict) -> str:
    """What a verdict rests on: "40 recorded calls + 200 generated examples (sources)"."""
    sources = f" ({', '.join(verdict.strategy_sources)})" if verdict.strategy_sources else ""
    if not verdict.basis:
        return f"{verdict.examples} examples{sources}"
    parts = [f"{count} {label}" for label, count in verdict.basis]
    if parts[-1].endswith(" generated"):
        parts[-1] += " examples"
    return " + ".join(parts) + sources


def workload_text(share: WorkloadShare) -> str:
    """The function's part of the traced run and what the rewrite saves of the whole (or,
    when it is slower there, what it costs)."""
    text = f"{percent(share.share)} of workload ({share.calls:,} calls traced)"
    if share.saving is not None and share.saving_low is not None and share.saving_high is not None:
        text += f"; {saving_text(share.saving, share.saving_low, share.saving_high)}"
    return text


def saving_text(saving: float, low: float, high: float) -> str:
    """A projected saving of the workload with its interval; a negative one as a cost,
    its interval turned round to match: "projected cost 7.4% of the workload [1.5%, 16.1%]"."""
    if saving < 0:
        return (
            f"projected cost {percent(-saving)} of the workload [{percent(-high)}, {percent(-low)}]"
        )
    return f"projected saving {percent(saving)} of the workload [{percent(low)}, {percent(high)}]"


def percent(fraction: float) -> str:
    """One decimal; two significant digits under 0.1%, so a small share is not "0.0%"."""
    value = 100 * fraction
    if value != 0 and abs(value) < 0.05:
        return f"{value:.2g}%"
    return f"{value:.1f}%"


def print_terminal(
    console: Console, reports: Sequence[FileReport], show_rejected: bool, diffs: bool = True
) -> None:
    for report, outcome in _accepted_hottest_first(reports):
        _print_accepted(console, report, outcome, diffs)
    for report in reports:
        if report.error:
            continue
        for outcome in report.outcomes:
            if not outcome.accepted and show_rejected:
                candidate = outcome.candidate
                console.print(
                    f"[dim]{escape(str(report.path))}:{candidate.lineno} "
                    f"{escape(candidate.function)}: {escape(rule_names(candidate.rules))}"
                    f" rejected: {escape(outcome.reason)}[/dim]"
                )
        if show_rejected:
            for visit in report.llm_visits:
                _print_llm_visit(console, report, visit)


def _source(source: str) -> str:
    """Where a timed input came from, when it is not the usual synthesised one."""
    return "" if source == "synthesised" else f" ({source})"


def _accepted_hottest_first(reports: Sequence[FileReport]) -> list[tuple[FileReport, Outcome]]:
    """Accepted rewrites in file order; with a trace, the largest share of the workload first."""
    accepted = [(r, o) for r in reports if not r.error for o in r.outcomes if o.accepted]
    return sorted(accepted, key=lambda pair: -(pair[1].workload.share if pair[1].workload else 0))


def _print_llm_visit(console: Console, report: FileReport, visit: LLMVisit) -> None:
    if visit.no_proposal:
        said = f"no LLM proposal: {visit.no_proposal}"
    elif visit.detail:
        said = f"LLM: {visit.proposals} proposal(s) evaluated"
    else:
        return  # its outcomes are printed already
    detail = f" ({visit.detail})" if visit.detail else ""
    console.print(
        f"[dim]{escape(str(report.path))}:{visit.lineno} {escape(visit.function)}: "
        f"{escape(said + detail)}[/dim]"
    )


def _print_accepted(console: Console, report: FileReport, outcome: Outcome, diffs: bool) -> None:
    candidate, timing, verdict = outcome.candidate, outcome.timing, outcome.verdict
    where = (
        f"[bold]{escape(str(report.path))}:{candidate.lineno}[/bold] "
        f"[cyan]{escape(candidate.function)}[/cyan]  {escape(rule_names(candidate.rules))}  "
    )
    verified = f"  verified on {basis_text(verdict)}; "
    if timing is None or timing.headline is None:
        console.print(f"{where}[yellow]{NOT_TIMED_FAST}[/yellow]")
        console.print(f"{verified}timing skipped: --fast accepts asymptotic wins", style="dim")
    else:
        console.print(f"{where}[green]{speedup_text(timing)}[/green] {headline_where(timing)}")
        per_size = ", ".join(size_text(s) for s in timing.sizes) + recorded_saving_text(timing)
        console.print(
            f"{verified}{escape(per_size)}; {timing.python}, sandbox: {timing.isolation}",
            style="dim",
        )
    if outcome.workload is not None:
        console.print(f"  {escape(workload_text(outcome.workload))}")
    if candidate.assumptions:
        console.print(f"  {escape(assumptions_text(candidate.assumptions)[2:])}")
    if candidate.explanation:
        console.print(f"  model's explanation: {escape(candidate.explanation)}", style="dim")
    if diffs:
        console.print(escape(candidate_diff(str(report.path), outcome)), highlight=False)


def assumptions_text(assumptions: Sequence[str]) -> str:
    """The "; assumes x: list[str] (observed in 3 of 3 recorded calls)" suffix, or ""."""
    return f"; assumes {', '.join(assumptions)}" if assumptions else ""


def workload_summary(reports: Sequence[FileReport]) -> str:
    """The projected saving of every accepted rewrite together, on the traced workload."""
    shares = [o.workload for r in reports for o in r.accepted if o.workload is not None]
    saved = [s for s in shares if s.saving is not None]
    if not saved:
        return ""
    total = sum(s.saving or 0.0 for s in saved)
    seconds = saved[0].workload_seconds
    what = "saving" if total >= 0 else "cost"
    return (
        f"projected {what} for the whole traced workload: {percent(abs(total))} "
        f"({abs(total) * seconds:.2f} s of {seconds:.2f} s traced), "
        f"from {len(saved)} rewrite(s)"
    )


def llm_summary(reports: Sequence[FileReport], verbose: bool = False) -> str:
    """How every function the LLM stage was given ended, counted; "" when it was given none."""
    visits = [v for r in reports for v in r.llm_visits]
    if not visits:
        return ""
    tokens = sum(r.llm_tokens for r in reports)
    evaluated = sum(1 for v in visits if not v.no_proposal)
    reasons = Counter(v.no_proposal for v in visits if v.no_proposal)
    text = f"LLM: {len(visits)} function(s) looked at, {evaluated} with proposals evaluated"
    if reasons:
        counted = ", ".join(f"{n}: {reason}" for reason, n in reasons.most_common())
        text += f", {reasons.total()} with no proposal ({counted})"
        text += "" if verbose else " (-v shows each)"
    return f"{text}; {tokens} LLM token(s) used"


def to_json(
    reports: Sequence[FileReport],
    run: Mapping[str, Any] | None = None,
    written: Collection[Path] = (),
) -> str:
    """The `--json` report; `run` adds what the whole run did (totals, wall time, settings)."""
    files = [_file_json(r, r.path in written) for r in reports]
    return json.dumps({"version": SCHEMA_VERSION, **(run or {}), "files": files}, indent=2)


def _file_json(report: FileReport, written: bool) -> dict[str, Any]:
    return {
        "path": str(report.path),
        "error": report.error,
        "changed": report.new_text is not None,
        "written": written,
        "functions": list(report.functions),
        "llm_tokens": report.llm_tokens,
        "llm_functions": [
            {
                "function": v.function,
                "line": v.lineno,
                "proposals": v.proposals,
                "no_proposal": v.no_proposal,
                "detail": v.detail,
            }
            for v in report.llm_visits
        ],
        "outcomes": [_outcome_json(str(report.path), o) for o in report.outcomes],
    }


def _outcome_json(path: str, outcome: Outcome) -> dict[str, Any]:
    candidate, verdict, timing = outcome.candidate, outcome.verdict, outcome.timing
    return {
        "function": candidate.function,
        "line": candidate.lineno,
        "rules": list(candidate.rules),
        "origin": candidate.origin,
        "accepted": outcome.accepted,
        "reason": outcome.reason,
        "explanation": candidate.explanation,
        "assumptions": list(candidate.assumptions),
        "verdict": {
            "status": verdict.status,
            "examples": verdict.examples,
            "strategy_sources": list(verdict.strategy_sources),
            "detail": verdict.detail,
            "counterexample": verdict.counterexample.__dict__ if verdict.counterexample else None,
            "basis": [[label, count] for label, count in verdict.basis],
        },
        "timing": _timing_json(timing),
        "workload": _workload_json(outcome.workload),
        "diff": candidate_diff(path, outcome),
    }


def _workload_json(share: WorkloadShare | None) -> dict[str, Any] | None:
    if share is None:
        return None
    return {
        "share": share.share,
        "calls": share.calls,
        "workload_seconds": share.workload_seconds,
        "saving": share.saving,
        "saving_ci95": [share.saving_low, share.saving_high] if share.saving is not None else None,
    }


def _timing_json(timing: Timing | None) -> dict[str, Any] | None:
    if timing is None:
        return None
    headline = timing.headline
    return {
        "speedup": headline.ratio if headline else None,
        "ci95": [headline.low, headline.high] if headline else None,
        "floor": timing.floor,
        "python": timing.python,
        "isolation": timing.isolation,
        "detail": timing.detail,
        "recorded_saving_seconds": timing.recorded_saving,
        "decided_by": timing.headline.source if timing.headline else None,
        "decision": headline.decision if headline else None,
        "samples": headline.samples if headline else None,  # of each version (per recorded call)
        "sizes": [
            {
                "size": s.size,
                "ratio": s.ratio,
                "ci95": [s.low, s.high],
                "decision": s.decision,
                "original_seconds": s.original_seconds,
                "candidate_seconds": s.candidate_seconds,
                "source": s.source,
                "clock": s.clock,
                "samples": s.samples,
                "confidence": s.confidence,
                "worker_pairs": s.worker_pairs,
                "forgiven_loss_seconds": s.loss_seconds if s in timing.forgiven_losses else None,
                "recorded_calls": timing.recorded_calls[i] if timing.recorded_calls else 0,
            }
            for i, s in enumerate(timing.sizes)
        ],
    }


def _passes_by_code() -> dict[str, type[OptimizationPass]]:
    from passes import by_code  # the passes (and libcst) load only when a pass is named

    return by_code()
