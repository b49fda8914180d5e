"""UCI engines as players: ``uci`` (any engine from its command) and the ``stockfish`` preset.

The arena keeps clocks and move limits; the engine only answers ``go``. An
engine that crashes loses the game and is restarted for the next request. One
that does not answer within the move's expected time plus ``timeout`` seconds
is sent ``stop``: if it then answers within :data:`STOP_GRACE_S`, its move is
played (an engine that ignores ``go nodes``, as Toga II does, is still
searching, not hung); if not, it is killed, loses on time, and is restarted.

Each game in flight gets an engine process of its own, handed back when the
game ends: the engine's hash then only ever holds one game's searches, so a
game's moves do not depend on which other games ran beside it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import math
import os
import sys
from typing import Annotated, Any

import chess
import chess.engine
from pydantic import Field

from arena import ConfigError, Failure, MoveReply, MoveRequest, Player, TimeControl, hookimpl
from arena.options import Wording, checked_options
from arena_engines import STOCKFISH_DEFAULTS, locate_engine, locate_stockfish, stockfish_anchor

DEFAULT_MOVETIME_MS = 100  # the paper's 0.1 s per move, used when no limit is given
#: Seconds an engine that overran its search gets to answer ``stop`` before it is taken for hung.
STOP_GRACE_S = 2.0
#: Seconds between the ``stop`` commands sent during that grace.
STOP_REPEAT_S = 0.2


#: Option types the two players share.
Positive = Annotated[float, Field(gt=0)]
PositiveWhole = Annotated[int, Field(gt=0)]
UciOptions = Annotated[dict[str, Any] | None, Field(description="UCI options sent at start (options.Hash=16)")]
TimeControlText = Annotated[
    str | float | None,
    Field(description="a clock kept by the arena: BASE+INC in seconds"),
    Wording("a time control such as '60+0.5', or seconds"),
]


@checked_options
class UciPlayer(Player):
    """Any UCI engine: ``uci:command=ethereal-chess,movetime=50``.

    Limits per move: ``movetime`` (milliseconds), ``nodes``, ``depth``; or a
    clock ``tc`` ("BASE+INC" in seconds) kept by the arena. With no limit at
    all, ``movetime`` is 100. ``options`` are UCI options sent at start
    (``options.Hash=16`` on the command line). ``timeout`` is how many seconds
    past the expected time an engine may search before the arena sends
    ``stop`` (and plays the move it then gets, or, with none, takes the engine
    for hung).
    """

    def __init__(
        self,
        *,
        command: Annotated[
            str,
            Field(min_length=1, description="the engine: a name on PATH or a path"),
            Wording("the engine's command, e.g. command=ethereal-chess"),
        ],
        options: UciOptions = None,
        movetime: Annotated[Positive | None, Field(description="milliseconds per move")] = None,
        nodes: Annotated[PositiveWhole | None, Field(description="nodes per move")] = None,
        depth: Annotated[PositiveWhole | None, Field(description="depth per move")] = None,
        tc: TimeControlText = None,
        timeout: Annotated[Positive, Field(description="seconds past the expected time before 'stop'")] = 10.0,
    ) -> None:
        self.command = command
        self.uci_options = dict(options or {})
        self.movetime = movetime
        self.nodes = nodes
        self.depth = depth
        self.time_control = TimeControl.parse(tc) if tc is not None else None
        self.timeout = timeout
        if not (self.movetime or self.nodes or self.depth or self.time_control):
            self.movetime = float(DEFAULT_MOVETIME_MS)
        self.engine_path()  # a missing engine is a configuration error, found before any game
        self._idle: list[chess.engine.SimpleEngine] = []
        self._by_game: dict[str, chess.engine.SimpleEngine] = {}
        self._id: dict[str, str] = {}
        self._warned_overrun = False

    def default_name(self) -> str:
        return os.path.basename(self.command)

    def engine_path(self) -> str:
        """The engine binary to run."""
        return locate_engine(self.command)

    def engine_options(self) -> dict[str, Any]:
        """UCI options sent after the handshake."""
        return dict(self.uci_options)

    def start(self) -> None:
        # Start one engine now, so a bad command or option fails before any game.
        self._idle.append(self._launch())

    def _launch(self) -> chess.engine.SimpleEngine:
        path = self.engine_path()
        try:
            # Own process group: a Ctrl-C meant for the arena must not kill engines mid-game.
            engine = chess.engine.SimpleEngine.popen_uci(path, timeout=self.timeout, setpgrp=True)
        except (chess.engine.EngineError, OSError, asyncio.TimeoutError, concurrent.futures.TimeoutError) as error:
            raise ConfigError(f"engine {path!r} did not start as a UCI engine: {error!r}") from None
        try:
            self._configure(engine)
        except BaseException:
            engine.close()
            raise
        self._id = dict(engine.id)
        return engine

    def _configure(self, engine: chess.engine.SimpleEngine) -> None:
        options = self.engine_options()
        unknown = sorted(name for name in options if name not in engine.options)
        if unknown:
            raise ConfigError(
                f"engine {self.command!r} has no UCI option {', '.join(map(repr, unknown))}; "
                f"it has: {', '.join(sorted(engine.options))}"
            )
        try:
            engine.configure(options)
        except chess.engine.EngineError as error:
            raise ConfigError(f"engine {self.command!r} rejected its options: {error}") from None

    def limit(self, request: MoveRequest) -> tuple[chess.engine.Limit, float]:
        """The search limit for a request and the seconds the search may be expected to take."""
        limit = chess.engine.Limit(
            time=self.movetime / 1000 if self.movetime else None, nodes=self.nodes, depth=self.depth
        )
        expected = limit.time or 0.0
        clock = request.clock
        if clock is not None and self.time_control is not None:
            limit.white_clock = clock.white if math.isfinite(clock.white) else None
            limit.black_clock = clock.black if math.isfinite(clock.black) else None
            limit.white_inc, limit.black_inc = clock.white_increment, clock.black_increment
            own = clock.white if request.board.turn == chess.WHITE else clock.black
            expected = max(expected, own)
        return limit, expected

    def choose_one(self, request: MoveRequest) -> MoveReply:
        engine = self._by_game.get(request.game_id)
        if engine is None:
            try:
                engine = self._idle.pop() if self._idle else self._launch()
            except ConfigError as error:
                return MoveReply(failure=Failure.CRASH, detail=f"restart failed: {error}")
            self._by_game[request.game_id] = engine
        limit, expected = self.limit(request)
        wait = expected + self.timeout
        play = engine.protocol.play(
            request.board,
            limit,
            game=request.game_id,
            info=chess.engine.INFO_BASIC | chess.engine.INFO_SCORE,
        )
        try:
            # SimpleEngine.play has no timeout for node or depth limits; this guards every search.
            search = _play_or_stop(engine.protocol, play, wait)
            future = asyncio.run_coroutine_threadsafe(search, engine.protocol.loop)
            result, stopped = future.result()
        except chess.engine.EngineTerminatedError as error:
            self._discard(request.game_id)
            return MoveReply(failure=Failure.CRASH, detail=f"engine {self.name} terminated: {error}")
        except (asyncio.TimeoutError, concurrent.futures.TimeoutError):
            self._discard(request.game_id)
            return MoveReply(
                failure=Failure.TIMEOUT,
                detail=f"no move from {self.name} within {wait:.1f} s, nor {STOP_GRACE_S:g} s after 'stop'",
            )
        except chess.engine.EngineError as error:
            return MoveReply(text=str(error), detail=str(error))
        if result.move is None:
            return MoveReply(text="(none)")
        info = _search_info(result.info)
        if stopped:
            info["stopped_after"] = round(wait, 3)
            self._warn_overrun(limit, wait)
        return MoveReply(move=result.move, info=info)

    def _warn_overrun(self, limit: chess.engine.Limit, wait: float) -> None:
        """Say once per player that its searches overrun, so a slow league is not a mystery."""
        if self._warned_overrun:
            return
        self._warned_overrun = True
        limits = (("nodes", limit.nodes), ("depth", limit.depth), ("movetime", self.movetime))
        asked = ", ".join(f"{key}={value:g}" for key, value in limits if value) or "its clock"
        hint = " (an engine that ignores 'go nodes' searches until stopped: give it movetime, depth or tc)"
        sys.stderr.write(
            f"arena: warning: {self.name} was still searching ({asked}) after {wait:.1f} s; the arena sent "
            f"'stop' and played its best move{hint if limit.nodes else ''}; such moves carry stopped_after "
            "in their info\n"
        )

    def _discard(self, game_id: str) -> None:
        """Kill a game's engine process; its next request starts a new one."""
        engine = self._by_game.pop(game_id, None)
        if engine is not None:
            engine.close()

    def game_over(self, game_id: str, board: chess.Board, result: str) -> None:
        engine = self._by_game.pop(game_id, None)
        if engine is not None:
            self._idle.append(engine)

    def describe(self) -> dict[str, Any]:
        return {key: value for key, value in self._id.items() if key in ("name", "author")}

    def close(self) -> None:
        engines = self._idle + list(self._by_game.values())
        self._idle, self._by_game = [], {}
        for engine in engines:
            try:
                engine.quit()
            except Exception:
                pass  # already dead or hung: close() below kills it
            finally:
                engine.close()


async def _play_or_stop(
    protocol: chess.engine.Protocol, play: Any, wait: float
) -> tuple[chess.engine.PlayResult, bool]:
    """Await a search; if it runs past ``wait`` seconds, send ``stop`` and await its answer.

    Returns the result and whether it took a ``stop``. An engine that does not
    answer ``stop`` within :data:`STOP_GRACE_S` raises ``asyncio.TimeoutError``.
    """
    search = asyncio.ensure_future(play)
    done, _ = await asyncio.wait({search}, timeout=wait)  # unlike wait_for, leaves the search running
    if done:
        return search.result(), False
    loop = asyncio.get_running_loop()
    deadline = loop.time() + STOP_GRACE_S
    while (remaining := deadline - loop.time()) > 0:
        # The play command is still live: the bestmove that 'stop' asks for completes it. Sent
        # again and again, because one that arrives before the engine's 'go' (while it is still
        # clearing its hash for ucinewgame) stops nothing; an idle engine ignores 'stop'.
        protocol.send_line("stop")
        done, _ = await asyncio.wait({search}, timeout=min(STOP_REPEAT_S, remaining))
        if done:
            return search.result(), True
    search.cancel()
    raise asyncio.TimeoutError


def _search_info(info: dict[str, Any]) -> dict[str, Any]:
    """The engine's search facts worth keeping with the move."""
    facts: dict[str, Any] = {}
    for key in ("depth", "nodes"):
        if key in info:
            facts[key] = info[key]
    score = info.get("score")
    if score is not None:
        relative = score.relative
        if relative.is_mate():
            facts["mate"] = relative.mate()
        else:
            facts["cp"] = relative.score()
    return facts


@checked_options
class StockfishPlayer(UciPlayer):
    """Stockfish at a strength: ``stockfish:skill=3`` (UCI Skill Level 0..20) or ``stockfish:elo=1500``.

    Defaults: one thread, 16 MB hash, 100 ms per move unless ``movetime``,
    ``nodes``, ``depth`` or ``tc`` is set. Finds the binary from ``path``,
    $ARENA_STOCKFISH, PATH or /usr/games.
    """

    def __init__(
        self,
        *,
        skill: Annotated[int | None, Field(ge=0, le=20, description="UCI Skill Level; not with elo")] = None,
        elo: Annotated[
            int | None, Field(description="UCI_Elo, within the engine's range; not with skill"),
            Wording("a whole number, e.g. 1500"),
        ] = None,
        movetime: Annotated[Positive | None, Field(description="milliseconds per move (100 if no limit)")] = None,
        nodes: Annotated[PositiveWhole | None, Field(description="nodes per move")] = None,
        depth: Annotated[PositiveWhole | None, Field(description="depth per move")] = None,
        tc: TimeControlText = None,
        threads: Annotated[PositiveWhole, Field(description="UCI Threads")] = STOCKFISH_DEFAULTS["Threads"],
        hash: Annotated[PositiveWhole, Field(description="UCI Hash, in MB")] = STOCKFISH_DEFAULTS["Hash"],
        options: UciOptions = None,
        path: Annotated[str | None, Field(description="the binary, else $ARENA_STOCKFISH, PATH, /usr/games")] = None,
        timeout: Annotated[Positive, Field(description="seconds past the expected time before 'stop'")] = 10.0,
    ) -> None:
        if skill is not None and elo is not None:
            raise ConfigError("give skill or elo, not both")
        self.path = path
        super().__init__(
            command=path or "stockfish",
            options=options,
            movetime=movetime,
            nodes=nodes,
            depth=depth,
            tc=tc,
            timeout=timeout,
        )
        self.skill, self.elo = skill, elo
        self.threads = threads
        self.hash = hash

    def default_name(self) -> str:
        if self.skill is not None:
            return f"stockfish-skill{self.skill}"
        if self.elo is not None:
            return f"stockfish-elo{self.elo}"
        return "stockfish"

    def engine_path(self) -> str:
        return locate_stockfish(self.path)

    def anchor(self) -> float | None:
        limits = {
            key: value
            for key, value in (("movetime", self.movetime), ("nodes", self.nodes), ("depth", self.depth))
            if value is not None
        }
        if self.time_control is not None:
            limits["tc"] = str(self.time_control)
        # Only the pure preset is anchored: extra UCI options could change its strength.
        return None if (self.uci_options or self.elo is not None) else stockfish_anchor(self.skill, limits)

    def engine_options(self) -> dict[str, Any]:
        options: dict[str, Any] = {"Threads": self.threads, "Hash": self.hash}
        if self.skill is not None:
            options["Skill Level"] = self.skill
        if self.elo is not None:
            options["UCI_LimitStrength"] = True
            options["UCI_Elo"] = self.elo
        options.update(self.uci_options)
        return options

    def _configure(self, engine: chess.engine.SimpleEngine) -> None:
        if self.elo is not None and "UCI_Elo" in engine.options:
            low, high = engine.options["UCI_Elo"].min, engine.options["UCI_Elo"].max
            if low is not None and high is not None and not low <= self.elo <= high:
                raise ConfigError(f"option elo={self.elo} is outside this Stockfish's range {low}..{high}")
        super()._configure(engine)


@hookimpl
def register_players(register):
    register("uci", UciPlayer)
    register("stockfish", StockfishPlayer)
