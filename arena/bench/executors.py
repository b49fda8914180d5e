"""``arena bench league --executor NAME``: the benchmark league on another executor beside local workers.

Both play the same league at the same number of workers, alternately, in
rounds; each run is timed from the league's start to its last record, actors
or processes started and stopped included. What the executor keeps running
between leagues (a local Ray) is started once before the rounds and timed
apart: it is what a league that starts its own Ray pays on top, and what a
league on a running cluster does not.
"""

from __future__ import annotations

import dataclasses
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from arena.bench.league import RunFigures, check_league_bench, league_yaml, play_arena
from arena.league.config import load_league
from arena.league.executor import build_executor, executor_spec
from arena.plugins import Plugins

#: The executor at 2 workers should play at least this share of local workers' games/s.
EXECUTOR_TARGET = 0.9


@dataclass(frozen=True)
class ExecutorBench:
    """Alternating runs of local workers and of another executor, and that executor's own start and stop."""

    executor: str
    workers: int
    local: list[RunFigures]
    other: list[RunFigures]
    start_s: float  #: seconds to start what the executor runs on (a local Ray), once
    stop_s: float  #: seconds to stop it again

    @property
    def ratio(self) -> float:
        """The executor's median games/s over local workers' median."""
        return (statistics.median(run.games_per_s for run in self.other)
                / statistics.median(run.games_per_s for run in self.local))

    @property
    def ratio_with_start(self) -> float:
        """The same, with the start and stop of the executor's runtime added to its median run."""
        wall = statistics.median(run.wall for run in self.other) + self.start_s + self.stop_s
        games = self.other[0].games
        return (games / wall) / statistics.median(run.games_per_s for run in self.local)


def executor_bench(
    executor: str,
    games: int = 60,
    nodes: int = 2000,
    opening_plies: int = 4,
    seed: int = 1,
    max_moves: int = 100,
    workers: int = 2,
    rounds: int = 3,
    plugins: Plugins | None = None,
    progress: Callable[[str], None] = lambda message: None,
) -> ExecutorBench:
    """Play the benchmark league ``rounds`` times on local workers and on ``executor``, alternately."""
    check_league_bench(games, nodes, opening_plies, max_moves)
    with tempfile.TemporaryDirectory(prefix="arena-bench-") as folder:
        root = Path(folder)
        league_file = root / "bench.yaml"
        league_file.write_text(league_yaml(games, nodes, opening_plies, seed, max_moves))
        league = dataclasses.replace(load_league(league_file, plugins), concurrency=workers,
                                     concurrency_default=False)
        spec = executor_spec(executor, str(league_file))
        runtime = build_executor(spec, league.plugins).session()
        started = time.perf_counter()
        runtime.__enter__()
        start_s = time.perf_counter() - started
        local: list[RunFigures] = []
        other: list[RunFigures] = []
        try:
            for number in range(1, rounds + 1):
                order = [("local", local), (executor, other)]
                for name, runs in order if number % 2 else reversed(order):
                    progress(f"round {number}/{rounds}: {name}, {workers} workers, {games} games")
                    run = dataclasses.replace(league, out=root / f"{name}-{number}",
                                              executor=executor_spec(name, str(league_file)))
                    runs.append(play_arena(run, f"{name} {number}"))
        finally:
            stopping = time.perf_counter()
            runtime.__exit__(None, None, None)
            stop_s = time.perf_counter() - stopping
    return ExecutorBench(executor, workers, local, other, start_s, stop_s)


def format_executor_bench(bench: ExecutorBench) -> str:
    """The runs as a table, the ratio of the medians against the target, and the runtime's start and stop."""
    lines = [f"{bench.executor} beside local workers: {bench.workers} workers each, "
             f"{len(bench.local)} alternating runs", "",
             f"{'run':<12} {'games':>5} {'plies':>6} {'wall s':>8} {'games/s':>8}"]
    for run in [run for pair in zip(bench.local, bench.other) for run in pair]:
        lines.append(f"{run.label:<12} {run.games:>5} {run.plies:>6} {run.wall:>8.2f} {run.games_per_s:>8.3f}")
    met = "met" if bench.ratio >= EXECUTOR_TARGET else "NOT met"
    lines += [
        "",
        f"{bench.executor} vs local, median games/s: {bench.ratio:.2f}x  (target: >= {EXECUTOR_TARGET}x: {met})",
        f"{bench.executor}'s runtime: started in {bench.start_s:.1f} s, stopped in {bench.stop_s:.1f} s, once; "
        f"a league that starts its own pays that on top: {bench.ratio_with_start:.2f}x",
    ]
    return "\n".join(lines)
