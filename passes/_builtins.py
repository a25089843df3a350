"""What the passes know about builtins and builtin-type methods: one table.

Each row lists the facts that some pass relies on for that builtin. A fact
missing from a row means "not established", never "false": a pass that needs
the fact must then decline. Adding a fact to a row widens every pass that asks
for it, so a new fact needs a reason that holds for every one of those passes.

The facts assume the builtin itself is called (callers check it is not
shadowed) on arguments of builtin types unless a fact says otherwise.
"""

from __future__ import annotations

from enum import Flag, auto


class Fact(Flag):
    NONE = 0
    PURE = auto()
    """No effect and a result that depends only on the arguments, so a call may be
    skipped, repeated or cached (OPT105, OPT108, OPT109 rely on it)."""
    LEAVES_ARGUMENTS = auto()
    """Cannot mutate its arguments, though it may call their dunder methods
    (OPT204 relies on it)."""
    READS_ITERABLE = auto()
    """Given a list, only reads it: the list can be neither mutated nor grown
    through the call (the flow typing of list locals relies on it)."""
    KEEPS_ELEMENTS = auto()
    """Iterating the result yields the items of its first argument, so their
    type carries over (type inference relies on it)."""
    NEW_LIST = auto()
    """Returns a new list (OPT102, and the flow typing of list locals)."""
    CLASS = auto()
    """A builtin class: naming it runs no code and `isinstance` accepts it (OPT210)."""


_P, _L, _R, _K, _N, _C = (
    Fact.PURE,
    Fact.LEAVES_ARGUMENTS,
    Fact.READS_ITERABLE,
    Fact.KEEPS_ELEMENTS,
    Fact.NEW_LIST,
    Fact.CLASS,
)

BUILTINS: dict[str, Fact] = {
    "abs": _P | _L,
    "all": _P | _L | _R,
    "any": _P | _L | _R,
    "ascii": Fact.NONE,
    "bool": _P | _L | _R | _C,
    "bytearray": _C,
    "bytes": _C,
    "chr": _P | _L,
    "complex": _C,
    "dict": _P | _L | _R | _C,
    "divmod": _P | _L,
    "enumerate": _P | _L | _R,
    "float": _P | _L | _C,
    "format": _L,
    "frozenset": _P | _L | _R | _C,
    "hash": _P | _L,
    "int": _P | _L | _C,
    "isinstance": _P | _L,
    "len": _P | _L | _R,
    "list": _P | _L | _R | _K | _N | _C,
    "max": _P | _L | _R,
    "memoryview": _C,
    "min": _P | _L | _R,
    "object": _C,
    "ord": _P | _L,
    "pow": _L,
    "range": _P | _L | _C,
    "repr": _P | _L,
    "reversed": _P | _R | _K,
    "round": _P | _L,
    "set": _P | _L | _R | _K | _C,
    "slice": _C,
    "sorted": _P | _L | _R | _K | _N,
    "str": _P | _L | _C,
    "sum": _P | _L | _R,
    "tuple": _P | _L | _R | _K | _C,
    "type": _C,
    "zip": _P | _R,
}

RESULT_TYPE: dict[str, str] = {
    "str": "str", "repr": "str", "chr": "str", "ascii": "str", "format": "str",
    "len": "int", "ord": "int", "hash": "int", "int": "int", "bool": "bool", "float": "float",
}  # fmt: skip
"""The simple type every call of the builtin returns (the type inference's base facts)."""


def builtins_with(fact: Fact) -> frozenset[str]:
    """The builtins whose row holds `fact`."""
    return frozenset(name for name, facts in BUILTINS.items() if fact in facts)


PURE = builtins_with(Fact.PURE)
LEAVES_ARGUMENTS = builtins_with(Fact.LEAVES_ARGUMENTS)
READS_ITERABLE = builtins_with(Fact.READS_ITERABLE)
KEEPS_ELEMENTS = builtins_with(Fact.KEEPS_ELEMENTS)
NEW_LIST = builtins_with(Fact.NEW_LIST)
CLASSES = builtins_with(Fact.CLASS)

# The simple types of values whose hash agrees with `==`, that have no in-place
# operators and that the type inference can name: what a set or dict may key on
# without running user code, and what a cached result may share.
HASHABLE_TYPES = frozenset({"int", "str", "float", "bool", "bytes", "complex", "None"})

# --- methods of builtin types ---------------------------------------------------------

STR_METHODS_RETURNING_STR = frozenset(
    {
        "lower", "upper", "strip", "lstrip", "rstrip", "casefold", "title", "capitalize",
        "replace", "swapcase", "center", "ljust", "rjust", "zfill", "expandtabs", "join",
        "removeprefix", "removesuffix", "format",
    }
)  # fmt: skip
STR_METHODS_RETURNING_STR_LIST = frozenset({"split", "rsplit", "splitlines"})
# List methods that only read the list and keep no reference to it.
READING_LIST_METHODS = frozenset({"count", "index", "copy"})
# Methods of a list that neither keep a reference to it elsewhere nor iterate it lazily.
LIST_METHODS_IN_PLACE = frozenset(
    {"append", "extend", "insert", "pop", "remove", "index", "count", "clear", "sort", "reverse",
     "copy"}
)  # fmt: skip
# Methods that add one item to a list or set the function created itself.
FILLING_METHODS = frozenset({"append", "add"})
DICT_VIEWS = frozenset({"keys", "values", "items"})
