"""Words for messages: a count with its noun in the right number."""

from __future__ import annotations


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    """``1 game``, ``2 games``: the count with its noun in the right number (``nouns`` when not noun + s)."""
    return f"{count} {noun if count == 1 else nouns or noun + 's'}"
