"""OPT205: `k in d.keys()` becomes `k in d` for a provable dict."""

from __future__ import annotations

import ast

import libcst as cst
import libcst.matchers as m

from passes import _ast_prefilter as pre
from passes._facts import FunctionPass
from passes._values import is_dict_name
from passes.base import Example

KEYS_CALL = m.Call(func=m.Attribute(value=m.Name(), attr=m.Name("keys")), args=[])


class DictKeysMembership(FunctionPass):
    """What it does:
        Rewrites `key in d.keys()` (and `not in`) into `key in d` when `d` is
        provably a dict.

    Why it is faster:
        It skips the attribute lookup, the method call and the keys-view object;
        the membership test itself is the same hash lookup (about 2x faster on
        3.11 for the whole expression).

    Fix safety:
        The pass fires only when all of these are proven:
        - `d` is a plain name bound exactly once in the function, as a parameter
          annotated `dict[...]`/`Dict`/`Mapping`/`MutableMapping`/`OrderedDict`/
          `defaultdict`/`Counter`, or as a local set to a dict display,
          dict comprehension or builtin `dict(...)`. For all of these
          `k in d.keys()` is defined as `k in d` (a `Mapping`'s keys view
          delegates to the mapping's `__contains__`); neither form calls
          `__missing__`, and an unhashable key raises the same TypeError;
        - the comparison sits directly in the function's scope (not in a lambda
          or comprehension that could rebind `d`);
        - `.keys()` is called with no arguments.
    """

    code = "OPT205"
    name = "dict-keys-membership"
    summary = "Test membership on the dict itself instead of on d.keys()."
    triggers = (".keys()",)

    @classmethod
    def may_match_ast(cls, function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
        """An `in`/`not in` test whose right side is `name.keys()` with no arguments."""
        for node in pre.nodes(function, ast.Compare):
            assert isinstance(node, ast.Compare)
            for operator, comparator in zip(node.ops, node.comparators, strict=True):
                if (
                    isinstance(operator, ast.In | ast.NotIn)
                    and pre.is_method_call(comparator, "keys")
                    and pre.positional_args(comparator) == []  # type: ignore[arg-type]
                ):
                    return True
        return False

    EXAMPLES = (
        Example(
            before='''\
def known(table: dict[str, int], key: str) -> bool:
    return key in table.keys()
''',
            after='''\
def known(table: dict[str, int], key: str) -> bool:
    return key in table
''',
        ),
        Example(
            before='''\
def missing(keys: list[int]) -> list[int]:
    seen = {1: "a", 2: "b"}
    out = []
    for key in keys:
        if key not in seen.keys():
            out.append(key)
    return out
''',
            after='''\
def missing(keys: list[int]) -> list[int]:
    seen = {1: "a", 2: "b"}
    out = []
    for key in keys:
        if key not in seen:
            out.append(key)
    return out
''',
        ),
    )
    NON_EXAMPLES = (
        # Unknown receiver type: `.keys()` may be any method (e.g. a custom class).
        '''\
def has(obj: object, key: str) -> bool:
    return key in obj.keys()
''',
        # `d` is rebound to a list, so it is not provably a dict.
        '''\
def flip(key: int, flag: bool) -> bool:
    d = {1: 2}
    if flag:
        d = [1]
    return key in d.keys()
''',
        # Inside a comprehension, `d` is the comprehension's variable, not the dict.
        '''\
def any_has(d: dict[str, int], rows: list[dict[str, int]]) -> list[bool]:
    return ["k" in d.keys() for d in rows]
''',
    )

    def leave_ComparisonTarget(
        self, original_node: cst.ComparisonTarget, updated_node: cst.ComparisonTarget
    ) -> cst.ComparisonTarget:
        if not isinstance(original_node.operator, cst.In | cst.NotIn):
            return updated_node
        if not m.matches(original_node.comparator, KEYS_CALL):
            return updated_node
        if not m.matches(updated_node.comparator, KEYS_CALL):
            return updated_node
        facts = self.facts_for(original_node.comparator)
        call = original_node.comparator
        assert isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute)
        receiver = call.func.value
        assert isinstance(receiver, cst.Name)
        if facts is None or not is_dict_name(facts, receiver.value, plain=False):
            return updated_node
        updated_call = updated_node.comparator
        assert isinstance(updated_call, cst.Call) and isinstance(updated_call.func, cst.Attribute)
        name = updated_call.func.value.with_changes(lpar=updated_call.lpar, rpar=updated_call.rpar)
        return updated_node.with_changes(comparator=name)
