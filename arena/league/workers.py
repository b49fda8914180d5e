"""What a league's worker does, wherever it runs, and the ``local`` executor: worker processes on this machine.

A worker builds its own plugins and players from picklable specs and plays
several games at once (:func:`serve`), so requests for one batched player
from concurrent games reach it as one batch. A local worker is a process
forked from the fork server (:mod:`arena.league.server`), with a pipe of its
own to the league's process: one that dies takes nothing down with it.
"""

from __future__ import annotations

import json
import os
import platform
import signal
import traceback
from dataclasses import dataclass
from typing import Any, Callable, Protocol

import multiprocess
from multiprocess.connection import Connection, wait

from arena.errors import ArenaError
from arena.league.executor import Executor, Message, Needs, Worker
from arena.league.schedule import ScheduledGame
from arena.league.server import start_worker_server
from arena.play.driver import Table
from arena.play.game import GameRules
from arena.play.match import make_side, new_game
from arena.player import Player
from arena.plugins import PluginRecipe
from arena.spec import PlayerSpec, build_player


@dataclass(frozen=True)
class WorkerConfig:
    """What a worker needs besides its games."""

    plugins: PluginRecipe
    rules: GameRules
    games_in_flight: int
    event: str
    adjudication: dict[str, Any] | None = None


class Channel(Protocol):
    """A worker's end of its connection to the league: a pipe's end has these, as does a Ray actor's queue pair."""

    def poll(self, timeout: float) -> bool:
        """Whether a game (or the None that ends the games) can be received within ``timeout`` seconds."""

    def recv(self) -> ScheduledGame | None: ...

    def send(self, message: Message) -> None: ...


def serve(config: WorkerConfig, channel: Channel, league_alive: Callable[[], bool] = lambda: True) -> None:
    """Play the games that come over ``channel`` until a None comes and they are finished.

    Sends ``("player", name, description)`` for each player as it starts,
    ``("record", json_text)`` for each finished game and ``("error", text)``
    for what stops the league. Returns early when ``league_alive()`` turns
    false: nobody waits for its games.
    """
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
                channel.send(("player", name, players[name].describe()))
            return [players[spec.name or spec.type] for spec in specs]

        table = Table(review=adjudicator.review if adjudicator is not None else None)
        stopping = False
        while table or not stopping:
            # Take new games without waiting while others are running; block briefly when idle.
            while not stopping and len(table) < config.games_in_flight:
                if not channel.poll(0 if table else 1.0):
                    if not league_alive():
                        return  # the league is gone (killed): stop rather than play for nobody
                    break
                task = channel.recv()
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
                    channel.send(("record", json.dumps(game.record().to_dict(), separators=(",", ":"))))
    except ArenaError as error:
        channel.send(("error", str(error)))
    except (EOFError, BrokenPipeError, KeyboardInterrupt):
        pass  # the league went away or stopped us
    except Exception:
        channel.send(("error", f"worker crashed:\n{traceback.format_exc()}"))
    finally:
        for player in players.values():
            try:
                player.close()
            except Exception:
                pass
        if adjudicator is not None:
            adjudicator.close()


def _process_main(config: WorkerConfig, conn: Connection, environment: dict[str, str]) -> None:
    # Ctrl-C is the league's to handle: it stops the workers itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # The league's environment now, not the fork server's from when it started.
    os.environ.clear()
    os.environ.update(environment)
    parent = multiprocess.parent_process()
    serve(config, conn, lambda: parent is None or parent.is_alive())


class _LocalWorker(Worker):
    """A worker process forked from the fork server, with a pipe to the league."""

    def __init__(self, context: Any, number: int, config: WorkerConfig):
        super().__init__(number)
        self.where = platform.node()
        self.conn, child = context.Pipe()
        self.process = context.Process(
            target=_process_main, args=(config, child, dict(os.environ)), name=f"arena-worker-{number}", daemon=True
        )
        self.process.start()
        child.close()

    def deliver(self, game: ScheduledGame | None) -> None:
        try:
            self.conn.send(game)
        except (OSError, ValueError):
            if game is not None:
                raise

    def stop(self, timeout: float) -> None:
        self.process.join(timeout)
        self.kill()

    def kill(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join()


class LocalExecutor(Executor):
    """``local``: worker processes on this machine, as many as the league's ``concurrency``."""

    def open(self, config: WorkerConfig, needs: Needs) -> None:
        self.config = config
        self.context = start_worker_server(config.plugins.modules)

    def start_worker(self, number: int) -> Worker:
        return _LocalWorker(self.context, number, self.config)

    def wait(self, workers: list[Worker], timeout: float) -> list[tuple[Worker, list[Message] | None]]:
        local = [worker for worker in workers if isinstance(worker, _LocalWorker)]
        ready = set(wait([handle for worker in local for handle in (worker.conn, worker.process.sentinel)],
                         timeout=timeout))
        news: list[tuple[Worker, list[Message] | None]] = []
        for worker in local:
            alive = worker.process.sentinel not in ready
            if worker.conn not in ready and alive:
                continue
            messages = []
            try:  # what a worker sent before it died still counts
                while worker.conn.poll(0):
                    messages.append(worker.conn.recv())
            except Exception:  # EOF, or a message cut short by the worker's death
                alive = False
            news.append((worker, messages))
            if not alive:
                news.append((worker, None))
        return news
