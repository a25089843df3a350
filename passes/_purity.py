"""What makes a function safe to memoize: a pure body, hashable keys, immutable results.

Shared by the memoizing passes (OPT108 within one call, OPT116 across calls).
"""

from __future__ import annotations

import ast

import libcst as cst
import libcst.matchers as m

from passes._builtins import PURE
from passes._facts import FunctionFacts
from passes._names import resolves_locally
from passes._values import constant_type

# Parameter types whose equal values are interchangeable: -0.0 and 0.0 are equal and
# hash alike but print differently, so float is not one of them.
KEY_TYPES = frozenset({"int", "str", "bool", "bytes"})
RESULT_TYPES = frozenset({"int", "str", "bool", "bytes", "float"})
FORBIDDEN = (
    m.Global() | m.Nonlocal() | m.Yield() | m.Await() | m.Lambda() | m.FunctionDef() | m.ClassDef()
    | m.Try() | m.TryStar() | m.With() | m.Import() | m.ImportFrom() | m.Attribute()
    | m.NamedExpr()
)  # fmt: skip
# The stdlib-ast twins of FORBIDDEN; the function's own node is the only FunctionDef
# allowed (annotations never hold these, so walking the whole function is the same).
AST_FORBIDDEN: tuple[type[ast.AST], ...] = (
    ast.Global, ast.Nonlocal, ast.Yield, ast.YieldFrom, ast.Await, ast.Lambda,
    ast.AsyncFunctionDef, ast.ClassDef, ast.Try, getattr(ast, "TryStar", ast.Try), ast.With,
    ast.AsyncWith, ast.Import, ast.ImportFrom, ast.Attribute, ast.NamedExpr,
)  # fmt: skip


def immutable_result(annotation: cst.BaseExpression | None) -> bool:
    """An annotation of a result that can be shared: a builtin immutable, or a tuple of them."""
    if isinstance(annotation, cst.Name):
        return annotation.value in RESULT_TYPES
    if isinstance(annotation, cst.Subscript) and m.matches(annotation.value, m.Name("tuple")):
        for element in annotation.slice:
            if not isinstance(element.slice, cst.Index):
                return False
            value = element.slice.value
            if not isinstance(value, cst.Ellipsis) and not immutable_result(value):
                return False
        return True
    return False


def pure_name(facts: FunctionFacts, node: cst.Name, own_name: str) -> bool:
    """`node` reads a local, the function itself, a constant or a pure builtin: never a
    module global, which may change between calls."""
    if node.value in {"True", "False", "None"}:
        return True
    local = resolves_locally(facts, node)
    if local is None:
        return False
    if local or node.value == own_name:
        return True
    return node.value in PURE and facts.is_builtin(node, node.value)


def key_typed(params: cst.Parameters) -> bool:
    """Plain parameters (no `*args`/`**kwargs`), at least one, each annotated with a
    KEY_TYPES name and with a literal default of such a type if any: a memo key."""
    if params.star_arg is not cst.MaybeSentinel.DEFAULT or params.star_kwarg is not None:
        return False
    every = (*params.posonly_params, *params.params, *params.kwonly_params)
    if not every:
        return False
    for param in every:
        annotation = param.annotation.annotation if param.annotation else None
        if not (isinstance(annotation, cst.Name) and annotation.value in KEY_TYPES):
            return False
        if param.default is not None and constant_type(param.default) not in KEY_TYPES:
            return False
    return True
