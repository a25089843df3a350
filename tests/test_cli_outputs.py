"""What a run tells the user, and outputs that compose: the summary line, `--json` with
every mode, `--sarif -`/`--markdown -` on stdout, and where `--report` wrote.

Each test runs the real CLI in a subprocess on real files.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import jsonschema
from conftest import REPO, SLOW_DEDUPE, Runner

SCHEMA = Path(__file__).parent / "data" / "sarif-schema-2.1.0.json"


# Typed, but Hypothesis cannot build a Widget: the candidate is unverifiable.
WIDGET = """\
class Widget:
    def __init__(self, size):
        self.size = size


def count_vowels(text: str, widget: Widget) -> int:
    total = 0
    for ch in text:
        if ch in ["a", "e", "i", "o", "u", "A", "E", "I", "O", "U"]:
            total += 1
    return total
"""


def test_summary_says_what_happened_and_what_to_do_next(project: Path, run_cli: Runner) -> None:
    shutil.copy(REPO / "examples" / "slow_report.py", project / "slow_report.py")
    (project / "widget.py").write_text(WIDGET, encoding="utf-8")
    # Six functions: slow_report.py's four, Widget.__init__ and count_vowels.
    # At a 10x floor the 3-4x set-membership win in the example is rejected as not faster,
    # while its 100x+ list-used-as-set win is still accepted.
    done = run_cli("slow_report.py", "widget.py", "--min-speedup", "10", "--report", "r.html",
                   cwd=project)  # fmt: skip
    assert done.returncode == 0, done.stderr
    summary = re.search(
        r"^(\d) verified speedup\(s\) found; 6 function\(s\) examined in 2 file\(s\); "
        r"4 candidate\(s\): \1 accepted, (\d) rejected \((.*)\), 1 unverifiable; "
        r"\d+\.\d s; nothing written: run with --write$",
        done.stdout,
        re.MULTILINE,
    )
    assert summary, done.stdout
    assert int(summary[1]) >= 1 and int(summary[1]) + int(summary[2]) == 3
    assert "not faster" in summary[3]
    hint = (
        "1 candidate(s) could not be verified: run with -v to see why, then give it inputs "
        "with `optimize trace`, [tool.optimize.strategies] or an OPTIMIZE_INPUTS hook"
    )
    assert hint in done.stdout
    assert "optimize: wrote the HTML report to r.html" in done.stdout
    assert (project / "r.html").is_file()

    verbose = run_cli("widget.py", "-v", cwd=project)
    assert "ResolutionFailed" in verbose.stdout  # -v says why it could not be verified
    assert "run with -v" not in verbose.stdout
    assert "nothing written" not in verbose.stdout  # nothing was found, nothing to write


def test_json_composes_with_check_write_and_no_verify(project: Path, run_cli: Runner) -> None:
    source = project / "tags.py"
    source.write_text(SLOW_DEDUPE, encoding="utf-8")

    checked = run_cli("tags.py", "--json", "--check", cwd=project)
    assert checked.returncode == 1, checked.stderr
    report = json.loads(checked.stdout)
    assert report["totals"] == {
        "files": 1, "functions": 1, "candidates": 1, "accepted": 1, "rejected": {},
        "unverifiable": 0, "errors": 0, "llm_tokens": 0, "no_instance": 0,
        "import_failed": 0, "missing_modules": {}, "undecided": 0,
    }  # fmt: skip
    assert report["wall_seconds"] > 0
    assert report["python"].startswith("CPython 3.") and report["sandbox"] in (
        "bubblewrap", "unshare", "none",
    )  # fmt: skip
    settings = report["settings"]
    assert settings["mode"] == "check" and settings["verified"] is True
    assert settings["config"]["timing"]["sizes"] == [10, 1000]
    assert settings["config"]["source"].endswith("pyproject.toml")
    assert report["files"][0]["written"] is False
    assert "1 verified speedup(s) found" in checked.stderr  # the summary keeps off stdout
    assert source.read_text(encoding="utf-8") == SLOW_DEDUPE

    written = run_cli("tags.py", "--json", "--write", cwd=project)
    assert written.returncode == 0, written.stderr
    report = json.loads(written.stdout)
    assert report["settings"]["mode"] == "write"
    assert report["files"][0]["written"] is True
    assert "seen = set()" in source.read_text(encoding="utf-8")

    source.write_text(SLOW_DEDUPE, encoding="utf-8")
    scanned = run_cli("tags.py", "--json", "--no-verify", cwd=project)
    assert scanned.returncode == 0, scanned.stderr
    report = json.loads(scanned.stdout)
    assert report["settings"]["verified"] is False
    [outcome] = report["files"][0]["outcomes"]
    assert outcome["verdict"]["status"] == "not run" and not outcome["accepted"]


def test_sarif_and_markdown_to_stdout(project: Path, run_cli: Runner) -> None:
    (project / "tags.py").write_text(SLOW_DEDUPE, encoding="utf-8")
    sarif = run_cli("tags.py", "--sarif", "-", cwd=project)
    assert sarif.returncode == 0, sarif.stderr
    log = json.loads(sarif.stdout)  # nothing but the log on stdout
    jsonschema.validate(log, json.loads(SCHEMA.read_text(encoding="utf-8")))
    [result] = log["runs"][0]["results"]
    assert result["ruleId"] == "OPT103"
    assert not (project / "-").exists()

    markdown = run_cli("tags.py", "--markdown", "-", cwd=project)
    assert markdown.returncode == 0, markdown.stderr
    assert markdown.stdout.startswith("### optimize: 1 verified speedup\n")
    assert "verified speedup(s) found" in markdown.stderr
    assert not (project / "-").exists()


def test_review_writes_sarif_and_markdown_to_stdout(project: Path, run_cli: Runner) -> None:
    def git(*args: str) -> None:
        subprocess.run(["git", "-C", str(project), *args], check=True, capture_output=True)

    git("init", "-q", "-b", "main")
    git("config", "user.email", "test@example.com")
    git("config", "user.name", "test")
    git("add", ".")
    git("commit", "-q", "-m", "config")
    (project / "tags.py").write_text(SLOW_DEDUPE, encoding="utf-8")
    git("add", ".")
    git("commit", "-q", "-m", "slow code")

    sarif = run_cli("review", "--base", "HEAD~1", "--sarif", "-", cwd=project)
    assert sarif.returncode == 1, sarif.stderr
    [result] = json.loads(sarif.stdout)["runs"][0]["results"]
    assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "tags.py"
    assert "1 verified speedup(s) in 1 changed function(s)" in sarif.stderr

    markdown = run_cli("review", "--base", "HEAD~1", "--markdown", "-", "--exit-zero",
                       cwd=project)  # fmt: skip
    assert markdown.returncode == 0, markdown.stderr
    assert markdown.stdout.startswith("### optimize: 1 verified speedup\n")
    assert not (project / "-").exists()
