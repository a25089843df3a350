"""Splicing one rewritten def back into a module, with the helpers and imports it needs.

Passes (through the rewrite stage) and LLM proposals both land through here.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence

import libcst as cst
import libcst.matchers as m
from libcst.codemod import CodemodContext
from libcst.codemod.visitors import AddImportsVisitor
from libcst.helpers import get_full_name_for_node

from passes.base import module_functions
from pipeline.stages.defs import find_def, replace_def


def splice(
    base: cst.Module, donor: cst.Module, function: str, reference: cst.Module | None = None
) -> cst.Module:
    """`base` with the def `function` (a qualname) taken from `donor`, plus the helpers
    and imports it needs.

    A method lands inside its class, a nested function inside its function; the
    def keeps the comments and blank lines above it, and its body the indentation
    it has in `donor`. Helpers are module-level statements of `donor` that
    `reference` (default: `base`) lacks and that the new def uses, directly or
    through another helper (e.g. a memo dict, or a model's helper function); they
    go just before the module-level statement holding the def. Passes and LLM
    proposals both land through here.
    """
    reference = reference or base
    replacement = find_def(donor, function)
    if replacement is None:
        raise KeyError(function)
    if donor.default_indent != base.default_indent:
        replacement = _with_explicit_indents(replacement, donor.default_indent)
    helpers = _helpers_used_by(replacement, donor, reference)
    top = function.split(".")[0]
    body: list[cst.BaseStatement] = []
    for statement in base.body:
        if isinstance(statement, cst.FunctionDef | cst.ClassDef) and statement.name.value == top:
            rebuilt = replace_def(cst.Module(body=[statement]), function, replacement).body[0]
            body.extend(_keep_spacing(statement, helpers, rebuilt))
        else:
            body.append(statement)
    # Only the imports the new def (or a helper it brought) uses: the passes ran over the
    # whole stand-in, so `donor` also has imports that other defs' rewrites asked for.
    used = set().union(*(_names_used(node) for node in (replacement, *helpers)))
    needed = [spec for spec in new_imports(reference, donor) if _bound_name(spec) in used]
    return add_imports(base.with_changes(body=body), needed)


def _bound_name(spec: ImportSpec) -> str:
    """The name an import binds: its alias, the imported name, or the top package."""
    module, name, alias = spec
    return alias or name or module.partition(".")[0]


def _with_explicit_indents(function: cst.FunctionDef, indent: str) -> cst.FunctionDef:
    """`function` with every block that uses its module's default indentation saying so
    explicitly, so that it keeps its indentation in a module with another default."""

    class Explicit(cst.CSTTransformer):
        def leave_IndentedBlock(
            self, original_node: cst.IndentedBlock, updated_node: cst.IndentedBlock
        ) -> cst.IndentedBlock:
            if updated_node.indent is None:
                return updated_node.with_changes(indent=indent)
            return updated_node

    result = function.visit(Explicit())
    assert isinstance(result, cst.FunctionDef)
    return result


def _keep_spacing(
    original: cst.FunctionDef | cst.ClassDef,
    helpers: list[cst.BaseStatement],
    replacement: cst.BaseStatement,
) -> list[cst.BaseStatement]:
    """The replacement keeps the blank lines and comments above the original statement
    (the donor may be a stand-in module with other spacing); helpers go above it,
    separated by the same blank lines."""
    blank = tuple(line for line in original.leading_lines if line.comment is None)
    spaced = [
        h.with_changes(leading_lines=blank)
        if isinstance(h, cst.FunctionDef | cst.ClassDef | cst.SimpleStatementLine)
        else h
        for h in helpers
    ]
    above = tuple(original.leading_lines)
    if helpers and not blank:  # a def at the top of the file still needs a gap after helpers
        above = (cst.EmptyLine(), cst.EmptyLine(), *above)
    assert isinstance(replacement, cst.FunctionDef | cst.ClassDef)
    return [*spaced, replacement.with_changes(leading_lines=above)]


def _helpers_used_by(
    function: cst.FunctionDef, donor: cst.Module, reference: cst.Module
) -> list[cst.BaseStatement]:
    known = {reference.code_for_node(s) for s in reference.body}
    existing = set(module_functions(reference))
    candidates = [
        s
        for s in donor.body
        if s is not function
        and not is_import(s)
        and donor.code_for_node(s) not in known
        and not (isinstance(s, cst.FunctionDef) and s.name.value in existing)
    ]
    used = _names_used(function)
    chosen: list[cst.BaseStatement] = []
    changed = True
    while changed:
        changed = False
        for statement in candidates:
            if statement not in chosen and defined_names(statement) & used:
                chosen.append(statement)
                used |= _names_used(statement)
                changed = True
    return [s for s in candidates if s in chosen]


def _names_used(node: cst.CSTNode) -> set[str]:
    return {n.value for n in m.findall(node, m.Name()) if isinstance(n, cst.Name)}


def is_import(statement: cst.CSTNode) -> bool:
    return isinstance(statement, cst.SimpleStatementLine) and all(
        isinstance(small, cst.Import | cst.ImportFrom) for small in statement.body
    )


def defined_names(statement: cst.CSTNode) -> set[str]:
    """Names a module-level statement binds (functions, classes, simple assignments)."""
    if isinstance(statement, cst.FunctionDef | cst.ClassDef):
        return {statement.name.value}
    names: set[str] = set()
    if isinstance(statement, cst.SimpleStatementLine):
        for small in statement.body:
            targets: Sequence[cst.BaseExpression] = ()
            if isinstance(small, cst.Assign):
                targets = [t.target for t in small.targets]
            elif isinstance(small, cst.AnnAssign | cst.AugAssign):
                targets = [small.target]
            names.update(t.value for t in targets if isinstance(t, cst.Name))
    return names


ImportSpec = tuple[str, str | None, str | None]


def new_imports(base: cst.Module, donor: cst.Module) -> list[ImportSpec]:
    """(module, name, alias) for each import in `donor` that `base` lacks."""
    existing = {base.code_for_node(s) for s in base.body}
    specs: list[ImportSpec] = []
    for statement in donor.body:
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        if donor.code_for_node(statement) in existing:
            continue
        for small in statement.body:
            specs.extend(_import_specs(small))
    return specs


def _import_specs(node: cst.BaseSmallStatement) -> Iterable[ImportSpec]:
    if isinstance(node, cst.Import):
        for alias in node.names:
            yield get_full_name_for_node(alias.name) or "", None, _alias(alias)
    elif (
        isinstance(node, cst.ImportFrom)
        and node.module is not None
        and not node.relative
        and not isinstance(node.names, cst.ImportStar)
    ):
        module = get_full_name_for_node(node.module) or ""
        for alias in node.names:
            yield module, get_full_name_for_node(alias.name), _alias(alias)


def _alias(alias: cst.ImportAlias) -> str | None:
    if alias.asname is None or not isinstance(alias.asname.name, cst.Name):
        return None
    return alias.asname.name.value


def add_imports(module: cst.Module, specs: Collection[ImportSpec]) -> cst.Module:
    if not specs:
        return module
    context = CodemodContext()
    for module_name, obj, alias in specs:
        AddImportsVisitor.add_needed_import(context, module_name, obj, alias)
    return AddImportsVisitor(context).transform_module(module)
