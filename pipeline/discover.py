"""Expanding command-line paths into Python files, the way Ruff and Black do."""

from __future__ import annotations

import fnmatch
import os
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from pipeline.config import DEFAULT_EXCLUDE
from pipeline.testcode import PytestFiles


@dataclass(frozen=True)
class Discovered:
    """What the command-line paths expand to."""

    files: list[Path]
    errors: list[str]  # one line per path that cannot be walked
    test_files_skipped: int = 0  # test code found by walking, left alone


def discover(
    paths: Sequence[Path],
    exclude: Iterable[str],
    tests: PytestFiles | None = None,
    root: Path | None = None,
) -> Discovered:
    """Files to optimise, and one-line errors for paths that cannot be walked.

    Files named explicitly are always taken; files found by walking a directory
    skip excluded names, whatever `.gitignore` ignores and, given `tests`, test
    code (`pipeline.testcode`) unless the directory named is a test directory
    itself (below `root`, the project root).
    """
    patterns = (*DEFAULT_EXCLUDE, *exclude)
    files: list[Path] = []
    errors: list[str] = []
    skipped: set[Path] = set()
    for path in paths:
        if path.is_dir():
            found = _not_git_ignored(_walk(path, patterns, errors))
            if tests is not None and not tests.is_test_directory(path, root or Path.cwd()):
                test_code = {f for f in found if tests.is_test_path(f.relative_to(path))}
                skipped |= test_code
                found = [f for f in found if f not in test_code]
            files.extend(found)
        else:
            files.append(path)  # missing or odd paths get their error from the parse stage
    kept = list(dict.fromkeys(files))
    return Discovered(kept, errors, len(skipped - set(kept)))


def _walk(root: Path, patterns: Sequence[str], errors: list[str]) -> list[Path]:
    def on_error(error: OSError) -> None:
        errors.append(f"{error.filename}: cannot read directory: {error.strerror}")

    found: list[Path] = []
    for directory, subdirs, names in os.walk(root, onerror=on_error):
        subdirs[:] = sorted(d for d in subdirs if not _excluded(d, patterns))
        found.extend(
            Path(directory, name)
            for name in sorted(names)
            if name.endswith(".py") and not _excluded(name, patterns)
            and Path(directory, name).stat().st_size > 0
        )
    return found


def _excluded(name: str, patterns: Sequence[str]) -> bool:
    return any(fnmatch.fnmatch(name, pattern) for pattern in patterns)


def _not_git_ignored(files: list[Path]) -> list[Path]:
    if not files:
        return files
    try:
        done = subprocess.run(
            ["git", "-C", str(files[0].parent), "check-ignore", "--stdin", "-z"],
            input="\0".join(str(f.resolve()) for f in files),
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return files
    if done.returncode not in (0, 1):  # 128: not a git repository
        return files
    ignored = {Path(p) for p in done.stdout.split("\0") if p}
    return [f for f in files if f.resolve() not in ignored]
