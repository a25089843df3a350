"""The baseline a user would reach for instead: Ruff's autofixes for the performance rule families.

The fixed copy is checked and timed with exactly the same sandboxed machinery
as optimize's own candidates (pipeline.stages.verify / pipeline.stages.measure), so the two
columns of the report are comparable.
"""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

RUFF_RULES = "PERF,FURB,C4,SIM,UP"
RUFF_LABEL = "RUFF"


def ruff_executable() -> str:
    """The Ruff next to this interpreter (the `bench` extra), else the one on PATH."""
    beside = Path(sys.executable).with_name("ruff")
    if beside.is_file():
        return str(beside)
    found = shutil.which("ruff")
    if found is None:
        raise RuntimeError("ruff is not installed: pip install -e '.[bench]'")
    return found


def _ruff(arguments: list[str], directory: Path) -> subprocess.CompletedProcess[str]:
    # --isolated: ignore any pyproject settings; --ignore-noqa: the corpus files carry
    # a file-level noqa comment so the project's own lint run skips them, the baseline must not.
    # --preview: several of the performance fixes (PERF401, FURB118...) exist only there,
    # and the baseline should be the strongest Ruff a user could switch on.
    command = [
        ruff_executable(),
        "check",
        "--isolated",
        "--ignore-noqa",
        "--preview",
        "--select",
        RUFF_RULES,
        "--target-version",
        f"py{sys.version_info.major}{sys.version_info.minor}",
        *arguments,
        str(directory),
    ]
    return subprocess.run(command, capture_output=True, text=True, check=False, timeout=300)


def ruff_version() -> str:
    done = subprocess.run(
        [ruff_executable(), "--version"], capture_output=True, text=True, check=False
    )
    return done.stdout.strip()


def apply_ruff(directory: Path) -> dict[tuple[str, int], list[str]]:
    """Fix every file under `directory` in place; returns (file name, line) -> fixable rule codes.

    The diagnostics are collected before fixing so the report can say which
    rules touched each function.
    """
    listed = _ruff(["--unsafe-fixes", "--output-format", "json", "--exit-zero"], directory)
    found: dict[tuple[str, int], list[str]] = defaultdict(list)
    for diagnostic in json.loads(listed.stdout or "[]"):
        if diagnostic.get("fix") is None:
            continue
        name = Path(diagnostic["filename"]).name
        found[(name, int(diagnostic["location"]["row"]))].append(str(diagnostic["code"]))
    _ruff(["--fix", "--unsafe-fixes", "--exit-zero"], directory)
    return dict(found)


def rules_in_function(
    rules_by_line: dict[tuple[str, int], list[str]], file_name: str, start: int, end: int
) -> list[str]:
    codes = {
        code
        for (name, line), codes in rules_by_line.items()
        if name == file_name and start <= line <= end
        for code in codes
    }
    return sorted(codes)


def function_sources(text: str) -> dict[str, tuple[str, int, int]]:
    """Module-level function name -> (normalised AST dump, first line, last line)."""
    tree = ast.parse(text)
    return {
        node.name: (
            ast.dump(node, include_attributes=False),
            node.lineno,
            node.end_lineno or node.lineno,
        )
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    }
