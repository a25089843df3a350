# ruff: noqa
"""Text processing: tag joining, report rendering, slugs, tokenising, CSV output, edit distance."""

import random
import re
from typing import Callable

_WORDS: tuple[str, ...] = (
    "the", "quick", "brown", "fox", "jumps", "over", "lazy", "dog", "data", "pipeline",
    "invoice", "customer", "shipping", "python", "server", "request", "error", "cache",
    "and", "of", "to", "in", "is", "it", "for", "on", "with", "as", "was", "at",
    "report", "monthly", "revenue", "growth", "market", "signal", "noise", "vector",
)

_STOPWORDS: list[str] = [
    "a", "about", "above", "after", "again", "against", "all", "am", "an", "and", "any",
    "are", "as", "at", "be", "because", "been", "before", "being", "below", "between",
    "both", "but", "by", "can", "did", "do", "does", "doing", "down", "during", "each",
    "few", "for", "from", "further", "had", "has", "have", "having", "he", "her", "here",
    "hers", "herself", "him", "himself", "his", "how", "i", "if", "in", "into", "is", "it",
    "its", "itself", "just", "me", "more", "most", "my", "myself", "no", "nor", "not", "now",
    "of", "off", "on", "once", "only", "or", "other", "our", "ours", "ourselves", "out",
    "over", "own", "same", "she", "should", "so", "some", "such", "than", "that", "the",
    "their", "theirs", "them", "themselves", "then", "there", "these", "they", "this",
    "those", "through", "to", "too", "under", "until", "up", "very", "was", "we", "were",
    "what", "when", "where", "which", "while", "who", "whom", "why", "will", "with", "you",
]


def join_tags(tags: list[str]) -> str:
    """Join the non-blank tags into a single comma-and-space separated string."""
    out = ""
    for tag in tags:
        if tag.strip():
            out += tag.strip() + ", "
    return out[:-2]


def _inputs_join_tags(n: int) -> tuple[object, ...]:
    rng = random.Random(n)
    tags = [rng.choice(_WORDS) if rng.random() > 0.1 else "  " for _ in range(n)]
    return (tags,)


def render_inventory(items: list[tuple[str, int]]) -> str:
    """Render an inventory table, one line per item that is in stock."""
    report = ""
    for name, qty in items:
        if qty <= 0:
            continue
        report += name.ljust(14) + " | " + str(qty).rjust(5) + "\n"
    return report.strip()


def _inputs_render_inventory(n: int) -> tuple[object, ...]:
    rng = random.Random(n + 1)
    items = [(f"{rng.choice(_WORDS)}-{i:05d}", rng.randint(-5, 400)) for i in range(n)]
    return (items,)


def slugify_titles(titles: list[str]) -> list[str]:
    """Turn article titles into lower-case URL slugs made of alphanumerics and dashes."""
    slugs = []
    for title in titles:
        slug = ""
        for ch in title.lower():
            if ch.isalnum():
                slug += ch
            elif ch in [" ", "-", "_", "/", ".", ":"]:
                slug += "-"
        slugs.append("-".join(part for part in slug.split("-") if part))
    return slugs


def _inputs_slugify_titles(n: int) -> tuple[object, ...]:
    rng = random.Random(n + 2)
    seps = [" ", " - ", ": ", "/", "_", "! ", "? ", ". "]
    titles = []
    for _ in range(n):
        parts = [rng.choice(_WORDS).capitalize() for _ in range(rng.randint(3, 9))]
        title = ""
        for p in parts:
            title += p + rng.choice(seps)
        titles.append(title)
    return (titles,)


def hostnames(urls: list[str]) -> list[str]:
    """Extract the lower-cased host (without port) from each URL."""
    hosts = []
    for url in urls:
        rest = url.split("://")[1] if "://" in url else url
        host = rest.split("/")[0]
        hosts.append(host.split(":")[0].lower())
    return hosts


def _inputs_hostnames(n: int) -> tuple[object, ...]:
    rng = random.Random(n + 3)
    domains = ["example.com", "API.Service.io", "cdn.static.net", "localhost:8080", "db.internal:5432"]
    urls = []
    for i in range(n):
        scheme = rng.choice(["https://", "http://", ""])
        path = "/".join(rng.choice(_WORDS) for _ in range(rng.randint(0, 6)))
        urls.append(f"{scheme}{rng.choice(domains)}/{path}?id={i}")
    return (urls,)


def word_frequencies(text: str) -> dict[str, int]:
    """Count how often each lower-cased word occurs in a text, ignoring punctuation."""
    counts = {}
    for raw in text.split():
        word = raw.strip(".,;:!?\"'()").lower()
        if not word:
            continue
        if word in counts.keys():
            counts[word] += 1
        else:
            counts[word] = 1
    return counts


def _inputs_word_frequencies(n: int) -> tuple[object, ...]:
    rng = random.Random(n + 4)
    words = []
    for _ in range(n):
        w = rng.choice(_WORDS)
        if rng.random() < 0.2:
            w = w.capitalize()
        if rng.random() < 0.1:
            w += rng.choice([".", ",", "!", "?", ";"])
        words.append(w)
    return (" ".join(words),)


def find_ticket_ids(messages: list[str]) -> list[str]:
    """Collect every JIRA-style ticket id (e.g. OPS-1234) mentioned in commit messages."""
    found = []
    for message in messages:
        pattern = re.compile(r"\b[A-Z]{2,5}-\d{1,5}\b")
        for match in pattern.findall(message):
            found.append(match)
    return found


def _inputs_find_ticket_ids(n: int) -> tuple[object, ...]:
    rng = random.Random(n + 5)
    projects = ["OPS", "CORE", "WEB", "DATA", "QA"]
    msgs = []
    for _ in range(n):
        words = [rng.choice(_WORDS) for _ in range(rng.randint(3, 10))]
        if rng.random() < 0.7:
            words.insert(rng.randint(0, len(words)), f"{rng.choice(projects)}-{rng.randint(1, 9999)}")
        msgs.append(" ".join(words))
    return (msgs,)


def normalize_tokens(tokens: list[str]) -> list[str]:
    """Strip and lower-case tokens, then drop the ones that are not purely alphanumeric."""
    cleaned = list(map(lambda t: t.strip().lower(), tokens))
    return list(filter(lambda t: t.isalnum(), cleaned))


def _inputs_normalize_tokens(n: int) -> tuple[object, ...]:
    rng = random.Random(n + 6)
    extras = ["--", "  ", "n/a", "e-mail", "#", "..."]
    tokens = [
        (" " + rng.choice(_WORDS).upper() + " ") if rng.random() < 0.8 else rng.choice(extras)
        for _ in range(n)
    ]
    return (tokens,)


def remove_stopwords(words: list[str], stopwords: list[str]) -> list[str]:
    """Drop words that appear (case-insensitively) in the given stopword list."""
    kept = []
    for w in words:
        if w.lower() not in stopwords:
            kept.append(w)
    return kept


def _inputs_remove_stopwords(n: int) -> tuple[object, ...]:
    rng = random.Random(n + 7)
    words = [rng.choice(_WORDS).capitalize() if rng.random() < 0.3 else rng.choice(_WORDS) for _ in range(n)]
    return (words, list(_STOPWORDS))


def to_csv(rows: list[list[str]]) -> str:
    """Serialise rows of fields as CSV text, quoting fields that contain commas or quotes."""
    doc = ""
    for row in rows:
        line = ""
        for field in row:
            if "," in field or '"' in field:
                field = '"' + field.replace('"', '""') + '"'
            line += field + ","
        doc += line[:-1] + "\r\n"
    return doc


def _inputs_to_csv(n: int) -> tuple[object, ...]:
    rng = random.Random(n + 8)
    rows = []
    for i in range(n):
        rows.append([
            str(i),
            rng.choice(_WORDS),
            f"{rng.choice(_WORDS)}, {rng.choice(_WORDS)}" if rng.random() < 0.2 else rng.choice(_WORDS),
            f'say "{rng.choice(_WORDS)}"' if rng.random() < 0.1 else "",
            str(rng.randint(0, 10_000)),
        ])
    return (rows,)


def longest_common_prefix(paths: list[str]) -> str:
    """Return the longest prefix shared by every string in the list."""
    if not paths:
        return ""
    prefix = ""
    for i in range(1, len(paths[0]) + 1):
        candidate = paths[0][:i]
        for p in paths:
            if p[:i] != candidate:
                return prefix
        prefix = candidate
    return prefix


def _inputs_longest_common_prefix(n: int) -> tuple[object, ...]:
    rng = random.Random(n + 9)
    root = "/srv/data/" + "/".join(rng.choice(_WORDS) for _ in range(max(2, n // 25)))
    paths = [root + "/" + rng.choice(_WORDS) + f"/file_{i}.csv" for i in range(n)]
    return (paths,)


def count_anagram_pairs(words: list[str]) -> int:
    """Count unordered pairs of words that are anagrams of each other."""
    count = 0
    for i in range(len(words)):
        for j in range(i + 1, len(words)):
            if sorted(words[i]) == sorted(words[j]):
                count += 1
    return count


def _inputs_count_anagram_pairs(n: int) -> tuple[object, ...]:
    rng = random.Random(n + 10)
    words = []
    for _ in range(n):
        letters = list(rng.choice(_WORDS))
        rng.shuffle(letters)
        words.append("".join(letters))
    return (words,)


def edit_distance(source: str, target: str) -> int:
    """Return the fewest insertions, deletions and substitutions turning source into target."""
    if not source:
        return len(target)
    if not target:
        return len(source)
    if source[0] == target[0]:
        return edit_distance(source[1:], target[1:])
    return 1 + min(edit_distance(source[1:], target), edit_distance(source, target[1:]), edit_distance(source[1:], target[1:]))


def _inputs_edit_distance(n: int) -> tuple[object, ...]:
    rng = random.Random(n)
    letters = "abcdefghij"
    return (
        "".join(rng.choice(letters) for _ in range(n)),
        "".join(rng.choice(letters) for _ in range(n)),
    )


OPTIMIZE_INPUTS: dict[str, Callable[[int], tuple[object, ...]]] = {
    "join_tags": _inputs_join_tags,
    "render_inventory": _inputs_render_inventory,
    "slugify_titles": _inputs_slugify_titles,
    "hostnames": _inputs_hostnames,
    "word_frequencies": _inputs_word_frequencies,
    "find_ticket_ids": _inputs_find_ticket_ids,
    "normalize_tokens": _inputs_normalize_tokens,
    "remove_stopwords": _inputs_remove_stopwords,
    "to_csv": _inputs_to_csv,
    "longest_common_prefix": _inputs_longest_common_prefix,
    "count_anagram_pairs": _inputs_count_anagram_pairs,
    "edit_distance": _inputs_edit_distance,
}

OPTIMIZE_SIZES: dict[str, tuple[int, ...]] = {
    "join_tags": (1_000, 10_000, 100_000),
    "render_inventory": (1_000, 10_000, 50_000),
    "slugify_titles": (100, 1_000, 5_000),
    "hostnames": (1_000, 10_000, 50_000),
    "word_frequencies": (1_000, 10_000, 100_000),
    "find_ticket_ids": (1_000, 10_000, 50_000),
    "normalize_tokens": (1_000, 10_000, 100_000),
    "remove_stopwords": (1_000, 10_000, 50_000),
    "to_csv": (1_000, 5_000, 20_000),
    "longest_common_prefix": (200, 1_000, 2_000),
    "count_anagram_pairs": (100, 300, 500),
    "edit_distance": (6, 8, 10),
}

CATEGORY: dict[str, str] = {
    "join_tags": "idiom",
    "render_inventory": "idiom",
    "slugify_titles": "idiom",
    "hostnames": "idiom",
    "word_frequencies": "idiom",
    "find_ticket_ids": "idiom",
    "normalize_tokens": "idiom",
    "remove_stopwords": "idiom",
    "to_csv": "idiom",
    "longest_common_prefix": "llm-only",
    "count_anagram_pairs": "llm-only",
    "edit_distance": "idiom",
}

IDIOM: dict[str, str] = {
    "join_tags": "str += with separator and conditional, trailing separator cut with [:-2]",
    "render_inventory": "str += of formatted lines with continue, trailing newline removed with .strip()",
    "slugify_titles": "per-char str += and membership in a list literal of constants",
    "hostnames": "s.split(sep)[0] / [1] instead of partition",
    "word_frequencies": "manual counting dict with `k in d.keys()`",
    "find_ticket_ids": "re.compile of a constant pattern inside the loop",
    "normalize_tokens": "list(map(lambda ...)) and list(filter(lambda ...))",
    "remove_stopwords": "membership test on a list parameter inside a loop",
    "to_csv": "nested str += (field and line accumulators), trailing comma cut with [:-1]",
    "longest_common_prefix": "naive longest common prefix with repeated slicing (O(n*L^2))",
    "count_anagram_pairs": "O(n^2) pair loop re-sorting both words every comparison",
    "edit_distance": "Levenshtein recursion with min over three calls, no memo (exponential)",
}
