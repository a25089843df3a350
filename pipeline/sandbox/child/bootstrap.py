"""Entry point of the sandboxed child, executed by path: `python -s -B bootstrap.py ...`.

It loads this directory as a package under the private name `_optimize_child`,
so the child never imports `pipeline` (a user's project may have its own) and
none of its modules shadows a user's module of the same name.
"""

import importlib
import importlib.util
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
PACKAGE = "_optimize_child"


def _load_package() -> None:
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != HERE]
    spec = importlib.util.spec_from_file_location(
        PACKAGE, os.path.join(HERE, "__init__.py"), submodule_search_locations=[HERE]
    )
    assert spec is not None and spec.loader is not None
    package = importlib.util.module_from_spec(spec)
    sys.modules[PACKAGE] = package
    spec.loader.exec_module(package)


if __name__ == "__main__":
    _load_package()
    importlib.import_module(f"{PACKAGE}.main").main(sys.argv)
