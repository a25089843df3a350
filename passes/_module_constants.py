"""`ModuleConstantPass`: the base of passes that move a value a function rebuilds on
every call into a module-level constant (OPT216, OPT217).

The constant goes just above the module-level statement that holds the function
(the def itself, or the class or function around it), spaced the way the
rewrite stage splices a helper in (`pipeline.stages.splice`), so the pass's own
output and the candidate the pipeline builds from it are the same text.
"""

from __future__ import annotations

import builtins
import itertools
import keyword
from collections.abc import Sequence
from dataclasses import dataclass

import libcst as cst
import libcst.matchers as m
from libcst.codemod import CodemodContext
from libcst.metadata import (
    ComprehensionScope,
    QualifiedNameProvider,
    QualifiedNameSource,
    ScopeProvider,
)

from passes._facts import FunctionFacts, FunctionPass
from passes._names import has_star_import
from passes._splicing import Replacements, code_of, rewrite_function


@dataclass(frozen=True)
class ModuleConstant:
    """`name = value`, to be written at module level."""

    name: str
    value: cst.BaseExpression


class ModuleConstantPass(FunctionPass):
    """A function pass whose rewrites also add module-level constants.

    A subclass implements `hoist`, returning the replacements inside the function
    (keyed on original nodes, as `function_replacements`) and the constants they
    refer to, named with `constant_name`. Comments inside a hoisted value move
    with it to module level: they are kept in the module, not lost.
    """

    def __init__(self, context: CodemodContext) -> None:
        super().__init__(context)
        self._pending: dict[int, list[ModuleConstant]] = {}
        self._taken: set[str] | None = None
        self._moved_out: set[int] = set()

    def hoist(
        self, facts: FunctionFacts, function: cst.FunctionDef
    ) -> tuple[Replacements, Sequence[ModuleConstant]]:
        raise NotImplementedError

    # --- names ------------------------------------------------------------------

    def constant_name(self, *bases: str) -> str | None:
        """The first of `bases` that is free, else the last with a number (`_RANKS_2`):
        a name that no Name anywhere in the module spells, nor a builtin or keyword.
        None when the module has a star import (its names are unknown)."""
        module = self.module
        if has_star_import(module):
            return None
        if self._taken is None:
            self._taken = {n.value for n in m.findall(module, m.Name()) if isinstance(n, cst.Name)}
        numbered = (f"{bases[-1]}_{n}" for n in itertools.count(2))
        candidates = itertools.chain(bases, numbered)
        chosen = next(name for name in candidates if self._free(name))
        self._taken.add(chosen)
        return chosen

    def _free(self, name: str) -> bool:
        return (
            name.isidentifier()
            and not keyword.iskeyword(name)
            and not hasattr(builtins, name)
            and name not in (self._taken or ())
        )

    def forget_names(self, constants: Sequence[ModuleConstant]) -> None:
        """Give back names taken for constants that will not be written after all."""
        if self._taken is not None:
            self._taken.difference_update(c.name for c in constants)

    def calls_module_function(self, facts: FunctionFacts, func: cst.Attribute, module: str) -> bool:
        """`func` is `<name>.<function>` with `<name>` the stdlib module `module`, read
        from the function's own scope (or a comprehension in it) and bound only at
        module level, by `import <module>` (or `import <module> as <name>`): a
        module-level constant can then spell the same module the same way."""
        receiver = func.value
        if not isinstance(receiver, cst.Name):
            return False
        names = self.get_metadata(QualifiedNameProvider, func, set())
        wanted = f"{module}.{func.attr.value}"
        if not any(q.name == wanted and q.source == QualifiedNameSource.IMPORT for q in names):
            return False
        scope = self.get_metadata(ScopeProvider, receiver, None)
        while isinstance(scope, ComprehensionScope) and receiver.value not in scope.assignments:
            scope = scope.parent
        if scope is None or scope is not facts.scope or receiver.value in scope.assignments:
            return False
        assignments = list(scope.globals.assignments[receiver.value])
        return bool(assignments) and all(
            _imports(getattr(a, "node", None), module, receiver.value) for a in assignments
        )

    # --- the function and the module --------------------------------------------

    def finish_function(
        self, facts: FunctionFacts, original: cst.FunctionDef, updated: cst.FunctionDef
    ) -> cst.BaseStatement | cst.FlattenSentinel[cst.BaseStatement] | cst.RemovalSentinel:
        if not updated.deep_equals(original):
            return updated  # something inside changed this round: the next round sees it
        top = self._module_statement(facts, original)
        if top is None:
            return updated
        replacements, constants = self.hoist(facts, original)
        if not replacements or not constants:
            self.forget_names(constants)
            return updated
        result = rewrite_function(original, updated, replacements)
        self._pending.setdefault(id(top), []).extend(constants)
        self._moved_out.add(id(original))
        return result

    def moved_comments_out(self, original_node: cst.CSTNode) -> bool:
        # The comments a hoisted value held now sit in its module-level constant.
        return id(original_node) in self._moved_out

    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        if not self._pending:
            return updated_node
        body: list[cst.BaseStatement] = []
        for before, after in zip(original_node.body, updated_node.body, strict=True):
            constants = self._pending.get(id(before), [])
            body.extend(_spaced(constants, after))
        return updated_node.with_changes(body=body)

    def _module_statement(
        self, facts: FunctionFacts, function: cst.FunctionDef
    ) -> cst.CSTNode | None:
        """The module-level statement that holds `function`."""
        node: cst.CSTNode = function
        while True:
            parent = facts.parent(node)
            if parent is None:
                return None
            if isinstance(parent, cst.Module):
                return node
            node = parent


def _imports(node: object, module: str, name: str) -> bool:
    """`node` is `import <module>` binding `name` (`import module [as name]`)."""
    if not isinstance(node, cst.Import):
        return False
    return any(
        code_of(alias.name) == module and (alias.evaluated_alias or alias.evaluated_name) == name
        for alias in node.names
    )


def _spaced(
    constants: Sequence[ModuleConstant], statement: cst.BaseStatement
) -> list[cst.BaseStatement]:
    """The constants above `statement`, each separated from what precedes it by the blank
    lines above `statement` (two when it is the first line of the file), as the
    rewrite stage lays out the helpers it splices in."""
    if not constants:
        return [statement]
    leading: Sequence[cst.EmptyLine] = getattr(statement, "leading_lines", ())
    blank = tuple(line for line in leading if line.comment is None)
    above = tuple(leading)
    if not blank:
        above = (cst.EmptyLine(), cst.EmptyLine(), *above)
    lines: list[cst.BaseStatement] = [
        cst.SimpleStatementLine(
            body=[cst.Assign(targets=[cst.AssignTarget(cst.Name(c.name))], value=c.value)],
            leading_lines=blank,
        )
        for c in constants
    ]
    return [*lines, statement.with_changes(leading_lines=above)]
