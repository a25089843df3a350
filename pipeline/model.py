"""Typed values the stages hand to each other, in one direction.

parse -> ParsedFile -> analyze -> AnalysedFunction -> rewrite -> Candidate
      -> verify -> Verdict -> measure -> Timing -> orchestrate -> FileReport
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pipeline.sandbox.child.wire import TextEnum


@dataclass(frozen=True)
class SourceFile:
    """The bytes of a user's file exactly as read, plus how to decode them."""

    path: Path
    raw: bytes
    text: str
    encoding: str


class DefKind(TextEnum):
    FUNCTION = "function"
    METHOD = "method"
    STATICMETHOD = "staticmethod"
    CLASSMETHOD = "classmethod"
    NESTED = "nested function"


@dataclass(frozen=True)
class FunctionInfo:
    """A def found by the parse stage: a module-level function, a method, or a nested
    function that captures nothing (see `pipeline.stages.defs`).

    `qualname` is Python's `__qualname__` ("Cart.total", "outer.<locals>.helper") and
    names the function everywhere (candidates, reports, `--function`); `name` is the
    def's own name. `source` is its text as in the file, indentation included.
    """

    name: str
    lineno: int
    end_lineno: int
    source: str
    params: tuple[str, ...]
    annotated_params: tuple[str, ...]
    is_async: bool
    is_generator: bool
    decorators: tuple[str, ...]
    qualname: str
    kind: DefKind
    # A method that never reads `self` (nor calls zero-argument `super()`).
    self_unused: bool = False

    @property
    def is_method(self) -> bool:
        """Called with an instance first (a classmethod is bound to its class instead)."""
        return self.kind == DefKind.METHOD

    @property
    def value_params(self) -> tuple[str, ...]:
        """The parameters that take generated values: not a method's `self` (it needs an
        instance) nor a classmethod's `cls` (it is bound to its class)."""
        if self.kind in (DefKind.METHOD, DefKind.CLASSMETHOD):
            return self.params[1:]
        return self.params


@dataclass(frozen=True)
class ParsedFile:
    source: SourceFile
    functions: tuple[FunctionInfo, ...]
    module_name: str
    project_root: Path


@dataclass(frozen=True)
class ObservedType:
    """What the recorded calls passed for one parameter (or one `self.attr` a method's
    instance held): the type as an annotation, in how many of the recorded calls."""

    name: str  # "right", or "self.items"
    annotation: str  # "list[str]", "int | None"; "" when no builtin type spells it
    seen: int  # recorded calls that passed exactly this type
    recorded: int  # recorded calls in all
    sizes: str = ""  # "len 3..4096" for sized values
    described: str = ""  # as the trace wrote it, for people and prompts: "list[dict] | None"

    @property
    def assumption(self) -> str:
        """How a candidate that rests on this type says so."""
        counted = f"observed in {self.seen} of {self.recorded} recorded calls"
        return f"{self.name}: {self.annotation} ({counted})"


@dataclass(frozen=True)
class TraceFacts:
    """What `optimize trace` saw of one function, read by every stage after analyze.

    `sizes` is the size histogram of all traced calls, (size, calls), smallest first;
    from a store that has none, the recorded calls' sizes stand in for it.
    """

    calls: int
    own_share: float  # the function's own time / the traced workload's time
    total_seconds: float  # all its calls, outermost activations of recursion only
    workload_seconds: float
    recorded: int  # calls kept as pickles: verification and timing inputs
    # Of those, the outermost activations (not inner calls of a recursion): the first
    # `outermost` recorded calls, the ones a caller made.
    outermost: int = 0
    distinct: int = 0  # distinct argument tuples among the recorded calls
    parameters: tuple[ObservedType, ...] = ()
    attributes: tuple[ObservedType, ...] = ()  # `self.name` of a method's instance
    sizes: tuple[tuple[int, int], ...] = ()

    @property
    def annotations(self) -> dict[str, str]:
        """Parameter -> the annotation the recorded calls support, for passes to rest on:
        only when every recorded call was seen with a type a builtin spells."""
        return {
            observed.name: observed.annotation
            for observed in self.parameters
            if observed.annotation and observed.seen == observed.recorded > 0
        }

    @property
    def attribute_annotations(self) -> dict[str, str]:
        """`self.<name>` -> the annotation every recorded call's instance supports, by
        the attribute's name ("items" -> "list[str]"), as `annotations` for parameters."""
        return {
            observed.name.removeprefix("self."): observed.annotation
            for observed in self.attributes
            if observed.annotation and observed.seen == observed.recorded > 0
        }


@dataclass(frozen=True)
class AnalysedFunction:
    """What static analysis knows about one function, and what a trace saw of it."""

    info: FunctionInfo
    impurities: tuple[str, ...]
    applicable_passes: tuple[str, ...]
    trace: TraceFacts | None = None


class CandidateOrigin(TextEnum):
    PASS = "pass"
    LLM = "llm"


@dataclass(frozen=True)
class Candidate:
    """A whole-module rewrite that changes exactly one function.

    `module_name` and `project_root` say where the module lives, so that the
    sandbox can import it with its package context (relative imports work).
    """

    function: str
    lineno: int
    rules: tuple[str, ...]
    origin: CandidateOrigin
    original_code: str
    module_code: str
    module_name: str
    project_root: Path | None
    explanation: str = ""
    original_function: str = ""
    refused: str = ""  # why the rewrite stage refuses it: never verified, timed or written
    # A method that never reads `self` can be verified with any object standing in for it.
    self_unused: bool = False
    # Observed types the rewrite may rest on ("right: list[str] (observed in 3 of 3
    # recorded calls)"): it is accepted only if verified on recorded calls.
    assumptions: tuple[str, ...] = ()

    @property
    def reference_function(self) -> str:
        return self.original_function or self.function

    @property
    def label(self) -> str:
        return "+".join(self.rules)


RECORDED_BASIS = "recorded calls"  # the examples of a Verdict that a trace recorded


class VerdictStatus(TextEnum):
    EQUIVALENT = "equivalent"
    COUNTEREXAMPLE = "counterexample"
    UNVERIFIABLE = "unverifiable"
    # The original, run twice on the same input, gave different results: no candidate can
    # be checked against it (its detail shows the input).
    NONDETERMINISTIC = "nondeterministic"
    NOT_RUN = "not run"  # --no-verify, or a proposal refused before any verification


@dataclass(frozen=True)
class Counterexample:
    arguments: str
    original: str
    candidate: str


@dataclass(frozen=True)
class Verdict:
    status: VerdictStatus
    examples: int
    strategy_sources: tuple[str, ...]
    detail: str = ""
    counterexample: Counterexample | None = None
    mutates_arguments: bool = False
    # What the examples were: e.g. (("recorded calls", 40), ("generated", 200)).
    basis: tuple[tuple[str, int], ...] = ()
    # The sandbox failed (a crash, a limit, a timeout): another run may decide otherwise.
    transient: bool = False
    # The module could not be imported in the sandbox: the environment's problem, not the
    # candidate's, so never cached; `missing_module` names what Python could not find.
    import_failed: bool = False
    missing_module: str = ""

    @property
    def is_equivalent(self) -> bool:
        return self.status == VerdictStatus.EQUIVALENT

    @property
    def recorded_examples(self) -> int:
        """How many of the examples were real calls recorded by a trace."""
        return dict(self.basis).get(RECORDED_BASIS, 0)


class SizeDecision(TextEnum):
    FASTER = "faster"
    SLOWER = "slower"
    NO_CHANGE = "no change"
    # The interval still straddles the floor when the candidate's timing budget ran out.
    UNDECIDED = "undecided"


@dataclass(frozen=True)
class SizeTiming:
    """Original vs candidate on one input; ratio > 1 means the candidate is faster.

    `size` is how big the input is (its sized arguments' total length, or its int);
    `source` says where it came from: synthesised, hook, recorded or literal.
    """

    size: int
    ratio: float
    low: float
    high: float
    decision: SizeDecision
    original_seconds: float
    candidate_seconds: float
    source: str = "synthesised"
    clock: str = "cpu"
    # Samples of each version behind the figure, and the interval's confidence level (the
    # deciding size is sampled sequentially: its interval is the design's per-look one).
    samples: int = 0
    confidence: float = 0.95
    worker_pairs: int = 0  # fresh worker pairs the samples came from

    @property
    def spread(self) -> float:
        return (self.high - self.low) / 2

    @property
    def loss_seconds(self) -> float:
        """What the candidate costs more per call here (0 when it is not slower)."""
        return max(0.0, self.candidate_seconds - self.original_seconds)


@dataclass(frozen=True)
class Timing:
    """Per-input timings, smallest input first; the last is the headline."""

    sizes: tuple[SizeTiming, ...]
    floor: float
    python: str
    isolation: str
    detail: str = ""
    # A loss at a smaller input is forgiven when it costs less than this per call.
    small_size_tolerance: float = 1e-6
    # With a trace: how many traced calls each input stands for (those nearest to it
    # in size), aligned with `sizes`; empty without recorded calls.
    recorded_calls: tuple[int, ...] = ()
    # With a trace: the ratio over the timed recorded calls, weighted by those counts
    # (see `pipeline.stages.recorded_decision`). When present it alone decides.
    recorded_decision: SizeTiming | None = None

    @property
    def headline(self) -> SizeTiming | None:
        if self.recorded_decision is not None:
            return self.recorded_decision
        return self.sizes[-1] if self.sizes else None

    @property
    def accepted(self) -> bool:
        """With recorded calls: their weighted ratio clears the floor, so the projected
        saving of the traced workload clears zero (enlarged calls and the small-size
        tolerance play no part). Without: faster at the largest input, and no smaller
        input loses more than the tolerance per call."""
        headline = self.headline
        if headline is None or headline.decision != SizeDecision.FASTER:
            return False
        return self.recorded_decision is not None or not self.small_size_losses

    @property
    def recorded_saving(self) -> float | None:
        """Seconds saved per recorded call on average, weighted by the recorded size
        distribution; None without recorded calls."""
        if not self.recorded_calls:
            return None
        weighed = [(w, s) for w, s in zip(self.recorded_calls, self.sizes, strict=True) if w]
        if not weighed:
            return None
        saved = sum(w * (s.original_seconds - s.candidate_seconds) for w, s in weighed)
        return saved / sum(w for w, _ in weighed)

    @property
    def small_size_losses(self) -> tuple[SizeTiming, ...]:
        """Smaller synthesised inputs where the candidate is slower by more than the
        tolerance per call (with a trace, the recorded calls decide: see `accepted`)."""
        if self.recorded_decision is not None:
            return ()
        return tuple(
            size
            for size in self.sizes[:-1]
            if size.decision == SizeDecision.SLOWER
            and size.loss_seconds >= self.small_size_tolerance
        )

    @property
    def forgiven_losses(self) -> tuple[SizeTiming, ...]:
        """Smaller inputs where the candidate is slower, in an accepted timing."""
        if not self.accepted:
            return ()
        return tuple(size for size in self.sizes[:-1] if size.decision == SizeDecision.SLOWER)


@dataclass(frozen=True)
class WorkloadShare:
    """A function's part of the traced workload (`optimize trace`), and what its rewrite
    would save of it: the function's total time times (1 - 1/ratio), as a share of the
    workload, at the measured ratio and at its interval's ends."""

    share: float  # the function's own time / the workload's time
    calls: int
    workload_seconds: float
    saving: float | None = None
    saving_low: float | None = None
    saving_high: float | None = None

    @property
    def seconds_saved(self) -> float | None:
        return None if self.saving is None else self.saving * self.workload_seconds


@dataclass(frozen=True)
class Outcome:
    candidate: Candidate
    verdict: Verdict
    timing: Timing | None
    accepted: bool
    reason: str
    workload: WorkloadShare | None = None


@dataclass(frozen=True)
class LLMVisit:
    """How the LLM stage ended for one function it was given: proposals evaluated, or why none.

    Each evaluated proposal is also an Outcome; `no_proposal` is the reason the summary
    counts (a fixed phrase), `detail` what exactly happened.
    """

    function: str
    lineno: int
    proposals: int = 0
    no_proposal: str = ""
    detail: str = ""


@dataclass(frozen=True)
class FileReport:
    path: Path
    outcomes: tuple[Outcome, ...] = ()
    error: str | None = None
    source: SourceFile | None = None
    new_text: str | None = None
    llm_visits: tuple[LLMVisit, ...] = ()
    llm_tokens: int = 0
    functions: tuple[str, ...] = ()  # the functions examined, whether or not a pass applied
    # Seconds spent per stage (parse, analyze, rewrite, verify, measure), for benchmark reports.
    stage_times: dict[str, float] = field(default_factory=dict, compare=False)

    @property
    def original_text(self) -> str:
        return self.source.text if self.source else ""

    @property
    def accepted(self) -> tuple[Outcome, ...]:
        return tuple(o for o in self.outcomes if o.accepted)
