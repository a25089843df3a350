"""Stage 4: decide whether a candidate behaves exactly like the original.

The sandboxed child generates inputs with Hypothesis and calls both functions
on private copies of each input, comparing return values, exceptions, argument
mutation, output and aliasing strictly. Strategy sources, by precedence:
configured domains, type hints, domains inferred from literal examples, and
default values; doctest examples and literal call sites in the module are also
replayed as explicit examples. Only an `equivalent` verdict may be written.
"""

from __future__ import annotations

import ast
import dataclasses
from collections.abc import Mapping
from typing import Any

from pipeline.config import Config
from pipeline.model import Candidate, CandidateOrigin, Counterexample, Verdict, VerdictStatus
from pipeline.sandbox.runner import run_candidate
from pipeline.stages.project_tests import ProjectTestsResult, check_project_tests
from pipeline.stages.seeds import inferred_domains, mine_seeds

DomainSpec = Mapping[str, Any]


def verify(
    candidate: Candidate, config: Config, domains: Mapping[str, tuple[DomainSpec, str]] = {}
) -> Verdict:
    """Run the differential check, then the project's own tests that import the module.

    `domains` maps a parameter to (spec, source).
    """
    settings = verify_settings(candidate, config, domains)
    result = run_candidate(candidate, "verify", settings, config.limits)
    if result.payload is None:
        return Verdict(VerdictStatus.UNVERIFIABLE, 0, (), detail=f"sandbox: {result.reason}")
    verdict = _verdict(result.payload)
    if not verdict.is_equivalent:
        return verdict
    return _with_project_tests(verdict, check_project_tests(candidate, config))


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


def verify_settings(
    candidate: Candidate, config: Config, domains: Mapping[str, tuple[DomainSpec, str]] = {}
) -> dict[str, Any]:
    """The child's `verify` request: plain JSON data, never code."""
    configured = config.strategies.get(candidate.reference_function, {})
    all_domains = {name: {"spec": spec, "source": "config"} for name, spec in configured.items()}
    all_domains.update(
        {name: {"spec": spec, "source": src} for name, (spec, src) in domains.items()}
    )
    seeds = mine_seeds(candidate.original_code, candidate.reference_function)
    parameters = parameter_names(candidate.original_code, candidate.reference_function)
    return {
        "max_examples": config.verify.max_examples,
        "example_timeout": config.verify.example_timeout,
        "float_tolerance": config.verify.float_tolerance,
        "domains": all_domains,
        "inferred_domains": inferred_domains(seeds, parameters),
        "seed_examples": [seed.to_json() for seed in seeds],
    }


def parameter_names(module_source: str, function: str) -> list[str]:
    """Named parameters of the module-level `function`, in call order (no *args/**kwargs)."""
    try:
        tree = ast.parse(module_source)
    except SyntaxError:
        return []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == function:
            arguments = node.args
            return [a.arg for a in (*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs)]
    return []


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


def _verdict(payload: Mapping[str, Any]) -> Verdict:
    try:
        status = VerdictStatus(payload.get("status"))
    except ValueError:
        detail = str(payload.get("detail", "child error"))
        return Verdict(VerdictStatus.UNVERIFIABLE, 0, (), detail=detail)
    raw = payload.get("counterexample")
    counterexample = (
        Counterexample(str(raw["arguments"]), str(raw["original"]), str(raw["candidate"]))
        if raw
        else None
    )
    return Verdict(
        status=status,
        examples=int(payload.get("examples", 0)),
        strategy_sources=tuple(str(source) for source in payload.get("sources", ())),
        detail=str(payload.get("detail", "")),
        counterexample=counterexample,
        mutates_arguments=bool(payload.get("mutates_arguments", False)),
    )
