"""Running the user's own pytest files on a copy of their project, test by test."""

from __future__ import annotations

import os
import sys
from typing import Any

from .protocol import ProjectTestsRequest, ProjectTestsResult, Status


def run_project_tests(request: ProjectTestsRequest) -> ProjectTestsResult:
    try:
        import pytest
    except ImportError:
        return ProjectTestsResult(Status.UNSUPPORTED, detail="pytest is not installed")
    root = os.path.abspath(request.root)
    os.chdir(root)
    sys.path.insert(0, root)
    outcomes: dict[str, str] = {}

    class Recorder:
        def pytest_runtest_logreport(self, report: Any) -> None:
            if report.failed or report.when == "call":
                outcomes.setdefault(report.nodeid, report.outcome)
                if report.failed:
                    outcomes[report.nodeid] = "failed"

        def pytest_collectreport(self, report: Any) -> None:
            if report.failed:
                outcomes[report.nodeid or "collection"] = "failed"

    arguments = [*request.tests, "-q", "-p", "no:cacheprovider", "--rootdir", root]
    code = pytest.main(arguments, plugins=[Recorder()])
    return ProjectTestsResult(Status.OK, exit_code=int(code), outcomes=outcomes)
