"""The rules of one game: who is asked, what a reply does, and when it ends.

A :class:`Game` is a small state machine driven from outside: take its
:meth:`Game.request`, ask the player to move, hand the reply to
:meth:`Game.apply`. That lets one loop drive many games at once and batch
the requests that wait on the same player (see :mod:`arena.play.driver`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import chess

from arena import __version__
from arena.player import Clock, Failure, MoveReply, MoveRequest, Player
from arena.play.record import GameRecord, MoveRecord, PlayerEntry, Result, SideStats, Termination, utc_now

_BOARD_TERMINATIONS = {
    chess.Termination.CHECKMATE: Termination.CHECKMATE,
    chess.Termination.STALEMATE: Termination.STALEMATE,
    chess.Termination.INSUFFICIENT_MATERIAL: Termination.INSUFFICIENT_MATERIAL,
    chess.Termination.SEVENTYFIVE_MOVES: Termination.SEVENTYFIVE_MOVES,
    chess.Termination.FIVEFOLD_REPETITION: Termination.FIVEFOLD_REPETITION,
}


@dataclass(frozen=True)
class GameRules:
    """Limits and fault policy for a game."""

    #: Stop after this many full moves (the paper: 89) and score ``move_cap_result``:
    #: a result (its text, such as "1/2-1/2", is read as one), or "eval" for an adjudicator to decide.
    max_moves: int | None = None
    move_cap_result: Result | Literal["eval"] = Result.DRAW
    #: Replies to one position that may be illegal before the game is forfeited (the paper: 5).
    illegal_attempts: int = 1

    def __post_init__(self) -> None:
        # Parse the text callers pass once, here, so a bad result fails when the rules are made.
        if self.move_cap_result != "eval":
            object.__setattr__(self, "move_cap_result", Result.parse(self.move_cap_result))


@dataclass
class Side:
    """One side of a game: its player, the spec facts recorded, and its clock."""

    player: Player
    entry: PlayerEntry
    stats: SideStats = field(default_factory=SideStats)
    remaining: float | None = None


class Game:
    """One game in progress between two players."""

    def __init__(
        self,
        game_id: str,
        seed: int,
        white: Side,
        black: Side,
        rules: GameRules = GameRules(),
        opening: list[chess.Move] | tuple[chess.Move, ...] = (),
        event: str = "arena",
        round: str = "?",
        start_fen: str | None = None,
    ):
        self.game_id = game_id
        self.seed = seed
        self.rules = rules
        self.sides = {chess.WHITE: white, chess.BLACK: black}
        for side in self.sides.values():
            control = side.player.time_control
            side.remaining = control.base if control else None
        self.start_fen = start_fen
        self.board = chess.Board(start_fen) if start_fen else chess.Board()
        self.moves: list[MoveRecord] = []
        for move in opening:
            self.moves.append(MoveRecord(move.uci(), self.board.san(move), book=True))
            self.board.push(move)
        self.result: Result | None = None
        self.termination: Termination | None = None
        self.detail = ""
        self._attempt = 0
        self._illegal: list[str] = []
        self._event, self._round = event, round
        self._started_at = utc_now()
        self._check_board()

    @property
    def finished(self) -> bool:
        """True once the game has a result."""
        return self.result is not None

    @property
    def player_to_move(self) -> Player:
        """The player whose reply the game waits for."""
        return self.sides[self.board.turn].player

    def request(self) -> MoveRequest:
        """The request for the side to move.

        The request holds the game's own board, not a copy (copying the move
        stack every move makes long games quadratic): players may push and pop
        moves in balance but must leave it as they found it.
        """
        clock = None
        white, black = self.sides[chess.WHITE], self.sides[chess.BLACK]
        if white.remaining is not None or black.remaining is not None:
            clock = Clock(
                white=white.remaining if white.remaining is not None else float("inf"),
                black=black.remaining if black.remaining is not None else float("inf"),
                white_increment=_increment(white.player),
                black_increment=_increment(black.player),
            )
        return MoveRequest(self.game_id, self.board, self.seed, self._attempt, clock)

    def apply(self, reply: MoveReply) -> None:
        """Play the reply of the side to move, or score the fault it reports."""
        if self.finished:
            raise RuntimeError(f"game {self.game_id} is already over")
        color = self.board.turn
        side = self.sides[color]
        if side.remaining is not None and reply.elapsed is not None and reply.failure is None:
            side.remaining -= reply.elapsed
            if side.remaining < 0:
                self._forfeit(color, Termination.TIME_FORFEIT, f"{side.entry.name} ran out of time")
                return
        if reply.failure is not None:
            self._fail(color, reply)
        elif reply.resign:
            self._end(Result.loss_for(color), Termination.RESIGNATION, f"{side.entry.name} resigns")
        elif reply.move is None or not self.board.is_legal(reply.move):
            self._illegal_attempt(color, reply)
        else:
            self._play(color, reply)

    def _play(self, color: chess.Color, reply: MoveReply) -> None:
        side = self.sides[color]
        assert reply.move is not None
        if side.remaining is not None:
            side.remaining += _increment(side.player)
        self.moves.append(
            MoveRecord(
                uci=reply.move.uci(),
                san=self.board.san_and_push(reply.move),
                elapsed=reply.elapsed,
                clock=side.remaining,
                illegal=self._illegal,
                info=reply.info,
            )
        )
        self._attempt, self._illegal = 0, []
        self._check_board()

    def _check_board(self) -> None:
        outcome = self.board.outcome(claim_draw=False)
        if outcome is not None:
            self._end(Result.parse(outcome.result()), _BOARD_TERMINATIONS[outcome.termination])
        elif self.board.is_repetition(3):
            self._end(Result.DRAW, Termination.THREEFOLD_REPETITION)
        elif self.board.is_fifty_moves():
            self._end(Result.DRAW, Termination.FIFTY_MOVES)
        elif self.rules.max_moves and self.board.ply() >= 2 * self.rules.max_moves:
            self._cap(Termination.MOVE_CAP, f"move cap {self.rules.max_moves}")

    def _cap(self, termination: Termination, detail: str) -> None:
        """End a game that may not go on (move cap, full context) by the rules' move-cap result."""
        cap_result = self.rules.move_cap_result
        if cap_result == "eval":
            self._end(Result.DRAW, termination, f"{detail}, not evaluated")
        else:
            self._end(cap_result, termination, detail)

    def _illegal_attempt(self, color: chess.Color, reply: MoveReply) -> None:
        side = self.sides[color]
        side.stats.illegal_attempts += 1
        said = reply.text if reply.text is not None else (reply.move.uci() if reply.move else "")
        self._illegal.append(said)
        self._attempt += 1
        if self._attempt >= self.rules.illegal_attempts:
            self._forfeit(
                color,
                Termination.ILLEGAL_MOVE,
                f"{side.entry.name} made {self._attempt} illegal move attempt(s): {', '.join(map(repr, self._illegal))}",
            )

    def _fail(self, color: chess.Color, reply: MoveReply) -> None:
        side = self.sides[color]
        match reply.failure:
            case Failure.CONTEXT_FULL:
                self._cap(Termination.CONTEXT_FULL, reply.detail or "context full")
                return
            case Failure.CRASH:
                side.stats.crashes += 1
                termination = Termination.CRASH
            case Failure.TIMEOUT:
                side.stats.timeouts += 1
                termination = Termination.TIME_FORFEIT if side.remaining is not None else Termination.TIMEOUT
            case Failure.ERROR:
                side.stats.errors += 1
                termination = Termination.PLAYER_ERROR
            case unknown:
                # MoveReply admits Failure members only: a new member must be handled above.
                raise AssertionError(f"unhandled failure {unknown!r}")
        self._forfeit(color, termination, f"{side.entry.name}: {reply.detail or reply.failure}")

    def _forfeit(self, color: chess.Color, termination: Termination, detail: str) -> None:
        # A side that cannot be mated cannot lose on time: the game is a draw.
        if termination is Termination.TIME_FORFEIT and self.board.has_insufficient_material(not color):
            self._end(Result.DRAW, termination, detail + "; opponent cannot mate")
        else:
            self._end(Result.loss_for(color), termination, detail)

    def adjudicate(self, result: Result, termination: Termination, detail: str) -> None:
        """End (or, at the move cap, decide) the game on an adjudicator's word."""
        self._end(result, termination, detail)

    def _end(self, result: Result, termination: Termination, detail: str = "") -> None:
        self.result, self.termination, self.detail = result, termination, detail

    def record(self) -> GameRecord:
        """The finished game's record."""
        if self.result is None or self.termination is None:
            raise RuntimeError(f"game {self.game_id} is not over")
        white, black = self.sides[chess.WHITE], self.sides[chess.BLACK]
        return GameRecord(
            game_id=self.game_id,
            seed=self.seed,
            white=white.entry,
            black=black.entry,
            result=self.result,
            termination=self.termination,
            moves=self.moves,
            detail=self.detail,
            white_stats=white.stats,
            black_stats=black.stats,
            event=self._event,
            round=self._round,
            start_fen=self.start_fen,
            started_at=self._started_at,
            finished_at=utc_now(),
            arena_version=__version__,
        )


def _increment(player: Player) -> float:
    return player.time_control.increment if player.time_control else 0.0

