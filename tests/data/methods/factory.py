"""A factory that returns a helper: the factory's result (a function) cannot be
compared, but the helper captures nothing of it, so it is checked on its own."""


def make_dedupe():
    # Order-preserving de-duplication.
    def dedupe(items: list[int]) -> list[int]:
        seen = []
        out = []
        for x in items:
            if x not in seen:
                seen.append(x)
                out.append(x)
        return out

    return dedupe
