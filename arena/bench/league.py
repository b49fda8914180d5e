"""Benchmarks: how fast arena plays a league, and where its wall time goes.

:func:`league_bench` plays one small Stockfish league three ways: a naive
python-chess loop (the baseline: two engines, one game after another, nothing
written), two such loops at once (what the machine itself gains from a second
core), arena with one worker, and arena with two workers. Each run is
timed as a whole and inside the engine calls, so the figures say how much of
the wall time is the engines' and how much is arena's own (worker start-up,
game bookkeeping, writing results). :func:`format_league_bench` prints them.

arena's engine time is each move's ``elapsed``, from ``go`` to ``bestmove``;
the baseline's is measured around python-chess's ``play``, its protocol work
included, so the baseline's overhead reads lower than it is. What arena costs
beside the real competitor is :mod:`arena.bench.fastchess`'s side-by-side run.

Only ratios measured in the same run mean much: absolute speeds depend on the
machine and on whatever else runs on it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import chess
import chess.engine
import multiprocess
import yaml

from arena.errors import ConfigError
from arena.league.config import League, load_league
from arena.league.run import LeagueRun
from arena.league.manifest import machine_facts
from arena.plugins import Plugins
from arena.play.record import GameRecord
from arena.league.store import read_records
from arena.league.schedule import ScheduledGame, schedule_games
from arena.spec import PlayerSpec
from arena_engines import STOCKFISH_DEFAULTS, locate_stockfish

#: Two workers should play at least this many times as fast as one (plies per second).
SPEEDUP_TARGET = 1.8
#: Arena's time outside the engines should stay below this share of the wall time.
OVERHEAD_TARGET = 0.15

#: What a UCI engine that fails to start raises.
_START_ERRORS = (chess.engine.EngineError, OSError, asyncio.TimeoutError, concurrent.futures.TimeoutError)



@dataclass(frozen=True)
class RunFigures:
    """One timed run: games and plies played (book moves not counted), wall and engine seconds."""

    label: str
    games: int
    plies: int
    wall: float
    engine: float  #: seconds spent inside engine calls, summed over all games
    workers: int = 1

    @property
    def games_per_s(self) -> float:
        """Games finished per wall-clock second."""
        return self.games / self.wall

    @property
    def plies_per_s(self) -> float:
        """Plies played per wall-clock second."""
        return self.plies / self.wall

    @property
    def engine_share(self) -> float:
        """The part of the workers' wall time spent inside engine calls (1.0: no overhead at all)."""
        return self.engine / (self.wall * self.workers)

    @property
    def overhead(self) -> float:
        """The part of the workers' wall time spent outside engine calls."""
        return 1.0 - self.engine_share


@dataclass(frozen=True)
class LeagueBench:
    """The figures of one ``arena bench league`` run, with its settings and machine."""

    games: int
    nodes: int
    opening_plies: int
    seed: int
    max_moves: int
    machine: dict[str, Any]
    stockfish: str
    baseline: RunFigures
    one_worker: RunFigures
    two_workers: RunFigures
    baseline_two: RunFigures  #: two plain loops at once: what the machine itself gains from a second core

    @property
    def speedup(self) -> float:
        """Plies per second of two workers over one: the fair measure, as game lengths vary."""
        return self.two_workers.plies_per_s / self.one_worker.plies_per_s

    @property
    def speedup_games(self) -> float:
        """Games per second of two workers over one."""
        return self.two_workers.games_per_s / self.one_worker.games_per_s

    @property
    def machine_speedup(self) -> float:
        """Plies per second of two plain loops at once over one: the machine's own ceiling for two workers."""
        return self.baseline_two.plies_per_s / self.baseline.plies_per_s

    @property
    def versus_baseline(self) -> float:
        """Plies per second of arena with one worker over the naive loop."""
        return self.one_worker.plies_per_s / self.baseline.plies_per_s


def league_yaml(games: int, nodes: int, opening_plies: int, seed: int, max_moves: int) -> str:
    """The benchmark's league file: two full-strength Stockfish players at ``nodes`` per move."""
    league = {
        "name": "bench",
        "seed": seed,
        "players": [
            # Skill 20 is Stockfish's default (full strength): both sides play alike, one through the option.
            {"type": "stockfish", "name": "sf-a", "nodes": nodes, "skill": 20},
            {"type": "stockfish", "name": "sf-b", "nodes": nodes},
        ],
        "schedule": {"type": "round_robin", "games": games},
        "openings": {"type": "random", "plies": opening_plies},
        "rules": {"max_moves": max_moves},
        # One worker, one game at a time: the baseline's setting; the 2-worker run changes only concurrency.
        "concurrency": 1,
        "games_in_flight": 1,
    }
    return yaml.safe_dump(league, sort_keys=False)


def check_league_bench(games: int, nodes: int, opening_plies: int, max_moves: int) -> None:
    # The league would refuse these too, but naming a temporary file the user never wrote.
    if games < 2 or games % 2:
        raise ConfigError(
            f"--games {games}: give an even number of at least 2; games are played in colour-swapped pairs"
        )
    for option, value in (("--nodes", nodes), ("--plies", opening_plies), ("--max-moves", max_moves)):
        if value < 1:
            raise ConfigError(f"{option} {value}: must be at least 1")


def league_bench(
    games: int = 60,
    nodes: int = 2000,
    opening_plies: int = 4,
    seed: int = 1,
    max_moves: int = 100,
    plugins: Plugins | None = None,
    progress: Callable[[str], None] = lambda message: None,
) -> LeagueBench:
    """Play the benchmark league with the baseline loop, then arena with 1 and 2 workers.

    Everything is written into a temporary folder that is removed afterwards.
    ``progress`` is told, in words, which run starts next.
    """
    check_league_bench(games, nodes, opening_plies, max_moves)
    with tempfile.TemporaryDirectory(prefix="arena-bench-") as folder:
        root = Path(folder)
        league_file = root / "bench.yaml"
        league_file.write_text(league_yaml(games, nodes, opening_plies, seed, max_moves))
        # The file asks for one worker and one game in flight; the 2-worker run changes only concurrency.
        league = load_league(league_file, plugins, out=root / "arena-1")

        progress(f"baseline: {games} games in a plain python-chess loop")
        baseline, stockfish = play_baseline(league, nodes)
        progress(f"baseline: {games} games in two plain loops at once")
        baseline_two, _ = play_baseline(league, nodes, processes=2)
        progress(f"arena, 1 worker: {games} games")
        one = play_arena(league, "arena 1 worker")
        progress(f"arena, 2 workers: {games} games")
        two = play_arena(dataclasses.replace(league, out=root / "arena-2", concurrency=2), "arena 2 workers")
    return LeagueBench(
        games, nodes, opening_plies, seed, max_moves, machine_facts(), stockfish, baseline, one, two, baseline_two
    )


def _uci_options(spec: PlayerSpec) -> dict[str, Any]:
    options: dict[str, Any] = dict(STOCKFISH_DEFAULTS)  # the preset's, which the baseline sets too
    if "skill" in spec.options:
        options["Skill Level"] = spec.options["skill"]
    return options


def play_baseline(league: League, nodes: int, processes: int = 1) -> tuple[RunFigures, str]:
    """Play the league's games with bare python-chess loops; return figures and the engine id.

    The same openings and colours as arena (from :func:`schedule_games`), one
    engine process per player, nothing written. With ``processes`` > 1 the
    games are split between that many plain loops running at once: how well
    the machine itself scales, the ceiling for arena's workers. The wall time
    includes starting and stopping the engines, as arena's does.
    """
    scheduled = schedule_games(league)
    cap = league.rules.max_moves
    players = [(spec.name or spec.type, _uci_options(spec)) for spec in league.players]
    shares = [scheduled[index::processes] for index in range(processes)]
    started = time.perf_counter()
    if processes == 1:
        results = [_baseline_loop(shares[0], players, cap, nodes)]
    else:
        with multiprocess.get_context("spawn").Pool(processes) as pool:
            results = pool.starmap(_baseline_loop, [(share, players, cap, nodes) for share in shares])
    wall = time.perf_counter() - started
    label = "baseline" if processes == 1 else f"baseline {processes} loops"
    plies = sum(result[0] for result in results)
    engine_time = sum(result[1] for result in results)
    return RunFigures(label, len(scheduled), plies, wall, engine_time, processes), results[0][2]


def _baseline_loop(
    scheduled: list[ScheduledGame], players: list[tuple[str, dict[str, Any]]], cap: int | None, nodes: int
) -> tuple[int, float, str]:
    """Play games one after another with two SimpleEngines: (plies, seconds in engine calls, engine id)."""
    path = locate_stockfish()
    limit = chess.engine.Limit(nodes=nodes)
    plies = 0
    engine_time = 0.0
    engines: dict[str, chess.engine.SimpleEngine] = {}
    stockfish = path
    try:
        for name, options in players:
            try:
                engine = chess.engine.SimpleEngine.popen_uci(path)
            except _START_ERRORS as error:
                raise ConfigError(f"engine {path!r} did not start as a UCI engine: {error!r}") from None
            engines[name] = engine
            stockfish = engine.id.get("name", path)
            engine.configure(options)
        for game in scheduled:
            board = game.opening.board()
            sides = {
                chess.WHITE: engines[game.white.name or game.white.type],
                chess.BLACK: engines[game.black.name or game.black.type],
            }
            # The same end rules as arena: draws claimed when the repetition or 50 moves happened.
            while (
                board.outcome(claim_draw=False) is None
                and not board.is_repetition(3)
                and not board.is_fifty_moves()
                and not (cap and board.ply() >= 2 * cap)
            ):
                before = time.perf_counter()
                # game= sends ucinewgame when the game changes, clearing the hash as arena's engines do.
                result = sides[board.turn].play(board, limit, game=game.game_id)
                engine_time += time.perf_counter() - before
                if result.move is None:
                    break
                board.push(result.move)
                plies += 1
    finally:
        for engine in engines.values():
            try:
                engine.quit()
            finally:
                engine.close()
    return plies, engine_time, stockfish


def play_arena(league: League, label: str) -> RunFigures:
    """Play the league with arena into its (empty) run folder and measure it from the records written."""
    run = LeagueRun(league)
    started = time.perf_counter()
    run.play()
    wall = time.perf_counter() - started
    records = list(read_records(league.out))
    return RunFigures(label, len(records), _plies(records), wall, _engine_time(records), league.concurrency)


def _plies(records: list[GameRecord]) -> int:
    return sum(1 for record in records for move in record.moves if not move.book)


def _engine_time(records: list[GameRecord]) -> float:
    # ``elapsed`` is measured around the player's engine call, once per move it chose.
    return sum(move.elapsed or 0.0 for record in records for move in record.moves if not move.book)


def format_league_bench(bench: LeagueBench) -> str:
    """The figures as a table, the ratios between runs, the targets, the machine and the engine."""
    machine = bench.machine
    setting = (
        f"league: sf-a vs sf-b, {bench.games} games, {bench.nodes} nodes per move, "
        f"{bench.opening_plies} random opening plies, move cap {bench.max_moves}, seed {bench.seed}"
    )
    header = (
        f"{'run':<16} {'games':>5} {'plies':>6} {'wall s':>8} {'games/s':>8} {'plies/s':>8} "
        f"{'engine share':>12} {'overhead':>8}"
    )
    lines = [
        setting,
        f"machine: {machine.get('cpu', '?')}, {machine.get('cpus', '?')} cores; engine: {bench.stockfish}",
        "",
        header,
    ]
    for run in (bench.baseline, bench.baseline_two, bench.one_worker, bench.two_workers):
        lines.append(
            f"{run.label:<16} {run.games:>5} {run.plies:>6} {run.wall:>8.2f} {run.games_per_s:>8.3f} "
            f"{run.plies_per_s:>8.1f} {run.engine_share:>12.1%} {run.overhead:>8.1%}"
        )
    speedup = _verdict(bench.speedup >= SPEEDUP_TARGET)
    lines += [
        "",
        (
            f"arena 2 workers vs 1 worker: plies/s {bench.speedup:.2f}x, games/s {bench.speedup_games:.2f}x"
            f"  (target: 2 workers >= {SPEEDUP_TARGET}x one worker: {speedup})"
        ),
        f"the machine itself, two plain loops vs one: plies/s {bench.machine_speedup:.2f}x"
        f" (arena 2 workers reach {bench.speedup / bench.machine_speedup:.0%} of that)",
        f"arena 1 worker vs baseline: plies/s {bench.versus_baseline:.2f}x",
    ]
    for run in (bench.one_worker, bench.two_workers):
        met = _verdict(run.overhead < OVERHEAD_TARGET)
        target = f"target: overhead < {OVERHEAD_TARGET:.0%} of wall time: {met}"
        lines.append(f"{run.label} overhead: {run.overhead:.1%}  ({target})")
    return "\n".join(lines)


def _verdict(met: bool) -> str:
    return "met" if met else "NOT met"
