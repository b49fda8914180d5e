"""Play a league's games on worker processes; only this (parent) process writes results.

Each worker builds its own plugins and players from picklable specs and plays
several games at once, so requests for one batched player from concurrent
games reach it as one batch. Every worker talks to the parent over a pipe of
its own: a worker that dies takes nothing down with it, and its games in
flight are played again (from their seed, so the same games) on a new worker.
"""

from __future__ import annotations

import json
import os
import signal
import traceback
from collections import deque
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Protocol

import multiprocess
from multiprocess.connection import Connection, wait

from arena.play.driver import Table
from arena.errors import ArenaError, WorkerFailed
from arena.play.game import GameRules
from arena.play.match import make_side, new_game
from arena.player import Player
from arena.plugins import PluginRecipe
from arena.play.record import GameRecord
from arena.league.schedule import ScheduledGame
from arena.league.server import start_worker_server
from arena.spec import PlayerSpec, build_player

#: Workers that may die (and be replaced) per league run before the run gives up.
MAX_WORKER_DEATHS = 10


@dataclass(frozen=True)
class WorkerConfig:
    """What a worker needs besides its games."""

    plugins: PluginRecipe
    rules: GameRules
    games_in_flight: int
    event: str
    adjudication: dict[str, Any] | None = None


def _worker_main(config: WorkerConfig, conn: Connection, environment: dict[str, str]) -> None:
    # Ctrl-C is the parent's to handle: it stops the workers itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # The league's environment now, not the fork server's from when it started.
    os.environ.clear()
    os.environ.update(environment)
    parent = multiprocess.parent_process()
    players: dict[str, Player] = {}
    adjudicator = None
    try:
        plugins = config.plugins.load()
        if config.adjudication:
            from arena.league.adjudication import Adjudicator

            adjudicator = Adjudicator(config.adjudication)
            adjudicator.start()

        def players_for(*specs: PlayerSpec) -> list[Player]:
            # Start every new player before asking any to describe itself: their engines load side by side.
            started = []
            for spec in specs:
                name = spec.name or spec.type
                if name not in players:
                    player = build_player(spec, plugins)
                    player.start()
                    players[name] = player
                    started.append(name)
            for name in started:
                conn.send(("player", name, players[name].describe()))
            return [players[spec.name or spec.type] for spec in specs]

        table = Table(review=adjudicator.review if adjudicator is not None else None)
        stopping = False
        while table or not stopping:
            # Take new games without waiting while others are running; block briefly when idle.
            while not stopping and len(table) < config.games_in_flight:
                if not conn.poll(0 if table else 1.0):
                    if parent is not None and not parent.is_alive():
                        return  # the parent is gone (killed): stop rather than play for nobody
                    break
                task: ScheduledGame | None = conn.recv()
                if task is None:
                    stopping = True
                    break
                white, black = players_for(task.white, task.black)
                table.add(new_game(task.game_id, task.seed, make_side(white, task.white),
                                   make_side(black, task.black), config.rules, task.opening,
                                   event=config.event, round=task.round))
            if table:
                for game in table.step():
                    # As JSON text: multiprocess pickles with dill, in Python, which costs more than the game's bookkeeping.
                    conn.send(("record", json.dumps(game.record().to_dict(), separators=(",", ":"))))
    except ArenaError as error:
        conn.send(("error", str(error)))
    except (EOFError, BrokenPipeError, KeyboardInterrupt):
        pass  # the parent went away or stopped us
    except Exception:
        conn.send(("error", f"worker crashed:\n{traceback.format_exc()}"))
    finally:
        for player in players.values():
            try:
                player.close()
            except Exception:
                pass
        if adjudicator is not None:
            adjudicator.close()


class _Worker:
    def __init__(self, context: Any, number: int, config: WorkerConfig):
        self.number = number
        self.conn, child = context.Pipe()
        self.process = context.Process(
            target=_worker_main, args=(config, child, dict(os.environ)), name=f"arena-worker-{number}", daemon=True
        )
        self.process.start()
        child.close()
        self.assigned: dict[str, ScheduledGame] = {}

    def send(self, task: ScheduledGame | None) -> None:
        self.conn.send(task)
        if task is not None:
            self.assigned[task.game_id] = task

    def ask_to_stop(self) -> None:
        """Tell the worker no games are coming: it finishes, closes its players and exits."""
        try:
            self.conn.send(None)
        except (OSError, ValueError):
            pass

    def join(self, timeout: float) -> None:
        """Wait for the worker to exit; kill it after ``timeout`` seconds."""
        self.process.join(timeout)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()


class GameSource(Protocol):
    """Where the games to play come from: a fixed list, or a stopping rule choosing as results come in."""

    def take(self) -> ScheduledGame | None:
        """The next game, or None when there is none now (wait for results) or ever (see :meth:`done`)."""

    def done(self) -> bool:
        """No more games will come."""


class FixedGames:
    """A game source that hands out a fixed list of games in order."""

    def __init__(self, games: Iterable[ScheduledGame]):
        self.games = deque(games)

    def take(self) -> ScheduledGame | None:
        return self.games.popleft() if self.games else None

    def done(self) -> bool:
        return not self.games


def run_games(
    source: GameSource,
    config: WorkerConfig,
    workers: int,
    on_record: Callable[[GameRecord], None],
    on_player: Callable[[str, dict[str, Any]], None] = lambda name, info: None,
) -> None:
    """Play the games of ``source`` on ``workers`` processes, calling ``on_record`` here as each finishes.

    ``on_record`` runs before the source is asked for more, so a source that
    chooses games by results sees every finished game first. Stops everything
    and raises :class:`WorkerFailed` when a worker reports an error (a player
    that cannot be built or started, a crash of the worker's own code). On any
    exception, Ctrl-C included, the workers are killed.
    """
    retry: deque[ScheduledGame] = deque()  # games of workers that died, played again first

    def next_game() -> ScheduledGame | None:
        return retry.popleft() if retry else source.take()

    first = next_game()
    if first is None:
        return
    retry.append(first)
    context = start_worker_server(config.plugins.modules)
    pool = [_Worker(context, number, config) for number in range(workers)]
    deaths = 0
    clean = False
    try:
        while True:
            for worker in pool:
                # One game more than it plays at once, so a worker never waits for the next one.
                while len(worker.assigned) < config.games_in_flight + 1:
                    game = next_game()
                    if game is None:
                        break
                    worker.send(game)
            if not any(worker.assigned for worker in pool):
                if source.done() and not retry:
                    break
                raise RuntimeError("the game source is waiting on results while no game is being played")
            by_handle = {worker.conn: worker for worker in pool}
            by_handle.update({worker.process.sentinel: worker for worker in pool})
            for handle in wait(list(by_handle), timeout=5.0):
                worker = by_handle[handle]
                if worker not in pool:
                    continue  # already replaced in this pass
                if handle is worker.conn:
                    try:
                        message = worker.conn.recv()
                    except Exception:  # EOF, or a message cut short by the worker's death
                        message = None
                    if message is not None:
                        _handle(message, worker, on_record, on_player)
                        continue
                if worker.process.is_alive() and handle is worker.process.sentinel:
                    continue
                # The worker died: play its games again on a new one.
                worker.process.kill()
                worker.process.join()
                deaths += 1
                if deaths > MAX_WORKER_DEATHS:
                    raise WorkerFailed(f"{deaths} worker processes died; the last exit code was {worker.process.exitcode}")
                retry.extendleft(reversed(list(worker.assigned.values())))
                pool[pool.index(worker)] = _Worker(context, worker.number, config)
        clean = True
    finally:
        if clean:
            for worker in pool:  # all at once: each closes its engines while the others do
                worker.ask_to_stop()
            for worker in pool:
                worker.join(timeout=30)
        else:
            for worker in pool:
                worker.process.kill()
                worker.process.join()


def _handle(
    message: tuple,
    worker: _Worker,
    on_record: Callable[[GameRecord], None],
    on_player: Callable[[str, dict[str, Any]], None],
) -> None:
    kind = message[0]
    if kind == "record":
        record = GameRecord.from_dict(json.loads(message[1]))
        worker.assigned.pop(record.game_id, None)
        on_record(record)
    elif kind == "player":
        on_player(message[1], message[2])
    elif kind == "error":
        raise WorkerFailed(message[1])
