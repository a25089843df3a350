"""Loading a user's module by path under a private name, and finding a function in it."""

from __future__ import annotations

import contextlib
import functools
import importlib.abc
import importlib.machinery
import importlib.util
import inspect
import os
import sys
from collections.abc import Callable
from typing import Any

from .observe import silenced
from .protocol import Target


class UserCodeError(Exception):
    """Loading the user's module or finding the function failed."""


class ImportFailure(UserCodeError):
    """The module (or its package, or a module it imports) could not be imported.

    `missing` names the module Python could not find, when that is the cause."""

    def __init__(self, message: str, missing: str = "") -> None:
        super().__init__(message)
        self.missing = missing


# Import path entries that exist but that this process may not read (as root, the
# sandbox runs as `nobody`): named when an import fails, since Python skips them silently.
_UNREADABLE: list[str] = []


def extend_sys_path(entries: tuple[str, ...]) -> None:
    """Put `entries` first, in order, as the user's interpreter would have them."""
    wanted = [os.path.abspath(entry) for entry in entries]
    rest = [entry for entry in sys.path if os.path.abspath(entry or ".") not in wanted]
    sys.path[:] = [*dict.fromkeys(wanted), *rest]
    _UNREADABLE[:] = [
        entry for entry in wanted
        if os.path.isdir(entry) and not os.access(entry, os.R_OK | os.X_OK)
    ]  # fmt: skip


def load(target: Target) -> Callable[..., Any]:
    return resolve(load_module(target), target.qualname)


def load_module(target: Target) -> Any:
    """Execute the target's file as a module of its real package, once.

    The module runs where the user's interpreter runs it: when its package is
    imported, the normal way, the import of its real name (a `Target.aliases`
    entry) is served from our file. So its `__init__` may import this very
    module (say, `from .a import *`) and its siblings, which see it fully run,
    and its module-level code runs once: a second run would repeat side effects
    its package refuses twice (networkx registers each algorithm by name, and a
    second registration raises). The private name is bound to the same module.

    Without a real name, or when the real module is already loaded (the second
    version of a search), our copy runs again under its private name inside the
    package (so relative imports resolve) and replaces the real module under its
    aliases, so pickles and later imports of the real name find it.
    """
    spec = importlib.util.spec_from_file_location(target.module, os.path.abspath(target.path))
    if spec is None or spec.loader is None:
        raise UserCodeError(f"cannot load {target.path}")
    names = (target.module, *target.aliases)
    try:
        with silenced():
            module = _import_as(target)
            if module is None:
                _import_package(target.module.rpartition(".")[0])
                module = _run_copy(spec, names)
    except BaseException as error:
        unreadable = f" (the sandbox's user cannot read {', '.join(_UNREADABLE)})" * bool(
            _UNREADABLE
        )
        raise ImportFailure(
            f"importing the module failed: {type(error).__name__}: {error}{unreadable}",
            _missing_module(error),
        ) from None
    for alias in target.aliases:
        _bind_in_package(alias, module)
    return module


def _real_name(target: Target) -> str:
    """The module's real name: the alias in the same package as its private name."""
    package = target.module.rpartition(".")[0]
    return next((alias for alias in target.aliases if alias.rpartition(".")[0] == package), "")


class _ServedFrom(importlib.abc.MetaPathFinder):
    """Serves one module name from one file, ahead of every other finder."""

    def __init__(self, name: str, path: str) -> None:
        self.name, self.path = name, path

    def find_spec(self, fullname: str, path: object = None, target: object = None) -> Any:
        if fullname != self.name:
            return None
        return importlib.util.spec_from_file_location(fullname, self.path)


def _import_as(target: Target) -> Any:
    """Import the package with the real name served from our file (the package's own
    import of it included), and bind the private name and every alias to the module;
    None without a real name, when it is already loaded, or when the package cannot be
    read."""
    real = _real_name(target)
    if not real or real in sys.modules:
        return None
    finder = _ServedFrom(real, os.path.abspath(target.path))
    sys.meta_path.insert(0, finder)
    try:
        if not _import_package(target.module.rpartition(".")[0]):
            return None
        module = sys.modules.get(real) or importlib.import_module(real)
    finally:
        sys.meta_path.remove(finder)
    for name in (target.module, *target.aliases):
        sys.modules[name] = module
    return module


def _run_copy(spec: importlib.machinery.ModuleSpec, names: tuple[str, ...]) -> Any:
    """Run our copy under its private name; aliases first: the module's own imports of its
    real name must find it."""
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    previous = {name: sys.modules.get(name) for name in names}
    for name in names:
        sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        _restore(previous)
        raise
    return module


def _import_package(package: str) -> bool:
    """Import the module's package; False where the sandbox's user cannot read the
    project (as root, a directory only root may enter): the module then runs without
    it, as a module that imports nothing of its package still can."""
    if not package:
        return True
    try:
        importlib.import_module(package)
    except ModuleNotFoundError as error:
        if not (_UNREADABLE and error.name == package.partition(".")[0]):
            raise
        return False
    return True


def _restore(previous: dict[str, Any]) -> None:
    for name, value in previous.items():
        if value is None:
            sys.modules.pop(name, None)
        else:
            sys.modules[name] = value


def _bind_in_package(name: str, module: Any) -> None:
    """`pkg.a` as an attribute of `pkg` too, as an import of the real module would leave it."""
    package, _, stem = name.rpartition(".")
    parent = sys.modules.get(package) if package else None
    if parent is not None:
        with contextlib.suppress(AttributeError, TypeError):
            setattr(parent, stem, module)


def _missing_module(error: BaseException) -> str:
    """The module an import could not find: `error.name` of a ModuleNotFoundError raised
    by the module itself or anything it imported (the first in the chain of causes)."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, ModuleNotFoundError) and seen.name:
            return seen.name
        seen = seen.__cause__ or seen.__context__
    return ""


def resolve(module: Any, qualname: str) -> Callable[..., Any]:
    """The callable for `qualname`: a method as its plain function (`self` comes first),
    a classmethod bound to its class, a staticmethod as the function it wraps, a
    property as its getter. `Cls.__name` finds the name-mangled `_Cls__name`."""
    owner, found, raw, part = module, module, None, ""
    for part in qualname.split("."):
        owner = found
        if isinstance(owner, type):
            part = _mangled(owner, part)
            raw = vars(owner).get(part)
        found = getattr(owner, part, None)
        if found is None:
            raise UserCodeError(f"{qualname} is not defined in the module")
    if isinstance(raw, staticmethod | classmethod):
        found = getattr(owner, part)
    elif inspect.isfunction(raw):
        found = raw
    elif isinstance(raw, property) and raw.fget is not None:
        found = raw.fget
    elif isinstance(raw, functools.cached_property):
        found = raw.func
    if not callable(found):
        raise UserCodeError(f"{qualname} is not a function of the module")
    return found  # type: ignore[no-any-return]


def _mangled(owner: type, name: str) -> str:
    """A class's private name as Python stores it: `__name` in `Cls` is `_Cls__name`."""
    if name.startswith("__") and not name.endswith("__") and owner.__name__.strip("_"):
        return f"_{owner.__name__.lstrip('_')}{name}"
    return name


def owner_class(module: Any, qualname: str) -> type | None:
    """The class a method is defined in, or None for a module-level function."""
    parts = qualname.split(".")
    owner: Any = module
    for part in parts[:-1]:
        owner = getattr(owner, part, None)
    return owner if isinstance(owner, type) and owner is not module else None


def unify_classes(original: Any, candidate: Any) -> None:
    """Let the candidate's module use the original's classes where their source is identical.

    In one process both modules define their own copy of every class; values built
    from the original's hints must pass the candidate's isinstance checks.
    """
    for name, value in list(vars(candidate).items()):
        twin = getattr(original, name, None)
        if not (isinstance(value, type) and isinstance(twin, type)) or value is twin:
            continue
        source = _class_source(value)
        if source is not None and source == _class_source(twin):
            setattr(candidate, name, twin)


def _class_source(cls: type) -> str | None:
    try:
        return inspect.getsource(cls)
    except (OSError, TypeError):
        return None
