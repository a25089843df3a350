"""What a run over a real repository examines, and what its output says it did.

Test code is left alone unless asked for, `--top N` names the N functions a
user would count, the settings in the JSON and the run log are the ones that
ran, and files written for a newer Python are skipped with a note when a
directory walk finds them. Everything runs through the real CLI in
subprocesses.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Runner, slow_counter

# Per Python version, a module that only the next versions parse.
NEWER_SYNTAX = {
    (3, 12): "type Tags = list[str]\n",
    (3, 13): "def first[T = int](items: list[T]) -> T:\n    return items[0]\n",
    (3, 14): "try:\n    pass\nexcept ValueError, TypeError:\n    pass\n",
}


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")


def _report(stdout: str) -> dict[str, Any]:
    report: dict[str, Any] = json.loads(stdout)
    return report


def _paths(report: dict[str, Any]) -> set[str]:
    return {Path(f["path"]).as_posix() for f in report["files"]}


@pytest.fixture
def library(project: Path) -> Path:
    """A package that ships its tests inside it, as many PyPI libraries do."""
    _write(project, {
        "pkg/__init__.py": "from .core import *\n",
        "pkg/core.py": slow_counter("core"),
        "pkg/tests/__init__.py": "# tests\n",
        "pkg/tests/helpers.py": slow_counter("helper"),
        "pkg/tests/test_core.py": "from pkg.core import count_core\n\n\n" + slow_counter("t"),
        "pkg/core_test.py": slow_counter("suffix"),
        "conftest.py": slow_counter("fixture"),
        "test/data.py": slow_counter("data"),
    })  # fmt: skip
    return project


def test_test_code_is_skipped_by_default_unless_named(library: Path, run_cli: Runner) -> None:
    done = run_cli(".", "--no-verify", "--json", cwd=library)
    assert done.returncode == 0, done.stderr
    report = _report(done.stdout)
    assert _paths(report) == {"pkg/__init__.py", "pkg/core.py"}
    assert report["skipped"]["test_files"] == 6
    assert "6 test file(s) skipped: --include-tests examines them" in done.stderr

    named = run_cli("pkg/tests/test_core.py", "pkg/core.py", "--no-verify", "--json", cwd=library)
    report = _report(named.stdout)
    assert _paths(report) == {"pkg/tests/test_core.py", "pkg/core.py"}
    found = {o["function"] for f in report["files"] for o in f["outcomes"]}
    assert found == {"count_t", "count_core"}


def test_staged_leaves_staged_test_files_alone(library: Path, run_cli: Runner) -> None:
    """pre-commit names every staged file: test files among them are still skipped."""
    for command in (["init", "-q"], ["add", "pkg/core.py", "pkg/tests/test_core.py"]):
        subprocess.run(["git", *command], cwd=library, check=True, capture_output=True)
    done = run_cli("--staged", "--no-verify", "--json", "pkg/core.py", "pkg/tests/test_core.py",
                   cwd=library)  # fmt: skip
    assert done.returncode == 0, done.stderr
    report = _report(done.stdout)
    assert _paths(report) == {"pkg/core.py"} and report["skipped"]["test_files"] == 1


def test_include_tests_brings_test_code_back(library: Path, run_cli: Runner) -> None:
    flag = _report(run_cli(".", "--no-verify", "--json", "--include-tests", cwd=library).stdout)
    assert len(_paths(flag)) == 8 and flag["skipped"]["test_files"] == 0
    with (library / "pyproject.toml").open("a", encoding="utf-8") as pyproject:
        pyproject.write("\n[tool.optimize]\ninclude-tests = true\n")
    setting = _report(run_cli(".", "--no-verify", "--json", cwd=library).stdout)
    assert _paths(setting) == _paths(flag)
    assert setting["settings"]["config"]["include_tests"] is True


def test_the_projects_pytest_patterns_decide_what_a_test_file_is(
    library: Path, run_cli: Runner
) -> None:
    _write(library, {"pkg/check_core.py": slow_counter("check")})
    with (library / "pyproject.toml").open("a", encoding="utf-8") as pyproject:
        pyproject.write('\n[tool.pytest.ini_options]\npython_files = ["check_*.py"]\n')
    report = _report(run_cli("pkg", "--no-verify", "--json", cwd=library).stdout)
    # core_test.py is no test file under these patterns; check_core.py is.
    assert _paths(report) == {"pkg/__init__.py", "pkg/core.py", "pkg/core_test.py"}


HOT_LIBRARY = {
    "pkg/__init__.py": "",
    # Each function's own time grows with its `rounds`; `nested` spends its time in a
    # nested function, which is part of it, not a function of its own.
    "pkg/core.py": """\
        def nested(days, rounds):
            def upper_all(items):
                return [item.upper() for item in items]
            total = 0
            for _ in range(rounds):
                total += len(upper_all(days))
            return total


        def busy(days, rounds):
            total = 0
            for _ in range(rounds):
                for day in days:
                    total += len(day)
            return total


        def light(days):
            return len(days)
    """,
    "tests/helpers.py": """\
        def hottest_helper(days):
            total = 0
            for _ in range(400):
                for day in days:
                    total += day.count("a")
            return total
    """,
    "tests/test_core.py": """\
        from pkg.core import busy, light, nested
        from tests.helpers import hottest_helper

        DAYS = ["monday", "saturday", "sunday"] * 300

        def test_workload():
            assert hottest_helper(DAYS) > 0
            assert nested(DAYS, 120) > 0
            assert busy(DAYS, 40) > 0
            assert light(DAYS) > 0
    """,
}


def test_top_names_the_functions_a_user_would_count(project: Path, run_cli: Runner) -> None:
    _write(project, HOT_LIBRARY)
    with (project / "pyproject.toml").open("a", encoding="utf-8") as pyproject:
        pyproject.write('\n[tool.pytest.ini_options]\npythonpath = ["."]\n')
    traced = run_cli("trace", "-m", "pytest", "tests", "-q", "-p", "no:cacheprovider",
                     cwd=project)  # fmt: skip
    assert traced.returncode == 0, traced.stdout + traced.stderr

    shown = run_cli("trace", "--show", cwd=project)
    assert "hottest_helper" not in shown.stdout and "test_workload" not in shown.stdout
    assert "2 function(s) of test code not listed" in shown.stdout
    assert "hottest_helper" in run_cli("trace", "--show", "--include-tests", cwd=project).stdout

    done = run_cli(".", "--top", "2", "--no-llm", cwd=project)
    assert done.returncode == 0, done.stderr
    top = next(line for line in done.stdout.splitlines() if "top 2 of" in line)
    assert top.startswith("optimize: top 2 of the traced workload: pkg.core.nested ")
    assert ", pkg.core.busy " in top and top.endswith("%")
    assert "2 function(s) examined in 1 file(s)" in done.stdout

    machine = run_cli(".", "--top", "2", "--no-llm", "--json", cwd=project)
    report = _report(machine.stdout)
    assert "top 2 of the traced workload: pkg.core.nested" in machine.stderr
    assert report["totals"]["functions"] == 2 and report["settings"]["top"] == 2
    examined = {name for f in report["files"] for name in f["functions"]}
    assert {"nested", "busy"} <= examined and "light" not in examined


def _cli_with_env(
    project: Path, env: dict[str, str], *args: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pipeline", *args], cwd=project, env=env,
                          capture_output=True, text=True, timeout=600, check=False)  # fmt: skip


def _run_log_settings(project: Path) -> dict[str, Any]:
    newest = sorted((project / ".optimize_cache" / "runs").glob("*.jsonl"))[-1]
    first = json.loads(newest.read_text(encoding="utf-8").splitlines()[0])
    settings: dict[str, Any] = first["settings"]
    return settings


def test_the_settings_say_what_ran(project: Path) -> None:
    _write(project, {"plain.py": "def double(x):\n    return 2 * x\n"})
    offline = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    endpoint = {**offline, "OPENAI_BASE_URL": "http://127.0.0.1:9/v1"}
    off = _cli_with_env(project, endpoint, "plain.py", "--no-llm", "--json")
    assert off.returncode == 0, off.stderr
    assert _report(off.stdout)["settings"]["config"]["llm"]["enabled"] is False
    assert _run_log_settings(project)["config"]["llm"]["enabled"] is False

    # No endpoint: the stage is off (the note says so), and so are the settings.
    unset = _cli_with_env(project, offline, "plain.py", "--json", "--no-cache")
    settings = _report(unset.stdout)["settings"]
    assert settings["config"]["llm"]["enabled"] is False
    assert settings["cache"] is False and settings["config"]["llm"]["cache"] is False

    scan = _cli_with_env(project, endpoint, "plain.py", "--no-verify", "--json")
    assert _report(scan.stdout)["settings"]["config"]["llm"]["enabled"] is False


@pytest.fixture
def newer_syntax() -> str:
    newer = [version for version in NEWER_SYNTAX if version > sys.version_info[:2]]
    if not newer:
        pytest.skip("no syntax newer than this Python is known to the test")
    return NEWER_SYNTAX[min(newer)]


def test_files_for_a_newer_python_are_skipped_and_summarised(
    project: Path, newer_syntax: str, run_cli: Runner
) -> None:
    from tests.conftest import SLOW_DEDUPE

    _write(project, {"src/tags.py": SLOW_DEDUPE, "src/new_a.py": newer_syntax,
                     "src/new_b.py": newer_syntax})  # fmt: skip
    done = run_cli("src", "--write", "--no-llm", "--json", cwd=project)
    assert done.returncode == 0, done.stderr
    report = _report(done.stdout)
    assert report["totals"]["errors"] == 0
    skipped = report["skipped"]["newer_python"]
    assert sorted(Path(s["path"]).name for s in skipped) == ["new_a.py", "new_b.py"]
    needs = skipped[0]["needs"]
    assert needs.endswith(" syntax")
    notes = [line for line in done.stderr.splitlines() if line.startswith("optimize: note: skip")]
    assert len(notes) == 2 and all("needs a newer Python" in note for note in notes)
    assert f"2 file(s) skipped: they need a newer Python: {needs}" in done.stderr
    assert report["totals"]["accepted"] == 1  # and written: the skipped files stop nothing
    assert (project / "src" / "tags.py").read_text(encoding="utf-8") != SLOW_DEDUPE

    named = run_cli("src/new_a.py", "--no-llm", cwd=project)
    assert named.returncode == 2
    errors = [line for line in named.stderr.splitlines() if "error" in line]
    assert len(errors) == 1 and "needs a newer Python" in errors[0]

    # A file that no Python parses is broken, not newer: still an error.
    _write(project, {"src/broken.py": "def f(:\n    pass\n"})
    broken = run_cli("src", "--no-verify", cwd=project)
    assert broken.returncode == 2 and "broken.py:1:7: syntax error" in broken.stderr
