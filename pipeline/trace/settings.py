"""What a trace records, and its bounds: `[tool.optimize.trace]`. Stdlib only."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TraceSettings:
    """Bounds of the sample of real calls kept per function."""

    calls_per_function: int = 32
    max_call_bytes: int = 1 << 20  # one call's pickle; a larger call is counted and skipped
    max_function_bytes: int = 8 << 20  # all of one function's kept calls together
