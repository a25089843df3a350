"""Fuzz every pass with generated programs: `python -m benchmarks.fuzz_passes --programs 10000`.

Programs come from `hypothesmith` (the Python grammar, and libcst node trees).
For each program and each pass the contract is:

- the pass does not raise;
- if it changes the module, the new source still compiles and keeps every
  comment (programs carry comments at random positions);
- if it changes nothing, the source comes back byte for byte.

Prints counts and, for each violation, the pass code and the program; exits 1
when there is any.
"""

from __future__ import annotations

import argparse
import io
import sys
import tokenize
import traceback
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import hypothesmith
import libcst as cst
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as fixed_seed
from hypothesis import strategies as st

from passes import OptimizationPass, all_passes, apply_pass
from passes.base import comment_counts

Position = tuple[int, int, bool]  # (line, column, on a line of its own)


@dataclass(frozen=True)
class Violation:
    code: str
    kind: str  # "crash", "does not compile", "lost a comment", "changed bytes"
    source: str
    detail: str


@dataclass
class Tally:
    programs: int = 0
    libcst_cannot_parse: int = 0
    libcst_no_round_trip: int = 0
    comments: int = 0
    changed: Counter[str] = field(default_factory=Counter)
    violations: list[Violation] = field(default_factory=list)


def programs() -> st.SearchStrategy[str]:
    """Whole modules: from the grammar, from libcst node trees, and each pass's own
    examples followed by a generated module (so passes also meet odd context:
    shadowed builtins, rebindings, strange statements around a real match)."""
    examples = sorted(
        {e.before for p in all_passes() for e in p.EXAMPLES}
        | {s for p in all_passes() for s in p.NON_EXAMPLES}
    )
    with_context = st.builds(
        lambda example, extra: f"{example}\n{extra}",
        st.sampled_from(examples),
        hypothesmith.from_grammar(),
    ).filter(_compiles)
    plain = st.one_of(hypothesmith.from_grammar(), hypothesmith.from_node(), with_context)
    return plain.flatmap(_with_comments)


def _with_comments(source: str) -> st.SearchStrategy[str]:
    """`source` with comments added at some of the places a comment can go."""
    try:
        positions = comment_positions(source)
    except (tokenize.TokenError, SyntaxError):  # not tokenizable: keep it as it is
        return st.just(source)
    if not positions:
        return st.just(source)
    chosen = st.lists(st.sampled_from(positions), unique=True, max_size=min(8, len(positions)))
    return chosen.map(lambda picked: _add_comments(source, picked))


def _add_comments(source: str, positions: list[Position]) -> str:
    # From the bottom up, so the earlier positions stay valid.
    for number, position in enumerate(sorted(positions, reverse=True)):
        source = with_comment(source, position, f"# fuzz comment {number}")
    return source


def comment_positions(source: str, first_line: int = 1) -> list[Position]:
    """Every place one more comment can go, from `first_line` on: the end of each
    line that has no comment and is not inside a string, and a line of its own above
    each line that starts a statement (at that statement's indentation)."""
    positions: list[Position] = []
    starts_statement = True
    previous = tokenize.NL
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        line, column = token.start
        before, previous = previous, token.type
        ends_line = token.type in (tokenize.NEWLINE, tokenize.NL)
        if ends_line and line >= first_line and before not in (tokenize.COMMENT, tokenize.NL):
            positions.append((line, column, False))
        if token.type in (tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT):
            starts_statement = True
        elif token.type not in (tokenize.NL, tokenize.COMMENT):
            if starts_statement and line >= first_line and token.type != tokenize.ENDMARKER:
                positions.append((line, column, True))
            starts_statement = False
    return positions


def with_comment(source: str, position: Position, text: str) -> str:
    """`source` with the comment `text` (starting with `#`) added at `position`."""
    lines = source.splitlines(keepends=True)
    line, column, own_line = position
    if own_line:
        lines.insert(line - 1, " " * column + text + "\n")
    else:
        current = lines[line - 1]
        lines[line - 1] = current[:column].rstrip() + "  " + text + current[column:]
    return "".join(lines)


def _comments(source: str) -> Counter[str]:
    try:
        return comment_counts(source)
    except (tokenize.TokenError, SyntaxError):  # tokenize is stricter than libcst here
        return Counter()


def _compiles(source: str) -> bool:
    try:
        compile(source, "<fuzz>", "exec")
    except (SyntaxError, ValueError):
        return False
    return True


def check_program(source: str, passes: Sequence[type[OptimizationPass]], tally: Tally) -> None:
    tally.programs += 1
    try:
        module = cst.parse_module(source)
    except cst.ParserSyntaxError:
        tally.libcst_cannot_parse += 1
        return
    tally.comments += sum(_comments(source).values())
    if module.code != source:  # a libcst limitation (e.g. blank lines before a last
        tally.libcst_no_round_trip += 1  # whitespace-only line), not a pass's doing
        return
    for pass_class in passes:
        violation = _check_pass(pass_class, module, source)
        if violation is None:
            continue
        if violation.kind == "changed":  # a valid rewrite, not a violation
            tally.changed[pass_class.code] += 1
        else:
            tally.violations.append(violation)


def _check_pass(
    pass_class: type[OptimizationPass], module: cst.Module, source: str
) -> Violation | None:
    """None when the pass declined cleanly; kind "changed" for a valid rewrite."""
    try:
        output = apply_pass(pass_class, module).code
    except Exception:  # any exception from a pass is the finding
        return Violation(pass_class.code, "crash", source, traceback.format_exc(limit=-3))
    if output == source:
        return None
    if not _compiles(output):
        return Violation(pass_class.code, "does not compile", source, output)
    if _comments(output) != _comments(source):
        return Violation(pass_class.code, "lost a comment", source, output)
    if module.deep_equals(cst.parse_module(output)):
        return Violation(pass_class.code, "changed bytes", source, output)
    return Violation(pass_class.code, "changed", source, "")


def fuzz(count: int, passes: Sequence[type[OptimizationPass]], seed: int | None = None) -> Tally:
    tally = Tally()

    @settings(
        max_examples=count,
        deadline=None,
        database=None,
        derandomize=seed is None,
        phases=[Phase.generate],  # violations are recorded, not raised: nothing to shrink
        suppress_health_check=list(HealthCheck),
    )
    @given(programs())
    def run(source: str) -> None:
        check_program(source, passes, tally)

    if seed is not None:
        run = fixed_seed(seed)(run)
    run()
    return tally


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.fuzz_passes", description=__doc__)
    parser.add_argument("--programs", type=int, default=1000, help="programs to generate")
    parser.add_argument("--seed", type=int, help="random seed (default: derandomized)")
    args = parser.parse_args(argv)
    passes = all_passes()
    tally = fuzz(args.programs, passes, args.seed)
    print(f"programs generated:      {tally.programs}")
    print(f"libcst cannot parse:     {tally.libcst_cannot_parse}")
    print(f"libcst no round trip:    {tally.libcst_no_round_trip}")
    print(f"passes run per program:  {len(passes)}")
    print(f"rewrites (all compile):  {sum(tally.changed.values())} {dict(tally.changed)}")
    print(f"comments in programs:    {tally.comments}")
    lost = sum(v.kind == "lost a comment" for v in tally.violations)
    print(f"rewrites that lost one:  {lost}")
    print(f"violations:              {len(tally.violations)}")
    for kind, number in Counter((v.code, v.kind) for v in tally.violations).items():
        print(f"  {kind[0]} {kind[1]}: {number}")
    for violation in _smallest_per_pass(tally.violations):
        print(f"\n--- {violation.code} {violation.kind}; program:\n{violation.source}")
        print(f"--- detail:\n{violation.detail}")
    return 1 if tally.violations else 0


def _smallest_per_pass(violations: Sequence[Violation]) -> list[Violation]:
    smallest: dict[tuple[str, str], Violation] = {}
    for v in violations:
        key = (v.code, v.kind)
        if key not in smallest or len(v.source) < len(smallest[key].source):
            smallest[key] = v
    return list(smallest.values())


if __name__ == "__main__":
    sys.exit(main())
