"""Stage 3: turn pass matches into candidates, one per function.

Passes run, until they reach a fixed point, over a stand-in for the module:
its imports, a stub for every other module-level binding, and only the
functions the prefilter kept (libcst metadata costs ~65x `ast`). Each function
they changed then becomes its own candidate: the original module with only that
function replaced, plus the helpers and imports it needs.
"""

from __future__ import annotations

import ast
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass

import libcst as cst
import libcst.matchers as m
from libcst.codemod import CodemodContext, SkipFile
from libcst.codemod.visitors import AddImportsVisitor, RemoveImportsVisitor
from libcst.helpers import get_full_name_for_node
from libcst.metadata import MetadataWrapper

from passes import OptimizationPass
from passes.base import module_functions
from pipeline.model import Candidate, CandidateOrigin, FunctionFacts, FunctionInfo, ParsedFile
from pipeline.stages.parse import InputError, libcst_module, physical_lines


def propose(
    parsed: ParsedFile,
    facts: Sequence[FunctionFacts],
    passes: Sequence[type[OptimizationPass]],
    module: cst.Module | None = None,
) -> tuple[Candidate, ...]:
    """One candidate per function the passes changed: the whole module with only
    that function replaced, plus the helpers and imports it needs.

    The passes run on a stand-in holding just the prefiltered functions, so the
    expensive libcst metadata never covers the rest of the file.
    """
    result = _run_on_stand_in(parsed, facts, passes)
    if result is None:
        return ()
    stand_in_module, rewritten, fired, infos = result
    module = module or libcst_module(parsed)
    return tuple(
        _candidate(
            parsed,
            info,
            fired[info.name],
            module.code,
            splice(module, rewritten, info.name, reference=stand_in_module).code,
        )
        for info in infos
        if info.name in fired
    )


def _candidate(
    parsed: ParsedFile, info: FunctionInfo, rules: tuple[str, ...], original: str, code: str
) -> Candidate:
    return Candidate(
        function=info.name,
        lineno=info.lineno,
        rules=rules,
        origin=CandidateOrigin.PASS,
        original_code=original,
        module_code=code,
        module_name=parsed.module_name,
        project_root=parsed.project_root,
    )


def _run_on_stand_in(
    parsed: ParsedFile,
    facts: Sequence[FunctionFacts],
    passes: Sequence[type[OptimizationPass]],
    tree: ast.Module | None = None,
) -> tuple[cst.Module, cst.Module, dict[str, tuple[str, ...]], list[FunctionInfo]] | None:
    """Run the applicable passes over a stand-in for the module that holds only the
    prefiltered functions: (stand-in, rewritten stand-in, codes per function, infos)."""
    wanted = [f for f in facts if f.applicable_passes]
    if not wanted:
        return None
    codes = {code for f in wanted for code in f.applicable_passes}
    chosen = [p for p in passes if p.code in codes]
    infos = [f.info for f in wanted]
    tree = tree or ast.parse(parsed.source.text)
    context = stand_in(tree, parsed.source.text).around({(i.name, i.lineno) for i in infos})
    try:  # one libcst parse for all the kept functions of the file
        module = cst.parse_module(context + "".join(_ending_in_newline(i.source) for i in infos))
    except cst.ParserSyntaxError as error:
        where = f"{parsed.source.path}: libcst cannot parse this file"
        raise InputError(f"{where}: {error.message}") from error
    rewritten, fired = run_passes(chosen, module)
    return module, rewritten, fired, infos


def run_passes(
    pass_classes: Sequence[type[OptimizationPass]], module: cst.Module, max_rounds: int = 4
) -> tuple[cst.Module, dict[str, tuple[str, ...]]]:
    """`passes.apply_passes`, computing libcst metadata once per distinct module.

    `apply_passes` lets every pass build its own metadata (scopes, qualified
    names, parents), which costs more than the pass itself; here passes that see
    the same module share one resolved `MetadataWrapper`. Same rounds, same order,
    same result.
    """
    fired: dict[str, list[str]] = {}
    wrapper = MetadataWrapper(module)
    code = module.code
    for _ in range(max_rounds):
        changed = False
        for pass_class in pass_classes:
            if not pass_class.may_apply(code):
                continue
            before = wrapper.module
            updated = _apply_with_metadata(pass_class, wrapper)
            if updated.deep_equals(before):  # libcst rebuilds the tree even when nothing changed
                continue
            for name in _changed_functions(before, updated):
                codes = fired.setdefault(name, [])
                if pass_class.code not in codes:
                    codes.append(pass_class.code)
                changed = True
            wrapper, code = MetadataWrapper(updated), updated.code
        if not changed:
            break
    return wrapper.module, {name: tuple(codes) for name, codes in fired.items()}


def _apply_with_metadata(
    pass_class: type[OptimizationPass], wrapper: MetadataWrapper
) -> cst.Module:
    """What `Codemod.transform_module` does, but on an already resolved wrapper."""
    command = pass_class(CodemodContext(wrapper=wrapper))
    with command.resolve(wrapper):
        try:
            module = command.transform_module_impl(wrapper.module)
        except SkipFile:
            return wrapper.module
    # Like CodemodCommand.transform_module: add the imports the pass asked for.
    for key, visitor in (
        (AddImportsVisitor.CONTEXT_KEY, AddImportsVisitor),
        (RemoveImportsVisitor.CONTEXT_KEY, RemoveImportsVisitor),
    ):
        if key in command.context.scratch:
            module = visitor(command.context).transform_module(module)
    return module


def _changed_functions(before: cst.Module, after: cst.Module) -> list[str]:
    old, new = module_functions(before), module_functions(after)
    return [name for name, node in new.items() if name in old and not node.deep_equals(old[name])]


def splice(
    base: cst.Module, donor: cst.Module, function: str, reference: cst.Module | None = None
) -> cst.Module:
    """`base` with `function` taken from `donor`, plus the helpers and imports it needs.

    Helpers are module-level statements of `donor` that `reference` (default:
    `base`) lacks and that the new function uses, directly or through another
    helper (e.g. a memo dict, or a model's helper function); they go just
    before the function. Passes and LLM proposals both land through here.
    """
    reference = reference or base
    replacement = module_functions(donor)[function]
    helpers = _helpers_used_by(replacement, donor, reference)
    body: list[cst.BaseStatement] = []
    for statement in base.body:
        if isinstance(statement, cst.FunctionDef) and statement.name.value == function:
            body.extend(_keep_spacing(statement, helpers, replacement))
        else:
            body.append(statement)
    return add_imports(base.with_changes(body=body), new_imports(reference, donor))


def _keep_spacing(
    original: cst.FunctionDef, helpers: list[cst.BaseStatement], replacement: cst.FunctionDef
) -> list[cst.BaseStatement]:
    """The replacement keeps the blank lines and comments above the original `def`
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


# The scan path: libcst parses only the functions the prefilter kept, each inside a
# small stand-in for its module, instead of the whole file (libcst costs ~10x `ast`).


def scan(
    parsed: ParsedFile,
    tree: ast.Module,
    facts: Sequence[FunctionFacts],
    passes: Sequence[type[OptimizationPass]],
) -> tuple[Candidate, ...]:
    """The candidates `propose` would find, without ever parsing the whole file with libcst.

    Each rewritten function is spliced back into the original text by line range,
    so `module_code` is for reporting only: verification and writing go through
    `propose`, which keeps the imports and helpers a pass adds.
    """
    result = _run_on_stand_in(parsed, facts, passes, tree)
    if result is None:
        return ()
    _, rewritten, fired, infos = result
    new_functions = module_functions(rewritten)
    lines = physical_lines(parsed.source.text)
    found: list[Candidate] = []
    for info in infos:
        if info.name not in fired:
            continue
        replacement = rewritten.code_for_node(new_functions[info.name])
        first = info.end_lineno - len(physical_lines(info.source)) + 1  # the first decorator
        module_code = "".join([*lines[: first - 1], replacement, *lines[info.end_lineno :]])
        found.append(_candidate(parsed, info, fired[info.name], parsed.source.text, module_code))
    return tuple(found)


def _ending_in_newline(source: str) -> str:
    return source if source.endswith(("\n", "\r")) else source + "\n"


@dataclass(frozen=True)
class StandIn:
    """What libcst's scope metadata needs to know about a module, to stand in for it.

    Every import verbatim (so qualified names resolve as in the real module), and
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
    for node in _module_level_nodes(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            imports.append(_segment(lines, node) + "\n")
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
