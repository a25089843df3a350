"""Shared fixtures: small, real projects in temp dirs, and the CLI as a real subprocess."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from llm_server import LLMServer

from passes import Example
from pipeline.model import TraceFacts

REPO = Path(__file__).resolve().parent.parent
# Small enough for a quick suite; pairs stay at 15 so that intervals stay narrow on
# a loaded 2-core machine.
# small_size_tolerance: at n=10 a linear rewrite's fixed cost (a Counter, a dict) loses
# 0.5-2 us per call depending on the machine and its load; the default 1 us would make
# tests that need an accepted rewrite depend on the machine (issue 13's rule has its own tests).
FAST_PYPROJECT = """\
[tool.optimize.timing]
sizes = [10, 1000]
sample_seconds = 0.005
pairs = 15
workers = 1
small_size_tolerance = 5e-6

[tool.optimize.verify]
max_examples = 50
"""

# A list used as a set: quadratic, so the rewrite (OPT103) wins by a wide margin at n=1000
# even on a loaded machine; tests that need an accepted rewrite use it.
SLOW_DEDUPE = """\
def unique_tags(tags: list[str]) -> list[str]:
    seen = []
    ordered = []
    for tag in tags:
        if tag not in seen:
            seen.append(tag)
            ordered.append(tag)
    return ordered
"""


def slow_counter(name: str) -> str:
    """`count_<name>`: a 16-way list scan in a loop, several times faster as a set (OPT106);
    the names let several share a module. Use it where acceptance does not matter."""
    return f"""\
def count_{name}(days: list[str]) -> int:
    total = 0
    for day in days:
        if day in ["saturday", "sunday", "Saturday", "Sunday", "sat", "sun", "SAT", "SUN",
                   "Sat", "Sun", "weekend", "Weekend", "WEEKEND", "holiday", "Holiday", "{name}"]:
            total += 1
    return total
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """An empty project dir whose pyproject keeps verification and timing quick."""
    (tmp_path / "pyproject.toml").write_text(FAST_PYPROJECT, encoding="utf-8")
    return tmp_path


@pytest.fixture
def example_project(project: Path) -> Path:
    shutil.copytree(REPO / "examples", project / "examples")
    return project


Runner = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def run_cli() -> Runner:
    """Run `optimize` in a real subprocess, the way a user does."""

    def run(*args: str, cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "NO_COLOR": "1"}
        return subprocess.run(
            [sys.executable, "-m", "pipeline", *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
            check=False,
        )

    return run


@pytest.fixture
def server() -> Iterator[LLMServer]:
    """A scripted OpenAI-compatible endpoint on 127.0.0.1 (tests/llm_server.py)."""
    with LLMServer() as running:
        yield running


def example_traces(example: Example) -> dict[str, TraceFacts]:
    """The trace facts a pass example's profiles stand for (the rest of a trace does not
    matter to the passes)."""
    return {
        name: TraceFacts(
            p.calls, 0.5, p.seconds_per_call * p.calls, 2.0, p.recorded, distinct=p.distinct
        )
        for name, p in example.profiles.items()
    }


def outcomes_by_function(report: str) -> dict[str, dict[str, Any]]:
    """`optimize --json`'s outcomes, by function name."""
    files = json.loads(report)["files"]
    return {o["function"]: o for f in files for o in f["outcomes"]}
