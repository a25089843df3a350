"""Helpers shared by the algorithmic passes (OPT102-OPT115).

Like `_support`, every helper answers conservatively: `None` or `False` means
"not proven" and the calling pass must decline.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

import libcst as cst
import libcst.matchers as m
from libcst.codemod import CodemodContext
from libcst.metadata import Assignment, GlobalScope, Scope, ScopeProvider

from passes._support import (
    STR_METHODS_RETURNING_STR,
    FunctionFacts,
    flow_type_of,
    name_references,
)
from passes.base import OptimizationPass

Loop = cst.For | cst.While
# Callbacks keyed by id() of an original node; a statement may become a FlattenSentinel.
Replacements = dict[int, Callable[[cst.CSTNode], "cst.CSTNode | cst.FlattenSentinel[cst.CSTNode]"]]

BUILTIN_CONTAINERS = frozenset({"list", "tuple", "set", "frozenset", "dict", "str", "bytes"})
LIST_GENERICS = frozenset({"list", "List"})
SIZED_GENERICS = frozenset(
    {"list", "List", "tuple", "Tuple", "set", "Set", "frozenset", "FrozenSet", "dict", "Dict"}
)
ITERABLE_GENERICS = SIZED_GENERICS | frozenset(
    {"Sequence", "MutableSequence", "Iterable", "Collection", "AbstractSet", "Mapping"}
)
HASHABLE_ELEMENTS = frozenset({"int", "str", "bool", "bytes", "float", "complex", "None"})


class FunctionPass(OptimizationPass):
    """An `OptimizationPass` that keeps a stack of `FunctionFacts` while visiting."""

    def __init__(self, context: CodemodContext) -> None:
        super().__init__(context)
        self.functions: list[FunctionFacts] = []

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.functions.append(FunctionFacts(self, node))

    def leave_FunctionDef(
        self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef
    ) -> cst.BaseStatement | cst.FlattenSentinel[cst.BaseStatement] | cst.RemovalSentinel:
        facts = self.functions.pop()
        replacements = self.function_replacements(facts, original_node)
        return rewrite_function(original_node, updated_node, replacements)

    def function_replacements(
        self, facts: FunctionFacts, function: cst.FunctionDef
    ) -> Replacements:
        """Whole-function rewrites, keyed by id() of nodes of `function` (original)."""
        return {}

    @property
    def facts(self) -> FunctionFacts | None:
        return self.functions[-1] if self.functions else None


# --- names -------------------------------------------------------------------------


def _has_star_import(module: cst.Module | None) -> bool:
    if module is None:
        return True
    return bool(m.findall(module, m.ImportFrom(names=m.ImportStar())))


def _scope_chain(facts: FunctionFacts) -> Iterator[Scope]:
    scope: Scope | None = facts.scope
    while scope is not None:
        yield scope
        if isinstance(scope, GlobalScope):
            return
        scope = scope.parent


def builtin_available(facts: FunctionFacts, module: cst.Module | None, name: str) -> bool:
    """A new reference to `name` written inside this function reaches the builtin."""
    if facts.scope is None or _has_star_import(module):
        return False
    return not any(name in scope.assignments for scope in _scope_chain(facts))


def import_available(
    facts: FunctionFacts, module: cst.Module | None, name: str, from_module: str | None
) -> bool:
    """`name` can be bound by `import name` / `from from_module import name` without
    clashing: it is unbound everywhere visible, or bound only by that same import."""
    if facts.scope is None or _has_star_import(module):
        return False
    for scope in _scope_chain(facts):
        for assignment in scope.assignments[name]:
            node = getattr(assignment, "node", None)
            if not isinstance(scope, GlobalScope) or not _is_import_of(node, name, from_module):
                return False
    return True


def _is_import_of(node: object, name: str, from_module: str | None) -> bool:
    if from_module is None:
        return isinstance(node, cst.Import) and any(
            isinstance(alias.name, cst.Name) and alias.name.value == name and alias.asname is None
            for alias in node.names
        )
    return (
        isinstance(node, cst.ImportFrom)
        and node.relative == ()
        and node.module is not None
        and cst.Module([]).code_for_node(node.module) == from_module
        and not isinstance(node.names, cst.ImportStar)
        and all(
            isinstance(alias.name, cst.Name) and alias.name.value == name and alias.asname is None
            for alias in node.names
            if alias.evaluated_alias == name or alias.evaluated_name == name
        )
    )


def binding_nodes(facts: FunctionFacts, name: str) -> list[cst.CSTNode] | None:
    """Every node binding `name` in this function, or None unless it is a private local."""
    if facts.scope is None or not facts.is_private_local(name):
        return None
    nodes: list[cst.CSTNode] = []
    for assignment in facts.scope.assignments[name]:
        if not isinstance(assignment, Assignment):
            return None
        nodes.append(assignment.node)
    return nodes


def resolves_locally(
    transformer: OptimizationPass, facts: FunctionFacts, node: cst.Name
) -> bool | None:
    """True when `node` names a binding of this function (or a comprehension inside
    it), False when it reaches a global or builtin, None when unknown."""
    scope = transformer.get_metadata(ScopeProvider, node, None)
    while scope is not None:
        if node.value in scope.assignments:
            return True
        if scope is facts.scope:
            return False
        if isinstance(scope, GlobalScope):
            return None
        scope = scope.parent
    return None


# --- annotations -------------------------------------------------------------------


def generic_of(annotation: cst.BaseExpression | None) -> tuple[str, list[cst.BaseExpression]]:
    """("list", [int]) for `list[int]`; ("", []) when not a simple generic."""
    if annotation is None:
        return "", []
    target = annotation.value if isinstance(annotation, cst.Subscript) else annotation
    if isinstance(target, cst.Name):
        generic = target.value
    elif isinstance(target, cst.Attribute):
        generic = target.attr.value
    else:
        return "", []
    if not isinstance(annotation, cst.Subscript):
        return generic, []
    args: list[cst.BaseExpression] = []
    for element in annotation.slice:
        if not isinstance(element.slice, cst.Index):
            return "", []
        args.append(element.slice.value)
    return generic, args


def param_generic(facts: FunctionFacts, name: str) -> tuple[str, list[cst.BaseExpression]]:
    """The annotation generic of a parameter that the function never rebinds."""
    binding = facts.single_binding(name)
    if not isinstance(binding, cst.Param) or binding.star or binding.annotation is None:
        return "", []
    return generic_of(binding.annotation.annotation)


def simple_type(annotation: cst.BaseExpression | None) -> str | None:
    if isinstance(annotation, cst.Name) and annotation.value in HASHABLE_ELEMENTS:
        return annotation.value
    return None


def homogeneous_element(generic: str, args: Sequence[cst.BaseExpression]) -> str | None:
    """The simple element type of list[T], Sequence[T], set[T], tuple[T, ...], ..."""
    if generic in {"tuple", "Tuple"}:
        if len(args) == 2 and isinstance(args[1], cst.Ellipsis):
            return simple_type(args[0])
        return None
    if generic in ITERABLE_GENERICS - {"dict", "Dict", "Mapping"} and len(args) == 1:
        return simple_type(args[0])
    return None


def known_iterable(facts: FunctionFacts, expr: cst.BaseExpression) -> bool:
    """`expr` is a builtin container or builtin iterator, so iterating it (or asking
    its length hint) runs no user code and raises nothing."""
    if isinstance(expr, cst.Name):
        generic, _ = param_generic(facts, expr.value)
        return generic in ITERABLE_GENERICS or generic in {"str", "bytes"}
    if (
        isinstance(expr, cst.Call)
        and isinstance(expr.func, cst.Name)
        and expr.func.value == "range"
        and facts.is_builtin(expr.func, "range")
    ):
        return all(
            facts.type_of(arg.value) == "int" and not arg.keyword and not arg.star
            for arg in expr.args
        ) and 1 <= len(expr.args) <= 3
    return False


# --- statements --------------------------------------------------------------------


def assigned_value(statement: cst.CSTNode, name: str) -> cst.BaseExpression | None:
    """`value` when `statement` is exactly `name = value`."""
    if m.matches(
        statement,
        m.SimpleStatementLine(body=[m.Assign(targets=[m.AssignTarget(target=m.Name(name))])]),
    ):
        return statement.body[0].value  # type: ignore[attr-defined,no-any-return]
    return None


def enclosing_statement(facts: FunctionFacts, node: cst.CSTNode) -> cst.CSTNode | None:
    """The nearest SimpleStatementLine or compound statement around `node`."""
    current: cst.CSTNode | None = node
    while current is not None and not isinstance(
        current, cst.SimpleStatementLine | cst.BaseCompoundStatement
    ):
        current = facts.parent(current)
    return current


def inside(facts: FunctionFacts, node: cst.CSTNode, ancestor: cst.CSTNode) -> bool:
    current: cst.CSTNode | None = node
    while current is not None:
        if current is ancestor:
            return True
        current = facts.parent(current)
    return False


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


def is_generator_or_async(function: cst.FunctionDef) -> bool:
    if function.asynchronous is not None:
        return True
    return bool(m.findall(function.body, m.Yield() | m.Await()))


def membership_target(facts: FunctionFacts, reference: cst.Name) -> cst.BaseExpression | None:
    """For `v in name` / `v not in name` (a one-operator comparison whose right side
    is `reference`), return `v`."""
    target = facts.parent(reference)
    if not (
        isinstance(target, cst.ComparisonTarget)
        and target.comparator is reference
        and isinstance(target.operator, cst.In | cst.NotIn)
    ):
        return None
    comparison = facts.parent(target)
    if isinstance(comparison, cst.Comparison) and len(comparison.comparisons) == 1:
        return comparison.left
    return None


def method_call(facts: FunctionFacts, reference: cst.Name) -> tuple[str, cst.Call] | None:
    """("append", call) when `reference` is the receiver of `name.append(...)`."""
    attribute = facts.parent(reference)
    if not isinstance(attribute, cst.Attribute) or attribute.value is not reference:
        return None
    call = facts.parent(attribute)
    if isinstance(call, cst.Call) and call.func is attribute:
        return attribute.attr.value, call
    return None


def plain_args(call: cst.Call, count: int) -> list[cst.BaseExpression] | None:
    """The positional argument values when `call` has exactly `count` plain ones."""
    if len(call.args) != count or any(arg.keyword or arg.star for arg in call.args):
        return None
    return [arg.value for arg in call.args]


def is_builtin_len_of(facts: FunctionFacts, reference: cst.Name) -> bool:
    arg = facts.parent(reference)
    call = facts.parent(arg) if isinstance(arg, cst.Arg) else None
    return (
        isinstance(call, cst.Call)
        and isinstance(call.func, cst.Name)
        and call.func.value == "len"
        and facts.is_builtin(call.func, "len")
        and plain_args(call, 1) is not None
        and call.args[0].value is reference
    )


def references(node: cst.CSTNode, name: str) -> list[cst.Name]:
    return name_references(node, name)


def is_hashable_constant(expr: cst.BaseExpression) -> str | None:
    """The type of a literal constant (with an optional sign) that is hashable."""
    if isinstance(expr, cst.UnaryOperation) and isinstance(
        expr.operator, cst.Minus | cst.Plus
    ):
        inner = is_hashable_constant(expr.expression)
        return inner if inner in {"int", "float", "complex"} else None
    if isinstance(expr, cst.Integer):
        return "int"
    if isinstance(expr, cst.Float):
        return "float"
    if isinstance(expr, cst.Imaginary):
        return "complex"
    if isinstance(expr, cst.SimpleString):
        return "bytes" if "b" in expr.prefix.lower() else "str"
    if isinstance(expr, cst.ConcatenatedString):
        left, right = is_hashable_constant(expr.left), is_hashable_constant(expr.right)
        return left if left == right else None
    if isinstance(expr, cst.Name) and expr.value in {"True", "False"}:
        return "bool"
    if isinstance(expr, cst.Name) and expr.value == "None":
        return "None"
    return None


def code(node: cst.CSTNode) -> str:
    return cst.Module([]).code_for_node(node)


def names_in_function_scope(
    transformer: OptimizationPass, facts: FunctionFacts, expr: cst.CSTNode
) -> bool:
    """Every Name inside `expr` is looked up in the function's own scope (not in a
    comprehension, lambda or nested function that may shadow a parameter)."""
    if facts.scope is None:
        return False
    return all(
        transformer.get_metadata(ScopeProvider, name, None) is facts.scope
        for name in variable_names(expr)
    )


def proven_type(
    transformer: OptimizationPass, facts: FunctionFacts, expr: cst.BaseExpression
) -> str | None:
    """The type of `expr` (see `flow_type_of`), only trusted when no name in `expr` can
    be shadowed."""
    if not names_in_function_scope(transformer, facts, expr):
        return None
    return flow_type_of(facts, expr)


class ReplaceNodes(cst.CSTTransformer):
    """Replace nodes of the tree being visited, chosen by identity, via callbacks that
    receive the updated node. Run it over the ORIGINAL tree whose nodes were analysed."""

    def __init__(self, replacements: Replacements) -> None:
        super().__init__()
        self.replacements = replacements

    def on_leave(  # type: ignore[override]
        self, original_node: cst.CSTNode, updated_node: cst.CSTNode
    ) -> cst.CSTNode | cst.FlattenSentinel[cst.CSTNode]:
        callback = self.replacements.get(id(original_node))
        return callback(updated_node) if callback is not None else updated_node


def rewrite_function(
    original: cst.FunctionDef,
    updated: cst.FunctionDef,
    replacements: Replacements,
) -> cst.FunctionDef:
    """Apply `replacements` (keyed on nodes of `original`) when nothing else inside the
    function has changed yet; otherwise leave it for a later round."""
    if not replacements or not updated.deep_equals(original):
        return updated
    result = original.visit(ReplaceNodes(replacements))
    assert isinstance(result, cst.FunctionDef)
    return result


def call_method(receiver: str, method: str, args: Sequence[cst.Arg]) -> cst.Call:
    return cst.Call(func=cst.Attribute(cst.Name(receiver), cst.Name(method)), args=args)


def is_list_typed(
    transformer: OptimizationPass, facts: FunctionFacts, expr: cst.BaseExpression
) -> bool:
    """`expr` provably evaluates to a list (a display, a list comprehension, a
    `list(...)`/`sorted(...)` builtin call, a parameter annotated `list[...]` or a loop
    variable over a parameter annotated as an iterable of `list[...]`)."""
    if isinstance(expr, cst.List | cst.ListComp):
        return True
    if isinstance(expr, cst.Call) and isinstance(expr.func, cst.Name):
        return expr.func.value in {"list", "sorted"} and facts.is_builtin(
            expr.func, expr.func.value
        )
    if not isinstance(expr, cst.Name) or not names_in_function_scope(transformer, facts, expr):
        return False
    binding = facts.single_binding(expr.value)
    if isinstance(binding, cst.Param):
        return param_generic(facts, expr.value)[0] in LIST_GENERICS
    if isinstance(binding, cst.Name):
        loop = facts.parent(binding)
        if isinstance(loop, cst.For) and loop.target is binding and isinstance(loop.iter, cst.Name):
            generic, args = param_generic(facts, loop.iter.value)
            if generic in ITERABLE_GENERICS - {"dict", "Dict", "Mapping"} and len(args) == 1:
                return generic_of(args[0])[0] in LIST_GENERICS
    return False


PURE_BUILTINS = frozenset(
    {"abs", "all", "any", "bool", "chr", "divmod", "enumerate", "float", "frozenset", "int",
     "isinstance", "len", "max", "min", "ord", "range", "repr", "reversed", "round", "set",
     "sorted", "str", "sum", "tuple", "list", "dict", "zip", "hash"}
)  # fmt: skip
FRESH_CONTAINER_METHODS = frozenset({"append", "add"})


def is_fresh_container(facts: FunctionFacts, name: str) -> bool:
    """Every binding of the private local `name` is `name = <display or comprehension>`,
    so it never refers to an object that came from outside the function."""
    bindings = binding_nodes(facts, name)
    if not bindings:
        return False
    for binding in bindings:
        target = facts.parent(binding)
        assign = facts.parent(target) if isinstance(target, cst.AssignTarget) else None
        if not (
            isinstance(assign, cst.Assign)
            and len(assign.targets) == 1
            and isinstance(
                assign.value, cst.List | cst.Set | cst.Dict | cst.ListComp | cst.SetComp
                | cst.DictComp
            )
        ):
            return False
    return True


def runs_no_foreign_code(facts: FunctionFacts, node: cst.CSTNode) -> bool:
    """Inside `node`, every call is a pure builtin or `append`/`add` on a fresh local
    container, no other attribute is touched, and nothing is stored into an attribute
    or an item of a non-fresh object: no code we cannot see can run and mutate
    arguments through an alias."""
    for call in m.findall(node, m.Call()):
        assert isinstance(call, cst.Call)
        func = call.func
        if isinstance(func, cst.Name):
            if func.value not in PURE_BUILTINS or not facts.is_builtin(func, func.value):
                return False
        elif not isinstance(func, cst.Attribute):
            return False
        elif func.attr.value in STR_METHODS_RETURNING_STR - {"format", "join"}:
            if not _is_str(facts, func.value):
                return False
        elif not (
            isinstance(func.value, cst.Name)
            and func.attr.value in FRESH_CONTAINER_METHODS
            and is_fresh_container(facts, func.value.value)
        ):
            return False
    for attribute in m.findall(node, m.Attribute()):
        parent = facts.parent(attribute)
        if not (isinstance(parent, cst.Call) and parent.func is attribute):
            return False
    for subscript in m.findall(node, m.Subscript()):
        assert isinstance(subscript, cst.Subscript)
        base = subscript.value
        if in_store_context(facts, subscript) and not (
            isinstance(base, cst.Name) and is_fresh_container(facts, base.value)
        ):
            return False
    return not m.findall(
        node, m.Global() | m.Nonlocal() | m.Yield() | m.Await() | m.Lambda() | m.FunctionDef()
        | m.ClassDef() | m.With() | m.Import() | m.ImportFrom()
    )


def _is_str(facts: FunctionFacts, expr: cst.BaseExpression) -> bool:
    if facts.scope is None:
        return False
    in_scope = all(
        facts.transformer.get_metadata(ScopeProvider, name, None) is facts.scope
        for name in variable_names(expr)
    )
    return in_scope and facts.type_of(expr) == "str"


def in_store_context(facts: FunctionFacts, node: cst.CSTNode) -> bool:
    """`node` is (part of) an assignment, deletion or loop target."""
    child, parent = node, facts.parent(node)
    while isinstance(parent, cst.Element | cst.StarredElement | cst.Tuple | cst.List):
        child, parent = parent, facts.parent(parent)
    if isinstance(parent, cst.AssignTarget | cst.Del):
        return True
    if isinstance(parent, cst.AugAssign | cst.AnnAssign):
        return parent.target is child
    if isinstance(parent, cst.For | cst.CompFor):
        return parent.target is child
    return False


class _VariableNames(cst.CSTVisitor):
    def __init__(self) -> None:
        self.found: list[cst.Name] = []

    def visit_Name(self, node: cst.Name) -> None:
        self.found.append(node)

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        node.value.visit(self)
        return False

    def visit_Arg(self, node: cst.Arg) -> bool:
        node.value.visit(self)
        return False


def variable_names(node: cst.CSTNode) -> list[cst.Name]:
    """Every Name in `node` that is a variable (not an attribute or a keyword)."""
    collector = _VariableNames()
    node.visit(collector)
    return collector.found


DICT_VIEWS = frozenset({"keys", "values", "items"})


def dict_view_owner(facts: FunctionFacts, expr: cst.BaseExpression) -> cst.Name | None:
    """`d` when `expr` is `d.keys()`, `d.values()` or `d.items()` and `d` is a
    parameter annotated `dict[...]` that is never rebound: a builtin view whose
    length, truth and iteration run no user code and follow `d`'s insertion order."""
    if not (
        isinstance(expr, cst.Call)
        and not expr.args
        and isinstance(expr.func, cst.Attribute)
        and expr.func.attr.value in DICT_VIEWS
        and isinstance(expr.func.value, cst.Name)
    ):
        return None
    owner = expr.func.value
    return owner if param_generic(facts, owner.value)[0] in {"dict", "Dict"} else None
