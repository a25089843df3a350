"""Stage 1: read a file's bytes safely and inventory its functions.

Every def is inventoried (`pipeline.stages.defs`): module-level functions,
methods (static, class and plain, nested classes too) and nested functions
that capture nothing. The cheap stdlib `ast` does the inventory and the syntax
check; the libcst tree, which costs about 10x more, is built only when a
rewrite needs it.
"""

from __future__ import annotations

import ast
import errno
import io
import re
import sys
import tokenize
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.model import FunctionInfo, ParsedFile, SourceFile
from pipeline.stages.defs import DefSite, inventory, self_unused, span

if TYPE_CHECKING:  # libcst loads only when a rewrite needs the full-fidelity tree
    import libcst as cst


class InputError(Exception):
    """A file that cannot be optimised; the message is one line naming the reason."""


# A file only a newer Python parses is out of reach, not broken: its error says so,
# and `newer_python_reason` reads that back after any stage (cached scans included).
NEEDS_NEWER_PYTHON = "needs a newer Python"
_NEWER_PYTHON_REASON = re.compile(re.escape(NEEDS_NEWER_PYTHON) + r": (\d+\.\d+ syntax)")


def newer_python_reason(error: str) -> str | None:
    """"3.12 syntax" when `error` says the file needs a newer Python, else None."""
    match = _NEWER_PYTHON_REASON.search(error)
    return match.group(1) if match else None


def read_source(path: Path, max_bytes: int) -> SourceFile:
    raw = _read_bytes(path, max_bytes)
    if not raw.strip():
        raise InputError(f"{path}: empty file, nothing to optimize")
    if b"\x00" in raw:
        raise InputError(f"{path}: binary file (contains NUL bytes), not Python source")
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(raw).readline)
        text = raw.decode(encoding)
    except (SyntaxError, LookupError, UnicodeDecodeError) as error:
        raise InputError(f"{path}: cannot decode: {_first_line(error)}") from error
    return SourceFile(path=path, raw=raw, text=text, encoding=encoding)


def _read_bytes(path: Path, max_bytes: int) -> bytes:
    try:
        size = path.stat().st_size
        if path.is_dir():
            raise InputError(f"{path}: is a directory")
        if size > max_bytes:
            raise InputError(f"{path}: {size} bytes is over the size limit of {max_bytes}")
        return path.read_bytes()
    except FileNotFoundError as error:
        raise InputError(f"{path}: no such file or directory") from error
    except PermissionError as error:
        raise InputError(f"{path}: permission denied") from error
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise InputError(f"{path}: symlink loop") from error
        raise InputError(f"{path}: cannot read: {error.strerror}") from error


_PHYSICAL_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


def physical_lines(text: str) -> list[str]:
    """Lines as Python numbers them, ends kept: unlike `str.splitlines`, a form
    feed or U+2028 inside a line does not start a new one."""
    return _PHYSICAL_LINE.findall(text)


def _first_line(error: Exception) -> str:
    return str(error).splitlines()[0] if str(error) else type(error).__name__


def parse(source: SourceFile) -> ParsedFile:
    return parse_tree(source)[0]


def parse_tree(source: SourceFile) -> tuple[ParsedFile, ast.Module]:
    """The parsed file and its stdlib `ast` tree, so later stages need not parse again."""
    try:
        tree = ast.parse(source.text, filename=str(source.path))
    except SyntaxError as error:
        where = f"{error.lineno}:{(error.offset or 0)}"
        from pipeline.stages.newer_syntax import newer_syntax  # libcst: only for such files

        newer = newer_syntax(source.text)
        if newer is not None:
            running = ".".join(map(str, sys.version_info[:2]))
            message = f"{NEEDS_NEWER_PYTHON}: {newer.needs} ({newer.construct})"
            message += f"; this is Python {running}"
            raise InputError(f"{source.path}:{where}: {message}") from error
        raise InputError(f"{source.path}:{where}: syntax error: {error.msg}") from error
    except ValueError as error:
        raise InputError(f"{source.path}: cannot parse: {_first_line(error)}") from error
    lines = physical_lines(source.text)
    functions = tuple(_function_info(site, lines) for site in inventory(tree))
    module_name, project_root = module_location(source.path, tree)
    return ParsedFile(source, functions, module_name, project_root), tree


@lru_cache(maxsize=4)
def libcst_module(parsed: ParsedFile) -> cst.Module:
    """The full-fidelity tree, built on demand and once per file (libcst is the
    expensive part of parsing); libcst trees are immutable, so sharing is safe."""
    import libcst as cst

    try:
        return cst.parse_module(parsed.source.text)
    except cst.ParserSyntaxError as error:
        message = f"{parsed.source.path}: libcst cannot parse this file: {error.message}"
        raise InputError(message) from error


def _function_info(site: DefSite, lines: list[str]) -> FunctionInfo:
    node = site.node
    arguments = node.args
    every = [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]
    if arguments.vararg:
        every.append(arguments.vararg)
    if arguments.kwarg:
        every.append(arguments.kwarg)
    start, end = span(node)
    return FunctionInfo(
        name=node.name,
        lineno=node.lineno,
        end_lineno=end,
        source="".join(lines[start - 1 : end]),
        params=tuple(a.arg for a in every),
        annotated_params=tuple(a.arg for a in every if a.annotation is not None),
        is_async=isinstance(node, ast.AsyncFunctionDef),
        is_generator=any(isinstance(n, ast.Yield | ast.YieldFrom) for n in _walk_own_body(node)),
        decorators=tuple(ast.unparse(d) for d in node.decorator_list),
        qualname=site.qualname,
        kind=site.kind,
        self_unused=self_unused(site),
    )


def _walk_own_body(node: ast.AST) -> list[ast.AST]:
    """Nodes of a function body, without descending into nested scopes."""
    found: list[ast.AST] = []
    stack = list(ast.iter_child_nodes(node))
    while stack:
        child = stack.pop()
        found.append(child)
        if not isinstance(
            child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda | ast.ClassDef
        ):
            stack.extend(ast.iter_child_nodes(child))
    return found


MAX_NAMESPACE_DEPTH = 4


def module_location(path: Path, tree: ast.Module | None = None) -> tuple[str, Path]:
    """The dotted module name and the dir to put on sys.path to import it.

    Packages are the dirs with an `__init__.py` above the file; above those, dirs
    without one are namespace packages when the module's own imports say so (`tree`,
    read from the file when not given):
    a relative import reaching that far up, or an absolute import of that dir's name.
    """
    path = path.resolve()
    parts = [path.stem]
    directory = path.parent
    while (directory / "__init__.py").is_file() and directory.parent != directory:
        parts.insert(0, directory.name)
        directory = directory.parent
    tree = tree if tree is not None else _tree_of(path)
    levels = _namespace_levels(tree, directory, len(parts) - 1, parts[0]) if tree else 0
    for _ in range(levels):
        parts.insert(0, directory.name)
        directory = directory.parent
    return ".".join(parts), directory


@lru_cache(maxsize=256)
def _tree_of(path: Path) -> ast.Module | None:
    """The module's tree, for callers that name a file without having parsed it (a trace's
    functions): the same file must get the same name everywhere."""
    try:
        return ast.parse(path.read_bytes(), filename=str(path))
    except (OSError, SyntaxError, ValueError):
        return None


def _namespace_levels(tree: ast.Module, directory: Path, package_depth: int, top: str) -> int:
    """How many dirs above `directory` are namespace packages the module lives in.

    An absolute import of `top` (the package the module is in, or the module itself)
    names that package, not a dir above it: a checkout named like its package
    (`sqlparse/sqlparse/...`) is a project root, not a namespace package."""
    reach, tops = 0, set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level:
            reach = max(reach, node.level)
        elif isinstance(node, ast.ImportFrom) and node.module:
            tops.add(node.module.split(".")[0])
        elif isinstance(node, ast.Import):
            tops.update(alias.name.split(".")[0] for alias in node.names)
    tops.discard(top)
    ancestors = [directory, *directory.parents][:MAX_NAMESPACE_DEPTH]
    levels = 0
    for count, ancestor in enumerate(ancestors, start=1):
        if not ancestor.name.isidentifier() or ancestor.parent == ancestor:
            break
        named = ancestor.name in tops and ancestor.name not in sys.stdlib_module_names
        if named or package_depth + count <= reach:
            levels = count
    return levels
