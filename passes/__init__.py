"""Built-in optimisation passes: one `OptimizationPass` subclass per module."""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

from passes.base import Example, OptimizationPass, apply_pass

__all__ = ["Example", "OptimizationPass", "all_passes", "apply_pass", "by_code"]


@cache
def all_passes() -> tuple[type[OptimizationPass], ...]:
    """Every pass shipped in this package, ordered by code."""
    found: list[type[OptimizationPass]] = []
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_") or info.name == "base":
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        found.extend(
            value
            for value in vars(module).values()
            if isinstance(value, type)
            and issubclass(value, OptimizationPass)
            and value is not OptimizationPass
            and value.__module__ == module.__name__
        )
    return tuple(sorted(found, key=lambda pass_class: pass_class.code))


def by_code() -> dict[str, type[OptimizationPass]]:
    return {pass_class.code: pass_class for pass_class in all_passes()}
