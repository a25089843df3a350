"""Loop shapes: loops around a node, and the accumulator loops and lambda calls that
the comprehension passes turn into comprehensions.

Each helper matches ORIGINAL nodes and answers None when the shape (or a fact
every rewrite of it needs) is not there.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import libcst as cst
import libcst.matchers as m

from passes._facts import FunctionFacts, FunctionPass
from passes._names import has_scope_hazard, name_references, only_within, target_names
from passes._shapes import single_positional_arg
from passes._splicing import comprehension_operand, has_comment, rewrite_block_pairs
from passes._values import is_empty_container

Loop = cst.For | cst.While


def enclosing_loops(facts: FunctionFacts, node: cst.CSTNode) -> list[Loop]:
    """Loops of this function around `node`, innermost first (comprehensions stop it)."""
    loops: list[Loop] = []
    current = facts.parent(node)
    while current is not None and current is not facts.function:
        if isinstance(current, cst.For | cst.While):
            loops.append(current)
        if isinstance(current, cst.FunctionDef | cst.Lambda | cst.ClassDef):
            return []
        current = facts.parent(current)
    return loops


# --- accumulator loops (`acc = <init>` directly followed by `for`) ----------


@dataclass(frozen=True)
class AccumulatorLoop:
    """`name = value` followed by a `for` whose body is one statement under `if`s."""

    name: str
    value: cst.BaseExpression
    loop: cst.For
    conditions: tuple[cst.BaseExpression, ...]
    action: cst.BaseSmallStatement | cst.If
    targets: tuple[str, ...]


def aliased_loop(
    loop: Loop, bindings: list[tuple[str, str]], renamer: cst.CSTTransformer
) -> list[cst.BaseStatement]:
    """`alias = expression` for each binding, before `loop` (the first one taking the
    loop's leading lines), then the loop with its reads renamed by `renamer`."""
    statements: list[cst.BaseStatement] = []
    for index, (alias, expression) in enumerate(bindings):
        statement = cst.parse_statement(f"{alias} = {expression}\n")
        if index == 0:
            statement = statement.with_changes(leading_lines=loop.leading_lines)
        statements.append(statement)
    renamed = loop.with_changes(leading_lines=[]).visit(renamer)
    assert isinstance(renamed, cst.BaseStatement)
    return [*statements, renamed]


def initialiser(statement: cst.BaseStatement) -> tuple[str, cst.BaseExpression] | None:
    """`name = value` or `name: T = value` as a one-statement line."""
    if not isinstance(statement, cst.SimpleStatementLine) or len(statement.body) != 1:
        return None
    small = statement.body[0]
    if (
        isinstance(small, cst.Assign)
        and len(small.targets) == 1
        and isinstance(small.targets[0].target, cst.Name)
    ):
        return small.targets[0].target.value, small.value
    if isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name) and small.value:
        return small.target.value, small.value
    return None


def accumulator_loop(
    facts: FunctionFacts,
    init: cst.BaseStatement,
    loop: cst.BaseStatement,
    *,
    allow_conditions: bool = True,
    compound_action: bool = False,
) -> AccumulatorLoop | None:
    """Match `acc = value; for t in it: [if c: ...] <one statement>` and check the
    facts every accumulator rewrite needs:

    - `acc` is a private local; the loop is a plain synchronous `for` without
      `else`, outside any try/with block, and its iterable does not mention `acc`;
    - the target is names only, each local, uncaptured and not mentioned
      anywhere in the function outside the loop (a comprehension would not bind
      it), and not mentioned in the iterable;
    - the loop holds no code that would behave differently inside a nested scope.
    Comments of the loop move above the statement that replaces it (see
    `rewrite_block_pairs`).
    """
    head = initialiser(init)
    if head is None or not isinstance(loop, cst.For):
        return None
    name, value = head
    if loop.orelse is not None or loop.asynchronous is not None:
        return None
    if not facts.is_private_local(name) or facts.in_try_block(loop):
        return None
    if has_scope_hazard(loop) or name_references(loop.iter, name):
        return None
    names = target_names(loop.target)
    if names is None or name in names:
        return None
    for target in names:
        if not facts.is_private_local(target) or not only_within(facts, target, loop):
            return None
        if name_references(loop.iter, target):
            return None
    conditions: list[cst.BaseExpression] = []
    statement: cst.BaseStatement = loop
    block = loop.body
    while True:
        if not isinstance(block, cst.IndentedBlock) or len(block.body) != 1:
            return None
        statement = block.body[0]
        if allow_conditions and isinstance(statement, cst.If) and statement.orelse is None:
            conditions.append(statement.test)
            block = statement.body
            continue
        break
    if isinstance(statement, cst.If):
        if not compound_action:
            return None
        return AccumulatorLoop(name, value, loop, tuple(conditions), statement, tuple(names))
    if not isinstance(statement, cst.SimpleStatementLine) or len(statement.body) != 1:
        return None
    action = statement.body[0]
    return AccumulatorLoop(name, value, loop, tuple(conditions), action, tuple(names))


def comp_for(parts: AccumulatorLoop) -> cst.CompFor:
    return cst.CompFor(
        target=parts.loop.target,
        iter=comprehension_operand(parts.loop.iter),
        ifs=[cst.CompIf(test=comprehension_operand(c)) for c in parts.conditions],
    )


def filled_container_loop(
    facts: FunctionFacts,
    init: cst.BaseStatement,
    loop: cst.BaseStatement,
    container: str,
    method: str,
) -> tuple[AccumulatorLoop, cst.BaseExpression] | None:
    """`acc = <empty builtin container>` and a loop whose one statement (under `if`s)
    is `acc.<method>(item)`, the loop's only mention of `acc`: (the loop, `item`)."""
    parts = accumulator_loop(facts, init, loop)
    if parts is None or not is_empty_container(facts, parts.value, container):
        return None
    action = parts.action
    if not m.matches(
        action,
        m.Expr(value=m.Call(func=m.Attribute(value=m.Name(parts.name), attr=m.Name(method)))),
    ):
        return None
    assert isinstance(action, cst.Expr) and isinstance(action.value, cst.Call)
    item = single_positional_arg(action.value)
    if item is None or len(name_references(parts.loop, parts.name)) != 1:
        return None
    return parts, item


class AccumulatorLoopPass(FunctionPass):
    """A pass that replaces an initialiser and the loop right after it that fills it."""

    def rewrite_pair(
        self, facts: FunctionFacts, init: cst.BaseStatement, loop: cst.BaseStatement
    ) -> Sequence[cst.BaseStatement] | None:
        raise NotImplementedError

    def leave_IndentedBlock(
        self, original_node: cst.IndentedBlock, updated_node: cst.IndentedBlock
    ) -> cst.IndentedBlock:
        facts = self.facts
        if facts is None:
            return updated_node
        return rewrite_block_pairs(
            original_node, updated_node, lambda init, loop: self.rewrite_pair(facts, init, loop)
        )


# --- list(filter(lambda ...)) / list(map(lambda ...)) ------------------------


def plain_lambda_param(function: cst.Lambda) -> str | None:
    """The name of a lambda's only parameter when it is plain (no default, no stars)."""
    params = function.params
    if (
        len(params.params) != 1
        or params.posonly_params
        or params.kwonly_params
        or not isinstance(params.star_arg, cst.MaybeSentinel)
        or params.star_kwarg is not None
        or params.params[0].default is not None
    ):
        return None
    return params.params[0].name.value


@dataclass(frozen=True)
class LambdaCall:
    """`list(<inner>(lambda v: body, iterable))` split into its parts."""

    param: str
    body: cst.BaseExpression
    iterable: cst.BaseExpression


def list_of_lambda_call(
    facts: FunctionFacts, original: cst.Call, updated: cst.Call, inner: str
) -> LambdaCall | None:
    """Match `list(inner(lambda v: body, iterable))` on the original node and return
    the parts of the updated node, or None when any precondition fails:
    builtin `list` and `inner`, a lambda with exactly one plain positional
    parameter and no default, a body that would not change meaning in a
    comprehension scope, and an iterable that does not mention the parameter.
    """
    shape = m.Call(
        func=m.Name("list"),
        args=[
            m.Arg(
                keyword=None,
                star="",
                value=m.Call(
                    func=m.Name(inner),
                    args=[
                        m.Arg(keyword=None, star="", value=m.Lambda()),
                        m.Arg(keyword=None, star=""),
                    ],
                ),
            )
        ],
    )
    if not m.matches(original, shape) or not m.matches(updated, shape):
        return None
    inner_call = original.args[0].value
    assert isinstance(inner_call, cst.Call) and isinstance(original.func, cst.Name)
    if not (facts.is_builtin(original.func, "list") and facts.is_builtin(inner_call.func, inner)):
        return None
    function = inner_call.args[0].value
    assert isinstance(function, cst.Lambda)
    param = plain_lambda_param(function)
    if param is None:
        return None
    if has_scope_hazard(function.body) or has_comment(inner_call):
        return None
    if name_references(inner_call.args[1].value, param):
        return None
    updated_inner = updated.args[0].value
    assert isinstance(updated_inner, cst.Call)
    updated_lambda = updated_inner.args[0].value
    assert isinstance(updated_lambda, cst.Lambda)
    return LambdaCall(param, updated_lambda.body, updated_inner.args[1].value)
