"""OPT103: a local list used only for membership tests becomes a set."""

from __future__ import annotations

import ast

import libcst as cst
import libcst.matchers as m

from passes import _ast_prefilter as pre
from passes._builtins import HASHABLE_TYPES
from passes._facts import FunctionFacts, FunctionPass
from passes._flow_types import proven_type
from passes._names import binding_nodes, builtin_available, name_references
from passes._shapes import membership_target, method_call, plain_args
from passes._splicing import Replacements
from passes.base import Example


class ListUsedAsSet(FunctionPass):
    """What it does:
        Turns a local list that starts empty (or as a display of items, `[start]`)
        and is only ever appended to and tested with `in` / `not in` into a set:
        `seen = []` becomes `seen = set()`, `seen = [start]` becomes
        `seen = {start}`, and `seen.append(v)` becomes `seen.add(v)`.

    Why it is faster:
        `v in seen` scans the whole list, so a loop that tests and appends is
        quadratic. A set answers membership with one hash lookup.

    Fix safety:
        The pass fires only when all of these are proven:
        - `seen` is a private local (no global/nonlocal, no closure) bound exactly
          once, by `seen = []` or a display of plain items (no `*unpacking`);
        - every other use of `seen` is `v in seen` / `v not in seen` (a comparison
          with a single operator) or a statement `seen.append(v)`; the list is never
          returned, passed, iterated, indexed, measured or aliased, so neither order
          nor duplicates can be observed;
        - every item of the display and every tested or appended `v` provably has
          a builtin hashable type (from annotations, literals, every binding of a
          local, or with a trace the types every recorded call had, nested ones
          included: `nxt` in `for nxt in graph[node]` of a `dict[str, list[str]]`),
          so `set.add` and the set lookup cannot raise and equality agrees with
          hashing (identity is checked first by both);
        - `set` is not shadowed in the function or module.
    """

    code = "OPT103"
    name = "list-used-as-set"
    summary = "Use a set for a local list that is only appended to and tested with `in`."
    complexity_win = True
    triggers = ("= []",)

    @classmethod
    def may_match_ast(cls, function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
        """`seen = []` (or `[a, b]`), and every other mention of `seen` is `v in seen`,
        `v not in seen` or a statement `seen.append(...)`."""
        for assign in pre.nodes(function, ast.Assign):
            name = pre.single_name_target(assign)
            value = getattr(assign, "value", None)
            if name is None or not isinstance(value, ast.List):
                continue
            if any(isinstance(item, ast.Starred) for item in value.elts):
                continue
            target = assign.targets[0]  # type: ignore[attr-defined]
            uses = [
                n
                for n in pre.nodes(function, ast.Name)
                if isinstance(n, ast.Name) and n.id == name and n is not target
            ]
            if all(_set_like(function, use) for use in uses):  # type: ignore[arg-type]
                return True
        return False

    EXAMPLES = (
        Example(
            before='''\
def unique(items: list[int]) -> list[int]:
    seen = []
    out = []
    for item in items:
        if item not in seen:
            seen.append(item)
            out.append(item)
    return out
''',
            after='''\
def unique(items: list[int]) -> list[int]:
    seen = set()
    out = []
    for item in items:
        if item not in seen:
            seen.add(item)
            out.append(item)
    return out
''',
        ),
        Example(
            before='''\
def count_repeats(words: list[str]) -> int:
    repeats = 0
    met = []
    for word in words:
        if word in met:
            repeats += 1
        else:
            met.append(word)
    return repeats
''',
            after='''\
def count_repeats(words: list[str]) -> int:
    repeats = 0
    met = set()
    for word in words:
        if word in met:
            repeats += 1
        else:
            met.add(word)
    return repeats
''',
        ),
        Example(
            before='''\
def first_seen(emails: list[str]) -> list[str]:
    seen = []
    kept = []
    for email in emails:
        key = email.strip().lower()
        if "@" not in key:
            key = key + "@local"
        if key not in seen:
            seen.append(key)
            kept.append(email)
    return kept
''',
            after='''\
def first_seen(emails: list[str]) -> list[str]:
    seen = set()
    kept = []
    for email in emails:
        key = email.strip().lower()
        if "@" not in key:
            key = key + "@local"
        if key not in seen:
            seen.add(key)
            kept.append(email)
    return kept
''',
        ),
        Example(
            before='''\
def reachable(graph: dict[str, list[str]], start: str) -> list[str]:
    seen = [start]
    todo = [start]
    order = []
    while todo:
        node = todo.pop()
        order.append(node)
        for nxt in graph[node]:
            if nxt not in seen:
                seen.append(nxt)
                todo.append(nxt)
    return order
''',
            after='''\
def reachable(graph: dict[str, list[str]], start: str) -> list[str]:
    seen = {start}
    todo = [start]
    order = []
    while todo:
        node = todo.pop()
        order.append(node)
        for nxt in graph[node]:
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return order
''',
        ),
    )
    NON_EXAMPLES = (
        # The list is returned: its order and duplicates are observable.
        '''\
def firsts(items: list[int]) -> list[int]:
    seen = []
    for item in items:
        if item not in seen:
            seen.append(item)
    return seen
''',
        # The items are lists: `set.add` would raise TypeError (unhashable).
        '''\
def distinct_rows(rows: list[list[int]]) -> int:
    seen = []
    count = 0
    for row in rows:
        if row not in seen:
            seen.append(row)
            count += 1
    return count
''',
        # `len(seen)` counts duplicates, which a set would drop.
        '''\
def appended(items: list[int]) -> int:
    seen = []
    for item in items:
        if item in seen or item > 0:
            seen.append(item)
    return len(seen)
''',
        # `set` is shadowed by a local: `set()` would not build a set.
        '''\
def shadow(items: list[int], set: int) -> int:
    seen = []
    for item in items:
        if item not in seen:
            seen.append(item)
    return set
''',
        # One binding of the key is a list: unhashable, set.add would raise TypeError.
        '''\
def first_seen(rows: list[tuple[str, list[int]]]) -> int:
    seen = []
    for name, scores in rows:
        key = name
        if not name:
            key = scores
        if key not in seen:
            seen.append(key)
    return 0
''',
    )

    def function_replacements(
        self, facts: FunctionFacts, function: cst.FunctionDef
    ) -> Replacements:
        if not builtin_available(facts, "set"):
            return {}
        replacements: Replacements = {}
        for assign in m.findall(
            function.body, m.Assign(targets=[m.AssignTarget(target=m.Name())], value=m.List())
        ):
            assert isinstance(assign, cst.Assign)
            target = assign.targets[0].target
            assert isinstance(target, cst.Name) and isinstance(assign.value, cst.List)
            if not _hashable_items(facts, assign.value):
                continue
            uses = self._uses(facts, function, assign, target)
            if uses is None:
                continue
            replacements[id(assign.value)] = _as_set
            for attribute in uses:
                replacements[id(attribute)] = _to_add
        return replacements

    def _uses(
        self, facts: FunctionFacts, function: cst.FunctionDef, assign: cst.Assign, target: cst.Name
    ) -> list[cst.Attribute] | None:
        """The `seen.append` attributes to rename, or None when a use is unsafe."""
        bindings = binding_nodes(facts, target.value)
        if bindings is None or len(bindings) != 1 or bindings[0] is not target:
            return None
        appends: list[cst.Attribute] = []
        for reference in name_references(function.body, target.value):
            if reference is target:
                continue
            tested = membership_target(facts, reference)
            if tested is not None:
                if proven_type(facts, tested) not in HASHABLE_TYPES:
                    return None
                continue
            call = method_call(facts, reference)
            if call is None or call[0] != "append":
                return None
            args = plain_args(call[1], 1)
            if args is None or not isinstance(facts.parent(call[1]), cst.Expr):
                return None
            if proven_type(facts, args[0]) not in HASHABLE_TYPES:
                return None
            attribute = call[1].func
            assert isinstance(attribute, cst.Attribute)
            appends.append(attribute)
        return appends


def _set_like(function: ast.FunctionDef | ast.AsyncFunctionDef, use: ast.Name) -> bool:
    if pre.is_membership_operand(function, use):
        return True
    call = pre.method_receiver(function, use)
    return call is not None and call[0] == "append" and pre.is_statement_value(function, call[1])


def _hashable_items(facts: FunctionFacts, display: cst.List) -> bool:
    """Every item of the list display is a plain item of a builtin hashable type."""
    return all(
        isinstance(item, cst.Element) and proven_type(facts, item.value) in HASHABLE_TYPES
        for item in display.elements
    )


def _as_set(node: cst.CSTNode) -> cst.CSTNode:
    """`[]` -> `set()`; `[a, b]` -> `{a, b}` (the same items, evaluated in the same order)."""
    assert isinstance(node, cst.List)
    if not node.elements:
        return cst.Call(func=cst.Name("set"))
    return cst.Set(elements=node.elements, lbrace=cst.LeftCurlyBrace(
        whitespace_after=node.lbracket.whitespace_after), rbrace=cst.RightCurlyBrace(
        whitespace_before=node.rbracket.whitespace_before))


def _to_add(node: cst.CSTNode) -> cst.CSTNode:
    assert isinstance(node, cst.Attribute)
    return node.with_changes(attr=cst.Name("add"))
