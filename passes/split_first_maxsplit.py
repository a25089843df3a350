"""OPT113: `s.split(sep)[0]` / `[-1]` stop after the first / last separator."""

from __future__ import annotations

import libcst as cst
import libcst.matchers as m

from passes._loops import FunctionPass, proven_type
from passes.base import Example

FIRST = m.Integer("0")
LAST = m.UnaryOperation(operator=m.Minus(), expression=m.Integer("1"))


class SplitFirstMaxsplit(FunctionPass):
    """What it does:
        Rewrites `s.split(sep)[0]` into `s.split(sep, 1)[0]` and `s.split(sep)[-1]`
        into `s.rsplit(sep, 1)[-1]` (and likewise for the whitespace split
        `s.split()`, with `None, 1`).

    Why it is faster:
        A full split scans the whole string and allocates a list with one string per
        piece, only to keep one piece. With `maxsplit=1` the scan stops at the first
        (or, with `rsplit`, the last) separator and at most two pieces are built.

    Fix safety:
        The pass fires only when all of these are proven:
        - the receiver `s` provably is a `str` (annotation, literal or str method),
          so `split`/`rsplit` are the builtin methods;
        - the separator is a non-empty str literal, or absent: the first piece of a
          split (and the last piece of an rsplit) is the same for every maxsplit, and
          for whitespace splitting leading/trailing whitespace is dropped the same
          way; an empty or all-whitespace string gives the same pieces or the same
          `IndexError("list index out of range")`;
        - the index is the literal `0` or `-1`, and every name in `s` is looked up in
          the function's own scope.
    """

    code = "OPT113"
    name = "split-first-maxsplit"
    summary = "Use maxsplit=1 (or rsplit) when only the first or last piece of a split is used."
    triggers = (".split(",)

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
    )
    NON_EXAMPLES = (
        # The receiver is not provably a str: it may be any object with a split method.
        '''\
def head(record: object) -> object:
    return record.split(",")[0]
''',
        # The middle piece depends on every separator.
        '''\
def second(path: str) -> str:
    return path.split(".")[1]
''',
        # An empty separator raises ValueError; left alone.
        '''\
def empty(path: str) -> str:
    return path.split("")[0]
''',
    )

    def leave_Subscript(
        self, original_node: cst.Subscript, updated_node: cst.Subscript
    ) -> cst.BaseExpression:
        facts = self.facts
        if facts is None or len(original_node.slice) != 1:
            return updated_node
        index = original_node.slice[0].slice
        if not isinstance(index, cst.Index) or not m.matches(index.value, FIRST | LAST):
            return updated_node
        call = original_node.value
        if not m.matches(call, m.Call(func=m.Attribute(attr=m.Name("split")))):
            return updated_node
        assert isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute)
        if not _plain_separator(call) or proven_type(self, facts, call.func.value) != "str":
            return updated_node
        new_call = updated_node.value
        assert isinstance(new_call, cst.Call) and isinstance(new_call.func, cst.Attribute)
        separator = new_call.args[0].value if new_call.args else cst.Name("None")
        args = [
            cst.Arg(separator, comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))),
            cst.Arg(cst.Integer("1")),
        ]
        method = "split" if m.matches(index.value, FIRST) else "rsplit"
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
