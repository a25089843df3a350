"""Expands every pass's embedded examples into transform tests."""

from __future__ import annotations

from pathlib import Path

import libcst as cst
import pytest

from passes import Example, OptimizationPass, all_passes, apply_pass
from passes.base import CallProfile, first_function, module_functions
from pipeline.config import Config, VerifyConfig
from pipeline.stages.analyze import analyze
from pipeline.stages.parse import parse, read_source
from pipeline.stages.rewrite import propose
from pipeline.stages.style import Style, restyle
from pipeline.stages.verify import verify_sources
from tests.conftest import example_traces

# A function called 100,000 times (1 ms each) whose 32 recorded calls hold 2 distinct
# argument tuples.
HOT = CallProfile(calls=100_000, recorded=32, distinct=2, seconds_per_call=1e-3)


POSITIVE = [
    pytest.param(pass_class, example, id=f"{pass_class.code}-{index}")
    for pass_class in all_passes()
    for index, example in enumerate(pass_class.EXAMPLES)
]
NEGATIVE = [
    pytest.param(pass_class, source, id=f"{pass_class.code}-not-{index}")
    for pass_class in all_passes()
    for index, source in enumerate(pass_class.NON_EXAMPLES)
]


@pytest.mark.parametrize(("pass_class", "example"), POSITIVE)
def test_transform_matches_after_text(
    pass_class: type[OptimizationPass], example: Example
) -> None:
    assert pass_class.may_apply(example.before)
    result = apply_pass(pass_class, cst.parse_module(example.before), example.profiles)
    assert result.code == example.after


@pytest.mark.parametrize(("pass_class", "example"), POSITIVE)
def test_pipeline_candidate_is_the_after_text(
    pass_class: type[OptimizationPass], example: Example, tmp_path: Path
) -> None:
    """The rewrite stage (stand-in module, shared metadata, splice) gives the same text,
    laid out in the default style (no project configuration: lines of 88)."""
    path = tmp_path / "example.py"
    path.write_text(example.before, encoding="utf-8")
    parsed = parse(read_source(path, 1_000_000))
    traces = example_traces(example)
    candidates = propose(parsed, analyze(parsed, [pass_class], traces=traces), [pass_class])
    function = first_function(example.before)
    (candidate,) = [c for c in candidates if c.function == function]
    assert candidate.module_code == restyle(example.after, example.before, function, Style(), path)


@pytest.mark.parametrize(("pass_class", "source"), NEGATIVE)
def test_precondition_declines(pass_class: type[OptimizationPass], source: str) -> None:
    """Even where a trace saw every function called hot with few distinct arguments."""
    module = cst.parse_module(source)
    result = apply_pass(pass_class, module, {name: HOT for name in module_functions(module)})
    assert result.code == source


@pytest.mark.parametrize("pass_class", all_passes(), ids=lambda p: p.code)
def test_pass_is_documented(pass_class: type[OptimizationPass]) -> None:
    doc = pass_class.__doc__ or ""
    for heading in ("What it does:", "Why it is faster:", "Fix safety:"):
        assert heading in doc, f"{pass_class.code} docstring lacks {heading!r}"
    assert len(pass_class.EXAMPLES) >= 2
    assert len(pass_class.NON_EXAMPLES) >= 2
    assert pass_class.code.startswith("OPT") and pass_class.name and pass_class.summary


def test_codes_and_names_are_unique() -> None:
    passes = all_passes()
    assert len({p.code for p in passes}) == len(passes)
    assert len({p.name for p in passes}) == len(passes)


VERIFY_CONFIG = Config(verify=VerifyConfig(max_examples=100))


@pytest.mark.parametrize(("pass_class", "example"), POSITIVE)
def test_example_is_equivalent_through_the_verify_stage(
    pass_class: type[OptimizationPass], example: Example
) -> None:
    function = first_function(example.before)
    verdict = verify_sources(example.before, example.after, function, VERIFY_CONFIG)
    assert verdict.status == "equivalent", (verdict.detail, verdict.counterexample)
    assert verdict.examples > 0
