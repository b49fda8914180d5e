"""What a finished game leaves behind: a :class:`GameRecord`, as JSON and as PGN."""

from __future__ import annotations

import datetime
import enum
from dataclasses import asdict, dataclass, field
from typing import Any

import chess

from arena.spec import format_options


def utc_now() -> str:
    """The current UTC time, ISO formatted to the second: how records and manifests stamp times."""
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


class Result(str, enum.Enum):
    """A finished game's result, valued as PGN writes it (so games.jsonl and games.pgn keep their text)."""

    WHITE_WINS = "1-0"
    BLACK_WINS = "0-1"
    DRAW = "1/2-1/2"

    def __str__(self) -> str:
        # The PGN text, also in f-strings (a str-valued Enum would print "Result.DRAW").
        return self.value

    @classmethod
    def parse(cls, text: str) -> Result:
        """The result ``text`` names: "1-0", "0-1" or "1/2-1/2"; ValueError for anything else ("*" too)."""
        try:
            return cls(text)
        except ValueError:
            allowed = ", ".join(result.value for result in cls)
            raise ValueError(f"{text!r} is not a game result; expected one of {allowed}") from None

    @classmethod
    def win_for(cls, color: chess.Color) -> Result:
        """The result of a game won by ``color``."""
        return cls.WHITE_WINS if color == chess.WHITE else cls.BLACK_WINS

    @classmethod
    def loss_for(cls, color: chess.Color) -> Result:
        """The result of a game lost by ``color``."""
        return cls.win_for(not color)

    @classmethod
    def of_white_points(cls, points: float) -> Result:
        """The result in which White scored ``points`` (1, 0.5 or 0): :attr:`white_points` read backwards."""
        return {1.0: cls.WHITE_WINS, 0.5: cls.DRAW, 0.0: cls.BLACK_WINS}[points]

    @property
    def winner(self) -> chess.Color | None:
        """The winning colour, or None for a draw (as :attr:`chess.Outcome.winner`)."""
        return {Result.WHITE_WINS: chess.WHITE, Result.BLACK_WINS: chess.BLACK}.get(self)

    @property
    def white_points(self) -> float:
        """White's points: 1, 0.5 or 0."""
        winner = self.winner
        return 0.5 if winner is None else float(winner == chess.WHITE)

    def points_for(self, color: chess.Color) -> float:
        """The points of ``color``: 1, 0.5 or 0."""
        return self.white_points if color == chess.WHITE else 1.0 - self.white_points


class Forfeit(str, enum.Enum):
    """How a game lost through a fault was lost; standings count the two kinds apart."""

    ILLEGAL = "illegal"  #: too many illegal or unparsable moves
    FAULT = "fault"  #: a crash, timeout, time forfeit or error

    def __str__(self) -> str:
        return self.value


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
    def forfeit(self) -> Forfeit | None:
        """Which kind of fault ends a game this way, or None when it ends on the board or by a rule."""
        return _FORFEITS.get(self)

    @property
    def is_forfeit(self) -> bool:
        """True when the game was lost through a fault rather than on the board."""
        return self.forfeit is not None

    @classmethod
    def from_pgn(cls, value: str) -> Termination | None:
        """The termination a PGN tag names: arena's own value (the ArenaTermination tag) or the PGN
        standard's Termination value, case aside; None for "normal" and values arena does not know."""
        value = value.strip().lower()
        try:
            return cls(value)
        except ValueError:
            return _FROM_PGN.get(value)


_PGN_TERMINATION = {
    Termination.MOVE_CAP: "adjudication",
    Termination.ADJUDICATION: "adjudication",
    Termination.ILLEGAL_MOVE: "rules infraction",
    Termination.CRASH: "abandoned",
    Termination.TIME_FORFEIT: "time forfeit",
    Termination.TIMEOUT: "time forfeit",
    Termination.PLAYER_ERROR: "emergency",
}
#: The PGN standard's Termination values that name a fault, read back (the other direction of
#: ``_PGN_TERMINATION``; "adjudication" is arena's own value too, "normal" says nothing).
_FROM_PGN = {
    "rules infraction": Termination.ILLEGAL_MOVE,
    "abandoned": Termination.CRASH,
    "time forfeit": Termination.TIME_FORFEIT,
    "emergency": Termination.PLAYER_ERROR,
}
_FORFEITS = {
    Termination.ILLEGAL_MOVE: Forfeit.ILLEGAL,
    Termination.CRASH: Forfeit.FAULT,
    Termination.TIME_FORFEIT: Forfeit.FAULT,
    Termination.TIMEOUT: Forfeit.FAULT,
    Termination.PLAYER_ERROR: Forfeit.FAULT,
}


def forfeit_of(termination: Termination | None, result: Result) -> Forfeit | None:
    """How the loser of a game lost it through a fault; None for a loss on the board and for a draw
    (a time forfeit against a side that cannot mate is drawn: nobody lost)."""
    if termination is None or result is Result.DRAW:
        return None
    return termination.forfeit


@dataclass
class SideStats:
    """Faults of one side in one game."""

    illegal_attempts: int = 0
    timeouts: int = 0
    crashes: int = 0
    errors: int = 0


@dataclass
class PlayerEntry:
    """Who played a side: name, type, the spec's options, facts from the player, its anchor rating if any.

    ``anchor`` is what :meth:`Player.anchor` said as the game started (a rating held fixed when rating).
    """

    name: str
    type: str
    options: dict[str, Any] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)
    time_control: str | None = None
    anchor: float | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PlayerEntry:
        """Read back an entry; one written before ``anchor`` was a field kept it in ``info``."""
        data = dict(data)
        info = dict(data.get("info") or {})
        if "anchor" in info and data.get("anchor") is None:
            data["anchor"], data["info"] = info.pop("anchor"), info
        return cls(**data)


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
    """Everything known about one finished game; one line of games.jsonl.

    ``result`` may be given as its text ("1-0"): it is read as a :class:`Result`.
    """

    game_id: str
    seed: int
    white: PlayerEntry
    black: PlayerEntry
    result: Result
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

    def __post_init__(self) -> None:
        # Records are also built from a result's text ("1-0"): read it here, once, so it is a Result.
        self.result = Result.parse(self.result)

    @property
    def plies(self) -> int:
        """Number of half-moves played, opening included."""
        return len(self.moves)

    @property
    def winner(self) -> str | None:
        """The winner's name, or None for a draw."""
        color = self.result.winner
        if color is None:
            return None
        return self.white.name if color == chess.WHITE else self.black.name

    @property
    def forfeit(self) -> Forfeit | None:
        """How the loser lost through a fault, or None (see :func:`forfeit_of`)."""
        return forfeit_of(self.termination, self.result)

    def score_for(self, name: str) -> float:
        """Points scored by the player called ``name`` (1, 0.5 or 0)."""
        return self.result.points_for(chess.WHITE if name == self.white.name else chess.BLACK)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict; :meth:`from_dict` reads it back."""
        # One level deep by hand: dataclasses.asdict copies every move's info recursively, and
        # a league writes each record twice (worker and parent): that cost more than playing it.
        data = {name: getattr(self, name) for name in self.__dataclass_fields__}
        for side in ("white", "black"):
            data[side] = entry = dict(vars(data[side]))
            if entry["anchor"] is None:  # an anchor only where a player has one: lines stay as short
                del entry["anchor"]
        data["moves"] = [dict(vars(move)) for move in self.moves]
        data["white_stats"], data["black_stats"] = asdict(self.white_stats), asdict(self.black_stats)
        data["result"] = self.result.value
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
                "white": PlayerEntry.from_dict(data["white"]),
                "black": PlayerEntry.from_dict(data["black"]),
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

    def pgn_text(self) -> str:
        """:meth:`to_pgn` as text, exactly as python-chess writes it, from the SAN the record keeps.

        python-chess's exporter computes every move's SAN again by replaying
        the game, which costs more than playing it against fast engines.
        """
        lines = [f'[{name} "{value}"]' for name, value in self.to_pgn(moves=False).headers.items()]
        tokens = []
        fen = (self.start_fen or chess.STARTING_FEN).split()
        white, number = fen[1] == "w", int(fen[5])
        for index, move in enumerate(self.moves):
            if white:
                tokens.append(f"{number}.")
            elif index == 0:
                tokens.append(f"{number}...")
            tokens.append(move.san)
            number += not white
            white = not white
        if self.detail:
            tokens.append("{ " + self.detail.replace("}", "").strip() + " }")
        tokens.append(self.result.value)
        return "\n".join(lines + ["", " ".join(tokens)])

    def to_pgn(self, moves: bool = True) -> chess.pgn.Game:
        """The game as PGN: the seven standard tags, Termination, PlyCount,
        TimeControl, and arena tags for each side's type and options."""
        import chess.pgn  # only for PGN output: workers never load it

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
        headers["Result"] = self.result.value
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
        if not moves:
            return game
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
