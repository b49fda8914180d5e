"""Player names: readable, and unique among the players of a league or a match.

A name is the player's own (its ``name``, else the one its type generates
from its options), plus ``@key=value`` for the options that tell it apart
from the others; one function serves league sweeps and ``arena play``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any


@dataclass(frozen=True)
class NameParts:
    """What a player's name is made of: its own name and the options that can tell it apart."""

    base: str  #: its ``name``, else the name its type generates from the options (``stockfish-skill3``)
    options: dict[str, Any]
    short: dict[str, str] = field(default_factory=dict)  #: the type's ``option_abbreviations`` ({'temperature': 't'})


_ABSENT = object()


def distinct_names(players: list[NameParts]) -> list[str]:
    """Names that tell the players apart: each base, plus ``@key=value`` for the options that must show.

    An option shows when its values differ between players and their base
    names do not already tell them apart by it (``stockfish-skill1`` and
    ``stockfish-skill3`` need no ``@skill=``; ``stockfish@nodes=50`` and
    ``stockfish@nodes=200`` do). Nested options show as ``player.skill``. A
    path shows as its shortest trailing part that differs from the others
    (``a/model`` and ``b/model`` for ``a/model.pt`` and ``b/model.pt``).
    Players whose options are the same keep the same name: the caller decides
    (a league refuses it, a match numbers them).
    """
    flat = [_flatten(player.options) for player in players]
    keys = [key for key in dict.fromkeys(k for values in flat for k in values)
            if len({repr(values.get(key, _ABSENT)) for values in flat}) > 1]
    bases = [player.base for player in players]
    shown = [key for key in keys if not _reflected(key, keys, bases, flat)]
    while True:
        names = _compose(players, flat, [key for key in keys if key in shown])
        extra = _still_needed(names, flat, keys, shown)
        if extra is None:
            return names
        shown.append(extra)


def _reflected(key: str, keys: list[str], bases: list[str], flat: list[dict[str, Any]]) -> bool:
    """Whether players that differ only in ``key`` always have different base names (equal values: the same)."""
    groups: dict[tuple, tuple[set[str], set[str]]] = {}
    for base, values in zip(bases, flat):
        rest = tuple(repr(values.get(other, _ABSENT)) for other in keys if other != key)
        seen_values, seen_bases = groups.setdefault(rest, (set(), set()))
        seen_values.add(repr(values.get(key, _ABSENT)))
        seen_bases.add(base)
    return all(len(seen_bases) == len(seen_values) for seen_values, seen_bases in groups.values())


def _still_needed(names: list[str], flat: list[dict[str, Any]], keys: list[str], shown: list[str]) -> str | None:
    """A key to show next because players with different options still share a name (options varying together)."""
    for name in {name for name in names if names.count(name) > 1}:
        same = [values for values, other in zip(flat, names) if other == name]
        for key in keys:
            if key not in shown and len({repr(values.get(key, _ABSENT)) for values in same}) > 1:
                return key
    return None


def _compose(players: list[NameParts], flat: list[dict[str, Any]], shown: list[str]) -> list[str]:
    labels = {key: _labels([values.get(key, _ABSENT) for values in flat]) for key in shown}
    names = []
    for index, (player, values) in enumerate(zip(players, flat)):
        parts = [f"{player.short.get(key, key)}={labels[key][index]}" for key in shown if key in values]
        names.append(f"{player.base}@{','.join(parts)}" if parts else player.base)
    return names


def _flatten(options: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in options.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def _labels(values: list[Any]) -> list[str]:
    """How each value shows in a name: paths by their distinguishing trailing part, the rest as text."""
    trails = _trailing_parts(sorted({value for value in values if isinstance(value, str) and "/" in value}))
    return [trails[value] if isinstance(value, str) and value in trails else str(value) for value in values]


def _trailing_parts(paths: list[str]) -> dict[str, str]:
    """Each path's shortest trailing part that no other path ends with (without the extension where that suffices)."""
    split = {path: [part for part in PurePath(path).parts if part != PurePath(path).anchor] for path in paths}
    longest = max((len(parts) for parts in split.values()), default=0)
    for keep_suffix in (False, True):
        for depth in range(1, longest + 1):
            tails = {path: _tail(parts, depth, keep_suffix) for path, parts in split.items()}
            if len(set(tails.values())) == len(tails):
                return tails
    return {path: path for path in paths}


def _tail(parts: list[str], depth: int, keep_suffix: bool) -> str:
    tail = parts[-depth:]
    last = tail[-1] if keep_suffix else PurePath(tail[-1]).stem
    return "/".join([*tail[:-1], last])
