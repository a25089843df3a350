"""Turns a results dict from the harness into Markdown, and into the shared HTML page model."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.harness import IMPROVED_AT, STAGES
from pipeline.report import html as html_report
from pipeline.report.html import Bar, ChartRow, ReportPage, Table

README_START = "<!-- benchmark-headline:start -->"
README_END = "<!-- benchmark-headline:end -->"
FUNCTION_HEADERS = (
    "function",
    "category",
    "optimize",
    "pass",
    "examples",
    "optimize speedup",
    "Ruff",
    "Ruff equal?",
    "Ruff speedup",
)


def headline_rows(results: dict[str, Any]) -> list[tuple[str, str]]:
    h = results["headline"]
    return [
        ("functions in the run", str(h["functions"])),
        ("geo-mean speedup, optimize", f"{h['optimize_geomean']:.2f}x"),
        ("geo-mean speedup, Ruff", f"{h['ruff_geomean']:.2f}x"),
        (f"improved >= {IMPROVED_AT}x, optimize", str(h["optimize_improved"])),
        (f"improved >= {IMPROVED_AT}x, Ruff (outputs equal)", str(h["ruff_improved"])),
        ("wrong outputs, optimize", str(h["optimize_wrong_outputs"])),
        ("wrong outputs, Ruff", str(h["ruff_wrong_outputs"])),
        ("traps left alone, optimize", f"{h['traps_left_alone']} of {h['traps']}"),
        ("traps left alone, Ruff", f"{h['ruff_traps_left_alone']} of {h['traps']}"),
    ]


def describe_run(results: dict[str, Any]) -> str:
    env, settings = results["environment"], results["settings"]
    kind = "quick run" if settings["quick"] else "full run"
    return (
        f"{kind} at commit {env['git_commit']} on {env['date']}: {env['python']}, "
        f"{env['cpus']} CPU(s), {env['platform']}, sandbox {env['sandbox']}, {env['ruff']}; "
        f"max_examples={settings['max_examples']}, sample_seconds={settings['sample_seconds']}, "
        f"pairs={settings['pairs']}, workers={settings['workers']}; "
        f"wall time {results['wall_seconds']:.0f} s"
    )


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"

    return "\n".join([line(headers), line(["---"] * len(headers)), *(line(r) for r in rows)])


def headline_markdown(results: dict[str, Any]) -> str:
    return (
        f"_{describe_run(results)}_\n\n"
        + markdown_table(("figure", "value"), headline_rows(results))
        + "\n"
    )


def speedup_text(sizes: list[dict[str, Any]], changed: bool = True) -> str:
    if not changed:
        return "unchanged"
    if not sizes:
        return "not timed"
    return ", ".join(
        f"n={s['size']}: {s['ratio']:.2f}x [{s['low']:.2f}, {s['high']:.2f}]" for s in sizes
    )


def function_rows(results: dict[str, Any]) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for r in results["functions"]:
        o, ruff = r["optimize"], r["ruff"]
        equal = {True: "yes", False: "NO", None: "-"}[ruff["equal"]]
        if ruff["changed"] and ruff["verification"] == "unverifiable":
            equal = "unverified"
        rows.append(
            (
                f"{r['module']}.{r['function']}",
                r["category"],
                o["verdict"] if o["verdict"] != "rejected" else f"rejected: {o['reason']}",
                "+".join(o["rules"]) or "-",
                str(o["examples"] or "-"),
                speedup_text(o["sizes"], o["verdict"] == "accepted"),
                ("fixed: " + ",".join(ruff["rules"])) if ruff["changed"] else "unchanged",
                equal,
                speedup_text(ruff["sizes"], ruff["changed"]),
            )
        )
    return rows


def stage_rows(results: dict[str, Any]) -> list[tuple[str, ...]]:
    rows = []
    totals = dict.fromkeys(STAGES, 0.0)
    for r in results["functions"]:
        times = r["optimize"]["stage_times"]
        for stage in STAGES:
            totals[stage] += times.get(stage, 0.0)
        rows.append(
            (f"{r['module']}.{r['function']}", *(f"{times.get(s, 0.0):.2f}" for s in STAGES))
        )
    rows.append(("total", *(f"{totals[s]:.2f}" for s in STAGES)))
    return rows


def render(results: dict[str, Any]) -> str:
    return "\n".join(
        [
            "# optimize benchmark report",
            "",
            "## Headline",
            "",
            headline_markdown(results),
            "## Per function",
            "",
            "Speedup = original time / new time (median ratio, 95% bootstrap CI) at each size; "
            "`unchanged` counts as 1.00x in the geo-mean.",
            "",
            markdown_table(FUNCTION_HEADERS, function_rows(results)),
            "",
            "## Time per pipeline stage (seconds, optimize)",
            "",
            markdown_table(("function", *STAGES), stage_rows(results)),
            "",
        ]
    )


def chart_rows(results: dict[str, Any]) -> tuple[ChartRow, ...]:
    rows = []
    for r in results["functions"]:
        bars = [Bar("original", 1.0)]
        for series, data, changed in (
            ("Ruff", r["ruff"], r["ruff"]["changed"]),
            ("optimize", r["optimize"], r["optimize"]["verdict"] == "accepted"),
        ):
            headline = data["sizes"][-1] if changed and data["sizes"] else None
            if headline:
                wrong = " wrong output" if data.get("wrong_output") else ""
                bars.append(
                    Bar(
                        series,
                        headline["ratio"],
                        headline["low"],
                        headline["high"],
                        note=f"n={headline['size']}{wrong}",
                    )
                )
            else:
                bars.append(Bar(series, 1.0, note="unchanged" if not changed else "not timed"))
        rows.append(ChartRow(f"{r['module']}.{r['function']}", tuple(bars)))
    return tuple(rows)


def page(results: dict[str, Any]) -> ReportPage:
    return ReportPage(
        title="optimize benchmark report",
        subtitle=describe_run(results),
        headline=tuple(headline_rows(results)),
        chart=chart_rows(results),
        tables=(
            Table("Per function", FUNCTION_HEADERS, tuple(function_rows(results))),
            Table(
                "Time per pipeline stage (seconds, optimize)",
                ("function", *STAGES),
                tuple(stage_rows(results)),
            ),
        ),
    )


def update_readme(readme: Path, results: dict[str, Any]) -> None:
    """Replace the generated block between the markers; the figures are never typed by hand."""
    replace_generated_block(readme, README_START, README_END, headline_markdown(results))


def replace_generated_block(readme: Path, start: str, end: str, content: str) -> None:
    """Put `content` between the `start` and `end` marker lines of `readme`."""
    text = readme.read_text(encoding="utf-8")
    block = f"{start}\n{content}{end}"
    pattern = re.compile(re.escape(start) + ".*?" + re.escape(end), re.DOTALL)
    if not pattern.search(text):
        raise ValueError(f"{readme} has no {start} ... {end} block")
    readme.write_text(pattern.sub(lambda _: block, text), encoding="utf-8")


def write_report_files(
    out: Path, results: dict[str, Any], markdown: str, html_page: ReportPage
) -> list[Path]:
    """`results.json`, `report.md` and `report.html` in `out`; returns their paths."""
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / "results.json", out / "report.md", out / "report.html"]
    paths[0].write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    paths[1].write_text(markdown, encoding="utf-8")
    paths[2].write_text(html_report.render(html_page), encoding="utf-8")
    return paths
