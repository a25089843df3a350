"""`[tool.optimize]` settings from the nearest pyproject.toml; command-line flags win."""

from __future__ import annotations

import dataclasses
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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
    """The `[tool.optimize]` table of the nearest pyproject.toml above `start`."""
    pyproject = find_pyproject(start)
    if pyproject is None:
        return Config()
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise ConfigError(f"{pyproject}: cannot read [tool.optimize]: {error}") from error
    table = data.get("tool", {}).get("optimize", {})
    try:
        return _from_table(table, pyproject)
    except (TypeError, ValueError) as error:
        raise ConfigError(f"{pyproject}: invalid [tool.optimize]: {error}") from error


def _from_table(table: dict[str, Any], pyproject: Path) -> Config:
    table = {key.replace("-", "_"): value for key, value in table.items()}
    nested = {
        "verify": (VerifyConfig, table.pop("verify", {})),
        "timing": (TimingConfig, table.pop("timing", {})),
        "limits": (Limits, table.pop("limits", {})),
        "llm": (LLMConfig, table.pop("llm", {})),
        "trace": (TraceSettings, table.pop("trace", {})),
    }
    strategies = table.pop("strategies", {})
    known = {f.name for f in dataclasses.fields(Config)} - {"source", "trace_store", *nested}
    unknown = set(table) - known
    if unknown:
        raise ValueError(f"unknown option(s): {', '.join(sorted(unknown))}")
    values: dict[str, Any] = {
        key: tuple(value) if isinstance(value, list) else value for key, value in table.items()
    }
    for key, (kind, sub) in nested.items():
        sub = {k.replace("-", "_"): tuple(v) if isinstance(v, list) else v for k, v in sub.items()}
        values[key] = kind(**sub)
    return Config(**values, strategies=strategies, source=pyproject)
