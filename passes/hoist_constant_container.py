"""OPT216: a literal dict, list or set that a function rebuilds on every call and only
reads becomes a module-level constant."""

from __future__ import annotations

import ast
import enum
from collections.abc import Callable, Iterator, Sequence

import libcst as cst
import libcst.matchers as m
from libcst.metadata import ComprehensionScope, ScopeProvider

from passes import _ast_prefilter as pre
from passes._builtins import Fact, builtins_with
from passes._facts import FunctionFacts
from passes._module_constants import ModuleConstant, ModuleConstantPass
from passes._names import SCOPE_SENSITIVE_NAMES, in_store_context, name_references
from passes._shapes import plain_args
from passes._splicing import Replacements
from passes._values import constant_type
from passes.base import Example


class Use(enum.Enum):
    """How one read of the container uses it."""

    TEST = "test"  # `x in t`, `len(t)`, `if t:`: nothing comes out of the container
    ITEMS = "items"  # iteration, `sorted(t)`, `t[k]`, `t.get(k)`: its items come out
    ITEMS_BY_POSITION = "items by position"  # `t[i]`, `t.index(x)`: a list must stay a list


# Builtins that consume an iterable argument and keep no reference to it in their result.
CONSUMERS = frozenset(
    {"sorted", "list", "tuple", "set", "frozenset", "dict", "sum", "any", "all", "min", "max"}
)
# Builtins whose result iterates over the argument lazily: allowed only as a loop's iterable.
LAZY = frozenset({"enumerate", "zip"})
# Methods that read a container and return a new value, by container type.
ITEM_METHODS: dict[type[cst.CSTNode], frozenset[str]] = {cst.Dict: frozenset({"get"})}
COUNT_METHODS: dict[type[cst.CSTNode], frozenset[str]] = {
    cst.List: frozenset({"count"}),
    cst.Tuple: frozenset({"count"}),
    cst.Set: frozenset({"isdisjoint", "issubset", "issuperset"}),
}
VIEW_METHODS = frozenset({"keys", "values", "items"})
Container = cst.Dict | cst.List | cst.Set | cst.Tuple
BUILTIN_CLASSES = builtins_with(Fact.CLASS)


class HoistConstantContainer(ModuleConstantPass):
    """What it does:
        When a function builds a dict, list or set display of literal constants
        and builtin classes (`int`, `str`, `type(None)`; nested tuples of them
        allowed), binds it to a local name once, and
        then only reads it, builds it once at module level instead:
        `ranks = {"int": 1, "float": 2}` becomes `ranks = _RANKS` with
        `_RANKS = {"int": 1, "float": 2}` above the function. A list that is only
        tested, iterated or counted becomes a tuple, and a set a `frozenset`.

    Why it is faster:
        A display is rebuilt on every call: one allocation and one insertion (and,
        for a dict or set, one hash) per entry. A small helper that classifies a
        value with a six-entry table, called for every cell of a table, spends a
        good part of its time building the table. Reading a module constant is a
        single global lookup; the local name keeps loops reading a fast local.

    Fix safety:
        The constant is one object shared by every call, where the original gave
        each call a fresh one. The pass fires only when no code can tell the
        difference, that is when all of these are proven:
        - every item, key and value is a literal constant, a builtin class that
          no module-level binding shadows (builtin types cannot be changed), or
          `type(None)`, or a tuple of these, so building the display at module
          level runs no code of the user's, cannot fail, and gives the same
          values, and the items it hands out are immutable;
        - the name is a local of the function, bound exactly once (by this
          assignment), not declared global or nonlocal, and not mentioned by a
          nested function, lambda or class, nor through `locals()`, `vars()`,
          `eval` or `exec`;
        - every other mention reads it in a position that can neither mutate it
          nor let it escape: `x in t`, `for x in t` (also in a comprehension),
          `len(t)`, `t[k]` (never assigned or deleted), `if t:`/`not t`,
          `t.get(...)`, `t.keys()/values()/items()` iterated or tested,
          `t.count(...)`, a set's `isdisjoint/issubset/issuperset`, the only
          iterable of `sorted/list/tuple/set/frozenset/dict/sum/any/all/min/max`
          (builtins, not shadowed), or of `enumerate/zip` iterated by a loop. So
          it is never returned, yielded, stored, compared, passed to other code
          or given another name.
        A list becomes a tuple only when it is never indexed and `index` is never
        called (a tuple's error messages differ); a set becomes a frozenset only
        when `frozenset` is the builtin. A tuple of constants is left alone:
        CPython already folds it into a constant. Code that inspects the
        function's frame (`sys._getframe().f_locals`) could still reach the
        shared object; verification runs the rewritten module as a whole.

    Seen in:
        tabulate's `_more_generic`, which `_column_type` calls for every cell:
        it rebuilt two six-entry dicts (type to rank, rank to type) on every
        call and ran 120,000 times in one table render; and its per-format
        alignment tables, rebuilt for every row.
    """

    code = "OPT216"
    name = "hoist-constant-container"
    summary = "Build a read-only literal dict, list or set once, as a module-level constant."
    triggers = ("= {", "= [", "= (")

    @classmethod
    def may_match_ast(cls, function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
        """A plain assignment of a display of literals that CPython does not fold."""
        for node in pre.nodes(function, ast.Assign, ast.AnnAssign):
            assert isinstance(node, ast.Assign | ast.AnnAssign)
            if node.value is not None and _ast_hoistable(node.value):
                return True
        return False

    EXAMPLES = (
        Example(
            before='''\
def wider_type(name1: str, name2: str) -> type:
    ranks = {"NoneType": 0, "bool": 1, "int": 2, "float": 3, "bytes": 4, "str": 5}
    types = {0: type(None), 1: bool, 2: int, 3: float, 4: bytes, 5: str}
    return types[max(ranks.get(name1, 5), ranks.get(name2, 5))]
''',
            after='''\
_RANKS = {"NoneType": 0, "bool": 1, "int": 2, "float": 3, "bytes": 4, "str": 5}
_TYPES = {0: type(None), 1: bool, 2: int, 3: float, 4: bytes, 5: str}


def wider_type(name1: str, name2: str) -> type:
    ranks = _RANKS
    types = _TYPES
    return types[max(ranks.get(name1, 5), ranks.get(name2, 5))]
''',
        ),
        Example(
            before="""\
def type_rank(name: str) -> int:
    ranks = {"bool": 1, "int": 2, "float": 3, "decimal": 4, "str": 5, "bytes": 6}
    return ranks.get(name, 0)
""",
            after="""\
_RANKS = {"bool": 1, "int": 2, "float": 3, "decimal": 4, "str": 5, "bytes": 6}


def type_rank(name: str) -> int:
    ranks = _RANKS
    return ranks.get(name, 0)
""",
        ),
        Example(
            before="""\
import math


def count_vowels(text: str) -> int:
    # the five vowels, both cases
    vowels = ["a", "e", "i", "o", "u", "A", "E", "I", "O", "U"]
    return sum(1 for ch in text if ch in vowels)
""",
            after="""\
import math


_VOWELS = ("a", "e", "i", "o", "u", "A", "E", "I", "O", "U")


def count_vowels(text: str) -> int:
    # the five vowels, both cases
    vowels = _VOWELS
    return sum(1 for ch in text if ch in vowels)
""",
        ),
        Example(
            before="""\
def describe(code: int) -> str:
    names = {
        200: ("OK", "success"),  # the usual
        404: ("Not Found", "client error"),
        500: ("Internal Server Error", "server error"),
    }
    retried = {429, 502, 503, 504}
    if code not in names:
        return "unknown"
    title, kind = names[code]
    return f"{title} ({kind}, retry={code in retried})"
""",
            after="""\
_NAMES = {
    200: ("OK", "success"),  # the usual
    404: ("Not Found", "client error"),
    500: ("Internal Server Error", "server error"),
}
_RETRIED = frozenset({429, 502, 503, 504})


def describe(code: int) -> str:
    names = _NAMES
    retried = _RETRIED
    if code not in names:
        return "unknown"
    title, kind = names[code]
    return f"{title} ({kind}, retry={code in retried})"
""",
        ),
        Example(
            before="""\
def weekday_names(indices: list[int]) -> list[str]:
    days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    return [days[i % 7] for i in indices]
""",
            after="""\
_DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def weekday_names(indices: list[int]) -> list[str]:
    days = _DAYS
    return [days[i % 7] for i in indices]
""",
        ),
    )
    NON_EXAMPLES = (
        # The list is returned: each caller must get its own, which it may mutate.
        """\
def defaults(extra: str) -> list[str]:
    names = ["a", "b", "c"]
    if extra in names:
        return names
    return []
""",
        # The dict is mutated: a shared one would keep the additions of earlier calls.
        """\
def tally(word: str) -> int:
    counts = {"a": 0, "b": 0}
    counts[word] = counts.get(word, 0) + 1
    return len(counts)
""",
        # Passed to an unknown function, which could keep or mutate it.
        """\
def check(value: int) -> bool:
    allowed = [1, 2, 3]
    return validate(value, allowed)
""",
        # Bound twice: the second value is not a constant.
        """\
def pick(flag: bool, n: int) -> bool:
    options = [1, 2, 3]
    if flag:
        options = list(range(n))
    return n in options
""",
        # The values are lists: `table[k]` hands out a list the caller may mutate.
        """\
def group(key: str) -> list[int]:
    table = {"a": [1, 2], "b": [3]}
    return table[key]
""",
        # A tuple of constants is already a constant of the compiled function.
        """\
def is_weekend(day: str) -> bool:
    weekend = ("sat", "sun")
    return day in weekend
""",
        # A nested function reads the name.
        """\
def matcher(words: list[str]) -> list[str]:
    stop = {"a", "an", "the"}
    return list(filter(lambda w: w not in stop, words))
""",
    )

    def hoist(
        self, facts: FunctionFacts, function: cst.FunctionDef
    ) -> tuple[Replacements, Sequence[ModuleConstant]]:
        if facts.scope is None or any(
            name_references(function.body, name) for name in SCOPE_SENSITIVE_NAMES
        ):
            return {}, ()
        replacements: Replacements = {}
        constants: list[ModuleConstant] = []
        for name, display in self._candidates(facts, function):
            uses = self._uses(facts, function, name, display)
            if uses is None:
                continue
            if not uses:
                continue  # never read: nothing to gain
            if uses - {Use.TEST} and not all(_immutable(facts, i) for i in _items(display)):
                continue  # its items come out, and some are mutable
            value = _constant_value(facts, display, uses)
            if value is None:
                continue
            constant = self.constant_name(*_constant_names(function.name.value, name))
            if constant is None:
                break
            constants.append(ModuleConstant(constant, value))
            replacements[id(display)] = _to_name(constant)
        return replacements, constants

    def _candidates(
        self, facts: FunctionFacts, function: cst.FunctionDef
    ) -> Iterator[tuple[str, Container]]:
        """(name, display), in source order, for each local bound once, directly in the
        function's scope, to a hoistable display."""
        for node in m.findall(function.body, m.Assign() | m.AnnAssign()):
            assert isinstance(node, cst.Assign | cst.AnnAssign)
            value = node.value
            if not isinstance(value, Container) or not _hoistable(facts, value):
                continue
            targets = (
                [t.target for t in node.targets] if isinstance(node, cst.Assign) else [node.target]
            )
            target = targets[0]
            if len(targets) != 1 or not isinstance(target, cst.Name):
                continue
            if (
                not facts.is_private_local(target.value)
                or facts.single_binding(target.value) is not target
            ):
                continue
            if self.get_metadata(ScopeProvider, value, None) is facts.scope:
                yield target.value, value

    def _uses(
        self, facts: FunctionFacts, function: cst.FunctionDef, name: str, display: Container
    ) -> set[Use] | None:
        """How each read of `name` uses the container, or None when one may mutate it or
        let it escape."""
        binding = facts.single_binding(name)
        uses: set[Use] = set()
        for reference in name_references(function.body, name):
            if reference is binding:
                continue
            if not self._reads_function_binding(facts, reference):
                return None
            use = _use(facts, reference, display)
            if use is None:
                return None
            uses.add(use)
        return uses

    def _reads_function_binding(self, facts: FunctionFacts, name: cst.Name) -> bool:
        """`name` reads the function's own binding, possibly from inside comprehensions
        that do not bind it themselves."""
        scope = self.get_metadata(ScopeProvider, name, None)
        while isinstance(scope, ComprehensionScope) and name.value not in scope.assignments:
            scope = scope.parent
        return scope is not None and scope is facts.scope


# --- how a read uses the container ----------------------------------------------------


def _use(facts: FunctionFacts, node: cst.BaseExpression, display: Container) -> Use | None:
    """How the expression `node` (the name, or a view of it) uses the container."""
    parent = facts.parent(node)
    if _tests(facts, node, parent):
        return Use.TEST
    if isinstance(parent, cst.For | cst.CompFor) and parent.iter is node:
        return Use.ITEMS
    if isinstance(parent, cst.Arg):
        return _argument_use(facts, node, parent)
    if isinstance(parent, cst.Subscript) and parent.value is node:
        if in_store_context(facts, parent) or isinstance(display, cst.Set):
            return None
        return Use.ITEMS_BY_POSITION if isinstance(display, cst.List) else Use.ITEMS
    if isinstance(parent, cst.Attribute) and parent.value is node:
        return _method_use(facts, parent, display)
    return None


def _tests(facts: FunctionFacts, node: cst.BaseExpression, parent: cst.CSTNode | None) -> bool:
    """`x in node`, `x not in node`, `if node:`, `while node:`, `a if node else b`, `not node`."""
    if isinstance(parent, cst.ComparisonTarget):
        return parent.comparator is node and isinstance(parent.operator, cst.In | cst.NotIn)
    if isinstance(parent, cst.If | cst.While | cst.IfExp):
        return parent.test is node
    return isinstance(parent, cst.UnaryOperation) and isinstance(parent.operator, cst.Not)


def _argument_use(facts: FunctionFacts, node: cst.BaseExpression, arg: cst.Arg) -> Use | None:
    call = facts.parent(arg)
    if arg.keyword is not None or arg.star or not isinstance(call, cst.Call):
        return None
    func = call.func
    if not isinstance(func, cst.Name) or not facts.is_builtin(func, func.value):
        return None
    positional = [a for a in call.args if a.keyword is None]
    if func.value == "len":
        return Use.TEST if plain_args(call, 1) is not None else None
    if func.value in CONSUMERS:
        # the only positional argument (`sum`'s start aside): `max(a, t)` would compare
        # `a` with the container itself
        first_only = positional[:1] == [arg] and (len(positional) == 1 or func.value == "sum")
        return Use.ITEMS if first_only and not any(a.star for a in call.args) else None
    if func.value in LAZY:
        loop = facts.parent(call)
        iterated = isinstance(loop, cst.For | cst.CompFor) and loop.iter is call
        return Use.ITEMS if iterated and not any(a.star or a.keyword for a in call.args) else None
    return None


def _method_use(facts: FunctionFacts, attribute: cst.Attribute, display: Container) -> Use | None:
    call = facts.parent(attribute)
    if not isinstance(call, cst.Call) or call.func is not attribute:
        return None
    method = attribute.attr.value
    kind = type(display)
    if method in ITEM_METHODS.get(kind, ()):
        return Use.ITEMS
    if method in COUNT_METHODS.get(kind, ()):
        return Use.TEST
    if method == "index" and kind in (cst.List, cst.Tuple):
        return Use.ITEMS_BY_POSITION
    if method in VIEW_METHODS and kind is cst.Dict and not call.args:
        view = _use(facts, call, cst.Tuple([]))  # a view: only tested or iterated
        return Use.ITEMS if view is not None and view is not Use.ITEMS_BY_POSITION else None
    return None


# --- the display ----------------------------------------------------------------------


def _hoistable(facts: FunctionFacts, display: Container) -> bool:
    """A display of literals, with at least two entries, that CPython does not already
    fold into a constant (a tuple of constants is one), and that building cannot fail
    (set items and dict keys are immutable, so hashable)."""
    if not _literal(facts, display) or _foldable(display) or len(display.elements) < 2:
        return False
    if isinstance(display, cst.Set):
        return all(_immutable(facts, item) for item in _items(display))
    if isinstance(display, cst.Dict):
        return all(
            isinstance(e, cst.DictElement) and _immutable(facts, e.key) for e in display.elements
        )
    return True


def _literal(facts: FunctionFacts, node: cst.BaseExpression) -> bool:
    """An atom, or a display whose every entry is a literal."""
    if _atom(facts, node):
        return True
    if isinstance(node, cst.Dict):
        return all(
            isinstance(e, cst.DictElement) and _literal(facts, e.key) and _literal(facts, e.value)
            for e in node.elements
        )
    if isinstance(node, cst.List | cst.Set | cst.Tuple):
        return all(isinstance(e, cst.Element) and _literal(facts, e.value) for e in node.elements)
    return False


def _immutable(facts: FunctionFacts, node: cst.BaseExpression) -> bool:
    """An atom or a tuple of them (nested)."""
    if _atom(facts, node):
        return True
    return isinstance(node, cst.Tuple) and all(
        isinstance(e, cst.Element) and _immutable(facts, e.value) for e in node.elements
    )


def _foldable(node: cst.BaseExpression) -> bool:
    """A literal constant or a tuple of them: CPython compiles it into one constant."""
    if constant_type(node) is not None:
        return True
    return isinstance(node, cst.Tuple) and all(
        isinstance(e, cst.Element) and _foldable(e.value) for e in node.elements
    )


def _atom(facts: FunctionFacts, node: cst.BaseExpression) -> bool:
    """What a table may hold: a literal constant, a builtin class (`int`, `str`: builtin
    types cannot be changed, and the name means the same at module level, where no
    binding shadows it), or `type(None)`. Evaluating one runs no code of the user's."""
    if constant_type(node) is not None:
        return True
    if isinstance(node, cst.Name):
        return node.value in BUILTIN_CLASSES and _module_sees_builtin(facts, node)
    if isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and not node.lpar:
        return (
            node.func.value == "type"
            and _module_sees_builtin(facts, node.func)
            and len(node.args) == 1
            and not node.args[0].keyword
            and not node.args[0].star
            and m.matches(node.args[0].value, m.Name("None"))
        )
    return False


def _module_sees_builtin(facts: FunctionFacts, name: cst.Name) -> bool:
    scope = facts.scope
    return (
        scope is not None
        and facts.is_builtin(name, name.value)
        and name.value not in scope.globals.assignments
    )


def _items(display: Container) -> list[cst.BaseExpression]:
    """What the container hands out: its items, or a dict's keys and values."""
    if isinstance(display, cst.Dict):
        return [
            part
            for e in display.elements
            if isinstance(e, cst.DictElement)
            for part in (e.key, e.value)
        ]
    return [e.value for e in display.elements if isinstance(e, cst.Element)]


def _constant_value(
    facts: FunctionFacts, display: Container, uses: set[Use]
) -> cst.BaseExpression | None:
    """The module-level value: a list only tested or iterated becomes a tuple, a set a
    frozenset (when `frozenset` is the builtin); anything else is kept as written."""
    bare = display.with_changes(lpar=(), rpar=())
    if isinstance(bare, cst.List) and Use.ITEMS_BY_POSITION not in uses:
        return cst.Tuple(
            elements=bare.elements,
            lpar=[cst.LeftParen(whitespace_after=bare.lbracket.whitespace_after)],
            rpar=[cst.RightParen(whitespace_before=bare.rbracket.whitespace_before)],
        )
    if isinstance(bare, cst.Set):
        if not _frozenset_is_builtin(facts):
            return None
        return cst.Call(func=cst.Name("frozenset"), args=[cst.Arg(bare)])
    return bare


def _frozenset_is_builtin(facts: FunctionFacts) -> bool:
    """No module-level binding shadows `frozenset` (the constant is evaluated there)."""
    scope = facts.scope
    if scope is None:
        return False
    globals_ = scope.globals
    return "frozenset" not in globals_.assignments


def _constant_names(function: str, local: str) -> tuple[str, ...]:
    """`_RANKS` for a local `ranks`, else (taken, or too short to say much: `t`) also
    whose it was: `_TYPE_RANK_RANKS`, `_KIND_T`."""
    bare, owner = local.strip("_").upper(), function.strip("_").upper()
    qualified = f"_{owner}_{bare}" if owner else f"_{bare}"
    return (f"_{bare}", qualified) if len(bare) > 2 else (qualified,)


def _to_name(constant: str) -> Callable[[cst.CSTNode], cst.CSTNode]:
    def replace(node: cst.CSTNode) -> cst.CSTNode:
        assert isinstance(node, cst.BaseExpression)
        return cst.Name(constant, lpar=node.lpar, rpar=node.rpar)

    return replace


# --- the stdlib-ast twin of `_hoistable`, for the prefilter -----------------------------


def _ast_hoistable(node: ast.expr) -> bool:
    if not isinstance(node, ast.Dict | ast.List | ast.Set | ast.Tuple):
        return False
    entries = [*node.keys, *node.values] if isinstance(node, ast.Dict) else node.elts
    return len(entries) >= 2 and _ast_literal(node) and not _ast_foldable(node)


def _ast_literal(node: ast.expr | None) -> bool:
    """A superset of `_literal`: any name stands for a possible builtin class."""
    if node is None:  # `**mapping` in a dict display
        return False
    if pre.constant_kind(node) is not None or isinstance(node, ast.Name):
        return True
    if isinstance(node, ast.Call):
        return pre.is_builtin_call(node, "type")
    if isinstance(node, ast.Dict):
        pairs = zip(node.keys, node.values, strict=True)
        return all(_ast_literal(k) and _ast_literal(v) for k, v in pairs)
    if isinstance(node, ast.List | ast.Set | ast.Tuple):
        return all(_ast_literal(e) for e in node.elts)
    return False


def _ast_foldable(node: ast.expr) -> bool:
    if pre.constant_kind(node) is not None:
        return True
    return isinstance(node, ast.Tuple) and all(_ast_foldable(e) for e in node.elts)
