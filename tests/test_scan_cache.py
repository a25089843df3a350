"""The scan cache: an unchanged file is answered from it, anything else is scanned again.

Real files, the real CLI in a subprocess, and the cache on disk; the hit count
comes from the real `ScanCache` the scan used.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from conftest import Runner
from test_scan_findings import DRAIN

from pipeline.config import Config
from pipeline.model import FileReport
from pipeline.scan_cache import ScanCache
from pipeline.stages.scan import scan_files

QUEUE = DRAIN.lstrip()  # a def OPT107 rewrites
PLAIN = "def plain(x: int) -> int:\n    return x + 1\n"


def _cache(root: Path, select: tuple[str, ...] = ()) -> ScanCache:
    return ScanCache.for_project(root, select, (), Config().max_file_bytes)


def _findings(reports: Sequence[FileReport]) -> list[tuple[str, str, tuple[str, ...]]]:
    return [(r.path.name, o.candidate.function, o.candidate.rules) for r in reports
            for o in r.outcomes]  # fmt: skip


def test_an_unchanged_file_is_a_hit_with_the_same_findings(tmp_path: Path) -> None:
    queue, plain = tmp_path / "queue.py", tmp_path / "plain.py"
    queue.write_text(QUEUE)
    plain.write_text(PLAIN)
    first = scan_files([queue, plain], Config(), 1, _cache(tmp_path))
    assert _findings(first) == [("queue.py", "drain", ("OPT107",))]

    again = _cache(tmp_path)
    second = scan_files([queue, plain], Config(), 1, again)
    assert again.hits == 2
    assert _findings(second) == _findings(first)
    assert [r.functions for r in second] == [r.functions for r in first]
    assert second[0].outcomes[0].candidate == first[0].outcomes[0].candidate


def test_a_changed_file_is_scanned_again(tmp_path: Path) -> None:
    path = tmp_path / "mod.py"
    path.write_text(QUEUE)
    scan_files([path], Config(), 1, _cache(tmp_path))
    path.write_text(PLAIN)
    cache = _cache(tmp_path)
    assert _findings(scan_files([path], Config(), 1, cache)) == []
    assert cache.hits == 0
    path.write_text(QUEUE)  # back to the first content: found again
    assert _findings(scan_files([path], Config(), 1, _cache(tmp_path))) == [
        ("mod.py", "drain", ("OPT107",))
    ]


def test_the_pass_selection_is_part_of_the_key(tmp_path: Path) -> None:
    path = tmp_path / "mod.py"
    path.write_text(QUEUE)
    scan_files([path], Config(), 1, _cache(tmp_path))
    other = _cache(tmp_path, ("OPT101",))
    assert other.path != _cache(tmp_path).path
    only = Config(select=("OPT101",))
    assert _findings(scan_files([path], only, 1, other)) == []
    assert other.hits == 0


def test_cli_scan_uses_the_project_cache_and_no_cache_bypasses_it(
    project: Path, run_cli: Runner
) -> None:
    (project / "queue.py").write_text(QUEUE)
    args = ("queue.py", "--check", "--no-verify", "--no-llm", "--json")
    first = run_cli(*args, cwd=project)
    assert first.returncode == 1, first.stderr
    [stored] = (project / ".optimize_cache" / "scan").glob("*.json")
    entries = json.loads(stored.read_text())["files"]
    assert [Path(p).name for p in entries] == ["queue.py"]

    second = run_cli(*args, cwd=project)
    assert second.returncode == 1, second.stderr
    assert json.loads(second.stdout)["files"] == json.loads(first.stdout)["files"]
    assert json.loads(second.stdout)["sandbox"] == "not used"

    stored.write_text("not json")  # a broken cache is a miss, never an error
    bypassed = run_cli(*args, "--no-cache", cwd=project)
    assert bypassed.returncode == 1, bypassed.stderr
    assert stored.read_text() == "not json"
    rebuilt = run_cli(*args, cwd=project)
    assert rebuilt.returncode == 1, rebuilt.stderr
    assert json.loads(stored.read_text())["files"]


def test_the_project_style_is_part_of_the_key(tmp_path: Path) -> None:
    """A rewrite is laid out in the project's style, so its pyproject is in the key."""
    before = _cache(tmp_path).path
    (tmp_path / "pyproject.toml").write_text("[tool.ruff]\nline-length = 79\n")
    assert _cache(tmp_path).path != before
