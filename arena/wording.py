"""Words for messages: a count with its noun in the right number."""

from __future__ import annotations


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    """``1 game``, ``2 games``: the count with its noun in the right number (``nouns`` when not noun + s)."""
    return f"{count} {noun if count == 1 else nouns or noun + 's'}"


def rating_band(rating: float, width: int) -> tuple[int, str]:
    """The band of ``width`` rating points holding ``rating``: its lowest rating (to sort by) and its
    label, ``1400-1599`` for 1500 in bands of 200."""
    low = int(rating // width * width)
    return low, f"{low}-{low + width - 1}"
