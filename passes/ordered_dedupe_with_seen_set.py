"""OPT117: a list that keeps its order but is tested with `in` gets a companion set."""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass, field

import libcst as cst
import libcst.matchers as m

from passes import _ast_prefilter as pre
from passes._builtins import HASHABLE_TYPES, READING_LIST_METHODS, READS_ITERABLE
from passes._effects import is_generator_or_async
from passes._facts import FunctionFacts, FunctionPass
from passes._flow_types import proven_type, proven_value_type
from passes._names import binding_nodes, builtin_available, in_store_context, name_references
from passes._shapes import is_builtin_call, membership_target, method_call, plain_args
from passes._splicing import Replacements
from passes.base import Example

# str and bytes never compare equal, but `python -b` warns only on the list side.
_TEXT_KINDS = frozenset({"str", "bytes"})


@dataclass
class _Uses:
    """How a list local is used: what to rewrite, and whether its order is read."""

    tests: list[cst.Name] = field(default_factory=list)
    appends: list[tuple[cst.Expr, cst.Name]] = field(default_factory=list)
    kinds: set[str] = field(default_factory=set)
    ordered_reads: int = 0


class OrderedDedupeWithSeenSet(FunctionPass):
    """What it does:
        For a local list that is built by `out.append(v)` and tested with
        `v in out` / `v not in out`, but whose order or contents are also read
        (returned, iterated, indexed, `len(out)`), keeps the list and adds a set
        beside it: `out_seen = set()` after `out = []`, `out_seen.add(v)` after each
        `out.append(v)`, and the tests become `v in out_seen`. The typical shape is
        an order-keeping dedupe:

            out = []
            for sku in orders:
                if sku not in out:
                    out.append(sku)
            return out

    Why it is faster:
        `v in out` scans the list, so deduplicating n items costs O(n²). The set
        answers the same question with one hash lookup, so the loop becomes O(n)
        while the list still gives the result in first-seen order.

    Fix safety:
        The pass fires only when all of these are proven:
        - `out` is a private local (no global/nonlocal, no closure) bound exactly
          once, by `out = []` or a list display of names and literals, so the set
          can start as `set()` or `set(out)` and holds exactly the list's items;
        - the only mutation of `out` is a statement `out.append(v)` with `v` a
          plain name, and a statement `out_seen.add(v)` follows each one: the set
          always holds the list's items (set(out) == out_seen at every test);
        - every other use only reads the list without letting it escape before the
          function ends: `return out` outside any try/with, iteration, a read
          index, a truth test, a reading builtin (`len`, `sorted`, `list`, ...) or
          `count`/`index`/`copy`; nothing else can change the list behind the set;
        - every tested value, every appended value and every item of the initial
          display provably has a builtin hashable type (int, str, bytes, bool,
          float, complex, None: from annotations, literals, or, with a trace, the
          types every recorded call had), and str and bytes are not mixed. For these
          types equal values hash equally and both containers test identity first,
          so `v in out_seen` answers exactly what `v in out` answered (NaN too),
          `set.add` cannot raise, and no user `__eq__`/`__hash__` runs;
        - the function is not a generator or coroutine, and `set` is not shadowed.
        When `out` is never read except by tests and appends, the list itself can
        become a set and OPT103 (list-used-as-set) applies instead.
    """

    code = "OPT117"
    name = "ordered-dedupe-with-seen-set"
    summary = "Keep an ordered list, but test membership in a set kept beside it."
    complexity_win = True
    triggers = (" in ",)

    @classmethod
    def may_match_ast(cls, function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
        """`out = [...]` whose name is both a membership operand and a `.append` receiver."""
        for assign in pre.nodes(function, ast.Assign):
            name = pre.single_name_target(assign)
            if name is None or not isinstance(getattr(assign, "value", None), ast.List):
                continue
            uses = [n for n in pre.nodes(function, ast.Name) if pre.is_name(n, name)]
            tested = any(pre.is_membership_operand(function, u) for u in uses)  # type: ignore[arg-type]
            appended = any(
                (call := pre.method_receiver(function, u)) is not None and call[0] == "append"  # type: ignore[arg-type]
                for u in uses
            )
            if tested and appended:
                return True
        return False

    EXAMPLES = (
        Example(
            before='''\
def unique_skus(orders: list[str]) -> list[str]:
    out = []
    for sku in orders:
        if sku not in out:
            out.append(sku)
    return out
''',
            after='''\
def unique_skus(orders: list[str]) -> list[str]:
    out = []
    out_seen = set()
    for sku in orders:
        if sku not in out_seen:
            out.append(sku)
            out_seen.add(sku)
    return out
''',
        ),
        Example(
            before='''\
def chained(links: list[tuple[int, int]], start: int) -> list[int]:
    chain = [start]
    for a, b in links:
        if a in chain and b not in chain:
            chain.append(b)
    return chain
''',
            after='''\
def chained(links: list[tuple[int, int]], start: int) -> list[int]:
    chain = [start]
    chain_seen = set(chain)
    for a, b in links:
        if a in chain_seen and b not in chain_seen:
            chain.append(b)
            chain_seen.add(b)
    return chain
''',
        ),
        Example(
            before='''\
def first_words(lines: list[str]) -> str:
    words = []
    for line in lines:
        word = line.split(" ")[0]
        if word in words: continue
        words.append(word)
    return ", ".join(sorted(words))
''',
            after='''\
def first_words(lines: list[str]) -> str:
    words = []
    words_seen = set()
    for line in lines:
        word = line.split(" ")[0]
        if word in words_seen: continue
        words.append(word)
        words_seen.add(word)
    return ", ".join(sorted(words))
''',
        ),
        Example(
            before='''\
def borrowers(loans: dict[str, list[str]], titles: list[str]) -> list[str]:
    members = []
    for title in titles:
        for member in loans.get(title, []):
            if member not in members:
                members.append(member)
    return members
''',
            after='''\
def borrowers(loans: dict[str, list[str]], titles: list[str]) -> list[str]:
    members = []
    members_seen = set()
    for title in titles:
        for member in loans.get(title, []):
            if member not in members_seen:
                members.append(member)
                members_seen.add(member)
    return members
''',
        ),
    )
    NON_EXAMPLES = (
        # The default is not empty: its items' type is not the dict's.
        '''\
def borrowers(loans: dict[str, list[str]], titles: list[str]) -> list:
    members = []
    for title in titles:
        for member in loans.get(title, [[]]):
            if member not in members:
                members.append(member)
    return members
''',
        # Items are lists: `set.add` would raise TypeError (unhashable).
        '''\
def distinct_rows(rows: list[list[int]]) -> list[list[int]]:
    out = []
    for row in rows:
        if row not in out:
            out.append(row)
    return out
''',
        # The list is passed to unknown code, which could change it behind the set.
        '''\
def collect(items: list[int]) -> list[int]:
    out = []
    for item in items:
        if item not in out:
            out.append(item)
            report(out)
    return out
''',
        # `out.remove` drops an item the set would still hold.
        '''\
def toggled(items: list[int]) -> list[int]:
    out = []
    for item in items:
        if item in out:
            out.remove(item)
        else:
            out.append(item)
    return out
''',
        # Only tested and appended: OPT103 turns the list itself into a set.
        '''\
def count_new(items: list[int]) -> int:
    seen = []
    count = 0
    for item in items:
        if item not in seen:
            seen.append(item)
            count += 1
    return count
''',
        # Untyped items: a user `__eq__` could make list and set membership differ.
        '''\
def unique(items):
    out = []
    for item in items:
        if item not in out:
            out.append(item)
    return out
''',
        # bytes tested against str items: only the list side warns under `python -b`.
        '''\
def tagged(words: list[str], marker: bytes) -> list[str]:
    out = []
    for word in words:
        if marker in out:
            break
        if word not in out:
            out.append(word)
    return out
''',
        # The appended value is not a plain name: `add` would evaluate it again.
        '''\
def lowered(words: list[str]) -> list[str]:
    out = []
    for word in words:
        if word.lower() not in out:
            out.append(word.lower())
    return out
''',
    )

    def function_replacements(
        self, facts: FunctionFacts, function: cst.FunctionDef
    ) -> Replacements:
        if is_generator_or_async(function) or not builtin_available(facts, "set"):
            return {}
        replacements: Replacements = {}
        for line in m.findall(function.body, m.SimpleStatementLine(body=[m.Assign()])):
            assert isinstance(line, cst.SimpleStatementLine)
            replacements.update(self._companion_set(facts, function, line))
        return replacements

    def _companion_set(
        self, facts: FunctionFacts, function: cst.FunctionDef, line: cst.SimpleStatementLine
    ) -> Replacements:
        assign = line.body[0]
        assert isinstance(assign, cst.Assign)
        target = assign.targets[0].target if len(assign.targets) == 1 else None
        if not isinstance(target, cst.Name) or not isinstance(assign.value, cst.List):
            return {}
        initial = _initial_kinds(facts, assign.value)
        bindings = binding_nodes(facts, target.value)
        if initial is None or bindings is None or bindings != [target]:
            return {}
        uses = _uses(facts, function, target)
        if uses is None or not uses.tests or not uses.appends:
            return {}
        if not assign.value.elements and not uses.ordered_reads:
            return {}  # OPT103's shape: the list itself can become a set
        kinds = uses.kinds | initial
        if not kinds <= HASHABLE_TYPES or kinds >= _TEXT_KINDS:
            return {}
        return _replacements(facts, line, target.value, uses)


def _initial_kinds(facts: FunctionFacts, display: cst.List) -> set[str] | None:
    """The proven types of a display's items, when each is a plain name or a literal."""
    kinds: set[str] = set()
    for element in display.elements:
        if not isinstance(element, cst.Element):
            return None
        kind = proven_type(facts, element.value)
        literal_or_name = isinstance(element.value, cst.Name | cst.BaseNumber | cst.BaseString)
        if kind is None or not literal_or_name:
            return None
        kinds.add(kind)
    return kinds


def _uses(facts: FunctionFacts, function: cst.FunctionDef, target: cst.Name) -> _Uses | None:
    """Every use of the list `target` sorted out, or None when one could change it
    behind the set, let it escape early, or test or add an unproven value."""
    found = _Uses()
    for reference in name_references(function.body, target.value):
        if reference is target:
            continue
        tested = membership_target(facts, reference)
        if tested is not None:
            found.kinds.add(proven_value_type(facts, tested) or "?")
            found.tests.append(reference)
            continue
        append = _append_statement(facts, reference)
        if append is not None:
            found.kinds.add(proven_type(facts, append[1]) or "?")
            found.appends.append(append)
            continue
        if not _ordered_read(facts, reference):
            return None
        found.ordered_reads += 1
    return found


def _append_statement(
    facts: FunctionFacts, reference: cst.Name
) -> tuple[cst.Expr, cst.Name] | None:
    """(statement, v) for a statement `reference.append(v)` with `v` a plain name."""
    call = method_call(facts, reference)
    if call is None or call[0] != "append":
        return None
    args = plain_args(call[1], 1)
    statement = facts.parent(call[1])
    if args is None or not isinstance(args[0], cst.Name) or not isinstance(statement, cst.Expr):
        return None
    return statement, args[0]


def _ordered_read(facts: FunctionFacts, reference: cst.Name) -> bool:
    """`reference` only reads the list, or returns it as the function ends."""
    parent = facts.parent(reference)
    if isinstance(parent, cst.Return):
        return not facts.in_try_block(reference)
    if isinstance(parent, cst.For | cst.CompFor) and parent.iter is reference:
        return True
    if isinstance(parent, cst.If | cst.While | cst.IfExp) and parent.test is reference:
        return True
    if isinstance(parent, cst.UnaryOperation) and isinstance(parent.operator, cst.Not):
        return True
    if isinstance(parent, cst.Subscript) and parent.value is reference:
        return not in_store_context(facts, parent)
    if isinstance(parent, cst.Arg) and not parent.keyword and not parent.star:
        holder = facts.parent(parent)
        return isinstance(holder, cst.Call) and any(
            is_builtin_call(facts, holder, builtin) for builtin in READS_ITERABLE
        )
    method = method_call(facts, reference)
    return method is not None and method[0] in READING_LIST_METHODS


def _replacements(
    facts: FunctionFacts, line: cst.SimpleStatementLine, name: str, uses: _Uses
) -> Replacements:
    seen = facts.fresh_name(f"{name}_seen")
    assign = line.body[0]
    assert isinstance(assign, cst.Assign) and isinstance(assign.value, cst.List)
    start = "set()" if not assign.value.elements else f"set({name})"
    replacements: Replacements = {id(test): lambda node: cst.Name(seen) for test in uses.tests}

    def then_start(node: cst.CSTNode) -> cst.FlattenSentinel[cst.CSTNode]:
        return cst.FlattenSentinel([node, cst.parse_statement(f"{seen} = {start}\n")])

    replacements[id(line)] = then_start
    for statement, value in uses.appends:
        line_of = facts.parent(statement)
        own_line = isinstance(line_of, cst.SimpleStatementLine) and len(line_of.body) == 1
        replaced = line_of if own_line and line_of is not None else statement
        replacements[id(replaced)] = _then_add(seen, value.value)
    return replacements


def _then_add(seen: str, value: str) -> Callable[[cst.CSTNode], cst.FlattenSentinel[cst.CSTNode]]:
    """Follow a statement (or a small statement in a `;` line) with `seen.add(value)`."""

    def then_add(node: cst.CSTNode) -> cst.FlattenSentinel[cst.CSTNode]:
        added = cst.Expr(cst.parse_expression(f"{seen}.add({value})"))
        if isinstance(node, cst.SimpleStatementLine):
            return cst.FlattenSentinel([node, cst.SimpleStatementLine([added])])
        return cst.FlattenSentinel([node, added])

    return then_add
