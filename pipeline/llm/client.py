"""Talking to any OpenAI-compatible endpoint: analysis, proposals and repairs as JSON.

Every reply is structured output (`response_format` with a JSON schema) and is
treated as untrusted data: it is type-checked here, domains are checked
against a whitelist, and code only ever runs through the sandbox. Replies are
cached on disk, keyed by model, prompt version and what was sent, so re-runs
cost nothing. The API key lives only in the SDK client: it is never logged,
cached or put in a message.
"""

from __future__ import annotations

import hashlib
import json
import os
import string
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.config import Config, LLMConfig

if TYPE_CHECKING:  # the SDK takes seconds to import: offline runs never load it
    import openai

PROMPT_VERSION = "v1"
MODEL_DOMAIN_SOURCE = "domain suggested by the model"
OFFLINE_NOTE = (
    "note: LLM stage off: no API key or base_url configured (set OPENAI_API_KEY or OPENAI_BASE_URL)"
)
# A key is needed by the SDK even when the server (Ollama, vLLM) ignores it.
KEYLESS_PLACEHOLDER = "not-needed"


class LLMUnavailable(Exception):
    """The endpoint cannot be reached or keeps failing; the run continues offline."""


@dataclass(frozen=True)
class FunctionContext:
    """Everything that is sent about one function, and nothing more."""

    name: str
    lineno: int
    source: str
    called_signatures: tuple[str, ...]
    imports: tuple[str, ...]
    untyped_params: tuple[str, ...]
    passes: tuple[str, ...]

    @property
    def source_hash(self) -> str:
        return hashlib.sha256(self.source.encode()).hexdigest()


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


@dataclass(frozen=True)
class Endpoint:
    base_url: str | None
    api_key: str | None = field(repr=False)

    @property
    def configured(self) -> bool:
        return bool(self.base_url or self.api_key)


def endpoint(llm: LLMConfig, environ: Mapping[str, str] = os.environ) -> Endpoint:
    """`[tool.optimize.llm] base_url` wins over OPENAI_BASE_URL; the key comes only from the env."""
    base_url = llm.base_url or environ.get("OPENAI_BASE_URL") or None
    return Endpoint(base_url, environ.get(llm.api_key_env) or None)


def cache_directory(config: Config) -> Path | None:
    if not config.llm.cache:
        return None
    directory = Path(config.llm.cache_dir)
    if directory.is_absolute():
        return directory
    root = config.source.parent if config.source is not None else Path.cwd()
    return root / directory


# ----------------------------------------------------------------------------- schemas

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


# ----------------------------------------------------------------------------- client


class LLMClient:
    """One SDK client per run; counts tokens and serves repeats from the disk cache."""

    def __init__(self, llm: LLMConfig, where: Endpoint, cache_dir: Path | None) -> None:
        self.llm = llm
        self.cache_dir = cache_dir
        self.tokens_used = 0
        self.dropped = 0
        import openai

        # The SDK's own retry (exponential backoff, honours Retry-After) covers 408/409/429/5xx
        # and timeouts; we add nothing on top.
        self._client = openai.OpenAI(
            base_url=where.base_url,
            api_key=where.api_key or KEYLESS_PLACEHOLDER,
            timeout=llm.timeout,
            max_retries=llm.max_retries,
        )

    def analyze(self, context: FunctionContext) -> Analysis | None:
        prompt = _render(
            "analyze",
            imports=_lines(context.imports),
            called=_lines(context.called_signatures),
            lineno=str(context.lineno),
            function=context.source,
            passes=", ".join(context.passes) or "(none)",
            untyped=", ".join(context.untyped_params) or "none",
        )
        reply = self._ask("function_analysis", ANALYSIS_SCHEMA, prompt, context)
        return _analysis(reply) if reply is not None else None

    def propose(self, context: FunctionContext, analysis: Analysis) -> list[Proposal]:
        prompt = _render(
            "propose",
            count=str(self.llm.candidates),
            name=context.name,
            imports=_lines(context.imports),
            called=_lines(context.called_signatures),
            analysis=analysis.summary(),
            function=context.source,
        )
        reply = self._ask("rewrite_proposals", PROPOSALS_SCHEMA, prompt, context)
        if reply is None:
            return []
        proposals = [_proposal(item) for item in reply.get("candidates", [])]
        return [p for p in proposals if p is not None][: self.llm.candidates]

    def repair(
        self, context: FunctionContext, proposal: Proposal, arguments: str, original: str,
        behaviour: str,
    ) -> Proposal | None:  # fmt: skip
        prompt = _render(
            "repair",
            name=context.name,
            function=context.source,
            helpers=proposal.helpers,
            candidate=proposal.function,
            arguments=arguments,
            original=original,
            behaviour=behaviour,
        )
        reply = self._ask("rewrite_repair", PROPOSAL_SCHEMA, prompt, context)
        return _proposal(reply) if reply is not None else None

    def _ask(
        self, kind: str, schema: dict[str, Any], prompt: str, context: FunctionContext
    ) -> dict[str, Any] | None:
        """The parsed JSON reply; malformed replies are re-asked once, then dropped."""
        messages = [
            {"role": "system", "content": _template("system")},
            {"role": "user", "content": prompt},
        ]
        key = self._cache_key(kind, context, messages)
        cached = self._cache_read(key)
        if cached is not None:
            return cached
        for _attempt in range(2):
            content = self._complete(kind, schema, messages)
            reply = _json_object(content)
            if reply is not None and _conforms(reply, schema):
                self._cache_write(key, reply)
                return reply
        self.dropped += 1
        return None

    def _complete(self, kind: str, schema: dict[str, Any], messages: list[dict[str, str]]) -> str:
        import openai

        try:
            response = self._client.chat.completions.create(  # type: ignore[call-overload]
                model=self.llm.model,
                messages=messages,  # type: ignore[arg-type]
                temperature=self.llm.temperature,
                max_tokens=self.llm.max_tokens,
                response_format={
                    "type": "json_schema",
                    "json_schema": {"name": kind, "schema": schema, "strict": False},
                },
            )
        except openai.APIConnectionError as error:  # includes timeouts, after the SDK's retries
            raise LLMUnavailable(f"{self.llm.model}: {_kind_of(error)}") from None
        except openai.APIStatusError as error:
            raise LLMUnavailable(f"{self.llm.model}: HTTP {error.status_code}") from None
        except (openai.APIResponseValidationError, ValueError):
            return ""  # a body that is not a chat completion counts as a malformed reply
        if response.usage is not None:
            self.tokens_used += response.usage.total_tokens
        choices = getattr(response, "choices", None) or []
        return (choices[0].message.content or "") if choices else ""

    def _cache_key(
        self, kind: str, context: FunctionContext, messages: Sequence[Mapping[str, str]]
    ) -> str:
        sent = json.dumps(messages, sort_keys=True)
        parts = [self.llm.model, PROMPT_VERSION, kind, context.source_hash, _sha(sent)]
        return _sha("\0".join(parts))

    def _cache_read(self, key: str) -> dict[str, Any] | None:
        if self.cache_dir is None:
            return None
        try:
            data = json.loads((self.cache_dir / f"{key}.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        reply = data.get("reply") if isinstance(data, dict) else None
        return reply if isinstance(reply, dict) else None

    def _cache_write(self, key: str, reply: dict[str, Any]) -> None:
        if self.cache_dir is None:
            return
        record = {"model": self.llm.model, "prompt_version": PROMPT_VERSION, "reply": reply}
        try:
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=self.cache_dir, suffix=".tmp")
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                json.dump(record, out)
            os.replace(temporary, self.cache_dir / f"{key}.json")
        except OSError:
            pass  # a cache that cannot be written only costs a repeat request


def _kind_of(error: openai.APIConnectionError) -> str:
    import openai

    return "timed out" if isinstance(error, openai.APITimeoutError) else "connection failed"


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _lines(items: Sequence[str]) -> str:
    return "\n".join(items) if items else "(none)"


def _template(name: str) -> str:
    path = resources.files("pipeline.llm") / "prompts" / f"{name}-{PROMPT_VERSION}.txt"
    return path.read_text(encoding="utf-8")


def _render(template: str, **values: str) -> str:
    # `string.Template` substitutes plain text: braces in code need no escaping.
    return string.Template(_template(template)).substitute(values)


def _json_object(content: str) -> dict[str, Any] | None:
    text = content.strip()
    if text.startswith("```"):  # some local models fence their JSON despite the schema
        text = text.strip("`").removeprefix("json").strip()
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _conforms(reply: Mapping[str, Any], schema: Mapping[str, Any]) -> bool:
    """The required keys are present; field types are checked where each reply is read."""
    return all(key in reply for key in schema.get("required", ()))


def _analysis(reply: Mapping[str, Any]) -> Analysis | None:
    if not isinstance(reply.get("pure"), bool):
        return None
    domains = {
        str(item["parameter"]): item["domain"]
        for item in reply.get("domains") or []
        if isinstance(item, dict) and valid_domain(item.get("domain"))
        and isinstance(item.get("parameter"), str)
    }  # fmt: skip
    return Analysis(
        intent=str(reply.get("intent", "")),
        pure=reply["pure"],
        side_effects=_strings(reply.get("side_effects")),
        hot_spots=tuple(n for n in reply.get("hot_spots") or [] if isinstance(n, int)),
        complexity=str(reply.get("complexity", "")),
        applicable_passes=_strings(reply.get("applicable_passes")),
        domains=domains,
    )


def _proposal(item: object) -> Proposal | None:
    if not isinstance(item, dict) or not isinstance(item.get("function"), str):
        return None
    helpers = item.get("helpers")
    return Proposal(
        function=item["function"],
        helpers=helpers if isinstance(helpers, str) else "",
        imports=_strings(item.get("imports")),
        explanation=str(item.get("explanation", ""))[:500],
    )


def _strings(value: object) -> tuple[str, ...]:
    return tuple(str(v) for v in value) if isinstance(value, list) else ()
