"""Shared fixtures: small, real projects in temp dirs, and the CLI as a real subprocess."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
# Small enough for a quick suite; pairs stay at 15 so that intervals stay narrow on
# a loaded 2-core machine.
FAST_PYPROJECT = """\
[tool.optimize.timing]
sizes = [10, 1000]
sample_seconds = 0.005
pairs = 15
workers = 1

[tool.optimize.verify]
max_examples = 50
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
