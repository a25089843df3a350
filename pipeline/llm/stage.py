"""The LLM stage for one file: analyse, propose, verify and time, repair.

Runs after the built-in passes, only on functions they did not already speed
up (an LLM rewrite is built on the original function, so it could not be
combined with an accepted pass rewrite, and it would spend tokens on code that
is already faster). Every proposal goes through the same `evaluate` (verify,
then measure) as pass candidates; nothing unverified is ever written.
"""

from __future__ import annotations

import ast
import copy
import dataclasses
import fnmatch
import os
import textwrap
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import libcst as cst

from pipeline.config import Config
from pipeline.llm.client import (
    MODEL_DOMAIN_SOURCE,
    OFFLINE_NOTE,
    Analysis,
    FunctionContext,
    LLMClient,
    LLMUnavailable,
    Proposal,
    cache_directory,
    endpoint,
)
from pipeline.llm.proposal import ProposalRejected, apply_proposal, fingerprint
from pipeline.model import (
    Candidate,
    CandidateOrigin,
    FunctionFacts,
    Outcome,
    ParsedFile,
    Verdict,
    VerdictStatus,
)
from pipeline.stages.parse import InputError, libcst_module

Domains = Mapping[str, tuple[Mapping[str, Any], str]]
Evaluate = Callable[[Candidate, Config, Domains], Outcome]
Warn = Callable[[str], None]
LLM_RULES = ("LLM",)


@dataclass(frozen=True)
class LLMFindings:
    outcomes: tuple[Outcome, ...] = ()
    notes: tuple[str, ...] = ()
    tokens: int = 0


def start_llm(
    config: Config, wanted: bool | None, warn: Warn, environ: Mapping[str, str] = os.environ
) -> LLMStage | None:
    """The stage for this run, or None (with a one-line note) when it is off."""
    if wanted is False or (wanted is None and not config.llm.enabled):
        return None
    where = endpoint(config.llm, environ)
    if not where.configured:
        warn(OFFLINE_NOTE)
        return None
    return LLMStage(config, LLMClient(config.llm, where, cache_directory(config)), warn)


class LLMStage:
    def __init__(self, config: Config, client: LLMClient, warn: Warn) -> None:
        self.config = config
        self.client: LLMClient | None = client
        self.warn = warn

    def optimize(
        self,
        parsed: ParsedFile,
        facts: Sequence[FunctionFacts],
        evaluate: Evaluate,
        progress: Callable[[str], None] | None = None,
    ) -> LLMFindings:
        if self.client is None or not facts:
            return LLMFindings()
        if _excluded(parsed.source.path, self.config.exclude):
            return LLMFindings(notes=(f"{parsed.source.path}: excluded, not sent to the LLM",))
        try:
            module = libcst_module(parsed)
        except InputError as error:
            return LLMFindings(notes=(str(error),))
        client = self.client
        tokens_before = client.tokens_used
        outcomes: list[Outcome] = []
        notes: list[str] = []
        for fact in facts:
            if progress:
                progress(f"{parsed.source.path.name}::{fact.info.name} (LLM)")
            try:
                found, note = self._function(parsed, module, fact, evaluate)
            except LLMUnavailable as error:
                self._go_offline(str(error))
                break
            outcomes.extend(found)
            notes.extend([note] if note else [])
        return LLMFindings(tuple(outcomes), tuple(notes), client.tokens_used - tokens_before)

    def _go_offline(self, reason: str) -> None:
        self.client = None
        self.warn(f"warning: LLM endpoint unavailable ({reason}); continuing offline")

    def _function(
        self, parsed: ParsedFile, module: cst.Module, fact: FunctionFacts, evaluate: Evaluate
    ) -> tuple[list[Outcome], str]:
        info = fact.info
        assert self.client is not None
        if info.is_async:
            return [], f"{info.name}: async functions are not sent to the LLM"
        if fact.impurities:
            return [], f"{info.name}: declined, static analysis says impure ({fact.impurities[0]})"
        context = function_context(parsed, fact)
        analysis = self.client.analyze(context)
        if analysis is None:
            return [], f"{info.name}: no usable analysis from the model"
        if not analysis.pure:
            effect = analysis.side_effects[0] if analysis.side_effects else "side effects"
            return [], f"{info.name}: declined, the model says impure ({effect})"
        domains, missing = self._domains(info.name, context, analysis)
        if missing:
            return [], f"{info.name}: not verifiable, no input domain for {', '.join(missing)}"
        attempt = _Attempt(self.config, module, parsed, info.name, info.lineno, domains, evaluate)
        outcomes = [attempt.run(p) for p in self.client.propose(context, analysis)]
        if not any(o.accepted for o in outcomes):
            outcomes.extend(self._repairs(context, attempt, outcomes))
        return _keep_fastest(outcomes), ""

    def _domains(
        self, name: str, context: FunctionContext, analysis: Analysis
    ) -> tuple[dict[str, tuple[Mapping[str, Any], str]], list[str]]:
        configured = self.config.strategies.get(name, {})
        domains: dict[str, tuple[Mapping[str, Any], str]] = {}
        missing: list[str] = []
        for param in context.untyped_params:
            if param in configured:
                continue
            if param in analysis.domains:
                domains[param] = (analysis.domains[param], MODEL_DOMAIN_SOURCE)
            elif param in _required(context.source):
                missing.append(param)
        return domains, missing

    def _repairs(
        self, context: FunctionContext, attempt: _Attempt, outcomes: Sequence[Outcome]
    ) -> list[Outcome]:
        repaired: list[Outcome] = []
        for outcome in outcomes:
            proposal = attempt.proposals.get(outcome.candidate)
            for _round in range(self.config.llm.repair_rounds):
                counterexample = outcome.verdict.counterexample
                if proposal is None or counterexample is None or self.client is None:
                    break
                proposal = self.client.repair(
                    context, proposal, counterexample.arguments, counterexample.original,
                    counterexample.candidate,
                )  # fmt: skip
                if proposal is None:
                    break
                outcome = attempt.run(proposal, repaired=True)
                repaired.append(outcome)
                if outcome.accepted:
                    return repaired
        return repaired


class _Attempt:
    """Turns proposals for one function into evaluated outcomes, refusing repeats."""

    def __init__(
        self, config: Config, module: cst.Module, parsed: ParsedFile, name: str, lineno: int,
        domains: Domains, evaluate: Evaluate,
    ) -> None:  # fmt: skip
        self.config, self.module, self.parsed = config, module, parsed
        self.name, self.lineno, self.domains, self.evaluate = name, lineno, domains, evaluate
        self.tried = {fingerprint(module)}
        self.proposals: dict[Candidate, Proposal] = {}

    def run(self, proposal: Proposal, repaired: bool = False) -> Outcome:
        rules = (*LLM_RULES, "repair") if repaired else LLM_RULES
        try:
            rewritten = apply_proposal(self.module, self.name, proposal)
            key = fingerprint(rewritten)
            if key in self.tried:
                raise ProposalRejected("duplicate of a candidate already tried (normalised AST)")
            self.tried.add(key)
        except ProposalRejected as rejection:
            return self._rejected(proposal, rules, str(rejection))
        candidate = self._candidate(rewritten.code, proposal, rules)
        self.proposals[candidate] = proposal
        return self.evaluate(candidate, self.config, self.domains)

    def _candidate(self, code: str, proposal: Proposal, rules: tuple[str, ...]) -> Candidate:
        return Candidate(
            function=self.name,
            lineno=self.lineno,
            rules=rules,
            origin=CandidateOrigin.LLM,
            original_code=self.module.code,
            module_code=code,
            module_name=self.parsed.module_name,
            project_root=self.parsed.project_root,
            explanation=proposal.explanation,
        )

    def _rejected(self, proposal: Proposal, rules: tuple[str, ...], reason: str) -> Outcome:
        candidate = self._candidate(self.module.code, proposal, rules)
        verdict = Verdict(VerdictStatus.UNVERIFIABLE, 0, (), detail=reason)
        return Outcome(candidate, verdict, None, False, f"proposal rejected: {reason}")


def _keep_fastest(outcomes: list[Outcome]) -> list[Outcome]:
    """At most one accepted rewrite per function: the fastest at the largest size."""
    accepted = [o for o in outcomes if o.accepted and o.timing and o.timing.headline]
    if len(accepted) < 2:
        return outcomes
    best = max(accepted, key=_headline_ratio)
    slower = "verified and faster, but another candidate was faster"
    return [
        o if o is best or not o.accepted else dataclasses.replace(o, accepted=False, reason=slower)
        for o in outcomes
    ]


def _headline_ratio(outcome: Outcome) -> float:
    headline = outcome.timing.headline if outcome.timing else None
    return headline.ratio if headline else 0.0


def function_context(parsed: ParsedFile, fact: FunctionFacts) -> FunctionContext:
    """The function, its imports and the signatures of what it calls: all that is sent."""
    info = fact.info
    tree = ast.parse(parsed.source.text)
    node = next(
        n for n in tree.body
        if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and n.name == info.name
    )  # fmt: skip
    calls = [c for c in ast.walk(node) if isinstance(c, ast.Call)]
    called = {c.func.id for c in calls if isinstance(c.func, ast.Name)}
    signatures = tuple(
        _signature(n) for n in tree.body
        if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and n.name in called - {info.name}
    )  # fmt: skip
    imports = tuple(
        ast.get_source_segment(parsed.source.text, n) or ""
        for n in tree.body
        if isinstance(n, ast.Import | ast.ImportFrom)
    )
    untyped = tuple(p for p in info.params if p not in info.annotated_params)
    return FunctionContext(
        info.name, info.lineno, info.source, signatures, imports, untyped, fact.applicable_passes
    )


def _signature(node: ast.FunctionDef | ast.AsyncFunctionDef) -> str:
    stub = copy.copy(node)
    stub.body, stub.decorator_list = [ast.Expr(ast.Constant(...))], []
    return ast.unparse(stub)


def _required(source: str) -> set[str]:
    """Parameters without a default (the child can use defaults for the others)."""
    tree = ast.parse(textwrap.dedent(source))
    node = tree.body[0]
    if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
        return set()
    args = node.args
    positional = [*args.posonlyargs, *args.args]
    with_default = len(args.defaults)
    required = positional[: len(positional) - with_default] if with_default else positional
    keyword = [a for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True) if d is None]
    return {a.arg for a in (*required, *keyword)}


def _excluded(path: Path, patterns: Iterable[str]) -> bool:
    parts = (*path.parts, path.as_posix())
    return any(fnmatch.fnmatch(part, pattern) for pattern in patterns for part in parts)
