"""The scan prefilter's `may_match_ast` never drops a function its pass rewrites.

The scan gives a function a libcst parse only when a pass's `may_apply` (text
triggers on the function's source) and `may_match_ast` (its stdlib `ast` node)
both say yes. `may_match_ast` may keep functions the pass then declines, but
must never reject one the pass rewrites. Here every pass runs for real over its
EXAMPLES and over the module-level functions of benchmarks/corpus and a
deterministic stdlib sample, and every function it changes must pass
`may_match_ast`.

Only functions `may_match_ast` REJECTS (and whose triggers match) can be its
false negatives, and it sees only the function itself, so a rewrite in any
module context proves it wrong: each pass runs on one module made of just the
sampled functions it rejects, after `import math` (which OPT214 needs).
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import libcst as cst
import pytest

from benchmarks.stdlib_run import sample, stdlib_files
from passes import OptimizationPass, all_passes, apply_pass
from passes.base import first_function, module_functions
from pipeline.stages.parse import physical_lines

REPO = Path(__file__).resolve().parent.parent
CORPUS = sorted((REPO / "benchmarks" / "corpus").glob("*.py"))
STDLIB_SAMPLE_FILES = 15
FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef


def function_source(node: FunctionNode, lines: list[str]) -> str:
    """The text the scan's `may_apply` sees (as pipeline.stages.parse builds it)."""
    start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
    return "".join(lines[start - 1 : node.end_lineno or node.lineno])


def module_level_functions(tree: ast.Module) -> list[FunctionNode]:
    return [n for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]


@pytest.mark.parametrize("pass_class", all_passes(), ids=lambda p: p.code)
def test_prefilter_keeps_every_example(pass_class: type[OptimizationPass]) -> None:
    for example in pass_class.EXAMPLES:
        name = first_function(example.before)
        node = next(n for n in module_level_functions(ast.parse(example.before)) if n.name == name)
        source = function_source(node, physical_lines(example.before))
        assert pass_class.may_apply(source), f"{pass_class.code} triggers miss {name}"
        assert pass_class.may_match_ast(node), f"{pass_class.code} may_match_ast drops {name}"


@cache
def sampled_functions() -> dict[str, FunctionNode]:
    """Module-level functions of the corpus and the stdlib sample, first of each name."""
    found: dict[str, FunctionNode] = {}
    for path in [*CORPUS, *sample(stdlib_files(), STDLIB_SAMPLE_FILES)]:
        try:
            text = path.read_text(encoding="utf-8")
            tree = ast.parse(text)
        except (SyntaxError, UnicodeDecodeError, ValueError):  # deliberately broken stdlib tests
            continue
        lines = physical_lines(text)
        for node in module_level_functions(tree):
            source = function_source(node, lines)
            if node.name in found or not _libcst_parses(source):
                continue
            node.prefilter_source = source  # type: ignore[attr-defined]
            found[node.name] = node
    return found


def _libcst_parses(source: str) -> bool:
    try:
        cst.parse_module(source)
    except cst.ParserSyntaxError:
        return False
    return True


def rejected_functions(pass_class: type[OptimizationPass]) -> list[str]:
    """Sampled functions the scan would skip because of `may_match_ast` alone."""
    return [
        name
        for name, node in sampled_functions().items()
        if pass_class.may_apply(node.prefilter_source)  # type: ignore[attr-defined]
        and not pass_class.may_match_ast(node)
    ]


def rewritten_functions(pass_class: type[OptimizationPass], names: list[str]) -> list[str]:
    """Which of `names` the pass changes, run on a module of just those functions."""
    functions = sampled_functions()
    sources = [functions[name].prefilter_source for name in names]  # type: ignore[attr-defined]
    module = cst.parse_module("import math\n\n\n" + "\n\n".join(sources))
    old, new = module_functions(module), module_functions(apply_pass(pass_class, module))
    return [name for name, node in new.items() if name in old and not node.deep_equals(old[name])]


@pytest.mark.parametrize("pass_class", all_passes(), ids=lambda p: p.code)
def test_prefilter_never_drops_a_rewritten_function(pass_class: type[OptimizationPass]) -> None:
    rejected = rejected_functions(pass_class)
    if not rejected:
        return
    dropped = rewritten_functions(pass_class, rejected)
    assert not dropped, f"{pass_class.code} may_match_ast drops functions it rewrites: {dropped}"


def test_the_sample_is_not_vacuous() -> None:
    """The sample holds many functions whose triggers match but that `may_match_ast`
    rejects, so the check above has something to catch."""
    functions = sampled_functions()
    assert len(functions) >= 100
    assert sum(len(rejected_functions(p)) for p in all_passes()) >= len(functions)
