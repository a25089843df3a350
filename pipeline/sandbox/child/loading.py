"""Loading a user's module by path under a private name, and finding a function in it."""

from __future__ import annotations

import functools
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


def extend_sys_path(entries: tuple[str, ...]) -> None:
    for entry in reversed(entries):
        sys.path.insert(0, os.path.abspath(entry))


def load(target: Target) -> Callable[..., Any]:
    return resolve(load_module(target), target.qualname)


def load_module(target: Target) -> Any:
    spec = importlib.util.spec_from_file_location(target.module, os.path.abspath(target.path))
    if spec is None or spec.loader is None:
        raise UserCodeError(f"cannot load {target.path}")
    module = importlib.util.module_from_spec(spec)
    # Aliases first: pickles and the module's own imports of its real name must find it.
    names = (target.module, *target.aliases)
    for name in names:
        sys.modules[name] = module
    try:
        with silenced():
            spec.loader.exec_module(module)
    except BaseException as error:
        for name in names:
            sys.modules.pop(name, None)
        raise UserCodeError(
            f"importing the module failed: {type(error).__name__}: {error}"
        ) from None
    return module


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
