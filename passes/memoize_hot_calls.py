"""OPT116: memoize a pure function that a trace saw called often with few distinct arguments."""

from __future__ import annotations

import ast

import libcst as cst
import libcst.matchers as m
from libcst.codemod.visitors import AddImportsVisitor

from passes import _ast_prefilter as pre
from passes._builtins import PURE
from passes._facts import FunctionFacts, FunctionPass
from passes._flow_types import proven_type
from passes._names import variable_names
from passes._purity import (
    AST_FORBIDDEN,
    FORBIDDEN,
    KEY_TYPES,
    RESULT_TYPES,
    immutable_result,
    key_typed,
    pure_name,
)
from passes.base import CallProfile, Example

MIN_CALLS = 1_000  # fewer calls than this cannot repay the cache's own cost in a run
MIN_RECORDED = 16  # a smaller sample says too little about how often arguments repeat
REPEATS = 4  # the sample must hold at most one distinct argument tuple per 4 calls
# A cache hit costs about half a microsecond: a body much cheaper gains nothing from it.
MIN_SECONDS_PER_CALL = 5e-6
CACHE_ENTRIES = 1_024
DECORATOR = f"functools.lru_cache(maxsize={CACHE_ENTRIES}, typed=True)"


class MemoizeHotCalls(FunctionPass):
    """What it does:
        Decorates a pure module-level function with
        `@functools.lru_cache(maxsize=1024, typed=True)` when a trace (`optimize
        trace`) saw it called at least 1,000 times, taking 5 µs or more per call, and
        its uniform sample of real calls holds at most one distinct argument tuple per
        four calls.

    Why it is faster:
        A call whose arguments were seen before returns the stored result with one
        dict lookup instead of running the body again. Only a profile can say that
        real calls repeat their arguments; the code alone never does.

    Fix safety:
        The pass fires only when all of these are proven:
        - the function is module-level, undecorated, synchronous, not a generator
          and not recursive (OPT108 memoizes recursion within one call), with plain
          parameters (no `*args`/`**kwargs`) all typed `int`, `str`, `bool` or
          `bytes` (annotated, or observed so in every recorded call), with literal
          defaults: equal keys are interchangeable values (not so for float:
          `-0.0 == 0.0`), and `typed=True` keeps `f(1)` and `f(True)` apart;
        - every value it returns is provably an `int`, `str`, `bool`, `bytes` or
          `float` (from its return annotation or the returned expressions), so a
          shared result cannot be mutated by one caller under another;
        - it is pure: its body reads only its parameters, its own locals and pure
          builtins (never a module global, which may change between calls); it has
          no attribute access, global/nonlocal, nested function or lambda, walrus,
          try/with, import or await, and calls only pure builtins, so a cache hit
          skips no output, I/O or state change;
        - `functools` is not bound to anything else in the module.
        Exceptions are not cached: an argument that raises raises again. The cache
        is bounded: 1,024 entries hold many times the few distinct values the trace
        saw repeat, while capping its memory for an input stream that drifts
        (least recently used entries go first).
        Timing repeats each recorded call, so it measures cache hits; the share of
        distinct calls in the trace's sample says how often a real call misses.
        Seen in: small classifiers and formatters called per row or per token with
        the same few values (a band per weight, a code per unit name).
    """

    code = "OPT116"
    name = "memoize-hot-pure-function"
    summary = "Cache a pure function that a trace saw called often with few distinct arguments."
    triggers = ("return",)

    @classmethod
    def may_match_ast(cls, function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
        """An undecorated function with key-typed parameters whose body calls only pure
        builtins and has none of the forbidden constructs."""
        if not isinstance(function, ast.FunctionDef) or function.decorator_list:
            return False
        arguments = function.args
        if arguments.vararg is not None or arguments.kwarg is not None:
            return False
        every = [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]
        if not every or not all(
            isinstance(a.annotation, ast.Name) and a.annotation.id in KEY_TYPES for a in every
        ):
            return False
        if any(pre.has(function, kind) for kind in AST_FORBIDDEN):
            return False
        return all(
            isinstance(call, ast.Call)
            and isinstance(call.func, ast.Name)
            and call.func.id in PURE
            for call in pre.nodes(function, ast.Call)
        )

    EXAMPLES = (
        Example(
            before="""\
def checksum(code: str) -> int:
    total = 0
    for index, char in enumerate(code):
        step = ord(char) * (index + 1)
        total = total * 31 + step
        total %= 1_000_003
    return total
""",
            after="""\
import functools

@functools.lru_cache(maxsize=1024, typed=True)
def checksum(code: str) -> int:
    total = 0
    for index, char in enumerate(code):
        step = ord(char) * (index + 1)
        total = total * 31 + step
        total %= 1_000_003
    return total
""",
            profiles={"checksum": CallProfile(120_000, 32, distinct=5, seconds_per_call=4e-5)},
        ),
        Example(
            before="""\
def band(n: int, fast: bool = False):
    steps = 0
    limit = 1
    while limit < n:
        limit *= 2
        steps += 1
    if fast:
        return "express-" + str(steps)
    return "standard-" + str(steps)
""",
            after="""\
import functools

@functools.lru_cache(maxsize=1024, typed=True)
def band(n: int, fast: bool = False):
    steps = 0
    limit = 1
    while limit < n:
        limit *= 2
        steps += 1
    if fast:
        return "express-" + str(steps)
    return "standard-" + str(steps)
""",
            profiles={"band": CallProfile(40_000, 32, distinct=8, seconds_per_call=2e-5)},
        ),
    )
    NON_EXAMPLES = (
        # It reads a module global, which may change between calls.
        """\
RATE = 3


def scaled(n: int) -> int:
    return n * RATE
""",
        # It returns a list: one caller could mutate what another gets.
        """\
def digits(n: int) -> list[int]:
    return [int(c) for c in str(n)]
""",
        # A float parameter: -0.0 and 0.0 would share an entry.
        """\
def half(x: float) -> float:
    return x / 2
""",
        # It prints: a cache hit would skip the output.
        """\
def shout(word: str) -> str:
    print(word)
    return word + "!"
""",
    )

    def finish_function(
        self, facts: FunctionFacts, original: cst.FunctionDef, updated: cst.FunctionDef
    ) -> cst.FunctionDef:
        if not updated.deep_equals(original) or not self._eligible(facts, original):
            return updated
        AddImportsVisitor.add_needed_import(self.context, "functools")
        decorator = cst.Decorator(cst.parse_expression(DECORATOR))
        return original.with_changes(decorators=[decorator])

    def _eligible(self, facts: FunctionFacts, function: cst.FunctionDef) -> bool:
        module = self.module
        if module is None or not any(statement is function for statement in module.body):
            return False
        if not _repeats(self.profile_of(function.name.value)):
            return False
        if function.decorators or function.asynchronous is not None:
            return False
        if not isinstance(function.body, cst.IndentedBlock) or m.findall(function.body, FORBIDDEN):
            return False
        if not key_typed(function.params) or _binds_functools(module):
            return False
        name = function.name.value
        for call in m.findall(function.body, m.Call()):
            assert isinstance(call, cst.Call)
            func = call.func
            if not isinstance(func, cst.Name) or func.value == name:
                return False
            if func.value not in PURE or not facts.is_builtin(func, func.value):
                return False
        if not all(pure_name(facts, node, name) for node in variable_names(function.body)):
            return False
        return _immutable_results(facts, function)


def _repeats(profile: CallProfile | None) -> bool:
    """The trace saw many calls, and its sample shows their arguments repeating."""
    if profile is None or profile.calls < MIN_CALLS or profile.recorded < MIN_RECORDED:
        return False
    if profile.seconds_per_call < MIN_SECONDS_PER_CALL:
        return False
    return 0 < profile.distinct * REPEATS <= profile.recorded


def _immutable_results(facts: FunctionFacts, function: cst.FunctionDef) -> bool:
    """Every return gives a builtin immutable value: by the annotation, or each value's
    proven type. A function that can end without `return` gives None, immutable too."""
    if function.returns is not None:
        return immutable_result(function.returns.annotation)
    returns = m.findall(function.body, m.Return())
    return bool(returns) and all(
        isinstance(r, cst.Return)
        and r.value is not None
        and proven_type(facts, r.value) in RESULT_TYPES
        for r in returns
    )


def _binds_functools(module: cst.Module) -> bool:
    """`functools` names something other than the module (the decorator would break)."""
    imports_it = m.SimpleStatementLine(body=[m.Import(names=[m.ImportAlias(m.Name("functools"))])])
    mentions = m.findall(module, m.Name("functools"))
    imported = [s for s in module.body if m.matches(s, imports_it)]
    return len(mentions) > len(imported)
