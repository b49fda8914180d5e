"""Reading games for rating from any PGN file (arena's own, cutechess, fastchess, lichess)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, TextIO

import chess.pgn

from arena.errors import ConfigError
from arena.ratings import GameResult
from arena.spec import parse_player_spec
from arena.standings import game_text, pair_of

SCORES = {"1-0": 1.0, "0-1": 0.0, "1/2-1/2": 0.5}
#: PGN Termination values (lower case) that mean a game was lost by a fault, not on the board.
ILLEGAL_TERMINATIONS = {"rules infraction", "illegal_move"}
FAULT_TERMINATIONS = {"abandoned", "time forfeit", "emergency", "crash", "timeout", "time_forfeit", "player_error"}


class QuietGameBuilder(chess.pgn.GameBuilder):
    """Collects a game's parse errors without logging them, so skipped games are reported once."""

    def handle_error(self, error: Exception) -> None:
        self.game.errors.append(error)


def read_games(handle: TextIO) -> Iterator[tuple[int, chess.pgn.Game]]:
    """Every game of a PGN stream with its number (from 1); parse errors are in ``game.errors``."""
    number = 0
    while True:
        game = chess.pgn.read_game(handle, Visitor=QuietGameBuilder)
        if game is None:
            return
        number += 1
        yield number, game


@dataclass
class PgnGames:
    """The rateable games of a PGN file, what its players are, and what was skipped and why."""

    results: list[GameResult] = field(default_factory=list)
    players: dict[str, dict[str, Any]] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)


def read_pgn_games(path: str | Path) -> PgnGames:
    """Read every game's players and result; unfinished or malformed games are skipped and reported."""
    path = Path(path)
    games = PgnGames()
    try:
        handle = open(path, encoding="utf-8-sig", errors="replace")
    except OSError as error:
        raise ConfigError(f"cannot read {str(path)!r}: {error.strerror}") from None
    number = 0
    with handle:
        for number, game in read_games(handle):
            headers = game.headers
            white, black, result = headers.get("White", "?"), headers.get("Black", "?"), headers.get("Result", "*")
            where = f"game {number} ({white} vs {black})"
            if game.errors:
                games.skipped.append(f"{where}: {game.errors[0]}")
            elif "?" in (white, black) or not white or not black:
                games.skipped.append(f"{where}: a player's name is missing")
            elif result not in SCORES:
                games.skipped.append(f"{where}: no result ({result!r})")
            else:
                termination = headers.get("ArenaTermination", headers.get("Termination", "")).lower()
                forfeit = "illegal" if termination in ILLEGAL_TERMINATIONS else (
                    "fault" if termination in FAULT_TERMINATIONS else None)
                moves = game_text(headers.get("FEN"), [move.uci() for move in game.mainline_moves()])
                pair = pair_of(headers.get("GameId", ""))
                games.results.append(GameResult(white, black, SCORES[result], forfeit, moves, pair))
                for color, name in (("White", white), ("Black", black)):
                    games.players.setdefault(name, _player_facts(headers, color))
    if number == 0:
        raise ConfigError(f"{path} holds no PGN games")
    return games


def _player_facts(headers: chess.pgn.Headers, color: str) -> dict[str, Any]:
    """Type and options from arena's PGN tags, when the file was written by arena."""
    kind = headers.get(f"{color}Type", "pgn")
    options = headers.get(f"{color}Options")
    if options:
        try:
            return {"type": kind, "options": parse_player_spec(f"{kind}:{options}").options}
        except ConfigError:
            pass  # not arena's format: keep the name only
    return {"type": kind, "options": {}}
