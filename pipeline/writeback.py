"""Writing accepted rewrites into a user's file without ever losing a byte."""

from __future__ import annotations

import ast
import os
import tempfile
from pathlib import Path

from pipeline.model import SourceFile


class WriteRefused(Exception):
    """The file was left untouched; the message says why."""


def write_atomically(source: SourceFile, new_text: str) -> None:
    """Replace the file with `new_text`, in its original encoding, atomically.

    Refuses when the new text does not parse, or when the file on disk no
    longer holds the bytes that were read (an editor saved it meanwhile).
    """
    try:
        ast.parse(new_text)
    except SyntaxError as error:
        raise WriteRefused(f"{source.path}: rewritten code does not parse ({error.msg})") from None
    data = new_text.encode(source.encoding)
    path = source.path
    if path.read_bytes() != source.raw:
        raise WriteRefused(f"{path}: changed on disk during the run, skipped")
    mode = path.stat().st_mode & 0o7777
    descriptor, temporary = tempfile.mkstemp(
        prefix=f".{path.name}.", suffix=".tmp", dir=path.parent
    )
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    _fsync_directory(path.parent)


def _fsync_directory(directory: Path) -> None:
    try:
        descriptor = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)
