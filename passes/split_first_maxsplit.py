"""OPT113: `s.split(sep)[0]` / `[-1]` stop after the first / last separator."""

from __future__ import annotations

import ast

import libcst as cst
import libcst.matchers as m

from passes import _ast_prefilter as pre
from passes._facts import FunctionPass
from passes._flow_types import proven_type
from passes.base import Example

INDEX = m.Integer() | m.UnaryOperation(operator=m.Minus(), expression=m.Integer())


class SplitFirstMaxsplit(FunctionPass):
    """What it does:
        Rewrites `s.split(sep)[0]` into `s.split(sep, 1)[0]` and `s.split(sep)[-1]`
        into `s.rsplit(sep, 1)[-1]` (and likewise for the whitespace split
        `s.split()`, with `None, 1`); in general `s.split(sep)[k]` into
        `s.split(sep, k + 1)[k]` and `s.split(sep)[-k]` into `s.rsplit(sep, k)[-k]`.

    Why it is faster:
        A full split scans the whole string and allocates a list with one string per
        piece, only to keep one piece. With `maxsplit=1` the scan stops at the first
        (or, with `rsplit`, the last) separator and at most two pieces are built.

    Fix safety:
        The pass fires only when all of these are proven:
        - the receiver `s` provably is a `str` (annotation, literal or str method),
          so `split`/`rsplit` are the builtin methods;
        - the separator is a non-empty str literal, or absent: a split scans left to
          right, so with `maxsplit=k + 1` the pieces `0..k` are the same as without
          it, and there are at least `k + 1` pieces exactly when the full split has
          them (for whitespace splitting, leading/trailing whitespace is dropped the
          same way), so a missing piece raises the same
          `IndexError("list index out of range")`;
        - for a negative index the mirror argument holds for `rsplit` only when the
          separator cannot overlap itself (no proper prefix equals a suffix):
          `"aaa".split("aa")[-1]` is `"a"` but `"aaa".rsplit("aa", 1)[-1]` is `""`;
        - the index is an integer literal below 64 in absolute value, and every name
          in `s` is looked up in the function's own scope.
    """

    code = "OPT113"
    name = "split-first-maxsplit"
    summary = "Use maxsplit=1 (or rsplit) when only the first or last piece of a split is used."
    complexity_win = True
    triggers = (".split(",)

    @classmethod
    def may_match_ast(cls, function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
        """`x.split()[k]` or `x.split("<sep>")[k]` with an int literal `k`."""
        for node in pre.nodes(function, ast.Subscript):
            call = pre.is_literal_index_call(node, lambda i: pre.int_literal_value(i) is not None)
            if (
                call is not None
                and isinstance(call.func, ast.Attribute)
                and call.func.attr == "split"
                and not call.keywords
                and (not call.args or (len(call.args) == 1 and pre.is_str_literal(call.args[0])))
            ):
                return True
        return False

    EXAMPLES = (
        Example(
            before='''\
def module_of(path: str) -> str:
    return path.split(".")[0]
''',
            after='''\
def module_of(path: str) -> str:
    return path.split(".", 1)[0]
''',
        ),
        Example(
            before='''\
def last_words(lines: list[str]) -> list[str]:
    out = []
    for line in lines:
        if line.strip():
            out.append(line.split()[-1] + line.split(", ")[-1])
    return out
''',
            after='''\
def last_words(lines: list[str]) -> list[str]:
    out = []
    for line in lines:
        if line.strip():
            out.append(line.rsplit(None, 1)[-1] + line.rsplit(", ", 1)[-1])
    return out
''',
        ),
        Example(
            before='''\
def hosts(urls: list[str]) -> list[str]:
    found = []
    for url in urls:
        rest = url.split("://")[1] if "://" in url else url
        found.append(rest.split("/")[0] + rest.split(".")[-2])
    return found
''',
            after='''\
def hosts(urls: list[str]) -> list[str]:
    found = []
    for url in urls:
        rest = url.split("://", 2)[1] if "://" in url else url
        found.append(rest.split("/", 1)[0] + rest.rsplit(".", 2)[-2])
    return found
''',
        ),
        Example(
            before='''\
def fields(line: str) -> str:
    words = line.split(",")
    return words[0].split()[2] + line.split("=")[-3]
''',
            after='''\
def fields(line: str) -> str:
    words = line.split(",")
    return words[0].split(None, 3)[2] + line.rsplit("=", 3)[-3]
''',
        ),
    )
    NON_EXAMPLES = (
        # The receiver is not provably a str: it may be any object with a split method.
        '''\
def head(record: object) -> object:
    return record.split(",")[0]
''',
        # The separator overlaps itself: rsplit would cut "aaa" differently.
        '''\
def tail(text: str) -> str:
    return text.split("aa")[-1]
''',
        # An empty separator raises ValueError; left alone.
        '''\
def empty(path: str) -> str:
    return path.split("")[0]
''',
        # A self-overlapping separator with a negative index, and a non-literal index.
        '''\
def middle(text: str, index: int) -> str:
    return text.split("::")[-2] + text.split(",")[index]
''',
    )

    def leave_Subscript(
        self, original_node: cst.Subscript, updated_node: cst.Subscript
    ) -> cst.BaseExpression:
        facts = self.facts
        if facts is None or len(original_node.slice) != 1:
            return updated_node
        index = original_node.slice[0].slice
        if not isinstance(index, cst.Index) or not m.matches(index.value, INDEX):
            return updated_node
        position = _literal_index(index.value)
        call = original_node.value
        if not m.matches(call, m.Call(func=m.Attribute(attr=m.Name("split")))):
            return updated_node
        assert isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute)
        if not _plain_separator(call) or proven_type(facts, call.func.value) != "str":
            return updated_node
        if position is None or (position < 0 and not _rsplit_safe(call)):
            return updated_node
        new_call = updated_node.value
        assert isinstance(new_call, cst.Call) and isinstance(new_call.func, cst.Attribute)
        separator = new_call.args[0].value if new_call.args else cst.Name("None")
        args = [
            cst.Arg(separator, comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))),
            cst.Arg(cst.Integer(str(position + 1 if position >= 0 else -position))),
        ]
        method = "split" if position >= 0 else "rsplit"
        func = new_call.func.with_changes(attr=cst.Name(method))
        return updated_node.with_changes(value=new_call.with_changes(func=func, args=args))


def _plain_separator(call: cst.Call) -> bool:
    if not call.args:
        return True
    if len(call.args) != 1 or call.args[0].keyword is not None or call.args[0].star:
        return False
    value = call.args[0].value
    return (
        isinstance(value, cst.SimpleString)
        and "b" not in value.prefix.lower()
        and isinstance(value.evaluated_value, str)
        and value.evaluated_value != ""
    )


def _literal_index(expr: cst.BaseExpression) -> int | None:
    """The value of an integer literal index (optionally negated) below 64 in size."""
    if isinstance(expr, cst.UnaryOperation) and isinstance(expr.expression, cst.Integer):
        value = expr.expression.evaluated_value
        return -value if 0 < value < 64 else None
    if isinstance(expr, cst.Integer):
        value = expr.evaluated_value
        return value if 0 <= value < 64 else None
    return None


def _rsplit_safe(call: cst.Call) -> bool:
    """Splitting from the right gives the same pieces: whitespace, or a separator
    with no proper prefix that is also its suffix (so occurrences cannot overlap)."""
    if not call.args:
        return True
    value = call.args[0].value
    assert isinstance(value, cst.SimpleString)
    separator = value.evaluated_value
    assert isinstance(separator, str)
    return all(separator[:size] != separator[-size:] for size in range(1, len(separator)))
