"""What a function's behaviour can depend on inside its module: its dependency slice.

The slice is the function's own statement (for a method, its whole class)
plus every module-level statement that binds a name it reads, transitively,
plus the module's statements that bind nothing (they run at import and may
set state). Two modules with the same slice for a function give it the same
behaviour and the same cost, whatever else changed in them; the verdict cache
keys on slices, so an edit elsewhere in a file does not re-time a function.
"""

from __future__ import annotations

import ast
import hashlib


def slice_digest(module_source: str, qualname: str) -> str:
    """A digest of the function's dependency slice; of the whole module if it cannot parse."""
    try:
        tree = ast.parse(module_source)
    except (SyntaxError, ValueError):
        return hashlib.sha256(module_source.encode("utf-8", "surrogatepass")).hexdigest()
    digest = hashlib.sha256()
    for statement in dependency_slice(tree, qualname.split(".")[0]):
        digest.update(ast.dump(statement, include_attributes=False).encode())
        digest.update(b"\n")
    return digest.hexdigest()


def dependency_slice(tree: ast.Module, name: str) -> list[ast.stmt]:
    """The module-level statements `name`'s definition needs, in source order."""
    bindings: dict[str, list[int]] = {}
    always: set[int] = set()
    for index, statement in enumerate(tree.body):
        bound = _bound_names(statement)
        for bound_name in bound:
            bindings.setdefault(bound_name, []).append(index)
        if not bound:
            always.add(index)
    wanted = set(always) | set(bindings.get(name, []))
    queue = list(wanted)
    while queue:
        statement = tree.body[queue.pop()]
        for read in _read_names(statement):
            for index in bindings.get(read, []):
                if index not in wanted:
                    wanted.add(index)
                    queue.append(index)
    return [tree.body[index] for index in sorted(wanted)]


def _bound_names(statement: ast.stmt) -> set[str]:
    if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return {statement.name}
    if isinstance(statement, ast.Import | ast.ImportFrom):
        return {(alias.asname or alias.name).split(".")[0] for alias in statement.names}
    targets: list[ast.expr] = []
    if isinstance(statement, ast.Assign):
        targets = statement.targets
    elif isinstance(statement, ast.AnnAssign | ast.AugAssign):
        targets = [statement.target]
    elif isinstance(
        statement, ast.For | ast.AsyncFor | ast.With | ast.AsyncWith | ast.If | ast.Try
    ):
        return {node.id for node in ast.walk(statement) if isinstance(node, ast.Name)
                and isinstance(node.ctx, ast.Store)}  # fmt: skip
    return {
        node.id for target in targets for node in ast.walk(target) if isinstance(node, ast.Name)
    }


def _read_names(statement: ast.stmt) -> set[str]:
    return {
        node.id for node in ast.walk(statement)
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)
    }  # fmt: skip
