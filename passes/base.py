"""The contract every pass follows, modelled on Fixit rules and LibCST codemods.

A pass is one `OptimizationPass` subclass in its own module. It carries:

- `code`, `name` and `summary`: a stable identity for reports and `--select`;
- `triggers`: cheap substrings, one of which must appear in a function's source
  before the pass is worth a libcst parse (the scan prefilter);
- optionally `may_match_ast`: a cheap check on the function's stdlib `ast` node
  that narrows the prefilter further (the default keeps every function);
- `EXAMPLES` (before/after module sources) and `NON_EXAMPLES` (sources the pass
  must leave unchanged), which the test suite expands into transform tests,
  equivalence checks and micro-benchmarks;
- precondition code that declines whenever a fact it needs is unknown.

Comments are data: a pass keeps every comment of the code it rewrites. When the
line a comment stood on goes away, the comment moves above the nearest
surviving statement; a rewrite that cannot keep a comment is not made.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar

import libcst as cst
from libcst.codemod import CodemodContext, SkipFile, VisitorBasedCodemodCommand
from libcst.metadata import ParentNodeProvider, QualifiedNameProvider, ScopeProvider


@dataclass(frozen=True)
class CallProfile:
    """What a trace saw of a function's calls, for passes only a profile can justify."""

    calls: int  # calls in the traced run(s)
    recorded: int  # calls kept in the sample (a uniform one, outermost calls first)
    distinct: int  # distinct argument tuples among the kept calls
    seconds_per_call: float = 0.0  # the function's total time over its calls, tracer included


# Where a pass finds the profiles of the module's functions: CodemodContext.scratch.
PROFILES_KEY = "optimize.call_profiles"
# Where it finds, per method (qualname), the types a trace saw its instance's attributes
# hold in every recorded call: attribute name -> annotation text ("items" -> "list[str]").
ATTRIBUTE_TYPES_KEY = "optimize.attribute_types"


@dataclass(frozen=True)
class Example:
    """A module before and after the pass; its first function is the one to verify.

    `profiles` (function name -> CallProfile) stand for a trace, for passes that need one."""

    before: str
    after: str
    profiles: Mapping[str, CallProfile] = field(default_factory=dict)


class OptimizationPass(VisitorBasedCodemodCommand):
    code: ClassVar[str]
    name: ClassVar[str]
    summary: ClassVar[str]
    triggers: ClassVar[tuple[str, ...]]
    complexity_win: ClassVar[bool] = False
    """True when the pass changes the asymptotic cost (O(n²)→O(n), O(n)→O(1),
    exponential→polynomial), so its speedup on non-trivial inputs does not need a
    stopwatch to be believed: `--fast` accepts it on proof of equivalence alone.
    Constant-factor passes keep False and are always timed."""
    EXAMPLES: ClassVar[tuple[Example, ...]]
    NON_EXAMPLES: ClassVar[tuple[str, ...]]

    METADATA_DEPENDENCIES = (ScopeProvider, QualifiedNameProvider, ParentNodeProvider)

    @classmethod
    def may_apply(cls, source: str) -> bool:
        """Cheap text check: can this pass possibly match somewhere in `source`?"""
        return any(trigger in source for trigger in cls.triggers)

    @classmethod
    def may_match_ast(cls, function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
        """Optional cheap check on a function's stdlib `ast` node, run after `may_apply`.

        Return False only when the pass certainly cannot match this function: the
        scan then skips its libcst parse. The default cannot rule anything out.
        """
        return True

    def profile_of(self, qualname: str) -> CallProfile | None:
        """What a trace saw of the function `qualname`'s calls, if there was a trace."""
        profiles: Mapping[str, CallProfile] = self.context.scratch.get(PROFILES_KEY, {})
        return profiles.get(qualname)

    @classmethod
    def documentation(cls) -> str:
        return f"{cls.code} {cls.name}\n\n{(cls.__doc__ or '').strip()}\n"


def apply_pass(
    pass_class: type[OptimizationPass],
    module: cst.Module,
    profiles: Mapping[str, CallProfile] | None = None,
) -> cst.Module:
    """Run one pass over a module; the module is returned unchanged when it declines."""
    try:
        context = CodemodContext(scratch={PROFILES_KEY: profiles or {}})
        return pass_class(context).transform_module(module)
    except SkipFile:
        return module


def first_function(source: str) -> str:
    """The name of the first module-level function: the one an Example is about."""
    return next(iter(module_functions(cst.parse_module(source))))


def module_functions(module: cst.Module) -> dict[str, cst.FunctionDef]:
    return {s.name.value: s for s in module.body if isinstance(s, cst.FunctionDef)}


def comment_counts(source: str) -> Counter[str]:
    """Every comment of `source` (trailing whitespace ignored), with how often it occurs."""
    found: Counter[str] = Counter()
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            found[token.string.rstrip()] += 1
    return found


# Comments that tools read as instructions about the line they are on (or, for
# `# fmt: off` and the like on a line of their own, about the lines that follow).
PRAGMA = re.compile(
    r"#\s*(noqa\b|type:\s*ignore\b|pragma:|fmt:|pylint:|pyright:|mypy:|nosec\b|isort:)"
)


def pragma_placements(source: str) -> Counter[tuple[str, bool]]:
    """Every pragma comment of `source` with whether it trails code (True) or stands on
    a line of its own, with how often it occurs."""
    found: Counter[tuple[str, bool]] = Counter()
    code_on_line = 0  # the last line that holds a token of code
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            if PRAGMA.search(token.string):
                found[token.string.rstrip(), code_on_line == token.start[0]] += 1
        elif token.type not in (tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT):
            code_on_line = token.end[0]
    return found


def moved_pragma(original: str, rewritten: str) -> str | None:
    """A pragma comment that trails a line of code in `original` but stands on a line of
    its own in `rewritten` (or the other way round): it no longer governs the line it
    was written for (`# noqa` above a statement silences nothing)."""
    before, after = pragma_placements(original), pragma_placements(rewritten)
    moved = before - after
    return next(iter(moved))[0] if moved else None
