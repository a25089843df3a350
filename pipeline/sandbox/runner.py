"""The one runner for untrusted code: a child process with the best isolation available.

Levels, best first:
1. bubblewrap: read-only root, private /tmp, one writable scratch dir, no
   network, a new PID namespace, and a non-root uid when we are root;
2. `unshare -n`: no network, resource limits only;
3. a plain subprocess with resource limits (reported loudly).

Requests and results travel as JSON files in the scratch dir; nothing from
the child is ever unpickled.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import select
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any, Literal

from pipeline.model import Candidate

CHILD_SCRIPT = Path(__file__).with_name("child") / "optimize_child.py"
CPU_LIMIT_EXIT = 86  # mirrors optimize_child.CPU_LIMIT_EXIT
NOBODY = 65534
PRIVATE_TMP = Path("/tmp")

Isolation = Literal["bubblewrap", "unshare", "none"]
ISOLATION_WARNING = (
    "no sandbox available (install bubblewrap): candidate code runs with resource limits only"
)


@dataclass(frozen=True)
class Limits:
    cpu_seconds: int = 120
    memory_bytes: int = 4 << 30
    file_bytes: int = 64 << 20
    open_files: int = 256
    processes: int = 256
    wall_seconds: float = 180.0


@dataclass(frozen=True)
class ChildResult:
    payload: dict[str, Any] | None
    reason: str
    isolation: Isolation

    @property
    def ok(self) -> bool:
        return self.payload is not None


def run_candidate(
    candidate: Candidate, mode: str, settings: dict[str, Any], limits: Limits
) -> ChildResult:
    """Run the child on the original and candidate modules of `candidate`."""
    package, _, stem = candidate.module_name.rpartition(".")
    prefix = f"{package}." if package else ""
    request = {
        "mode": mode,
        "sys_path": [str(candidate.project_root)] if candidate.project_root else [],
        "original": {
            "path": f"{{scratch}}/original/{stem}.py",
            "module": f"{prefix}_optimize_original_{stem}",
            "function": candidate.reference_function,
        },
        "candidate": {
            "path": f"{{scratch}}/candidate/{stem}.py",
            "module": f"{prefix}_optimize_candidate_{stem}",
            "function": candidate.function,
        },
        mode: settings,
    }
    sources = {
        f"original/{stem}.py": candidate.original_code,
        f"candidate/{stem}.py": candidate.module_code,
    }
    return run_child(request, sources, limits)


def run_child(request: dict[str, Any], sources: dict[str, str], limits: Limits) -> ChildResult:
    """Write `sources` (relative path -> text) into a scratch dir and run the child on them.

    Each `{scratch}` in the request's strings is replaced by the scratch dir's path.
    """
    return _run_in_scratch(request, sources, limits, _unicode_tables())


def _run_in_scratch(
    request: dict[str, Any],
    sources: dict[str, str],
    limits: Limits,
    unicode_tables: Path | None,
    harvest: Callable[[Path], None] | None = None,
) -> ChildResult:
    isolation = best_isolation()
    scratch = Path(tempfile.mkdtemp(prefix="optimize-"))
    try:
        for relative, text in sources.items():
            target = scratch / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        if unicode_tables is not None:
            shutil.copytree(unicode_tables, scratch / ".hypothesis" / UNICODE_TABLES)
        request_text = json.dumps(request).replace("{scratch}", str(scratch))
        (scratch / "request.json").write_text(request_text, encoding="utf-8")
        _hand_over(scratch, isolation)
        command = _command(isolation, scratch, request) + _python_command(scratch)
        returncode, timed_out = _run(command, scratch, limits)
        result = _collect(scratch, returncode, timed_out, isolation, limits)
        if harvest is not None and result.ok:
            harvest(scratch)
        return result
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


# --------------------------------------------------------------------------- hypothesis tables

UNICODE_TABLES = "unicode_data"


@cache
def _unicode_tables() -> Path | None:
    """Hypothesis's Unicode tables, built once by a child that runs none of the user's code.

    Each child starts with an empty Hypothesis dir; without these tables every
    verification of a `str` parameter spends seconds of CPU rebuilding them.
    """
    try:
        root = _cache_dir() / f"hypothesis-{metadata.version('hypothesis')}"
        tables = root / UNICODE_TABLES
        if tables.is_dir():
            return tables
        root.mkdir(parents=True, exist_ok=True)
    except (OSError, metadata.PackageNotFoundError):
        return None

    def keep_tables(scratch: Path) -> None:
        built = scratch / ".hypothesis" / UNICODE_TABLES
        staging = Path(tempfile.mkdtemp(dir=root))
        shutil.copytree(built, staging / UNICODE_TABLES)
        with contextlib.suppress(OSError):  # another process may have won the race
            (staging / UNICODE_TABLES).rename(tables)
        shutil.rmtree(staging, ignore_errors=True)

    with contextlib.suppress(OSError):
        _run_in_scratch({"mode": "prepare"}, {}, Limits(), None, keep_tables)
    return tables if tables.is_dir() else None


def _cache_dir() -> Path:
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "optimize"


def _python_command(scratch: Path) -> list[str]:
    return [sys.executable, "-s", "-B", str(CHILD_SCRIPT), str(scratch / "request.json")]


def child_environment(scratch: Path) -> dict[str, str]:
    """A scrubbed environment: nothing of the parent's, so no keys or tokens leak."""
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": str(scratch),
        "TMPDIR": str(scratch),
        "LANG": "C.UTF-8",
        "PYTHONHASHSEED": "0",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONIOENCODING": "utf-8",
        "HYPOTHESIS_STORAGE_DIRECTORY": str(scratch / ".hypothesis"),
    }


def _run(command: list[str], scratch: Path, limits: Limits) -> tuple[int, bool]:
    """Run `command` to completion or the wall-clock limit; leave none of its processes behind."""
    info_read, info_write = os.pipe()
    if command and command[0] == "bwrap":
        command = [command[0], "--info-fd", str(info_write), *command[1:]]
    try:
        with (scratch / "stdout.txt").open("wb") as out:
            process = subprocess.Popen(
                command,
                cwd=scratch,
                env=child_environment(scratch),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                pass_fds=(info_write,),
                preexec_fn=lambda: _apply_limits(limits),
            )
        os.close(info_write)
        info_write = -1
        timed_out = not _exits_within(process.pid, limits.wall_seconds)
        if timed_out:
            _kill_namespace(_sandbox_init_pid(info_read))
        # The child is a zombie now (not yet reaped), so its group id cannot be reused:
        # sweep up whatever it forked (levels 2 and 3 have no PID namespace to do it).
        _kill_group(process)
        return process.wait(), timed_out
    finally:
        os.close(info_read)
        if info_write >= 0:
            os.close(info_write)


def _exits_within(pid: int, seconds: float) -> bool:
    """Wait for `pid` to exit without reaping it; False when `seconds` run out first."""
    try:
        pidfd = os.pidfd_open(pid)
    except (AttributeError, OSError):
        return _polled_exit(pid, seconds)
    try:
        readable, _, _ = select.select([pidfd], [], [], seconds)
        return bool(readable)
    finally:
        os.close(pidfd)


def _polled_exit(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is None:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def _sandbox_init_pid(info_read: int) -> int | None:
    """The PID (as we see it) of PID 1 in bubblewrap's namespace, from its --info-fd."""
    os.set_blocking(info_read, False)
    try:
        info = json.loads(os.read(info_read, 4096).decode("utf-8"))
    except (OSError, ValueError):
        return None
    pid = info.get("child-pid") if isinstance(info, dict) else None
    return pid if isinstance(pid, int) and pid > 0 else None


def _kill_namespace(init_pid: int | None) -> None:
    """SIGKILL PID 1 of the sandbox's namespace and wait until the kernel has killed the rest.

    When a namespace's PID 1 dies, the kernel kills every other process in it and
    only then lets PID 1 exit, so its exit means nothing of the candidate is left.
    """
    if init_pid is None:
        return
    try:
        os.kill(init_pid, signal.SIGKILL)
    except ProcessLookupError:
        return
    _exits_within(init_pid, 10.0)


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


def _apply_limits(limits: Limits) -> None:
    """Runs in the forked child before exec; the limits are inherited by the sandbox."""
    settings = [
        (resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds + 5)),
        (resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes)),
        (resource.RLIMIT_FSIZE, (limits.file_bytes, limits.file_bytes)),
        (resource.RLIMIT_NOFILE, (limits.open_files, limits.open_files)),
        (resource.RLIMIT_NPROC, (limits.processes, limits.processes)),
        (resource.RLIMIT_CORE, (0, 0)),
    ]
    for kind, value in settings:
        # A lower hard limit already in force is at least as strict.
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(kind, value)


def _collect(
    scratch: Path, returncode: int, timed_out: bool, isolation: Isolation, limits: Limits
) -> ChildResult:
    result_file = scratch / "result.json"
    if result_file.exists():
        try:
            return ChildResult(json.loads(result_file.read_text("utf-8")), "", isolation)
        except (ValueError, UnicodeDecodeError):
            return ChildResult(None, "the child wrote an unreadable result", isolation)
    return ChildResult(None, _failure_reason(scratch, returncode, timed_out, limits), isolation)


def _failure_reason(scratch: Path, returncode: int, timed_out: bool, limits: Limits) -> str:
    if timed_out:
        return f"wall-clock timeout after {limits.wall_seconds:g} s"
    if returncode == CPU_LIMIT_EXIT or returncode in (-signal.SIGXCPU, 128 + signal.SIGXCPU):
        return f"CPU time limit of {limits.cpu_seconds} s exceeded"
    if returncode < 0 or returncode > 128:
        number = -returncode if returncode < 0 else returncode - 128
        name = signal.Signals(number).name if number in signal.valid_signals() else str(number)
        if number == signal.SIGXFSZ:
            return "output file size limit exceeded"
        return f"the child was killed by {name}"
    tail = _tail(scratch / "stdout.txt")
    if "MemoryError" in tail:
        return "memory limit exceeded"
    return f"the child exited with code {returncode} before reporting" + (
        f": {tail}" if tail else ""
    )


def _tail(path: Path) -> str:
    try:
        with path.open("rb") as handle:
            handle.seek(max(0, path.stat().st_size - 400))
            lines = handle.read().decode("utf-8", "replace").strip().splitlines()
    except OSError:
        return ""
    return lines[-1][:200] if lines else ""


# --------------------------------------------------------------------------- isolation


@cache
def best_isolation() -> Isolation:
    forced = os.environ.get("OPTIMIZE_ISOLATION")
    if forced in ("bubblewrap", "unshare", "none"):
        return forced  # type: ignore[return-value]
    probe = Path(tempfile.mkdtemp(prefix="optimize-probe-"))
    try:
        _hand_over(probe, "bubblewrap")
        for level in ("bubblewrap", "unshare"):
            command = [*_command(level, probe, {}), sys.executable, "-c", "pass"]
            if shutil.which(command[0]) and _succeeds(command):
                return level
    finally:
        shutil.rmtree(probe, ignore_errors=True)
    return "none"


def _succeeds(command: list[str]) -> bool:
    try:
        done = subprocess.run(command, capture_output=True, timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def _hand_over(scratch: Path, isolation: Isolation) -> None:
    """Let the unprivileged sandbox user write its scratch dir."""
    if isolation == "bubblewrap" and os.geteuid() == 0:
        for path in [scratch, *scratch.rglob("*")]:
            os.chown(path, NOBODY, NOBODY)


def _command(isolation: Isolation, scratch: Path, request: dict[str, Any]) -> list[str]:
    if isolation == "bubblewrap":
        return _bubblewrap(scratch, request)
    if isolation == "unshare":
        return ["unshare", "-n"] if os.geteuid() == 0 else ["unshare", "-rn"]
    return []


def _bubblewrap(scratch: Path, request: dict[str, Any]) -> list[str]:
    command = [
        "bwrap", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc",
        "--tmpfs", str(PRIVATE_TMP), "--unshare-net", "--unshare-pid", "--unshare-ipc",
        "--unshare-uts", "--die-with-parent", "--new-session",
    ]  # fmt: skip
    command += _visible_paths(_paths_the_child_reads(request))
    command += ["--bind", str(scratch), str(scratch), "--chdir", str(scratch)]
    if os.geteuid() == 0:
        command += ["--cap-add", "CAP_SETUID,CAP_SETGID", "setpriv", f"--reuid={NOBODY}"]
        command += [f"--regid={NOBODY}", "--clear-groups", "--"]
    return command


def _paths_the_child_reads(request: dict[str, Any]) -> list[Path]:
    paths = {Path(sys.prefix), Path(sys.base_prefix), Path(sys.executable).resolve().parent}
    paths |= {Path(p) for p in sys.path if p and Path(p).is_dir()}
    paths.add(CHILD_SCRIPT.parent)
    paths |= {Path(p) for p in request.get("sys_path", []) if p != "{scratch}"}
    return sorted(path.resolve() for path in paths if path.exists())


def _visible_paths(paths: list[Path]) -> list[str]:
    """Mount arguments that make `paths` readable inside the sandbox.

    The private /tmp hides paths under it (a venv in /tmp/clone/.venv, say), and
    as root the sandbox user cannot traverse dirs such as /root: those get a
    tmpfs, and the needed paths are bound back read-only on top. bwrap would
    create the mount points in between with mode 0700, so they are made
    explicitly with 0755 first.
    """
    covered: list[Path] = []
    if os.geteuid() == 0:
        for path in paths:
            blocked = _first_untraversable_ancestor(path)
            if blocked is not None and blocked not in covered:
                covered.append(blocked)
    mounts = [arg for directory in covered for arg in ("--tmpfs", str(directory))]
    made: set[Path] = set()
    tmpfs_roots = [PRIVATE_TMP, *covered]
    for path in paths:
        for directory in _dirs_between(tmpfs_roots, path):
            if directory not in made:
                made.add(directory)
                mounts += ["--perms", "0755", "--dir", str(directory)]
        mounts += ["--ro-bind", str(path), str(path)]
    return mounts


def _dirs_between(tmpfs_roots: list[Path], path: Path) -> list[Path]:
    """The dirs strictly between the innermost tmpfs above `path` and `path`, outermost first."""
    for top in sorted(tmpfs_roots, key=lambda root: len(root.parts), reverse=True):
        if path.is_relative_to(top) and path != top:
            return [p for p in reversed(path.parents) if p.is_relative_to(top) and p != top]
    return []


def _first_untraversable_ancestor(path: Path) -> Path | None:
    for ancestor in reversed(path.parents[:-1] if len(path.parents) > 1 else []):
        mode = ancestor.stat().st_mode
        if not mode & stat.S_IXOTH:
            return ancestor
    return None
