"""Entry point of a traced run, executed by path: `python bootstrap.py JOB PROGRAM...`.

It loads this directory as a package under the private name `_optimize_trace`,
so the traced program never sees a module of ours named `pipeline` (a user's
project may have its own), then runs the program (see `program`). The sandbox
child's bootstrap loads its package the same way; each runs by path before any
module of ours can be imported, so the dozen lines are not shared.
"""

import importlib
import importlib.util
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
PACKAGE = "_optimize_trace"


def _load_package() -> None:
    spec = importlib.util.spec_from_file_location(
        PACKAGE, os.path.join(HERE, "__init__.py"), submodule_search_locations=[HERE]
    )
    assert spec is not None and spec.loader is not None
    package = importlib.util.module_from_spec(spec)
    sys.modules[PACKAGE] = package
    spec.loader.exec_module(package)


if __name__ == "__main__":
    _load_package()
    importlib.import_module(f"{PACKAGE}.program").main(sys.argv)
