"""How the projected share of a traced workload reads: a rewrite that is slower on the
traced calls costs a share of the workload, and says so with its interval turned round;
a share under 0.1% still shows its size."""

from __future__ import annotations

from pathlib import Path

from pipeline.model import (
    Candidate,
    CandidateOrigin,
    FileReport,
    Outcome,
    Verdict,
    VerdictStatus,
    WorkloadShare,
)
from pipeline.report.terminal import workload_summary, workload_text


def _share(saving: float, low: float, high: float) -> WorkloadShare:
    return WorkloadShare(
        share=0.25, calls=40_000, workload_seconds=2.0, saving=saving, saving_low=low,
        saving_high=high,
    )  # fmt: skip


def test_a_negative_saving_reads_as_a_cost() -> None:
    text = workload_text(_share(-0.074, -0.161, -0.015))
    assert text == (
        "25.0% of workload (40,000 calls traced); projected cost 7.4% of the workload [1.5%, 16.1%]"
    )


def test_a_positive_saving_reads_as_a_saving() -> None:
    text = workload_text(_share(0.12, 0.05, 0.2))
    assert text.endswith("; projected saving 12.0% of the workload [5.0%, 20.0%]")


def test_a_small_cost_is_not_rounded_to_nothing() -> None:
    """It used to read "-0.0% [-0.0%, -0.0%]"."""
    text = workload_text(_share(-0.00021, -0.00043, -0.00004))
    assert text.endswith("; projected cost 0.021% of the workload [0.004%, 0.043%]")


def test_an_interval_across_zero_keeps_its_sign_on_the_far_end() -> None:
    text = workload_text(_share(-0.004, -0.01, 0.002))
    assert text.endswith("; projected cost 0.4% of the workload [-0.2%, 1.0%]")


def _accepted(function: str, share: WorkloadShare) -> Outcome:
    candidate = Candidate(
        function=function, lineno=1, rules=("OPT101",), origin=CandidateOrigin.PASS,
        original_code="", module_code="", module_name="module", project_root=None,
    )  # fmt: skip
    verdict = Verdict(VerdictStatus.EQUIVALENT, 40, ("recorded calls",))
    return Outcome(candidate, verdict, None, True, "verified and faster", share)


def test_the_whole_workload_summary_reads_as_a_cost_when_the_rewrites_lose() -> None:
    report = FileReport(
        Path("module.py"),
        outcomes=(
            _accepted("join_words", _share(-0.074, -0.161, -0.015)),
            _accepted("count_words", _share(0.024, 0.01, 0.03)),
        ),
    )
    assert workload_summary([report]) == (
        "projected cost for the whole traced workload: 5.0% (0.10 s of 2.00 s traced), "
        "from 2 rewrite(s)"
    )
