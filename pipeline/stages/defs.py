"""Every `def` of a module, by qualified name: found with the stdlib `ast`, replaced in libcst.

Qualified names are Python's own `__qualname__`: `parse`, `Cart.total`,
`Outer.Inner.method`, `outer.<locals>.helper`. What is inventoried:
- module-level functions;
- methods (plain, `@staticmethod`, `@classmethod`, properties), also of nested
  classes;
- functions nested in a function or method, only when they capture nothing from
  the functions around them (no free variables, no `nonlocal`, no zero-argument
  `super()`, and decorators, defaults and annotations that read none of the
  enclosing functions' names). Such a function behaves the same wherever it is
  defined, so the sandbox checks a module-level copy of it (see `copy_of_nested`).
Only defs that sit directly in a module, class or function body count (not
under `if` or `try`), and a name defined twice in one body (a property setter,
`@overload`, a redefinition) is ambiguous and left out.

A *unit* is a def that sits in no other function: a module-level function or a
method. Passes and models rewrite units; a nested function is a unit's part,
checked alone only when its unit cannot be verified.
"""

from __future__ import annotations

import ast
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pipeline.model import DefKind

if TYPE_CHECKING:  # libcst loads only when a def is found or replaced in a libcst tree
    import libcst as cst

FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef
LOCALS = "<locals>"
# A nested function's module-level copy in the sandbox is called by this name.
NESTED_COPY_PREFIX = "_optimize_nested_copy__"
# Calls that can read any local name, `self` included.
_READS_EVERY_LOCAL = frozenset({"locals", "vars", "eval", "exec"})


@dataclass(frozen=True)
class DefSite:
    """One inventoried def, with the classes around it (outermost first)."""

    qualname: str
    kind: DefKind
    node: FunctionNode
    classes: tuple[ast.ClassDef, ...]
    unit: str  # the qualname of the module-level function or method that holds it

    @property
    def is_unit(self) -> bool:
        return self.unit == self.qualname


def inventory(tree: ast.Module) -> list[DefSite]:
    """Every def the tool works on, in source order."""
    return list(_in_body(tree.body, "", (), ()))


def _in_body(
    body: Sequence[ast.stmt],
    prefix: str,
    classes: tuple[ast.ClassDef, ...],
    functions: tuple[FunctionNode, ...],
    unit: str = "",
) -> Iterator[DefSite]:
    counts = Counter(
        n.name for n in body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
    )
    for node in body:
        if counts.get(getattr(node, "name", ""), 0) != 1:
            continue
        if isinstance(node, ast.ClassDef) and not functions:  # a class local to a function: no
            yield from _in_body(node.body, f"{prefix}{node.name}.", (*classes, node), ())
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            qualname = f"{prefix}{node.name}"
            if functions and captures(node, functions):
                continue
            kind = _kind(node, classes, functions)
            yield DefSite(qualname, kind, node, classes, unit or qualname)
            inner = f"{qualname}.{LOCALS}."
            yield from _in_body(node.body, inner, classes, (*functions, node), unit or qualname)


def _kind(
    node: FunctionNode, classes: tuple[ast.ClassDef, ...], functions: tuple[FunctionNode, ...]
) -> DefKind:
    if functions:
        return DefKind.NESTED
    if not classes:
        return DefKind.FUNCTION
    decorators = {d.id for d in node.decorator_list if isinstance(d, ast.Name)}
    if "staticmethod" in decorators:
        return DefKind.STATICMETHOD
    if "classmethod" in decorators:
        return DefKind.CLASSMETHOD
    return DefKind.METHOD


def span(node: FunctionNode) -> tuple[int, int]:
    """First line (its first decorator's) and last line of a def."""
    return min(
        [node.lineno, *(d.lineno for d in node.decorator_list)]
    ), node.end_lineno or node.lineno


def self_unused(site: DefSite) -> bool:
    """A method that never reads its first parameter (`self`), also not through
    `super()`, `__class__` or `locals()`: any object may stand in for it."""
    if site.kind != DefKind.METHOD:
        return False
    arguments = site.node.args
    positional = [*arguments.posonlyargs, *arguments.args]
    if not positional:
        return False
    first = positional[0].arg
    for node in _body_nodes(site.node):
        if isinstance(node, ast.Name) and node.id in (first, "super", "__class__"):
            return False
        if isinstance(node, ast.Call) and _called_name(node) in _READS_EVERY_LOCAL:
            return False
    return True


def captures(node: FunctionNode, enclosing: Sequence[FunctionNode]) -> bool:
    """Whether a nested def may capture something of the functions around it.

    Conservative: every name any enclosing function binds anywhere counts as
    theirs, and any read of such a name in the nested def (unless the def binds
    it itself) as a capture.
    """
    theirs: set[str] = set()
    for function in enclosing:
        theirs |= _bound_names(function)
    # Decorators, defaults and annotations run in the enclosing function's scope.
    outside = [
        *node.decorator_list,
        *node.args.defaults,
        *(d for d in node.args.kw_defaults if d is not None),
        *(a.annotation for a in _arguments(node) if a.annotation is not None),
        *([node.returns] if node.returns is not None else []),
    ]
    for expression in outside:
        if any(isinstance(n, ast.Name) and n.id in theirs for n in ast.walk(expression)):
            return True
    own = _own_bindings(node)
    for child in _body_nodes(node):
        if isinstance(child, ast.Nonlocal):
            return True
        if isinstance(child, ast.Name) and child.id in ("super", "__class__"):
            return True  # the implicit `__class__` cell of a method
        if isinstance(child, ast.Name) and child.id in theirs and child.id not in own:
            return True
    return False


def _body_nodes(node: FunctionNode) -> Iterator[ast.AST]:
    """Every node of the body, nested scopes included (not decorators or defaults)."""
    for statement in node.body:
        yield from ast.walk(statement)


def _arguments(node: FunctionNode) -> list[ast.arg]:
    arguments = node.args
    every = [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]
    every += [a for a in (arguments.vararg, arguments.kwarg) if a is not None]
    return every


def _bound_names(function: FunctionNode) -> set[str]:
    """Every name bound anywhere inside `function` (a superset of its locals)."""
    names = {a.arg for a in _arguments(function)}
    for node in _body_nodes(function):
        names |= _binds(node)
    return names


def _own_bindings(function: FunctionNode) -> set[str]:
    """Names `function` binds in its own scope (not in scopes nested in it)."""
    names = {a.arg for a in _arguments(function)}
    stack: list[ast.AST] = list(function.body)
    while stack:
        node = stack.pop()
        names |= _binds(node)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda):
            continue
        stack.extend(ast.iter_child_nodes(node))
    return names


def _binds(node: ast.AST) -> set[str]:
    if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store | ast.Del):
        return {node.id}
    if isinstance(node, ast.arg):
        return {node.arg}
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return {node.name}
    if isinstance(node, ast.Import | ast.ImportFrom):
        return {(a.asname or a.name).split(".")[0] for a in node.names}
    if isinstance(node, ast.ExceptHandler | ast.MatchAs | ast.MatchStar) and node.name:
        return {node.name}
    if isinstance(node, ast.MatchMapping) and node.rest:
        return {node.rest}
    return set()


def _called_name(call: ast.Call) -> str:
    return call.func.id if isinstance(call.func, ast.Name) else ""


def find_node(tree: ast.Module, qualname: str) -> FunctionNode | None:
    """The ast node of the def named `qualname`, or None."""
    return next((site.node for site in inventory(tree) if site.qualname == qualname), None)


def locate(tree: ast.Module, qualname: str) -> FunctionNode | None:
    """The def at `qualname`, found by its path alone (a name unique at every level),
    without the inventory's analysis of what nested functions capture."""
    body: Sequence[ast.stmt] = tree.body
    found: ast.stmt | None = None
    for part in _path(qualname):
        named = [s for s in body if getattr(s, "name", None) == part]
        if len(named) != 1 or not isinstance(named[0], ast.ClassDef | ast.FunctionDef |
                                             ast.AsyncFunctionDef):  # fmt: skip
            return None
        found = named[0]
        body = found.body
    return found if isinstance(found, ast.FunctionDef | ast.AsyncFunctionDef) else None


def copy_of_nested(source: str, qualname: str) -> str:
    """A module-level copy of a nested function, named `copy_name(qualname)`, to append
    to its module: the sandbox calls it in place of the nested original."""
    node = find_node(ast.parse(source), qualname)
    if node is None:
        return ""
    copied = ast.fix_missing_locations(_renamed(node, copy_name(qualname)))
    return "\n\n" + ast.unparse(copied) + "\n"


def _renamed(node: FunctionNode, name: str) -> FunctionNode:
    kind = type(node)
    return kind(**{**{f: getattr(node, f) for f in node._fields}, "name": name})


def copy_name(qualname: str) -> str:
    return NESTED_COPY_PREFIX + "__".join(p for p in qualname.split(".") if p != LOCALS)


def is_nested(qualname: str) -> bool:
    return f".{LOCALS}." in qualname


# --------------------------------------------------------------------------- libcst


def _path(qualname: str) -> list[str]:
    return [part for part in qualname.split(".") if part != LOCALS]


def _named(statements: Sequence[cst.CSTNode], name: str) -> list[cst.CSTNode]:
    import libcst as cst

    return [
        s
        for s in statements
        if isinstance(s, cst.FunctionDef | cst.ClassDef) and s.name.value == name
    ]


def _block(node: cst.CSTNode) -> Sequence[cst.CSTNode]:
    import libcst as cst

    body = getattr(node, "body", None)
    return body.body if isinstance(body, cst.IndentedBlock) else ()


def find_def(module: cst.Module, qualname: str) -> cst.FunctionDef | None:
    """The libcst def of `qualname`, when its name is unique at every level."""
    import libcst as cst

    statements: Sequence[cst.CSTNode] = module.body
    found: cst.CSTNode | None = None
    for part in _path(qualname):
        named = _named(statements, part)
        if len(named) != 1:
            return None
        found = named[0]
        statements = _block(found)
    return found if isinstance(found, cst.FunctionDef) else None


def replace_def(module: cst.Module, qualname: str, replacement: cst.FunctionDef) -> cst.Module:
    """`module` with the def of `qualname` replaced; the replacement keeps the blank
    lines and comments above the original def."""
    return module.with_changes(body=_replaced(module.body, _path(qualname), replacement))


def _replaced(
    statements: Sequence[cst.CSTNode], path: list[str], replacement: cst.FunctionDef
) -> list[cst.CSTNode]:
    import libcst as cst

    rebuilt: list[cst.CSTNode] = []
    for statement in statements:
        if not _named([statement], path[0]):
            rebuilt.append(statement)
        elif len(path) == 1:
            assert isinstance(statement, cst.FunctionDef)
            rebuilt.append(replacement.with_changes(leading_lines=statement.leading_lines))
        else:
            body = getattr(statement, "body")  # noqa: B009  (a class or def: its block)
            inner = _replaced(body.body, path[1:], replacement)
            rebuilt.append(statement.with_changes(body=body.with_changes(body=inner)))
    return rebuilt


def unit_defs(module: cst.Module) -> dict[str, cst.FunctionDef]:
    """Every unit of a libcst module (module-level functions and methods) by qualname."""
    found: dict[str, cst.FunctionDef] = {}
    _collect_units(module.body, "", found)
    return found


def _collect_units(
    statements: Sequence[cst.CSTNode], prefix: str, found: dict[str, cst.FunctionDef]
) -> None:
    import libcst as cst

    counts = Counter(
        s.name.value for s in statements if isinstance(s, cst.FunctionDef | cst.ClassDef)
    )
    for statement in statements:
        if not isinstance(statement, cst.FunctionDef | cst.ClassDef):
            continue
        if counts[statement.name.value] != 1:
            continue
        qualname = f"{prefix}{statement.name.value}"
        if isinstance(statement, cst.ClassDef):
            _collect_units(_block(statement), f"{qualname}.", found)
        else:
            found[qualname] = statement
