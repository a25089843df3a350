"""`benchmarks.realcode --scripted-llm`, on a toy package instead of a PyPI download: the
steps the harness runs (its tests, `optimize trace -m pytest`, `optimize PKG --write` against
the scripted endpoint, its tests again), as real subprocesses.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from benchmarks.realcode import harness, junit, scripted
from benchmarks.realcode.packages import PYTEST_FLAGS, Package
from tests.conftest import FAST_PYPROJECT

TOY = '''\
def dedupe(items):
    """The items in first-seen order, each once."""
    out = []
    for item in items:
        if item not in out:
            out.append(item)
    return out
'''
TOY_TESTS = """\
from toy import dedupe


def test_dedupe_keeps_first_seen_order():
    keys = [f"k{(i * 7919) % 300}" for i in range(1500)]
    assert dedupe(keys)[:3] == ["k0", "k119", "k238"]


def test_dedupe_of_nothing():
    assert dedupe([]) == []
"""
RIGHT = {
    "function": "def dedupe(items):\n"
    '    """The items in first-seen order, each once."""\n'
    "    return list(dict.fromkeys(items))\n",
    "helpers": "",
    "imports": [],
    "explanation": "dict.fromkeys keeps the first of each key in one pass.",
}
WRONG = {  # the order is the sorted one, not the first-seen one
    "function": "def dedupe(items):\n"
    '    """The items in first-seen order, each once."""\n'
    "    return sorted(set(items))\n",
    "helpers": "",
    "imports": [],
    "explanation": "A set drops repeats in one pass.",
}


def _toy(root: Path) -> Package:
    (root / "toy").mkdir(parents=True)
    (root / "toy" / "__init__.py").write_text(TOY, encoding="utf-8")
    (root / "tests").mkdir()
    (root / "tests" / "test_toy.py").write_text(TOY_TESTS, encoding="utf-8")
    # The wrong proposal fails on a recorded call: no shrinking, fewer generated examples.
    fast = FAST_PYPROJECT.replace("max_examples = 50\n", "max_examples = 25\nshrink_seconds = 1\n")
    (root / "pyproject.toml").write_text(fast, encoding="utf-8")
    return Package("toy", "0", "a toy", "toy", ("tests",))


def test_a_scripted_run_writes_the_right_proposal_and_never_the_wrong_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = _toy(tmp_path / "pristine")
    script = scripted.Script(right={"dedupe": RIGHT}, wrong={"dedupe": WRONG})
    monkeypatch.setitem(scripted.SCRIPTS, package.name, script)
    work = harness.fresh_work_copy(tmp_path / "pristine", tmp_path / "work")
    env = harness.package_env(package, work, tmp_path / "deps")
    before = harness.run_tests(package, work, env, tmp_path / "before.xml")
    trace = [*harness.CLI, "trace", "--fresh", "-m", "pytest", *PYTEST_FLAGS, *package.tests]
    harness._run(trace, work, env)
    row = {"hot": harness.hot_functions(work / ".optimize_cache" / "trace.sqlite", "toy")}
    settings = harness.Settings(False, False, tmp_path, None, 1, 1, scripted_llm=True)

    harness.summarise_optimize(row, harness.run_optimize(package, settings, work, env))

    fates = [
        (f["kind"], f["accepted"], f["written"]) for f in scripted.fates(script, row["outcomes"])
    ]
    assert fates == [("wrong", False, False), ("right", True, True)], row["outcomes"]
    assert row["outcomes"][0]["reason"].startswith("behaviour differs")
    assert harness.wrong_outputs({**row, "scripted": scripted.fates(script, row["outcomes"])}) == 0
    diff = harness._git(work, "diff").stdout
    assert "+    return list(dict.fromkeys(items))" in diff and "sorted(set(" not in diff
    assert "pyproject.toml" not in diff  # the scripted settings were committed first
    after = harness.run_tests(package, work, env, tmp_path / "after.xml")
    passed = {"passed": 2, "failed": 0, "error": 0, "skipped": 0}
    assert junit.counts(after) == junit.counts(before) == passed
    assert junit.newly_failing(before, after) == {}
    shutil.rmtree(work)


def test_a_package_without_a_script_cannot_run_scripted(tmp_path: Path) -> None:
    package = _toy(tmp_path / "pristine")
    settings = harness.Settings(False, False, tmp_path, None, 1, 1, scripted_llm=True)
    with pytest.raises(harness.StepError, match="no script for toy"):
        harness.run_optimize(package, settings, tmp_path / "pristine", {})
