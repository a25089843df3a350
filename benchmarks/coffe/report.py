"""A COFFE results dict as Markdown, as the shared HTML page, and as the READMEs' headline."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from benchmarks.coffe.harness import IMPROVED_AT
from benchmarks.markdown_report import markdown_table, replace_generated_block
from pipeline.report.html import Bar, ChartRow, ReportPage, Table

README_START = "<!-- coffe-headline:start -->"
README_END = "<!-- coffe-headline:end -->"
TASK_HEADERS = (
    "task",
    "function",
    "verdict",
    "passes",
    "tests",
    "optimize speedup",
    "best known speedup",
    "seconds",
)


def describe_run(results: dict[str, Any]) -> str:
    env, settings = results["environment"], results["settings"]
    kind = "quick run" if settings["quick"] else "full run"
    mode = "LLM endpoint" if settings["llm"] else "offline"
    trace = "traced" if settings["trace"] else "no trace"
    return (
        f"{kind} ({mode}, {trace}) at commit {env['git_commit']} on {env['date']}: "
        f"{env['python']}, {env['cpus']} CPU(s), {env['platform']}, sandbox {env['sandbox']}; "
        f"max_examples={settings['max_examples']}, sample_seconds={settings['sample_seconds']}, "
        f"pairs={settings['pairs']}, workers={settings['workers']}; "
        f"wall time {results['wall_seconds']:.0f} s"
    )


def headline_rows(results: dict[str, Any]) -> list[tuple[str, str]]:
    h = results["headline"]
    return [
        ("tasks in the run", str(h["tasks"])),
        ("tasks with a written rewrite", str(h["written"])),
        (f"tasks >= {IMPROVED_AT}x faster", str(h["improved"])),
        ("geo-mean speedup, optimize (all tasks)", f"{h['geomean']:.2f}x"),
        ("geo-mean speedup, best known", f"{h['best_known_geomean']:.2f}x"),
        ("tasks whose best known solution is the canonical one", str(h["best_known_is_canonical"])),
        ("share of the gap to best known closed", gap_text(h)),
        ("wrong outputs", str(h["wrong_outputs"])),
        ("CLI errors", str(h["cli_errors"])),
    ]


def gap_text(h: dict[str, Any]) -> str:
    if not h["best_known_faster_tasks"]:
        return "n/a: no best known solution was faster"
    return f"{100 * h['gap_closed']:.1f}% over {h['best_known_faster_tasks']} tasks"


def verdict_rows(results: dict[str, Any]) -> list[tuple[str, str]]:
    return [(verdict, str(count)) for verdict, count in results["headline"]["verdicts"].items()]


def headline_markdown(results: dict[str, Any]) -> str:
    return (
        f"_{describe_run(results)}_\n\n"
        + markdown_table(("figure", "value"), headline_rows(results))
        + "\n\n"
        + markdown_table(("verdict", "tasks"), verdict_rows(results))
        + "\n"
    )


def speedup_text(timing: dict[str, Any] | None, inputs: int) -> str:
    if timing is None:
        return "unchanged"
    if timing["ratio"] is None:
        return "not timed"
    return (
        f"{timing['ratio']:.2f}x [{timing['low']:.2f}, {timing['high']:.2f}] "
        f"({len(timing['inputs'])}/{inputs} inputs)"
    )


def tests_text(row: dict[str, Any]) -> str:
    tests = row["tests"]
    if tests is None:
        return "nothing to check"
    if not tests["ran"]:
        return f"not run: {tests['problem']}"
    canonical = tests["roles"]["canonical"]["failed_expected"]
    text = f"{tests['cases']} cases"
    if canonical:
        text += f", canonical fails {len(canonical)}"
    if not row["best_known_valid"]:
        text += ", best known fails some"
    if tests["wrong_cases"]:
        text += f", WRONG on {len(tests['wrong_cases'])}"
    return text


def task_rows(results: dict[str, Any]) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for r in results["tasks"]:
        inputs = r["stress_inputs"]
        best = speedup_text(r["best_known"], inputs)
        if r["best_known_is_canonical"]:
            best = "= canonical"
        verdict = r["verdict"] if r["verdict"] != "rejected" else f"rejected: {r['reason']}"
        rows.append(
            (
                r["task"],
                r["function"],
                verdict if r["verdict"] != "error" else f"error: {r['cli_error']}",
                "+".join(r["rules"]) or "-",
                tests_text(r),
                speedup_text(r["optimized"], inputs),
                best,
                f"{r['seconds']:.1f}",
            )
        )
    return rows


def problem_rows(results: dict[str, Any]) -> list[tuple[str, str]]:
    """Wrong outputs and CLI errors, each with what went wrong."""
    rows = []
    for r in results["tasks"]:
        if r["wrong_output"]:
            tests = r["tests"]
            cases = ", ".join(str(c) for c in tests["wrong_cases"]) or tests["problem"]
            rows.append((r["task"], f"wrong output on test case(s) {cases}"))
        if r["verdict"] == "error":
            rows.append((r["task"], f"CLI error: {r['cli_error']}"))
    return rows


def render(results: dict[str, Any]) -> str:
    problems = problem_rows(results)
    return "\n".join(
        [
            "# optimize on COFFE",
            "",
            "## Headline",
            "",
            headline_markdown(results),
            "## Wrong outputs and errors",
            "",
            markdown_table(("task", "problem"), problems) if problems else "None.",
            "",
            "## Per task",
            "",
            "Speedup = canonical time / other time: the geo-mean over the stress inputs "
            "timed of each input's ratio of medians, with the geo-means of the per-input "
            "95% bootstrap bounds. `unchanged` counts as 1.00x.",
            "",
            markdown_table(TASK_HEADERS, task_rows(results)),
            "",
        ]
    )


def chart_rows(results: dict[str, Any]) -> tuple[ChartRow, ...]:
    """Tasks where something other than the canonical solution was timed."""
    rows = []
    for r in results["tasks"]:
        if r["optimized"] is None and r["best_known"] is None:
            continue
        bars = []
        for series, timing in (("optimize", r["optimized"]), ("best known", r["best_known"])):
            if timing is None:
                same = series == "optimize" or r["best_known_is_canonical"]
                bars.append(Bar(series, 1.0 if same else None, note="unchanged"))
            elif timing["ratio"] is None:
                bars.append(Bar(series, None, note="not timed"))
            else:
                wrong = " wrong output" if series == "optimize" and r["wrong_output"] else ""
                note = f"{len(timing['inputs'])} stress inputs{wrong}"
                bars.append(Bar(series, timing["ratio"], timing["low"], timing["high"], note))
        rows.append(ChartRow(f"{r['task']} {r['function']}", tuple(bars)))
    return tuple(rows)


def page(results: dict[str, Any]) -> ReportPage:
    problems = problem_rows(results)
    tables = [
        Table("Verdicts by reason", ("verdict", "tasks"), tuple(verdict_rows(results))),
        Table("Per task", TASK_HEADERS, tuple(task_rows(results))),
    ]
    if problems:
        tables.insert(0, Table("Wrong outputs and errors", ("task", "problem"), tuple(problems)))
    return ReportPage(
        title="optimize on COFFE",
        subtitle=describe_run(results),
        headline=tuple(headline_rows(results)),
        chart=chart_rows(results),
        tables=tuple(tables),
    )


def update_readme(readme: Path, results: dict[str, Any]) -> None:
    replace_generated_block(readme, README_START, README_END, headline_markdown(results))
