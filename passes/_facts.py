"""`FunctionFacts`, what one function's scope proves about its names, and
`FunctionPass`, the base of every pass that rewrites code inside functions.

Every answer is conservative: `None` or `False` means "not proven", and a pass
must then decline.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import lru_cache

import libcst as cst
import libcst.matchers as m
from libcst.codemod import CodemodContext, ContextAwareTransformer
from libcst.metadata import (
    FunctionScope,
    ParentNodeProvider,
    QualifiedNameProvider,
    QualifiedNameSource,
    Scope,
    ScopeProvider,
)

from passes._names import in_store_context, name_references
from passes._splicing import Replacements, carry_comments, lost_comments, rewrite_function
from passes._types import TypeInference
from passes.base import ATTRIBUTE_TYPES_KEY, OptimizationPass


class FunctionFacts:
    """Facts about names inside one function, for use by a transformer with metadata."""

    def __init__(self, transformer: ContextAwareTransformer, function: cst.FunctionDef) -> None:
        self.transformer = transformer
        self.function = function
        scope = transformer.get_metadata(ScopeProvider, function.body, None)
        self.scope: Scope | None = scope if isinstance(scope, FunctionScope) else None
        self._reads_only: bool | None = None  # see `_instance_only_read`

    def is_local(self, name: str) -> bool:
        """`name` is bound only in this function's own scope (no global/nonlocal)."""
        if self.scope is None or name not in self.scope:
            return False
        assignments = self.scope.assignments[name]
        return bool(assignments) and all(a.scope is self.scope for a in assignments)

    def is_captured(self, name: str) -> bool:
        """A nested function, lambda or class in this function mentions `name`."""
        nested = m.findall(self.function.body, m.FunctionDef() | m.Lambda() | m.ClassDef())
        return any(name_references(node, name) for node in nested)

    def is_private_local(self, name: str) -> bool:
        """`name` is local and no nested scope can read or rebind it."""
        return self.is_local(name) and not self.is_captured(name)

    def single_binding(self, name: str) -> cst.CSTNode | None:
        """The node that binds `name`, when the function binds it exactly once."""
        if not self.is_local(name) or self.scope is None:
            return None
        assignments = list(self.scope.assignments[name])
        if len(assignments) != 1:
            return None
        node: cst.CSTNode | None = getattr(assignments[0], "node", None)
        return node

    def is_builtin(self, node: cst.CSTNode, builtin: str) -> bool:
        """`node` (a Name or Call's func) provably refers to the builtin `builtin`."""
        names = self.transformer.get_metadata(QualifiedNameProvider, node, set())
        return any(
            q.name == f"builtins.{builtin}" and q.source == QualifiedNameSource.BUILTIN
            for q in names
        )

    def parent(self, node: cst.CSTNode) -> cst.CSTNode | None:
        return self.transformer.get_metadata(ParentNodeProvider, node, None)

    def annotation_of(self, name: str) -> cst.BaseExpression | None:
        binding = self.single_binding(name)
        if isinstance(binding, cst.Param) and binding.annotation is not None:
            return binding.annotation.annotation
        return None

    @property
    def qualname(self) -> str:
        """The function's qualified name in its module ("Catalog.known", "f.<locals>.g")."""
        return qualname(self.function, self.parent)

    def attribute_annotation(self, expr: cst.BaseExpression) -> cst.BaseExpression | None:
        """The annotation of `self.name`, a method's read of its instance's attribute, when
        a trace saw the instance hold that type in every recorded call of this method
        (see `ATTRIBUTE_TYPES_KEY`); `self` must be the method's first parameter, never
        rebound, and read where the method binds it (not a comprehension's own `self`)."""
        if not (isinstance(expr, cst.Attribute) and isinstance(expr.value, cst.Name)):
            return None
        scratch = getattr(self.transformer, "context", None)
        observed: Mapping[str, Mapping[str, str]] = (
            scratch.scratch.get(ATTRIBUTE_TYPES_KEY, {}) if scratch is not None else {}
        )
        text = observed.get(self.qualname, {}).get(expr.attr.value)
        if text is None or not self._is_instance(expr.value) or not self._instance_only_read():
            return None
        return _annotation(text)

    def _is_instance(self, name: cst.Name) -> bool:
        params = [*self.function.params.posonly_params, *self.function.params.params]
        if not params or params[0].name.value != name.value or params[0].star:
            return False
        if self.single_binding(name.value) is not params[0]:
            return False
        return _bound_in_function(self, name)

    def _instance_only_read(self) -> bool:
        """The method only reads its instance's attributes: every mention of `self` is
        `self.name` loaded, never stored to or deleted, never called (`self.reset()`
        could rebind anything), and `self` is never passed on. So an attribute holds,
        all through the call, what the instance held when the call started."""
        if self._reads_only is None:
            params = [*self.function.params.posonly_params, *self.function.params.params]
            self._reads_only = bool(params) and all(
                _attribute_load(self, reference)
                for reference in name_references(self.function.body, params[0].name.value)
            )
        return self._reads_only

    def type_of(self, expr: cst.BaseExpression) -> str | None:
        """A simple type name ("int", "str", ...) that `expr` provably evaluates to."""
        return TypeInference(self).infer(expr)

    def element_type(self, iterable: cst.BaseExpression) -> str | None:
        """The simple type of the items that iterating over `iterable` yields."""
        return TypeInference(self).element(iterable)

    def in_try_block(self, node: cst.CSTNode) -> bool:
        """`node` sits inside a try statement or a with block of this function."""
        current = self.parent(node)
        while current is not None and current is not self.function:
            if isinstance(current, cst.Try | cst.TryStar | cst.With):
                return True
            current = self.parent(current)
        return False

    def fresh_name(self, base: str) -> str:
        """A name not used anywhere in the function."""
        candidate, suffix = base, 1
        while name_references(self.function, candidate):
            suffix += 1
            candidate = f"{base}_{suffix}"
        return candidate


def _bound_in_function(facts: FunctionFacts, name: cst.Name) -> bool:
    """`name` in a comprehension or lambda of the function reads the function's binding."""
    scope = facts.transformer.get_metadata(ScopeProvider, name, None)
    while scope is not None and scope is not facts.scope:
        if name.value in scope.assignments or scope.parent is scope:
            return False
        scope = scope.parent
    return scope is not None


def _attribute_load(facts: FunctionFacts, reference: cst.Name) -> bool:
    """`reference.name` loaded: not assigned, deleted, or called."""
    read = facts.parent(reference)
    if not isinstance(read, cst.Attribute) or read.value is not reference:
        return False
    holder = facts.parent(read)
    if isinstance(holder, cst.Call) and holder.func is read:
        return False
    return not in_store_context(facts, read)


@lru_cache(maxsize=256)
def _annotation(text: str) -> cst.BaseExpression | None:
    try:
        return cst.parse_expression(text)
    except cst.ParserSyntaxError:
        return None


def qualname(
    function: cst.FunctionDef, parent: Callable[[cst.CSTNode], cst.CSTNode | None]
) -> str:
    """`function`'s qualified name as a trace keys its profile (`Class.method`,
    `outer.<locals>.inner`), given how to find a node's parent."""
    parts = [function.name.value]
    node = parent(function)
    while node is not None and not isinstance(node, cst.Module):
        if isinstance(node, cst.ClassDef):
            parts.append(node.name.value)
        elif isinstance(node, cst.FunctionDef):
            parts.extend(["<locals>", node.name.value])
        node = parent(node)
    return ".".join(reversed(parts))


class FunctionPass(OptimizationPass):
    """A pass that works inside function bodies and keeps their `FunctionFacts`.

    The stack holds the facts of each enclosing `def`, and None for a class body,
    so statements of a class nested in a function are never analysed with the
    function's facts. A pass either rewrites nodes as it leaves them (reading
    `facts`, or `facts_for(node)` for an expression that must sit directly in the
    function's scope), or returns whole-function `function_replacements`, applied
    only when nothing else in the function has changed in this round.

    Whatever a pass returns keeps every comment of the node it replaces: a
    replaced statement keeps them above it, and any other replacement that would
    drop one is not made (see `on_leave`).
    """

    def __init__(self, context: CodemodContext) -> None:
        super().__init__(context)
        self.scopes: list[FunctionFacts | None] = []

    def on_leave(  # type: ignore[override]
        self, original_node: cst.CSTNode, updated_node: cst.CSTNode
    ) -> cst.CSTNode | cst.FlattenSentinel[cst.CSTNode] | cst.RemovalSentinel:
        result = super().on_leave(original_node, updated_node)
        if result is updated_node or isinstance(result, cst.RemovalSentinel):
            return result
        if isinstance(updated_node, cst.BaseStatement) and not isinstance(
            updated_node, cst.FunctionDef | cst.ClassDef
        ):
            return carry_comments(updated_node, result)
        after = list(result.nodes) if isinstance(result, cst.FlattenSentinel) else [result]
        if self.moved_comments_out(original_node):
            return result
        return updated_node if lost_comments([updated_node], after) else result

    def moved_comments_out(self, original_node: cst.CSTNode) -> bool:
        """Whether the pass moved comments of `original_node` elsewhere in the module on
        purpose (into a module-level statement it added): they are kept, not lost, and
        the rewrite stage checks that the whole module keeps every comment."""
        return False

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.scopes.append(FunctionFacts(self, node))

    def leave_FunctionDef(
        self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef
    ) -> cst.BaseStatement | cst.FlattenSentinel[cst.BaseStatement] | cst.RemovalSentinel:
        facts = self.scopes.pop()
        assert facts is not None
        return self.finish_function(facts, original_node, updated_node)

    def finish_function(
        self, facts: FunctionFacts, original: cst.FunctionDef, updated: cst.FunctionDef
    ) -> cst.BaseStatement | cst.FlattenSentinel[cst.BaseStatement] | cst.RemovalSentinel:
        """The function as it leaves the pass: by default with `function_replacements`."""
        return rewrite_function(original, updated, self.function_replacements(facts, original))

    def function_replacements(
        self, facts: FunctionFacts, function: cst.FunctionDef
    ) -> Replacements:
        """Whole-function rewrites, keyed by id() of nodes of `function` (original)."""
        return {}

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.scopes.append(None)

    def leave_ClassDef(
        self, original_node: cst.ClassDef, updated_node: cst.ClassDef
    ) -> cst.ClassDef:
        self.scopes.pop()
        return updated_node

    @property
    def facts(self) -> FunctionFacts | None:
        return self.scopes[-1] if self.scopes else None

    def facts_for(self, node: cst.CSTNode) -> FunctionFacts | None:
        """The current function's facts, when `node` sits directly in its scope.

        Expressions inside a lambda or comprehension of the function get `None`:
        their names may resolve differently.
        """
        facts = self.facts
        if facts is None or facts.scope is None:
            return None
        scope = self.get_metadata(ScopeProvider, node, None)
        return facts if scope is facts.scope else None
