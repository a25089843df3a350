"""Stage 5: time the original against the candidate, honestly.

Each version runs alone in its own sandboxed worker; this process drives both,
one command at a time, and keeps every clock: the kernel's CPU clock of each
worker process (read by PID) and our own wall clock, around each timed run.
Code under test therefore cannot make itself look fast by patching `time` or
the worker; what it can still do (answer wrongly, work while idle, work
before the clock starts) is checked: result digests must match the
original's, a worker must be idle between its runs, and the CPU a worker used
outside its timed runs (from `os.wait4`) must not exceed the original's by more than
the noise of what both do there (`hidden_work_slack`).

Inputs: the recorded calls of a trace first (a typical one, the largest, and
the largest scaled up); otherwise inputs grown geometrically from the hook,
type hints or inferred domains until one call of the original exceeds the
call budget or raises (the configured sizes are caps); otherwise the literal
calls of doctests and call sites. Samples alternate ABBA between the workers;
several fresh worker pairs run one after another. Each worker pair's samples are one
unit: with enough units the figure is their geometric mean ratio of lower quartiles, with
a Student t interval over the units; with fewer (the smaller inputs), the ratio of medians
of the pooled samples with a bootstrap interval (`timing_stats`). The largest input is
the headline and decides; it is sampled in more fresh worker pairs, in looks, until its
interval settles (`timing_stats.decide_sequentially`); with recorded calls, the weighing
ones decide together and are looked at again together
(`recorded_decision.decide_weighted_sequentially`).
A decision never rests on n=0 alone, nor on sizes below the smallest configured
one reached only because the original raises on the larger ones.
"""

from __future__ import annotations

import fcntl
import math
import os
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from pipeline.config import Config
from pipeline.model import Candidate, Timing, TraceFacts
from pipeline.sandbox.child import protocol as p
from pipeline.sandbox.session import Session, WorkerGone
from pipeline.stages.recorded_decision import call_weights, decide_weighted_sequentially
from pipeline.stages.timing_stats import (
    LOOK_UNITS,
    Samples,
    decide_sequentially,
    python_version,
)
from pipeline.stages.verify import Plan

GROWTH = 2
SLOW_SAMPLE_FACTOR = 20
# A timed run costs the worker about a millisecond of CPU besides the calls (the command,
# the result's digest, the reply). Calibrating on runs shorter than a few times that would
# take the fixed cost for the calls' and time a microsecond function on it: both versions
# would look alike. The default sample_seconds calibrates on 5 ms runs already.
MIN_CALIBRATION_SECONDS = 0.005
COPY_BYTES_PER_SAMPLE = 64 << 20
IDLE_CPU_SECONDS = 0.002
HIDDEN_CPU_SLACK_SECONDS = 0.25
_TIMING_LOCK = threading.Lock()
OVER_TIME_LIMIT = "over the time limit"  # the worker's reply when a call overruns its limit
SLOW_TEXT = "take longer than the per-call budget"
INPUTS_HINT = (
    "give it real inputs with `optimize trace`, [tool.optimize.strategies] or an "
    "OPTIMIZE_INPUTS hook"
)


class Untimeable(Exception):
    """No honest timing is possible; the message says why, in one line."""


class BudgetSpent(Untimeable):
    """The candidate's budget ran out during timing."""


@dataclass(frozen=True)
class Refusal:
    """Why one synthesised size cannot be timed: `reason` completes "inputs of size ≥n ..."."""

    reason: str
    raised: bool  # it cannot be made or the original raises on it (not: too slow)


@dataclass(frozen=True)
class Input:
    """How to make one timing input: a size to synthesise, or a recorded or literal call."""

    size: int = 0
    recorded: int = -1
    scale: int = 1
    literal: int = -1

    @property
    def source(self) -> str:
        if self.recorded >= 0:
            return "recorded" if self.scale == 1 else f"recorded x{self.scale}"
        return "literal" if self.literal >= 0 else "synthesised"

    def command(self) -> p.TimingCommand:
        return p.TimingCommand(p.Command.BUILD, size=self.size, recorded=self.recorded,
                               scale=self.scale, literal=self.literal)  # fmt: skip


def measure(
    candidate: Candidate,
    config: Config,
    inputs: p.Inputs,
    copy_args: bool = False,
    deadline: float | None = None,
    trace: TraceFacts | None = None,
) -> Timing:
    """Time `candidate` against its original on inputs of several sizes.

    Without recorded calls the largest input decides; while its interval straddles the
    floor, fresh worker pairs add samples (`decide_sequentially`). With them, the
    recorded calls decide together, weighted by the sizes of all traced calls (`trace`
    also says which recorded calls were outermost: those are timed), and fresh worker
    pairs add samples to every weighing call alike (`decide_weighted_sequentially`).
    `deadline` (time.monotonic) ends the first look with "not timed" and the reason,
    and a later one with "undecided"."""
    plan = Plan(candidate, config, inputs)
    pooled: dict[Input, Samples] = {}
    chosen: list[Input] = []
    recorded_sizes: list[int] = []  # of every recorded call, -1 where one cannot be built
    isolation = "none"
    in_ci = os.environ.get("CI", "").lower() == "true"
    look = Look(plan, copy_args, deadline, trace)
    cut_short = ""
    weights: dict[Input, int] = {}
    decision = None
    try:
        for _ in range(max(1, config.timing.workers)):  # fresh worker pairs, one at a time
            with look.pair() as pair:
                isolation = pair.isolation
                chosen = chosen or pair.choose_inputs()
                recorded_sizes = recorded_sizes or list(pair.ready[0].sizes)
                cut_short = _sample_each(look, pair, chosen, pooled)
            if cut_short:
                chosen = [spec for spec in chosen if spec in pooled]
                break
        ordered = sorted(chosen, key=lambda spec: pooled[spec].size)
        real = [spec for spec in ordered if spec.recorded >= 0 and spec.scale == 1]
        *smaller, deciding = ordered
        if real:  # the recorded calls decide together: see `recorded_decision`
            headline = pooled[deciding].decide(config.min_speedup, in_ci)
            counts = (trace.sizes if trace else ()) or [(s, 1) for s in recorded_sizes if s >= 0]
            weights = dict(zip(real, call_weights([pooled[s].size for s in real], counts),
                               strict=True))  # fmt: skip
            look.follow([(spec, pooled[spec]) for spec in real if weights[spec]])
            decision = decide_weighted_sequentially(
                [pooled[s] for s in real], [weights[s] for s in real],
                config.min_speedup, in_ci, lambda: look.again(max(1, config.timing.workers)),
            )  # fmt: skip
        else:
            look.follow([(deciding, pooled[deciding])])
            headline = decide_sequentially(
                pooled[deciding],
                config.min_speedup,
                in_ci,
                look.again,
                look_units=max(LOOK_UNITS, config.timing.workers),
            )
    except (Untimeable, WorkerGone) as error:
        return _untimed(config, isolation, str(error))
    sizes = (*(pooled[spec].decide(config.min_speedup, in_ci) for spec in smaller), headline)
    wall = [str(s.size) for s in sizes if s.clock == "wall"]
    detail = "; ".join(
        filter(None, (f"wall-clock samples at n={', '.join(wall)}" if wall else "", cut_short))
    )
    return Timing(sizes, config.min_speedup, python_version(), isolation, detail=detail,
                  small_size_tolerance=config.timing.small_size_tolerance,
                  recorded_calls=tuple(weights.get(spec, 0) for spec in ordered),
                  recorded_decision=decision)  # fmt: skip


def _sample_each(look: Look, pair: Pair, chosen: list[Input], pooled: dict[Input, Samples]) -> str:
    """Sample every input in this worker pair, adding to `pooled`; returns why it stopped early.

    The recorded calls decide, and they are timed first (smallest first): when the budget
    runs out after each has samples, only inputs that never decide (the scaled-up calls)
    or a later pair's extra samples are lost, so the decision stands on what was taken.
    """
    real = [spec for spec in chosen if spec.recorded >= 0 and spec.scale == 1]
    for spec in chosen:
        added = Samples(0, spec.source)
        try:
            look.sample(pair, spec, added)
        except BudgetSpent as spent:
            if not real or any(deciding not in pooled for deciding in real):
                raise
            return f"{spent}: decided on the recorded calls' samples taken by then"
        if spec in pooled:
            pooled[spec].extend(added)
        else:
            pooled[spec] = added
    return ""


class Look:
    """Runs of fresh worker pairs: the first look times every input; each later one times
    the deciding inputs again (the largest, or the weighing recorded calls), if the
    candidate's budget can pay for it."""

    def __init__(
        self, plan: Plan, copy_args: bool, deadline: float | None, trace: TraceFacts | None
    ) -> None:
        self.plan = plan
        self.trace = trace
        self.copy_args = copy_args
        self.deadline = deadline
        self.starting = 0.0  # what starting the first look's worker pairs cost
        self.sampling: dict[Input, float] = {}  # what sampling each input cost in the first
        self.deciding: list[tuple[Input, Samples]] = []

    @contextmanager
    def pair(self) -> Iterator[Pair]:
        with one_measurement_at_a_time():
            started = time.monotonic()
            with Pair(self.plan, self.copy_args, self.deadline, self.trace) as pair:
                if not self.deciding:  # the first look's cost is the estimate
                    self.starting += time.monotonic() - started
                yield pair

    def sample(self, pair: Pair, spec: Input, samples: Samples) -> None:
        started = time.monotonic()
        pair.sample(spec, samples)
        self.sampling[spec] = self.sampling.get(spec, 0.0) + time.monotonic() - started

    def follow(self, deciding: list[tuple[Input, Samples]]) -> None:
        """The inputs later looks time again, with the samples they add to."""
        self.deciding = deciding

    @property
    def seconds(self) -> float:
        """What one more look costs: the first look's starts and its deciding samples."""
        return self.starting + sum(self.sampling.get(spec, 0.0) for spec, _ in self.deciding)

    def again(self, worker_pairs: int) -> bool:
        """The deciding inputs sampled again in `worker_pairs` fresh worker pairs; False when
        the budget cannot pay for them or runs out meanwhile (their samples are then dropped)."""
        assert self.deciding
        per_pair = self.seconds / max(1, self.plan.config.timing.workers)
        if self.deadline is not None and time.monotonic() + per_pair * worker_pairs > self.deadline:
            return False
        added = [Samples(samples.size, samples.source) for _, samples in self.deciding]
        try:
            for _ in range(worker_pairs):
                with self.pair() as pair:
                    for (spec, _), more in zip(self.deciding, added, strict=True):
                        pair.sample(spec, more)
        except BudgetSpent:
            return False
        for (_, samples), more in zip(self.deciding, added, strict=True):
            samples.extend(more)
        return True


def hidden_work_slack(candidate_timed: float, original_outside: float) -> float:
    """How much more CPU than the original's the candidate's worker may use outside its
    timed calls. Both do the same work there (import the package, load inputs, collect
    garbage before each run), which on a package like networkx is seconds and varies
    by a few percent between two workers: a tenth of the original's is that noise."""
    return HIDDEN_CPU_SLACK_SECONDS + 0.25 * candidate_timed + 0.1 * original_outside


def _untimed(config: Config, isolation: str, detail: str) -> Timing:
    return Timing((), config.min_speedup, python_version(), isolation, detail=detail)


@contextmanager
def one_measurement_at_a_time() -> Iterator[None]:
    """Hold the timing lock of this process and of its process group (released if we die).

    Worker processes of one `optimize` run share its process group; other runs on
    the machine do not wait for it.
    """
    lock_path = Path(tempfile.gettempdir()) / f"optimize-timing-{os.getuid()}-{os.getpgid(0)}.lock"
    with _TIMING_LOCK, lock_path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class Pair:
    """The original's worker and the candidate's, alive together, run one at a time."""

    def __init__(
        self, plan: Plan, copy_args: bool, deadline: float | None = None,
        trace: TraceFacts | None = None,
    ) -> None:  # fmt: skip
        self.plan = plan
        self.outermost = trace.outermost if trace else 0
        self.deadline = deadline
        self.settings = plan.config.timing
        self.copy_args = copy_args
        self.timed = [0.0, 0.0]  # CPU seconds inside measured runs, per worker
        self.last_failure = ""  # why the last input the original was tried on failed
        self.workers: list[Session] = []
        self.refused: dict[int, Refusal] = {}  # synthesised sizes the original cannot time
        self.no_decision = ""  # why the sizes reached cannot decide

    def __enter__(self) -> Pair:
        try:
            for candidate in (False, True):
                request = p.TimeRequest(self.plan.target(candidate=candidate), self.settings,
                                        self.plan.inputs, self.plan.sys_path)  # fmt: skip
                self.workers.append(Session(request, self.plan.sources(original=not candidate),
                                            self.plan.config.limits))  # fmt: skip
            self.ready = [worker.first_reply() for worker in self.workers]
        except BaseException:
            self._close()
            raise
        for reply in self.ready:
            if not reply.ok:
                self._close()
                raise Untimeable(reply.detail)
        return self

    def __exit__(self, kind: object, error: object, trace: object) -> None:
        try:
            if kind is None:
                self._check_hidden_work()
        finally:
            self._close()

    @property
    def isolation(self) -> str:
        return self.workers[0].isolation

    def _close(self) -> None:
        for worker in self.workers:
            worker.close()

    def _check_hidden_work(self) -> None:
        """Work done outside the timed runs (say, computing answers ahead, or in another
        process) shows in the kernel's figures: the candidate may not do much more of it
        than the original."""
        if self.workers[1].other_processes():
            raise Untimeable("the candidate's worker started other processes")
        totals = [worker.total_cpu() for worker in self.workers]
        outside = [total - timed for total, timed in zip(totals, self.timed, strict=True)]
        if outside[1] - outside[0] > hidden_work_slack(self.timed[1], outside[0]):
            raise Untimeable(
                f"the candidate used {outside[1]:.2f} s of CPU outside its timed calls "
                f"(the original {outside[0]:.2f} s)"
            )

    # ----------------------------------------------------------------------- inputs

    def choose_inputs(self) -> list[Input]:
        """The inputs to time, smallest first; see the module docstring."""
        recorded = list(self.ready[0].sizes)
        if recorded and max(recorded) >= 0:
            return self._recorded_inputs(recorded)
        if not self.settings.adaptive:
            configured = self._configured()
            no_decision = self._below_smallest([s.size for s in configured])
            if configured and not (configured[-1].size == 0 and no_decision):
                return configured
            if no_decision:
                raise Untimeable(f"{no_decision}: {INPUTS_HINT}")
            raise Untimeable("every configured size exceeds the per-call budget or fails")
        grown = self._grow()
        if grown:
            return grown
        literal = self._literal_inputs()
        if literal:
            return literal
        if self.no_decision:
            raise Untimeable(f"{self.no_decision}: {INPUTS_HINT}")
        raise Untimeable(
            "no inputs: give the parameters type hints, record real calls with `optimize trace`, "
            "or add an OPTIMIZE_INPUTS hook or [tool.optimize.strategies]"
        )

    def _recorded_inputs(self, sizes: list[int]) -> list[Input]:
        """The smallest, a middle and the largest recorded call on which the original
        returns within budget (a call that raises is verification's, never timing's),
        then the largest scaled up: reported, never deciding (see `recorded_decision`)."""
        # The calls a caller made, when the trace tells them from inner recursive calls.
        callers = sizes[: self.outermost] if self.outermost else sizes
        order = sorted((size, index) for index, size in enumerate(callers) if size >= 0)
        returning = self._returning(order)
        if not returning:
            raise Untimeable(
                f"the original returns on none of the {len(order)} recorded call(s) within the "
                f"per-call budget ({self.last_failure or 'each one failed'})"
            )
        chosen = [Input(recorded=index) for _, index in returning]
        largest_size, largest = returning[-1]
        scale, cap = 4, max(self.settings.sizes)
        while 0 < largest_size * scale <= cap:  # a call of size 0 has nothing to scale
            scaled = Input(recorded=largest, scale=scale)
            built = self._built_within_budget(scaled)
            if built is None or built <= largest_size:  # nothing in it grows (a graph, a dict)
                break
            chosen.append(scaled)
            scale *= 4
        return chosen

    def _returning(self, order: list[tuple[int, int]]) -> list[tuple[int, int]]:
        """Up to three recorded calls of distinct sizes, (size, index), smallest first: for
        the smallest, middle and largest call, the nearest one the original returns on."""
        verdicts: dict[int, bool] = {}

        def returns(position: int) -> bool:
            if position not in verdicts:
                spec = Input(recorded=order[position][1])
                verdicts[position] = self._built_within_budget(spec) is not None
            return verdicts[position]

        found: dict[int, tuple[int, int]] = {}
        for target in (len(order) - 1, len(order) // 2, 0):
            nearest = sorted(range(len(order)), key=lambda position: abs(position - target))
            position = next((p for p in nearest if returns(p)), None)
            if position is None:
                break  # none returns at all
            found.setdefault(order[position][0], order[position])
        return sorted(found.values())

    def _grow(self) -> list[Input]:
        """Sizes from the smallest configured one, doubling up to the largest, while one
        call of the original stays within the budget; below the smallest if it is over."""
        low, cap = min(self.settings.sizes), max(self.settings.sizes)
        reached = []
        size = low
        while size <= cap and self._built_within_budget(Input(size=size)) is not None:
            reached.append(size)
            size = cap if size < cap < size * GROWTH else size * GROWTH
        if not reached:
            size = low // GROWTH
            while size >= 0 and not reached:
                if self._built_within_budget(Input(size=size)) is not None:
                    reached.append(size)
                size = size // GROWTH if size > 0 else -1
            self.no_decision = self._below_smallest(reached)
            if self.no_decision:
                return []
        return [Input(size=size) for size in _spread(reached)]

    def _configured(self) -> list[Input]:
        """The configured sizes that the original takes within the per-call budget."""
        chosen = [Input(size=size) for size in sorted(self.settings.sizes)]
        return [spec for spec in chosen if self._built_within_budget(spec) is not None]

    def _literal_inputs(self) -> list[Input]:
        """The largest literal call (doctest, call site) that the original handles in budget."""
        sized = []
        for index in range(len(self.plan.inputs.literal_calls)):
            size = self._built_within_budget(Input(literal=index))
            if size is not None:
                sized.append((size, index))
        return [Input(literal=max(sized)[1])] if sized else []

    def _built_within_budget(self, spec: Input) -> int | None:
        """The input's size if the original takes it within the per-call budget, else None
        (it cannot be made, the original raises on it, or one call is too slow); why not
        is kept in `refused`, by size."""
        built = self.workers[0].ask(spec.command(), timeout=self.settings.call_budget * 4 + 10)
        if not built.ok:
            self.last_failure = built.detail
            self.refused[spec.size] = Refusal(f"cannot be made ({built.detail})", raised=True)
            return None
        # One call over the budget is all we need to know: stop it soon after.
        try:
            seconds = self._measure(0, 1, timeout=self.settings.call_budget * 2 + 5,
                                    limit=self.settings.call_budget * 1.2 + 0.1)[0]  # fmt: skip
        except BudgetSpent:  # the candidate's budget, not this input, is the matter
            raise
        except Untimeable as error:
            slow = str(error) == OVER_TIME_LIMIT
            self.last_failure = str(error)
            self.refused[spec.size] = Refusal(SLOW_TEXT if slow else f"raise ({error})", not slow)
            return None
        if seconds > self.settings.call_budget:
            self.refused[spec.size] = Refusal(SLOW_TEXT, raised=False)
            return None
        return built.sizes[0] if built.sizes else spec.size

    def _below_smallest(self, reached: list[int]) -> str:
        """Why sizes reached below the smallest configured one cannot decide, or "".

        A decision never rests on n=0 alone (an empty input says nothing of speed), nor on
        a size that only the original's raising on every larger input tried left: such
        inputs (say, rows without the key the function reads) are not the function's.
        """
        if not reached:
            return ""
        above = sorted(size for size in self.refused if size > reached[-1])
        raising = [size for size in above if self.refused[size].raised]
        if raising:
            return f"inputs of size ≥{raising[0]} {self.refused[raising[0]].reason}"
        if reached[-1] == 0 and above:
            return f"inputs of size ≥{above[0]} {self.refused[above[0]].reason}"
        return ""

    # ----------------------------------------------------------------------- samples

    def sample(self, spec: Input, samples: Samples) -> None:
        """Interleaved samples of both workers on one input: one unit of `samples`."""
        original, candidate = self.workers
        built = original.ask(spec.command(), timeout=self.settings.call_budget * 4 + 10)
        if not built.ok:
            raise Untimeable(f"size {spec.size} ({spec.source}): {built.detail}")
        samples.size = built.sizes[0] if built.sizes else spec.size
        loaded = candidate.ask(p.TimingCommand(p.Command.LOAD, blob=built.blob), timeout=30)
        if not loaded.ok:
            raise Untimeable(f"the candidate cannot take the input: {loaded.detail}")
        # A mutating function gets fresh copies per call: bound the memory they take.
        most = COPY_BYTES_PER_SAMPLE // max(1, len(built.blob)) if self.copy_args else 10**7
        loops = min(self._calibrate(samples.size), max(1, most))
        samples.new_unit()
        digests: list[set[str]] = [set(), set()]
        for pair in range(self.settings.pairs):
            for which in (0, 1) if pair % 2 == 0 else (1, 0):
                cpu, wall, digest, waits = self._measure(which, loops)
                samples.add(bool(which), cpu / loops, wall / loops, waits / loops)
                digests[which].add(digest)
        if len(digests[0]) == 1 and digests[0] != digests[1]:
            raise Untimeable(f"size {samples.size}: the candidate's timed calls return "
                             "something else than the original's")  # fmt: skip

    def _calibrate(self, size: int) -> int:
        """Loops per sample, so that a sample of the faster version lasts about
        `sample_seconds`, and one of the slower stays bounded."""
        target = self.settings.sample_seconds
        # With a fresh copy of the arguments per call, each loop is also a copy made outside
        # the clock, which the check on hidden work compares between the workers.
        enough = target / 10 if self.copy_args else max(target / 10, MIN_CALIBRATION_SECONDS)
        per_call = []
        for which in (0, 1):
            loops = 1
            while True:
                try:
                    seconds = self._measure(which, loops)[0]
                except BudgetSpent:
                    raise
                except Untimeable as error:
                    who = "candidate" if which else "original"
                    raise Untimeable(f"size {size}: the {who}: {error}") from None
                if seconds >= enough or loops >= 10**7:
                    per_call.append(max(seconds / loops, 1e-9))
                    break
                loops *= 10
        loops = max(1, math.ceil(target / min(per_call)))
        return max(1, min(loops, math.floor(SLOW_SAMPLE_FACTOR * target / max(per_call))))

    def _measure(
        self, which: int, loops: int, timeout: float | None = None, limit: float = 0.0
    ) -> tuple[float, float, str, int]:
        """(CPU seconds, wall seconds, result digest, voluntary context switches) of one timed
        run, by our clocks and the kernel's counts."""
        if self.deadline is not None and time.monotonic() > self.deadline:
            budget = self.plan.config.candidate_budget
            raise BudgetSpent(f"the {budget:g} s budget per candidate ran out")
        worker, other = self.workers[which], self.workers[1 - which]
        prepared = worker.ask(p.TimingCommand(p.Command.PREPARE, loops=loops,
                                              copy_args=self.copy_args), timeout=60)  # fmt: skip
        if not prepared.ok:
            raise Untimeable(prepared.detail)
        idle_before = other.clocks()
        switches = worker.voluntary_switches()
        before = worker.clocks()
        budget = timeout or self.settings.call_budget * 2 * loops + 5
        reply = worker.ask(p.TimingCommand(p.Command.RUN, limit=limit), timeout=budget)
        after = worker.clocks()
        # The worker blocks on its channel after replying: that switch is not the function's.
        waits = max(0, worker.voluntary_switches() - switches - 1)
        idle_after = other.clocks()
        if not reply.ok:
            raise Untimeable(reply.detail)
        cpu, wall = after.cpu - before.cpu, after.wall - before.wall
        self.timed[which] += cpu
        if which == 0 and idle_after.cpu - idle_before.cpu > IDLE_CPU_SECONDS + 0.01 * cpu:
            raise Untimeable("the candidate's worker kept running while the original was timed")
        return cpu, wall, reply.digest, waits


def _spread(reached: list[int]) -> list[int]:
    """At most three sizes: the smallest, a middle one (geometrically) and the largest."""
    if len(reached) <= 3:
        return reached
    middle = math.sqrt(reached[0] * reached[-1]) if reached[0] > 0 else reached[len(reached) // 2]
    closest = min(reached[1:-1], key=lambda size: abs(size - middle))
    return [reached[0], closest, reached[-1]]
