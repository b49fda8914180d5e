"""Reading games for rating from any PGN file (arena's own, cutechess, fastchess, lichess)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, TextIO

import chess.pgn

from arena.errors import ConfigError
from arena.rating.model import GameResult
from arena.play.record import Result, Termination, forfeit_of
from arena.spec import parse_player_spec
from arena.rating.standings import game_text, pair_of


class QuietGameBuilder(chess.pgn.GameBuilder):
    """Collects a game's parse errors without logging them, so skipped games are reported once."""

    def handle_error(self, error: Exception) -> None:
        self.game.errors.append(error)


class _LineRecorder:
    """A PGN stream that keeps the lines read since :meth:`start` (the text of one game)."""

    def __init__(self, handle: TextIO):
        self._handle = handle
        self.lines: list[str] = []

    def start(self) -> None:
        self.lines = []

    def readline(self) -> str:
        line = self._handle.readline()
        self.lines.append(line)
        return line


def read_games(handle: TextIO) -> Iterator[tuple[int, chess.pgn.Game]]:
    """Every game of a PGN stream with its number (from 1); parse errors are in ``game.errors``.

    python-chess skips movetext it cannot read (``zz9``) without a word, and then
    reports the next move as illegal where the unreadable one should have been;
    such an error is replaced by one naming the unreadable text.
    """
    number = 0
    recorder = _LineRecorder(handle)
    while True:
        recorder.start()
        game = chess.pgn.read_game(recorder, Visitor=QuietGameBuilder)  # type: ignore[arg-type]
        if game is None:
            return
        number += 1
        if game.errors:
            _name_unreadable_move(game, recorder.lines)
        yield number, game


#: Move numbers (``12.``, ``12...``) and the brackets of variations, which python-chess reads apart from moves.
_MOVE_NUMBER = re.compile(r"\d+\.+|[()]")


def _name_unreadable_move(game: chess.pgn.Game, lines: list[str]) -> None:
    """Put the unreadable word python-chess skipped, if that is what broke the game, first in its errors."""
    word = _unreadable_word_before_error(game, lines)
    if word is None:
        return
    board = game.end().board()
    side = "White" if board.turn == chess.WHITE else "Black"
    game.errors.insert(0, ValueError(f"unreadable move {word!r} at move {board.fullmove_number} ({side} to play)"))


def _unreadable_word_before_error(game: chess.pgn.Game, lines: list[str]) -> str | None:
    """The word of the main line that python-chess skipped just before the move it reported, if any.

    Words are read as python-chess reads them: comments, NAGs, results and move
    numbers are not moves; check marks and annotation signs (``+ # ! ? =``) are
    ignored; a word with letters or digits that no move pattern covers is unreadable.
    """
    movetext = "".join(line for line in lines if not line.lstrip().startswith(("[", "%")))
    movetext = re.sub(r"\{[^}]*\}|;[^\n]*", " ", movetext)  # comments
    moves_read = len(list(game.mainline_moves()))
    depth = 0
    pending: str | None = None
    moves_seen = 0
    for word in movetext.split():
        in_variation = depth > 0 or "(" in word
        depth = max(0, depth + word.count("(") - word.count(")"))
        if in_variation or word.startswith("$"):
            continue  # variations (python-chess stops at the first error, in the main line here) and NAGs
        tokens = [match.group(1) for match in chess.pgn.MOVETEXT_REGEX.finditer(word) if match.group(1)]
        left = chess.pgn.MOVETEXT_REGEX.sub(" ", _MOVE_NUMBER.sub(" ", word))
        if any(char.isalnum() for char in left):
            pending = word
        if tokens:
            if moves_seen == moves_read:
                return pending  # the move python-chess failed on; an unreadable word just before it is the cause
            moves_seen += len(tokens)
            pending = None
    return pending  # the unreadable word was the last one of the game


#: Why a game is skipped, as the summary of ``arena rate`` counts them ("12 without a result").
NO_RESULT = "without a result"
UNREADABLE = "with an illegal or unreadable move"
NO_NAME = "without a player's name"


@dataclass(frozen=True)
class Skipped:
    """A game left out of the rating: which one, the kind of problem (to count), and the detail."""

    number: int
    game: str  #: ``game 3 (carol vs alice)``, or ``game 3 'Ruy Lopez'`` when the players are not named
    reason: str  #: one of NO_RESULT, UNREADABLE, NO_NAME
    detail: str  #: ``no result ('*')``, ``unreadable move 'zz9' at move 2 (White to play)``

    def __str__(self) -> str:
        return f"{self.game}: {self.detail}"


@dataclass
class PgnGames:
    """The rateable games of a PGN file, what its players are, and what was skipped and why."""

    results: list[GameResult] = field(default_factory=list)
    players: dict[str, dict[str, Any]] = field(default_factory=dict)
    skipped: list[Skipped] = field(default_factory=list)


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
            white, black = headers.get("White", "?"), headers.get("Black", "?")
            result_tag = headers.get("Result", "*")
            result = _result_of(result_tag)
            where = _game_label(number, headers)
            # A game without a result cannot be rated whatever else is wrong with it, so that comes
            # first: a file of openings is then "N without a result", not N missing names.
            if game.errors:
                games.skipped.append(Skipped(number, where, UNREADABLE, str(game.errors[0])))
            elif result is None:
                games.skipped.append(Skipped(number, where, NO_RESULT, f"no result ({result_tag!r})"))
            elif "?" in (white, black) or not white or not black:
                games.skipped.append(Skipped(number, where, NO_NAME, "a player's name is missing"))
            else:
                # arena's own tag first: it tells apart what the PGN standard's values merge.
                tag = headers.get("ArenaTermination", headers.get("Termination", ""))
                forfeit = forfeit_of(Termination.from_pgn(tag), result)
                moves = game_text(headers.get("FEN"), [move.uci() for move in game.mainline_moves()])
                pair = pair_of(headers.get("GameId", ""))
                games.results.append(GameResult(white, black, result.white_points, forfeit, moves, pair))
                for color, name in (("White", white), ("Black", black)):
                    games.players.setdefault(name, _player_facts(headers, color))
    if number == 0:
        raise ConfigError(f"{path} holds no PGN games")
    return games


def _result_of(tag: str) -> Result | None:
    """The game's result, or None for "*" (unfinished) and any other text that is not a result."""
    try:
        return Result.parse(tag)
    except ValueError:
        return None


def _game_label(number: int, headers: chess.pgn.Headers) -> str:
    """``game 3 (carol vs alice)``; with neither player named, the game's event or opening instead."""
    white, black = headers.get("White", "?"), headers.get("Black", "?")
    if {white, black} - {"?", ""}:
        return f"game {number} ({white or '?'} vs {black or '?'})"
    for tag in ("Event", "Opening", "ECO"):
        value = headers.get(tag, "?")
        if value not in ("?", ""):
            return f"game {number} {value!r}"
    return f"game {number}"


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
