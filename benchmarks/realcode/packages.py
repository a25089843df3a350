"""The pinned packages: where their code is, how their tests run, which workload times them.

Each is a pure-Python sdist from PyPI that ships its tests. Versions are pinned so a
run is repeatable; the sdists are fetched at run time into the cache, never committed.
Test selections are the package's whole suite except where noted: chardet's and
pyparsing's full suites take minutes untraced, and several times that traced.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

WORKLOADS = Path(__file__).parent / "workloads"
PYTEST_FLAGS = ("-q", "-p", "no:cacheprovider")


@dataclass(frozen=True)
class Package:
    name: str
    version: str
    kind: str  # what sort of code it is, for the report
    package_dir: str  # the importable package, relative to the sdist root: what is optimised
    tests: tuple[str, ...]  # pytest arguments, run from the sdist root
    import_root: str = "."  # what goes on PYTHONPATH (src layouts: "src")
    test_deps: tuple[str, ...] = ()  # pip requirements the tests import
    env: dict[str, str] = field(default_factory=dict)
    note: str = ""

    @property
    def spec(self) -> str:
        return f"{self.name}=={self.version}"

    @property
    def workload(self) -> Path:
        return WORKLOADS / f"{self.name}.py"


PACKAGES: tuple[Package, ...] = (
    Package("sqlparse", "0.6.1", "SQL parser/formatter", "sqlparse", ("tests",)),
    Package("tabulate", "0.10.0", "table formatting", "tabulate", ("test",)),
    Package(
        "humanize",
        "4.17.0",
        "numbers, dates, sizes as text",
        "src/humanize",
        ("tests", "--ignore=tests/test_benchmarks.py"),  # needs pytest-benchmark
        import_root="src",
        test_deps=("freezegun==1.5.1",),
    ),
    Package("idna", "3.21", "encodings (IDNA/punycode)", "idna", ("tests",)),
    Package("pycparser", "3.12", "C parser", "pycparser", ("tests",)),
    Package("mistune", "3.4.0", "Markdown parser", "src/mistune", ("tests",), import_root="src"),
    Package(
        "wcwidth",
        "0.9.5",
        "Unicode text width",
        "wcwidth",
        ("tests", "-o", "addopts="),  # tox.ini's addopts need pytest-cov
        env={"WCWIDTH_PYTHON": "1"},
    ),
    Package(
        "pyparsing",
        "3.3.3",
        "parser combinators",
        "pyparsing",
        ("tests/test_simple_unit.py",),
        note="tests/test_simple_unit.py only: the full suite takes 3 min untraced",
    ),
    Package(
        "chardet",
        "5.2.0",
        "encoding detection",
        "chardet",
        ("test.py", "-k", "SHIFT_JIS or KOI8-R or windows-1252"),
        note="3 of its 50 encodings' test files: the full suite takes 2 min untraced",
    ),
)
QUICK = ("sqlparse", "tabulate", "humanize")


class UnknownPackage(ValueError):
    pass


def select(names: tuple[str, ...], quick: bool) -> tuple[Package, ...]:
    """The packages named (in the pinned order), the quick three, or all."""
    wanted = names or (QUICK if quick else tuple(p.name for p in PACKAGES))
    known = {p.name for p in PACKAGES}
    unknown = [n for n in wanted if n not in known]
    if unknown:
        raise UnknownPackage(
            f"unknown package(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
        )
    return tuple(p for p in PACKAGES if p.name in wanted)
