"""Expands every pass's embedded examples into transform tests."""

from __future__ import annotations

import libcst as cst
import pytest

from passes import Example, OptimizationPass, all_passes, apply_pass
from passes.base import first_function
from pipeline.config import Config, VerifyConfig
from pipeline.verify import verify_sources

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
    result = apply_pass(pass_class, cst.parse_module(example.before))
    assert result.code == example.after


@pytest.mark.parametrize(("pass_class", "source"), NEGATIVE)
def test_precondition_declines(pass_class: type[OptimizationPass], source: str) -> None:
    result = apply_pass(pass_class, cst.parse_module(source))
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
