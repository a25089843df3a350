"""`optimize review --base REF` in a real temp git repo, run as a real subprocess.

One review run (module fixture) produces the SARIF log, the Markdown summary,
the GitHub step summary and the annotations that the tests below check. Their
expected text is rebuilt from the numbers in the SARIF log, so the shape is
checked exactly while the timing figures may vary from run to run.
"""

from __future__ import annotations

import difflib
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from conftest import FAST_PYPROJECT

OPTIMIZE = Path(sys.executable).with_name("optimize")
SCHEMA = Path(__file__).parent / "data" / "sarif-schema-2.1.0.json"


# Already slow in the first commit: the review of the second commit must not mention it.
OLD_SLOW = """\
def count_weekend(days: list[str]) -> int:
    total = 0
    for day in days:
        if day in ["saturday", "sunday", "Saturday", "Sunday", "sat", "sun", "SAT", "SUN",
                   "Sat", "Sun", "weekend", "Weekend", "WEEKEND", "holiday", "Holiday", "off"]:
            total += 1
    return total
"""

# Added by the second commit: a 16-way list scan in a loop, several times faster as a set.
NEW_SLOW_BEFORE = """\
def count_vowels(text: str) -> int:
    total = 0
    for ch in text:
        if ch in ["a", "e", "i", "o", "u", "A", "E", "I", "O", "U", "y", "Y", "w", "W", "h", "H"]:
            total += 1
    return total
"""
NEW_SLOW_AFTER = NEW_SLOW_BEFORE.replace('["a"', '{"a"').replace('"H"]', '"H"}')


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True,
                          check=True)  # fmt: skip
    return done.stdout


def make_repo(repo: Path) -> None:
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.email", "test@example.com")
    git(repo, "config", "user.name", "test")
    (repo / "pyproject.toml").write_text(FAST_PYPROJECT)
    (repo / "slow.py").write_text(OLD_SLOW)
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "first")
    (repo / "slow.py").write_text(OLD_SLOW + "\n\n" + NEW_SLOW_BEFORE)
    git(repo, "commit", "-q", "-am", "second")


@dataclass(frozen=True)
class Review:
    repo: Path
    cache: Path
    returncode: int
    stdout: str
    stderr: str
    sarif: dict[str, Any]
    markdown: str
    step_summary: str


def run_review(repo: Path, cache: Path, *extra: str, step_summary: Path | None = None,
               ) -> subprocess.CompletedProcess[str]:  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith("GITHUB_")}
    env.update(OPTIMIZE_CACHE_DIR=str(cache), GITHUB_ACTIONS="true")
    if step_summary is not None:
        env["GITHUB_STEP_SUMMARY"] = str(step_summary)
    return subprocess.run([str(OPTIMIZE), "review", *extra], cwd=repo, env=env,
                          capture_output=True, text=True, timeout=300, check=False)  # fmt: skip


@pytest.fixture(scope="module")
def review(tmp_path_factory: pytest.TempPathFactory) -> Review:
    root = tmp_path_factory.mktemp("review")
    repo, cache = root / "repo", root / "cache"
    make_repo(repo)
    step_summary = root / "step-summary.md"
    step_summary.write_text("earlier step\n")
    outputs = ["--sarif", str(root / "out.sarif"), "--markdown", str(root / "summary.md")]
    done = run_review(repo, cache, "--base", "HEAD~1", *outputs, step_summary=step_summary)
    assert (root / "out.sarif").exists(), done.stderr
    return Review(
        repo=repo,
        cache=cache,
        returncode=done.returncode,
        stdout=done.stdout,
        stderr=done.stderr,
        sarif=json.loads((root / "out.sarif").read_text()),
        markdown=(root / "summary.md").read_text(),
        step_summary=step_summary.read_text(),
    )


def only_result(review: Review) -> dict[str, Any]:
    results = review.sarif["runs"][0]["results"]
    assert len(results) == 1, (results, review.stdout, review.stderr)
    return dict(results[0])


def speedup_text(result: dict[str, Any]) -> str:
    """The README's notation, `118× [80, 150]`: three significant digits, no ±."""
    properties = result["properties"]
    low, high = properties["ci95"]

    def figure(value: float) -> str:
        return f"{value:.0f}" if value >= 100 else f"{value:.1f}" if value >= 10 else f"{value:.2f}"

    ratio = properties["speedup"]
    return f"{figure(ratio)}\N{MULTIPLICATION SIGN} [{figure(low)}, {figure(high)}]"


def test_review_reports_only_the_function_changed_since_the_base(review: Review) -> None:
    assert review.returncode == 1, review.stderr
    assert "1 verified speedup(s) in 1 changed function(s)" in review.stdout
    assert "count_vowels" in review.stdout
    assert "count_weekend" not in review.stdout + json.dumps(review.sarif) + review.markdown


def test_sarif_validates_against_the_sarif_2_1_0_schema(review: Review) -> None:
    schema = json.loads(SCHEMA.read_text())
    jsonschema.validate(review.sarif, schema, cls=jsonschema.Draft4Validator)
    assert review.sarif["version"] == "2.1.0"


def test_sarif_result_has_rule_location_message_and_a_fix_that_applies(review: Review) -> None:
    result = only_result(review)
    new_start = OLD_SLOW.count("\n") + 3
    assert result["ruleId"] == "OPT106"
    rules = review.sarif["runs"][0]["tool"]["driver"]["rules"]
    assert rules[result["ruleIndex"]]["id"] == "OPT106"
    location = result["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "slow.py"
    assert location["region"] == {"startLine": new_start, "endLine": new_start + 5}
    assert speedup_text(result) in result["message"]["text"]
    [change] = result["fixes"][0]["artifactChanges"]
    original = (review.repo / "slow.py").read_text()
    fixed = apply_replacements(original, change["replacements"])
    assert fixed == OLD_SLOW + "\n\n" + NEW_SLOW_AFTER


def apply_replacements(text: str, replacements: list[dict[str, Any]]) -> str:
    """Whole-line SARIF replacements (column 1 to column 1), applied bottom-up."""
    lines = text.splitlines(keepends=True)
    for replacement in sorted(replacements, key=lambda r: -r["deletedRegion"]["startLine"]):
        region = replacement["deletedRegion"]
        assert region["startColumn"] == region["endColumn"] == 1
        new = replacement["insertedContent"]["text"].splitlines(keepends=True)
        lines[region["startLine"] - 1 : region["endLine"] - 1] = new
    return "".join(lines)


def expected_markdown(review: Review) -> str:
    result = only_result(review)
    line = result["locations"][0]["physicalLocation"]["region"]["startLine"]
    original = OLD_SLOW + "\n\n" + NEW_SLOW_BEFORE
    diff = "".join(difflib.unified_diff(
        original.splitlines(keepends=True),
        (OLD_SLOW + "\n\n" + NEW_SLOW_AFTER).splitlines(keepends=True),
        fromfile="a/slow.py", tofile="b/slow.py",
    ))  # fmt: skip
    return (
        "### optimize: 1 verified speedup\n\n"
        "| Function | Speedup (95% CI) | Pass | Verified examples |\n"
        "| --- | --- | --- | --- |\n"
        f"| `slow.py:{line}` `count_vowels` | {speedup_text(result)} "
        "| OPT106 constant-list-membership | 50 |\n"
        "\n<details>\n"
        f"<summary><code>slow.py:{line}</code> <code>count_vowels</code> diff</summary>\n\n"
        f"```diff\n{diff}```\n\n</details>\n"
    )


def test_markdown_summary_has_the_exact_table_and_diff(review: Review) -> None:
    assert review.markdown == expected_markdown(review)


def test_step_summary_is_appended_not_overwritten(review: Review) -> None:
    assert review.step_summary == "earlier step\n" + expected_markdown(review)


def test_github_annotation_has_the_exact_workflow_command_shape(review: Review) -> None:
    result = only_result(review)
    region = result["locations"][0]["physicalLocation"]["region"]
    expected = (
        f"::notice file=slow.py,line={region['startLine']},endLine={region['endLine']},"
        f"title=optimize OPT106::count_vowels can be {speedup_text(result)} faster at n=1000 "
        "(OPT106); verified equivalent on 50 examples\n"
    )
    annotations = [line + "\n" for line in review.stdout.splitlines() if line.startswith("::")]
    assert annotations == [expected]


def test_rerun_repeats_the_cached_finding_and_exit_zero_is_advisory(
    review: Review, tmp_path: Path
) -> None:
    sarif = tmp_path / "again.sarif"
    done = run_review(review.repo, review.cache, "--base", "HEAD~1", "--exit-zero",
                      "--sarif", str(sarif))  # fmt: skip
    assert done.returncode == 0, done.stderr
    again = json.loads(sarif.read_text())
    assert again["runs"][0]["results"] == review.sarif["runs"][0]["results"]


def test_unknown_base_ref_is_a_one_line_error_with_exit_2(review: Review) -> None:
    done = run_review(review.repo, review.cache, "--base", "no-such-ref")
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1
    assert done.stderr.startswith("optimize review: error: git merge-base:")
