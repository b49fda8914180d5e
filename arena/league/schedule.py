"""The games of a league: pairings, colour-swapped pairs, openings, ids and seeds.

Game ids and seeds come from player names and the league seed alone, so the
same league plays the same games whatever the concurrency, and a resumed run
knows exactly which games are missing.
"""

from __future__ import annotations

import fnmatch
import itertools
from dataclasses import dataclass
from typing import TYPE_CHECKING

from arena.errors import ConfigError
from arena.league.openings import Opening
from arena.seeds import derive_seed
from arena.spec import PlayerSpec

if TYPE_CHECKING:  # workers unpickle ScheduledGame: they need not load the league file's reader
    from arena.league.config import League


@dataclass(frozen=True)
class ScheduledGame:
    """One game to play: everything a worker needs, and nothing it cannot pickle."""

    game_id: str
    seed: int
    white: PlayerSpec
    black: PlayerSpec
    opening: Opening
    round: str


def pairings(league: League) -> list[tuple[PlayerSpec, PlayerSpec]]:
    """The pairs of players that meet: every pair, or each challenger with each opponent."""
    players = league.players
    if league.schedule.type == "round_robin":
        return list(itertools.combinations(players, 2))
    challengers = _matching(players, league.schedule.challengers, league.source, "challengers")
    if league.schedule.opponents:
        opponents = _matching(players, league.schedule.opponents, league.source, "opponents")
    else:
        opponents = [p for p in players if p not in challengers]
    pairs = [(c, o) for c in challengers for o in opponents if c.name != o.name]
    if not pairs:
        raise ConfigError(f"{league.source}: schedule: the gauntlet has no opponents for its challengers")
    return pairs


def _matching(players: list[PlayerSpec], patterns: tuple[str, ...], source: str, key: str) -> list[PlayerSpec]:
    chosen = []
    for pattern in patterns:
        found = [p for p in players if fnmatch.fnmatchcase(p.name or "", pattern)]
        if not found:
            names = ", ".join(p.name or "" for p in players)
            raise ConfigError(f"{source}: schedule.{key}: {pattern!r} matches no player; the players are: {names}")
        chosen.extend(p for p in found if p not in chosen)
    return chosen


def schedule_games(league: League) -> list[ScheduledGame]:
    """Every game of the league, in a fixed order.

    Pair ``k`` of every pairing uses opening ``k``, so all pairings face the
    same openings, each once with either colour.
    """
    games = []
    for first, second in pairings(league):
        a, b = sorted((first, second), key=lambda spec: spec.name or "")
        for pair in range(league.schedule.games // 2):
            opening = league.openings.opening(pair)
            for colour, (white, black) in enumerate(((a, b), (b, a))):
                number = 2 * pair + colour + 1
                game_id = f"{a.name}|{b.name}|{number}"
                games.append(
                    ScheduledGame(
                        game_id=game_id,
                        seed=derive_seed(league.seed, game_id),
                        white=white,
                        black=black,
                        opening=opening,
                        round=str(number),
                    )
                )
    return games
