"""OPT101: string `+=` in a loop becomes a list of parts and one join."""

from __future__ import annotations

import ast
from collections.abc import Sequence

import libcst as cst
import libcst.matchers as m

from passes import _ast_prefilter as pre
from passes._facts import FunctionFacts, FunctionPass
from passes._flow_types import flow_type_of
from passes._names import name_references
from passes._splicing import keep_comments
from passes.base import Example

Loop = cst.For | cst.While


class StrConcatInLoop(FunctionPass):
    """What it does:
        Rewrites a local string built with `s += piece` inside a loop into a list of
        parts that is joined once after the loop.

    Why it is faster:
        Each `s += piece` may copy the whole string built so far, so the loop is
        quadratic in the length of the result. Appending to a list is amortised
        O(1) and `"".join` copies every character once.

    Fix safety:
        The pass fires only when all of these are proven:
        - `s` is a local of the function (no `global`/`nonlocal`, no closure use);
        - `s` is initialised with a str literal in the same block, before the loop,
          with no use of `s` in between;
        - inside the loop, every use of `s` is the target of `s += <expr>`, and each
          `<expr>` provably evaluates to a `str` (literals, str-typed parameters,
          loop variables over `list[str]` or unpacked from `list[tuple[str, ...]]`,
          locals every one of whose bindings stores a str, str methods, items of
          `str.split(...)`, `str(...)`), so the `+=` can never raise or call a
          user-defined `__add__`;
        - the loop has no `else` clause and is not inside a `try` or `with` block
          of the function, so no exception handler can observe a half-built `s`.
    """

    code = "OPT101"
    name = "str-concat-in-loop"
    summary = "Build strings in a loop with a list and one ''.join instead of +=."
    triggers = ("+=",)

    @classmethod
    def may_match_ast(cls, function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
        """A loop without `else` holding `s += ...`, after `s = <str literal>` in its block."""
        for block in pre.index(function).blocks:
            for position, loop in enumerate(block):
                if not isinstance(loop, ast.For | ast.AsyncFor | ast.While) or loop.orelse:
                    continue
                added = {
                    node.target.id
                    for node in ast.walk(loop)
                    if isinstance(node, ast.AugAssign)
                    and isinstance(node.op, ast.Add)
                    and isinstance(node.target, ast.Name)
                }
                if added & {_str_initialised(s) for s in block[:position]}:
                    return True
        return False

    EXAMPLES = (
        Example(
            before='''\
def render(names: list[str]) -> str:
    out = ""
    for name in names:
        out += name.upper() + ", "
    return out.strip()
''',
            after='''\
def render(names: list[str]) -> str:
    out_parts = []
    for name in names:
        out_parts.append(name.upper() + ", ")
    out = "".join(out_parts)
    return out.strip()
''',
        ),
        Example(
            before='''\
def csv_line(cells: list[int]) -> str:
    line = "row:"
    for cell in cells:
        if cell > 0:
            line += str(cell)
        line += ";"
    return line
''',
            after='''\
def csv_line(cells: list[int]) -> str:
    line_parts = ["row:"]
    for cell in cells:
        if cell > 0:
            line_parts.append(str(cell))
        line_parts.append(";")
    line = "".join(line_parts)
    return line
''',
        ),
        Example(
            before='''\
def summary(rows: list[tuple[str, int]]) -> str:
    text = ""
    for label, count in rows:
        name = label.strip()
        if not name:
            name = "?"
        text += name + "=" + str(count) + ";"
    return text
''',
            after='''\
def summary(rows: list[tuple[str, int]]) -> str:
    text_parts = []
    for label, count in rows:
        name = label.strip()
        if not name:
            name = "?"
        text_parts.append(name + "=" + str(count) + ";")
    text = "".join(text_parts)
    return text
''',
        ),
        Example(
            before='''\
def grid(rows: list[list[str]]) -> str:
    out = ""
    for row in rows:
        line = ""
        for cell in row:
            line += cell.split(":")[0] + ","
        out += line + "\\n"
    return out
''',
            after='''\
def grid(rows: list[list[str]]) -> str:
    out_parts = []
    for row in rows:
        line_parts = []
        for cell in row:
            line_parts.append(cell.split(":")[0] + ",")
        line = "".join(line_parts)
        out_parts.append(line + "\\n")
    out = "".join(out_parts)
    return out
''',
        ),
    )
    NON_EXAMPLES = (
        # The pieces are not provably str: `+=` could call a custom __add__.
        '''\
def join_all(items: list) -> str:
    out = ""
    for item in items:
        out += item
    return out
''',
        # The partial string is visible to the exception handler.
        '''\
def safe_join(names: list[str]) -> str:
    out = ""
    try:
        for name in names:
            out += name
    except MemoryError:
        return out
    return out
''',
        # A closure can observe the half-built string.
        '''\
def traced(names: list[str]) -> str:
    def peek() -> str:
        return out
    out = ""
    for name in names:
        out += name
        print(peek())
    return out
''',
        # The accumulator is read inside the loop.
        '''\
def lengths(names: list[str]) -> list[int]:
    out = ""
    sizes = []
    for name in names:
        out += name
        sizes.append(len(out))
    return sizes
''',
        # One binding of the piece is an int: the += would raise TypeError.
        '''\
def labels(rows: list[tuple[str, int]]) -> str:
    text = ""
    for label, count in rows:
        piece = label
        if count > 1:
            piece = count
        text += piece
    return text
''',
    )

    def leave_IndentedBlock(
        self, original_node: cst.IndentedBlock, updated_node: cst.IndentedBlock
    ) -> cst.IndentedBlock:
        facts = self.facts
        if facts is None:
            return updated_node
        for index, statement in enumerate(original_node.body):
            # A changed loop is one whose inner accumulator this pass already rewrote;
            # that rewrite only touched another name, so the analysis below still holds.
            if not isinstance(statement, Loop):
                continue
            for name in _augmented_names(statement):
                init_index = _initialiser_index(original_node.body, index, name, facts)
                if init_index is not None and _loop_only_appends(statement, name, facts):
                    return updated_node.with_changes(
                        body=_rewrite(updated_node.body, init_index, index, name, facts)
                    )
        return updated_node


def _str_initialised(statement: ast.stmt) -> str | None:
    """The name of `name = <str literal>` (an f-string part allowed: libcst's
    ConcatenatedString), a superset of `_str_literal_assignment`."""
    name = pre.single_name_target(statement)
    value = getattr(statement, "value", None)
    if isinstance(value, ast.JoinedStr) or pre.is_str_literal(value):  # type: ignore[arg-type]
        return name
    return None


def _augmented_names(loop: Loop) -> list[str]:
    targets = m.findall(loop, m.AugAssign(target=m.Name(), operator=m.AddAssign()))
    names: list[str] = []
    for node in targets:
        assert isinstance(node, cst.AugAssign) and isinstance(node.target, cst.Name)
        if node.target.value not in names:
            names.append(node.target.value)
    return names


def _initialiser_index(
    body: Sequence[cst.BaseStatement], loop_index: int, name: str, facts: FunctionFacts
) -> int | None:
    if not facts.is_private_local(name):
        return None
    for index in range(loop_index - 1, -1, -1):
        statement = body[index]
        if _str_literal_assignment(statement, name) is not None:
            return index
        if name_references(statement, name):
            return None
    return None


def _str_literal_assignment(
    statement: cst.BaseStatement, name: str
) -> cst.SimpleString | cst.ConcatenatedString | None:
    if not m.matches(
        statement,
        m.SimpleStatementLine(
            body=[m.Assign(targets=[m.AssignTarget(target=m.Name(name))])]
        ),
    ):
        return None
    value = statement.body[0].value  # type: ignore[attr-defined]
    is_text = isinstance(value, cst.SimpleString | cst.ConcatenatedString) and not any(
        "b" in string.prefix.lower() for string in m.findall(value, m.SimpleString())
        if isinstance(string, cst.SimpleString)
    )
    return value if is_text else None


def _loop_only_appends(loop: Loop, name: str, facts: FunctionFacts) -> bool:
    if loop.orelse is not None or facts.in_try_block(loop):
        return False
    for reference in name_references(loop, name):
        statement = facts.parent(reference)
        if not (
            isinstance(statement, cst.AugAssign)
            and statement.target is reference
            and isinstance(statement.operator, cst.AddAssign)
            and flow_type_of(facts, statement.value) == "str"
            and not name_references(statement.value, name)
        ):
            return False
    return True


def _rewrite(
    body: Sequence[cst.BaseStatement],
    init_index: int,
    loop_index: int,
    name: str,
    facts: FunctionFacts,
) -> list[cst.BaseStatement]:
    parts = facts.fresh_name(f"{name}_parts")
    initial = _str_literal_assignment(body[init_index], name)
    assert initial is not None
    is_empty = isinstance(initial, cst.SimpleString) and initial.evaluated_value == ""
    start = "[]" if is_empty else f"[{cst.Module([]).code_for_node(initial)}]"
    new_body = list(body)
    initialiser = cst.parse_statement(f"{parts} = {start}\n")
    (new_body[init_index],) = keep_comments([body[init_index]], [initialiser])
    new_body[loop_index] = body[loop_index].visit(_AppendInstead(name, parts))  # type: ignore[assignment]
    new_body.insert(loop_index + 1, cst.parse_statement(f'{name} = "".join({parts})\n'))
    return new_body


class _AppendInstead(cst.CSTTransformer):
    def __init__(self, name: str, parts: str) -> None:
        self.name = name
        self.parts = parts

    def leave_AugAssign(
        self, original_node: cst.AugAssign, updated_node: cst.AugAssign
    ) -> cst.BaseSmallStatement:
        if m.matches(updated_node, m.AugAssign(target=m.Name(self.name))):
            return cst.Expr(
                cst.Call(
                    func=cst.Attribute(cst.Name(self.parts), cst.Name("append")),
                    args=[cst.Arg(updated_node.value)],
                )
            )
        return updated_node
