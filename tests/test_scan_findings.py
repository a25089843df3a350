"""What the scan finds depends only on each function, never on unrelated code.

The scan (`--no-verify`) gives libcst only the defs the prefilter keeps, inside
a stand-in for their module. Its findings must be those of a full libcst run
(every pass over the whole module, no prefilter), over real code nobody here
wrote: a fixed stdlib sample, and every def of it moved alone into its own file.
A function whose own text no pass changes is never a candidate.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import sysconfig
from pathlib import Path

import libcst as cst
import pytest

from passes import all_passes
from pipeline.config import Config
from pipeline.stages.analyze import analyze
from pipeline.stages.defs import DefSite, inventory, span
from pipeline.stages.orchestrate import scan_file
from pipeline.stages.parse import parse_tree, physical_lines, read_source
from pipeline.stages.rewrite import propose, run_passes

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


# --- the scan against a full libcst run -----------------------------------------------

STDLIB = Path(sysconfig.get_paths()["stdlib"])
# Real code nobody here wrote, with findings in functions and in methods (and without).
SAMPLE = ("tkinter/font.py", "distutils/archive_util.py", "curses/textpad.py", "colorsys.py",
          "mailcap.py")  # fmt: skip
Findings = set[tuple[str, tuple[str, ...]]]


def full_libcst_findings(text: str) -> Findings:
    """Every pass over the whole module with libcst, no prefilter and no stand-in, in
    rounds to a fixed point (`run_passes` without the prefilter's `applicable`): the
    units (functions and methods) whose own text changed."""
    _, fired = run_passes(all_passes(), cst.parse_module(text))
    return set(fired.items())


def scan_findings(path: Path) -> Findings:
    return _found(path)


@pytest.mark.parametrize("name", SAMPLE)
def test_scan_finds_what_a_full_libcst_run_finds(name: str, tmp_path: Path) -> None:
    path = tmp_path / Path(name).name
    path.write_bytes((STDLIB / name).read_bytes())
    assert scan_findings(path) == full_libcst_findings(path.read_text())


def alone_in_a_file(source: str, site: DefSite) -> str:
    """The module's imports, then the def `site` alone (a method under bare headers of
    its classes, indented as in the module)."""
    lines = physical_lines(source)
    tree = ast.parse(source)
    imports = [
        "".join(lines[node.lineno - 1 : node.end_lineno]).lstrip()
        for node in tree.body
        if isinstance(node, ast.Import | ast.ImportFrom)
    ]
    headers = [
        lines[cls.lineno - 1][: len(lines[cls.lineno - 1]) - len(lines[cls.lineno - 1].lstrip())]
        + f"class {cls.name}:\n"
        for cls in site.classes
    ]
    start, end = span(site.node)
    return "".join([*imports, "\n\n", *headers, *lines[start - 1 : end]])


@pytest.mark.parametrize("name", SAMPLE)
def test_every_def_alone_in_its_own_file_is_found_as_in_the_module(
    name: str, tmp_path: Path
) -> None:
    """Each unit moved alone into a file: the scan finds there what a full libcst run
    finds, and that is what the scan found for it in its module."""
    source = (STDLIB / name).read_text()
    in_module = _found_in(tmp_path / "module.py", source)
    units = [site for site in inventory(ast.parse(source)) if site.is_unit]
    assert units
    alone: Findings = set()
    for number, site in enumerate(units):
        text = alone_in_a_file(source, site)
        found = _found_in(tmp_path / f"unit_{number}.py", text)
        assert found == full_libcst_findings(text), site.qualname
        alone |= found
    assert alone == in_module


def _found_in(path: Path, text: str) -> Findings:
    path.write_text(text)
    return _found(path)


def test_a_trigger_split_over_lines_still_sends_the_def_to_libcst(tmp_path: Path) -> None:
    """test_sort.py's `[x for` / `x in range(100)]`: OPT114's trigger " for " is there
    once the line break is read as a space (the scan used to miss it)."""
    text = "def numbers() -> list[int]:\n    return [x for\n            x in range(100)]\n"
    found = _found_in(tmp_path / "split.py", text)
    assert found == full_libcst_findings(text) == {("numbers", ("OPT114",))}
