# ruff: noqa
"""Log parsing: access logs, application logs, logfmt lines and click streams."""

import random
import re
from typing import Callable

_PATHS: tuple[str, ...] = (
    "/", "/login", "/logout", "/api/users", "/api/orders", "/api/orders/export",
    "/static/app.js", "/static/site.css", "/health", "/search", "/cart", "/checkout",
)
_USERS: tuple[str, ...] = ("alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi")
_LEVELS: tuple[str, ...] = ("DEBUG", "INFO", "INFO", "INFO", "WARNING", "ERROR", "CRITICAL")


def _access_lines(n: int, seed: int, n_ips: int) -> list[str]:
    rng = random.Random(seed)
    lines = []
    for i in range(n):
        ip = f"10.{rng.randint(0, 3)}.{rng.randint(0, 255)}.{rng.randint(1, n_ips)}"
        method = rng.choice(["GET", "GET", "GET", "POST", "PUT", "DELETE"])
        status = rng.choice([200, 200, 200, 200, 201, 204, 301, 304, 400, 401, 403, 404, 500, 503])
        size = rng.randint(0, 50_000)
        secs = rng.randint(1, 5_000) / 1000
        lines.append(
            f'{ip} - - [10/Oct/2023:13:{i // 60 % 60:02d}:{i % 60:02d} +0000] '
            f'"{method} {rng.choice(_PATHS)} HTTP/1.1" {status} {size} {secs}'
        )
    return lines


def status_counts(lines: list[str]) -> dict[int, int]:
    """Count the HTTP status codes that occur in access-log lines."""
    counts: dict[int, int] = {}
    for line in lines:
        match = re.compile(r'" (\d{3}) ').search(line)
        if match is None:
            continue
        code = int(match.group(1))
        if code in counts.keys():
            counts[code] = counts[code] + 1
        else:
            counts[code] = 1
    return counts


def _inputs_status_counts(n: int) -> tuple[object, ...]:
    return (_access_lines(n, n, 200),)


def unique_client_ips(lines: list[str]) -> list[str]:
    """List the client IP addresses of access-log lines in order of first appearance."""
    seen = []
    for line in lines:
        ip = line.split(" ")[0]
        if ip not in seen:
            seen.append(ip)
    return seen


def _inputs_unique_client_ips(n: int) -> tuple[object, ...]:
    return (_access_lines(n, n + 1, 250),)


def filter_by_level(lines: list[str], levels: list[str]) -> list[str]:
    """Keep application-log lines such as '[ERROR] ts msg' whose level is in levels."""
    kept = []
    for line in lines:
        level = line.split("]")[0].lstrip("[")
        if level in levels:
            kept.append(line)
    return kept


def _app_lines(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    msgs = ["user logged in", "cache miss", "db timeout", "payment declined", "retrying job",
            "disk usage high", "request finished", "config reloaded"]
    return [
        f"[{rng.choice(_LEVELS)}] 2023-10-{1 + i % 28:02d}T{i % 24:02d}:{i % 60:02d}:00 "
        f"{rng.choice(msgs)} user={rng.choice(_USERS)}"
        for i in range(n)
    ]


def _inputs_filter_by_level(n: int) -> tuple[object, ...]:
    return (_app_lines(n, n + 2), ["WARNING", "ERROR", "CRITICAL"])


def error_summary(lines: list[str]) -> str:
    """Build a numbered plain-text summary of the ERROR lines in an application log."""
    summary = ""
    count = 0
    for line in lines:
        if not line.startswith("[ERROR]"):
            continue
        count += 1
        summary += str(count) + ". " + line.split("] ", 1)[1] + "\n"
    summary += "total errors: " + str(count)
    return summary


def _inputs_error_summary(n: int) -> tuple[object, ...]:
    return (_app_lines(n, n + 3),)


def slowest_requests(lines: list[str], k: int) -> list[tuple[str, float]]:
    """Return the k slowest (path, seconds) requests of an access log, slowest first."""
    top: list[tuple[str, float]] = []
    for line in lines:
        parts = line.split()
        path = parts[6]
        seconds = float(parts[-1])
        top.append((path, seconds))
        top = sorted(top, key=lambda item: item[1], reverse=True)[:k]
    return top


def _inputs_slowest_requests(n: int) -> tuple[object, ...]:
    return (_access_lines(n, n + 4, 100), 25)


def sessionize(events: list[tuple[int, str]], gap: int) -> list[list[str]]:
    """Split a time-ordered stream of (timestamp, page) events into sessions at idle gaps."""
    sessions = []
    current: list[str] = []
    last = None
    for ts, page in events:
        if last is not None and ts - last > gap:
            sessions.append(current)
            current = []
        current = current + [page]
        last = ts
    if current:
        sessions.append(current)
    return sessions


def _inputs_sessionize(n: int) -> tuple[object, ...]:
    rng = random.Random(n + 5)
    ts = 1_700_000_000
    events = []
    for _ in range(n):
        ts += rng.randint(1, 60) if rng.random() > 0.002 else rng.randint(1_800, 7_200)
        events.append((ts, rng.choice(_PATHS)))
    return (events, 1_800)


def latest_login(lines: list[str], user: str) -> str:
    """Return the most recent ISO timestamp at which a user logged in, or ''."""
    stamps = []
    for line in lines:
        ts, event, who = line.split(" ", 2)
        if event == "login" and who == user:
            stamps.append(ts)
    return sorted(stamps)[-1] if stamps else ""


def _inputs_latest_login(n: int) -> tuple[object, ...]:
    rng = random.Random(n + 6)
    lines = []
    for _ in range(n):
        ts = f"2023-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:00"
        lines.append(f"{ts} {rng.choice(['login', 'logout', 'view'])} {rng.choice(_USERS)}")
    return (lines, "carol")


def parse_logfmt(lines: list[str]) -> list[dict[str, str]]:
    """Parse logfmt-style 'key=value key2=value2' lines into dicts (bare words ignored)."""
    records = []
    for line in lines:
        parts = line.split(" ")
        record = {}
        for i in range(len(parts)):
            if "=" not in parts[i]:
                continue
            key = parts[i].split("=")[0]
            record[key] = parts[i][len(key) + 1:]
        records.append(record)
    return records


def _inputs_parse_logfmt(n: int) -> tuple[object, ...]:
    rng = random.Random(n + 7)
    lines = []
    for i in range(n):
        lines.append(
            f"ts=2023-10-10T12:{i % 60:02d}:00Z level={rng.choice(_LEVELS).lower()} "
            f"msg=handled path={rng.choice(_PATHS)} user={rng.choice(_USERS)} "
            f"dur_ms={rng.randint(1, 900)} query=a=b"
        )
    return (lines,)


OPTIMIZE_INPUTS: dict[str, Callable[[int], tuple[object, ...]]] = {
    "status_counts": _inputs_status_counts,
    "unique_client_ips": _inputs_unique_client_ips,
    "filter_by_level": _inputs_filter_by_level,
    "error_summary": _inputs_error_summary,
    "slowest_requests": _inputs_slowest_requests,
    "sessionize": _inputs_sessionize,
    "latest_login": _inputs_latest_login,
    "parse_logfmt": _inputs_parse_logfmt,
}

OPTIMIZE_SIZES: dict[str, tuple[int, ...]] = {
    "status_counts": (1_000, 10_000, 50_000),
    "unique_client_ips": (500, 1_500, 3_500),
    "filter_by_level": (1_000, 10_000, 100_000),
    "error_summary": (1_000, 10_000, 100_000),
    "slowest_requests": (1_000, 5_000, 20_000),
    "sessionize": (1_000, 10_000, 50_000),
    "latest_login": (1_000, 10_000, 100_000),
    "parse_logfmt": (1_000, 5_000, 20_000),
}

CATEGORY: dict[str, str] = {
    "status_counts": "idiom",
    "unique_client_ips": "idiom",
    "filter_by_level": "idiom",
    "error_summary": "idiom",
    "slowest_requests": "llm-only",
    "sessionize": "idiom",
    "latest_login": "idiom",
    "parse_logfmt": "idiom",
}

IDIOM: dict[str, str] = {
    "status_counts": "re.compile of a constant pattern in the loop plus manual counting with d.keys()",
    "unique_client_ips": "`seen` list dedupe (O(n^2) membership) and s.split(' ')[0]",
    "filter_by_level": "s.split(sep)[0] and `in` on a small list parameter",
    "error_summary": "str += report building with a running counter",
    "slowest_requests": "re-sorting the whole top-k list on every line (heapq.nlargest fits)",
    "sessionize": "`lst = lst + [x]` rebuilding the current session on every event",
    "latest_login": "sorted(x)[-1] instead of max(x)",
    "parse_logfmt": "range(len(parts)) indexing and s.split('=')[0]",
}
