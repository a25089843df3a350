"""Which files are test code, after pytest's discovery rules: `optimize` leaves them alone.

pytest collects files matching its `python_files` setting (`test_*.py` and
`*_test.py` unless the project's pytest configuration says otherwise) and
reads every `conftest.py`; by convention tests also live in `tests/` or `test/`
directories, whose helpers are test code too. Speeding up a test speeds up
nothing a user ships, and a test's subprocess helper can take a quarter of a
traced run, so directory walks, `optimize trace --show` and `--top` skip them.
A file named on the command line is always examined; `--include-tests` (or
`[tool.optimize] include-tests = true`) brings them all back.
"""

from __future__ import annotations

import configparser
import sys
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path, PurePath
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

DEFAULT_PYTHON_FILES = ("test_*.py", "*_test.py")
TEST_DIRECTORIES = frozenset({"tests", "test"})
# pytest's own order: the first of these that configures pytest is its configuration.
_INI_FILES = (("pytest.ini", "pytest"), (".pytest.ini", "pytest"))
_LATER_INI_FILES = (("tox.ini", "pytest"), ("setup.cfg", "tool:pytest"))


@dataclass(frozen=True)
class PytestFiles:
    """The project's test-file patterns (pytest's `python_files`)."""

    python_files: tuple[str, ...] = DEFAULT_PYTHON_FILES

    @classmethod
    def for_project(cls, root: Path) -> PytestFiles:
        """The patterns of the pytest configuration at `root`, else pytest's defaults."""
        return cls(_configured_patterns(root) or DEFAULT_PYTHON_FILES)

    def is_test_file(self, name: str) -> bool:
        """A file pytest would collect or read by its name alone."""
        return name == "conftest.py" or any(fnmatchcase(name, p) for p in self.python_files)

    def is_test_path(self, relative: PurePath) -> bool:
        """`relative`: a file's path below the directory walked (or the project root)."""
        inside = any(part in TEST_DIRECTORIES for part in relative.parts[:-1])
        return inside or self.is_test_file(relative.name)

    def is_test_in_project(self, path: Path, root: Path) -> bool:
        """`is_test_path` of a file by its path below `root` (its name alone outside it)."""
        resolved = path.resolve()
        try:
            return self.is_test_path(resolved.relative_to(root.resolve()))
        except ValueError:
            return self.is_test_file(resolved.name)

    def is_test_directory(self, directory: Path, root: Path) -> bool:
        """A directory that is test code itself: `tests/`, or one inside it (below `root`)."""
        resolved = directory.resolve()
        try:
            parts = resolved.relative_to(root.resolve()).parts
        except ValueError:
            parts = (resolved.name,)
        return any(part in TEST_DIRECTORIES for part in parts)


def _configured_patterns(root: Path) -> tuple[str, ...] | None:
    for name, section in _INI_FILES:
        found = _ini_patterns(root / name, section)
        if found is not None:
            return found
    pyproject = _pyproject_patterns(root / "pyproject.toml")
    if pyproject is not None:
        return pyproject
    for name, section in _LATER_INI_FILES:
        found = _ini_patterns(root / name, section)
        if found is not None:
            return found
    return None


def _ini_patterns(path: Path, section: str) -> tuple[str, ...] | None:
    """`python_files` of an ini file's pytest section; () when the section has none;
    None when the file does not configure pytest (pytest then looks further)."""
    if not path.is_file():
        return None
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read(path, encoding="utf-8")
    except (configparser.Error, OSError, UnicodeDecodeError):
        return None
    if not parser.has_section(section):
        return None
    return tuple(parser.get(section, "python_files", fallback="").split())


def _pyproject_patterns(path: Path) -> tuple[str, ...] | None:
    if not path.is_file():
        return None
    try:
        data: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    options = data.get("tool", {}).get("pytest", {}).get("ini_options")
    if not isinstance(options, dict):
        return None
    value = options.get("python_files", ())
    words = value.split() if isinstance(value, str) else value
    return tuple(w for w in words if isinstance(w, str)) if isinstance(words, list | tuple) else ()
