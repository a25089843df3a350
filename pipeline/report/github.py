"""Findings as GitHub Actions workflow commands (`::notice file=…,line=…::…`)."""

from __future__ import annotations

from collections.abc import Sequence

from pipeline.report.findings import Finding


def workflow_commands(findings: Sequence[Finding]) -> str:
    return "".join(_annotation(finding) for finding in findings)


def _annotation(finding: Finding) -> str:
    first, last = finding.span
    properties = {
        "file": finding.path,
        "line": str(first),
        "endLine": str(last),
        "title": f"optimize {finding.rule}",
    }
    joined = ",".join(f"{key}={_escape_property(value)}" for key, value in properties.items())
    return f"::notice {joined}::{_escape_data(finding.message)}\n"


def _escape_data(text: str) -> str:
    """GitHub's escaping for the message part of a workflow command."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")
