"""`python -m benchmarks` end to end on two corpus functions with tiny settings."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from benchmarks import harness

REPO = Path(__file__).resolve().parent.parent


def _run(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "benchmarks", *arguments],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _old_results(path: Path) -> Path:
    """An earlier run to compare against: same schema, nothing measured yet."""
    headline = dict.fromkeys(
        (
            "optimize_geomean",
            "ruff_geomean",
            "optimize_improved",
            "ruff_improved",
            "optimize_wrong_outputs",
            "ruff_wrong_outputs",
            "traps_left_alone",
        ),
        0,
    )
    old = {
        "schema": harness.SCHEMA_VERSION,
        "environment": {"git_commit": "0ld"},
        "headline": headline,
        "functions": [],
    }
    path.write_text(json.dumps(old), encoding="utf-8")
    return path


def test_harness_writes_json_markdown_and_html(tmp_path: Path) -> None:
    # first_key: one pass applies and Ruff's SIM118 rewrites it; latest_event: a trap whose
    # sorted()[-1] Ruff's FURB192 turns into max(), which picks a different tied event.
    done = _run(
        "--quick",
        "--out",
        str(tmp_path),
        "--compare",
        str(_old_results(tmp_path / "old.json")),
        "--function",
        "collections_idioms.first_key",
        "--function",
        "traps.latest_event",
    )
    assert done.returncode == 0, done.stderr[-3000:]

    results = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    assert results["schema"] == harness.SCHEMA_VERSION
    assert results["environment"]["python"].startswith("CPython")
    assert results["environment"]["git_commit"]
    names = [(r["module"], r["function"]) for r in results["functions"]]
    assert names == [("collections_idioms", "first_key"), ("traps", "latest_event")]
    for row in results["functions"]:
        assert row["optimize"]["verdict"] in ("accepted", "rejected", "no candidate")
        assert set(row["optimize"]["stage_times"]) == set(harness.STAGES)
        assert row["optimize"]["stage_times"]["parse"] > 0
        assert row["optimize"]["wrong_output"] is False
    # whatever Ruff changed, the harness must have checked it in the sandbox
    for row in results["functions"]:
        ruff = row["ruff"]
        if ruff["changed"]:
            assert ruff["verification"] in ("equivalent", "counterexample", "unverifiable")
            assert ruff["examples"] >= 0
    headline = results["headline"]
    assert headline["functions"] == 2 and headline["traps"] == 1
    assert headline["optimize_wrong_outputs"] == 0
    assert headline["traps_left_alone"] == 1

    markdown = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert "## Headline" in markdown and "collections_idioms.first_key" in markdown
    assert "| function | parse | analyze | rewrite | verify | measure |" in markdown
    assert "<svg" in (tmp_path / "report.html").read_text(encoding="utf-8")

    assert "comparing 0ld -> " in done.stdout
    assert "new: collections_idioms.first_key" in done.stdout


def test_compare_with_a_file_that_is_not_results_exits_2(tmp_path: Path) -> None:
    bogus = tmp_path / "old.json"
    bogus.write_text("{}", encoding="utf-8")
    done = _run("--compare", str(bogus), "--quick")
    assert done.returncode == 2
    assert "not a benchmarks results.json" in done.stderr
