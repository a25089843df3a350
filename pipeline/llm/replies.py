"""What the model must answer (JSON schemas) and how its answer is read back.

Replies are untrusted text. Models that honour `response_format` send bare
JSON; others wrap it in prose, Markdown fences or a reasoning block, or add a
sentence after it. `extract` takes the first JSON object anywhere in the text
that validates against the schema, and otherwise says, in one line, why
nothing fits: that line goes back to the model in the re-ask.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

_STRINGS = {"type": "array", "items": {"type": "string"}}
ANALYSIS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "intent": {"type": "string"},
        "pure": {"type": "boolean"},
        "side_effects": _STRINGS,
        "hot_spots": {"type": "array", "items": {"type": "integer"}},
        "complexity": {"type": "string"},
        "applicable_passes": _STRINGS,
        "domains": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"parameter": {"type": "string"}, "domain": {"type": "object"}},
                "required": ["parameter", "domain"],
            },
        },
    },
    "required": ["intent", "pure", "side_effects", "hot_spots", "complexity", "domains"],
}
PROPOSAL_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "function": {"type": "string"},
        "helpers": {"type": "string"},
        "imports": _STRINGS,
        "explanation": {"type": "string"},
    },
    "required": ["function", "helpers", "imports", "explanation"],
}
PROPOSALS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"candidates": {"type": "array", "items": PROPOSAL_SCHEMA}},
    "required": ["candidates"],
}

# Reasoning models (DeepSeek-R1, Qwen3) think aloud first; drafts in there are not the answer.
_THINKING = re.compile(r"<think>.*?(</think>|$)", re.DOTALL)
_NO_JSON = "no JSON object in the reply"


class ReplyMismatch(ValueError):
    """No JSON object in the reply fits the schema; the message says why, in one line."""


def extract(text: str, schema: Mapping[str, Any]) -> dict[str, Any]:
    """The first JSON object in `text` that validates against `schema`, or ReplyMismatch."""
    from jsonschema import Draft202012Validator  # loaded only when an LLM is in use
    from jsonschema.exceptions import best_match

    validator = Draft202012Validator(schema)
    largest: tuple[int, dict[str, Any]] | None = None
    for length, value in _json_objects(_THINKING.sub("", text)):
        if validator.is_valid(value):
            return value
        if largest is None or length > largest[0]:
            largest = (length, value)
    if largest is None:
        raise ReplyMismatch(_NO_JSON)
    # The largest object is most likely the one meant as the answer: explain what is wrong with it.
    error = best_match(validator.iter_errors(largest[1]))
    where = "/".join(str(part) for part in error.absolute_path) if error else ""
    message = error.message if error else "does not match the schema"
    raise ReplyMismatch(f"{where}: {_shorten(message)}" if where else _shorten(message))


def fits(value: object, schema: Mapping[str, Any]) -> bool:
    from jsonschema import Draft202012Validator

    return bool(Draft202012Validator(schema).is_valid(value))


def _json_objects(text: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """Every JSON object that starts at some `{` of `text`, outermost first, with its length."""
    decoder = json.JSONDecoder()
    for start in (i for i, char in enumerate(text) if char == "{"):
        try:
            value, end = decoder.raw_decode(text, start)
        except ValueError:
            continue
        if isinstance(value, dict):
            yield end - start, value


def _shorten(text: str, limit: int = 160) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


# ----------------------------------------------------------------------------- typed replies


@dataclass(frozen=True)
class Analysis:
    intent: str
    pure: bool
    side_effects: tuple[str, ...]
    hot_spots: tuple[int, ...]
    complexity: str
    applicable_passes: tuple[str, ...]
    domains: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def summary(self) -> str:
        return json.dumps(
            {"intent": self.intent, "complexity": self.complexity, "hot_spots": self.hot_spots}
        )


@dataclass(frozen=True)
class Proposal:
    function: str
    helpers: str
    imports: tuple[str, ...]
    explanation: str


def analysis(reply: Mapping[str, Any]) -> Analysis:
    """An ANALYSIS_SCHEMA reply; domains outside the whitelist are dropped."""
    domains = {
        str(item["parameter"]): item["domain"]
        for item in reply.get("domains") or []
        if isinstance(item, dict) and valid_domain(item.get("domain"))
        and isinstance(item.get("parameter"), str)
    }  # fmt: skip
    return Analysis(
        intent=str(reply.get("intent", "")),
        pure=reply["pure"] is True,
        side_effects=_strings(reply.get("side_effects")),
        hot_spots=tuple(n for n in reply.get("hot_spots") or [] if isinstance(n, int)),
        complexity=str(reply.get("complexity", "")),
        applicable_passes=_strings(reply.get("applicable_passes")),
        domains=domains,
    )


def proposal(item: Mapping[str, Any]) -> Proposal:
    """A PROPOSAL_SCHEMA reply (or one candidate of a PROPOSALS_SCHEMA reply)."""
    helpers = item.get("helpers")
    return Proposal(
        function=str(item["function"]),
        helpers=helpers if isinstance(helpers, str) else "",
        imports=_strings(item.get("imports")),
        explanation=str(item.get("explanation", ""))[:500],
    )


def _strings(value: object) -> tuple[str, ...]:
    return tuple(str(v) for v in value) if isinstance(value, list) else ()


# ----------------------------------------------------------------------------- domains

_SCALAR_KEYS = {
    "int": {"min", "max"},
    "float": {"min", "max", "allow_nan", "allow_infinity"},
    "bool": set(),
    "none": set(),
    "str": {"alphabet", "min_size", "max_size"},
}
_MAX_DOMAIN_DEPTH = 4


def valid_domain(spec: object, depth: int = 0) -> bool:
    """Whether `spec` is plain data in the whitelist the sandbox maps to strategies."""
    if not isinstance(spec, dict) or depth > _MAX_DOMAIN_DEPTH:
        return False
    kind, keys = spec.get("type"), set(spec) - {"type"}
    if kind in ("int", "float"):
        bounds = [spec.get(k) for k in ("min", "max") if k in spec]
        numbers = all(isinstance(b, int | float) and not isinstance(b, bool) for b in bounds)
        return keys <= _SCALAR_KEYS[kind] and numbers and _ordered(spec)
    if kind in ("bool", "none"):
        return not keys
    if kind == "str":
        sizes_ok = all(isinstance(spec.get(k, 0), int) for k in ("min_size", "max_size"))
        alphabet_ok = isinstance(spec.get("alphabet", ""), str)
        return keys <= _SCALAR_KEYS["str"] and sizes_ok and alphabet_ok
    if kind in ("list", "set", "tuple"):
        sizes_ok = all(_small_size(spec.get(k, 0)) for k in ("min_size", "max_size"))
        return (
            keys <= {"items", "min_size", "max_size"}
            and sizes_ok
            and ("items" not in spec or valid_domain(spec["items"], depth + 1))
        )
    if kind == "dict":
        return keys <= {"keys", "values", "max_size"} and all(
            valid_domain(spec[k], depth + 1) for k in ("keys", "values") if k in spec
        )
    if kind == "one_of":
        options = spec.get("options")
        return (
            keys == {"options"}
            and isinstance(options, list)
            and bool(options)
            and all(valid_domain(o, depth + 1) for o in options)
        )
    if kind == "sampled_from":
        values = spec.get("values")
        return (
            keys == {"values"}
            and isinstance(values, list)
            and bool(values)
            and all(v is None or isinstance(v, str | int | float | bool) for v in values)
        )
    return False


def _ordered(spec: Mapping[str, Any]) -> bool:
    return "min" not in spec or "max" not in spec or spec["min"] <= spec["max"]


def _small_size(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 1000
