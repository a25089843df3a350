"""Names and scopes: which names a node mentions, what they resolve to, where they
are bound, and whether a pass may write a new reference to a name.

Like every helper module of the passes, each answer is conservative: `None` or
`False` means "not proven", and the calling pass must decline.
"""

from __future__ import annotations

import builtins
import keyword
from typing import TYPE_CHECKING

import libcst as cst
import libcst.matchers as m
from libcst.metadata import Assignment, BuiltinAssignment, GlobalScope, ScopeProvider

if TYPE_CHECKING:
    from passes._facts import FunctionFacts

# Names whose behaviour depends on the enclosing scope: moving code into a
# comprehension (a nested scope on 3.11) would change what they see.
SCOPE_SENSITIVE_NAMES = frozenset({"super", "locals", "vars", "dir", "eval", "exec", "__class__"})


class _NameCollector(cst.CSTVisitor):
    """Every Name used as a variable (not an attribute or a keyword argument's name),
    or only those spelling `only`."""

    def __init__(self, only: str | None = None) -> None:
        self.only = only
        self.found: list[cst.Name] = []

    def visit_Name(self, node: cst.Name) -> None:
        if self.only is None or node.value == self.only:
            self.found.append(node)

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        node.value.visit(self)
        return False

    def visit_Arg(self, node: cst.Arg) -> bool:
        node.value.visit(self)
        return False


def variable_names(node: cst.CSTNode) -> list[cst.Name]:
    """Every Name in `node` that is a variable (not an attribute or a keyword)."""
    collector = _NameCollector()
    node.visit(collector)
    return collector.found


def name_references(node: cst.CSTNode, name: str) -> list[cst.Name]:
    """Every Name node spelling `name` as a variable (not an attribute or keyword)."""
    collector = _NameCollector(name)
    node.visit(collector)
    return collector.found


def target_names(target: cst.BaseExpression) -> list[str] | None:
    """Names bound by a `for` target made only of names and tuples/lists of names."""
    if isinstance(target, cst.Name):
        return [target.value]
    if isinstance(target, cst.Tuple | cst.List):
        names: list[str] = []
        for element in target.elements:
            if not isinstance(element, cst.Element):
                return None
            inner = target_names(element.value)
            if inner is None:
                return None
            names.extend(inner)
        return names
    return None


# --- what a new reference would reach ------------------------------------------------


def has_star_import(module: cst.Module | None) -> bool:
    """`from m import *` somewhere (or no module to look at): libcst's scopes cannot
    see the names such an import binds."""
    if module is None:
        return True
    # Only legal at module level (not in a def or class body): skip those, which are most
    # of a module, as this is asked once per function.
    return any(
        m.findall(statement, m.ImportFrom(names=m.ImportStar()))
        for statement in module.body
        if not isinstance(statement, cst.FunctionDef | cst.ClassDef)
    )


def builtin_available(facts: FunctionFacts, name: str) -> bool:
    """A new reference to `name` written directly in this function would reach the
    builtin `name`: nothing the function sees binds it (class bodies around a
    method do not count, as in Python) and no star import could."""
    if facts.scope is None or has_star_import(facts.transformer.module):
        return False
    assignments = facts.scope[name]
    return bool(assignments) and all(isinstance(a, BuiltinAssignment) for a in assignments)


def import_available(facts: FunctionFacts, name: str, from_module: str | None) -> bool:
    """`name` can be bound by `import name` / `from from_module import name` without
    clashing: it is unbound everywhere visible, or bound only by that same import."""
    if facts.scope is None or has_star_import(facts.transformer.module):
        return False
    scope = facts.scope
    while True:
        for assignment in scope.assignments[name]:
            node = getattr(assignment, "node", None)
            if not isinstance(scope, GlobalScope) or not _is_import_of(node, name, from_module):
                return False
        if isinstance(scope, GlobalScope):
            return True
        scope = scope.parent


def _is_import_of(node: object, name: str, from_module: str | None) -> bool:
    if from_module is None:
        return isinstance(node, cst.Import) and any(
            isinstance(alias.name, cst.Name) and alias.name.value == name and alias.asname is None
            for alias in node.names
        )
    return (
        isinstance(node, cst.ImportFrom)
        and node.relative == ()
        and node.module is not None
        and cst.Module([]).code_for_node(node.module) == from_module
        and not isinstance(node.names, cst.ImportStar)
        and all(
            isinstance(alias.name, cst.Name) and alias.name.value == name and alias.asname is None
            for alias in node.names
            if alias.evaluated_alias == name or alias.evaluated_name == name
        )
    )


def resolves_locally(facts: FunctionFacts, node: cst.Name) -> bool | None:
    """True when `node` names a binding of this function (or a comprehension inside
    it), False when it reaches a global or builtin, None when unknown."""
    scope = facts.transformer.get_metadata(ScopeProvider, node, None)
    while scope is not None:
        if node.value in scope.assignments:
            return True
        if scope is facts.scope:
            return False
        if isinstance(scope, GlobalScope):
            return None
        scope = scope.parent
    return None


def names_in_function_scope(facts: FunctionFacts, expr: cst.CSTNode) -> bool:
    """Every Name inside `expr` is looked up in the function's own scope (not in a
    comprehension, lambda or nested function that may shadow a parameter)."""
    if facts.scope is None:
        return False
    return all(
        facts.transformer.get_metadata(ScopeProvider, name, None) is facts.scope
        for name in variable_names(expr)
    )


# --- bindings -----------------------------------------------------------------------


def binding_nodes(facts: FunctionFacts, name: str) -> list[cst.CSTNode] | None:
    """Every node binding `name` in this function, or None unless it is a private local."""
    if facts.scope is None or not facts.is_private_local(name):
        return None
    nodes: list[cst.CSTNode] = []
    for assignment in facts.scope.assignments[name]:
        if not isinstance(assignment, Assignment):
            return None
        nodes.append(assignment.node)
    return nodes


def binding_value(facts: FunctionFacts, binding: cst.CSTNode | None) -> cst.BaseExpression | None:
    """The value assigned by a single-target `name = value` / `name: T = value` binding."""
    if not isinstance(binding, cst.Name):
        return None
    parent = facts.parent(binding)
    if isinstance(parent, cst.AnnAssign) and parent.target is binding:
        return parent.value
    if isinstance(parent, cst.AssignTarget):
        statement = facts.parent(parent)
        if isinstance(statement, cst.Assign) and len(statement.targets) == 1:
            return statement.value
    return None


def only_within(facts: FunctionFacts, name: str, node: cst.CSTNode) -> bool:
    """Every mention of `name` in the function lies inside `node`."""
    return len(name_references(facts.function, name)) == len(name_references(node, name))


def in_store_context(facts: FunctionFacts, node: cst.CSTNode) -> bool:
    """`node` is (part of) the target of an assignment, deletion, loop, comprehension
    clause or `with ... as`."""
    child, parent = node, facts.parent(node)
    while isinstance(parent, cst.Element | cst.StarredElement | cst.Tuple | cst.List):
        child, parent = parent, facts.parent(parent)
    if isinstance(parent, cst.AssignTarget | cst.Del | cst.AsName):
        return True
    if isinstance(parent, cst.AugAssign | cst.AnnAssign | cst.For | cst.CompFor):
        return parent.target is child
    return False


def has_scope_hazard(node: cst.CSTNode) -> bool:
    """Code that would behave differently once moved into a nested scope."""
    if m.findall(
        node,
        m.Lambda()
        | m.FunctionDef()
        | m.ClassDef()
        | m.NamedExpr()
        | m.Yield()
        | m.Await()
        | m.Global()
        | m.Nonlocal(),
    ):
        return True
    return any(name_references(node, name) for name in SCOPE_SENSITIVE_NAMES)


# --- new names ----------------------------------------------------------------------

# Plurals that are not the regular plural of the word without its ending.
_IRREGULAR = frozenset({"series", "species", "news", "means", "data", "physics", "bytes"})


def singular(plural: str) -> str | None:
    """The singular of an identifier that ends in a regular English plural
    (`primes` -> `prime`, `user_ids` -> `user_id`, `entries` -> `entry`, `boxes` ->
    `box`), or None when the last word is not unambiguously one."""
    head, _, word = plural.rpartition("_")
    lowered = word.lower()
    if len(word) < 3 or not word.isalpha() or lowered in _IRREGULAR:
        return None
    if lowered.endswith(("ss", "us", "is")):
        return None
    if lowered.endswith("ies") and len(word) > 4:
        stem = word[:-3] + "y"
    elif lowered.endswith(("ches", "shes", "xes", "zes")):
        stem = word[:-2]
    elif lowered.endswith("s"):
        stem = word[:-1]
    else:
        return None
    return f"{head}_{stem}" if head else stem


def item_name(facts: FunctionFacts, collection: str, noun: str = "item") -> str:
    """A name for one item of `collection`: its singular when that is unambiguous,
    else `noun` (what its items are: `char` for a string's); never a keyword, a
    builtin's name or a name the function uses."""
    for candidate in (singular(collection), noun):
        if candidate is not None and _unused(facts, candidate):
            return candidate
    return facts.fresh_name(noun)


def _unused(facts: FunctionFacts, name: str) -> bool:
    return (
        name.isidentifier()
        and not keyword.iskeyword(name)
        and not keyword.issoftkeyword(name)
        and not hasattr(builtins, name)
        and not name_references(facts.function, name)
    )
