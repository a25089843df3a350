"""OPT109: pure builtin calls on unchanging arguments leave the loop that repeats them."""

from __future__ import annotations

import ast
import re
from collections.abc import Callable

import libcst as cst
import libcst.matchers as m
from libcst.metadata import ComprehensionScope, QualifiedNameProvider, ScopeProvider

from passes import _ast_prefilter as pre
from passes._annotations import PLAIN_DICT_GENERICS, SIZED_GENERICS, element_type, param_generic
from passes._builtins import PURE
from passes._effects import is_generator_or_async, runs_no_foreign_code
from passes._facts import FunctionFacts, FunctionPass
from passes._names import builtin_available, in_store_context, name_references
from passes._shapes import enclosing_statement, membership_target
from passes._splicing import Replacements, code_of
from passes.base import Example

# Builtins whose result is immutable, so one shared result cannot be changed by a use.
HOISTABLE = frozenset({"max", "min", "sum", "len", "abs", "tuple", "frozenset"})
_AST_LOOPS = (ast.For, ast.AsyncFor, ast.While)
_AST_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
ORDERED_ELEMENTS = frozenset({"int", "float", "bool", "str"})
NUMERIC_ELEMENTS = frozenset({"int", "float", "bool"})
LOOPS = m.For() | m.While() | m.ListComp() | m.SetComp() | m.DictComp() | m.GeneratorExp()


class HoistLoopInvariant(FunctionPass):
    """What it does:
        Moves a call that gives the same result on every iteration out of the loop
        or comprehension that repeats it, into a fresh local computed just before:
        `[s / max(scores) for s in scores]` computes `max(scores)` once, and
        `re.compile("<literal>")` inside a loop is compiled once.

    Why it is faster:
        `max(xs)`, `sum(xs)`, `len(xs)`, ... are O(n) each; inside a loop over n
        items they make it O(n^2). Hoisted, the loop is linear.

    Fix safety:
        The hoisted call is evaluated before the loop, once, even when the loop
        runs zero times or would not reach it, so the pass proves that it has no
        effect, cannot raise, and gives the value the loop would have seen:
        - the callee is the builtin `max`, `min`, `sum`, `len`, `abs`, `tuple` or
          `frozenset` (immutable results, so sharing one result is invisible), with
          one plain argument: a parameter annotated as a builtin container of a
          simple type (`len`, `tuple`, `frozenset`; `max`/`min` need int, float,
          bool or str items, `sum` numbers; `abs` a plain int/float parameter), so
          the call runs no user code and cannot raise; `max`/`min` raise on an
          empty input, so they are hoisted as `max(xs) if xs else None`, and the
          loop only ever sees the value when `xs` is non-empty;
        - the parameter is never rebound, and every use of it in the function
          only reads it (iteration, `len`, pure builtins, membership, indexing,
          truth tests); the function is not a generator or coroutine and inside
          the loop no code we cannot see runs (only pure builtins and appends to
          fresh local containers), so nothing can mutate it through an alias while
          the loop runs;
        - or the call is `re.compile(<str literal>)` with `re` the standard module
          and a pattern that compiles: `re.compile` is pure and caches, so one
          compiled pattern is what every iteration got.
        The call must not sit in the iterable of the loop's first `for` clause
        (already evaluated once) nor in a nested function or lambda.
    """

    code = "OPT109"
    name = "hoist-loop-invariant"
    summary = "Compute a loop-invariant max/min/sum/len or re.compile once, before the loop."
    complexity_win = True
    triggers = ("max(", "min(", "sum(", "len(", "abs(", "tuple(", "frozenset(", "compile(")

    @classmethod
    def may_match_ast(cls, function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
        """Inside a loop or comprehension, a call `f(param)` with f in HOISTABLE and
        `param` an annotated parameter name (the pass reads its type from the
        annotation), or `re.compile(<str literal>)`."""
        if not pre.has(function, *_AST_LOOPS, *_AST_COMPREHENSIONS):
            return False
        params = pre.annotated_parameters(function)
        repeated = {
            id(node)
            for loop in pre.nodes(function, *_AST_LOOPS, *_AST_COMPREHENSIONS)
            for node in ast.walk(loop)
            if isinstance(node, ast.Call)
        }
        for call in pre.nodes(function, ast.Call):
            assert isinstance(call, ast.Call)
            if id(call) not in repeated:
                continue
            argument = pre.single_positional_arg(call)
            if argument is None:
                continue
            if (
                isinstance(call.func, ast.Name)
                and call.func.id in HOISTABLE
                and isinstance(argument, ast.Name)
                and argument.id in params
            ):
                return True
            if pre.is_method_call(call, "compile", "re") and pre.is_str_literal(argument):
                return True
        return False

    EXAMPLES = (
        Example(
            before='''\
def normalise(scores: list[int]) -> list[float]:
    return [s / max(scores) for s in scores]
''',
            after='''\
def normalise(scores: list[int]) -> list[float]:
    scores_max = max(scores) if scores else None
    return [s / scores_max for s in scores]
''',
        ),
        Example(
            before='''\
def shares(counts: list[int]) -> list[float]:
    out = []
    for c in counts:
        if len(counts) > 1:
            out.append(c / sum(counts))
        else:
            out.append(1.0)
    return out
''',
            after='''\
def shares(counts: list[int]) -> list[float]:
    out = []
    counts_len = len(counts)
    counts_sum = sum(counts)
    for c in counts:
        if counts_len > 1:
            out.append(c / counts_sum)
        else:
            out.append(1.0)
    return out
''',
        ),
        Example(
            before='''\
import re


def tickets(messages: list[str]) -> list[str]:
    found = []
    for message in messages:
        pattern = re.compile(r"\\b[A-Z]+-\\d+\\b")
        for match in pattern.findall(message):
            found.append(match)
    return found
''',
            after='''\
import re


def tickets(messages: list[str]) -> list[str]:
    found = []
    compiled_pattern = re.compile(r"\\b[A-Z]+-\\d+\\b")
    for message in messages:
        pattern = compiled_pattern
        for match in pattern.findall(message):
            found.append(match)
    return found
''',
        ),
    )
    NON_EXAMPLES = (
        # The loop mutates the list: max() changes from one iteration to the next.
        '''\
def shrink(scores: list[int]) -> list[int]:
    out = []
    for s in list(scores):
        out.append(max(scores))
        scores.remove(s)
    return out
''',
        # Unknown code runs in the loop and may mutate `scores` through an alias.
        '''\
def scaled(scores: list[int], hook) -> list[float]:
    return [hook(s) / max(scores) for s in scores]
''',
        # Items of unknown type: max() could raise or run a user __lt__.
        '''\
def relative(scores: list) -> list[float]:
    return [s / max(scores) for s in scores]
''',
        # An invalid pattern raises re.error only when the loop runs.
        '''\
import re


def grep(lines: list[str]) -> list[str]:
    return [line for line in lines if re.compile("(").search(line)]
''',
        # The list is mutated elsewhere in the function: not provably unchanged.
        '''\
def spread(scores: list[int], limit: int) -> list[int]:
    out = []
    for s in scores:
        if s > limit:
            break
        out.append(s - min(scores))
    scores.append(limit)
    return out
''',
    )

    def function_replacements(
        self, facts: FunctionFacts, function: cst.FunctionDef
    ) -> Replacements:
        if is_generator_or_async(function):
            return {}
        hoists: dict[int, list[tuple[str, str]]] = {}
        chosen: dict[str, str] = {}
        replacements: Replacements = {}
        for call in m.findall(function.body, m.Call()):
            assert isinstance(call, cst.Call)
            hoisted = self._hoisted_code(facts, call)
            loop = self._loop_around(facts, call) if hoisted is not None else None
            anchor = enclosing_statement(facts, loop) if loop is not None else None
            if hoisted is None or anchor is None or not isinstance(
                facts.parent(anchor), cst.IndentedBlock
            ):
                continue
            expression, base = hoisted
            if expression not in chosen:
                taken = set(chosen.values())
                name, suffix = facts.fresh_name(base), 1
                while name in taken:
                    suffix += 1
                    name = facts.fresh_name(f"{base}_{suffix}")
                chosen[expression] = name
                hoists.setdefault(id(anchor), []).append((name, expression))
            replacements[id(call)] = _named(chosen[expression], call)
        for key, items in hoists.items():
            replacements[key] = _preceded_by(items)
        return replacements

    def _hoisted_code(self, facts: FunctionFacts, call: cst.Call) -> tuple[str, str] | None:
        """(code of the hoisted expression, base of its fresh name), or None."""
        if self._is_stdlib_compile(call):
            pattern = call.args[0].value
            assert isinstance(pattern, cst.SimpleString)
            return code_of(call), "compiled_pattern"
        func = call.func
        if not (
            isinstance(func, cst.Name)
            and func.value in HOISTABLE
            and facts.is_builtin(func, func.value)
            and builtin_available(facts, func.value)
            and len(call.args) == 1
            and not call.args[0].keyword
            and not call.args[0].star
            and isinstance(call.args[0].value, cst.Name)
        ):
            return None
        argument = call.args[0].value
        assert isinstance(argument, cst.Name)
        if not self._reaches_function_binding(facts, argument):
            return None
        if not self._cannot_raise(facts, func.value, argument.value):
            return None
        if not self._only_read(facts, argument.value):
            return None
        code = code_of(call)
        if func.value in {"max", "min"}:
            code = f"{code} if {argument.value} else None"
        return code, f"{argument.value}_{func.value}"

    def _reaches_function_binding(self, facts: FunctionFacts, name: cst.Name) -> bool:
        """`name` reads the function's own binding, possibly from inside
        comprehensions that do not bind it themselves."""
        scope = self.get_metadata(ScopeProvider, name, None)
        while isinstance(scope, ComprehensionScope) and name.value not in scope.assignments:
            scope = scope.parent
        return scope is not None and scope is facts.scope

    def _is_stdlib_compile(self, call: cst.Call) -> bool:
        names = self.get_metadata(QualifiedNameProvider, call.func, set())
        if not any(q.name == "re.compile" for q in names):
            return False
        if not m.matches(call.func, m.Attribute(value=m.Name("re"), attr=m.Name("compile"))):
            return False
        if len(call.args) != 1 or call.args[0].keyword or call.args[0].star:
            return False
        pattern = call.args[0].value
        if not isinstance(pattern, cst.SimpleString):
            return False
        value = pattern.evaluated_value
        if not isinstance(value, str):
            return False
        try:
            re.compile(value)
        except (re.error, RecursionError, OverflowError):
            return False
        return True

    def _cannot_raise(self, facts: FunctionFacts, builtin: str, name: str) -> bool:
        generic = param_generic(facts, name)
        if builtin == "abs":
            return generic.name in {"int", "float"}
        if generic.name not in SIZED_GENERICS - PLAIN_DICT_GENERICS:
            return False
        element = element_type(generic)
        if builtin in {"max", "min"}:
            return element in ORDERED_ELEMENTS
        if builtin == "sum":
            return element in NUMERIC_ELEMENTS
        return element is not None

    def _only_read(self, facts: FunctionFacts, name: str) -> bool:
        """`name` is a never-rebound, uncaptured parameter that the function only reads."""
        binding = facts.single_binding(name)
        if not isinstance(binding, cst.Param) or not facts.is_private_local(name):
            return False
        uses = name_references(facts.function.body, name)
        return all(_reads(facts, reference) for reference in uses)

    def _loop_around(self, facts: FunctionFacts, call: cst.Call) -> cst.CSTNode | None:
        """The outermost loop or comprehension that repeats `call` and whose statement
        runs no foreign code (any loop, for re.compile); None when not repeated."""
        found: cst.CSTNode | None = None
        compile_call = self._is_stdlib_compile(call)
        once = False  # the child is the first iterable of the comprehension above
        child: cst.CSTNode = call
        current = facts.parent(call)
        while current is not None and current is not facts.function:
            if isinstance(current, cst.FunctionDef | cst.Lambda | cst.ClassDef):
                return None
            if m.matches(current, LOOPS) and not once and _repeats(current, child):
                anchor = enclosing_statement(facts, current)
                if anchor is None or not (compile_call or runs_no_foreign_code(facts, anchor)):
                    break
                found = current
            once = isinstance(current, cst.CompFor) and child is current.iter and isinstance(
                facts.parent(current), cst.ListComp | cst.SetComp | cst.DictComp | cst.GeneratorExp
            )
            child, current = current, facts.parent(current)
        return found


def _repeats(loop: cst.CSTNode, child: cst.CSTNode) -> bool:
    """`child` of `loop` runs once per iteration (not its iterable or else clause)."""
    if isinstance(loop, cst.For):
        return child is loop.body
    return True


def _reads(facts: FunctionFacts, reference: cst.Name) -> bool:
    parent = facts.parent(reference)
    if isinstance(parent, cst.Param):
        return True
    if isinstance(parent, cst.Subscript) and parent.value is reference:
        return not in_store_context(facts, parent)
    if isinstance(parent, cst.For | cst.CompFor) and parent.iter is reference:
        return True
    if isinstance(parent, cst.If | cst.While | cst.IfExp) and parent.test is reference:
        return True
    if membership_target(facts, reference) is not None:
        return True
    if isinstance(parent, cst.Arg) and not parent.keyword and not parent.star:
        call = facts.parent(parent)
        return (
            isinstance(call, cst.Call)
            and isinstance(call.func, cst.Name)
            and call.func.value in PURE
            and facts.is_builtin(call.func, call.func.value)
        )
    return False


def _named(name: str, original: cst.Call) -> Callable[[cst.CSTNode], cst.CSTNode]:
    def replace(node: cst.CSTNode) -> cst.CSTNode:
        return cst.Name(name, lpar=original.lpar, rpar=original.rpar)

    return replace


def _preceded_by(
    items: list[tuple[str, str]],
) -> Callable[[cst.CSTNode], cst.FlattenSentinel[cst.CSTNode]]:
    def replace(node: cst.CSTNode) -> cst.FlattenSentinel[cst.CSTNode]:
        assert isinstance(node, cst.BaseStatement)
        assigns = [cst.parse_statement(f"{name} = {expression}\n") for name, expression in items]
        return cst.FlattenSentinel([*assigns, node.with_changes(leading_lines=())])

    return replace
