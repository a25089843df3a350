"""The README's snippets work as written: the pre-commit configurations, every
`optimize` command line in it and in the CI examples, and the licence it names.

The `repo: local` hook runs for real in a temp git repo; the pinned-commit hook
is installed by pre-commit from a clone of this repository (slow: pip install).
"""

from __future__ import annotations

import hashlib
import os
import re
import shlex
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from conftest import FAST_PYPROJECT, REPO, slow_counter

from pipeline.cli.main import build_parser, with_default_command

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

README = (REPO / "README.md").read_text(encoding="utf-8")
PRE_COMMIT = Path(sys.executable).with_name("pre-commit")
APACHE_2_0_MD5 = "3b83ef96387f14655fc854ddc3c6bd57"  # apache.org/licenses/LICENSE-2.0.txt


def _blocks(language: str, text: str = README) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", text, re.DOTALL)


def _pre_commit_config(marker: str) -> str:
    [block] = [b for b in _blocks("yaml") if "# .pre-commit-config.yaml" in b and marker in b]
    return block


@pytest.fixture
def private_tmp() -> Iterator[Path]:
    """Outside pytest's basetemp, which other sessions on a shared machine may prune."""
    with tempfile.TemporaryDirectory(prefix="optimize-readme-") as directory:
        yield Path(directory)


def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True,
                          check=True)  # fmt: skip
    return done.stdout.strip()


def _repo_with_slow_code(path: Path, config: str) -> Path:
    path.mkdir()
    _git(path, "init", "-q", "-b", "main")
    _git(path, "config", "user.email", "test@example.com")
    _git(path, "config", "user.name", "test")
    (path / "pyproject.toml").write_text(FAST_PYPROJECT, encoding="utf-8")
    (path / ".pre-commit-config.yaml").write_text(config, encoding="utf-8")
    (path / "slow.py").write_text(slow_counter("weekend"), encoding="utf-8")
    _git(path, "add", ".")
    return path


def _pre_commit(repo: Path, home: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "PRE_COMMIT_HOME": str(home),
        "OPTIMIZE_CACHE_DIR": str(repo / ".cache"),
    }
    return subprocess.run(
        [str(PRE_COMMIT), "run", "--files", "slow.py"],
        cwd=repo, env=env, capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip


def test_local_hook_snippet_works_as_written(private_tmp: Path) -> None:
    config = _pre_commit_config("repo: local")
    repo = _repo_with_slow_code(private_tmp / "repo", config)
    done = _pre_commit(repo, private_tmp / "home")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "optimize (verified speedups)" in done.stdout and "Failed" in done.stdout
    assert "count_weekend" in done.stdout and "OPT106" in done.stdout


@pytest.mark.slow
def test_pinned_commit_hook_snippet_installs_and_runs(private_tmp: Path) -> None:
    clone = private_tmp / "optimize"
    subprocess.run(["git", "clone", "-q", str(REPO), str(clone)], check=True)
    commit = _git(clone, "rev-parse", "HEAD")
    assert re.fullmatch(r"[0-9a-f]{40}", commit)
    snippet = _pre_commit_config("rev: COMMIT_SHA")
    config = snippet.replace("https://github.com/OWNER/optimize", str(clone)).replace(
        "COMMIT_SHA", commit
    )
    repo = _repo_with_slow_code(private_tmp / "repo", config)
    done = _pre_commit(repo, private_tmp / "home")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "count_weekend" in done.stdout and "OPT106" in done.stdout


def _command_lines(text: str) -> list[str]:
    """`optimize ...` invocations in shell text, without comments, pipes or redirections."""
    text = text.replace("${{ matrix.shard }}", "1").replace("${{ github.base_ref }}", "main")
    commands = []
    for line in text.splitlines():
        line = line.strip()
        if not line.startswith("optimize "):
            continue
        words = shlex.split(line, comments=True)
        for stop in ("|", ">", "2>"):
            if stop in words:
                words = words[: words.index(stop)]
        commands.append(words[1:])
    return commands


def _run_steps(path: Path) -> str:
    """The shell text of a workflow's `run` steps (YAML has already joined folded lines)."""
    workflow = yaml.safe_load(path.read_text(encoding="utf-8"))
    steps = [step for job in workflow["jobs"].values() for step in job["steps"]]
    return "\n".join(step["run"] for step in steps if "run" in step)


def test_every_command_line_in_the_readme_and_examples_parses() -> None:
    parser, commands = build_parser()
    texts = ["\n".join(_blocks("bash")), "\n".join(_blocks("yaml"))]
    texts += [_run_steps(path) for path in sorted((REPO / "examples").glob("*.yml"))]
    found = [words for text in texts for words in _command_lines(text)]
    assert len(found) > 20
    for words in found:
        try:
            parser.parse_args(with_default_command(words, commands))
        except SystemExit as error:
            if error.code == 0:  # --version, --help
                continue
            pytest.fail(f"`optimize {' '.join(words)}` does not parse (exit {error.code})")
    verbs = {words[0] for words in found}
    assert {"review", "merge", "verify", "log"} <= verbs


def test_ci_examples_pin_a_commit_the_way_the_readme_says() -> None:
    for path in sorted((REPO / "examples").glob("*.yml")):
        workflow = yaml.safe_load(path.read_text(encoding="utf-8"))
        spec = workflow["env"]["OPTIMIZE_PIP"]
        assert spec == "optimize @ git+https://github.com/OWNER/optimize@COMMIT_SHA", path
    assert "Replace `OWNER`" in README and "`COMMIT_SHA`" in README
    assert "v0.1.0" not in _pre_commit_config("rev:")  # no tag exists yet


def test_license_is_the_apache_2_0_text_the_package_declares() -> None:
    license_text = (REPO / "LICENSE").read_bytes()
    assert hashlib.md5(license_text).hexdigest() == APACHE_2_0_MD5
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["license"] == "Apache-2.0"
    assert project["license-files"] == ["LICENSE"]
    assert "[`LICENSE`](LICENSE)" in README


def test_readme_says_chromium_is_needed_and_how_to_install_it() -> None:
    assert "apt-get install chromium" in README
    test_source = (REPO / "tests" / "test_html_report.py").read_text(encoding="utf-8")
    assert "apt-get install chromium" in test_source  # the skip reason says the same
