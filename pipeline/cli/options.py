"""Options shared by several subcommands, checked before any work starts."""

from __future__ import annotations

import argparse
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from pipeline.config import Config, ConfigError, did_you_mean, shown_path


def add_pass_selection(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--select", metavar="CODES", help="comma-separated pass codes or prefixes")
    parser.add_argument("--ignore", metavar="CODES", help="comma-separated pass codes to skip")


def add_scale_out(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--jobs", type=positive, metavar="N",
                        help="verify N files at a time; timing stays one at a time "
                             "(default 1; the --no-verify scan uses every CPU)")  # fmt: skip
    parser.add_argument("--shard", type=shard, metavar="K/N",
                        help="only this machine's share of the functions (CI matrix; "
                             "combine the outputs with `optimize merge`)")  # fmt: skip


def positive(text: str) -> int:
    """argparse type: an integer >= 1."""
    value = token_count(text)
    if value == 0:
        raise argparse.ArgumentTypeError("must be 1 or more, not 0")
    return value


def min_speedup(text: str) -> float:
    """argparse type: an acceptance floor, a ratio of at least 1.0."""
    value = _at_least_zero(text, float)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a ratio of at least 1.0, got {text}")
    return value


def token_count(text: str) -> int:
    """argparse type: an integer >= 0."""
    return int(_at_least_zero(text, int))


def seconds(text: str) -> float:
    """argparse type: a number of seconds >= 0."""
    return _at_least_zero(text, float)


def _at_least_zero(text: str, kind: type[int] | type[float]) -> float:
    try:
        value = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, not {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, not {text}")
    return value


def codes(text: str | None) -> tuple[str, ...] | None:
    return tuple(c.strip().upper() for c in text.split(",") if c.strip()) if text else None


def check_codes(args: argparse.Namespace, config: Config) -> None:
    """Every code or prefix in --select/--ignore and in the config names at least one pass."""
    for flag, given in (("--select", args.select), ("--ignore", args.ignore)):
        _check(codes(given) or (), flag)
    where = f"{shown_path(config.source)}: [tool.optimize]" if config.source else "[tool.optimize]"
    for key in ("select", "ignore"):
        if not getattr(args, key):
            _check(getattr(config, key), f"{where} {key}")


def _check(chosen: Iterable[str], what: str) -> None:
    chosen = list(chosen)
    if not chosen:  # nothing to check: the passes (and libcst) need not load
        return
    from passes import all_passes

    known = [p.code for p in all_passes()]
    for code in chosen:
        if not any(k.startswith(code) for k in known):
            hint = did_you_mean(code, known) or " (see --list-passes)"
            raise ConfigError(f"{what}: unknown pass code {code!r}{hint}")


@dataclass(frozen=True)
class Shard:
    """`--shard K/N`: this machine's share of the functions, the same on every machine."""

    index: int  # 1-based, as written
    count: int

    def owns(self, path: Path, function: str, root: Path) -> bool:
        key = f"{_portable(path, root)}::{function}".encode()
        return int.from_bytes(hashlib.sha256(key).digest()[:8], "big") % self.count == (
            self.index - 1
        )

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def shard(text: str) -> Shard:
    """argparse type for K/N with 1 <= K <= N."""
    index, slash, count = text.partition("/")
    if slash and index.isdigit() and count.isdigit() and 1 <= int(index) <= int(count):
        return Shard(int(index), int(count))
    raise argparse.ArgumentTypeError(f"expected K/N with 1 <= K <= N, got {text!r}")


def _portable(path: Path, root: Path) -> str:
    """The path relative to the project root, with forward slashes: equal on every machine."""
    resolved = path.resolve()
    try:
        return resolved.relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.as_posix()
