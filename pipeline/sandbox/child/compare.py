"""The one comparator: the first observable difference between two observations, or None.

It reads only data (`Observation`s whose values were made by `encoding`), so
the parent can judge observations made in two other processes without running
any of their code. The search mode uses it too, inside the child, so a
counterexample found there and a confirmation made by the parent apply the
same rule. Observations from a candidate's process are untrusted input: a
malformed one is a difference, never a crash and never a match.
"""

from __future__ import annotations

import json
import math
from typing import Any

from .protocol import CallKind, Observation


def difference(original: Observation, candidate: Observation, tolerance: float) -> str | None:
    if original.kind != candidate.kind:
        return "outcome"
    if original.kind == CallKind.RAISE:
        if original.exception != candidate.exception:
            return "exception type"
        if not same_value(original.value, candidate.value, tolerance):
            return "exception args"
    elif original.kind == CallKind.RETURN and not same_value(
        original.value, candidate.value, tolerance
    ):
        return "return value"
    if not same_value(original.arguments, candidate.arguments, tolerance):
        return "argument mutation"
    if original.stdout != candidate.stdout:
        return "stdout"
    if original.stderr != candidate.stderr:
        return "stderr"
    if original.aliases != candidate.aliases:
        return "aliasing of the result with an argument"
    return None


def same_value(original: Any, candidate: Any, tolerance: float = 0.0) -> bool:
    """Whether two encoded values are equal: by digest, or node by node with a float tolerance."""
    if not (isinstance(original, dict) and isinstance(candidate, dict)):
        return original is None and candidate is None
    try:
        if original["sha"] == candidate["sha"]:
            return True
        if tolerance <= 0 or original["n"] != candidate["n"]:
            return False
        nodes = original["nodes"], candidate["nodes"]
        if nodes[0] is None or nodes[1] is None or len(nodes[0]) != len(nodes[1]):
            return False
        pairs = [(original["root"], candidate["root"]), *zip(*nodes, strict=True)]
        return all(_close(a, b, tolerance) for a, b in pairs)
    except (KeyError, TypeError, ValueError):
        return False


def _close(a: Any, b: Any, tolerance: float) -> bool:
    if isinstance(a, dict) and isinstance(b, dict):
        if set(a) != set(b):
            return False
        if set(a) == {"f"}:
            return _close_floats(a["f"], b["f"], tolerance)
        if set(a) == {"c"}:
            pairs = zip(a["c"], b["c"], strict=True)
            return all(_close_floats(x, y, tolerance) for x, y in pairs)
        if "set" in a:
            return _close_sets(a, b, tolerance)
        return all(_close(a[key], b[key], tolerance) for key in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_close(x, y, tolerance) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


def _close_sets(a: dict[str, Any], b: dict[str, Any], tolerance: float) -> bool:
    """Set items in any order: each item of one matches a distinct item of the other."""
    rest = {key: a[key] for key in a if key != "set"}
    if rest != {key: b[key] for key in b if key != "set"} or len(a["set"]) != len(b["set"]):
        return False
    unmatched = [json.loads(item) for item in b["set"]]
    for item in (json.loads(text) for text in a["set"]):
        matches = (i for i, other in enumerate(unmatched) if same_value(item, other, tolerance))
        match = next(matches, None)
        if match is None:
            return False
        del unmatched[match]
    return True


def _close_floats(a: str, b: str, tolerance: float) -> bool:
    x, y = float(a), float(b)
    if math.isnan(x) or math.isnan(y):
        return math.isnan(x) and math.isnan(y)
    if x == y:
        return math.copysign(1.0, x) == math.copysign(1.0, y)
    return math.isclose(x, y, rel_tol=tolerance, abs_tol=tolerance)


def describe(observation: Observation, show_arguments: bool = False) -> str:
    """What a reader needs to see of one call's behaviour, one fact a line."""
    lines = list(observation.shown)
    if show_arguments:
        lines.append(f"arguments after the call: {observation.shown_arguments}")
    for name, stream in (("stdout", observation.stdout), ("stderr", observation.stderr)):
        if stream.length:
            lines.append(f"{name}: {_clip(repr(stream.prefix))}")
    if observation.aliases:
        shared = ", ".join(f"{arg} (at {where})" for where, arg in observation.aliases)
        lines.append(f"result aliases {shared}")
    return "\n".join(lines)


def _clip(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
