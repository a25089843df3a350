"""OPT110: `sorted(x)[0]` / `sorted(x)[-1]` become a linear min / max scan."""

from __future__ import annotations

import ast

import libcst as cst
import libcst.matchers as m

from passes import _ast_prefilter as pre
from passes._annotations import (
    DICT_GENERICS,
    SEQUENCE_ANNOTATIONS,
    SET_GENERICS,
    element_type,
    param_generic,
)
from passes._facts import FunctionFacts, FunctionPass
from passes._flow_types import flow_type_of, proven_type
from passes._loop_shapes import plain_lambda_param
from passes._names import builtin_available, in_store_context, names_in_function_scope
from passes._splicing import code_of
from passes._types import list_element
from passes.base import Example

TOTALLY_ORDERED = frozenset({"int", "str", "bool"})
SOURCE_ARG = m.Arg(value=m.Name(), keyword=None, star="")
SORTED_CALL = m.Call(func=m.Name("sorted"), args=[SOURCE_ARG]) | m.Call(
    func=m.Name("sorted"), args=[SOURCE_ARG, m.Arg(keyword=m.Name("key"), star="")]
)
FIRST = m.Integer("0")
LAST = m.UnaryOperation(operator=m.Minus(), expression=m.Integer("1"))


class SortedIndexToMinMax(FunctionPass):
    """What it does:
        Rewrites `sorted(x)[0]` into `(min(x) if x else [][0])` and `sorted(x)[-1]`
        into `(max(reversed(x)) if x else [][0])` (`max(x)` for sets).

    Why it is faster:
        Sorting is O(n log n) and copies the input, only to read one end;
        `min`/`max` is one O(n) pass with no allocation.

    Fix safety:
        The pass fires only when all of these are proven:
        - `sorted`, `min`, `max` and `reversed` are the builtins, and there is no
          `reverse=` argument;
        - `x` is a parameter, never rebound, annotated `list[T]`, `tuple[T, ...]`,
          `set[T]`, `frozenset[T]` or `dict[T, V]` (iterating its unique keys), or a
          local list of `T` that is only appended to with `T` items and otherwise
          only read (so no unknown code can add other items), with `T` in int, str
          or bool: a total order (no NaN, no -0.0), and a sized container whose
          truth value means non-empty;
        - with `key=f`, `T` does not matter but `f` provably returns int, str or
          bool (`len`, or a one-parameter lambda whose body is typed): `min(x,
          key=f)` calls `f` once per item in the same order as `sorted`, so the same
          exception comes first, and returns the first item with the smallest key,
          as the stable sort does. For the last item, `max(reversed(x), key=f)`
          calls `f` in the opposite order, so only `key=len` on str items, which
          never raises, is accepted;
        - ties: sorting is stable, so `sorted(x)[0]` is the first minimal item, which
          is what `min` returns; `sorted(x)[-1]` is the LAST maximal item, which is
          what `max` returns when scanning `reversed(x)` (equal items such as `1` and
          `True` stay distinguishable); sets hold no equal items;
        - empty input: `[][0]` raises the very `IndexError("list index out of
          range")` that `sorted(x)[0]` raises, instead of `min`'s ValueError;
        - the subscript is not an assignment or deletion target.
    """

    code = "OPT110"
    name = "sorted-index-to-min-max"
    summary = "Use min()/max() instead of sorting to read the smallest or largest item."
    complexity_win = True
    triggers = ("sorted(",)

    @classmethod
    def may_match_ast(cls, function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
        """`sorted(name)[0]` or `sorted(name, key=...)[-1]` (either index, either form)."""
        for node in pre.nodes(function, ast.Subscript):
            call = pre.is_literal_index_call(node, lambda i: pre.int_literal_value(i) in (0, -1))
            if (
                pre.is_builtin_call(call, "sorted")
                and call is not None
                and len(call.args) == 1
                and isinstance(call.args[0], ast.Name)
                and all(keyword.arg == "key" for keyword in call.keywords)
                and len(call.keywords) <= 1
            ):
                return True
        return False

    EXAMPLES = (
        Example(
            before='''\
def spread(values: list[int]) -> int:
    return sorted(values)[-1] - sorted(values)[0]
''',
            after='''\
def spread(values: list[int]) -> int:
    return (max(reversed(values)) if values else [][0]) - (min(values) if values else [][0])
''',
        ),
        Example(
            before='''\
def first_name(names: set[str]) -> str:
    return sorted(names)[0].upper()
''',
            after='''\
def first_name(names: set[str]) -> str:
    return (min(names) if names else [][0]).upper()
''',
        ),
        Example(
            before='''\
def cheapest(prices: dict[str, int]) -> str:
    return sorted(prices, key=lambda item: prices[item])[0]
''',
            after='''\
def cheapest(prices: dict[str, int]) -> str:
    return (min(prices, key=lambda item: prices[item]) if prices else [][0])
''',
        ),
        Example(
            before='''\
def widest(rows: list[str]) -> str:
    sizes = []
    for row in rows:
        sizes.append(len(row.strip()))
    return str(sorted(sizes)[-1]) + sorted(rows, key=len)[0]
''',
            after='''\
def widest(rows: list[str]) -> str:
    sizes = []
    for row in rows:
        sizes.append(len(row.strip()))
    return str((max(reversed(sizes)) if sizes else [][0])) + (min(rows, key=len) if rows else [][0])
''',
        ),
    )
    NON_EXAMPLES = (
        # Floats: NaN makes sorted() and min() disagree.
        '''\
def lowest(values: list[float]) -> float:
    return sorted(values)[0]
''',
        # Unknown items: len may raise TypeError on another item first in reverse.
        '''\
def longest(words: list[object]) -> object:
    return sorted(words, key=len)[-1]
''',
        # Unknown element type: ties between distinguishable equal items.
        '''\
def top(items: list) -> object:
    return sorted(items)[-1]
''',
        # Last item with a key that may raise KeyError: reversed order would raise for another name.
        '''\
def best(names: list[str], scores: dict[str, int]) -> str:
    return sorted(names, key=lambda name: scores[name])[-1]
''',
        # The local list also receives floats (NaN): no total order.
        '''\
def lowest(values: list[int]) -> float:
    found = []
    for v in values:
        found.append(v)
        found.append(v / 2)
    return sorted(found)[0]
''',
        # The local list escapes to unknown code, which may add anything to it.
        '''\
def lowest(values: list[int], fill) -> int:
    found = [1]
    fill(found)
    return sorted(found)[0]
''',
    )

    def leave_Subscript(
        self, original_node: cst.Subscript, updated_node: cst.Subscript
    ) -> cst.BaseExpression:
        facts = self.facts
        if facts is None or len(original_node.slice) != 1:
            return updated_node
        index = original_node.slice[0].slice
        if not isinstance(index, cst.Index) or not m.matches(index.value, FIRST | LAST):
            return updated_node
        call = original_node.value
        if not m.matches(call, SORTED_CALL):
            return updated_node
        assert isinstance(call, cst.Call) and isinstance(call.func, cst.Name)
        source = call.args[0].value
        assert isinstance(source, cst.Name)
        if not facts.is_builtin(call.func, "sorted") or in_store_context(facts, original_node):
            return updated_node
        if not names_in_function_scope(facts, source):
            return updated_node
        kind, element = self._source_kind(facts, source)
        if kind is None:
            return updated_node
        first = m.matches(index.value, FIRST)
        name = source.value
        if len(call.args) == 2:
            key = call.args[1].value
            if not self._key_is_ordered(facts, key, element, first):
                return updated_node
            key_code = code_of(key)
            scan = f"min({name}, key={key_code})" if first else (
                f"max(reversed({name}), key={key_code})"
            )
        elif element not in TOTALLY_ORDERED:
            return updated_node
        elif first:
            scan = f"min({name})"
        elif kind == "unordered":
            scan = f"max({name})"
        else:
            scan = f"max(reversed({name}))"
        needed = ("min", "max", "reversed") if "reversed" in scan else ("min", "max")
        if not all(builtin_available(facts, builtin) for builtin in needed):
            return updated_node
        replacement = cst.parse_expression(f"({scan} if {name} else [][0])")
        if len(call.args) == 2:
            replacement = _with_original_key(replacement, call.args[1].value)
        return replacement.with_changes(
            lpar=(*updated_node.lpar, *replacement.lpar),
            rpar=(*replacement.rpar, *updated_node.rpar),
        )

    def _source_kind(
        self, facts: FunctionFacts, source: cst.Name
    ) -> tuple[str | None, str | None]:
        """("ordered" | "unordered", element type) for a sized builtin container whose
        truth value means non-empty; (None, None) when unknown."""
        generic = param_generic(facts, source.value)
        if generic.name in SEQUENCE_ANNOTATIONS:
            return "ordered", element_type(generic)
        if generic.name in SET_GENERICS or (
            generic.name in DICT_GENERICS and len(generic.args) == 2
        ):
            return "unordered", element_type(generic)
        element = list_element(proven_type(facts, source))
        return ("ordered", element) if element is not None else (None, None)

    def _key_is_ordered(
        self, facts: FunctionFacts, key: cst.BaseExpression, element: str | None, first: bool
    ) -> bool:
        """The key provably returns int, str or bool, so comparing keys runs no user
        code. For the last item the key also must never raise, because
        `max(reversed(x), key=f)` calls it in the opposite order."""
        if isinstance(key, cst.Name):
            sized = element == "str"
            return key.value == "len" and facts.is_builtin(key, "len") and (first or sized)
        if not first or not isinstance(key, cst.Lambda):
            return False
        param = plain_lambda_param(key)
        if param is None:
            return False
        known = {param: element} if element is not None else {}
        return flow_type_of(facts, key.body, known) in TOTALLY_ORDERED


def _with_original_key(
    replacement: cst.BaseExpression, key: cst.BaseExpression
) -> cst.BaseExpression:
    """Put the original key node (with its formatting) back into the parsed scan."""
    return replacement.visit(_KeyRestorer(key))  # type: ignore[return-value]


class _KeyRestorer(cst.CSTTransformer):
    def __init__(self, key: cst.BaseExpression) -> None:
        super().__init__()
        self.key = key

    def leave_Arg(self, original_node: cst.Arg, updated_node: cst.Arg) -> cst.Arg:
        if updated_node.keyword is not None and updated_node.keyword.value == "key":
            return updated_node.with_changes(value=self.key)
        return updated_node
