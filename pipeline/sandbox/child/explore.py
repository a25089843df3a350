"""Driving Hypothesis over a function's parameters: explicit examples first, then generated ones.

Shared by the search (original and candidate side by side) and the recorder
(the original alone), so both try the same inputs in the same order.
"""

from __future__ import annotations

import pickle
import sys
import time
from collections.abc import Callable
from typing import Any

from .loading import owner_class
from .protocol import NEEDS_INSTANCE, Inputs, Target, VerifySettings
from .strategies import Parameters, bind, bind_literal, register_nasty_values
from .synthesis import from_hook, inputs_hook
from .wire import TextEnum

# Hypothesis may raise an ExceptionGroup (Python 3.11+) holding several failures.
ExceptionGroup_ = getattr(sys.modules["builtins"], "ExceptionGroup", AssertionError)
# The original running out of stack or memory is a resource limit, not behaviour
# a rewrite must keep (an iterative rewrite of a recursive function is welcome).
RESOURCE_ERRORS = ("RecursionError", "MemoryError")
MAX_SKIPPED = 20
MIN_EXAMPLES = 20
TOO_SLOW = "too many inputs exceed the original's time or stack limits"
EXPLORATION_SEED = 20261129


class SlowInputs:
    """What the original is too slow on, learned as inputs time out.

    Exploration then skips inputs at least as large in every size (an int's
    magnitude, a collection's length) instead of paying the timeout again, and
    cuts calls at 100x the original's typical time. Skipping never calls
    Hypothesis's `reject`: what is skipped depends on what came before, and
    Hypothesis requires the same input to be treated the same way every time.
    """

    def __init__(self, timeout: float) -> None:
        self.ceiling = timeout
        self.slow: list[tuple[int, ...]] = []
        self.seconds: list[float] = []
        self.skipped = 0
        self.timeouts = 0
        self.gave_up = False

    def skip(self, values: dict[str, Any]) -> bool:
        """Whether to skip this input untried (known too slow, or exploration gave up)."""
        sizes = _sizes(values)
        if self.gave_up or any(
            all(a >= b for a, b in zip(sizes, s, strict=True)) for s in self.slow
        ):
            self.skipped += not self.gave_up
            return True
        return False

    def add(self, values: dict[str, Any], seconds: float, too_slow: bool, examples: int) -> None:
        """One call of the original: its time, or that it was too slow."""
        if not too_slow:
            self.seconds.append(seconds)
            return
        self.slow.append(_sizes(values))
        self.skipped += 1
        self.timeouts += 1
        # Mostly too slow: no honest verdict is possible; stop paying for timeouts.
        self.gave_up = self.timeouts >= MAX_SKIPPED and self.timeouts > 2 * examples

    def bounds(self, names: list[str]) -> dict[str, int]:
        """Per parameter, the smallest size the original was too slow on, to keep new
        inputs under: the frontier of what it can do within the per-call budget."""
        if not self.slow:
            return {}
        ordered = sorted(names)
        found = {}
        for position, name in enumerate(ordered):
            smallest = min(sizes[position] for sizes in self.slow)
            if smallest > 0:
                found[name] = smallest
        return found

    def timeout(self) -> float:
        """The configured limit; once typical calls are known, 100x the median of them
        (at least 50 ms), so inputs far slower than usual are cut short."""
        if len(self.seconds) < 10:
            return self.ceiling
        typical = sorted(self.seconds)[len(self.seconds) // 2]
        return min(self.ceiling, max(0.05, 100 * typical))


def size_of(value: Any) -> int:
    """How big a value is for the cost of a call: an int's magnitude, a collection's length."""
    if type(value) is int:
        return abs(value)
    try:
        return len(value) if not isinstance(value, type) else 0
    except TypeError:
        return 0


def _sizes(values: dict[str, Any]) -> tuple[int, ...]:
    return tuple(size_of(values[name]) for name in sorted(values))


def bounded(strategies: dict[str, Any], bounds: dict[str, int]) -> dict[str, Any]:
    """The strategies, each kept under its parameter's bound (see `SlowInputs.bounds`)."""

    def under(limit: int) -> Callable[[Any], bool]:
        return lambda value: size_of(value) < limit

    return {
        name: strategy.filter(under(bounds[name])) if name in bounds else strategy
        for name, strategy in strategies.items()
    }


class Budget:
    """Wall-clock budget for one exploration; once spent, remaining examples are no-ops."""

    def __init__(self, seconds: float) -> None:
        self.deadline = time.monotonic() + seconds
        self.exhausted = False

    def spent(self) -> bool:
        self.exhausted = self.exhausted or time.monotonic() > self.deadline
        return self.exhausted


def recorded_calls(inputs: Inputs) -> tuple[list[tuple[Any, dict[str, Any]]], int]:
    """The trace's recorded calls, unpickled here in the sandbox; and how many failed to load."""
    calls, broken = [], 0
    for blob in inputs.recorded_calls:
        try:
            args, kwargs = pickle.loads(blob)
            calls.append((tuple(args), dict(kwargs)))
        except Exception:
            broken += 1
    return calls, broken


class Origin(TextEnum):
    RECORDED = "recorded"
    HOOK = "hook"
    LITERAL = "literal"
    GENERATED = "generated"


# Sizes the OPTIMIZE_INPUTS hook is asked for when it supplies what nothing else can
# (say, a method's instance): small, since each is an example the original must run,
# and more than MIN_EXAMPLES, since they may be all the examples there are.
HOOK_SIZES = tuple(range(MIN_EXAMPLES + 10))


def hook_calls(function: Callable[..., Any], qualname: str) -> list[dict[str, Any]]:
    """The module's OPTIMIZE_INPUTS calls for `qualname` at `HOOK_SIZES`, bound to the
    function's parameters; sizes the hook rejects (it raises) are left out."""
    hook = inputs_hook(function, qualname)
    if hook is None:
        return []
    calls = []
    for size in HOOK_SIZES:
        try:
            args, kwargs = from_hook(hook, size)
        except Exception:
            continue
        bound = bind(function, args, kwargs)
        if bound is not None:
            calls.append(bound)
    return calls


def parameters_for(
    function: Callable[..., Any], target: Target, module: Any, inputs: Inputs
) -> tuple[Parameters, list[tuple[dict[str, Any], Origin]], str]:
    """Strategies, explicit examples (recorded calls, then literals), and why none if so."""
    register_nasty_values()  # before any strategy is built from a type
    calls, _ = recorded_calls(inputs)
    recorded = [v for v in (bind(function, a, k) for a, k in calls) if v is not None]
    literal = [(bind_literal(function, call), call.source) for call in inputs.literal_calls]
    parameters = Parameters(function, inputs, recorded, target.self_unused)
    hooked = hook_calls(function, target.qualname) if parameters.missing else []
    if hooked:  # the hook supplies what nothing else could (a method's instance)
        parameters = Parameters(function, inputs, recorded, target.self_unused, hooked)
    problem = ""
    if parameters.missing:
        names = ", ".join(parameters.missing)
        problem = f"no type hint or domain for parameter(s): {names}"
        if owner_class(module, target.qualname) is not None and parameters.missing[0] == "self":
            problem = (
                f"{NEEDS_INSTANCE}: record real calls with `optimize trace`, "
                "or give one in OPTIMIZE_INPUTS"
            )
    wanted = set(parameters.strategies)
    explicit = [(v, Origin.RECORDED) for v in recorded if set(v) == wanted]
    explicit += [(v, Origin.HOOK) for v in hooked if set(v) == wanted]
    for values, source in literal:
        if values is not None and set(values) == wanted:
            explicit.append((values, Origin.LITERAL))
            parameters.sources.add(source)
    return parameters, explicit, problem


def explore(
    parameters: Parameters,
    explicit: list[tuple[dict[str, Any], Origin]],
    settings: VerifySettings,
    check: Callable[[dict[str, Any]], None],
    slow_inputs: SlowInputs,
    enough: Callable[[], bool],
) -> None:
    """`run_hypothesis`; if the original was too slow on so many inputs that too few
    examples ran, once more with every parameter kept under the sizes it was too slow on."""
    run_hypothesis(parameters.strategies, explicit, settings, check)
    if not enough() and not slow_inputs.gave_up:
        strategies = bounded(parameters.strategies, slow_inputs.bounds(list(parameters.strategies)))
        run_hypothesis(strategies, [], settings, check)


def run_hypothesis(
    strategies: dict[str, Any],
    explicit: list[tuple[dict[str, Any], Origin]],
    settings: VerifySettings,
    check: Callable[[dict[str, Any]], None],
) -> None:
    """Call `check` on each explicit example, then on generated ones; exceptions propagate.

    The seed is fixed, not derived from `check`'s code as `derandomize` would: the
    inputs tried must not change when our own code does, and the recorder and the
    search must try the same ones."""
    from hypothesis import HealthCheck, Phase, example, given, seed
    from hypothesis import settings as hypothesis_settings
    from hypothesis import strategies as st

    test = given(st.fixed_dictionaries(strategies))(check)
    # `example` decorators run bottom-up: apply them in reverse so they run in list order.
    for values, _ in reversed(explicit):
        test = example(values)(test)
    test = hypothesis_settings(
        max_examples=settings.max_examples,
        # No "explain" phase: it replays a failure dozens of times for a hint we don't show.
        phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink],
        derandomize=False,
        deadline=None,
        database=None,
        report_multiple_bugs=False,
        suppress_health_check=list(HealthCheck),
    )(test)
    seed(EXPLORATION_SEED)(test)()


def is_resource_error(exception_name: str) -> bool:
    return exception_name in RESOURCE_ERRORS
