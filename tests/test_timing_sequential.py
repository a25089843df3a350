"""Enough evidence to decide: the sequential rule on real sample arrays, the undecided
outcome in reasons and summaries, and the sizes rule through the real CLI and sandbox.

The sample arrays are drawn from seeded log-normal noise around a known ratio, the way a
loaded machine's samples spread; each look adds as many as the first, as `measure` does.
No assertion depends on how fast this machine is.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import Runner

from pipeline.cache import cache_key, is_stable
from pipeline.config import Config, TimingConfig, VerifyConfig
from pipeline.model import (
    Candidate,
    CandidateOrigin,
    FileReport,
    Outcome,
    SizeDecision,
    SizeTiming,
    Timing,
    Verdict,
    VerdictStatus,
)
from pipeline.report.html import page_from_file_reports
from pipeline.report.summary import Totals, rejection, summary_lines
from pipeline.report.terminal import size_text
from pipeline.stages.measure import measure
from pipeline.stages.orchestrate import timing_rejection
from pipeline.stages.recorded_decision import decide_weighted_sequentially, weighted_decision
from pipeline.stages.timing_stats import (
    MAX_LOOKS,
    Samples,
    decide_sequentially,
    look_confidence,
    python_version,
    ratio_of_medians,
    settled,
    straddles,
)
from pipeline.stages.verify import inputs_for

REPO = Path(__file__).resolve().parent.parent
FIRST_LOOK = 10  # samples of each version per look: the default 5 pairs x 2 workers
SECONDS = 1e-3  # per call: no tiny-call floor


class Drawn:
    """Samples of two versions whose true ratio (original / candidate) is `ratio`, with
    log-normal noise of `spread`; `look()` adds one look's worth, as a fresh worker pair would."""

    def __init__(self, ratio: float, spread: float, seed: int, load: float = 0.0) -> None:
        self.ratio, self.spread, self.load = ratio, spread, load
        self.rng = random.Random(seed)
        self.samples = Samples(10_000, "synthesised")
        self.looks = 0
        self.look()

    def look(self) -> bool:
        for _ in range(FIRST_LOOK):
            load = self.rng.lognormvariate(0, self.load)  # the machine, shared by a pair
            original = load * SECONDS * self.ratio * self.rng.lognormvariate(0, self.spread)
            candidate = load * SECONDS * self.rng.lognormvariate(0, self.spread)
            self.samples.add(False, original, original, 0)
            self.samples.add(True, candidate, candidate, 0)
        self.looks += 1
        return True

    def budget_for(self, looks: int) -> bool:
        """Another look, while the budget pays for `looks` in all."""
        return self.looks < looks and self.look()


def decided(drawn: Drawn, budget_looks: int = MAX_LOOKS) -> SizeTiming:
    return decide_sequentially(drawn.samples, 1.05, False, lambda: drawn.budget_for(budget_looks))


# --------------------------------------------------------------------------- the design


def test_every_look_uses_pococks_wider_interval_so_four_looks_keep_the_overall_5_percent() -> None:
    assert look_confidence(1) == pytest.approx(0.95, abs=1e-4)
    assert look_confidence(4) == pytest.approx(0.9818, abs=1e-4)  # z = 2.361 (Pocock, K=4)
    drawn = Drawn(1.0, 0.1, seed=1)
    original, candidate = drawn.samples.cpu
    _, low95, high95 = ratio_of_medians(original, candidate, seed=10_000)
    first = decide_sequentially(drawn.samples, 1.05, False, lambda: False)
    assert first.confidence == pytest.approx(look_confidence(MAX_LOOKS))
    assert first.low <= low95 and first.high >= high95  # wider than a single 95% look
    assert (first.high - first.low) > (high95 - low95)


def test_the_precision_rule_and_the_floor_straddle() -> None:
    def size(low: float, high: float) -> SizeTiming:
        ratio = (low + high) / 2
        return SizeTiming(10_000, ratio, low, high, SizeDecision.NO_CHANGE, 1e-3, 1e-3 / ratio)

    assert settled(size(1.02, 1.08), floor=1.05)  # half-width 0.03 <= 5% of 1.05
    assert not settled(size(0.87, 1.46), floor=1.05)  # the word_lengths interval
    assert straddles(size(0.87, 1.46), floor=1.05)
    assert not straddles(size(0.90, 1.04), floor=1.05)  # cannot be faster: no more looks
    assert not straddles(replace(size(1.06, 1.2), decision=SizeDecision.FASTER), floor=1.05)


# --------------------------------------------------------------------------- the rule


def test_a_clear_2x_is_decided_at_the_first_look() -> None:
    drawn = Drawn(2.0, 0.1, seed=2)
    headline = decided(drawn)
    assert headline.decision == SizeDecision.FASTER
    assert drawn.looks == 1 and headline.samples == FIRST_LOOK


def test_a_true_1_3x_too_noisy_for_one_look_is_sampled_until_it_clears_the_floor() -> None:
    drawn = Drawn(1.3, 0.25, seed=12)
    first = decide_sequentially(Drawn(1.3, 0.25, seed=12).samples, 1.05, False, lambda: False)
    assert first.decision == SizeDecision.UNDECIDED and first.low <= 1.05  # one look: not enough
    headline = decided(drawn)
    assert headline.decision == SizeDecision.FASTER, headline
    assert 1 < drawn.looks <= MAX_LOOKS
    assert headline.samples == FIRST_LOOK * drawn.looks


def test_an_a_a_pair_settles_as_no_change_and_never_wins() -> None:
    outcomes, looks = [], []
    for seed in range(10):
        drawn = Drawn(1.0, 0.05, seed=100 + seed)  # a quiet machine's CPU-clock spread
        headline = decided(drawn)
        outcomes.append(headline.decision)
        looks.append(drawn.looks)
        assert headline.decision != SizeDecision.FASTER, headline
    assert outcomes.count(SizeDecision.NO_CHANGE) >= 9, outcomes
    assert max(looks) > 1, looks  # some straddled the floor at first and were looked at again


def test_an_a_a_pair_too_noisy_to_settle_is_undecided_not_no_change() -> None:
    # At 15% spread, 40 samples cannot tell 1.0 from the 1.05 floor: saying "no change"
    # would claim a measurement that was not made.
    drawn = Drawn(1.0, 0.15, seed=104)
    headline = decided(drawn)
    assert headline.decision == SizeDecision.UNDECIDED and drawn.looks == MAX_LOOKS
    assert headline.low < 1 < 1.05 < headline.high


def test_when_the_budget_pays_for_no_more_looks_the_size_is_undecided_with_its_samples() -> None:
    drawn = Drawn(1.3, 0.25, seed=12)
    headline = decided(drawn, budget_looks=2)
    assert headline.decision == SizeDecision.UNDECIDED
    assert drawn.looks == 2 and headline.samples == 2 * FIRST_LOOK
    assert headline.low <= 1.05 < headline.high  # still straddling: not "no change"


def test_after_the_last_look_a_still_wide_interval_is_undecided() -> None:
    drawn = Drawn(1.05, 0.6, seed=5)  # far too noisy for 40 samples to settle
    asked = []
    headline = decide_sequentially(
        drawn.samples, 1.05, False, lambda: asked.append(1) or drawn.look()
    )
    assert headline.decision == SizeDecision.UNDECIDED
    assert len(asked) == MAX_LOOKS - 1 and headline.samples == MAX_LOOKS * FIRST_LOOK


# --------------------------------------------------------------------------- recorded calls


class DrawnCalls:
    """Recorded calls of three sizes, each drawn as `Drawn` is around the same true ratio;
    `look()` adds one look's worth to every call, as a fresh worker pair on each would."""

    def __init__(self, ratio: float, spread: float, seed: int) -> None:
        self.calls = [Drawn(ratio, spread, seed=seed + i) for i in range(3)]
        for size, drawn in zip((3, 40, 900), self.calls, strict=True):
            drawn.samples.size = size
        self.looks = 1

    @property
    def timed(self) -> list[Samples]:
        return [drawn.samples for drawn in self.calls]

    def look(self) -> bool:
        self.looks += 1
        return all(drawn.look() for drawn in self.calls)

    def budget_for(self, looks: int) -> bool:
        return self.looks < looks and self.look()


WEIGHTS = [600, 300, 100]  # traced calls each timed call stands for


def decided_calls(drawn: DrawnCalls, budget_looks: int = MAX_LOOKS) -> SizeTiming:
    decision = decide_weighted_sequentially(
        drawn.timed, WEIGHTS, 1.05, False, lambda: drawn.budget_for(budget_looks)
    )
    assert decision is not None
    return decision


def test_a_clear_weighted_2x_is_decided_at_the_first_look_with_pococks_interval() -> None:
    drawn = DrawnCalls(2.0, 0.1, seed=20)
    decision = decided_calls(drawn)
    assert decision.decision == SizeDecision.FASTER and drawn.looks == 1
    assert decision.samples == FIRST_LOOK  # per call, not summed over the three calls
    assert decision.confidence == pytest.approx(look_confidence(MAX_LOOKS))
    single = weighted_decision(drawn.timed, WEIGHTS, 1.05, False)  # one 95% look
    assert single is not None and decision.high - decision.low > single.high - single.low


def test_a_weighted_1_3x_too_noisy_for_one_look_takes_more_looks_on_every_call() -> None:
    first = decide_weighted_sequentially(
        DrawnCalls(1.3, 0.3, seed=40).timed, WEIGHTS, 1.05, False, lambda: False
    )
    assert first is not None and first.decision == SizeDecision.UNDECIDED
    assert first.low <= 1.05 < first.high  # the first look alone straddles the floor
    drawn = DrawnCalls(1.3, 0.3, seed=40)
    decision = decided_calls(drawn)
    assert decision.decision == SizeDecision.FASTER, decision
    assert 1 < drawn.looks <= MAX_LOOKS
    assert all(len(call.samples.cpu[1]) == FIRST_LOOK * drawn.looks for call in drawn.calls)
    assert decision.samples == FIRST_LOOK * drawn.looks


def test_weighted_a_a_calls_never_win_and_some_are_looked_at_again() -> None:
    looks = []
    for seed in range(8):
        drawn = DrawnCalls(1.0, 0.05, seed=200 + 10 * seed)
        assert decided_calls(drawn).decision != SizeDecision.FASTER
        looks.append(drawn.looks)
    assert max(looks) > 1, looks


def test_weighted_calls_the_budget_cannot_look_at_again_are_undecided_with_samples() -> None:
    drawn = DrawnCalls(1.3, 0.3, seed=40)
    decision = decided_calls(drawn, budget_looks=2)
    assert decision.decision == SizeDecision.UNDECIDED
    assert drawn.looks == 2 and decision.samples == 2 * FIRST_LOOK
    headline = SizeTiming(900, 1.3, 1.2, 1.4, SizeDecision.FASTER, 1e-3, 0.7e-3, "recorded x4")
    timing = Timing((headline,), 1.05, python_version(), "none", recorded_calls=(1000,),
                    recorded_decision=decision)  # fmt: skip
    assert not timing.accepted  # the enlarged call's "faster" never decides
    reason = timing_rejection(timing)
    assert reason.startswith("undecided on the recorded calls: ")
    assert f"after {2 * FIRST_LOOK} samples of each version per call" in reason
    assert "weighted by 1,000 traced call(s)" in reason and "candidate-budget" in reason
    candidate = Candidate("f", 1, ("T",), CandidateOrigin.PASS, "", "", "m", None)
    outcome = Outcome(candidate, Verdict(VerdictStatus.EQUIVALENT, 10, ()), timing, False, reason)
    assert rejection(outcome) == "undecided"


def test_calls_none_of_which_weighs_make_no_weighted_decision_and_take_no_look() -> None:
    drawn = DrawnCalls(1.3, 0.3, seed=40)
    assert decide_weighted_sequentially(drawn.timed, [0, 0, 0], 1.05, False, drawn.look) is None
    assert drawn.looks == 1


# --------------------------------------------------------------------------- the outcome


def undecided_outcome() -> Outcome:
    headline = SizeTiming(
        10_000, 1.43, 0.87, 1.46, SizeDecision.UNDECIDED, 2e-3, 1.4e-3, samples=20
    )
    small = SizeTiming(10, 1.2, 1.1, 1.3, SizeDecision.FASTER, 1e-6, 0.8e-6, samples=10)
    timing = Timing((small, headline), 1.05, python_version(), "none")
    candidate = Candidate("f", 1, ("T",), CandidateOrigin.PASS, "", "", "m", None)
    verdict = Verdict(VerdictStatus.EQUIVALENT, 10, ())
    return Outcome(candidate, verdict, timing, False, timing_rejection(timing))


def test_an_undecided_headline_says_so_with_its_interval_and_samples_not_not_faster() -> None:
    outcome = undecided_outcome()
    assert outcome.timing is not None and not outcome.timing.accepted
    assert outcome.reason.startswith("undecided at n=10000: 1.43× [0.87, 1.46] after 20 samples")
    assert "candidate-budget" in outcome.reason
    assert rejection(outcome) == "undecided"
    # Cached, so that --check after --write agrees; a longer budget is another cache key.
    assert is_stable(outcome)
    config = Config()
    longer = replace(config, candidate_budget=2 * config.candidate_budget)
    assert cache_key(outcome.candidate, config) != cache_key(outcome.candidate, longer)
    assert size_text(outcome.timing.sizes[0]) == "n=10: 1.20× [1.10, 1.30] (10 samples)"


def test_the_summary_counts_undecided_apart_with_what_could_decide_them() -> None:
    outcomes = (undecided_outcome(), undecided_outcome())
    totals = Totals.of([FileReport(Path("m.py"), outcomes, functions=("f",))])
    assert totals.undecided == 2 and totals.rejected == {}
    line, hint = summary_lines(totals, 1.0, wrote=False, verbose=False)
    assert "2 candidate(s): 0 accepted, 0 rejected, 2 undecided, 0 unverifiable" in line
    assert hint.startswith("2 undecided: a longer candidate-budget")
    assert (totals + totals).undecided == 4
    page = page_from_file_reports([FileReport(Path("m.py"), outcomes, functions=("f",))])
    assert ("undecided", "2") in page.headline and ("candidates rejected", "0") in page.headline


# --------------------------------------------------------------------------- the sizes rule

ROW_IDS = """\
def row_ids(rows: list[dict]) -> list:
    ids = []
    for row in rows:
        ids.append(row["id"])
    return ids
"""


def test_rows_lacking_the_key_read_are_not_timed_at_n_0_alone(
    project: Path, run_cli: Runner
) -> None:
    # Synthesised rows have no "id": every non-empty list raises, only [] does not. The
    # rewrite (a comprehension) is equivalent, but no speed can be judged on an empty list.
    (project / "rows.py").write_text(ROW_IDS, encoding="utf-8")
    result = run_cli("rows.py", "-v", "--check", cwd=project)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "not timed: inputs of size ≥1 raise (KeyError: 'id')" in result.stdout, result.stdout
    assert "optimize trace" in result.stdout and "OPTIMIZE_INPUTS" in result.stdout
    assert "n=0" not in result.stdout


# --------------------------------------------------------------------------- the power benchmark


def test_power_calibration_smoke_writes_its_report_with_samples_per_size(tmp_path: Path) -> None:
    # One tiny run: whether it accepts is the machine's business (the bar is the full run's).
    quick = ["--runs", "1", "--sizes", "1000", "--pairs", "3", "--workers", "1"]
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.power_calibration", *quick, "--out", str(tmp_path)],
        cwd=REPO, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode in (0, 1), done.stderr[-2000:]
    report = json.loads((tmp_path / "power_calibration.json").read_text(encoding="utf-8"))
    assert report["runs"] == 1 and report["required"] == 1 and report["true_ratio"] == 1.2
    (run,) = report["results"]
    assert run["sizes"], run["detail"]
    assert all(size["samples"] >= 3 for size in run["sizes"])
    assert report["passed"] == run["accepted"] and "load_before" in report
    markdown = (tmp_path / "power_calibration.md").read_text(encoding="utf-8")
    assert markdown.startswith("# Power calibration: a true 1.2x") and "samples)" in markdown
    bad = subprocess.run(
        [sys.executable, "-m", "benchmarks.power_calibration", "--runs", "0"],
        cwd=REPO, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert bad.returncode == 2 and "must be > 0" in bad.stderr


SHORT_ONLY = """\
def total(xs: list[int]) -> int:
    if len(xs) > 3:
        raise ValueError("too long")
    return sum(xs)
"""
SLOW_PER_ITEM = """\
def spin(n: int) -> int:
    count = 0
    for _ in range(n * 3_000_000):
        count += 1
    return count
"""


def measure_alone(function: str, code: str, timing: TimingConfig) -> Timing:
    candidate = Candidate(function, 1, ("A/A",), CandidateOrigin.PASS, code, code, "m", None)
    config = Config(timing=timing, verify=VerifyConfig(max_examples=10))
    return measure(candidate, config, inputs_for(candidate, config))


def test_no_decision_on_sizes_left_only_because_the_original_raises_on_larger_ones() -> None:
    # n=10, 5 raise; n=2 does not. Timing at n=2 would judge a function on inputs it rejects.
    timing = measure_alone("total", SHORT_ONLY, TimingConfig(sizes=(10, 100), workers=1))
    assert not timing.sizes
    assert timing.detail.startswith("inputs of size ≥5 raise (ValueError: too long): give it")


def test_no_decision_on_n_0_alone_when_every_larger_input_is_over_the_call_budget() -> None:
    timing = measure_alone("spin", SLOW_PER_ITEM, TimingConfig(sizes=(10,), call_budget=0.02))
    assert not timing.sizes
    assert timing.detail.startswith("inputs of size ≥1 take longer than the per-call budget")
