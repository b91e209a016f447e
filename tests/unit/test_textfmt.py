"""Counted nouns read as English everywhere ("1 copy", not "1 copies")."""

from __future__ import annotations

import pytest

from app.textfmt import noun, of_total, plural


@pytest.mark.parametrize(("count", "word", "expected"), [
    (1, "copy", "1 copy"), (3, "copy", "3 copies"), (0, "page", "0 pages"), (1, "page", "1 page"),
    (2, "issued form", "2 issued forms"), (1200, "event", "1,200 events"), (2, "entry", "2 entries"),
    (2, "batch", "2 batches"), (2, "day", "2 days"), (2, "critical value", "2 critical values"),
])
def test_plural(count: int, word: str, expected: str) -> None:
    assert plural(count, word) == expected


def test_of_total_follows_the_total() -> None:
    assert of_total(0, 1, "page") == "0 of 1 page"
    assert of_total(1, 5, "page") == "1 of 5 pages"


def test_verbs_and_explicit_plurals() -> None:
    assert noun(2, "was") == "were" and noun(1, "was") == "was"
    assert plural(2, "person") == "2 people"
    assert plural(2, "datum", "data") == "2 data"
