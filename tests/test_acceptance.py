"""The acceptance rule: only equivalent and measurably faster candidates survive."""

from __future__ import annotations

from pathlib import Path

from pipeline.config import Config, TimingConfig, VerifyConfig
from pipeline.model import Candidate
from pipeline.stages.orchestrate import evaluate

CONFIG = Config(
    timing=TimingConfig(sizes=(10, 2000), sample_seconds=0.01, pairs=5, workers=1),
    verify=VerifyConfig(max_examples=60),
)
ORIGINAL = """\
def total(xs: list[int]) -> int:
    return sum(xs)
"""


def candidate(code: str) -> Candidate:
    return Candidate(
        function="total",
        lineno=1,
        rules=("TEST",),
        origin="pass",
        original_code=ORIGINAL,
        module_code=code,
        module_name="totals",
        project_root=None,
    )


def test_candidate_that_changes_behaviour_is_rejected() -> None:
    wrong = ORIGINAL.replace("return sum(xs)", "return sum(x for x in xs if x > 0)")
    outcome = evaluate(candidate(wrong), CONFIG)
    assert not outcome.accepted
    assert outcome.verdict.status == "counterexample"
    assert outcome.verdict.counterexample is not None
    assert outcome.timing is None


def test_slower_candidate_is_rejected() -> None:
    slower = ORIGINAL.replace(
        "return sum(xs)", "for _ in range(20):\n        sorted(xs)\n    return sum(xs)"
    )
    outcome = evaluate(candidate(slower), CONFIG)
    assert outcome.verdict.is_equivalent
    assert not outcome.accepted
    assert outcome.timing is not None
    assert outcome.timing.sizes[-1].decision == "slower"


def test_untyped_function_is_unverified_and_never_accepted(tmp_path: Path) -> None:
    untyped = Candidate(
        function="double",
        lineno=1,
        rules=("TEST",),
        origin="pass",
        original_code="def double(x):\n    return x * 2\n",
        module_code="def double(x):\n    return x + x\n",
        module_name="doubles",
        project_root=tmp_path,
    )
    outcome = evaluate(untyped, CONFIG)
    assert outcome.verdict.status == "unverifiable"
    assert "x" in outcome.verdict.detail
    assert not outcome.accepted
