"""The workload: a season of lending; prints a digest of every answer."""

import hashlib
import random

from library import Library, longest, repeated, serve, shared, window_totals


def title(rng):
    return " ".join(rng.choice(["The", "A", "Red", "Last", "Quiet", "Sea", "Map", "Fox"])
                    for _ in range(rng.randint(1, 4))) + f" {rng.randrange(10_000)}"


def main():
    rng = random.Random(23)
    digest = hashlib.sha256()
    library = Library(title(rng) for _ in range(1_500))
    members = [f"member-{rng.randrange(10_000):04d}" for _ in range(400)]
    for _ in range(2_000):
        library.lend(rng.choice(members), rng.choice(library.titles))
    for week in range(3):
        wanted = rng.sample(library.titles, 400) + [title(rng) for _ in range(400)]
        found = library.catalogued(wanted)
        names = [rng.choice(members) for _ in range(2_000)]
        twice = repeated(names)
        served = serve([f"  Request-{rng.randrange(99)} " for _ in range(20_000)])
        totals = window_totals([rng.randrange(100) for _ in range(300)], 25)
        both = shared(names[:300] * 2, members[:200])
        digest.update(repr((found, twice, served[-5:], totals, both)).encode())
        print(f"week {week}: {len(found)} found, {len(twice)} repeated, {len(both)} shared")
    print(f"{len(library.borrowers())} borrowers, {len(library.loan_lines())} lines")
    digest.update(repr((library.borrowers(), library.loan_lines())).encode())
    print(f"longest: {longest(library.titles)!r}, of none: {longest([])!r}")
    print(f"digest {digest.hexdigest()}")


if __name__ == "__main__":
    main()
