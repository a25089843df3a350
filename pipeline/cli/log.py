"""`optimize log [--last | RUN]`: what past runs did, and why each rewrite was accepted."""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from pipeline.cli.exit_codes import ExitCode, fail
from pipeline.config import ConfigError, load_config
from pipeline.model import SizeDecision, SizeTiming
from pipeline.report.summary import Totals, summary_lines
from pipeline.report.terminal import ratio_text
from pipeline.runlog import read_events, run_files, runs_directory

COMMAND = "optimize log"


def add_parser(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "log",
        help="summarise past runs from the run log",
        description=(
            "Every run appends JSON Lines to .optimize_cache/runs/. Without arguments, "
            "list the logged runs; with --last or RUN, show one run candidate by candidate."
        ),
    )
    parser.add_argument("run", nargs="?", metavar="RUN", help="a run's file name (see the list)")
    parser.add_argument("--last", action="store_true", help="show the most recent run")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    try:
        directory = runs_directory(load_config(Path.cwd()))
    except ConfigError as error:
        return fail(COMMAND, str(error))
    runs = run_files(directory)
    if not runs:
        return fail(COMMAND, f"no runs logged in {directory}")
    if args.run:
        chosen = _find(args.run, runs)
        if chosen is None:
            return fail(COMMAND, f"{args.run}: no such run in {directory}")
    elif args.last:
        chosen = runs[-1]
    else:
        for path in runs:
            print(_one_line(path))
        return ExitCode.OK
    for line in describe(read_events(chosen), chosen.name):
        print(line)
    return ExitCode.OK


def _find(name: str, runs: list[Path]) -> Path | None:
    matches = [p for p in runs if p.name == name or p.stem == name or str(p) == name]
    return matches[0] if matches else None


def _one_line(path: Path) -> str:
    events = read_events(path)
    start = next((e for e in events if e.get("event") == "run"), {})
    end = next((e for e in events if e.get("event") == "end"), None)
    command = " ".join(["optimize", *start.get("argv", [])[1:]])
    if end is None:
        outcome = "did not finish"
    else:
        totals = _totals(end)
        outcome = (
            f"{totals.accepted} accepted of {totals.candidates} candidate(s) in "
            f"{totals.functions} function(s), {end.get('wall_seconds', 0):.1f} s, "
            f"exit {end.get('exit_code')}" + (" (interrupted)" if end.get("interrupted") else "")
        )
    return f"{path.name}  {command}  {outcome}"


def _totals(end: Mapping[str, Any]) -> Totals:
    try:
        return Totals.from_json(end.get("totals", {}))
    except (KeyError, TypeError):
        return Totals()


def describe(events: list[dict[str, Any]], name: str) -> Iterator[str]:
    """The run, readable: its settings, then each file and candidate, then the totals."""
    stages: dict[str, list[str]] = {}
    verified = True
    for event in events:
        kind = event.get("event")
        if kind == "run":
            verified = event.get("settings", {}).get("verified", True)
            yield from _run_header(event, name)
        elif kind == "candidate":
            yield from _candidate(event)
        elif kind == "stage":
            spent = f"{event.get('stage')} {float(event.get('seconds', 0)):.2f} s"
            stages.setdefault(str(event.get("path")), []).append(spent)
        elif kind == "file":
            yield _file(event)
            if stages.get(str(event.get("path"))):
                yield "    stage times: " + ", ".join(stages.pop(str(event.get("path"))))
        elif kind == "truncated":
            yield f"(log truncated at {event.get('limit_bytes')} bytes)"
        elif kind == "end":
            yield from _end(event, verified)


def _run_header(event: Mapping[str, Any], name: str) -> Iterator[str]:
    command = " ".join(["optimize", *event.get("argv", [])[1:]])
    yield f"run {name}: {command}"
    yield (
        f"  started {event.get('started')} in {event.get('cwd')}; {event.get('tool')}, "
        f"{event.get('python')}, sandbox {event.get('sandbox')}"
    )
    settings = event.get("settings", {})
    config = settings.get("config", {})
    timing, verify = config.get("timing", {}), config.get("verify", {})
    yield (
        f"  settings: min_speedup {config.get('min_speedup')}, "
        f"max_examples {verify.get('max_examples')}, sizes {timing.get('sizes')}, "
        f"jobs {settings.get('jobs')}, shard {settings.get('shard') or 'none'}, "
        f"config {config.get('source') or 'defaults'}"
    )


def _candidate(event: Mapping[str, Any]) -> Iterator[str]:
    verdict = event.get("verdict") or {}
    source = "model " + str(event.get("model")) if event.get("model") else "pass"
    rules = "+".join(event.get("rules", [])) or "LLM"
    decision = "accepted" if event.get("accepted") else "rejected"
    yield (
        f"  {event.get('path')}:{event.get('line')} {event.get('function')}  {rules} ({source}) "
        f"{decision}: {event.get('reason')}"
    )
    sources = ", ".join(verdict.get("strategy_sources", [])) or "none"
    spent = event.get("seconds") or {}
    durations = ", ".join(f"{stage} {seconds:.1f} s" for stage, seconds in spent.items())
    yield (
        f"    verdict {verdict.get('status')} on {verdict.get('examples')} example(s) "
        f"(inputs from: {sources}); "
        + ("cached verdict" if event.get("cached") else durations or "no sandbox run")
        + f"; source sha256 {str(event.get('source_sha256'))[:12]}, "
        f"candidate sha256 {str(event.get('candidate_sha256'))[:12]}"
    )
    counterexample = verdict.get("counterexample")
    if counterexample:
        yield (
            f"    counterexample: input {counterexample.get('arguments')}; original "
            f"{counterexample.get('original')}; candidate {counterexample.get('candidate')}"
        )
    timing = event.get("timing")
    if timing and timing.get("sizes"):
        sizes = ", ".join(f"n={s.get('size')}: {_ratio(s)}" for s in timing["sizes"])
        yield f"    timing: {sizes}; {timing.get('python')}, sandbox {timing.get('isolation')}"
        recorded = timing.get("recorded_decision")
        if recorded:  # with a trace, the weighted recorded calls decide (samples per call)
            yield f"    decided by the {recorded.get('source')}: {_ratio(recorded)}"


def _ratio(size: Mapping[str, Any]) -> str:
    known = {f.name for f in dataclasses.fields(SizeTiming)}
    try:
        values = {k: v for k, v in size.items() if k in known}
        timing = SizeTiming(**{**values, "decision": SizeDecision(values["decision"])})
    except (KeyError, TypeError, ValueError):
        return f"{size.get('ratio')}"
    samples = f", {timing.samples} samples" if timing.samples else ""
    return f"{ratio_text(timing.ratio, timing.low, timing.high)} ({timing.decision.value}{samples})"


def _file(event: Mapping[str, Any]) -> str:
    state = (
        "error: " + str(event.get("error"))
        if event.get("error")
        else ("written" if event.get("written") else "not written")
    )
    tokens = f", {event.get('llm_tokens')} LLM token(s)" if event.get("llm_tokens") else ""
    digest = str(event.get("source_sha256") or "")[:12]
    return (
        f"  {event.get('path')} (sha256 {digest or '-'}): {len(event.get('functions', []))} "
        f"function(s), {event.get('candidates')} candidate(s), {event.get('accepted')} accepted"
        f"{tokens}; {state}"
    )


def _end(event: Mapping[str, Any], verified: bool) -> Iterator[str]:
    totals = _totals(event)
    seconds = float(event.get("wall_seconds", 0))
    if not verified:
        yield (f"  scan only (--no-verify): {totals.candidates} unverified candidate(s) in "
               f"{totals.files} file(s); {seconds:.1f} s")  # fmt: skip
    else:
        wrote = bool(event.get("written"))
        for line in summary_lines(totals, seconds, wrote=wrote, verbose=True):
            yield f"  {line}"
    ending = "interrupted" if event.get("interrupted") else f"exit {event.get('exit_code')}"
    yield f"  ended {event.get('finished')}, {ending}"
