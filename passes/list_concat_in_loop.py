"""OPT102: `lst = lst + [x]` in a loop becomes `lst.append(x)`."""

from __future__ import annotations

import ast

import libcst as cst
import libcst.matchers as m

from passes import _ast_prefilter as pre
from passes._builtins import LIST_METHODS_IN_PLACE
from passes._facts import FunctionFacts, FunctionPass
from passes._loop_shapes import enclosing_loops
from passes._names import binding_nodes, name_references
from passes._shapes import (
    enclosing_statement,
    inside,
    is_builtin_len_of,
    membership_target,
    method_call,
)
from passes._splicing import Replacements
from passes._values import is_list_typed
from passes.base import Example


class ListConcatInLoop(FunctionPass):
    """What it does:
        Rewrites list growth by concatenation inside a loop, `lst = lst + [x]`,
        `lst = lst + other` and `lst += [x]`, into in-place `lst.append(x)` /
        `lst.extend(other)`.

    Why it is faster:
        `lst + other` copies the whole list built so far on every iteration, so the
        loop is quadratic. `append`/`extend` grow the list in place in amortised
        O(1) per element.

    Fix safety:
        `lst = lst + other` makes a new list each time while `extend` mutates the
        one list, so the pass proves nothing else can hold the old object:
        - `lst` is a private local (no global/nonlocal, no closure), first bound by
          a list display `lst = [...]` (or `lst: T = [...]`) whose statement is
          directly in a block;
        - its only other bindings are the concatenations and fresh displays
          `lst = [...]` not mentioning `lst`, all later in that same block, and at
          least one concatenation is inside a loop;
        - from the display to the last statement holding a concatenation, every
          other use of `lst` cannot keep a reference or iterate it: `len(lst)`,
          `v in lst`, `lst[i]`, truth tests and direct list-method calls such as
          `lst.append(v)`, truth tests (also through `and`/`or` in a test); so no
          alias, no iterator over it (a `for v in lst` would otherwise never end)
          and no bound method can observe the mutation. The one exception is a
          one-statement line that may keep the list (`done.append(lst)`) directly
          followed in its block by `lst = [...]`, outside any try/with: the kept
          object is never grown again, in either version. After
          that point, and whenever the block runs again (a fresh display), uses are
          free;
        - the added operand never mentions `lst` and is provably a list (display,
          list comprehension, `list(...)`/`sorted(...)`, or a name annotated
          `list[...]`), so `lst + other` could not raise where `extend` accepts any
          iterable.
    """

    code = "OPT102"
    name = "list-concat-in-loop"
    summary = "Grow a list in place with append/extend instead of `lst = lst + [...]` in a loop."
    complexity_win = True
    triggers = ("+ [", "+= [", " + ")

    @classmethod
    def may_match_ast(cls, function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
        """`name = [...]` plus `name += [...]` or `name = name + ...`, and a loop."""
        if not pre.has(function, ast.For, ast.AsyncFor, ast.While):
            return False
        displays = {
            target.id
            for node in pre.nodes(function, ast.Assign, ast.AnnAssign)
            if isinstance(node, ast.Assign | ast.AnnAssign)
            and isinstance(node.value, ast.List)
            and (target := _single_target(node)) is not None
        }
        if not displays:
            return False
        for node in pre.nodes(function, ast.AugAssign):
            assert isinstance(node, ast.AugAssign)
            if (
                isinstance(node.op, ast.Add)
                and isinstance(node.target, ast.Name)
                and node.target.id in displays
                and isinstance(node.value, ast.List)
            ):
                return True
        for node in pre.nodes(function, ast.Assign):
            assert isinstance(node, ast.Assign)
            target = _single_target(node)
            value = node.value
            if (
                target is not None
                and target.id in displays
                and isinstance(value, ast.BinOp)
                and isinstance(value.op, ast.Add)
                and pre.is_name(value.left, target.id)
            ):
                return True
        return False

    EXAMPLES = (
        Example(
            before='''\
def squares(nums: list[int]) -> list[int]:
    result = []
    for n in nums:
        result = result + [n * n]
    return result
''',
            after='''\
def squares(nums: list[int]) -> list[int]:
    result = []
    for n in nums:
        result.append(n * n)
    return result
''',
        ),
        Example(
            before='''\
def flatten(rows: list[list[int]]) -> list[int]:
    flat = [0]
    for row in rows:
        if len(flat) < 50:
            flat = flat + row
        flat += [len(row)]
    return flat
''',
            after='''\
def flatten(rows: list[list[int]]) -> list[int]:
    flat = [0]
    for row in rows:
        if len(flat) < 50:
            flat.extend(row)
        flat.append(len(row))
    return flat
''',
        ),
        Example(
            before='''\
def batches(values: list[int], size: int) -> list[list[int]]:
    done = []
    batch: list[int] = []
    for v in values:
        if batch and len(batch) >= size:
            done.append(batch)
            batch = []
        batch = batch + [v]
    if batch:
        done.append(batch)
    return done
''',
            after='''\
def batches(values: list[int], size: int) -> list[list[int]]:
    done = []
    batch: list[int] = []
    for v in values:
        if batch and len(batch) >= size:
            done.append(batch)
            batch = []
        batch.append(v)
    if batch:
        done.append(batch)
    return done
''',
        ),
    )
    NON_EXAMPLES = (
        # Each snapshot must keep the old list object; append would change them all.
        '''\
def history(nums: list[int]) -> list[list[int]]:
    acc = []
    snaps = []
    for n in nums:
        snaps.append(acc)
        acc = acc + [n]
    return snaps
''',
        # The loop iterates the list it grows: in place, it would see the new items.
        '''\
def doubled(nums: list[int]) -> list[int]:
    acc = [1, 2]
    for v in acc:
        acc = acc + [v]
        if len(acc) > 10:
            break
    return acc
''',
        # `extra` is a tuple: `acc + extra` raises TypeError, `extend` would not.
        '''\
def padded(nums: list[int], extra: tuple[int, ...]) -> list[int]:
    acc = []
    for n in nums:
        acc = acc + extra
    return acc
''',
        # The list is the caller's argument: rebinding must not mutate it.
        '''\
def grown(nums: list[int]) -> list[int]:
    for n in range(3):
        nums = nums + [n]
    return nums
''',
        # The kept list is grown again when n <= 0: the rebinding does not always follow.
        '''\
def groups(nums: list[int]) -> list[list[int]]:
    out = []
    group = []
    for n in nums:
        out.append(group)
        if n > 0:
            group = []
        group = group + [n]
    return out
''',
        # `flag and acc` keeps the list itself, not only its truth value.
        '''\
def pick(nums: list[int], flag: bool) -> list[int]:
    acc: list[int] = []
    kept: list[int] = []
    for n in nums:
        kept = flag and acc
        acc = acc + [n]
    return kept
''',
    )

    def function_replacements(
        self, facts: FunctionFacts, function: cst.FunctionDef
    ) -> Replacements:
        replacements: Replacements = {}
        for assign in m.findall(function.body, DISPLAY_ASSIGN):
            assert isinstance(assign, cst.Assign | cst.AnnAssign)
            replacements.update(self._candidate(facts, function, assign))
        return replacements

    def _candidate(
        self, facts: FunctionFacts, function: cst.FunctionDef, assign: cst.Assign | cst.AnnAssign
    ) -> Replacements:
        target = _display_target(assign)
        assert target is not None
        name = target.value
        statement = facts.parent(assign)
        block = facts.parent(statement) if statement is not None else None
        if not (
            isinstance(statement, cst.SimpleStatementLine)
            and len(statement.body) == 1
            and isinstance(block, cst.IndentedBlock)
        ):
            return {}
        bindings = binding_nodes(facts, name)
        if bindings is None or not any(b is target for b in bindings):
            return {}
        start = next(i for i, s in enumerate(block.body) if s is statement)
        concats: list[cst.Assign | cst.AugAssign] = []
        fresh: list[cst.CSTNode] = []
        for binding in bindings:
            if binding is target:
                continue
            if _is_display_rebinding(facts, binding, name):
                fresh.append(binding)
                continue
            concat = self._concat_of(facts, binding, name)
            if concat is None:
                return {}
            concats.append(concat)
        later = block.body[start + 1 :]
        positions = [
            next((i for i, s in enumerate(later) if inside(facts, c, s)), None)
            for c in [*concats, *fresh]
        ]
        if not concats or any(p is None for p in positions):
            return {}
        if not any(inside_loop_of_block(facts, c, block) for c in concats):
            return {}
        window = later[: max(p for p in positions if p is not None) + 1]
        pieces = {id(node) for c in concats for node in _concat_names(c)}
        pieces.update(id(node) for node in fresh)
        for piece in window:
            for reference in name_references(piece, name):
                if id(reference) in pieces or _harmless_use(facts, reference):
                    continue
                if not _escapes_before_rebinding(facts, reference, name, concats):
                    return {}
        return {id(c): _rewrite for c in concats if _rewritable(c)}

    def _concat_of(
        self, facts: FunctionFacts, binding: cst.CSTNode, name: str
    ) -> cst.Assign | cst.AugAssign | None:
        holder = facts.parent(binding)
        if isinstance(holder, cst.AugAssign) and holder.target is binding:
            if isinstance(holder.operator, cst.AddAssign) and isinstance(holder.value, cst.List):
                return holder if not name_references(holder.value, name) else None
            return None
        assign = facts.parent(holder) if isinstance(holder, cst.AssignTarget) else None
        if not (
            isinstance(assign, cst.Assign)
            and len(assign.targets) == 1
            and m.matches(
                assign.value, m.BinaryOperation(left=m.Name(name), operator=m.Add())
            )
        ):
            return None
        value = assign.value
        assert isinstance(value, cst.BinaryOperation)
        if name_references(value.right, name) or not is_list_typed(facts, value.right):
            return None
        return assign


DISPLAY_ASSIGN = m.Assign(targets=[m.AssignTarget(target=m.Name())], value=m.List()) | m.AnnAssign(
    target=m.Name(), value=m.List()
)


def _display_target(statement: cst.CSTNode) -> cst.Name | None:
    """`name` when `statement` is `name = [...]` or `name: T = [...]`."""
    if isinstance(statement, cst.Assign) and len(statement.targets) == 1:
        target = statement.targets[0].target
    elif isinstance(statement, cst.AnnAssign):
        target = statement.target
    else:
        return None
    value = statement.value
    if isinstance(target, cst.Name) and isinstance(value, cst.List):
        return target
    return None


def _is_display_rebinding(facts: FunctionFacts, binding: cst.CSTNode, name: str) -> bool:
    """`binding` is the target of `name = [...]` (or annotated), a fresh list whose
    elements never mention `name`."""
    holder = facts.parent(binding)
    assign = facts.parent(holder) if isinstance(holder, cst.AssignTarget) else holder
    return (
        isinstance(assign, cst.Assign | cst.AnnAssign)
        and _display_target(assign) is binding
        and assign.value is not None
        and not name_references(assign.value, name)
    )


def _escapes_before_rebinding(
    facts: FunctionFacts,
    reference: cst.Name,
    name: str,
    concats: list[cst.Assign | cst.AugAssign],
) -> bool:
    """A use that may keep the list (`done.append(lst)`) in a one-statement line that
    the very next statement of the same block follows with `lst = [...]`: the kept
    object is never grown again. Not inside try/with, so no handler can resume
    between the two statements, and never the line of a concatenation."""
    statement = enclosing_statement(facts, reference)
    block = facts.parent(statement) if statement is not None else None
    if not (
        isinstance(statement, cst.SimpleStatementLine)
        and len(statement.body) == 1
        and isinstance(block, cst.IndentedBlock)
        and not facts.in_try_block(statement)
        and not any(inside(facts, concat, statement) for concat in concats)
    ):
        return False
    index = next(i for i, s in enumerate(block.body) if s is statement)
    following = block.body[index + 1] if index + 1 < len(block.body) else None
    if not isinstance(following, cst.SimpleStatementLine) or len(following.body) != 1:
        return False
    target = _display_target(following.body[0])
    return target is not None and target.value == name and not name_references(
        following.body[0].value, name  # type: ignore[attr-defined]
    )


def inside_loop_of_block(facts: FunctionFacts, node: cst.CSTNode, block: cst.CSTNode) -> bool:
    return any(inside(facts, loop, block) for loop in enclosing_loops(facts, node))


def _concat_names(concat: cst.Assign | cst.AugAssign) -> list[cst.CSTNode]:
    if isinstance(concat, cst.AugAssign):
        return [concat.target]
    assert isinstance(concat.value, cst.BinaryOperation)
    return [concat.targets[0].target, concat.value.left]


def _harmless_use(facts: FunctionFacts, reference: cst.Name) -> bool:
    """A use that can neither keep a reference to the list nor iterate it."""
    if is_builtin_len_of(facts, reference) or membership_target(facts, reference) is not None:
        return True
    call = method_call(facts, reference)
    if call is not None:
        return call[0] in LIST_METHODS_IN_PLACE
    parent = facts.parent(reference)
    if isinstance(parent, cst.Subscript) and parent.value is reference:
        return True
    return _truth_tested(facts, reference)


def _truth_tested(facts: FunctionFacts, node: cst.CSTNode) -> bool:
    """Only the truth value of `node` is used: an if/while/assert test or `not`,
    possibly through `and`/`or` whose own value is only truth-tested."""
    parent = facts.parent(node)
    if isinstance(parent, cst.If | cst.While | cst.Assert) and parent.test is node:
        return True
    if isinstance(parent, cst.BooleanOperation):
        return _truth_tested(facts, parent)
    return isinstance(parent, cst.UnaryOperation) and isinstance(parent.operator, cst.Not)


def _rewritable(concat: cst.Assign | cst.AugAssign) -> bool:
    if isinstance(concat, cst.Assign):
        return True
    assert isinstance(concat.value, cst.List)
    return len(concat.value.elements) == 1 and isinstance(concat.value.elements[0], cst.Element)


def _rewrite(node: cst.CSTNode) -> cst.CSTNode:
    if isinstance(node, cst.AugAssign):
        receiver, added = node.target, node.value
    else:
        assert isinstance(node, cst.Assign) and isinstance(node.value, cst.BinaryOperation)
        receiver, added = node.targets[0].target, node.value.right
    method, argument = "extend", added
    if (
        isinstance(added, cst.List)
        and len(added.elements) == 1
        and isinstance(added.elements[0], cst.Element)
        and not added.lpar
    ):
        method, argument = "append", added.elements[0].value
    assert isinstance(receiver, cst.Name)
    call = cst.Call(
        func=cst.Attribute(cst.Name(receiver.value), cst.Name(method)),
        args=[cst.Arg(argument)],
    )
    return cst.Expr(call, semicolon=node.semicolon)


def _single_target(node: ast.Assign | ast.AnnAssign) -> ast.Name | None:
    if isinstance(node, ast.AnnAssign):
        return node.target if isinstance(node.target, ast.Name) else None
    if len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
        return node.targets[0]
    return None
