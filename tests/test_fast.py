"""`--fast`: asymptotic wins are verified but not timed; everything else is still timed."""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any

from conftest import Runner

from passes import all_passes

# The passes whose documented speedup is a change of asymptotic cost. Flipping a
# constant-factor pass to complexity_win would let --fast accept it untimed.
ALGORITHMIC = {
    "OPT102", "OPT103", "OPT105", "OPT107", "OPT108",
    "OPT109", "OPT110", "OPT111", "OPT112", "OPT113", "OPT117",
}  # fmt: skip

MODULE = """\
def dedupe(items: list[int]) -> list[int]:
    seen = []
    out = []
    for item in items:
        if item not in seen:
            seen.append(item)
            out.append(item)
    return out


def is_vowel(ch: str) -> bool:
    return ch in ["a", "e", "i", "o", "u"]
"""


def outcomes_by_function(stdout: str) -> dict[str, dict[str, Any]]:
    (report,) = json.loads(stdout)["files"]
    return {o["function"]: o for o in report["outcomes"]}


def function_node(source: str, name: str) -> ast.FunctionDef:
    tree = ast.parse(source)
    return next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == name)


def test_only_algorithmic_passes_skip_timing() -> None:
    flagged = {p.code for p in all_passes() if p.complexity_win}
    assert flagged == ALGORITHMIC


def test_fast_json_times_only_constant_factor_passes(project: Path, run_cli: Runner) -> None:
    (project / "mod.py").write_text(MODULE, encoding="utf-8")
    result = run_cli("mod.py", "--fast", "--json", "--no-cache", cwd=project)
    assert result.returncode == 0, result.stderr
    outcomes = outcomes_by_function(result.stdout)

    dedupe = outcomes["dedupe"]
    assert dedupe["rules"] == ["OPT103"]
    assert dedupe["accepted"] is True
    assert dedupe["timing"] is None
    assert dedupe["reason"] == "verified; not timed (--fast: asymptotic win)"
    assert dedupe["verdict"]["status"] == "equivalent" and dedupe["verdict"]["examples"] > 0

    vowel = outcomes["is_vowel"]
    assert vowel["rules"] == ["OPT106"]
    assert vowel["timing"] is not None and vowel["timing"]["sizes"]
    sizes = [s["size"] for s in vowel["timing"]["sizes"]]
    assert sizes[0] == 10 and sizes[-1] == 1000  # the configured sizes are the caps


def test_fast_verdict_is_not_served_to_a_timed_run(project: Path, run_cli: Runner) -> None:
    (project / "mod.py").write_text(MODULE, encoding="utf-8")
    fast = run_cli("mod.py", "--fast", "--json", "--select", "OPT103", cwd=project)
    assert outcomes_by_function(fast.stdout)["dedupe"]["timing"] is None, fast.stderr
    timed = run_cli("mod.py", "--json", "--select", "OPT103", cwd=project)
    assert outcomes_by_function(timed.stdout)["dedupe"]["timing"] is not None, timed.stderr


def test_fast_write_applies_the_verified_rewrite(project: Path, run_cli: Runner) -> None:
    target = project / "mod.py"
    target.write_text(MODULE, encoding="utf-8")
    result = run_cli("mod.py", "--fast", "--write", "--select", "OPT103", "--no-cache", cwd=project)
    assert result.returncode == 0, result.stderr
    assert "not timed (--fast)" in result.stdout

    written = target.read_text(encoding="utf-8")
    dedupe = ast.unparse(function_node(written, "dedupe"))
    assert "seen = set()" in dedupe and "seen.add(item)" in dedupe
    assert "seen.append" not in dedupe
    # Not selected, so untouched: --fast writes only what it verified.
    original_vowel = ast.unparse(function_node(MODULE, "is_vowel"))
    assert ast.unparse(function_node(written, "is_vowel")) == original_vowel
    namespace: dict[str, Any] = {}
    exec(compile(written, "mod.py", "exec"), namespace)
    assert namespace["dedupe"]([3, 1, 3, 2, 1]) == [3, 1, 2]
