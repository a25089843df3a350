"""Endpoints as they are (JSON-mode only, chatty, refusing, capped), and reading their replies.

The "model" is tests/llm_server.py on 127.0.0.1, answering from a script.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from llm_scenarios import (
    CORRECT,
    FAKE_KEY,
    MOST_FREQUENT,
    WRONG,
    analysis,
    assert_key_nowhere,
    llm_outcomes,
    optimize,
    project,
    proposals,
    report,
)
from llm_server import Content, LLMServer, Status

from pipeline.config import LLMConfig
from pipeline.llm.client import Endpoint, LLMClient
from pipeline.llm.context import FunctionContext, Observed
from pipeline.llm.formats import names_the_format
from pipeline.llm.replies import ANALYSIS_SCHEMA, PROPOSALS_SCHEMA, ReplyMismatch, extract

# ------------------------------------------------------------ endpoints as they are

EQUAL_PAIRS = '''\
def equal_pairs(items: list[int]) -> int:
    """How many pairs (i < j) hold equal values."""
    count = 0
    for i, left in enumerate(items):
        for right in items[i + 1 :]:
            if left == right:
                count += 1
    return count
'''
# O(n) instead of O(n^2): a rewrite no built-in pass makes.
COUNTED_PAIRS = {
    "function": (
        "def equal_pairs(items: list[int]) -> int:\n"
        "    return sum(c * (c - 1) // 2 for c in Counter(items).values())\n"
    ),
    "helpers": "",
    "imports": ["from collections import Counter"],
    "explanation": "Counting each value once is O(n) instead of comparing every pair.",
}


def chatty(reply: dict[str, Any]) -> Content:
    """How small local models answer when they ignore response_format."""
    return Content(
        "Sure! Here is the result.\n\n```json\n"
        + json.dumps(reply, indent=2)
        + "\n```\n\nLet me know if you need anything else!"
    )


def assert_pairs_rewritten(target: Path, done: subprocess.CompletedProcess[str]) -> None:
    assert done.returncode == 0, done.stderr
    text = target.read_text()
    assert "from collections import Counter" in text
    assert "return sum(c * (c - 1) // 2 for c in Counter(items).values())" in text
    assert "1 verified speedup(s) applied" in done.stdout
    assert "LLM: 1 function(s) looked at, 1 with proposals evaluated;" in done.stdout


def test_json_mode_only_endpoint_falls_back_remembers_it_and_the_rewrite_is_written(
    tmp_path: Path,
) -> None:
    with LLMServer(accepts=frozenset({"json_object", "none"})) as server:
        target = project(tmp_path, EQUAL_PAIRS)
        server.add("function_analysis", analysis(complexity="O(n^2)"))
        server.add("rewrite_proposals", proposals(COUNTED_PAIRS))

        done = optimize(target, server, "--write")

        assert_pairs_rewritten(target, done)
        # Refused with 400, asked again in JSON mode, and the rest of the run stays there.
        assert server.formats() == ["json_schema", "json_object", "json_object"]
        assert (
            f"optimize: note: {server.base_url} (model test-model): it refused response_format "
            "json_schema (HTTP 400: Invalid parameter: 'response_format' of type 'json_schema' "
            "is not supported with this model.); from now on asking response_format json_object, "
            "the schema in the prompt, remembered in "
        ) in done.stderr
        sent = server.bodies("rewrite_proposals")[0]["messages"][-1]["content"]
        assert "Reply with one JSON object (`rewrite_proposals`) that validates" in sent
        assert json.dumps(PROPOSALS_SCHEMA) in sent

        # The next run, on another file of the project, starts in JSON mode.
        second = project(tmp_path, MOST_FREQUENT, name="second.py")
        optimize(second, server, "--json", "--function", "most_frequent")
        assert server.formats()[3:] == ["json_object", "json_object"]
        assert_key_nowhere(tmp_path, done)


def test_chatty_model_with_prose_around_fenced_json_gets_its_rewrite_written(
    tmp_path: Path, server: LLMServer
) -> None:
    target = project(tmp_path, EQUAL_PAIRS)
    server.add("function_analysis", chatty(analysis(complexity="O(n^2)")))
    server.add("rewrite_proposals", chatty(proposals(COUNTED_PAIRS)))

    done = optimize(target, server, "--write")

    assert_pairs_rewritten(target, done)
    assert server.count() == 2  # each reply read as it came: no re-ask, no step down
    assert set(server.formats()) == {"json_schema"}


def test_json_followed_by_a_sentence_is_read(tmp_path: Path, server: LLMServer) -> None:
    target = project(tmp_path, MOST_FREQUENT)
    trailing = "\nThis counts every value once, so it is O(n)."
    server.add("function_analysis", Content(json.dumps(analysis()) + trailing))
    server.add("rewrite_proposals", Content(json.dumps(proposals(CORRECT)) + trailing))

    found = report(optimize(target, server, "--json", "--function", "most_frequent"))

    (rewrite,) = llm_outcomes(found)
    assert rewrite["verdict"]["status"] == "equivalent"
    assert rewrite["explanation"] == CORRECT["explanation"]
    assert server.count() == 2


def test_replies_that_never_fit_end_with_a_clear_reason_per_function(
    tmp_path: Path, server: LLMServer
) -> None:
    target = project(tmp_path, MOST_FREQUENT)
    unfit = {"intent": "finds the most frequent value"}  # no "pure", no "domains"...
    server.add("function_analysis", *[unfit] * 6)

    done = optimize(target, server, "-v", "--function", "most_frequent")

    assert done.returncode == 0, done.stderr
    # Asked and re-asked at each of the three formats, stepping down after each pair.
    assert server.formats() == ["json_schema"] * 2 + ["json_object"] * 2 + ["none"] * 2
    reask = server.bodies("function_analysis")[1]["messages"][-1]["content"]
    assert "Your reply did not fit the schema: 'pure' is a required property." in reask
    assert (
        f"{target}:5 most_frequent: no LLM proposal: the model's replies did not fit the schema "
        "(analysis: 'pure' is a required property)"
    ) in done.stdout
    assert (
        "LLM: 1 function(s) looked at, 0 with proposals evaluated, 1 with no proposal "
        "(1: the model's replies did not fit the schema)"
    ) in done.stdout
    assert "from now on asking no response_format, the schema in the prompt" in done.stderr


def test_refused_key_gives_one_clear_error_naming_the_base_url_and_never_the_key(
    tmp_path: Path, server: LLMServer
) -> None:
    target = project(tmp_path, MOST_FREQUENT)
    # Some servers echo the key they refused; it must not reach the user's terminal or logs.
    server.add("function_analysis", Status(401, f"Incorrect API key provided: {FAKE_KEY}"))

    done = optimize(target, server)

    assert done.returncode == 0, done.stderr
    assert server.count() == 1  # a 401 is not retried, and not a reason to change format
    assert done.stderr.count("optimize: warning: LLM endpoint unavailable") == 1
    assert (
        f"{server.base_url} (model test-model): HTTP 401, the API key in $OPENAI_API_KEY was "
        "refused: Incorrect API key provided: ***; continuing offline"
    ) in done.stderr
    assert "2 with no proposal (2: not sent: the LLM endpoint is unavailable)" in done.stdout
    assert_key_nowhere(tmp_path, done)


def test_once_the_endpoint_is_down_cached_replies_still_count(
    tmp_path: Path, server: LLMServer
) -> None:
    target = project(tmp_path, MOST_FREQUENT)
    server.add("function_analysis", analysis())
    server.add("rewrite_proposals", proposals(CORRECT))
    assert llm_outcomes(report(optimize(target, server, "--json")))[0]["accepted"]
    asked = server.count()
    # Next run: a new file first, whose question meets a refused key...
    first = project(tmp_path, "def double(x: int) -> int:\n    return x * 2\n", name="a.py")
    server.add("function_analysis", Status(401))

    done = optimize(target, server, "--json", str(first))

    # ...and the functions answered before still get their (cached) rewrite.
    assert server.count() == asked + 1
    assert done.stderr.count("HTTP 401") == 1
    first_report, work_report = json.loads(done.stdout)["files"]
    assert first_report["llm_functions"][0]["no_proposal"] == (
        "not sent: the LLM endpoint is unavailable"
    )
    (rewrite,) = llm_outcomes(work_report)
    assert rewrite["accepted"], rewrite["reason"]


@pytest.mark.parametrize(
    ("status", "meaning"),
    [
        (404, "no such model or path: check the model name (--model) and that the base URL "
         "ends in /v1 (Ollama: pull the model first)"),
        (429, "rate limit or quota exhausted, still refused after the SDK's retries (2 tries)"),
    ],
)  # fmt: skip
def test_not_found_and_rate_limited_say_what_they_mean_and_never_step_down(
    tmp_path: Path, server: LLMServer, status: int, meaning: str
) -> None:
    target = project(tmp_path, MOST_FREQUENT, retries=1)
    # Even a message that mentions response_format is no reason to step down on these codes.
    said = "model 'test-model' with response_format not found, try pulling it first"
    server.add("function_analysis", Status(status, said), Status(status, said))

    done = optimize(target, server, "--json")

    assert done.returncode == 0, done.stderr
    assert f"(model test-model): HTTP {status}, {meaning}: {said}; continuing offline" in (
        done.stderr
    )
    assert set(server.formats()) == {"json_schema"}
    assert server.count() == (2 if status == 429 else 1)  # the SDK retries only the 429


def test_token_cap_stops_asking_and_says_so(tmp_path: Path, server: LLMServer) -> None:
    target = project(tmp_path, MOST_FREQUENT)
    server.add("function_analysis", analysis())
    server.add("rewrite_proposals", proposals(WRONG))  # a repair would follow, were tokens left

    done = optimize(target, server, "--json", "--llm-max-tokens", "200")

    assert done.returncode == 0, done.stderr
    assert server.count() == 2  # 120 + 120 tokens: no repair for most_frequent, `other` unsent
    assert (
        "optimize: LLM token cap reached: 240 of 200 token(s) used; no more requests this run "
        "(raise --llm-max-tokens or [tool.optimize.llm] token_budget)"
    ) in done.stderr
    found = report(done)
    assert [(f["function"], f["proposals"], f["no_proposal"]) for f in found["llm_functions"]] == [
        ("most_frequent", 1, ""),
        ("other", 0, "not sent: the LLM token cap was reached"),
    ]
    assert found["llm_functions"][0]["detail"] == "then not sent: the LLM token cap was reached"
    assert found["llm_tokens"] == 240


# ------------------------------------------------------------ reading replies, sending context

ANALYSIS_REPLY = analysis()


@pytest.mark.parametrize(
    "text",
    [
        json.dumps(ANALYSIS_REPLY),
        "```json\n" + json.dumps(ANALYSIS_REPLY) + "\n```",
        "Here you go:\n```\n" + json.dumps(ANALYSIS_REPLY, indent=2) + "\n```\nAnything else?",
        json.dumps(ANALYSIS_REPLY) + "\n\nNote: the hot spot is the inner count().",
        # A reasoning model's draft does not count, nor does an object that does not fit.
        '<think>maybe {"intent": "draft", "pure": false}</think>{"x": {"y": 1}} '
        + json.dumps(ANALYSIS_REPLY),
    ],
    ids=["bare", "fenced", "prose-around-fence", "trailing-sentence", "think-and-decoy"],
)
def test_the_first_object_that_fits_is_taken_from_anywhere_in_the_reply(text: str) -> None:
    assert extract(text, ANALYSIS_SCHEMA) == ANALYSIS_REPLY


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("I cannot help with that.", "no JSON object in the reply"),
        ('{"candidates": [ oops', "no JSON object in the reply"),
        ('{"candidates": [{"function": 3}]}', "candidates/0: 'helpers' is a required property"),
        ('{"a": 1} then {"candidates": "none"}', "candidates: 'none' is not of type 'array'"),
    ],
)
def test_a_reply_that_does_not_fit_says_why_in_one_line(text: str, problem: str) -> None:
    with pytest.raises(ReplyMismatch) as mismatch:
        extract(text, PROPOSALS_SCHEMA)
    assert str(mismatch.value) == problem


@pytest.mark.parametrize(
    ("status", "body", "steps_down"),
    [
        (400, {"message": "This response_format type is unavailable now", "param": None}, True),
        (422, {"message": "Unprocessable", "param": "response_format.type"}, True),
        (400, {"message": "json_schema is not supported by this backend"}, True),
        (400, {"message": "Model Not Exist", "param": None}, False),
        (401, {"message": "invalid response_format key"}, False),
        (404, {"message": "response_format endpoint not found"}, False),
        (429, {"message": "too many response_format requests"}, False),
    ],
)
def test_only_a_400_or_422_that_names_the_format_steps_down(
    status: int, body: dict[str, Any], steps_down: bool
) -> None:
    assert names_the_format(status, body, f"Error code: {status}") is steps_down


def test_trace_facts_go_into_the_prompts_when_known(tmp_path: Path, server: LLMServer) -> None:
    """Facts about the real workload (from `optimize trace`), sent when present."""
    server.add("function_analysis", analysis(), analysis())
    observed = Observed(
        argument_types={"values": "list[int]"},
        argument_sizes={"values": "len 10..5000, median 300"},
        workload_share=0.37,
    )
    context = FunctionContext(
        "most_frequent", 5, MOST_FREQUENT, (), ("import math",), (), (), observed
    )
    where = Endpoint(server.base_url, FAKE_KEY)
    client = LLMClient(LLMConfig(model="test-model"), where, None, notify=print)

    client.analyze(context)
    client.analyze(dataclasses.replace(context, observed=Observed()))

    with_trace, without = (b["messages"][-1]["content"] for b in server.bodies("function_analysis"))
    assert (
        "```\n\nObserved in a trace of the real workload:\n- values: list[int]\n"
        "- size of values: len 10..5000, median 300\n"
        "- share of the traced run spent in this function: 37%\n\nReport:"
    ) in with_trace
    assert "```\n\nReport:" in without and "Observed" not in without
    assert client.tokens_used == 240
