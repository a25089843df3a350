"""Stage 3: candidates carry everything their function needs, and nothing else."""

from __future__ import annotations

import ast
from pathlib import Path

import libcst as cst

from passes import all_passes
from pipeline.config import Config, VerifyConfig
from pipeline.stages.analyze import analyze
from pipeline.stages.parse import parse, read_source
from pipeline.stages.rewrite import propose, splice
from pipeline.stages.verify import verify

MODULE = '''\
"""Two recursive counters."""


def paths(n: int) -> int:
    if n < 2 or n > 18:
        return 1
    return paths(n - 1) + paths(n - 2)


def steps(n: int) -> int:
    if n < 3 or n > 18:
        return n
    return steps(n - 1) + steps(n - 3)
'''


def candidates_for(tmp_path: Path, source: str) -> dict[str, str]:
    path = tmp_path / "counters.py"
    path.write_text(source)
    parsed = parse(read_source(path, 100_000))
    facts = analyze(parsed, all_passes())
    return {c.function: c.module_code for c in propose(parsed, facts, all_passes())}


def test_each_candidate_changes_only_its_function_and_keeps_its_memo_inside(
    tmp_path: Path,
) -> None:
    candidates = candidates_for(tmp_path, MODULE)
    assert set(candidates) == {"paths", "steps"}
    paths_module = candidates["paths"]
    module_level = [type(node).__name__ for node in ast.parse(paths_module).body]
    assert module_level == ["Expr", "FunctionDef", "FunctionDef"]  # no table outlives a call
    assert "    memo: dict[tuple[object, ...], int] = {}\n" in paths_module
    assert "def steps(n: int) -> int:\n    if n < 3 or n > 18:\n        return n\n" in paths_module
    compile(paths_module, "counters.py", "exec")


def test_memoized_candidate_is_verified_equivalent(tmp_path: Path) -> None:
    path = tmp_path / "counters.py"
    path.write_text(MODULE)
    parsed = parse(read_source(path, 100_000))
    (candidate, *_) = propose(parsed, analyze(parsed, all_passes()), all_passes())
    verdict = verify(candidate, Config(verify=VerifyConfig(max_examples=40)))
    assert verdict.status == "equivalent", verdict


def test_splice_keeps_every_other_byte() -> None:
    base = cst.parse_module(
        "import os\n\n# keep me\ndef f(x: int) -> int:\n    return x\n\nY = 1\n"
    )
    donor = cst.parse_module(
        "import os\nfrom math import isqrt\n\n_TABLE = {1: 1}\n\n\ndef f(x: int) -> int:\n"
        "    return _TABLE.get(x, isqrt(x))\n\nY = 1\n"
    )
    result = splice(base, donor, "f").code
    assert result.startswith("import os\nfrom math import isqrt\n")
    assert "_TABLE = {1: 1}" in result
    assert result.endswith("\nY = 1\n")
    assert result.count("def f(") == 1
