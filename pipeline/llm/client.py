"""Talking to any OpenAI-compatible endpoint: analysis, proposals and repairs as JSON.

Every reply is untrusted data: it is extracted and validated against a JSON
schema (replies.py), domains are checked against a whitelist, and code only
ever runs through the sandbox. How the reply is requested steps down with what
the endpoint can do (formats.py). Replies are cached on disk, keyed by model,
prompt version and what was sent, so re-runs cost nothing. The run's limits
(tokens, time waiting on the endpoint) are checked before every request. The
API key lives only in the SDK client: it is never logged, cached or put in a
message, and is blanked out of anything the server says back.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.config import Config, LLMConfig
from pipeline.llm.context import (
    PROMPT_VERSION,
    FunctionContext,
    listing,
    observed_text,
    render,
    template,
)
from pipeline.llm.errors import (
    LLMUnavailable,
    NoUsableReply,
    StopAsking,
    TimeBudgetSpent,
    TokenCapReached,
)
from pipeline.llm.formats import Capabilities, ResponseFormat, names_the_format
from pipeline.llm.replies import (
    ANALYSIS_SCHEMA,
    PROPOSAL_SCHEMA,
    PROPOSALS_SCHEMA,
    Analysis,
    Proposal,
    ReplyMismatch,
    analysis,
    extract,
    fits,
    proposal,
)
from pipeline.model import SizeTiming

if TYPE_CHECKING:  # the SDK takes seconds to import: offline runs never load it
    import openai

OFFLINE_NOTE = (
    "note: LLM stage off: no API key or base_url configured (set OPENAI_API_KEY or OPENAI_BASE_URL)"
)
# A key is needed by the SDK even when the server (Ollama, vLLM) ignores it.
KEYLESS_PLACEHOLDER = "not-needed"
# While a request is out: a first note after this many seconds, then one every WAIT_NOTE_EVERY.
WAIT_NOTE_AFTER = 5.0
WAIT_NOTE_EVERY = 15.0
Notify = Callable[[str], None]


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


@dataclass(frozen=True)
class _Reply:
    text: str
    cut_off: bool  # the server stopped at max_tokens


# ----------------------------------------------------------------------------- client


class LLMClient:
    """One SDK client per run: asks, validates, steps formats down, keeps the run's limits."""

    def __init__(
        self, llm: LLMConfig, where: Endpoint, cache_dir: Path | None, notify: Notify
    ) -> None:
        self.llm = llm
        self.cache_dir = cache_dir
        self.notify = notify
        self.tokens_used = 0
        self.seconds_waiting = 0.0
        # What ended the asking; later questions get only what the cache holds.
        self.stopped: StopAsking | None = None
        self._key = where.api_key
        self._key_env = llm.api_key_env
        import openai

        # The SDK's own retry (exponential backoff, honours Retry-After) covers 408/409/429/5xx
        # and timeouts; we add nothing on top.
        self._client = openai.OpenAI(
            base_url=where.base_url,
            api_key=where.api_key or KEYLESS_PLACEHOLDER,
            timeout=llm.timeout,
            max_retries=llm.max_retries,
        )
        self.base_url = str(self._client.base_url).rstrip("/")
        self._capabilities = Capabilities(cache_dir)
        self.response_format = self._capabilities.get(self.base_url, llm.model)

    @property
    def where(self) -> str:
        """Names the endpoint in messages: base URL and model, never the key."""
        return f"{self.base_url} (model {self.llm.model})"

    def analyze(self, context: FunctionContext) -> Analysis:
        prompt = render(
            "analyze",
            imports=listing(context.imports),
            called=listing(context.called_signatures),
            lineno=str(context.lineno),
            function=context.source,
            passes=", ".join(context.passes) or "(none)",
            untyped=", ".join(context.untyped_params) or "none",
            observed=observed_text(context.observed),
        )
        return analysis(self._ask("function_analysis", ANALYSIS_SCHEMA, prompt, context))

    def propose(self, context: FunctionContext, found: Analysis) -> list[Proposal]:
        prompt = render(
            "propose",
            count=str(self.llm.candidates),
            name=context.name,
            imports=listing(context.imports),
            called=listing(context.called_signatures),
            analysis=found.summary(),
            function=context.source,
            observed=observed_text(context.observed),
        )
        reply = self._ask("rewrite_proposals", PROPOSALS_SCHEMA, prompt, context)
        return [proposal(item) for item in reply["candidates"]][: self.llm.candidates]

    def repair(
        self, context: FunctionContext, previous: Proposal, arguments: str, original: str,
        behaviour: str,
    ) -> Proposal:  # fmt: skip
        """A fix for a proposal that behaved differently on a shrunk input."""
        prompt = render(
            "repair",
            name=context.name,
            function=context.source,
            helpers=previous.helpers,
            candidate=previous.function,
            arguments=arguments,
            original=original,
            behaviour=behaviour,
        )
        return proposal(self._ask("rewrite_repair", PROPOSAL_SCHEMA, prompt, context))

    def speed_up(
        self, context: FunctionContext, previous: Proposal, sizes: Sequence[SizeTiming]
    ) -> Proposal:
        """A faster version of an equivalent proposal that timing found slower or no faster."""
        ratios = "\n".join(
            f"- n={s.size}: {s.ratio:.2f}x [{s.low:.2f}, {s.high:.2f}], {s.decision.value}"
            for s in sizes
        )
        prompt = render(
            "faster",
            name=context.name,
            function=context.source,
            helpers=previous.helpers,
            candidate=previous.function,
            ratios=ratios,
            observed=observed_text(context.observed),
        )
        return proposal(self._ask("rewrite_faster", PROPOSAL_SCHEMA, prompt, context))

    # ------------------------------------------------------------------------- asking

    def _ask(
        self, kind: str, schema: dict[str, Any], prompt: str, context: FunctionContext
    ) -> dict[str, Any]:
        """The reply that fits `schema`, from the cache or the endpoint.

        Raises NoUsableReply when even the lowest format gets no fitting reply,
        and StopAsking when no more requests may or can be made.
        """
        messages = [_message("system", template("system")), _message("user", prompt)]
        key = self._cache_key(kind, context, messages)
        cached = self._cache_read(key)
        if cached is not None and fits(cached, schema):  # written by an older version, maybe
            return cached
        while True:
            asked_in = self.response_format
            try:
                reply = self._ask_in(asked_in, kind, schema, messages)
            except _FormatRefused as refusal:
                self._step_down(asked_in, f"it refused {asked_in.description} ({refusal})")
                continue
            except NoUsableReply as failure:
                if failure.cut_off or asked_in.step_down() is None:
                    raise
                self._step_down(asked_in, f"its replies did not fit the schema ({failure})")
                continue
            self._cache_write(key, reply)
            return reply

    def _ask_in(
        self, asked_in: ResponseFormat, kind: str, schema: dict[str, Any],
        messages: list[dict[str, str]],
    ) -> dict[str, Any]:  # fmt: skip
        """Ask once, and once more with what was wrong; the fitting reply or NoUsableReply."""
        if asked_in.schema_in_prompt:
            wanted = render("schema", kind=kind, schema=json.dumps(schema))
            messages = [*messages[:-1], _message("user", messages[-1]["content"] + wanted)]
        problem, reply = "", _Reply("", cut_off=False)
        for _attempt in range(2):
            reply = self._complete(asked_in, kind, schema, messages)
            try:
                return extract(reply.text, schema)
            except ReplyMismatch as mismatch:
                problem = str(mismatch)
            if reply.cut_off:
                problem = f"cut off at max_tokens={self.llm.max_tokens}; answer more briefly"
            messages = [
                *messages,
                _message("assistant", reply.text),
                _message("user", render("reask", problem=problem)),
            ]
        raise NoUsableReply(problem, cut_off=reply.cut_off)

    def _step_down(self, current: ResponseFormat, why: str) -> None:
        lower = current.step_down()
        assert lower is not None, "the last rung sends no format and is never stepped down"
        self.response_format = lower
        self._capabilities.remember(self.base_url, self.llm.model, lower)
        remembered = f", remembered in {self.cache_dir}" if self.cache_dir else ""
        self.notify(
            f"note: {self.where}: {why}; from now on asking {lower.description}{remembered}"
        )

    def _complete(
        self, asked_in: ResponseFormat, kind: str, schema: dict[str, Any],
        messages: list[dict[str, str]],
    ) -> _Reply:  # fmt: skip
        """One request, unless an earlier one ended the asking for this run."""
        if self.stopped is not None:
            raise self.stopped
        try:
            return self._request(asked_in, kind, schema, messages)
        except StopAsking as stop:
            self.stopped = stop
            raise

    def _request(
        self, asked_in: ResponseFormat, kind: str, schema: dict[str, Any],
        messages: list[dict[str, str]],
    ) -> _Reply:  # fmt: skip
        import openai

        timeout, cut_short = self._next_timeout()
        # A request the budget cuts short is the last one: no retries beyond the budget.
        client = self._client.with_options(max_retries=0) if cut_short else self._client
        extra: dict[str, Any] = {}
        response_format = asked_in.request_field(kind, schema)
        if response_format is not None:
            extra["response_format"] = response_format
        try:
            with self._waiting(timeout):
                response = client.chat.completions.create(  # type: ignore[call-overload]
                    model=self.llm.model,
                    messages=messages,  # type: ignore[arg-type]
                    temperature=self.llm.temperature,
                    max_tokens=self.llm.max_tokens,
                    timeout=timeout,
                    **extra,
                )
        except openai.APITimeoutError:
            if cut_short:
                raise self._time_budget_spent() from None
            raise LLMUnavailable(f"{self.where}: no answer within {timeout:g} s "
                                 f"({self._tries()})") from None  # fmt: skip
        except openai.APIConnectionError as error:
            raise LLMUnavailable(f"{self.where}: cannot connect ({_cause(error)})") from None
        except openai.APIStatusError as error:
            raise self._status_error(error, asked_in) from None
        except (openai.APIResponseValidationError, ValueError):
            return _Reply("", cut_off=False)  # not a chat completion: a malformed reply
        if response.usage is not None:
            self.tokens_used += response.usage.total_tokens
        choices = getattr(response, "choices", None) or []
        if not choices:
            return _Reply("", cut_off=False)
        return _Reply(choices[0].message.content or "", choices[0].finish_reason == "length")

    def _next_timeout(self) -> tuple[float, bool]:
        """The next request's timeout, and whether the time budget cut it short.

        Raises StopAsking when a run limit is spent.
        """
        cap = self.llm.token_budget
        if cap and self.tokens_used >= cap:
            raise TokenCapReached(
                f"LLM token cap reached: {self.tokens_used} of {cap} token(s) used; no more "
                "requests this run (raise --llm-max-tokens or [tool.optimize.llm] token_budget)"
            )
        budget = self.llm.time_budget
        left = budget - self.seconds_waiting if budget else self.llm.timeout
        if left <= 0:
            raise self._time_budget_spent()
        return (left, True) if left < self.llm.timeout else (self.llm.timeout, False)

    def _time_budget_spent(self) -> TimeBudgetSpent:
        return TimeBudgetSpent(
            f"LLM time budget spent: {self.seconds_waiting:.1f} s of {self.llm.time_budget:g} s "
            f"waiting on {self.where}; no more requests this run "
            "(raise --llm-time-budget or [tool.optimize.llm] time_budget)"
        )

    @contextmanager
    def _waiting(self, timeout: float) -> Iterator[None]:
        """Counts the time against the budget, with a note now and then: a hang is never silent."""
        answered = threading.Event()
        started = time.monotonic()

        def remind() -> None:
            pause = WAIT_NOTE_AFTER
            while not answered.wait(pause):
                self.notify(
                    f"waiting for {self.where}: no answer after "
                    f"{time.monotonic() - started:.0f} s (each try times out after {timeout:g} s, "
                    f"{self._tries()}; --no-llm skips the LLM)"
                )
                pause = WAIT_NOTE_EVERY

        reminder = threading.Thread(target=remind, name="llm-wait-notes", daemon=True)
        reminder.start()
        try:
            yield
        finally:
            answered.set()
            reminder.join()
            self.seconds_waiting += time.monotonic() - started

    def _tries(self) -> str:
        tries = 1 + self.llm.max_retries
        return "1 try" if tries == 1 else f"{tries} tries"

    def _status_error(self, error: openai.APIStatusError, asked_in: ResponseFormat) -> Exception:
        status, said = error.status_code, self._server_said(error)
        if asked_in.sends_format and names_the_format(status, error.body, error.message):
            return _FormatRefused(f"HTTP {status}: {said}")
        meaning = _STATUS_MEANINGS.get(status)
        if status == 401:
            meaning = (
                f"the API key in ${self._key_env} was refused"
                if self._key
                else f"the server wants an API key: set ${self._key_env}"
            )
        elif meaning is None:
            meaning = "server error" if status >= 500 else "the request was refused"
        if status == 429 or status >= 500:
            meaning += f" ({self._tries()})"
        return LLMUnavailable(f"{self.where}: HTTP {status}, {meaning}: {said}")

    def _server_said(self, error: openai.APIStatusError) -> str:
        body = error.body
        said = body.get("message") if isinstance(body, dict) else None
        text = str(said or error.message)
        if self._key:
            text = text.replace(self._key, "***")
        flat = " ".join(text.split())
        return flat if len(flat) <= 200 else flat[:199] + "…"

    # ------------------------------------------------------------------------- cache

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


class _FormatRefused(Exception):
    """A 400/422 that names the response format: ask again one rung lower."""


_STATUS_MEANINGS = {
    403: "the key may not use this model or endpoint",
    404: "no such model or path: check the model name (--model) and that the base URL "
    "ends in /v1 (Ollama: pull the model first)",
    429: "rate limit or quota exhausted, still refused after the SDK's retries",
}


def _cause(error: openai.APIConnectionError) -> str:
    cause = error.__cause__
    return " ".join(str(cause).split())[:120] if cause else "connection failed"


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _message(role: str, content: str) -> dict[str, str]:
    return {"role": role, "content": content}
