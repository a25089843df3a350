"""Runs the five stages for one file: parse, analyze, rewrite, verify, measure."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import libcst as cst

from passes import OptimizationPass, all_passes, by_code
from pipeline.cache import VerdictCache
from pipeline.config import Config
from pipeline.model import (
    AnalysedFunction,
    Candidate,
    CandidateOrigin,
    FileReport,
    LLMVisit,
    Outcome,
    ParsedFile,
    SizeDecision,
    Timing,
    TraceFacts,
    Verdict,
    VerdictStatus,
)
from pipeline.stages.analyze import analyze
from pipeline.stages.defs import LOCALS
from pipeline.stages.measure import measure
from pipeline.stages.observe import Observer, Unobserved
from pipeline.stages.parse import InputError, libcst_module, parse, parse_tree, read_source
from pipeline.stages.rewrite import nested_candidates
from pipeline.stages.rewrite import propose as propose_from_passes
from pipeline.stages.selection import keep_best_accepted
from pipeline.stages.splice import splice
from pipeline.stages.verify import inputs_for, verify_with
from pipeline.workload import recorded_calls, workload_for

if TYPE_CHECKING:  # the LLM stage (and the openai SDK) load only when an endpoint is set
    from pipeline.llm.stage import LLMStage

Domains = Mapping[str, tuple[Mapping[str, Any], str]]
# Files may be worked on in parallel (`--jobs`); the LLM stage is asked one function at a time.
_ONE_LLM_CALL = threading.Lock()


def selected_passes(config: Config) -> tuple[type[OptimizationPass], ...]:
    def chosen(code: str) -> bool:
        selected = not config.select or any(code.startswith(s) for s in config.select)
        return selected and not any(code.startswith(i) for i in config.ignore)

    return tuple(p for p in all_passes() if chosen(p.code))


@dataclass(frozen=True)
class FilePlan:
    """A file after the cheap stages (read, parse, analyze), before any sandbox run."""

    parsed: ParsedFile
    facts: tuple[AnalysedFunction, ...]  # the functions in scope
    times: dict[str, float] = field(compare=False)

    @property
    def path(self) -> Path:
        return self.parsed.source.path


def plan_file(path: Path, config: Config, functions: Sequence[str] = ()) -> FilePlan:
    """Parse and analyse `path`; raises `InputError` for a file that cannot be optimised."""
    times: dict[str, float] = {}
    with _timed(times, "parse"):
        parsed = parse(read_source(path, config.max_file_bytes))
    with _timed(times, "analyze"):
        facts = analyze(parsed, selected_passes(config), traces=_traces(parsed, config))
    if functions:
        facts = in_scope(facts, functions)
    return FilePlan(parsed, facts, times)


def _traces(parsed: ParsedFile, config: Config) -> dict[str, TraceFacts]:
    """What a trace saw of the file's functions, by qualname; nothing without a trace."""
    workload = workload_for(config)
    if workload is None:
        return {}
    return workload.traces(parsed.module_name, (info.qualname for info in parsed.functions))


def optimize_file(
    path: Path,
    config: Config,
    functions: Sequence[str] = (),
    cache: VerdictCache | None = None,
    llm: LLMStage | None = None,
    observer: Observer | None = None,
) -> FileReport:
    try:
        plan = plan_file(path, config, functions)
    except InputError as error:
        return FileReport(path, error=str(error))
    return finish_file(plan, config, cache, llm, observer)


def finish_file(
    plan: FilePlan,
    config: Config,
    cache: VerdictCache | None = None,
    llm: LLMStage | None = None,
    observer: Observer | None = None,
) -> FileReport:
    """Rewrite, verify and time the planned functions, one function at a time."""
    parsed, path, times = plan.parsed, plan.path, dict(plan.times)
    seen = observer or Unobserved()
    try:
        with _timed(times, "rewrite"):
            candidates = propose_from_passes(parsed, plan.facts, selected_passes(config))
            module = libcst_module(parsed) if candidates else None
    except InputError as error:
        return FileReport(path, error=str(error), stage_times=times)

    def judge(
        candidate: Candidate, settings: Config = config, domains: Domains | None = None
    ) -> Outcome:
        seconds: dict[str, float] = {}
        started = time.time()
        # Model-suggested input domains are not part of the verdict cache's key.
        usable = None if domains else cache
        outcome = evaluate(candidate, settings, seconds, usable, domains)
        for stage, spent in seconds.items():
            times[stage] = times.get(stage, 0.0) + spent
        seen.candidate_evaluated(path, outcome, seconds, started)
        return outcome

    by_function = {c.function: c for c in candidates}
    outcomes: list[Outcome] = []
    visits: list[LLMVisit] = []
    tokens = 0
    for fact in by_own_time(plan.facts):
        name = fact.info.qualname
        seen.function_started(path, name)
        found: list[Outcome] = []
        if name in by_function:
            found += evaluate_with_fallback(
                by_function[name], parsed, plan.facts, module, config, judge
            )
        sped_up = {o.candidate.function for o in (*outcomes, *found) if o.accepted}
        if llm is not None and name not in sped_up:  # the LLM only where passes did not help
            with _ONE_LLM_CALL:  # the LLM stage's client and budgets are not thread-safe
                asked = llm.optimize(parsed, [fact], judge)
            found += asked.outcomes
            visits += asked.visits
            tokens += asked.tokens
        outcomes += found
        seen.function_finished(path, name, found)
    accepted = [o.candidate for o in outcomes if o.accepted]
    new_text = apply_accepted(module or libcst_module(parsed), accepted) if accepted else None
    examined = tuple(f.info.qualname for f in plan.facts)
    return FileReport(
        path, tuple(outcomes), source=parsed.source, new_text=new_text, stage_times=times,
        llm_visits=tuple(visits), llm_tokens=tokens, functions=examined,
    )  # fmt: skip


@contextmanager
def _timed(times: dict[str, float], stage: str) -> Iterator[None]:
    """Add the wall time of the block to `times[stage]`; benchmark reports show it."""
    start = time.perf_counter()
    try:
        yield
    finally:
        times[stage] = times.get(stage, 0.0) + time.perf_counter() - start


def by_own_time(facts: Sequence[AnalysedFunction]) -> list[AnalysedFunction]:
    """With a trace, the functions that took the most of it first, so that the budgets
    (the LLM's tokens, a run's time) are spent on what matters; else in file order."""
    return sorted(facts, key=lambda fact: -(fact.trace.own_share if fact.trace else 0.0))


def evaluate_with_fallback(
    candidate: Candidate,
    parsed: ParsedFile,
    facts: Sequence[AnalysedFunction],
    module: cst.Module | None,
    config: Config,
    judge: Callable[[Candidate], Outcome],
) -> list[Outcome]:
    """Evaluate composed passes; if rejected, try each pass alone, keeping the fastest.

    When the unit cannot be verified at all, the nested functions it changed are
    tried alone instead.
    """
    first = judge(candidate)
    if first.verdict.status == VerdictStatus.UNVERIFIABLE:
        nested = nested_candidates(candidate, parsed)
        return keep_best_accepted([first, *(judge(c) for c in nested)])
    if first.accepted or len(candidate.rules) < 2 or module is None:
        return [first]
    known = {p.code: p for p in selected_passes(config)}
    own_facts = in_scope(facts, [candidate.function])
    singles = [
        single
        for code in candidate.rules
        for single in propose_from_passes(parsed, own_facts, [known[code]], module)
        if single.function == candidate.function
    ]
    return keep_best_accepted([first, *(judge(single) for single in singles)])


def in_scope(
    facts: Sequence[AnalysedFunction], functions: Sequence[str]
) -> tuple[AnalysedFunction, ...]:
    """The facts of the named functions (qualnames) and of the nested functions in them."""
    wanted = set(functions)
    return tuple(
        f
        for f in facts
        if f.info.qualname in wanted or f.info.qualname.split(f".{LOCALS}.")[0] in wanted
    )


FAST_REASON = "verified; not timed (--fast: asymptotic win)"


def skips_timing(candidate: Candidate, config: Config) -> bool:
    """Under `--fast`, a pass-made candidate whose every pass changes asymptotic cost.

    Model proposals and constant-factor passes are always timed.
    """
    passes = by_code()
    return (
        config.fast
        and candidate.origin == CandidateOrigin.PASS
        and bool(candidate.rules)
        and all(code in passes and passes[code].complexity_win for code in candidate.rules)
    )


def evaluate(
    candidate: Candidate,
    config: Config,
    times: dict[str, float] | None = None,
    cache: VerdictCache | None = None,
    domains: Domains | None = None,
) -> Outcome:
    """Verify, then time; accept only an equivalent candidate that is measurably faster.

    Under `--fast` a candidate that `skips_timing` is accepted once verified, untimed.

    `domains` are input domains from outside the config (the LLM's), with their source.
    Real calls of the function recorded by `optimize trace` (`config.trace_store`) are
    checked and timed first.
    """
    if candidate.refused:  # the rewrite stage found it unfit to write: never run it
        verdict = Verdict(VerdictStatus.NOT_RUN, 0, (), candidate.refused)
        return Outcome(candidate, verdict, None, False, candidate.refused)
    recorded = recorded_calls(candidate.module_name, candidate.reference_function, config)
    if cache is not None:  # a hit reuses the stored verdict and its timing
        judge = partial(_judge, candidate, config, times, None, recorded)
        outcome = cache.evaluate(candidate, config, judge, recorded)
    else:
        outcome = _judge(candidate, config, times, domains, recorded)
    workload = workload_for(config)
    if workload is None:
        return outcome
    share = workload.share(candidate.module_name, candidate.reference_function, outcome.timing)
    return replace(outcome, workload=share)


def _judge(
    candidate: Candidate,
    config: Config,
    times: dict[str, float] | None = None,
    domains: Mapping[str, tuple[Mapping[str, Any], str]] | None = None,
    recorded: Sequence[bytes] = (),
) -> Outcome:
    times = {} if times is None else times
    deadline = time.monotonic() + config.candidate_budget
    inputs = inputs_for(candidate, config, domains or {}, recorded)
    with _timed(times, "verify"):
        verdict = verify_with(candidate, config, inputs)
    if not verdict.is_equivalent:
        return Outcome(candidate, verdict, None, False, _rejection(verdict.status, verdict.detail))
    if candidate.assumptions and not verdict.recorded_examples:
        return Outcome(candidate, verdict, None, False, UNDISCHARGED)
    if skips_timing(candidate, config):
        return Outcome(candidate, verdict, None, True, FAST_REASON)
    with _timed(times, "measure"):
        timing = measure(candidate, config, inputs, verdict.mutates_arguments, deadline,
                         _trace_of(candidate, config))  # fmt: skip
    if timing.accepted:
        return Outcome(candidate, verdict, timing, True, "verified and faster")
    if not timing.sizes:
        return Outcome(candidate, verdict, timing, False, f"not timed: {timing.detail}")
    return Outcome(candidate, verdict, timing, False, timing_rejection(timing))


def _trace_of(candidate: Candidate, config: Config) -> TraceFacts | None:
    workload = workload_for(config)
    if workload is None:
        return None
    return workload.trace_of(candidate.module_name, candidate.reference_function)


def timing_rejection(timing: Timing) -> str:
    """Why a timed candidate is not accepted, in one line."""
    recorded = timing.recorded_decision
    if recorded is not None:
        measured = f"{recorded.ratio:.2f}× [{recorded.low:.2f}, {recorded.high:.2f}]"
        if recorded.decision == SizeDecision.UNDECIDED:
            return (
                f"undecided on the recorded calls: {measured} after {recorded.samples} samples "
                f"of each version per call ({recorded.source}); a longer candidate-budget "
                "could decide it"
            )
        verdict = "slower" if recorded.decision == SizeDecision.SLOWER else "not measurably faster"
        return f"{verdict} on the recorded calls: {measured} ({recorded.source})"
    headline = timing.headline
    if headline is not None and headline.decision == SizeDecision.SLOWER:
        return f"slower at n={headline.size}"
    if headline is not None and headline.decision == SizeDecision.UNDECIDED:
        return (
            f"undecided at n={headline.size}: {headline.ratio:.2f}× "
            f"[{headline.low:.2f}, {headline.high:.2f}] after {headline.samples} samples of "
            f"each version in {headline.worker_pairs} worker pairs; "
            "a longer candidate-budget could decide it"
        )
    if headline is None or headline.decision != SizeDecision.FASTER:
        return "not measurably faster at the largest size"
    loss = timing.small_size_losses[0]
    return (
        f"slower at n={loss.size} by {loss.loss_seconds * 1e6:.2g} µs per call "
        f"(over the {timing.small_size_tolerance * 1e6:g} µs tolerance)"
    )


def _rejection(status: str, detail: str) -> str:
    if status == VerdictStatus.NONDETERMINISTIC:
        return detail  # "nondeterministic: the original, run twice on the same input, ..."
    label = {"counterexample": "behaviour differs", "unverifiable": "unverified"}[status]
    return f"{label}: {detail}" if detail else label


def apply_accepted(module: cst.Module, accepted: Sequence[Candidate]) -> str:
    for candidate in accepted:
        donor = cst.parse_module(candidate.module_code)
        reference = cst.parse_module(candidate.original_code)
        module = splice(module, donor, candidate.function, reference)
    return module.code


# A rewrite that rests on observed types holds only where they hold: the real calls.
UNDISCHARGED = "unverified: it assumes observed types, and no recorded call could be replayed"
UNVERIFIED = Verdict(VerdictStatus.NOT_RUN, 0, (), "not verified (--no-verify)")


def scan_file(path: Path, config: Config) -> FileReport:
    """Detection and transform only (`--no-verify`): every candidate is an unverified finding.

    The candidates are the texts `--write` would write (libcst parses the whole
    file only when a pass changed a function); one the rewrite stage refuses (it
    lost a comment) would never be written, so it is no finding. Nothing is
    verified, timed or written.
    """
    times: dict[str, float] = {}
    try:
        with _timed(times, "parse"):
            parsed, tree = parse_tree(read_source(path, config.max_file_bytes))
        with _timed(times, "analyze"):
            facts = analyze(parsed, selected_passes(config), tree)
        with _timed(times, "rewrite"):
            candidates = propose_from_passes(parsed, facts, selected_passes(config), tree=tree)
    except InputError as error:
        return FileReport(path, error=str(error), stage_times=times)
    outcomes = tuple(
        Outcome(c, UNVERIFIED, None, False, UNVERIFIED.detail) for c in candidates if not c.refused
    )
    examined = tuple(info.qualname for info in parsed.functions)
    return FileReport(path, outcomes, stage_times=times, functions=examined)
