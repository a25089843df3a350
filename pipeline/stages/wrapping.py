"""Wrapping long lines the way Black does, for projects that run no formatter.

A statement longer than the line length is split as Black splits it: a `def` at
its parameters; a returned, assigned or tested expression inside parentheses at
its loosest-binding operators (Black's invisible parentheses); anything else at
its last bracket pair whose head fits, the inside one item per line with a magic
trailing comma, comprehension clauses and conditional expressions on lines of
their own. Only the line breaks and indentation change, never the tokens'
spacing; `style.restyle` checks that the tree is the same.
"""

from __future__ import annotations

import io
import itertools
import keyword
import tokenize
from collections.abc import Sequence
from dataclasses import dataclass

INDENT = "    "


@dataclass(frozen=True)
class _Token:
    text: str
    space: str  # the whitespace before it on the line
    depth: int  # brackets open before it


OPENING, CLOSING = frozenset("([{"), frozenset(")]}")


def wrap_long_lines(code: str, span: tuple[int, int], limit: int, kept: set[str]) -> str:
    """Split each one-line statement in `span` (first, last line) that is longer than
    `limit` and is not one of the `kept` lines."""
    lines = code.splitlines(keepends=True)
    single = one_line_statements(code)
    first, last = span
    out: list[str] = []
    for number, line in enumerate(lines, start=1):
        text = line.rstrip("\r\n")
        if first <= number <= last and number in single and len(text) > limit and line not in kept:
            ending = line[len(text) :]
            indent = text[: len(text) - len(text.lstrip())]
            tokens = _tokens(text.strip())
            if tokens:
                out.extend(piece + ending for piece in _split_statement(tokens, indent, limit))
                continue
        out.append(line)
    return "".join(out)


def one_line_statements(code: str) -> set[int]:
    """Lines that hold one whole logical line (no continuation, no trailing comment);
    comment lines above it do not count."""
    lines: set[int] = set()
    start = None
    commented = False
    try:
        for token in tokenize.generate_tokens(io.StringIO(code).readline):
            if token.type in (tokenize.NL, tokenize.INDENT, tokenize.DEDENT):
                continue
            if start is None and token.type == tokenize.COMMENT:
                continue  # a comment on a line of its own belongs to no statement
            if start is None:
                start, commented = token.start[0], False
            if token.type == tokenize.COMMENT:
                commented = True
            if token.type == tokenize.NEWLINE:
                if token.start[0] == start and not commented:
                    lines.add(start)
                start = None
    except (tokenize.TokenError, SyntaxError):
        return set()
    return lines


def _tokens(statement: str) -> list[_Token] | None:
    found: list[_Token] = []
    depth, column = 0, 0
    try:
        for token in tokenize.generate_tokens(io.StringIO(statement + "\n").readline):
            if token.type in (tokenize.NEWLINE, tokenize.NL, tokenize.ENDMARKER):
                continue
            if token.type not in (tokenize.OP, tokenize.NAME, tokenize.NUMBER, tokenize.STRING):
                return None  # f-string parts, comments, ...: leave the line alone
            if token.string in CLOSING:
                depth -= 1
            found.append(_Token(token.string, statement[column : token.start[1]], depth))
            if token.string in OPENING:
                depth += 1
            column = token.end[1]
    except (tokenize.TokenError, SyntaxError):
        return None
    return found


def _render(tokens: Sequence[_Token]) -> str:
    return "".join(t.space + t.text for t in tokens).strip()


def _split_statement(tokens: list[_Token], indent: str, limit: int) -> list[str]:
    """A statement line. A `def` splits at its parameters. The expression of a
    `return`, assignment, `if`, `elif` or `while` goes in parentheses (Black's
    invisible ones), split at its operators when needed, unless it has at most one
    loosest-binding operator and ends with a bracket pair Black would split instead.
    Anything else splits at its last bracket pair."""
    line = indent + _render(tokens)
    if len(line) <= limit:
        return [line]
    if tokens[0].text in ("def", "async", "class"):
        return _left_hand_split(tokens, indent, limit)
    if tokens[0].text == "from" and tokens[-1].text not in CLOSING:
        return _split_from_import(tokens, indent, limit)
    if tokens[0].text == "for" and tokens[-1].text == ":":
        return _split_for(tokens, indent, limit)
    span = _expression_span(tokens)
    if span is None:
        return _right_hand_split(tokens, indent, limit)
    start, end = span
    value = tokens[start:end]
    points = _operator_splits(value, [i for i, t in enumerate(value) if t.depth == 0])
    head, tail = _render(tokens[:start]), _render(tokens[end:])
    inner = [_Token(t.text, t.space, t.depth + 1) for t in value]
    deeper = indent + INDENT
    fits = len(deeper + _render(inner)) <= limit
    # Black keeps the parentheses when the value ends in empty brackets, or in an index
    # while the target has brackets or commas, and the value fits on a line of its own.
    empty_end = len(value) > 1 and value[-2].text in OPENING and value[-1].text in CLOSING
    compound_target = any(t.text in OPENING or t.text == "," for t in tokens[:start])
    # A value that opens with a non-empty bracket: Black splits at that atom instead.
    starts_with_atom = value[0].text in OPENING and value[1:2] and value[1].text not in CLOSING
    keep = fits and not starts_with_atom
    keep = keep and (empty_end or (compound_target and _ends_in_index(value)))
    commas = sum(t.text == "," and t.depth == 0 for t in value)
    if commas:  # a bare tuple: in parentheses one item a line, unless one comma does
        if commas == 1 and _ends_in_splittable_bracket(tokens, end, indent, limit):
            return _right_hand_split(tokens, indent, limit)
        body = _split_body(inner, deeper, limit, display=True)
        return [f"{indent}{head} (", *body, f"{indent}){tail}"]
    if not keep and not points and any(t.text in CLOSING for t in value):  # parentheses useless
        return _right_hand_split(tokens, indent, limit)
    if not keep and len(points) == 1 and _ends_in_splittable_bracket(tokens, end, indent, limit):
        return _right_hand_split(tokens, indent, limit)
    if len(f"{indent}{head} (") > limit or (len(value) == 1 and not fits):
        return _right_hand_split(tokens, indent, limit)
    if fits or not points:
        body = _right_hand_split(inner, deeper, limit)
    else:
        body = _split_at(inner, points, deeper, limit)
    return [f"{indent}{head} (", *body, f"{indent}){tail}"]


def _split_for(tokens: list[_Token], indent: str, limit: int) -> list[str]:
    """`for a, b in it:` whose iterable ends in no splittable bracket: the target in
    parentheses, one name a line (Black's invisible parentheses around it)."""
    at = next((i for i, t in enumerate(tokens) if t.text == "in" and t.depth == 0), None)
    target = tokens[1:at] if at is not None else []
    iterable = tokens[at + 1 : -1] if at is not None else []
    commas = any(t.text == "," and t.depth == 0 for t in target)
    splittable = (
        bool(iterable) and iterable[-1].text in CLOSING and iterable[-2].text not in OPENING
    )
    if at is None or not commas or splittable:
        return _right_hand_split(tokens, indent, limit)
    names = [_Token(t.text, t.space, t.depth + 1) for t in target]
    body = _split_body(names, indent + INDENT, limit, display=True)
    return [f"{indent}for (", *body, f"{indent}) {_render(tokens[at:])}"]


def _split_from_import(tokens: list[_Token], indent: str, limit: int) -> list[str]:
    """`from m import a, b` as `from m import (`, one name per line, `)`."""
    at = next((i for i, t in enumerate(tokens) if t.text == "import"), None)
    if at is None or at + 1 >= len(tokens):
        return [indent + _render(tokens)]
    names = [_Token(t.text, t.space, t.depth + 1) for t in tokens[at + 1 :]]
    if names[-1].text != ",":  # Black puts one name per line, each with its comma
        names.append(_Token(",", "", names[-1].depth))
    body = _split_body(names, indent + INDENT, limit, display=True)
    return [f"{indent}{_render(tokens[: at + 1])} (", *body, f"{indent})"]


def _expression_span(tokens: Sequence[_Token]) -> tuple[int, int] | None:
    """Where the expression of `return x`, `target = x`, `if x:`, `elif x:` or
    `while x:` begins and ends."""
    first, count = tokens[0].text, len(tokens)
    if first == "return" and count > 1:
        return 1, count
    if first in ("if", "elif", "while") and tokens[-1].text == ":" and count > 2:
        return 1, count - 1
    assigns = [
        index
        for index, token in enumerate(tokens)
        if token.depth == 0
        and token.text.endswith("=")
        and token.text not in ("==", "<=", ">=", "!=")
    ]
    if assigns and assigns[-1] + 1 < count:  # after the last `=` of a chained assignment
        return assigns[-1] + 1, count
    return None


def _indexes(before: str) -> bool:
    """A `[` right after this token indexes (a name, closing bracket or string)."""
    return before.isidentifier() or before in CLOSING or before[:1] in ("'", '"')


def _ends_in_index(value: Sequence[_Token]) -> bool:
    """`value` ends with an index (`x[i]`), not a call or display."""
    if value[-1].text != "]":
        return False
    opening = _matching_opening(value, len(value) - 1)
    before = value[opening - 1].text if opening else ""
    return _indexes(before)


def _ends_in_splittable_bracket(
    tokens: Sequence[_Token], end: int, indent: str, limit: int
) -> bool:
    """Black splits at the expression's last bracket pair rather than adding
    parentheses when the expression ends with a call or display (not an index), and
    either another bracket comes before it or the line fits up to its opening."""
    last = tokens[end - 1]
    opening = _matching_opening(tokens, end - 1) if last.text in CLOSING else None
    if opening is None or opening == end - 2:
        return False
    before = tokens[opening - 1].text if opening > 0 else ""
    if last.text == "]" and _indexes(before):
        return False  # indexing: Black does not split there
    if any(t.text in OPENING for t in tokens[:opening]):
        return True
    return len(indent + _render(tokens[: opening + 1])) <= limit


def _left_hand_split(tokens: list[_Token], indent: str, limit: int) -> list[str]:
    """A `def` (or `class`) line split at its first bracket: the parameters go one
    level deeper, with a trailing comma when there is a single one (as Black does)."""
    opening = next((i for i, t in enumerate(tokens) if t.text in OPENING), None)
    closing = None
    if opening is not None:
        depth = tokens[opening].depth
        closing = next(
            (i for i in range(opening + 1, len(tokens))
             if tokens[i].text in CLOSING and tokens[i].depth == depth),
            None,
        )  # fmt: skip
    if opening is None or closing is None or closing == opening + 1:
        return [indent + _render(tokens)]
    body = tokens[opening + 1 : closing]
    if not any(t.text == "," and t.depth == body[0].depth for t in body):
        body = [*body, _Token(",", "", body[0].depth)]
    head, tail = tokens[: opening + 1], tokens[closing:]
    return [
        indent + _render(head),
        *_split_body(body, indent + INDENT, limit),
        indent + _render(tail),
    ]


_OPERATOR_GROUPS = (
    ("or",),
    ("and",),
    ("<", ">", "==", ">=", "<=", "!=", "in", "not", "is"),
    ("|",),
    ("^",),
    ("&",),
    ("<<", ">>"),
    ("+", "-"),
    ("*", "/", "//", "%", "@"),
)


def _operator_splits(body: Sequence[_Token], top: Sequence[int]) -> list[int]:
    """Where to split `body` before its loosest-binding binary operators at the top
    level: a conditional expression's `if`/`else`, else the first operator group
    present (unary `-`, `not` and the `not` of `is not` do not count)."""
    texts = [body[i].text for i in top]
    if "if" in texts and "else" in texts and "for" not in texts:
        return [i for i in top if body[i].text in ("if", "else") and i > 0]
    if texts[:1] in (["for"], ["async"]) and "in" in texts:  # `for x in xs` is no comparison
        top = [i for i in top if i > top[texts.index("in")]]
    for group in _OPERATOR_GROUPS:
        found = [
            i
            for i in top
            if i > 0 and body[i].text in group and _ends_operand(body[i - 1])
            and not (body[i].text == "in" and body[i - 1].text == "not")
        ]  # fmt: skip
        found = [i for i in found if body[i].text != "not" or body[i + 1].text == "in"]
        if found:
            return found
    return []


def _ends_operand(token: _Token) -> bool:
    """A token after which an operator is binary: a name, literal or closing bracket."""
    if token.text in CLOSING or token.text in ("True", "False", "None"):
        return True
    starts = token.text[:1]
    return (starts.isalnum() or starts in "_'\"") and not keyword.iskeyword(token.text)


def _right_hand_split(tokens: list[_Token], indent: str, limit: int) -> list[str]:
    """The line split at its last bracket pair whose head fits: `head(`, the body one
    level deeper, `)tail`. A line that fits, or has no such pair, stays whole."""
    line = indent + _render(tokens)
    if len(line) <= limit or not tokens:
        return [line]
    base = tokens[0].depth
    pairs = [
        (opening, closing)
        for closing in range(len(tokens) - 1, 0, -1)
        if tokens[closing].text in CLOSING and tokens[closing].depth == base
        for opening in [_matching_opening(tokens, closing)]
        if opening is not None and closing - opening > 1
    ]
    # Like Black, try the pairs whose closing bracket is within a line's length of the
    # end, rightmost first, and take the first whose head fits; else the last pair.
    fitting = [
        (opening, closing)
        for opening, closing in pairs
        if len(indent + _render(tokens[: opening + 1])) <= limit
        and (closing == pairs[0][1] or len(indent + _render(tokens[closing:])) <= limit)
    ]
    if not (fitting or pairs):
        return [line]
    opening, closing = (fitting or pairs)[0]
    before = tokens[opening - 1] if opening > 0 else None
    display = before is None or not _ends_operand(before) or keyword.iskeyword(before.text)
    body = _split_body(tokens[opening + 1 : closing], indent + INDENT, limit, display)
    head = _right_hand_split(tokens[: opening + 1], indent, limit)
    return [*head, *body, *_right_hand_split(tokens[closing:], indent, limit)]


def _matching_opening(tokens: Sequence[_Token], closing: int) -> int | None:
    depth = tokens[closing].depth
    for index in range(closing - 1, -1, -1):
        if tokens[index].text in OPENING and tokens[index].depth == depth:
            return index
    return None


def _split_body(body: list[_Token], indent: str, limit: int, display: bool = False) -> list[str]:
    """The inside of a bracket pair: whole when it fits (and is not a display of
    several items); else one comprehension clause, or one item with a trailing comma
    (Black's magic trailing comma), per line, each split further if needed."""
    line = indent + _render(body)
    base = body[0].depth
    top = [i for i, t in enumerate(body) if t.depth == base]
    clauses = _comprehension_clauses(body, top)
    commas = [i for i in top if body[i].text == ","]
    explode = display and bool(commas) and not clauses
    if len(line) <= limit and not explode:
        return [line]
    if clauses or not commas:  # one item alone in its brackets needs no parentheses
        return _split_inside(body, indent, limit, parenthesized=not clauses)
    pieces = [p for p in _cut(body, [c + 1 for c in commas]) if p]
    if pieces[-1][-1].text != ",":
        pieces[-1] = [*pieces[-1], _Token(",", "", base)]
    return [part for piece in pieces for part in _split_inside(piece, indent, limit)]


def _split_inside(
    tokens: list[_Token], indent: str, limit: int, parenthesized: bool = False
) -> list[str]:
    """A line inside brackets: split before its comprehension clauses or loosest binary
    operators (a trailing comma aside), each part split further; a conditional
    expression is put in parentheses first, as Black does; else split at the last
    bracket pair."""
    line = indent + _render(tokens)
    if len(line) <= limit:
        return [line]
    base = tokens[0].depth
    comma = tokens[-1].text == ","
    end = len(tokens) - comma
    top = [i for i in range(end) if tokens[i].depth == base]
    points = _comprehension_clauses(tokens, top) or _operator_splits(tokens, top)
    if not points:
        return _right_hand_split(tokens, indent, limit)
    if (
        tokens[points[0]].text == "if"
        and not parenthesized
        and not _comprehension_clauses(tokens, top)
    ):
        inner = [_Token(t.text, t.space, t.depth + 1) for t in tokens[:end]]
        body = _split_at(inner, points, indent + INDENT, limit)
        return [f"{indent}(", *body, f"{indent})" + ("," if comma else "")]
    return _split_at(tokens, points, indent, limit)


def _split_at(tokens: list[_Token], points: Sequence[int], indent: str, limit: int) -> list[str]:
    return [part for piece in _cut(tokens, points) for part in _split_inside(piece, indent, limit)]


def _comprehension_clauses(body: Sequence[_Token], top: Sequence[int]) -> list[int]:
    """Where each `for` / `async for` / `if` clause of a comprehension starts."""
    fors = [i for i in top if body[i].text == "for"]
    if not fors:
        return []
    first = fors[0] - (body[fors[0] - 1].text == "async")
    return [
        i
        for i in top
        if i >= first and i > 0
        if body[i].text in ("async", "if")
        or (body[i].text == "for" and body[i - 1].text != "async")
    ]


def _cut(tokens: list[_Token], at: Sequence[int]) -> list[list[_Token]]:
    bounds = [0, *at, len(tokens)]
    return [tokens[start:end] for start, end in itertools.pairwise(bounds)]
