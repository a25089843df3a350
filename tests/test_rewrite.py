"""Stage 3: candidates carry everything their function needs, and nothing else."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import libcst as cst
import pytest
from careless_pass import DropsOwnLineComments, NestsFStringQuotes

from passes import all_passes
from pipeline.config import Config, VerifyConfig
from pipeline.stages.analyze import analyze
from pipeline.stages.orchestrate import evaluate, optimize_file
from pipeline.stages.parse import parse, read_source
from pipeline.stages.rewrite import propose
from pipeline.stages.splice import splice
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


def test_a_candidate_that_loses_a_comment_is_refused_and_never_run(tmp_path: Path) -> None:
    path = tmp_path / "careful.py"
    path.write_text("def f(x: int) -> int:\n    # why it is x\n    return x\n")
    parsed = parse(read_source(path, 100_000))
    passes = [DropsOwnLineComments]
    (candidate,) = propose(parsed, analyze(parsed, passes), passes)
    assert candidate.refused == "refused: the rewrite loses the comment '# why it is x'"
    outcome = evaluate(candidate, Config())
    assert not outcome.accepted and outcome.reason == candidate.refused
    assert outcome.verdict.status == "not run" and outcome.verdict.examples == 0


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="PEP 701: nested quotes compile")
def test_a_pass_output_python_cannot_compile_costs_the_rewrite_not_the_run(
    tmp_path: Path,
) -> None:
    path = tmp_path / "labels.py"
    path.write_text('def label(code: int) -> str:\n    return f"U+{code:04X}"\n')
    parsed = parse(read_source(path, 100_000))
    passes = [NestsFStringQuotes]
    assert propose(parsed, analyze(parsed, passes), passes) == ()


EDIT_DISTANCE = """\
def edit_distance(a: str, b: str) -> int:
    if not a:
        return len(b)
    if not b:
        return len(a)
    if a[0] == b[0]:
        return edit_distance(a[1:], b[1:])
    return 1 + min(edit_distance(a[1:], b), edit_distance(a, b[1:]), edit_distance(a[1:], b[1:]))
"""


def test_edit_distance_is_written_with_a_per_call_cache_in_the_project_style(
    tmp_path: Path,
) -> None:
    """The real pipeline (sandboxed verification; --fast skips only the timing)."""
    path = tmp_path / "words.py"
    path.write_text(EDIT_DISTANCE)
    config = Config(fast=True, verify=VerifyConfig(max_examples=60))
    report = optimize_file(path, config)
    (outcome,) = report.outcomes
    assert outcome.accepted, outcome.reason
    assert outcome.candidate.rules == ("OPT108",)
    written = report.new_text
    assert written is not None and written == outcome.candidate.module_code
    assert [type(node).__name__ for node in ast.parse(written).body] == ["FunctionDef"]
    assert "    memo: dict[tuple[object, ...], int] = {}\n" in written
    limit = max(88, *(len(line) for line in EDIT_DISTANCE.splitlines()))
    assert max(len(line) for line in written.splitlines()) <= limit
    namespace: dict[str, object] = {}
    exec(compile(written, "words.py", "exec"), namespace)
    assert namespace["edit_distance"]("kitten", "sitting") == 3  # type: ignore[operator]
