"""Why the LLM stage stops asking, or gives up on one question: the summary counts these."""

from __future__ import annotations


class StopAsking(Exception):
    """No more requests this run; `reason` is the summary's label for what was not sent."""

    reason = "not sent"


class LLMUnavailable(StopAsking):
    """The endpoint cannot be used (unreachable, refuses the key...); the run continues offline."""

    reason = "not sent: the LLM endpoint is unavailable"


class TokenCapReached(StopAsking):
    reason = "not sent: the LLM token cap was reached"


class TimeBudgetSpent(StopAsking):
    reason = "not sent: the LLM time budget was spent"


class NoUsableReply(Exception):
    """This question got no reply that fits the schema, even after a re-ask; ask the next."""

    def __init__(self, detail: str, cut_off: bool = False) -> None:
        super().__init__(detail)
        self.cut_off = cut_off

    @property
    def reason(self) -> str:
        if self.cut_off:
            return "the model's replies were cut off at max_tokens"
        return "the model's replies did not fit the schema"
