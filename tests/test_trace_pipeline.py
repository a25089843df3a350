"""`optimize trace` then `optimize PATH`: real calls verify, time, rank and rewrite untyped code.

Everything runs through the real CLI in subprocesses, with the real sandbox.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from llm_scenarios import analysis
from llm_server import LLMServer

from pipeline.sandbox.isolation import Isolation, best_isolation
from tests.conftest import FAST_PYPROJECT, REPO, Runner, outcomes_by_function

APP = REPO / "tests" / "data" / "trace_app"


@pytest.fixture
def app(tmp_path: Path) -> Path:
    project = tmp_path / "trace_app"
    shutil.copytree(APP, project)
    (project / "pyproject.toml").write_text(FAST_PYPROJECT, encoding="utf-8")
    return project


def _python(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True,
                          timeout=600, check=False)  # fmt: skip


def test_trace_then_write_rewrites_untyped_code_on_real_calls(app: Path, run_cli: Runner):
    before = _python(app, "run.py")
    assert before.returncode == 0
    traced = run_cli("trace", "run.py", cwd=app)
    assert (traced.stdout, traced.returncode) == (before.stdout, 0)

    untraced = run_cli("inventory/orders.py", "--json", "--no-trace", cwd=app)
    assert not any(o["accepted"] for o in outcomes_by_function(untraced.stdout).values())  # untyped

    report = run_cli(".", "--json", cwd=app)
    assert report.returncode == 0, report.stderr
    outcomes = outcomes_by_function(report.stdout)
    for name in ("unique_skus", "packing_slip"):
        outcome = outcomes[name]
        assert outcome["accepted"], outcome["reason"]
        basis = dict(outcome["verdict"]["basis"])
        assert basis["recorded calls"] == 7 and basis.get("generated", 0) > 0
        timed = {size["source"] for size in outcome["timing"]["sizes"]}
        assert "recorded" in timed and "synthesised" not in timed
        # acceptance weighs the timed recorded calls by the 7 real calls they stand for
        weights = [size["recorded_calls"] for size in outcome["timing"]["sizes"]]
        assert sum(weights) == 7, weights
        assert outcome["timing"]["decided_by"] == "recorded calls, weighted by 7 traced call(s)"
        assert 0 < outcome["workload"]["share"] <= 1
        assert 0 < outcome["workload"]["saving"] <= outcome["workload"]["share"] * 1.01
    # the hottest function of the workload, by far
    assert (
        outcomes["unique_skus"]["workload"]["share"] > outcomes["packing_slip"]["workload"]["share"]
    )

    shown = run_cli(".", cwd=app)
    assert "recorded calls + " in shown.stdout and "of workload" in shown.stdout
    assert "projected saving for the whole traced workload" in shown.stdout
    assert "the recorded calls, weighted by 7 traced call(s): " in shown.stdout
    lines = shown.stdout.splitlines()
    first = next(i for i, line in enumerate(lines) if "unique_skus" in line)
    second = next(i for i, line in enumerate(lines) if "packing_slip  OPT" in line)
    assert first < second  # ranked by share of the workload

    written = run_cli(".", "--write", cwd=app)
    assert written.returncode == 0, written.stderr
    source = (app / "inventory" / "orders.py").read_text(encoding="utf-8")
    assert "seen = set()" in source and "lines = lines + [" not in source
    after = _python(app, "run.py")
    assert after.stdout.encode() == before.stdout.encode()  # byte-identical output


def test_top_optimises_only_the_hottest_functions(app: Path, run_cli: Runner):
    run_cli("trace", "run.py", cwd=app)
    report = run_cli(".", "--json", "--top", "1", cwd=app)
    assert report.returncode == 0, report.stderr
    assert set(outcomes_by_function(report.stdout)) == {"unique_skus"}


def test_trace_flags_refuse_what_they_cannot_use(app: Path, run_cli: Runner):
    missing = run_cli(".", "--trace", "nope.sqlite", cwd=app)
    assert missing.returncode == 2 and "no trace here" in missing.stderr
    assert missing.stderr.count("\n") == 1
    top = run_cli(".", "--top", "3", cwd=app)
    assert top.returncode == 2 and "optimize trace" in top.stderr
    both = run_cli(".", "--top", "3", "--no-trace", cwd=app)
    assert both.returncode == 2


EVIL = '''\
"""A batch whose pickle runs code when it is loaded: it writes a line to MARKER."""

import os

MARKER = {marker!r}


def arrive(codes):
    try:
        with open(MARKER, "a") as marker:
            marker.write(f"{{os.getpid()}} {{os.getuid()}}\\n")
    except OSError:
        pass
    return list(codes)


class Batch(list):
    def __reduce__(self):
        return arrive, (list(self),)


def unique(codes):
    seen = []
    ordered = []
    for code in codes:
        key = str(code)
        if key not in seen:
            seen.append(key)
            ordered.append(key)
    return ordered
'''


def test_recorded_pickles_load_only_in_the_sandbox(project: Path, run_cli: Runner):
    """Unpickling runs code: a recorded argument whose pickle writes a marker when loaded.

    The trace writes the pickle (dumping runs no loader). `optimize` must never load
    it in its own process: no marker line with its PID. It is loaded in the sandbox:
    the verdict rests on the recorded calls, and under bubblewrap the sandbox cannot
    reach the marker's directory (elsewhere its lines carry the child's PID).
    """
    marker = project / "marker.txt"
    (project / "evil.py").write_text(EVIL.format(marker=str(marker)), encoding="utf-8")
    (project / "run.py").write_text(textwrap.dedent("""\
        from evil import Batch, unique

        for day in range(5):
            print(unique(Batch(f"T{(day * 7 + i) % 13}" for i in range(40))))
    """), encoding="utf-8")  # fmt: skip
    assert run_cli("trace", "run.py", cwd=project).returncode == 0
    assert not marker.exists()  # recording pickles, it loads none
    optimize = subprocess.Popen(
        [sys.executable, "-m", "pipeline", "evil.py", "--json"], cwd=project,
        env={**os.environ, "NO_COLOR": "1"}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    stdout, stderr = optimize.communicate(timeout=600)
    assert optimize.returncode == 0, stderr
    lines = marker.read_text().splitlines() if marker.exists() else []
    assert str(optimize.pid) not in [line.split()[0] for line in lines]  # not in optimize
    outcome = outcomes_by_function(stdout)["unique"]
    assert dict(outcome["verdict"]["basis"])["recorded calls"] == 5  # loaded: in the sandbox
    if best_isolation() == Isolation.BUBBLEWRAP:
        assert not marker.exists()
    else:
        assert lines  # the unsandboxed child could write it, under its own PID


def test_a_trace_of_the_projects_tests_feeds_optimize(project: Path, run_cli: Runner):
    """The project's own tests as the workload: `optimize trace -m pytest tests/`."""
    (project / "shop.py").write_text(textwrap.dedent("""\
        def receipt(items):
            lines = []
            for name, price in items:
                lines = lines + [f"{name}: {price}"]
            return lines
    """), encoding="utf-8")  # fmt: skip
    (project / "tests").mkdir()
    (project / "tests" / "test_shop.py").write_text(textwrap.dedent("""\
        from shop import receipt

        def test_receipt():
            items = [(f"item{i}", i) for i in range(2000)]
            assert receipt(items)[:2] == ["item0: 0", "item1: 1"]

        def test_empty():
            assert receipt([]) == []
    """), encoding="utf-8")  # fmt: skip
    with (project / "pyproject.toml").open("a", encoding="utf-8") as pyproject:
        pyproject.write('\n[tool.pytest.ini_options]\npythonpath = ["."]\n')
    traced = run_cli("trace", "-m", "pytest", "tests/", "-q", "-p", "no:cacheprovider",
                     cwd=project)  # fmt: skip
    assert traced.returncode == 0 and "2 passed" in traced.stdout
    report = run_cli("shop.py", "--json", cwd=project)
    outcome = outcomes_by_function(report.stdout)["receipt"]
    assert outcome["accepted"], outcome["reason"]
    assert dict(outcome["verdict"]["basis"])["recorded calls"] == 2


def test_the_models_prompt_says_what_the_trace_saw(app: Path, run_cli: Runner) -> None:
    """Types, sizes and workload share of the recorded calls reach the analysis prompt."""
    assert run_cli("trace", "run.py", cwd=app).returncode == 0
    environment = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    with LLMServer() as server:
        server.add("function_analysis", analysis(pure=False, side_effects=["stop here"]))
        environment |= {"OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": "sk-test"}
        done = subprocess.run(
            [sys.executable, "-m", "pipeline", "inventory/orders.py", "--llm",
             "--function", "total_quantity"],
            cwd=app, env=environment, capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip
        prompts = [body["messages"][-1]["content"] for body in server.bodies("function_analysis")]
    assert done.returncode in (0, 1), done.stderr
    assert len(prompts) == 1, done.stdout
    observed = prompts[0].split("Observed in a trace of the real workload:\n")[1]
    assert "- orders: list[dict[str, int | str]]\n" in observed  # nested types too
    assert "- size of orders: len 6000\n" in observed
    assert "- share of the traced run spent in this function: " in observed
