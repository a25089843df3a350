"""Effects: whether a piece of a function can run code we cannot see, or suspend.

Every answer is conservative: `False` means "not proven harmless".
"""

from __future__ import annotations

from collections.abc import Collection

import libcst as cst
import libcst.matchers as m

from passes._builtins import FILLING_METHODS, PURE, STR_METHODS_RETURNING_STR
from passes._facts import FunctionFacts
from passes._names import in_store_context, names_in_function_scope
from passes._values import is_fresh_container


def is_generator_or_async(function: cst.FunctionDef) -> bool:
    if function.asynchronous is not None:
        return True
    return bool(m.findall(function.body, m.Yield() | m.Await()))


def runs_no_foreign_code(
    facts: FunctionFacts, node: cst.CSTNode, reads: Collection[cst.Attribute] = ()
) -> bool:
    """Inside `node`, every call is a pure builtin, a str method returning str on a
    str, or `append`/`add` on a fresh local container; no other attribute is touched
    (but the plain reads in `reads`, which the caller proved run no code), and nothing
    is stored into an attribute or an item of a non-fresh object: no code we cannot
    see can run and mutate arguments through an alias."""
    allowed = {id(read) for read in reads}
    for call in m.findall(node, m.Call()):
        assert isinstance(call, cst.Call)
        func = call.func
        if isinstance(func, cst.Name):
            if func.value not in PURE or not facts.is_builtin(func, func.value):
                return False
        elif not isinstance(func, cst.Attribute):
            return False
        elif func.attr.value in STR_METHODS_RETURNING_STR - {"format", "join"}:
            if not _is_str(facts, func.value):
                return False
        elif not (
            isinstance(func.value, cst.Name)
            and func.attr.value in FILLING_METHODS
            and is_fresh_container(facts, func.value.value)
        ):
            return False
    for attribute in m.findall(node, m.Attribute()):
        if id(attribute) in allowed:
            continue
        parent = facts.parent(attribute)
        if not (isinstance(parent, cst.Call) and parent.func is attribute):
            return False
    for subscript in m.findall(node, m.Subscript()):
        assert isinstance(subscript, cst.Subscript)
        base = subscript.value
        if in_store_context(facts, subscript) and not (
            isinstance(base, cst.Name) and is_fresh_container(facts, base.value)
        ):
            return False
    return not m.findall(
        node, m.Global() | m.Nonlocal() | m.Yield() | m.Await() | m.Lambda() | m.FunctionDef()
        | m.ClassDef() | m.With() | m.Import() | m.ImportFrom()
    )  # fmt: skip


def _is_str(facts: FunctionFacts, expr: cst.BaseExpression) -> bool:
    return names_in_function_scope(facts, expr) and facts.type_of(expr) == "str"
