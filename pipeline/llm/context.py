"""What is sent about one function, and the prompt templates it is rendered into."""

from __future__ import annotations

import hashlib
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources

PROMPT_VERSION = "v1"


@dataclass(frozen=True)
class Observed:
    """Facts about the real workload, from a trace (`optimize trace`) when there is one.

    Every field is optional; a prompt mentions only what is known.
    """

    argument_types: Mapping[str, str] = field(default_factory=dict)  # "values" -> "list[int]"
    argument_sizes: Mapping[str, str] = field(default_factory=dict)  # "values" -> "len 10..5000"
    workload_share: float | None = None  # fraction of the traced run spent in this function

    def lines(self) -> list[str]:
        found = [f"- {name}: {kind}" for name, kind in self.argument_types.items()]
        found += [f"- size of {name}: {size}" for name, size in self.argument_sizes.items()]
        if self.workload_share is not None:
            found.append(f"- share of the traced run spent in this function: "
                         f"{self.workload_share:.0%}")  # fmt: skip
        return found


@dataclass(frozen=True)
class FunctionContext:
    """Everything that is sent about one function, and nothing more."""

    name: str
    lineno: int
    source: str
    called_signatures: tuple[str, ...]
    imports: tuple[str, ...]
    untyped_params: tuple[str, ...]
    passes: tuple[str, ...]
    observed: Observed = field(default_factory=Observed)

    @property
    def source_hash(self) -> str:
        return hashlib.sha256(self.source.encode()).hexdigest()


def listing(items: Sequence[str]) -> str:
    return "\n".join(items) if items else "(none)"


def observed_text(observed: Observed) -> str:
    lines = observed.lines()
    if not lines:
        return ""
    return "\nObserved in a trace of the real workload:\n" + "\n".join(lines) + "\n"


def template(name: str) -> str:
    path = resources.files("pipeline.llm") / "prompts" / f"{name}-{PROMPT_VERSION}.txt"
    return path.read_text(encoding="utf-8")


def render(prompt: str, **values: str) -> str:
    # `string.Template` substitutes plain text: braces in code need no escaping.
    return string.Template(template(prompt)).substitute(values)
