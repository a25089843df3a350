"""A realcode results dict as Markdown, as the shared HTML page, and as the READMEs' headline."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from benchmarks.markdown_report import markdown_table, replace_generated_block
from pipeline.report.html import Bar, ChartRow, Listing, ReportPage, Table

README_START = "<!-- realcode-headline:start -->"
README_END = "<!-- realcode-headline:end -->"
PACKAGE_HEADERS = (
    "package",
    "kind",
    "lines",
    "hot functions",
    "candidates",
    "written",
    "rejected",
    "tests before",
    "tests after",
    "workload speedup",
    "seconds",
)
HOT_HEADERS = ("package", "function", "share of own time", "calls", "fate")
SCRIPTED_HEADERS = ("package", "function", "proposal", "accepted", "written", "speedup", "reason")


def describe_run(results: dict[str, Any]) -> str:
    env, settings = results["environment"], results["settings"]
    kind = "quick run" if settings["quick"] else "full run"
    mode = "LLM endpoint" if settings["llm"] else "offline"
    if settings.get("scripted_llm"):
        mode = "scripted LLM endpoint, --ignore OPT"
    top = f", --top {settings['top']}" if settings["top"] else ""
    return (
        f"{kind} ({mode}{top}) at commit {env['git_commit']} on {env['date']}: "
        f"{env['python']}, {env['cpus']} CPU(s), sandbox {env['sandbox']}; "
        f"workload {settings['pairs']} before/after process pairs x {settings['repeats']} runs; "
        f"wall time {results['wall_seconds']:.0f} s"
    )


def headline_rows(results: dict[str, Any]) -> list[tuple[str, str]]:
    h = results["headline"]
    failed = f" ({h['packages_failed']} could not be run)" if h["packages_failed"] else ""
    return [
        ("packages", f"{h['packages']}{failed}"),
        ("candidates", str(h["candidates"])),
        ("rewrites written", str(h["written"])),
        ("wrong outputs (goal 0)", str(h["wrong_outputs"])),
        ("geo-mean workload speedup", f"{h['workload_geomean']:.2f}x"),
        (
            "hot functions with a verified rewrite",
            f"{h['hot_rewritten']} of {h['hot_functions']} ({100 * h['hot_rewritten_share']:.1f}%)",
        ),
        ("hot functions without any candidate", str(h["hot_without_candidate"])),
    ]


def headline_markdown(results: dict[str, Any]) -> str:
    return (
        f"_{describe_run(results)}_\n\n"
        + markdown_table(("figure", "value"), headline_rows(results))
        + "\n"
    )


def counts_text(counts: dict[str, int] | None) -> str:
    if counts is None:
        return "unchanged"
    shown = [f"{n} {kind}" for kind, n in counts.items() if n]
    return ", ".join(shown) or "none"


def workload_text(row: dict[str, Any]) -> str:
    timing = row.get("workload")
    if timing is None:
        return "unchanged"
    text = f"{timing['ratio']:.2f}x [{timing['low']:.2f}, {timing['high']:.2f}]"
    return text if timing["same_output"] else text + ", OUTPUT DIFFERS"


def reason_category(reason: str) -> str:
    """A rejection reason without its particulars: "unverified: importing the module
    failed: ImportError: ..." -> "unverified: importing the module failed"."""
    parts = reason.split(": ")
    return ": ".join(parts[:2]) if parts[0] == "unverified" else parts[0]


def rejected_by_reason(row: dict[str, Any]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for outcome in row["outcomes"]:
        if not outcome["written"]:
            category = reason_category(outcome["reason"] or "accepted, not written")
            counts[category] = counts.get(category, 0) + 1
    return counts


def rejected_text(row: dict[str, Any]) -> str:
    counts = rejected_by_reason(row)
    return ", ".join(f"{n} {reason}" for reason, n in sorted(counts.items())) or "-"


def package_rows(results: dict[str, Any]) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for r in results["packages"]:
        name = f"{r['name']} {r['version']}"
        seconds = f"{sum(r['seconds'].values()):.0f}"
        if r["error"] is not None:
            rows.append((name, r["kind"], f"error: {r['error']}", *("-",) * 7, seconds))
            continue
        rows.append(
            (
                name,
                r["kind"],
                str(r["lines"]),
                str(len(r["hot"])),
                str(r["candidates"]),
                str(r["written"]),
                rejected_text(r),
                counts_text(r["tests_before"]),
                counts_text(r["tests_after"]),
                workload_text(r),
                seconds,
            )
        )
    return rows


def hot_rows(results: dict[str, Any]) -> list[tuple[str, ...]]:
    return [
        (
            r["name"],
            f"{h['path']}::{h['function']}",
            f"{100 * h['share']:.1f}%",
            f"{h['calls']:,}",
            h["fate"],
        )
        for r in results["packages"]
        if r["error"] is None
        for h in r["hot"]
    ]


def problem_rows(results: dict[str, Any]) -> list[tuple[str, str]]:
    """Wrong outputs (each newly failing test, a changed workload result) and errors."""
    rows = []
    for r in results["packages"]:
        if r["error"] is not None:
            rows.append((r["name"], f"could not be run: {r['error']}"))
            continue
        for test, outcome in (r.get("newly_failing") or {}).items():
            rows.append((r["name"], f"wrong output: {test} passed before, {outcome} after"))
        if (r.get("workload") or {}).get("same_output") is False:
            rows.append((r["name"], "wrong output: the workload's result changed"))
        for fate in r.get("scripted") or ():
            if fate["kind"] == "wrong" and fate["written"]:
                rows.append((r["name"], f"wrong output: a wrong proposal for {fate['function']} "
                                        "was written"))  # fmt: skip
    return rows


def scripted_rows(results: dict[str, Any]) -> list[tuple[str, ...]]:
    """`--scripted-llm`: each scripted proposal and what became of it."""
    rows: list[tuple[str, ...]] = []
    for r in results["packages"]:
        for f in r.get("scripted") or ():
            speedup = f"{f['speedup']:.2f}x" if f["speedup"] else ""
            accepted, written = ("yes" if f[key] else "no" for key in ("accepted", "written"))
            rows.append((r["name"], f["function"], f["kind"], accepted, written, speedup,
                         f["reason"]))  # fmt: skip
    return rows


def written_listings(results: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        (f"{r['name']}: the rewrite's diff", r["diff"])
        for r in results["packages"]
        if r["error"] is None and r.get("diff")
    ]


def render(results: dict[str, Any]) -> str:
    problems = problem_rows(results)
    parts = [
        "# optimize on real libraries",
        "",
        "## Headline",
        "",
        headline_markdown(results),
        "## Wrong outputs and errors",
        "",
        markdown_table(("package", "problem"), problems) if problems else "None.",
        "",
        "## Per package",
        "",
        "Tests are the package's own (see `benchmarks/realcode/packages.py`); `tests after` "
        "runs only when something was written. Workload speedup = time before / time after "
        "of `workloads/NAME.py`: ratio of medians with its 95% bootstrap interval; "
        "`unchanged` counts as 1.00x.",
        "",
        markdown_table(PACKAGE_HEADERS, package_rows(results)),
        "",
        f"## Hot functions (>= {100 * results['settings']['hot_share']:.0f}% of the package's "
        "own time in its traced tests)",
        "",
        markdown_table(HOT_HEADERS, hot_rows(results)),
        "",
    ]
    if scripted_rows(results):
        parts += [
            "## Scripted LLM proposals (`--scripted-llm`, see `scripted.py`)",
            "",
            markdown_table(SCRIPTED_HEADERS, scripted_rows(results)),
            "",
        ]
    for title, diff in written_listings(results):
        parts += [f"## {title}", "", "```diff", diff.rstrip(), "```", ""]
    return "\n".join(parts)


def chart_rows(results: dict[str, Any]) -> tuple[ChartRow, ...]:
    rows = []
    for r in results["packages"]:
        if r["error"] is not None:
            continue
        timing = r.get("workload")
        if timing is None:
            bar = Bar("optimize", 1.0, note="unchanged")
        else:
            wrong = "" if timing["same_output"] else " OUTPUT DIFFERS"
            note = f"{r['written']} rewrite(s){wrong}"
            bar = Bar("optimize", timing["ratio"], timing["low"], timing["high"], note)
        rows.append(ChartRow(f"{r['name']} workload", (bar,)))
    return tuple(rows)


def page(results: dict[str, Any]) -> ReportPage:
    problems = problem_rows(results)
    tables = [
        Table("Per package", PACKAGE_HEADERS, tuple(package_rows(results))),
        Table("Hot functions", HOT_HEADERS, tuple(hot_rows(results))),
    ]
    if scripted_rows(results):
        tables.append(Table("Scripted LLM proposals", SCRIPTED_HEADERS,
                            tuple(scripted_rows(results))))  # fmt: skip
    if problems:
        tables.insert(0, Table("Wrong outputs and errors", ("package", "problem"), tuple(problems)))
    return ReportPage(
        title="optimize on real libraries",
        subtitle=describe_run(results),
        headline=tuple(headline_rows(results)),
        chart=chart_rows(results),
        tables=tuple(tables),
        listings=tuple(Listing(title, diff) for title, diff in written_listings(results)),
    )


def update_readme(readme: Path, results: dict[str, Any]) -> None:
    replace_generated_block(readme, README_START, README_END, headline_markdown(results))
