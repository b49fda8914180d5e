"""UCI engines as players: ``uci`` (any engine from its command) and the ``stockfish`` preset.

The arena keeps clocks and move limits; the engine only answers ``go``. An
engine that crashes loses the game and is restarted for the next request. One
that does not answer within the move's expected time plus ``timeout`` seconds
is sent ``stop``: if it then answers within :data:`STOP_GRACE_S`, its move is
played (an engine that ignores ``go nodes``, as Toga II does, is still
searching, not hung); if not, it is killed, loses on time, and is restarted.

:meth:`UciPlayer.start` starts an engine process and begins its handshake
(``uci`` and the options); :meth:`UciPlayer.describe`, asked once every player
of a game has started, waits for it: a game's engines load side by side, and
a bad command or option still fails before any game.

Each game in flight gets an engine process of its own, handed back when the
game ends: the engine's hash then only ever holds one game's searches, so a
game's moves do not depend on which other games ran beside it.

All engines of a process are served from the thread that asks for moves, with
no thread per engine and no thread hop per move: a batch of requests, and the
batches of every engine player with games waiting (:meth:`UciPlayer.submit`),
search at once. python-chess (on an asyncio loop run only then) starts each
engine and sets its options; searches then use the engine's pipes directly,
through one ``poll`` over every search in flight (:class:`_Running`): a
move is one write (``position`` and ``go``), the reads up to ``bestmove``,
and the search's last ``info`` line with a score, read once (:class:`_Search`).
An event loop took two turns per read, and Stockfish writes every ``info``
line on its own.
"""

from __future__ import annotations

import asyncio
import math
import os
import select
import sys
import time
from typing import Annotated, Any, Callable

import chess
import chess.engine
from pydantic import Field

from arena import ConfigError, Failure, MoveReply, MoveRequest, Player, Submission, TimeControl, hookimpl
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
        self._idle: list[_LeanUci] = []
        self._by_game: dict[str, _LeanUci] = {}
        self._id: dict[str, str] = {}
        self._warned_overrun = False
        self._starting: asyncio.Task[_LeanUci] | None = None  #: the handshake start() began
        self._moves: dict[str, list[str]] = {}  #: each game's moves as UCI text, grown as it is played
        self._starts: dict[str, str] = {}  #: each game's start position, as the position command names it

    @property
    def batched(self) -> bool:
        # Its batches search in parallel engine processes, not as one cheaper computation:
        # no reason to hold more games in flight than the league asks for.
        return False

    def default_name(self) -> str:
        return os.path.basename(self.command)

    def engine_path(self) -> str:
        """The engine binary to run."""
        return locate_engine(self.command)

    def engine_options(self) -> dict[str, Any]:
        """UCI options sent after the handshake."""
        return dict(self.uci_options)

    def start(self) -> None:
        # One engine now, so a bad command or option fails before any game; describe() waits for its handshake.
        engine = _run(self._spawn())
        self._starting = _loop().create_task(self._handshake(engine))

    def _ready(self) -> None:
        """Wait for the engine :meth:`start` began (raises what its handshake raised)."""
        if self._starting is not None:
            starting, self._starting = self._starting, None
            self._idle.append(_run(starting))

    async def _launch(self) -> _LeanUci:
        return await self._handshake(await self._spawn())

    async def _spawn(self) -> _LeanUci:
        path = self.engine_path()
        try:
            # Own process group: a Ctrl-C meant for the arena must not kill engines mid-game.
            _, engine = await _LeanUci.popen(path, setpgrp=True)
        except OSError as error:
            raise ConfigError(f"engine {path!r} did not start: {error!r}") from None
        return engine

    async def _handshake(self, engine: _LeanUci) -> _LeanUci:
        """``uci`` and the options, on a started engine process; the engine ready for searches."""
        path = self.engine_path()
        try:
            await asyncio.wait_for(engine.initialize(), self.timeout)
        except (chess.engine.EngineError, asyncio.TimeoutError) as error:
            _kill(engine)
            raise ConfigError(f"engine {path!r} did not start as a UCI engine: {error!r}") from None
        try:
            self._check_options(engine)
            await engine.configure(self.engine_options())
        except chess.engine.EngineError as error:
            _kill(engine)
            raise ConfigError(f"engine {self.command!r} rejected its options: {error}") from None
        except BaseException:
            _kill(engine)
            raise
        self._id = dict(engine.id)
        engine.detach()
        return engine

    def _check_options(self, engine: _LeanUci) -> None:
        """Refuse options the engine does not have, before any is sent."""
        unknown = sorted(name for name in self.engine_options() if name not in engine.options)
        if unknown:
            raise ConfigError(
                f"engine {self.command!r} has no UCI option {', '.join(map(repr, unknown))}; "
                f"it has: {', '.join(sorted(engine.options))}"
            )

    def go_command(self, request: MoveRequest) -> tuple[str, float]:
        """The ``go`` line for a request and the seconds its search may be expected to take."""
        words = ["go"]
        expected = self.movetime / 1000 if self.movetime else 0.0
        clock = request.clock
        if clock is not None and self.time_control is not None:
            for name, seconds in (("wtime", clock.white), ("btime", clock.black)):
                if math.isfinite(seconds):
                    words += [name, str(max(1, round(seconds * 1000)))]
            words += ["winc", str(round(clock.white_increment * 1000)), "binc", str(round(clock.black_increment * 1000))]
            expected = max(expected, clock.white if request.board.turn == chess.WHITE else clock.black)
        for name, value in (("depth", self.depth), ("nodes", self.nodes)):
            if value is not None:
                words += [name, str(value)]
        if self.movetime:
            words += ["movetime", str(max(1, round(self.movetime)))]
        return " ".join(words), expected

    def _position(self, request: MoveRequest) -> str:
        """The ``position`` line of a request's board: its start position and every move since."""
        board = request.board
        moves = self._moves.setdefault(request.game_id, [])
        if len(moves) > len(board.move_stack):  # not the game this engine saw (a replayed game): start again
            moves.clear()
        moves.extend(move.uci() for move in board.move_stack[len(moves):])
        start = self._starts.get(request.game_id)
        if start is None:
            fen = board.root().fen() if board.move_stack else board.fen()
            start = self._starts[request.game_id] = "startpos" if fen == chess.STARTING_FEN else f"fen {fen}"
        return f"position {start} moves {' '.join(moves)}" if moves else f"position {start}"

    def choose(self, requests: list[MoveRequest]) -> list[MoveReply]:
        return self.submit(requests)()

    def submit(self, requests: list[MoveRequest]) -> Callable[[], list[MoveReply]]:
        """Start every request's search at once; the returned function waits for the moves."""
        searches = [self._begin(request) for request in requests]
        return Submission(replies=lambda: [self._reply(search) for search in _SEARCHES.wait(searches)],
                          done=lambda: _SEARCHES.all_done(searches), wait_any=_SEARCHES.wait_any)

    def _begin(self, request: MoveRequest) -> _Search | MoveReply:
        """Send a request's search to its game's engine (a reply at once if no engine can start)."""
        engine = self._by_game.get(request.game_id)
        if engine is None:
            self._ready()
            try:
                engine = self._idle.pop() if self._idle else _run(self._launch())
            except ConfigError as error:
                return MoveReply(failure=Failure.CRASH, detail=f"restart failed: {error}")
            self._by_game[request.game_id] = engine
        go, expected = self.go_command(request)
        search = _Search(engine, request.game_id, self._position(request), go, expected + self.timeout, self.timeout)
        _SEARCHES.start(search)
        return search

    def _reply(self, search: _Search | MoveReply) -> MoveReply:
        """The reply a finished search gives (an engine that crashed or hung is killed)."""
        if isinstance(search, MoveReply):
            return search
        if search.failure is not None:
            self._discard(search.game_id)
            if search.failure is Failure.CRASH:
                return MoveReply(failure=Failure.CRASH, detail=f"engine {self.name} terminated ({search.detail})")
            return MoveReply(failure=Failure.TIMEOUT, detail=f"no move from {self.name} within "
                             f"{search.wait:.1f} s, nor {STOP_GRACE_S:g} s after 'stop'")
        try:
            move = chess.Move.from_uci(search.bestmove)  # legal or not, the arena decides
        except ValueError:
            return MoveReply(text=search.bestmove, elapsed=search.elapsed)
        info = search_info(search.info)
        if search.stop_deadline is not None:
            info["stopped_after"] = round(search.wait, 3)
            self._warn_overrun(search.wait)
        return MoveReply(move=move, info=info, elapsed=search.elapsed)

    def _warn_overrun(self, wait: float) -> None:
        """Say once per player that its searches overrun, so a slow league is not a mystery."""
        if self._warned_overrun:
            return
        self._warned_overrun = True
        limits = (("nodes", self.nodes), ("depth", self.depth), ("movetime", self.movetime))
        asked = ", ".join(f"{key}={value:g}" for key, value in limits if value) or "its clock"
        hint = " (an engine that ignores 'go nodes' searches until stopped: give it movetime, depth or tc)"
        sys.stderr.write(
            f"arena: warning: {self.name} was still searching ({asked}) after {wait:.1f} s; the arena sent "
            f"'stop' and played its best move{hint if self.nodes else ''}; such moves carry stopped_after "
            "in their info\n"
        )

    def _discard(self, game_id: str) -> None:
        """Kill a game's engine process; its next request starts a new one."""
        engine = self._by_game.pop(game_id, None)
        if engine is not None:
            _kill(engine)

    def game_over(self, game_id: str, board: chess.Board, result: str) -> None:
        self._moves.pop(game_id, None)
        self._starts.pop(game_id, None)
        engine = self._by_game.pop(game_id, None)
        if engine is not None:
            self._idle.append(engine)

    def describe(self) -> dict[str, Any]:
        self._ready()
        return {key: value for key, value in self._id.items() if key in ("name", "author")}

    def close(self) -> None:
        try:
            self._ready()
        except ConfigError:
            pass  # that engine is already gone
        engines = self._idle + list(self._by_game.values())
        self._idle, self._by_game = [], {}
        if engines:
            for engine in engines:
                engine.attach()
            _run(_quit_all(engines, self.timeout))


class _LeanUci(chess.engine.UciProtocol):
    """python-chess's UCI protocol to start an engine and set its options; then its raw pipes.

    After :meth:`detach` the event loop no longer reads the engine's output:
    searches write and read its pipes themselves (:class:`_Search`), one
    system call a side, where the loop took two turns for every read.
    """

    def __init__(self) -> None:
        super().__init__()
        self.searched_game: str | None = None
        self.stdin = self.stdout = -1

    def detach(self) -> None:
        """Take the pipes from the event loop, for searches."""
        assert self.transport is not None
        self.transport.get_pipe_transport(1).pause_reading()
        self.stdin = self.transport.get_pipe_transport(0).get_extra_info("pipe").fileno()
        self.stdout = self.transport.get_pipe_transport(1).get_extra_info("pipe").fileno()

    def attach(self) -> None:
        """Give the pipes back to the event loop (to quit)."""
        if self.transport is not None and not self.transport.is_closing():
            self.transport.get_pipe_transport(1).resume_reading()

    def write(self, text: str) -> bool:
        """Send ``text``; False if the engine is gone."""
        try:
            os.write(self.stdin, text.encode())
            return True
        except OSError:
            return False


class _Search:
    """One search on an engine's raw pipes: ``ucinewgame`` and ``isready`` for a new game, then
    ``position`` and ``go`` in one write, until ``bestmove``.

    Keeps the last ``info`` line with a score (unparsed) and the seconds from
    ``go`` to ``bestmove``. A search still running ``wait`` seconds after
    ``go`` is sent ``stop``, again every :data:`STOP_REPEAT_S` (one that
    arrives before the engine reads ``go`` stops nothing; an idle engine
    ignores it); with no answer :data:`STOP_GRACE_S` later it fails as a
    timeout. An engine whose output ends fails it as a crash.
    """

    def __init__(self, engine: _LeanUci, game_id: str, position: str, go: str, wait: float, ready_wait: float):
        self.engine, self.game_id, self.wait = engine, game_id, wait
        self.command = f"{position}\n{go}\n"
        self.buffer = b""
        self._scored = b""  #: the last output with a score in it, until the move is in
        self.info = ""
        self.bestmove = ""
        self.sent = self.elapsed = 0.0
        self.failure: Failure | None = None
        self.detail = ""
        self.stop_deadline: float | None = None  #: when a stopped search is given up
        self.ready = engine.searched_game == game_id
        now = time.perf_counter()
        if self.ready:
            self._go(now)
        else:
            # ucinewgame clears the hash; isready waits until it has, so no search time is the hash's.
            self.deadline = now + ready_wait
            self._send("ucinewgame\nisready\n")

    @property
    def done(self) -> bool:
        return bool(self.bestmove) or self.failure is not None

    def _send(self, text: str) -> None:
        if not self.engine.write(text):
            self._fail(Failure.CRASH, "its input is closed")

    def _go(self, now: float) -> None:
        self.sent = now
        self.deadline = now + self.wait
        self._send(self.command)

    def _fail(self, failure: Failure, detail: str) -> None:
        if not self.done:
            self.failure, self.detail = failure, detail

    def readable(self, now: float) -> bool:
        """Read what the engine wrote and act on its complete lines; whether the search is done now."""
        try:
            data = os.read(self.engine.stdout, 65536)
        except BlockingIOError:
            return False
        except OSError as error:
            data, self.detail = b"", str(error)
        if not data:
            self._fail(Failure.CRASH, self.detail or "its output ended")
            return True
        # On bytes, without splitting: this runs for every burst of 'info' lines of every search.
        data = self.buffer + data
        end = data.rfind(b"\n") + 1
        lines, self.buffer = data[:end], data[end:]
        if not self.ready:
            if b"readyok" in lines and any(line.strip() == b"readyok" for line in lines.split(b"\n")):
                self.ready = True  # what came before (and with) readyok answers no search of this game
                self.engine.searched_game = self.game_id
                self._go(now)  # fails the search if the engine's input is closed
            return self.done
        best = _line_start(lines, b"bestmove")
        if best < 0:
            if b" score " in lines:
                self._scored = lines  # looked at once the move is in
            return False
        words = lines[best:lines.index(b"\n", best)].split()
        self.bestmove = words[1].decode(errors="replace") if len(words) > 1 else "(none)"
        self.elapsed = now - self.sent
        self.info = _last_scored_info([self._scored, lines[:best]])
        return True


    def overdue(self, now: float) -> None:
        """Act on a passed deadline: send ``stop`` (again), or give up."""
        if not self.ready or (self.stop_deadline is not None and now >= self.stop_deadline):
            self._fail(Failure.TIMEOUT, "no answer")
            return
        if self.stop_deadline is None:
            self.stop_deadline = now + STOP_GRACE_S
        self._send("stop\n")
        self.deadline = min(now + STOP_REPEAT_S, self.stop_deadline)


class _Running:
    """The searches in flight in this process, read with one ``poll`` per wake-up.

    Waiting on some searches reads every engine in flight, so each search's
    ``bestmove`` is timed when it arrives, whichever player waits.
    """

    def __init__(self) -> None:
        self.poller = select.poll()
        self.by_fd: dict[int, _Search] = {}

    def start(self, search: _Search) -> None:
        if not search.done:
            self.by_fd[search.engine.stdout] = search
            self.poller.register(search.engine.stdout, select.POLLIN)

    def _finish(self, search: _Search) -> None:
        if self.by_fd.pop(search.engine.stdout, None) is not None:
            self.poller.unregister(search.engine.stdout)

    @staticmethod
    def all_done(searches: list[_Search | MoveReply]) -> bool:
        return all(not isinstance(search, _Search) or search.done for search in searches)

    def wait(self, searches: list[_Search | MoveReply]) -> list[_Search | MoveReply]:
        """Serve every search in flight until all of ``searches`` are done; returns ``searches``."""
        self._serve(lambda: self.all_done(searches))
        return searches

    def wait_any(self, submissions: list[Submission]) -> None:
        """Serve every search in flight until one of ``submissions`` is done."""
        self._serve(lambda: any(submission.done() for submission in submissions))

    def _serve(self, until: Callable[[], bool]) -> None:
        # ``until`` is asked again only when a search has finished, not at every burst of output.
        while self.by_fd and not until():
            self._until_one_finishes()

    def _until_one_finishes(self) -> None:
        # The engines wake this loop for every line of 'info' they flush: it is kept lean.
        searches, poll, clock = self.by_fd, self.poller.poll, time.perf_counter
        while True:
            finished = False
            now = clock()
            deadline = min(search.deadline for search in searches.values())
            if now >= deadline:
                for search in list(searches.values()):
                    if now >= search.deadline:
                        search.overdue(now)
                    if search.done:
                        self._finish(search)
                        finished = True
            else:
                for fd, _ in poll(math.ceil((deadline - now) * 1000)):
                    search = searches[fd]
                    if search.readable(clock()):
                        self._finish(search)
                        finished = True
            if finished:
                return


def _last_scored_info(chunks: list[bytes]) -> str:
    """The last ``info`` line with a score in ``chunks`` of complete lines, or "" (``info string`` is text)."""
    for lines in reversed(chunks):
        at = len(lines)
        while (at := lines.rfind(b" score ", 0, at)) >= 0:
            start = lines.rfind(b"\n", 0, at) + 1
            if lines.startswith(b"info", start) and not lines.startswith(b"info string", start):
                return lines[start:lines.index(b"\n", at)].decode(errors="replace").rstrip("\r")
            at = start
    return ""


def _line_start(lines: bytes, word: bytes) -> int:
    """Where the first line of ``lines`` that starts with ``word`` starts, or -1."""
    at = -1
    while (at := lines.find(word, at + 1)) > 0 and lines[at - 1] != 0x0A:
        pass
    return at


#: This process's searches in flight, whichever player started them.
_SEARCHES = _Running()


#: The event loop of this process's engines; see the module docstring.
_engine_loop: asyncio.AbstractEventLoop | None = None


def _loop() -> asyncio.AbstractEventLoop:
    global _engine_loop
    if _engine_loop is None or _engine_loop.is_closed():
        _engine_loop = asyncio.new_event_loop()
    return _engine_loop


def _run(work: Any) -> Any:
    """Run the engine loop until ``work`` (starting an engine, quitting engines) is done."""
    return _loop().run_until_complete(work)


def _kill(engine: _LeanUci) -> None:
    """End an engine process at once (closing an asyncio subprocess transport kills the process)."""
    if engine.transport is not None:
        engine.transport.close()


async def _quit_all(engines: list[_LeanUci], timeout: float) -> None:
    """Ask every engine to quit, killing those that do not within ``timeout`` seconds."""

    async def quit(engine: _LeanUci) -> None:
        try:
            await asyncio.wait_for(engine.quit(), timeout)
        except Exception:
            pass  # already dead or hung: killed below
        finally:
            _kill(engine)

    await asyncio.gather(*(quit(engine) for engine in engines))


def search_info(line: str) -> dict[str, Any]:
    """The search facts kept with a move (depth, nodes, and ``cp`` or ``mate`` for the side to move)
    from an engine's ``info`` line."""
    facts: dict[str, Any] = {}
    tokens = line.split()
    for index, token in enumerate(tokens[:-1]):
        following = tokens[index + 1]
        if token in ("depth", "nodes") and following.isdigit():
            facts[token] = int(following)
        elif token == "score" and index + 2 < len(tokens) and tokens[index + 2].lstrip("-").isdigit():
            if following in ("cp", "mate"):
                facts[following] = int(tokens[index + 2])
        elif token == "pv":
            break  # moves follow: nothing more to read
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

    def _check_options(self, engine: _LeanUci) -> None:
        if self.elo is not None and "UCI_Elo" in engine.options:
            low, high = engine.options["UCI_Elo"].min, engine.options["UCI_Elo"].max
            if low is not None and high is not None and not low <= self.elo <= high:
                raise ConfigError(f"option elo={self.elo} is outside this Stockfish's range {low}..{high}")
        super()._check_options(engine)


@hookimpl
def register_players(register):
    register("uci", UciPlayer)
    register("stockfish", StockfishPlayer)
