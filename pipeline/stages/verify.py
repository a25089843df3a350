"""Stage 4: decide whether a candidate behaves exactly like the original.

Acceptance rests only on observations compared here, in the parent, from two
sandboxed processes that each ran one version:
1. the recorder runs the original alone on the inputs (recorded calls, literal
   calls, then Hypothesis-generated ones) and ships each input as a pickle,
   with what the original did on it;
2. a replay runs the candidate alone on those pickles (this process never
   unpickles them) and reports what it did;
3. this process compares the two reports with the strict comparator.
The candidate never runs in a process whose word decides acceptance, so it
cannot forge an "equivalent". Only when they differ is the original replayed on
every input (an original that does not repeat itself is "nondeterministic", not
a counterexample), then a search runs both versions side by side, to shrink the
difference into a small counterexample.
Then the project's own tests that import the module run on the rewrite.
"""

from __future__ import annotations

import ast
import dataclasses
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pipeline.config import Config
from pipeline.model import (
    RECORDED_BASIS,
    Candidate,
    CandidateOrigin,
    Counterexample,
    Verdict,
    VerdictStatus,
)
from pipeline.sandbox.child import protocol as p
from pipeline.sandbox.child.compare import describe, difference
from pipeline.sandbox.runner import JobResult, run_job
from pipeline.stages.defs import copy_name, copy_of_nested, find_node, is_nested
from pipeline.stages.project_tests import ProjectTestsResult, check_project_tests
from pipeline.stages.seeds import inferred_domains, mine_seeds

DomainSpec = Mapping[str, Any]
MIN_EXAMPLES = 20
# A user's module named like these must not replace them inside the child.
_CHILD_NEEDS = frozenset({"hypothesis", "pytest", "_pytest", "attr", "sortedcontainers"})


def verify(
    candidate: Candidate,
    config: Config,
    domains: Mapping[str, tuple[DomainSpec, str]] = {},
    recorded_calls: Sequence[bytes] = (),
) -> Verdict:
    """Confirm equivalence across processes, then run the project's tests on the rewrite.

    `domains` maps a parameter to (spec, source) from outside the config (the LLM's);
    `recorded_calls` are pickles of real calls from a trace.
    """
    return verify_with(candidate, config, inputs_for(candidate, config, domains, recorded_calls))


def verify_with(candidate: Candidate, config: Config, inputs: p.Inputs) -> Verdict:
    verdict = Plan(candidate, config, inputs).confirm()
    if not verdict.is_equivalent:
        return verdict
    return _with_project_tests(verdict, check_project_tests(candidate, config))


def verify_sources(
    original_source: str,
    candidate_source: str,
    function: str,
    config: Config | None = None,
    original_function: str = "",
) -> Verdict:
    """Check two modules' versions of a function that live outside any project."""
    candidate = Candidate(
        function=function,
        lineno=0,
        rules=(),
        origin=CandidateOrigin.PASS,
        original_code=original_source,
        module_code=candidate_source,
        module_name="module",
        project_root=None,
        original_function=original_function if original_function != function else "",
    )
    return verify(candidate, config or Config())


def inputs_for(
    candidate: Candidate,
    config: Config,
    domains: Mapping[str, tuple[DomainSpec, str]] = {},
    recorded_calls: Sequence[bytes] = (),
) -> p.Inputs:
    """Every source of inputs for the function: configured and suggested domains, literal
    calls in the module (and the domains they imply), and recorded calls."""
    configured = config.strategies.get(candidate.reference_function, {})
    chosen = {name: p.Domain(dict(spec), "config") for name, spec in configured.items()}
    chosen.update({name: p.Domain(dict(spec), src) for name, (spec, src) in domains.items()})
    # A literal call of a method leaves out `self`, so it fits only module-level functions.
    is_method = "." in candidate.reference_function
    try:
        tree = ast.parse(candidate.original_code)
    except SyntaxError:
        tree = ast.Module([], [])
    seeds = [] if is_method else mine_seeds(tree, candidate.reference_function)
    parameters = parameter_names(tree, candidate.reference_function)
    return p.Inputs(
        domains=chosen,
        inferred=inferred_domains(seeds, parameters),
        literal_calls=tuple(seeds),
        recorded_calls=tuple(recorded_calls),
    )


@dataclass(frozen=True)
class Plan:
    """Who runs what for one candidate: module names, sources and requests."""

    candidate: Candidate
    config: Config
    inputs: p.Inputs

    @property
    def settings(self) -> p.VerifySettings:
        return self.config.verify

    def confirm(self) -> Verdict:
        recording = self._run(self.record_request(), self.sources(original=True), p.RecordResult)
        if recording.result is None:
            return _unverifiable(f"sandbox: {recording.reason}", transient=True)
        record = recording.result
        if record.status != p.Status.OK:
            return _not_run(record.status, record.detail, record.missing_module)
        problem = _too_few(record, self.settings)
        if problem:
            return _unverifiable(problem)
        calls = tuple(example.call for example in record.examples)
        replaying = self._run(
            p.ReplayRequest(self.target(candidate=True), self.settings, calls, self.sys_path),
            self.sources(original=False),
            p.ReplayResult,
        )
        if replaying.result is None:
            return _unverifiable(f"sandbox: {replaying.reason}", transient=True)
        replay = replaying.result
        if replay.status != p.Status.OK:
            return _not_run(replay.status, replay.detail, replay.missing_module)
        if len(replay.observations) != len(record.examples):
            return _unverifiable("the candidate's report does not cover every input")
        for example, observation in zip(record.examples, replay.observations, strict=True):
            reason = difference(example.observation, observation, self.settings.float_tolerance)
            if reason is not None:
                return self.explain(record, example, observation, reason)
        return _equivalent(record)

    def explain(
        self, record: p.RecordResult, example: p.RecordedExample,
        observation: p.Observation, reason: str,
    ) -> Verdict:  # fmt: skip
        """A confirmed difference, shrunk to a small counterexample where the search can;
        unless the original itself gives different results on the same input."""
        unsteady = self._original_disagrees_with_itself(record)
        if unsteady is not None:
            return _nondeterministic(unsteady)
        searching = self._run(
            p.SearchRequest(self.target(candidate=False, search=True),
                            self.target(candidate=True, search=True),
                            self.settings, self.inputs, self.sys_path),
            {**self.sources(original=True), **self.sources(original=False)},
            p.SearchResult,
        )  # fmt: skip
        found = searching.result
        if found is not None and found.verdict == p.SearchVerdict.NONDETERMINISTIC:
            return _unverifiable(found.detail)
        if (
            found is not None
            and found.verdict == p.SearchVerdict.DIFFERENCE
            and found.counterexample
        ):
            return _counterexample(found.counterexample, found.examples, record.sources)
        show = reason == "argument mutation" or example.mutated
        shown = p.Counterexample(example.shown, describe(example.observation, show),
                                 describe(observation, show), reason)  # fmt: skip
        return _counterexample(shown, len(record.examples), record.sources)

    def _original_disagrees_with_itself(self, record: p.RecordResult) -> str | None:
        """The first recorded input on which the original, run again in a replay, does
        not do what the recorder saw it do (say, it calls `random`); None if it repeats
        itself on every one."""
        calls = tuple(example.call for example in record.examples)
        again = self._run(
            p.ReplayRequest(self.target(candidate=False), self.settings, calls, self.sys_path),
            self.sources(original=True),
            p.ReplayResult,
        )
        if again.result is None or len(again.result.observations) != len(calls):
            return None
        tolerance = self.settings.float_tolerance
        for example, observation in zip(record.examples, again.result.observations, strict=True):
            if difference(example.observation, observation, tolerance) is not None:
                return example.shown
        return None

    # ----------------------------------------------------------------------- requests

    def record_request(self) -> p.RecordRequest:
        return p.RecordRequest(
            self.target(candidate=False), self.settings, self.inputs, self.sys_path
        )

    @property
    def sys_path(self) -> tuple[str, ...]:
        root = self.candidate.project_root
        return (str(root),) if root else ()

    def target(self, candidate: bool, search: bool = False) -> p.Target:
        """Recorder and replay load their version under one shared private name, so pickled
        inputs find the replay's own classes; a search loads both, under two names."""
        package, _, stem = self.candidate.module_name.rpartition(".")
        prefix = f"{package}." if package else ""
        role = ("candidate" if candidate else "original") if search else "under_test"
        aliases = (self.candidate.module_name,) if _can_alias(self.candidate.module_name) else ()
        function = self.candidate.function if candidate else self.candidate.reference_function
        return p.Target(
            path=f"{'candidate' if candidate else 'original'}/{stem}.py",
            module=f"{prefix}_optimize_{role}_{stem}",
            qualname=copy_name(function) if is_nested(function) else function,
            aliases=() if search and candidate else aliases,
            self_unused=self.candidate.self_unused,
        )

    def sources(self, original: bool) -> dict[str, str]:
        """The module file each side loads; a nested function gets a module-level copy
        appended, for the child to call (it captures nothing, so it behaves the same)."""
        stem = self.candidate.module_name.rpartition(".")[2]
        candidate = self.candidate
        code = candidate.original_code if original else candidate.module_code
        function = candidate.reference_function if original else candidate.function
        if is_nested(function):
            code += copy_of_nested(code, function)
        return {f"{'original' if original else 'candidate'}/{stem}.py": code}

    def _run(self, request: p.Request, sources: dict[str, str], kind: type[Any]) -> JobResult[Any]:
        return run_job(request, sources, self.config.limits, kind)


def _can_alias(module_name: str) -> bool:
    top = module_name.split(".")[0]
    return top not in sys.stdlib_module_names and top not in _CHILD_NEEDS


def _too_few(record: p.RecordResult, settings: p.VerifySettings) -> str:
    needed = min(MIN_EXAMPLES, settings.max_examples)
    if len(record.examples) >= needed:
        return ""
    reasons = []
    if record.skipped_slow:
        reasons.append(f"{record.skipped_slow} exceeded the original's time or stack limits")
    if record.skipped_unpicklable:
        reasons.append(f"{record.skipped_unpicklable} cannot be sent to another process")
    if record.budget_exhausted:
        reasons.append(f"the {settings.budget_seconds:g} s verification budget ran out")
    because = f"; {', '.join(reasons)}" if reasons else ""
    return f"only {len(record.examples)} examples could be run{because}"


def _basis(record: p.RecordResult) -> tuple[tuple[str, int], ...]:
    counts: dict[str, int] = {}
    for example in record.examples:
        counts[example.origin] = counts.get(example.origin, 0) + 1
    labels = {"recorded": RECORDED_BASIS, "hook": "OPTIMIZE_INPUTS calls",
              "literal": "literal calls", "generated": "generated"}  # fmt: skip
    return tuple((labels.get(origin, origin), count) for origin, count in counts.items())


def _equivalent(record: p.RecordResult) -> Verdict:
    notes = []
    if record.skipped_slow:
        notes.append(
            f"{record.skipped_slow} inputs skipped: the original timed out or ran out of stack"
        )
    if record.budget_exhausted:
        notes.append("stopped at the verification budget")
    return Verdict(
        VerdictStatus.EQUIVALENT,
        len(record.examples),
        record.sources,
        detail="; ".join(notes),
        mutates_arguments=any(example.mutated for example in record.examples),
        basis=_basis(record),
    )


def _counterexample(found: p.Counterexample, examples: int, sources: Sequence[str]) -> Verdict:
    return Verdict(
        VerdictStatus.COUNTEREXAMPLE,
        examples,
        tuple(sources),
        detail=f"differs in {found.reason}",
        counterexample=Counterexample(found.arguments, found.original, found.candidate),
    )


def _nondeterministic(shown: str) -> Verdict:
    detail = f"{p.NONDETERMINISTIC}: {shown}"
    return Verdict(VerdictStatus.NONDETERMINISTIC, 0, (), detail=detail)


def _unverifiable(detail: str, transient: bool = False) -> Verdict:
    return Verdict(VerdictStatus.UNVERIFIABLE, 0, (), detail=detail, transient=transient)


def _not_run(status: p.Status, detail: str, missing_module: str) -> Verdict:
    """A child that could not run its version: it could not import the module, or
    found no function or inputs there."""
    if status != p.Status.IMPORT_FAILED:
        return _unverifiable(detail)
    return Verdict(VerdictStatus.UNVERIFIABLE, 0, (), detail=detail, import_failed=True,
                   missing_module=missing_module)  # fmt: skip


def _with_project_tests(verdict: Verdict, tests: ProjectTestsResult) -> Verdict:
    if tests.failed:
        broken = ", ".join(tests.failed[:3]) + (" ..." if len(tests.failed) > 3 else "")
        return dataclasses.replace(
            verdict,
            status=VerdictStatus.COUNTEREXAMPLE,
            detail=f"the project's own tests fail with the rewrite: {broken}",
            counterexample=Counterexample(broken, "tests pass", "tests fail"),
        )
    if tests.ran:
        sources = (*verdict.strategy_sources, "project tests")
        return dataclasses.replace(verdict, strategy_sources=sources)
    return verdict


def parameter_names(tree: ast.Module, qualname: str) -> list[str]:
    """Named parameters of the function `qualname` (a method's include `self`), in order."""
    found = find_node(tree, qualname)
    if found is None:
        return []
    arguments = found.args
    return [a.arg for a in (*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs)]
