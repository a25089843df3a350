"""tabulate: render mixed-type tables in a few formats (a CLI report's job)."""

from tabulate import tabulate  # type: ignore[import-not-found,import-untyped]

ROWS = [
    [i, f"name {i}", i * 3.14159, None if i % 7 == 0 else i % 3 == 0, f"{i:,}\nline two"]
    for i in range(240)
]
HEADERS = ["id", "name", "value", "flag", "notes"]


def workload() -> object:
    return [
        tabulate(ROWS, headers=HEADERS, tablefmt=fmt, floatfmt=".2f")
        for fmt in ("simple", "grid", "github", "pipe", "html")
    ]
