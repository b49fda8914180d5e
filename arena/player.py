"""The player interface: every player, engine or model, answers move requests.

The core hands a player a *batch* of requests (one per game waiting on it) and
gets one reply per request back. Players that think about one game at a time
implement :meth:`Player.choose_one` and inherit the batch loop.
"""

from __future__ import annotations

import enum
import time
from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar, Mapping

import chess

from arena.errors import ConfigError


@dataclass(frozen=True)
class TimeControl:
    """A clock kept by the arena: ``base`` seconds plus ``increment`` per move."""

    base: float
    increment: float = 0.0

    @classmethod
    def parse(cls, text: str | float | int) -> TimeControl:
        """Parse ``"60+0.5"``, ``"60"`` or a number of seconds."""
        base, _, inc = str(text).partition("+")
        try:
            control = cls(float(base), float(inc or 0))
        except ValueError:
            raise ConfigError(
                f"time control {text!r} is not BASE+INCREMENT in seconds, e.g. '60+0.5'"
            ) from None
        if control.base <= 0 or control.increment < 0:
            raise ConfigError(f"time control {text!r} needs a positive base and an increment >= 0")
        return control

    def __str__(self) -> str:
        return f"{self.base:g}+{self.increment:g}"


@dataclass(frozen=True)
class Clock:
    """Both sides' remaining time when a move is requested (seconds)."""

    white: float
    black: float
    white_increment: float = 0.0
    black_increment: float = 0.0


@dataclass
class MoveRequest:
    """One game asking a player for a move.

    ``game_id`` names the game (stable across requests, so a player can keep
    per-game state such as an engine process or a key/value cache, and drop it
    in :meth:`Player.game_over`). ``board`` is the game's own board with the
    whole move stack from the game's start position, so a player can rebuild
    the transcript; push and pop in balance, never leave it changed. ``seed``
    is the game's seed and ``attempt`` counts earlier illegal replies to this
    same position (0 first), so a sampling player can draw a fresh sample that
    is still reproducible. ``clock`` is both sides' remaining time when the
    player has a time control (:attr:`Player.time_control`), else None.
    """

    game_id: str
    board: chess.Board
    seed: int
    attempt: int = 0
    clock: Clock | None = None


class Failure(str, enum.Enum):
    """What went wrong when a player could not answer with a move."""

    CRASH = "crash"  #: the engine process died: the game is forfeited
    TIMEOUT = "timeout"  #: no answer in time: forfeited
    ERROR = "error"  #: anything else the player could not do: forfeited
    CONTEXT_FULL = "context_full"  #: a model's context cannot hold the game: it ends by the move-cap rule

    def __str__(self) -> str:
        return self.value


@dataclass
class MoveReply:
    """A player's answer to one request.

    Exactly one of: a ``move`` (legality is checked by the arena), ``resign``,
    or a ``failure`` naming what went wrong: a :class:`Failure`, or its value
    (``"crash"``, ``"timeout"``, ``"error"`` or ``"context_full"``), which is
    turned into the member; any other value raises at once, so a misspelled
    one cannot pass for another. ``text`` keeps raw output that did not parse as a move.
    ``info`` carries per-move facts (nodes, score, log-probability, ...) that
    end up in games.jsonl.
    """

    move: chess.Move | None = None
    resign: bool = False
    failure: Failure | None = None
    detail: str = ""
    text: str | None = None
    elapsed: float | None = None
    info: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.failure is None or isinstance(self.failure, Failure):
            return
        allowed = ", ".join(repr(failure.value) for failure in Failure)
        if not isinstance(self.failure, str):
            raise TypeError(f"MoveReply failure must be a Failure or one of {allowed}, not {self.failure!r}")
        try:
            self.failure = Failure(self.failure)
        except ValueError:
            raise ValueError(f"MoveReply failure {self.failure!r} is not one of {allowed}") from None


@dataclass(eq=False)
class Submission:
    """Work that :meth:`Player.submit` started: call it to wait for the replies.

    ``done()`` says, without waiting, whether the replies are in.
    ``wait_any(submissions)`` blocks until at least one of ``submissions``
    is done; the arena passes it only submissions made with the same
    ``wait_any``, so a player serves all its work in flight from one wait
    (the UCI players read every engine's pipe in one ``select``).
    """

    replies: Callable[[], list[MoveReply]]
    done: Callable[[], bool]
    wait_any: Callable[[list["Submission"]], None]

    def __call__(self) -> list[MoveReply]:
        return self.replies()


class Player:
    """Base class of all players.

    Subclasses take their options as keyword-only constructor arguments and
    override :meth:`choose_one` (one game at a time) or :meth:`choose` (a
    whole batch, e.g. a neural network). ``name`` is set by the arena.

    The arena calls, in order: the constructor (raise ``arena.ConfigError``
    for a bad option value: the user sees the message, not a traceback),
    :meth:`attach`, :meth:`default_name` (for a spec without ``name=``),
    :meth:`start`, then for each game :meth:`describe` as the game starts,
    :meth:`choose` (or :meth:`submit`) for its moves and :meth:`game_over` at
    its end, and finally :meth:`close`.
    """

    #: Set by the arena: the spec's ``name``, else :meth:`default_name`, else the type name.
    name: str = ""
    #: The time control the arena keeps for this player, or None for no clock.
    time_control: TimeControl | None = None
    #: Short names for options in generated player names: ``{"temperature": "t"}`` gives ``model@t=0.5``.
    option_abbreviations: ClassVar[dict[str, str]] = {}
    #: The option studies sweep for this type, the x-axis of rating curves (the transformer's
    #: ``"temperature"``): players of one type and base name that differ only in it are plotted as one curve.
    axis: ClassVar[str | None] = None

    @property
    def batched(self) -> bool:
        """Whether answering many requests at once is cheaper than one at a time (a neural network's batch).

        Leagues with a batched player default to several games in flight per
        worker, so that its requests arrive together. By default: whether the
        class implements :meth:`choose` itself; a player that only passes
        requests on (a wrapper) should return its inner player's answer.
        """
        return type(self).choose is not Player.choose

    def resources(self, cluster: Mapping[str, float]) -> dict[str, float]:
        """What a worker that plays this player needs of its machine: ``{"CPU": 1}`` by default.

        ``cluster`` is what the machines a league may use have in all (Ray's
        names: ``{"CPU": 64, "GPU": 8}``), so a model can ask for a GPU
        (``{"CPU": 1, "GPU": 1}``) only where there is one. An executor that
        places workers on machines (``ray``) gives each worker the most that
        any player of the league asks for; the ``local`` one does not ask.
        """
        return {"CPU": 1.0}

    def default_name(self) -> str | None:
        """A readable name derived from the options (e.g. ``stockfish-skill3``), or None.

        Used when the spec gives no ``name=``; None means the type name. Sweeps
        add ``@key=value`` for the swept options the name does not tell apart.
        """
        return None

    def attach(self, plugins: Any) -> None:
        """Called once after construction with the loaded plugins (players that wrap others build them here)."""

    def start(self) -> None:
        """Acquire resources (engine processes, weights) before the first request.

        The arena starts every player of a game before it asks any to
        :meth:`describe` itself, so slow work begun here (an engine's
        handshake) may still be running: finish it in :meth:`describe`.
        """

    def choose(self, requests: list[MoveRequest]) -> list[MoveReply]:
        """Answer every request, in order. Time per request is measured here."""
        replies = []
        for request in requests:
            started = time.perf_counter()
            reply = self.choose_one(request)
            if isinstance(reply, chess.Move):
                reply = MoveReply(move=reply)
            if reply.elapsed is None:
                reply.elapsed = time.perf_counter() - started
            replies.append(reply)
        return replies

    def submit(self, requests: list[MoveRequest]) -> Callable[[], list[MoveReply]] | None:
        """Start answering ``requests`` without waiting; return a function that waits for the replies.

        For players whose thinking happens elsewhere (engine processes, a
        server), which override it: the arena submits to every such player
        with games waiting before it waits on any, so their searches run at
        the same time. Time each reply's ``elapsed`` yourself. Return a
        :class:`Submission` to let each game go on as soon as its replies are
        in, rather than when the slowest work of the step is. A player that
        does not override it answers in :meth:`choose`.
        """
        return None

    def choose_one(self, request: MoveRequest) -> MoveReply | chess.Move:
        """Answer one request with a move or a :class:`MoveReply`."""
        raise NotImplementedError(f"{type(self).__name__} implements neither choose nor choose_one")

    def game_over(self, game_id: str, board: chess.Board, result: str) -> None:
        """Told when a game this player took part in has ended (optional)."""

    def close(self) -> None:
        """Release resources; called once, also after errors."""

    def anchor(self) -> float | None:
        """The rating this player is known to have, held fixed when rating its games; None for most players.

        A calibrated engine preset returns its measured Elo. Called after
        :meth:`start`, as each game starts; the game's record keeps it.
        """
        return None

    def describe(self) -> dict[str, Any]:
        """Facts about this player recorded with each game (e.g. engine id).

        Called after :meth:`start` (for the run's manifest) and as each game
        starts, before its first move; the game's record keeps what it
        returned then. So it reports what is known up front (ids, versions,
        settings): facts that change while a game is played (nodes searched,
        a cache's hits) belong in each :class:`MoveReply`'s ``info``.
        """
        return {}
