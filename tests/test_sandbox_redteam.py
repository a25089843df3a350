"""Red team: hostile candidates run through the real sandbox and must be contained.

Each test hands a misbehaving candidate to `verify` (which runs it through
`pipeline.sandbox.runner.run_candidate`), then checks two things: the damage did not
happen (files, network, leftover processes, leaked secrets) and the verdict
carries a clear reason. Small limits keep every case to a few seconds.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import textwrap
import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from pipeline.config import Config, TimingConfig, VerifyConfig
from pipeline.model import Candidate, Verdict
from pipeline.sandbox.child.protocol import Limits
from pipeline.sandbox.isolation import best_isolation
from pipeline.stages.orchestrate import optimize_file
from pipeline.stages.verify import verify

LIMITS = Limits(
    cpu_seconds=10,
    memory_bytes=2 << 30,
    file_bytes=16 << 20,
    open_files=64,
    processes=32,
    wall_seconds=20,
)
CONFIG = Config(verify=VerifyConfig(max_examples=5, example_timeout=0.5), limits=LIMITS)
ORIGINAL = "def f(x: int) -> int:\n    return x + 1\n"
IMPORTS = "import ctypes, os, signal, socket, sys, time\n"
# Slack over the wall-clock limit for starting the sandbox on a loaded machine.
SLACK_SECONDS = 20


def hostile(
    body: str,
    *,
    limits: Limits = LIMITS,
    prelude: str = "",
    project_root: Path | None = None,
) -> tuple[Verdict, float]:
    """Verify a candidate `f(x: int) -> int` with this body; return the verdict and seconds."""
    module = IMPORTS + prelude + "\ndef f(x: int) -> int:\n" + textwrap.indent(body, "    ")
    candidate = Candidate(
        function="f",
        lineno=1,
        rules=("REDTEAM",),
        origin="llm",
        original_code=ORIGINAL,
        module_code=module,
        module_name="victim",
        project_root=project_root,
    )
    start = time.monotonic()
    verdict = verify(candidate, replace(CONFIG, limits=limits))
    elapsed = time.monotonic() - start
    assert elapsed < limits.wall_seconds + SLACK_SECONDS, f"not contained in time: {elapsed:.1f} s"
    return verdict, elapsed


def assert_rejected_with_reason(verdict: Verdict, *expected: str) -> None:
    assert verdict.status != "equivalent"
    shown = verdict.counterexample.candidate if verdict.counterexample else ""
    text = f"{verdict.detail} {shown}"
    assert any(word in text for word in expected), f"unclear reason: {text!r}"


def name_this_process(marker: str) -> str:
    """Candidate code that renames its process (and so every child it forks) to `marker`."""
    return f"ctypes.CDLL(None).prctl(15, {marker.encode()!r}, 0, 0, 0)\n"


def processes_named(marker: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == marker:
                    found.append(int(entry.name))
            except OSError:
                continue  # the process exited while we looked
    return found


def new_marker() -> str:
    return "rt" + uuid.uuid4().hex[:10]  # process names keep 15 bytes


def needs(level: str) -> None:
    levels = ["none", "unshare", "bubblewrap"]
    if levels.index(best_isolation()) < levels.index(level):
        pytest.skip(f"needs isolation level {level!r}; this machine has {best_isolation()!r}")


# --------------------------------------------------------------------------- isolation level


def test_ci_tests_the_strongest_isolation_level() -> None:
    if os.environ.get("CI", "").lower() == "true" and shutil.which("bwrap"):
        assert best_isolation() == "bubblewrap"
    assert best_isolation() in ("bubblewrap", "unshare", "none")


# --------------------------------------------------------------------------- resources


def test_fork_bomb_is_capped_and_leaves_no_process_behind() -> None:
    marker = new_marker()
    body = name_this_process(marker) + textwrap.dedent("""\
        while True:
            try:
                os.fork()
            except OSError:
                time.sleep(0.05)
    """)
    verdict, _ = hostile(body, limits=replace(LIMITS, wall_seconds=5))
    assert_rejected_with_reason(verdict, "sandbox:", "timed out", "differs")
    assert processes_named(marker) == []


def test_allocating_50_gb_fails_inside_the_sandbox() -> None:
    verdict, _ = hostile("block = bytearray(50 * 2**30)\nreturn x + 1\n")
    assert_rejected_with_reason(verdict, "MemoryError", "memory limit")


def test_endless_loop_that_swallows_every_exception_hits_the_cpu_limit() -> None:
    body = textwrap.dedent("""\
        while True:
            try:
                while True:
                    pass
            except BaseException:
                pass
    """)
    verdict, _ = hostile(body, limits=replace(LIMITS, cpu_seconds=2))
    assert verdict.status == "unverifiable"
    assert_rejected_with_reason(verdict, "CPU time limit of 2 s exceeded", "wall-clock timeout")


def test_unbounded_recursion_is_a_recursion_error() -> None:
    verdict, _ = hostile("return f(x) + 1\n")
    assert_rejected_with_reason(verdict, "RecursionError")


def test_unbounded_recursion_with_raised_limit_is_contained() -> None:
    tight = replace(LIMITS, memory_bytes=512 << 20, cpu_seconds=2)
    verdict, _ = hostile("sys.setrecursionlimit(10**8)\nreturn f(x) + 1\n", limits=tight)
    assert_rejected_with_reason(verdict, "RecursionError", "MemoryError", "sandbox:", "timed out")


def test_printing_1_gb_is_cut_short() -> None:
    body = "for _ in range(1024):\n    print('x' * 2**20)\nreturn x + 1\n"
    verdict, _ = hostile(body, limits=replace(LIMITS, cpu_seconds=2))
    assert_rejected_with_reason(verdict, "timed out", "CPU time limit", "wall-clock")


def test_writing_1_gb_to_the_real_stdout_hits_the_file_size_limit() -> None:
    body = "block = b'x' * 2**20\nfor _ in range(1024):\n    os.write(1, block)\nreturn x + 1\n"
    verdict, _ = hostile(body)
    assert_rejected_with_reason(verdict, "File too large", "file size limit")


# --------------------------------------------------------------------------- escaping


def test_touch_outside_the_scratch_dir_changes_nothing(tmp_path: Path) -> None:
    needs("bubblewrap")
    outside = Path(tempfile.mkdtemp(prefix="optimize-redteam-", dir="/var/tmp"))
    try:
        targets = [tmp_path / "pwned", outside / "pwned"]
        command = "touch " + " ".join(str(t) for t in targets)
        verdict, _ = hostile(f"os.system({command!r})\nreturn x + 1\n")
        assert [t for t in targets if t.exists()] == []
        assert verdict.examples > 0  # the candidate really ran
    finally:
        shutil.rmtree(outside, ignore_errors=True)


def test_writing_the_users_source_file_fails_and_leaves_its_bytes(tmp_path: Path) -> None:
    needs("bubblewrap")
    project = tmp_path / "project"
    project.mkdir()
    source = project / "victim.py"
    source.write_text(ORIGINAL, encoding="utf-8")
    before = source.read_bytes()
    body = f"open({str(source)!r}, 'w').write('pwned = True')\nreturn x + 1\n"
    verdict, _ = hostile(body, project_root=project)
    assert source.read_bytes() == before
    assert_rejected_with_reason(verdict, "OSError", "PermissionError")


@pytest.fixture
def listening_server() -> Iterator[socket.socket]:
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.setblocking(False)
    try:
        yield server
    finally:
        server.close()


def test_socket_to_a_local_server_never_connects(listening_server: socket.socket) -> None:
    needs("unshare")
    port = listening_server.getsockname()[1]
    body = f"socket.create_connection(('127.0.0.1', {port}), timeout=1).sendall(b'hi')\n"
    verdict, _ = hostile(body + "return x + 1\n")
    with pytest.raises(BlockingIOError):
        listening_server.accept()  # nothing ever connected
    assert_rejected_with_reason(verdict, "OSError", "ConnectionRefusedError", "unreachable")


def test_parent_api_key_is_absent_in_the_child(monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "sk-redteam-" + uuid.uuid4().hex
    monkeypatch.setenv("OPENAI_API_KEY", secret)
    monkeypatch.setenv("GITHUB_TOKEN", secret)
    probe = textwrap.dedent(f"""\
        leaked = any({secret!r} in value for value in os.environ.values())
        leaked |= {secret!r}.encode() in open('/proc/self/environ', 'rb').read()
        scrubbed = "OPENAI_API_KEY" not in os.environ and os.environ.get("PYTHONHASHSEED") == "0"
        return x + 1 if scrubbed and not leaked else -1
    """)
    verdict, _ = hostile(probe)
    # Equivalent to `x + 1` only if the probe saw no key and the fixed hash seed.
    assert verdict.status == "equivalent", verdict
    assert verdict.examples > 0


# --------------------------------------------------------------------------- exits and signals


def test_os_exit_mid_call_is_reported() -> None:
    verdict, _ = hostile("os._exit(0)\n")
    assert verdict.status == "unverifiable"
    assert verdict.detail.startswith("sandbox: the child exited with code 0 before reporting")


def test_sigterm_handler_and_sleep_is_killed_at_the_wall_clock_limit() -> None:
    marker = new_marker()
    body = name_this_process(marker) + textwrap.dedent("""\
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGALRM, signal.SIG_IGN)
        while True:
            time.sleep(100)
    """)
    verdict, elapsed = hostile(body, limits=replace(LIMITS, wall_seconds=4))
    assert verdict.detail == "sandbox: wall-clock timeout after 4 s"
    assert elapsed >= 4
    assert processes_named(marker) == []


def test_sys_exit_in_a_call_is_an_observed_behaviour() -> None:
    verdict, _ = hostile("sys.exit()\n")
    assert verdict.status == "counterexample"
    assert_rejected_with_reason(verdict, "SystemExit")


def test_sys_exit_on_import_is_reported() -> None:
    verdict, _ = hostile("return x + 1\n", prelude="sys.exit(3)\n")
    assert verdict.status == "unverifiable"
    assert "importing the module failed: SystemExit" in verdict.detail


# --------------------------------------------------------------------------- the tool goes on


MISBEHAVING_FIRST = '''\
import os


def render_and_quit(cells: list[str]) -> str:
    line = ""
    for cell in cells:
        line += cell + ";"
    os._exit(0)


def render_row(cells: list[str]) -> str:
    line = ""
    for cell in cells:
        line += cell.strip() + ","
    return line
'''


def test_a_misbehaving_function_is_reported_and_the_next_one_processed(tmp_path: Path) -> None:
    source = tmp_path / "rows.py"
    source.write_text(MISBEHAVING_FIRST, encoding="utf-8")
    config = Config(
        verify=VerifyConfig(max_examples=20),
        timing=TimingConfig(sizes=(10, 200), sample_seconds=0.005, pairs=3, workers=1),
        limits=LIMITS,
    )
    report = optimize_file(source, config)
    outcomes = {outcome.candidate.function: outcome for outcome in report.outcomes}
    assert list(outcomes) == ["render_and_quit", "render_row"]
    bad, good = outcomes["render_and_quit"], outcomes["render_row"]
    assert not bad.accepted
    assert bad.reason == "unverified: sandbox: the child exited with code 0 before reporting"
    assert good.verdict.is_equivalent
    assert good.timing is not None and good.timing.sizes
    assert source.read_text(encoding="utf-8") == MISBEHAVING_FIRST
