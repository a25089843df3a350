"""The LLM stage on untyped code that only a trace gives inputs to (issue 23).

`tests/data/lending` is an untyped module (a class and helper functions) and the
script that uses it. It is traced with the real CLI, then `optimize . --write`
asks a scripted OpenAI-compatible endpoint (the real openai SDK over HTTP) about
every function. Four answers are right and asymptotically faster on the recorded
calls; four are faster but subtly wrong, each in a way only the real calls or
their neighbours show. The built-in passes are switched off (`--ignore OPT`) so
that every function reaches the model.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from llm_server import LLMServer

from tests.conftest import FAST_PYPROJECT, REPO, Runner

LENDING = REPO / "tests" / "data" / "lending"
# Fewer generated examples, and no shrinking: each wrong proposal fails on a recorded call,
# and the test reads only the verdict. The quadratic originals make each example slow.
PYPROJECT = FAST_PYPROJECT.replace("max_examples = 50\n", "max_examples = 25\nshrink_seconds = 1\n")
PYPROJECT += """
[tool.optimize.llm]
model = "test-model"
candidates = 1
repair_rounds = 0
"""


def _proposal(function: str, explanation: str, imports: tuple[str, ...] = ()) -> dict[str, Any]:
    return {"function": function, "helpers": "", "imports": list(imports),
            "explanation": explanation}  # fmt: skip


# Right, and faster by a wide margin on the recorded calls: what each written file must show.
RIGHT = {
    "catalogued": _proposal(
        "def catalogued(self, wanted):\n"
        '    """The wanted titles the library holds, in the order asked for."""\n'
        "    held = set(self.titles)\n"
        "    return [title for title in wanted if title in held]\n",
        "A set of the titles makes each membership test O(1).",
    ),
    "loan_lines": _proposal(
        "def loan_lines(self):\n"
        '    return [member + ": " + title for member, title in self.loans]\n',
        "Building the list once instead of copying it on every loan.",
    ),
    "serve": _proposal(
        "def serve(requests):\n"
        '    """Requests answered first come, first served."""\n'
        "    queue = deque(requests)\n"
        "    served = []\n"
        "    while queue:\n"
        "        served.append(queue.popleft().strip().lower())\n"
        "    return served\n",
        "deque.popleft is O(1); list.pop(0) moves the whole list.",
        ("from collections import deque",),
    ),
    "repeated": _proposal(
        "def repeated(names):\n"
        '    """Names that occur more than once, each once, in first-seen order."""\n'
        "    counts = Counter(names)\n"
        "    return [name for name in dict.fromkeys(names) if counts[name] > 1]\n",
        "Counting once instead of a count() per name.",
        ("from collections import Counter",),
    ),
}
# Faster too, and each subtly wrong: what no written file may show.
WRONG = {
    "borrowers": _proposal(  # order changed: sorted, not first-loan order
        "def borrowers(self):\n"
        '    """Every member who borrowed something, in the order of their first loan."""\n'
        "    return sorted({member for member, _title in self.loans})\n",
        "A set comprehension drops repeats in one pass.",
    ),
    "window_totals": _proposal(  # off by one: the last window is lost
        "def window_totals(values, width):\n"
        '    """The total of every run of `width` consecutive values."""\n'
        "    total = sum(values[:width])\n"
        "    totals = []\n"
        "    for i in range(width, len(values)):\n"
        "        totals.append(total)\n"
        "        total += values[i] - values[i - width]\n"
        "    return totals\n",
        "A running total instead of summing every window again.",
    ),
    "shared": _proposal(  # duplicates of `left` dropped
        "def shared(left, right):\n"
        '    """Items of `left` that are also in `right`, duplicates and order as in `left`."""\n'
        "    wanted = set(right)\n"
        "    return [item for item in dict.fromkeys(left) if item in wanted]\n",
        "Set membership instead of scanning `right` for every item.",
    ),
    "longest": _proposal(  # raises on an empty list, which the workload passes
        "def longest(titles):\n"
        '    """The first longest title, or "" when there are none."""\n'
        "    return max(titles, key=len)\n",
        "max() with a key runs the loop in C.",
    ),
}
# A line of each proposal that the original does not have.
MARKS = {
    "catalogued": "held = set(self.titles)",
    "loan_lines": 'return [member + ": " + title for member, title in self.loans]',
    "serve": "queue = deque(requests)",
    "repeated": "counts = Counter(names)",
    "borrowers": "return sorted({member",
    "window_totals": "total = sum(values[:width])",
    "shared": "dict.fromkeys(left)",
    "longest": "max(titles, key=len)",
}


def _workload(app: Path) -> str:
    done = subprocess.run([sys.executable, "run.py"], cwd=app, capture_output=True, text=True,
                          timeout=300, check=True)  # fmt: skip
    return done.stdout


def test_right_proposals_for_traced_untyped_code_are_written_and_wrong_ones_never(
    tmp_path: Path, run_cli: Runner, server: LLMServer
) -> None:
    app = tmp_path / "lending"
    shutil.copytree(LENDING, app)
    (app / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
    original = (app / "library.py").read_text(encoding="utf-8")
    assert not any(mark in original for mark in MARKS.values())
    before = _workload(app)
    traced = run_cli("trace", "run.py", cwd=app)
    assert (traced.stdout, traced.returncode) == (before, 0), traced.stderr

    for name, proposal in (RIGHT | WRONG).items():
        server.add("rewrite_proposals", {"candidates": [proposal]}, function=name)
    environment = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    environment |= {"OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": "sk-test"}
    done = subprocess.run(
        [sys.executable, "-m", "pipeline", ".", "--write", "--json", "--ignore", "OPT"],
        cwd=app, env=environment, capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr
    outcomes = {
        o["function"].rsplit(".", 1)[-1]: o
        for f in json.loads(done.stdout)["files"]
        for o in f["outcomes"]
        if o["origin"] == "llm"
    }
    assert set(outcomes) == set(MARKS), sorted(outcomes)  # every scripted proposal was tried

    text = (app / "library.py").read_text(encoding="utf-8")
    for name in WRONG:
        assert not outcomes[name]["accepted"], outcomes[name]
        assert outcomes[name]["reason"].startswith("behaviour differs"), outcomes[name]["reason"]
        assert MARKS[name] not in text, name
    written = [name for name in RIGHT if MARKS[name] in text]
    reasons = {name: outcomes[name]["reason"] for name in RIGHT}
    assert len(written) >= 3, reasons
    for name in written:
        assert outcomes[name]["accepted"] and outcomes[name]["verdict"]["basis"], outcomes[name]
        timed = {size["source"] for size in outcomes[name]["timing"]["sizes"]}
        assert "recorded" in timed, outcomes[name]["timing"]
    assert _workload(app) == before
