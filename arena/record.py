"""What a finished game leaves behind: a :class:`GameRecord`, as JSON and as PGN."""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, field
from typing import Any

import chess
import chess.pgn

from arena.spec import format_options


class Termination(str, enum.Enum):
    """Why a game ended."""

    CHECKMATE = "checkmate"
    STALEMATE = "stalemate"
    INSUFFICIENT_MATERIAL = "insufficient_material"
    THREEFOLD_REPETITION = "threefold_repetition"  #: claimed automatically
    FIFTY_MOVES = "fifty_moves"  #: claimed automatically
    FIVEFOLD_REPETITION = "fivefold_repetition"
    SEVENTYFIVE_MOVES = "seventyfive_moves"
    MOVE_CAP = "move_cap"  #: the game reached the rules' move limit (a draw, or decided by evaluation)
    CONTEXT_FULL = "context_full"  #: a model's context window is full: scored like the move cap
    ADJUDICATION = "adjudication"  #: ended early on an evaluating engine's score (resign/draw thresholds)
    RESIGNATION = "resignation"
    ILLEGAL_MOVE = "illegal_move"  #: too many illegal or unparsable moves: forfeit
    CRASH = "crash"  #: the player's engine died: forfeit ("abandoned")
    TIME_FORFEIT = "time_forfeit"  #: the arena's clock ran out
    TIMEOUT = "timeout"  #: no answer within the move timeout (a hang): forfeit
    PLAYER_ERROR = "player_error"  #: the player raised an exception: forfeit

    @property
    def pgn_value(self) -> str:
        """The PGN standard's value for the Termination tag."""
        return _PGN_TERMINATION.get(self, "normal")

    @property
    def is_forfeit(self) -> bool:
        """True when the game was lost through a fault rather than on the board."""
        return self in _FORFEITS


_PGN_TERMINATION = {
    Termination.MOVE_CAP: "adjudication",
    Termination.ADJUDICATION: "adjudication",
    Termination.ILLEGAL_MOVE: "rules infraction",
    Termination.CRASH: "abandoned",
    Termination.TIME_FORFEIT: "time forfeit",
    Termination.TIMEOUT: "time forfeit",
    Termination.PLAYER_ERROR: "emergency",
}
_FORFEITS = {
    Termination.ILLEGAL_MOVE,
    Termination.CRASH,
    Termination.TIME_FORFEIT,
    Termination.TIMEOUT,
    Termination.PLAYER_ERROR,
}


@dataclass
class SideStats:
    """Faults of one side in one game."""

    illegal_attempts: int = 0
    timeouts: int = 0
    crashes: int = 0
    errors: int = 0


@dataclass
class PlayerEntry:
    """Who played a side: name, type, the spec's options and facts from the player."""

    name: str
    type: str
    options: dict[str, Any] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)
    time_control: str | None = None


@dataclass
class MoveRecord:
    """One move as played, with the facts the player reported."""

    uci: str
    san: str
    elapsed: float | None = None
    clock: float | None = None  #: mover's remaining time after the move, when a clock runs
    illegal: list[str] = field(default_factory=list)  #: rejected replies before this move
    info: dict[str, Any] = field(default_factory=dict)
    book: bool = False  #: forced by the opening, not chosen by the player


@dataclass
class GameRecord:
    """Everything known about one finished game; one line of games.jsonl."""

    game_id: str
    seed: int
    white: PlayerEntry
    black: PlayerEntry
    result: str
    termination: Termination
    moves: list[MoveRecord] = field(default_factory=list)
    detail: str = ""
    white_stats: SideStats = field(default_factory=SideStats)
    black_stats: SideStats = field(default_factory=SideStats)
    event: str = "arena"
    round: str = "?"
    start_fen: str | None = None  #: None: the standard start position
    started_at: str = ""
    finished_at: str = ""
    arena_version: str = ""

    @property
    def plies(self) -> int:
        """Number of half-moves played, opening included."""
        return len(self.moves)

    @property
    def winner(self) -> str | None:
        """The winner's name, or None for a draw."""
        return {"1-0": self.white.name, "0-1": self.black.name}.get(self.result)

    def score_for(self, name: str) -> float:
        """Points scored by the player called ``name`` (1, 0.5 or 0)."""
        white = {"1-0": 1.0, "0-1": 0.0}.get(self.result, 0.5)
        return white if name == self.white.name else 1.0 - white

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict; :meth:`from_dict` reads it back."""
        data = asdict(self)
        data["termination"] = self.termination.value
        data["plies"] = self.plies
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GameRecord:
        """Rebuild a record from :meth:`to_dict` output."""
        data = dict(data)
        data.pop("plies", None)
        return cls(
            **{
                **data,
                "white": PlayerEntry(**data["white"]),
                "black": PlayerEntry(**data["black"]),
                "termination": Termination(data["termination"]),
                "moves": [MoveRecord(**move) for move in data["moves"]],
                "white_stats": SideStats(**data["white_stats"]),
                "black_stats": SideStats(**data["black_stats"]),
            }
        )

    def board(self) -> chess.Board:
        """The final position."""
        board = chess.Board(self.start_fen) if self.start_fen else chess.Board()
        for move in self.moves:
            board.push_uci(move.uci)
        return board

    def to_pgn(self) -> chess.pgn.Game:
        """The game as PGN: the seven standard tags, Termination, PlyCount,
        TimeControl, and arena tags for each side's type and options."""
        game = chess.pgn.Game()
        if self.start_fen:
            game.setup(self.start_fen)  # adds the FEN and SetUp tags
        headers = game.headers
        headers["Event"] = self.event
        headers["Site"] = "arena"
        headers["Date"] = (self.started_at[:10] or "????.??.??").replace("-", ".")
        headers["Round"] = self.round
        headers["White"] = self.white.name
        headers["Black"] = self.black.name
        headers["Result"] = self.result
        headers["Termination"] = self.termination.pgn_value
        headers["PlyCount"] = str(self.plies)
        headers["TimeControl"] = _pgn_time_control(self.white, self.black)
        headers["GameId"] = self.game_id
        headers["Seed"] = str(self.seed)
        headers["ArenaTermination"] = self.termination.value
        for color, entry in (("White", self.white), ("Black", self.black)):
            headers[f"{color}Type"] = entry.type
            if entry.options:
                headers[f"{color}Options"] = format_options(entry.options)
        node: chess.pgn.GameNode = game
        for move in self.moves:
            node = node.add_variation(chess.Move.from_uci(move.uci))
        if self.detail:
            node.comment = self.detail
        return game


def _pgn_time_control(white: PlayerEntry, black: PlayerEntry) -> str:
    """PGN TimeControl: '-' without clocks, 'base+inc' when both sides share one, else '?'."""
    if white.time_control == black.time_control:
        return white.time_control or "-"
    return "?"
