"""The user's own pytest tests as a second check on an equivalent rewrite.

Test files that import the rewritten module run on a copy of the project with
the rewrite applied, in the sandbox, time-boxed. A test that fails with the
rewrite rejects it, unless the same test also fails on the untouched copy
(then the failure says nothing about the rewrite).
"""

from __future__ import annotations

import ast
import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path

from pipeline.config import DEFAULT_EXCLUDE, Config
from pipeline.model import Candidate
from pipeline.sandbox.child.protocol import ProjectTestsRequest, Status
from pipeline.sandbox.child.protocol import ProjectTestsResult as ChildReport
from pipeline.sandbox.runner import run_job

MAX_FILES = 3_000
MAX_BYTES = 30 << 20
MAX_TEST_FILES = 50
PROJECT_FILES = ("pyproject.toml", "setup.cfg", "pytest.ini", "tox.ini")


@dataclass(frozen=True)
class ProjectTestsResult:
    """`failed` names tests broken by the rewrite; `note` explains a skip or a timeout."""

    ran: bool
    failed: tuple[str, ...] = ()
    note: str = ""


def check_project_tests(candidate: Candidate, config: Config) -> ProjectTestsResult:
    root = candidate.project_root
    if root is None or not config.verify.run_project_tests:
        return ProjectTestsResult(False, note="project tests not requested")
    module_path = _module_path(root, candidate.module_name)
    if module_path is None:
        return ProjectTestsResult(False, note="module file not found in the project")
    tests = tests_touching(root, candidate.module_name, config.exclude)
    if not tests:
        return ProjectTestsResult(False, note="no project tests import the module")
    files = _project_files(root, config.exclude)
    if files is None:
        return ProjectTestsResult(False, note="project too large to copy for its tests")
    relative_module = module_path.relative_to(root).as_posix()
    with_rewrite = {**files, relative_module: candidate.module_code}
    rewritten, problem = _run(with_rewrite, tests, config)
    if rewritten is None:
        return ProjectTestsResult(False, note=f"project tests not run: {problem}")
    broken = [test for test, outcome in rewritten.items() if outcome == "failed"]
    if not broken:
        return ProjectTestsResult(True)
    baseline, _ = _run({**files, relative_module: candidate.original_code}, tests, config)
    baseline = baseline or {}
    regressions = tuple(test for test in broken if baseline.get(test) == "passed")
    return ProjectTestsResult(True, failed=regressions)


def tests_touching(root: Path, module_name: str, exclude: tuple[str, ...] = ()) -> list[str]:
    """Relative paths of pytest files under `root` that import `module_name`."""
    found = []
    for path in _walk(root, exclude):
        if not (path.name.startswith("test_") or path.stem.endswith("_test")):
            continue
        if path.suffix == ".py" and _imports(path, module_name):
            found.append(path.relative_to(root).as_posix())
        if len(found) >= MAX_TEST_FILES:
            break
    return sorted(found)


def _imports(path: Path, module_name: str) -> bool:
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, SyntaxError, ValueError):
        return False
    package, _, stem = module_name.rpartition(".")
    for node in ast.walk(tree):
        if isinstance(node, ast.Import) and any(
            alias.name == module_name or alias.name.startswith(module_name + ".")
            for alias in node.names
        ):
            return True
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == module_name or node.module.startswith(module_name + "."):
                return True
            if package and node.module == package and any(a.name == stem for a in node.names):
                return True
    return False


def _module_path(root: Path, module_name: str) -> Path | None:
    base = root.joinpath(*module_name.split("."))
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


def _walk(root: Path, exclude: tuple[str, ...]) -> Iterator[Path]:
    patterns = (*DEFAULT_EXCLUDE, *exclude)
    for path in sorted(root.rglob("*")):
        parts = path.relative_to(root).parts
        if any(fnmatch(part, pattern) for part in parts for pattern in patterns):
            continue
        if path.is_file():
            yield path


def _project_files(root: Path, exclude: tuple[str, ...]) -> dict[str, str] | None:
    files: dict[str, str] = {}
    total = 0
    for path in _walk(root, exclude):
        if path.suffix != ".py" and path.name not in PROJECT_FILES:
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        total += len(text)
        files[path.relative_to(root).as_posix()] = text
        if len(files) > MAX_FILES or total > MAX_BYTES:
            return None
    return files


def _run(
    files: dict[str, str], tests: list[str], config: Config
) -> tuple[dict[str, str] | None, str]:
    """Each test's outcome ("passed", "failed", "skipped"), or None and why there are none."""
    request = ProjectTestsRequest(root="project", tests=tuple(tests), sys_path=("project",))
    sources = {f"project/{relative}": text for relative, text in files.items()}
    timeout = config.verify.project_tests_timeout
    limits = dataclasses.replace(
        config.limits, wall_seconds=timeout, cpu_seconds=max(1, int(timeout))
    )
    job = run_job(request, sources, limits, ChildReport)
    if job.result is None:
        return None, job.reason
    if job.result.status != Status.OK:
        return None, job.result.detail or "the test runner failed"
    return dict(job.result.outcomes), ""
