"""All passes over a deterministic subset of the stdlib, and the scan path's promise.

The full run is `python -m benchmarks.stdlib_run`; this is its CI-sized subset.
The scan (`--no-verify`) must show exactly the candidates, and the texts, that
the verifying path (`--check`, `--write`) works on.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.stdlib_run import run, sample, stdlib_files
from passes import all_passes
from pipeline.config import Config
from pipeline.model import SourceFile
from pipeline.stages.analyze import analyze
from pipeline.stages.orchestrate import scan_file
from pipeline.stages.parse import parse_tree, read_source
from pipeline.stages.rewrite import propose
from pipeline.stages.stand_in import stand_in

SMALL_BYTES = 3_000
Findings = set[tuple[str, tuple[str, ...], str]]


def small_stdlib_files(count: int) -> list[Path]:
    return sample([p for p in stdlib_files() if 200 < p.stat().st_size < SMALL_BYTES], count)


def test_stdlib_subset_has_no_crash_and_every_transform_compiles() -> None:
    totals = run(small_stdlib_files(40), jobs=1)
    assert totals.files == 40
    assert totals.crashes == []
    assert totals.does_not_compile == []


def _findings_both_ways(source: SourceFile) -> tuple[Findings, Findings]:
    """(function, rules, text) of each candidate as the scan shows it and as the
    verifying path proposes it."""
    scanned = scan_file(source.path, Config())
    assert scanned.error is None
    per_function = {
        (o.candidate.function, o.candidate.rules, o.candidate.module_code) for o in scanned.outcomes
    }
    parsed, tree = parse_tree(source)
    facts = analyze(parsed, all_passes(), tree)
    whole_module = {
        (c.function, c.rules, c.module_code) for c in propose(parsed, facts, all_passes())
    }
    return per_function, whole_module


@pytest.mark.parametrize("path", small_stdlib_files(4), ids=lambda p: p.name)
def test_scan_shows_the_texts_the_write_path_works_on_stdlib(path: Path) -> None:
    per_function, whole_module = _findings_both_ways(read_source(path, 10**7))
    assert per_function == whole_module


def _example_modules() -> list[tuple[str, str]]:
    return [(p.code, p.EXAMPLES[0].before) for p in all_passes() if p.EXAMPLES]


@pytest.mark.parametrize(("code", "before"), _example_modules(), ids=lambda v: str(v)[:6])
def test_scan_shows_the_texts_the_write_path_works_on_examples(
    code: str, before: str, tmp_path: Path
) -> None:
    del code  # only names the test case
    path = tmp_path / "example.py"
    path.write_text(before)
    per_function, whole_module = _findings_both_ways(read_source(path, 10**7))
    assert per_function == whole_module


def test_stand_in_keeps_imports_and_stubs_every_other_binding(tmp_path: Path) -> None:
    """A module-level rebinding outside the function (here of `sorted`) reaches the stand-in;
    an import nested in a `try` stays nested, so a pass adding it does not find it present."""
    path = tmp_path / "shadow.py"
    source = (
        "def f(xs):\n    return sorted(xs)\n\nsorted = None\n\n"
        "try:\n    from os import (path,\n  sep)\nexcept ImportError as error:\n    pass\n"
        "class C: pass\n[y for y in ()]\n"
    )
    path.write_text(source)
    parsed, tree = parse_tree(read_source(path, 10**7))
    around = stand_in(tree, parsed.source.text).around({("f", 1)})
    assert around == (
        "if True:\n    from os import (path,\n  sep)\nsorted = None\nerror = None\nC = None\n"
    )


def test_scan_file_reports_unverified_and_keeps_the_file(tmp_path: Path) -> None:
    _, before = _example_modules()[0]
    path = tmp_path / "mod.py"
    path.write_bytes(before.encode())
    report = scan_file(path, Config())
    assert report.error is None
    assert report.outcomes and not any(o.accepted for o in report.outcomes)
    assert all(o.verdict.status == "not run" for o in report.outcomes)
    assert path.read_bytes() == before.encode()


def _optimize(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "pipeline", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


def test_cli_no_verify_check_exits_1_and_write_is_refused(tmp_path: Path) -> None:
    _, before = _example_modules()[0]
    path = tmp_path / "mod.py"
    path.write_bytes(before.encode())
    found = _optimize("--check", "--no-verify", "--no-llm", "--jobs", "2", str(path))
    assert found.returncode == 1, found.stderr
    assert "(unverified)" in found.stdout
    refused = _optimize("--write", "--no-verify", "--no-llm", str(path))
    assert refused.returncode == 2
    assert refused.stderr.strip().count("\n") == 0 and "--no-verify" in refused.stderr
    assert path.read_bytes() == before.encode()
    (tmp_path / "plain.py").write_text("x = 1\n")
    clean = _optimize("--check", "--no-verify", "--no-llm", str(tmp_path / "plain.py"))
    assert clean.returncode == 0, clean.stderr
