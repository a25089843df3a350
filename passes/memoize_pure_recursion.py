"""OPT108: memoize a pure, tree-recursive module-level function."""

from __future__ import annotations

import ast

import libcst as cst
import libcst.matchers as m

from passes import _ast_prefilter as pre
from passes._builtins import PURE
from passes._facts import FunctionFacts, FunctionPass
from passes._flow_types import proven_type
from passes._loop_shapes import enclosing_loops
from passes._names import builtin_available, resolves_locally, variable_names
from passes._splicing import code_of
from passes._values import constant_type
from passes.base import Example

KEY_TYPES = frozenset({"int", "str", "bool", "bytes"})
RESULT_TYPES = frozenset({"int", "str", "bool", "bytes", "float"})
FORBIDDEN = (
    m.Global() | m.Nonlocal() | m.Yield() | m.Await() | m.Lambda() | m.FunctionDef() | m.ClassDef()
    | m.Try() | m.TryStar() | m.With() | m.Import() | m.ImportFrom() | m.Attribute()
    | m.NamedExpr()
)  # fmt: skip


class MemoizePureRecursion(FunctionPass):
    """What it does:
        Adds a memo table to a pure module-level function that calls itself more
        than once (tree recursion such as Fibonacci or binomial coefficients): a
        module-level dict `_f_memo`, a lookup at entry, and `return
        _f_memo.setdefault(key, value)` at every `return value`.

    Why it is faster:
        Tree recursion recomputes the same sub-results exponentially often; with
        the memo every distinct argument tuple is computed once.

    Fix safety:
        The pass fires only when all of these are proven:
        - the function is module-level, undecorated, synchronous, not a generator,
          with plain parameters (no `*args`/`**kwargs`) all annotated `int`, `str`,
          `bool` or `bytes` (literal defaults only), and a return annotation of an
          immutable type (`int`, `str`, `bool`, `bytes`, `float`, `tuple[...]` of
          those), so a cached result can be shared;
        - it is pure: its body reads only its parameters, its own locals, itself
          and pure builtins (`len`, `min`, `max`, `abs`, `range`, ...); it has no
          attribute access, global/nonlocal, nested function or lambda, walrus,
          try/with, import or await, and it calls nothing but itself and those
          builtins, so no output, I/O or state can be skipped by a cache hit and no
          global it reads can change between calls;
        - every self-call passes provably int/str/bool/bytes values, so the key can
          always be hashed; the key also holds each argument's type, so `f(True)` and
          `f(1)` (equal and same hash) never share an entry;
        - it calls itself at least twice or inside a loop, so sub-results repeat.
        Unlike `functools.cache`, the memo lives in the function itself: recursion
        depth is unchanged (the C wrapper of `functools.cache` halves the depth
        reachable before RecursionError on CPython 3.11).
    """

    code = "OPT108"
    name = "memoize-pure-recursion"
    summary = "Memoize a pure, tree-recursive module-level function."
    complexity_win = True
    triggers = ("return",)

    @classmethod
    def may_match_ast(cls, function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
        """The signature and body restrictions of `_eligible`, plus enough self-calls."""
        if not isinstance(function, ast.FunctionDef) or function.decorator_list:
            return False
        if not _ast_simple_signature(function.args, function.returns):
            return False
        if any(pre.has(function, kind) for kind in _AST_FORBIDDEN):
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
_fib_memo: dict[tuple[object, ...], int] = {}


def fib(n: int) -> int:
    fib_key = (n, type(n))
    if fib_key in _fib_memo:
        return _fib_memo[fib_key]
    if n < 2 or n > 20:
        return _fib_memo.setdefault(fib_key, n)
    return _fib_memo.setdefault(fib_key, fib(n - 1) + fib(n - 2))
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
_choose_memo: dict[tuple[object, ...], int] = {}


def choose(n: int, k: int) -> int:
    """Binomial coefficients; rows past 16 are cut off to keep the example fast."""
    choose_key = (n, k, type(n), type(k))
    if choose_key in _choose_memo:
        return _choose_memo[choose_key]
    if k < 0 or k > n:
        return _choose_memo.setdefault(choose_key, 0)
    if k == 0 or k == n or n > 16:
        return _choose_memo.setdefault(choose_key, 1)
    return _choose_memo.setdefault(choose_key, choose(n - 1, k - 1) + choose(n - 1, k))
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
    ) -> cst.BaseStatement | cst.FlattenSentinel[cst.BaseStatement] | cst.RemovalSentinel:
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
        if m.findall(module, m.Name(f"_{name}_memo")):
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
        return all(self._pure_name(facts, node, name) for node in variable_names(function.body))

    def _hashable_args(self, facts: FunctionFacts, call: cst.Call) -> bool:
        return all(not arg.star and proven_type(facts, arg.value) in KEY_TYPES for arg in call.args)

    def _pure_name(self, facts: FunctionFacts, node: cst.Name, name: str) -> bool:
        if node.value in {"True", "False", "None"}:
            return True
        local = resolves_locally(facts, node)
        if local is None:
            return False
        if local:
            return True
        if node.value == name:
            return True
        return node.value in PURE and facts.is_builtin(node, node.value)


def _simple_signature(function: cst.FunctionDef) -> bool:
    params = function.params
    if params.star_arg is not cst.MaybeSentinel.DEFAULT or params.star_kwarg is not None:
        return False
    every = (*params.posonly_params, *params.params, *params.kwonly_params)
    if not every:
        return False
    for param in every:
        annotation = param.annotation.annotation if param.annotation else None
        if not (isinstance(annotation, cst.Name) and annotation.value in KEY_TYPES):
            return False
        if param.default is not None and constant_type(param.default) not in KEY_TYPES:
            return False
    returns = function.returns.annotation if function.returns else None
    return _immutable_result(returns)


def _immutable_result(annotation: cst.BaseExpression | None) -> bool:
    if isinstance(annotation, cst.Name):
        return annotation.value in RESULT_TYPES
    if isinstance(annotation, cst.Subscript) and m.matches(annotation.value, m.Name("tuple")):
        for element in annotation.slice:
            if not isinstance(element.slice, cst.Index):
                return False
            value = element.slice.value
            if not isinstance(value, cst.Ellipsis) and not _immutable_result(value):
                return False
        return True
    return False


def _memoize(
    facts: FunctionFacts, function: cst.FunctionDef
) -> cst.FlattenSentinel[cst.BaseStatement]:
    name = function.name.value
    memo = f"_{name}_memo"
    key = facts.fresh_name(f"{name}_key")
    params = [
        p.name.value
        for p in (
            *function.params.posonly_params,
            *function.params.params,
            *function.params.kwonly_params,
        )
    ]
    key_expr = ", ".join(params + [f"type({p})" for p in params])
    assert function.returns is not None
    result_type = code_of(function.returns.annotation)
    table = cst.parse_statement(f"{memo}: dict[tuple[object, ...], {result_type}] = {{}}\n")
    lookup = [
        cst.parse_statement(f"{key} = ({key_expr})\n"),
        cst.parse_statement(f"if {key} in {memo}:\n    return {memo}[{key}]\n"),
    ]
    body = function.body.visit(_StoreReturns(memo, key))
    assert isinstance(body, cst.IndentedBlock)
    statements = list(body.body)
    at = 1 if statements and _is_docstring(statements[0]) else 0
    statements[at:at] = lookup
    new_function = function.with_changes(
        body=body.with_changes(body=statements), leading_lines=(cst.EmptyLine(), cst.EmptyLine())
    )
    return cst.FlattenSentinel(
        [table.with_changes(leading_lines=function.leading_lines), new_function]
    )


def _is_docstring(statement: cst.BaseStatement) -> bool:
    return m.matches(
        statement,
        m.SimpleStatementLine(body=[m.Expr(value=m.SimpleString() | m.ConcatenatedString())]),
    )


class _StoreReturns(cst.CSTTransformer):
    def __init__(self, memo: str, key: str) -> None:
        super().__init__()
        self.memo = memo
        self.key = key

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


# The stdlib-ast twins of FORBIDDEN; the function's own node is the only FunctionDef
# allowed (annotations never hold these, so walking the whole function is the same).
_AST_FORBIDDEN: tuple[type[ast.AST], ...] = (
    ast.Global, ast.Nonlocal, ast.Yield, ast.YieldFrom, ast.Await, ast.Lambda,
    ast.AsyncFunctionDef, ast.ClassDef, ast.Try, getattr(ast, "TryStar", ast.Try), ast.With,
    ast.AsyncWith, ast.Import, ast.ImportFrom, ast.Attribute, ast.NamedExpr,
)  # fmt: skip


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
