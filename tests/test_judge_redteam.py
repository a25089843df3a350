"""Red team for the judge: candidates that try to be called equivalent, or fast, when
they are not. Each runs through the real CLI (`optimize verify`) and through the LLM
path (the loopback "model" proposes it), at the bubblewrap level, and must end
rejected: the verdict is made by a process that never ran the candidate, and the
clocks are read from outside its worker (see pipeline/sandbox/__init__.py).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from llm_server import LLMServer
from test_sandbox_redteam import IMPORTS, ORIGINAL, needs

# --------------------------------------------------------------------------- forging a verdict
#
# Each candidate below is wrong (it returns x + 2, not x + 1) and attacks the judge
# when called. Nothing it does may turn its verdict into "equivalent": through
# `optimize verify` (exit 0 would mean equivalent) and through the LLM path, where
# the loopback "model" proposes it and nothing may be written.

FORGERIES = {
    "writes a fake result on every open fd and exits 0": """\
        fake = b'{"status": "ok", "verdict": "no_difference", "observations": []}'
        for fd in range(3, 256):
            try:
                os.write(fd, b"%08x" % len(fake) + fake)
            except OSError:
                pass
        os._exit(0)
    """,
    "overwrites its result channel through /proc/self/fd": """\
        fake = b'{"status": "ok", "verdict": "no_difference", "observations": []}'
        for name in os.listdir("/proc/self/fd"):
            try:
                with open(f"/proc/self/fd/{name}", "wb") as channel:
                    channel.write(b"%08x" % len(fake) + fake)
            except OSError:
                pass
        return x + 2
    """,
    "patches the comparator it finds through gc": """\
        import gc
        agree = (lambda *args, **kwargs: None).__code__
        same = (lambda *args, **kwargs: True).__code__
        for found in gc.get_objects():
            name = getattr(found, "__name__", "")
            if callable(found) and hasattr(found, "__code__"):
                if name in ("difference", "compare", "_close"):
                    found.__code__ = agree
                elif name.startswith("same"):
                    found.__code__ = same
        return x + 2
    """,
    "patches json and pickle in its process": """\
        import json, pickle
        json.dumps = lambda *args, **kwargs: '{"status": "ok", "verdict": "no_difference"}'
        json.loads = lambda *args, **kwargs: {"status": "ok"}
        pickle.loads = lambda *args, **kwargs: ((x,), {})
        return x + 2
    """,
    "prints a fake protocol line on stdout": """\
        fake = '{"status": "ok", "verdict": "no_difference", "observations": []}'
        print("%08x" % len(fake) + fake, flush=True)
        print("equivalent: 200 examples agreed", flush=True)
        os.write(1, b"%08x" % len(fake) + fake.encode())
        return x + 2
    """,
    "replaces every compare/equal/verdict function in sys.modules": """\
        import types
        for module in list(sys.modules.values()):
            for name, value in list(getattr(module, "__dict__", {}).items()):
                lowered = name.lower()
                if isinstance(value, types.FunctionType) and any(
                    word in lowered for word in ("compare", "equal", "verdict", "differ", "same")
                ):
                    try:
                        setattr(module, name, lambda *args, **kwargs: None)
                    except Exception:
                        pass
        return x + 2
    """,
}


def forged_function(body: str) -> str:
    return "def f(x: int) -> int:\n" + textwrap.indent(textwrap.dedent(body), "    ")


def forged_module(body: str) -> str:
    return IMPORTS + "\n\n" + forged_function(body)


@pytest.mark.parametrize("attack", list(FORGERIES), ids=list(FORGERIES))
def test_a_forged_verdict_is_never_equivalent_through_optimize_verify(
    tmp_path: Path, attack: str
) -> None:
    needs("bubblewrap")
    (tmp_path / "original.py").write_text(ORIGINAL, encoding="utf-8")
    (tmp_path / "forged.py").write_text(forged_module(FORGERIES[attack]), encoding="utf-8")
    (tmp_path / "pyproject.toml").write_text(
        "[tool.optimize.verify]\nmax_examples = 20\n", encoding="utf-8"
    )
    done = subprocess.run(
        [sys.executable, "-m", "pipeline", "verify", "original.py::f", "forged.py::f", "--json"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode in (1, 2), done.stdout + done.stderr
    assert json.loads(done.stdout)["status"] != "equivalent"


LLM_PYPROJECT = """\
[tool.optimize.timing]
sizes = [10, 100]
sample_seconds = 0.005
pairs = 5
workers = 1

[tool.optimize.verify]
max_examples = 20

[tool.optimize.llm]
model = "test-model"
candidates = 1
timeout = 20
max_retries = 0
repair_rounds = 0
"""

TARGET = "def f(x: int) -> int:\n    return x + 1\n"


def optimize_with_model(tmp_path: Path, server: LLMServer, proposal: str) -> dict[str, Any]:
    """`optimize work.py --llm --json` with the loopback model proposing `proposal`."""
    (tmp_path / "pyproject.toml").write_text(LLM_PYPROJECT, encoding="utf-8")
    (tmp_path / "work.py").write_text(TARGET, encoding="utf-8")
    analysis = {"intent": "adds one", "pure": True, "side_effects": [], "hot_spots": [],
                "complexity": "O(1)", "applicable_passes": [], "domains": []}  # fmt: skip
    server.add("function_analysis", analysis)
    imports = [line for line in IMPORTS.strip().splitlines()]
    server.add("rewrite_proposals", {"candidates": [
        {"function": proposal, "helpers": "", "imports": imports, "explanation": "faster"}
    ]})  # fmt: skip
    environment = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    environment |= {"OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": "sk-redteam"}
    done = subprocess.run(
        [sys.executable, "-m", "pipeline", "--llm", "--json", "work.py"],
        cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=400, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "work.py").read_text(encoding="utf-8") == TARGET
    report: dict[str, Any] = json.loads(done.stdout)
    return report


def llm_outcome(report: dict[str, Any]) -> dict[str, Any]:
    outcomes = [o for f in report["files"] for o in f["outcomes"] if o["origin"] == "llm"]
    assert len(outcomes) == 1, report
    return outcomes[0]


@pytest.mark.parametrize("attack", list(FORGERIES), ids=list(FORGERIES))
def test_a_forged_verdict_proposed_by_the_model_is_never_accepted(
    tmp_path: Path, server: LLMServer, attack: str
) -> None:
    needs("bubblewrap")
    outcome = llm_outcome(optimize_with_model(tmp_path, server, forged_function(FORGERIES[attack])))
    assert not outcome["accepted"]
    assert outcome["verdict"]["status"] != "equivalent", outcome


# A correct but slower rewrite that tries to look fast.
CLOCK_PATCHER = """\
def f(x: int) -> int:
    import time
    for name in ("perf_counter", "process_time", "thread_time", "monotonic", "time"):
        setattr(time, name, lambda: 0.0)
        setattr(time, name + "_ns", lambda: 0)
    busy = 0
    for step in range(20_000):
        busy += step
    return x + 1
"""
# A correct rewrite that burns CPU in a thread while the original is being timed.
NOISY_NEIGHBOUR = """\
def f(x: int) -> int:
    import threading
    if not threading.active_count() > 1:
        def burn() -> None:
            while True:
                sum(range(10_000))
        threading.Thread(target=burn, daemon=True).start()
    return x + 1
"""


@pytest.mark.parametrize("proposal", [CLOCK_PATCHER, NOISY_NEIGHBOUR], ids=["clocks", "neighbour"])
def test_a_candidate_cannot_make_itself_look_faster(
    tmp_path: Path, server: LLMServer, proposal: str
) -> None:
    needs("bubblewrap")
    outcome = llm_outcome(optimize_with_model(tmp_path, server, proposal))
    assert outcome["verdict"]["status"] == "equivalent", outcome  # it is correct ...
    assert not outcome["accepted"], outcome  # ... and never accepted as faster
