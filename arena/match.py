"""A match: two players, N games with alternating colours, results written as games finish."""

from __future__ import annotations

from contextlib import ExitStack
from typing import Iterator

from arena.driver import play_games
import chess

from arena.game import Game, GameRules, Side
from arena.openings import NoOpenings, Openings
from arena.player import Player
from arena.plugins import Plugins
from arena.record import GameRecord, PlayerEntry
from arena.seeds import derive_seed
from arena.spec import PlayerSpec, build_player


def build_players(specs: list[PlayerSpec], plugins: Plugins, stack: ExitStack) -> list[Player]:
    """Build and start one player per spec, with distinct names; ``stack`` closes them."""
    players: list[Player] = []
    for spec in specs:
        player = build_player(spec, plugins)
        taken = {other.name for other in players}
        if player.name in taken:
            suffix = 2
            while f"{player.name}-{suffix}" in taken:
                suffix += 1
            player.name = f"{player.name}-{suffix}"
        stack.callback(player.close)
        player.start()
        players.append(player)
    return players


def make_side(player: Player, spec: PlayerSpec) -> Side:
    """A game side for a started player, recording its spec and self-description."""
    control = player.time_control
    entry = PlayerEntry(
        name=player.name,
        type=spec.type,
        options=dict(spec.options),
        info=player.describe(),
        time_control=str(control) if control else None,
    )
    return Side(player, entry)


class Match:
    """Two players meeting for a series of games with alternating colours.

    Use as a context manager: entering builds and starts both players (their
    names are then in :attr:`names`), leaving closes them.
    """

    def __init__(self, first: PlayerSpec, second: PlayerSpec, plugins: Plugins):
        self.specs = (first, second)
        self.plugins = plugins
        self.names: tuple[str, str] = (first.describe(), second.describe())
        self._stack = ExitStack()
        self._players: list[Player] = []

    def __enter__(self) -> Match:
        with self._stack:
            self._players = build_players(list(self.specs), self.plugins, self._stack)
            self._stack = self._stack.pop_all()
        self.names = (self._players[0].name, self._players[1].name)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    def play(self, games: int, seed: int, rules: GameRules = GameRules(),
             openings: Openings = NoOpenings()) -> Iterator[GameRecord]:
        """Play ``games`` games (the first player is White in odd-numbered ones); yield each record.

        Games 2k+1 and 2k+2 are a colour-swapped pair on opening k.
        """

        def schedule() -> Iterator[Game]:
            for index in range(games):
                game_id = str(index + 1)
                sides = [make_side(player, spec) for player, spec in zip(self._players, self.specs)]
                white, black = sides if index % 2 == 0 else sides[::-1]
                opening = openings.opening(index // 2)
                yield Game(game_id, derive_seed(seed, game_id), white, black, rules, round=game_id,
                           opening=[chess.Move.from_uci(move) for move in opening.moves], start_fen=opening.fen)

        for game in play_games(schedule()):
            record = game.record()
            self.plugins.hook.game_finished(record=record)
            yield record
