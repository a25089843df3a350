"""OPT219: an attribute chain of an imported module or class that a loop reads on every
iteration is looked up once, into a local, before the loop."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator

import libcst as cst
import libcst.matchers as m
from libcst.helpers import get_full_name_for_node
from libcst.metadata import GlobalScope, QualifiedNameProvider, ScopeProvider

from passes import _ast_prefilter as pre
from passes._facts import FunctionFacts, FunctionPass
from passes._loop_shapes import aliased_loop
from passes._names import has_scope_hazard, has_star_import, in_store_context, name_references
from passes._splicing import code_of
from passes.base import Example

Loop = cst.For | cst.While
# Module attributes that programs rebind or fill while running: never taken as fixed.
MUTABLE_STATE = frozenset(
    {"sys.stdout", "sys.stderr", "sys.stdin", "sys.argv", "sys.path", "sys.modules",
     "sys.meta_path", "sys.path_hooks", "os.environ", "os.environb"}
)  # fmt: skip
EXITS = m.Break() | m.Continue() | m.Return() | m.Raise()
CAP_WORDS = re.compile(r"_?[A-Z][A-Za-z0-9]*")


class LoopInvariantLookup(FunctionPass):
    """What it does:
        Binds an attribute chain of an imported module or class that a loop reads
        on every iteration, such as `idnadata.codepoint_classes["PVALID"]` or
        `MachineState.ERROR`, to a fresh local just before the loop, and reads the
        local in the loop: `_pvalid = idnadata.codepoint_classes["PVALID"]`.
        A chain may end in subscripts with a literal key; it may be called when
        it is a function of an imported module (`bisect.bisect_right`).

    Why it is faster:
        Each read is a global lookup, one attribute lookup per dot and one
        dictionary lookup per subscript, on every iteration; a local is one
        `LOAD_FAST`. On 3.11+ the specialising interpreter makes module and class
        attribute reads cheap, so the gain is a few nanoseconds per read and
        timing decides whether the rewrite is kept.

    Fix safety:
        The chain is evaluated once, before the loop, instead of on every
        iteration, so the pass proves:
        - its first name resolves to a module-level import and nothing else
          binds it (no star import, no binding in the function); the import is
          `import m` (a module), `from . import m` (a sibling module) or
          `from m import Name` with a CapWords name (a class);
        - the chain is read on every iteration before anything can end it: in
          the `while` test, or in the loop's body before the first statement
          that may `break`, `continue`, `return` or `raise`, and not behind
          `and`/`or`, a conditional expression or the later comparisons of a
          chain. So if evaluating it could fail, every run of the loop fails
          the same way; only a loop that runs zero times now evaluates it too;
        - nothing in the function assigns or deletes an attribute or item
          through the chain's first name, and the loop holds no nested def,
          lambda or class, global/nonlocal, walrus, yield or await; the local's
          name is fresh in the function.
        Attributes of imported modules and classes are taken as fixed while the
        loop runs (except the interpreter's own mutable state: `sys.stdout`,
        `sys.argv`, `sys.path`, `os.environ`, ...): code the loop calls that
        rebinds one (monkey-patching, or a module-level variable another module
        reassigns), or that changes the item a literal subscript reads, is not
        supported; verification runs the rewrite on the recorded calls.

    Seen in:
        idna's `check_label` (`idnadata.codepoint_classes["PVALID"]` for every
        code point of a label), chardet's probers (`MachineState.ERROR` and
        `CharacterCategory.CONTROL` for every byte), mistune's `BlockParser.parse`;
        sqlparse and wcwidth read enum and class attributes in their loops too.
    """

    code = "OPT219"
    name = "loop-invariant-lookup"
    summary = "Read an imported module's or class's attribute once, before the loop."
    triggers = ("for ", "while ")

    @classmethod
    def may_match_ast(cls, function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
        """A loop that reads an attribute of a bare name."""
        return any(
            isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
            for loop in pre.nodes(function, ast.For, ast.While)
            for node in ast.walk(loop)
        )

    EXAMPLES = (
        Example(
            before='''\
import string


def count_digits(text: str) -> int:
    count = 0
    for ch in text:
        if ch in string.digits:
            count += 1
    return count
''',
            after='''\
import string


def count_digits(text: str) -> int:
    count = 0
    _digits = string.digits
    for ch in text:
        if ch in _digits:
            count += 1
    return count
''',
        ),
        Example(
            before='''\
import unicodedata


def widths(codes: list[int]) -> list[int]:
    out = []
    i = 0
    while i < len(codes):
        out.append(2 if unicodedata.east_asian_width(chr(codes[i] % 0x10000)) == "W" else 1)
        i += 1
    return out
''',
            after='''\
import unicodedata


def widths(codes: list[int]) -> list[int]:
    out = []
    i = 0
    _east_asian_width = unicodedata.east_asian_width
    while i < len(codes):
        out.append(2 if _east_asian_width(chr(codes[i] % 0x10000)) == "W" else 1)
        i += 1
    return out
''',
        ),
        Example(
            before='''\
import sys


def clamp_all(values: list[int]) -> list[int]:
    out = []
    for v in values:
        out.append(min(v, sys.maxsize) if v > -sys.maxsize else -sys.maxsize)
    return out
''',
            after='''\
import sys


def clamp_all(values: list[int]) -> list[int]:
    out = []
    _maxsize = sys.maxsize
    for v in values:
        out.append(min(v, _maxsize) if v > -_maxsize else -_maxsize)
    return out
''',
        ),
    )
    NON_EXAMPLES = (
        # Read only after a `continue` may have ended the iteration.
        '''\
import string


def count_digits(text: str) -> int:
    count = 0
    for ch in text:
        if ch == " ":
            continue
        if ch in string.digits:
            count += 1
    return count
''',
        # The module attribute is assigned in the function.
        '''\
import string


def reset(text: str) -> int:
    count = 0
    for ch in text:
        if ch in string.digits:
            string.digits = ""
            count += 1
    return count
''',
        # `shared` may be any object (lower case, imported from a module): its
        # attributes may change while the loop runs.
        '''\
from state import shared


def total(values: list[int]) -> int:
    out = 0
    for v in values:
        out += v * shared.factor
    return out
''',
        # `sys.stdout` is rebound while programs run (redirect_stdout, capture).
        """\
import sys


def echo(lines: list[str]) -> None:
    for line in lines:
        print(line, file=sys.stdout)
""",
        # Read only behind `and`.
        '''\
import sys


def small(values: list[int]) -> int:
    n = 0
    for v in values:
        if v > 0 and v < sys.maxsize:
            n += 1
    return n
''',
    )

    def leave_IndentedBlock(
        self, original_node: cst.IndentedBlock, updated_node: cst.IndentedBlock
    ) -> cst.IndentedBlock:
        facts = self.facts
        if facts is None or facts.scope is None or has_star_import(self.module):
            return updated_node
        if facts.transformer.get_metadata(ScopeProvider, original_node, None) is not facts.scope:
            return updated_node
        body: list[cst.BaseStatement] = []
        changed = False
        for original, updated in zip(original_node.body, updated_node.body, strict=True):
            chains = self._hoistable(facts, original)
            if not chains or not updated.deep_equals(original):
                body.append(updated)
                continue
            assert isinstance(updated, Loop)
            aliases = {text: facts.fresh_name(_local_name(chain)) for text, chain in chains.items()}
            taken: set[str] = set()
            for text, alias in list(aliases.items()):  # two chains ending alike
                while alias in taken:
                    alias = facts.fresh_name(alias + "_")
                aliases[text] = alias
                taken.add(alias)
            bindings = [(alias, text) for text, alias in aliases.items()]
            body.extend(aliased_loop(updated, bindings, _UseLocals(aliases)))
            changed = True
        return updated_node.with_changes(body=body) if changed else updated_node

    def _hoistable(
        self, facts: FunctionFacts, statement: cst.BaseStatement
    ) -> dict[str, cst.BaseExpression]:
        """The chains (by their text) read on every iteration of `statement`, a loop."""
        if not isinstance(statement, Loop) or has_scope_hazard(statement):
            return {}
        if isinstance(statement, cst.For) and statement.asynchronous is not None:
            return {}
        if statement.orelse is not None:
            return {}
        found: dict[str, cst.BaseExpression] = {}
        for expression in _every_iteration(statement):
            for chain in _chains(expression):
                if self._invariant(facts, chain):
                    found.setdefault(code_of(chain), chain)
        return found

    def _invariant(self, facts: FunctionFacts, chain: cst.BaseExpression) -> bool:
        base = _base(chain)
        if base is None or self.get_metadata(ScopeProvider, base, None) is not facts.scope:
            return False
        parent = facts.parent(chain)
        called = isinstance(parent, cst.Call) and parent.func is chain
        if not _imported_here(facts, base.value, module_only=called):
            return False
        if self._mutable_state(base, chain):
            return False
        if called and not (isinstance(chain, cst.Attribute) and isinstance(chain.value, cst.Name)):
            return False  # only `module.function(...)`
        return not _written_through(facts, base.value)

    def _mutable_state(self, base: cst.Name, chain: cst.BaseExpression) -> bool:
        """The chain reads (through) `sys.stdout`, `os.environ` and the like."""
        rest = _chain_text_after(base, chain)
        for qualified in self.get_metadata(QualifiedNameProvider, base, set()):
            dotted = qualified.name + rest
            if any(dotted == s or dotted.startswith((s + ".", s + "[")) for s in MUTABLE_STATE):
                return True
        return False


def _chain_text_after(base: cst.Name, chain: cst.BaseExpression) -> str:
    return code_of(chain)[len(base.value) :]


def _every_iteration(loop: cst.For | cst.While) -> Iterator[cst.BaseExpression]:
    """Expressions the loop evaluates on every iteration before it may end early: the
    `while` test, then the body's statements up to the first one that may exit."""
    if isinstance(loop, cst.While):
        yield loop.test
    body = loop.body
    if not isinstance(body, cst.IndentedBlock):
        return
    for statement in body.body:
        if isinstance(statement, cst.SimpleStatementLine):
            for small in statement.body:
                yield from _expressions_of(small)
            if m.findall(statement, EXITS):
                return
        elif isinstance(statement, cst.If):
            yield statement.test
            if m.findall(statement, EXITS):
                return
        else:
            return


def _expressions_of(small: cst.BaseSmallStatement) -> Iterator[cst.BaseExpression]:
    value = getattr(small, "value", None)  # Expr, Return, Assign, AugAssign, AnnAssign
    kinds = cst.Expr | cst.Return | cst.Assign | cst.AugAssign | cst.AnnAssign
    if isinstance(small, kinds) and isinstance(value, cst.BaseExpression):
        yield value


def _chains(expression: cst.CSTNode) -> Iterator[cst.BaseExpression]:
    """Maximal `name.attr[...]` chains (one attribute at least, literal subscripts) that
    evaluating `expression` always evaluates."""
    if isinstance(expression, cst.BaseExpression) and _base(expression) is not None:
        yield expression
        return
    for child in _always_evaluated_children(expression):
        yield from _chains(child)


def _always_evaluated_children(node: cst.CSTNode) -> list[cst.CSTNode]:
    if isinstance(node, cst.BooleanOperation):
        return [node.left]
    if isinstance(node, cst.IfExp):
        return [node.test]
    if isinstance(node, cst.Comparison):
        return [node.left, node.comparisons[0].comparator]
    if isinstance(
        node, cst.Lambda | cst.ListComp | cst.SetComp | cst.DictComp | cst.GeneratorExp
    ):
        return []
    if isinstance(node, cst.Attribute):
        return [node.value]
    return list(node.children)


def _base(node: cst.CSTNode) -> cst.Name | None:
    """The first name of a chain `name.attr...` (subscripts with a literal key allowed
    after the first attribute), or None when `node` is not one."""
    attributes = 0
    while True:
        if isinstance(node, cst.Attribute) and not node.lpar:
            attributes += 1
            node = node.value
        elif isinstance(node, cst.Subscript) and not node.lpar and _literal_key(node):
            node = node.value
        elif isinstance(node, cst.Name):
            return node if attributes else None
        else:
            return None


def _literal_key(subscript: cst.Subscript) -> bool:
    if len(subscript.slice) != 1:
        return False
    index = subscript.slice[0].slice
    return (
        isinstance(index, cst.Index)
        and isinstance(index.value, cst.SimpleString | cst.Integer)
        and (not isinstance(index.value, cst.SimpleString) or "f" not in index.value.prefix.lower())
    )


def _imported_here(facts: FunctionFacts, name: str, module_only: bool) -> bool:
    """`name` is bound only at module level, only by imports of a module (or, unless
    `module_only`, of a CapWords name: a class)."""
    assert facts.scope is not None
    if name in facts.scope.assignments:
        return False
    module_scope = facts.scope.globals
    assignments = list(module_scope.assignments[name])
    return bool(assignments) and all(
        isinstance(a.scope, GlobalScope)
        and _imports_module_or_class(getattr(a, "node", None), name, module_only)
        for a in assignments
    )


def _imports_module_or_class(node: object, name: str, module_only: bool) -> bool:
    if isinstance(node, cst.Import):
        return True
    if not isinstance(node, cst.ImportFrom) or isinstance(node.names, cst.ImportStar):
        return False
    sibling_module = bool(node.relative) and node.module is None
    for alias in node.names:
        bound = alias.asname.name if alias.asname else alias.name
        if isinstance(bound, cst.Name) and bound.value == name:
            imported = get_full_name_for_node(alias.name) or ""
            if sibling_module:
                return True
            return not module_only and CAP_WORDS.fullmatch(imported) is not None
    return False


def _written_through(facts: FunctionFacts, name: str) -> bool:
    """The function assigns or deletes something reached through `name` (`name.x = ...`,
    `name.d[k] = ...`), or binds `name` itself."""
    for reference in name_references(facts.function, name):
        node: cst.CSTNode = reference
        parent = facts.parent(node)
        while isinstance(parent, cst.Attribute | cst.Subscript) and parent.value is node:
            node, parent = parent, facts.parent(parent)
        if in_store_context(facts, node) or isinstance(parent, cst.Del):
            return True
    return False


def _local_name(chain: cst.BaseExpression) -> str:
    """`_pvalid` for `idnadata.codepoint_classes["PVALID"]`, `_error` for
    `MachineState.ERROR`."""
    last = chain
    if isinstance(last, cst.Attribute):
        word = last.attr.value
    else:
        assert isinstance(last, cst.Subscript)
        index = last.slice[0].slice
        assert isinstance(index, cst.Index)
        literal = index.value
        word = (
            str(literal.evaluated_value)
            if isinstance(literal, cst.SimpleString | cst.Integer)
            else "value"
        )
    word = re.sub(r"\W", "_", word).strip("_").lower()
    if not word or not word.isidentifier():
        word = f"value_{word}" if word else "value"
    return f"_{word}"


class _UseLocals(cst.CSTTransformer):
    def __init__(self, aliases: dict[str, str]) -> None:
        self.aliases = aliases

    def leave_Attribute(
        self, original_node: cst.Attribute, updated_node: cst.Attribute
    ) -> cst.BaseExpression:
        return self._replace(updated_node)

    def leave_Subscript(
        self, original_node: cst.Subscript, updated_node: cst.Subscript
    ) -> cst.BaseExpression:
        return self._replace(updated_node)

    def _replace(self, node: cst.Attribute | cst.Subscript) -> cst.BaseExpression:
        alias = self.aliases.get(code_of(node.with_changes(lpar=(), rpar=())))
        if alias is None:
            return node
        return cst.Name(alias, lpar=node.lpar, rpar=node.rpar)
