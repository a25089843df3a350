"""The stand-in module the passes run on: what libcst's metadata needs, and no more."""

from __future__ import annotations

import ast
from collections import Counter
from collections.abc import Collection, Iterator
from dataclasses import dataclass

from pipeline.stages.parse import physical_lines


@dataclass(frozen=True)
class StandIn:
    """What libcst's scope metadata needs to know about a module, to stand in for it.

    Every import verbatim (so qualified names resolve as in the real module; one
    nested in a module-level `if` or `try` under `if True:`), and
    every other module-level binding as `name = None` (so a shadowed builtin is
    still seen as shadowed), except the pattern constants: a name the module binds
    once, unconditionally, to a string or to a `<module>.compile(...)` of one
    (`_ANSI = re.compile(rf"{_ESC}\\[")`), keeps its statement, so a pass can read
    the pattern (OPT221).
    """

    imports: str
    bindings: tuple[tuple[str, int], ...]  # (name, line of its `def`, or 0 if not a def)
    constants: tuple[tuple[str, str], ...] = ()  # (name, its `name = value` statement)

    def around(self, functions: Collection[tuple[str, int]]) -> str:
        """The stand-in for some functions, given as (name, line of `def`); their own
        `def`s are left out (the caller appends the real ones)."""
        stubs = dict.fromkeys(n for n, line in self.bindings if (n, line) not in functions)
        kept = dict(self.constants)
        return self.imports + "".join(kept.get(name, f"{name} = None") + "\n" for name in stubs)


def stand_in(tree: ast.Module, text: str) -> StandIn:
    lines = physical_lines(text)
    imports: list[str] = []
    bindings: list[tuple[str, int]] = []
    top_level = {id(statement) for statement in tree.body}
    for node in _module_level_nodes(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            segment = _segment(lines, node) + "\n"
            # An import under `if TYPE_CHECKING:` or `try:` binds the same names, but a
            # pass that adds an import (and libcst's AddImportsVisitor, like splicing)
            # must not take it for a top-level one.
            imports.append(segment if id(node) in top_level else f"if True:\n    {segment}")
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            bindings.append((node.name, node.lineno))
        elif isinstance(node, ast.ClassDef):
            bindings.append((node.name, 0))
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store | ast.Del):
            bindings.append((node.id, 0))
        elif isinstance(node, ast.ExceptHandler | ast.MatchAs | ast.MatchStar) and node.name:
            bindings.append((node.name, 0))
        elif isinstance(node, ast.MatchMapping) and node.rest:
            bindings.append((node.rest, 0))
    return StandIn("".join(imports), tuple(bindings), _pattern_constants(tree, lines, bindings))


def _pattern_constants(
    tree: ast.Module, lines: list[str], bindings: list[tuple[str, int]]
) -> tuple[tuple[str, str], ...]:
    """(name, statement) of each `name = <pattern constant>` in the module's own body
    whose name has no other binding at module level and no `global` declaration."""
    counts = Counter(name for name, _ in bindings)
    declared = {n for node in ast.walk(tree) if isinstance(node, ast.Global) for n in node.names}
    found: list[tuple[str, str]] = []
    for statement in tree.body:
        if not (
            isinstance(statement, ast.Assign)
            and len(statement.targets) == 1
            and isinstance(statement.targets[0], ast.Name)
            and _is_pattern_constant(statement.value)
        ):
            continue
        name = statement.targets[0].id
        if counts[name] == 1 and name not in declared:
            found.append((name, _segment(lines, statement)))
    return tuple(found)


def _is_pattern_constant(value: ast.expr) -> bool:
    """A string built of literals, f-strings, names and `+`, or `<name>.compile(...)` of
    such a string and flags (`re.X | re.M`): text that only names other bindings."""
    if isinstance(value, ast.Call):
        return (
            isinstance(value.func, ast.Attribute)
            and value.func.attr == "compile"
            and isinstance(value.func.value, ast.Name)
            and not value.keywords
            and 1 <= len(value.args) <= 2
            and _is_text(value.args[0])
            and all(_is_flags(flags) for flags in value.args[1:])
        )
    return not isinstance(value, ast.Name) and _is_text(value)


def _is_text(node: ast.expr) -> bool:
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str)
    if isinstance(node, ast.Name):
        return True
    if isinstance(node, ast.BinOp):
        return isinstance(node.op, ast.Add) and _is_text(node.left) and _is_text(node.right)
    if isinstance(node, ast.JoinedStr):
        return all(_is_text(part) for part in node.values)
    if isinstance(node, ast.FormattedValue):
        return node.format_spec is None and isinstance(node.value, ast.Name)
    return False


def _is_flags(node: ast.expr) -> bool:
    if isinstance(node, ast.Constant):
        return isinstance(node.value, int)
    if isinstance(node, ast.Attribute):
        return isinstance(node.value, ast.Name)
    if isinstance(node, ast.BinOp):
        return isinstance(node.op, ast.BitOr) and _is_flags(node.left) and _is_flags(node.right)
    return False


def _module_level_nodes(tree: ast.Module) -> Iterator[ast.AST]:
    """Nodes that run in the module's own scope: not inside functions, classes or lambdas.

    Comprehension targets are skipped (they bind in their own scope) but a walrus
    inside a comprehension still binds at module level, so its target is kept.
    """
    stack: list[ast.AST] = list(reversed(tree.body))
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda):
            continue
        if isinstance(node, ast.comprehension):
            stack.extend(n for n in ast.walk(node.target) if isinstance(n, ast.NamedExpr))
            stack.extend([node.iter, *node.ifs])
            continue
        stack.extend(reversed(list(ast.iter_child_nodes(node))))


def _segment(lines: list[str], node: ast.stmt) -> str:
    """The exact source text of a statement (`ast` column offsets count UTF-8 bytes)."""
    end = node.end_lineno or node.lineno
    chunk = [line.rstrip("\r\n") for line in lines[node.lineno - 1 : end]]
    last = chunk[-1].encode()[: node.end_col_offset].decode()
    chunk[-1] = last
    chunk[0] = chunk[0].encode()[node.col_offset :].decode()
    return "\n".join(chunk)
