"""Which functions and methods a git diff touched, per file.

Used by the pre-commit hook (`--staged`: the index against HEAD) and by
`optimize review --base REF` (the working tree against the merge base), so
that only functions someone changed are analysed.
"""

from __future__ import annotations

import ast
import re
import subprocess
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

LineRange = tuple[int, int]

_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@")
_NEW_FILE = re.compile(r"^\+\+\+ (?:b/)?(.*)$")


class GitError(Exception):
    """git could not answer; the message is one line."""


def git(root: Path, *args: str) -> str:
    try:
        done = subprocess.run(
            ["git", "-C", str(root), *args],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise GitError(f"git {args[0]}: {error}") from error
    if done.returncode != 0:
        first = (done.stderr.strip().splitlines() or ["failed"])[0]
        raise GitError(f"git {args[0]}: {first}")
    return done.stdout


def repository_root(start: Path) -> Path:
    directory = start if start.is_dir() else start.parent
    return Path(git(directory, "rev-parse", "--show-toplevel").strip()).resolve()


def changed_lines(diff: str) -> dict[str, list[LineRange]]:
    """New-side line ranges per path from a `git diff -U0` text.

    A pure deletion (`+N,0`) becomes the line it follows, so the function that
    lost lines counts as changed (and sometimes its neighbour: harmless extra work).
    """
    ranges: dict[str, list[LineRange]] = {}
    current: list[LineRange] | None = None
    for line in diff.splitlines():
        new_file = _NEW_FILE.match(line)
        if new_file:
            path = new_file.group(1)
            current = None if path == "/dev/null" else ranges.setdefault(path, [])
            continue
        hunk = _HUNK.match(line)
        if hunk and current is not None:
            start, count = int(hunk.group(1)), int(hunk.group(2) or "1")
            current.append((start, start + count - 1) if count else (max(start, 1), max(start, 1)))
    return ranges


def functions_touched(source: str, ranges: Iterable[LineRange]) -> tuple[str, ...]:
    """Qualnames of the module-level functions and methods (decorators included) that
    overlap any range; a change inside a nested function counts for the one around it."""
    from pipeline.stages.defs import inventory, span  # (it loads libcst)

    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return ()  # the optimise run reports the syntax error itself
    spans = [(site.qualname, *span(site.node)) for site in inventory(tree) if site.is_unit]
    wanted = list(ranges)
    return tuple(
        name for name, first, last in spans if any(a <= last and b >= first for a, b in wanted)
    )


def staged_functions(files: Iterable[Path]) -> dict[Path, tuple[str, ...]]:
    """For each given file with staged changes: the functions those changes touch.

    Lines are mapped on the staged blob (`git show :path`), which is what a
    commit would record even when the working tree holds unstaged edits.
    """
    files = list(files)
    if not files:
        return {}
    root = repository_root(files[0].resolve())
    diff = git(root, "diff", "--cached", "-U0", "--no-color", "--no-ext-diff", "--",
               *(str(f.resolve()) for f in files))  # fmt: skip
    return _by_file(root, files, changed_lines(diff), lambda rel: git(root, "show", f":{rel}"))


def functions_since(root: Path, base: str) -> dict[Path, tuple[str, ...]]:
    """Python files changed since the merge base of `base` and HEAD, with touched functions."""
    merge_base = git(root, "merge-base", base, "HEAD").strip()
    diff = git(root, "diff", merge_base, "-U0", "--no-color", "--no-ext-diff", "--", "*.py")
    ranges = changed_lines(diff)
    files = [root / rel for rel in ranges if (root / rel).is_file()]
    return _by_file(root, files, ranges, lambda rel: (root / rel).read_text(encoding="utf-8"))


def _by_file(
    root: Path,
    files: list[Path],
    ranges: Mapping[str, list[LineRange]],
    read: Callable[[str], str],
) -> dict[Path, tuple[str, ...]]:
    found: dict[Path, tuple[str, ...]] = {}
    for path in files:
        relative = path.resolve().relative_to(root).as_posix()
        if relative not in ranges:
            continue
        try:
            names = functions_touched(read(relative), ranges[relative])
        except (GitError, OSError, UnicodeDecodeError):
            continue  # unreadable: the optimise run reports it when the file is passed
        if names:
            found[path] = names
    return found
