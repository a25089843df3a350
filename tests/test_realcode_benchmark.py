"""`benchmarks.realcode`'s own logic, on real pytest runs, a real trace and real workload
processes: what a test outcome is, which tests a rewrite broke, which functions are hot,
what each hot function's fate was, and the report built from it. The benchmark itself
(PyPI downloads, minutes of optimisation) runs only as `python -m benchmarks.realcode`.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from benchmarks.realcode import harness, junit, report
from benchmarks.realcode.packages import PACKAGES, Package, UnknownPackage, select
from benchmarks.realcode.timing import time_workload
from pipeline.report import html as html_report

REPO = Path(__file__).resolve().parent.parent

SUITE = """
import pytest

def test_passes():
    assert 1 + 1 == 2

def test_fails():
    assert 1 + 1 == 3

@pytest.mark.skip(reason="not here")
def test_skipped():
    pass

@pytest.fixture
def broken():
    raise RuntimeError("fixture broke")

def test_errors(broken):
    pass

class TestGroup:
    def test_in_class(self):
        assert True
"""


def run_pytest(directory: Path, xml: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={xml}"],
        cwd=directory,
        capture_output=True,
        check=False,
    )


def test_junit_outcomes_of_a_real_pytest_run(tmp_path: Path) -> None:
    (tmp_path / "test_suite.py").write_text(SUITE)
    run_pytest(tmp_path, tmp_path / "out.xml")
    outcomes = junit.read_outcomes(tmp_path / "out.xml")
    assert outcomes == {
        "test_suite::test_passes": "passed",
        "test_suite::test_fails": "failed",
        "test_suite::test_skipped": "skipped",
        "test_suite::test_errors": "error",
        "test_suite.TestGroup::test_in_class": "passed",
    }
    assert junit.counts(outcomes) == {"passed": 2, "failed": 1, "error": 1, "skipped": 1}


def test_junit_refuses_what_is_not_junit(tmp_path: Path) -> None:
    with pytest.raises(junit.JUnitError):
        junit.outcomes("not xml at all <")
    with pytest.raises(junit.JUnitError):
        junit.read_outcomes(tmp_path / "missing.xml")


def test_newly_failing_is_every_test_that_passed_and_no_longer_does() -> None:
    before = {"a": "passed", "b": "passed", "c": "failed", "d": "passed", "e": "passed"}
    after = {"a": "passed", "b": "failed", "c": "failed", "d": "error"}  # e is gone
    assert junit.newly_failing(before, after) == {"b": "failed", "d": "error", "e": "missing"}
    assert junit.newly_failing(before, before) == {}
    # A test that was already failing and now passes is not a wrong output either.
    assert junit.newly_failing({"c": "failed"}, {"c": "passed"}) == {}


def test_package_selection() -> None:
    assert len(PACKAGES) >= 8
    assert all(p.workload.is_file() for p in PACKAGES), "every package has its workload script"
    assert [p.name for p in select((), quick=True)] == ["sqlparse", "tabulate", "humanize"]
    assert [p.name for p in select(("idna", "tabulate"), quick=False)] == ["tabulate", "idna"]
    with pytest.raises(UnknownPackage, match="nope"):
        select(("nope",), quick=False)


def test_unknown_package_is_a_usage_error() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.realcode", "--packages", "nope"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.strip().startswith("benchmarks.realcode: error: unknown package(s) nope")


def make_project(root: Path) -> Package:
    """A one-module package with a hot function, a cold one, and a test file."""
    (root / "pyproject.toml").write_text('[project]\nname = "tiny"\nversion = "0"\n')
    (root / "tiny").mkdir()
    (root / "tiny" / "__init__.py").write_text(
        textwrap.dedent(
            """
            def hot(n):
                total = 0
                for i in range(n):
                    total += i * i
                return total

            def cold():
                return 1
            """
        )
    )
    (root / "tests").mkdir()
    (root / "tests" / "test_tiny.py").write_text(
        "from tiny import hot, cold\n\n"
        "def test_hot():\n    assert hot(200_000) > 0\n\n"
        "def test_cold():\n    assert cold() == 1\n"
    )
    return Package("tiny", "0", "test", "tiny", ("tests",))


def test_hot_functions_come_from_the_traced_tests_and_leave_out_the_tests(
    tmp_path: Path,
) -> None:
    package = make_project(tmp_path)
    env = harness.package_env(package, tmp_path, tmp_path / "no-deps")
    outcomes = harness.run_tests(package, tmp_path, env, tmp_path / "junit.xml")
    assert junit.counts(outcomes)["passed"] == 2
    trace = [*harness.CLI, "trace", "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"]
    subprocess.run(trace, cwd=tmp_path, env=env, capture_output=True, check=True)
    hot = harness.hot_functions(tmp_path / ".optimize_cache" / "trace.sqlite", "tiny")
    assert hot[0]["function"] == "hot"
    assert hot[0]["path"] == "tiny/__init__.py"
    assert all(h["path"].startswith("tiny/") for h in hot)
    assert abs(sum(h["share"] for h in hot) - 1) < 0.05 or len(hot) == 1


WORKLOAD = "import tiny_lib\n\ndef workload():\n    return tiny_lib.VALUE\n"


def test_workload_timing_tells_a_changed_result(tmp_path: Path) -> None:
    script = tmp_path / "workload.py"
    script.write_text(WORKLOAD)
    sides = {}
    for side, value in (("before", 1), ("same", 1), ("changed", 2)):
        (tmp_path / side).mkdir()
        (tmp_path / side / "tiny_lib.py").write_text(f"VALUE = {value}\n")
        sides[side] = {"PYTHONPATH": str(tmp_path / side), "PATH": "/usr/bin:/bin"}
    same = time_workload(script, sides["before"], sides["same"], pairs=2, repeats=2)
    assert same.same_output and len(same.before) == len(same.after) == 2
    assert all(seconds > 0 for seconds in same.before + same.after)
    changed = time_workload(script, sides["before"], sides["changed"], pairs=2, repeats=2)
    assert not changed.same_output
    assert "OUTPUT DIFFERS" in changed.describe()


def optimize_report() -> dict[str, Any]:
    """The shape of `optimize PKG --write --json`, with one rewrite written and one rejected."""

    def outcome(function: str, accepted: bool, reason: str) -> dict[str, Any]:
        timing = {"speedup": 1.4 if accepted else 1.0}
        return {
            "function": function,
            "origin": "pass",
            "rules": ["OPT101"],
            "accepted": accepted,
            "reason": reason,
            "timing": timing,
        }

    return {
        "totals": {
            "functions": 5,
            "candidates": 2,
            "accepted": 1,
            "rejected": {"not faster": 1},
            "unverifiable": 0,
            "errors": 0,
            "llm_tokens": 0,
        },
        "files": [
            {
                "path": "pkg/core.py",
                "written": True,
                "error": None,
                "outcomes": [
                    outcome("fast_now", True, ""),
                    outcome("still_slow", False, "not measurably faster"),
                ],
            }
        ],
    }


def synthetic_row(name: str, newly_failing: dict[str, str], ratio: float) -> dict[str, Any]:
    row: dict[str, Any] = {
        "name": name,
        "version": "1.0",
        "kind": "test",
        "note": "",
        "error": None,
        "seconds": {"optimize": 10.0},
        "lines": 100,
        "hot": [
            {"path": "pkg/core.py", "function": f, "calls": 10, "share": s}
            for f, s in (("fast_now", 0.5), ("still_slow", 0.3), ("untouched", 0.2))
        ],
        "tests_before": {"passed": 3, "failed": 0, "error": 0, "skipped": 0},
        "tests_after": {"passed": 3 - len(newly_failing), "failed": len(newly_failing)},
        "newly_failing": newly_failing,
        "diff": "--- a/pkg/core.py\n+++ b/pkg/core.py\n@@ -1 +1 @@\n-old\n+new\n",
        "workload": {"ratio": ratio, "low": ratio * 0.9, "high": ratio * 1.1, "same_output": True},
    }
    harness.summarise_optimize(row, optimize_report())
    return row


def synthetic_results() -> dict[str, Any]:
    rows = [
        synthetic_row("alpha", {}, 2.0),
        synthetic_row("beta", {"tests.test_beta::test_edge": "failed"}, 0.5),
        {
            "name": "gamma",
            "version": "2",
            "kind": "test",
            "note": "",
            "seconds": {},
            "error": "pytest ran no tests",
        },
    ]
    return {
        "environment": {
            "git_commit": "abc1234",
            "date": "today",
            "python": "CPython 3.11",
            "cpus": 2,
            "sandbox": "bubblewrap",
        },
        "settings": {
            "quick": True,
            "llm": False,
            "top": 10,
            "pairs": 5,
            "repeats": 3,
            "hot_share": harness.HOT_SHARE,
        },
        "wall_seconds": 12.0,
        "headline": harness.headline(rows),
        "packages": rows,
    }


def test_each_hot_function_gets_its_fate() -> None:
    row = synthetic_row("alpha", {}, 1.0)
    fates = {h["function"]: h["fate"] for h in row["hot"]}
    assert fates == {
        "fast_now": "written",
        "still_slow": "rejected: not measurably faster",
        "untouched": "no candidate",
    }
    assert row["written"] == 1 and row["candidates"] == 2


def test_headline_counts_wrong_outputs_and_the_share_of_hot_functions() -> None:
    h = synthetic_results()["headline"]
    assert h["packages"] == 3 and h["packages_failed"] == 1
    assert h["written"] == 2
    assert h["wrong_outputs"] == 1
    assert h["workload_geomean"] == pytest.approx(1.0)  # 2.0x and 0.5x
    assert (h["hot_rewritten"], h["hot_functions"]) == (2, 6)
    assert h["hot_without_candidate"] == 2


def test_report_shows_wrong_outputs_errors_and_diffs() -> None:
    results = synthetic_results()
    markdown = report.render(results)
    assert "tests.test_beta::test_edge passed before, failed after" in markdown
    assert "gamma | could not be run: pytest ran no tests" in markdown
    assert "| hot functions with a verified rewrite | 2 of 6 (33.3%) |" in markdown
    assert "+new" in markdown
    page = html_report.render(report.page(results))
    assert "test_edge" in page and "2 of 6 (33.3%)" in page


def test_readme_block_is_replaced(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{report.README_START}\nold\n{report.README_END}\nrest\n")
    report.update_readme(readme, synthetic_results())
    text = readme.read_text()
    assert "old" not in text and "| wrong outputs (goal 0) | 1 |" in text
    assert text.startswith("intro\n") and text.endswith("rest\n")


def test_rejections_are_grouped_by_reason_without_particulars() -> None:
    assert (
        report.reason_category("unverified: importing the module failed: ImportError: x")
        == "unverified: importing the module failed"
    )
    assert report.reason_category("not timed: the 60 s budget ran out") == "not timed"
    row = synthetic_row("alpha", {}, 1.0)
    assert report.rejected_text(row) == "1 not measurably faster"


def test_wrong_outputs_count_even_when_a_later_step_failed() -> None:
    broken = synthetic_row("delta", {"tests.test_delta::test_one": "error"}, 1.0)
    broken["error"] = "workload: workload.py exited 1"
    h = harness.headline([synthetic_row("alpha", {}, 1.0), broken])
    assert h["wrong_outputs"] == 1 and h["packages_failed"] == 1


def test_reports_are_rebuilt_from_a_results_file(tmp_path: Path) -> None:
    results = tmp_path / "results.json"
    results.write_text(json.dumps(synthetic_results()))
    command = [sys.executable, "-m", "benchmarks.realcode", "--from-json", str(results)]
    done = subprocess.run(
        [*command, "--out", str(tmp_path / "out")],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1, done.stderr  # a wrong output and a package that failed
    assert "test_edge" in (tmp_path / "out" / "report.md").read_text()
    assert (tmp_path / "out" / "report.html").read_text().startswith("<!DOCTYPE html>")
    results.write_text("{not json")
    bad = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=False)
    assert bad.returncode == 2 and bad.stderr.startswith("benchmarks.realcode: error:")
