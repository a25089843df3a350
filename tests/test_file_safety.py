"""Never lose a byte: bad input, atomic writes, encodings, newlines, interruptions."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import FAST_PYPROJECT, Runner

from pipeline.model import SourceFile
from pipeline.stages.parse import read_source
from pipeline.writeback import WriteRefused, write_atomically

SLOW = """\
def count_vowels(text: str) -> int:
    total = 0
    for ch in text:
        if ch in ["a", "e", "i", "o", "u", "A", "E", "I", "O", "U"]:
            total += 1
    return total
"""


def _without_dac_override() -> list[str]:
    """As root, permission bits are ignored unless the override capabilities are dropped."""
    if os.geteuid() != 0:
        return []
    caps = "-dac_override,-dac_read_search"
    return ["setpriv", f"--bounding-set={caps}", f"--inh-caps={caps}"]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("undecodable.py", b"x = '\xff\xfe\xfa'\n", "cannot decode"),
        ("binary.py", b"\x7fELF\x02\x01\x01\x00\x00\x00", "binary file"),
        ("empty.py", b"", "empty file"),
        ("syntax.py", b"def f(:\n    pass\n", "syntax.py:1:7: syntax error"),
        ("bad_cookie.py", b"# -*- coding: nonsense -*-\nx = 1\n", "cannot decode"),
    ],
)
def test_bad_file_is_one_line_exit_2_untouched(
    project: Path, run_cli: Runner, name: str, content: bytes, message: str
) -> None:
    path = project / name
    path.write_bytes(content)
    result = run_cli(name, "--write", cwd=project)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert name in lines[0] and message in lines[0]
    assert path.read_bytes() == content


def test_missing_path_and_symlink_loop(project: Path, run_cli: Runner) -> None:
    (project / "loop.py").symlink_to(project / "loop.py")
    result = run_cli("missing.py", "loop.py", cwd=project)
    assert result.returncode == 2
    assert "missing.py: no such file or directory" in result.stderr
    assert "loop.py: symlink loop" in result.stderr


def test_oversized_file_is_refused(project: Path, run_cli: Runner) -> None:
    (project / "pyproject.toml").write_text(
        "[tool.optimize]\nmax-file-bytes = 100\n" + FAST_PYPROJECT
    )
    big = project / "big.py"
    big.write_text(SLOW * 3)
    result = run_cli("big.py", cwd=project)
    assert result.returncode == 2
    assert "big.py" in result.stderr and "over the size limit of 100" in result.stderr


def test_unreadable_directory_and_file(project: Path) -> None:
    locked = project / "locked"
    locked.mkdir()
    (locked / "inner.py").write_text(SLOW)
    secret = project / "secret.py"
    secret.write_text(SLOW)
    locked.chmod(0)
    secret.chmod(0)
    try:
        result = subprocess.run(
            [*_without_dac_override(), sys.executable, "-m", "pipeline", "locked", "secret.py"],
            cwd=project,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    finally:
        locked.chmod(0o755)
        secret.chmod(0o644)
    assert result.returncode == 2
    assert "locked: cannot read directory: Permission denied" in result.stderr
    assert "secret.py: permission denied" in result.stderr
    assert secret.read_text() == SLOW


def test_other_files_still_processed_after_a_bad_one(project: Path, run_cli: Runner) -> None:
    (project / "bad.py").write_bytes(b"def (\n")
    good = project / "good.py"
    good.write_text(SLOW)
    result = run_cli("bad.py", "good.py", "--write", cwd=project)
    assert result.returncode == 2
    assert "bad.py" in result.stderr
    assert "{" in good.read_text()  # the good file was still optimised


def test_encoding_newlines_and_tabs_are_preserved(project: Path, run_cli: Runner) -> None:
    body = SLOW.replace("    ", "\t").replace("\n", "\r\n").rstrip("\r\n")
    original = ("# -*- coding: latin-1 -*-\r\n# caf\xe9\r\n" + body).encode("latin-1")
    path = project / "legacy.py"
    path.write_bytes(original)
    assert run_cli("legacy.py", "--write", cwd=project).returncode == 0
    written = path.read_bytes()
    assert written != original, "the slow membership test should have been rewritten"
    text = written.decode("latin-1")
    assert "caf\xe9" in text and b"\xe9" in written
    assert "\n" not in text.replace("\r\n", "")
    assert not text.endswith("\n")
    assert '\t\tif ch in {"a"' in text


def test_utf8_bom_is_kept(project: Path, run_cli: Runner) -> None:
    path = project / "bom.py"
    path.write_bytes(b"\xef\xbb\xbf" + SLOW.encode())
    assert run_cli("bom.py", "--write", cwd=project).returncode == 0
    written = path.read_bytes()
    assert written.startswith(b"\xef\xbb\xbf") and written.count(b"\xef\xbb\xbf") == 1
    assert b'{"a"' in written


def test_write_keeps_mode_and_refuses_stale_or_broken(tmp_path: Path) -> None:
    path = tmp_path / "mod.py"
    path.write_text(SLOW)
    path.chmod(0o751)
    source = read_source(path, 10_000)
    write_atomically(source, SLOW.replace("[", "{").replace("]", "}"))
    assert path.stat().st_mode & 0o777 == 0o751
    with pytest.raises(WriteRefused, match="changed on disk"):
        write_atomically(source, SLOW)
    fresh = read_source(path, 10_000)
    with pytest.raises(WriteRefused, match="does not parse"):
        write_atomically(fresh, "def broken(:\n")
    assert path.read_bytes() == fresh.raw
    assert [p.name for p in tmp_path.iterdir()] == ["mod.py"]


def test_interrupted_runs_leave_files_old_or_new(project: Path) -> None:
    """Ctrl-C and SIGKILL at random moments: every file is either the old or the new bytes."""
    files = [project / f"m{i}.py" for i in range(3)]
    reference = project / "reference"
    reference.mkdir()
    (reference / "pyproject.toml").write_text(FAST_PYPROJECT)
    for path in [*files, *(reference / f.name for f in files)]:
        path.write_text(SLOW)
    command = [sys.executable, "-m", "pipeline", "--write", "-q"]
    start = time.monotonic()
    subprocess.run([*command, *(f.name for f in files)], cwd=reference, check=False, timeout=600)
    full_run = time.monotonic() - start
    new = {(reference / f.name).read_bytes() for f in files}
    rng = random.Random(7)
    for attempt in range(4):
        for path in files:
            path.write_text(SLOW)
        process = subprocess.Popen([*command, *(f.name for f in files)], cwd=project)
        time.sleep(rng.uniform(0.3, 1.1) * full_run)
        process.send_signal(signal.SIGINT if attempt % 2 == 0 else signal.SIGKILL)
        process.wait(timeout=120)
        for path in files:
            assert path.read_bytes() in {SLOW.encode(), *new}
        if attempt % 2 == 0:
            leftovers = [p.name for p in project.iterdir() if p.name.endswith(".tmp")]
            assert leftovers == []


def test_source_file_is_what_was_read(tmp_path: Path) -> None:
    path = tmp_path / "x.py"
    path.write_bytes(b"\xef\xbb\xbfx = 1\r\n")
    source = read_source(path, 100)
    assert source == SourceFile(path, b"\xef\xbb\xbfx = 1\r\n", "x = 1\r\n", "utf-8-sig")
