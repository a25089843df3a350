"""What the LLM tests share: sources, scripted replies, and `optimize` run as a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from llm_server import LLMServer

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
