"""Methods end to end through the real CLI: verified, timed and written; sent to a
scripted model with their class; verified on the instances a trace recorded.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from conftest import FAST_PYPROJECT, Runner
from test_methods import comments, defs_except

DATA = Path(__file__).parent / "data" / "methods"


# --------------------------------------------------------------------------- end to end


def outcomes(result: subprocess.CompletedProcess[str]) -> dict[str, dict[str, object]]:
    assert result.returncode in (0, 1), result.stderr
    return {o["function"]: o for f in json.loads(result.stdout)["files"] for o in f["outcomes"]}


def test_methods_are_verified_timed_and_written(project: Path, run_cli: Runner) -> None:
    """The textbook `if x not in seen_list` in a method that reads `self` (instance from
    OPTIMIZE_INPUTS), one that never does (None stands in), a staticmethod, a classmethod
    of a nested class, and a nested helper of a function that returns it."""
    for name in ("registry.py", "factory.py"):
        shutil.copy(DATA / name, project / name)
    original = (project / "registry.py").read_text(encoding="utf-8")
    found = outcomes(run_cli("--json", "--no-llm", "registry.py", "factory.py", cwd=project))
    accepted = {name for name, outcome in found.items() if outcome["accepted"]}
    assert accepted == {
        "Registry.new_names", "Registry.distinct", "Registry.first_codes",
        "Registry.Report.headings", "make_dedupe.<locals>.dedupe",
    }, {name: outcome["reason"] for name, outcome in found.items()}  # fmt: skip
    sources = {name: outcome["verdict"]["strategy_sources"] for name, outcome in found.items()}  # type: ignore[index]
    assert "OPTIMIZE_INPUTS calls" in sources["Registry.new_names"]
    assert "any object for an unused self" in sources["Registry.distinct"]

    written = run_cli("--write", "--no-llm", "registry.py", "factory.py", cwd=project)
    assert written.returncode == 0, written.stderr
    text = (project / "registry.py").read_text(encoding="utf-8")
    compile(text, "registry.py", "exec")
    assert comments(text) == comments(original)
    assert text.count("= set()") == 4 and text.count("= []") == 4  # the outputs stay lists
    assert text.replace("= set()", "= []").replace(".add(", ".append(") == original
    assert "make_dedupe" in (project / "factory.py").read_text(encoding="utf-8")
    assert (project / "factory.py").read_text(encoding="utf-8").count("= set()") == 1

    again = run_cli("--write", "--no-llm", "registry.py", "factory.py", cwd=project)
    assert again.returncode == 0, again.stderr
    assert (project / "registry.py").read_text(encoding="utf-8") == text


def test_a_method_without_an_instance_is_unverified_with_the_reason(
    project: Path, run_cli: Runner
) -> None:
    source = (DATA / "registry.py").read_text(encoding="utf-8")
    hookless = source[: source.index("OPTIMIZE_INPUTS = ")]
    (project / "registry.py").write_text(hookless, encoding="utf-8")
    result = run_cli("--json", "--no-llm", "--function", "Registry.new_names", "registry.py",
                     cwd=project)  # fmt: skip
    (outcome,) = outcomes(result).values()
    assert outcome["accepted"] is False
    reason = str(outcome["reason"])
    assert "a method needs an instance" in reason
    assert "optimize trace" in reason and "OPTIMIZE_INPUTS" in reason
    assert (project / "registry.py").read_text(encoding="utf-8") == hookless
    summary = run_cli("--no-llm", "--function", "Registry.new_names", "registry.py", cwd=project)
    assert summary.returncode == 0, summary.stderr
    assert (
        "1 candidate(s) could not be verified (1 method(s) with no instance): run with -v to "
        "see why, then give it inputs with `optimize trace`, [tool.optimize.strategies] or an "
        "OPTIMIZE_INPUTS hook"
    ) in summary.stdout


# --------------------------------------------------------------------------- LLM

BASKET_PROPOSAL = {
    "function": (
        "def repeated(self):\n"
        "    counts = Counter(self.skus)\n"
        "    return _in_order(sku for sku in self.skus if counts[sku] > 1)\n"
    ),
    "helpers": "def _in_order(items):\n    return list(dict.fromkeys(items))\n",
    "imports": ["from collections import Counter"],
    "explanation": "One Counter pass instead of a count() per item.",
}
ANALYSIS = {
    "intent": "lists the repeated skus",
    "pure": True,
    "side_effects": [],
    "hot_spots": [],
    "complexity": "O(n^2)",
    "applicable_passes": [],
    "domains": [],
}


def test_a_model_sees_the_class_and_its_method_lands_in_it(project: Path) -> None:
    """The method goes out with its class line and the sibling method it calls; the
    model's rewrite is verified on OPTIMIZE_INPUTS instances, timed and written into the
    class, its helper and import at module level."""
    from llm_server import LLMServer

    target = project / "basket.py"
    shutil.copy(DATA / "basket.py", target)
    original = target.read_text(encoding="utf-8")
    environment = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    with LLMServer() as server:
        server.add("function_analysis", ANALYSIS)
        server.add("rewrite_proposals", {"candidates": [BASKET_PROPOSAL]})
        environment |= {"OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": "sk-test"}
        done = subprocess.run(
            [sys.executable, "-m", "pipeline", "--write", "--function", "Basket.repeated",
             "basket.py"],
            cwd=project, env=environment, capture_output=True, text=True, timeout=600,
            check=False,
        )  # fmt: skip
        sent = server.bodies("rewrite_proposals")[0]["messages"][-1]["content"]
    assert done.returncode == 0, done.stdout + done.stderr
    assert "class Basket:  # `repeated` is a method of this class" in sent
    assert "    def count(self, sku):" in sent and "def empty" not in sent
    assert "def repeated(self):\n    out = []" in sent  # dedented
    text = target.read_text(encoding="utf-8")
    compile(text, "basket.py", "exec")
    assert "from collections import Counter" in text
    assert text.index("def _in_order") < text.index("class Basket")
    assert (
        "    # SKUs bought more than once, in first-seen order.\n"
        "    def repeated(self):\n"
        "        counts = Counter(self.skus)\n"
    ) in text
    assert defs_except(text, "Basket.repeated") == {
        **defs_except(original, "Basket.repeated"),
        "_in_order": defs_except(text, "")["_in_order"],
    }


# --------------------------------------------------------------------------- traced methods


class Shelf:
    """A plain class: its state is its __dict__."""

    def __init__(self, items: list[object], label: str) -> None:
        self.items = items
        self.label = label


class Packed:
    __slots__ = ("items",)

    def __init__(self, items: list[object]) -> None:
        self.items = items


def test_neighbours_of_a_recorded_instance_reuse_its_real_items() -> None:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from pipeline.sandbox.child.instances import instance_neighbours

    books = [object() for _ in range(5)]
    recorded = Shelf(books[:3], "fiction")
    strategy = instance_neighbours([recorded, Shelf(books[3:], "poetry")])
    assert strategy is not None
    assert instance_neighbours([Packed(books)]) is None  # state kept elsewhere than __dict__
    assert instance_neighbours([recorded, 3]) is None
    drawn: list[Shelf] = []

    @settings(max_examples=60, database=None, suppress_health_check=list(HealthCheck))
    @given(st.data())
    def draw(data: st.DataObject) -> None:
        drawn.append(data.draw(strategy))

    draw()
    assert all(type(s) is Shelf and s is not recorded for s in drawn)
    assert all(item in books for s in drawn for item in s.items)
    assert len({len(s.items) for s in drawn}) > 3 and len({s.label for s in drawn}) > 2
    assert recorded.items == books[:3] and recorded.label == "fiction"  # copies, not edits


def test_traced_methods_are_verified_on_their_recorded_self_timed_and_written(
    tmp_path: Path, run_cli: Runner
) -> None:
    """One recorded call of `Catalog.categories` (self only) is not enough examples alone:
    neighbours of the recorded Catalog make up the rest; timing uses the recorded call,
    whose size is the length of the catalog's product list."""
    app = tmp_path / "app"
    shutil.copytree(Path(__file__).parent / "data" / "trace_app", app)
    (app / "pyproject.toml").write_text(FAST_PYPROJECT, encoding="utf-8")
    before = subprocess.run([sys.executable, "run.py"], cwd=app, capture_output=True,
                            text=True, timeout=300, check=True)  # fmt: skip
    traced = run_cli("trace", "run.py", cwd=app)
    assert traced.returncode == 0, traced.stderr
    methods = ("Catalog.categories", "Catalog.restock_lines")
    selected = [arg for name in methods for arg in ("--function", name)]
    found = outcomes(run_cli("--json", *selected, "inventory/catalog.py", cwd=app))
    assert set(found) == set(methods)
    for name in methods:
        outcome: dict[str, Any] = found[name]  # type: ignore[assignment]
        assert outcome["accepted"], outcome["reason"]
        basis = dict(outcome["verdict"]["basis"])
        assert basis["recorded calls"] == 1 and basis["generated"] >= 20, basis
        assert {s["source"] for s in outcome["timing"]["sizes"]} == {"recorded"}
        assert outcome["timing"]["sizes"][-1]["size"] == 6000  # len(catalog.products)
    written = run_cli("--write", *selected, "inventory/catalog.py", cwd=app)
    assert written.returncode == 0, written.stderr
    text = (app / "inventory" / "catalog.py").read_text(encoding="utf-8")
    assert "seen = set()" in text and "lines = lines + [" not in text
    after = subprocess.run([sys.executable, "run.py"], cwd=app, capture_output=True,
                           text=True, timeout=300, check=True)  # fmt: skip
    assert after.stdout == before.stdout


def test_a_method_with_no_way_to_an_instance_is_not_sent(project: Path) -> None:
    """No OPTIMIZE_INPUTS, no trace, and `self` is read: every proposal would end
    unverified, so the model is not asked and the report says why."""
    from llm_server import LLMServer

    source = (DATA / "basket.py").read_text(encoding="utf-8")
    (project / "basket.py").write_text(source[: source.index("def _basket")], encoding="utf-8")
    environment = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    with LLMServer() as server:
        environment |= {"OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": "sk-test"}
        done = subprocess.run(
            [sys.executable, "-m", "pipeline", "--json", "--function", "Basket.repeated",
             "basket.py"],
            cwd=project, env=environment, capture_output=True, text=True, timeout=300,
            check=False,
        )  # fmt: skip
        asked = server.count()
    assert done.returncode == 0, done.stderr
    (visit,) = json.loads(done.stdout)["files"][0]["llm_functions"]
    assert (visit["function"], visit["no_proposal"]) == (
        "Basket.repeated",
        "no instance for a method",
    )
    assert "optimize trace" in visit["detail"] and asked == 0
