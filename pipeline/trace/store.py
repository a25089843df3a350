"""The trace store: one SQLite file, `.optimize_cache/trace.sqlite` by default. Stdlib only.

Written by the traced process when the program ends, read by `optimize PATH`.
Each save is one transaction, so a reader sees the store before or after a
trace, never half of one; a second trace adds to the first: call counts and
times add up, and the kept calls of both runs are merged into one bounded
sample. Calls are sampled by the *bottom-k* rule: each call gets a random key
and a function keeps the calls with the smallest keys, so the merge of two
samples is again a sample of both runs together by the same rule. The key is
`depth + u`: u is uniform in [0, 1) and depth is the number of activations of
the same function above the call on the stack, so a recursive function keeps
its outermost calls (the ones its callers make) first, uniformly among them.

Every call, sampled or not, also adds to its function's size histogram
(`sizes`: how many calls of each size, bucketed, see `recorder.size_bucket`),
which adds up across runs: it weighs the kept calls by how common their sizes
were in the whole run.

Recorded calls are pickles. This module stores and returns them as bytes and
never unpickles them: loading a pickle runs code.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import closing, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from .settings import TraceSettings

SCHEMA_VERSION = 4
DEFAULT_STORE = Path(".optimize_cache") / "trace.sqlite"
_BUSY_SECONDS = 60.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY,
    command TEXT NOT NULL,
    started REAL NOT NULL,
    wall_ns INTEGER NOT NULL,
    exit_code INTEGER NOT NULL,
    python TEXT NOT NULL,
    tracer TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS functions (
    path TEXT NOT NULL,
    qualname TEXT NOT NULL,
    calls INTEGER NOT NULL,
    total_ns INTEGER NOT NULL,
    own_ns INTEGER NOT NULL,
    unpicklable INTEGER NOT NULL,
    oversized INTEGER NOT NULL,
    shortened INTEGER NOT NULL,
    PRIMARY KEY (path, qualname)
);
CREATE TABLE IF NOT EXISTS calls (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL,
    qualname TEXT NOT NULL,
    sample_key REAL NOT NULL,
    size INTEGER NOT NULL,
    blob BLOB NOT NULL,
    shape TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS calls_by_function ON calls (path, qualname, sample_key);
CREATE TABLE IF NOT EXISTS sizes (
    path TEXT NOT NULL,
    qualname TEXT NOT NULL,
    size INTEGER NOT NULL,
    calls INTEGER NOT NULL,
    PRIMARY KEY (path, qualname, size)
);
"""


class StoreError(Exception):
    """The store cannot be read or written; the message is one line."""


class KeptCall(NamedTuple):
    key: float  # the bottom-k sample key
    blob: bytes  # pickle of (args, kwargs)
    shape: str  # JSON: parameter -> its type and size ("list[int] len 12"), never values


@dataclass
class FunctionTrace:
    """What one run (or the store) knows about one function.

    `path` is the module file relative to the project root, in POSIX form;
    `total_ns` counts only the outermost of recursive activations, `own_ns` is
    the time not spent in other traced functions; `sample` holds the kept calls.
    """

    path: str
    qualname: str
    calls: int = 0
    total_ns: int = 0
    own_ns: int = 0
    unpicklable: int = 0
    oversized: int = 0  # over the size cap even shortened: skipped
    shortened: int = 0  # over the size cap, kept with its longest arguments cut to fit
    sample: list[KeptCall] = field(default_factory=list)
    sizes: dict[int, int] = field(default_factory=dict)  # size bucket -> calls, every call


@dataclass(frozen=True)
class Run:
    command: str
    started: float  # seconds since the epoch
    wall_ns: int  # the program's wall time, tracer included
    exit_code: int
    python: str
    tracer: str  # "sys.monitoring" or "sys.setprofile"


@dataclass(frozen=True)
class FunctionStats:
    """A function's totals over every run in the store (no pickles)."""

    path: str
    qualname: str
    calls: int
    total_ns: int
    own_ns: int
    unpicklable: int
    oversized: int
    shortened: int
    recorded: int


def save(
    store: Path, run: Run, functions: Iterable[FunctionTrace], settings: TraceSettings
) -> None:
    """Add one run to the store, in one transaction."""
    store.parent.mkdir(parents=True, exist_ok=True)
    _ignore_in_git(store.parent)
    with _transaction(store) as db:
        _ensure_schema(db, store)
        db.execute(
            "INSERT INTO runs (command, started, wall_ns, exit_code, python, tracer) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (run.command, run.started, run.wall_ns, run.exit_code, run.python, run.tracer),
        )
        for function in functions:
            _add_function(db, function, settings)


def check(store: Path) -> None:
    """Raise StoreError if `store` exists but is not a trace store this version can use."""
    if not store.exists():
        return
    with closing(_connect(store, read_only=True)) as db:
        _check_version(db, store)


def _add_function(db: sqlite3.Connection, function: FunctionTrace, settings: TraceSettings) -> None:
    key = (function.path, function.qualname)
    db.execute(
        "INSERT INTO functions VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (path, qualname) "
        "DO UPDATE SET calls = calls + excluded.calls, total_ns = total_ns + excluded.total_ns, "
        "own_ns = own_ns + excluded.own_ns, unpicklable = unpicklable + excluded.unpicklable, "
        "oversized = oversized + excluded.oversized, shortened = shortened + excluded.shortened",
        (*key, function.calls, function.total_ns, function.own_ns, function.unpicklable,
         function.oversized, function.shortened),
    )  # fmt: skip
    db.executemany(
        "INSERT INTO calls (path, qualname, sample_key, size, blob, shape) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        [(*key, call.key, len(call.blob), call.blob, call.shape) for call in function.sample],
    )
    db.executemany(
        "INSERT INTO sizes VALUES (?, ?, ?, ?) ON CONFLICT (path, qualname, size) DO UPDATE "
        "SET calls = calls + excluded.calls",
        [(*key, size, calls) for size, calls in function.sizes.items()],
    )
    _keep_bottom_k(db, key, settings)


def _keep_bottom_k(db: sqlite3.Connection, key: tuple[str, str], settings: TraceSettings) -> None:
    """Keep the calls with the smallest keys, within the count and byte caps."""
    rows = db.execute(
        "SELECT id, size FROM calls WHERE path = ? AND qualname = ? ORDER BY sample_key", key
    ).fetchall()
    kept, total, dropped = 0, 0, []
    for row_id, size in rows:
        if kept < settings.calls_per_function and total + size <= settings.max_function_bytes:
            kept, total = kept + 1, total + size
        else:
            dropped.append((row_id,))
    db.executemany("DELETE FROM calls WHERE id = ?", dropped)


# --------------------------------------------------------------------------- reading


class TraceStore:
    """A read-only view of a store; recorded calls come back as bytes, never unpickled."""

    def __init__(self, path: Path) -> None:
        self.path = path
        if not path.is_file():
            raise StoreError(f"{path}: no trace here (run `optimize trace` first)")
        self._db = _connect(path, read_only=True)
        _check_version(self._db, path)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> TraceStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def runs(self) -> list[Run]:
        rows = self._query(
            "SELECT command, started, wall_ns, exit_code, python, tracer FROM runs ORDER BY id"
        )
        return [Run(*row) for row in rows]

    def functions(self) -> list[FunctionStats]:
        rows = self._query(
            "SELECT f.path, f.qualname, f.calls, f.total_ns, f.own_ns, f.unpicklable, "
            "f.oversized, f.shortened, (SELECT COUNT(*) FROM calls c WHERE c.path = f.path "
            "AND c.qualname = f.qualname) FROM functions f ORDER BY f.own_ns DESC"
        )
        return [FunctionStats(*row) for row in rows]

    def calls(self, path: str, qualname: str) -> tuple[bytes, ...]:
        rows = self._query(
            "SELECT blob FROM calls WHERE path = ? AND qualname = ? ORDER BY sample_key",
            (path, qualname),
        )
        return tuple(bytes(row[0]) for row in rows)

    def shapes(self, path: str, qualname: str) -> tuple[str, ...]:
        """The recorded calls' argument types and sizes (JSON text, see `KeptCall`)."""
        rows = self._query(
            "SELECT shape FROM calls WHERE path = ? AND qualname = ? ORDER BY sample_key",
            (path, qualname),
        )
        return tuple(str(row[0]) for row in rows)

    def outermost_count(self, path: str, qualname: str) -> int:
        """How many kept calls were outermost activations (key under 1: depth 0): they
        come first in `calls`, which is ordered by key."""
        rows = self._query(
            "SELECT COUNT(*) FROM calls WHERE path = ? AND qualname = ? AND sample_key < 1",
            (path, qualname),
        )
        return int(rows[0][0])

    def size_counts(self, path: str, qualname: str) -> dict[int, int]:
        """How many calls of each size the function had over every traced run, all calls
        counted (not only the kept ones), smallest size first. A size is its bucket's lower
        bound: exact below 16, then quarter octaves (16, 20, 23, 27, 32, 39, 46, 54, 64, ...)."""
        rows = self._query(
            "SELECT size, calls FROM sizes WHERE path = ? AND qualname = ? ORDER BY size",
            (path, qualname),
        )
        return {int(size): int(calls) for size, calls in rows}

    def _query(self, sql: str, parameters: tuple[object, ...] = ()) -> list[tuple[Any, ...]]:
        try:
            return self._db.execute(sql, parameters).fetchall()
        except sqlite3.Error as error:
            raise StoreError(f"{self.path}: cannot read the trace: {error}") from None


# --------------------------------------------------------------------------- plumbing


def _connect(store: Path, read_only: bool = False) -> sqlite3.Connection:
    try:
        if read_only:
            uri = f"{store.resolve().as_uri()}?mode=ro"
            return sqlite3.connect(uri, uri=True, timeout=_BUSY_SECONDS)
        return sqlite3.connect(store, timeout=_BUSY_SECONDS, isolation_level=None)
    except sqlite3.Error as error:
        raise StoreError(f"{store}: cannot open the trace store: {error}") from None


@contextmanager
def _transaction(store: Path) -> Iterator[sqlite3.Connection]:
    db = _connect(store)
    try:
        db.execute("BEGIN IMMEDIATE")
        yield db
        db.execute("COMMIT")
    except sqlite3.Error as error:
        _rollback(db)
        raise StoreError(f"{store}: cannot write the trace: {error}") from None
    except BaseException:
        _rollback(db)
        raise
    finally:
        db.close()


def _rollback(db: sqlite3.Connection) -> None:
    if db.in_transaction:
        db.execute("ROLLBACK")


def _ensure_schema(db: sqlite3.Connection, store: Path) -> None:
    tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    if not tables:
        # One statement at a time: executescript() would commit the open transaction.
        for statement in filter(str.strip, _SCHEMA.split(";")):
            db.execute(statement)
        db.execute("INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
        return
    _check_version(db, store)


def _check_version(db: sqlite3.Connection, store: Path) -> None:
    try:
        row = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    except sqlite3.DatabaseError:
        raise StoreError(f"{store}: not a trace store") from None
    if row is None or row[0] != str(SCHEMA_VERSION):
        found = row[0] if row else "none"
        raise StoreError(
            f"{store}: trace schema version {found}, this optimize reads {SCHEMA_VERSION}; "
            "delete the file and trace again"
        )


def _ignore_in_git(directory: Path) -> None:
    """`.optimize_cache/` is a cache: keep it out of the user's commits (like the verdicts)."""
    ignore = directory / ".gitignore"
    if directory.name == ".optimize_cache" and not ignore.exists():
        with suppress(OSError):
            ignore.write_text("# created by optimize\n*\n", encoding="utf-8")
