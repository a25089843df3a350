"""OPT107: a local list used as a FIFO queue with `pop(0)` becomes a deque."""

from __future__ import annotations

import ast

import libcst as cst
import libcst.matchers as m
from libcst.codemod.visitors import AddImportsVisitor

from passes import _ast_prefilter as pre
from passes._annotations import SIZED_GENERICS, TEXT_TYPES, param_generic
from passes._facts import FunctionFacts, FunctionPass
from passes._names import binding_nodes, import_available, name_references
from passes._shapes import is_builtin_call, is_builtin_len_of, method_call, plain_args
from passes._splicing import Replacements
from passes._values import known_iterable
from passes.base import Example


class Pop0QueueToDeque(FunctionPass):
    """What it does:
        Turns a local list used as a queue, filled with `q.append(x)` /
        `q.extend(xs)` and drained with `q.pop(0)`, into a `collections.deque`
        drained with `q.popleft()`.

    Why it is faster:
        `list.pop(0)` shifts every remaining element, so draining a queue of n items
        is quadratic. `deque.popleft()` is O(1).

    Fix safety:
        The pass fires only when all of these are proven:
        - `q` is a private local (no global/nonlocal, no closure) bound exactly once,
          by a list display or by `list(xs)` where `xs` is a builtin-container
          parameter or a `range(...)` (`deque(xs)` then iterates it the same way,
          and neither runs user code);
        - every other use of `q` is `q.append(x)`, `q.extend(xs)`, `len(q)`, a truth
          test (`while q:`, `if q and ...:`, `not q`) or `q.pop(0)`; the queue is never
          indexed, sliced, iterated, compared, returned, passed or aliased, so its
          type cannot be observed;
        - each `q.pop(0)` is the first thing evaluated in the first statement of a
          `while`/`if` body whose test proves `q` non-empty (`q`, `len(q)`,
          `len(q) > 0`, ..., possibly joined by `and`), so neither version raises
          (their IndexError messages differ: "pop from empty list" and "pop from an
          empty deque");
        - `deque` is unbound in the module or already `from collections import
          deque`.
    """

    code = "OPT107"
    name = "pop0-queue-to-deque"
    summary = "Use collections.deque and popleft() for a local list drained with pop(0)."
    complexity_win = True
    triggers = (".pop(0)",)

    @classmethod
    def may_match_ast(cls, function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
        """`q = [...]` or `q = f(...)`, and `q.pop(0)` as a whole statement or right side."""
        bound = {
            pre.single_name_target(a)
            for a in pre.nodes(function, ast.Assign)
            if isinstance(getattr(a, "value", None), ast.List | ast.Call)
        }
        for name in pre.nodes(function, ast.Name):
            assert isinstance(name, ast.Name)
            call = pre.method_receiver(function, name) if name.id in bound else None
            if (
                call is not None
                and call[0] == "pop"
                and len(call[1].args) == 1
                and not call[1].keywords
                and pre.int_literal_value(call[1].args[0]) == 0
                and pre.is_statement_value(function, call[1])
            ):
                return True
        return False

    EXAMPLES = (
        Example(
            before="""\
def drain(items: list[int]) -> list[int]:
    queue = []
    for item in items:
        queue.append(item)
    out = []
    while queue:
        head = queue.pop(0)
        if head > 0 and head % 3 == 0:
            queue.append(head // 3)
        out.append(head)
    return out
""",
            after="""\
from collections import deque

def drain(items: list[int]) -> list[int]:
    queue = deque()
    for item in items:
        queue.append(item)
    out = []
    while queue:
        head = queue.popleft()
        if head > 0 and head % 3 == 0:
            queue.append(head // 3)
        out.append(head)
    return out
""",
        ),
        Example(
            before="""\
def running(nums: list[int]) -> int:
    pending = [0]
    pending.extend(nums)
    total = 0
    while len(pending) > 0 and total < 1000:
        total += pending.pop(0)
    return total
""",
            after="""\
from collections import deque

def running(nums: list[int]) -> int:
    pending = deque([0])
    pending.extend(nums)
    total = 0
    while len(pending) > 0 and total < 1000:
        total += pending.popleft()
    return total
""",
        ),
        Example(
            before='''\
def drain(jobs: list[tuple[str, int]], limit: int) -> list[str]:
    pending = list(jobs)
    done = []
    while pending and len(done) < limit:
        job, cost = pending.pop(0)
        if cost > 1:
            pending.append((job, cost - 1))
        else:
            done.append(job)
    return done
''',
            after='''\
from collections import deque

def drain(jobs: list[tuple[str, int]], limit: int) -> list[str]:
    pending = deque(jobs)
    done = []
    while pending and len(done) < limit:
        job, cost = pending.popleft()
        if cost > 1:
            pending.append((job, cost - 1))
        else:
            done.append(job)
    return done
''',
        ),
    )
    NON_EXAMPLES = (
        # `pop(0)` is not guarded: on an empty queue the IndexError message differs.
        """\
def first_two(items: list[int]) -> int:
    queue = []
    queue.extend(items)
    return queue.pop(0) + queue.pop(0)
""",
        # The queue is sliced, which a deque does not support.
        """\
def tail(items: list[int]) -> list[int]:
    queue = []
    queue.extend(items)
    while queue:
        queue.pop(0)
        if len(queue) < 3:
            return queue[1:]
    return []
""",
        # The queue is returned: the caller would see a deque instead of a list.
        """\
def leftovers(items: list[int]) -> list[int]:
    queue = []
    queue.extend(items)
    while queue:
        if queue.pop(0) < 0:
            break
    return queue
""",
        # Any iterable: list() may ask a user __len__/__length_hint__ that deque() never calls.
        '''\
from collections.abc import Iterable


def drain(jobs: Iterable[str]) -> list[str]:
    pending = list(jobs)
    done = []
    while pending:
        job = pending.pop(0)
        done.append(job)
    return done
''',
    )

    def function_replacements(
        self, facts: FunctionFacts, function: cst.FunctionDef
    ) -> Replacements:
        if not import_available(facts, "deque", "collections"):
            return {}
        replacements: Replacements = {}
        for assign in m.findall(
            function.body,
            m.Assign(targets=[m.AssignTarget(target=m.Name())], value=m.List() | m.Call()),
        ):
            assert isinstance(assign, cst.Assign)
            if not _fresh_list(facts, assign.value):
                continue
            pops = self._pops(facts, function, assign)
            if not pops:
                continue
            replacements[id(assign.value)] = _to_deque
            for call in pops:
                replacements[id(call)] = _to_popleft
        if replacements:
            AddImportsVisitor.add_needed_import(self.context, "collections", "deque")
        return replacements

    def _pops(
        self, facts: FunctionFacts, function: cst.FunctionDef, assign: cst.Assign
    ) -> list[cst.CSTNode]:
        """The `q.pop(0)` calls to rewrite, or [] when any use is unsafe."""
        target = assign.targets[0].target
        assert isinstance(target, cst.Name)
        name = target.value
        bindings = binding_nodes(facts, name)
        if bindings is None or len(bindings) != 1 or bindings[0] is not target:
            return []
        pops: list[cst.CSTNode] = []
        for reference in name_references(function.body, name):
            if reference is target:
                continue
            if is_builtin_len_of(facts, reference) or _truth_test(facts, reference):
                continue
            call = method_call(facts, reference)
            if call is None:
                return []
            method, node = call
            if any(name_references(arg, name) for arg in node.args):
                return []
            if method in {"append", "extend"} and plain_args(node, 1) is not None:
                continue
            args = plain_args(node, 1)
            if not (
                method == "pop"
                and args is not None
                and m.matches(args[0], m.Integer("0"))
                and _guarded(facts, node, name)
            ):
                return []
            pops.append(node)
        return pops


def _truth_test(facts: FunctionFacts, node: cst.CSTNode) -> bool:
    parent = facts.parent(node)
    while isinstance(parent, cst.BooleanOperation):
        node, parent = parent, facts.parent(parent)
    if isinstance(parent, cst.If | cst.While | cst.IfExp):
        return parent.test is node
    return isinstance(parent, cst.UnaryOperation) and isinstance(parent.operator, cst.Not)


def _guarded(facts: FunctionFacts, call: cst.Call, name: str) -> bool:
    """`call` runs first in the first statement of a body whose test proves `name`
    non-empty."""
    small = facts.parent(call)
    if isinstance(small, cst.Assign | cst.AugAssign) and small.value is call:
        pass
    elif not (isinstance(small, cst.Expr) and small.value is call):
        return False
    if isinstance(small, cst.AugAssign) and not isinstance(small.target, cst.Name):
        return False
    line = facts.parent(small)
    block = facts.parent(line) if line is not None else None
    guard = facts.parent(block) if block is not None else None
    return (
        isinstance(line, cst.SimpleStatementLine)
        and line.body[0] is small
        and isinstance(block, cst.IndentedBlock)
        and block.body[0] is line
        and isinstance(guard, cst.If | cst.While)
        and guard.body is block
        and _proves_non_empty(guard.test, name)
        and all(facts.is_builtin(func, "len") for func in m.findall(guard.test, m.Name("len")))
    )


def _proves_non_empty(test: cst.BaseExpression, name: str) -> bool:
    if isinstance(test, cst.BooleanOperation) and isinstance(test.operator, cst.And):
        return _proves_non_empty(test.left, name) or _proves_non_empty(test.right, name)
    size = m.Call(func=m.Name("len"), args=[m.Arg(value=m.Name(name), keyword=None, star="")])
    return m.matches(
        test,
        m.Name(name)
        | size
        | m.Comparison(
            left=size,
            comparisons=[
                m.ComparisonTarget(
                    operator=m.GreaterThan() | m.NotEqual(), comparator=m.Integer("0")
                )
            ],
        )
        | m.Comparison(
            left=size,
            comparisons=[
                m.ComparisonTarget(operator=m.GreaterThanEqual(), comparator=m.Integer("1"))
            ],
        ),
    )


def _fresh_list(facts: FunctionFacts, value: cst.BaseExpression) -> bool:
    """A list display, or `list(xs)` copying a builtin container or range: `deque(xs)`
    iterates it the same way and neither runs user code."""
    if isinstance(value, cst.List):
        return True
    args = plain_args(value, 1) if isinstance(value, cst.Call) else None
    return (
        is_builtin_call(facts, value, "list")
        and args is not None
        and known_iterable(facts, args[0])
        and _concrete(facts, args[0])
    )


def _concrete(facts: FunctionFacts, iterable: cst.BaseExpression) -> bool:
    """Not merely `Iterable[...]`: a user iterable could run code in `__length_hint__`,
    which `list()` asks and `deque()` does not."""
    if not isinstance(iterable, cst.Name):
        return True  # a builtin range(...) call
    return param_generic(facts, iterable.value).name in SIZED_GENERICS | TEXT_TYPES


def _to_deque(node: cst.CSTNode) -> cst.CSTNode:
    if isinstance(node, cst.Call):
        return node.with_changes(func=cst.Name("deque"))
    assert isinstance(node, cst.List)
    args = [cst.Arg(node.with_changes(lpar=(), rpar=()))] if node.elements else []
    return cst.Call(func=cst.Name("deque"), args=args)


def _to_popleft(node: cst.CSTNode) -> cst.CSTNode:
    assert isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute)
    return node.with_changes(func=node.func.with_changes(attr=cst.Name("popleft")), args=())
