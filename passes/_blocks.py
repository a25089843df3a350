"""Shared machinery for the constant-factor passes (OPT2xx).

Everything here answers conservatively, like `_support`: `None`/`False` means
"not proven" and the calling pass must decline.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import libcst as cst
import libcst.matchers as m
from libcst.codemod import CodemodContext
from libcst.metadata import Assignment, BuiltinAssignment, ScopeProvider

from passes._support import (
    HASHABLE_TYPES,
    FunctionFacts,
    generic_name,
    name_references,
    plain_lambda_param,
)
from passes.base import OptimizationPass

# Builtin sequence annotations whose iteration order equals index order and which
# are never mappings at runtime.
SEQUENCE_ANNOTATIONS = frozenset({"list", "List", "tuple", "Tuple"})
PLAIN_DICT_ANNOTATIONS = frozenset({"dict", "Dict"})
DICT_LIKE_ANNOTATIONS = frozenset(
    {"dict", "Dict", "Mapping", "MutableMapping", "OrderedDict", "defaultdict", "Counter"}
)
NON_MAPPING_ITERABLES = frozenset(
    {
        "list", "List", "tuple", "Tuple", "set", "Set", "frozenset", "FrozenSet",
        "Sequence", "MutableSequence", "AbstractSet",
    }
)  # fmt: skip
# Names whose behaviour depends on the enclosing scope: moving code into a
# comprehension (a nested scope on 3.11) would change what they see.
SCOPE_SENSITIVE_NAMES = frozenset({"super", "locals", "vars", "dir", "eval", "exec", "__class__"})
# Builtins that cannot mutate their arguments (they may call dunder methods).
NON_MUTATING_BUILTINS = frozenset(
    {
        "len", "abs", "min", "max", "str", "int", "float", "bool", "repr", "ord", "chr",
        "round", "sum", "sorted", "range", "enumerate", "isinstance", "hash", "divmod",
        "pow", "format", "tuple", "list", "set", "frozenset", "dict", "any", "all",
    }
)  # fmt: skip


def code_of(node: cst.CSTNode) -> str:
    return cst.Module([]).code_for_node(node)


class FunctionPass(OptimizationPass):
    """A pass that works inside function bodies and keeps their `FunctionFacts`.

    Class bodies push `None`, so statements of a class nested in a function are
    never analysed with the function's facts.
    """

    def __init__(self, context: CodemodContext) -> None:
        super().__init__(context)
        self.scopes: list[FunctionFacts | None] = []

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.scopes.append(FunctionFacts(self, node))

    def leave_FunctionDef(
        self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef
    ) -> cst.FunctionDef:
        self.scopes.pop()
        return updated_node

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.scopes.append(None)

    def leave_ClassDef(
        self, original_node: cst.ClassDef, updated_node: cst.ClassDef
    ) -> cst.ClassDef:
        self.scopes.pop()
        return updated_node

    @property
    def facts(self) -> FunctionFacts | None:
        return self.scopes[-1] if self.scopes else None

    def facts_for(self, node: cst.CSTNode) -> FunctionFacts | None:
        """The current function's facts, when `node` sits directly in its scope.

        Expressions inside a lambda or comprehension of the function get `None`:
        their names may resolve differently.
        """
        facts = self.facts
        if facts is None or facts.scope is None:
            return None
        scope = self.get_metadata(ScopeProvider, node, None)
        return facts if scope is facts.scope else None


# --- names and bindings ---------------------------------------------------


def is_builtin_name(facts: FunctionFacts, name: str) -> bool:
    """A new reference to `name` written in this function would reach the builtin."""
    if facts.scope is None:
        return False
    assignments = list(facts.scope[name])
    return bool(assignments) and all(isinstance(a, BuiltinAssignment) for a in assignments)


def only_within(facts: FunctionFacts, name: str, node: cst.CSTNode) -> bool:
    """Every mention of `name` in the function lies inside `node`."""
    return len(name_references(facts.function, name)) == len(name_references(node, name))


def target_names(target: cst.BaseExpression) -> list[str] | None:
    """Names bound by a `for` target made only of names and tuples/lists of names."""
    if isinstance(target, cst.Name):
        return [target.value]
    if isinstance(target, cst.Tuple | cst.List):
        names: list[str] = []
        for element in target.elements:
            if not isinstance(element, cst.Element):
                return None
            inner = target_names(element.value)
            if inner is None:
                return None
            names.extend(inner)
        return names
    return None


def binding_value(facts: FunctionFacts, binding: cst.CSTNode | None) -> cst.BaseExpression | None:
    """The value assigned by a single-target `name = value` / `name: T = value` binding."""
    if not isinstance(binding, cst.Name):
        return None
    parent = facts.parent(binding)
    if isinstance(parent, cst.AnnAssign) and parent.target is binding:
        return parent.value
    if isinstance(parent, cst.AssignTarget):
        statement = facts.parent(parent)
        if isinstance(statement, cst.Assign) and len(statement.targets) == 1:
            return statement.value
    return None


def param_generic(facts: FunctionFacts, name: str) -> str | None:
    binding = facts.single_binding(name)
    if isinstance(binding, cst.Param) and binding.annotation is not None and not binding.star:
        return generic_name(binding.annotation.annotation)
    return None


def is_builtin_call(facts: FunctionFacts, node: cst.BaseExpression, builtin: str) -> bool:
    return (
        isinstance(node, cst.Call)
        and isinstance(node.func, cst.Name)
        and node.func.value == builtin
        and facts.is_builtin(node.func, builtin)
    )


def is_dict_name(facts: FunctionFacts, name: str, *, plain: bool) -> bool:
    """`name` is bound once, to a dict (`plain`: exactly `dict`, no subclass annotation)."""
    generic = param_generic(facts, name)
    if generic is not None:
        return generic in (PLAIN_DICT_ANNOTATIONS if plain else DICT_LIKE_ANNOTATIONS)
    value = binding_value(facts, facts.single_binding(name))
    if value is None:
        return False
    return isinstance(value, cst.Dict | cst.DictComp) or (
        is_builtin_call(facts, value, "dict")
    )


def is_fresh_container(facts: FunctionFacts, name: str) -> bool:
    """`name` is a private local bound once to a new list/dict/set built in place."""
    if not facts.is_private_local(name):
        return False
    value = binding_value(facts, facts.single_binding(name))
    if value is None:
        return False
    if isinstance(value, cst.List | cst.Dict | cst.Set | cst.ListComp | cst.DictComp | cst.SetComp):
        return not _holds_names(value)
    return any(is_builtin_call(facts, value, b) for b in ("list", "dict", "set")) and not (
        value.args  # type: ignore[attr-defined]
    )


def _holds_names(value: cst.BaseExpression) -> bool:
    # A literal such as `[xs]` holds a reference to another object; a
    # comprehension builds new values, so only display literals are checked.
    if isinstance(value, cst.List | cst.Set | cst.Dict):
        return bool(m.findall(value, m.Name()))
    return False


def is_sequence_name(facts: FunctionFacts, name: str) -> bool:
    """`name` is bound once to a list/tuple/str/bytes whose iteration equals indexing."""
    generic = param_generic(facts, name)
    if generic is not None:
        binding = facts.single_binding(name)
        assert isinstance(binding, cst.Param) and binding.annotation is not None
        annotation = binding.annotation.annotation
        if isinstance(annotation, cst.Name) and annotation.value in {"str", "bytes"}:
            return True
        return generic in SEQUENCE_ANNOTATIONS and isinstance(annotation, cst.Subscript)
    value = binding_value(facts, facts.single_binding(name))
    return isinstance(
        value, cst.List | cst.ListComp | cst.Tuple | cst.SimpleString | cst.ConcatenatedString
    )


def is_non_mapping_iterable(facts: FunctionFacts, expr: cst.BaseExpression) -> bool:
    """`expr` is iterable and provably not a mapping (Counter treats mappings specially)."""
    if isinstance(expr, cst.Name):
        binding = facts.single_binding(expr.value)
        if isinstance(binding, cst.Param) and binding.annotation is not None and not binding.star:
            annotation = binding.annotation.annotation
            if isinstance(annotation, cst.Name):
                return annotation.value in {"str", "bytes"}
            return generic_name(annotation) in NON_MAPPING_ITERABLES
        value = binding_value(facts, binding)
        return isinstance(value, cst.List | cst.ListComp | cst.Tuple | cst.Set | cst.SetComp)
    if is_builtin_call(facts, expr, "range"):
        return True
    if facts.type_of(expr) == "str":
        return True
    is_split = m.matches(expr, m.Call(func=m.Attribute(attr=m.Name("split"))))
    return is_split and facts.element_type(expr) == "str"


def has_immutable_bindings(facts: FunctionFacts, name: str) -> bool:
    """Every binding of local `name` gives it an immutable builtin value.

    Such values (int, float, str, bytes, bool, complex, None) have no in-place
    operators, so `x op= y` and `x = x op y` are the same for any `y`.
    """
    if not facts.is_local(name) or facts.scope is None:
        return False
    for assignment in facts.scope.assignments[name]:
        if not isinstance(assignment, Assignment):
            return False
        node = assignment.node
        if isinstance(node, cst.Param):
            if node.star or node.annotation is None:
                return False
            annotation = node.annotation.annotation
            if not (isinstance(annotation, cst.Name) and annotation.value in HASHABLE_TYPES):
                return False
            continue
        if not isinstance(node, cst.Name):
            return False
        parent = facts.parent(node)
        if isinstance(parent, cst.For) and parent.target is node:
            if facts.element_type(parent.iter) not in HASHABLE_TYPES:
                return False
            continue
        if isinstance(parent, cst.AugAssign) and parent.target is node:
            if facts.type_of(parent.value) not in HASHABLE_TYPES:
                return False
            continue
        value = binding_value(facts, node)
        if value is None or not _immutable_value(facts, value, name):
            return False
    return True


def _immutable_value(facts: FunctionFacts, value: cst.BaseExpression, name: str) -> bool:
    if facts.type_of(value) in HASHABLE_TYPES:
        return True
    if isinstance(value, cst.BinaryOperation):
        return all(
            (isinstance(side, cst.Name) and side.value == name)
            or facts.type_of(side) in HASHABLE_TYPES
            for side in (value.left, value.right)
        )
    return False


# --- hazards ---------------------------------------------------------------


def has_scope_hazard(node: cst.CSTNode) -> bool:
    """Code that would behave differently once moved into a nested scope."""
    if m.findall(
        node,
        m.Lambda() | m.FunctionDef() | m.ClassDef() | m.NamedExpr() | m.Yield() | m.Await()
        | m.Global() | m.Nonlocal(),
    ):
        return True
    return any(name_references(node, name) for name in SCOPE_SENSITIVE_NAMES)


def has_comment(node: cst.CSTNode) -> bool:
    return bool(m.findall(node, m.Comment()))


def comprehension_operand(expr: cst.BaseExpression) -> cst.BaseExpression:
    """Parenthesise an expression that cannot stand bare as a comprehension's iter/if."""
    needs = isinstance(expr, cst.IfExp | cst.Lambda | cst.NamedExpr | cst.Yield) or (
        isinstance(expr, cst.Tuple) and not expr.lpar
    )
    if needs and not expr.lpar:
        return expr.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
    return expr


def simple_constant(expr: cst.BaseExpression) -> bool:
    """A literal whose evaluation can never fail or run user code."""
    if isinstance(expr, cst.Integer | cst.Float | cst.Imaginary | cst.SimpleString):
        return True
    if isinstance(expr, cst.ConcatenatedString):
        return simple_constant(expr.left) and simple_constant(expr.right)
    if isinstance(expr, cst.Name):
        return expr.value in {"None", "True", "False"}
    if isinstance(expr, cst.UnaryOperation) and isinstance(expr.operator, cst.Minus):
        return isinstance(expr.expression, cst.Integer | cst.Float)
    return False


def is_str_literal(expr: cst.BaseExpression) -> bool:
    if isinstance(expr, cst.SimpleString):
        return "b" not in expr.prefix.lower()
    if isinstance(expr, cst.ConcatenatedString):
        return is_str_literal(expr.left) and is_str_literal(expr.right)  # type: ignore[arg-type]
    return False


def single_positional_arg(call: cst.Call) -> cst.BaseExpression | None:
    if len(call.args) == 1 and call.args[0].keyword is None and not call.args[0].star:
        return call.args[0].value
    return None


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


def replace_initialiser(
    statement: cst.BaseStatement, value: cst.BaseExpression
) -> cst.BaseStatement:
    assert isinstance(statement, cst.SimpleStatementLine)
    small = statement.body[0]
    assert isinstance(small, cst.Assign | cst.AnnAssign)
    return statement.with_changes(body=[small.with_changes(value=value)])


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
    - the loop holds no comments (they would be lost) and no code that would
      behave differently inside a nested scope.
    """
    head = initialiser(init)
    if head is None or not isinstance(loop, cst.For):
        return None
    name, value = head
    if loop.orelse is not None or loop.asynchronous is not None:
        return None
    if not facts.is_private_local(name) or facts.in_try_block(loop):
        return None
    if has_comment(loop) or has_scope_hazard(loop) or name_references(loop.iter, name):
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
        if (
            allow_conditions
            and isinstance(statement, cst.If)
            and statement.orelse is None
        ):
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


def rewrite_block_pairs(
    original: cst.IndentedBlock,
    updated: cst.IndentedBlock,
    rewrite: Callable[[cst.BaseStatement, cst.BaseStatement], Sequence[cst.BaseStatement] | None],
) -> cst.IndentedBlock:
    """Offer each (statement, next statement) pair of a block to `rewrite`.

    `rewrite` analyses the ORIGINAL pair (metadata is keyed on it) and returns the
    statements that replace both, or None. Pairs whose children were already
    changed by another rewrite are skipped.
    """
    body: list[cst.BaseStatement] = []
    index = 0
    changed = False
    while index < len(original.body):
        if index + 1 < len(original.body) and all(
            updated.body[i].deep_equals(original.body[i]) for i in (index, index + 1)
        ):
            replacement = rewrite(original.body[index], original.body[index + 1])
            if replacement is not None:
                body.extend(replacement)
                index += 2
                changed = True
                continue
        body.append(updated.body[index])
        index += 1
    return updated.with_changes(body=body) if changed else updated


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


# --- boolean chains ----------------------------------------------------------


def flatten_chain(
    node: cst.BaseExpression, operator: type[cst.BaseBooleanOp]
) -> list[cst.BaseExpression]:
    """`a or b or c` (left-nested, unparenthesised) as [a, b, c]."""
    if (
        isinstance(node, cst.BooleanOperation)
        and isinstance(node.operator, operator)
        and not node.lpar
    ):
        return [*flatten_chain(node.left, operator), node.right]
    return [node]


def is_chain_top(
    facts_parent: cst.CSTNode | None, node: cst.BooleanOperation
) -> bool:
    """`node` is not the left operand of a longer unparenthesised chain of its operator."""
    return not (
        isinstance(facts_parent, cst.BooleanOperation)
        and type(facts_parent.operator) is type(node.operator)
        and facts_parent.left is node
        and not node.lpar
    )


def rebuild_chain(
    operands: Sequence[cst.BaseExpression],
    operator: cst.BaseBooleanOp,
    template: cst.BooleanOperation,
) -> cst.BaseExpression:
    result = operands[0]
    for operand in operands[1:]:
        result = cst.BooleanOperation(left=result, operator=operator, right=operand)
    if isinstance(result, cst.BooleanOperation) or template.lpar:
        return result.with_changes(lpar=template.lpar, rpar=template.rpar)
    return result


def group_runs(
    original: Sequence[cst.BaseExpression],
    key: Callable[[cst.BaseExpression], str | None],
) -> list[tuple[int, int]]:
    """Maximal runs [start, end) of ≥2 consecutive operands sharing a non-None key."""
    runs: list[tuple[int, int]] = []
    start = 0
    while start < len(original):
        current = key(original[start])
        end = start + 1
        if current is not None:
            while end < len(original) and key(original[end]) == current:
                end += 1
        if current is not None and end - start >= 2:
            runs.append((start, end))
        start = end
    return runs


# --- list(filter(lambda ...)) / list(map(lambda ...)) ------------------------


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


# --- passes that merge runs of `a or b or c` operands -------------------------


def tuple_of(values: Sequence[cst.BaseExpression]) -> cst.Tuple:
    """`(a, b, c)` with the usual `, ` separators."""
    return cst.Tuple(
        [
            cst.Element(
                value,
                comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
                if index < len(values) - 1
                else cst.MaybeSentinel.DEFAULT,
            )
            for index, value in enumerate(values)
        ]
    )


class ChainPass(FunctionPass):
    """Merges maximal runs of ≥2 adjacent operands of an `or`/`and` chain.

    Subclasses give `operand_key` (on ORIGINAL operands, with facts; operands
    with equal non-None keys may be merged) and `merge` (on the UPDATED
    operands of one run; None declines). Only the top of a chain is handled,
    so `a or b or c` is seen once as three operands.
    """

    chain_operators: tuple[type[cst.BaseBooleanOp], ...] = (cst.Or,)

    def operand_key(
        self, facts: FunctionFacts, operand: cst.BaseExpression, operator: cst.BaseBooleanOp
    ) -> str | None:
        raise NotImplementedError

    def merge(
        self, operands: Sequence[cst.BaseExpression], operator: cst.BaseBooleanOp
    ) -> cst.BaseExpression | None:
        raise NotImplementedError

    def leave_BooleanOperation(
        self, original_node: cst.BooleanOperation, updated_node: cst.BooleanOperation
    ) -> cst.BaseExpression:
        operator_type = type(original_node.operator)
        if operator_type not in self.chain_operators:
            return updated_node
        facts = self.facts_for(original_node)
        if facts is None or not is_chain_top(facts.parent(original_node), original_node):
            return updated_node
        # The top node's own parentheses do not stop flattening of its operands.
        originals = [*flatten_chain(original_node.left, operator_type), original_node.right]
        updateds = [*flatten_chain(updated_node.left, operator_type), updated_node.right]
        if len(originals) != len(updateds):
            return updated_node
        operator = original_node.operator
        runs = group_runs(originals, lambda op: self.operand_key(facts, op, operator))
        if not runs:
            return updated_node
        operands: list[cst.BaseExpression] = []
        position = 0
        for start, end in runs:
            merged = self.merge(updateds[start:end], operator)
            if merged is None:
                continue
            operands.extend(updateds[position:start])
            operands.append(merged)
            position = end
        if position == 0:
            return updated_node
        operands.extend(updateds[position:])
        return rebuild_chain(operands, updated_node.operator, updated_node)
