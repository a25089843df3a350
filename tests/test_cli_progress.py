"""Long runs are never silent, and an interrupted `--write` keeps what was finished.

All through the real CLI in a subprocess: without a TTY (a pipe, as in CI
logs), under a pseudo-terminal (the rich bar), and interrupted with SIGINT.
"""

from __future__ import annotations

import os
import pty
import re
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

from conftest import SLOW_DEDUPE, Runner, slow_counter

PLAIN = "def plain(a: int, b: int) -> int:\n    return a + b\n"


def _slow_module(*names: str) -> str:
    return "\n\n".join(slow_counter(name) for name in names)


def _env() -> dict[str, str]:
    return {**os.environ, "NO_COLOR": "1"}


def test_without_a_tty_each_decided_function_gets_a_line(project: Path, run_cli: Runner) -> None:
    (project / "a.py").write_text(_slow_module("alpha") + "\n\n" + PLAIN, encoding="utf-8")
    (project / "b.py").write_text(_slow_module("beta"), encoding="utf-8")
    done = run_cli("a.py", "b.py", cwd=project)
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.startswith("[")]
    # plain() has no candidate: it is counted, but gets no line of its own.
    assert len(lines) == 2, done.stderr
    decided = r"(accepted OPT106 \S+× \[\S+, \S+\]|rejected: [a-z ,]+) \(\d+\.\d s\)"
    assert re.fullmatch(rf"\[1/3\] a\.py::count_alpha {decided}", lines[0]), lines
    assert re.fullmatch(rf"\[3/3\] b\.py::count_beta {decided}", lines[1]), lines


def test_on_a_terminal_a_progress_bar_counts_functions(project: Path) -> None:
    (project / "a.py").write_text(_slow_module("alpha", "beta"), encoding="utf-8")
    controller, terminal = pty.openpty()
    env = {**_env(), "TERM": "xterm-256color", "COLUMNS": "160"}
    process = subprocess.Popen(
        [sys.executable, "-m", "pipeline", "a.py"],
        cwd=project, stdin=terminal, stdout=terminal, stderr=terminal, env=env,
    )  # fmt: skip
    os.close(terminal)
    output = b""
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        ready, _, _ = select.select([controller], [], [], 1.0)
        if ready:
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # the terminal closed: the process has exited
                break
            if not chunk:
                break
            output += chunk
        elif process.poll() is not None:
            break
    os.close(controller)
    assert process.wait(timeout=60) == 0
    text = output.decode("utf-8", "replace")
    assert re.search(r"0/2 functions", text), text[-3000:]
    assert re.search(r"a\.py::count_(alpha|beta)", text), text[-3000:]
    assert re.search(r"\d verified speedup\(s\) found; 2 function\(s\) examined", text)


def test_write_writes_each_file_when_decided_and_ctrl_c_exits_130(project: Path) -> None:
    first, second = project / "first.py", project / "second.py"
    first.write_text(SLOW_DEDUPE, encoding="utf-8")  # accepted by a wide margin
    slow_names = [f"n{index}" for index in range(8)]
    original_second = _slow_module(*slow_names)
    second.write_text(original_second, encoding="utf-8")
    process = subprocess.Popen(
        [sys.executable, "-m", "pipeline", "first.py", "second.py", "--write", "--no-cache"],
        cwd=project, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env(), text=True,
    )  # fmt: skip
    assert process.stderr is not None
    # The line for first.py's only function comes before its file is written...
    line = process.stderr.readline()
    while line and not line.startswith("["):  # e.g. a sandbox warning
        line = process.stderr.readline()
    assert line.startswith("[1/9] first.py::unique_tags accepted"), line
    # ...and the file is written while the run goes on with second.py.
    deadline = time.monotonic() + 60
    while "set()" not in first.read_text(encoding="utf-8") and time.monotonic() < deadline:
        time.sleep(0.2)
    assert "set()" in first.read_text(encoding="utf-8")
    assert process.poll() is None, "the run should still be working on second.py"
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stdout + stderr
    last = stderr.strip().splitlines()[-1]
    assert re.fullmatch(
        r"optimize: interrupted: after \d of 9 function\(s\): \d verified speedup\(s\), "
        r"1 file\(s\) written; finished files are kept \(\d+\.\d s\)",
        last,
    ), stderr
    assert "Traceback" not in stderr
    compile(first.read_text(encoding="utf-8"), "first.py", "exec")
    assert second.read_text(encoding="utf-8") == original_second  # not decided: untouched
    assert not list(project.glob(".*.tmp"))  # no half-written temp files
    # The run log ends with the interruption.
    runs = sorted((project / ".optimize_cache" / "runs").glob("*.jsonl"))
    assert '"interrupted": true' in runs[-1].read_text(encoding="utf-8")
