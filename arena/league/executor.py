"""Where a league's games are played: the executor interface, and the one loop that hands games out.

An executor (``local`` processes, ``ray`` actors, a plugin's own) starts
workers; each builds its own plugins and players from picklable specs and
plays several games at once (:func:`arena.league.workers.serve`), so requests
for one batched player from concurrent games reach it as one batch. The loop
here runs in the league's process, which alone writes results: it keeps every
worker supplied with games, takes finished records back, and when a worker
dies (its process, actor or machine) plays that worker's games in flight
again, from their seeds, so the same games, on another.

A plugin adds an executor with ``register_executors``: its class subclasses
:class:`Executor`, and its keyword-only constructor arguments are the options
a league's ``executor:`` section may set, checked as a player's are.
"""

from __future__ import annotations

import contextlib
import json
from abc import ABC, abstractmethod
from collections import deque
from typing import Any, Callable, Iterable, Iterator, Mapping, Protocol

from arena.errors import ConfigError, WorkerFailed
from arena.league.schedule import ScheduledGame
from arena.play.record import GameRecord
from arena.plugins import Plugins
from arena.spec import PlayerSpec, build_player, build_registered, parse_player_spec, spec_from_mapping

#: Workers that may die (and be replaced) per league run before the run gives up; a league of
#: more workers may lose as many as it has (all of a cluster node's, say) before it does.
MAX_WORKER_DEATHS = 10
#: Seconds :meth:`Executor.wait` waits at most before the loop looks at its workers again.
WAIT_SECONDS = 5.0
#: Seconds a worker told that no more games come has to close its players and exit before it is killed.
STOP_SECONDS = 30.0

#: A worker's message: ``("record", json_text)``, ``("player", name, description)`` or ``("error", text)``.
Message = tuple
#: What each pairing's games need of a worker (keyed by the two names), given a cluster's totals: :func:`game_needs`.
Needs = Callable[[Mapping[str, float]], dict[frozenset[str], dict[str, float]]]


class Worker(ABC):
    """One worker of an executor. Games go in with :meth:`send`; its messages come out of :meth:`Executor.wait`."""

    def __init__(self, number: int):
        self.number = number
        self.assigned: dict[str, ScheduledGame] = {}  #: games sent and not yet finished
        #: Where the worker runs, for the manifest (a host name, a Ray node); empty until it is known.
        self.where = ""

    @property
    def ready(self) -> bool:
        """Whether the worker takes games now (a Ray actor waiting for a machine does not)."""
        return True

    def accepts(self, game: ScheduledGame) -> bool:
        """Whether this worker can play ``game`` (a worker without a GPU cannot play a model's games)."""
        return True

    def send(self, game: ScheduledGame) -> None:
        """Give the worker a game to play."""
        self.deliver(game)
        self.assigned[game.game_id] = game

    @abstractmethod
    def deliver(self, game: ScheduledGame | None) -> None:
        """Pass one game to the worker, or None: no more games come, finish and exit."""

    @abstractmethod
    def stop(self, timeout: float) -> None:
        """Wait up to ``timeout`` seconds for a worker told that no games come to exit, then kill it."""

    @abstractmethod
    def kill(self) -> None:
        """End the worker now (its games in flight are lost)."""


class Executor(ABC):
    """Starts a league's workers and delivers what they say.

    Built when the league is read (so its options are checked before any
    game); :meth:`open` is called once before the first worker starts and
    :meth:`close` once after the last one ends, whatever happened between.
    """

    def open(self, config: Any, needs: Needs) -> None:
        """Get ready to start workers with ``config`` (an :class:`arena.league.workers.WorkerConfig`).

        ``needs(cluster)`` says what a worker needs to play each pairing's
        games, given what the machines have in all (:func:`game_needs`); an
        executor that places workers on machines asks it.
        """

    def workers(self, concurrency: int, written: bool, games: int) -> int:
        """How many workers to start for a league with this ``concurrency`` (``written``: set in the file).

        No more than ``games``, the games there are to play (at least one).
        """
        return min(concurrency, max(1, games))

    @abstractmethod
    def start_worker(self, number: int) -> Worker:
        """Start worker ``number`` (a replacement keeps the number of the worker it replaces)."""

    @abstractmethod
    def wait(self, workers: list[Worker], timeout: float) -> list[tuple[Worker, list[Message] | None]]:
        """Wait up to ``timeout`` seconds until some ``workers`` have news; return it.

        Each entry is a worker and its messages in the order sent (possibly
        none: it became ready), or None when it died.
        """

    def close(self) -> None:
        """Release what :meth:`open` took (a Ray this executor started)."""

    @contextlib.contextmanager
    def session(self) -> Iterator[None]:
        """Keep what the workers run on (a local Ray) up for several leagues: their runs then start none."""
        yield

    def describe(self) -> dict[str, Any]:
        """Facts for the manifest: where the league ran."""
        return {}


def executor_spec(value: Any, source: str, override: str | None = None) -> PlayerSpec:
    """The ``executor:`` section as a spec: ``ray`` or ``{type: ray, workers: 16}``.

    ``override`` (``--executor``) replaces the type; the section's options
    stay when the type is the same.
    """
    where = f"{source}: executor"
    if isinstance(value, str):
        # Its type alone is never a file's name ('ray' in the current folder); type:key=value parses as a spec.
        parsed = parse_player_spec(value) if ":" in value else PlayerSpec(value.strip())
        spec = PlayerSpec(parsed.type, parsed.options, None, where)
    elif isinstance(value, dict) and "type" in value and "name" not in value:
        spec = spec_from_mapping(value, where)
    else:
        raise ConfigError(f"{where}: {value!r} is not an executor; write its type (executor: ray) "
                          f"or a mapping with a 'type' and its options (executor: {{type: ray, workers: 16}})")
    if override is not None and override != spec.type:
        spec = PlayerSpec(override, {}, None, f"--executor {override}")
    return spec


def game_needs(pairs: Iterable[tuple[PlayerSpec, PlayerSpec]], plugins: Plugins,
               cluster: Mapping[str, float]) -> dict[frozenset[str], dict[str, float]]:
    """What a worker needs to play each pairing's games (keyed by the two names): the more of what either asks.

    A player asks for what its spec's ``resources:`` say, else for what
    :meth:`Player.resources` of the player it builds says, given the
    ``cluster``'s totals.
    """
    named = [{spec.name or spec.type: spec for spec in pair} for pair in pairs]
    players = {name: spec for pair in named for name, spec in pair.items()}  # each asked once
    asked = {name: dict(spec.resources) if spec.resources is not None else
             build_player(spec, plugins).resources(cluster) for name, spec in players.items()}
    return {frozenset(pair): most(asked[name] for name in pair) for pair in named}


def most(needs: Iterable[Mapping[str, float]]) -> dict[str, float]:
    """Per resource, the most any of ``needs`` asks for."""
    largest: dict[str, float] = {}
    for need in needs:
        for name, amount in need.items():
            largest[name] = max(largest.get(name, 0.0), float(amount))
    return largest


def build_executor(spec: PlayerSpec, plugins: Plugins) -> Executor:
    """The executor a spec names, with its options checked (nothing is started)."""
    return build_registered(plugins.executors, "executor", spec)


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
    executor: Executor,
    workers: int,
    games_in_flight: int,
    on_record: Callable[[GameRecord, Worker], None],
    on_player: Callable[[str, dict[str, Any]], None] = lambda name, info: None,
) -> None:
    """Play the games of ``source`` on ``workers`` workers of an open ``executor``.

    ``on_record(record, worker)`` runs here as each game finishes, before the
    source is asked for more, so a source that chooses games by results sees
    every finished game first. Stops everything and raises
    :class:`WorkerFailed` when a worker reports an error (a player that cannot
    be built or started, a crash of the worker's own code) or too many die.
    On any exception, Ctrl-C included, the workers are killed.
    """
    # Games taken that no worker has yet: those of workers that died first, then those that
    # waited for a worker that can play them. Both are handed out before the source is asked.
    retry: deque[ScheduledGame] = deque()
    waiting: deque[ScheduledGame] = deque()

    def next_game(worker: Worker) -> ScheduledGame | None:
        for games in (retry, waiting):
            for index, game in enumerate(games):
                if worker.accepts(game):
                    del games[index]
                    return game
        while (game := source.take()) is not None:
            if worker.accepts(game):
                return game
            waiting.append(game)
        return None

    first = source.take()
    if first is None:
        return
    waiting.append(first)
    pool = [executor.start_worker(number) for number in range(workers)]
    deaths = 0
    clean = False
    try:
        while True:
            for worker in pool:
                # One game more than it plays at once, so a worker never waits for the next one.
                while worker.ready and len(worker.assigned) < games_in_flight + 1:
                    game = next_game(worker)
                    if game is None:
                        break
                    worker.send(game)
            if not any(worker.assigned for worker in pool):
                if source.done() and not retry and not waiting:
                    break
                if all(worker.ready for worker in pool):
                    if retry or waiting:
                        game = (retry or waiting)[0]
                        raise WorkerFailed(f"no worker can play game {game.game_id} ({game.white.name} vs "
                                           f"{game.black.name}): the executor started none that accepts it")
                    raise RuntimeError("the game source is waiting on results while no game is being played")
            for worker, messages in executor.wait(pool, WAIT_SECONDS):
                if worker not in pool:
                    continue  # already replaced in this pass
                if messages is not None:
                    for message in messages:
                        kind = message[0]
                        if kind == "record":
                            record = GameRecord.from_dict(json.loads(message[1]))
                            if worker.assigned.pop(record.game_id, None) is not None:
                                on_record(record, worker)
                        elif kind == "player":
                            on_player(message[1], message[2])
                        elif kind == "error":
                            raise WorkerFailed(message[1])
                    continue
                # The worker died: play its games again on the others and on a new one.
                worker.kill()
                deaths += 1
                if deaths > max(MAX_WORKER_DEATHS, workers):
                    raise WorkerFailed(f"{deaths} workers died (the last was worker {worker.number}"
                                       f"{' on ' + worker.where if worker.where else ''})")
                retry.extendleft(reversed(list(worker.assigned.values())))
                pool[pool.index(worker)] = executor.start_worker(worker.number)
        clean = True
    finally:
        if clean:
            for worker in pool:  # all at once: each closes its players while the others do
                try:
                    worker.deliver(None)
                except Exception:
                    pass
            for worker in pool:
                worker.stop(STOP_SECONDS)
        else:
            for worker in pool:
                worker.kill()
