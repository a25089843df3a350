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
import fnmatch
import os
import textwrap
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import libcst as cst

from pipeline.config import Config
from pipeline.llm.client import OFFLINE_NOTE, LLMClient, Notify, cache_directory, endpoint
from pipeline.llm.context import FunctionContext, Observed
from pipeline.llm.errors import LLMUnavailable, NoUsableReply, StopAsking
from pipeline.llm.proposal import ProposalRejected, apply_proposal, fingerprint
from pipeline.llm.replies import Analysis, Proposal
from pipeline.model import (
    AnalysedFunction,
    Candidate,
    CandidateOrigin,
    DefKind,
    FunctionInfo,
    LLMVisit,
    Outcome,
    ParsedFile,
    TraceFacts,
    Verdict,
    VerdictStatus,
)
from pipeline.stages.defs import DefSite, inventory
from pipeline.stages.parse import InputError, libcst_module
from pipeline.stages.selection import keep_best_accepted
from pipeline.stages.style import project_style, restyle

Domains = Mapping[str, tuple[Mapping[str, Any], str]]
Evaluate = Callable[[Candidate, Config, Domains], Outcome]
LLM_RULES = ("LLM",)
MODEL_DOMAIN_SOURCE = "domain suggested by the model"

# Why a function got no proposal: the phrases the summary counts (the client adds its own).
ASYNC = "async functions are not sent"
IMPURE = "declined as impure"
NO_DOMAIN = "no input domain for an untyped parameter"
NO_INSTANCE = "no instance for a method"
INSTANCE_HINT = "record calls with `optimize trace` or add an OPTIMIZE_INPUTS hook"
NOTHING_PROPOSED = "the model proposed no rewrite"
EXCLUDED = "not sent: the file is excluded"
UNPARSED = "libcst could not parse the file"


@dataclass(frozen=True)
class LLMFindings:
    outcomes: tuple[Outcome, ...] = ()
    visits: tuple[LLMVisit, ...] = ()
    tokens: int = 0


def start_llm(
    config: Config,
    wanted: bool | None,
    warn: Notify,
    note: Notify,
    environ: Mapping[str, str] = os.environ,
    notify: Notify | None = None,
) -> LLMStage | None:
    """The stage for this run, or None (with a one-line `note`) when it is off.

    `warn` gets problems; `notify` progress while waiting on the endpoint and changes
    of request format (default: `warn`).
    """
    if wanted is False or (wanted is None and not config.llm.enabled):
        return None
    where = endpoint(config.llm, environ)
    if not where.configured:
        note(OFFLINE_NOTE)
        return None
    client = LLMClient(config.llm, where, cache_directory(config), notify or warn)
    return LLMStage(config, client, warn)


class LLMStage:
    def __init__(self, config: Config, client: LLMClient, warn: Notify) -> None:
        self.config = config
        self.client = client
        self.warn = warn
        self.announced = False  # what ended the asking is said once per run

    def optimize(
        self,
        parsed: ParsedFile,
        facts: Sequence[AnalysedFunction],
        evaluate: Evaluate,
        progress: Callable[[str], None] | None = None,
    ) -> LLMFindings:
        """Every function in `facts` ends with its proposals evaluated, or a reason why none.

        Nested functions are not sent on their own: they travel inside their unit.
        """
        facts = [f for f in facts if f.info.kind != DefKind.NESTED]
        if _excluded(parsed.source.path, self.config.exclude):
            return LLMFindings(visits=_none_for(facts, EXCLUDED))
        try:
            module = libcst_module(parsed)
        except InputError as error:
            return LLMFindings(visits=_none_for(facts, UNPARSED, str(error)))
        tokens_before = self.client.tokens_used
        outcomes: list[Outcome] = []
        visits: list[LLMVisit] = []
        for fact in facts:
            if progress:
                progress(f"{parsed.source.path.name}::{fact.info.qualname} (LLM)")
            found: list[Outcome] = []
            try:
                visits.append(self._function(parsed, module, fact, evaluate, found))
            except StopAsking as stop:  # no more requests; cached replies still count
                self._announce(stop)
                stopped = _no_proposal(fact, stop.reason)
                visits.append(_evaluated(fact, found, f"then {stop.reason}") if found else stopped)
            outcomes.extend(keep_best_accepted(found))
        tokens = self.client.tokens_used - tokens_before
        return LLMFindings(tuple(outcomes), tuple(visits), tokens)

    def _announce(self, stop: StopAsking) -> None:
        if self.announced:
            return
        self.announced = True
        if isinstance(stop, LLMUnavailable):
            self.warn(f"warning: LLM endpoint unavailable: {stop}; continuing offline")
        else:
            self.warn(str(stop))

    def _function(
        self, parsed: ParsedFile, module: cst.Module, fact: AnalysedFunction, evaluate: Evaluate,
        found: list[Outcome],
    ) -> LLMVisit:  # fmt: skip
        """Ask, evaluate into `found` as it goes, and say how it ended."""
        info = fact.info
        if info.is_async:
            return _no_proposal(fact, ASYNC)
        if fact.impurities:
            return _no_proposal(fact, IMPURE, f"static analysis: {fact.impurities[0]}")
        if not _instance_available(parsed, fact):
            return _no_proposal(fact, NO_INSTANCE, INSTANCE_HINT)
        context = function_context(parsed, fact, observed_of(fact.trace))
        try:
            analysis = self.client.analyze(context)
        except NoUsableReply as failure:
            return _no_proposal(fact, failure.reason, f"analysis: {failure}")
        if not analysis.pure:
            effect = analysis.side_effects[0] if analysis.side_effects else "side effects"
            return _no_proposal(fact, IMPURE, f"the model: {effect}")
        domains, missing = self._domains(info.qualname, context, analysis)
        if missing and not _has_inputs(parsed, fact):
            return _no_proposal(fact, NO_DOMAIN, ", ".join(missing))
        try:
            proposals = self.client.propose(context, analysis)
        except NoUsableReply as failure:
            return _no_proposal(fact, failure.reason, f"proposals: {failure}")
        if not proposals:
            return _no_proposal(fact, NOTHING_PROPOSED)
        attempt = _Attempt(self.config, module, parsed, info, domains, evaluate)
        found.extend(attempt.run(p) for p in proposals)
        problem = "" if any(o.accepted for o in found) else self._repairs(context, attempt, found)
        return _evaluated(fact, found, problem)

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

    def _repairs(self, context: FunctionContext, attempt: _Attempt, found: list[Outcome]) -> str:
        """Send each rejected proposal back with why (a counterexample, or its timings).

        Repaired outcomes are appended to `found`; returns what went wrong asking, if anything.
        """
        problem = ""
        for outcome in list(found):
            previous = attempt.proposals.get(outcome.candidate)
            for _round in range(self.config.llm.repair_rounds):
                try:
                    repaired = self._repair(context, previous, outcome) if previous else None
                except NoUsableReply as failure:
                    problem = f"repair: {failure.reason} ({failure})"
                    break
                if repaired is None:
                    break
                previous, outcome = repaired, attempt.run(repaired, repaired=True)
                found.append(outcome)
                if outcome.accepted:
                    return ""
        return problem

    def _repair(
        self, context: FunctionContext, previous: Proposal, outcome: Outcome
    ) -> Proposal | None:
        """The model's next try at a rejected proposal, or None when there is nothing to aim at."""
        counterexample, timing = outcome.verdict.counterexample, outcome.timing
        if counterexample is not None:
            return self.client.repair(
                context, previous, counterexample.arguments, counterexample.original,
                counterexample.candidate,
            )  # fmt: skip
        if outcome.verdict.is_equivalent and timing is not None and timing.sizes:
            return self.client.speed_up(context, previous, timing.sizes)
        return None


def observed_of(trace: TraceFacts | None) -> Observed:
    """What the prompt says a trace saw of the function's calls; nothing without one."""
    if trace is None:
        return Observed()
    observed = (*trace.parameters, *trace.attributes)
    types = {o.name: o.described for o in observed if o.described}
    sizes = {o.name: o.sizes for o in observed if o.sizes}
    return Observed(types, sizes, trace.own_share)


def _instance_available(parsed: ParsedFile, fact: AnalysedFunction) -> bool:
    """Whether verification could get a `self` for a method: it never reads it, the
    module has an OPTIMIZE_INPUTS hook, or a trace recorded calls of it. Without
    one, every proposal would end unverified: asking would only spend tokens."""
    info = fact.info
    if info.kind != DefKind.METHOD or info.self_unused:
        return True
    return _has_inputs(parsed, fact)


def _has_inputs(parsed: ParsedFile, fact: AnalysedFunction) -> bool:
    """Whether verification has inputs for untyped parameters without the model's
    domains: recorded calls of a trace, or the module's OPTIMIZE_INPUTS hook."""
    recorded = fact.trace is not None and fact.trace.recorded > 0
    return recorded or "OPTIMIZE_INPUTS" in parsed.source.text


def _no_proposal(fact: AnalysedFunction, reason: str, detail: str = "") -> LLMVisit:
    return LLMVisit(fact.info.qualname, fact.info.lineno, no_proposal=reason, detail=detail)


def _none_for(
    facts: Sequence[AnalysedFunction], reason: str, detail: str = ""
) -> tuple[LLMVisit, ...]:
    return tuple(_no_proposal(fact, reason, detail) for fact in facts)


def _evaluated(fact: AnalysedFunction, found: Sequence[Outcome], detail: str = "") -> LLMVisit:
    return LLMVisit(fact.info.qualname, fact.info.lineno, proposals=len(found), detail=detail)


class _Attempt:
    """Turns proposals for one function into evaluated outcomes, refusing repeats."""

    def __init__(
        self, config: Config, module: cst.Module, parsed: ParsedFile, info: FunctionInfo,
        domains: Domains, evaluate: Evaluate,
    ) -> None:  # fmt: skip
        self.config, self.module, self.parsed, self.info = config, module, parsed, info
        self.domains, self.evaluate = domains, evaluate
        self.tried = {fingerprint(module)}
        self.proposals: dict[Candidate, Proposal] = {}

    def run(self, proposal: Proposal, repaired: bool = False) -> Outcome:
        rules = (*LLM_RULES, "repair") if repaired else LLM_RULES
        try:
            rewritten = apply_proposal(self.module, self.info.qualname, proposal)
            key = fingerprint(rewritten)
            if key in self.tried:
                raise ProposalRejected("duplicate of a candidate already tried (normalised AST)")
            self.tried.add(key)
        except ProposalRejected as rejection:
            return self._rejected(proposal, rules, str(rejection))
        path = self.parsed.source.path
        code = restyle(rewritten.code, self.module.code, self.info.qualname,
                       project_style(path), path)  # fmt: skip
        candidate = self._candidate(code, proposal, rules)
        self.proposals[candidate] = proposal
        return self.evaluate(candidate, self.config, self.domains)

    def _candidate(self, code: str, proposal: Proposal, rules: tuple[str, ...]) -> Candidate:
        return Candidate(
            function=self.info.qualname,
            lineno=self.info.lineno,
            rules=rules,
            origin=CandidateOrigin.LLM,
            original_code=self.module.code,
            module_code=code,
            module_name=self.parsed.module_name,
            project_root=self.parsed.project_root,
            explanation=proposal.explanation,
            self_unused=self.info.self_unused,
        )

    def _rejected(self, proposal: Proposal, rules: tuple[str, ...], reason: str) -> Outcome:
        candidate = self._candidate(self.module.code, proposal, rules)
        verdict = Verdict(VerdictStatus.NOT_RUN, 0, (), detail=reason)
        return Outcome(candidate, verdict, None, False, f"proposal rejected: {reason}")


def function_context(
    parsed: ParsedFile, fact: AnalysedFunction, observed: Observed | None = None
) -> FunctionContext:
    """The function, its imports and the signatures of what it calls, and what a trace
    observed of its calls: all that is sent.

    A method goes with its class: the class line (which says what `self` is) and
    the signatures of the methods of that class it calls.
    """
    info = fact.info
    tree = ast.parse(parsed.source.text)
    sites = {site.qualname: site for site in inventory(tree)}
    site = sites[info.qualname]
    calls = [c for c in ast.walk(site.node) if isinstance(c, ast.Call)]
    called = {c.func.id for c in calls if isinstance(c.func, ast.Name)}
    signatures = [
        _signature(n) for n in tree.body
        if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and n.name in called - {info.name}
    ]  # fmt: skip
    if site.classes:
        signatures = [*_class_context(site, calls), *signatures]
    imports = tuple(
        ast.get_source_segment(parsed.source.text, n) or ""
        for n in tree.body
        if isinstance(n, ast.Import | ast.ImportFrom)
    )
    untyped = tuple(p for p in info.value_params if p not in info.annotated_params)
    return FunctionContext(
        info.name, info.lineno, textwrap.dedent(info.source), tuple(signatures), imports, untyped,
        fact.applicable_passes, observed or Observed(),
    )  # fmt: skip


def _class_context(site: DefSite, calls: Sequence[ast.Call]) -> list[str]:
    """`class Name(bases):` saying what the def is, then its class's methods it calls
    (through `self.`, `cls.` or the class name)."""
    owner = site.classes[-1]
    receivers = {"self", "cls", owner.name}
    called = {
        c.func.attr
        for c in calls
        if isinstance(c.func, ast.Attribute)
        and isinstance(c.func.value, ast.Name)
        and c.func.value.id in receivers
    }
    bases = ", ".join(ast.unparse(b) for b in (*owner.bases, *owner.keywords))
    header = f"class {'.'.join(c.name for c in site.classes)}{f'({bases})' if bases else ''}:"
    what = "a static method" if site.kind == DefKind.STATICMETHOD else f"a {site.kind.value}"
    lines = [f"{header}  # `{site.node.name}` is {what} of this class"]
    called.discard(site.node.name)
    for node in owner.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name in called:
            lines.append(textwrap.indent(_signature(node), "    "))
    return lines


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
