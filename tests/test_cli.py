"""The spine end to end: `optimize` as a real subprocess on real files."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import Runner

SLOW_MEMBERSHIP = """\
def count_vowels(text: str) -> int:
    total = 0
    for ch in text:
        if ch in ["a", "e", "i", "o", "u", "A", "E", "I", "O", "U"]:
            total += 1
    return total
"""


def test_examples_find_verified_timed_rewrites_and_write_is_idempotent(
    example_project: Path, run_cli: Runner
) -> None:
    target = example_project / "examples" / "slow_report.py"
    found = run_cli("examples", "--json", cwd=example_project)
    assert found.returncode == 0, found.stderr
    report = json.loads(found.stdout)
    accepted = [o for f in report["files"] for o in f["outcomes"] if o["accepted"]]
    assert len(accepted) >= 1
    for outcome in accepted:
        assert outcome["verdict"]["status"] == "equivalent"
        assert outcome["verdict"]["examples"] > 0
        assert outcome["timing"]["sizes"][-1]["decision"] == "faster"
        assert outcome["timing"]["ci95"][0] > 1.0
        assert outcome["diff"].startswith("--- a/")

    assert run_cli("examples", "--write", cwd=example_project).returncode == 0
    written = target.read_bytes()
    assert written != (Path(__file__).parent.parent / "examples" / "slow_report.py").read_bytes()
    compile(written, str(target), "exec")

    check = run_cli("examples", "--check", cwd=example_project)
    assert check.returncode == 0, check.stdout
    assert run_cli("examples", "--write", cwd=example_project).returncode == 0
    assert target.read_bytes() == written


def test_check_exits_1_and_writes_nothing(project: Path, run_cli: Runner) -> None:
    source = project / "vowels.py"
    source.write_text(SLOW_MEMBERSHIP, encoding="utf-8")
    result = run_cli("vowels.py", "--check", cwd=project)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "OPT106" in result.stdout
    assert "×" in result.stdout
    assert source.read_text(encoding="utf-8") == SLOW_MEMBERSHIP


def test_diff_prints_only_a_unified_diff(project: Path, run_cli: Runner) -> None:
    (project / "vowels.py").write_text(SLOW_MEMBERSHIP, encoding="utf-8")
    result = run_cli("vowels.py", "--diff", cwd=project)
    assert result.returncode == 0
    assert result.stdout.startswith("--- a/vowels.py\n+++ b/vowels.py\n@@")
    assert '+        if ch in {"a", "e", "i", "o", "u", "A", "E", "I", "O", "U"}:' in result.stdout


def test_syntax_error_is_one_line_exit_2_and_file_unchanged(project: Path, run_cli: Runner) -> None:
    broken = project / "broken.py"
    original = b"def f(x: int) -> int:\n    return x +\n"
    broken.write_bytes(original)
    result = run_cli("broken.py", "--write", cwd=project)
    assert result.returncode == 2
    errors = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(errors) == 1
    assert "broken.py:2:" in errors[0] and "syntax error" in errors[0]
    assert broken.read_bytes() == original


def test_missing_path_exits_2(project: Path, run_cli: Runner) -> None:
    result = run_cli("nowhere.py", cwd=project)
    assert result.returncode == 2
    assert "nowhere.py: no such file or directory" in result.stderr


def test_nothing_to_do_exits_0_and_keeps_bytes(project: Path, run_cli: Runner) -> None:
    clean = project / "clean.py"
    original = b"# -*- coding: latin-1 -*-\r\ndef f(x: int) -> int:\r\n    return x + 1  # \xe9\r\n"
    clean.write_bytes(original)
    result = run_cli("clean.py", "--write", cwd=project)
    assert result.returncode == 0, result.stderr
    assert clean.read_bytes() == original


def test_json_shape(project: Path, run_cli: Runner) -> None:
    (project / "vowels.py").write_text(SLOW_MEMBERSHIP, encoding="utf-8")
    report = json.loads(run_cli("vowels.py", "--json", cwd=project).stdout)
    assert report["version"] == 1
    (file_report,) = report["files"]
    assert file_report["path"] == "vowels.py" and file_report["error"] is None
    (outcome,) = file_report["outcomes"]
    assert outcome["function"] == "count_vowels" and outcome["rules"] == ["OPT106"]
    timing = outcome["timing"]
    assert set(timing) >= {"speedup", "ci95", "floor", "python", "isolation", "sizes"}
    sizes = [s["size"] for s in timing["sizes"]]
    assert sizes[0] == 10 and sizes[-1] == 1000  # the configured sizes are the caps
    assert timing["python"].startswith("CPython 3.")


def test_select_and_ignore_choose_passes(project: Path, run_cli: Runner) -> None:
    (project / "vowels.py").write_text(SLOW_MEMBERSHIP, encoding="utf-8")
    ignored = json.loads(run_cli("vowels.py", "--json", "--ignore", "OPT106", cwd=project).stdout)
    assert ignored["files"][0]["outcomes"] == []
    selected = json.loads(run_cli("vowels.py", "--json", "--select", "OPT1", cwd=project).stdout)
    assert selected["files"][0]["outcomes"][0]["rules"] == ["OPT106"]


def test_list_passes_and_explain(project: Path, run_cli: Runner) -> None:
    listing = run_cli("--list-passes", cwd=project)
    assert listing.returncode == 0
    assert "OPT101  str-concat-in-loop" in listing.stdout
    explained = run_cli("--explain", "OPT101", cwd=project)
    assert "Fix safety:" in explained.stdout
    assert run_cli("--explain", "OPT999", cwd=project).returncode == 2


def test_help_describes_the_tool(project: Path, run_cli: Runner) -> None:
    result = run_cli("--help", cwd=project)
    assert result.returncode == 0
    for flag in ("--write", "--check", "--diff", "--json", "--select", "--min-speedup"):
        assert flag in result.stdout
