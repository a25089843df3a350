"""OPT108: memoize a pure, tree-recursive module-level function for the length of one call."""

from __future__ import annotations

import ast

import libcst as cst
import libcst.matchers as m

from passes import _ast_prefilter as pre
from passes._builtins import PURE
from passes._facts import FunctionFacts, FunctionPass
from passes._flow_types import proven_type
from passes._loop_shapes import enclosing_loops
from passes._names import builtin_available, variable_names
from passes._purity import (
    AST_FORBIDDEN,
    FORBIDDEN,
    KEY_TYPES,
    RESULT_TYPES,
    immutable_result,
    key_typed,
    pure_name,
)
from passes._splicing import code_of
from passes.base import Example


class MemoizePureRecursion(FunctionPass):
    """What it does:
        Memoizes a pure module-level function that calls itself more than once
        (tree recursion such as Fibonacci, binomial coefficients or edit
        distance): its body moves into an inner helper `_f` that looks each
        argument tuple up in a dict `memo` before computing it and stores every
        result it returns (`return memo.setdefault(key, value)`); `f` creates
        the dict and returns `_f(...)`. The memo lives for one call of `f` and is
        dropped when it returns, so it cannot grow without bound across calls.

    Why it is faster:
        Tree recursion recomputes the same sub-results exponentially often; with
        the memo every distinct argument tuple is computed once per call.

    Fix safety:
        The pass fires only when all of these are proven:
        - the function is module-level, undecorated, synchronous, not a generator,
          with plain parameters (no `*args`/`**kwargs`) all annotated `int`, `str`,
          `bool` or `bytes` (literal defaults only), and a return annotation of an
          immutable type (`int`, `str`, `bool`, `bytes`, `float`, `tuple[...]` of
          those), so a stored result can be shared;
        - it is pure: its body reads only its parameters, its own locals, itself
          and pure builtins (`len`, `min`, `max`, `abs`, `range`, ...); it has no
          attribute access, global/nonlocal, nested function or lambda, walrus,
          try/with, import or await, and it calls nothing but itself and those
          builtins, so no output, I/O or state can be skipped by a memo hit, and
          moving the body into a nested function changes what no name refers to;
        - every self-call passes provably int/str/bool/bytes values, so the key can
          always be hashed; the key also holds each argument's type, so `f(True)` and
          `f(1)` (equal and same hash) never share an entry;
        - it calls itself at least twice or inside a loop, so sub-results repeat.
        The memo is a plain dict rather than `functools.cache`: the C wrapper of
        `functools.cache` halves the recursion depth reachable before
        RecursionError on CPython 3.11, while the helper only adds one frame. The
        memo is never module-level, so no table outlives a call.
    """

    code = "OPT108"
    name = "memoize-pure-recursion"
    summary = "Memoize a pure, tree-recursive function with a cache that lives for one call."
    complexity_win = True
    triggers = ("return",)

    @classmethod
    def may_match_ast(cls, function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
        """The signature and body restrictions of `_eligible`, plus enough self-calls."""
        if not isinstance(function, ast.FunctionDef) or function.decorator_list:
            return False
        if not _ast_simple_signature(function.args, function.returns):
            return False
        if any(pre.has(function, kind) for kind in AST_FORBIDDEN):
            return False
        self_calls = 0
        for call in pre.nodes(function, ast.Call):
            assert isinstance(call, ast.Call)
            if not isinstance(call.func, ast.Name):
                return False
            if call.func.id == function.name:
                self_calls += 1
            elif call.func.id not in PURE:
                return False
        # A single self-call counts twice inside a loop.
        return self_calls >= 2 or (self_calls == 1 and pre.has(function, ast.For, ast.While))

    EXAMPLES = (
        Example(
            before="""\
def fib(n: int) -> int:
    if n < 2 or n > 20:
        return n
    return fib(n - 1) + fib(n - 2)
""",
            after="""\
def fib(n: int) -> int:
    memo: dict[tuple[object, ...], int] = {}

    def _fib(n: int) -> int:
        key = (n, type(n))
        if key in memo:
            return memo[key]
        if n < 2 or n > 20:
            return memo.setdefault(key, n)
        return memo.setdefault(key, _fib(n - 1) + _fib(n - 2))

    return _fib(n)
""",
        ),
        Example(
            before='''\
def choose(n: int, k: int) -> int:
    """Binomial coefficients; rows past 16 are cut off to keep the example fast."""
    if k < 0 or k > n:
        return 0
    if k == 0 or k == n or n > 16:
        return 1
    return choose(n - 1, k - 1) + choose(n - 1, k)
''',
            after='''\
def choose(n: int, k: int) -> int:
    """Binomial coefficients; rows past 16 are cut off to keep the example fast."""
    memo: dict[tuple[object, ...], int] = {}

    def _choose(n: int, k: int) -> int:
        key = (n, k, type(n), type(k))
        if key in memo:
            return memo[key]
        if k < 0 or k > n:
            return memo.setdefault(key, 0)
        if k == 0 or k == n or n > 16:
            return memo.setdefault(key, 1)
        return memo.setdefault(key, _choose(n - 1, k - 1) + _choose(n - 1, k))

    return _choose(n, k)
''',
        ),
        Example(
            before='''\
def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance: the fewest edits that turn `a` into `b`."""
    if not a or not b:
        return len(a) + len(b)
    if a[0] == b[0]:
        return edit_distance(a[1:], b[1:])
    delete = edit_distance(a[1:], b)
    insert = edit_distance(a, b[1:])
    replace = edit_distance(a[1:], b[1:])
    return 1 + min(delete, insert, replace)
''',
            after='''\
def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance: the fewest edits that turn `a` into `b`."""
    memo: dict[tuple[object, ...], int] = {}

    def _edit_distance(a: str, b: str) -> int:
        key = (a, b, type(a), type(b))
        if key in memo:
            return memo[key]
        if not a or not b:
            return memo.setdefault(key, len(a) + len(b))
        if a[0] == b[0]:
            return memo.setdefault(key, _edit_distance(a[1:], b[1:]))
        delete = _edit_distance(a[1:], b)
        insert = _edit_distance(a, b[1:])
        replace = _edit_distance(a[1:], b[1:])
        return memo.setdefault(key, 1 + min(delete, insert, replace))

    return _edit_distance(a, b)
''',
        ),
    )
    NON_EXAMPLES = (
        # It reads a module global, which may change between calls.
        """\
SCALE = 2


def scaled(n: int) -> int:
    if n < 2:
        return n * SCALE
    return scaled(n - 1) + scaled(n - 2)
""",
        # It prints: a cache hit would skip the output.
        """\
def noisy(n: int) -> int:
    print(n)
    if n < 2:
        return n
    return noisy(n - 1) + noisy(n - 2)
""",
        # A float parameter: -0.0 and 0.0 would share an entry.
        """\
def halves(x: float) -> int:
    if x < 1:
        return 0
    return halves(x / 2) + halves(x / 3)
""",
        # Linear recursion: nothing repeats within a call, so no memo is added.
        """\
def fact(n: int) -> int:
    return 1 if n <= 1 else n * fact(n - 1)
""",
        # Already decorated.
        """\
import functools


@functools.lru_cache(maxsize=None)
def tri(n: int) -> int:
    return n if n < 2 else tri(n - 1) + tri(n - 2)
""",
    )

    def finish_function(
        self, facts: FunctionFacts, original: cst.FunctionDef, updated: cst.FunctionDef
    ) -> cst.FunctionDef:
        if not updated.deep_equals(original) or not self._eligible(facts, original):
            return updated
        return _memoize(facts, original)

    def _eligible(self, facts: FunctionFacts, function: cst.FunctionDef) -> bool:
        module = self.module
        if module is None or not any(statement is function for statement in module.body):
            return False
        if function.decorators or function.asynchronous is not None:
            return False
        if not _simple_signature(function):
            return False
        name = function.name.value
        if not isinstance(function.body, cst.IndentedBlock):
            return False
        if not all(builtin_available(facts, b) for b in ("type", "dict", "tuple")):
            return False
        if m.findall(function.body, FORBIDDEN):
            return False
        self_calls = 0
        for call in m.findall(function.body, m.Call()):
            assert isinstance(call, cst.Call)
            func = call.func
            if not isinstance(func, cst.Name):
                return False
            if func.value == name:
                if not self._hashable_args(facts, call):
                    return False
                self_calls += 2 if enclosing_loops(facts, call) else 1
            elif func.value not in PURE or not facts.is_builtin(func, func.value):
                return False
        if self_calls < 2:
            return False
        return all(pure_name(facts, node, name) for node in variable_names(function.body))

    def _hashable_args(self, facts: FunctionFacts, call: cst.Call) -> bool:
        return all(not arg.star and proven_type(facts, arg.value) in KEY_TYPES for arg in call.args)



def _simple_signature(function: cst.FunctionDef) -> bool:
    if not key_typed(function.params):
        return False
    returns = function.returns.annotation if function.returns else None
    return immutable_result(returns)


def _memoize(facts: FunctionFacts, function: cst.FunctionDef) -> cst.FunctionDef:
    """`function` with its body moved into an inner helper that keeps a per-call memo."""
    assert isinstance(function.body, cst.IndentedBlock) and function.returns is not None
    name = function.name.value
    helper, memo, key = (facts.fresh_name(base) for base in (f"_{name}", "memo", "key"))
    params = function.params
    names = [p.name.value for p in (*params.posonly_params, *params.params, *params.kwonly_params)]
    result_type = code_of(function.returns.annotation)
    statements = list(function.body.body)
    docstring = statements[:1] if _is_docstring(statements[0]) else []
    body = [
        statement.visit(_Memoized(name, helper, memo, key))
        for statement in statements[len(docstring) :]
    ]
    key_tuple = ", ".join([*names, *(f"type({n})" for n in names)])
    lookup = [
        cst.parse_statement(f"{key} = ({key_tuple})\n"),
        cst.parse_statement(f"if {key} in {memo}:\n    return {memo}[{key}]\n"),
    ]
    inner = cst.parse_statement(f"def {helper}({_signature(params)}) -> {result_type}:\n    pass\n")
    assert isinstance(inner, cst.FunctionDef)
    block = function.body.with_changes(body=[*lookup, *body], header=cst.TrailingWhitespace())
    inner = inner.with_changes(body=block)
    arguments = [
        *(p.name.value for p in (*params.posonly_params, *params.params)),
        *(f"{p.name.value}={p.name.value}" for p in params.kwonly_params),
    ]
    outer = [
        *docstring,
        cst.parse_statement(f"{memo}: dict[tuple[object, ...], {result_type}] = {{}}\n"),
        inner.with_changes(leading_lines=[cst.EmptyLine(indent=False)]),
        cst.parse_statement(f"return {helper}({', '.join(arguments)})\n").with_changes(
            leading_lines=[cst.EmptyLine(indent=False)]
        ),
    ]
    # A comment below the last statement stays with it, in the helper (its footer).
    return function.with_changes(body=function.body.with_changes(body=outer, footer=()))


def _signature(params: cst.Parameters) -> str:
    """The parameters (annotations and literal defaults, no comments) as source text."""

    def one(param: cst.Param) -> str:
        assert param.annotation is not None
        text = f"{param.name.value}: {code_of(param.annotation.annotation)}"
        return f"{text} = {code_of(param.default)}" if param.default is not None else text

    parts = [one(p) for p in params.posonly_params]
    if parts:
        parts.append("/")
    parts += [one(p) for p in params.params]
    if params.kwonly_params:
        parts += ["*", *(one(p) for p in params.kwonly_params)]
    return ", ".join(parts)


def _is_docstring(statement: cst.BaseStatement) -> bool:
    return m.matches(
        statement,
        m.SimpleStatementLine(body=[m.Expr(value=m.SimpleString() | m.ConcatenatedString())]),
    )


class _Memoized(cst.CSTTransformer):
    """Self-calls go to the helper; every `return value` stores the value in the memo."""

    def __init__(self, name: str, helper: str, memo: str, key: str) -> None:
        super().__init__()
        self.name, self.helper, self.memo, self.key = name, helper, memo, key

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.Call:
        if m.matches(updated_node.func, m.Name(self.name)):
            return updated_node.with_changes(func=cst.Name(self.helper))
        return updated_node

    def leave_Return(self, original_node: cst.Return, updated_node: cst.Return) -> cst.Return:
        if updated_node.value is None:
            return updated_node
        store = cst.Call(
            func=cst.Attribute(cst.Name(self.memo), cst.Name("setdefault")),
            args=[
                cst.Arg(
                    cst.Name(self.key), comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
                ),
                cst.Arg(updated_node.value),
            ],
        )
        return updated_node.with_changes(value=store)


def _ast_simple_signature(args: ast.arguments, returns: ast.expr | None) -> bool:
    if args.vararg is not None or args.kwarg is not None:
        return False
    every = [*args.posonlyargs, *args.args, *args.kwonlyargs]
    if not every:
        return False
    if not all(
        isinstance(arg.annotation, ast.Name) and arg.annotation.id in KEY_TYPES for arg in every
    ):
        return False
    if isinstance(returns, ast.Name):
        return returns.id in RESULT_TYPES
    return isinstance(returns, ast.Subscript) and pre.is_name(returns.value, "tuple")
