"""A small report builder written the way a lot of real code is: correct, but slow."""

from __future__ import annotations


def collect_ids(rows: list[str]) -> list[str]:
    """Stripped, non-empty ids in their original order."""
    ids = []
    for row in rows:
        row = row.strip()
        if row:
            ids = ids + [row]
    return ids


def count_weekend_events(days: list[str]) -> int:
    """Count events that fall on a weekend day."""
    total = 0
    for day in days:
        if day in ["saturday", "sunday", "Saturday", "Sunday", "sat", "sun"]:
            total += 1
    return total


def unique_tags(tags: list[str]) -> list[str]:
    """Tags in first-seen order, without duplicates."""
    seen = []
    ordered = []
    for tag in tags:
        if tag not in seen:
            seen.append(tag)
            ordered.append(tag)
    return ordered


def mean(values: list[float]) -> float:
    """Arithmetic mean; already as fast as it gets."""
    return sum(values) / len(values) if values else 0.0
