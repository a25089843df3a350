"""`python -m benchmarks.coffe` on real COFFE tasks: real CLI, real sandbox, real pytest.

The data is read from `../shared/benchmarks/coffe` (never copied here). Without
it the tests skip, except in CI, where a missing data set is a failure.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from llm_server import LLMServer

from benchmarks.coffe import report
from benchmarks.coffe.check import check_task
from benchmarks.coffe.data import DataError, argument_list_source, default_data_dir, load_tasks
from benchmarks.coffe.timing import measure_on_stress_inputs
from pipeline.config import TimingConfig
from pipeline.sandbox.child.protocol import Limits

REPO = Path(__file__).resolve().parent.parent
DATA = default_data_dir()

if not (DATA / "data.json").is_file():
    if os.environ.get("CI", "").lower() == "true":
        raise RuntimeError(f"the COFFE data is missing in CI: {DATA}")
    pytest.skip(f"no COFFE data at {DATA}", allow_module_level=True)

# HumanEval/5, made faster the way a model might: fill every other slot by slice assignment
# instead of two appends per element.
SLICE_FILL = {
    "function": (
        "def intersperse(numbers: List[int], delimeter: int) -> List[int]:\n"
        "    if not numbers:\n"
        "        return []\n"
        "    result = [delimeter] * (2 * len(numbers) - 1)\n"
        "    result[0::2] = numbers\n"
        "    return result\n"
    ),
    "helpers": "",
    "imports": [],
    "explanation": "One slice assignment instead of a loop of appends.",
}
ANALYSIS = {
    "intent": "puts the delimiter between consecutive numbers",
    "pure": True,
    "side_effects": [],
    "hot_spots": [],
    "complexity": "O(n)",
    "applicable_passes": [],
    "domains": [],
}


def run_harness(out: Path, *arguments: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.coffe", "--quick", "--out", str(out), *arguments],
        cwd=REPO,
        env={**environment, **(env or {})},
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    results: dict[str, Any] = json.loads((out / "results.json").read_text(encoding="utf-8"))
    return results


def test_quick_harness_runs_the_cli_on_each_task_and_reports(tmp_path: Path) -> None:
    # HumanEval/14: typed, a pass rewrites it and verification succeeds; MBPP/18: untyped.
    results = run_harness(tmp_path, "--no-trace", "--task", "HumanEval/14", "--task", "MBPP/18")

    assert [row["task"] for row in results["tasks"]] == ["HumanEval/14", "MBPP/18"]
    for row in results["tasks"]:
        assert row["verdict"] in ("written", "rejected"), row
        assert row["cli_seconds"]["report"] > 0
        # COFFE's best known solution for these is the canonical one: nothing to time.
        assert row["best_known_is_canonical"] and row["best_speedup"] == 1.0
        if row["verdict"] != "written":
            assert row["tests"] is None and row["speedup"] == 1.0
            assert "write" not in row["cli_seconds"]  # nothing accepted, nothing to write
    typed, untyped = results["tasks"]
    assert typed["outcomes"][0]["verification"] == "equivalent"
    assert typed["rules"] == ["OPT201"]  # the append loop becomes a comprehension
    assert untyped["reason"] == "unverified: no type hint or domain for parameter(s)"
    assert results["headline"]["tasks"] == 2
    assert results["headline"]["wrong_outputs"] == 0
    assert sum(results["headline"]["verdicts"].values()) == 2
    markdown = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert "| HumanEval/14 | all_prefixes |" in markdown

    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{report.README_START}\nold\n{report.README_END}\nend\n")
    report.update_readme(readme, results)
    text = readme.read_text(encoding="utf-8")
    assert "old" not in text and "| tasks in the run | 2 |" in text and text.endswith("end\n")


def test_llm_rewrite_is_written_checked_against_the_tests_and_timed(tmp_path: Path) -> None:
    with LLMServer() as server:
        server.add("function_analysis", ANALYSIS)
        server.add("rewrite_proposals", {"candidates": [SLICE_FILL]})
        env = {"OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": "sk-test"}
        # Untraced: the task's own test calls are a few tiny lists, on which the slice fill
        # does not measurably win (with a trace they decide); its win is at larger sizes.
        results = run_harness(tmp_path, "--llm", "--no-trace", "--task", "HumanEval/5", env=env)

    row = results["tasks"][0]
    assert row["verdict"] == "written", [(o["reason"], o["verification"]) for o in row["outcomes"]]
    assert row["rules"] == ["LLM"]
    assert row["cli_seconds"]["write"] > 0
    assert row["tests"]["ran"] and row["tests"]["wrong_cases"] == []
    assert row["tests"]["roles"]["written"]["differs_from_canonical"] == []
    assert not row["wrong_output"]
    timed = row["optimized"]["inputs"]
    assert timed and row["speedup"] == pytest.approx(row["optimized"]["ratio"])
    assert results["headline"]["written"] == 1 and results["settings"]["llm"]
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert 'id="speedup-chart"' in html and "HumanEval/5 intersperse" in html


def test_traced_calls_let_an_untyped_function_be_verified(tmp_path: Path) -> None:
    # MBPP/18's helper str_to_list has no hints: untraced it is "unverified" (above).
    results = run_harness(tmp_path, "--task", "MBPP/18")

    (row,) = results["tasks"]
    assert results["settings"]["trace"]
    assert row["cli_error"] == "" and list(row["cli_seconds"])[:2] == ["trace", "report"]
    (outcome,) = [o for o in row["outcomes"] if o["function"] == "str_to_list"]
    assert outcome["verification"] == "equivalent"
    assert "recorded calls" in outcome["strategy_sources"]
    assert not row["wrong_output"]
    if row["verdict"] == "written":  # the rewrite was faster on the recorded calls
        assert row["tests"]["ran"] and row["optimized"] is not None


def test_a_wrong_written_module_fails_its_tests_in_the_sandbox() -> None:
    (task,) = load_tasks(DATA, ("HumanEval/0",))
    wrong = task.module_text.replace("return True", "return 1")

    broken = check_task(task, wrong, None, Limits())
    faithful = check_task(task, task.module_text, task.best_known, Limits())

    assert broken.ran and faithful.ran
    assert set(faithful.roles) == {"canonical", "written", "best_known"}
    assert faithful.roles["best_known"].failed_expected == ()
    assert broken.wrong_cases()  # 1 == True, but not the same type as the canonical's
    assert faithful.wrong_cases() == ()
    assert not faithful.mutates_arguments


def test_every_stress_input_is_timed_or_left_out_with_its_reason() -> None:
    # HumanEval/0 is quadratic: on this machine a call on the larger stress inputs takes
    # longer than the 1 s budget, on the smaller ones it does not.
    (task,) = load_tasks(DATA, ("HumanEval/0",))
    quick = TimingConfig(sample_seconds=0.01, pairs=3, workers=1)

    same = measure_on_stress_inputs(task, task.module_text, task.entry_point, quick, False)

    timed = {entry["index"] for entry in same.inputs}
    left_out = {int(index) for index in re.findall(r"input (\d+): ", same.detail)}
    assert timed | left_out == set(range(len(task.stress_inputs))) and not timed & left_out
    for entry in same.inputs:  # the canonical module against itself
        assert 0.5 < entry["ratio"] < 2 and entry["low"] <= entry["ratio"] <= entry["high"]


def test_stress_inputs_are_parsed_never_evaluated() -> None:
    assert argument_list_source("['ab' * 3, [i for i in range(4)]]") == (
        "['ab' * 3, [i for i in range(4)]]"
    )
    for text in ("print('x')", "[1]; import os", "[1]\nimport os"):
        with pytest.raises(SyntaxError):
            argument_list_source(text)


def test_missing_data_is_a_one_line_error_with_exit_2(tmp_path: Path) -> None:
    with pytest.raises(DataError):
        load_tasks(tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.coffe", "--data", str(tmp_path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.startswith("benchmarks.coffe: error: cannot read")
    assert len(done.stderr.strip().splitlines()) == 1
