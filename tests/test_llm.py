"""The LLM stage end to end: `optimize` as a subprocess, the real openai SDK, real HTTP.

The "model" is tests/llm_server.py on 127.0.0.1, answering from a script.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from llm_server import BrokenBody, Content, Hang, LLMServer, Status

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
    tmp_path: Path, source: str, timeout: float = 10, retries: int = 2, candidates: int = 3
) -> Path:
    settings = PYPROJECT.format(timeout=timeout, retries=retries, candidates=candidates)
    (tmp_path / "pyproject.toml").write_text(settings)
    target = tmp_path / "work.py"
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


def test_hung_server_times_out_and_the_run_continues_offline(
    tmp_path: Path, server: LLMServer
) -> None:
    target = project(tmp_path, MOST_FREQUENT, timeout=1, retries=1)
    server.add("function_analysis", Hang(30), Hang(30))

    done = optimize(target, server, "--json", "--function", "most_frequent")

    assert done.returncode == 0
    assert (
        done.stderr.count("LLM endpoint unavailable (test-model: timed out); continuing offline")
        == 1
    )
    assert server.count() == 2  # the first try and the SDK's one retry
    assert llm_outcomes(report(done)) == []


def test_malformed_json_is_asked_again_once_then_dropped(tmp_path: Path, server: LLMServer) -> None:
    target = project(tmp_path, MOST_FREQUENT)
    server.add("function_analysis", Content("this is not {json"), analysis())
    server.add("rewrite_proposals", BrokenBody(), Content('{"candidates": [ oops'))

    done = optimize(target, server, "--json", "--function", "most_frequent")

    assert done.returncode == 0, done.stderr
    assert server.count("function_analysis") == 2  # re-asked once, then it parsed
    assert server.count("rewrite_proposals") == 2  # re-asked once, then dropped
    assert llm_outcomes(report(done)) == []


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

    total, count_distinct = llm_outcomes(report(optimize(target, server, "--json")))

    assert total["verdict"]["status"] == "equivalent"
    assert not total["accepted"]
    assert total["reason"].startswith("slower at n=")
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

    assert found["notes"] == [
        "shout: declined, static analysis says impure (calls print())",
        "double: declined, the model says impure (writes a log)",
    ]
    assert server.count("function_analysis") == 1  # shout was never sent
    assert server.count("rewrite_proposals") == 0
