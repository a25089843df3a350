"""humanize: numbers, sizes and durations as text, as a dashboard renders them."""

import datetime as dt

import humanize  # type: ignore[import-not-found,import-untyped]

NUMBERS = [i**3 * 7 + i for i in range(1200)]
DELTAS = [dt.timedelta(seconds=s * 97) for s in range(1200)]


def workload() -> object:
    out = []
    for n, delta in zip(NUMBERS, DELTAS, strict=True):
        out.append(humanize.intcomma(n))
        out.append(humanize.intword(n * 1000))
        out.append(humanize.naturalsize(n * 13))
        out.append(humanize.ordinal(n))
        out.append(humanize.naturaldelta(delta))
        out.append(humanize.precisedelta(delta, minimum_unit="seconds"))
        out.append(humanize.scientific(n + 0.5))
        out.append(humanize.fractional(n / 7))
    return out
