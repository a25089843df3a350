"""The pre-commit hook, run for real: `--staged` scoping, the verdict cache, and
`pre-commit try-repo` against this repository in a temp git repo.

`try-repo` builds the hook's environment the way users get it: pre-commit
clones the repository and pip-installs it with its dependencies from PyPI.
It is pointed at a clean clone of this repository's HEAD, so other people's
uncommitted edits in a shared work tree cannot break it (commit first to test
your own). `try-repo` always installs into a fresh temporary store
(PRE_COMMIT_HOME is not reused for it), so each of those tests pip-installs
the hook, one to three minutes; they are marked `slow` (`pytest -m "not slow"`
skips them).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import FAST_PYPROJECT

from pipeline import changes

ROOT = Path(__file__).resolve().parents[1]
OPTIMIZE = Path(sys.executable).with_name("optimize")
PRE_COMMIT = Path(sys.executable).with_name("pre-commit")


# A 16-way list scan inside a loop: several times faster as a set, robustly.
SLOW = """\
def count_weekend(days: list[str]) -> int:
    total = 0
    for day in days:
        if day in ["saturday", "sunday", "Saturday", "Sunday", "sat", "sun", "SAT", "SUN",
                   "Sat", "Sun", "weekend", "Weekend", "WEEKEND", "holiday", "Holiday", "off"]:
            total += 1
    return total


def mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0
"""

CLEAN = """\
def mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0
"""


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True,
                          check=True)  # fmt: skip
    return done.stdout


def new_repo(path: Path, files: dict[str, str]) -> Path:
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    git(path, "config", "user.email", "test@example.com")
    git(path, "config", "user.name", "test")
    (path / "pyproject.toml").write_text(FAST_PYPROJECT)
    for name, text in files.items():
        (path / name).write_text(text)
    git(path, "add", ".")
    return path


def run(repo: Path, cache: Path, *command: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, OPTIMIZE_CACHE_DIR=str(cache))
    return subprocess.run(list(command), cwd=repo, env=env, capture_output=True, text=True,
                          timeout=600, check=False)  # fmt: skip


def test_staged_functions_follow_the_diff_hunks(tmp_path: Path) -> None:
    source = "import os\n\n\ndef f():\n    a = 1\n    b = 2\n    return a\n\n\n" \
             "@staticmethod\ndef g():\n    return 1\n\n\ndef h():\n    return 2\n"  # fmt: skip
    repo = new_repo(tmp_path / "repo", {"m.py": source})
    git(repo, "commit", "-q", "-m", "one")
    edited = source.replace("    b = 2\n", "").replace("@staticmethod", "@classmethod")
    (repo / "m.py").write_text(edited + "\nX = 1\n")
    assert changes.staged_functions([repo / "m.py"]) == {}  # nothing staged yet
    git(repo, "add", "m.py")
    assert changes.staged_functions([repo / "m.py"]) == {repo / "m.py": ("f", "g")}


def test_staged_check_skips_unchanged_slow_functions_and_caches_verdicts(tmp_path: Path) -> None:
    repo, cache = new_repo(tmp_path / "repo", {"slow.py": SLOW}), tmp_path / "cache"
    git(repo, "commit", "-q", "-m", "slow code already committed")
    (repo / "slow.py").write_text(SLOW.replace("if values else 0.0", "if values else 0"))
    git(repo, "add", "slow.py")
    untouched = run(repo, cache, str(OPTIMIZE), "--check", "--staged", "slow.py")
    assert untouched.returncode == 0, untouched.stdout + untouched.stderr
    assert "count_weekend" not in untouched.stdout

    (repo / "slow.py").write_text(SLOW.replace("total += 1", "total = total + 1"))
    git(repo, "add", "slow.py")
    first = run(repo, cache, str(OPTIMIZE), "--json", "--staged", "slow.py")
    [outcome] = json.loads(first.stdout)["files"][0]["outcomes"]
    assert (outcome["function"], outcome["accepted"]) == ("count_weekend", True), outcome
    check = run(repo, cache, str(OPTIMIZE), "--check", "--staged", "slow.py")
    assert check.returncode == 1, check.stderr
    again = run(repo, cache, str(OPTIMIZE), "--json", "--staged", "slow.py")
    # A cache hit repeats the verdict with its timing; a fresh timing never matches exactly.
    # (Only the run's own wall time differs.)
    assert json.loads(again.stdout)["files"] == json.loads(first.stdout)["files"]
    assert json.loads(again.stdout)["totals"] == json.loads(first.stdout)["totals"]
    assert len(list(cache.rglob("*.json"))) == 1


def test_staged_outside_a_git_repository_is_a_one_line_error(tmp_path: Path) -> None:
    (tmp_path / "slow.py").write_text(SLOW)
    done = run(tmp_path, tmp_path / "cache", str(OPTIMIZE), "--check", "--staged", "slow.py")
    assert done.returncode == 2
    assert "optimize: error: --staged: git rev-parse:" in done.stderr


@pytest.fixture
def private_tmp() -> Iterator[Path]:
    """A temp dir outside pytest's basetemp: the try-repo tests run for minutes, and
    other pytest sessions on a shared machine prune old basetemps meanwhile."""
    with tempfile.TemporaryDirectory(prefix="optimize-hook-") as directory:
        yield Path(directory)


@pytest.fixture
def hook_source(private_tmp: Path) -> tuple[Path, Path]:
    """A clean clone of HEAD, and a PRE_COMMIT_HOME for pre-commit's own files."""
    clone = private_tmp / "optimize"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    return clone, private_tmp / "pre-commit-home"


def try_repo(repo: Path, hook: tuple[Path, Path], file: str) -> subprocess.CompletedProcess[str]:
    source, home = hook
    env = dict(os.environ, PRE_COMMIT_HOME=str(home), OPTIMIZE_CACHE_DIR=str(repo / ".cache"))
    # try-repo installs the hook under a mode-0700 temp dir: this also proves that the
    # sandbox (bubblewrap, as root) can still reach the child script from there.
    return subprocess.run(
        [str(PRE_COMMIT), "try-repo", str(source), "optimize", "--verbose", "--files", file],
        cwd=repo, env=env, capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip


@pytest.mark.slow
def test_pre_commit_hook_blocks_a_slow_function(
    private_tmp: Path, hook_source: tuple[Path, Path]
) -> None:
    repo = new_repo(private_tmp / "repo", {"slow.py": SLOW})
    done = try_repo(repo, hook_source, "slow.py")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "- hook id: optimize" in done.stdout
    assert "count_weekend" in done.stdout and "OPT106" in done.stdout
    assert "1 verified speedup(s) found" in done.stdout


@pytest.mark.slow
def test_pre_commit_hook_passes_clean_code(
    private_tmp: Path, hook_source: tuple[Path, Path]
) -> None:
    repo = new_repo(private_tmp / "repo", {"clean.py": CLEAN})
    done = try_repo(repo, hook_source, "clean.py")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "optimize (verified speedups)" in done.stdout and "Passed" in done.stdout
