"""The stand-in module the passes run on: what libcst's metadata needs, and no more."""

from __future__ import annotations

import ast
from collections.abc import Collection, Iterator
from dataclasses import dataclass

from pipeline.stages.parse import physical_lines


@dataclass(frozen=True)
class StandIn:
    """What libcst's scope metadata needs to know about a module, to stand in for it.

    Every import verbatim (so qualified names resolve as in the real module; one
    nested in a module-level `if` or `try` under `if True:`), and
    every other module-level binding as `name = None` (so a shadowed builtin is
    still seen as shadowed).
    """

    imports: str
    bindings: tuple[tuple[str, int], ...]  # (name, line of its `def`, or 0 if not a def)

    def around(self, functions: Collection[tuple[str, int]]) -> str:
        """The stand-in for some functions, given as (name, line of `def`); their own
        `def`s are left out (the caller appends the real ones)."""
        stubs = dict.fromkeys(n for n, line in self.bindings if (n, line) not in functions)
        return self.imports + "".join(f"{name} = None\n" for name in stubs)


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
    return StandIn("".join(imports), tuple(bindings))


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
