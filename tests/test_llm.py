"""The LLM stage end to end: `optimize` as a subprocess, the real openai SDK, real HTTP.

The "model" is tests/llm_server.py on 127.0.0.1, answering from a script.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from llm_scenarios import (
    CORRECT,
    HELPER,
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
from llm_server import BrokenBody, Content, Hang, LLMServer, Slow, Status


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


def test_a_models_long_line_is_written_in_the_projects_style(
    tmp_path: Path, server: LLMServer
) -> None:
    long_line = (
        "    return _first_most_common(Counter(values)) if values and len(values) > 0 "
        "and values is not None else None\n"
    )
    wide = {**CORRECT, "function": CORRECT["function"].split("\n")[0] + "\n" + long_line}
    target = project(tmp_path, MOST_FREQUENT)
    server.add("function_analysis", analysis())
    server.add("rewrite_proposals", proposals(wide))

    done = optimize(target, server, "--write", "--function", "most_frequent")

    assert done.returncode == 0, done.stderr
    text = target.read_text()
    assert "if values and len(values) > 0" in text  # the model's rewrite, written
    assert max(len(line) for line in text.splitlines()) <= 88  # Black's default width


def test_a_proposal_that_drops_a_comment_is_rejected_and_the_file_kept(
    tmp_path: Path, server: LLMServer
) -> None:
    commented = MOST_FREQUENT.replace(
        "        count = values.count(value)\n",
        "        count = values.count(value)  # quadratic, but lists here are short\n",
    )
    target = project(tmp_path, commented)
    server.add("function_analysis", analysis())
    server.add("rewrite_proposals", proposals(CORRECT))

    found = report(optimize(target, server, "--json", "--write", "--function", "most_frequent"))

    [outcome] = llm_outcomes(found)
    assert outcome["reason"] == (
        "proposal rejected: loses the comment '# quadratic, but lists here are short'"
    )
    assert target.read_text() == commented


def test_a_proposal_that_moves_a_pragma_off_its_line_is_rejected_and_the_file_kept(
    tmp_path: Path, server: LLMServer
) -> None:
    """The model kept the `# noqa` but above a statement, where it silences nothing."""
    commented = MOST_FREQUENT.replace(
        "count = values.count(value)\n", "count = values.count(value)  # noqa: PERF\n"
    )
    moved = {
        **CORRECT,
        "function": CORRECT["function"].replace("    return", "    # noqa: PERF\n    return"),
    }
    target = project(tmp_path, commented)
    server.add("function_analysis", analysis())
    server.add("rewrite_proposals", proposals(moved))

    found = report(optimize(target, server, "--json", "--write", "--function", "most_frequent"))

    [outcome] = llm_outcomes(found)
    assert outcome["reason"] == "proposal rejected: moves '# noqa: PERF' off the line it governs"
    assert target.read_text() == commented


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
