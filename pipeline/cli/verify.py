"""`optimize verify A.py::func B.py::other`: check any two functions for equivalence.

Exit codes: 0 equivalent, 1 counterexample (printed side by side), 2 error or
the pair cannot be verified. The first function is the reference; recursive
calls inside it go to itself, because each file is loaded as its own module.
"""

from __future__ import annotations

import argparse
import ast
import json
import textwrap
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from pipeline.cli.exit_codes import ExitCode, fail
from pipeline.config import Config, ConfigError, load_config
from pipeline.model import Candidate, CandidateOrigin, Verdict, VerdictStatus
from pipeline.stages.defs import inventory, self_unused
from pipeline.stages.parse import InputError, read_source
from pipeline.stages.verify import verify

COLUMN_WIDTH = 48


class TargetError(ValueError):
    """A `path::function` argument that does not name a function or method of the file."""


@dataclass(frozen=True)
class Target:
    path: Path
    function: str  # a qualname: `parse`, `Cart.total`
    text: str
    self_unused: bool = False

    @property
    def label(self) -> str:
        return f"{self.path.name}::{self.function}"


def add_parser(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "verify",
        help="check two functions for equivalence",
        description="Check that two functions behave identically on generated inputs.",
        epilog="Exit codes: 0 equivalent, 1 counterexample found, 2 error or unverifiable.",
    )
    parser.add_argument("original", help="reference function, as path.py::name "
                        "(a method: path.py::Class.name)")  # fmt: skip
    parser.add_argument("candidate", help="function to check against it, as path.py::name")
    parser.add_argument("--max-examples", type=int, metavar="N", help="inputs to try")
    parser.add_argument("--example-timeout", type=float, metavar="S", help="per-call limit")
    parser.add_argument("--float-tolerance", type=float, metavar="X",
                        help="relative and absolute float tolerance (default: exact)")  # fmt: skip
    parser.add_argument("--json", action="store_true", help="print the verdict as JSON")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    try:
        original, candidate = parse_target(args.original), parse_target(args.candidate)
        config = _config(args, original.path)
    except (TargetError, InputError, ConfigError) as error:
        return fail("optimize verify", str(error))
    verdict = verify_targets(original, candidate, config)
    if args.json:
        print(json.dumps(_as_json(verdict), ensure_ascii=False))
    else:
        print(render(verdict, original, candidate))
    if verdict.status == VerdictStatus.EQUIVALENT:
        return ExitCode.OK
    if verdict.status == VerdictStatus.COUNTEREXAMPLE:
        return ExitCode.FOUND
    return ExitCode.ERROR


def parse_target(text: str) -> Target:
    path_text, separator, function = text.rpartition("::")
    names = function.split(".")
    if not separator or not path_text or not all(name.isidentifier() for name in names):
        raise TargetError(f"{text!r}: expected path.py::function_name or path.py::Class.method")
    path = Path(path_text)
    if not path.is_file():
        raise TargetError(f"{path}: no such file")
    source = read_source(path, 5_000_000)
    try:
        tree = ast.parse(source.text, filename=str(path))
    except SyntaxError as error:
        raise TargetError(f"{path}:{error.lineno}: syntax error: {error.msg}") from error
    site = next((s for s in inventory(tree) if s.qualname == function), None)
    if site is None:
        raise TargetError(f"{path}: no function or method named {function!r}")
    return Target(path, function, source.text, self_unused(site))


def _config(args: argparse.Namespace, start: Path) -> Config:
    config = load_config(start)
    changes = {
        "max_examples": args.max_examples,
        "example_timeout": args.example_timeout,
        "float_tolerance": args.float_tolerance,
    }
    changes = {key: value for key, value in changes.items() if value is not None}
    if any(value <= 0 for key, value in changes.items() if key != "float_tolerance"):
        raise ConfigError("--max-examples and --example-timeout must be positive")
    # The candidate file is a different module, so the reference's tests can't import it.
    return replace(config, verify=replace(config.verify, run_project_tests=False, **changes))


def verify_targets(original: Target, candidate: Target, config: Config) -> Verdict:
    """The pipeline's own verify stage, on two files' functions."""
    pair = Candidate(
        function=candidate.function,
        lineno=0,
        rules=(),
        origin=CandidateOrigin.PASS,
        original_code=original.text,
        module_code=candidate.text,
        module_name=original.path.stem if original.path.stem.isidentifier() else "module",
        project_root=original.path.resolve().parent,
        original_function=original.function,
        self_unused=original.self_unused and candidate.self_unused,
    )
    return verify(pair, config)


def render(verdict: Verdict, original: Target, candidate: Target) -> str:
    sources = ", ".join(verdict.strategy_sources) or "none"
    if verdict.status == VerdictStatus.EQUIVALENT:
        return f"equivalent: {verdict.examples} examples agreed (inputs from: {sources})"
    if verdict.status == VerdictStatus.NONDETERMINISTIC:
        return f"{verdict.detail} (inputs from: {sources})"
    if verdict.status == VerdictStatus.UNVERIFIABLE or verdict.counterexample is None:
        return f"unverifiable: {verdict.detail or 'no verdict'} (inputs from: {sources})"
    example = verdict.counterexample
    lines = [
        f"counterexample: {verdict.detail} (after {verdict.examples} examples)",
        f"input: {example.arguments}",
        "",
        side_by_side((original.label, example.original), (candidate.label, example.candidate)),
    ]
    return "\n".join(lines)


def side_by_side(left: tuple[str, str], right: tuple[str, str]) -> str:
    """Two titled blocks of text as columns, wrapped to fit a terminal."""
    columns = [
        [title, "-" * min(COLUMN_WIDTH, len(title)), *_wrap(body)] for title, body in (left, right)
    ]
    height = max(len(column) for column in columns)
    rows = []
    for index in range(height):
        cells = [column[index] if index < len(column) else "" for column in columns]
        rows.append(f"{cells[0]:<{COLUMN_WIDTH}} | {cells[1]}".rstrip())
    return "\n".join(rows)


def _wrap(body: str) -> list[str]:
    wrapped: list[str] = []
    for line in body.splitlines() or [""]:
        wrapped += textwrap.wrap(line, COLUMN_WIDTH, subsequent_indent="  ") or [""]
    return wrapped


def _as_json(verdict: Verdict) -> dict[str, object]:
    example = verdict.counterexample
    return {
        "status": verdict.status,
        "examples": verdict.examples,
        "strategy_sources": list(verdict.strategy_sources),
        "detail": verdict.detail,
        "counterexample": None
        if example is None
        else {
            "input": example.arguments,
            "original": example.original,
            "candidate": example.candidate,
        },
    }
