"""The HTML report renders in real headless Chromium and has the expected elements."""

from __future__ import annotations

import html
import json
import os
import shutil
import struct
import subprocess
from pathlib import Path
from typing import Any

import pytest
from conftest import SLOW_DEDUPE, Runner

from benchmarks import markdown_report
from pipeline.cli.main import main as optimize_main
from pipeline.report import html as html_report

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
IN_CI = os.environ.get("CI", "").lower() == "true"

needs_chromium = pytest.mark.skipif(
    CHROMIUM is None and not IN_CI, reason="chromium is not installed (apt-get install chromium)"
)


def _chromium(tmp_path: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None, "CI must have chromium installed"
    command = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={tmp_path / 'profile'}",
        *arguments,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


def _dom(tmp_path: Path, page: Path) -> str:
    done = _chromium(tmp_path, "--dump-dom", page.as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def _screenshot(tmp_path: Path, page: Path) -> Path:
    png = tmp_path / "report.png"
    done = _chromium(tmp_path, f"--screenshot={png}", "--window-size=1200,1400", page.as_uri())
    assert done.returncode == 0 and png.is_file(), done.stderr[-2000:]
    return png


def _png_size(png: Path) -> tuple[int, int]:
    header = png.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", header[16:24])
    return width, height


def _timed(ratio: float, low: float, high: float, size: int = 1000) -> list[dict[str, Any]]:
    return [
        {
            "size": size,
            "ratio": ratio,
            "low": low,
            "high": high,
            "decision": "faster",
            "original_seconds": 1e-3,
            "candidate_seconds": 1e-3 / ratio,
        }
    ]


def _function(
    name: str,
    category: str,
    optimize: float | None,
    ruff: float | None,
    ruff_equal: bool | None = True,
) -> dict[str, Any]:
    accepted = optimize is not None
    return {
        "module": "mod",
        "function": name,
        "category": category,
        "idiom": "",
        "sizes": [1000],
        "optimize": {
            "verdict": "accepted" if accepted else "no candidate",
            "reason": "verified and faster" if accepted else "no pass applies",
            "rules": ["OPT101"] if accepted else [],
            "candidates": int(accepted),
            "examples": 40 if accepted else 0,
            "verification": "equivalent" if accepted else None,
            "sizes": _timed(optimize, optimize * 0.9, optimize * 1.1) if optimize else [],
            "speedup": optimize or 1.0,
            "recheck": "equivalent" if accepted else None,
            "wrong_output": False,
            "stage_times": {
                "parse": 0.01,
                "analyze": 0.02,
                "rewrite": 0.1,
                "verify": 1.5,
                "measure": 2.0,
            },
        },
        "ruff": {
            "changed": ruff is not None,
            "rules": ["PERF401"] if ruff else [],
            "verification": None
            if ruff is None
            else ("equivalent" if ruff_equal else "counterexample"),
            "examples": 40,
            "equal": None if ruff is None else ruff_equal,
            "wrong_output": ruff is not None and ruff_equal is False,
            "sizes": _timed(ruff, ruff * 0.8, ruff * 1.2) if ruff else [],
            "speedup": ruff or 1.0,
            "detail": "",
        },
    }


def synthetic_results() -> dict[str, Any]:
    from benchmarks.harness import headline

    functions = [
        _function("join_tags", "idiom", 12.0, 1.3),
        _function("dedupe_emails", "idiom", 40.0, None),
        _function("two_sum_pairs", "llm-only", None, None),
        _function("peak_reading", "trap", None, 2.0, ruff_equal=False),
    ]
    return {
        "schema": 1,
        "environment": {
            "machine": "x86_64",
            "platform": "Linux",
            "processor": "x86_64",
            "cpus": 2,
            "python": "CPython 3.11",
            "git_commit": "abc1234",
            "ruff": "ruff 0.x",
            "sandbox": "bubblewrap",
            "ci": False,
            "date": "2026-01-01 00:00:00 UTC",
        },
        "settings": {
            "quick": True,
            "max_examples": 40,
            "sample_seconds": 0.01,
            "pairs": 3,
            "workers": 1,
            "sizes_per_function": 1,
            "ruff_rules": "PERF",
        },
        "wall_seconds": 12.0,
        "headline": headline(functions),
        "functions": functions,
    }


@needs_chromium
def test_benchmark_report_renders_in_chromium(tmp_path: Path) -> None:
    results = synthetic_results()
    page = tmp_path / "report.html"
    page.write_text(html_report.render(markdown_report.page(results)), encoding="utf-8")
    source = page.read_text(encoding="utf-8")
    assert "<script" not in source and "http://" not in source.replace(
        'xmlns="http://www.w3.org/2000/svg"', ""
    )

    dom = _dom(tmp_path, page)
    assert 'id="headline"' in dom and 'id="speedup-chart"' in dom
    # original, Ruff and optimize bar for each of the four functions
    assert dom.count('class="bar"') == 12
    assert dom.count('data-series="optimize"') == 4 and dom.count('data-series="Ruff"') == 4
    assert dom.count('class="whisker"') == 4  # only timed rewrites have a confidence interval
    assert dom.count('class="fn-label"') == 4
    assert dom.count('data-wrong="true"') == 1  # Ruff's unequal rewrite is outlined
    for label in ("mod.join_tags", "mod.peak_reading", "Per function", "Time per pipeline stage"):
        assert label in dom
    assert "wrong outputs, Ruff" in dom and "<td>NO</td>" in dom

    width, height = _png_size(_screenshot(tmp_path, page))
    assert (width, height) == (1200, 1400)


@needs_chromium
def test_optimize_report_flag_writes_a_page_chromium_can_open(tmp_path: Path) -> None:
    source = tmp_path / "plain.py"
    source.write_text("def add(a: int, b: int) -> int:\n    return a + b\n", encoding="utf-8")
    target = tmp_path / "out.html"
    assert optimize_main([str(source), "--quiet", "--report", str(target)]) == 0
    dom = _dom(tmp_path, target)
    assert "optimize report" in dom and 'id="headline"' in dom
    assert "1 file(s) checked" in dom


def test_report_flag_into_a_missing_directory_fails_cleanly(tmp_path: Path) -> None:
    source = tmp_path / "plain.py"
    source.write_text("def add(a: int, b: int) -> int:\n    return a + b\n", encoding="utf-8")
    assert optimize_main([str(source), "--quiet", "--report", str(tmp_path / "no" / "x.html")]) == 2


@needs_chromium
def test_report_shows_diffs_per_size_ratios_and_run_settings(
    project: Path, run_cli: Runner, tmp_path: Path
) -> None:
    (project / "tags.py").write_text(SLOW_DEDUPE, encoding="utf-8")
    done = run_cli("tags.py", "--report", "out.html", cwd=project)
    assert done.returncode == 0, done.stderr
    assert "optimize: wrote the HTML report to out.html" in done.stdout
    dom = _dom(tmp_path, project / "out.html")
    # The accepted rewrite's diff, as text in the page.
    assert 'class="diff"' in dom
    assert "-    seen = []" in dom and "+    seen = set()" in dom
    # Its ratio at every timed size, in the notation the terminal uses.
    assert "Per-size ratios of accepted rewrites" in dom
    for size in ("10", "1000"):
        assert f'<td>tags.py::unique_tags</td><td class="num">{size}</td>' in dom
    assert dom.count("× [") >= 3  # the candidates row and two per-size rows
    # Python, sandbox level and the settings that shaped the verdicts.
    assert "<dt>Python</dt><dd>CPython 3." in dom
    assert "<dt>sandbox</dt><dd>" in dom
    assert "<td>config.timing.sizes</td><td>[10, 1000]</td>" in dom
    assert '<td>config.verify.max_examples</td><td class="num">50</td>' in dom
    assert '<td>mode</td><td>"report"</td>' in dom


# Draws every bar and whisker's box into the page, so the rendered geometry can be checked.
MEASURE_SCRIPT = """
<script>
const svg = document.getElementById("speedup-chart");
const width = svg.viewBox.baseVal.width;
const boxes = [...svg.querySelectorAll(".bar, .whisker")].map(element => {
  const box = element.getBBox();
  return [element.getAttribute("class"), box.x, box.x + box.width];
});
const ticks = [...svg.querySelectorAll("line")].map(line => [
  line.nextElementSibling.textContent, line.x1.baseVal.value]);
document.body.setAttribute("data-geometry", JSON.stringify({width, boxes, ticks}));
</script>
"""


@needs_chromium
def test_bars_and_whiskers_are_never_clipped(tmp_path: Path) -> None:
    rows = (
        html_report.ChartRow(
            "huge",
            (html_report.Bar("original", 1.0), html_report.Bar("optimize", 1052.0, 980.0, 1190.0)),
        ),
        html_report.ChartRow(
            "slower",
            (html_report.Bar("original", 1.0), html_report.Bar("optimize", 0.04, 0.03, 0.05)),
        ),
    )
    page = html_report.ReportPage("clip test", "", (), rows, ())
    path = tmp_path / "chart.html"
    path.write_text(html_report.render(page).replace("</body>", MEASURE_SCRIPT + "</body>"))
    dom = _dom(tmp_path, path)
    geometry = json.loads(html.unescape(dom.split('data-geometry="', 1)[1].split('"', 1)[0]))
    plot_end = html_report.LABEL_WIDTH + html_report.PLOT_WIDTH
    for kind, left, right in geometry["boxes"]:
        assert left >= html_report.LABEL_WIDTH - 0.5 and right <= plot_end + 0.5, (
            kind,
            left,
            right,
        )
    ticks = {label: x for label, x in geometry["ticks"]}
    bars = [right for kind, _, right in geometry["boxes"] if kind == "bar"]
    whiskers = [right for kind, _, right in geometry["boxes"] if kind == "whisker"]
    assert max(bars) > ticks["1000×"]  # 1052x reaches past the 1000x line, not onto it
    assert max(whiskers) > max(bars)  # its upper whisker (1190x) is drawn in full
    assert min(left for kind, left, _ in geometry["boxes"] if kind == "whisker") > (
        html_report.LABEL_WIDTH  # the 0.03x whisker starts inside the plot, not at its edge
    )
