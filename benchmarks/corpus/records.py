# ruff: noqa
"""Record handling: grouping, dedupe, joins, validation and cleaning of row data."""

import random
from typing import Callable

_FIRST: tuple[str, ...] = ("Ana", "Ben", "Chen", "Dara", "Eli", "Fay", "Gus", "Hana", "Ivo", "Jo")
_LAST: tuple[str, ...] = ("Smith", "Okafor", "Garcia", "Ng", "Muller", "Rossi", "Kim", "Silva")
_DEPARTMENTS: tuple[str, ...] = ("sales", "engineering", "support", "finance", "legal", "ops")


def group_names_by_department(rows: list[dict[str, str]]) -> dict[str, list[str]]:
    """Group employee names by their department, preserving row order within groups."""
    groups = {}
    for row in rows:
        dept = row["department"]
        if dept in groups.keys():
            groups[dept] = groups[dept] + [row["name"]]
        else:
            groups[dept] = [row["name"]]
    return groups


def _inputs_group_names_by_department(n: int) -> tuple[object, ...]:
    rng = random.Random(n)
    rows = [
        {"name": f"{rng.choice(_FIRST)} {rng.choice(_LAST)}", "department": rng.choice(_DEPARTMENTS),
         "id": str(i)}
        for i in range(n)
    ]
    return (rows,)


def dedupe_emails(emails: list[str]) -> list[str]:
    """Normalise e-mail addresses and drop duplicates, keeping the first occurrence."""
    seen = []
    result = []
    for email in emails:
        norm = email.strip().lower()
        if norm in seen:
            continue
        seen.append(norm)
        result.append(norm)
    return result


def _inputs_dedupe_emails(n: int) -> tuple[object, ...]:
    rng = random.Random(n + 1)
    pool = [f"{rng.choice(_FIRST)}.{rng.choice(_LAST)}{i}@example.org" for i in range(n // 2 + 1)]
    emails = []
    for _ in range(n):
        e = rng.choice(pool)
        emails.append(e.upper() if rng.random() < 0.2 else (" " + e if rng.random() < 0.1 else e))
    return (emails,)


def merge_batches(batches: list[list[int]]) -> list[int]:
    """Concatenate batches of record ids into one flat list."""
    return sum(batches, [])


def _inputs_merge_batches(n: int) -> tuple[object, ...]:
    rng = random.Random(n + 2)
    batches = [[rng.randint(1, 10**6) for _ in range(rng.randint(0, 20))] for _ in range(n)]
    return (batches,)


def first_active_username(users: list[tuple[str, bool]]) -> str:
    """Return the name of the first active user, or '' when nobody is active."""
    active = list(filter(lambda u: u[1], users))
    if not active:
        return ""
    return active[0][0]


def _inputs_first_active_username(n: int) -> tuple[object, ...]:
    rng = random.Random(n + 3)
    users = [(f"user{i}", rng.random() < 0.3) for i in range(n)]
    return (users,)


def clean_phone_numbers(raw: list[str]) -> list[str]:
    """Strip formatting from phone numbers and keep only the 10-character results."""
    cleaned = []
    for number in raw:
        digits = ""
        for ch in number:
            if ch in ("(", ")", "-", " ", ".", "+"):
                continue
            digits += ch
        if len(digits) == 10:
            cleaned.append(digits)
    return cleaned


def _inputs_clean_phone_numbers(n: int) -> tuple[object, ...]:
    rng = random.Random(n + 4)
    formats = ["({a}) {b}-{c}", "{a}-{b}-{c}", "{a}.{b}.{c}", "+1 {a} {b} {c}", "{a}{b}{c}", "{a}-{b}"]
    raw = []
    for _ in range(n):
        a, b, c = rng.randint(200, 999), rng.randint(100, 999), rng.randint(1000, 9999)
        raw.append(rng.choice(formats).format(a=a, b=b, c=c))
    return (raw,)


def snapshot_rows(rows: list[tuple[int, str, int]]) -> list[tuple[int, str, int]]:
    """Return a shallow copy of the rows so later edits can be diffed against it."""
    snapshot = []
    for row in rows:
        snapshot.append(row)
    return snapshot


def _inputs_snapshot_rows(n: int) -> tuple[object, ...]:
    rng = random.Random(n + 5)
    return ([(i, rng.choice(_LAST), rng.randint(0, 999)) for i in range(n)],)


def revenue_by_customer(orders: list[tuple[str, int]]) -> dict[str, int]:
    """Sum order amounts in cents per customer, in order of first order."""
    totals = {}
    for customer, cents in orders:
        if customer not in totals.keys():
            totals[customer] = 0
        totals[customer] += cents
    return totals


def _inputs_revenue_by_customer(n: int) -> tuple[object, ...]:
    rng = random.Random(n + 6)
    customers = [f"C{i:05d}" for i in range(max(1, n // 10))]
    return ([(rng.choice(customers), rng.randint(99, 250_000)) for _ in range(n)],)


def attach_customer_names(
    orders: list[tuple[int, int, int]], customers: list[tuple[int, str]]
) -> list[tuple[int, str, int]]:
    """Join (order_id, customer_id, cents) orders with customer names, 'unknown' if absent."""
    joined = []
    for order_id, customer_id, cents in orders:
        name = "unknown"
        for cid, cname in customers:
            if cid == customer_id:
                name = cname
                break
        joined.append((order_id, name, cents))
    return joined


def _inputs_attach_customer_names(n: int) -> tuple[object, ...]:
    rng = random.Random(n + 7)
    n_customers = max(1, n // 2)
    ids = list(range(1000, 1000 + n_customers))
    rng.shuffle(ids)
    customers = [(cid, f"{rng.choice(_FIRST)} {rng.choice(_LAST)}") for cid in ids]
    orders = [(i, rng.randint(1000, 1000 + n_customers + n_customers // 10), rng.randint(100, 99_999))
              for i in range(n)]
    return (orders, customers)


def find_duplicate_ids(ids: list[int]) -> list[int]:
    """Return ids that occur more than once, in the order their repeat is first seen."""
    duplicates = []
    for i in range(len(ids)):
        for j in range(i):
            if ids[i] == ids[j]:
                if ids[i] not in duplicates:
                    duplicates.append(ids[i])
                break
    return duplicates


def _inputs_find_duplicate_ids(n: int) -> tuple[object, ...]:
    rng = random.Random(n + 8)
    return ([rng.randint(1, n * 20) for _ in range(n)],)


def records_missing_fields(records: list[dict[str, str]], required: list[str]) -> list[int]:
    """Return indices of records lacking a required field or holding an empty value for it."""
    bad = []
    for i in range(len(records)):
        for field in required:
            if field not in records[i].keys() or records[i][field] == "":
                bad.append(i)
                break
    return bad


def _inputs_records_missing_fields(n: int) -> tuple[object, ...]:
    rng = random.Random(n + 9)
    fields = ["id", "name", "email", "country", "plan", "created"]
    records = []
    for i in range(n):
        rec = {f: f"{f}-{i}" for f in fields}
        if rng.random() < 0.1:
            del rec[rng.choice(fields)]
        if rng.random() < 0.1:
            rec[rng.choice(fields)] = ""
        records.append(rec)
    return (records, ["id", "name", "email", "plan"])


OPTIMIZE_INPUTS: dict[str, Callable[[int], tuple[object, ...]]] = {
    "group_names_by_department": _inputs_group_names_by_department,
    "dedupe_emails": _inputs_dedupe_emails,
    "merge_batches": _inputs_merge_batches,
    "first_active_username": _inputs_first_active_username,
    "clean_phone_numbers": _inputs_clean_phone_numbers,
    "snapshot_rows": _inputs_snapshot_rows,
    "revenue_by_customer": _inputs_revenue_by_customer,
    "attach_customer_names": _inputs_attach_customer_names,
    "find_duplicate_ids": _inputs_find_duplicate_ids,
    "records_missing_fields": _inputs_records_missing_fields,
}

OPTIMIZE_SIZES: dict[str, tuple[int, ...]] = {
    "group_names_by_department": (1_000, 5_000, 20_000),
    "dedupe_emails": (500, 2_000, 4_000),
    "merge_batches": (300, 1_000, 3_000),
    "first_active_username": (1_000, 10_000, 100_000),
    "clean_phone_numbers": (1_000, 10_000, 50_000),
    "snapshot_rows": (1_000, 10_000, 100_000),
    "revenue_by_customer": (1_000, 10_000, 100_000),
    "attach_customer_names": (200, 1_000, 3_000),
    "find_duplicate_ids": (200, 1_000, 2_500),
    "records_missing_fields": (1_000, 10_000, 50_000),
}

CATEGORY: dict[str, str] = {
    "group_names_by_department": "idiom",
    "dedupe_emails": "idiom",
    "merge_batches": "idiom",
    "first_active_username": "idiom",
    "clean_phone_numbers": "idiom",
    "snapshot_rows": "idiom",
    "revenue_by_customer": "idiom",
    "attach_customer_names": "llm-only",
    "find_duplicate_ids": "llm-only",
    "records_missing_fields": "idiom",
}

IDIOM: dict[str, str] = {
    "group_names_by_department": "`d[k] = d[k] + [x]` list rebuild inside a dict, plus `k in d.keys()`",
    "dedupe_emails": "`seen` list for dedupe (O(n^2) membership)",
    "merge_batches": "sum(list_of_lists, []) flattening",
    "first_active_username": "list(filter(lambda ...)) materialised just to take element [0]",
    "clean_phone_numbers": "per-char str += and membership in a tuple literal of constants",
    "snapshot_rows": "manual copy loop instead of list(rows) / rows.copy()",
    "revenue_by_customer": "manual accumulation dict with `k not in d.keys()`",
    "attach_customer_names": "nested-loop join (linear scan per order) instead of a dict lookup",
    "find_duplicate_ids": "O(n^2) duplicate detection with nested index loops",
    "records_missing_fields": "range(len(records)) indexing plus `k in d.keys()`",
}
