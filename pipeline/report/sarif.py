"""Findings as a SARIF 2.1.0 log, for code scanning.

Each accepted rewrite is one result: its rule is the pass code (or `LLM`), its
location the original function, and its `fixes` entry holds the replacement
text. Replacement regions are whole lines, from column 1 of the first line to
column 1 of the line after the last, so inserted text carries its own newlines.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from importlib import metadata
from typing import TYPE_CHECKING, Any

from pipeline.report.findings import Finding, Replacement

if TYPE_CHECKING:
    from passes import OptimizationPass

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
TOOL_URI = "https://pypi.org/project/optimize/"
SOURCE_ROOT = "%SRCROOT%"


def to_sarif(findings: Sequence[Finding]) -> dict[str, Any]:
    rule_ids = sorted({finding.rule for finding in findings})
    return {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "optimize",
                        "version": _version(),
                        "informationUri": TOOL_URI,
                        "rules": [_rule(rule_id) for rule_id in rule_ids],
                    }
                },
                "originalUriBaseIds": {SOURCE_ROOT: {"description": {"text": "repository root"}}},
                "results": [_result(f, rule_ids.index(f.rule)) for f in findings],
            }
        ],
    }


def dumps(findings: Sequence[Finding]) -> str:
    return json.dumps(to_sarif(findings), indent=2, ensure_ascii=False) + "\n"


def _version() -> str:
    try:
        return metadata.version("optimize")
    except metadata.PackageNotFoundError:
        return "0"


def _rule(rule_id: str) -> dict[str, Any]:
    pass_class = _passes_by_code().get(rule_id)
    if pass_class is None:
        return {
            "id": rule_id,
            "name": "model-proposed-rewrite",
            "shortDescription": {"text": "A model-proposed rewrite, verified and timed."},
            "defaultConfiguration": {"level": "note"},
        }
    return {
        "id": rule_id,
        "name": pass_class.name,
        "shortDescription": {"text": pass_class.summary},
        "fullDescription": {"text": (pass_class.__doc__ or pass_class.summary).strip()},
        "help": {"text": pass_class.documentation()},
        "defaultConfiguration": {"level": "note"},
    }


def _result(finding: Finding, rule_index: int) -> dict[str, Any]:
    first, last = finding.span
    location = {"uri": finding.path, "uriBaseId": SOURCE_ROOT}
    return {
        "ruleId": finding.rule,
        "ruleIndex": rule_index,
        "level": "note",
        "message": {"text": finding.message},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": location,
                    "region": {"startLine": first, "endLine": last},
                },
                "logicalLocations": [{"name": finding.function, "kind": "function"}],
            }
        ],
        "partialFingerprints": {"optimizeFinding/v1": finding.fingerprint},
        "fixes": [
            {
                "description": {"text": f"Apply the verified rewrite of {finding.function}"},
                "artifactChanges": [
                    {
                        "artifactLocation": location,
                        "replacements": [_replacement(r) for r in finding.replacements()],
                    }
                ],
            }
        ],
        "properties": _properties(finding),
    }


def _properties(finding: Finding) -> dict[str, Any]:
    headline, verdict = finding.headline, finding.outcome.verdict
    measured: dict[str, Any] = (
        {"speedup": headline.ratio, "ci95": [headline.low, headline.high], "size": headline.size}
        if headline
        else {"timed": False, "reason": finding.outcome.reason}  # --fast: no number to claim
    )
    return {
        **measured,
        "verifiedExamples": verdict.examples,
        "rules": list(finding.outcome.candidate.rules),
    }


def _replacement(replacement: Replacement) -> dict[str, Any]:
    region = {
        "startLine": replacement.first,
        "startColumn": 1,
        "endLine": replacement.last_exclusive,
        "endColumn": 1,
    }
    return {"deletedRegion": region, "insertedContent": {"text": replacement.text}}


def _passes_by_code() -> dict[str, type[OptimizationPass]]:
    from passes import by_code  # the passes (and libcst) load only when a pass is named

    return by_code()
