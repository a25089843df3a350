"""The traced workload as `optimize PATH` uses it: real calls, shares of time, savings.

`optimize trace` stores functions by file (relative to the project root) and
qualname; the pipeline names them by module and qualname, the module named
the way the parse stage names it, so both sides agree on what a file is.
Recorded calls stay bytes here: they are unpickled only in the sandbox.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

from pipeline.config import Config
from pipeline.model import Timing, TraceFacts, WorkloadShare
from pipeline.observed_types import observed_types
from pipeline.stages.parse import module_location
from pipeline.trace.store import DEFAULT_STORE, FunctionStats, StoreError, TraceStore

__all__ = [
    "StoreError",
    "Workload",
    "default_store",
    "recorded_calls",
    "workload_for",
]


@dataclass(frozen=True)
class FunctionLoad:
    """One traced function's part of the workload."""

    module: str
    qualname: str
    path: Path  # absolute
    stats: FunctionStats
    share: float  # own time / the workload's time

    @property
    def label(self) -> str:
        return f"{self.module}.{self.qualname}"


class Workload:
    """A trace store, read once: per function its counts and times; calls on demand."""

    def __init__(self, store: Path, root: Path) -> None:
        self.store = store
        with TraceStore(store) as trace:
            runs, functions = trace.runs(), trace.functions()
        self.runs = runs
        self.seconds = sum(run.wall_ns for run in runs) / 1e9
        self.functions: dict[tuple[str, str], FunctionLoad] = {}
        modules: dict[Path, str] = {}  # one file's functions share its name: found once
        for stats in functions:
            path = (root / stats.path).resolve()
            if path not in modules:
                modules[path] = module_location(path)[0]
            module = modules[path]
            share = stats.own_ns / 1e9 / self.seconds if self.seconds > 0 else 0.0
            self.functions[(module, stats.qualname)] = FunctionLoad(
                module, stats.qualname, path, stats, share
            )

    def function(self, module: str, qualname: str) -> FunctionLoad | None:
        return self.functions.get((module, qualname))

    def calls(self, module: str, qualname: str) -> tuple[bytes, ...]:
        """The recorded calls, as pickles (never unpickled here)."""
        load = self.function(module, qualname)
        if load is None or not load.stats.recorded:
            return ()
        with TraceStore(self.store) as trace:
            return trace.calls(load.stats.path, qualname)

    def traces(self, module: str, qualnames: Iterable[str]) -> dict[str, TraceFacts]:
        """What the trace saw of each of the module's functions that ran (see `TraceFacts`)."""
        loads = [load for q in qualnames if (load := self.function(module, q)) is not None]
        if not loads:
            return {}
        with TraceStore(self.store) as trace:
            return {load.qualname: self._facts(trace, load) for load in loads}

    def trace_of(self, module: str, qualname: str) -> TraceFacts | None:
        return self.traces(module, [qualname]).get(qualname)

    def _facts(self, trace: TraceStore, load: FunctionLoad) -> TraceFacts:
        stats = load.stats
        shapes = trace.shapes(stats.path, stats.qualname) if stats.recorded else ()
        observed = observed_types(shapes)
        return TraceFacts(
            calls=stats.calls,
            own_share=load.share,
            total_seconds=stats.total_ns / 1e9,
            workload_seconds=self.seconds,
            recorded=stats.recorded,
            outermost=trace.outermost_count(stats.path, stats.qualname),
            distinct=len(set(trace.calls(stats.path, stats.qualname))) if stats.recorded else 0,
            parameters=tuple(o for o in observed if not o.name.startswith("self.")),
            attributes=tuple(o for o in observed if o.name.startswith("self.")),
            sizes=tuple(sorted(trace.size_counts(stats.path, stats.qualname).items())),
        )

    def hottest(self, paths: Sequence[Path], count: int) -> list[FunctionLoad]:
        """The `count` functions with the largest own time, in files under `paths`."""
        roots = [p.resolve() for p in paths]
        inside = [
            load
            for load in self.functions.values()
            if any(load.path == r or load.path.is_relative_to(r) for r in roots)
        ]
        return sorted(inside, key=lambda load: load.stats.own_ns, reverse=True)[:count]

    def share(self, module: str, qualname: str, timing: Timing | None) -> WorkloadShare | None:
        """The function's share of the workload and, if `timing` measured a rewrite, the
        share of the whole workload it saves (see `WorkloadShare`)."""
        load = self.function(module, qualname)
        if load is None or self.seconds <= 0:
            return None
        share = WorkloadShare(load.share, load.stats.calls, self.seconds)
        measured = workload_ratio(timing)
        if measured is None:
            return share
        total = load.stats.total_ns / 1e9

        def saved(ratio: float) -> float:
            return total * (1 - 1 / ratio) / self.seconds

        ratio, low, high = measured
        return replace(share, saving=saved(ratio), saving_low=saved(low), saving_high=saved(high))


def workload_ratio(timing: Timing | None) -> tuple[float, float, float] | None:
    """(ratio, low, high) over the recorded calls, weighted as the traced calls were;
    the headline's when no recorded call was timed."""
    headline = timing.headline if timing is not None else None
    if headline is None:
        return None
    return headline.ratio, headline.low, headline.high


def default_store(config: Config) -> Path:
    return config.root / DEFAULT_STORE


@lru_cache(maxsize=4)
def _load(store: Path, root: Path) -> Workload:
    return Workload(store, root)


def workload_for(config: Config) -> Workload | None:
    """The workload of `config.trace_store`, read once per process; None when there is no trace."""
    if config.trace_store is None:
        return None
    return _load(config.trace_store.resolve(), config.root.resolve())


def recorded_calls(module: str, qualname: str, config: Config) -> tuple[bytes, ...]:
    workload = workload_for(config)
    return workload.calls(module, qualname) if workload is not None else ()
