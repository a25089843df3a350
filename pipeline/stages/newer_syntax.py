"""Files written for a newer Python than the one running `optimize`.

Verification imports and runs the code under the running interpreter, so a
file that only a newer Python parses is out of reach, not broken. libcst's
parser knows newer grammar: when it parses what `ast` refuses, the newest
construct it finds names the version needed ("3.12 syntax: type alias
statement"). A file libcst parses that holds no such construct is an ordinary
syntax error.

The parse stage says so in its one-line error (`parse.newer_python_reason`
reads it back) and imports this module, and libcst, only for a file the
running Python cannot parse.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

import libcst as cst


@dataclass(frozen=True)
class NewerSyntax:
    """A construct the running Python cannot parse, and the version that added it."""

    version: tuple[int, int]
    construct: str

    @property
    def needs(self) -> str:
        return f"{self.version[0]}.{self.version[1]} syntax"


def newer_syntax(text: str) -> NewerSyntax | None:
    """The newest construct in `text` that the running Python lacks, when libcst parses it."""
    try:
        module = cst.parse_module(text)
    except (cst.ParserSyntaxError, RecursionError, ValueError):
        return None
    finder = _Constructs()
    module.visit(finder)
    running = sys.version_info[:2]
    newer = [found for found in finder.found if found.version > running]
    return max(newer, key=lambda found: found.version) if newer else None


class _Constructs(cst.CSTVisitor):
    """Every construct newer than Python 3.10 (the oldest Python `optimize` runs on)."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[NewerSyntax] = []

    def visit_TryStar(self, node: cst.TryStar) -> None:
        self.found.append(NewerSyntax((3, 11), "except*"))

    def visit_TypeAlias(self, node: cst.TypeAlias) -> None:
        self.found.append(NewerSyntax((3, 12), "type alias statement"))

    def visit_TypeParameters(self, node: cst.TypeParameters) -> None:
        self.found.append(NewerSyntax((3, 12), "type parameter list"))

    def visit_TypeParam(self, node: cst.TypeParam) -> None:
        if node.default is not None:
            self.found.append(NewerSyntax((3, 13), "type parameter default"))

    def visit_FormattedString(self, node: cst.FormattedString) -> None:
        if _needs_pep_701(node):
            self.found.append(NewerSyntax((3, 12), "quotes or backslashes inside an f-string"))

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        if isinstance(node.type, cst.Tuple) and not node.type.lpar:
            self.found.append(NewerSyntax((3, 14), "except without parentheses"))

    def visit_TemplatedString(self, node: cst.TemplatedString) -> None:
        self.found.append(NewerSyntax((3, 14), "template string"))


def _needs_pep_701(node: cst.FormattedString) -> bool:
    """A replacement field that reuses the f-string's own quote, or holds a backslash
    or a comment: valid from Python 3.12 (PEP 701) only."""
    quote = node.start.lstrip("rRfFbB")
    empty = cst.Module(body=())
    for part in node.parts:
        if isinstance(part, cst.FormattedStringExpression):
            inside = empty.code_for_node(part.expression)
            if quote in inside or "\\" in inside or "#" in inside:
                return True
    return False
