"""Stage 4: decide whether a candidate behaves exactly like the original.

The sandboxed child generates inputs with Hypothesis (strategies built from
type hints, configured domains and default values), calls both functions on
private copies of each input and compares return values, exceptions, argument
mutation, output and aliasing strictly. Only an `equivalent` verdict may be
written into a user's file.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pipeline.config import Config
from pipeline.model import Candidate, Counterexample, Verdict
from pipeline.sandbox import run_candidate

DomainSpec = Mapping[str, Any]


def verify(
    candidate: Candidate, config: Config, domains: Mapping[str, tuple[DomainSpec, str]] = {}
) -> Verdict:
    """Run the differential check; `domains` maps a parameter to (spec, source)."""
    configured = config.strategies.get(candidate.reference_function, {})
    all_domains = {name: {"spec": spec, "source": "config"} for name, spec in configured.items()}
    all_domains.update({name: {"spec": spec, "source": src} for name, (spec, src) in domains.items()})
    settings = {
        "max_examples": config.verify.max_examples,
        "example_timeout": config.verify.example_timeout,
        "float_tolerance": config.verify.float_tolerance,
        "domains": all_domains,
    }
    result = run_candidate(candidate, "verify", settings, config.limits)
    if result.payload is None:
        return Verdict("unverifiable", 0, (), detail=f"sandbox: {result.reason}")
    return _verdict(result.payload)


def verify_sources(
    original_source: str, candidate_source: str, function: str, config: Config | None = None
) -> Verdict:
    """Check two versions of a module's `function` that live outside any project."""
    candidate = Candidate(
        function=function,
        lineno=0,
        rules=(),
        origin="pass",
        original_code=original_source,
        module_code=candidate_source,
        module_name="module",
        project_root=None,
    )
    return verify(candidate, config or Config())


def _verdict(payload: Mapping[str, Any]) -> Verdict:
    status = payload.get("status")
    if status not in ("equivalent", "counterexample", "unverifiable"):
        return Verdict("unverifiable", 0, (), detail=str(payload.get("detail", "child error")))
    raw = payload.get("counterexample")
    counterexample = (
        Counterexample(raw["arguments"], raw["original"], raw["candidate"]) if raw else None
    )
    return Verdict(
        status=status,
        examples=int(payload.get("examples", 0)),
        strategy_sources=tuple(payload.get("sources", ())),
        detail=str(payload.get("detail", "")),
        counterexample=counterexample,
        mutates_arguments=bool(payload.get("mutates_arguments", False)),
    )
