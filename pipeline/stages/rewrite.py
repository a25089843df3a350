"""Stage 3: turn pass matches into candidates, one per function.

Passes run, until they reach a fixed point, over a stand-in for the module:
its imports, a stub for every other module-level binding, and only the
functions the prefilter kept (libcst metadata costs ~65x `ast`). Each function
they changed then becomes its own candidate: the original module with only that
function replaced, plus the helpers and imports it needs, laid out in the
project's style (see `style`). A candidate that loses or adds a comment is
refused with the reason, never verified or written. The scan (`--no-verify`)
shows these same texts.
"""

from __future__ import annotations

import ast
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import libcst as cst
import libcst.matchers as m
from libcst.codemod import CodemodContext, SkipFile
from libcst.codemod.visitors import AddImportsVisitor, RemoveImportsVisitor
from libcst.helpers import get_full_name_for_node
from libcst.metadata import MetadataWrapper

from passes import OptimizationPass
from passes.base import comment_counts, module_functions
from pipeline.model import AnalysedFunction, Candidate, CandidateOrigin, FunctionInfo, ParsedFile
from pipeline.stages.analyze import applicable_passes
from pipeline.stages.defs import (
    LOCALS,
    DefSite,
    find_def,
    inventory,
    locate,
    replace_def,
    span,
    unit_defs,
)
from pipeline.stages.parse import InputError, libcst_module, physical_lines
from pipeline.stages.style import project_style, restyle


def propose(
    parsed: ParsedFile,
    facts: Sequence[AnalysedFunction],
    passes: Sequence[type[OptimizationPass]],
    module: cst.Module | None = None,
    tree: ast.Module | None = None,
) -> tuple[Candidate, ...]:
    """One candidate per unit (function or method) the passes changed: the whole module
    with only that def replaced, plus the helpers and imports it needs.

    The passes run on a stand-in holding just the prefiltered units, so the
    expensive libcst metadata never covers the rest of the file, and the whole
    file is parsed with libcst only when a pass changed something. A change inside
    a nested function belongs to the unit around it (see `nested_candidates`).
    """
    result = _run_on_stand_in(parsed, facts, passes, tree)
    if result is None or not result[2]:
        return ()
    stand_in_module, rewritten, fired, units = result
    module = module or libcst_module(parsed)
    return _proposed(
        _candidate(
            parsed,
            info,
            fired[info.qualname],
            module.code,
            splice(module, rewritten, info.qualname, reference=stand_in_module).code,
        )
        for info in units
        if info.qualname in fired
    )


def nested_candidates(candidate: Candidate, parsed: ParsedFile) -> tuple[Candidate, ...]:
    """For a candidate of a unit: one candidate per nested function it changed, each the
    original module with only that nested def replaced.

    A nested function is checked alone (through a module-level copy, see
    `pipeline.stages.defs`) only when its unit cannot be verified: say, a method
    without an instance, or a function that returns a closure.
    """
    prefix = f"{candidate.function}.{LOCALS}."
    nested = [i for i in parsed.functions if i.qualname.startswith(prefix)]
    if not nested or candidate.origin != CandidateOrigin.PASS:
        return ()
    original = cst.parse_module(candidate.original_code)
    rewritten = cst.parse_module(candidate.module_code)
    found = []
    for info in nested:
        old, new = find_def(original, info.qualname), find_def(rewritten, info.qualname)
        if old is None or new is None or not def_changed(old, new):
            continue
        code = splice(original, rewritten, info.qualname).code
        found.append(_candidate(parsed, info, candidate.rules, candidate.original_code, code))
    return _proposed(found)


def _candidate(
    parsed: ParsedFile, info: FunctionInfo, rules: tuple[str, ...], original: str, code: str
) -> Candidate | None:
    """The candidate, or None when the function's own text is unchanged in `code` (a
    pass changed only what is around it, say an import): there is nothing to propose."""
    if def_text(code, info.qualname) == info.source:
        return None
    path = parsed.source.path
    code = restyle(code, original, info.qualname, project_style(path), path)
    return Candidate(
        function=info.qualname,
        lineno=info.lineno,
        rules=rules,
        origin=CandidateOrigin.PASS,
        original_code=original,
        module_code=code,
        module_name=parsed.module_name,
        project_root=parsed.project_root,
        self_unused=info.self_unused,
        refused=comment_refusal(original, code),
    )


def _proposed(candidates: Iterable[Candidate | None]) -> tuple[Candidate, ...]:
    return tuple(c for c in candidates if c is not None)


def def_text(code: str, qualname: str) -> str | None:
    """The text of the def `qualname` in `code`, from its first decorator to its last
    line (as `FunctionInfo.source` holds it), or None when there is no such def."""
    node = locate(ast.parse(code), qualname)
    if node is None:
        return None
    start, end = span(node)
    return "".join(physical_lines(code)[start - 1 : end])


def comment_refusal(original: str, candidate: str) -> str:
    """Why `candidate` may not replace `original`: it loses (or adds) a comment."""
    before, after = comment_counts(original), comment_counts(candidate)
    lost, added = before - after, after - before
    if lost:
        return f"refused: the rewrite loses the comment {next(iter(lost))!r}"
    if added:
        return f"refused: the rewrite adds the comment {next(iter(added))!r}"
    return ""


def _run_on_stand_in(
    parsed: ParsedFile,
    facts: Sequence[AnalysedFunction],
    passes: Sequence[type[OptimizationPass]],
    tree: ast.Module | None = None,
) -> tuple[cst.Module, cst.Module, dict[str, tuple[str, ...]], list[FunctionInfo]] | None:
    """Run the applicable passes over a stand-in for the module that holds only the
    prefiltered units: (stand-in, rewritten stand-in, codes per unit, the units).

    A prefiltered nested function brings its whole unit; a method comes inside a
    bare `class Name:` for each class around it (a class body's names are not
    visible in its methods, so a bare class resolves every name as the real one).
    """
    wanted = [f for f in facts if f.applicable_passes]
    if not wanted:
        return None
    tree = tree or ast.parse(parsed.source.text)
    sites = {site.qualname: site for site in inventory(tree)}
    wanted_units = {sites[f.info.qualname].unit for f in wanted}
    units = [i for i in parsed.functions if i.qualname in wanted_units]
    module_level = {(i.name, i.lineno) for i in units if "." not in i.qualname}
    context = stand_in(tree, parsed.source.text).around(module_level)
    lines = physical_lines(parsed.source.text)
    sources = [(sites[i.qualname], i.source + _comments_after(lines, i)) for i in units]
    body = _units_in_classes(sources, parsed.source.text)
    try:  # one libcst parse for all the kept functions of the file
        module = cst.parse_module(context + body)
    except cst.ParserSyntaxError as error:
        where = f"{parsed.source.path}: libcst cannot parse this file"
        raise InputError(f"{where}: {error.message}") from error
    applicable: dict[str, set[str]] = {}
    for fact in wanted:
        applicable.setdefault(sites[fact.info.qualname].unit, set()).update(fact.applicable_passes)
    # Every pass, not only those the prefilter kept: a rewrite may make a new match.
    prefilter = UnitPrefilter(passes, applicable)
    rewritten, fired = run_passes(passes, module, prefilter=prefilter)
    return module, rewritten, fired, units


def _comments_after(lines: Sequence[str], unit: FunctionInfo) -> str:
    """The comment and blank lines right after a unit's last statement: libcst keeps a
    comment there, indented as the body, in the def (its block's footer), so the
    rewritten def must have it too, or splicing it back would drop the comment."""
    after: list[str] = []
    for line in lines[unit.end_lineno :]:
        if line.strip() and not line.lstrip().startswith("#"):
            break
        after.append(line)
    return "".join(after) if any(line.strip() for line in after) else ""


class UnitPrefilter:
    """Which units (by qualname) a pass needs to visit: those the prefilter says it may
    match, asked again of a unit's new text whenever a pass has changed it (a rewrite
    may make a new match: OPT211's `s += x` for OPT101), and not already visited by
    that pass unchanged, in an unchanged module context."""

    def __init__(
        self, passes: Sequence[type[OptimizationPass]], applicable: Mapping[str, Collection[str]]
    ) -> None:
        self.passes = passes
        self.applicable = {unit: set(codes) for unit, codes in applicable.items()}
        self.visited: set[tuple[str, str]] = set()  # (pass code, unit)

    def needs_visit(self, code: str, unit: str) -> bool:
        return code in self.applicable.get(unit, ()) and (code, unit) not in self.visited

    def ran(self, code: str, units: Collection[str]) -> None:
        self.visited.update((code, unit) for unit in units)

    def changed(self, module: cst.Module, units: Collection[str], context: bool) -> None:
        """`units` changed in `module` (and, when `context`, what surrounds them)."""
        if context:
            self.visited.clear()
        else:
            self.visited = {(code, unit) for code, unit in self.visited if unit not in units}
        text = module.code
        lines = physical_lines(text)
        for unit in units:
            self.applicable[unit] = set()
        for site in inventory(ast.parse(text)):
            if site.unit in units:
                start, end = span(site.node)
                source = "".join(lines[start - 1 : end])
                self.applicable[site.unit].update(applicable_passes(source, site.node, self.passes))


def _units_in_classes(units: Sequence[tuple[DefSite, str]], text: str) -> str:
    """The units' sources in source order, each method under bare headers of its classes
    (indented as in the file, shared by consecutive methods of one class)."""
    lines = physical_lines(text)
    parts: list[str] = []
    open_classes: tuple[ast.ClassDef, ...] = ()
    for site, source in sorted(units, key=lambda unit: unit[0].node.lineno):
        shared = 0
        while (
            shared < min(len(open_classes), len(site.classes))
            and open_classes[shared] is site.classes[shared]
        ):
            shared += 1
        for cls in site.classes[shared:]:
            line = lines[cls.lineno - 1]
            indent = line[: len(line) - len(line.lstrip(" \t\f"))]
            parts.append(f"{indent}class {cls.name}:\n")
        open_classes = site.classes
        parts.append(_ending_in_newline(source))
    return "".join(parts)


def run_passes(
    pass_classes: Sequence[type[OptimizationPass]],
    module: cst.Module,
    max_rounds: int = 4,
    prefilter: UnitPrefilter | None = None,
) -> tuple[cst.Module, dict[str, tuple[str, ...]]]:
    """`passes.apply_passes`, computing libcst metadata once per distinct module.

    `apply_passes` lets every pass build its own metadata (scopes, qualified
    names, parents), which costs more than the pass itself; here passes that see
    the same module share one resolved `MetadataWrapper`. Same rounds, same order,
    same result.

    With a `prefilter`, a pass also skips the units it cannot match (asked again of
    each unit a pass changed) and the units it already saw unchanged in an
    unchanged module context, and a pass with no unit to visit is not run: a
    class-heavy file's units together are far bigger than what each pass needs to
    see. The findings stay those of a run without it (tests/test_scan_findings.py).

    `module` must be freshly parsed: its metadata is resolved without a copy.
    """
    fired: dict[str, list[str]] = {}
    # A freshly parsed module shares no node with anything, so the wrapper need not copy
    # it; a pass's output may hold one node twice (metadata needs each node once), so
    # that is copied.
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    code = module.code
    for _ in range(max_rounds):
        changed = False
        for pass_class in pass_classes:
            if not pass_class.may_apply(code):
                continue
            before = wrapper.module
            units = unit_defs(before)
            visits = [
                n for n in units if prefilter is None or prefilter.needs_visit(pass_class.code, n)
            ]
            if not visits:
                continue
            skip = {id(node) for name, node in units.items() if name not in visits}
            updated = _apply_with_metadata(pass_class, wrapper, skip)
            if prefilter is not None:
                prefilter.ran(pass_class.code, visits)
            if updated.deep_equals(before):  # libcst rebuilds the tree even when nothing changed
                continue
            changed_units = _changed_functions(before, updated)
            for name in changed_units:
                codes = fired.setdefault(name, [])
                if pass_class.code not in codes:
                    codes.append(pass_class.code)
                changed = True
            if prefilter is not None:
                prefilter.changed(updated, changed_units, _context_changed(before, updated))
            wrapper, code = MetadataWrapper(updated), updated.code
        if not changed:
            break
    return wrapper.module, {name: tuple(codes) for name, codes in fired.items()}


def _context_changed(before: cst.Module, after: cst.Module) -> bool:
    """Whether what surrounds the units changed: a module-level statement other than a
    def or class (an import a pass added), or the set of module-level defs and classes."""

    def context(module: cst.Module) -> tuple[list[cst.CSTNode], list[str]]:
        kept: list[cst.CSTNode] = [
            s for s in module.body if not isinstance(s, cst.FunctionDef | cst.ClassDef)
        ]
        named = [s.name.value for s in module.body if isinstance(s, cst.FunctionDef | cst.ClassDef)]
        return kept, named

    (old, old_names), (new, new_names) = context(before), context(after)
    return (
        old_names != new_names
        or len(old) != len(new)
        or not all(a.deep_equals(b) for a, b in zip(old, new, strict=True))
    )


def _apply_with_metadata(
    pass_class: type[OptimizationPass], wrapper: MetadataWrapper, skip: Collection[int] = ()
) -> cst.Module:
    """What `Codemod.transform_module` does, but on an already resolved wrapper, and
    without visiting the nodes whose id() is in `skip`."""
    command = _skipping(pass_class, skip)(CodemodContext(wrapper=wrapper))
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


def _skipping(pass_class: type[OptimizationPass], skip: Collection[int]) -> type[OptimizationPass]:
    """The pass, made to leave the nodes whose id() is in `skip` unvisited and unchanged."""
    if not skip:
        return pass_class

    class Skipping(pass_class):  # type: ignore[valid-type,misc]
        def on_visit(self, node: cst.CSTNode) -> bool:
            return id(node) not in skip and bool(super().on_visit(node))

        def on_leave(self, original_node: cst.CSTNode, updated_node: cst.CSTNode) -> Any:
            if id(original_node) in skip:
                return updated_node
            return super().on_leave(original_node, updated_node)

    return Skipping


def _changed_functions(before: cst.Module, after: cst.Module) -> list[str]:
    """Qualnames of the units (functions and methods) whose own text differs between the
    modules: blank lines or comments above a def that moved (say, below an added
    import) are not a change of the def."""
    old, new = unit_defs(before), unit_defs(after)
    return [name for name, node in new.items() if name in old and def_changed(old[name], node)]


def def_changed(old: cst.FunctionDef, new: cst.FunctionDef) -> bool:
    """Whether a def differs, from its decorators to its last line."""
    return not old.with_changes(leading_lines=()).deep_equals(new.with_changes(leading_lines=()))


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
    return add_imports(base.with_changes(body=body), new_imports(reference, donor))


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
