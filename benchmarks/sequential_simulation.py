"""The sequential design's false-win rate, simulated: A/A samples, many times.

    python -m benchmarks.sequential_simulation [--trials 400] [--spread 0.1]

Draws A/A timing samples (log-normal noise per sample and, per worker, an offset of
its own, the candidate exactly as fast as the original) and runs the decision rule on
them, with the floor at 1.0 so that the floor's margin hides nothing: a "faster"
verdict is then a false win of the statistics alone. Three designs: one 95% look,
four looks each at 95% (what looking again naively does), and four Pocock looks (what
`decide_sequentially` does), each look of 4 worker pairs of 5 samples of each
version, as the defaults do (the first look too: the first pass's shortcut for clear
results needs the floor's margin, which is 0 here). No machine timing is involved,
so the figures are the same on any machine for a given seed. Prints a Markdown
table; exit code 0 when Pocock's rate is within 1.5 points of the single look's, else 1.
"""

from __future__ import annotations

import argparse
import random
from collections.abc import Sequence

from pipeline.model import SizeDecision
from pipeline.stages.timing_stats import LOOK_UNITS, MAX_LOOKS, Samples, decide_sequentially

PAIRS = 5
WORKER_OFFSET = 0.03  # log-normal sigma of a worker's own speed
DESIGNS = {  # name: (looks, per-look confidence; None: Pocock's)
    "one 95% look": (1, 0.95),
    "4 looks at 95% each": (MAX_LOOKS, 0.95),
    "4 Pocock looks (98.2% each)": (MAX_LOOKS, None),
}


def false_win(rng: random.Random, spread: float, looks: int, confidence: float | None) -> bool:
    samples = Samples(10_000, "synthesised")

    def add_units(count: int) -> bool:
        for _ in range(count):
            samples.new_unit()
            offsets = [rng.lognormvariate(0, WORKER_OFFSET) for _ in range(2)]
            for _ in range(PAIRS):
                for candidate in (False, True):
                    seconds = 1e-3 * offsets[candidate] * rng.lognormvariate(0, spread)
                    samples.add(candidate, seconds, 0.0, 0)
        return True

    add_units(LOOK_UNITS)
    decided = decide_sequentially(samples, 1.0, False, add_units, LOOK_UNITS, looks, confidence)
    return decided.decision == SizeDecision.FASTER


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.sequential_simulation")
    parser.add_argument("--trials", type=int, default=400)
    parser.add_argument("--spread", type=float, default=0.1, help="log-normal sigma per sample")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.trials < 1 or args.spread <= 0:
        print("error: --trials and --spread must be > 0")
        return 2
    rates = {}
    for name, (looks, confidence) in DESIGNS.items():
        rng = random.Random(args.seed)
        wins = sum(false_win(rng, args.spread, looks, confidence) for _ in range(args.trials))
        rates[name] = wins / args.trials
    print(f"A/A false-win rate over {args.trials} trials, spread {args.spread}, floor 1.0:\n")
    print("| design | false wins |\n|---|---|")
    for name, rate in rates.items():
        print(f"| {name} | {100 * rate:.1f}% |")
    single, pocock = rates["one 95% look"], rates["4 Pocock looks (98.2% each)"]
    return 0 if pocock <= single + 0.015 else 1


if __name__ == "__main__":
    raise SystemExit(main())
