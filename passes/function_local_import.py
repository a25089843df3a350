"""OPT218: an `import` of a small, cheap standard module inside a function moves to
module level."""

from __future__ import annotations

import ast
import builtins
import sys
from collections.abc import Collection, Sequence
from dataclasses import dataclass

import libcst as cst
from libcst.codemod.visitors import AddImportsVisitor
from libcst.helpers import get_full_name_for_node
from libcst.metadata import ClassScope, GlobalScope

from passes._facts import FunctionFacts, FunctionPass
from passes._names import SCOPE_SENSITIVE_NAMES, has_star_import, name_references
from passes._splicing import code_of, has_comment
from passes.base import CallProfile, Example

# Imported by every interpreter before any user code runs (`python -I -S`), or compiled
# into it: importing one again is a dict lookup, the first time at most a few µs.
ALWAYS_LOADED = frozenset(
    {"sys", "builtins", "io", "abc", "codecs", "time", "marshal", "posix"}
    | set(sys.builtin_module_names) & sys.stdlib_module_names
)
# Small standard modules, none a package, whose import runs no code with effects outside
# themselves and takes under 2 ms in a fresh interpreter (`python -X importtime`: math
# 0.2 ms, datetime 1.7 ms with what it imports). Authors import them inside a function to
# keep their package's import time down, so these move only out of a function the trace
# saw called at least HOT_CALLS times.
SMALL = frozenset(
    {"math", "cmath", "bisect", "heapq", "operator", "keyword", "struct", "unicodedata",
     "numbers", "datetime", "copy", "itertools"}
)  # fmt: skip
HOT_CALLS = 100


@dataclass(frozen=True)
class Hoisted:
    """One name an import statement binds: `import module [as name]` (attribute None) or
    `from module import attribute [as name]`."""

    module: str
    attribute: str | None
    alias: str | None

    @property
    def name(self) -> str:
        return self.alias or self.attribute or self.module


class FunctionLocalImport(FunctionPass):
    """What it does:
        Moves `import math`, `import datetime as dt` or `from math import log`
        from the top of a function's body to module level (where an identical
        import is added once, or already is), so the function reads a global.
        Only modules that are already loaded anyway qualify: one the module
        itself imports at its top level (not under `if TYPE_CHECKING:` or
        `try:`; for `from m import name`, that same name), a standard module
        every interpreter loads at start-up or has compiled in (`sys`, `time`,
        `itertools`, ...), and,
        when the trace saw the function called 100 times or more, a small module
        that imports in under 2 ms (`math`, `datetime`, `bisect`, `operator`,
        ...). A large or third-party import is left lazy: start-up time is why
        authors write them.

    Why it is faster:
        An import statement runs on every call: `import math` looks the module
        up in `sys.modules` and checks that it is not being initialised (about
        0.15 µs); `from math import log` also goes through the import machinery's
        Python-level `_handle_fromlist` (about 2 µs). A helper that formats a
        number in a few microseconds spends a good part of them importing.

    Fix safety:
        The function then reads a module-level name bound to the same object
        (the module, or the attribute `from` reads), so the pass proves:
        - the import is a statement of its own at the top level of the
          function's body, absolute, and binds plain names (`import a.b` binds
          `a`, and is left alone); for `from`, the module is not a package
          (so the name cannot be a submodule not yet imported) unless the
          module imports that very name at module level already;
        - each name it binds is bound exactly once in the function (by this
          import), not declared global or nonlocal, not read before it, and the
          function uses no `locals()`, `vars()`, `dir()`, `eval` or `exec`;
        - at module level the name is unbound or bound only by the same import,
          no function around this one binds it, it is not a builtin's name (a
          module-level `pow` would shadow the builtin for the whole module), and
          there is no star import. A new public name (`from math import log`,
          `import datetime as dt`) is added only when the module has `__all__`,
          so a star import of it cannot pick the name up and overwrite one of the
          importer's own; `import math` binding `math` is always allowed;
        - the module is one that is already loaded (see above), so importing it
          when the module is imported runs nothing new; a small one adds at most
          2 ms to the import of the module, once.
        A `from` import now reads the attribute once, when the module is
        imported: code that replaces `math.log` afterwards (monkey-patching)
        is not seen by the function.

    Seen in:
        humanize, which imports `math` or `datetime` in twelve of its hot
        functions (`intword`, `naturaldelta`, `naturaltime`, `naturalsize` with
        `from math import log`, ...); pyparsing's `explain_exception` (`import
        inspect`, left lazy: a large module) and idna's `uts46_remap` (a
        relative import of a large table, left lazy).
    """

    code = "OPT218"
    name = "function-local-import"
    summary = "Move an import of a small, already loaded stdlib module out of a function."
    triggers = ("import ",)

    @classmethod
    def may_match_ast(cls, function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
        """An absolute import statement directly in the function's body."""
        return any(
            isinstance(statement, ast.Import)
            or (isinstance(statement, ast.ImportFrom) and not statement.level)
            for statement in function.body
        )

    EXAMPLES = (
        Example(
            before='''\
def hypotenuse(a: float, b: float) -> float:
    """The long side of a right triangle."""
    import math

    return math.sqrt(a * a + b * b)
''',
            after='''\
import math

def hypotenuse(a: float, b: float) -> float:
    """The long side of a right triangle."""
    return math.sqrt(a * a + b * b)
''',
            profiles={"hypotenuse": CallProfile(calls=5_000, recorded=32, distinct=30)},
        ),
        Example(
            before='''\
__all__ = ["digits"]


def digits(n: int) -> float:
    from math import log

    return log(abs(n) + 1, 10)
''',
            after='''\
from math import log

__all__ = ["digits"]


def digits(n: int) -> float:
    return log(abs(n) + 1, 10)
''',
            profiles={"digits": CallProfile(calls=5_000, recorded=32, distinct=30)},
        ),
        Example(
            before='''\
import time

__all__ = ["later"]


def later(seconds: int) -> int:
    import time as clock
    import datetime as dt

    stamp = dt.datetime(2020, 1, 1) + dt.timedelta(seconds=seconds % 10**6)
    return int(stamp.timestamp() > clock.timezone)
''',
            after='''\
import time
import time as clock
import datetime as dt

__all__ = ["later"]


def later(seconds: int) -> int:
    stamp = dt.datetime(2020, 1, 1) + dt.timedelta(seconds=seconds % 10**6)
    return int(stamp.timestamp() > clock.timezone)
''',
            profiles={"later": CallProfile(calls=5_000, recorded=32, distinct=30)},
        ),
        Example(
            before="""\
import json


def dump(value: dict[str, int]) -> str:
    import json

    return json.dumps(value, sort_keys=True)
""",
            after="""\
import json


def dump(value: dict[str, int]) -> str:
    return json.dumps(value, sort_keys=True)
""",
        ),
    )
    NON_EXAMPLES = (
        # Imported at module level only for type checkers: it is not loaded at run time.
        """\
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import json


def dump(value: dict) -> str:
    import json

    return json.dumps(value)
""",
        # A large module, imported lazily on purpose.
        """\
def dump(value: dict) -> str:
    import json

    return json.dumps(value)
""",
        # `math` is rebound in the function.
        """\
def area(r: float) -> float:
    import math

    math = 3.14
    return math * r * r
""",
        # The module binds `math` to something else.
        """\
math = None


def area(r: float) -> float:
    import math

    return math.pi * r * r
""",
        # A module-level `pow` would shadow the builtin for every function of the module.
        """\
__all__ = ["cube"]


def cube(x: float) -> float:
    from math import pow

    return pow(x, 3)
""",
        # No `__all__`: a star import of this module would pick `log` up.
        """\
def digits(n: int) -> float:
    from math import log

    return log(abs(n) + 1, 10)
""",
        # `locals()` would no longer hold the module.
        """\
def names(x: int) -> list[str]:
    import math

    return sorted(locals())
""",
    )

    def finish_function(
        self, facts: FunctionFacts, original: cst.FunctionDef, updated: cst.FunctionDef
    ) -> cst.BaseStatement | cst.FlattenSentinel[cst.BaseStatement] | cst.RemovalSentinel:
        if not updated.deep_equals(original) or not isinstance(original.body, cst.IndentedBlock):
            return updated
        if facts.scope is None or has_star_import(self.module):
            return updated
        if any(name_references(original.body, name) for name in SCOPE_SENSITIVE_NAMES):
            return updated
        body = original.body.body
        moved: list[int] = []
        for index, statement in enumerate(body):
            specs = _import_specs(statement)
            if (
                specs
                and not has_comment(statement)
                and all(self._movable(facts, original, spec, index) for spec in specs)
            ):
                moved.append(index)
                for spec in specs:
                    AddImportsVisitor.add_needed_import(
                        self.context, spec.module, spec.attribute, spec.alias
                    )
        if not moved or len(moved) == len(body):
            return updated
        return original.with_changes(body=original.body.with_changes(body=_without(body, moved)))

    def _movable(
        self, facts: FunctionFacts, function: cst.FunctionDef, spec: Hoisted, index: int
    ) -> bool:
        assert isinstance(function.body, cst.IndentedBlock)
        line = function.body.body[index]
        assert isinstance(line, cst.SimpleStatementLine)
        statement = line.body[0]
        name = spec.name
        if hasattr(builtins, name) or not self._already_loaded(facts, spec):
            return False
        binding = facts.single_binding(name)
        if not isinstance(binding, cst.Import | cst.ImportFrom) or binding is not statement:
            return False  # bound again, or global/nonlocal
        if any(name_references(s, name) for s in function.body.body[:index]):
            return False  # read before the import: an error the global would hide
        if not self._free_in_enclosing_functions(facts, name):
            return False
        return self._module_level_agrees(facts, spec)

    def _already_loaded(self, facts: FunctionFacts, spec: Hoisted) -> bool:
        if spec.module in ALWAYS_LOADED:
            return True
        imported = self._module_level_imports()
        if spec.attribute is None and spec.module in imported:
            return True
        if f"{spec.module}:{spec.attribute}" in imported:
            return True
        if spec.module in SMALL:
            profile = self.profile_of(facts.qualname)
            return profile is not None and profile.calls >= HOT_CALLS
        return False

    def _module_level_imports(self) -> set[str]:
        """Modules that the module always imports when it is imported: by a statement at
        its top level (one under `if TYPE_CHECKING:` or `try:` may never run), whole
        (`import m`, or `from m import ...`, which imports `m` first), and, spelled
        `m:name`, each name it imports `from m`."""
        found: set[str] = set()
        module = self.module
        if module is None:
            return found
        for line in module.body:
            if not isinstance(line, cst.SimpleStatementLine):
                continue
            for node in line.body:
                if isinstance(node, cst.Import):
                    for alias in node.names:
                        parts = (get_full_name_for_node(alias.name) or "").split(".")
                        found.update(".".join(parts[: i + 1]) for i in range(len(parts)))
                elif isinstance(node, cst.ImportFrom) and not node.relative and node.module:
                    name = get_full_name_for_node(node.module) or ""
                    found.add(name)
                    if not isinstance(node.names, cst.ImportStar):
                        found.update(f"{name}:{code_of(a.name)}" for a in node.names)
        return found

    def _free_in_enclosing_functions(self, facts: FunctionFacts, name: str) -> bool:
        """No function around this one binds `name` (a class body does not count: its
        names are not visible in its methods)."""
        assert facts.scope is not None
        scope = facts.scope.parent
        while not isinstance(scope, GlobalScope):
            if not isinstance(scope, ClassScope) and name in scope.assignments:
                return False
            scope = scope.parent
        return True

    def _module_level_agrees(self, facts: FunctionFacts, spec: Hoisted) -> bool:
        """At module level, `spec.name` is unbound (and may be added) or bound only by
        the same import."""
        assert facts.scope is not None
        module_scope = facts.scope.globals
        assignments = list(module_scope.assignments[spec.name])
        if assignments:
            return all(_binds_same(getattr(a, "node", None), spec) for a in assignments)
        public = not spec.name.startswith("_")
        plain_module = spec.attribute is None and spec.alias is None
        return plain_module or not public or "__all__" in module_scope.assignments


def _without(
    body: Sequence[cst.BaseStatement], removed: Collection[int]
) -> list[cst.BaseStatement]:
    """`body` without the statements at `removed`; the statement after a removed one
    takes its blank lines when its own are only blank lines (no gap opens under the
    `def` or the docstring)."""
    kept: list[cst.BaseStatement] = []
    spacing: Sequence[cst.EmptyLine] | None = None
    for index, statement in enumerate(body):
        leading: Sequence[cst.EmptyLine] = getattr(statement, "leading_lines", ())
        if index in removed:
            spacing = leading if spacing is None else spacing
            continue
        if spacing is not None and all(line.comment is None for line in leading):
            statement = statement.with_changes(leading_lines=spacing)
        spacing = None
        kept.append(statement)
    return kept


def _import_specs(statement: cst.BaseStatement) -> list[Hoisted]:
    """What a one-import statement line binds, or [] when it is anything else (a
    relative, star or dotted import included)."""
    if not isinstance(statement, cst.SimpleStatementLine) or len(statement.body) != 1:
        return []
    node = statement.body[0]
    specs: list[Hoisted] = []
    if isinstance(node, cst.Import):
        for alias in node.names:
            if not isinstance(alias.name, cst.Name):
                return []
            specs.append(Hoisted(alias.name.value, None, _alias(alias)))
    elif isinstance(node, cst.ImportFrom):
        if node.relative or node.module is None or isinstance(node.names, cst.ImportStar):
            return []
        module = get_full_name_for_node(node.module) or ""
        for alias in node.names:
            if not isinstance(alias.name, cst.Name):
                return []
            specs.append(Hoisted(module, alias.name.value, _alias(alias)))
    return specs


def _alias(alias: cst.ImportAlias) -> str | None:
    if alias.asname is None or not isinstance(alias.asname.name, cst.Name):
        return None
    return alias.asname.name.value


def _binds_same(node: object, spec: Hoisted) -> bool:
    """`node` is an import that binds `spec.name` to what `spec` binds it to."""
    if isinstance(node, cst.Import):
        return spec.attribute is None and any(
            (get_full_name_for_node(alias.name) or "") == spec.module
            and (_alias(alias) or get_full_name_for_node(alias.name)) == spec.name
            for alias in node.names
        )
    if isinstance(node, cst.ImportFrom):
        if node.relative or node.module is None or isinstance(node.names, cst.ImportStar):
            return False
        if (get_full_name_for_node(node.module) or "") != spec.module:
            return False
        return any(
            isinstance(alias.name, cst.Name)
            and alias.name.value == spec.attribute
            and (_alias(alias) or alias.name.value) == spec.name
            for alias in node.names
        )
    return False
