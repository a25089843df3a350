"""A shop module as a new user writes it: no type hints, methods, list idioms.

`python -m benchmarks.workload` traces `run.py` over it, then `optimize . --write`.
"""


"""A shop module as a new user writes it: no type hints, methods, list idioms.

`python -m benchmarks.workload` traces `run.py` over it, then `optimize . --write`.
"""


def unique_skus(orders):
    out = []
    for sku in orders:
        if sku not in out:
            out.append(sku)
    return out


def common(left, right):
    return [t for t in left if t in right]


def vowels(word):
    return sum(1 for ch in word if ch in ["a", "e", "i", "o", "u"])


def merge(reports):
    merged = []
    for report in reports:
        merged = merged + report
    return merged


def reachable(graph, start):
    seen = [start]
    queue = [start]
    order = []
    while queue:
        node = queue.pop(0)
        order.append(node)
        for nxt in graph[node]:
            if nxt not in seen:
                seen.append(nxt)
                queue.append(nxt)
    return order


class Catalog:
    def __init__(self, items):
        self.items = items

    def known(self, wanted):
        hits = []
        for w in wanted:
            if w in self.items:
                hits.append(w)
        return hits
