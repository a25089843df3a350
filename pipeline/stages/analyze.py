"""Stage 2: cheap static facts per function, from the stdlib `ast`.

Purity is judged conservatively: anything that might touch the outside world
or the caller's objects counts as an impurity. The text prefilter decides
which passes are worth a libcst parse at all.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping, Sequence
from dataclasses import replace

from passes import OptimizationPass
from pipeline.model import AnalysedFunction, FunctionInfo, ParsedFile, TraceFacts
from pipeline.stages.defs import inventory
from pipeline.stages.observed_view import annotated_view, observed_annotations

IMPURE_CALLS = frozenset(
    {"print", "open", "input", "exec", "eval", "compile", "setattr", "delattr", "globals",
     "locals", "vars", "breakpoint", "__import__"}
)  # fmt: skip
MUTATING_METHODS = frozenset(
    {"append", "extend", "insert", "pop", "remove", "clear", "sort", "reverse", "update",
     "add", "discard", "setdefault", "popitem", "write", "writelines", "send", "close"}
)  # fmt: skip
NONDETERMINISTIC_MODULES = frozenset({"random", "time", "datetime", "os", "sys", "uuid", "secrets"})


def analyze(
    parsed: ParsedFile,
    passes: Sequence[type[OptimizationPass]],
    tree: ast.Module | None = None,
    traces: Mapping[str, TraceFacts] | None = None,
) -> tuple[AnalysedFunction, ...]:
    """Facts per inventoried def; pass `tree` when the parse stage already built it.

    `traces` (by qualname) is what a trace saw: each function keeps its facts, and
    the prefilter reads its parameters as annotated with their observed types, as
    the passes will (see `observed_view`)."""
    tree = tree or ast.parse(parsed.source.text)
    traces = traces or {}
    nodes = {site.qualname: site.node for site in inventory(tree)}
    facts = tuple(
        _facts(info, nodes[info.qualname], passes, traces.get(info.qualname))
        for info in parsed.functions
    )
    annotations = observed_annotations(facts)
    if not annotations:
        return facts
    view, view_tree = annotated_view(parsed, annotations)
    view_nodes = {site.qualname: site.node for site in inventory(view_tree)}
    in_view = {info.qualname: info for info in view.functions}

    def seen_in_view(fact: AnalysedFunction) -> AnalysedFunction:
        info = in_view.get(fact.info.qualname)
        if fact.info.qualname not in annotations or info is None:
            return fact
        kept = applicable_passes(info.source, view_nodes[info.qualname], passes)
        return replace(fact, applicable_passes=kept)

    return tuple(seen_in_view(fact) for fact in facts)


def _facts(
    info: FunctionInfo,
    node: ast.FunctionDef | ast.AsyncFunctionDef,
    passes: Sequence[type[OptimizationPass]],
    trace: TraceFacts | None = None,
) -> AnalysedFunction:
    return AnalysedFunction(
        info=info,
        impurities=tuple(sorted(set(impurities(node, info.params)))),
        applicable_passes=applicable_passes(info.source, node, passes),
        trace=trace,
    )


def applicable_passes(
    source: str,
    node: ast.FunctionDef | ast.AsyncFunctionDef,
    passes: Sequence[type[OptimizationPass]],
) -> tuple[str, ...]:
    """The prefilter: codes of the passes that may match the def `node` (text `source`).

    It may keep a def its pass then declines, never drop one the pass rewrites."""
    text = trigger_text(source)
    return tuple(p.code for p in passes if p.may_apply(text) and p.may_match_ast(node))


_ONE_SPACE = re.compile(r"(?:\\\r?\n|\s)+")


def trigger_text(source: str) -> str:
    """`source` as the passes' text triggers read it: they are spelled with single
    spaces (" for "), so every run of whitespace and line continuations is one
    space (`[x for` and `x in ...]` on two lines still hold " for ")."""
    return _ONE_SPACE.sub(" ", source)


def impurities(node: ast.AST, params: Sequence[str]) -> list[str]:
    """Reasons the function may have effects beyond its return value."""
    found: list[str] = []
    for child in ast.walk(node):
        if isinstance(child, ast.Global | ast.Nonlocal):
            found.append(f"writes {type(child).__name__.lower()} names")
        elif isinstance(child, ast.Call):
            found.extend(_call_impurity(child, params))
        elif isinstance(child, ast.Assign | ast.AugAssign | ast.Delete):
            targets = (
                child.targets if isinstance(child, ast.Assign | ast.Delete) else [child.target]
            )
            found.extend(
                f"mutates argument {_root_name(t)}"
                for t in targets
                if isinstance(t, ast.Subscript | ast.Attribute) and _root_name(t) in params
            )
        elif isinstance(child, ast.Yield | ast.YieldFrom | ast.Await):
            found.append("suspends (generator or coroutine)")
    return found


def _call_impurity(call: ast.Call, params: Sequence[str]) -> list[str]:
    func = call.func
    if isinstance(func, ast.Name) and func.id in IMPURE_CALLS:
        return [f"calls {func.id}()"]
    if isinstance(func, ast.Attribute):
        root = _root_name(func.value)
        if func.attr in MUTATING_METHODS and root in params:
            return [f"mutates argument {root} via .{func.attr}()"]
        if root in NONDETERMINISTIC_MODULES:
            return [f"calls {root}.{func.attr}()"]
    return []


def _root_name(node: ast.AST) -> str | None:
    while isinstance(node, ast.Attribute | ast.Subscript):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None
