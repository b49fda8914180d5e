"""The ``ray`` executor: a league's workers as Ray actors, on this machine or across a cluster.

::

    pip install 'arena-chess[ray]'
    arena league configs/smoke.yaml --executor ray            # starts a local Ray for the league
    RAY_ADDRESS=auto arena league paper.yaml --executor ray   # joins the cluster 'ray start --head' runs

or, in the league file, ``executor: {type: ray, address: auto, workers: 16}``.

Each actor is a worker like a local process (:func:`arena.league.workers.serve`
on a thread of its own, fed and read through two queues), so it builds its
own plugins and players, plays several games at once and batches requests
for a batched player. The league's process stays the only writer of
results: it long-polls every actor for its messages. An actor that dies, or
whose machine goes away, has its games in flight played again elsewhere from
their seeds, the same games; a replacement actor takes games once Ray has
placed it. Each actor asks Ray for the most any player of the league needs
(a player entry's ``resources:``, else :meth:`arena.Player.resources`: a model
asks for a GPU where the cluster has one), unless ``num_cpus``/``num_gpus``
say otherwise.

Every machine needs arena (with the league's plugins) installed and the
files the league names (engines, checkpoints, openings) at the same paths.
"""

from __future__ import annotations

import contextlib
import importlib.util
import math
import os
import queue
import threading
from dataclasses import dataclass
from typing import Annotated, Any, Iterator, Mapping

from pydantic import Field

from arena import hookimpl
from arena.errors import ConfigError
from arena.league.config import machine_cores
from arena.league.executor import Executor, Message, Needs, Worker, most
from arena.league.schedule import ScheduledGame
from arena.league.workers import WorkerConfig, serve
from arena.options import checked_options

INSTALL_HINT = "the ray executor needs Ray, which is not installed: pip install 'arena-chess[ray]'"
#: Seconds an actor holds the league's request for messages while it has none (a long poll: it answers as soon
#: as it has one, so this bounds only the idle calls, which 1000 actors would otherwise make many of).
POLL_SECONDS = 30.0
#: Calls an actor serves at once: the league's poll, games given to it, and its stop.
ACTOR_CONCURRENCY = 4


def _ray() -> Any:
    try:
        import ray
    except ImportError:
        raise ConfigError(INSTALL_HINT) from None
    return ray


class _Queues:
    """The actor's end of the league's connection (a :class:`arena.league.workers.Channel`), as two queues."""

    _EMPTY = object()

    def __init__(self) -> None:
        self.inbox: queue.Queue = queue.Queue()
        self.outbox: queue.Queue = queue.Queue()
        self._next: Any = self._EMPTY

    def poll(self, timeout: float) -> bool:
        if self._next is self._EMPTY:
            try:
                self._next = self.inbox.get(timeout=timeout) if timeout > 0 else self.inbox.get_nowait()
            except queue.Empty:
                return False
        return True

    def recv(self) -> ScheduledGame | None:
        item, self._next = (self.inbox.get() if self._next is self._EMPTY else self._next), self._EMPTY
        return item

    def send(self, message: Message) -> None:
        self.outbox.put(message)


class LeagueActor:
    """One worker on a Ray node: :func:`serve` on its own thread, fed by :meth:`give`, read by :meth:`messages`."""

    def __init__(self, config: WorkerConfig):
        self.queues = _Queues()
        self.thread = threading.Thread(target=serve, args=(config, self.queues), name="arena-worker", daemon=True)
        self.thread.start()

    def where(self) -> str:
        """The node this actor runs on: its address and the start of Ray's node id."""
        ray = _ray()
        return f"{ray.util.get_node_ip_address()} node {ray.get_runtime_context().get_node_id()[:12]}"

    def give(self, game: ScheduledGame | None) -> None:
        self.queues.inbox.put(game)

    def messages(self, timeout: float) -> list[Message] | None:
        """What the worker sent since the last call, waiting up to ``timeout`` seconds for the first.

        None once the worker has stopped and everything it sent was taken.
        """
        try:
            taken = [self.queues.outbox.get(timeout=timeout)]
        except queue.Empty:
            return [] if self.thread.is_alive() or not self.queues.outbox.empty() else None
        while True:
            try:
                taken.append(self.queues.outbox.get_nowait())
            except queue.Empty:
                return taken

    def join(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for the worker to finish; whether it has."""
        self.thread.join(timeout)
        return not self.thread.is_alive()


@dataclass
class _Kind:
    """Workers alike: what each asks Ray for, the pairings whose games they play (None: all), how many there are."""

    resources: dict[str, float]
    pairs: set[frozenset[str]] | None
    actor_class: Any = None
    count: int = 0

    def fits(self, cluster: Mapping[str, float]) -> int:
        """How many such workers ``cluster`` has room for."""
        return min((math.floor(cluster.get(name, 0.0) / amount) for name, amount in self.resources.items() if amount),
                   default=1)


class _RayWorker(Worker):
    """The league's handle on one actor: its pending poll, and where it runs once Ray has placed it."""

    def __init__(self, kind: _Kind, number: int, config: WorkerConfig):
        super().__init__(number)
        self.kind = kind
        self.actor = kind.actor_class.remote(config)
        self.placed = self.actor.where.remote()  #: resolves once the actor runs
        self.poll = self.actor.messages.remote(POLL_SECONDS)
        self._ready = False

    @property
    def ready(self) -> bool:
        return self._ready

    def accepts(self, game: ScheduledGame) -> bool:
        return self.kind.pairs is None or frozenset((game.white.name, game.black.name)) in self.kind.pairs

    def deliver(self, game: ScheduledGame | None) -> None:
        self.actor.give.remote(game)

    def stop(self, timeout: float) -> None:
        ray = _ray()
        if not self._ready:  # never placed (no machine had room): nothing to wait for
            self.kill()
            return
        try:
            ray.get(self.actor.join.remote(timeout), timeout=timeout + 5)
        except Exception:
            pass  # dead or stuck: killed below either way
        self.kill()

    def kill(self) -> None:
        try:
            _ray().kill(self.actor, no_restart=True)
        except Exception:
            pass  # already gone


@checked_options
class RayExecutor(Executor):
    """``ray``: the league's workers are Ray actors."""

    def __init__(
        self,
        *,
        address: Annotated[str | None, Field(description="the Ray cluster: auto, HOST:PORT or ray://...; "
                                                         "default: RAY_ADDRESS, else a local Ray")] = None,
        workers: Annotated[int | None, Field(ge=1, description="actors to start; default: the league's "
                                                               "concurrency if it sets one, else as many "
                                                               "as the cluster has room for")] = None,
        num_cpus: Annotated[float | None, Field(ge=0, description="CPUs per actor; default: the most "
                                                                  "a player asks for (1)")] = None,
        num_gpus: Annotated[float | None, Field(ge=0, description="GPUs per actor; default: 1 when a model "
                                                                  "would run on a GPU, else 0")] = None,
    ) -> None:
        if importlib.util.find_spec("ray") is None:  # said when the league is read, not once it starts
            raise ConfigError(INSTALL_HINT)
        self.address, self.workers_option = address, workers
        self.num_cpus, self.num_gpus = num_cpus, num_gpus
        self._started_ray = False
        self.kinds: list[_Kind] = []

    def _connect(self) -> bool:
        """Join the cluster (or start a local Ray) unless this process has; whether it did."""
        ray = _ray()
        if ray.is_initialized():
            return False
        import logging

        if self.address is None and "RAY_ADDRESS" not in os.environ:
            # A Ray of the league's own, even where one runs here already (that one: address: auto).
            ray.init(address="local", num_cpus=machine_cores(), include_dashboard=False,
                     logging_level=logging.WARNING)
        else:
            ray.init(address=self.address, logging_level=logging.WARNING)
        return True

    @contextlib.contextmanager
    def session(self) -> Iterator[None]:
        started = self._connect()
        try:
            yield
        finally:
            if started:
                _ray().shutdown()

    def open(self, config: WorkerConfig, needs: Needs) -> None:
        ray = _ray()
        self._started_ray = self._connect()
        self.cluster = {name: float(amount) for name, amount in ray.cluster_resources().items()}
        # Two kinds of worker where some games need a GPU and some do not: those with one play
        # any game, those without play the games that need none.
        by_pair = {pair: self._overridden(need) for pair, need in needs(self.cluster).items()}
        gpu = {pair for pair, need in by_pair.items() if need.get("GPU")}
        groups = [(gpu, None), (set(by_pair) - gpu, set(by_pair) - gpu)] if gpu else [(set(by_pair), None)]
        self.kinds = [_Kind(most(by_pair[pair] for pair in pairs), accepted) for pairs, accepted in groups if pairs]
        for kind in self.kinds:
            short = [name for name, amount in kind.resources.items() if amount > self.cluster.get(name, 0.0)]
            if short:
                has = ", ".join(f"{name} {self.cluster.get(name, 0):g}" for name in short)
                wants = ", ".join(f"{amount:g} {name}" for name, amount in kind.resources.items())
                raise ConfigError(
                    f"executor ray: a worker needs {wants}, but the Ray cluster has {has} in all; add machines "
                    f"that have it, or set the executor's num_cpus/num_gpus (a model: device=cpu)")
            custom = {name: amount for name, amount in kind.resources.items() if name not in ("CPU", "GPU")}
            kind.actor_class = ray.remote(LeagueActor).options(
                num_cpus=kind.resources["CPU"], num_gpus=kind.resources.get("GPU", 0.0), resources=custom or None,
                max_concurrency=ACTOR_CONCURRENCY)
        self.config = config

    def _overridden(self, need: Mapping[str, float]) -> dict[str, float]:
        """A game's need with one CPU by default and the executor's num_cpus/num_gpus in place of the players'."""
        need = {"CPU": 1.0, **need}
        if self.num_cpus is not None:
            need["CPU"] = self.num_cpus
        if self.num_gpus is not None:
            need["GPU"] = self.num_gpus
        return {name: amount for name, amount in need.items() if amount or name == "CPU"}

    def workers(self, concurrency: int, written: bool, games: int) -> int:
        total = self.workers_option or (concurrency if written else None)
        first = self.kinds[0]
        if len(self.kinds) == 1 or total == 1 or games <= 1:  # one worker: one that plays every game
            first.count = min(total or max(1, first.fits(self.cluster)), max(1, games))
            return first.count
        light = self.kinds[1]
        first.count = max(1, first.fits(self.cluster) if total is None else min(first.fits(self.cluster), total - 1))
        left = {name: amount - first.count * first.resources.get(name, 0.0) for name, amount in self.cluster.items()}
        light.count = max(1, light.fits(left)) if total is None else max(1, total - first.count)
        # No more workers than games: those without a GPU go first, as the others play every game.
        light.count = max(0, min(light.count, games - 1))
        first.count = min(first.count, games - light.count)
        return first.count + light.count

    def start_worker(self, number: int) -> Worker:
        kind = self.kinds[0] if number < self.kinds[0].count else self.kinds[-1]
        return _RayWorker(kind, number, self.config)

    def wait(self, workers: list[Worker], timeout: float) -> list[tuple[Worker, list[Message] | None]]:
        ray = _ray()
        refs: dict[Any, _RayWorker] = {}
        for worker in workers:
            assert isinstance(worker, _RayWorker)
            refs[worker.poll] = worker
            if not worker.ready:
                refs[worker.placed] = worker
        ready, _ = ray.wait(list(refs), num_returns=1, timeout=timeout)
        if ready:  # and everything else that is in by now
            ready, _ = ray.wait(list(refs), num_returns=len(refs), timeout=0)
        news: list[tuple[Worker, list[Message] | None]] = []
        for ref in ready:
            worker = refs[ref]
            try:
                value = ray.get(ref)
            except ray.exceptions.RayError:  # the actor died, or its node went away
                news.append((worker, None))
                continue
            if ref == worker.placed:
                worker.where, worker._ready = value, True
                news.append((worker, []))
            elif value is None:
                news.append((worker, None))  # its worker stopped without being told to (an error came first)
            else:
                worker.poll = worker.actor.messages.remote(POLL_SECONDS)
                news.append((worker, value))
        return news

    def close(self) -> None:
        if self._started_ray:
            _ray().shutdown()
            self._started_ray = False

    def describe(self) -> dict[str, Any]:
        ray = _ray()
        nodes = [node for node in ray.nodes() if node.get("Alive")]
        return {"type": "ray", "address": self.address or os.environ.get("RAY_ADDRESS") or "local",
                "nodes": len(nodes), "cluster": self.cluster,
                "kinds": [{"resources": kind.resources, "workers": kind.count,
                           "plays": "every game" if kind.pairs is None else "games that need no GPU"}
                          for kind in self.kinds]}


@hookimpl
def register_executors(register: Any) -> None:
    register("ray", RayExecutor)

