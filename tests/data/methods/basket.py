"""Shopping baskets (no type hints on the class)."""

import random


class Basket:
    def __init__(self, skus=()):
        self.skus = list(skus)

    def count(self, sku):
        return self.skus.count(sku)

    # SKUs bought more than once, in first-seen order.
    def repeated(self):
        out = []
        for sku in self.skus:
            if self.count(sku) > 1 and sku not in out:
                out.append(sku)
        return out

    def empty(self):
        return not self.skus


def _basket(n):
    rng = random.Random(n)
    return (Basket(f"s{rng.randrange(n // 2 + 1)}" for _ in range(n)),)


OPTIMIZE_INPUTS = {"Basket.repeated": _basket}
