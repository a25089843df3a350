"""Bad configuration and bad flags fail loudly and cleanly: one line, exit 2, nothing checked.

Every case runs the real CLI in a subprocess; none of them needs the sandbox,
because the error is found before any work starts.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import FAST_PYPROJECT, Runner

TYPED = "def double(values: list[int]) -> list[int]:\n    return [v * 2 for v in values]\n"


def _one_error_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    return lines[0]


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        (
            '[tool.optimize]\nmin-speedup = "fast"\n',
            '[tool.optimize] min-speedup: expected a number, got "fast"',
        ),
        (
            "[tool.optimize]\nbogus = 1\n",
            "[tool.optimize] bogus: unknown key",
        ),
        (
            "[tool.optimize]\nmin-sped = 1.2\n",
            "[tool.optimize] min-sped: unknown key (did you mean 'min-speedup'?)",
        ),
        (
            "[tool.optimize.timing]\npairz = 3\n",
            "[tool.optimize.timing] pairz: unknown key (did you mean 'pairs'?)",
        ),
        (
            '[tool.optimize.timing]\nsizes = [10, "big"]\n',
            '[tool.optimize.timing] sizes: expected a list of integers, got a list [10, "big"]',
        ),
        (
            "[tool.optimize.verify]\nmax_examples = 0\n",
            "[tool.optimize.verify] max_examples: expected more than zero, got 0",
        ),
        (
            "[tool.optimize]\nmin-speedup = 0.5\n",
            "[tool.optimize] min-speedup: expected a ratio of at least 1.0, got 0.5",
        ),
        (
            "[tool.optimize]\ntimming = {}\n",
            "[tool.optimize] timming: unknown key (did you mean 'timing'?)",
        ),
        (
            '[tool.optimize]\nselect = "OPT1"\n',
            '[tool.optimize] select: expected a list of strings, got "OPT1"',
        ),
        (
            '[tool.optimize]\nselect = ["OPT1O6"]\n',
            "[tool.optimize] select: unknown pass code 'OPT1O6' (did you mean 'OPT106'?)",
        ),
        (
            "[tool.optimize.llm]\ntimeout = true\n",
            "[tool.optimize.llm] timeout: expected a number, got true",
        ),
        ("[tool.optimize\n", "pyproject.toml: cannot read:"),
    ],
)
def test_config_error_is_one_line_naming_file_table_and_key(
    tmp_path: Path, run_cli: Runner, table: str, expected: str
) -> None:
    (tmp_path / "pyproject.toml").write_text(table, encoding="utf-8")
    (tmp_path / "double.py").write_text(TYPED, encoding="utf-8")
    done = run_cli("double.py", cwd=tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr
    line = _one_error_line(done.stderr)
    assert line.startswith("optimize: error: pyproject.toml:"), line
    assert expected in line, line
    assert "Traceback" not in done.stderr and done.stdout == ""


def test_config_error_fails_review_and_verify_the_same_way(tmp_path: Path, run_cli: Runner) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.optimize]\nmin-speedup = "x"\n')
    (tmp_path / "double.py").write_text(TYPED, encoding="utf-8")
    verify = run_cli("verify", "double.py::double", "double.py::double", cwd=tmp_path)
    assert verify.returncode == 2
    assert "min-speedup: expected a number" in _one_error_line(verify.stderr)


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        (("--select", "OPT999"), "--select: unknown pass code 'OPT999'"),
        (("--select", "OPT1O1"), "--select: unknown pass code 'OPT1O1' (did you mean 'OPT101'?)"),
        (("--ignore", "PERF401"), "--ignore: unknown pass code 'PERF401'"),
        (
            ("--function", "dubble"),
            "--function dubble: no module-level function of that name (did you mean 'double'?)",
        ),
        (("--function", "nothing_like_it"), "--function nothing_like_it: no module-level"),
        (("--no-verify", "--function", "dubble"), "--function dubble: no module-level"),
        (("--min-speedup", "0.9"), "--min-speedup: expected a ratio of at least 1.0"),
        (("--json", "--diff"), "--json and --diff would both write to stdout"),
        (("--json", "--sarif", "-"), "--json and --sarif - would both write to stdout"),
    ],
)
def test_bad_flags_exit_2_before_any_work(
    project: Path, run_cli: Runner, flags: tuple[str, ...], expected: str
) -> None:
    (project / "double.py").write_text(TYPED, encoding="utf-8")
    done = run_cli("double.py", *flags, cwd=project)
    assert done.returncode == 2, done.stdout + done.stderr
    line = _one_error_line(done.stderr)
    assert expected in line, line
    assert not (project / ".optimize_cache" / "verdicts").exists()  # nothing was verified


def test_known_codes_and_prefixes_are_accepted(project: Path, run_cli: Runner) -> None:
    (project / "double.py").write_text(TYPED, encoding="utf-8")
    done = run_cli("double.py", "--select", "OPT1,OPT2", "--ignore", "OPT101", cwd=project)
    assert done.returncode == 0, done.stderr


def test_version(project: Path, run_cli: Runner) -> None:
    done = run_cli("--version", cwd=project)
    assert done.returncode == 0
    assert done.stdout.strip() == "optimize 0.1.0"


def test_directory_without_python_files_warns(project: Path, run_cli: Runner) -> None:
    (project / "docs").mkdir()
    (project / "docs" / "index.md").write_text("# docs\n")
    done = run_cli("docs", cwd=project)
    assert done.returncode == 0, done.stderr
    assert "optimize: warning: docs: no Python files found" in done.stderr
    assert "0 function(s) examined in 0 file(s)" in done.stdout


def test_subcommands_share_one_parser_and_exit_codes(project: Path, run_cli: Runner) -> None:
    top = run_cli("--help", cwd=project)
    assert top.returncode == 0
    for command in ("optimize verify", "optimize review", "optimize log", "optimize merge"):
        assert command in top.stdout
    for command in ("verify", "review", "log", "merge", "run"):
        assert run_cli(command, "--help", cwd=project).returncode == 0
    assert run_cli("review", cwd=project).returncode == 2  # --base is required
    unknown = run_cli("--no-such-flag", "x.py", cwd=project)
    assert unknown.returncode == 2 and "unrecognized arguments" in unknown.stderr


def test_fast_pyproject_is_valid(project: Path, run_cli: Runner) -> None:
    """The suite's own config passes the checks (a guard for every other test)."""
    assert (project / "pyproject.toml").read_text() == FAST_PYPROJECT
    (project / "double.py").write_text(TYPED, encoding="utf-8")
    assert run_cli("double.py", cwd=project).returncode == 0
