"""Reading the COFFE function-level data into tasks: module text, tests, stress inputs, best known.

The four JSON files are keyed by each task's `final_prompt`. Nothing here is
evaluated: stress inputs stay source text (checked to be one list display) and
run only inside the sandboxed timing child, as code of the timing module.
"""

from __future__ import annotations

import ast
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
DATA_BESIDE_REPO = Path("shared", "benchmarks", "coffe")
DATA_FILES = ("data.json", "testcases.json", "stressful_testcases.json", "best_solutions.json")
BEST_KNOWN_FUNCTION = "solution"

# The --quick subset, fixed so that CI runs compare. Untraced, it covers every verdict of
# the full run: typed functions a pass rewrites that are verified and timed (HumanEval/14,
# 36, 58), untyped ones verified through their doctests but not timed (104, 108) or not
# verified at all (67, 149, MBPP/18, 20, 74, 229, 249, 447, 453), one where Hypothesis
# runs too few examples (34), and functions no pass applies to. Traced, some are written.
QUICK_TASKS = (
    "HumanEval/0",
    "HumanEval/5",
    "HumanEval/14",
    "HumanEval/34",
    "HumanEval/36",
    "HumanEval/58",
    "HumanEval/67",
    "HumanEval/104",
    "HumanEval/108",
    "HumanEval/113",
    "HumanEval/149",
    "MBPP/17",
    "MBPP/18",
    "MBPP/20",
    "MBPP/74",
    "MBPP/229",
    "MBPP/249",
    "MBPP/312",
    "MBPP/447",
    "MBPP/453",
)


class DataError(ValueError):
    """The data directory is missing, unreadable or not COFFE's function-level data."""


@dataclass(frozen=True)
class TestCase:
    """One correctness test: the positional arguments and the expected return value (JSON)."""

    arguments: list[Any]
    expected: Any


@dataclass(frozen=True)
class Task:
    task_id: str  # "HumanEval/113" or "MBPP/312"
    entry_point: str
    module_text: str  # the canonical solution with its prompt and imports
    tests: tuple[TestCase, ...]
    stress_inputs: tuple[str, ...]  # source of one list display each: the argument list
    best_known: str  # the fastest known solution, a module whose function is `solution`

    @property
    def best_known_is_canonical(self) -> bool:
        """The best known solution is the canonical one, up to its name and docstrings."""
        return code_shape(self.best_known, BEST_KNOWN_FUNCTION, self.entry_point) == code_shape(
            self.module_text, self.entry_point, self.entry_point
        )

    @property
    def module_stem(self) -> str:
        """A module name for the task: `humaneval_113`, `mbpp_312`."""
        dataset, _, number = self.task_id.partition("/")
        return f"{dataset.lower()}_{number}"


def default_data_dir() -> Path:
    """`../shared/benchmarks/coffe` beside the checkout (or beside a parent of a git worktree)."""
    for parent in REPO_ROOT.parents:
        if (parent / DATA_BESIDE_REPO / DATA_FILES[0]).is_file():
            return parent / DATA_BESIDE_REPO
    return REPO_ROOT.parent / DATA_BESIDE_REPO


def load_tasks(directory: Path, only: tuple[str, ...] = ()) -> list[Task]:
    """Every task in the data (or the ones named in `only`, in that order)."""
    raw = [_read(directory / name) for name in DATA_FILES]
    entries, tests, stress, best = raw
    if not isinstance(entries, list) or not all(isinstance(x, dict) for x in raw[1:]):
        raise DataError(f"{directory} does not hold COFFE's function-level data")
    try:
        tasks = {task.task_id: task for task in (_task(e, tests, stress, best) for e in entries)}
    except (KeyError, TypeError, IndexError, SyntaxError) as error:
        raise DataError(f"{directory}: malformed task data: {error!r}") from error
    missing = [task_id for task_id in only if task_id not in tasks]
    if missing:
        raise DataError(f"no such task(s) in {directory}: {', '.join(missing)}")
    return [tasks[task_id] for task_id in only] if only else list(tasks.values())


def _read(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise DataError(f"cannot read {path}: {error}") from error


def _task(
    entry: dict[str, Any],
    tests: dict[str, Any],
    stress: dict[str, Any],
    best: dict[str, Any],
) -> Task:
    key = entry["final_prompt"]
    humaneval = entry["dataset"] == "openai_humaneval"
    return Task(
        task_id=str(entry["task_id"]) if humaneval else f"MBPP/{entry['task_id']}",
        entry_point=entry["entry_point"],
        module_text=_humaneval_module(entry) if humaneval else _mbpp_module(entry),
        tests=tuple(TestCase(list(case["input"]), case["output"][0]) for case in tests[key]),
        stress_inputs=tuple(argument_list_source(case["input"]) for case in stress[key]),
        best_known=str(best[key][0]),
    )


def _humaneval_module(entry: dict[str, Any]) -> str:
    """The prompt (imports, signature, docstring with its doctests) followed by the body."""
    return str(entry["prompt"]).lstrip("\n") + str(entry["canonical_solution"]).rstrip() + "\n"


def _mbpp_module(entry: dict[str, Any]) -> str:
    """The task's sentence as the module docstring, then the code (with its own imports)."""
    docstring = str(entry["prompt"]).strip().replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    return f'"""{docstring}"""\n\n' + str(entry["code"]).replace("\r\n", "\n").rstrip() + "\n"


def argument_list_source(text: str) -> str:
    """`text` re-printed from its AST after checking it is one list display (never evaluated).

    Re-printing means the timing module receives exactly one expression, whatever the text.
    """
    tree = ast.parse(text, mode="eval")
    if not isinstance(tree.body, ast.List):
        raise SyntaxError(f"a stress input is not an argument list: {text[:60]!r}")
    return ast.unparse(tree.body)


def code_shape(source: str, name: str, renamed: str) -> str:
    """The module's AST without docstrings, `name` renamed to `renamed`: equal shapes run alike."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id == name:
            node.id = renamed
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == name:
            node.name = renamed
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and _is_docstring(body[0]):
            del body[0]
    return ast.dump(tree)


def _is_docstring(statement: ast.stmt) -> bool:
    return (
        isinstance(statement, ast.Expr)
        and isinstance(statement.value, ast.Constant)
        and isinstance(statement.value.value, str)
    )
