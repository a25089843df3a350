"""Quick fuzz of every pass with generated programs (the long run is benchmarks/fuzz_passes.py).

A pass must not raise, must leave an unmatched module byte-identical, and
must produce compilable code that keeps every comment when it rewrites.
"""

from __future__ import annotations

from careless_pass import DropsOwnLineComments

from benchmarks.fuzz_passes import Tally, check_program, fuzz
from passes import all_passes


def test_every_pass_survives_generated_programs() -> None:
    tally = fuzz(15, all_passes())  # each program costs about 1 s of CPU for all passes
    assert tally.programs == 15
    problems = [f"{v.code} {v.kind}:\n{v.source}\n{v.detail}" for v in tally.violations]
    assert not problems, "\n\n".join(problems[:3])


def test_the_checker_flags_what_it_should() -> None:
    """The contract check itself: an unmatched module passes, a real example rewrites."""
    tally = Tally()
    check_program("x = 1\n", all_passes(), tally)
    example = next(p for p in all_passes() if p.EXAMPLES).EXAMPLES[0].before
    check_program(example, all_passes(), tally)
    assert tally.programs == 2
    assert not tally.violations
    assert sum(tally.changed.values()) >= 1


def test_the_checker_flags_a_rewrite_that_loses_a_comment() -> None:
    tally = Tally()
    check_program("def f(x: int) -> int:\n    # why\n    return x\n", [DropsOwnLineComments], tally)
    assert [v.kind for v in tally.violations] == ["lost a comment"]
