"""JUnit XML from pytest's `--junitxml`: each test's outcome, and what a rewrite broke."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Mapping
from pathlib import Path

PASSED, FAILED, ERROR, SKIPPED, MISSING = "passed", "failed", "error", "skipped", "missing"


class JUnitError(ValueError):
    pass


def outcomes(xml_text: str) -> dict[str, str]:
    """Test id (`classname::name`) -> passed, failed, error or skipped."""
    try:
        root = ET.fromstring(xml_text)
    except ET.ParseError as error:
        raise JUnitError(f"not JUnit XML: {error}") from error
    result: dict[str, str] = {}
    for case in root.iter("testcase"):
        test_id = f"{case.get('classname', '')}::{case.get('name', '')}"
        result[test_id] = _outcome(case)
    return result


def _outcome(case: ET.Element) -> str:
    tags = {child.tag for child in case}
    if "error" in tags:
        return ERROR
    if "failure" in tags:
        return FAILED
    if "skipped" in tags:
        return SKIPPED
    return PASSED


def read_outcomes(path: Path) -> dict[str, str]:
    if not path.is_file():
        raise JUnitError(f"pytest wrote no {path.name}")
    return outcomes(path.read_text(encoding="utf-8", errors="replace"))


def counts(results: Mapping[str, str]) -> dict[str, int]:
    tally = Counter(results.values())
    return {kind: tally[kind] for kind in (PASSED, FAILED, ERROR, SKIPPED)}


def newly_failing(before: Mapping[str, str], after: Mapping[str, str]) -> dict[str, str]:
    """Tests that passed before and did not pass after (failed, error, skipped or gone):
    each is a wrong output of the rewrite, whatever the reason."""
    return {
        test: after.get(test, MISSING)
        for test, outcome in sorted(before.items())
        if outcome == PASSED and after.get(test, MISSING) != PASSED
    }
