"""Findings as a Markdown summary: a GitHub step summary or a PR comment body."""

from __future__ import annotations

from collections.abc import Sequence

from pipeline.report.findings import Finding
from pipeline.report.terminal import rule_names

HEADER = "| Function | Speedup (95% CI) | Pass | Verified examples |\n| --- | --- | --- | --- |\n"


def summary(findings: Sequence[Finding]) -> str:
    if not findings:
        return "### optimize: no verified speedups in the changed functions\n"
    count = len(findings)
    title = f"### optimize: {count} verified speedup{'s' if count != 1 else ''}\n\n"
    rows = "".join(_row(finding) for finding in findings)
    return title + HEADER + rows + "".join(_details(finding) for finding in findings)


def _row(finding: Finding) -> str:
    cells = (
        f"`{finding.path}:{finding.span[0]}` `{finding.function}`",
        finding.speedup,
        rule_names(finding.outcome.candidate.rules) or finding.rule,
        str(finding.outcome.verdict.examples),
    )
    return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |\n"


def _details(finding: Finding) -> str:
    diff = finding.diff
    fence = "````" if "```" in diff else "```"
    return (
        f"\n<details>\n<summary><code>{finding.path}:{finding.span[0]}</code> "
        f"<code>{finding.function}</code> diff</summary>\n\n"
        f"{fence}diff\n{diff}{'' if diff.endswith(chr(10)) else chr(10)}{fence}\n\n</details>\n"
    )
