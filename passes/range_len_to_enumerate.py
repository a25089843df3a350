"""OPT204: `for i in range(len(xs)): ... xs[i] ...` iterates `xs` directly."""

from __future__ import annotations

import ast

import libcst as cst
import libcst.matchers as m

from passes import _ast_prefilter as pre
from passes._builtins import HASHABLE_TYPES, LEAVES_ARGUMENTS
from passes._facts import FunctionFacts, FunctionPass
from passes._names import (
    builtin_available,
    has_scope_hazard,
    in_store_context,
    item_name,
    name_references,
)
from passes._values import (
    has_immutable_bindings,
    is_fresh_container,
    is_sequence_name,
    text_type,
)
from passes.base import Example

RANGE_LEN = m.Call(
    func=m.Name("range"),
    args=[
        m.Arg(
            keyword=None,
            star="",
            value=m.Call(func=m.Name("len"), args=[m.Arg(value=m.Name(), keyword=None, star="")]),
        )
    ],
)


# What one item of a text is called when the text's own name has no singular.
ITEM_NOUNS = {"str": "char", "bytes": "byte"}


class RangeLenToEnumerate(FunctionPass):
    """What it does:
        Rewrites `for i in range(len(xs)):` whose body reads `xs` only as `xs[i]`
        into `for x in xs:` (when `i` has no other use) or
        `for i, x in enumerate(xs):`, replacing each `xs[i]` with `x`.

    Why it is faster:
        Iterating the sequence hands out each element directly; the original
        builds a range, then does a global `len`, and one subscript per access.

    Fix safety:
        The pass fires only when all of these are proven:
        - `range` and `len` (and `enumerate`, when used) are the builtins;
        - `xs` is a private local bound once: a parameter annotated
          `list[...]`/`tuple[...]`/`str`/`bytes`, or a list/tuple/str literal or
          list comprehension. For these, iterating yields exactly `xs[0]`,
          `xs[1]`, ... (a dict or custom class could differ);
        - the loop body mentions `xs` only in reads `xs[i]` (never stored to or
          deleted), and cannot mutate it through an alias either: every call is
          to a non-mutating builtin, a method of an immutable value (str, int,
          ...) or a method of a fresh list/dict/set built in this function;
          item stores go only to such fresh containers; there is no `del`,
          attribute store, lambda, nested def, yield or await. So the length
          fixed by `range(len(xs))` and the live iteration agree;
        - `i` is bound only by this loop (never reassigned in the body), is not
          captured, and is not mentioned after the loop; the new element name is
          fresh in the function.
    """

    code = "OPT204"
    name = "range-len-to-enumerate"
    summary = "Iterate a sequence directly (or with enumerate) instead of range(len(xs))."
    triggers = ("range(len(",)

    @classmethod
    def may_match_ast(cls, function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
        """`for i in range(len(xs))` whose body reads `xs` only as `xs[i]`, at least once."""
        return any(_ast_index_loop(loop) for loop in pre.nodes(function, ast.For))

    EXAMPLES = (
        Example(
            before='''\
def total_length(words: list[str]) -> int:
    total = 0
    for i in range(len(words)):
        total += len(words[i].strip())
    return total
''',
            after='''\
def total_length(words: list[str]) -> int:
    total = 0
    for word in words:
        total += len(word.strip())
    return total
''',
        ),
        Example(
            before='''\
def weighted(values: list[int]) -> list[int]:
    out = []
    for i in range(len(values)):
        if values[i] > 0:
            out.append(values[i] * i)
    return out
''',
            after='''\
def weighted(values: list[int]) -> list[int]:
    out = []
    for i, value in enumerate(values):
        if value > 0:
            out.append(value * i)
    return out
''',
        ),
        Example(
            before='''\
def count_long(entries: list[str], limit: int) -> int:
    count = 0
    for i in range(len(entries)):
        if len(entries[i]) > limit:
            count += 1
    return count
''',
            after='''\
def count_long(entries: list[str], limit: int) -> int:
    count = 0
    for entry in entries:
        if len(entry) > limit:
            count += 1
    return count
''',
        ),
        Example(
            # The singular `id` is a builtin's name, so the item is called `item`.
            before='''\
def total_ids(ids: list[int]) -> int:
    total = 0
    for i in range(len(ids)):
        total += ids[i]
    return total
''',
            after='''\
def total_ids(ids: list[int]) -> int:
    total = 0
    for item in ids:
        total += item
    return total
''',
        ),
        Example(
            # A string's items are characters: `text` has no singular, so `char`.
            before='''\
def count_vowels(text: str) -> int:
    count = 0
    for i in range(len(text)):
        if text[i] in "aeiou":
            count += 1
    return count
''',
            after='''\
def count_vowels(text: str) -> int:
    count = 0
    for char in text:
        if char in "aeiou":
            count += 1
    return count
''',
        ),
        Example(
            # Iterating bytes yields its bytes (ints).
            before='''\
def count_zeros(data: bytes) -> int:
    count = 0
    for i in range(len(data)):
        if data[i] == 0:
            count += 1
    return count
''',
            after='''\
def count_zeros(data: bytes) -> int:
    count = 0
    for byte in data:
        if byte == 0:
            count += 1
    return count
''',
        ),
    )
    NON_EXAMPLES = (
        # The list is mutated in the loop: range(len(xs)) fixed the length first.
        '''\
def grow(xs: list[int]) -> list[int]:
    for i in range(len(xs)):
        xs.append(xs[i])
    return xs
''',
        # Item stores into xs: the loop does not only read.
        '''\
def double(xs: list[int]) -> list[int]:
    for i in range(len(xs)):
        xs[i] = xs[i] * 2
    return xs
''',
        # A dict is indexed by position here, but iterating it yields keys.
        '''\
def by_position(table: dict[int, str]) -> list[str]:
    out = []
    for i in range(len(table)):
        out.append(table[i])
    return out
''',
        # The index is read after the loop.
        '''\
def last_index(xs: list[int]) -> int:
    i = -1
    for i in range(len(xs)):
        print(xs[i])
    return i
''',
        # An unknown call could mutate xs through an alias (ys may be xs).
        '''\
def alias(xs: list[int], ys: list[int]) -> int:
    total = 0
    for i in range(len(xs)):
        ys.clear()
        total += xs[i]
    return total
''',
    )

    def leave_For(self, original_node: cst.For, updated_node: cst.For) -> cst.BaseStatement:
        facts = self.facts_for(original_node)
        if facts is None or original_node.asynchronous is not None:
            return updated_node
        if not m.matches(original_node.iter, RANGE_LEN) or not isinstance(
            original_node.target, cst.Name
        ):
            return updated_node
        range_call = original_node.iter
        assert isinstance(range_call, cst.Call) and isinstance(range_call.func, cst.Name)
        len_call = range_call.args[0].value
        assert isinstance(len_call, cst.Call)
        sequence = len_call.args[0].value
        assert isinstance(sequence, cst.Name)
        index, xs = original_node.target.value, sequence.value
        if not facts.is_builtin(range_call.func, "range"):
            return updated_node
        if not facts.is_builtin(len_call.func, "len"):
            return updated_node
        if index == xs or not _index_is_loop_only(facts, original_node, index):
            return updated_node
        if not is_sequence_name(facts, xs) or not facts.is_private_local(xs):
            return updated_node
        reads = _reads_only(facts, original_node.body, xs, index)
        if reads is None or not _cannot_mutate(facts, original_node.body, xs):
            return updated_node
        if _rebinds(original_node.body, (xs, index)):
            return updated_node
        element = item_name(facts, xs, ITEM_NOUNS.get(text_type(facts, xs) or "", "item"))
        other_uses = len(name_references(original_node, index)) - 1 - reads
        body = updated_node.body.visit(_Substitute(xs, index, element))
        assert isinstance(body, cst.BaseSuite)
        if other_uses == 0:
            return updated_node.with_changes(target=cst.Name(element), iter=cst.Name(xs), body=body)
        if not builtin_available(facts, "enumerate"):
            return updated_node
        return updated_node.with_changes(
            target=cst.Tuple(
                [
                    cst.Element(
                        cst.Name(index),
                        comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")),
                    ),
                    cst.Element(cst.Name(element)),
                ],
                lpar=[],
                rpar=[],
            ),
            iter=cst.Call(cst.Name("enumerate"), args=[cst.Arg(cst.Name(xs))]),
            body=body,
        )


def _index_pattern(xs: str, index: str) -> m.Subscript:
    index_slice = m.SubscriptElement(slice=m.Index(value=m.Name(index), star=None))
    return m.Subscript(value=m.Name(xs), slice=[index_slice])


def _rebinds(body: cst.BaseSuite, names: tuple[str, ...]) -> bool:
    """A comprehension in `body` binds one of `names`, so `xs[i]` there means another thing."""
    for comprehension in m.findall(body, m.CompFor()):
        assert isinstance(comprehension, cst.CompFor)
        if any(name_references(comprehension.target, name) for name in names):
            return True
    return False


def _index_is_loop_only(facts: FunctionFacts, loop: cst.For, index: str) -> bool:
    return (
        facts.single_binding(index) is loop.target
        and facts.is_private_local(index)
        and len(name_references(facts.function, index)) == len(name_references(loop, index))
    )


def _is_index_read(facts: FunctionFacts, node: cst.CSTNode, xs: str, index: str) -> bool:
    if not m.matches(node, _index_pattern(xs, index)):
        return False
    return not in_store_context(facts, node)


def _reads_only(facts: FunctionFacts, body: cst.BaseSuite, xs: str, index: str) -> int | None:
    """How many `xs[i]` reads the body has, or None if it mentions `xs` otherwise."""
    reads = 0
    for reference in name_references(body, xs):
        subscript = facts.parent(reference)
        if subscript is None or not _is_index_read(facts, subscript, xs, index):
            return None
        reads += 1
    return reads if reads else None


def _cannot_mutate(facts: FunctionFacts, body: cst.BaseSuite, xs: str) -> bool:
    if has_scope_hazard(body) or m.findall(body, m.Del()):
        return False
    for call in m.findall(body, m.Call()):
        assert isinstance(call, cst.Call)
        func = call.func
        if isinstance(func, cst.Name):
            if func.value not in LEAVES_ARGUMENTS or not facts.is_builtin(func, func.value):
                return False
        elif isinstance(func, cst.Attribute):
            receiver = func.value
            if isinstance(receiver, cst.Name) and receiver.value != xs and (
                is_fresh_container(facts, receiver.value)
            ):
                continue
            if facts.type_of(receiver) not in HASHABLE_TYPES:
                return False
        else:
            return False
    for node in m.findall(body, m.Subscript() | m.Attribute()):
        assert isinstance(node, cst.Subscript | cst.Attribute)
        if not in_store_context(facts, node):
            continue
        if isinstance(node, cst.Attribute) or not (
            isinstance(node.value, cst.Name)
            and node.value.value != xs
            and is_fresh_container(facts, node.value.value)
        ):
            return False
    for aug in m.findall(body, m.AugAssign()):
        assert isinstance(aug, cst.AugAssign)
        target = aug.target
        if isinstance(target, cst.Name) and not (
            has_immutable_bindings(facts, target.value) or is_fresh_container(facts, target.value)
        ):
            return False
    return True


class _Substitute(cst.CSTTransformer):
    def __init__(self, xs: str, index: str, element: str) -> None:
        self.pattern = _index_pattern(xs, index)
        self.element = element

    def leave_Subscript(
        self, original_node: cst.Subscript, updated_node: cst.Subscript
    ) -> cst.BaseExpression:
        if m.matches(updated_node, self.pattern):
            return cst.Name(self.element, lpar=updated_node.lpar, rpar=updated_node.rpar)
        return updated_node


def _ast_index_loop(loop: ast.AST) -> bool:
    if not isinstance(loop, ast.For) or not isinstance(loop.target, ast.Name):
        return False
    range_call = loop.iter
    if not pre.is_builtin_call(range_call, "range"):
        return False
    assert isinstance(range_call, ast.Call)
    len_call = pre.single_positional_arg(range_call)
    if len_call is None or not pre.is_builtin_call(len_call, "len"):
        return False
    assert isinstance(len_call, ast.Call)
    sequence = pre.single_positional_arg(len_call)
    if not isinstance(sequence, ast.Name) or sequence.id == loop.target.id:
        return False
    xs, index = sequence.id, loop.target.id
    mentions = reads = 0
    for statement in loop.body:
        for node in ast.walk(statement):
            if isinstance(node, ast.Name) and node.id == xs:
                mentions += 1
            elif (
                isinstance(node, ast.Subscript)
                and pre.is_name(node.value, xs)
                and pre.is_name(pre.single_index(node.slice), index)
            ):
                reads += 1
    # Every mention of `xs` is the value of an `xs[i]` (libcst also takes `xs[i,]`).
    return reads >= 1 and reads == mentions
