"""Puzzles: positions with a forced line, read from files and solved by any player.

Two formats: PGN, each game a puzzle whose ``FEN`` tag is the position and
whose mainline is the solution (the solver's move, the reply, the solver's
move...); or Lichess's puzzle CSV (``PuzzleId,FEN,Moves,Rating,...``) whose
first move is the opponent's, played before the solver's turn. The solver
must find every one of its moves; the replies come from the line. A move that
mates counts even when the line wrote another, if the line ends in mate.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import chess
import chess.pgn

from arena.errors import ConfigError
from arena.player import MoveReply, MoveRequest, Player
from arena.seeds import derive_seed
from arena.wording import rating_band

#: Puzzles a batched player (a model) is asked for at once; any other player gets one at a time, as
#: an engine searching many at once on a few cores would give each less time than its limit says.
BATCH = 64


@dataclass
class Puzzle:
    """A position, the line that solves it (the solver's moves at even places), and its rating."""

    name: str
    board: chess.Board
    line: list[chess.Move]
    rating: float | None = None

    @property
    def ends_in_mate(self) -> bool:
        board = self.board.copy()
        for move in self.line:
            board.push(move)
        return board.is_checkmate()


@dataclass
class Outcome:
    """How one puzzle went: solved, or why not."""

    puzzle: Puzzle
    solved: bool = False
    why: str = ""  #: for an unsolved puzzle: "wrong move", "illegal move", "resigned" or the player's failure


def read_puzzles(path: Path, problems: list[str]) -> Iterator[Puzzle]:
    """The puzzles of a PGN or Lichess CSV file; a malformed one is described in ``problems`` and skipped."""
    if not path.exists():
        raise ConfigError(f"{path}: no such puzzles file")
    text = path.read_text(encoding="utf-8", errors="replace")
    first = text.lstrip().split("\n", 1)[0]
    if first.startswith("PuzzleId,") or (first.count(",") >= 3 and not first.startswith("[")):
        yield from _csv_puzzles(path, text, problems)
    else:
        yield from _pgn_puzzles(path, text, problems)


def _line(board: chess.Board, moves: list[chess.Move], where: str) -> list[chess.Move]:
    replay = board.copy()
    for move in moves:
        if not replay.is_legal(move):
            raise ValueError(f"{where}: move {move.uci()} is not legal in {replay.fen()}")
        replay.push(move)
    if not moves:
        raise ValueError(f"{where}: no solution moves")
    return moves


def _csv_puzzles(path: Path, text: str, problems: list[str]) -> Iterator[Puzzle]:
    for number, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        if not row or row[0] == "PuzzleId":
            continue
        where = f"{path} line {number}"
        try:
            if len(row) < 3:
                raise ValueError(f"{where}: expected PuzzleId,FEN,Moves[,Rating,...]")
            board = chess.Board(row[1])
            moves = [chess.Move.from_uci(word) for word in row[2].split()]
            if len(moves) < 2:
                raise ValueError(f"{where}: Moves needs the opponent's move and the solution")
            _line(board, moves, where)
            board.push(moves[0])  # the opponent's move comes first: the solver answers it
            rating = float(row[3]) if len(row) > 3 and row[3].strip() else None
            yield Puzzle(row[0] or where, board, moves[1:], rating)
        except ValueError as error:
            problems.append(str(error) if str(error).startswith(where) else f"{where}: {error}")


def _pgn_puzzles(path: Path, text: str, problems: list[str]) -> Iterator[Puzzle]:
    handle = io.StringIO(text)
    number = 0
    while (game := chess.pgn.read_game(handle)) is not None:
        number += 1
        where = f"{path} puzzle {number}"
        try:
            if game.errors:
                raise ValueError(f"{where}: {game.errors[0]}")
            board = game.board()
            moves = _line(board, list(game.mainline_moves()), where)
            rating_text = game.headers.get("Rating") or game.headers.get("PuzzleRating")
            rating = float(rating_text) if rating_text and rating_text.replace(".", "", 1).isdigit() else None
            event = game.headers.get("Event", "?")
            yield Puzzle(event if event != "?" else where, board, moves, rating)
        except ValueError as error:
            problems.append(str(error) if str(error).startswith(where) else f"{where}: {error}")


@dataclass
class _Attempt:
    number: int
    outcome: Outcome
    board: chess.Board
    index: int = 0  #: the next move of the line (the solver's)
    done: bool = False

    @property
    def game_id(self) -> str:
        return f"puzzle-{self.number}"


def solve(player: Player, puzzles: list[Puzzle], seed: int = 0) -> list[Outcome]:
    """Ask ``player`` every solver move of every puzzle, many puzzles at a time."""
    attempts = [_Attempt(number, Outcome(puzzle), puzzle.board.copy()) for number, puzzle in enumerate(puzzles)]
    while True:
        going = [attempt for attempt in attempts if not attempt.done]
        if not going:
            break
        size = BATCH if player.batched else 1
        for start in range(0, len(going), size):
            batch = going[start:start + size]
            requests = [MoveRequest(attempt.game_id, attempt.board.copy(), seed=derive_seed(seed, "puzzle", attempt.number))
                        for attempt in batch]
            for attempt, reply in zip(batch, player.choose(requests)):
                _judge(attempt, reply)
                if attempt.done:
                    player.game_over(attempt.game_id, attempt.board, "*")
    return [attempt.outcome for attempt in attempts]


def _judge(attempt: _Attempt, reply: MoveReply) -> None:
    puzzle, board = attempt.outcome.puzzle, attempt.board
    expected = puzzle.line[attempt.index]
    move = reply.move
    if move is None or not board.is_legal(move):
        attempt.outcome.why = ("resigned" if reply.resign else
                               f"{reply.failure}: {reply.detail}" if reply.failure is not None else "illegal move")
        attempt.done = True
        return
    if move != expected:
        board.push(move)
        attempt.outcome.solved = board.is_checkmate() and puzzle.ends_in_mate  # another mate counts
        attempt.outcome.why = "" if attempt.outcome.solved else "wrong move"
        attempt.done = True
        return
    board.push(move)
    attempt.index += 1
    if attempt.index < len(puzzle.line):
        board.push(puzzle.line[attempt.index])  # the opponent's reply, from the line
        attempt.index += 1
    if attempt.index >= len(puzzle.line):
        attempt.outcome.solved = True
        attempt.done = True


@dataclass
class Score:
    """Puzzles solved, overall or in one rating band."""

    total: int = 0
    solved: int = 0
    why: dict[str, int] = field(default_factory=dict)

    def add(self, outcome: Outcome) -> None:
        self.total += 1
        self.solved += outcome.solved
        if not outcome.solved:
            self.why[outcome.why] = self.why.get(outcome.why, 0) + 1

    @property
    def accuracy(self) -> float | None:
        return round(self.solved / self.total, 4) if self.total else None


def score(outcomes: list[Outcome], band_width: int = 200) -> dict[str, Any]:
    """Accuracy overall and by rating band (puzzles without a rating are in no band)."""
    overall, bands = Score(), {}
    for outcome in outcomes:
        overall.add(outcome)
        rating = outcome.puzzle.rating
        if rating is not None:
            bands.setdefault(rating_band(rating, band_width), Score()).add(outcome)
    return {
        "total": overall.total, "solved": overall.solved, "accuracy": overall.accuracy, "unsolved": overall.why,
        "bands": [{"band": label, "total": band.total, "solved": band.solved, "accuracy": band.accuracy}
                  for (_, label), band in sorted(bands.items())],
    }
