"""OPT218: `struct.unpack(LITERAL, data)` inside a function uses a `struct.Struct`
built once at module level."""

from __future__ import annotations

import ast
import struct
import warnings
from collections.abc import Callable, Sequence

import libcst as cst
import libcst.matchers as m

from passes import _ast_prefilter as pre
from passes._facts import FunctionFacts
from passes._module_constants import ModuleConstant, ModuleConstantPass
from passes._splicing import Replacements, code_of, has_comment
from passes.base import Example

# The functions of `struct` that take the format first; a `Struct` has a method of the
# same name taking the rest of the arguments, or (calcsize) the attribute `size`.
# The number of arguments (the format included) each takes; only `pack` and
# `pack_into` take any number, so only they may be given `*values`.
ARITY = {
    "pack": range(1, 1 << 30),
    "pack_into": range(3, 1 << 30),
    "unpack": range(2, 3),
    "unpack_from": range(2, 4),
    "iter_unpack": range(2, 3),
    "calcsize": range(1, 2),
}
FUNCTIONS = frozenset(ARITY)


class PrecompileStruct(ModuleConstantPass):
    """What it does:
        Builds a `struct.Struct` for a literal format that a function passes to
        `struct.pack`, `pack_into`, `unpack`, `unpack_from`, `iter_unpack` or
        `calcsize` once, at module level (`_HEADER_STRUCT = struct.Struct("<HHI")`
        above the function), and calls its method instead:
        `struct.unpack("<HHI", data)` becomes `_HEADER_STRUCT.unpack(data)`, and
        `struct.calcsize("<HHI")` becomes `_HEADER_STRUCT.size`.

    Why it is faster:
        Each `struct.unpack(fmt, data)` call first looks `fmt` up in the module's
        cache of `Struct` objects (a dict lookup keyed on the format) before it
        unpacks; a parser that reads a record per call pays it for every record.
        The `Struct`'s own method skips the lookup. A modest, constant win.

    Fix safety:
        The pass fires only when all of these are proven:
        - `struct` in the function is the standard library module (qualified
          names), bound at module level by `import struct` (or `import struct as
          name`) and nowhere else, so the module-level `struct.Struct` is the same;
        - the format is a str or bytes literal that `struct.Struct` accepts now,
          so building it when the module is imported cannot fail where the
          original call would have failed later;
        - the format is the first, positional argument (without comments); every
          other argument (`*values` too) is passed on unchanged, in its order.
        Each `struct` function is documented as the `Struct` method of the same
        name on `Struct(format)` (CPython runs exactly that, through its cache),
        so results and errors are the same. `Struct` objects are immutable, and
        the cache already shares one between calls.

    Seen in:
        binary-format readers (fonts, archives, network packets) that unpack a
        fixed-layout record per call.
    """

    code = "OPT218"
    name = "precompile-struct"
    summary = "Build a struct.Struct for a literal format once, at module level."
    triggers = tuple(f".{function}(" for function in FUNCTIONS)

    @classmethod
    def may_match_ast(cls, function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
        """`<name>.<struct function>(<str or bytes literal>, ...)`."""
        for node in pre.nodes(function, ast.Call):
            assert isinstance(node, ast.Call)
            func = node.func
            if (
                isinstance(func, ast.Attribute)
                and func.attr in FUNCTIONS
                and isinstance(func.value, ast.Name)
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str | bytes)
            ):
                return True
        return False

    EXAMPLES = (
        Example(
            before='''\
import struct


def read_header(data: bytes) -> tuple[int, int, int]:
    if len(data) < struct.calcsize("<HHI"):
        return (0, 0, 0)
    return struct.unpack_from("<HHI", data)
''',
            after='''\
import struct


_READ_HEADER_STRUCT = struct.Struct("<HHI")


def read_header(data: bytes) -> tuple[int, int, int]:
    if len(data) < _READ_HEADER_STRUCT.size:
        return (0, 0, 0)
    return _READ_HEADER_STRUCT.unpack_from(data)
''',
        ),
        Example(
            before='''\
import struct


def encode(values: list[int]) -> bytes:
    return b"".join(struct.pack(">i", v & 0x7FFFFFFF) for v in values)
''',
            after='''\
import struct


_ENCODE_STRUCT = struct.Struct(">i")


def encode(values: list[int]) -> bytes:
    return b"".join(_ENCODE_STRUCT.pack(v & 0x7FFFFFFF) for v in values)
''',
        ),
    )
    NON_EXAMPLES = (
        # The format is built at run time.
        """\
import struct


def read(data: bytes, count: int) -> tuple[int, ...]:
    return struct.unpack(f"<{count}H", data)
""",
        # Not a valid format: the error must stay at call time.
        """\
import struct


def bad(data: bytes) -> tuple[int, ...]:
    return struct.unpack("<Q!", data)
""",
        # `struct` here is a parameter, not the standard library module.
        """\
def unpack(struct, data: bytes) -> object:
    return struct.unpack("<I", data)
""",
    )

    def hoist(
        self, facts: FunctionFacts, function: cst.FunctionDef
    ) -> tuple[Replacements, Sequence[ModuleConstant]]:
        replacements: Replacements = {}
        names: dict[str, str] = {}
        constants: list[ModuleConstant] = []
        base = f"_{function.name.value.strip('_').upper() or 'RECORD'}_STRUCT"
        for node in m.findall(function.body, m.Call(func=m.Attribute(value=m.Name()))):
            assert isinstance(node, cst.Call)
            func = node.func
            assert isinstance(func, cst.Attribute)
            fmt = _literal_format(node)
            if fmt is None or not _well_formed(node, func.attr.value):
                continue
            if not self.calls_module_function(facts, func, "struct"):
                continue
            key = code_of(fmt)
            constant = names.get(key)
            if constant is None:
                constant = self.constant_name(base)
                if constant is None:
                    break
                names[key] = constant
                struct_class = func.with_changes(attr=cst.Name("Struct"))
                constants.append(ModuleConstant(constant, cst.Call(struct_class, [cst.Arg(fmt)])))
            replacements[id(node)] = _calling(constant, func.attr.value)
        return replacements, constants


def _literal_format(call: cst.Call) -> cst.SimpleString | cst.ConcatenatedString | None:
    """The first argument, when it is a plain, uncommented literal format `Struct` accepts."""
    if not call.args:
        return None
    first = call.args[0]
    fmt = first.value
    if first.keyword is not None or first.star or has_comment(first):
        return None
    if not isinstance(fmt, cst.SimpleString | cst.ConcatenatedString):
        return None
    value = fmt.evaluated_value
    if not isinstance(value, str | bytes):
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            struct.Struct(value)
        except (struct.error, ValueError, TypeError, OverflowError, Warning):
            return None
    return fmt.with_changes(lpar=(), rpar=())


def _well_formed(call: cst.Call, function: str) -> bool:
    """A call the `Struct` method takes as the function does: a known function with a
    valid number of arguments, `*values` only where any number is taken."""
    arity = ARITY.get(function)
    if arity is None:
        return False
    if function != "unpack_from" and any(arg.keyword is not None for arg in call.args):
        return False  # positional-only: the wrong call's error message would differ
    if any(arg.star for arg in call.args):
        return function in {"pack", "pack_into"} and not any(arg.star == "**" for arg in call.args)
    return len(call.args) in arity


def _calling(constant: str, function: str) -> Callable[[cst.CSTNode], cst.CSTNode]:
    """`<constant>.<function>(<the other arguments>)`, or `<constant>.size`."""

    def replace(node: cst.CSTNode) -> cst.CSTNode:
        assert isinstance(node, cst.Call)
        if function == "calcsize":
            return cst.Attribute(
                value=cst.Name(constant), attr=cst.Name("size"), lpar=node.lpar, rpar=node.rpar
            )
        func = cst.Attribute(value=cst.Name(constant), attr=cst.Name(function))
        return node.with_changes(func=func, args=node.args[1:])

    return replace
