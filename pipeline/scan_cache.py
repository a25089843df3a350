"""A content-hash cache of scan findings (`--no-verify`), as Ruff caches lint results.

An unchanged file costs one read, one SHA-256 and one dictionary lookup. The
cache is one JSON file per *settings key* under `.optimize_cache/scan/` (or
`$OPTIMIZE_CACHE_DIR/scan/`): the key covers everything besides the file's
bytes that a finding depends on: the tool's version and the size and mtime of
every source file of `passes/` and `pipeline/` (so an edited pass is a new key
during development), the Python version (`ast` and libcst parse by it), the
selected passes, the file size limit and where the project's style comes from.
Inside, each file is stored under its resolved path with the hash of its
bytes; a changed file is a miss and is scanned again. Only this module's small
imports are needed for a hit: no libcst, no passes.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import platform
import shutil
import tempfile
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

from pipeline.model import Candidate, CandidateOrigin, FileReport, Outcome, Verdict, VerdictStatus

FORMAT = 1
CACHE_DIR_NAME = ".optimize_cache"
CACHE_DIR_ENV = "OPTIMIZE_CACHE_DIR"
_PACKAGES = ("passes", "pipeline")
UNVERIFIED = Verdict(VerdictStatus.NOT_RUN, 0, (), "not verified (--no-verify)")


class ScanCache:
    def __init__(self, directory: Path, settings: dict[str, Any]) -> None:
        text = json.dumps({**settings, "format": FORMAT, "tool": source_fingerprint()},
                          sort_keys=True)  # fmt: skip
        self.path = directory / f"{hashlib.sha256(text.encode()).hexdigest()[:32]}.json"
        self.entries: dict[str, dict[str, Any]] = self._load()
        self.hits = 0
        self._dirty = False

    @classmethod
    def for_project(
        cls, root: Path, select: Sequence[str], ignore: Sequence[str], max_file_bytes: int
    ) -> ScanCache:
        """$OPTIMIZE_CACHE_DIR/scan, else `.optimize_cache/scan/` at the project root."""
        configured = os.environ.get(CACHE_DIR_ENV)
        base = Path(configured) if configured else root / CACHE_DIR_NAME
        settings = {
            "python": platform.python_version(),
            "select": sorted(select),
            "ignore": sorted(ignore),
            "max_file_bytes": max_file_bytes,
            "style": style_fingerprint(root),
        }
        return cls(base / "scan", settings)

    def lookup(self, path: Path) -> tuple[FileReport | None, str]:
        """The cached report of `path` (None on a miss) and the hash of its bytes now."""
        try:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError:
            return None, ""
        entry = self.entries.get(str(path.resolve()))
        if entry is None or entry.get("sha256") != digest:
            return None, digest
        try:
            report = report_from_json(path, entry["report"])
        except (KeyError, TypeError, ValueError):
            return None, digest
        self.hits += 1
        return report, digest

    def store(self, path: Path, digest: str, report: FileReport) -> None:
        if digest:
            entry = {"sha256": digest, "report": report_to_json(report)}
            self.entries[str(path.resolve())] = entry
            self._dirty = True

    def save(self) -> None:
        """Write atomically; a cache that cannot be written only costs speed."""
        if not self._dirty:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            ignore = self.path.parent.parent / ".gitignore"
            if not ignore.exists():
                ignore.write_text("# created by optimize\n*\n", encoding="utf-8")
            descriptor, temporary = tempfile.mkstemp(dir=self.path.parent, suffix=".tmp")
            with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
                json.dump({"format": FORMAT, "files": self.entries}, handle)
            os.replace(temporary, self.path)
        except OSError:
            return

    def _load(self) -> dict[str, dict[str, Any]]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            return {}
        files = data.get("files")
        return files if isinstance(files, dict) else {}


@cache
def source_fingerprint() -> str:
    """The version, plus the size and mtime of every `.py` of the tool's packages."""
    from importlib import metadata

    try:
        version = metadata.version("optimize")
    except metadata.PackageNotFoundError:
        version = "unknown"
    digest = hashlib.sha256(version.encode())
    top = Path(__file__).resolve().parent.parent
    for package in _PACKAGES:
        for directory, _, names in sorted(os.walk(top / package)):
            for name in sorted(n for n in names if n.endswith(".py")):
                stat = os.stat(os.path.join(directory, name))
                digest.update(f"{directory}/{name}:{stat.st_size}:{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def style_fingerprint(root: Path) -> list[str]:
    """What the project's style is read from (`pipeline.stages.style`): its pyproject and
    Ruff files, and the formatters it may run. A rewrite is laid out in that style, and
    one that then loses a comment is no finding, so the findings depend on it."""
    sources = [root / name for name in ("pyproject.toml", "ruff.toml", ".ruff.toml")]
    sources += [Path(found) for found in map(shutil.which, ("black", "ruff")) if found]
    return [_stat_key(path) for path in sources]


def _stat_key(path: Path) -> str:
    try:
        stat = path.stat()
    except OSError:
        return f"{path}:-"
    return f"{path}:{stat.st_size}:{stat.st_mtime_ns}"


def report_to_json(report: FileReport) -> dict[str, Any]:
    return {
        "error": report.error,
        "functions": list(report.functions),
        "outcomes": [
            {"reason": o.reason, "candidate": _candidate_to_json(o.candidate)}
            for o in report.outcomes
        ],
    }


def report_from_json(path: Path, data: dict[str, Any]) -> FileReport:
    outcomes = tuple(
        Outcome(_candidate_from_json(o["candidate"]), UNVERIFIED, None, False, str(o["reason"]))
        for o in data["outcomes"]
    )
    functions = tuple(str(name) for name in data["functions"])
    return FileReport(path, outcomes, error=data["error"], functions=functions)


def _candidate_to_json(candidate: Candidate) -> dict[str, Any]:
    data = dataclasses.asdict(candidate)
    data["project_root"] = str(candidate.project_root) if candidate.project_root else None
    return data


def _candidate_from_json(data: dict[str, Any]) -> Candidate:
    root = data.get("project_root")
    return Candidate(
        **{
            **data,
            "rules": tuple(data["rules"]),
            "assumptions": tuple(data.get("assumptions", ())),
            "origin": CandidateOrigin(data["origin"]),
            "project_root": Path(root) if root else None,
        }
    )
