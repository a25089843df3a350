"""OPT217: `re.match(LITERAL, s)` inside a function uses a pattern compiled once at
module level."""

from __future__ import annotations

import ast
import re
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import libcst as cst
import libcst.matchers as m
from libcst.metadata import QualifiedNameProvider

from passes import _ast_prefilter as pre
from passes._facts import FunctionFacts
from passes._module_constants import ModuleConstant, ModuleConstantPass
from passes._splicing import Replacements, code_of, has_comment
from passes.base import Example

# The module-level functions of `re`, by the names of their parameters in order; the
# compiled pattern's method of the same name takes the same ones minus `pattern` and
# `flags` (`Pattern.sub(repl, string, count=0)`, `Pattern.split(string, maxsplit=0)`).
SIGNATURES: dict[str, tuple[str, ...]] = {
    "match": ("pattern", "string", "flags"),
    "search": ("pattern", "string", "flags"),
    "fullmatch": ("pattern", "string", "flags"),
    "findall": ("pattern", "string", "flags"),
    "finditer": ("pattern", "string", "flags"),
    "split": ("pattern", "string", "maxsplit", "flags"),
    "sub": ("pattern", "repl", "string", "count", "flags"),
    "subn": ("pattern", "repl", "string", "count", "flags"),
    "compile": ("pattern", "flags"),  # becomes the constant itself
}
REQUIRED = frozenset({"pattern", "string", "repl"})
# Flags a pattern may be compiled with at import time (re.DEBUG prints, on every call).
FLAGS = frozenset(
    {"A", "ASCII", "I", "IGNORECASE", "L", "LOCALE", "M", "MULTILINE", "S", "DOTALL"}
    | {"U", "UNICODE", "X", "VERBOSE", "NOFLAG"}
)


@dataclass(frozen=True)
class RegexCall:
    """A call `re.<method>(pattern, ...)` that can use a precompiled pattern."""

    call: cst.Call
    method: str
    pattern: cst.BaseExpression
    flags: cst.BaseExpression | None
    rest: tuple[cst.Arg, ...]  # the arguments the compiled pattern's method takes

    @property
    def key(self) -> tuple[str, str]:
        flags = code_of(self.flags) if self.flags is not None and _flag_value(self.flags) else ""
        return code_of(self.pattern), flags


class PrecompileRegex(ModuleConstantPass):
    """What it does:
        Compiles a literal pattern that a function passes to `re.match`, `search`,
        `fullmatch`, `findall`, `finditer`, `split`, `sub` or `subn` once, at
        module level (`_PARSE_RE = re.compile(r"...")` above the function), and
        calls the compiled pattern's method instead: `re.match(r"\\d+", s)`
        becomes `_PARSE_RE.match(s)`. Literal flags go to `re.compile`;
        `count`/`maxsplit` stay with `sub`/`subn`/`split`, positional or keyword as
        they were. A `re.compile(r"...")` in the function becomes the constant.

    Why it is faster:
        Each `re.match(pattern, s)` call first looks the pattern up in `re`'s
        cache of compiled patterns: a Python-level function call, argument
        parsing, a flags conversion and a dict lookup keyed on the pattern's
        type, text and flags. On short strings that costs as much as the match
        itself. The compiled pattern skips all of it. It is a modest, constant
        win: the cache already avoids recompiling.

    Fix safety:
        The pass fires only when all of these are proven:
        - `re` in the function is the standard library module (qualified names),
          bound at module level by `import re` (or `import re as name`) and nowhere
          else, so the module-level `re.compile` is the same function;
        - the pattern is a str or bytes literal (no f-string) and the flags, if
          any, are `re` flags (not DEBUG) combined with `|`, or an int literal;
          the pattern compiles with them now, without a warning, so compiling it
          when the module is imported can neither fail nor print where the
          original call would have done so later;
        - the arguments bind to the function's parameters exactly (pattern first
          and positional, no `*args`/`**kwargs`, no unknown keyword, the required
          ones present); the others are passed on in their order, and since the
          pattern and flags are literals, no argument is evaluated in a
          different order.
        `re.match(p, s)` is `re._compile(p, flags).match(s)`, and so on for each
        function, so the compiled pattern's methods give the same results and
        raise the same errors (a str pattern on bytes, a bad group in `repl`).
        A compiled pattern is immutable, and `re.compile` already hands every
        call the same cached object, so sharing one is what happens today. The
        pattern is compiled when the module is imported, also when the function
        is never called.

    Seen in:
        parsers and formatters that validate every field with
        `re.match(r"^-?\\d+$", value)` inside the function called per field.
    """

    code = "OPT217"
    name = "precompile-regex"
    summary = "Compile a literal regex once at module level instead of on every re.* call."
    triggers = tuple(f".{method}(" for method in SIGNATURES)

    @classmethod
    def may_match_ast(cls, function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
        """`<name>.<re function>(<str or bytes literal>, ...)`."""
        for node in pre.nodes(function, ast.Call):
            assert isinstance(node, ast.Call)
            func = node.func
            if (
                isinstance(func, ast.Attribute)
                and func.attr in SIGNATURES
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
import re


def is_integer(text: str) -> bool:
    return re.fullmatch(r"-?\\d+", text) is not None
''',
            after='''\
import re


_IS_INTEGER_RE = re.compile(r"-?\\d+")


def is_integer(text: str) -> bool:
    return _IS_INTEGER_RE.fullmatch(text) is not None
''',
        ),
        Example(
            before='''\
import re


def normalise(text: str) -> list[str]:
    text = re.sub(r"\\s+", " ", text, 2, re.IGNORECASE | re.ASCII)
    words = re.split("[,;] ?", text, maxsplit=3)
    return [w for w in words if re.search("^[a-z]", w, re.I)]
''',
            after='''\
import re


_NORMALISE_RE = re.compile(r"\\s+", re.IGNORECASE | re.ASCII)


_NORMALISE_RE_2 = re.compile("[,;] ?")


_NORMALISE_RE_3 = re.compile("^[a-z]", re.I)


def normalise(text: str) -> list[str]:
    text = _NORMALISE_RE.sub(" ", text, 2)
    words = _NORMALISE_RE_2.split(text, maxsplit=3)
    return [w for w in words if _NORMALISE_RE_3.search(w)]
''',
        ),
        Example(
            before='''\
import re as regex


def digits(data: bytes) -> int:
    found = regex.findall(rb"[0-9]", data, flags=regex.MULTILINE)
    return len(found) + len(regex.findall(rb"[0-9]", data, flags=regex.MULTILINE))
''',
            after='''\
import re as regex


_DIGITS_RE = regex.compile(rb"[0-9]", regex.MULTILINE)


def digits(data: bytes) -> int:
    found = _DIGITS_RE.findall(data)
    return len(found) + len(_DIGITS_RE.findall(data))
''',
        ),
        Example(
            before='''\
import re


def tokens(text: str) -> list[str]:
    word = re.compile(r"[A-Za-z]+")
    return word.findall(text)
''',
            after='''\
import re


_TOKENS_RE = re.compile(r"[A-Za-z]+")


def tokens(text: str) -> list[str]:
    word = _TOKENS_RE
    return word.findall(text)
''',
        ),
    )
    NON_EXAMPLES = (
        # The pattern is a parameter, not a literal.
        """\
import re


def matches(pattern: str, text: str) -> bool:
    return re.match(pattern, text) is not None
""",
        # `re` is a local object, not the standard library module.
        """\
def first(re, text: str) -> object:
    return re.match("a+", text)
""",
        # The pattern does not compile: the error must stay at call time.
        """\
import re


def broken(text: str) -> object:
    return re.search("(unclosed", text)
""",
        # `re` is imported inside the function: no module-level `re` to compile with.
        """\
def words(text: str) -> list[str]:
    import re

    return re.findall(r"\\w+", text)
""",
        # Flags from a variable are not known when the module is imported.
        """\
import re


def search(text: str, flags: int) -> object:
    return re.search("x", text, flags)
""",
    )

    def hoist(
        self, facts: FunctionFacts, function: cst.FunctionDef
    ) -> tuple[Replacements, Sequence[ModuleConstant]]:
        replacements: Replacements = {}
        names: dict[tuple[str, str], str] = {}
        constants: list[ModuleConstant] = []
        base = f"_{function.name.value.strip('_').upper() or 'PATTERN'}_RE"
        for node in m.findall(function.body, m.Call(func=m.Attribute(value=m.Name()))):
            assert isinstance(node, cst.Call)
            found = self._regex_call(facts, node)
            if found is None:
                continue
            constant = names.get(found.key)
            if constant is None:
                constant = self.constant_name(base)
                if constant is None:
                    break
                names[found.key] = constant
                constants.append(ModuleConstant(constant, _compile_call(found)))
            replacements[id(node)] = _calling(constant, found)
        return replacements, constants

    def _regex_call(self, facts: FunctionFacts, call: cst.Call) -> RegexCall | None:
        func = call.func
        assert isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name)
        method = func.attr.value
        if method not in SIGNATURES or not self.calls_module_function(facts, func, "re"):
            return None
        bound = _bind(call, SIGNATURES[method])
        if bound is None:
            return None
        pattern, flags, rest = bound
        if not self._literal_flags(func.value.value, flags) or not _compiles(pattern, flags):
            return None
        return RegexCall(call, method, pattern, flags, rest)

    def _literal_flags(self, receiver: str, flags: cst.BaseExpression | None) -> bool:
        """No flags, an int literal, or `re` flags (spelled through `receiver`, the same
        module-level import) combined with `|`."""
        if flags is None or isinstance(flags, cst.Integer):
            return True
        if isinstance(flags, cst.BinaryOperation) and isinstance(flags.operator, cst.BitOr):
            return self._literal_flags(receiver, flags.left) and self._literal_flags(
                receiver, flags.right
            )
        if not (
            isinstance(flags, cst.Attribute)
            and m.matches(flags.value, m.Name(receiver))
            and flags.attr.value in FLAGS
            and not flags.lpar
        ):
            return False
        names = self.get_metadata(QualifiedNameProvider, flags, set())
        return any(q.name == f"re.{flags.attr.value}" for q in names)


Pattern = cst.SimpleString | cst.ConcatenatedString


def _bind(
    call: cst.Call, parameters: tuple[str, ...]
) -> tuple[Pattern, cst.BaseExpression | None, tuple[cst.Arg, ...]] | None:
    """(pattern, flags, the other arguments) when the call's arguments bind to
    `parameters` exactly, the pattern first, positional and literal."""
    if any(arg.star for arg in call.args):
        return None
    positional = [arg for arg in call.args if arg.keyword is None]
    keywords = [arg for arg in call.args if arg.keyword is not None]
    if call.args and call.args[0].keyword is not None:
        return None
    if len(positional) > len(parameters):
        return None
    given = {name: arg for name, arg in zip(parameters, positional, strict=False)}
    for arg in keywords:
        assert arg.keyword is not None
        keyword = arg.keyword.value
        if keyword not in parameters or keyword in given or keyword == "pattern":
            return None
        given[keyword] = arg
    if not (REQUIRED & set(parameters)) <= set(given):
        return None
    pattern = given["pattern"].value
    if not isinstance(pattern, cst.SimpleString | cst.ConcatenatedString):
        return None
    flags_arg = given.get("flags")
    if any(has_comment(arg) for arg in (given["pattern"], flags_arg) if arg is not None):
        return None  # the arguments that move away take no comment with them
    rest = tuple(arg for arg in call.args if arg is not given["pattern"] and arg is not flags_arg)
    return pattern, (flags_arg.value if flags_arg is not None else None), rest


def _compiles(
    pattern: Pattern, flags: cst.BaseExpression | None
) -> bool:
    """The pattern compiles with the flags, here and now, without a warning."""
    value = pattern.evaluated_value
    flag_value = _flag_value(flags)
    if not isinstance(value, str | bytes) or flag_value is None:
        return False
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        re.purge()  # a pattern found in re's cache would not warn again
        try:
            re.compile(value, flag_value)
        except (re.error, ValueError, TypeError, OverflowError, RecursionError, Warning):
            return False
    return True


def _flag_value(flags: cst.BaseExpression | None) -> int | None:
    """The int value of literal flags (checked by `_literal_flags`)."""
    if flags is None:
        return 0
    if isinstance(flags, cst.Integer):
        return int(flags.evaluated_value)
    if isinstance(flags, cst.BinaryOperation):
        left, right = _flag_value(flags.left), _flag_value(flags.right)
        return None if left is None or right is None else left | right
    if isinstance(flags, cst.Attribute):
        value = getattr(re, flags.attr.value, None)
        return int(value) if isinstance(value, int) else None
    return None


def _compile_call(found: RegexCall) -> cst.Call:
    """`re.compile(pattern[, flags])`, spelled with the function's own `re` name."""
    func = found.call.func
    assert isinstance(func, cst.Attribute)
    args = [cst.Arg(found.pattern.with_changes(lpar=(), rpar=()))]
    if found.flags is not None and _flag_value(found.flags) != 0:
        args[0] = args[0].with_changes(
            comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
        )
        args.append(cst.Arg(found.flags))
    return cst.Call(func=func.with_changes(attr=cst.Name("compile")), args=args)


def _calling(constant: str, found: RegexCall) -> Callable[[cst.CSTNode], cst.CSTNode]:
    """`<constant>.<method>(<the other arguments>)`, keeping the call's layout."""

    def replace(node: cst.CSTNode) -> cst.CSTNode:
        assert isinstance(node, cst.Call)
        kept_ids = {id(arg) for arg in found.rest}
        originals = list(found.call.args)
        # `node` is the updated call: its args pair up with the original ones by position
        args = [new for old, new in zip(originals, node.args, strict=True) if id(old) in kept_ids]
        if args and args[-1] is not node.args[-1]:
            # the last argument went (flags): the new last one ends the call as it did
            last = node.args[-1]
            args[-1] = args[-1].with_changes(
                comma=last.comma, whitespace_after_arg=last.whitespace_after_arg
            )
        if found.method == "compile":
            return cst.Name(constant, lpar=node.lpar, rpar=node.rpar)
        func = cst.Attribute(value=cst.Name(constant), attr=cst.Name(found.method))
        return node.with_changes(func=func, args=args)

    return replace
