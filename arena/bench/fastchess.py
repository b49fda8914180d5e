"""arena beside fastchess on the same engine league: games per second, CPU seconds, time losses.

Both play the same games: two Stockfish players (Threads 1, Hash 16) at
fixed nodes or on a clock, the same openings (an EPD file of the league's
random openings, one per colour-swapped pair, in order), the same move cap and
the same number of games at once. Each tool runs as the command a user types
(``arena league`` with its start-up, results files and report; fastchess with
its PGN), alternately, and is measured from outside: wall time, and the CPU
seconds of the process and everything it waited for (workers and engines).
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import chess.pgn
import yaml

from arena.errors import ConfigError
from arena.league.config import load_league, machine_cores
from arena.league.schedule import schedule_games
from arena.league.store import read_records
from arena.play.record import Termination
from arena.rating.standings import pair_of
from arena.wording import plural
from arena_engines import STOCKFISH_DEFAULTS, locate_stockfish

FASTCHESS_ENV = "FASTCHESS"
#: Where ../shared/anchors/build.sh leaves its build.
FASTCHESS_CACHE = Path.home() / ".cache" / "arena-anchors" / "fastchess"


def find_fastchess(explicit: str | None = None) -> str | None:
    """A fastchess binary: ``explicit``, else $FASTCHESS, else ``fastchess`` on PATH, else the anchors cache."""
    for candidate in (explicit, os.environ.get(FASTCHESS_ENV), shutil.which("fastchess"), str(FASTCHESS_CACHE)):
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    if explicit:
        raise ConfigError(f"fastchess {explicit!r} is not an executable file; build it with ../shared/anchors/build.sh")
    return None


@dataclass(frozen=True)
class Run:
    """One timed run of one tool."""

    tool: str
    wall: float
    cpu: float  #: user + system seconds of the tool and of every process it waited for
    games: int
    plies: int
    time_losses: int

    @property
    def games_per_s(self) -> float:
        return self.games / self.wall


@dataclass
class SideBySide:
    """Alternating runs of arena and fastchess on one league."""

    setting: str
    fastchess: str
    clock: bool = False  #: engines on a clock: they think until it says stop, so their CPU is not the same work
    arena_runs: list[Run] = field(default_factory=list)
    fastchess_runs: list[Run] = field(default_factory=list)

    @staticmethod
    def _median(runs: list[Run], value: Callable[[Run], float]) -> float:
        return statistics.median(value(run) for run in runs)

    @property
    def games_ratio(self) -> float:
        """arena's median games/s over fastchess's: 1.0 or more is as fast or faster."""
        speed = lambda run: run.games_per_s  # noqa: E731
        return self._median(self.arena_runs, speed) / self._median(self.fastchess_runs, speed)

    @property
    def extra_cpu_ms_per_ply(self) -> float:
        """arena's CPU milliseconds per ply beyond fastchess's (the engines' work is the same)."""
        arena = self._median(self.arena_runs, lambda run: run.cpu / max(1, run.plies))
        fastchess = self._median(self.fastchess_runs, lambda run: run.cpu / max(1, run.plies))
        return 1000 * (arena - fastchess)


def league_file(folder: Path, games: int, nodes: int | None, tc: str | None, plies: int, seed: int,
                max_moves: int, workers: int, games_in_flight: int = 1) -> tuple[Path, Path]:
    """The league file arena plays and the EPD file of its openings (one per pair), both in ``folder``.

    arena plays ``workers`` x ``games_in_flight`` games at once.
    """
    limit = {"tc": tc} if tc else {"nodes": nodes}
    players = [{"type": "stockfish", "name": name, **limit} for name in ("sf-a", "sf-b")]
    random_league = {"seed": seed, "players": players, "schedule": {"games": games},
                     "openings": {"type": "random", "plies": plies}}
    draft = folder / "draft.yaml"
    draft.write_text(yaml.safe_dump(random_league, sort_keys=False))
    epd = folder / "openings.epd"
    pairs = {pair_of(game.game_id): game.opening for game in schedule_games(load_league(draft))}
    epd.write_text("".join(opening.board().epd() + "\n" for opening in pairs.values()))  # in the pairs' order
    league = {
        "name": "side-by-side", "seed": seed, "players": players, "schedule": {"games": games},
        "openings": {"type": "file", "path": epd.name, "order": "sequential"},
        "rules": {"max_moves": max_moves}, "concurrency": workers, "games_in_flight": games_in_flight,
    }
    path = folder / "league.yaml"
    path.write_text(yaml.safe_dump(league, sort_keys=False))
    return path, epd


def arena_workers(concurrency: int, workers: int | None = None) -> int:
    """``workers`` (default: :func:`split_concurrency`), checked to divide ``concurrency``."""
    workers = workers or split_concurrency(concurrency)
    if concurrency % workers:
        raise ConfigError(f"--workers {workers}: must divide --concurrency {concurrency}, "
                          "so that arena plays as many games at once as fastchess")
    return workers


def split_concurrency(concurrency: int, cores: int | None = None) -> int:
    """arena's workers for ``concurrency`` games at once: the most that divide it, at most one per core.

    Games beyond the cores go in flight in each worker's loop rather than
    into more processes, as fastchess keeps them in threads of one process.
    """
    cores = cores or machine_cores()
    return max(workers for workers in range(1, min(concurrency, cores) + 1) if concurrency % workers == 0)


def fastchess_command(binary: str, epd: Path, pgn: Path, games: int, nodes: int | None, tc: str | None,
                      max_moves: int, concurrency: int) -> list[str]:
    """fastchess playing the league: the same engines, options, openings, pairs, cap and concurrency."""
    stockfish = locate_stockfish()
    limit = f"tc={tc}" if tc else f"nodes={nodes}"
    options = [f"option.{name}={value}" for name, value in STOCKFISH_DEFAULTS.items()]
    return [
        binary, "-engine", f"cmd={stockfish}", "name=sf-a", "-engine", f"cmd={stockfish}", "name=sf-b",
        "-each", "proto=uci", limit, *options,
        "-openings", f"file={epd}", "format=epd", "order=sequential",
        "-games", "2", "-rounds", str(games // 2), "-concurrency", str(concurrency), "-force-concurrency",
        "-maxmoves", str(max_moves), "-pgnout", f"file={pgn}", "-ratinginterval", "0",
    ]


def _timed(tool: str, command: list[str], cwd: Path) -> tuple[float, float]:
    """Run ``command``; its wall seconds and the CPU seconds of it and the processes it waited for."""
    # stderr to a file, not a pipe: a pipe nobody reads while we wait could fill and stall the tool.
    with tempfile.TemporaryFile() as stderr:
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=stderr)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        code = os.waitstatus_to_exitcode(status)
        process.returncode = code  # reaped by wait4: Popen must not wait for it again
        if code != 0:
            stderr.seek(0)
            text = stderr.read().decode(errors="replace")
            raise ConfigError(f"{tool} failed (exit code {code}): {text.strip()[-500:]}")
    return wall, usage.ru_utime + usage.ru_stime


def _arena_command() -> list[str]:
    """The ``arena`` a user runs: the console script beside this Python, else ``python -m arena``."""
    # The console script, as users run it: its launcher starts the workers' server before the CLI is imported.
    script = Path(sys.executable).parent / "arena"
    return [str(script)] if os.access(script, os.X_OK) else [sys.executable, "-m", "arena"]


def _arena_run(league: Path, out: Path) -> Run:
    shutil.rmtree(out, ignore_errors=True)
    wall, cpu = _timed("arena", [*_arena_command(), "league", str(league), "--out", str(out), "--quiet"],
                       league.parent)
    records = list(read_records(out))
    losses = sum(record.termination is Termination.TIME_FORFEIT for record in records)
    return Run("arena", wall, cpu, len(records), sum(len(record.moves) for record in records), losses)


def _fastchess_run(command: list[str], pgn: Path, cwd: Path) -> Run:
    pgn.unlink(missing_ok=True)
    wall, cpu = _timed("fastchess", command, cwd)
    games = plies = losses = 0
    with open(pgn, encoding="utf-8") as handle:
        while (game := chess.pgn.read_game(handle)) is not None:
            games += 1
            plies += sum(1 for _ in game.mainline_moves())
            losses += "time" in game.headers.get("Termination", "").lower()
    return Run("fastchess", wall, cpu, games, plies, losses)


def side_by_side(
    fastchess: str,
    games: int = 60,
    nodes: int | None = 2000,
    tc: str | None = None,
    plies: int = 4,
    seed: int = 1,
    max_moves: int = 100,
    concurrency: int = 2,
    rounds: int = 3,
    progress: Callable[[str], None] = lambda message: None,
    workers: int | None = None,
) -> SideBySide:
    """Play the league ``rounds`` times with each tool, alternating which goes first.

    Both play ``concurrency`` games at once; arena's are ``workers`` processes
    (default: :func:`split_concurrency`) with the rest as games in flight in each.
    """
    if games < 2 or games % 2:
        raise ConfigError(f"--games {games}: give an even number of at least 2; games are played in pairs")
    workers = arena_workers(concurrency, workers)
    limit = f"clock {tc}" if tc else f"{nodes} nodes per move"
    setting = (f"sf-a vs sf-b, {games} games, {limit}, {plies} random opening plies as EPD, move cap {max_moves}, "
               f"{concurrency} games at once (arena: {plural(workers, 'worker')} x {concurrency // workers} in flight), "
               f"{rounds} alternating runs each")
    result = SideBySide(setting, fastchess, clock=bool(tc))
    with tempfile.TemporaryDirectory(prefix="arena-fastchess-") as name:
        folder = Path(name)
        league, epd = league_file(folder, games, nodes, tc, plies, seed, max_moves, workers,
                                  concurrency // workers)
        pgn = folder / "fastchess.pgn"
        command = fastchess_command(fastchess, epd, pgn, games, nodes, tc, max_moves, concurrency)
        for number in range(rounds):
            order = ("arena", "fastchess") if number % 2 == 0 else ("fastchess", "arena")
            for tool in order:
                progress(f"side by side {number + 1}/{rounds}: {tool}")
                if tool == "arena":
                    result.arena_runs.append(_arena_run(league, folder / "arena-run"))
                else:
                    result.fastchess_runs.append(_fastchess_run(command, pgn, folder))
    return result


def format_side_by_side(result: SideBySide) -> str:
    """A table of every run, then the medians' ratio and arena's CPU per ply beyond fastchess's."""
    lines = [f"side by side with fastchess ({result.fastchess}): {result.setting}", "",
             f"{'run':<12} {'games':>5} {'plies':>6} {'wall s':>8} {'games/s':>8} {'CPU s':>8} {'time losses':>11}"]
    for runs in (result.arena_runs, result.fastchess_runs):
        for number, run in enumerate(runs, 1):
            lines.append(f"{run.tool + ' ' + str(number):<12} {run.games:>5} {run.plies:>6} {run.wall:>8.2f} "
                         f"{run.games_per_s:>8.3f} {run.cpu:>8.2f} {run.time_losses:>11}")
    met = "met" if result.games_ratio >= 1.0 else "NOT met"
    lines += ["", f"arena vs fastchess, median games/s: {result.games_ratio:.2f}x  (target: >= 1.00x: {met})"]
    if result.clock:
        losses = [sum(run.time_losses for run in runs) for runs in (result.arena_runs, result.fastchess_runs)]
        lines.append(f"time losses: arena {losses[0]}, fastchess {losses[1]} (on a clock the engines search as long "
                     "as it allows, so games and CPU seconds differ between the tools)")
    else:
        lines.append(f"arena's CPU per ply beyond fastchess's: {result.extra_cpu_ms_per_ply:+.2f} ms "
                     "(start-up, results files and the report included; the engines' work is the same)")
    return "\n".join(lines)
