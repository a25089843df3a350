"""Applying a model's proposal to a module as a libcst transform, or refusing it.

The proposal replaces one FunctionDef in place. The original decorators (plus
any the proposal adds, such as `@functools.cache`), leading comments and
docstring are kept, helpers go just before the function, new imports go in
through `AddImportsVisitor`, and every other byte of the file stays as it was.
"""

from __future__ import annotations

import ast
import hashlib
import textwrap
from collections.abc import Sequence
from typing import TYPE_CHECKING

import libcst as cst

from passes.base import comment_counts, moved_pragma
from pipeline.stages.defs import find_def, replace_def
from pipeline.stages.splice import add_imports, defined_names, is_import, new_imports

if TYPE_CHECKING:
    from pipeline.llm.replies import Proposal

_EMPTY = cst.Module(body=[])
_TWO_BLANK_LINES = (cst.EmptyLine(), cst.EmptyLine())


class ProposalRejected(Exception):
    """The proposal cannot be applied; the message says why, in one line."""


def apply_proposal(module: cst.Module, function: str, proposal: Proposal) -> cst.Module:
    """`module` with the def `function` (a qualname: a method lands in its class)
    replaced by the proposal, or ProposalRejected."""
    qualname, function = function, function.rsplit(".", 1)[-1]
    code = _parse("function", proposal.function)
    helper_code = _parse("helpers", proposal.helpers)
    import_code = _parse("imports", "\n".join(proposal.imports))
    if any(not is_import(s) for s in import_code.body):
        raise ProposalRejected("imports: only import statements are allowed there")
    definitions = [s for s in code.body if defined_names(s) == {function}]
    if len(definitions) != 1 or not isinstance(definitions[0], cst.FunctionDef):
        raise ProposalRejected(f"does not define function {function!r} exactly once")
    replacement = definitions[0]
    helpers = [
        s for s in (*code.body, *helper_code.body) if s is not replacement and not is_import(s)
    ]
    imports = [s for s in (*code.body, *import_code.body) if is_import(s)]
    original = _target(module, qualname)
    _check_signature(original, replacement)
    _check_helpers(module, function, helpers)
    merged = _merge(original, replacement)
    installed = _install(module, qualname, merged, helpers, cst.Module(body=imports))
    lost = comment_counts(module.code) - comment_counts(installed.code)
    if lost:  # a user's comment is data: a rewrite may move it, never drop it
        raise ProposalRejected(f"loses the comment {next(iter(lost))!r}")
    pragma = moved_pragma(module.code, installed.code)
    if pragma is not None:  # a noqa pragma above a statement silences nothing
        raise ProposalRejected(f"moves {pragma!r} off the line it governs")
    return installed


def fingerprint(module: cst.Module) -> str:
    """Identity up to formatting and comments: a hash of the normalised AST."""
    tree = ast.parse(module.code)
    return hashlib.sha256(ast.dump(tree, annotate_fields=False).encode()).hexdigest()


def _parse(what: str, code: str) -> cst.Module:
    try:
        return cst.parse_module(textwrap.dedent(code).strip("\n") + "\n" if code.strip() else "")
    except cst.ParserSyntaxError as error:
        line = str(error.message).splitlines()[0] if error.message else "syntax error"
        raise ProposalRejected(f"does not parse ({what}, line {error.raw_line}): {line}") from None


def _target(module: cst.Module, qualname: str) -> cst.FunctionDef:
    found = find_def(module, qualname)
    if found is None:
        raise ProposalRejected(f"module has no function {qualname!r}")
    return found


def _module_names(module: cst.Module) -> set[str]:
    names: set[str] = set()
    for statement in module.body:
        names |= defined_names(statement)
    return names


def _check_signature(original: cst.FunctionDef, replacement: cst.FunctionDef) -> None:
    def signature(node: cst.FunctionDef) -> str:
        tree = ast.parse(_EMPTY.code_for_node(node.with_changes(decorators=(), leading_lines=())))
        definition = tree.body[0]
        assert isinstance(definition, ast.FunctionDef | ast.AsyncFunctionDef)
        returns = ast.dump(definition.returns) if definition.returns else ""
        return f"{type(definition).__name__}|{ast.dump(definition.args)}|{returns}"

    if signature(original) != signature(replacement):
        old, new = (_EMPTY.code_for_node(n.params) for n in (original, replacement))
        name = original.name.value
        raise ProposalRejected(f"changes the signature of {name}: ({old}) -> ({new})")


def _check_helpers(module: cst.Module, function: str, helpers: Sequence[cst.CSTNode]) -> None:
    existing = _module_names(module) | {function}
    for helper in helpers:
        if not isinstance(helper, cst.FunctionDef | cst.ClassDef) and not defined_names(helper):
            raise ProposalRejected("helpers may only define functions, classes or constants")
        clashes = sorted(defined_names(helper) & existing)
        if clashes:
            raise ProposalRejected(f"touches other functions or names: {', '.join(clashes)}")


def _merge(original: cst.FunctionDef, replacement: cst.FunctionDef) -> cst.FunctionDef:
    """The new body under the original's comments, decorators and docstring."""
    kept = {_EMPTY.code_for_node(d.decorator) for d in original.decorators}
    added = [d for d in replacement.decorators if _EMPTY.code_for_node(d.decorator) not in kept]
    body = replacement.body
    statements = list(body.body) if isinstance(body, cst.IndentedBlock) else []
    if statements and isinstance(body, cst.IndentedBlock):
        if _docstring(replacement) is not None:
            statements = statements[1:]
        docstring = _docstring(original)
        if docstring is not None:
            statements = [docstring, *statements]
        if statements:
            body = body.with_changes(body=statements)
    return replacement.with_changes(
        leading_lines=original.leading_lines,
        decorators=(*original.decorators, *added),
        body=body,
    )


def _docstring(node: cst.FunctionDef) -> cst.BaseStatement | None:
    if node.get_docstring(clean=False) is None or not isinstance(node.body, cst.IndentedBlock):
        return None
    return node.body.body[0]


def _install(
    module: cst.Module,
    qualname: str,
    replacement: cst.FunctionDef,
    helpers: Sequence[cst.CSTNode],
    import_source: cst.Module,
) -> cst.Module:
    """The replacement in place (a method inside its class); helpers just before the
    module-level statement that holds it."""
    spaced = [_with_blank_lines(h) for h in helpers]
    top = qualname.split(".")[0]
    body: list[cst.CSTNode] = []
    for statement in replace_def(module, qualname, replacement).body:
        if isinstance(statement, cst.FunctionDef | cst.ClassDef) and statement.name.value == top:
            body.extend([*spaced, statement])
        else:
            body.append(statement)
    rebuilt = module.with_changes(body=body)
    return add_imports(rebuilt, new_imports(module, import_source))


def _with_blank_lines(statement: cst.CSTNode) -> cst.CSTNode:
    if isinstance(statement, cst.FunctionDef | cst.ClassDef | cst.SimpleStatementLine):
        comments = [line for line in statement.leading_lines if line.comment is not None]
        return statement.with_changes(leading_lines=(*_TWO_BLANK_LINES, *comments))
    return statement
