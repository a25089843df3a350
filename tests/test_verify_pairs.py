"""Wrong and right rewrites, each classified by the real verify engine in the sandbox.

Every pair is written to two real files and checked with the function behind
`optimize verify` (a few go through the installed command as a subprocess).
A wrong rewrite must produce a counterexample, a right one must be equivalent,
and a pair that cannot be checked honestly must be unverifiable.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from verify_pairs import ALL, RIGHT, UNVERIFIABLE, WRONG, Pair

from pipeline.cli.verify import parse_target, verify_targets
from pipeline.config import load_config

PYPROJECT = """\
[tool.optimize.verify]
max_examples = 50
"""


def _write_pair(directory: Path, pair: Pair) -> tuple[str, str]:
    settings = f"example_timeout = {pair.example_timeout}\n{pair.pyproject_extra}"
    (directory / "pyproject.toml").write_text(PYPROJECT + settings, encoding="utf-8")
    (directory / "original.py").write_text(pair.original, encoding="utf-8")
    (directory / "rewrite.py").write_text(pair.candidate, encoding="utf-8")
    return (
        f"{directory / 'original.py'}::{pair.function}",
        f"{directory / 'rewrite.py'}::{pair.candidate_function}",
    )


def test_the_suite_is_big_enough() -> None:
    assert len(WRONG) + len([p for p in RIGHT if p.expected == "counterexample"]) >= 17
    assert len([p for p in RIGHT if p.expected == "equivalent"]) >= 8
    assert len(ALL) >= 25


@pytest.mark.parametrize("pair", ALL, ids=[p.name for p in ALL])
def test_pair_is_classified(pair: Pair, tmp_path: Path) -> None:
    original, candidate = _write_pair(tmp_path, pair)
    config = load_config(tmp_path)
    verdict = verify_targets(parse_target(original), parse_target(candidate), config)
    assert verdict.status == pair.expected, (verdict.detail, verdict.counterexample)
    assert pair.reason in verdict.detail
    if verdict.status == "counterexample":
        assert verdict.counterexample is not None
        assert verdict.counterexample.original != verdict.counterexample.candidate or (
            "mutation" in verdict.detail or "aliasing" in verdict.detail
        )
    if verdict.status == "equivalent":
        assert verdict.examples >= 20
        assert verdict.strategy_sources


def _optimize(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "pipeline", "verify", *args]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=120)


def test_cli_exits_0_on_an_equivalent_pair(tmp_path: Path) -> None:
    original, candidate = _write_pair(tmp_path, RIGHT[0])
    done = _optimize(original, candidate, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("equivalent: ")
    assert "type hints" in done.stdout


def test_cli_exits_1_and_shows_both_behaviours_side_by_side(tmp_path: Path) -> None:
    original, candidate = _write_pair(tmp_path, WRONG[0])
    done = _optimize(original, candidate, cwd=tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("counterexample: differs in argument mutation")
    assert lines[1].startswith("input: xs=")
    header = next(line for line in lines if "original.py::f" in line)
    assert "rewrite.py::f" in header and "|" in header
    mutated = next(line for line in lines if line.startswith("arguments after the call"))
    left, right = mutated.split("|")
    assert left.strip() != right.strip().replace("arguments after the call: ", "") or left != right


def test_cli_exits_2_when_unverifiable(tmp_path: Path) -> None:
    original, candidate = _write_pair(tmp_path, UNVERIFIABLE[0])
    done = _optimize(original, candidate, cwd=tmp_path)
    assert done.returncode == 2
    assert done.stdout.startswith("unverifiable: no type hint")


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["original.py", "rewrite.py::f"], "expected path.py::function_name"),
        (["missing.py::f", "rewrite.py::f"], "no such file"),
        (["original.py::nope", "rewrite.py::f"], "no function or method named 'nope'"),
    ],
)
def test_cli_rejects_bad_targets_with_one_line(
    tmp_path: Path,
    arguments: list[str],
    message: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """In-process through `optimize`'s own entry point: no sandbox run is needed to refuse."""
    from pipeline.cli.main import main

    _write_pair(tmp_path, RIGHT[0])
    monkeypatch.chdir(tmp_path)
    assert main(["verify", *arguments]) == 2
    stderr = capsys.readouterr().err
    assert message in stderr
    assert len(stderr.strip().splitlines()) == 1


def _project_with_tests(root: Path) -> None:
    (root / "pkg").mkdir()
    (root / "tests").mkdir()
    (root / "pkg" / "__init__.py").write_text("", encoding="utf-8")
    (root / "pkg" / "stats.py").write_text(
        "def total(xs: list[int]) -> int:\n    t = 0\n    for x in xs:\n        t += x\n"
        "    return t\n",
        encoding="utf-8",
    )
    (root / "tests" / "test_stats.py").write_text(
        "from pkg.stats import total\n\n\ndef test_total_of_a_tuple():\n"
        "    assert total((1, 2)) == 3\n",
        encoding="utf-8",
    )
    (root / "tests" / "test_unrelated.py").write_text(
        "def test_always_fails():\n    assert False\n", encoding="utf-8"
    )
    (root / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("    return sum(xs)\n", "equivalent"),
        # Equivalent on every list[int], but the project's own test passes a tuple.
        ("    ys = xs.copy()\n    return sum(ys)\n", "counterexample"),
    ],
    ids=["passes-project-tests", "breaks-a-project-test"],
)
def test_project_tests_touching_the_module_decide(tmp_path: Path, body: str, expected: str) -> None:
    from pipeline.model import Candidate
    from pipeline.stages.verify import verify

    _project_with_tests(tmp_path)
    original = (tmp_path / "pkg" / "stats.py").read_text(encoding="utf-8")
    rewrite = "def total(xs: list[int]) -> int:\n" + body
    candidate = Candidate("total", 1, ("TEST",), "pass", original, rewrite, "pkg.stats", tmp_path)
    verdict = verify(candidate, load_config(tmp_path))
    assert verdict.status == expected, verdict.detail
    if expected == "equivalent":
        assert "project tests" in verdict.strategy_sources
    else:
        assert "tests/test_stats.py::test_total_of_a_tuple" in verdict.detail
        assert "test_always_fails" not in verdict.detail


def test_doctest_literals_cross_into_the_child_exactly(tmp_path: Path) -> None:
    """A tuple holding -0.0 and a set survive the tagged JSON encoding as an explicit example."""
    pair = Pair(
        "doctest seed with a tuple, -0.0 and a set",
        'def f(point, tags):\n    """\n    >>> f((1.5, -0.0), {3, 1})\n    (0.0, [1, 3])\n'
        '    """\n    x, y = point\n    return (abs(y), sorted(tags))\n',
        "def f(point, tags):\n    x, y = point\n    return (y if y >= 0 else -y, sorted(tags))\n",
        "counterexample",
    )
    original, candidate = _write_pair(tmp_path, pair)
    verdict = verify_targets(parse_target(original), parse_target(candidate), load_config(tmp_path))
    assert verdict.status == "counterexample", verdict.detail
    assert verdict.counterexample is not None
    assert verdict.counterexample.arguments == "point=(1.5, -0.0), tags={1, 3}"
    assert "doctest examples" in verdict.strategy_sources
