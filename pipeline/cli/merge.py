"""`optimize merge A B ...`: one report from the outputs of sharded runs (`--shard K/N`).

All inputs are `optimize --json` reports, or all are SARIF logs; the result has
the same format. JSON reports are merged file by file (a file's functions are
spread over the shards) with the totals added up; SARIF logs become one run
whose rules are the union of the inputs' rules.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pipeline.cli.exit_codes import ExitCode, fail
from pipeline.report.summary import Totals

COMMAND = "optimize merge"


class MergeError(ValueError):
    pass


def add_parser(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "merge",
        help="merge --json or SARIF outputs of sharded runs",
        description="Merge the --json reports or the SARIF logs of sharded runs into one.",
    )
    parser.add_argument("inputs", nargs="+", type=Path, metavar="FILE")
    parser.add_argument("-o", "--output", type=Path, metavar="FILE",
                        help="write the merged report here (default: stdout)")  # fmt: skip
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    try:
        documents = [_load(path) for path in args.inputs]
        kinds = {
            _kind(document, path) for document, path in zip(documents, args.inputs, strict=True)
        }
        if len(kinds) > 1:
            raise MergeError("cannot merge --json reports with SARIF logs")
        merged = merge_sarif(documents) if kinds == {"sarif"} else merge_json(documents)
    except MergeError as error:
        return fail(COMMAND, str(error))
    text = json.dumps(merged, indent=2, ensure_ascii=False) + "\n"
    if args.output is None:
        sys.stdout.write(text)
        return ExitCode.OK
    try:
        args.output.write_text(text, encoding="utf-8")
    except OSError as error:
        return fail(COMMAND, f"{args.output}: {error.strerror}")
    return ExitCode.OK


def _load(path: Path) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise MergeError(f"{path}: {error.strerror}") from error
    except ValueError as error:
        raise MergeError(f"{path}: not JSON ({error})") from error
    if not isinstance(document, dict):
        raise MergeError(f"{path}: not an optimize --json report or a SARIF log")
    return document


def _kind(document: dict[str, Any], path: Path) -> str:
    if document.get("version") == "2.1.0" and isinstance(document.get("runs"), list):
        return "sarif"
    if isinstance(document.get("files"), list) and isinstance(document.get("totals"), dict):
        return "json"
    raise MergeError(f"{path}: not an optimize --json report or a SARIF log")


def merge_json(reports: Sequence[dict[str, Any]]) -> dict[str, Any]:
    files: dict[str, dict[str, Any]] = {}
    for report in reports:
        for entry in report["files"]:
            _merge_file(files, entry)
    totals = Totals()
    for report in reports:
        totals = totals + Totals.from_json(report["totals"])
    totals = Totals(
        **{
            **totals.to_json(),
            "files": len(files),
            "errors": sum(1 for entry in files.values() if entry.get("error")),
        }
    )
    first = reports[0]
    return {
        **{key: value for key, value in first.items() if key not in ("files", "totals")},
        "totals": totals.to_json(),
        "wall_seconds": max(float(r.get("wall_seconds", 0)) for r in reports),
        "shards": [
            {key: r.get(key) for key in ("python", "sandbox", "wall_seconds")}
            | {"shard": r.get("settings", {}).get("shard")}
            for r in reports
        ],
        "files": list(files.values()),
    }


def _merge_file(files: dict[str, dict[str, Any]], entry: dict[str, Any]) -> None:
    known = files.get(entry["path"])
    if known is None:
        files[entry["path"]] = {**entry}
        return
    for key in ("functions", "outcomes", "llm_functions"):
        known[key] = [*known.get(key, []), *entry.get(key, [])]
    for key in ("changed", "written"):
        known[key] = bool(known.get(key)) or bool(entry.get(key))
    known["error"] = known.get("error") or entry.get("error")
    known["llm_tokens"] = known.get("llm_tokens", 0) + entry.get("llm_tokens", 0)


def merge_sarif(logs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    runs = [run for log in logs for run in log["runs"]]
    if not runs:
        raise MergeError("the SARIF logs have no runs")
    rules: dict[str, dict[str, Any]] = {}
    results: list[dict[str, Any]] = []
    seen: set[str] = set()
    for one in runs:
        for rule in one.get("tool", {}).get("driver", {}).get("rules", []):
            rules.setdefault(rule["id"], rule)
        for result in one.get("results", []):
            fingerprint = json.dumps(result.get("partialFingerprints") or result, sort_keys=True)
            if fingerprint not in seen:
                seen.add(fingerprint)
                results.append(result)
    rule_ids = sorted(rules)
    for result in results:
        result["ruleIndex"] = rule_ids.index(result["ruleId"])
    merged_run = {
        **runs[0],
        "tool": {"driver": {**runs[0]["tool"]["driver"], "rules": [rules[i] for i in rule_ids]}},
        "results": results,
    }
    return {**logs[0], "runs": [merged_run]}
