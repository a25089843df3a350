"""Enough evidence to decide: the sequential rule on real sample arrays, the undecided
outcome in reasons and summaries, and the sizes rule through the real CLI and sandbox.

The sample arrays are drawn from seeded log-normal noise around a known ratio, the way a
loaded machine's samples spread, in worker pairs that each carry their own offset (as
fresh processes do); each look adds worker pairs, as `measure` does. No assertion
depends on how fast this machine is.
"""

from __future__ import annotations

import json
import math
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
    LOOK_UNITS,
    MAX_LOOKS,
    TINY_CALL_FLOOR,
    Samples,
    decide_sequentially,
    look_confidence,
    lower_quartile,
    precision,
    python_version,
    ratio_of_medians,
    settled,
    straddles,
    student_t_quantile,
    unit_interval,
)
from pipeline.stages.verify import inputs_for

REPO = Path(__file__).resolve().parent.parent
PAIRS = 5  # samples of each version per worker pair: the default `pairs`
WORKERS = 2  # worker pairs of the first pass over every size: the default `workers`
SECONDS = 1e-3  # per call: no tiny-call floor


class Drawn:
    """Samples of two versions whose true ratio (original / candidate) is `ratio`: log-normal
    noise of `spread` per sample and of `offset` per worker (a fresh process's own speed);
    `add(n)` adds n worker pairs, as fresh worker pairs would, while `budget` pairs last."""

    def __init__(
        self,
        ratio: float,
        spread: float,
        seed: int,
        offset: float = 0.02,
        budget: int = 99,
        seconds: float = SECONDS,
    ) -> None:
        self.ratio, self.spread, self.offset, self.budget = ratio, spread, offset, budget
        self.seconds = seconds
        self.rng = random.Random(seed)
        self.samples = Samples(10_000, "synthesised")
        self.asked: list[int] = []
        self.pairs(WORKERS)

    def pairs(self, count: int) -> None:
        for _ in range(count):
            self.samples.new_unit()
            offsets = [self.rng.lognormvariate(0, self.offset) for _ in range(2)]
            for _ in range(PAIRS):
                seconds = [
                    self.seconds * (self.ratio if candidate == 0 else 1) * offsets[candidate]
                    * self.rng.lognormvariate(0, self.spread)
                    for candidate in (0, 1)
                ]  # fmt: skip
                self.samples.add(False, seconds[0], seconds[0], 0)
                self.samples.add(True, seconds[1], seconds[1], 0)

    def add(self, count: int) -> bool:
        self.asked.append(count)
        if len(self.samples.units) + count > self.budget:
            return False
        self.pairs(count)
        return True

    @property
    def units(self) -> int:
        return len(self.samples.units)


def decided(drawn: Drawn) -> SizeTiming:
    return decide_sequentially(drawn.samples, 1.05, False, drawn.add)


# --------------------------------------------------------------------------- the statistics


def test_student_t_quantiles_match_the_tables() -> None:
    for df, expected in ((1, 12.706), (2, 4.303), (3, 3.182), (10, 2.228), (30, 2.042)):
        assert student_t_quantile(0.975, df) == pytest.approx(expected, abs=1e-3)
    assert student_t_quantile(0.995, 7) == pytest.approx(3.499, abs=1e-3)


def test_the_lower_quartile_ignores_a_load_spike_and_is_not_the_luckiest_sample() -> None:
    assert lower_quartile([1.3, 1.0, 9.0, 1.2, 1.1]) == pytest.approx(1.1)
    assert lower_quartile([2.0]) == 2.0


def test_the_interval_is_over_worker_pairs_so_a_shared_offset_widens_it() -> None:
    # Four worker pairs of identical code, each pair off by +-4% (its processes' own speed),
    # with almost no noise within a pair. Pooled, the samples look precise and the bootstrap
    # excludes 1; over worker pairs the offsets are the spread, and 1 stays inside.
    units = []
    for offset in (1.04, 0.97, 1.05, 1.03):
        units.append(
            ([offset * (1 + 0.001 * i) for i in range(5)], [1 + 0.001 * i for i in range(5)])
        )
    pooled = [x for original, _ in units for x in original], [x for _, c in units for x in c]
    _, pooled_low, _ = ratio_of_medians(*pooled)
    ratio, low, high = unit_interval(units, 0.95)
    assert pooled_low > 1.0  # the pooled interval claims a difference that is not there
    assert low < 1.0 < high and ratio == pytest.approx(math.prod([1.04, 0.97, 1.05, 1.03]) ** 0.25)


def test_a_worker_pair_spoiled_by_a_load_spike_is_trimmed_from_the_interval() -> None:
    # Ten worker pairs of a true 1.3x; in one, another process took the candidate's core
    # throughout, so that pair says 0.6x. A plain t interval over the pairs widens past the
    # floor; the trimmed one sets that pair (and the best one) aside and still decides.
    rng = random.Random(4)
    units = [([1.3 * rng.lognormvariate(0, 0.03) for _ in range(5)], [1.0] * 5) for _ in range(9)]
    units.append(([1.3] * 5, [1.3 / 0.6] * 5))
    _, plain_low, _ = unit_interval(units, look_confidence(MAX_LOOKS), trim=0.0)
    ratio, low, high = unit_interval(units, look_confidence(MAX_LOOKS))
    assert plain_low < 1.05 < low < ratio < high
    assert ratio == pytest.approx(1.3, rel=0.03)


def test_samples_keep_worker_pairs_apart_and_need_three_for_an_interval_over_them() -> None:
    drawn = Drawn(1.0, 0.05, seed=9)
    two = drawn.samples.decide(1.05, in_ci=False)
    assert two.worker_pairs == 2 and two.samples == 2 * PAIRS
    original, candidate = drawn.samples.cpu
    assert (two.ratio, two.low, two.high) == ratio_of_medians(original, candidate, 10_000)
    later = Drawn(1.0, 0.05, seed=10).samples
    drawn.samples.extend(later)
    units = drawn.samples.by_unit(drawn.samples.cpu)
    assert [len(o) for o, _ in units] == [PAIRS] * 4 and units[2][0] == later.cpu[0][:PAIRS]
    four = drawn.samples.decide(1.05, in_ci=False)
    assert four.worker_pairs == 4
    assert (four.ratio, four.low, four.high) == unit_interval(units, 0.95)


# --------------------------------------------------------------------------- the design


def test_every_look_uses_pococks_wider_interval_so_four_looks_keep_the_overall_5_percent() -> None:
    assert look_confidence(1) == pytest.approx(0.95, abs=1e-4)
    assert look_confidence(4) == pytest.approx(0.9818, abs=1e-4)  # z = 2.361 (Pocock, K=4)
    drawn = Drawn(1.0, 0.1, seed=1, budget=LOOK_UNITS)
    first = decide_sequentially(drawn.samples, 1.05, False, drawn.add)
    units = drawn.samples.by_unit(drawn.samples.cpu)
    _, low95, high95 = unit_interval(units, 0.95)
    assert first.confidence == pytest.approx(look_confidence(MAX_LOOKS))
    assert first.low < low95 and first.high > high95  # wider than a single 95% look


def test_the_precision_for_no_change_keeps_a_settled_interval_below_the_target_speedup() -> None:
    def size(low: float, high: float) -> SizeTiming:
        ratio = math.sqrt(low * high)
        return SizeTiming(10_000, ratio, low, high, SizeDecision.NO_CHANGE, 1e-3, 1e-3 / ratio)

    assert precision(1.05) == pytest.approx(0.0625)  # 1.2x: four times the 5% margin
    assert precision(1.10) == pytest.approx((1 - 1.10 / 1.40) / 2)  # CI's doubled floor
    assert settled(size(1.00, 1.12), floor=1.05)
    assert not settled(size(0.98, 1.16), floor=1.05)
    assert not settled(size(0.87, 1.46), floor=1.05)  # the word_lengths interval
    # However wide a settled interval that reaches the floor is, it ends below 1.2.
    assert 1.05 / (1 - 2 * precision(1.05)) == pytest.approx(1.2)
    assert settled(size(1.05, 1.185), 1.05) and not settled(size(1.05, 1.20), 1.05)
    # A raised floor keeps the promised target; one at or above it never settles.
    assert precision(1.15, target=1.2) == pytest.approx((1 - 1.15 / 1.2) / 2)
    assert precision(1.15, target=1.1) == 0.0
    assert straddles(size(0.87, 1.46), floor=1.05)
    assert not straddles(size(0.90, 1.04), floor=1.05)  # cannot be faster: no more looks
    assert not straddles(replace(size(1.06, 1.2), decision=SizeDecision.FASTER), floor=1.05)


# --------------------------------------------------------------------------- the rule


def test_a_clear_2x_is_decided_on_the_first_pass_without_more_worker_pairs() -> None:
    drawn = Drawn(2.0, 0.1, seed=2)
    headline = decided(drawn)
    assert headline.decision == SizeDecision.FASTER and headline.low > 1.2
    assert drawn.asked == [] and headline.worker_pairs == WORKERS


def test_a_first_pass_that_clears_the_floor_but_not_1_2x_is_topped_up_to_four_pairs() -> None:
    drawn = Drawn(1.3, 0.1, seed=2, offset=0.05)
    first = Samples(10_000, "synthesised")
    first.extend(drawn.samples)
    pooled = first.decide(1.05, False, look_confidence(MAX_LOOKS))
    assert 1.05 < pooled.low <= 1.2  # the pooled samples alone would have called it faster
    headline = decided(drawn)
    assert drawn.asked[0] == LOOK_UNITS - WORKERS and headline.worker_pairs >= LOOK_UNITS
    assert headline.decision == SizeDecision.FASTER


def test_a_first_pass_slower_but_not_beyond_1_2x_is_topped_up_before_it_is_called_slower() -> None:
    drawn = Drawn(0.93, 0.02, seed=2, offset=0.0)
    first = Samples(10_000, "synthesised")
    first.extend(drawn.samples)
    pooled = first.decide(1.05, False, look_confidence(MAX_LOOKS))
    assert pooled.decision == SizeDecision.SLOWER and pooled.high > 1 / 1.2
    decided(drawn)
    assert drawn.asked[0] == LOOK_UNITS - WORKERS


def test_a_first_pass_that_cannot_reach_the_floor_is_no_change_without_more_pairs() -> None:
    drawn = Drawn(0.9, 0.05, seed=2)
    headline = decided(drawn)
    assert headline.decision == SizeDecision.NO_CHANGE and headline.high <= 1.05
    assert drawn.asked == []


def test_a_true_1_2x_too_noisy_for_one_look_is_sampled_until_it_clears_the_floor() -> None:
    drawn = Drawn(1.2, 0.15, seed=1, offset=0.08)
    alone = Drawn(1.2, 0.15, seed=1, offset=0.08, budget=LOOK_UNITS)
    first = decided(alone)
    assert first.decision == SizeDecision.UNDECIDED and first.low <= 1.05  # one look: not enough
    headline = decided(drawn)
    assert headline.decision == SizeDecision.FASTER, headline
    assert LOOK_UNITS < drawn.units <= MAX_LOOKS * LOOK_UNITS
    assert headline.worker_pairs == drawn.units and drawn.asked[1:] == [LOOK_UNITS] * (
        len(drawn.asked) - 1
    )


def test_an_a_a_pair_settles_as_no_change_and_never_wins() -> None:
    outcomes, units = [], []
    for seed in range(20):
        drawn = Drawn(1.0, 0.06, seed=100 + seed, offset=0.03)  # as measured at load 1-3
        headline = decided(drawn)
        outcomes.append(headline.decision)
        units.append(drawn.units)
        assert headline.decision != SizeDecision.FASTER, headline
    assert outcomes.count(SizeDecision.NO_CHANGE) >= 19, outcomes
    assert max(units) > LOOK_UNITS, units  # some straddled the floor at first: looked again


def test_an_a_a_pair_too_noisy_to_settle_is_undecided_not_no_change() -> None:
    # At 30% spread per sample and 15% per worker, 16 worker pairs cannot tell 1.0 from the
    # 1.05 floor: saying "no change" would claim a measurement that was not made.
    drawn = Drawn(1.0, 0.3, seed=104, offset=0.15)
    headline = decided(drawn)
    assert headline.decision == SizeDecision.UNDECIDED, headline
    assert drawn.units == MAX_LOOKS * LOOK_UNITS
    assert headline.low < 1.05 < headline.high


def test_when_the_budget_pays_for_no_more_looks_the_size_is_undecided_with_its_samples() -> None:
    drawn = Drawn(1.2, 0.15, seed=1, offset=0.08, budget=2 * LOOK_UNITS)
    headline = decided(drawn)
    assert headline.decision == SizeDecision.UNDECIDED
    assert drawn.units == 2 * LOOK_UNITS and headline.samples == 2 * LOOK_UNITS * PAIRS
    assert headline.low <= 1.05 < headline.high  # still straddling: not "no change"


def test_when_the_budget_cannot_even_top_up_the_first_look_it_decides_on_what_it_has() -> None:
    drawn = Drawn(2.0, 0.05, seed=6, budget=WORKERS)
    headline = decided(drawn)
    assert drawn.units == WORKERS and headline.worker_pairs == WORKERS
    assert headline.decision in (SizeDecision.FASTER, SizeDecision.UNDECIDED)


# --------------------------------------------------------------------------- recorded calls


class DrawnCalls:
    """Recorded calls of three sizes, each drawn as `Drawn` is around the same true ratio;
    `look()` adds one look's worth to every call, as a fresh worker pair on each would."""

    def __init__(self, ratio: float, spread: float, seed: int, seconds: float = SECONDS) -> None:
        self.calls = [Drawn(ratio, spread, seed=seed + i, seconds=seconds) for i in range(3)]
        for size, drawn in zip((3, 40, 900), self.calls, strict=True):
            drawn.samples.size = size
        self.looks = 1

    @property
    def timed(self) -> list[Samples]:
        return [drawn.samples for drawn in self.calls]

    def look(self) -> bool:
        self.looks += 1
        return all(drawn.add(WORKERS) for drawn in self.calls)

    def budget_for(self, looks: int) -> bool:
        return self.looks < looks and self.look()


WEIGHTS = [600, 300, 100]  # traced calls each timed call stands for
FIRST_LOOK = PAIRS * WORKERS  # samples of each version per call in one look


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
    drawn = DrawnCalls(1.1, 0.3, seed=40)
    decision = decided_calls(drawn)
    assert decision.decision == SizeDecision.FASTER, decision
    assert 1 < drawn.looks <= MAX_LOOKS
    assert all(len(call.samples.cpu[1]) == FIRST_LOOK * drawn.looks for call in drawn.calls)
    assert decision.samples == FIRST_LOOK * drawn.looks


def test_weighted_a_a_calls_never_win_and_some_are_looked_at_again() -> None:
    looks = []
    for seed in range(8):
        drawn = DrawnCalls(1.0, 0.15, seed=200 + 10 * seed)
        assert decided_calls(drawn).decision != SizeDecision.FASTER
        looks.append(drawn.looks)
    assert max(looks) > 1, looks


def test_weighted_calls_the_budget_cannot_look_at_again_are_undecided_with_samples() -> None:
    drawn = DrawnCalls(1.1, 0.3, seed=40)
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


def test_tiny_recorded_calls_faster_than_promised_are_looked_at_again_not_settled() -> None:
    # A traced run's calls take a microsecond, so the floor is the tiny-call floor (1.15);
    # the first look straddles it narrowly enough to settle by that floor's own target
    # (1.6x), which called a real 1.22x roman_to_int "no change". The promise is 1.2x.
    drawn = DrawnCalls(1.22, 0.1, seed=120, seconds=1e-6)
    first = weighted_decision(drawn.timed, WEIGHTS, 1.05, False, look_confidence(MAX_LOOKS))
    assert first is not None and first.low < TINY_CALL_FLOOR < first.high
    assert settled(first, TINY_CALL_FLOOR) and not settled(first, TINY_CALL_FLOOR, 1.2)
    assert decided_calls(drawn).decision == SizeDecision.FASTER and drawn.looks > 1


def test_calls_none_of_which_weighs_make_no_weighted_decision_and_take_no_look() -> None:
    drawn = DrawnCalls(1.1, 0.3, seed=40)
    assert decide_weighted_sequentially(drawn.timed, [0, 0, 0], 1.05, False, drawn.look) is None
    assert drawn.looks == 1


# --------------------------------------------------------------------------- the outcome


def undecided_outcome() -> Outcome:
    headline = SizeTiming(
        10_000,
        1.43,
        0.87,
        1.46,
        SizeDecision.UNDECIDED,
        2e-3,
        1.4e-3,
        samples=20,
        worker_pairs=4,
    )
    small = SizeTiming(10, 1.2, 1.1, 1.3, SizeDecision.FASTER, 1e-6, 0.8e-6, samples=10)
    timing = Timing((small, headline), 1.05, python_version(), "none")
    candidate = Candidate("f", 1, ("T",), CandidateOrigin.PASS, "", "", "m", None)
    verdict = Verdict(VerdictStatus.EQUIVALENT, 10, ())
    return Outcome(candidate, verdict, timing, False, timing_rejection(timing))


def test_an_undecided_headline_says_so_with_its_interval_and_samples_not_not_faster() -> None:
    outcome = undecided_outcome()
    assert outcome.timing is not None and not outcome.timing.accepted
    assert outcome.reason.startswith(
        "undecided at n=10000: 1.43× [0.87, 1.46] after 20 samples of each version in 4 worker"
    )
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
