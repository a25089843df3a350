"""The host project's style, applied to the one function a candidate changes.

Line length comes from the project's `[tool.black]` or `[tool.ruff]` settings
(or `ruff.toml`), 88 by default. When the project configures Black or Ruff, the
formatter is installed, and it leaves the original function as it is (so the
project really formats with it), the changed function is formatted with it.
Otherwise the lines the rewrite made longer than that are wrapped the way Black
wraps them (see `wrapping`); a project that sets no line length and whose
function already has longer lines may have new lines as long. Either way the
result must parse to the same tree, and the text that is verified is the text
that is written.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from pipeline.config import find_pyproject
from pipeline.stages.defs import find_node, span
from pipeline.stages.wrapping import wrap_long_lines

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

DEFAULT_LINE_LENGTH = 88
FORMAT_TIMEOUT = 20.0


@dataclass(frozen=True)
class Style:
    line_length: int = DEFAULT_LINE_LENGTH
    # Argument lists that format stdin for `path` within a range, e.g. ruff's, in
    # the order to try them; empty when the project configures no formatter.
    formatters: tuple[tuple[str, ...], ...] = ()
    configured: bool = False  # the project sets `line-length`: keep to it strictly


def project_style(path: Path) -> Style:
    """The style of the project `path` belongs to (its nearest pyproject.toml)."""
    pyproject = find_pyproject(path)
    return _style_of(pyproject) if pyproject is not None else Style()


@cache
def _style_of(pyproject: Path) -> Style:
    try:
        tool = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("tool", {})
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return Style()
    black, ruff = tool.get("black"), tool.get("ruff")
    ruff_toml = next(
        (p for p in (pyproject.with_name("ruff.toml"), pyproject.with_name(".ruff.toml"))
         if p.is_file()),
        None,
    )  # fmt: skip
    if ruff_toml is not None:
        ruff = _read_toml(ruff_toml)
    length = _line_length(black) or _line_length(ruff)
    formatters: list[tuple[str, ...]] = []
    if isinstance(black, dict) and shutil.which("black"):
        formatters.append(("black", "--quiet", "--config", str(pyproject)))
    if isinstance(ruff, dict) and shutil.which("ruff"):
        formatters.append(("ruff", "format", "--quiet"))
    return Style(length or DEFAULT_LINE_LENGTH, tuple(formatters), configured=bool(length))


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return {}


def _line_length(table: object) -> int | None:
    value = table.get("line-length") if isinstance(table, dict) else None
    return value if isinstance(value, int) and value > 0 else None


def restyle(candidate: str, original: str, qualname: str, style: Style, path: Path) -> str:
    """`candidate` with the def `qualname` (a function or method) laid out in the
    project's style."""
    span = _def_lines(candidate, qualname)
    if span is None:
        return candidate
    before = _def_lines(original, qualname)
    for formatter in style.formatters:
        if before is not None and _format(formatter, original, before, path) == original:
            formatted = _format(formatter, candidate, span, path)
            if formatted is not None and _same_tree(candidate, formatted):
                return formatted
    limit = style.line_length
    if not style.configured:
        limit = max(limit, _longest_line(original, before))
    kept = set(original.splitlines(keepends=True))
    wrapped = wrap_long_lines(candidate, span, limit, kept)
    return wrapped if _same_tree(candidate, wrapped) else candidate


def _longest_line(code: str, span: tuple[int, int] | None) -> int:
    """The longest line of the original def: when it is over 88 columns in a project
    that sets no line length, the project does not keep to 88, and new lines may be
    as long."""
    if span is None:
        return 0
    return max(len(line) for line in code.splitlines()[span[0] - 1 : span[1]])


def _def_lines(code: str, qualname: str) -> tuple[int, int] | None:
    """First (a decorator's) and last line of the def `qualname`."""
    try:
        node = find_node(ast.parse(code), qualname)
    except SyntaxError:
        return None
    return span(node) if node is not None else None


def _format(formatter: tuple[str, ...], code: str, span: tuple[int, int], path: Path) -> str | None:
    first, last = span  # black's line ranges are inclusive, ruff's end at a position
    lines = (
        f"--line-ranges={first}-{last}"
        if formatter[0] == "black"
        else (f"--range={first}:1-{last + 1}:1")
    )
    command = [*formatter, lines, f"--stdin-filename={path}", "-"]
    try:
        done = subprocess.run(
            command, input=code, capture_output=True, text=True, timeout=FORMAT_TIMEOUT,
            cwd=path.parent, check=False,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 and done.stdout else None


def _same_tree(before: str, after: str) -> bool:
    try:
        return ast.dump(ast.parse(before)) == ast.dump(ast.parse(after))
    except SyntaxError:
        return False
