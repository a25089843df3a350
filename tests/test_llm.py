"""The LLM stage end to end: `optimize` as a subprocess, the real openai SDK, real HTTP.

The "model" is tests/llm_server.py on 127.0.0.1, answering from a script.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from llm_server import BrokenBody, Content, Hang, LLMServer, Slow, Status

from pipeline.config import LLMConfig
from pipeline.llm.client import Endpoint, FunctionContext, LLMClient, Observed
from pipeline.llm.formats import names_the_format
from pipeline.llm.replies import ANALYSIS_SCHEMA, PROPOSALS_SCHEMA, ReplyMismatch, extract

OPTIMIZE = Path(sys.executable).with_name("optimize")
FAKE_KEY = "sk-test-Zq8xSECRETkey4711"

PYPROJECT = """\
[tool.optimize.timing]
sizes = [100, 400]
sample_seconds = 0.005
pairs = 3
workers = 1

[tool.optimize.verify]
max_examples = 50

[tool.optimize.llm]
model = "test-model"
candidates = {candidates}
timeout = {timeout}
max_retries = {retries}
repair_rounds = 1
time_budget = {time_budget}
"""

MOST_FREQUENT = '''\
import math


# The value seen most often; the first such value on ties.
def most_frequent(values: list[int]) -> int | None:
    """Return the most common value, or None for an empty list."""
    best, best_count = None, 0
    for value in values:
        count = values.count(value)
        if count > best_count:
            best, best_count = value, count
    return best


def other(values: list[int]) -> int:
    return math.prod(values[:3])
'''

HELPER = """\
def _first_most_common(counts):
    best, best_count = None, 0
    for value, count in counts.items():
        if count > best_count:
            best, best_count = value, count
    return best
"""
CORRECT = {
    "function": (
        "def most_frequent(values: list[int]) -> int | None:\n"
        "    return _first_most_common(Counter(values))\n"
    ),
    "helpers": HELPER,
    "imports": ["from collections import Counter"],
    "explanation": "Counting once with Counter is O(n) instead of O(n^2).",
}
WRONG = {
    "function": (
        "def most_frequent(values: list[int]) -> int | None:\n"
        "    return Counter(values).most_common(1)[0][0]\n"
    ),
    "helpers": "",
    "imports": ["from collections import Counter"],
    "explanation": "Counter.most_common is O(n).",
}


def analysis(**changes: Any) -> dict[str, Any]:
    reply: dict[str, Any] = {
        "intent": "finds the most frequent value",
        "pure": True,
        "side_effects": [],
        "hot_spots": [9],
        "complexity": "O(n^2)",
        "applicable_passes": [],
        "domains": [],
    }
    return {**reply, **changes}


def proposals(*candidates: dict[str, Any]) -> dict[str, Any]:
    return {"candidates": list(candidates)}


@pytest.fixture
def server() -> Iterator[LLMServer]:
    with LLMServer() as running:
        yield running


def project(
    tmp_path: Path, source: str, timeout: float = 10, retries: int = 2, candidates: int = 3,
    time_budget: float = 600, name: str = "work.py",
) -> Path:  # fmt: skip
    settings = PYPROJECT.format(
        timeout=timeout, retries=retries, candidates=candidates, time_budget=time_budget
    )
    (tmp_path / "pyproject.toml").write_text(settings)
    target = tmp_path / name
    target.write_text(source)
    return target


def optimize(
    target: Path, server: LLMServer | None, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    if server is not None:
        environment |= {"OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": FAKE_KEY}
    environment |= env or {}
    return subprocess.run(
        [str(OPTIMIZE), *args, str(target)],
        cwd=target.parent,
        env=environment,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def report(done: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert done.returncode in (0, 1), done.stderr
    data: dict[str, Any] = json.loads(done.stdout)
    return data["files"][0]


def llm_outcomes(file_report: dict[str, Any]) -> list[dict[str, Any]]:
    return [o for o in file_report["outcomes"] if o["origin"] == "llm"]


def assert_key_nowhere(tmp_path: Path, *runs: subprocess.CompletedProcess[str]) -> None:
    for run in runs:
        assert FAKE_KEY not in run.stdout and FAKE_KEY not in run.stderr
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert FAKE_KEY.encode() not in path.read_bytes(), path


def test_correct_rewrite_with_import_and_helper_is_verified_timed_and_written(
    tmp_path: Path, server: LLMServer
) -> None:
    target = project(tmp_path, MOST_FREQUENT)
    # A 429 and a 503 first: the SDK retries both (Retry-After of 10 ms).
    server.add("function_analysis", Status(429), analysis())
    server.add("rewrite_proposals", Status(503), proposals(CORRECT))

    done = optimize(target, server, "--write", "--function", "most_frequent")

    assert done.returncode == 0, done.stderr
    assert server.count("function_analysis") == 2 and server.count("rewrite_proposals") == 2
    text = target.read_text()
    assert "from collections import Counter" in text
    assert text.index("def _first_most_common") < text.index("def most_frequent")
    assert "return _first_most_common(Counter(values))" in text
    # Comment, docstring and the rest of the file survive byte for byte.
    assert "# The value seen most often; the first such value on ties.\ndef most_frequent" in text
    assert '"""Return the most common value, or None for an empty list."""' in text
    assert text.endswith(MOST_FREQUENT[MOST_FREQUENT.index("\n\ndef other") :])
    assert "verified speedup(s) applied" in done.stdout
    assert "Counting once with Counter" in done.stdout  # the model's explanation
    assert "LLM token(s) used" in done.stdout
    # Only the function under work and its listed context went out.
    sent = json.dumps(server.bodies("rewrite_proposals"))
    assert "def most_frequent" in sent and "def other" not in sent
    assert_key_nowhere(tmp_path, done)


def test_wrong_rewrite_is_rejected_with_counterexample_then_repaired(
    tmp_path: Path, server: LLMServer
) -> None:
    target = project(tmp_path, MOST_FREQUENT)
    server.add("function_analysis", analysis())
    server.add("rewrite_proposals", proposals(WRONG))
    server.add("rewrite_repair", CORRECT)

    found = report(optimize(target, server, "--json", "--function", "most_frequent"))

    wrong, repaired = llm_outcomes(found)
    assert wrong["verdict"]["status"] == "counterexample"
    assert wrong["verdict"]["counterexample"]["arguments"] == "values=[]"
    assert "IndexError" in wrong["verdict"]["counterexample"]["candidate"]
    repair_prompt = json.dumps(server.bodies("rewrite_repair"))
    assert "values=[]" in repair_prompt and "IndexError" in repair_prompt
    assert repaired["rules"] == ["LLM", "repair"]
    assert repaired["accepted"], repaired["reason"]
    assert repaired["explanation"].startswith("Counting once")
    assert found["llm_tokens"] == 3 * 120


def test_hung_server_gets_progress_notes_then_times_out_and_the_run_continues_offline(
    tmp_path: Path, server: LLMServer
) -> None:
    target = project(tmp_path, MOST_FREQUENT, timeout=3, retries=1)
    server.add("function_analysis", Hang(30), Hang(30))

    done = optimize(target, server, "--json", "--function", "most_frequent")

    # While it waits (two tries of 3 s, backoff between): a note, naming the endpoint.
    assert f"optimize: waiting for {server.base_url} (model test-model): no answer after" in (
        done.stderr
    )
    assert "each try times out after 3 s, 2 tries; --no-llm skips the LLM" in done.stderr
    unavailable = (
        f"LLM endpoint unavailable: {server.base_url} (model test-model): "
        "no answer within 3 s (2 tries); continuing offline"
    )
    assert done.stderr.count(unavailable) == 1, done.stderr
    assert server.count() == 2  # the first try and the SDK's one retry
    found = report(done)
    assert llm_outcomes(found) == []
    assert found["llm_functions"] == [
        {"function": "most_frequent", "line": 5, "proposals": 0, "detail": "",
         "no_proposal": "not sent: the LLM endpoint is unavailable"},
    ]  # fmt: skip
    offline = optimize(target, None, "--json", "--function", "most_frequent")
    assert done.returncode == offline.returncode == 0
    assert_key_nowhere(tmp_path, done)


def test_time_budget_stops_asking_and_cuts_the_last_request_short(
    tmp_path: Path, server: LLMServer
) -> None:
    target = project(tmp_path, MOST_FREQUENT, timeout=30, retries=2, time_budget=2.5)
    server.add("function_analysis", Slow(1.5, analysis()))
    server.add("rewrite_proposals", Hang(30))  # the 1 s left of the budget runs out here

    done = optimize(target, server, "--json")

    assert done.returncode == 0, done.stderr
    assert server.count() == 2  # no retry past the budget, and `other` is never sent
    assert "optimize: LLM time budget spent: " in done.stderr
    assert f" s of 2.5 s waiting on {server.base_url} (model test-model)" in done.stderr
    assert "(raise --llm-time-budget or [tool.optimize.llm] time_budget)" in done.stderr
    reasons = [f["no_proposal"] for f in report(done)["llm_functions"]]
    assert reasons == ["not sent: the LLM time budget was spent"] * 2


def test_malformed_reply_is_asked_again_once_with_what_was_wrong(
    tmp_path: Path, server: LLMServer
) -> None:
    target = project(tmp_path, MOST_FREQUENT)
    server.add("function_analysis", Content("this is not {json"), analysis())
    server.add("rewrite_proposals", BrokenBody(), Content('{"candidates": [ oops'))

    done = optimize(target, server, "--json", "--function", "most_frequent")

    assert done.returncode == 0, done.stderr
    assert server.count("function_analysis") == 2  # re-asked once, then it parsed
    reask = server.bodies("function_analysis")[1]["messages"]
    assert [m["role"] for m in reask] == ["system", "user", "assistant", "user"]
    assert reask[2]["content"] == "this is not {json"
    assert "Your reply did not fit the schema: no JSON object in the reply." in reask[3]["content"]
    # Two proposal replies that never fit: the endpoint steps down to JSON mode, where the
    # (default) reply is an empty list of candidates.
    assert server.formats() == ["json_schema"] * 4 + ["json_object"]
    assert llm_outcomes(report(done)) == []
    assert report(done)["llm_functions"][0]["no_proposal"] == "the model proposed no rewrite"


def test_cache_hit_makes_no_request_and_no_cache_bypasses_it(
    tmp_path: Path, server: LLMServer
) -> None:
    target = project(tmp_path, MOST_FREQUENT)
    server.add("function_analysis", analysis(), analysis())
    server.add("rewrite_proposals", proposals(WRONG), proposals(WRONG))
    server.add("rewrite_repair", WRONG, WRONG)
    args = ("--json", "--function", "most_frequent")
    first = optimize(target, server, *args)
    requests = server.count()
    assert requests == 3  # analysis, proposals, repair

    second = optimize(target, server, *args)
    assert server.count() == requests
    assert report(second)["llm_tokens"] == 0
    assert llm_outcomes(report(second))[0]["verdict"]["status"] == "counterexample"

    optimize(target, server, "--no-cache", *args)
    assert server.count() > requests
    assert_key_nowhere(tmp_path, first, second)


def test_without_key_or_base_url_the_run_is_offline_with_a_note(tmp_path: Path) -> None:
    target = project(tmp_path, "def double(x: int) -> int:\n    return x * 2\n")
    done = optimize(target, None)
    assert done.returncode == 0
    assert "note: LLM stage off: no API key or base_url configured" in done.stdout
    assert "LLM" not in done.stderr


def test_excluded_files_are_not_sent(tmp_path: Path, server: LLMServer) -> None:
    target = project(tmp_path, MOST_FREQUENT)
    with (tmp_path / "pyproject.toml").open("a") as pyproject:
        pyproject.write(textwrap.dedent("[tool.optimize]\nexclude = ['work.py']\n"))
    done = optimize(target, server, "--json")
    assert done.returncode == 0, done.stderr
    assert server.count() == 0
    reasons = {f["function"]: f["no_proposal"] for f in report(done)["llm_functions"]}
    assert reasons == dict.fromkeys(["most_frequent", "other"], "not sent: the file is excluded")


def test_bad_and_duplicate_proposals_are_each_rejected_with_a_reason(
    tmp_path: Path, server: LLMServer
) -> None:
    target = project(tmp_path, MOST_FREQUENT, candidates=5)
    unparsable = {**CORRECT, "function": "def most_frequent(values: list[int]) -> int | None\n"}
    signature = {**CORRECT, "function": CORRECT["function"].replace("values: list[int]", "values")}
    other = {**CORRECT, "helpers": HELPER + "\n\ndef other(values):\n    return 0\n"}
    reformatted = {
        **WRONG,
        "function": WRONG["function"].replace("    return", "    # same\n    return"),
    }
    server.add("function_analysis", analysis())
    server.add("rewrite_proposals", proposals(unparsable, signature, other, WRONG, reformatted))
    server.add("rewrite_repair", WRONG)  # a "repair" that changes nothing is a duplicate too

    found = report(optimize(target, server, "--json", "--function", "most_frequent"))

    reasons = [o["reason"] for o in llm_outcomes(found)]
    assert reasons[0].startswith("proposal rejected: does not parse (function, line 1)")
    assert reasons[1].startswith("proposal rejected: changes the signature of most_frequent")
    assert reasons[2] == "proposal rejected: touches other functions or names: other"
    assert reasons[3].startswith("behaviour differs")
    assert reasons[4].startswith("proposal rejected: duplicate of a candidate already tried")
    assert reasons[5].startswith("proposal rejected: duplicate of a candidate already tried")
    assert not found["changed"]


def test_slower_rewrite_is_rejected_and_untyped_function_verified_by_model_domains(
    tmp_path: Path, server: LLMServer
) -> None:
    source = (
        "import functools\n\n\n"
        "def total(values: list[int]) -> int:\n"
        "    return sum(values)\n\n\n"
        "def count_distinct(xs):\n"
        "    seen = []\n"
        "    for x in xs:\n"
        "        if x not in seen:\n"
        "            seen = seen + [x]\n"
        "    return len(seen)\n"
    )
    target = project(tmp_path, source)
    slower = {
        "function": (
            "def total(values: list[int]) -> int:\n"
            "    return functools.reduce(lambda a, b: a + b, values, 0)\n"
        ),
        "helpers": "",
        "imports": [],
        "explanation": "reduce",
    }
    domain = {"type": "list", "items": {"type": "int", "min": 0}, "max_size": 20}
    distinct = {
        "function": "def count_distinct(xs):\n    return len(set(xs))\n",
        "helpers": "",
        "imports": [],
        "explanation": "a set counts distinct values in O(n)",
    }
    server.add("function_analysis", analysis())  # total
    server.add("function_analysis", analysis(domains=[{"parameter": "xs", "domain": domain}]))
    server.add("rewrite_proposals", proposals(slower), proposals(distinct))
    server.add("rewrite_faster", slower)  # the model's second try: the same code again

    outcomes = llm_outcomes(report(optimize(target, server, "--json")))

    total, again = (o for o in outcomes if o["function"] == "total")
    assert total["verdict"]["status"] == "equivalent"
    assert not total["accepted"]
    assert total["reason"].startswith("slower at n=")
    # The repair round for a slower rewrite carries the measured ratio at every size.
    (asked,) = server.bodies("rewrite_faster")
    prompt = asked["messages"][-1]["content"]
    for size in total["timing"]["sizes"]:
        assert f"- n={size['size']}: {size['ratio']:.2f}x [" in prompt
    assert "slower" in prompt and "above 1 means\nyours is faster" in prompt
    assert again["rules"] == ["LLM", "repair"]
    assert again["reason"].startswith("proposal rejected: duplicate of a candidate already tried")
    count_distinct = next(o for o in outcomes if o["function"] == "count_distinct")
    assert count_distinct["verdict"]["status"] == "equivalent"
    assert "domain suggested by the model" in count_distinct["verdict"]["strategy_sources"]


def test_impure_functions_are_declined(tmp_path: Path, server: LLMServer) -> None:
    source = (
        "def shout(word: str) -> None:\n"
        "    print(word.upper())\n\n\n"
        "def double(x: int) -> int:\n"
        "    return x * 2\n"
    )
    target = project(tmp_path, source)
    server.add("function_analysis", analysis(pure=False, side_effects=["writes a log"]))

    found = report(optimize(target, server, "--json"))

    assert [(f["function"], f["no_proposal"], f["detail"]) for f in found["llm_functions"]] == [
        ("shout", "declined as impure", "static analysis: calls print()"),
        ("double", "declined as impure", "the model: writes a log"),
    ]
    assert server.count("function_analysis") == 1  # shout was never sent
    assert server.count("rewrite_proposals") == 0


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
