"""`--scripted-llm`: the LLM path on a real package, against a scripted endpoint.

A package with a script here is traced through its own tests as usual; then
`optimize` asks a scripted OpenAI-compatible endpoint (`tests/llm_server.py`,
the real openai SDK over HTTP) about a few of its hot functions only
(`--function`), with the built-in passes off (`--ignore OPT`). For each function
the "model" proposes a subtly wrong rewrite first, then a right one that is
faster on the calls the tests make. The figures are the LLM path's: which
proposals were verified, timed and written, and whether the tests still pass.
A wrong proposal written is a wrong output.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# What the work copy's pyproject gets: both proposals are asked for and tried, no repairs.
SETTINGS = """
[tool.optimize.llm]
model = "scripted"
candidates = 2
repair_rounds = 0
"""
RIGHT, WRONG = "right", "wrong"


@dataclass(frozen=True)
class Script:
    """Per function (qualname): a subtly wrong proposal and a right one, as a model sends them."""

    right: Mapping[str, dict[str, Any]]
    wrong: Mapping[str, dict[str, Any]]

    @property
    def functions(self) -> tuple[str, ...]:
        return tuple(self.right)

    def kind(self, function: str, explanation: str) -> str:
        """Which proposal an outcome came from: each one's explanation is its own."""
        if self.wrong.get(function, {}).get("explanation") == explanation:
            return WRONG
        return RIGHT if self.right[function]["explanation"] == explanation else ""


def _proposal(function: str, explanation: str) -> dict[str, Any]:
    return {"function": function, "helpers": "", "imports": [], "explanation": explanation}


_STRIP_ANSI_DOC = (
    '    r"""Remove ANSI escape sequences, both CSI (color codes, etc) and OSC hyperlinks.'
    + r'''

    CSI sequences are simply removed from the output, while OSC hyperlinks are replaced
    with the link text. Note: it may be desirable to show the URI instead but this is not
    supported.

    >>> repr(_strip_ansi('\x1B]8;;https://example.com\x1B\\This is a link\x1B]8;;\x1B\\'))
    "'This is a link'"

    >>> repr(_strip_ansi('\x1b[31mred\x1b[0m text'))
    "'red text'"

    """
'''
)
_STRIP_ANSI_BODY = """\
    if isinstance(s, str):
        return _ansi_codes.sub(r"\\4", s)
    else:  # a bytestring
        return _ansi_codes_bytes.sub(r"\\4", s)
"""
_THOUSANDS_RETURN = "    return _float_with_thousands_separators.match(string) is not None\n"

TABULATE = Script(
    right={
        # Every ANSI sequence starts with ESC: a plain str without one has nothing to strip.
        "_strip_ansi": _proposal(
            "def _strip_ansi(s):\n"
            + _STRIP_ANSI_DOC
            + '    if type(s) is str and "\\x1b" not in s:\n'
            + "        return s  # every sequence starts with ESC: nothing to remove\n"
            + _STRIP_ANSI_BODY,
            "Most cells have no escape sequence: a substring test skips the regex.",
        ),
        # A str has no decode(): do not raise and catch AttributeError for every cell.
        "_isnumber_with_thousands_separator": _proposal(
            "def _isnumber_with_thousands_separator(string):\n"
            "    if type(string) is not str:\n"
            "        try:\n"
            "            string = string.decode()\n"
            "        except (UnicodeDecodeError, AttributeError):\n"
            "            pass\n" + _THOUSANDS_RETURN,
            "Only bytes are decoded, without an exception per str; the compiled pattern "
            "is called directly.",
        ),
    },
    wrong={
        # Misses OSC hyperlinks (ESC ]), which the function's own doctest strips.
        "_strip_ansi": _proposal(
            "def _strip_ansi(s):\n"
            + _STRIP_ANSI_DOC
            + '    if type(s) is str and "\\x1b[" not in s:\n'
            + "        return s  # no CSI sequence: nothing to remove\n"
            + _STRIP_ANSI_BODY,
            "Skips the regex for strings without a CSI sequence.",
        ),
        # Drops the bytes path, which the function's own doctest takes.
        "_isnumber_with_thousands_separator": _proposal(
            "def _isnumber_with_thousands_separator(string):\n" + _THOUSANDS_RETURN,
            "The pattern is matched directly, without a decode attempt.",
        ),
    },
)
SCRIPTS: dict[str, Script] = {"tabulate": TABULATE}


def configure(work: Path, git: Sequence[str]) -> None:
    """Settings for the scripted run, committed so that the diff is only what optimize wrote."""
    pyproject = work / "pyproject.toml"
    text = pyproject.read_text(encoding="utf-8") if pyproject.is_file() else ""
    pyproject.write_text(text + SETTINGS, encoding="utf-8")
    for arguments in (("add", "pyproject.toml"), ("commit", "-q", "--no-verify", "-m", "scripted")):
        subprocess.run([*git, *arguments], cwd=work, check=True, capture_output=True)


def arguments(script: Script) -> list[str]:
    """Only the scripted functions, only the LLM."""
    chosen = [argument for name in script.functions for argument in ("--function", name)]
    return ["--llm", "--ignore", "OPT", *chosen]


@contextmanager
def endpoint(script: Script) -> Iterator[dict[str, str]]:
    """The scripted server, running; yields the environment that points optimize at it."""
    from tests.llm_server import LLMServer  # the tests' server: the repo, not the wheel

    with LLMServer() as server:
        for name in script.functions:
            answers = (
                [script.wrong[name], script.right[name]]
                if name in script.wrong
                else [script.right[name]]
            )
            server.add("rewrite_proposals", {"candidates": answers}, function=name)
        yield {"OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": "sk-scripted"}


def fates(script: Script, outcomes: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each scripted proposal's outcome: accepted, written, why, and its speedup."""
    found = []
    for outcome in outcomes:
        name = outcome["function"]
        if outcome["origin"] != "llm" or name not in script.right:
            continue
        found.append({
            "function": name,
            "kind": script.kind(name, outcome.get("explanation", "")),
            "accepted": outcome["accepted"],
            "written": outcome["written"],
            "reason": outcome["reason"],
            "speedup": outcome["speedup"],
        })  # fmt: skip
    return found


def wrong_written(row: Mapping[str, Any]) -> int:
    return sum(1 for f in row.get("scripted") or () if f["kind"] == WRONG and f["written"])
