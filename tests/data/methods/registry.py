"""A small name registry: the kind of class found in real projects, with the textbook
O(n^2) `if x not in seen_list` de-duplication in several kinds of method.

`Registry.new_names` reads `self`, so it is verified and timed through the
OPTIMIZE_INPUTS hook at the end, which builds an instance; `Registry.distinct`
never reads `self`, so any object stands in for it.
"""

import random


class Registry:
    """Names already taken, plus helpers to add more."""

    def __init__(self, known=()):
        self.known = set(known)

    # Names not yet taken, first occurrence only, in order.
    def new_names(self, names: list[str]) -> list[str]:
        seen = []
        fresh = []
        for name in names:
            if name not in seen and name not in self.known:
                seen.append(name)  # remember it
                fresh.append(name)
        return fresh

    def distinct(self, values: list[int]) -> list[int]:  # never reads self
        found = []
        out = []
        for value in values:
            if value not in found:
                found.append(value)
                out.append(value)
        return out

    @staticmethod
    def first_codes(codes: list[int]) -> list[int]:
        """Codes without repeats, in first-seen order."""
        kept = []
        result = []
        for code in codes:
            if code not in kept:
                kept.append(code)
                result.append(code)
        return result

    class Report:
        @classmethod
        def headings(cls, names: list[str]) -> list[str]:
            met = []
            out = []
            for name in names:
                if name not in met:
                    met.append(name)
                    out.append(name.title())
            return out

    def size(self):
        return len(self.known)


def _registry_and_names(n):
    rng = random.Random(n)
    known = {f"user{i}" for i in range(0, n, 3)}
    return (Registry(known), [f"user{rng.randrange(n + 1)}" for _ in range(n)])


OPTIMIZE_INPUTS = {"Registry.new_names": _registry_and_names}
