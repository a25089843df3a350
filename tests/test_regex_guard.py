"""OPT221 (guard a regex call with a character every match needs) through the real CLI,
on untyped code traced through a workload script, with its pattern compiled at module
level from other module-level strings, as tabulate builds `_ansi_codes`. Real
subprocesses, real sandbox."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from passes._regex import rarest, required_characters, str_literal
from pipeline.stages.parse import parse_tree, read_source
from pipeline.stages.stand_in import stand_in
from tests.conftest import Runner

CELLS = textwrap.dedent('''\
    import re

    _ESC = r"\\x1b"
    _ANSI = re.compile(rf"{_ESC}\\[[0-9;]*m|{_ESC}\\]8;;(.*?){_ESC}\\\\")
    _TAG = re.compile("<b>")
    _WIDTH = 80


    def strip_ansi(s):
        return _ANSI.sub(r"\\1", s)


    def use_italics():
        global _TAG
        _TAG = re.compile("<i>")


    def strip_tags(text):
        return _TAG.sub("", text)
''')

WORKLOAD = textwrap.dedent("""\
    from cells import strip_ansi, strip_tags

    cells = [f"cell {i}" for i in range(300)] + ["\\x1b[31mred\\x1b[0m", "\\x1b]8;;u\\x1b\\\\"]
    print([strip_ansi(cell) for cell in cells][-3:])
    print(strip_tags("<b>bold</b>"))
""")


def test_traced_untyped_code_gets_a_verified_guard(project: Path, run_cli: Runner) -> None:
    (project / "cells.py").write_text(CELLS, encoding="utf-8")
    (project / "run.py").write_text(WORKLOAD, encoding="utf-8")
    before = subprocess.run([sys.executable, "run.py"], cwd=project, capture_output=True,
                            text=True, timeout=120, check=True)  # fmt: skip
    traced = run_cli("trace", "run.py", cwd=project)
    assert (traced.returncode, traced.stdout) == (0, before.stdout), traced.stderr

    report = run_cli("cells.py", "--json", "--select", "OPT221", cwd=project)
    assert report.returncode in (0, 1), report.stderr
    outcomes = {o["function"]: o for f in json.loads(report.stdout)["files"] for o in f["outcomes"]}

    guarded = outcomes["strip_ansi"]
    assert guarded["rules"] == ["OPT221"]
    assert guarded["verdict"]["status"] == "equivalent", guarded["verdict"]
    assert dict(guarded["verdict"]["basis"])["recorded calls"] > 0
    assert '+    return _ANSI.sub(r"\\1", s) if "\\x1b" in s else s' in guarded["diff"]
    # `_TAG` is rebound elsewhere in the module: which pattern runs is not known
    assert "strip_tags" not in outcomes


def test_stand_in_keeps_pattern_constants_bound_once(tmp_path: Path) -> None:
    path = tmp_path / "cells.py"
    path.write_text(CELLS, encoding="utf-8")
    parsed, tree = parse_tree(read_source(path, 10**7))
    around = stand_in(tree, parsed.source.text).around({("strip_ansi", 9)})
    assert around.splitlines() == [
        "import re",
        '_ESC = r"\\x1b"',
        '_ANSI = re.compile(rf"{_ESC}\\[[0-9;]*m|{_ESC}\\]8;;(.*?){_ESC}\\\\")',
        "_TAG = None",  # declared `global` in a function
        "_WIDTH = None",  # not a pattern
        "use_italics = None",
        "strip_tags = None",
    ]


@pytest.mark.parametrize(
    ("pattern", "flags", "required"),
    [
        (r"\x1b\[[0-9;]*m|\x1b\]8;;", 0, {"\x1b"}),  # what every alternative needs
        (r"ab|cd", 0, set()),
        (r"(?:ab)?c", 0, {"c"}),  # an optional group proves nothing
        (r"x{0,3}y+z{2}", 0, {"y", "z"}),
        (r"(?=a)b", 0, {"b"}),  # a look-ahead's text is not claimed
        (r"key", re.IGNORECASE, set()),  # "k" matches KELVIN SIGN too
        (r"(?i)key", 0, set()),
        (r"(?i:k)ey", 0, {"e", "y"}),
        (r" a  b # comment", re.VERBOSE, {"a", "b"}),
        (r"(unclosed", 0, set()),
    ],
)
def test_required_characters(pattern: str, flags: int, required: set[str]) -> None:
    assert required_characters(pattern, flags) == frozenset(required)
    # whatever is claimed, no string without it matches: try the pattern's own text
    for character in required:
        assert re.search(pattern, pattern.replace(character, ""), flags) is None


def test_the_guard_is_the_rarest_character_written_as_a_literal() -> None:
    assert rarest({"a", " ", ";", "\x1b", "é"}) == "\x1b"
    assert rarest({"a", ";", "<"}) == ";"
    assert rarest(set()) is None
    for character in ("\x1b", '"', "\\", "é", "\u2028", "\U0001f600", "a"):
        assert eval(str_literal(character)) == character
