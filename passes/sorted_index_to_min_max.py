"""OPT110: `sorted(x)[0]` / `sorted(x)[-1]` become a linear min / max scan."""

from __future__ import annotations

import libcst as cst
import libcst.matchers as m

from passes._loops import (
    FunctionPass,
    builtin_available,
    homogeneous_element,
    in_store_context,
    names_in_function_scope,
    param_generic,
)
from passes.base import Example

ORDERED = frozenset({"list", "List", "tuple", "Tuple"})
UNORDERED = frozenset({"set", "Set", "frozenset", "FrozenSet"})
TOTALLY_ORDERED = frozenset({"int", "str", "bool"})
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
          `key=` or `reverse=` argument;
        - `x` is a parameter, never rebound, annotated `list[T]`, `tuple[T, ...]`,
          `set[T]` or `frozenset[T]` with `T` in int, str or bool: a total order
          (no NaN, no -0.0), and a sized container whose truth value means
          non-empty;
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
    triggers = ("sorted(",)

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
    )
    NON_EXAMPLES = (
        # Floats: NaN makes sorted() and min() disagree.
        '''\
def lowest(values: list[float]) -> float:
    return sorted(values)[0]
''',
        # A key function: max(reversed(...)) would call it in a different order.
        '''\
def longest(words: list[str]) -> str:
    return sorted(words, key=len)[-1]
''',
        # Unknown element type: ties between distinguishable equal items.
        '''\
def top(items: list) -> object:
    return sorted(items)[-1]
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
        if not m.matches(
            call, m.Call(func=m.Name("sorted"), args=[m.Arg(value=m.Name(), keyword=None, star="")])
        ):
            return updated_node
        assert isinstance(call, cst.Call) and isinstance(call.func, cst.Name)
        source = call.args[0].value
        assert isinstance(source, cst.Name)
        if not facts.is_builtin(call.func, "sorted") or in_store_context(facts, original_node):
            return updated_node
        if not names_in_function_scope(self, facts, source):
            return updated_node
        generic, args = param_generic(facts, source.value)
        if homogeneous_element(generic, args) not in TOTALLY_ORDERED:
            return updated_node
        if generic not in ORDERED | UNORDERED:
            return updated_node
        name = source.value
        if m.matches(index.value, FIRST):
            scan = f"min({name})"
        elif generic in UNORDERED:
            scan = f"max({name})"
        else:
            scan = f"max(reversed({name}))"
        needed = ("min", "max", "reversed") if "reversed" in scan else ("min", "max")
        if not all(builtin_available(facts, self.module, builtin) for builtin in needed):
            return updated_node
        replacement = cst.parse_expression(f"({scan} if {name} else [][0])")
        return replacement.with_changes(
            lpar=(*updated_node.lpar, *replacement.lpar),
            rpar=(*replacement.rpar, *updated_node.rpar),
        )
