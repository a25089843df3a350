"""`[tool.optimize]` settings from the nearest pyproject.toml; command-line flags win."""

from __future__ import annotations

import dataclasses
import difflib
import json
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_args, get_origin, get_type_hints

from pipeline.sandbox.child.protocol import Limits, TimingSettings, VerifySettings
from pipeline.trace.settings import TraceSettings

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

DEFAULT_EXCLUDE = (
    ".git", ".hg", ".svn", ".venv", "venv", "env", ".env", "build", "dist", "__pycache__",
    ".tox", ".nox", ".mypy_cache", ".ruff_cache", ".pytest_cache", "node_modules",
    "site-packages", ".eggs", "*.egg-info",
)  # fmt: skip


class ConfigError(ValueError):
    """The configuration is malformed."""


# The verify and timing tables are the sandbox protocol's own settings: one set of defaults.
VerifyConfig = VerifySettings
TimingConfig = TimingSettings


@dataclass(frozen=True)
class LLMConfig:
    """`[tool.optimize.llm]`: any OpenAI-compatible endpoint; the key is read from the env."""

    enabled: bool = True
    model: str = "gpt-4o-mini"
    base_url: str = ""
    api_key_env: str = "OPENAI_API_KEY"
    candidates: int = 3
    temperature: float = 0.2
    timeout: float = 60.0
    max_retries: int = 2
    repair_rounds: int = 1
    max_tokens: int = 4096  # per reply
    token_budget: int = 0  # per run, all requests together (--llm-max-tokens); 0: no cap
    time_budget: float = 600.0  # seconds spent waiting on the endpoint per run; 0: no cap
    cache: bool = True
    cache_dir: str = ".optimize_cache/llm"


@dataclass(frozen=True)
class Config:
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    min_speedup: float = 1.05
    fast: bool = False  # `--fast`: asymptotic wins accepted verified but untimed
    # Seconds one candidate may take to verify and time, so one pathological function
    # cannot eat a run; the verification budget ([tool.optimize.verify]) is part of it.
    candidate_budget: float = 60.0
    exclude: tuple[str, ...] = ()
    # Test code (`pipeline.testcode`) is skipped by directory walks and `--top` unless set.
    include_tests: bool = False
    max_file_bytes: int = 2_000_000
    verify: VerifyConfig = field(default_factory=VerifyConfig)
    timing: TimingConfig = field(default_factory=TimingConfig)
    limits: Limits = field(default_factory=Limits)
    llm: LLMConfig = field(default_factory=LLMConfig)
    strategies: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    trace: TraceSettings = field(default_factory=TraceSettings)
    # The trace store whose recorded calls and times this run uses (--trace); None: none.
    trace_store: Path | None = None
    source: Path | None = None

    def replace(self, **changes: Any) -> Config:
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})

    @property
    def root(self) -> Path:
        """The project root: the directory of the pyproject.toml read, else the current one."""
        return self.source.parent if self.source else Path.cwd()


def find_pyproject(start: Path) -> Path | None:
    directory = start.resolve()
    if directory.is_file():
        directory = directory.parent
    for candidate in (directory, *directory.parents):
        pyproject = candidate / "pyproject.toml"
        try:
            if pyproject.is_file():
                return pyproject
        except OSError:
            continue  # an unreadable dir has no config we could use
    return None


def load_config(start: Path) -> Config:
    """The `[tool.optimize]` table of the nearest pyproject.toml above `start`.

    Every mistake is one `ConfigError` line naming the file, the table and the key.
    """
    pyproject = find_pyproject(start)
    if pyproject is None:
        return Config()
    where = shown_path(pyproject)
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise ConfigError(f"{where}: cannot read: {error}") from error
    table = data.get("tool", {}).get("optimize", {})
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: [tool.optimize]: expected a table")
    return _from_table(table, pyproject, where)


def shown_path(path: Path) -> str:
    """The path as the user would type it: relative to the working directory when below it."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


NESTED: dict[str, type[Any]] = {
    "verify": VerifyConfig,
    "timing": TimingConfig,
    "limits": Limits,
    "llm": LLMConfig,
    "trace": TraceSettings,
}
# Numbers must be positive, except these (zero is meaningful) and min-speedup (at least 1).
MAY_BE_ZERO = frozenset(
    {
        "float_tolerance",
        "small_size_tolerance",
        "temperature",
        "max_retries",
        "repair_rounds",
        "token_budget",
        "time_budget",
    }
)
NOT_FROM_FILE = frozenset({"source", "trace_store"})


def _from_table(table: dict[str, Any], pyproject: Path, where: str) -> Config:
    values = _fields(Config, table, f"{where}: [tool.optimize]", skip={*NESTED, "strategies"})
    for key, kind in NESTED.items():
        sub = table.get(key, table.get(key.replace("_", "-"), {}))
        context = f"{where}: [tool.optimize.{key}]"
        if not isinstance(sub, dict):
            raise ConfigError(f"{context}: expected a table, got {_describe(sub)}")
        values[key] = kind(**_fields(kind, sub, context))
    strategies = table.get("strategies", {})
    if not isinstance(strategies, dict):
        raise ConfigError(f"{where}: [tool.optimize] strategies: expected a table")
    for name, spec in strategies.items():
        if not isinstance(spec, dict):
            context = f"{where}: [tool.optimize.strategies] {name}"
            raise ConfigError(f"{context}: expected a table of parameter domains")
    return Config(**values, strategies=strategies, source=pyproject)


def _fields(
    kind: type[Any],
    table: dict[str, Any],
    context: str,
    skip: set[str] | frozenset[str] = frozenset(),
) -> dict[str, Any]:
    """The table's values for dataclass `kind`, type-checked; unknown keys are errors."""
    hints = get_type_hints(kind)
    known = [f.name for f in dataclasses.fields(kind) if f.name not in NOT_FROM_FILE]
    values: dict[str, Any] = {}
    for key, value in table.items():
        name = key.replace("-", "_")
        if name in skip:
            continue
        if name not in known:
            spelled = [k.replace("_", "-") if "-" in key else k for k in [*known, *skip]]
            raise ConfigError(f"{context} {key}: unknown key{did_you_mean(key, spelled)}")
        values[name] = _checked(name, value, hints[name], f"{context} {key}")
    return values


def _checked(name: str, value: Any, hint: Any, context: str) -> Any:
    expected, converted = _convert(value, hint)
    if converted is None:
        raise ConfigError(f"{context}: expected {expected}, got {_describe(value)}")
    numbers = converted if isinstance(converted, tuple) else (converted,)
    for number in numbers:
        if isinstance(number, bool) or not isinstance(number, int | float):
            continue
        if name == "min_speedup" and number < 1:
            raise ConfigError(f"{context}: expected a ratio of at least 1.0, got {number}")
        if name != "min_speedup" and (number < 0 or (number == 0 and name not in MAY_BE_ZERO)):
            limit = "zero or more" if name in MAY_BE_ZERO else "more than zero"
            raise ConfigError(f"{context}: expected {limit}, got {number}")
    return converted


def _convert(value: Any, hint: Any) -> tuple[str, Any]:
    """What `hint` expects, in words, and `value` converted to it (None if it does not fit)."""
    if hint is bool:
        return "true or false", value if isinstance(value, bool) else None
    if hint is int:
        fits = isinstance(value, int) and not isinstance(value, bool)
        return "an integer", value if fits else None
    if hint is float:
        fits = isinstance(value, int | float) and not isinstance(value, bool)
        return "a number", float(value) if fits else None
    if hint is str:
        return "a string", value if isinstance(value, str) else None
    if get_origin(hint) is tuple:
        item = get_args(hint)[0]
        words, _ = _convert(None, item)
        expected = f"a list of {words.removeprefix('a ').removeprefix('an ')}s"
        if not isinstance(value, list):
            return expected, None
        items = [_convert(entry, item)[1] for entry in value]
        return expected, None if any(entry is None for entry in items) else tuple(items)
    return "a value", value


def _describe(value: Any) -> str:
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return f"a list {json.dumps(value, default=str)}"
    return json.dumps(value, default=str)


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """`" (did you mean 'x'?)"` for the closest choice, or "" when none is close.

    Close means similar to difflib, or at most two edits away; the fewest edits
    wins, so a one-letter slip (OPT1O1 -> OPT101) beats a choice that merely
    shares more letters (OPT211). Among equally close ones, a look-alike slip (the
    letter O for a zero) wins: OPT1O6 is OPT106 rather than OPT116.
    """
    options = list(choices)
    close = difflib.get_close_matches(word, options, n=5, cutoff=0.6)
    close += [option for option in options if _edits(word, option) <= 2]
    if not close:
        return ""
    digits = word.translate(_LOOK_ALIKE_DIGITS)
    best = min(close, key=lambda option: (_edits(word, option), _edits(digits, option)))
    return f" (did you mean {best!r}?)"


_LOOK_ALIKE_DIGITS = str.maketrans({"O": "0", "o": "0", "l": "1", "I": "1"})


def _edits(a: str, b: str) -> int:
    """The Levenshtein distance between `a` and `b`."""
    previous = list(range(len(b) + 1))
    for i, left in enumerate(a, 1):
        current = [i]
        for j, right in enumerate(b, 1):
            current.append(
                min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (left != right))
            )
        previous = current
    return previous[-1]
