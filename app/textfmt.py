"""Counted nouns in plain English ("1 copy", "3 copies", "0 of 1 page back"): one helper for the GUI, the CLI
and the PDFs, which import nothing else from here."""

from __future__ import annotations

_IRREGULAR = {"copy": "copies", "entry": "entries", "was": "were", "is": "are", "it": "them", "has": "have",
              "its": "their", "this": "these", "does": "do", "deviation": "deviations", "sheet": "sheets",
              "value": "values", "finding": "findings", "issuance": "issuances", "person": "people",
              "property": "properties", "discrepancy": "discrepancies", "inquiry": "inquiries"}


def noun(count: int, word: str, plural_word: str | None = None) -> str:
    """``word`` in the number that ``count`` asks for, without the count."""
    if count == 1:
        return word
    if plural_word is not None:
        return plural_word
    if word in _IRREGULAR:
        return _IRREGULAR[word]
    head, _, last = word.rpartition(" ")  # "issued form" -> "issued forms"
    if last in _IRREGULAR:
        return f"{head} {_IRREGULAR[last]}".strip()
    if last.endswith(("s", "x", "ch", "sh")):
        return f"{word}es"
    if last.endswith("y") and last[-2:-1] not in tuple("aeiou"):
        return f"{word[:-1]}ies"
    return f"{word}s"


def plural(count: int, word: str, plural_word: str | None = None) -> str:
    """``"1 copy"``, ``"3 copies"``, ``"1,200 pages"``."""
    return f"{count:,} {noun(count, word, plural_word)}"


def of_total(done: int, total: int, word: str) -> str:
    """``"0 of 1 page"``, ``"2 of 5 pages"``: the noun follows the total."""
    return f"{done:,} of {plural(total, word)}"
