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
from .protocol import Inputs, Target, TextEnum, VerifySettings
from .strategies import Parameters, bind, bind_literal, register_nasty_values

# Hypothesis may raise an ExceptionGroup (Python 3.11+) holding several failures.
ExceptionGroup_ = getattr(sys.modules["builtins"], "ExceptionGroup", AssertionError)
# The original running out of stack or memory is a resource limit, not behaviour
# a rewrite must keep (an iterative rewrite of a recursive function is welcome).
RESOURCE_ERRORS = ("RecursionError", "MemoryError")
MAX_SKIPPED = 20
MIN_EXAMPLES = 20


class TooManySkipped(Exception):
    """Most inputs exhaust the original's time or stack: no honest verdict is possible."""


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
    LITERAL = "literal"
    GENERATED = "generated"


def parameters_for(
    function: Callable[..., Any], target: Target, module: Any, inputs: Inputs
) -> tuple[Parameters, list[tuple[dict[str, Any], Origin]], str]:
    """Strategies, explicit examples (recorded calls, then literals), and why none if so."""
    register_nasty_values()  # before any strategy is built from a type
    calls, _ = recorded_calls(inputs)
    recorded = [v for v in (bind(function, a, k) for a, k in calls) if v is not None]
    literal = [(bind_literal(function, call), call.source) for call in inputs.literal_calls]
    parameters = Parameters(function, inputs, recorded, target.self_unused)
    problem = ""
    if parameters.missing:
        names = ", ".join(parameters.missing)
        problem = f"no type hint or domain for parameter(s): {names}"
        if owner_class(module, target.qualname) is not None and parameters.missing[0] == "self":
            problem = (
                "a method needs an instance: record real calls with `optimize trace`, "
                "or give one in OPTIMIZE_INPUTS"
            )
    wanted = set(parameters.strategies)
    explicit = [(v, Origin.RECORDED) for v in recorded if set(v) == wanted]
    for values, source in literal:
        if values is not None and set(values) == wanted:
            explicit.append((values, Origin.LITERAL))
            parameters.sources.add(source)
    return parameters, explicit, problem


def run_hypothesis(
    parameters: Parameters,
    explicit: list[tuple[dict[str, Any], Origin]],
    settings: VerifySettings,
    check: Callable[[dict[str, Any]], None],
) -> None:
    """Call `check` on each explicit example, then on generated ones; exceptions propagate."""
    from hypothesis import HealthCheck, Phase, example, given
    from hypothesis import settings as hypothesis_settings
    from hypothesis import strategies as st

    test = given(st.fixed_dictionaries(parameters.strategies))(check)
    # `example` decorators run bottom-up: apply them in reverse so they run in list order.
    for values, _ in reversed(explicit):
        test = example(values)(test)
    test = hypothesis_settings(
        max_examples=settings.max_examples,
        # No "explain" phase: it replays a failure dozens of times for a hint we don't show.
        phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink],
        derandomize=True,
        deadline=None,
        database=None,
        report_multiple_bugs=False,
        suppress_health_check=list(HealthCheck),
    )(test)
    test()


def is_resource_error(exception_name: str) -> bool:
    return exception_name in RESOURCE_ERRORS
