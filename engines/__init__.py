"""Finding chess engines on this machine, and Stockfish's anchor ratings (anchors.yaml).

Debian installs engines in /usr/games, which is often not on PATH, so it is
searched too. ``install.sh`` beside this file installs Stockfish on Debian.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
from pathlib import Path
from typing import Any, Iterable, Mapping

import yaml

from arena.errors import ConfigError, EngineNotFoundError

STOCKFISH_ENV = "ARENA_STOCKFISH"
ANCHORS_ENV = "ARENA_ANCHORS"
ANCHORS_FILE = Path(__file__).with_name("anchors.yaml")
EXTRA_DIRS = ("/usr/games", "/usr/local/games")
#: The UCI options of every Stockfish arena starts by default (the ``stockfish`` preset, the
#: adjudicator): one thread and a small hash each, since many run side by side.
STOCKFISH_DEFAULTS = {"Threads": 1, "Hash": 16}


def locate_engine(command: str) -> str:
    """The absolute path of an engine given as a path or a command name.

    Looks at the path itself, then PATH, then /usr/games and /usr/local/games.
    """
    if os.sep in command:
        path = Path(command).expanduser()
        if path.is_file() and os.access(path, os.X_OK):
            return str(path.resolve())
        raise EngineNotFoundError(f"engine {command!r} is not an executable file; check the path")
    found = shutil.which(command) or shutil.which(command, path=os.pathsep.join(EXTRA_DIRS))
    if found is None:
        raise EngineNotFoundError(
            f"engine {command!r} was not found on PATH or in {', '.join(EXTRA_DIRS)}; "
            f"install it (on Debian or Ubuntu: apt-get install {command}) or give its full path"
        )
    return found


def locate_stockfish(path: str | None = None) -> str:
    """Stockfish from ``path``, else $ARENA_STOCKFISH, else PATH and /usr/games."""
    chosen = path or os.environ.get(STOCKFISH_ENV)
    try:
        return locate_engine(chosen or "stockfish")
    except EngineNotFoundError:
        where = f"{chosen!r} (from {'the path option' if path else STOCKFISH_ENV})" if chosen else "'stockfish'"
        raise EngineNotFoundError(
            f"Stockfish {where} was not found; install it with 'apt-get install stockfish' "
            f"(Debian/Ubuntu, or run engines/install.sh), or set {STOCKFISH_ENV}=/path/to/stockfish"
        ) from None


@functools.lru_cache(maxsize=None)
def _anchor_tables(extra: str | None) -> tuple[dict[str, Any], ...]:
    tables: list[dict[str, Any]] = []
    for path in ([Path(extra)] if extra else []) + [ANCHORS_FILE]:
        try:
            entries = yaml.safe_load(path.read_text()) or []
        except (OSError, yaml.YAMLError) as error:
            raise ConfigError(f"anchor table {str(path)!r} cannot be read: {error}") from None
        if not isinstance(entries, list) or not all(
            isinstance(entry, dict) and isinstance(entry.get("limits"), dict) and isinstance(entry.get("skill"), dict)
            for entry in entries
        ):
            raise ConfigError(f"anchor table {str(path)!r}: each entry needs 'limits' and 'skill' mappings")
        tables.extend(entries)
    return tuple(tables)


def stockfish_anchor(skill: int | None, limits: dict[str, Any]) -> float | None:
    """The anchor rating of Stockfish at ``skill`` under exactly these ``limits``, if a table has one.

    ``limits`` holds the player's limit options that are set (movetime, nodes, depth, tc).
    Tables: the file named by $ARENA_ANCHORS first, then engines/anchors.yaml.
    """
    if skill is None:
        return None
    for entry in _anchor_tables(os.environ.get(ANCHORS_ENV)):
        if entry["limits"] == limits and skill in entry["skill"]:
            return float(entry["skill"][skill])
    return None


LIMIT_OPTIONS = ("movetime", "nodes", "depth", "tc")


def anchor_entries(players: Mapping[str, Mapping[str, Any]], ratings: Iterable[Any], source: str) -> list[dict[str, Any]]:
    """Entries for an anchors file (this package's anchors.yaml format) from rated Stockfish skill players.

    ``players`` maps names to their ``type`` and ``options`` (as a results
    file records them) and ``ratings`` are :class:`arena.Rating` values.
    Players of type ``stockfish`` whose only options are ``skill`` and limits
    are grouped by their limits; each group becomes one entry.
    """
    by_limits: dict[str, dict[str, Any]] = {}
    rated = {rating.player: rating for rating in ratings}
    for name, facts in players.items():
        options = dict(facts.get("options") or {})
        skill = options.pop("skill", None)
        if facts.get("type") != "stockfish" or skill is None or name not in rated or rated[name].anchored:
            continue
        if set(options) - set(LIMIT_OPTIONS):
            continue  # other options change strength: such a player is no preset
        if not options:
            options = {"movetime": 100}  # the preset's default limit
        key = json.dumps(options, sort_keys=True)
        entry = by_limits.setdefault(key, {"source": source, "limits": options, "skill": {}})
        entry["skill"][int(skill)] = round(rated[name].rating)
    return [by_limits[key] for key in sorted(by_limits)]
