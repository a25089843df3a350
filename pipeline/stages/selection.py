"""The one rule for choosing among a function's outcomes: at most one rewrite is applied."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from pipeline.model import Outcome

A_FASTER_VARIANT_WON = "verified and faster, but another candidate was faster"


def keep_best_accepted(outcomes: Sequence[Outcome]) -> list[Outcome]:
    """Keep the fastest accepted outcome accepted; mark the other accepted ones as beaten.

    A measured speedup at the largest size outranks an untimed `--fast` acceptance,
    which has no number.
    """
    accepted = [o for o in outcomes if o.accepted]
    if len(accepted) < 2:
        return list(outcomes)
    best = max(accepted, key=measured_ratio)
    return [
        o
        if o is best or not o.accepted
        else replace(o, accepted=False, reason=A_FASTER_VARIANT_WON)
        for o in outcomes
    ]


def measured_ratio(outcome: Outcome) -> float:
    headline = outcome.timing.headline if outcome.timing else None
    return headline.ratio if headline else 0.0
