"""How a sandboxed child is started: the best isolation this machine offers, and its limits.

Levels, best first:
1. bubblewrap: read-only root, private /tmp, one writable scratch dir, no
   network, new PID/IPC/UTS namespaces, and a non-root uid when we are root;
2. `unshare -n`: no network, resource limits only;
3. a plain subprocess with resource limits (reported loudly).
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
from functools import cache
from pathlib import Path

from pipeline.sandbox.child.protocol import Limits
from pipeline.sandbox.child.wire import TextEnum

CHILD_DIR = Path(__file__).with_name("child")
BOOTSTRAP = CHILD_DIR / "bootstrap.py"
NOBODY = 65534
PR_SET_PDEATHSIG = 1
PRIVATE_TMP = Path("/tmp")
ISOLATION_WARNING = (
    "no sandbox available (install bubblewrap): candidate code runs with resource limits only"
)


class Isolation(TextEnum):
    BUBBLEWRAP = "bubblewrap"
    UNSHARE = "unshare"
    NONE = "none"


@cache
def best_isolation() -> Isolation:
    forced = os.environ.get("OPTIMIZE_ISOLATION")
    if forced in {level.value for level in Isolation}:
        return Isolation(forced)
    probe = Path(tempfile.mkdtemp(prefix="optimize-probe-"))
    try:
        hand_over(probe, Isolation.BUBBLEWRAP)
        for level in (Isolation.BUBBLEWRAP, Isolation.UNSHARE):
            command = [*wrapper(level, probe, ()), sys.executable, "-c", "pass"]
            if shutil.which(command[0]) and _succeeds(command):
                return level
    finally:
        shutil.rmtree(probe, ignore_errors=True)
    return Isolation.NONE


def _succeeds(command: list[str]) -> bool:
    try:
        done = subprocess.run(command, capture_output=True, timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def child_command(scratch: Path, fds: tuple[int, ...]) -> list[str]:
    """The Python command line of the child: its bootstrap, the request file and its fds."""
    return [sys.executable, "-s", "-B", str(BOOTSTRAP), str(scratch / "request.json"),
            *(str(fd) for fd in fds)]  # fmt: skip


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


def apply_limits(limits: Limits) -> None:
    """Runs in the forked child before exec; the limits are inherited by the sandbox.

    The child also dies with the thread that started it (PR_SET_PDEATHSIG): without
    bubblewrap's --die-with-parent, an interrupted run would leave it running."""
    _die_with_parent()
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


def _die_with_parent() -> None:
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass  # not Linux: the wall-clock limit still ends the child


def hand_over(scratch: Path, isolation: Isolation) -> None:
    """Let the unprivileged sandbox user write its scratch dir."""
    if isolation == Isolation.BUBBLEWRAP and os.geteuid() == 0:
        for path in [scratch, *scratch.rglob("*")]:
            os.chown(path, NOBODY, NOBODY)


def wrapper(isolation: Isolation, scratch: Path, sys_path: tuple[str, ...]) -> list[str]:
    """The command that starts the child at `isolation`, before the Python command line."""
    if isolation == Isolation.BUBBLEWRAP:
        return _bubblewrap(scratch, sys_path)
    if isolation == Isolation.UNSHARE:
        return ["unshare", "-n"] if os.geteuid() == 0 else ["unshare", "-rn"]
    return []


def _bubblewrap(scratch: Path, sys_path: tuple[str, ...]) -> list[str]:
    command = [
        "bwrap", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc",
        "--tmpfs", str(PRIVATE_TMP), "--unshare-net", "--unshare-pid", "--unshare-ipc",
        "--unshare-uts", "--die-with-parent", "--new-session",
    ]  # fmt: skip
    command += _visible_paths(_paths_the_child_reads(sys_path))
    command += ["--bind", str(scratch), str(scratch), "--chdir", str(scratch)]
    if os.geteuid() == 0:
        command += ["--cap-add", "CAP_SETUID,CAP_SETGID", "setpriv", f"--reuid={NOBODY}"]
        command += [f"--regid={NOBODY}", "--clear-groups", "--"]
    return command


def _paths_the_child_reads(sys_path: tuple[str, ...]) -> list[Path]:
    paths = {Path(sys.prefix), Path(sys.base_prefix), Path(sys.executable).resolve().parent}
    paths |= {Path(p) for p in sys.path if p and Path(p).is_dir()}
    paths |= set(editable_projects())
    paths.add(CHILD_DIR)
    paths |= {Path(p) for p in sys_path if Path(p).is_absolute()}
    return sorted({path.resolve() for path in paths if path.exists()})


@cache
def environment_import_path() -> tuple[str, ...]:
    """The import path of the user's interpreter, as this environment has it: every
    `sys.path` entry (PYTHONPATH, site-packages, the targets of `.pth` files and of
    editable installs, the user's site dir) but the directory of the running script,
    the `optimize` script's own (`python -m pipeline` already dropped its cwd). The
    child's environment is scrubbed, so it gets them here."""
    script = sys.argv[0] if sys.argv and os.path.isfile(sys.argv[0]) else ""
    own = os.path.realpath(os.path.dirname(script)) if script else None
    # Resolved: a symlink under /tmp is hidden by the sandbox's private /tmp.
    resolved = (os.path.realpath(entry) for entry in sys.path if entry)
    return tuple(dict.fromkeys(entry for entry in resolved if entry != own))


@cache
def editable_projects() -> tuple[Path, ...]:
    """The source dirs of editable installs (PEP 660 hooks may map a package to a dir that
    is on no `sys.path`): read from each distribution's `direct_url.json` (PEP 610)."""
    from importlib import metadata
    from urllib.parse import unquote, urlparse

    found: list[Path] = []
    for distribution in metadata.distributions():
        try:
            described = json.loads(distribution.read_text("direct_url.json") or "{}")
        except (OSError, ValueError):
            continue
        url = described.get("url", "") if isinstance(described, dict) else ""
        info = described.get("dir_info", {}) if isinstance(described, dict) else {}
        if isinstance(info, dict) and info.get("editable") and str(url).startswith("file://"):
            found.append(Path(unquote(urlparse(str(url)).path)))
    return tuple(path for path in found if path.is_dir())


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
    mounts: list[str] = []
    made: set[Path] = set()
    tmpfs_roots = [PRIVATE_TMP, *covered]
    for directory in covered:
        # A blocked dir under the private /tmp (say /tmp/a/private) needs its parents too.
        for parent in _dirs_between([PRIVATE_TMP], directory):
            if parent not in made:
                made.add(parent)
                mounts += ["--perms", "0755", "--dir", str(parent)]
        mounts += ["--tmpfs", str(directory)]
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


# --------------------------------------------------------------------------- processes


def sandbox_init_pid(info_read: int) -> int | None:
    """The PID (as we see it) of PID 1 in bubblewrap's namespace, from its --info-fd."""
    os.set_blocking(info_read, False)
    try:
        info = json.loads(os.read(info_read, 4096).decode("utf-8"))
    except (OSError, ValueError):
        return None
    pid = info.get("child-pid") if isinstance(info, dict) else None
    return pid if isinstance(pid, int) and pid > 0 else None


def python_pid(popen_pid: int, init_pid: int | None) -> int:
    """The child Python's PID as we see it: bubblewrap's init runs it as its only child;
    `unshare` and a plain subprocess exec it in place."""
    if init_pid is None:
        return popen_pid
    try:
        children = Path(f"/proc/{init_pid}/task/{init_pid}/children").read_text().split()
    except OSError:
        children = []
    return int(children[0]) if children else init_pid


def kill_namespace(init_pid: int | None) -> None:
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
    exits_within(init_pid, 10.0)


def kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def exits_within(pid: int, seconds: float) -> bool:
    """Wait for `pid` to exit without reaping it; False when `seconds` run out first."""
    import select
    import time

    try:
        pidfd = os.pidfd_open(pid)
    except (AttributeError, OSError):
        deadline = time.monotonic() + seconds
        while os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is None:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.02)
        return True
    try:
        readable, _, _ = select.select([pidfd], [], [], seconds)
        return bool(readable)
    finally:
        os.close(pidfd)
