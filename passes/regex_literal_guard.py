"""OPT221: skip a regex call on a string that lacks a character every match needs."""

from __future__ import annotations

import ast
import re
import warnings
from collections.abc import Sequence

import libcst as cst
from libcst.metadata import Assignment, QualifiedNameProvider, QualifiedNameSource

from passes import _ast_prefilter as pre
from passes._facts import FunctionFacts, FunctionPass
from passes._flow_types import proven_type
from passes._names import resolves_locally
from passes._regex import rarest, required_characters, str_literal
from passes._splicing import code_of
from passes.base import Example

# What each method of a compiled str pattern returns, for a str `s`, when the pattern
# matches nowhere in it (`{s}` stands for the subject), and how many positional
# arguments the compiled pattern's method gets: the replacement and `s`, or `s`.
NO_MATCH: dict[str, tuple[str, int]] = {
    "sub": ("{s}", 2),
    "subn": ("({s}, 0)", 2),
    "search": ("None", 1),
    "match": ("None", 1),
    "fullmatch": ("None", 1),
    "findall": ("[]", 1),
    "split": ("[{s}]", 1),
}
# `re` flags a pattern may carry: none that folds case (IGNORECASE, LOCALE) or prints
# (DEBUG).
FLAGS = frozenset({"A", "ASCII", "M", "MULTILINE", "S", "DOTALL", "U", "UNICODE"}) | frozenset(
    {"X", "VERBOSE", "NOFLAG"}
)
# Module-level string constants a pattern is built from are followed this many names deep.
MAX_DEPTH = 8
# Parents under which an `x if c else y` needs no parentheses.
BARE_CONTEXTS = (cst.Return, cst.Assign, cst.AnnAssign, cst.Arg)


class RegexLiteralGuard(FunctionPass):
    """What it does:
        Puts a membership test in front of a regex call on a str, for a pattern
        whose every match contains a certain character: with `_ANSI =
        re.compile(r"\\x1b\\[[0-9;]*m")` at module level, `_ANSI.sub("", s)`
        becomes `(_ANSI.sub("", s) if "\\x1b" in s else s)`. Without the
        character the call's answer is known: `sub` gives `s`, `subn` `(s, 0)`,
        `search`/`match`/`fullmatch` `None`, `findall` `[]`, `split` `[s]`. The
        pattern is a module-level `NAME = re.compile(...)` or the literal of a
        `re.sub(r"...", ...)`-style call.

    Why it is faster:
        Regexes that strip or find escape codes, markup or separators run on
        every cell, token or line, and most of them contain none: the call then
        does its method dispatch, argument parsing, state set-up (for `sub` with
        a backslash in the replacement, a Python-level template lookup) and a
        scan, all to return its input. `c in s` is one C-level search of a
        one-character needle.

    Fix safety:
        The pass fires only when all of these are proven:
        - the pattern is a str literal, or a module-level name bound once, to
          `re.compile(<str>[, <flags>])` with `re` the standard library module,
          whose text is literals, f-strings and `+` of module-level names each
          bound once to such strings; the name is private (`_ANSI`): a public
          one may be reassigned from outside the module;
        - the flags are literal `re` flags that fold no case (no IGNORECASE or
          LOCALE, nor an inline `(?i)`);
        - the standard library's parser of the pattern proves every match
          contains the guard character: a literal outside any optional part,
          or in every alternative of a `|`; anything else (classes, repeats
          that may run zero times, look-arounds, conditionals) proves nothing;
        - the subject is a plain name of the function's own scope, proven a
          `str` (annotated, or observed in every recorded call), so the test
          reads it, with no side effect, and a pattern that cannot match gives
          the answers above; the only other argument, a replacement, is a str
          literal that is a valid template for the pattern (an invalid one
          raises even when nothing matches), and there is no `count`,
          `maxsplit` or `pos`.
        A `str` subclass would get itself back instead of an equal plain `str`,
        and its own `__contains__` would be called: the pass relies on the
        annotation meaning `str`. A call made while the module is still being
        imported, above the pattern's own line, would return where it raised
        `NameError`.

    Seen in:
        tabulate's `_strip_ansi` (`_ansi_codes.sub(r"\\4", s)` on every cell,
        where only "\\x1b" can start a match); escape-sequence and markup
        scanners in wcwidth, mistune and chardet make the same bet by hand.
    """

    code = "OPT221"
    name = "regex-literal-guard"
    summary = "Skip a regex call when the string lacks a character every match needs."
    triggers = tuple(f".{method}(" for method in NO_MATCH)

    @classmethod
    def may_match_ast(cls, function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
        """`<name>.<method>(..., <name>)` with only positional arguments."""
        for node in pre.nodes(function, ast.Call):
            assert isinstance(node, ast.Call)
            func = node.func
            if (
                isinstance(func, ast.Attribute)
                and func.attr in NO_MATCH
                and isinstance(func.value, ast.Name)
                and not node.keywords
                and node.args
                and isinstance(node.args[-1], ast.Name)
            ):
                return True
        return False

    EXAMPLES = (
        Example(
            before='''\
import re

_ANSI_CODES = re.compile(r"\\x1b\\[[0-9;]*m|\\x1b\\]8;;([^\\x1b]*)\\x1b\\\\")


def strip_ansi(s: str) -> str:
    return _ANSI_CODES.sub(r"\\1", s)
''',
            after='''\
import re

_ANSI_CODES = re.compile(r"\\x1b\\[[0-9;]*m|\\x1b\\]8;;([^\\x1b]*)\\x1b\\\\")


def strip_ansi(s: str) -> str:
    return _ANSI_CODES.sub(r"\\1", s) if "\\x1b" in s else s
''',
        ),
        Example(
            before='''\
import re

_ESC = r"\\x1b"
_CSI = rf"{_ESC}\\["
_CODES = re.compile(
    rf"""
    {_CSI} [0-9;]*  m     # colours
  | {_ESC} \\] 8 ; ; .*? {_ESC} \\\\   # links
    """,
    re.VERBOSE,
)


def has_codes(text: str) -> bool:
    found = _CODES.search(text)
    return found is not None and len(_CODES.findall(text)) > 0
''',
            after='''\
import re

_ESC = r"\\x1b"
_CSI = rf"{_ESC}\\["
_CODES = re.compile(
    rf"""
    {_CSI} [0-9;]*  m     # colours
  | {_ESC} \\] 8 ; ; .*? {_ESC} \\\\   # links
    """,
    re.VERBOSE,
)


def has_codes(text: str) -> bool:
    found = _CODES.search(text) if "\\x1b" in text else None
    return found is not None and len(_CODES.findall(text) if "\\x1b" in text else []) > 0
''',
        ),
        Example(
            before='''\
import re


def fields(line: str) -> list[str]:
    parts = re.split(r"\\s*;\\s*", line)
    return parts + re.findall("<([a-z]+)>", line)
''',
            after='''\
import re


def fields(line: str) -> list[str]:
    parts = re.split(r"\\s*;\\s*", line) if ";" in line else [line]
    return parts + (re.findall("<([a-z]+)>", line) if "<" in line else [])
''',
        ),
    )
    NON_EXAMPLES = (
        # Case-insensitive: "k" also matches KELVIN SIGN, so no character is required.
        """\
import re

_KEYWORD = re.compile("key", re.IGNORECASE)


def has_key(text: str) -> bool:
    return _KEYWORD.search(text) is not None
""",
        # Every character of the pattern is optional or a class: nothing is required.
        """\
import re

_NUMBER = re.compile(r"-?[0-9]+")


def first_number(text: str) -> object:
    return _NUMBER.search(text)
""",
        # The subject is not proven a str (bytes, or an object with its own `in`).
        """\
import re

_TAG = re.compile("<b>")


def strip_tags(text):
    return _TAG.sub("", text)
""",
        # A public pattern may be replaced from outside the module.
        """\
import re

TAG = re.compile("<b>")


def strip_tags(text: str) -> str:
    return TAG.sub("", text)
""",
        # The pattern is rebound: which one runs is not known.
        """\
import re

_TAG = re.compile("<b>")


def use_italics() -> None:
    global _TAG
    _TAG = re.compile("<i>")


def strip_tags(text: str) -> str:
    return _TAG.sub("", text)
""",
        # An invalid replacement raises even when nothing matches; a `count` is left alone.
        """\
import re


def strip(text: str) -> str:
    text = re.sub("<b>", r"\\1", text)
    return re.sub("<i>", "", text, 1)
""",
    )

    def leave_Call(
        self, original_node: cst.Call, updated_node: cst.Call
    ) -> cst.BaseExpression:
        facts = self.facts_for(original_node)
        func = original_node.func
        if facts is None or not isinstance(func, cst.Attribute) or func.attr.value not in NO_MATCH:
            return updated_node
        parent = facts.parent(original_node)
        if isinstance(parent, cst.IfExp) and parent.body is original_node:
            return updated_node  # guarded already (the passes run to a fixed point)
        absent, arity = NO_MATCH[func.attr.value]
        args = original_node.args
        if any(arg.keyword is not None or arg.star for arg in args):
            return updated_node
        found = self._pattern(facts, func, args, arity)
        if found is None:
            return updated_node
        (pattern, flags), rest = found
        subject = rest[-1].value
        if not isinstance(subject, cst.Name) or proven_type(facts, subject) != "str":
            return updated_node
        if arity == 2 and not _valid_replacement(rest[0].value, pattern, flags):
            return updated_node
        guard = rarest(required_characters(pattern, flags))
        if guard is None:
            return updated_node
        return _guarded(updated_node, guard, subject.value, absent, parent)

    def _pattern(
        self, facts: FunctionFacts, func: cst.Attribute, args: Sequence[cst.Arg], arity: int
    ) -> tuple[tuple[str, int], Sequence[cst.Arg]] | None:
        """(pattern text and flags, the arguments the compiled method gets), for
        `<pattern>.<method>(...)` or `re.<method>(<str literal>, ...)`."""
        receiver = func.value
        if not isinstance(receiver, cst.Name) or resolves_locally(facts, receiver) is not False:
            return None
        if len(args) == arity:
            compiled = self._compiled_pattern(facts, receiver.value)
            return (compiled, args) if compiled is not None else None
        if len(args) != arity + 1 or not self._is_re(func, func.attr.value):
            return None
        literal = _str_value(args[0].value)
        return ((literal, 0), args[1:]) if literal is not None else None

    def _compiled_pattern(self, facts: FunctionFacts, name: str) -> tuple[str, int] | None:
        """The text and flags of a private module-level `name = re.compile(...)`."""
        if not name.startswith("_"):
            return None
        value = self._module_value(facts, name)
        if not isinstance(value, cst.Call) or not self._is_re(value.func, "compile"):
            return None
        if not 1 <= len(value.args) <= 2 or any(a.keyword or a.star for a in value.args):
            return None
        pattern = self._string_constant(facts, value.args[0].value, MAX_DEPTH)
        flags = self._flags(value.args[1].value) if len(value.args) == 2 else 0
        if pattern is None or flags is None:
            return None
        return pattern, flags

    def _module_value(self, facts: FunctionFacts, name: str) -> cst.BaseExpression | None:
        """The value of the module's only binding of `name`, a plain `name = value`."""
        if facts.scope is None:
            return None
        bindings = list(facts.scope.globals.assignments[name])
        if len(bindings) != 1 or not isinstance(bindings[0], Assignment):
            return None
        target = bindings[0].node
        assign = facts.parent(facts.parent(target) or target)
        if not (
            isinstance(assign, cst.Assign)
            and len(assign.targets) == 1
            and assign.targets[0].target is target
            and isinstance(facts.parent(facts.parent(assign) or assign), cst.Module)
        ):
            return None
        return assign.value

    def _string_constant(
        self, facts: FunctionFacts, expr: cst.BaseExpression, depth: int
    ) -> str | None:
        """The str a module-level expression built of string literals, f-strings and `+`
        of module-level names bound once to such expressions evaluates to."""
        if depth <= 0:
            return None
        if isinstance(expr, cst.Name):
            value = self._module_value(facts, expr.value)
            return None if value is None else self._string_constant(facts, value, depth - 1)
        if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.Add):
            left = self._string_constant(facts, expr.left, depth)
            right = self._string_constant(facts, expr.right, depth)
            return None if left is None or right is None else left + right
        if isinstance(expr, cst.ConcatenatedString):
            left = self._string_constant(facts, expr.left, depth)
            right = self._string_constant(facts, expr.right, depth)
            return None if left is None or right is None else left + right
        if isinstance(expr, cst.FormattedString):
            return self._formatted(facts, expr, depth)
        return _str_value(expr)

    def _formatted(
        self, facts: FunctionFacts, string: cst.FormattedString, depth: int
    ) -> str | None:
        """An f-string whose fields are bare names of string constants, evaluated by
        Python itself with only those names (and no builtins) in reach."""
        values: dict[str, str] = {}
        for part in string.parts:
            if isinstance(part, cst.FormattedStringText):
                continue
            assert isinstance(part, cst.FormattedStringExpression)
            field = part.expression
            if part.conversion or part.format_spec or part.equal or not isinstance(field, cst.Name):
                return None
            value = self._string_constant(facts, field, depth - 1)
            if value is None:
                return None
            values[field.value] = value
        code = compile(code_of(string), "<pattern>", "eval")
        try:
            result = eval(code, {"__builtins__": {}}, values)
        except (SyntaxError, ValueError, NameError):
            return None
        return result if isinstance(result, str) else None

    def _flags(self, expr: cst.BaseExpression) -> int | None:
        """The value of literal `re` flags (`re.X | re.M`), when none folds case."""
        if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.BitOr):
            left, right = self._flags(expr.left), self._flags(expr.right)
            return None if left is None or right is None else left | right
        if not isinstance(expr, cst.Attribute) or expr.attr.value not in FLAGS:
            return None
        value = getattr(re, expr.attr.value, None)  # NOFLAG is new in 3.11
        if value is None or not self._is_re(expr, expr.attr.value):
            return None
        return int(value)

    def _is_re(self, node: cst.BaseExpression, attribute: str) -> bool:
        """`node` is `<re module>.<attribute>`, `re` imported from the standard library."""
        names = self.get_metadata(QualifiedNameProvider, node, set())
        return isinstance(node, cst.Attribute) and any(
            q.name == f"re.{attribute}" and q.source == QualifiedNameSource.IMPORT for q in names
        )


def _str_value(expr: cst.BaseExpression) -> str | None:
    if isinstance(expr, cst.SimpleString | cst.ConcatenatedString):
        value = expr.evaluated_value
        return value if isinstance(value, str) else None
    return None


def _valid_replacement(expr: cst.BaseExpression, pattern: str, flags: int) -> bool:
    """A str literal that `sub` accepts as a template for the pattern, here and now."""
    replacement = _str_value(expr)
    if replacement is None:
        return False
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            re.compile(pattern, flags).sub(replacement, "")
        except (re.error, ValueError, TypeError, OverflowError, RecursionError, Warning):
            return False
    return True


def _guarded(
    call: cst.Call, guard: str, subject: str, absent: str, parent: cst.CSTNode | None
) -> cst.BaseExpression:
    """`<call> if <guard> in <subject> else <absent>`, in parentheses unless it stands
    alone (a return value, an assigned value, an argument)."""
    test = cst.parse_expression(f"{str_literal(guard)} in {subject}")
    choice = cst.IfExp(
        test=test,
        body=call.with_changes(lpar=(), rpar=()),
        orelse=cst.parse_expression(absent.format(s=subject)),
    )
    if isinstance(parent, BARE_CONTEXTS) and not call.lpar:
        return choice
    return choice.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
