"""The run log answers "why was this rewrite accepted?" later, and stays bounded.

The CLI runs for real in a subprocess; the log it writes is read back both as
JSON Lines and through `optimize log`.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from conftest import SLOW_DEDUPE, Runner

from pipeline.runlog import RunLog, read_events


def _runs(project: Path) -> list[Path]:
    return sorted((project / ".optimize_cache" / "runs").glob("*.jsonl"))


def _events(path: Path, kind: str) -> list[dict[str, Any]]:
    return [e for e in read_events(path) if e["event"] == kind]


def test_every_run_logs_stages_and_candidates(project: Path, run_cli: Runner) -> None:
    (project / "tags.py").write_text(SLOW_DEDUPE, encoding="utf-8")
    assert run_cli("tags.py", "--jobs", "1", cwd=project).returncode == 0
    [log] = _runs(project)
    assert re.fullmatch(r"\d{8}T\d{6}\.\d{6}Z\.jsonl", log.name), log.name

    [start] = _events(log, "run")
    assert start["argv"][1:] == ["tags.py", "--jobs", "1"]
    assert start["python"].startswith("CPython 3.") and start["sandbox"]
    assert start["settings"]["config"]["verify"]["max_examples"] == 50

    stages = {e["stage"] for e in _events(log, "stage")}
    assert stages == {"parse", "analyze", "rewrite", "verify", "measure"}

    [candidate] = _events(log, "candidate")
    assert candidate["function"] == "unique_tags" and candidate["rules"] == ["OPT103"]
    assert candidate["origin"] == "pass" and candidate["model"] is None
    assert candidate["source_sha256"] == hashlib.sha256(SLOW_DEDUPE.encode()).hexdigest()
    assert candidate["verdict"]["status"] == "equivalent"
    assert candidate["verdict"]["examples"] > 0
    assert candidate["accepted"] is True and candidate["cached"] is False
    sizes = [s["size"] for s in candidate["timing"]["sizes"]]
    assert sizes[0] == 10 and sizes[-1] == 1000  # the configured sizes bound the inputs
    assert candidate["sandbox"] == start["sandbox"]
    assert set(candidate["seconds"]) == {"verify", "measure"}

    [file_event] = _events(log, "file")
    assert file_event["functions"] == ["unique_tags"] and file_event["accepted"] == 1
    [end] = _events(log, "end")
    assert end["exit_code"] == 0 and end["totals"]["accepted"] == 1

    # The second run's verdict comes from the cache, and the log says so.
    assert run_cli("tags.py", cwd=project).returncode == 0
    [cached] = _events(_runs(project)[-1], "candidate")
    assert cached["cached"] is True and cached["seconds"] == {}


def test_optimize_log_summarises_runs(project: Path, run_cli: Runner) -> None:
    (project / "tags.py").write_text(SLOW_DEDUPE, encoding="utf-8")
    assert run_cli("log", cwd=project).returncode == 2  # nothing logged yet
    assert run_cli("tags.py", cwd=project).returncode == 0  # verified and timed
    assert run_cli("tags.py", "--check", cwd=project).returncode == 1  # from the cache

    listing = run_cli("log", cwd=project)
    assert listing.returncode == 0, listing.stderr
    lines = listing.stdout.splitlines()
    assert len(lines) == 2
    assert "optimize tags.py  1 accepted of 1 candidate(s) in 1 function(s)" in lines[0]
    assert lines[1].endswith("exit 1")

    last = run_cli("log", "--last", cwd=project)
    assert last.returncode == 0, last.stderr
    text = last.stdout
    assert "optimize tags.py --check" in text
    assert "tags.py:1 unique_tags  OPT103 (pass) accepted: verified and faster" in text
    assert re.search(r"verdict equivalent on \d+ example\(s\) \(inputs from: .+\); cached", text)
    ratio = r"\S+× \[\S+, \S+\]"
    small, large = rf"n=10: {ratio} \(\w[\w ]*, \d+ samples\)", rf"n=1000: {ratio} \(faster, \d+"
    assert re.search(rf"timing: {small}, .*{large} samples\)", text)  # samples per size
    assert "1 verified speedup(s) found; 1 function(s) examined" in text

    first = run_cli("log", _runs(project)[0].name, cwd=project)
    assert re.search(r"verify \d+\.\d s, measure \d+\.\d s", first.stdout), first.stdout
    assert "stage times: parse" in first.stdout
    missing = run_cli("log", "nope.jsonl", cwd=project)
    assert missing.returncode == 2 and "nope.jsonl: no such run" in missing.stderr


def test_old_runs_are_rotated_out(project: Path, run_cli: Runner) -> None:
    runs = project / ".optimize_cache" / "runs"
    runs.mkdir(parents=True)
    for day in range(1, 61):
        (runs / f"2020{day // 28 + 1:02d}{day % 28 + 1:02d}T000000.000000Z.jsonl").write_text("")
    (project / "plain.py").write_text("def f(a: int) -> int:\n    return a\n", encoding="utf-8")
    assert run_cli("plain.py", cwd=project).returncode == 0
    kept = sorted(runs.glob("*.jsonl"))
    assert len(kept) == 50
    assert kept[-1].name.startswith("20") and not kept[-1].name.startswith("2020")
    assert (runs / ".gitignore").read_text(encoding="utf-8").endswith("*\n")


def test_a_run_stops_logging_at_its_size_cap(tmp_path: Path) -> None:
    log = RunLog(tmp_path, model="m", max_bytes=2_000)
    for index in range(100):
        log.event("stage", path=f"file{index}.py", stage="parse", seconds=0.1)
    log.end(exit_code=0)
    assert log.path is not None
    text = log.path.read_text(encoding="utf-8")
    events = [json.loads(line) for line in text.splitlines()]
    assert len(text.encode()) < 2_000 + 200  # the cap, plus the final "end" event
    assert [e["event"] for e in events[-2:]] == ["truncated", "end"]


def test_a_model_rewrite_logs_the_model_counterexample_and_tokens(tmp_path: Path) -> None:
    """A scripted endpoint (tests/llm_server.py) proposes a wrong rewrite, then a repair."""
    from llm_server import LLMServer
    from test_llm import CORRECT, MOST_FREQUENT, WRONG, analysis, optimize, project, proposals

    target = project(tmp_path, MOST_FREQUENT)
    with LLMServer() as server:
        server.add("function_analysis", analysis())
        server.add("rewrite_proposals", proposals(WRONG))
        server.add("rewrite_repair", CORRECT)
        done = optimize(target, server, "--function", "most_frequent")
    assert done.returncode == 0, done.stderr
    [log] = _runs(tmp_path)
    wrong, repaired = [e for e in _events(log, "candidate") if e["origin"] == "llm"]
    assert wrong["model"] == repaired["model"] == "test-model"
    assert wrong["verdict"]["status"] == "counterexample"
    assert wrong["verdict"]["counterexample"]["arguments"] == "values=[]"
    assert repaired["rules"] == ["LLM", "repair"]
    [file_event] = _events(log, "file")
    assert file_event["llm_tokens"] > 0

    shown = subprocess.run(
        [sys.executable, "-m", "pipeline", "log", "--last"],
        cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    assert "LLM (model test-model) rejected: behaviour differs" in shown.stdout
    assert "counterexample: input values=[]" in shown.stdout and "IndexError" in shown.stdout
    assert re.search(r"\d+ candidate\(s\), \d accepted, \d+ LLM token\(s\)", shown.stdout)


def test_a_no_verify_scan_is_logged_as_a_scan(project: Path, run_cli: Runner) -> None:
    (project / "tags.py").write_text(SLOW_DEDUPE, encoding="utf-8")
    assert run_cli("tags.py", "--no-verify", "--check", cwd=project).returncode == 1
    [log] = _runs(project)
    [file_event] = _events(log, "file")
    assert file_event["candidates"] == 1 and _events(log, "candidate") == []
    shown = run_cli("log", "--last", cwd=project)
    assert "scan only (--no-verify): 1 unverified candidate(s) in 1 file(s)" in shown.stdout
