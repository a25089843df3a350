"""One run over many files, shared by `optimize` and `optimize review`.

Plans every file first (the cheap stages), so that progress can count
functions and a bad `--function` fails before any sandbox run; then works the
files in parallel (`--jobs`), reports progress, appends to the run log and
hands each finished file to the caller at once (so `--write` can write it).
Ctrl-C ends the run with a one-line summary of what was finished.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console

from pipeline.cache import VerdictCache
from pipeline.cli.options import Shard
from pipeline.cli.progress import display
from pipeline.config import Config, ConfigError, did_you_mean
from pipeline.model import FileReport, Outcome
from pipeline.report.summary import Skipped, Totals, run_environment, units
from pipeline.runlog import RunLog, runs_directory
from pipeline.stages.batch import run_in_parallel
from pipeline.stages.observe import Observer

if TYPE_CHECKING:  # the LLM stage (and the openai SDK) load only when an endpoint is set
    from pipeline.llm.stage import LLMStage
    from pipeline.stages.orchestrate import FilePlan


class Interrupted(KeyboardInterrupt):
    """Ctrl-C during a run; the message summarises what was finished and kept."""


class Session:
    def __init__(
        self,
        config: Config,
        argv: Sequence[str],
        err: Console,
        *,
        jobs: int = 1,
        shard: Shard | None = None,
        quiet: bool = False,
        settings: Mapping[str, Any] | None = None,
    ) -> None:
        self.config, self.err, self.jobs, self.shard, self.quiet = config, err, jobs, shard, quiet
        self.started = time.monotonic()
        run_settings = {**(settings or {}), "jobs": jobs, "shard": str(shard) if shard else None}
        self.environment = run_environment(config, **run_settings)
        self.skipped = Skipped()  # what the caller's file discovery left alone
        self.log = RunLog(runs_directory(config), config.llm.model)
        self.log.start(argv, self.environment)

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def plan(
        self, files: Sequence[Path], functions: Callable[[Path], Sequence[str]]
    ) -> tuple[list[FilePlan], list[FileReport]]:
        """Plans for the readable files (this machine's shard only), reports for the rest."""
        from pipeline.stages.orchestrate import plan_file  # the stages and libcst: only now
        from pipeline.stages.parse import InputError

        plans: list[FilePlan] = []
        failed: list[FileReport] = []
        for path in files:
            try:
                plans.append(plan_file(path, self.config, functions(path)))
            except InputError as error:
                failed.append(FileReport(path, error=str(error)))
        if self.shard is not None:
            shard = self.shard
            plans = [
                dataclasses.replace(
                    plan,
                    facts=tuple(
                        f
                        for f in plan.facts
                        if shard.owns(plan.path, f.info.qualname, self.config.root)
                    ),
                )
                for plan in plans
            ]
        return plans, failed

    def work(
        self,
        plans: Sequence[FilePlan],
        decided: Callable[[FileReport], bool],
        cache: VerdictCache | None,
        llm: LLMStage | None = None,
    ) -> list[FileReport]:
        """Finished reports, in completion order; `decided` is called on each at once and
        returns whether it wrote the file."""
        total = sum(units([f.info.qualname for f in plan.facts]) for plan in plans)
        shown = display(total, self.err, self.quiet)
        observer = _Both(shown, self.log)
        reports: list[FileReport] = []
        written = 0

        from pipeline.stages.orchestrate import finish_file

        def work_on(plan: FilePlan, relay: Observer) -> FileReport:
            return finish_file(plan, self.config, cache, llm, relay)

        try:
            for report in run_in_parallel(plans, work_on, self.jobs, observer):
                reports.append(report)
                wrote = decided(report)
                written += wrote
                self.log.file(report, wrote)
        except KeyboardInterrupt:
            shown.close()
            totals = Totals.of(reports)
            message = (
                f"after {observer.finished} of {total} function(s): "
                f"{totals.accepted} verified speedup(s), {written} file(s) written; "
                f"finished files are kept ({self.elapsed:.1f} s)"
            )
            self.end(reports, 130, interrupted=True)
            raise Interrupted(message) from None
        shown.close()
        return reports

    def end(self, reports: Sequence[FileReport], exit_code: int, **fields: Any) -> None:
        totals = Totals.of(reports).to_json()
        self.log.end(totals=totals, skipped=self.skipped.to_json(), exit_code=exit_code,
                     wall_seconds=round(self.elapsed, 3), **fields)  # fmt: skip


def check_functions(wanted: Sequence[str], known: Collection[str]) -> None:
    """Every `--function` name is one of the `known` functions of the files."""
    for name in wanted:
        if name not in known:
            hint = did_you_mean(name, sorted(known))
            raise ConfigError(f"--function {name}: no module-level function of that name{hint}")


class _Both:
    """Progress sees the functions; the run log sees every candidate."""

    def __init__(self, shown: Observer, log: RunLog) -> None:
        self.shown, self.log = shown, log
        self.finished = 0

    def function_started(self, path: Path, function: str) -> None:
        self.shown.function_started(path, function)

    def function_finished(self, path: Path, function: str, outcomes: Sequence[Outcome]) -> None:
        self.finished += units([function])
        self.shown.function_finished(path, function, outcomes)

    def candidate_evaluated(
        self, path: Path, outcome: Outcome, seconds: Mapping[str, float], started: float
    ) -> None:
        self.log.candidate(path, outcome, seconds, started)
