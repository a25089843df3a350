"""OPT105: `x in param` inside a loop tests a set built once before the loop."""

from __future__ import annotations

import ast

import libcst as cst

from passes import _ast_prefilter as pre
from passes._annotations import element_type, param_generic
from passes._builtins import HASHABLE_TYPES
from passes._effects import is_generator_or_async, runs_no_foreign_code
from passes._facts import FunctionFacts, FunctionPass
from passes._flow_types import proven_type
from passes._loop_shapes import enclosing_loops
from passes._names import builtin_available, name_references
from passes._shapes import is_builtin_len_of, membership_target
from passes._splicing import Replacements
from passes.base import Example

SEQUENCES = frozenset({"list", "List", "Sequence", "tuple", "Tuple"})


class HoistMembershipSet(FunctionPass):
    """What it does:
        When a loop tests `x in param` (or `not in`) against a parameter annotated
        `list[T]`, `Sequence[T]` or `tuple[T, ...]`, builds `param_set = set(param)`
        once just before the outermost such loop and tests `x in param_set`.

    Why it is faster:
        Each `x in param` scans the sequence, so the loop costs O(n*m). Building the
        set is O(m) once, and each test becomes a hash lookup.

    Fix safety:
        The pass fires only when all of these are proven:
        - `T` is a builtin hashable type (int, str, bytes, bool, float, complex,
          None), so `set(param)` cannot raise and runs no user code, and for these
          types hashing agrees with equality (both containers test identity first,
          so NaN behaves the same);
        - the tested `x` provably has such a type too, so the set lookup cannot
          raise `TypeError: unhashable type`;
        - `param` is never rebound, and is only used in membership tests, as the
          iterable of a loop or in `len(param)`: the function never mutates it;
        - the function is not a generator or coroutine (the caller could mutate
          `param` while it is suspended), and inside the loop every call is a pure
          builtin or `append`/`add` on a fresh local container, no other attribute
          is touched and nothing is stored into a non-fresh object: no code can run
          that could mutate `param` through an alias;
        - `set` is not shadowed.
        Building the set before the loop also happens when the loop runs zero times;
        that costs O(m) but cannot raise.
    """

    code = "OPT105"
    name = "hoist-membership-set"
    summary = "Build a set from a sequence parameter once, before a loop that tests `in` on it."
    complexity_win = True
    triggers = (" in ",)

    @classmethod
    def may_match_ast(cls, function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
        """`v in param` / `v not in param` (one operator) for an annotated parameter, in a
        function that has a `for`/`while` loop."""
        if not pre.has(function, ast.For, ast.While):
            return False
        params = pre.annotated_parameters(function)
        for node in pre.nodes(function, ast.Compare):
            assert isinstance(node, ast.Compare)
            if (
                len(node.ops) == 1
                and isinstance(node.ops[0], ast.In | ast.NotIn)
                and isinstance(node.comparators[0], ast.Name)
                and node.comparators[0].id in params
            ):
                return True
        return False

    EXAMPLES = (
        Example(
            before='''\
def common(xs: list[int], ys: list[int]) -> list[int]:
    out = []
    for x in xs:
        if x in ys:
            out.append(x)
    return out
''',
            after='''\
def common(xs: list[int], ys: list[int]) -> list[int]:
    out = []
    ys_set = set(ys)
    for x in xs:
        if x in ys_set:
            out.append(x)
    return out
''',
        ),
        Example(
            before='''\
def count_unknown(words: list[str], vocab: tuple[str, ...]) -> int:
    misses = 0
    for word in words:
        if word.lower() not in vocab and len(vocab) > 0:
            misses += 1
    return misses
''',
            after='''\
def count_unknown(words: list[str], vocab: tuple[str, ...]) -> int:
    misses = 0
    vocab_set = set(vocab)
    for word in words:
        if word.lower() not in vocab_set and len(vocab) > 0:
            misses += 1
    return misses
''',
        ),
    )
    NON_EXAMPLES = (
        # The sequence is mutated inside the loop: a snapshot set would go stale.
        '''\
def grow(xs: list[int], ys: list[int]) -> int:
    hits = 0
    for x in xs:
        if x in ys:
            hits += 1
        ys.append(x)
    return hits
''',
        # The elements are lists: `set(rows)` would raise TypeError.
        '''\
def known_rows(rows: list[list[int]], table: list[list[int]]) -> int:
    hits = 0
    for row in rows:
        if row in table:
            hits += 1
    return hits
''',
        # An unknown call in the loop could mutate `ys` through another reference.
        '''\
def logged(xs: list[int], ys: list[int]) -> int:
    hits = 0
    for x in xs:
        record(x)
        if x in ys:
            hits += 1
    return hits
''',
        # A generator: the caller may mutate `ys` between two `yield`s.
        '''\
def members(xs: list[int], ys: list[int]):
    for x in xs:
        if x in ys:
            yield x
''',
    )

    def function_replacements(
        self, facts: FunctionFacts, function: cst.FunctionDef
    ) -> Replacements:
        if is_generator_or_async(function) or not builtin_available(facts, "set"):
            return {}
        for param in (*function.params.params, *function.params.kwonly_params):
            replacements = self._hoist(facts, function, param.name.value)
            if replacements:
                return replacements
        return {}

    def _hoist(self, facts: FunctionFacts, function: cst.FunctionDef, name: str) -> Replacements:
        generic = param_generic(facts, name)
        if generic.name not in SEQUENCES or element_type(generic) not in HASHABLE_TYPES:
            return {}
        if not facts.is_private_local(name):
            return {}
        tests: dict[int, list[cst.Name]] = {}
        loops: dict[int, cst.For | cst.While] = {}
        for reference in name_references(function.body, name):
            parent = facts.parent(reference)
            if isinstance(parent, cst.Param):
                continue
            if isinstance(parent, cst.For | cst.CompFor) and parent.iter is reference:
                continue
            if is_builtin_len_of(facts, reference):
                continue
            tested = membership_target(facts, reference)
            if tested is None:
                return {}
            outer = enclosing_loops(facts, reference)
            if not outer or proven_type(facts, tested) not in HASHABLE_TYPES:
                continue
            loop = outer[-1]
            loops[id(loop)] = loop
            tests.setdefault(id(loop), []).append(reference)
        for key, loop in loops.items():
            if runs_no_foreign_code(facts, loop):
                return self._replacements(facts, name, loop, tests[key])
        return {}

    def _replacements(
        self, facts: FunctionFacts, name: str, loop: cst.For | cst.While, tests: list[cst.Name]
    ) -> Replacements:
        hoisted = facts.fresh_name(f"{name}_set")
        replacements: Replacements = {id(test): lambda node: cst.Name(hoisted) for test in tests}

        def prepend(node: cst.CSTNode) -> cst.FlattenSentinel[cst.CSTNode]:
            assert isinstance(node, cst.For | cst.While)
            assignment = cst.parse_statement(f"{hoisted} = set({name})\n")
            moved = node.with_changes(leading_lines=())
            return cst.FlattenSentinel(
                [assignment.with_changes(leading_lines=node.leading_lines), moved]
            )

        replacements[id(loop)] = prepend
        return replacements
