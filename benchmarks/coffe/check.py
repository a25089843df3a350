"""Step 3: run a task's correctness tests on its modules, in the sandbox, with pytest.

The canonical module, the module `optimize --write` left behind and the best
known solution are each checked against COFFE's expected outputs, and the
written one also against the canonical solution, call by call (see
`task_tests.py`). A written module that fails a test the canonical passes, or
behaves differently from it anywhere, is a *wrong output*.
"""

from __future__ import annotations

import dataclasses
import json
import re
from dataclasses import dataclass
from pathlib import Path

from benchmarks.coffe.data import BEST_KNOWN_FUNCTION, Task
from pipeline.sandbox.child.protocol import Limits, ProjectTestsRequest, ProjectTestsResult, Status
from pipeline.sandbox.runner import run_job

TEST_FILE = "test_coffe_task.py"
TESTS_SOURCE = Path(__file__).with_name("task_tests.py")
CHECK_SECONDS = 120
NODE = re.compile(r"::(test_\w+)\[(\w+)-(\d+)\]$")


@dataclass(frozen=True)
class RoleResult:
    """One module's tests: which cases failed what, and whether it mutates its arguments."""

    failed_expected: tuple[int, ...] = ()
    differs_from_canonical: tuple[int, ...] = ()
    mutates_arguments: bool = False


@dataclass(frozen=True)
class CheckResult:
    ran: bool
    roles: dict[str, RoleResult]
    problem: str = ""  # why the tests did not run

    def wrong_cases(self) -> tuple[int, ...]:
        """Cases where the written module fails a test the canonical passes, or differs from it."""
        if "written" not in self.roles:
            return ()
        written, canonical = self.roles["written"], self.roles["canonical"]
        regressions = set(written.failed_expected) - set(canonical.failed_expected)
        return tuple(sorted(regressions | set(written.differs_from_canonical)))

    @property
    def mutates_arguments(self) -> bool:
        return any(role.mutates_arguments for role in self.roles.values())


def check_task(
    task: Task, written_text: str | None, best_known: str | None, limits: Limits
) -> CheckResult:
    """Run the task's tests on the canonical module, and on the written and best known ones."""
    modules, functions = {"canonical": task.module_text}, {"canonical": task.entry_point}
    if written_text is not None:
        modules["written"], functions["written"] = written_text, task.entry_point
    if best_known is not None:
        modules["best_known"], functions["best_known"] = best_known, BEST_KNOWN_FUNCTION
    cases = [{"arguments": c.arguments, "expected": c.expected} for c in task.tests]
    sources = {f"project/{role}.py": text for role, text in modules.items()}
    sources["project/cases.json"] = json.dumps({"functions": functions, "cases": cases})
    sources[f"project/{TEST_FILE}"] = TESTS_SOURCE.read_text(encoding="utf-8")
    request = ProjectTestsRequest(root="project", tests=(TEST_FILE,), sys_path=("project",))
    bounded = dataclasses.replace(limits, wall_seconds=CHECK_SECONDS, cpu_seconds=CHECK_SECONDS)
    job = run_job(request, sources, bounded, ProjectTestsResult)
    if job.result is None:
        return CheckResult(False, {}, job.reason)
    if job.result.status != Status.OK:
        return CheckResult(False, {}, job.result.detail or "the test runner failed")
    outcomes = dict(job.result.outcomes)
    return _results(outcomes, list(modules), len(cases))


def _results(outcomes: dict[str, str], roles: list[str], cases: int) -> CheckResult:
    expected_nodes = cases * (3 * len(roles) - 1)  # two tests per role, one more per non-canonical
    ran = sum(1 for node in outcomes if NODE.search(node))
    if ran != expected_nodes:
        return CheckResult(False, {}, f"{ran} of {expected_nodes} tests ran")
    failed: dict[str, dict[str, set[int]]] = {role: {} for role in roles}
    for node, outcome in outcomes.items():
        match = NODE.search(node)
        if match is None:  # a collection error: nothing about any role can be trusted
            if outcome == "failed":
                return CheckResult(False, {}, f"the tests could not run: {node} failed")
            continue
        test, role, case = match.group(1), match.group(2), int(match.group(3))
        if outcome == "failed" and role in failed:
            failed[role].setdefault(test, set()).add(int(case))
    return CheckResult(
        True,
        {
            role: RoleResult(
                failed_expected=tuple(sorted(tests.get("test_matches_expected", ()))),
                differs_from_canonical=tuple(sorted(tests.get("test_same_as_canonical", ()))),
                mutates_arguments=bool(tests.get("test_keeps_arguments")),
            )
            for role, tests in failed.items()
        },
    )
