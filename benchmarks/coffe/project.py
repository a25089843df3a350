"""Steps 1 and 2: a task as a user's project, and the real `optimize` CLI run on it.

Each task gets its own temporary project: `pyproject.toml` and one module (the
canonical solution with its prompt and imports). The CLI runs as a subprocess,
the way a user runs it: `optimize . --json` for the verdicts, then, when it
accepted a rewrite, `optimize . --write`, which reuses those verdicts through
the project's verdict cache and writes the accepted rewrites (when nothing was
accepted there is nothing to write, and skipping that second start-up halves a
run). Offline (`--no-llm`) unless `llm` is set; then `--llm` and the configured
endpoint from the environment.

With `trace`, `optimize trace coffe_workload.py` runs first: a workload script
that calls the function on each of the task's correctness-test inputs, so
untyped functions can be verified and timed on real calls (once `optimize
PATH` reads the trace; a trace step that fails is reported as a CLI error).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.coffe.data import Task

CLI = (sys.executable, "-m", "pipeline")
WORKLOAD = "coffe_workload.py"
CASES_FILE = "coffe_cases.json"
CLI_TIMEOUT = 1_800.0


@dataclass(frozen=True)
class CliSettings:
    """What goes into the project's `[tool.optimize]`; None keeps the tool's default."""

    max_examples: int | None = None
    sample_seconds: float | None = None
    pairs: int | None = None
    workers: int | None = None
    sizes: tuple[int, ...] | None = None
    llm: bool = False
    trace: bool = False

    def pyproject(self) -> str:
        lines = ["[project]", 'name = "coffe-task"', 'version = "0"', "", "[tool.optimize]"]
        lines.append(f'exclude = ["{WORKLOAD}"]')
        if self.max_examples is not None:
            lines += ["", "[tool.optimize.verify]", f"max_examples = {self.max_examples}"]
        timing: dict[str, object] = {"sample_seconds": self.sample_seconds, "pairs": self.pairs}
        timing["workers"] = self.workers
        timing["sizes"] = list(self.sizes) if self.sizes is not None else None
        chosen = {key: value for key, value in timing.items() if value is not None}
        if chosen:
            lines += ["", "[tool.optimize.timing]", *(f"{k} = {v}" for k, v in chosen.items())]
        return "\n".join(lines) + "\n"


@dataclass
class CliRun:
    """What the CLI did to one task's project."""

    outcomes: list[dict[str, Any]] = field(default_factory=list)  # `--json` outcomes
    written: str | None = None  # the module after `--write`, when it changed
    error: str = ""  # a CLI step that failed, and how
    seconds: dict[str, float] = field(default_factory=dict)  # wall time per CLI step


def make_project(task: Task, root: Path, settings: CliSettings) -> Path:
    """`root/project`: pyproject.toml and the task's module (plus the workload when tracing)."""
    project = root / "project"
    project.mkdir(parents=True)
    (project / "pyproject.toml").write_text(settings.pyproject(), encoding="utf-8")
    (project / f"{task.module_stem}.py").write_text(task.module_text, encoding="utf-8")
    if settings.trace:
        cases = [case.arguments for case in task.tests]
        (project / CASES_FILE).write_text(json.dumps(cases), encoding="utf-8")
        (project / WORKLOAD).write_text(workload_script(task), encoding="utf-8")
    return project


def workload_script(task: Task) -> str:
    """A program that runs the task's correctness-test calls, for `optimize trace`."""
    return (
        f'"""Workload for `optimize trace`: the {task.task_id} correctness-test calls."""\n\n'
        "import json\nimport pathlib\n\n"
        f"import {task.module_stem}\n\n"
        f"CASES = pathlib.Path(__file__).with_name({CASES_FILE!r}).read_text(encoding='utf-8')\n"
        "for arguments in json.loads(CASES):\n"
        "    try:\n"
        f"        {task.module_stem}.{task.entry_point}(*arguments)\n"
        "    except Exception:  # a failing call is still a real call\n"
        "        pass\n"
    )


def run_cli(task: Task, project: Path, settings: CliSettings) -> CliRun:
    """[trace,] `optimize . --json`, then `optimize . --write` if the report accepted anything.

    Never raises for a CLI failure: it is recorded in `CliRun.error`.
    """
    run = CliRun()
    environment = {**os.environ, "OPTIMIZE_CACHE_DIR": str(project.parent / "verdicts")}
    llm_flag = "--llm" if settings.llm else "--no-llm"
    steps: list[tuple[str, tuple[str, ...]]] = [
        ("report", (".", "--json", llm_flag)),
        ("write", (".", "--write", "--quiet", llm_flag)),
    ]
    if settings.trace:
        steps.insert(0, ("trace", ("trace", WORKLOAD)))
    for step, arguments in steps:
        if step == "write" and not any(outcome["accepted"] for outcome in run.outcomes):
            break  # --write would write nothing: the report it repeats accepted nothing
        started = time.perf_counter()
        done = _run(arguments, project, environment)
        run.seconds[step] = time.perf_counter() - started
        if done.returncode not in (0, 1):
            run.error = f"optimize {' '.join(arguments)} exited {done.returncode}: " + _tail(done)
            return run
        if step == "report":
            run.outcomes = _outcomes(done.stdout)
    text = (project / f"{task.module_stem}.py").read_text(encoding="utf-8")
    run.written = text if text != task.module_text else None
    return run


def _run(
    arguments: tuple[str, ...], cwd: Path, environment: dict[str, str], timeout: float = CLI_TIMEOUT
) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            [*CLI, *arguments],
            cwd=cwd,
            env=environment,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        return subprocess.CompletedProcess(arguments, -1, "", f"timed out after {timeout:g} s")


def _outcomes(stdout: str) -> list[dict[str, Any]]:
    report = json.loads(stdout)
    return [outcome for file in report["files"] for outcome in file["outcomes"]]


def _tail(done: subprocess.CompletedProcess[str]) -> str:
    lines = (done.stderr or done.stdout).strip().splitlines()
    return lines[-1][:300] if lines else "(no output)"
