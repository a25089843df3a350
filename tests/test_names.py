"""New names a pass writes: a loop variable named for the collection's items."""

from __future__ import annotations

import pytest

from passes._names import singular


@pytest.mark.parametrize(
    ("plural", "expected"),
    [
        ("primes", "prime"),
        ("chars", "char"),
        ("entries", "entry"),
        ("boxes", "box"),
        ("user_ids", "user_id"),
        ("matches", "match"),
        ("xs", None),
        ("status", None),
        ("analysis", None),
        ("data", None),
        ("series", None),
        ("total", None),
    ],
)
def test_singular_of_a_regular_plural_only(plural: str, expected: str | None) -> None:
    assert singular(plural) == expected
