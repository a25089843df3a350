"""OPT105: `x in param` (or `x in self.attr`) inside a loop or comprehension tests a set
built once before it."""

from __future__ import annotations

import ast
from collections.abc import Sequence

import libcst as cst
import libcst.matchers as m
from libcst.metadata import ScopeProvider

from passes import _ast_prefilter as pre
from passes._annotations import element_type, generic_of, param_generic
from passes._builtins import HASHABLE_TYPES
from passes._effects import is_generator_or_async, runs_no_foreign_code
from passes._facts import FunctionFacts, FunctionPass
from passes._flow_types import proven_value_type
from passes._loop_shapes import enclosing_loops
from passes._names import builtin_available, in_store_context, name_references
from passes._shapes import enclosing_statement, is_builtin_len_of, membership_target
from passes._splicing import Replacements
from passes.base import Example

SEQUENCES = frozenset({"list", "List", "Sequence", "tuple", "Tuple"})


class HoistMembershipSet(FunctionPass):
    """What it does:
        When a loop tests `x in param` (or `not in`) against a parameter annotated
        `list[T]`, `Sequence[T]` or `tuple[T, ...]`, builds `param_set = set(param)`
        once just before the outermost such loop and tests `x in param_set`. A
        comprehension or generator expression outside any loop that tests
        `x in param` gets the set just before the statement that holds it:
        `[t for t in left if t in right]`.

        With a trace, a method's `x in self.items` is hoisted the same way when
        every recorded call's instance held `items` as such a sequence:
        `items_set = set(self.items)` before the loop.

    Why it is faster:
        Each `x in param` scans the sequence, so the loop costs O(n*m). Building the
        set is O(m) once, and each test becomes a hash lookup.

    Fix safety:
        The pass fires only when all of these are proven:
        - `T` is a builtin hashable type (int, str, bytes, bool, float, complex,
          None), so `set(param)` cannot raise and runs no user code, and for these
          types hashing agrees with equality (both containers test identity first,
          so NaN behaves the same);
        - the tested `x` provably has such a type too (from annotations, or, with
          a trace, the types every recorded call had; a comprehension's own
          variable is typed from its `for` clause), so the set lookup cannot raise
          `TypeError: unhashable type`;
        - `param` is never rebound, and is only used in membership tests, as the
          iterable of a loop or in `len(param)`: the function never mutates it;
        - every mention of `param` reads the parameter itself (no comprehension
          variable of the same name shadows it);
        - for a comprehension, the statement holding it is a simple statement and
          the only code that runs between building the set and the last test is
          that statement; a generator expression must be consumed right there, as
          the argument of a call (a generator kept for later could run after
          `param` changed);
        - for `self.attr`: `self` is the method's first parameter, never rebound,
          and every mention of `self.attr` in the method is a plain read used as
          above (never assigned, deleted, or called through, as `self.attr.append`);
          the class body neither binds `attr` (no property, method or class
          attribute of that name) nor defines `__getattribute__`, so reading it is a
          lookup in the instance's `__dict__`, where the trace saw it; inside the
          loop, `self` is only read from that way (`self.attr` of observed types);
        - the function is not a generator or coroutine (the caller could mutate
          `param` while it is suspended), and inside the loop (or the statement
          holding the comprehension) every call is a pure
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
        """`v in param` / `v not in param` (one operator) for an annotated parameter, or
        `v in self.attr` for the first parameter's attribute, in a function that has a
        `for`/`while` loop or a comprehension."""
        if not pre.has(
            function, ast.For, ast.While, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp
        ):
            return False
        params = pre.annotated_parameters(function)
        positional = [*function.args.posonlyargs, *function.args.args]
        instance = positional[0].arg if positional else None
        for node in pre.nodes(function, ast.Compare):
            assert isinstance(node, ast.Compare)
            if len(node.ops) != 1 or not isinstance(node.ops[0], ast.In | ast.NotIn):
                continue
            tested = node.comparators[0]
            if isinstance(tested, ast.Name) and tested.id in params:
                return True
            if (
                isinstance(tested, ast.Attribute)
                and isinstance(tested.value, ast.Name)
                and tested.value.id == instance
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
        Example(
            before='''\
def common(left: list[str], right: list[str]) -> list[str]:
    return [t for t in left if t in right]
''',
            after='''\
def common(left: list[str], right: list[str]) -> list[str]:
    right_set = set(right)
    return [t for t in left if t in right_set]
''',
        ),
        Example(
            before='''\
def count_known(words: list[str], known: tuple[str, ...]) -> int:
    words = [w.lower() for w in words]
    hits = sum(1 for w in words if w not in known)
    return hits
''',
            after='''\
def count_known(words: list[str], known: tuple[str, ...]) -> int:
    words = [w.lower() for w in words]
    known_set = set(known)
    hits = sum(1 for w in words if w not in known_set)
    return hits
''',
        ),
    )
    NON_EXAMPLES = (
        # A generator expression handed back: it runs after the caller may change `ys`.
        '''\
def members_of(xs: list[int], ys: list[int]):
    return (x for x in xs if x in ys)
''',
        # An unknown call in the same statement could mutate `vocab` first.
        '''\
def known(words: list[str], vocab: list[str]) -> list[str]:
    return record(words) + [w for w in words if w in vocab]
''',
        # The tested items are untyped: a user `__eq__` could disagree with hashing.
        '''\
def kept(xs, ys: list[int]) -> list[int]:
    return [x for x in xs if x in ys]
''',
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
        for attribute in _typed_instance_attributes(facts, function):
            replacements = self._hoist_attribute(facts, function, attribute)
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
        places: dict[int, cst.For | cst.While | cst.SimpleStatementLine] = {}
        for reference in name_references(function.body, name):
            parent = facts.parent(reference)
            if isinstance(parent, cst.Param):
                continue
            if not _reads_parameter(facts, reference):
                return {}
            if isinstance(parent, cst.For | cst.CompFor) and parent.iter is reference:
                continue
            if is_builtin_len_of(facts, reference):
                continue
            tested = membership_target(facts, reference)
            if tested is None:
                return {}
            place = _hoist_place(facts, reference, tested)
            if place is not None:
                places[id(place)] = place
                tests.setdefault(id(place), []).append(reference)
        for key, place in places.items():
            if runs_no_foreign_code(facts, place):
                return self._replacements(facts, name, name, place, tests[key])
        return {}

    def _hoist_attribute(
        self, facts: FunctionFacts, function: cst.FunctionDef, attribute: str
    ) -> Replacements:
        """`x in self.attr` in a loop, for an attribute of an observed sequence type."""
        reads = _instance_reads(facts, function, attribute)
        generic = generic_of(facts.attribute_annotation(reads[0])) if reads else None
        if generic is None or generic.name not in SEQUENCES:
            return {}
        if element_type(generic) not in HASHABLE_TYPES:
            return {}
        instance = reads[0].value
        assert isinstance(instance, cst.Name)
        if not facts.is_private_local(instance.value):
            return {}
        tests: dict[int, list[cst.Attribute]] = {}
        places: dict[int, cst.For | cst.While | cst.SimpleStatementLine] = {}
        for read in reads:
            parent = facts.parent(read)
            if in_store_context(facts, read) or facts.attribute_annotation(read) is None:
                return {}
            if isinstance(parent, cst.For | cst.CompFor) and parent.iter is read:
                continue
            if is_builtin_len_of(facts, read):
                continue
            tested = membership_target(facts, read)
            if tested is None:
                return {}
            place = _hoist_place(facts, read, tested)
            if place is not None:
                places[id(place)] = place
                tests.setdefault(id(place), []).append(read)
        for key, place in places.items():
            plain = _plain_instance_reads(facts, place, instance.value)
            if plain is not None and runs_no_foreign_code(facts, place, reads=plain):
                source = f"{instance.value}.{attribute}"
                return self._replacements(facts, attribute, source, place, tests[key])
        return {}

    def _replacements(
        self,
        facts: FunctionFacts,
        name: str,
        source: str,
        place: cst.For | cst.While | cst.SimpleStatementLine,
        tests: Sequence[cst.BaseExpression],
    ) -> Replacements:
        hoisted = facts.fresh_name(f"{name}_set")
        replacements: Replacements = {id(test): lambda node: cst.Name(hoisted) for test in tests}

        def prepend(node: cst.CSTNode) -> cst.FlattenSentinel[cst.CSTNode]:
            assert isinstance(node, cst.For | cst.While | cst.SimpleStatementLine)
            assignment = cst.parse_statement(f"{hoisted} = set({source})\n")
            moved = node.with_changes(leading_lines=())
            return cst.FlattenSentinel(
                [assignment.with_changes(leading_lines=node.leading_lines), moved]
            )

        replacements[id(place)] = prepend
        return replacements


def _reads_parameter(facts: FunctionFacts, reference: cst.Name) -> bool:
    """`reference` reads the function's own binding of its name: no comprehension,
    lambda or nested scope in between binds the same name."""
    scope = facts.transformer.get_metadata(ScopeProvider, reference, None)
    while scope is not None and scope is not facts.scope:
        if reference.value in scope.assignments:
            return False
        scope = scope.parent if scope.parent is not scope else None
    return scope is facts.scope


def _typed_instance_attributes(facts: FunctionFacts, function: cst.FunctionDef) -> list[str]:
    """The attributes of the method's instance that are tested with `in` and have an
    observed type, in order of first mention."""
    found: dict[str, None] = {}
    for node in m.findall(function.body, m.Attribute(value=m.Name())):
        assert isinstance(node, cst.Attribute)
        if membership_target(facts, node) is not None and facts.attribute_annotation(node):
            found[node.attr.value] = None
    return list(found)


def _instance_reads(
    facts: FunctionFacts, function: cst.FunctionDef, attribute: str
) -> list[cst.Attribute]:
    """Every `self.attribute` of the function (`self` its first parameter)."""
    positional = [*function.params.posonly_params, *function.params.params]
    if not positional:
        return []
    instance = positional[0].name.value
    return [
        node
        for node in m.findall(function.body, m.Attribute(value=m.Name(instance)))
        if isinstance(node, cst.Attribute) and node.attr.value == attribute
    ]


def _plain_instance_reads(
    facts: FunctionFacts, place: cst.CSTNode, instance: str
) -> list[cst.Attribute] | None:
    """Inside `place`, every mention of the instance as `self.attr` loads of attributes
    of an observed type (lookups in its `__dict__`: no code runs), or None when the
    instance is used any other way (passed, stored to, or an untyped attribute)."""
    reads = []
    for reference in name_references(place, instance):
        read = facts.parent(reference)
        if (
            not isinstance(read, cst.Attribute)
            or read.value is not reference
            or in_store_context(facts, read)
            or facts.attribute_annotation(read) is None
        ):
            return None
        reads.append(read)
    return reads


def _hoist_place(
    facts: FunctionFacts, reference: cst.BaseExpression, tested: cst.BaseExpression
) -> cst.For | cst.While | cst.SimpleStatementLine | None:
    """Where `set(param)` is built for the test `tested in reference`: before the
    outermost loop around it, or, for a test in a comprehension outside any loop,
    before the statement line holding the comprehension. None when the tested value
    is not provably hashable or the test runs at most once."""
    outer = enclosing_loops(facts, reference)
    if outer:
        if proven_value_type(facts, tested) not in HASHABLE_TYPES:
            return None
        return outer[-1]
    comprehension = _outermost_comprehension(facts, reference)
    if comprehension is None or proven_value_type(facts, tested) not in HASHABLE_TYPES:
        return None
    if isinstance(comprehension, cst.GeneratorExp) and not isinstance(
        facts.parent(comprehension), cst.Arg
    ):
        return None  # a generator kept for later could run after `param` changed
    statement = enclosing_statement(facts, comprehension)
    if not isinstance(statement, cst.SimpleStatementLine):
        return None
    if not isinstance(facts.parent(statement), cst.IndentedBlock):
        return None
    return statement


def _outermost_comprehension(
    facts: FunctionFacts, node: cst.CSTNode
) -> cst.ListComp | cst.SetComp | cst.DictComp | cst.GeneratorExp | None:
    """The outermost comprehension of this function's body around `node`."""
    found = None
    current = facts.parent(node)
    while current is not None and current is not facts.function:
        if isinstance(current, cst.Lambda | cst.FunctionDef | cst.ClassDef):
            return None
        if isinstance(current, cst.ListComp | cst.SetComp | cst.DictComp | cst.GeneratorExp):
            found = current
        current = facts.parent(current)
    return found
