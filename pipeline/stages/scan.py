"""The `--no-verify` scan of many files: cached findings first, then `scan_file` in
worker processes for the files that changed.

A file whose bytes are unchanged since the last scan is answered from the scan
cache (`pipeline.scan_cache`) without importing libcst or the passes; only the
other files are scanned, the largest first so that `--jobs` workers finish
together.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from pipeline.config import Config
from pipeline.model import FileReport
from pipeline.scan_cache import ScanCache


def scan_files(
    paths: Sequence[Path], config: Config, jobs: int, cache: ScanCache | None = None
) -> list[FileReport]:
    """A report per path, in the order of `paths`."""
    found: dict[int, FileReport] = {}
    digests: dict[int, str] = {}
    for number, path in enumerate(paths):
        report, digest = cache.lookup(path) if cache is not None else (None, "")
        if report is not None:
            found[number] = report
        else:
            digests[number] = digest
    todo = sorted(digests, key=lambda n: -_size(paths[n]))
    for number, report in zip(todo, _scan([paths[n] for n in todo], config, jobs), strict=True):
        found[number] = report
        if cache is not None:
            cache.store(paths[number], digests[number], report)
    if cache is not None:
        cache.save()
    return [found[number] for number in range(len(paths))]


def _scan(paths: Sequence[Path], config: Config, jobs: int) -> list[FileReport]:
    if not paths:
        return []
    from concurrent.futures import ProcessPoolExecutor

    from pipeline.stages.orchestrate import scan_file  # libcst and the passes: misses only

    if jobs <= 1 or len(paths) < 2:
        return [scan_file(path, config) for path in paths]
    with ProcessPoolExecutor(max_workers=min(jobs, len(paths))) as pool:
        return list(pool.map(scan_file, paths, [config] * len(paths)))


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0
