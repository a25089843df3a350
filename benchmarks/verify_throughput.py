"""Verification speed: examples per second, and the time to a verdict for each test pair.

Run: python benchmarks/verify_throughput.py [--max-examples 100] [--repeats 3]
Prints Markdown tables. Figures depend on the machine's load; the run's load
average is printed with them. Not a test: nothing here asserts a speed.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from pipeline.cli.verify import parse_target, verify_targets  # noqa: E402
from pipeline.config import Config, VerifyConfig, load_config  # noqa: E402
from pipeline.stages.verify import verify_sources  # noqa: E402

LIST_FUNCTION = (
    "def f(xs: list[int]) -> int:\n    t = 0\n    for x in xs:\n        t += x\n    return t\n"
)
LIST_REWRITE = "def f(xs: list[int]) -> int:\n    return sum(xs)\n"


def seconds_to_verdict(max_examples: int) -> tuple[float, int]:
    config = Config(verify=VerifyConfig(max_examples=max_examples))
    start = time.perf_counter()
    verdict = verify_sources(LIST_FUNCTION, LIST_REWRITE, "f", config)
    elapsed = time.perf_counter() - start
    if not verdict.is_equivalent:
        raise SystemExit(f"benchmark pair not equivalent: {verdict.detail}")
    return elapsed, verdict.examples


def throughput_table(max_examples: int, repeats: int) -> str:
    """Marginal examples/s: the fixed cost (sandbox, imports) cancels out between two sizes."""
    small = [seconds_to_verdict(1)[0] for _ in range(repeats)]
    large = [seconds_to_verdict(max_examples) for _ in range(repeats)]
    fixed = statistics.median(small)
    total = statistics.median(t for t, _ in large)
    examples = large[0][1]
    marginal = (examples - 1) / max(total - fixed, 1e-9)
    return "\n".join([
        "| function | examples | time to verdict (s) | fixed cost (s) | examples/s |",
        "|---|---:|---:|---:|---:|",
        f"| sum of list[int] | {examples} | {total:.2f} | {fixed:.2f} | {marginal:.0f} |",
    ])  # fmt: skip


def load_pairs() -> ModuleType:
    path = REPO / "tests" / "test_verify_pairs.py"
    spec = importlib.util.spec_from_file_location("verify_pairs", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while defining
    spec.loader.exec_module(module)
    return module


def pairs_table(max_examples: int) -> str:
    pairs = load_pairs()
    rows = ["| pair | expected | verdict | examples | seconds |", "|---|---|---|---:|---:|"]
    times = []
    for pair in pairs.ALL:
        with tempfile.TemporaryDirectory() as directory:
            original, candidate = pairs._write_pair(Path(directory), pair)
            config = load_config(Path(directory))
            config = replace(config, verify=replace(config.verify, max_examples=max_examples))
            start = time.perf_counter()
            verdict = verify_targets(parse_target(original), parse_target(candidate), config)
            elapsed = time.perf_counter() - start
        times.append(elapsed)
        mark = "" if verdict.status == pair.expected else " (WRONG)"
        name = pair.name.replace("|", "\\|")  # a literal | would split the table cell
        rows.append(
            f"| {name} | {pair.expected} | {verdict.status}{mark} "
            f"| {verdict.examples} | {elapsed:.2f} |"
        )
    rows.append(f"| **median** | | | | **{statistics.median(times):.2f}** |")
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--max-examples", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--skip-pairs", action="store_true")
    args = parser.parse_args()
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"# Verification speed\n\nPython {sys.version.split()[0]}, "
          f"{os.cpu_count()} CPUs, load average {load}\n")  # fmt: skip
    print("## Throughput\n")
    print(throughput_table(args.max_examples, args.repeats))
    if not args.skip_pairs:
        print(f"\n## Time to a verdict per pair (max_examples={args.max_examples})\n")
        print(pairs_table(args.max_examples))


if __name__ == "__main__":
    main()
