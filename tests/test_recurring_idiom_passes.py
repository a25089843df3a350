"""OPT218 (a function-local import moves to module level), OPT219 (a loop-invariant
lookup leaves the loop) and OPT220 (a tiny private helper is inlined) through the real
CLI, on untyped code traced through a workload script: the candidates are verified on
the recorded calls. Real subprocesses, real sandbox."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from tests.conftest import Runner, outcomes_by_function

NUMBERS = textwrap.dedent('''\
    import string

    __all__ = ["magnitude", "ratio", "punctuation_count", "as_json", "checksum"]


    def magnitude(value):
        """humanize's `intword`: `import math` on every call."""
        import math

        return int(math.log10(abs(value) + 1))


    def ratio(value: int):
        from math import log

        return round(log(abs(value) + 1), 6)


    def punctuation_count(text):
        count = 0
        for ch in text:
            if ch in string.punctuation:
                count += 1
        return count


    def as_json(value):
        import json

        return json.dumps(value)


    def checksum(text):
        total = 0
        for ch in text:
            total = _mix(total, ord(ch))
        return total


    def _mix(acc, value):
        return (acc * 31 + value) & 0xFFFFFFFF
''')

WORKLOAD = textwrap.dedent("""\
    from numbers_fmt import as_json, checksum, magnitude, punctuation_count, ratio

    values = [i * 37 - 900 for i in range(300)]
    print(sum(magnitude(v) for v in values), sum(ratio(v) for v in values))
    print(sum(punctuation_count(f"a,b.{v}!?") for v in values))
    print(len(as_json(values)), as_json(values[:3]))
    print(sum(checksum(f"row {v}: {v * v}") for v in values))
""")


def test_traced_untyped_code_gets_verified_import_lookup_and_inlining_candidates(
    project: Path, run_cli: Runner
):
    (project / "numbers_fmt.py").write_text(NUMBERS, encoding="utf-8")
    (project / "run.py").write_text(WORKLOAD, encoding="utf-8")
    before = subprocess.run([sys.executable, "run.py"], cwd=project, capture_output=True,
                            text=True, timeout=120, check=True)  # fmt: skip
    traced = run_cli("trace", "run.py", cwd=project)
    assert (traced.returncode, traced.stdout) == (0, before.stdout), traced.stderr

    report = run_cli("numbers_fmt.py", "--json", "--select", "OPT218,OPT219,OPT220", cwd=project)
    assert report.returncode in (0, 1), report.stderr
    outcomes = outcomes_by_function(report.stdout)

    expected = {
        "magnitude": ("OPT218", ["+import math", "-    import math"]),
        "ratio": ("OPT218", ["+from math import log", "-    from math import log"]),
        "punctuation_count": (
            "OPT219",
            ["+    _punctuation = string.punctuation", "+        if ch in _punctuation:"],
        ),
        # the argument that is a call is evaluated once, before, into a fresh local
        "checksum": (
            "OPT220",
            ["+        _value = ord(ch)", "+        total = (total * 31 + _value) & 0xFFFFFFFF"],
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
    # the user's annotation, the type the trace saw too, stays in the rewritten def
    assert "-def ratio" not in outcomes["ratio"]["diff"], outcomes["ratio"]["diff"]
    # a large module stays a lazy import
    assert "as_json" not in outcomes

    # without a trace there is no profile: `math` is not loaded anyway, so it stays lazy
    untraced = run_cli("numbers_fmt.py", "--json", "--no-trace", "--select", "OPT218", cwd=project)
    assert "magnitude" not in outcomes_by_function(untraced.stdout)
