"""What a regular expression's every match needs: the characters that must occur in any
string it can match, read from the standard library's own parse of the pattern.

Conservative by construction: a construct this module does not know, a flag that
folds case, or a parse that fails or warns all give the empty answer ("nothing
proven").
"""

from __future__ import annotations

import importlib
import re
import sys
import unicodedata
import warnings
from collections.abc import Iterable
from typing import Any

# The parser `re` itself compiles with (`re._parser` from 3.11 on; `sre_parse` before,
# which 3.11+ still has but deprecates). Its tree is a list of (opcode, argument) pairs.
_PARSER: Any = importlib.import_module("re._parser" if sys.version_info >= (3, 11) else "sre_parse")

# Case folding makes a literal match other characters too (`k` matches KELVIN SIGN).
_CASE_FOLDING = re.IGNORECASE | re.LOCALE
_REPEATS = frozenset({"MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"})


def required_characters(pattern: str, flags: int) -> frozenset[str]:
    """Characters that every match of `pattern` (compiled with `flags`) contains: a
    string without one of them cannot match anywhere."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            parsed = _PARSER.parse(pattern, flags)
    except (re.error, ValueError, TypeError, OverflowError, RecursionError, Warning):
        return frozenset()
    if parsed.state.flags & _CASE_FOLDING:
        return frozenset()
    return _in_sequence(parsed)


def _in_sequence(items: Iterable[tuple[Any, Any]]) -> frozenset[str]:
    """Every item of a sequence must match, so each one's required characters are."""
    found: set[str] = set()
    for opcode, argument in items:
        found |= _in_item(str(opcode), argument)
    return frozenset(found)


def _in_item(opcode: str, argument: Any) -> frozenset[str]:
    if opcode == "LITERAL":
        return frozenset(chr(argument))
    if opcode == "SUBPATTERN":  # (group, flags added, flags removed, items)
        _, added, _, items = argument
        return frozenset() if added & _CASE_FOLDING else _in_sequence(items)
    if opcode in _REPEATS:  # (least, most, items): only a repeat that must run once
        least, _, items = argument
        return _in_sequence(items) if least >= 1 else frozenset()
    if opcode == "ATOMIC_GROUP":
        return _in_sequence(argument)
    if opcode == "BRANCH":  # (None, alternatives): what every alternative needs
        _, alternatives = argument
        needed = [_in_sequence(alternative) for alternative in alternatives]
        return frozenset.intersection(*needed) if needed else frozenset()
    # Character classes, `.`, anchors, back references, look-arounds, conditionals:
    # nothing proven (a look-ahead's text is in the string, but not claimed here).
    return frozenset()


def rarest(characters: Iterable[str]) -> str | None:
    """The character least likely to occur in ordinary text, so a membership test on it
    most often proves there is nothing to match: control and format characters first,
    then other non-ASCII ones, ASCII punctuation, whitespace, and letters and digits
    last; ties go to the lowest code point."""
    return min(characters, key=lambda c: (_commonness(c), ord(c)), default=None)


def _commonness(character: str) -> int:
    if unicodedata.category(character) in {"Cc", "Cf"} and not character.isspace():
        return 0
    if not character.isascii():
        return 1
    if character.isspace():
        return 3
    if character.isalnum() or character == "_":
        return 4
    return 2


def str_literal(character: str) -> str:
    """Python source for a one-character str literal, in double quotes, with
    non-printable characters escaped (`"\\x1b"`)."""
    if character == '"':
        return "'\"'"
    if character == "\\":
        return '"\\\\"'
    if character.isprintable():
        return f'"{character}"'
    code = ord(character)
    if code < 0x100:
        return f'"\\x{code:02x}"'
    if code < 0x10000:
        return f'"\\u{code:04x}"'
    return f'"\\U{code:08x}"'
