"""Stage 3: turn pass matches into candidates, one per function.

Passes run over the whole module (libcst metadata needs it) until they reach
a fixed point. Each function they changed then becomes its own candidate: the
original module with only that function replaced, plus any imports it needs.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence

import libcst as cst
from libcst.codemod import CodemodContext
from libcst.codemod.visitors import AddImportsVisitor
from libcst.helpers import get_full_name_for_node

from passes import OptimizationPass, apply_passes
from passes.base import module_functions
from pipeline.model import Candidate, FunctionFacts, ParsedFile
from pipeline.parse import libcst_module


def propose(
    parsed: ParsedFile,
    facts: Sequence[FunctionFacts],
    passes: Sequence[type[OptimizationPass]],
    module: cst.Module | None = None,
) -> tuple[Candidate, ...]:
    wanted = {f.info.name: f for f in facts if f.applicable_passes}
    if not wanted:
        return ()
    module = module or libcst_module(parsed)
    codes = {code for f in wanted.values() for code in f.applicable_passes}
    rewritten, fired = apply_passes([p for p in passes if p.code in codes], module)
    in_file_order = sorted(
        fired.items(), key=lambda item: wanted[item[0]].info.lineno if item[0] in wanted else 0
    )
    return tuple(
        Candidate(
            function=name,
            lineno=wanted[name].info.lineno,
            rules=rules,
            origin="pass",
            original_code=module.code,
            module_code=splice(module, rewritten, name).code,
            module_name=parsed.module_name,
            project_root=parsed.project_root,
        )
        for name, rules in in_file_order
        if name in wanted
    )


def splice(base: cst.Module, donor: cst.Module, function: str) -> cst.Module:
    """`base` with `function` taken from `donor`, plus the imports `donor` added."""
    replacement = module_functions(donor)[function]
    body = [
        replacement if isinstance(s, cst.FunctionDef) and s.name.value == function else s
        for s in base.body
    ]
    return add_imports(base.with_changes(body=body), new_imports(base, donor))


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
