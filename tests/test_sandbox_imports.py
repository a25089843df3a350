"""The sandbox imports a module as the user's interpreter would: its package first (with
circular re-exports through `__init__`), what the environment's `sys.path` holds outside
the project (PYTHONPATH, `.pth` targets under /tmp), and an import failure is never cached.

Each test runs the real `optimize` command, so the real sandbox (bubblewrap here).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

from tests.conftest import FAST_PYPROJECT, Runner

SCALED = """\
from pkg.util import SCALE

__all__ = ["scaled"]


def scaled(values: list[int]) -> list[int]:
    result = []
    for value in values:
        result.append(value * SCALE)
    return result
"""

USES_HELPERLIB = """\
from helperlib import FACTOR


def scaled(values: list[int]) -> list[int]:
    result = []
    for value in values:
        result.append(value * FACTOR)
    return result
"""


def _write(root: Path, files: dict[str, str]) -> None:
    # pytest makes its temp dirs private (0700); as root the sandbox runs as `nobody`,
    # which reads only what others may read, like any user's checkout.
    root.mkdir(parents=True, exist_ok=True)
    root.chmod(0o755)
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")


def _outcomes(completed: subprocess.CompletedProcess[str]) -> list[dict[str, Any]]:
    assert completed.returncode in (0, 1), completed.stderr
    report = json.loads(completed.stdout)
    return [outcome for entry in report["files"] for outcome in entry["outcomes"]]


def _statuses(outcomes: list[dict[str, Any]]) -> list[str]:
    """Each verdict's status, with its reason when it is not equivalent."""
    verdicts = [outcome["verdict"] for outcome in outcomes]
    return [v["status"] if v["status"] == "equivalent" else f"{v['status']}: {v['detail']}"
            for v in verdicts]  # fmt: skip


def _run(*args: str, cwd: Path, python_path: tuple[Path, ...] = (),
         python: str = sys.executable) -> subprocess.CompletedProcess[str]:  # fmt: skip
    inherited = [entry for entry in os.environ.get("PYTHONPATH", "").split(os.pathsep) if entry]
    env = {**os.environ, "NO_COLOR": "1",
           "PYTHONPATH": os.pathsep.join([*map(str, python_path), *inherited])}  # fmt: skip
    return subprocess.run([python, "-m", "pipeline", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600, check=False)  # fmt: skip


def test_a_module_its_package_reexports_circularly_is_verified(
    project: Path, run_cli: Runner
) -> None:
    """`pkg/__init__` re-exports `a` and `b`; `a` imports `pkg.util`; `b` imports from `.a`.
    Loading `a` before its package ran `__init__` on a half-loaded `a`."""
    _write(project, {
        "pkg/__init__.py": "from .a import *\nfrom .b import *\n",
        "pkg/util.py": "SCALE = 3\n",
        "pkg/a.py": SCALED,
        "pkg/b.py": """\
            from .a import scaled

            __all__ = ["twice_scaled"]


            def twice_scaled(values: list[int]) -> list[int]:
                return scaled(scaled(values))
            """,
    })  # fmt: skip

    completed = run_cli("pkg/a.py", "--json", "--no-cache", cwd=project)

    outcomes = _outcomes(completed)
    assert [o["function"] for o in outcomes] == ["scaled"]
    verdict = outcomes[0]["verdict"]
    assert "importing the module failed" not in verdict["detail"]
    assert verdict["status"] == "equivalent", verdict


def test_a_module_whose_package_refuses_a_second_registration_runs_once(
    project: Path, run_cli: Runner
) -> None:
    """networkx's `@_dispatchable` registers each algorithm by name and raises on a second
    registration: a module run again after its package imported it cannot load. It runs
    once, where its package imports it, from the version under test."""
    _write(project, {
        "graphs/__init__.py": "from .registry import register\nfrom .algos import *\n",
        "graphs/registry.py": """\
            REGISTERED = {}


            def register(function):
                if function.__name__ in REGISTERED:
                    raise KeyError(f"{function.__name__} is already registered")
                REGISTERED[function.__name__] = function
                return function
            """,
        "graphs/algos.py": """\
            from .registry import REGISTERED, register

            __all__ = ["scaled"]


            @register
            def scaled(values: list[int]) -> list[int]:
                result = []
                for value in values:
                    result.append(value * len(REGISTERED))
                return result
            """,
    })  # fmt: skip

    outcomes = _outcomes(run_cli("graphs/algos.py", "--json", "--no-cache", cwd=project))

    assert _statuses(outcomes) == ["equivalent"], outcomes


def test_relative_imports_in_a_namespace_package_resolve(project: Path, run_cli: Runner) -> None:
    """`shop/` has no `__init__.py`: the module is `shop.prices`, not a top-level `prices`."""
    _write(project, {
        "shop/rates.py": "TAX = 2\n",
        "shop/prices.py": """\
            from . import rates
            from .rates import TAX


            def taxed(values: list[int]) -> list[int]:
                result = []
                for value in values:
                    result.append(value * TAX + rates.TAX)
                return result
            """,
    })  # fmt: skip

    outcomes = _outcomes(run_cli("shop/prices.py", "--json", "--no-cache", cwd=project))

    assert _statuses(outcomes) == ["equivalent"], outcomes


def test_a_checkout_named_like_its_package_is_not_a_namespace_package(
    project: Path, run_cli: Runner
) -> None:
    """`sqlparse/sqlparse/...`: the module's absolute import of its own package names that
    package, so the module is `pkg.core`, not `pkg.pkg.core` (which cannot be imported)."""
    checkout = project / "pkg"
    _write(checkout, {
        "pyproject.toml": FAST_PYPROJECT,
        "pkg/__init__.py": "from pkg.core import scaled\n",
        "pkg/util.py": "SCALE = 3\n",
        "pkg/core.py": SCALED,
    })  # fmt: skip

    outcomes = _outcomes(run_cli("pkg/core.py", "--json", "--no-cache", cwd=checkout))

    assert _statuses(outcomes) == ["equivalent"], outcomes


def test_a_package_on_pythonpath_outside_the_project_is_importable(tmp_path: Path) -> None:
    """A dir on PYTHONPATH under /tmp (the sandbox has a private /tmp) is seen by the child."""
    library, project = tmp_path / "lib", tmp_path / "project"
    _write(library, {"helperlib/__init__.py": "FACTOR = 2\n"})
    _write(project, {"pyproject.toml": FAST_PYPROJECT, "app.py": USES_HELPERLIB})

    completed = _run("app.py", "--json", "--no-cache", cwd=project, python_path=(library,))

    outcomes = _outcomes(completed)
    assert _statuses(outcomes) == ["equivalent"], outcomes


# What setuptools' PEP 660 editable install of a flat layout writes: an import hook mapping
# the package to its checkout, which is on no `sys.path` (so only PEP 610's
# `direct_url.json` says the checkout is needed).
EDITABLE_FINDER = """\
import importlib.util
import sys

MAPPING = {"maplib": %r}


class _Finder:
    @classmethod
    def find_spec(cls, name, path=None, target=None):
        if name in MAPPING:
            return importlib.util.spec_from_file_location(
                name, MAPPING[name] + "/__init__.py", submodule_search_locations=[MAPPING[name]]
            )
        return None


def install():
    sys.meta_path.append(_Finder)
"""


def test_editable_installs_outside_the_project_are_importable(tmp_path: Path) -> None:
    """An environment with two editable installs of checkouts under /tmp: a src layout
    (a `.pth` naming its dir) and a flat layout (an import hook mapping the package)."""
    checkout, project = tmp_path / "checkout", tmp_path / "project"
    _write(checkout, {"src/helperlib/__init__.py": "FACTOR = 2\n",
                      "maplib/maplib/__init__.py": "OFFSET = 1\n"})  # fmt: skip
    _write(project, {"pyproject.toml": FAST_PYPROJECT, "app.py": USES_HELPERLIB.replace(
        "from helperlib import FACTOR", "from helperlib import FACTOR\nfrom maplib import OFFSET"
    ).replace("value * FACTOR", "value * FACTOR + OFFSET")})  # fmt: skip
    environment = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(environment)], check=True)
    site = next(environment.glob("lib/python3*/site-packages"))
    # This interpreter's own packages (optimize and its dependencies) stay importable.
    (site / "base.pth").write_text("\n".join(p for p in sys.path if p.endswith("site-packages")))
    (site / "__editable__.helperlib-0.1.pth").write_text(f"{checkout / 'src'}\n")
    mapped = checkout / "maplib" / "maplib"
    (site / "__editable___maplib_finder.py").write_text(EDITABLE_FINDER % str(mapped))
    (site / "__editable__.maplib-0.1.pth").write_text(
        "import __editable___maplib_finder; __editable___maplib_finder.install()\n"
    )
    dist_info = site / "maplib-0.1.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text("Metadata-Version: 2.1\nName: maplib\nVersion: 0.1\n")
    (dist_info / "direct_url.json").write_text(json.dumps(
        {"url": (checkout / "maplib").as_uri(), "dir_info": {"editable": True}}
    ))  # fmt: skip

    completed = _run("app.py", "--json", "--no-cache", cwd=project,
                     python=str(environment / "bin" / "python"))  # fmt: skip

    assert _statuses(_outcomes(completed)) == ["equivalent"], completed.stderr


def test_an_import_failure_is_reported_with_its_module_and_never_cached(
    project: Path, run_cli: Runner
) -> None:
    _write(project, {"app.py": USES_HELPERLIB})

    first = run_cli("app.py", "--json", cwd=project)

    outcomes = _outcomes(first)
    verdict = outcomes[0]["verdict"]
    assert verdict["status"] == "unverifiable"
    assert "No module named 'helperlib'" in verdict["detail"]
    assert "`helperlib`" in first.stderr and "importable" in first.stderr
    assert "optimize trace" not in first.stderr  # inputs are not what is missing

    _write(project, {"helperlib.py": "FACTOR = 2\n"})
    again = run_cli("app.py", "--json", cwd=project)

    assert _statuses(_outcomes(again)) == ["equivalent"], again.stderr
