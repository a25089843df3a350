"""The exit codes of every `optimize` command, like ruff's and black's."""

from __future__ import annotations

import sys
from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0  # nothing to do, or done
    FOUND = 1  # --check or review found speedups; verify found a counterexample
    ERROR = 2  # bad input, bad configuration, a failed write; nothing was lost
    INTERRUPTED = 130  # Ctrl-C: what was finished is kept


def fail(command: str, message: str) -> ExitCode:
    """Print a one-line error for `command` (e.g. "optimize review") and return ERROR."""
    print(f"{command}: error: {message}", file=sys.stderr)
    return ExitCode.ERROR
