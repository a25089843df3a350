"""OPT216 (hoist a constant container) and OPT217 (precompile a regex) through the real
CLI, on untyped code traced through a workload script: the candidates are verified
on the recorded calls. Real subprocesses, real sandbox."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from tests.conftest import Runner, outcomes_by_function

CELLS = textwrap.dedent('''\
    import re


    def cell_kind(value):
        ranks = {"bool": 1, "int": 2, "float": 3, "str": 4, "bytes": 5, "NoneType": 6}
        return ranks.get(type(value).__name__, 0)


    def wider(type1, type2):
        types = {type(None): 0, bool: 1, int: 2, float: 3, bytes: 4, str: 5}
        invtypes = {5: str, 4: bytes, 3: float, 2: int, 1: bool, 0: type(None)}
        return invtypes[max(types.get(type1, 5), types.get(type2, 5))]


    def is_number(text):
        return re.fullmatch(r"-?\\d+(\\.\\d+)?", text) is not None


    def squeeze(text):
        return re.sub(r"\\s+", " ", text, 1, re.ASCII).strip()


    def column_names(extra):
        names = ["id", "name", "price"]
        if extra in names:
            return names  # escapes: every caller must get its own list
        return []
''')

WORKLOAD = textwrap.dedent("""\
    from functools import reduce

    from cells import cell_kind, column_names, is_number, squeeze, wider

    rows = [[i, f"{i}.5", f"x{i}", None, i * 0.5, b"b", f" a  b{i}  c "] for i in range(200)]
    cells = [cell for row in rows for cell in row]
    print(sum(cell_kind(cell) for cell in cells))
    print(sum(is_number(str(cell)) for cell in cells))
    print([reduce(wider, [type(cell) for cell in row], bool).__name__ for row in rows[:50]])
    print(sorted({squeeze(cell) for cell in cells if isinstance(cell, str)})[:3])
    picked = [column_names(word) for word in ("id", "size", "price")]
    picked[0].append("mutated")
    print(picked, column_names("id"))
""")


def test_traced_untyped_code_gets_verified_hoisting_candidates(project: Path, run_cli: Runner):
    (project / "cells.py").write_text(CELLS, encoding="utf-8")
    (project / "run.py").write_text(WORKLOAD, encoding="utf-8")
    before = subprocess.run([sys.executable, "run.py"], cwd=project, capture_output=True,
                            text=True, timeout=120, check=True)  # fmt: skip
    traced = run_cli("trace", "run.py", cwd=project)
    assert (traced.returncode, traced.stdout) == (0, before.stdout), traced.stderr

    report = run_cli("cells.py", "--json", cwd=project)
    assert report.returncode in (0, 1), report.stderr
    outcomes = outcomes_by_function(report.stdout)

    expected = {
        "cell_kind": ("OPT216", ['+_RANKS = {"bool": 1,', "+    ranks = _RANKS"]),
        # tabulate's _more_generic: tables of builtin classes
        "wider": ("OPT216", ["+_TYPES = {type(None): 0,", "+    invtypes = _INVTYPES"]),
        "is_number": ("OPT217", ["+_IS_NUMBER_RE = re.compile(", "_IS_NUMBER_RE.fullmatch(text)"]),
        # flags go to compile, the positional count stays with sub
        "squeeze": (
            "OPT217",
            ['+_SQUEEZE_RE = re.compile(r"\\s+", re.ASCII)', '_SQUEEZE_RE.sub(" ", text, 1)'],
        ),
    }
    for function, (code, lines) in expected.items():
        outcome = outcomes[function]
        assert outcome["rules"] == [code]
        verdict = outcome["verdict"]
        assert verdict["status"] == "equivalent", (function, verdict)
        assert dict(verdict["basis"])["recorded calls"] > 0  # untyped: the trace is the domain
        for line in lines:
            assert line in outcome["diff"], (function, outcome["diff"])
    # the list escapes (returned, then mutated by the caller): never hoisted
    assert "column_names" not in outcomes or "OPT216" not in outcomes["column_names"]["rules"]

    untraced = run_cli("cells.py", "--json", "--no-trace", cwd=project)
    assert not any(o["accepted"] for o in outcomes_by_function(untraced.stdout).values())
