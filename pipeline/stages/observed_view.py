"""The module as the passes see it with a trace: observed types written in as annotations.

Passes prove their preconditions from annotations (a list receiver, hashable
items, numbers). On untyped code the trace knows what static types cannot, so
the analyse and rewrite stages run over a *view* of the module whose
unannotated parameters carry the types every recorded call had (see
`TraceFacts.annotations`). The view never reaches a user's file: the rewritten
defs lose those annotations again before they are spliced into the real module,
and a candidate that rests on them carries them as assumptions, which only
verification on the recorded calls can discharge.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from functools import lru_cache

import libcst as cst

from pipeline.model import AnalysedFunction, FunctionInfo, ParsedFile
from pipeline.stages.defs import LOCALS, inventory, locate
from pipeline.stages.parse import parse_tree, physical_lines

Annotations = Mapping[str, Mapping[str, str]]  # qualname -> parameter -> annotation text


def observed_annotations(facts: Sequence[AnalysedFunction]) -> dict[str, dict[str, str]]:
    """Per function with recorded calls, the annotations its trace supports."""
    found = {}
    for fact in facts:
        if fact.trace is None:
            continue
        # A parameter the user annotated keeps the user's annotation: it is neither
        # written into the view nor taken out of a rewritten def.
        user = set(fact.info.annotated_params)
        written = {p: a for p, a in fact.trace.annotations.items() if p not in user}
        if written:
            found[fact.info.qualname] = written
    return found


def observed_attributes(
    facts: Sequence[AnalysedFunction], tree: ast.Module
) -> dict[str, dict[str, str]]:
    """Per method with recorded calls, the types its instance's attributes held in every
    one (`TraceFacts.attribute_annotations`), for the passes to read `self.<name>` as.

    Only attributes a plain read returns from the instance's `__dict__`, as the trace
    saw them: the class body binds no such name (a property, a method, a class
    attribute) and defines no `__getattribute__`. Static and class methods get none.
    """
    classes = {site.qualname: site.classes[-1] for site in inventory(tree) if site.classes}
    found = {}
    for fact in facts:
        if fact.trace is None or not fact.info.is_method or fact.info.qualname not in classes:
            continue
        bound = _class_bindings(classes[fact.info.qualname])
        if "__getattribute__" in bound:
            continue
        kept = {
            name: annotation
            for name, annotation in fact.trace.attribute_annotations.items()
            if name not in bound
        }
        if kept:
            found[fact.info.qualname] = kept
    return found


def _class_bindings(cls: ast.ClassDef) -> set[str]:
    """Names the class body binds: defs, classes, assignment targets, imports."""
    names: set[str] = set()
    for statement in cls.body:
        if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(statement.name)
            continue
        if isinstance(statement, ast.AnnAssign) and statement.value is None:
            continue  # `items: list[str]` declares, binds nothing
        for node in ast.walk(statement):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store | ast.Del):
                names.add(node.id)
            elif isinstance(node, ast.alias):
                names.add((node.asname or node.name).partition(".")[0])
    return names


def assumptions_of(
    fact: AnalysedFunction, attributes: Mapping[str, Mapping[str, str]] | None = None
) -> tuple[str, ...]:
    """What a candidate for `fact`'s function assumes where the view annotated it (a
    parameter the user annotated keeps the user's annotation: nothing is assumed), and
    the observed types of the `self` attributes it reads (see `observed_attributes`)."""
    if fact.trace is None:
        return ()
    written = set(fact.trace.annotations) - set(fact.info.annotated_params)
    parameters = tuple(o.assumption for o in fact.trace.parameters if o.name in written)
    typed = (attributes or {}).get(fact.info.qualname, {})
    read = _attributes_read(fact.info)
    return parameters + tuple(
        o.assumption
        for o in fact.trace.attributes
        if o.name.removeprefix("self.") in typed and o.name.removeprefix("self.") in read
    )


def _attributes_read(info: FunctionInfo) -> set[str]:
    """The attributes of its first parameter (the instance) a method mentions."""
    if not info.params:
        return set()
    instance = re.escape(info.params[0])
    return set(re.findall(rf"(?<![\w.]){instance}\s*\.\s*(\w+)", info.source))


def annotated_view(parsed: ParsedFile, annotations: Annotations) -> tuple[ParsedFile, ast.Module]:
    """`parsed` with the observed annotations written into its defs' parameters; the
    line of every statement stays where it was. Analyze and rewrite both ask for the
    same view of a file: it is built once."""
    frozen = tuple(sorted((name, tuple(sorted(a.items()))) for name, a in annotations.items()))
    return _view(parsed, frozen)


@lru_cache(maxsize=8)
def _view(
    parsed: ParsedFile, frozen: tuple[tuple[str, tuple[tuple[str, str], ...]], ...]
) -> tuple[ParsedFile, ast.Module]:
    annotations = {name: dict(params) for name, params in frozen}
    tree = ast.parse(parsed.source.text)
    edits = sorted(_edits(tree, annotations), reverse=True)
    lines = physical_lines(parsed.source.text)
    for line, column, text in edits:
        encoded = lines[line - 1].encode()
        lines[line - 1] = (encoded[:column] + text.encode()).decode() + encoded[column:].decode()
    view = replace(parsed.source, text="".join(lines))
    return parse_tree(view)


def _edits(tree: ast.Module, annotations: Annotations) -> list[tuple[int, int, str]]:
    """(line, byte column, ": annotation") right after each unannotated parameter."""
    edits = []
    for qualname, observed in annotations.items():
        node = locate(tree, qualname)
        if node is None:
            continue
        arguments = node.args
        for arg in [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]:
            if arg.annotation is None and arg.arg in observed and arg.end_lineno is not None:
                edits.append((arg.end_lineno, arg.end_col_offset or 0, f": {observed[arg.arg]}"))
    return edits


def without_annotations(module: cst.Module, annotations: Annotations) -> cst.Module:
    """`module` with the view's annotations taken out of the defs they were written into."""
    return module.visit(_Unannotate(annotations))


class _Unannotate(cst.CSTTransformer):
    def __init__(self, annotations: Annotations) -> None:
        super().__init__()
        self.annotations = annotations
        self.path: list[str] = []  # qualname parts, `<locals>` after each def

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.path.append(node.name.value)

    def leave_ClassDef(
        self, original_node: cst.ClassDef, updated_node: cst.ClassDef
    ) -> cst.ClassDef:
        self.path.pop()
        return updated_node

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.path.extend([node.name.value, LOCALS])

    def leave_FunctionDef(
        self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef
    ) -> cst.FunctionDef:
        del self.path[-2:]
        qualname = ".".join([*self.path, original_node.name.value])
        observed = self.annotations.get(qualname)
        if not observed:
            return updated_node
        return updated_node.with_changes(params=_unannotated(updated_node.params, observed))


def _unannotated(params: cst.Parameters, observed: Mapping[str, str]) -> cst.Parameters:
    def strip(param: cst.Param) -> cst.Param:
        annotation = param.annotation
        if annotation is None or param.name.value not in observed:
            return param
        written = cst.Module([]).code_for_node(annotation.annotation)
        if written != observed[param.name.value]:
            return param
        return param.with_changes(annotation=None)

    return params.with_changes(
        posonly_params=[strip(p) for p in params.posonly_params],
        params=[strip(p) for p in params.params],
        kwonly_params=[strip(p) for p in params.kwonly_params],
    )
