"""Literal example calls mined from a module's source, to seed the verifier.

Two sources, both read statically (the stdlib `doctest` parser, `ast`, and
`ast.literal_eval`; nothing is ever evaluated):
- doctest examples in any docstring of the module that call the function;
- calls with only literal arguments elsewhere in the module ("call sites").

Each becomes an explicit Hypothesis `@example`. Values cross into the child as
JSON with a small tagged encoding for what JSON lacks (tuples, sets, bytes,
non-string dict keys, NaN, infinities, -0.0). For parameters that have no type
hint, the shapes of the seeds also suggest a domain to generate more inputs.
"""

from __future__ import annotations

import ast
import doctest
import json
from collections.abc import Iterator
from typing import Any

from pipeline.sandbox.child.domains import domain_of_values, type_only
from pipeline.sandbox.child.literals import decode_literal, encode_literal
from pipeline.sandbox.child.protocol import Domain, LiteralCall

SEEDS_PER_SOURCE = 20
DOCTEST_SOURCE = "doctest examples"
CALL_SITE_SOURCE = "call sites"
INFERRED_SOURCE = "types inferred from literal examples"


def mine_seeds(tree: ast.Module, function: str) -> list[LiteralCall]:
    """Doctest examples first, then call sites; duplicates and unparseable calls dropped."""
    found: list[LiteralCall] = []
    seen: set[str] = set()
    for source, calls in (
        (DOCTEST_SOURCE, _doctest_calls(tree, function)),
        (CALL_SITE_SOURCE, _calls_to(tree, function)),
    ):
        count = 0
        for call in calls:
            seed = _literal_seed(call, source)
            if seed is None or count >= SEEDS_PER_SOURCE:
                continue
            key = json.dumps([seed.args, seed.kwargs], sort_keys=True)
            if key not in seen:
                seen.add(key)
                found.append(seed)
                count += 1
    return found


def _doctest_calls(tree: ast.Module, function: str) -> Iterator[ast.Call]:
    parser = doctest.DocTestParser()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        docstring = ast.get_docstring(node, clean=True)
        if not docstring or ">>>" not in docstring:
            continue
        try:
            examples = parser.get_examples(docstring)
        except ValueError:  # malformed doctest layout
            continue
        for example in examples:
            try:
                yield from _calls_to(ast.parse(example.source), function)
            except SyntaxError:
                continue


def _calls_to(tree: ast.AST, function: str) -> Iterator[ast.Call]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _names(node.func, function):
            yield node


def _names(func: ast.expr, function: str) -> bool:
    if isinstance(func, ast.Name):
        return func.id == function
    return isinstance(func, ast.Attribute) and func.attr == function


def _literal_seed(call: ast.Call, source: str) -> LiteralCall | None:
    if any(isinstance(arg, ast.Starred) for arg in call.args):
        return None
    if any(keyword.arg is None for keyword in call.keywords):
        return None
    try:
        args = tuple(encode_literal(ast.literal_eval(arg)) for arg in call.args)
        kwargs = {str(k.arg): encode_literal(ast.literal_eval(k.value)) for k in call.keywords}
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None
    return LiteralCall(args, kwargs, source)


# --------------------------------------------------------------------------- inference


def inferred_domains(seeds: list[LiteralCall], parameters: list[str]) -> dict[str, Domain]:
    """Domains for each named parameter, from the types of the literal values passed to it."""
    values: dict[str, list[Any]] = {}
    for seed in seeds:
        args = decode_literal(list(seed.args))
        kwargs = {name: decode_literal(value) for name, value in seed.kwargs.items()}
        for name, value in (dict(zip(parameters, args, strict=False)) | kwargs).items():
            if name in parameters:
                values.setdefault(name, []).append(value)
    found = {}
    for name, examples in values.items():
        spec = domain_of_values(examples)
        if spec is not None:
            found[name] = Domain(type_only(spec), INFERRED_SOURCE)
    return found
