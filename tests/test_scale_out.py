"""Scale-out: `--jobs N` verifies files in parallel, `--shard K/N` splits the functions
deterministically, and `optimize merge` combines the shards' JSON and SARIF outputs.

All through the real CLI in subprocesses; parallelism is read from the run log.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
from conftest import Runner, slow_counter

from pipeline.runlog import read_events

SCHEMA = Path(__file__).parent / "data" / "sarif-schema-2.1.0.json"

PLAIN = "def {name}(a: int, b: int) -> int:\n    return a + b\n"


def _verify_spans(project: Path) -> dict[str, tuple[float, float]]:
    """Each candidate's verification, as (start, end) Unix times, from the last run's log."""
    log = sorted((project / ".optimize_cache" / "runs").glob("*.jsonl"))[-1]
    spans = {}
    for event in read_events(log):
        if event["event"] == "candidate":
            start = event["started"]
            spans[event["path"]] = (start, start + event["seconds"]["verify"])
    return spans


def _overlap(a: tuple[float, float], b: tuple[float, float]) -> float:
    return min(a[1], b[1]) - max(a[0], b[0])


def test_jobs_verifies_files_in_parallel(project: Path, run_cli: Runner) -> None:
    for name in ("alpha", "beta"):
        (project / f"{name}.py").write_text(slow_counter(name), encoding="utf-8")

    serial = run_cli("alpha.py", "beta.py", "--no-cache", "--json", cwd=project)
    assert serial.returncode == 0, serial.stderr
    assert json.loads(serial.stdout)["settings"]["jobs"] == 1
    spans = _verify_spans(project)
    assert _overlap(spans["alpha.py"], spans["beta.py"]) < 0

    parallel = run_cli("alpha.py", "beta.py", "--no-cache", "--json", "--jobs", "2", cwd=project)
    assert parallel.returncode == 0, parallel.stderr
    report = json.loads(parallel.stdout)
    assert report["settings"]["jobs"] == 2
    assert [f["path"] for f in report["files"]] == ["alpha.py", "beta.py"]  # input order kept
    assert report["totals"]["candidates"] == 2
    spans = _verify_spans(project)
    assert _overlap(spans["alpha.py"], spans["beta.py"]) > 0, spans


def _module(prefix: str) -> str:
    functions = [slow_counter(f"{prefix}_slow")]
    functions += [PLAIN.format(name=f"{prefix}_plain_{index}") for index in range(7)]
    return "\n\n".join(functions)


def _functions(report: dict[str, Any]) -> set[str]:
    return {name for entry in report["files"] for name in entry["functions"]}


def test_shards_split_functions_deterministically_and_merge(project: Path, run_cli: Runner) -> None:
    for prefix in ("one", "two"):
        (project / f"{prefix}.py").write_text(_module(prefix), encoding="utf-8")
    everything = json.loads(run_cli(".", "--json", cwd=project).stdout)
    every_function = _functions(everything)
    assert len(every_function) == 16

    shards = []
    for index in (1, 2):
        done = run_cli(".", "--json", "--shard", f"{index}/2", "--sarif", f"shard{index}.sarif",
                       cwd=project)  # fmt: skip
        assert done.returncode == 0, done.stderr
        (project / f"shard{index}.json").write_text(done.stdout, encoding="utf-8")
        shards.append(json.loads(done.stdout))
        assert shards[-1]["settings"]["shard"] == f"{index}/2"
    first, second = (_functions(shard) for shard in shards)
    assert first and second and not first & second and first | second == every_function
    again = json.loads(run_cli(".", "--json", "--shard", "1/2", cwd=project).stdout)
    assert _functions(again) == first  # the same split on every machine and every run

    merged = run_cli("merge", "shard1.json", "shard2.json", cwd=project)
    assert merged.returncode == 0, merged.stderr
    report = json.loads(merged.stdout)
    assert report["totals"]["functions"] == 16 and report["totals"]["files"] == 2
    assert report["totals"]["accepted"] == everything["totals"]["accepted"]  # cached verdicts
    assert _functions(report) == every_function
    assert len(report["shards"]) == 2

    merged_sarif = run_cli("merge", "shard1.sarif", "shard2.sarif", "-o", "all.sarif",
                           cwd=project)  # fmt: skip
    assert merged_sarif.returncode == 0, merged_sarif.stderr
    log = json.loads((project / "all.sarif").read_text(encoding="utf-8"))
    jsonschema.validate(log, json.loads(SCHEMA.read_text(encoding="utf-8")))
    [run] = log["runs"]
    names = [r["locations"][0]["logicalLocations"][0]["name"] for r in run["results"]]
    assert sorted(names) == ["count_one_slow", "count_two_slow"]
    assert all(result["ruleIndex"] == 0 for result in run["results"])

    mixed = run_cli("merge", "shard1.json", "shard1.sarif", cwd=project)
    assert mixed.returncode == 2 and "cannot merge" in mixed.stderr
    bad = run_cli(".", "--shard", "3/2", cwd=project)
    assert bad.returncode == 2 and "expected K/N" in bad.stderr
