"""A small OpenAI-compatible chat-completions server on 127.0.0.1, for tests.

It serves `POST /v1/chat/completions` from a script: one queue of responses
per kind of question (function_analysis, rewrite_proposals, rewrite_repair,
rewrite_faster), so a test says what the "model" answers to each. The kind is
`response_format.json_schema.name`, or, when the schema travels in the prompt,
the name the prompt gives it. A queue may also be for one function (the first
`def` in the prompt's code), so that a run over many functions gets its answers
whatever order it asks in. It counts requests and can answer with an HTTP
error, hang, send arbitrary content (prose, fences, malformed JSON), or send a
body that is not JSON at all. `accepts` plays endpoints that support only some
`response_format` types: others are refused with 400, as JSON-mode-only
providers do.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import defaultdict, deque
from collections.abc import Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import MappingProxyType
from typing import Any


@dataclass(frozen=True)
class Status:
    """Answer with this HTTP status (the SDK retries 429 and 5xx)."""

    code: int
    message: str = "scripted error"


@dataclass(frozen=True)
class Hang:
    """Accept the request and never answer (for `seconds`)."""

    seconds: float


@dataclass(frozen=True)
class Slow:
    """Answer with `response` after `seconds`."""

    seconds: float
    response: dict[str, Any]


@dataclass(frozen=True)
class Content:
    """Assistant message content sent verbatim, e.g. text that is not JSON."""

    text: str


@dataclass(frozen=True)
class BrokenBody:
    """HTTP 200 whose body is not JSON."""


Response = dict[str, Any] | Status | Hang | Slow | Content | BrokenBody

DEFAULTS: dict[str, dict[str, Any]] = {
    "function_analysis": {
        "intent": "computes a value",
        "pure": True,
        "side_effects": [],
        "hot_spots": [],
        "complexity": "unknown",
        "applicable_passes": [],
        "domains": [],
    },
    "rewrite_proposals": {"candidates": []},
}


# What a JSON-mode-only provider says to a json_schema request (OpenAI's wording).
FORMAT_REFUSAL = {
    "message": "Invalid parameter: 'response_format' of type 'json_schema' is not supported "
    "with this model.",
    "type": "invalid_request_error",
    "param": "response_format",
    "code": None,
}
ALL_FORMATS = frozenset({"json_schema", "json_object", "none"})


class LLMServer:
    def __init__(self, accepts: frozenset[str] = ALL_FORMATS) -> None:
        self.accepts = accepts  # response_format types answered; "none" is no response_format
        # (kind, function) -> answers; function None: any function without its own queue
        self.script: dict[tuple[str, str | None], deque[Response]] = defaultdict(deque)
        self.requests: list[dict[str, Any]] = []
        self.authorizations: list[str] = []
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._httpd.daemon_threads = True  # a hanging answer must not block shutdown
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def __enter__(self) -> LLMServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    def add(self, kind: str, *responses: Response, function: str | None = None) -> None:
        """Queue answers to `kind`; with `function`, only to questions about that function."""
        with self._lock:
            self.script[kind, function].extend(responses)

    def count(self, kind: str | None = None) -> int:
        with self._lock:
            return sum(1 for r in self.requests if kind is None or _kind(r) == kind)

    def bodies(self, kind: str) -> list[dict[str, Any]]:
        with self._lock:
            return [r for r in self.requests if _kind(r) == kind]

    def formats(self) -> list[str]:
        """The response_format type of each request so far, in order."""
        with self._lock:
            return [_format(r) for r in self.requests]

    def _next(self, kind: str, function: str | None) -> Response:
        with self._lock:
            for queue in (self.script[kind, function], self.script[kind, None]):
                if queue:
                    return queue.popleft()
            return DEFAULTS.get(kind, {})

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass  # keep test output clean

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                with server._lock:
                    server.requests.append(body)
                    server.authorizations.append(self.headers.get("authorization", ""))
                if not self.path.endswith("/chat/completions"):
                    self._send(404, {"error": {"message": "not found"}})
                elif _format(body) not in server.accepts:
                    self._send(400, {"error": FORMAT_REFUSAL})
                else:
                    self._answer(server._next(_kind(body), _function(body)), body)

            def _answer(self, response: Response, body: dict[str, Any]) -> None:
                if isinstance(response, Hang):
                    time.sleep(response.seconds)
                    return
                if isinstance(response, Slow):
                    time.sleep(response.seconds)
                    response = response.response
                if isinstance(response, Status):
                    error = {"error": {"message": response.message, "type": "test"}}
                    self._send(response.code, error, {"retry-after-ms": "10"})
                elif isinstance(response, BrokenBody):
                    self._send_bytes(200, b"{not json")
                elif isinstance(response, Content):
                    self._send(200, _completion(body, response.text))
                else:
                    self._send(200, _completion(body, json.dumps(response)))

            def _send(
                self, code: int, payload: object, headers: Mapping[str, str] = MappingProxyType({})
            ) -> None:
                self._send_bytes(code, json.dumps(payload).encode(), headers)

            def _send_bytes(
                self, code: int, data: bytes, headers: Mapping[str, str] = MappingProxyType({})
            ) -> None:
                try:
                    self.send_response(code)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(data)))
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout): nothing to tell it

        return Handler


_NAMED_IN_PROMPT = re.compile(r"JSON object \(`(\w+)`\)")


def _kind(body: dict[str, Any]) -> str:
    schema = (body.get("response_format") or {}).get("json_schema") or {}
    if "name" in schema:
        return str(schema["name"])
    for message in body.get("messages", []):
        named = _NAMED_IN_PROMPT.search(str(message.get("content", "")))
        if message.get("role") == "user" and named:
            return named.group(1)
    return ""


_ASKED_ABOUT = re.compile(r"```python\n(?:@.*\n)*(?:async )?def (\w+)\(")


def _function(body: dict[str, Any]) -> str | None:
    """The function a question is about: the first `def` in a code block of the last message."""
    messages = body.get("messages") or [{}]
    asked = _ASKED_ABOUT.search(str(messages[-1].get("content", "")))
    return asked.group(1) if asked else None


def _format(body: dict[str, Any]) -> str:
    return str((body.get("response_format") or {}).get("type", "none"))


def _completion(body: dict[str, Any], content: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model", "test-model"),
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120},
    }
