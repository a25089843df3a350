"""Runs the real pipeline and the Ruff baseline over a copy of the corpus and collects results.

Everything here produces plain JSON-able dicts so that runs can be saved,
compared (`--compare`) and rendered (Markdown, HTML) without re-running.
"""

from __future__ import annotations

import importlib
import math
import os
import platform
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from benchmarks import ruff_baseline
from pipeline.config import Config, TimingConfig, VerifyConfig
from pipeline.model import Candidate, FileReport, Outcome, Timing, Verdict
from pipeline.sandbox.isolation import best_isolation
from pipeline.stages.measure import measure
from pipeline.stages.orchestrate import optimize_file
from pipeline.stages.parse import module_location
from pipeline.stages.timing_stats import python_version
from pipeline.stages.verify import inputs_for, verify

SCHEMA_VERSION = 1
CORPUS_DIR = Path(__file__).with_name("corpus")
REPO_ROOT = Path(__file__).resolve().parent.parent
IMPROVED_AT = 1.1
STAGES = ("parse", "analyze", "rewrite", "verify", "measure")
# The --quick subset: idiom functions the passes target, one LLM-only case and two traps
# (one of which Ruff's FURB192 fix gets wrong), so CI exercises accepted, declined,
# left-alone and baseline-broken paths in a few minutes.
QUICK_FUNCTIONS = (
    ("records", "dedupe_emails"),
    ("text_processing", "join_tags"),
    ("collections_idioms", "first_key"),
    ("algorithms", "two_sum_pairs"),
    ("traps", "latest_event"),
    ("traps", "wrap_words"),
)

Log = Callable[[str], None]


@dataclass(frozen=True)
class Settings:
    """How hard to look: the full run uses the pipeline defaults, --quick shrinks everything."""

    quick: bool
    max_examples: int
    sample_seconds: float
    pairs: int
    workers: int
    sizes_per_function: int  # 0 means all of OPTIMIZE_SIZES

    @classmethod
    def full(cls) -> Settings:
        timing, verifying = TimingConfig(), VerifyConfig()
        return cls(
            False, verifying.max_examples, timing.sample_seconds, timing.pairs, timing.workers, 0
        )

    @classmethod
    def quick_run(cls) -> Settings:
        return cls(
            True, max_examples=40, sample_seconds=0.01, pairs=3, workers=1, sizes_per_function=1
        )

    def config(self, sizes: Sequence[int]) -> Config:
        chosen = tuple(sizes[: self.sizes_per_function] if self.sizes_per_function else sizes)
        return Config(
            verify=VerifyConfig(max_examples=self.max_examples),
            timing=TimingConfig(
                sizes=chosen,
                sample_seconds=self.sample_seconds,
                pairs=self.pairs,
                workers=self.workers,
            ),
        )


@dataclass(frozen=True)
class CorpusFunction:
    module: str
    name: str
    category: str
    idiom: str
    sizes: tuple[int, ...]


def corpus_modules() -> tuple[str, ...]:
    package = importlib.import_module("benchmarks.corpus")
    return tuple(package.MODULES)


def corpus_functions(only: Iterable[tuple[str, str]] | None = None) -> list[CorpusFunction]:
    """Every function the corpus describes (OPTIMIZE_INPUTS), optionally filtered."""
    wanted = set(only) if only is not None else None
    found = []
    for module_name in corpus_modules():
        module: ModuleType = importlib.import_module(f"benchmarks.corpus.{module_name}")
        for name in module.OPTIMIZE_INPUTS:
            if wanted is not None and (module_name, name) not in wanted:
                continue
            found.append(
                CorpusFunction(
                    module=module_name,
                    name=name,
                    category=module.CATEGORY.get(name, "idiom"),
                    idiom=module.IDIOM.get(name, ""),
                    sizes=tuple(module.OPTIMIZE_SIZES.get(name, (10, 1_000))),
                )
            )
    return found


def copy_corpus(destination: Path) -> Path:
    """A private copy of the corpus package; the run never touches the repository."""
    target = destination / "corpus"
    shutil.copytree(CORPUS_DIR, target, ignore=shutil.ignore_patterns("__pycache__", "*.md"))
    return target


# --------------------------------------------------------------------------- per function


def timing_json(timing: Timing | None) -> list[dict[str, Any]]:
    if timing is None:
        return []
    return [
        {
            "size": s.size,
            "ratio": s.ratio,
            "low": s.low,
            "high": s.high,
            "decision": s.decision,
            "original_seconds": s.original_seconds,
            "candidate_seconds": s.candidate_seconds,
        }
        for s in timing.sizes
    ]


def headline_of(sizes: list[dict[str, Any]]) -> dict[str, Any] | None:
    return sizes[-1] if sizes else None


def recheck(path: Path, report: FileReport, function: str, config: Config) -> Verdict | None:
    """Verify the file as it would be written against the untouched original, once more.

    This is the "wrong outputs" figure: it checks the spliced whole module, not
    the candidate the pipeline accepted, with twice the examples.
    """
    if report.new_text is None:
        return None
    module_name, root = module_location(path)
    candidate = Candidate(
        function=function,
        lineno=0,
        rules=("RECHECK",),
        origin="pass",
        original_code=report.original_text,
        module_code=report.new_text,
        module_name=module_name,
        project_root=root,
    )
    stricter = Config(
        verify=VerifyConfig(max_examples=config.verify.max_examples * 2), timing=config.timing
    )
    return verify(candidate, stricter)


def optimize_result(path: Path, function: CorpusFunction, config: Config) -> dict[str, Any]:
    report = optimize_file(path, config, functions=(function.name,))
    outcomes = [o for o in report.outcomes if o.candidate.function == function.name]
    accepted = next((o for o in outcomes if o.accepted), None)
    shown: Outcome | None = accepted or (outcomes[-1] if outcomes else None)
    second_look = recheck(path, report, function.name, config) if accepted else None
    verdict = "accepted" if accepted else ("rejected" if outcomes else "no candidate")
    if report.error:
        verdict = "error"
    sizes = timing_json(shown.timing) if shown else []
    return {
        "verdict": verdict,
        "reason": report.error or (shown.reason if shown else "no pass applies"),
        "rules": list(shown.candidate.rules) if shown else [],
        "candidates": len(outcomes),
        "examples": shown.verdict.examples if shown else 0,
        "verification": shown.verdict.status if shown else None,
        "sizes": sizes,
        "speedup": (headline_of(sizes) or {}).get("ratio") if accepted else 1.0,
        "recheck": second_look.status if second_look else None,
        "wrong_output": bool(second_look and second_look.status == "counterexample"),
        "stage_times": {stage: report.stage_times.get(stage, 0.0) for stage in STAGES},
    }


def ruff_result(
    original_path: Path,
    fixed_path: Path,
    function: CorpusFunction,
    config: Config,
    rules: list[str],
) -> dict[str, Any]:
    before = ruff_baseline.function_sources(original_path.read_text(encoding="utf-8"))
    after = ruff_baseline.function_sources(fixed_path.read_text(encoding="utf-8"))
    if before.get(function.name, ("",))[0] == after.get(function.name, ("",))[0]:
        return {
            "changed": False,
            "rules": rules,
            "verification": None,
            "examples": 0,
            "equal": None,
            "wrong_output": False,
            "sizes": [],
            "speedup": 1.0,
            "detail": "Ruff left the function unchanged",
        }
    module_name, root = module_location(original_path)
    candidate = Candidate(
        function=function.name,
        lineno=before[function.name][1],
        rules=(ruff_baseline.RUFF_LABEL,),
        origin="pass",
        original_code=original_path.read_text(encoding="utf-8"),
        module_code=fixed_path.read_text(encoding="utf-8"),
        module_name=module_name,
        project_root=root,
    )
    verdict = verify(candidate, config)
    timing = measure(
        candidate, config, inputs_for(candidate, config), copy_args=verdict.mutates_arguments
    )
    sizes = timing_json(timing)
    return {
        "changed": True,
        "rules": rules,
        "verification": verdict.status,
        "examples": verdict.examples,
        "equal": verdict.status == "equivalent",
        "wrong_output": verdict.status == "counterexample",
        "counterexample": verdict.counterexample.__dict__ if verdict.counterexample else None,
        "sizes": sizes,
        "speedup": (headline_of(sizes) or {}).get("ratio"),
        "detail": verdict.detail or timing.detail,
    }


# --------------------------------------------------------------------------- whole run


def run(
    settings: Settings, only: Iterable[tuple[str, str]] | None = None, log: Log = print
) -> dict[str, Any]:
    functions = corpus_functions(QUICK_FUNCTIONS if settings.quick and only is None else only)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="optimize-bench-") as scratch:
        optimize_copy = copy_corpus(Path(scratch) / "optimize")
        original_copy = copy_corpus(Path(scratch) / "original")
        ruff_copy = copy_corpus(Path(scratch) / "ruff")
        ruff_rules = ruff_baseline.apply_ruff(ruff_copy)
        rows = []
        for index, function in enumerate(functions, 1):
            log(f"[{index}/{len(functions)}] {function.module}.{function.name}")
            config = settings.config(function.sizes)
            file_name = f"{function.module}.py"
            span = ruff_baseline.function_sources(
                (original_copy / file_name).read_text(encoding="utf-8")
            )[function.name]
            rules = ruff_baseline.rules_in_function(ruff_rules, file_name, span[1], span[2])
            rows.append(
                {
                    "module": function.module,
                    "function": function.name,
                    "category": function.category,
                    "idiom": function.idiom,
                    "sizes": list(config.timing.sizes),
                    "optimize": optimize_result(optimize_copy / file_name, function, config),
                    "ruff": ruff_result(
                        original_copy / file_name, ruff_copy / file_name, function, config, rules
                    ),
                }
            )
    return {
        "schema": SCHEMA_VERSION,
        "environment": environment(),
        "settings": {**settings.__dict__, "ruff_rules": ruff_baseline.RUFF_RULES},
        "wall_seconds": time.perf_counter() - started,
        "headline": headline(rows),
        "functions": rows,
    }


def environment() -> dict[str, Any]:
    return {
        "machine": platform.machine(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "python": python_version(),
        "git_commit": git_commit(),
        "ruff": ruff_baseline.ruff_version(),
        "sandbox": best_isolation(),
        "ci": os.environ.get("CI", "").lower() == "true",
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
    }


def git_commit() -> str:
    done = subprocess.run(
        ["git", "-C", str(REPO_ROOT), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout.strip() or "unknown"


def geometric_mean(values: Iterable[float]) -> float:
    logs = [math.log(v) for v in values if v and v > 0]
    return math.exp(sum(logs) / len(logs)) if logs else 1.0


def headline(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The figures the README quotes; unchanged functions count as 1.0x."""
    optimize = [r["optimize"] for r in rows]
    ruff = [r["ruff"] for r in rows]
    traps = [r for r in rows if r["category"] == "trap"]
    return {
        "functions": len(rows),
        "optimize_geomean": geometric_mean(o["speedup"] or 1.0 for o in optimize),
        "ruff_geomean": geometric_mean(r["speedup"] or 1.0 for r in ruff),
        "optimize_improved": sum(
            1 for o in optimize if o["verdict"] == "accepted" and o["speedup"] >= IMPROVED_AT
        ),
        "ruff_improved": sum(1 for r in ruff if r["equal"] and (r["speedup"] or 0) >= IMPROVED_AT),
        "optimize_wrong_outputs": sum(1 for o in optimize if o["wrong_output"]),
        "ruff_wrong_outputs": sum(1 for r in ruff if r["wrong_output"]),
        "ruff_changed": sum(1 for r in ruff if r["changed"]),
        "optimize_accepted": sum(1 for o in optimize if o["verdict"] == "accepted"),
        "traps": len(traps),
        "traps_left_alone": sum(1 for r in traps if r["optimize"]["verdict"] != "accepted"),
        "ruff_traps_left_alone": sum(1 for r in traps if not r["ruff"]["changed"]),
    }


COMPARED = (
    ("optimize_geomean", "optimize geo-mean speedup"),
    ("ruff_geomean", "Ruff geo-mean speedup"),
    ("optimize_improved", "optimize improved >=1.1x"),
    ("ruff_improved", "Ruff improved >=1.1x"),
    ("optimize_wrong_outputs", "optimize wrong outputs"),
    ("ruff_wrong_outputs", "Ruff wrong outputs"),
    ("traps_left_alone", "traps left alone"),
)


def compare(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Human-readable deltas between two saved runs: headline first, then per function."""
    lines = [f"comparing {old['environment']['git_commit']} -> {new['environment']['git_commit']}"]
    for key, label in COMPARED:
        before, after = old["headline"].get(key), new["headline"].get(key)
        if isinstance(before, float) or isinstance(after, float):
            lines.append(
                f"  {label}: {before or 0:.2f} -> {after or 0:.2f}"
                f" ({(after or 0) - (before or 0):+.2f})"
            )
        else:
            lines.append(f"  {label}: {before} -> {after} ({(after or 0) - (before or 0):+d})")
    previous = {(r["module"], r["function"]): r for r in old["functions"]}
    for row in new["functions"]:
        earlier = previous.get((row["module"], row["function"]))
        if earlier is None:
            lines.append(f"  new: {row['module']}.{row['function']}")
            continue
        a, b = earlier["optimize"], row["optimize"]
        if a["verdict"] != b["verdict"] or abs((a["speedup"] or 1) - (b["speedup"] or 1)) > 0.1:
            lines.append(
                f"  {row['module']}.{row['function']}: {a['verdict']} {a['speedup'] or 1:.2f}x"
                f" -> {b['verdict']} {b['speedup'] or 1:.2f}x"
            )
    return lines
