"""The typed messages between the parent and the sandboxed child, shared by both sides.

Stdlib only. The parent imports this module as `pipeline.sandbox.child.protocol`;
the child loads its package by path under the name `_optimize_child` and never
imports `pipeline` (a user's project may own that name). Every message is a
frozen dataclass; it crosses the process boundary as one JSON object made by
`to_json` and is read back by `from_json`, which checks each field against the
dataclass's type hints, so a malformed or forged message fails loudly instead
of being half-read (`wire` holds that machinery). Settings and limits are
defined here once, with their defaults, and `pipeline.config` reads
`[tool.optimize]` into these very classes.
"""

from __future__ import annotations

import json
import typing
from dataclasses import dataclass, field
from typing import Any, ClassVar

from .wire import ProtocolError, TextEnum, from_json, json_object, to_json

CPU_LIMIT_EXIT = 86  # the child's exit code when RLIMIT_CPU's SIGXCPU arrives
# How an unverifiable verdict begins when a method had no instance (reports count these).
NEEDS_INSTANCE = "a method needs an instance"

JsonValue = Any


# --------------------------------------------------------------------------- settings


@dataclass(frozen=True)
class Limits:
    """Resource limits of one sandboxed child (`[tool.optimize.limits]`)."""

    cpu_seconds: int = 120
    memory_bytes: int = 4 << 30
    file_bytes: int = 64 << 20
    open_files: int = 256
    processes: int = 256
    wall_seconds: float = 180.0


@dataclass(frozen=True)
class VerifySettings:
    """`[tool.optimize.verify]`."""

    max_examples: int = 200
    example_timeout: float = 2.0
    float_tolerance: float = 0.0
    run_project_tests: bool = True
    project_tests_timeout: float = 120.0
    # Shrinking a slow counterexample can take minutes; past this, keep the smallest so far.
    shrink_seconds: float = 10.0
    # Generation stops here with the examples run so far, instead of dying at the CPU limit.
    budget_seconds: float = 30.0


@dataclass(frozen=True)
class TimingSettings:
    """`[tool.optimize.timing]`."""

    sizes: tuple[int, ...] = (10, 1_000, 10_000)
    sample_seconds: float = 0.05
    pairs: int = 5
    workers: int = 2
    call_budget: float = 1.0
    # A loss at a smaller size is forgiven when it costs less than this per call.
    small_size_tolerance: float = 1e-6
    # Grow inputs from the smallest size to the largest while a call stays in budget;
    # false: time exactly the configured sizes (say, for a hook whose n is an index).
    adaptive: bool = True


# --------------------------------------------------------------------------- requests


class Mode(TextEnum):
    PREPARE = "prepare"  # build Hypothesis's Unicode tables; runs no user code
    SEARCH = "search"  # original and candidate in one process: find and shrink a difference
    RECORD = "record"  # the original alone: generate inputs, observe, ship the inputs
    REPLAY = "replay"  # one function alone, on shipped inputs: observe
    TIME = "time"  # one function alone: a timing worker driven by the parent
    PROJECT_TESTS = "project_tests"


@dataclass(frozen=True)
class Target:
    """One function of one module file, loaded under a private module name.

    A method is called as its class's plain function, so a recorded call's first
    argument is `self`; a classmethod is called bound to its class, and a
    staticmethod as the function it wraps.
    """

    path: str  # the module file, relative to the child's working dir (its scratch dir)
    module: str  # the private name it is loaded under
    qualname: str  # "parse", "Cart.total", "Outer.Inner.method"
    aliases: tuple[str, ...] = ()  # real module names resolving to it (pickles in traces)
    self_unused: bool = False  # a method that never reads `self` may get any object


@dataclass(frozen=True)
class Domain:
    """An input domain for one parameter: plain data (see the child's strategies), never code."""

    spec: dict[str, JsonValue]
    source: str


@dataclass(frozen=True)
class LiteralCall:
    """A literal call found statically (doctest, call site), in tagged JSON."""

    args: tuple[JsonValue, ...]
    kwargs: dict[str, JsonValue]
    source: str


@dataclass(frozen=True)
class Inputs:
    """Where a function's inputs come from, by precedence: configured domains, hints,
    domains inferred from literals or recorded calls, defaults."""

    domains: dict[str, Domain] = field(default_factory=dict)
    inferred: dict[str, Domain] = field(default_factory=dict)
    literal_calls: tuple[LiteralCall, ...] = ()
    recorded_calls: tuple[bytes, ...] = ()  # pickles of (args, kwargs); unpickled only here


@dataclass(frozen=True)
class SearchRequest:
    MODE: ClassVar[Mode] = Mode.SEARCH
    original: Target
    candidate: Target
    settings: VerifySettings
    inputs: Inputs
    sys_path: tuple[str, ...] = ()


@dataclass(frozen=True)
class RecordRequest:
    MODE: ClassVar[Mode] = Mode.RECORD
    target: Target
    settings: VerifySettings
    inputs: Inputs
    sys_path: tuple[str, ...] = ()


@dataclass(frozen=True)
class ReplayRequest:
    MODE: ClassVar[Mode] = Mode.REPLAY
    target: Target
    settings: VerifySettings
    calls: tuple[bytes, ...]  # the recorder's pickles of (args, kwargs)
    sys_path: tuple[str, ...] = ()


@dataclass(frozen=True)
class TimeRequest:
    MODE: ClassVar[Mode] = Mode.TIME
    target: Target
    settings: TimingSettings
    inputs: Inputs
    sys_path: tuple[str, ...] = ()


@dataclass(frozen=True)
class ProjectTestsRequest:
    MODE: ClassVar[Mode] = Mode.PROJECT_TESTS
    root: str
    tests: tuple[str, ...]
    sys_path: tuple[str, ...] = ()


@dataclass(frozen=True)
class PrepareRequest:
    MODE: ClassVar[Mode] = Mode.PREPARE
    sys_path: tuple[str, ...] = ()


Request = (
    SearchRequest | RecordRequest | ReplayRequest | TimeRequest | ProjectTestsRequest
    | PrepareRequest
)  # fmt: skip
_REQUEST_KINDS = (
    SearchRequest, RecordRequest, ReplayRequest, TimeRequest, ProjectTestsRequest, PrepareRequest
)  # fmt: skip
REQUESTS: dict[Mode, type[Any]] = {kind.MODE: kind for kind in _REQUEST_KINDS}


def encode_request(request: Request) -> bytes:
    return json.dumps({"mode": request.MODE.value, "body": to_json(request)}).encode("utf-8")


def decode_request(data: bytes) -> Request:
    envelope = json_object(data)
    try:
        kind = REQUESTS[Mode(envelope.get("mode"))]
    except (ValueError, KeyError):
        raise ProtocolError(f"unknown mode {envelope.get('mode')!r}") from None
    return typing.cast(Request, from_json(kind, envelope.get("body")))


# --------------------------------------------------------------------------- results


class Status(TextEnum):
    """How a child's job ended: `IMPORT_FAILED`, the module could not be imported (its
    package, or a module it imports, included); `USER_CODE_ERROR`, the function could not
    be found in it."""

    OK = "ok"
    USER_CODE_ERROR = "user_code_error"
    IMPORT_FAILED = "import_failed"
    UNSUPPORTED = "unsupported"  # e.g. no strategy for a parameter: why is in `detail`


class CallKind(TextEnum):
    RETURN = "return"
    RAISE = "raise"
    TIMEOUT = "timeout"


@dataclass(frozen=True)
class Stream:
    """What a call wrote to stdout or stderr: a digest, its length, a bounded prefix."""

    sha256: str = ""
    length: int = 0
    prefix: str = ""


@dataclass(frozen=True)
class Observation:
    """Everything observable about one call, as canonical data (see `encoding`).

    `value` is the encoded return value, or the exception's encoded args when
    `kind` is RAISE (its type name in `exception`). `arguments` is the encoded
    (args, kwargs) after the call, so mutation shows; `aliases` names the parts
    of the result that are the caller's own argument objects. `shown` is a
    short human description, for reports only: never compared.
    """

    kind: CallKind
    value: JsonValue = None
    exception: str = ""
    arguments: JsonValue = None
    aliases: tuple[tuple[str, str], ...] = ()
    stdout: Stream = field(default_factory=Stream)
    stderr: Stream = field(default_factory=Stream)
    shown: tuple[str, ...] = ()
    shown_arguments: str = ""


@dataclass(frozen=True)
class RecordedExample:
    call: bytes  # pickle of (args, kwargs) as generated, before the call
    shown: str  # the call's arguments, for reports
    observation: Observation
    mutated: bool  # the original changed its arguments on this input
    origin: str = "generated"  # "recorded" (a traced call), "literal" or "generated"


@dataclass(frozen=True)
class RecordResult:
    status: Status
    detail: str = ""
    examples: tuple[RecordedExample, ...] = ()
    sources: tuple[str, ...] = ()
    skipped_slow: int = 0  # inputs on which the original timed out or ran out of stack
    skipped_unpicklable: int = 0  # inputs that cannot be shipped to another process
    budget_exhausted: bool = False
    nondeterministic: str = ""  # an input on which the original disagreed with itself
    missing_module: str = ""  # IMPORT_FAILED: the module Python could not find, if that was it


@dataclass(frozen=True)
class ReplayResult:
    status: Status
    detail: str = ""
    observations: tuple[Observation, ...] = ()
    missing_module: str = ""  # IMPORT_FAILED: the module Python could not find, if that was it


@dataclass(frozen=True)
class Counterexample:
    arguments: str
    original: str
    candidate: str
    reason: str


# Why a candidate cannot be verified when its original does not repeat itself.
NONDETERMINISTIC = "nondeterministic: the original, run twice on the same input, differs"


class SearchVerdict(TextEnum):
    NO_DIFFERENCE = "no_difference"  # says nothing for acceptance: the candidate ran here
    DIFFERENCE = "difference"
    NONDETERMINISTIC = "nondeterministic"
    UNVERIFIABLE = "unverifiable"


@dataclass(frozen=True)
class SearchResult:
    status: Status
    verdict: SearchVerdict = SearchVerdict.UNVERIFIABLE
    detail: str = ""
    examples: int = 0
    counterexample: Counterexample | None = None
    sources: tuple[str, ...] = ()


@dataclass(frozen=True)
class ProjectTestsResult:
    status: Status
    detail: str = ""
    exit_code: int = 0
    outcomes: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PrepareResult:
    status: Status
    detail: str = ""


# --------------------------------------------------------------------------- timing dialogue


class Command(TextEnum):
    """What the parent asks a timing worker, one at a time."""

    BUILD = "build"  # make inputs (the original's worker only); reply with their pickle
    LOAD = "load"  # take the original worker's pickle of inputs as its own
    PREPARE = "prepare"  # make `loops` fresh copies of the inputs, if the function mutates them
    RUN = "run"  # run the prepared loops; the parent's clocks time this
    STOP = "stop"


@dataclass(frozen=True)
class TimingCommand:
    """BUILD makes inputs of `size` from the hook, hints or domains; or recorded call
    `recorded` made `scale` times longer; or literal call `literal`."""

    command: Command
    size: int = 0
    recorded: int = -1
    scale: int = 1
    literal: int = -1
    loops: int = 1
    copy_args: bool = False
    limit: float = 0.0  # RUN: give up after this many seconds (0: the worker's default)
    blob: bytes = b""  # LOAD: the original worker's pickle of the inputs


@dataclass(frozen=True)
class TimingReply:
    ok: bool
    detail: str = ""  # why not ok; on the first reply, "hook" when OPTIMIZE_INPUTS applies
    blob: bytes = b""  # BUILD: pickle of the inputs
    sizes: tuple[int, ...] = ()  # first reply: recorded calls' sizes; BUILD: the inputs' size
    digest: str = ""  # RUN: the last call's encoded result, to catch a sham run
