"""Comments are data: a comment (or blank line) placed anywhere inside a pass's
examples survives the pass, on its own line or above the nearest surviving
statement."""

from __future__ import annotations

import ast
from pathlib import Path

import libcst as cst
import pytest

from benchmarks.fuzz_passes import Position, comment_positions, with_comment
from passes import Example, OptimizationPass, all_passes, apply_pass
from passes.base import comment_counts, first_function
from pipeline.stages.analyze import analyze
from pipeline.stages.parse import parse, read_source
from pipeline.stages.rewrite import propose
from tests.conftest import example_traces

POSITIVE = [
    pytest.param(pass_class, example, id=f"{pass_class.code}-{index}")
    for pass_class in all_passes()
    for index, example in enumerate(pass_class.EXAMPLES)
]


def positions_in_first_function(source: str) -> list[Position]:
    name = first_function(source)
    node = next(
        n for n in ast.parse(source).body if isinstance(n, ast.FunctionDef) and n.name == name
    )
    end = node.end_lineno or node.lineno
    return [
        (line, column, own_line)
        for line, column, own_line in comment_positions(source, node.lineno)
        if line <= end and not (own_line and line == node.lineno)
    ]


@pytest.mark.parametrize(("pass_class", "example"), POSITIVE)
def test_a_comment_anywhere_in_the_function_survives(
    pass_class: type[OptimizationPass], example: Example
) -> None:
    rewritten = 0
    for index, position in enumerate(positions_in_first_function(example.before)):
        source = with_comment(example.before, position, f"# note {index}: keep me")
        result = apply_pass(pass_class, cst.parse_module(source), example.profiles).code
        if result == source:
            continue
        rewritten += 1
        compile(result, "example.py", "exec")
        assert comment_counts(result) == comment_counts(source), f"{position}:\n{result}"
    assert rewritten > 0, "the pass declined every variant with a comment"


def blank_lines_and_statements(source: str) -> tuple[int, int]:
    """Blank lines and statements inside the first function of `source`."""
    name = first_function(source)
    node = next(
        n for n in ast.parse(source).body if isinstance(n, ast.FunctionDef) and n.name == name
    )
    lines = source.splitlines()[node.lineno - 1 : node.end_lineno]
    statements = sum(isinstance(n, ast.stmt) for n in ast.walk(node))
    return sum(not line.strip() for line in lines), statements


@pytest.mark.parametrize(("pass_class", "example"), POSITIVE)
def test_a_blank_line_inside_the_function_survives(
    pass_class: type[OptimizationPass], example: Example
) -> None:
    """A blank line may only go with a statement the rewrite merged into another."""
    for line, _, own_line in positions_in_first_function(example.before):
        if not own_line:
            continue
        lines = example.before.splitlines(keepends=True)
        source = "".join([*lines[: line - 1], "\n", *lines[line - 1 :]])
        result = apply_pass(pass_class, cst.parse_module(source), example.profiles).code
        blank_before, statements_before = blank_lines_and_statements(source)
        blank_after, statements_after = blank_lines_and_statements(result)
        if statements_after >= statements_before:
            assert blank_after >= blank_before, f"blank line above line {line} lost:\n{result}"


@pytest.mark.parametrize(("pass_class", "example"), POSITIVE)
def test_a_comment_after_the_last_statement_survives_the_rewrite_stage(
    pass_class: type[OptimizationPass], example: Example, tmp_path: Path
) -> None:
    """Through the real rewrite stage: the passes see each function alone in a stand-in
    module, and a comment below its last statement (the end of its block, where `ast`
    spans stop) must still be there once the rewrite is spliced back."""
    name = first_function(example.before)
    node = next(
        n
        for n in ast.parse(example.before).body
        if isinstance(n, ast.FunctionDef) and n.name == name
    )
    lines = example.before.splitlines(keepends=True)
    indent = " " * node.body[0].col_offset
    end = node.end_lineno or node.lineno
    source = "".join([*lines[:end], f"{indent}# below the last statement\n", *lines[end:]])
    path = tmp_path / "example.py"
    path.write_text(source, encoding="utf-8")
    parsed = parse(read_source(path, 1_000_000))
    (candidate,) = [
        c
        for c in propose(
            parsed, analyze(parsed, [pass_class], traces=example_traces(example)), [pass_class]
        )
        if c.function == name
    ]
    assert not candidate.refused
    assert comment_counts(candidate.module_code) == comment_counts(source)


PRAGMA_ON_A_VANISHING_LINE = """\
def doubled(measurements: list[int]) -> list[int]:
    result = []
    for measurement in measurements:  {comment}
        result.append(measurement * 2)
    return result


def tripled(measurements: list[int]) -> list[int]:
    result = []
    for measurement in measurements:
        result.append(measurement * 3)
    return result  {comment}
"""


def _proposed(tmp_path: Path, source: str) -> dict[str, str]:
    """What the rewrite stage says of each function of `source`: why it is refused."""
    path = tmp_path / "readings.py"
    path.write_text(source, encoding="utf-8")
    parsed = parse(read_source(path, 1_000_000))
    passes = all_passes()
    return {c.function: c.refused for c in propose(parsed, analyze(parsed, passes), passes)}


@pytest.mark.parametrize(
    "pragma",
    ["# noqa: B007", "# type: ignore[misc]", "# pragma: no cover", "# fmt: skip", "# noqa"],
)
def test_a_pragma_moved_off_the_line_it_governs_is_refused(tmp_path: Path, pragma: str) -> None:
    """The loop's line goes away, so its comment moves above the comprehension, where a
    pragma would govern another line: refused. A pragma on a line the rewrite keeps
    stays there, and that candidate stands."""
    refused = _proposed(tmp_path, PRAGMA_ON_A_VANISHING_LINE.format(comment=pragma))
    assert refused["doubled"] == f"refused: the rewrite moves {pragma!r} off the line it governs"
    assert refused["tripled"] == ""


def test_an_ordinary_comment_may_move_above_the_rewritten_statement(tmp_path: Path) -> None:
    refused = _proposed(tmp_path, PRAGMA_ON_A_VANISHING_LINE.format(comment="# the raw readings"))
    assert refused == {"doubled": "", "tripled": ""}
