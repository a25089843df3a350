"""The `optimize` command line: one parser, real subcommands, one set of exit codes.

`run` is the default command: `optimize src/` means `optimize run src/`. A
first argument that is not a subcommand name selects `run` (so a file named
like a subcommand needs a path prefix: `optimize ./verify`). Each subcommand's
module adds its parser and its handler; `ExitCode` is shared by all of them.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import NoReturn

from pipeline.cli import log, merge, review, trace, verify
from pipeline.cli import run as run_command
from pipeline.cli.exit_codes import ExitCode
from pipeline.report.summary import tool_version

DEFAULT_COMMAND = "run"
COMMANDS_EPILOG = """\
commands:
  optimize [run] PATH...      optimise files or directories (this command)
  optimize verify A.py::f B.py::g
                              are two functions equivalent?
  optimize review --base REF  verified speedups for changed functions (CI)
  optimize log [--last]       what past runs did, and why
  optimize merge A B ...      combine --json or SARIF outputs of sharded runs
  optimize trace app.py ARGS  record a real run (or: trace -m pytest tests/)

exit codes: 0 nothing to do or done, 1 --check/review found speedups (verify:
counterexample), 2 error, 130 interrupted.
"""


class _Parser(argparse.ArgumentParser):
    """Usage errors are one line and exit 2, like every other error."""

    def error(self, message: str) -> NoReturn:
        self.exit(ExitCode.ERROR, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


def build_parser() -> tuple[argparse.ArgumentParser, set[str]]:
    """The parser, and the names of its subcommands."""
    parser = _Parser(
        prog="optimize",
        description="Make Python code faster, and prove it: verified, timed rewrites.",
        epilog=COMMANDS_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"optimize {tool_version()}")
    subparsers = parser.add_subparsers(
        dest="command", metavar="COMMAND", required=True, parser_class=_Parser
    )
    run_command.add_parser(subparsers, COMMANDS_EPILOG)
    verify.add_parser(subparsers)
    review.add_parser(subparsers)
    log.add_parser(subparsers)
    merge.add_parser(subparsers)
    trace.add_parser(subparsers)
    return parser, set(subparsers.choices)


def main(argv: Sequence[str] | None = None) -> int:
    parser, commands = build_parser()
    arguments = list(sys.argv[1:] if argv is None else argv)
    try:
        args = parser.parse_args(with_default_command(arguments, commands))
        return int(args.handler(args))
    except KeyboardInterrupt as interrupt:
        # Writes are atomic and happen as files finish, so what was decided is kept.
        detail = f": {interrupt}" if str(interrupt) else ""
        print(f"optimize: interrupted{detail}", file=sys.stderr)
        return ExitCode.INTERRUPTED


def with_default_command(arguments: list[str], commands: set[str]) -> list[str]:
    """`run` unless a subcommand is named; for `trace`, the traced program kept apart."""
    if arguments[:1] == ["trace"]:
        return ["trace", *trace.with_program_separated(arguments[1:])]
    if arguments[:1] == ["--version"] or (arguments and arguments[0] in commands):
        return arguments
    return [DEFAULT_COMMAND, *arguments]


if __name__ == "__main__":
    sys.exit(main())
