"""Stage 3: turn pass matches into candidates, one per function.

Passes run, until they reach a fixed point, over a stand-in for the module:
its imports, a stub for every other module-level binding, and only the
functions the prefilter kept (libcst metadata costs ~65x `ast`). Each function
they changed then becomes its own candidate: the original module with only that
function replaced, plus the helpers and imports it needs, laid out in the
project's style (see `style`). A candidate that loses or adds a comment, or
moves a pragma (`# noqa`, `# type: ignore`, ...) off the line it governs, is
refused with the reason, never verified or written. The scan (`--no-verify`)
shows these same texts.
"""

from __future__ import annotations

import ast
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any

import libcst as cst
from libcst.codemod import CodemodContext, SkipFile
from libcst.codemod.visitors import AddImportsVisitor, RemoveImportsVisitor
from libcst.metadata import MetadataWrapper

from passes import OptimizationPass
from passes.base import (
    ATTRIBUTE_TYPES_KEY,
    PROFILES_KEY,
    CallProfile,
    comment_counts,
    moved_pragma,
)
from pipeline.model import AnalysedFunction, Candidate, CandidateOrigin, FunctionInfo, ParsedFile
from pipeline.stages.analyze import applicable_passes, trigger_text
from pipeline.stages.defs import (
    LOCALS,
    DefSite,
    find_def,
    inventory,
    locate,
    span,
    unit_defs,
)
from pipeline.stages.observed_view import (
    annotated_view,
    assumptions_of,
    observed_annotations,
    observed_attributes,
    without_annotations,
)
from pipeline.stages.parse import InputError, libcst_module, physical_lines
from pipeline.stages.splice import splice
from pipeline.stages.stand_in import stand_in
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
    annotations = observed_annotations(facts)
    view, tree = annotated_view(parsed, annotations) if annotations else (parsed, tree)
    attributes = _observed_attributes(facts, parsed, tree)
    result = _run_on_stand_in(view, facts, passes, tree, attributes)
    if result is None or not result[2]:
        return ()
    stand_in_module, rewritten, fired, units = result
    if annotations:  # the view's annotations never reach a candidate's code
        stand_in_module = without_annotations(stand_in_module, annotations)
        rewritten = without_annotations(rewritten, annotations)
    module = module or libcst_module(parsed)
    originals = {info.qualname: info for info in parsed.functions}
    return _proposed(
        _candidate(
            parsed,
            originals[unit.qualname],
            fired[unit.qualname],
            module.code,
            splice(module, rewritten, unit.qualname, reference=stand_in_module).code,
            _assumptions(facts, unit.qualname, attributes),
        )
        for unit in units
        if unit.qualname in fired
    )


def _observed_attributes(
    facts: Sequence[AnalysedFunction], parsed: ParsedFile, tree: ast.Module | None
) -> dict[str, dict[str, str]]:
    """Per method, the observed types of its instance's attributes (see
    `observed_attributes`); the file is parsed for them only when a trace saw some."""
    if not any(fact.trace is not None and fact.trace.attributes for fact in facts):
        return {}
    return observed_attributes(facts, tree or ast.parse(parsed.source.text))


def _assumptions(
    facts: Sequence[AnalysedFunction], unit: str, attributes: Mapping[str, Mapping[str, str]]
) -> tuple[str, ...]:
    """The observed types a candidate for `unit` may rest on: its own and its nested
    functions' (they were all written into the view the passes saw), and the types of
    the attributes of its instance that it reads."""
    inner = f"{unit}.{LOCALS}."
    return tuple(
        assumption
        for fact in facts
        if fact.info.qualname == unit or fact.info.qualname.startswith(inner)
        for assumption in assumptions_of(fact, attributes)
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
        found.append(_candidate(parsed, info, candidate.rules, candidate.original_code, code,
                                candidate.assumptions))  # fmt: skip
    return _proposed(found)


def _candidate(
    parsed: ParsedFile, info: FunctionInfo, rules: tuple[str, ...], original: str, code: str,
    assumptions: tuple[str, ...] = (),
) -> Candidate | None:  # fmt: skip
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
        assumptions=assumptions,
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
    """Why `candidate` may not replace `original`: it loses (or adds) a comment, or
    moves a pragma comment off the line it governs."""
    before, after = comment_counts(original), comment_counts(candidate)
    lost, added = before - after, after - before
    if lost:
        return f"refused: the rewrite loses the comment {next(iter(lost))!r}"
    if added:
        return f"refused: the rewrite adds the comment {next(iter(added))!r}"
    pragma = moved_pragma(original, candidate)
    if pragma is not None:
        return f"refused: the rewrite moves {pragma!r} off the line it governs"
    return ""


def _run_on_stand_in(
    parsed: ParsedFile,
    facts: Sequence[AnalysedFunction],
    passes: Sequence[type[OptimizationPass]],
    tree: ast.Module | None = None,
    attributes: Mapping[str, Mapping[str, str]] | None = None,
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
    profiles = call_profiles(facts)
    rewritten, fired = run_passes(
        passes, module, prefilter=prefilter, profiles=profiles, attributes=attributes
    )
    return module, rewritten, fired, units


def call_profiles(facts: Sequence[AnalysedFunction]) -> dict[str, CallProfile]:
    """What the trace saw of each function's calls, for the passes a profile justifies."""
    return {
        fact.info.qualname: CallProfile(
            fact.trace.calls,
            fact.trace.recorded,
            fact.trace.distinct,
            fact.trace.total_seconds / max(fact.trace.calls, 1),
        )
        for fact in facts
        if fact.trace is not None
    }


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
    profiles: Mapping[str, CallProfile] | None = None,
    attributes: Mapping[str, Mapping[str, str]] | None = None,
) -> tuple[cst.Module, dict[str, tuple[str, ...]]]:
    """Apply passes until nothing changes (bounded rounds, so passes compose); the new
    module and, per unit (qualname) that changed, the codes of the passes that changed
    it, in the order they fired.

    libcst metadata (scopes, qualified names, parents) costs more than a pass
    itself, so passes that see the same module share one resolved `MetadataWrapper`.

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
    code = trigger_text(module.code)
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
            updated = _apply_with_metadata(pass_class, wrapper, skip, profiles, attributes)
            if prefilter is not None:
                prefilter.ran(pass_class.code, visits)
            if updated.deep_equals(before):  # libcst rebuilds the tree even when nothing changed
                continue
            if not _parses(updated):
                continue  # a pass's slip must cost its rewrite, never the run
            changed_units = _changed_functions(before, updated)
            for name in changed_units:
                codes = fired.setdefault(name, [])
                if pass_class.code not in codes:
                    codes.append(pass_class.code)
                changed = True
            if prefilter is not None:
                prefilter.changed(updated, changed_units, _context_changed(before, updated))
            wrapper, code = MetadataWrapper(updated), trigger_text(updated.code)
        if not changed:
            break
    return wrapper.module, {name: tuple(codes) for name, codes in fired.items()}


def _parses(module: cst.Module) -> bool:
    """The running Python can compile `module` (libcst accepts some code it cannot: a
    nested f-string reusing its quotes before 3.12)."""
    try:
        ast.parse(module.code)
    except SyntaxError:
        return False
    return True


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
    pass_class: type[OptimizationPass],
    wrapper: MetadataWrapper,
    skip: Collection[int] = (),
    profiles: Mapping[str, CallProfile] | None = None,
    attributes: Mapping[str, Mapping[str, str]] | None = None,
) -> cst.Module:
    """What `Codemod.transform_module` does, but on an already resolved wrapper, and
    without visiting the nodes whose id() is in `skip`. `profiles` and `attributes`
    (what a trace saw, by qualname) go where passes read them: the context's scratch."""
    scratch = {PROFILES_KEY: profiles or {}, ATTRIBUTE_TYPES_KEY: attributes or {}}
    context = CodemodContext(wrapper=wrapper, scratch=scratch)
    command = _skipping(pass_class, skip)(context)
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


def _ending_in_newline(source: str) -> str:
    return source if source.endswith(("\n", "\r")) else source + "\n"
