"""One package through the steps: fetch, test, trace, optimise, test again, time.

Everything runs as a user would run it, in subprocesses: pytest on the package's
own tests, `optimize trace -m pytest ...`, `optimize PKG --write --json`. The
package is imported from its unpacked sdist through PYTHONPATH (all the pinned
packages are pure Python), with its test-only requirements in a `pip install
--target` directory next to it; nothing is installed into the running
environment.

Cache layout (`--cache`, default ~/.cache/optimize-realcode):
`sdists/` the downloads, `pristine/NAME-VERSION/` the unpacked sdist (never
written: the "before" side of the timing), `deps/NAME/` test requirements,
`work/NAME/` a fresh copy per run, a git repository so the rewrite is a diff.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from benchmarks.harness import environment, geometric_mean
from benchmarks.realcode import junit, scripted
from benchmarks.realcode.packages import PYTEST_FLAGS, Package
from benchmarks.realcode.timing import WorkloadError, time_workload
from pipeline.trace.store import TraceStore

DEFAULT_CACHE = Path.home() / ".cache" / "optimize-realcode"
HOT_SHARE = 0.01  # a hot function takes at least this share of the package's own time
TEST_TIMEOUT = 900.0
OPTIMIZE_TIMEOUT = 3600.0
CLI = (sys.executable, "-m", "pipeline")
GIT = ("git", "-c", "user.name=realcode", "-c", "user.email=realcode@localhost")
Log = Callable[[str], None]


@dataclass(frozen=True)
class Settings:
    quick: bool
    llm: bool
    cache: Path
    top: int | None  # `optimize --top`: only the hottest N functions (quick runs)
    pairs: int  # interleaved before/after processes timing the workload
    repeats: int  # workload runs per process
    scripted_llm: bool = False  # the LLM path against `scripted.SCRIPTS` (see scripted.py)

    @classmethod
    def for_run(cls, quick: bool, llm: bool, cache: Path, scripted_llm: bool = False) -> Settings:
        if quick:
            return cls(quick, llm, cache, top=10, pairs=5, repeats=3, scripted_llm=scripted_llm)
        return cls(quick, llm, cache, top=None, pairs=10, repeats=3, scripted_llm=scripted_llm)

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "cache": str(self.cache), "hot_share": HOT_SHARE}


class StepError(RuntimeError):
    """A step that could not run (download, tests that do not start, a CLI error)."""


def run(packages: tuple[Package, ...], settings: Settings, log: Log) -> dict[str, Any]:
    started = time.perf_counter()
    machine = environment()  # before the run: the commit whose code runs
    rows = []
    for package in packages:
        log(f"== {package.spec}")
        rows.append(run_package(package, settings, log))
    return {
        "environment": machine,
        "settings": settings.to_json(),
        "wall_seconds": time.perf_counter() - started,
        "headline": headline(rows),
        "packages": rows,
    }


def run_package(package: Package, settings: Settings, log: Log) -> dict[str, Any]:
    row: dict[str, Any] = {
        "name": package.name,
        "version": package.version,
        "kind": package.kind,
        "note": package.note,
        "error": None,
        "seconds": {},
    }
    try:
        _steps(package, settings, row, log)
    except StepError as error:
        row["error"] = str(error)
        log(f"   error: {error}")
    return row


def _steps(package: Package, settings: Settings, row: dict[str, Any], log: Log) -> None:
    clock = _Clock(row["seconds"])
    with clock("fetch"):
        pristine, deps = fetch(package, settings.cache)
        work = fresh_work_copy(pristine, settings.cache / "work" / package.name)
    row["lines"] = count_lines(work / package.package_dir)
    env = package_env(package, work, deps)
    reports = settings.cache / "reports" / package.name
    shutil.rmtree(reports, ignore_errors=True)
    reports.mkdir(parents=True)
    with clock("tests before"):
        before = run_tests(package, work, env, reports / "junit-before.xml")
    row["tests_before"] = junit.counts(before)
    log(f"   tests before: {row['tests_before']}")
    with clock("trace"):
        # The exit code is the tests': a suite with known failures is still a workload.
        trace = [*CLI, "trace", "--fresh", "-m", "pytest", *PYTEST_FLAGS, *package.tests]
        _run(trace, work, env, check=False)
    row["hot"] = hot_functions(work / ".optimize_cache" / "trace.sqlite", package.package_dir)
    with clock("optimize"):
        report = run_optimize(package, settings, work, env)
    summarise_optimize(row, report)
    if settings.scripted_llm:
        row["scripted"] = scripted.fates(scripted.SCRIPTS[package.name], row["outcomes"])
    log(
        f"   {row['candidates']} candidate(s), {row['written']} written, "
        f"rejected {row['rejected']}, {len(row['hot'])} hot function(s)"
    )
    row["diff"] = _git(work, "diff").stdout
    row["tests_after"] = None
    row["newly_failing"] = {}
    row["workload"] = None
    if not row["diff"]:
        return
    with clock("tests after"):
        after = run_tests(package, work, env, reports / "junit-after.xml")
    row["tests_after"] = junit.counts(after)
    row["newly_failing"] = junit.newly_failing(before, after)
    log(f"   tests after: {row['tests_after']}, newly failing: {len(row['newly_failing'])}")
    with clock("workload"):
        try:
            timing = time_workload(
                package.workload,
                before_env=package_env(package, pristine, deps),
                after_env=env,
                pairs=settings.pairs,
                repeats=settings.repeats,
            )
        except WorkloadError as error:
            raise StepError(f"workload: {error}") from error
    row["workload"] = timing.to_json()
    log(f"   workload: {timing.describe()}")


class _Clock:
    """Seconds per step into `seconds`, as `with clock("name"):`."""

    def __init__(self, seconds: dict[str, float]) -> None:
        self.seconds = seconds
        self.name = ""
        self.started = 0.0

    def __call__(self, name: str) -> _Clock:
        self.name = name
        return self

    def __enter__(self) -> None:
        self.started = time.perf_counter()

    def __exit__(self, *exc: object) -> None:
        self.seconds[self.name] = round(time.perf_counter() - self.started, 1)


def fetch(package: Package, cache: Path) -> tuple[Path, Path]:
    """The unpacked sdist and the test-requirements directory, downloaded once."""
    sdists = cache / "sdists"
    sdist = sdists / f"{package.name}-{package.version}.tar.gz"
    if not sdist.is_file():
        sdists.mkdir(parents=True, exist_ok=True)
        pip = [sys.executable, "-m", "pip", "download", "-q", "--no-binary", ":all:", "--no-deps"]
        _run([*pip, package.spec, "-d", str(sdists)], cache)
        if not sdist.is_file():
            raise StepError(f"pip download {package.spec} made no {sdist.name}")
    pristine = cache / "pristine" / f"{package.name}-{package.version}"
    if not pristine.is_dir():
        unpack(sdist, pristine)
    deps = cache / "deps" / package.name
    if package.test_deps and not deps.is_dir():
        pip = [sys.executable, "-m", "pip", "install", "-q", "--target", str(deps)]
        _run([*pip, *package.test_deps], cache)
    return pristine, deps


def unpack(sdist: Path, destination: Path) -> None:
    """The sdist's single top directory becomes `destination`."""
    staging = destination.with_name(destination.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    with tarfile.open(sdist) as archive:
        archive.extractall(staging, filter="data")
    tops = list(staging.iterdir())
    if len(tops) != 1 or not tops[0].is_dir():
        raise StepError(f"{sdist.name} has no single top directory")
    tops[0].rename(destination)
    staging.rmdir()


def fresh_work_copy(pristine: Path, work: Path) -> Path:
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(pristine, work)
    _git(work, "init", "-q")
    _git(work, "add", "-A")
    _git(work, "commit", "-q", "--no-verify", "-m", "pristine sdist")
    return work


def count_lines(directory: Path) -> int:
    return sum(len(path.read_bytes().splitlines()) for path in sorted(directory.rglob("*.py")))


def package_env(package: Package, root: Path, deps: Path) -> dict[str, str]:
    """The package's source first, its test requirements, then whatever was there
    (the benchmark runs with this worktree on PYTHONPATH, so `-m pipeline` is it)."""
    paths = [str(root / package.import_root)]
    if package.test_deps:
        paths.append(str(deps))
    if os.environ.get("PYTHONPATH"):
        paths.append(os.environ["PYTHONPATH"])
    return {**os.environ, **package.env, "PYTHONPATH": os.pathsep.join(paths)}


def run_tests(package: Package, root: Path, env: dict[str, str], xml: Path) -> dict[str, str]:
    """The package's tests; the outcome of each, whatever pytest's exit code (a
    suite with known failures still has a baseline)."""
    command = [sys.executable, "-m", "pytest", *PYTEST_FLAGS, *package.tests, f"--junitxml={xml}"]
    done = _run(command, root, env, check=False)
    try:
        results = junit.read_outcomes(xml)
    except junit.JUnitError as error:
        raise StepError(f"pytest exited {done.returncode}: {error}: {_tail(done)}") from error
    if not results:
        raise StepError(f"pytest ran no tests: {_tail(done)}")
    return results


def run_optimize(
    package: Package, settings: Settings, work: Path, env: dict[str, str]
) -> dict[str, Any]:
    command = [*CLI, package.package_dir, "--write", "--json", "-q"]
    if settings.scripted_llm:
        script = scripted.SCRIPTS.get(package.name)
        if script is None:
            raise StepError(f"--scripted-llm: no script for {package.name} (scripted.SCRIPTS)")
        scripted.configure(work, GIT)
        with scripted.endpoint(script) as endpoint:
            command += scripted.arguments(script)
            done = _run(command, work, {**env, **endpoint}, check=False, timeout=OPTIMIZE_TIMEOUT)
        return _report(done)
    command.append("--llm" if settings.llm else "--no-llm")
    if settings.top:
        command += ["--top", str(settings.top)]
    return _report(_run(command, work, env, check=False, timeout=OPTIMIZE_TIMEOUT))


def _report(done: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    if done.returncode not in (0, 1):
        raise StepError(f"optimize exited {done.returncode}: {_tail(done)}")
    try:
        report: dict[str, Any] = json.loads(done.stdout)
    except json.JSONDecodeError as error:
        raise StepError(f"optimize --json printed no JSON ({error}): {_tail(done)}") from error
    return report


def hot_functions(store: Path, package_dir: str) -> list[dict[str, Any]]:
    """Functions of the package (not its tests) with at least HOT_SHARE of the
    package's own time in the traced test run, hottest first."""
    if not store.is_file():
        raise StepError("optimize trace wrote no trace store")
    with TraceStore(store) as trace:
        functions = trace.functions()
    prefix = package_dir.rstrip("/") + "/"
    inside = [f for f in functions if f.path.startswith(prefix)]
    total = sum(f.own_ns for f in inside) or 1
    hot = [
        {
            "path": f.path,
            "function": f.qualname,
            "calls": f.calls,
            "share": f.own_ns / total,
            "recorded": f.recorded,
            "unpicklable": f.unpicklable,
        }
        for f in inside
        if f.own_ns / total >= HOT_SHARE
    ]
    return sorted(hot, key=lambda h: h["share"], reverse=True)


def summarise_optimize(row: dict[str, Any], report: dict[str, Any]) -> None:
    """Counts from `optimize --json`, and each hot function's fate."""
    totals = report["totals"]
    outcomes = [
        {**outcome, "path": file["path"], "written": file["written"] and outcome["accepted"]}
        for file in report["files"]
        for outcome in file["outcomes"]
    ]
    row["functions_examined"] = totals["functions"]
    row["candidates"] = totals["candidates"]
    row["accepted"] = totals["accepted"]
    row["written"] = sum(1 for o in outcomes if o["written"])
    row["rejected"] = dict(totals["rejected"])
    row["unverifiable"] = totals["unverifiable"]
    row["optimize_errors"] = totals["errors"] + sum(1 for f in report["files"] if f["error"])
    row["llm_tokens"] = totals["llm_tokens"]
    row["outcomes"] = [
        {
            "path": o["path"],
            "function": o["function"],
            "origin": o["origin"],
            "rules": o["rules"],
            "accepted": o["accepted"],
            "written": o["written"],
            "reason": o["reason"],
            "explanation": o.get("explanation", ""),
            "speedup": (o.get("timing") or {}).get("speedup"),
        }
        for o in outcomes
    ]
    for hot in row["hot"]:
        mine = [
            o
            for o in row["outcomes"]
            if o["path"] == hot["path"] and o["function"] == hot["function"]
        ]
        hot["fate"] = function_fate(mine)


def function_fate(outcomes: list[dict[str, Any]]) -> str:
    if any(o["written"] for o in outcomes):
        return "written"
    if outcomes:
        return "rejected: " + "; ".join(sorted({o["reason"] for o in outcomes}))
    return "no candidate"


def headline(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The figures the README quotes; a package with nothing written counts as 1.0x."""
    done = [r for r in rows if r["error"] is None]
    hot = [h for r in done for h in r["hot"]]
    rewritten = [h for h in hot if h["fate"] == "written"]
    ratios = [(r["workload"] or {}).get("ratio") or 1.0 for r in done]
    return {
        "packages": len(rows),
        "packages_failed": len(rows) - len(done),
        "candidates": sum(r["candidates"] for r in done),
        "written": sum(r["written"] for r in done),
        # Every row: a package whose workload step failed after its tests broke still counts.
        "wrong_outputs": sum(wrong_outputs(r) for r in rows),
        "workload_geomean": geometric_mean(ratios),
        "hot_functions": len(hot),
        "hot_rewritten": len(rewritten),
        "hot_rewritten_share": len(rewritten) / len(hot) if hot else 0.0,
        "hot_without_candidate": sum(1 for h in hot if h["fate"] == "no candidate"),
    }


def wrong_outputs(row: dict[str, Any]) -> int:
    """Tests broken by the rewrite, plus one if the workload's result changed, plus each
    scripted wrong proposal that was written."""
    workload = row.get("workload") or {}
    changed = workload.get("same_output") is False
    return len(row.get("newly_failing") or {}) + changed + scripted.wrong_written(row)


def _run(
    command: list[str],
    cwd: Path,
    env: dict[str, str] | None = None,
    check: bool = True,
    timeout: float = TEST_TIMEOUT,
) -> subprocess.CompletedProcess[str]:
    try:
        done = subprocess.run(
            command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired as error:
        raise StepError(f"{' '.join(command[:6])} ... took over {timeout:.0f} s") from error
    if check and done.returncode != 0:
        raise StepError(f"{' '.join(command[:6])} ... exited {done.returncode}: {_tail(done)}")
    return done


def _git(work: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    return _run([*GIT, *arguments], work)


def _tail(done: subprocess.CompletedProcess[str], lines: int = 3) -> str:
    text = (done.stderr or done.stdout or "").strip().splitlines()
    return " | ".join(text[-lines:])
