"""What the scan finds depends only on each function, never on unrelated code.

The scan (`--no-verify`) gives libcst only the defs the prefilter keeps, inside
a stand-in for their module. Its findings must be those of a full libcst run
(every pass over the whole module, no prefilter), over real code nobody here
wrote: a fixed stdlib sample, and every def of it moved alone into its own file.
A function whose own text no pass changes is never a candidate.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from passes import all_passes
from pipeline.config import Config
from pipeline.stages.analyze import analyze
from pipeline.stages.orchestrate import scan_file
from pipeline.stages.parse import parse_tree, read_source
from pipeline.stages.rewrite import propose

CONSUME = """\
def consume(jobs: list[int]) -> int:
    pending = list(jobs)
    done = 0
    while pending:
        done += pending.pop(0) % 7
    return done
"""
DRAIN = """\


def drain(items: list[int]) -> int:
    pending = list(items)
    total = 0
    while pending:
        job = pending.pop(0)
        total += job
    return total
"""


def _found(path: Path) -> set[tuple[str, tuple[str, ...]]]:
    report = scan_file(path, Config())
    assert report.error is None, report.error
    return {(o.candidate.function, o.candidate.rules) for o in report.outcomes}


def test_a_function_is_found_alone_exactly_as_next_to_another(tmp_path: Path) -> None:
    """OPT107 rewrites `drain` and adds `from collections import deque` above `consume`;
    that moves `consume` down but does not change it, so it is no candidate."""
    alone, pair = tmp_path / "alone.py", tmp_path / "pair.py"
    alone.write_text(CONSUME)
    pair.write_text(CONSUME + DRAIN)
    assert _found(alone) == set()
    assert _found(pair) == {("drain", ("OPT107",))}
    parsed, tree = parse_tree(read_source(pair, 10**6))
    proposed = propose(parsed, analyze(parsed, all_passes(), tree), all_passes())
    assert [c.function for c in proposed] == ["drain"]


def test_cli_scan_reports_only_the_changed_function(tmp_path: Path) -> None:
    pair = tmp_path / "pair.py"
    pair.write_text(CONSUME + DRAIN)
    command = [sys.executable, "-m", "pipeline", "--check", "--no-verify", "--no-llm", str(pair)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 1, done.stderr
    assert "drain: OPT107" in done.stdout
    assert "consume" not in done.stdout
