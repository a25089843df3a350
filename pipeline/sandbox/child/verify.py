"""The three verification jobs: record (original alone), replay (one function alone) and
search (both in one process, to find and shrink a difference).

Acceptance never rests on a process that ran the candidate: the parent compares
what the recorder saw the original do with what a replay saw the candidate do.
The search only ever rejects; its "no difference" means nothing to the parent.
"""

from __future__ import annotations

import copy
import pickle
import time
from typing import Any

from .compare import describe, difference
from .explore import (
    MIN_EXAMPLES,
    TOO_SLOW,
    Budget,
    ExceptionGroup_,
    Origin,
    SlowInputs,
    explore,
    is_resource_error,
    parameters_for,
)
from .loading import load_module, owner_class, resolve, unify_classes
from .observe import Observer, describe_call, first_line
from .protocol import (
    NONDETERMINISTIC,
    CallKind,
    Counterexample,
    Observation,
    RecordedExample,
    RecordRequest,
    RecordResult,
    ReplayRequest,
    ReplayResult,
    SearchRequest,
    SearchResult,
    SearchVerdict,
    Status,
)
from .strategies import call_arguments


def _too_slow(observation: Observation) -> bool:
    return observation.kind == CallKind.TIMEOUT or (
        observation.kind == CallKind.RAISE and is_resource_error(observation.exception)
    )


def _mutated(
    observer: Observer, args: tuple[Any, ...], kwargs: dict[str, Any], observation: Observation
) -> bool:
    """Whether the call changed its arguments: the observer called it on private copies, so
    `args` and `kwargs` still hold the values from before the call."""
    return bool(observer.encode((args, kwargs))["sha"] != observation.arguments["sha"])


def _names(function: Any) -> tuple[str, ...]:
    import inspect

    return tuple(inspect.signature(function).parameters)


# --------------------------------------------------------------------------- record


def record(request: RecordRequest) -> RecordResult:
    target = request.target
    module = load_module(target)
    function = resolve(module, target.qualname)
    parameters, explicit, problem = parameters_for(function, target, module, request.inputs)
    if problem:
        return RecordResult(Status.UNSUPPORTED, detail=problem)
    observer = Observer(
        frozenset({target.module, *target.aliases}), request.settings.example_timeout
    )
    origins = [origin for _, origin in explicit]
    recorder = _Recorder(function, observer, Budget(request.settings.budget_seconds), origins)
    needed = min(MIN_EXAMPLES, request.settings.max_examples)
    try:
        explore(parameters, explicit, request.settings, recorder.check, recorder.slow_inputs,
                lambda: len(recorder.examples) >= needed)  # fmt: skip
    except Exception as error:
        detail = f"input generation failed: {type(error).__name__}: {first_line(error)}"
        return RecordResult(Status.UNSUPPORTED, detail=detail)
    skipped = recorder.slow_inputs.skipped
    if recorder.slow_inputs.gave_up:
        return RecordResult(Status.UNSUPPORTED, detail=TOO_SLOW, skipped_slow=skipped)
    return RecordResult(
        Status.OK,
        examples=tuple(recorder.examples),
        sources=tuple(sorted(parameters.sources)),
        skipped_slow=skipped,
        skipped_unpicklable=recorder.unpicklable,
        budget_exhausted=recorder.budget.exhausted,
    )


class _Recorder:
    def __init__(
        self, function: Any, observer: Observer, budget: Budget, explicit: list[Origin]
    ) -> None:
        self.function = function
        self.observer = observer
        self.budget = budget
        self.explicit = explicit
        self.calls = 0
        self.slow_inputs = SlowInputs(observer.timeout)
        self.names = _names(function)
        self.examples: list[RecordedExample] = []
        self.unpicklable = 0

    def check(self, values: dict[str, Any]) -> None:
        index, self.calls = self.calls, self.calls + 1
        origin = self.explicit[index] if index < len(self.explicit) else Origin.GENERATED
        if self.budget.spent() or self.slow_inputs.skip(values):
            return
        args, kwargs = call_arguments(self.function, values)
        try:
            blob = pickle.dumps((args, kwargs), protocol=pickle.HIGHEST_PROTOCOL)
        except Exception:
            self.unpicklable += 1
            return
        start = time.perf_counter()
        timeout = self.slow_inputs.timeout()
        observation = self.observer.observe(self.function, args, kwargs, self.names, timeout)
        too_slow = _too_slow(observation)
        self.slow_inputs.add(values, time.perf_counter() - start, too_slow, len(self.examples))
        if too_slow:
            return
        shown = describe_call(args, kwargs, self.names)
        mutated = _mutated(self.observer, args, kwargs, observation)
        self.examples.append(RecordedExample(blob, shown, observation, mutated, origin.value))


# --------------------------------------------------------------------------- replay


def replay(request: ReplayRequest) -> ReplayResult:
    target = request.target
    function = resolve(load_module(target), target.qualname)
    observer = Observer(
        frozenset({target.module, *target.aliases}), request.settings.example_timeout
    )
    names = _names(function)
    observations = []
    for blob in request.calls:
        try:
            args, kwargs = pickle.loads(blob)
        except Exception as error:
            detail = f"the input cannot be loaded here: {type(error).__name__}: {first_line(error)}"
            observations.append(Observation(CallKind.RAISE, exception=detail, shown=(detail,)))
            continue
        observation = observer.observe(function, args, kwargs, names)
        if observation.kind == CallKind.TIMEOUT:  # a loaded machine gets a second, longer chance
            timeout = request.settings.example_timeout * 3
            observation = observer.observe(function, args, kwargs, names, timeout)
        observations.append(observation)
    return ReplayResult(Status.OK, observations=tuple(observations))


# --------------------------------------------------------------------------- search


class Mismatch(AssertionError):
    pass


class Nondeterministic(Exception):
    """The original disagrees with itself on the same input."""


def search(request: SearchRequest) -> SearchResult:
    original_module = load_module(request.original)
    original = resolve(original_module, request.original.qualname)
    candidate_module = load_module(request.candidate)
    unify_classes(original_module, candidate_module)
    candidate = resolve(candidate_module, request.candidate.qualname)
    parameters, explicit, problem = parameters_for(
        original, request.original, original_module, request.inputs
    )
    if problem:
        return SearchResult(Status.UNSUPPORTED, SearchVerdict.UNVERIFIABLE, detail=problem)
    under_test = frozenset({request.original.module, request.candidate.module,
                            *request.original.aliases})  # fmt: skip
    owner = owner_class(candidate_module, request.candidate.qualname)
    settings = request.settings
    searcher = _Searcher(original, candidate, Observer(under_test, settings.example_timeout),
                         settings.float_tolerance, settings.shrink_seconds,
                         Budget(settings.budget_seconds), owner)  # fmt: skip
    sources = tuple(sorted(parameters.sources))
    needed = min(MIN_EXAMPLES, request.settings.max_examples)
    try:
        explore(parameters, explicit, request.settings, searcher.check, searcher.slow_inputs,
                lambda: searcher.examples >= needed or searcher.failure is not None)  # fmt: skip
    except Mismatch:
        return searcher.result(SearchVerdict.DIFFERENCE, sources)
    except Nondeterministic as error:
        detail = f"{NONDETERMINISTIC}: {error}"
        return searcher.result(SearchVerdict.NONDETERMINISTIC, sources, detail)
    except Exception as error:
        if searcher.failure is not None:  # e.g. flaky under load, or shrinking was cut short
            return searcher.result(SearchVerdict.DIFFERENCE, sources)
        if isinstance(error, ExceptionGroup_) or "hypothesis" in type(error).__module__:
            detail = f"input generation failed: {type(error).__name__}: {first_line(error)}"
            return searcher.result(SearchVerdict.UNVERIFIABLE, sources, detail)
        raise
    if searcher.slow_inputs.gave_up:
        return searcher.result(SearchVerdict.UNVERIFIABLE, sources, TOO_SLOW)
    if searcher.examples < min(MIN_EXAMPLES, request.settings.max_examples):
        detail = f"only {searcher.examples} examples could be run"
        return searcher.result(SearchVerdict.UNVERIFIABLE, sources, detail)
    return searcher.result(SearchVerdict.NO_DIFFERENCE, sources)


class _Searcher:
    def __init__(
        self, original: Any, candidate: Any, observer: Observer, tolerance: float,
        shrink_seconds: float, budget: Budget, owner: type | None,
    ) -> None:  # fmt: skip
        self.original = original
        self.candidate = candidate
        self.observer = observer
        self.tolerance = tolerance
        self.shrink_seconds = shrink_seconds
        self.budget = budget
        self.owner = owner
        self.names = _names(original)
        self.examples = 0
        self.slow_inputs = SlowInputs(observer.timeout)
        self.failure: Counterexample | None = None
        self.first_failure_at: float | None = None

    def check(self, values: dict[str, Any]) -> None:
        if self._shrinking_is_over() or (self.failure is None and self.budget.spent()):
            return  # keep the smallest difference found so far; see search()
        if self.slow_inputs.skip(values):
            return
        args, kwargs = call_arguments(self.original, values)
        start = time.perf_counter()
        timeout = self.slow_inputs.timeout()
        original = self.observer.observe(self.original, args, kwargs, self.names, timeout)
        too_slow = _too_slow(original)
        self.slow_inputs.add(values, time.perf_counter() - start, too_slow, self.examples)
        if too_slow:
            return
        candidate = self._observe_candidate(args, kwargs)
        self.examples += 1
        reason = difference(original, candidate, self.tolerance)
        if reason is None:
            return
        again = self.observer.observe(self.original, args, kwargs, self.names)
        if again.kind != CallKind.TIMEOUT and difference(original, again, self.tolerance):
            raise Nondeterministic(describe_call(args, kwargs, self.names))
        mutated = _mutated(self.observer, args, kwargs, original)
        self._record(args, kwargs, original, candidate, reason, mutated)
        raise Mismatch(reason)

    def _observe_candidate(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Observation:
        """A method's rewrite runs on an instance of its own class, as it will in the file."""
        if (
            self.owner is not None
            and args
            and type(args[0]).__qualname__ == self.owner.__qualname__
        ):
            instance = copy.deepcopy(args[0])
            try:
                instance.__class__ = self.owner
                args = (instance, *args[1:])
            except TypeError:
                pass  # an incompatible layout: the original's class it is
        observation = self.observer.observe(self.candidate, args, kwargs, self.names)
        if observation.kind == CallKind.TIMEOUT:
            timeout = self.observer.timeout * 3
            observation = self.observer.observe(self.candidate, args, kwargs, self.names, timeout)
        return observation

    def _shrinking_is_over(self) -> bool:
        """Shrinking slow failures can take minutes; past a budget, keep what we have."""
        if self.first_failure_at is None:
            return False
        return time.monotonic() - self.first_failure_at > self.shrink_seconds

    def _record(
        self, args: tuple[Any, ...], kwargs: dict[str, Any], original: Observation,
        candidate: Observation, reason: str, mutated: bool,
    ) -> None:  # fmt: skip
        if self.first_failure_at is None:
            self.first_failure_at = time.monotonic()
        show = reason == "argument mutation" or mutated
        self.failure = Counterexample(
            arguments=describe_call(args, kwargs, self.names),
            original=describe(original, show),
            candidate=describe(candidate, show),
            reason=reason,
        )

    def result(
        self, verdict: SearchVerdict, sources: tuple[str, ...], detail: str = ""
    ) -> SearchResult:
        if verdict == SearchVerdict.DIFFERENCE and self.failure is not None:
            detail = f"differs in {self.failure.reason}"
        counterexample = self.failure if verdict == SearchVerdict.DIFFERENCE else None
        return SearchResult(Status.OK, verdict, detail, self.examples, counterexample, sources)
