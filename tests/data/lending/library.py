"""A lending library's bookkeeping, written without type hints, as much real code is."""


class Library:
    def __init__(self, titles):
        self.titles = list(titles)
        self.loans = []

    def lend(self, member, title):
        self.loans.append((member, title))

    def catalogued(self, wanted):
        """The wanted titles the library holds, in the order asked for."""
        found = []
        for title in wanted:
            if title in self.titles:
                found.append(title)
        return found

    def borrowers(self):
        """Every member who borrowed something, in the order of their first loan."""
        seen = []
        for member, _title in self.loans:
            if member not in seen:
                seen.append(member)
        return seen

    def loan_lines(self):
        lines = []
        for member, title in self.loans:
            lines = lines + [member + ": " + title]
        return lines


def serve(requests):
    """Requests answered first come, first served."""
    queue = list(requests)
    served = []
    while queue:
        request = queue.pop(0)
        served.append(request.strip().lower())
    return served


def repeated(names):
    """Names that occur more than once, each once, in first-seen order."""
    out = []
    for name in names:
        if names.count(name) > 1 and name not in out:
            out.append(name)
    return out


def window_totals(values, width):
    """The total of every run of `width` consecutive values."""
    return [sum(values[i : i + width]) for i in range(len(values) - width + 1)]


def shared(left, right):
    """Items of `left` that are also in `right`, duplicates and order as in `left`."""
    return [item for item in left if item in right]


def longest(titles):
    """The first longest title, or "" when there are none."""
    best = ""
    for title in titles:
        if len(title) > len(best):
            best = title
    return best
