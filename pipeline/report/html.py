"""A self-contained HTML report: headline figures, tables and an inline SVG speedup chart.

Shared by the benchmark harness (`python -m benchmarks`) and by
`optimize --report out.html` for a user's own run. The page has no scripts
and loads nothing from the network, so it can be attached to a CI run or
opened from disk.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from html import escape
from typing import Any

from pipeline.model import FileReport, SizeTiming
from pipeline.report.summary import Totals
from pipeline.report.terminal import NOT_TIMED_FAST, candidate_diff, ratio_text, rule_names

SERIES_COLOURS = {"original": "#9e9e9e", "Ruff": "#e69f00", "optimize": "#0072b2"}
FALLBACK_COLOURS = ("#009e73", "#cc79a7", "#56b4e9")
WRONG_OUTLINE = ' stroke="#d00000" stroke-width="2" data-wrong="true"'
TIMES = "\u00d7"  # the multiplication sign, as in "2.5 times"
Scale = Callable[[float], float]  # a speedup ratio -> the pixel column it is drawn at
LABEL_WIDTH, PLOT_WIDTH, BAR_HEIGHT, BAR_GAP, GROUP_GAP = 230, 560, 9, 2, 10


@dataclass(frozen=True)
class Bar:
    """One series' speedup over the original (1.0 = same speed), with its 95% CI if timed."""

    series: str
    ratio: float | None
    low: float | None = None
    high: float | None = None
    note: str = ""


@dataclass(frozen=True)
class ChartRow:
    label: str
    bars: tuple[Bar, ...]


@dataclass(frozen=True)
class Table:
    title: str
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Listing:
    """A titled block of preformatted text, such as an accepted rewrite's diff."""

    title: str
    text: str


@dataclass(frozen=True)
class ReportPage:
    title: str
    subtitle: str
    headline: tuple[tuple[str, str], ...]
    chart: tuple[ChartRow, ...]
    tables: tuple[Table, ...]
    listings: tuple[Listing, ...] = ()


STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 1100px; color: #222; }
h1 { margin-bottom: .2rem; } .subtitle { color: #666; margin-top: 0; }
dl.headline { display: grid; grid-template-columns: repeat(auto-fill, minmax(200px, 1fr));
  gap: .6rem; }
dl.headline div { background: #f3f6fa; border-radius: 6px; padding: .5rem .8rem; }
dl.headline dt { color: #555; font-size: 12px; } dl.headline dd { margin: 0; font-size: 22px; }
table { border-collapse: collapse; margin: .5rem 0 1.5rem; width: 100%; }
th, td { border-bottom: 1px solid #ddd; padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: #fafafa; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
svg text { font: 11px system-ui, sans-serif; fill: #333; }
details.listing { margin: .4rem 0; } details.listing summary { cursor: pointer; }
pre { background: #f6f8fa; padding: .6rem; overflow-x: auto; font-size: 12px; }
"""


def render(page: ReportPage) -> str:
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{escape(page.title)}</title><style>{STYLE}</style></head><body>",
        f"<h1>{escape(page.title)}</h1>",
        f'<p class="subtitle">{escape(page.subtitle)}</p>',
        _headline(page.headline),
    ]
    if page.chart:
        parts += ['<h2 id="chart">Speedup over the original</h2>', speedup_chart(page.chart)]
    parts += [_table(table) for table in page.tables]
    if page.listings:
        parts.append('<h2 id="diffs">Accepted rewrites</h2>')
        parts += [_listing(listing) for listing in page.listings]
    parts.append("</body></html>\n")
    return "\n".join(parts)


def _headline(figures: Sequence[tuple[str, str]]) -> str:
    items = "".join(
        f"<div><dt>{escape(label)}</dt><dd>{escape(value)}</dd></div>" for label, value in figures
    )
    return f'<dl class="headline" id="headline">{items}</dl>'


def _table(table: Table) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in table.headers)
    body = "".join("<tr>" + "".join(_cell(value) for value in row) + "</tr>" for row in table.rows)
    return (
        f"<h2>{escape(table.title)}</h2>"
        f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    )


def _listing(listing: Listing) -> str:
    return (
        f'<details class="listing" open><summary>{escape(listing.title)}</summary>'
        f'<pre class="diff">{escape(listing.text)}</pre></details>'
    )


def _cell(value: str) -> str:
    numeric = value[:1].isdigit() or (value[:1] in "+-" and value[1:2].isdigit())
    return f'<td class="num">{escape(value)}</td>' if numeric else f"<td>{escape(value)}</td>"


# --------------------------------------------------------------------------- chart


def _axis_range(rows: Sequence[ChartRow]) -> tuple[float, float]:
    """A log axis that holds every bar and whisker with room to spare: nothing is clipped."""
    values = [1.0]
    for row in rows:
        for bar in row.bars:
            values += [v for v in (bar.ratio, bar.low, bar.high) if v is not None and v > 0]
    return min(min(values) / 1.3, 0.5), max(max(values) * 1.3, 2.0)


def axis_ticks(low: float, high: float) -> list[float]:
    """1-2-5 ticks inside [low, high]; only powers of ten when the axis spans many decades."""
    first, last = math.floor(math.log10(low)), math.ceil(math.log10(high))
    steps = (1, 2, 5) if last - first <= 4 else (1,)
    ticks = [m * 10.0**e for e in range(first, last + 1) for m in steps]
    return [t for t in ticks if low <= t <= high]


def speedup_chart(rows: Sequence[ChartRow]) -> str:
    """Grouped horizontal bars on a log axis, one group per function, CI whiskers on each bar."""
    low, high = _axis_range(rows)
    series = list(dict.fromkeys(bar.series for row in rows for bar in row.bars))
    group_height = len(series) * (BAR_HEIGHT + BAR_GAP) + GROUP_GAP
    top, legend_height = 24, 22
    height = top + group_height * len(rows) + 30 + legend_height
    width = LABEL_WIDTH + PLOT_WIDTH + 30

    def x(value: float) -> float:
        clamped = min(max(value, low), high)
        fraction = (math.log(clamped) - math.log(low)) / (math.log(high) - math.log(low))
        return LABEL_WIDTH + fraction * PLOT_WIDTH

    plot_bottom = top + group_height * len(rows)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" id="speedup-chart" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" role="img" '
        'aria-label="Speedup over the original per function, log scale">'
    ]
    out += _grid(x, low, high, top, plot_bottom)
    for index, row in enumerate(rows):
        out += _group(row, series, x, low, top + index * group_height)
    out += _legend(series, plot_bottom + 30)
    out.append("</svg>")
    return "\n".join(out)


def _grid(x: Scale, low: float, high: float, top: float, bottom: float) -> list[str]:
    lines = []
    for tick in axis_ticks(low, high):
        position = x(tick)
        dash = "" if tick == 1 else ' stroke-dasharray="3,3"'
        colour = "#444" if tick == 1 else "#ccc"
        lines.append(
            f'<line x1="{position:.1f}" y1="{top - 4}" x2="{position:.1f}" y2="{bottom}" '
            f'stroke="{colour}"{dash}/>'
        )
        lines.append(
            f'<text x="{position:.1f}" y="{bottom + 14}" text-anchor="middle">'
            f"{tick:g}{TIMES}</text>"
        )
    lines.append(
        f'<text x="{LABEL_WIDTH + PLOT_WIDTH / 2}" y="{top - 10}" text-anchor="middle">'
        "speedup over the original (log scale, higher is faster; whiskers: 95% CI)</text>"
    )
    return lines


def _group(row: ChartRow, series: list[str], x: Scale, low: float, y0: float) -> list[str]:
    height = len(series) * (BAR_HEIGHT + BAR_GAP)
    out = [
        f'<text class="fn-label" x="{LABEL_WIDTH - 8}" y="{y0 + height / 2 + 4:.1f}" '
        f'text-anchor="end">{escape(row.label)}</text>'
    ]
    for bar in row.bars:
        y = y0 + series.index(bar.series) * (BAR_HEIGHT + BAR_GAP)
        colour = _colour(bar.series, series)
        title = escape(f"{row.label} · {bar.series}: " + _bar_text(bar))
        if bar.ratio is None:
            out.append(
                f'<text x="{LABEL_WIDTH + 4}" y="{y + BAR_HEIGHT - 1}" fill="#888">'
                f"{escape(bar.note or 'not timed')}</text>"
            )
            continue
        out.append(
            f'<rect class="bar" data-series="{escape(bar.series)}" x="{x(low):.1f}" y="{y:.1f}" '
            f'width="{max(x(bar.ratio) - x(low), 1):.1f}" height="{BAR_HEIGHT}" fill="{colour}"'
            f"{WRONG_OUTLINE if 'wrong output' in bar.note else ''}>"
            f"<title>{title}</title></rect>"
        )
        if bar.low is not None and bar.high is not None:
            middle = y + BAR_HEIGHT / 2
            out.append(
                f'<path class="whisker" d="M{x(bar.low):.1f},{middle:.1f}H{x(bar.high):.1f}'
                f"M{x(bar.low):.1f},{y:.1f}V{y + BAR_HEIGHT:.1f}"
                f'M{x(bar.high):.1f},{y:.1f}V{y + BAR_HEIGHT:.1f}" stroke="#111" fill="none"/>'
            )
    return out


def _legend(series: list[str], y: float) -> list[str]:
    out, position = [], float(LABEL_WIDTH)
    for name in series:
        out.append(
            f'<rect x="{position}" y="{y - 9}" width="12" height="10" '
            f'fill="{_colour(name, series)}"/>'
        )
        out.append(f'<text class="legend" x="{position + 16}" y="{y}">{escape(name)}</text>')
        position += 30 + 7 * len(name)
    return out


def _colour(name: str, series: list[str]) -> str:
    return SERIES_COLOURS.get(name) or FALLBACK_COLOURS[series.index(name) % len(FALLBACK_COLOURS)]


def _bar_text(bar: Bar) -> str:
    if bar.ratio is None:
        return bar.note or "not timed"
    interval = f" [{bar.low:.2f}, {bar.high:.2f}]" if bar.low is not None and bar.high else ""
    return f"{bar.ratio:.2f}{TIMES}{interval}" + (f" ({bar.note})" if bar.note else "")


# --------------------------------------------------------------------------- user runs


def page_from_file_reports(
    reports: Sequence[FileReport], environment: Mapping[str, Any] | None = None
) -> ReportPage:
    """The `optimize --report out.html` page: every candidate tried, accepted ones charted,
    with their per-size ratios and diffs, and the Python, sandbox and settings of the run."""
    environment = environment or {}
    rows, chart, sizes, listings = [], [], [], []
    for report in reports:
        if report.error:
            rows.append((str(report.path), "", "", "error", "", report.error))
            continue
        for outcome in report.outcomes:
            headline = outcome.timing.headline if outcome.timing else None
            where = f"{report.path}:{outcome.candidate.lineno}"
            speedup = (
                ratio_text(headline.ratio, headline.low, headline.high)
                if headline
                else NOT_TIMED_FAST
                if outcome.accepted
                else ""
            )
            verdict = "accepted" if outcome.accepted else outcome.verdict.status.value
            rules = rule_names(outcome.candidate.rules)
            rows.append(
                (where, outcome.candidate.function, rules, verdict, speedup, outcome.reason)
            )
            if not outcome.accepted:
                continue
            label = f"{report.path.name}::{outcome.candidate.function}"
            diff = candidate_diff(str(report.path), outcome)
            listings.append(Listing(f"{where} {outcome.candidate.function}: {rules}", diff))
            if headline is None or outcome.timing is None:
                continue
            bar = Bar("optimize", headline.ratio, headline.low, headline.high)
            chart.append(ChartRow(label, (Bar("original", 1.0), bar)))
            sizes += [_size_row(label, size) for size in outcome.timing.sizes]
    totals = Totals.of(reports)
    python, sandbox = str(environment.get("python", "")), str(environment.get("sandbox", ""))
    return ReportPage(
        title="optimize report",
        subtitle=f"{len(reports)} file(s) checked; {python}, sandbox: {sandbox}",
        headline=(
            ("verified speedups", str(totals.accepted)),
            ("candidates rejected", str(sum(totals.rejected.values()))),
            *((("undecided", str(totals.undecided)),) if totals.undecided else ()),
            ("unverifiable", str(totals.unverifiable)),
            ("functions examined", str(totals.functions)),
            ("files", str(len(reports))),
            ("Python", python or "unknown"),
            ("sandbox", sandbox or "unknown"),
        ),
        chart=tuple(chart),
        tables=(
            Table(
                "Candidates",
                ("where", "function", "rules", "verdict", "speedup", "reason"),
                tuple(rows),
            ),
            Table(
                "Per-size ratios of accepted rewrites",
                SIZE_COLUMNS,
                tuple(sizes),
            ),
            Table(
                "Settings", ("setting", "value"), tuple(_flatten(environment.get("settings", {})))
            ),
        ),
        listings=tuple(listings),
    )


SIZE_COLUMNS = (
    "function",
    "n",
    "speedup [interval]",
    "decision",
    "samples",
    "original s",
    "candidate s",
)


def _size_row(label: str, size: SizeTiming) -> tuple[str, ...]:
    seconds = (f"{size.original_seconds:.3g}", f"{size.candidate_seconds:.3g}")
    return (
        label,
        str(size.size),
        ratio_text(size.ratio, size.low, size.high),
        size.decision.value,
        str(size.samples),
        *seconds,
    )


def _flatten(settings: Mapping[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    for key, value in settings.items():
        if isinstance(value, Mapping) and value:
            rows += _flatten(value, f"{prefix}{key}.")
        else:
            rows.append((f"{prefix}{key}", json.dumps(value, default=str)))
    return rows
