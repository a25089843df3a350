"""OPT220: a call of a module-private one-expression function on a hot path is replaced
by that expression."""

from __future__ import annotations

import ast
from collections.abc import Sequence
from dataclasses import dataclass

import libcst as cst
import libcst.matchers as m
from libcst.metadata import BuiltinAssignment, GlobalScope, Scope, ScopeProvider

from passes._facts import FunctionFacts, FunctionPass
from passes._names import SCOPE_SENSITIVE_NAMES, name_references, variable_names
from passes._splicing import has_comment
from passes.base import CallProfile, Example

HOT_CALLS = 1_000
# What the helper's expression may not hold: a new scope, a suspension, a binding.
FORBIDDEN = (
    m.Lambda() | m.ListComp() | m.SetComp() | m.DictComp() | m.GeneratorExp() | m.Yield()
    | m.Await() | m.NamedExpr()
)  # fmt: skip
Simple = cst.Name | cst.Integer | cst.Float | cst.SimpleString


@dataclass(frozen=True)
class Helper:
    """A module-level `def _name(p, q): return <expression>`."""

    definition: cst.FunctionDef
    params: tuple[str, ...]
    expression: cst.BaseExpression


class InlineTinyHelper(FunctionPass):
    """What it does:
        Replaces a call of a module-private function whose body is one `return
        <expression>` by that expression, its parameters replaced by the call's
        arguments: with `def _encode(start, end): return (start << 32) | end`,
        `key = _encode(value, 0)` becomes `key = (value << 32) | 0`. An argument
        that is not a name or a literal is first bound to a fresh local, in a
        statement of its own, when the call is the whole value of an assignment,
        a `return` or an expression statement. Only calls in a loop, or in a
        function the trace saw called 1,000 times or more, are inlined.

    Why it is faster:
        A Python call builds a frame, binds the arguments and returns: tens of
        nanoseconds around an expression that may take a few. A helper called for
        every code point, byte or token adds that to every iteration.

    Fix safety:
        The pass proves that the expression computes what the call returned:
        - the helper is a module-level `def` whose name starts with `_` (module
          private), bound only by that `def` (never reassigned), without
          decorators, defaults, `*args`, keyword-only or positional-only
          parameters, `async` or generator; its body is one `return <expr>`
          (after a docstring), with no lambda, comprehension, walrus, `yield`,
          `await`, comment, call of `locals()`/`vars()`/`dir()`/`eval`/`exec`/
          `super()`, and no mention of its own name (no recursion);
        - the call passes exactly one positional argument per parameter, none
          starred; every other name the expression reads resolves, at the call,
          to the same module-level or builtin binding as in the helper (no local
          of the caller shadows it), and the call sits directly in the caller's
          scope (not in a comprehension or lambda);
        - every argument is evaluated once and in order: a name or a literal is
          substituted as it is (reading one has no effect); otherwise the call
          must be the whole value of its statement, and each such argument is
          assigned, left to right, to a fresh local just before the statement,
          which is what the call evaluated first.
        A traceback shows one frame fewer, and code that replaces the helper at
        run time (`mock.patch` of a private function) no longer reaches this
        call site.

    Seen in:
        idna's `intranges_contain`, called for every code point checked, which
        calls the two-line `_encode_range` and `_decode_range` three times per
        call; pycparser's `_peek`/`_peek_type` and chardet's
        `get_current_charlen` are the same idiom as methods, which this pass
        leaves alone (a subclass may override a method).
    """

    helpers: dict[str, Helper]

    code = "OPT220"
    name = "inline-tiny-helper"
    summary = "Inline a module-private one-expression function at a hot call site."
    triggers = ("_",)

    @classmethod
    def may_match_ast(cls, function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
        """A call of a `_name(...)`, or a tiny helper itself (kept so that the pass sees
        its body)."""
        if _ast_tiny_helper(function):
            return True
        return any(
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id.startswith("_")
            for node in ast.walk(function)
        )

    EXAMPLES = (
        Example(
            before='''\
def checksum(data: bytes) -> int:
    total = 0
    for byte in data:
        total = _mix(total, byte) % 65521
    return total


def _mix(acc, value):
    return (acc * 31 + value) & 0xFFFFFFFF
''',
            after='''\
def checksum(data: bytes) -> int:
    total = 0
    for byte in data:
        total = ((total * 31 + byte) & 0xFFFFFFFF) % 65521
    return total


def _mix(acc, value):
    return (acc * 31 + value) & 0xFFFFFFFF
''',
        ),
        Example(
            before='''\
def contains(value: int, ranges: tuple[int, ...]) -> bool:
    key = _encode(value, 0)
    for item in ranges:
        if item == key:
            return True
        start, end = _decode(item % (1 << 40))
        if start <= value < end:
            return True
    return False


def _encode(start, end):
    """Pack a range into one int."""
    return (start << 32) | end


def _decode(r):
    return (r >> 32), (r & ((1 << 32) - 1))
''',
            after='''\
def contains(value: int, ranges: tuple[int, ...]) -> bool:
    key = (value << 32) | 0
    for item in ranges:
        if item == key:
            return True
        _r = item % (1 << 40)
        start, end = (_r >> 32), (_r & ((1 << 32) - 1))
        if start <= value < end:
            return True
    return False


def _encode(start, end):
    """Pack a range into one int."""
    return (start << 32) | end


def _decode(r):
    return (r >> 32), (r & ((1 << 32) - 1))
''',
            profiles={"contains": CallProfile(calls=60_000, recorded=32, distinct=30)},
        ),
    )
    NON_EXAMPLES = (
        # Recursive.
        """\
def total(values: list[int]) -> int:
    out = 0
    for v in values:
        out += _fold(v)
    return out


def _fold(n):
    return n if n < 10 else _fold(n // 10)
""",
        # The argument is used twice and the call is not the whole statement: it
        # would be evaluated twice.
        """\
def spread(values: list[int]) -> int:
    out = 0
    for v in values:
        out += _square(v + 1) + 1
    return out


def _square(x):
    return x * x
""",
        # Reassigned at module level.
        """\
def total(values: list[int]) -> int:
    out = 0
    for v in values:
        out += _twice(v)
    return out


def _twice(x):
    return 2 * x


_twice = abs
""",
        # Inside an f-string: the helper's string would reuse the f-string's quotes.
        """\
def labels(codes: list[int]) -> list[str]:
    out = []
    for c in codes:
        out.append(f"code {_hex(c)}")
    return out


def _hex(c):
    return f"U+{c:04X}"
""",
        # The helper reads a global that a local of the caller shadows.
        """\
SCALE = 3


def scaled(values: list[int]) -> list[int]:
    SCALE = 5
    out = []
    for v in values:
        out.append(_scale(v))
    return out


def _scale(x):
    return x * SCALE
""",
    )

    def visit_Module(self, node: cst.Module) -> None:
        self.helpers = {
            s.name.value: helper
            for s in node.body
            if isinstance(s, cst.FunctionDef) and (helper := _tiny_helper(s)) is not None
        }

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        facts = self.facts_for(original_node)
        if facts is None or not updated_node.deep_equals(original_node):
            return updated_node
        helper = self._helper_called(facts, original_node)
        if helper is None or not all(isinstance(a.value, Simple) for a in original_node.args):
            return updated_node
        arguments = dict(zip(helper.params, (a.value for a in original_node.args), strict=True))
        inlined = _substituted(helper, arguments)
        parent = facts.parent(original_node)
        if isinstance(parent, cst.Assign | cst.Return | cst.Expr) and not original_node.lpar:
            return inlined  # the whole value of its statement: no parentheses needed
        return _parenthesized(inlined)

    def leave_SimpleStatementLine(
        self, original_node: cst.SimpleStatementLine, updated_node: cst.SimpleStatementLine
    ) -> cst.BaseStatement | cst.FlattenSentinel[cst.BaseStatement]:
        call = _whole_value_call(original_node)
        if call is None or not updated_node.deep_equals(original_node):
            return updated_node
        facts = self.facts_for(call)
        if facts is None or isinstance(facts.parent(original_node), cst.SimpleStatementSuite):
            return updated_node
        helper = self._helper_called(facts, call)
        if helper is None or has_comment(original_node):
            return updated_node
        arguments: dict[str, cst.BaseExpression] = {}
        temporaries: list[cst.BaseStatement] = []
        for param, arg in zip(helper.params, call.args, strict=True):
            if isinstance(arg.value, Simple):
                arguments[param] = arg.value
                continue
            if m.findall(arg.value, m.NamedExpr() | m.Yield() | m.Await() | m.Lambda()):
                return updated_node
            local = facts.fresh_name(f"_{param.strip('_')}")
            while local in _bound(temporaries):  # two parameters `a` and `_a`
                local = facts.fresh_name(f"{local}_")
            temporaries.append(_assign(local, arg.value.with_changes(lpar=(), rpar=())))
            arguments[param] = cst.Name(local)
        if not temporaries:
            return updated_node  # all simple: leave_Call inlines it
        small = original_node.body[0]
        inlined = _substituted(helper, arguments)
        statement = original_node.with_changes(body=[small.with_changes(value=inlined)])
        first = temporaries[0]
        assert isinstance(first, cst.SimpleStatementLine)
        temporaries[0] = first.with_changes(leading_lines=original_node.leading_lines)
        return cst.FlattenSentinel([*temporaries, statement.with_changes(leading_lines=())])

    def _helper_called(self, facts: FunctionFacts, call: cst.Call) -> Helper | None:
        """The tiny helper `call` calls, when inlining it here is proven to keep its
        meaning (see the docstring), else None."""
        func = call.func
        if not isinstance(func, cst.Name) or func.value not in self.helpers:
            return None
        helper = self.helpers[func.value]
        if helper.definition is facts.function or not self._hot(facts, call):
            return None
        if _in_f_string(facts, call):
            return None  # before 3.12 the expression's quotes could end the f-string
        if len(call.args) != len(helper.params) or any(
            a.keyword is not None or a.star for a in call.args
        ):
            return None
        call_scope = self.get_metadata(ScopeProvider, func, None)
        helper_scope = self.get_metadata(ScopeProvider, helper.expression, None)
        if call_scope is None or helper_scope is None:
            return None
        if not _module_function(call_scope, func.value, helper.definition):
            return None
        free = {n.value for n in variable_names(helper.expression)} - set(helper.params)
        if not all(_same_global(call_scope, helper_scope, name) for name in free):
            return None
        return helper

    def _hot(self, facts: FunctionFacts, call: cst.Call) -> bool:
        node: cst.CSTNode | None = facts.parent(call)
        while node is not None and node is not facts.function:
            if isinstance(node, cst.For | cst.While):
                return True
            node = facts.parent(node)
        profile = self.profile_of(facts.qualname)
        return profile is not None and profile.calls >= HOT_CALLS


def _in_f_string(facts: FunctionFacts, node: cst.CSTNode) -> bool:
    parent = facts.parent(node)
    while parent is not None and parent is not facts.function:
        if isinstance(parent, cst.FormattedString):
            return True
        parent = facts.parent(parent)
    return False


def _tiny_helper(function: cst.FunctionDef) -> Helper | None:
    name = function.name.value
    if not name.startswith("_") or name.startswith("__") or function.decorators:
        return None
    if function.asynchronous is not None or not isinstance(function.body, cst.IndentedBlock):
        return None
    params = function.params
    if params.star_arg is not cst.MaybeSentinel.DEFAULT and params.star_arg is not None:
        return None
    if params.kwonly_params or params.star_kwarg or params.posonly_params:
        return None
    if any(p.default is not None for p in params.params):
        return None
    statements = list(function.body.body)
    if len(statements) == 2 and _is_docstring(statements[0]):
        statements = statements[1:]
    if len(statements) != 1 or not isinstance(statements[0], cst.SimpleStatementLine):
        return None
    (small,) = statements[0].body if len(statements[0].body) == 1 else (None,)
    if not isinstance(small, cst.Return) or small.value is None:
        return None
    expression = small.value
    if m.findall(expression, FORBIDDEN) or has_comment(expression):
        return None
    if name_references(expression, name):
        return None
    if any(name_references(expression, n) for n in SCOPE_SENSITIVE_NAMES):
        return None
    return Helper(function, tuple(p.name.value for p in params.params), expression)


def _is_docstring(statement: cst.BaseStatement) -> bool:
    return (
        isinstance(statement, cst.SimpleStatementLine)
        and len(statement.body) == 1
        and isinstance(statement.body[0], cst.Expr)
        and isinstance(statement.body[0].value, cst.SimpleString | cst.ConcatenatedString)
    )


def _module_function(scope: Scope, name: str, definition: cst.FunctionDef) -> bool:
    """`name`, read in `scope`, can only be the module-level `definition`."""
    assignments = list(scope[name])
    return (
        len(assignments) == 1
        and isinstance(assignments[0].scope, GlobalScope)
        and getattr(assignments[0], "node", None) is definition
        and len(list(assignments[0].scope.assignments[name])) == 1
    )


def _same_global(call_scope: Scope, helper_scope: Scope, name: str) -> bool:
    """`name` means the same module-level or builtin binding at the call and in the
    helper."""
    at_call, in_helper = list(call_scope[name]), list(helper_scope[name])
    if not at_call or {id(a) for a in at_call} != {id(a) for a in in_helper}:
        return False
    return all(
        isinstance(a, BuiltinAssignment) or isinstance(a.scope, GlobalScope) for a in at_call
    )


def _substituted(helper: Helper, arguments: dict[str, cst.BaseExpression]) -> cst.BaseExpression:
    """The helper's expression with each parameter replaced by its argument."""
    targets = {
        id(reference): arguments[param]
        for param in helper.params
        for reference in name_references(helper.expression, param)
    }

    class Substitute(cst.CSTTransformer):
        def leave_Name(self, original_node: cst.Name, updated_node: cst.Name) -> cst.BaseExpression:
            return targets.get(id(original_node), updated_node)

    result = helper.expression.visit(Substitute())
    assert isinstance(result, cst.BaseExpression)
    return result


def _parenthesized(expression: cst.BaseExpression) -> cst.BaseExpression:
    if expression.lpar or isinstance(expression, Simple | cst.Call | cst.Attribute | cst.Subscript):
        return expression
    return expression.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])


def _whole_value_call(line: cst.SimpleStatementLine) -> cst.Call | None:
    """The call that is the whole value of the line's one statement."""
    if len(line.body) != 1:
        return None
    small = line.body[0]
    if isinstance(small, cst.Assign | cst.Return | cst.Expr) and isinstance(small.value, cst.Call):
        return small.value if not small.value.lpar else None
    return None


def _assign(name: str, value: cst.BaseExpression) -> cst.SimpleStatementLine:
    return cst.SimpleStatementLine(
        body=[cst.Assign(targets=[cst.AssignTarget(cst.Name(name))], value=value)]
    )


def _bound(statements: Sequence[cst.BaseStatement]) -> list[str]:
    return [
        target.target.value
        for s in statements
        if isinstance(s, cst.SimpleStatementLine)
        for small in s.body
        if isinstance(small, cst.Assign)
        for target in small.targets
        if isinstance(target.target, cst.Name)
    ]


def _ast_tiny_helper(function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    body = function.body
    if len(body) == 2 and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]
    return (
        function.name.startswith("_")
        and len(body) == 1
        and isinstance(body[0], ast.Return)
        and body[0].value is not None
    )
