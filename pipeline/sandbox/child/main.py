"""The child's dispatcher: read the request, do the job, write one result message.

argv: request file, result fd, and for a timing worker the command fd. Results
go to a pipe the parent made; whatever user code prints goes elsewhere.
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Any

from .loading import ImportFailure, UserCodeError, extend_sys_path
from .protocol import (
    CPU_LIMIT_EXIT,
    PrepareRequest,
    PrepareResult,
    ProjectTestsRequest,
    ProjectTestsResult,
    RecordRequest,
    RecordResult,
    ReplayRequest,
    ReplayResult,
    Request,
    SearchRequest,
    SearchResult,
    Status,
    TimeRequest,
    TimingReply,
    decode_request,
)
from .wire import write_message


def main(argv: list[str]) -> None:
    # As PID 1 of a PID namespace the child would ignore SIGXCPU without a handler.
    signal.signal(signal.SIGXCPU, _on_cpu_limit)
    with open(argv[1], "rb") as handle:
        request = decode_request(handle.read())
    result_fd = int(argv[2])
    extend_sys_path(request.sys_path)
    if isinstance(request, TimeRequest):
        _serve_timing(request, int(argv[3]), result_fd)
        return
    try:
        result = _dispatch(request)
    except UserCodeError as error:
        result = _failure(request, error)
    write_message(result_fd, result)


def _on_cpu_limit(signum: int, frame: Any) -> None:
    os._exit(CPU_LIMIT_EXIT)


def _dispatch(request: Request) -> Any:
    from . import project_tests, verify

    if isinstance(request, SearchRequest):
        return verify.search(request)
    if isinstance(request, RecordRequest):
        return verify.record(request)
    if isinstance(request, ReplayRequest):
        return verify.replay(request)
    if isinstance(request, ProjectTestsRequest):
        return project_tests.run_project_tests(request)
    if isinstance(request, PrepareRequest):
        return _prepare_hypothesis()
    raise UserCodeError(f"unknown request {type(request).__name__}")


_RESULTS: dict[type[Any], type[Any]] = {
    SearchRequest: SearchResult, RecordRequest: RecordResult, ReplayRequest: ReplayResult,
    ProjectTestsRequest: ProjectTestsResult, PrepareRequest: PrepareResult,
}  # fmt: skip


def _failure(request: Request, error: UserCodeError) -> Any:
    kind = _RESULTS[type(request)]
    if not isinstance(error, ImportFailure):
        return kind(Status.USER_CODE_ERROR, detail=str(error))
    if kind in (RecordResult, ReplayResult):
        return kind(Status.IMPORT_FAILED, detail=str(error), missing_module=error.missing)
    return kind(Status.IMPORT_FAILED, detail=str(error))


def _serve_timing(request: TimeRequest, commands: int, replies: int) -> None:
    from . import timing

    try:
        timing.serve(request, commands, replies)
    except UserCodeError as error:
        write_message(replies, TimingReply(False, detail=str(error)))


def _prepare_hypothesis() -> PrepareResult:
    """Make Hypothesis build its Unicode tables (no user code runs), for the parent to reuse."""
    from hypothesis import find, settings
    from hypothesis import strategies as st

    for text in (st.text(), st.text(st.characters(codec="utf-8")), st.from_type(str)):
        find(text, lambda value: True, settings=settings(database=None))
    return PrepareResult(Status.OK)


if __name__ == "__main__":  # pragma: no cover - the child starts from bootstrap.py
    main(sys.argv)
