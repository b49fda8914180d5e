"""A match: two players, N games with alternating colours, results written as games finish."""

from __future__ import annotations

from contextlib import ExitStack
from typing import Collection, Iterable, Iterator

import chess

from arena.play.driver import play_games
from arena.play.game import Game, GameRules, Side
from arena.naming import NameParts, distinct_names
from arena.league.openings import NoOpenings, Opening, Openings
from arena.player import Player
from arena.plugins import Plugins
from arena.play.record import GameRecord, PlayerEntry
from arena.seeds import derive_seed
from arena.spec import PlayerSpec, build_player, resolve_spec


def build_players(specs: list[PlayerSpec], plugins: Plugins, stack: ExitStack) -> list[Player]:
    """Build and start one player per spec, with distinct names; ``stack`` closes them."""
    players: list[Player] = []
    for spec in specs:
        player = build_player(spec, plugins)
        stack.callback(player.close)
        players.append(player)
    for player, name in zip(players, match_names(players, specs)):
        player.name = name
    for player in players:
        player.start()
    for player in players:
        player.describe()  # after every start: their engines load side by side, and a bad one fails here
    return players


def match_names(players: list[Player], specs: list[PlayerSpec]) -> list[str]:
    """Distinct names: the options that differ show as in a league sweep (``stockfish@nodes=50``).

    Players that nothing tells apart (``random`` and ``random``) are numbered: ``random-2``.
    """
    names = distinct_names([
        NameParts(player.name, spec.options, player.option_abbreviations)
        for player, spec in zip(players, specs)
    ])
    unique: list[str] = []
    for name in names:
        number, candidate = 2, name
        while candidate in unique:
            candidate, number = f"{name}-{number}", number + 1
        unique.append(candidate)
    return unique


def make_side(player: Player, spec: PlayerSpec) -> Side:
    """A game side for a started player, recording its spec and self-description."""
    control = player.time_control
    entry = PlayerEntry(
        name=player.name,
        type=spec.type,
        options=dict(spec.options),
        info=player.describe(),
        time_control=str(control) if control else None,
        anchor=player.anchor(),
    )
    return Side(player, entry)


def new_game(game_id: str, seed: int, white: Side, black: Side, rules: GameRules, opening: Opening,
             event: str = "arena", round: str = "?") -> Game:
    """A game about to start from ``opening`` (its moves are played as book moves)."""
    return Game(game_id, seed, white, black, rules, round=round, event=event, start_fen=opening.fen,
                opening=[chess.Move.from_uci(move) for move in opening.moves])


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
        # Paths in a player file are relative to it: record them as the players use them.
        self.specs = (resolve_spec(self.specs[0], self.plugins), resolve_spec(self.specs[1], self.plugins))
        with self._stack:
            self._players = build_players(list(self.specs), self.plugins, self._stack)
            self._stack = self._stack.pop_all()
        self.names = (self._players[0].name, self._players[1].name)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    def play(self, games: int, seed: int, rules: GameRules = GameRules(),
             openings: Openings = NoOpenings(), done: Collection[str] = ()) -> Iterator[GameRecord]:
        """Play ``games`` games (the first player is White in odd-numbered ones); yield each record.

        Games 2k+1 and 2k+2 are a colour-swapped pair on opening k. Games whose ids are in
        ``done`` (finished by an earlier run, see :meth:`conflicts`) are not played again;
        the others are exactly the games a run from scratch would play.
        """

        def schedule() -> Iterator[Game]:
            for index in range(games):
                game_id = str(index + 1)
                if game_id in done:
                    continue
                sides = [make_side(player, spec) for player, spec in zip(self._players, self.specs)]
                white, black = sides if index % 2 == 0 else sides[::-1]
                yield new_game(game_id, derive_seed(seed, game_id), white, black, rules,
                               openings.opening(index // 2), round=game_id)

        for game in play_games(schedule()):
            record = game.record()
            self.plugins.hook.game_finished(record=record)
            yield record

    def conflicts(self, records: Iterable[GameRecord], games: int, seed: int,
                  openings: Openings = NoOpenings()) -> list[str]:
        """Why finished ``records`` are not games of this match (empty when a rerun may keep them all).

        A kept game must be the one :meth:`play` would play under that id now: the same
        players in the same colours, the same seed and the same opening.
        """
        problems: list[str] = []
        seen: set[str] = set()
        for record in records:
            game_id = record.game_id
            index = int(game_id) - 1 if game_id.isdigit() else -1
            if game_id in seen:
                problems.append(f"game {game_id!r} appears twice")
            elif not 0 <= index < games:
                problems.append(f"game {game_id!r} is not in this match of {games} game{'' if games == 1 else 's'}")
            else:
                problems.extend(self._game_conflicts(record, index, seed, openings))
            seen.add(game_id)
        return problems

    def _game_conflicts(self, record: GameRecord, index: int, seed: int, openings: Openings) -> list[str]:
        """How one finished game differs from game ``index`` of this match."""
        problems: list[str] = []
        game_id = record.game_id
        sides = list(zip(self.names, self.specs))
        white, black = sides if index % 2 == 0 else sides[::-1]
        for colour, (name, spec), entry in (("white", white, record.white), ("black", black, record.black)):
            if (name, spec.type, dict(spec.options)) != (entry.name, entry.type, entry.options):
                problems.append(f"game {game_id!r} had {colour} {entry.name} ({entry.type} {entry.options}), "
                                f"the match now has {name} ({spec.type} {dict(spec.options)})")
        if record.seed != derive_seed(seed, game_id):
            problems.append(f"game {game_id!r} was played with another seed")
        opening = openings.opening(index // 2)
        book = tuple(move.uci for move in record.moves if move.book)
        if book != tuple(opening.moves) or record.start_fen != opening.fen:
            problems.append(f"game {game_id!r} was played from another opening")
        return problems
