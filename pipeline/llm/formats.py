"""How to ask an endpoint for JSON, stepping down when it cannot do better.

Endpoints differ: OpenAI, vLLM, llama.cpp and recent Ollama honour
`response_format: json_schema`; several hosted providers and older servers
offer only JSON mode (`json_object`) and answer the schema request with HTTP
400; some servers ignore `response_format` altogether. The client starts at
the best format and steps down one rung at a time, only when the endpoint
refuses the format by name or its replies keep missing the schema. The rung
reached is remembered per endpoint and model in the LLM cache directory, so
the next run starts there.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from pipeline.sandbox.child.wire import TextEnum

CAPABILITIES_FILE = "capabilities.json"
# Words by which a 400/422 names the request format (OpenAI, DeepSeek, vLLM, LM Studio...).
_FORMAT_WORDS = ("response_format", "response format", "json_schema", "json_object",
                 "structured output", "guided_json")  # fmt: skip


class ResponseFormat(TextEnum):
    """The rungs, best first. The value is what the cache stores."""

    JSON_SCHEMA = "json_schema"  # the server constrains the reply to the schema
    JSON_OBJECT = "json_object"  # JSON mode; the schema goes in the prompt
    PROMPT_ONLY = "prompt_only"  # no response_format; the schema goes in the prompt

    @property
    def schema_in_prompt(self) -> bool:
        return self is not ResponseFormat.JSON_SCHEMA

    @property
    def sends_format(self) -> bool:
        return self is not ResponseFormat.PROMPT_ONLY

    @property
    def description(self) -> str:
        return {
            ResponseFormat.JSON_SCHEMA: "response_format json_schema",
            ResponseFormat.JSON_OBJECT: "response_format json_object, the schema in the prompt",
            ResponseFormat.PROMPT_ONLY: "no response_format, the schema in the prompt",
        }[self]

    def step_down(self) -> ResponseFormat | None:
        rungs = list(ResponseFormat)
        position = rungs.index(self)
        return rungs[position + 1] if position + 1 < len(rungs) else None

    def request_field(self, name: str, schema: dict[str, Any]) -> dict[str, Any] | None:
        """The `response_format` to send, or None to send none."""
        if self is ResponseFormat.JSON_SCHEMA:
            return {"type": "json_schema", "json_schema": {"name": name, "schema": schema}}
        if self is ResponseFormat.JSON_OBJECT:
            return {"type": "json_object"}
        return None


def names_the_format(status: int, body: object, message: str) -> bool:
    """Whether an error response refuses the request format (and nothing else)."""
    if status not in (400, 422):
        return False
    text = f"{json.dumps(body, default=str)} {message}".lower()
    return any(word in text for word in _FORMAT_WORDS)


class Capabilities:
    """The remembered rung per (base URL, model); kept in memory only without a cache."""

    def __init__(self, cache_dir: Path | None) -> None:
        self._path = cache_dir / CAPABILITIES_FILE if cache_dir is not None else None
        self._known: dict[str, dict[str, str]] = self._load()

    def get(self, base_url: str, model: str) -> ResponseFormat:
        entry = self._known.get(_key(base_url, model), {})
        try:
            return ResponseFormat(entry.get("response_format", ResponseFormat.JSON_SCHEMA))
        except ValueError:
            return ResponseFormat.JSON_SCHEMA  # written by a later version: start afresh

    def remember(self, base_url: str, model: str, found: ResponseFormat) -> None:
        # The URL is stored only as a hash: it may carry credentials (user:password@host).
        self._known[_key(base_url, model)] = {"model": model, "response_format": found.value}
        if self._path is None:
            return
        try:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=self._path.parent, suffix=".tmp")
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                json.dump(self._known, out, indent=1, sort_keys=True)
            os.replace(temporary, self._path)
        except OSError:
            pass  # not remembering only costs one refused request next run

    def _load(self) -> dict[str, dict[str, str]]:
        if self._path is None:
            return {}
        with contextlib.suppress(OSError, ValueError):
            data = json.loads(self._path.read_text(encoding="utf-8"))
            if isinstance(data, dict):
                return {k: v for k, v in data.items() if isinstance(v, dict)}
        return {}


def _key(base_url: str, model: str) -> str:
    return hashlib.sha256(f"{base_url.rstrip('/')}\0{model}".encode()).hexdigest()[:32]
