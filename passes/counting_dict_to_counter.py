"""OPT206: a hand-written counting loop becomes `dict(collections.Counter(xs))`."""

from __future__ import annotations

import ast
from collections.abc import Sequence
from typing import Any

import libcst as cst
import libcst.matchers as m
from libcst.codemod.visitors import AddImportsVisitor

from passes import _ast_prefilter as pre
from passes._builtins import HASHABLE_TYPES
from passes._facts import FunctionFacts
from passes._loop_shapes import AccumulatorLoopPass, accumulator_loop
from passes._names import builtin_available, name_references
from passes._splicing import replace_initialiser
from passes._values import is_empty_container, is_non_mapping_iterable
from passes.base import Example


class CountingDictToCounter(AccumulatorLoopPass):
    """What it does:
        Rewrites the counting idiom

            counts = {}
            for x in xs:
                if x in counts:
                    counts[x] += 1
                else:
                    counts[x] = 1

        (also with `not in` and swapped branches, `counts[x] = counts[x] + 1`, or
        the one-liner `counts[x] = counts.get(x, 0) + 1`) into
        `counts = dict(collections.Counter(xs))`, adding `import collections`.

    Why it is faster:
        `Counter` counts with the C helper `_count_elements`, one dict lookup per
        element with no bytecode per iteration. Wrapping it in `dict(...)` keeps
        the result a plain `dict` (same type, repr and equality).

    Fix safety:
        The pass fires only when all of these are proven:
        - the elements are hashable builtins (int, str, float, bool, bytes, ...)
          from a list/tuple/set/Sequence-annotated parameter, a literal, a str,
          `range(...)` or `str.split(...)`: never a mapping, which `Counter`
          would read as ready-made counts;
        - `counts` is a private local initialised with `{}` or builtin `dict()`
          directly before the loop and mentioned only in the idiom;
        - the loop body is exactly the idiom, keyed by the loop's single name
          target, which is not mentioned outside the loop;
        - the loop has no `else`, is outside try/with blocks, and `dict` is the
          builtin while `collections` names nothing but the stdlib module.
        Counts are inserted in first-occurrence order and the first of several
        equal keys (1, 1.0, True) is the one kept, exactly like the loop; NaN
        elements (never equal to themselves) each get their own entry in both.
    """

    code = "OPT206"
    name = "counting-dict-to-counter"
    summary = "Count hashable items with collections.Counter instead of a dict loop."
    triggers = ("+ 1", "+= 1")

    @classmethod
    def may_match_ast(cls, function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
        """`counts = {}` then `for key in xs:` whose one statement counts `key`."""
        return any(
            _is_empty_dict(shape.value)
            and isinstance(shape.loop.target, ast.Name)
            and _ast_counting(shape.action, shape.name, shape.loop.target.id)
            for shape in pre.accumulator_loops(function, allow_conditions=False)
        )

    EXAMPLES = (
        Example(
            before='''\
def word_counts(words: list[str]) -> dict[str, int]:
    counts = {}
    for word in words:
        if word in counts:
            counts[word] += 1
        else:
            counts[word] = 1
    return counts
''',
            after='''\
import collections

def word_counts(words: list[str]) -> dict[str, int]:
    counts = dict(collections.Counter(words))
    return counts
''',
        ),
        Example(
            before='''\
def histogram(values: list[int]) -> list[tuple[int, int]]:
    seen: dict[int, int] = {}
    for value in values:
        seen[value] = seen.get(value, 0) + 1
    return list(seen.items())
''',
            after='''\
import collections

def histogram(values: list[int]) -> list[tuple[int, int]]:
    seen: dict[int, int] = dict(collections.Counter(values))
    return list(seen.items())
''',
        ),
        Example(
            before='''\
def letters(text: str) -> dict[str, int]:
    freq = dict()
    for ch in text:
        if ch not in freq:
            freq[ch] = 1
        else:
            freq[ch] = freq[ch] + 1
    return freq
''',
            after='''\
import collections

def letters(text: str) -> dict[str, int]:
    freq = dict(collections.Counter(text))
    return freq
''',
        ),
    )
    NON_EXAMPLES = (
        # Iterating a dict yields its keys, but Counter(mapping) copies its values.
        '''\
def key_counts(table: dict[str, int]) -> dict[str, int]:
    counts = {}
    for key in table:
        counts[key] = counts.get(key, 0) + 1
    return counts
''',
        # Elements may be unhashable or custom objects: type unknown.
        '''\
def any_counts(items: list) -> dict:
    counts = {}
    for item in items:
        counts[item] = counts.get(item, 0) + 1
    return counts
''',
        # `collections` is a local name here, not the stdlib module.
        '''\
def shadowed(words: list[str], collections: object) -> dict[str, int]:
    counts = {}
    for word in words:
        counts[word] = counts.get(word, 0) + 1
    return counts
''',
        # The loop variable is read after the loop.
        '''\
def with_last(words: list[str]) -> str:
    counts = {}
    word = ""
    for word in words:
        counts[word] = counts.get(word, 0) + 1
    return word + str(len(counts))
''',
        # Counts by 2: not the counting idiom.
        '''\
def doubled(words: list[str]) -> dict[str, int]:
    counts = {}
    for word in words:
        counts[word] = counts.get(word, 0) + 2
    return counts
''',
    )


    def rewrite_pair(
        self, facts: FunctionFacts, init: cst.BaseStatement, loop: cst.BaseStatement
    ) -> Sequence[cst.BaseStatement] | None:
        parts = accumulator_loop(facts, init, loop, allow_conditions=False, compound_action=True)
        if parts is None or len(parts.targets) != 1 or not isinstance(parts.loop.target, cst.Name):
            return None
        if not is_empty_container(facts, parts.value, "dict") or not _is_counting(
            parts.action, parts.name, parts.targets[0]
        ):
            return None
        iterable = parts.loop.iter
        if facts.element_type(iterable) not in HASHABLE_TYPES:
            return None
        if not is_non_mapping_iterable(facts, iterable) or not builtin_available(facts, "dict"):
            return None
        if not self._collections_is_free():
            return None
        AddImportsVisitor.add_needed_import(self.context, "collections")
        counter = cst.Call(
            func=cst.Attribute(cst.Name("collections"), cst.Name("Counter")),
            args=[cst.Arg(iterable)],
        )
        return [replace_initialiser(init, cst.Call(cst.Name("dict"), args=[cst.Arg(counter)]))]

    def _collections_is_free(self) -> bool:
        """`collections` is mentioned only by `import collections[...]` statements."""
        module = self.module
        in_imports = sum(
            len(name_references(node, "collections")) for node in m.findall(module, m.Import())
        )
        return len(name_references(module, "collections")) == in_imports


def _item(counts: str, key: str) -> m.Subscript:
    return m.Subscript(
        value=m.Name(counts), slice=[m.SubscriptElement(slice=m.Index(value=m.Name(key)))]
    )


def _line(small: Any) -> m.IndentedBlock:
    return m.IndentedBlock(body=[m.SimpleStatementLine(body=[small])])


def _is_counting(action: cst.CSTNode, counts: str, key: str) -> bool:
    one = m.Integer("1")
    set_one = m.Assign(targets=[m.AssignTarget(target=_item(counts, key))], value=one)
    increment = m.AugAssign(
        target=_item(counts, key), operator=m.AddAssign(), value=one
    ) | m.Assign(
        targets=[m.AssignTarget(target=_item(counts, key))],
        value=m.BinaryOperation(left=_item(counts, key), operator=m.Add(), right=one),
    )
    get_plus_one = m.Assign(
        targets=[m.AssignTarget(target=_item(counts, key))],
        value=m.BinaryOperation(
            left=m.Call(
                func=m.Attribute(value=m.Name(counts), attr=m.Name("get")),
                args=[
                    m.Arg(value=m.Name(key), keyword=None, star=""),
                    m.Arg(value=m.Integer("0"), keyword=None, star=""),
                ],
            ),
            operator=m.Add(),
            right=one,
        ),
    )

    def test(operator: Any) -> m.Comparison:
        return m.Comparison(
            left=m.Name(key),
            comparisons=[m.ComparisonTarget(operator=operator, comparator=m.Name(counts))],
        )

    branches = m.If(
        test=test(m.In()), body=_line(increment), orelse=m.Else(body=_line(set_one))
    ) | m.If(test=test(m.NotIn()), body=_line(set_one), orelse=m.Else(body=_line(increment)))
    return m.matches(action, get_plus_one | branches)


def _is_empty_dict(value: ast.expr) -> bool:
    return (isinstance(value, ast.Dict) and not value.keys) or pre.is_empty_call(value, "dict")


def _ast_counting(action: ast.stmt, counts: str, key: str) -> bool:
    """`counts[key] = counts.get(key, 0) + 1`, or an if/else on `key in counts`."""
    if isinstance(action, ast.Assign):
        return (
            len(action.targets) == 1
            and _ast_item(action.targets[0], counts, key)
            and isinstance(action.value, ast.BinOp)
            and isinstance(action.value.op, ast.Add)
            and pre.is_method_call(action.value.left, "get", counts)
        )
    if not isinstance(action, ast.If) or not action.orelse:
        return False
    test = action.test
    return (
        isinstance(test, ast.Compare)
        and pre.is_name(test.left, key)
        and len(test.ops) == 1
        and isinstance(test.ops[0], ast.In | ast.NotIn)
        and pre.is_name(test.comparators[0], counts)
    )


def _ast_item(node: ast.expr, counts: str, key: str) -> bool:
    return (
        isinstance(node, ast.Subscript)
        and pre.is_name(node.value, counts)
        and pre.is_name(node.slice, key)
    )
