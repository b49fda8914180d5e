"""Rating benchmarks: accuracy on simulated rating lists beside Ordo's, and speed on a large league.

Accuracy: lists like a real rating list (arena.rating.simulation.simulate_rating_list:
sparse pairings between players near in strength, a white advantage, one
anchor) at several scales and seeds; per rater the RMSE, mean error (bias)
and 95% interval coverage of the free players' ratings, and the same for
Ordo run on the same games written as PGN, when an Ordo binary is found.

Speed: seconds to rate one random league of 100 players and 100,000 games.
"""

from __future__ import annotations

import csv
import io
import math
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np

from arena.errors import ArenaError, ConfigError
from arena.plugins import Plugins
from arena.play.record import Result
from arena.rating.model import GameResult, Rater, Rating
from arena.rating.simulation import Accuracy, RatingList, simulate_rating_list

#: (population centre, anchor rating) of the default lists: a top engine list, one anchored below its average.
DEFAULT_SCALES: tuple[tuple[float, float], ...] = ((3200.0, 3200.0), (1800.0, 1500.0))
DEFAULT_RATERS: tuple[str, ...] = ("glicko2", "bradley_terry", "glicko2_paper")
#: Ordo's -z: the rating gap for a 76% expected score. Ordo's default, 202, is a logistic about 0.9%
#: wider than Elo's 400-point one; 200.24 makes Ordo's model the one the lists are drawn from.
ORDO_SCALE = 400.0 * math.log10(0.76 / 0.24)
#: The targets the issue set.
TARGET_RMSE_RATIO = 1.2
TARGET_COVERAGE = (0.90, 0.98)


@dataclass
class Figures:
    """One rater's errors over all seeds of one scale."""

    rater: str
    accuracy: Accuracy
    seconds: float = 0.0
    whites: list[float] = field(default_factory=list)  #: fitted white advantages (one per list), if any


@dataclass
class ScaleFigures:
    """All raters (and Ordo) on the lists of one scale."""

    centre: float
    anchor: float
    raters: list[Figures]
    ordo: Figures | None


@dataclass
class AccuracyBench:
    """The accuracy benchmark's set-up and figures."""

    players: int
    games: int
    white_advantage: float
    seeds: int
    scales: list[ScaleFigures]
    white_share: float  #: how often the stronger player of a game has White
    ordo: str  #: the Ordo binary used ("": none found)
    simulations: int = 0  #: Ordo's -s


def find_ordo(explicit: str | None = None) -> str | None:
    """The Ordo binary: ``explicit``, env ``ORDO``, ``ordo`` on PATH, or where build.sh puts it."""
    if explicit is not None:
        if not _executable(explicit):
            raise ConfigError(f"option --ordo={explicit!r}: no executable file there")
        return explicit
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "arena-anchors" / "ordo"
    for candidate in (os.environ.get("ORDO"), shutil.which("ordo"), str(cache)):
        if candidate and _executable(candidate):
            return candidate
    return None


def _executable(path: str) -> bool:
    return os.path.isfile(path) and os.access(path, os.X_OK)


def write_pgn(results: Iterable[GameResult], path: Path) -> None:
    """Results-only PGN: the tags Ordo needs and the result, no moves."""
    with path.open("w") as out:
        for result in results:
            score = Result.of_white_points(result.score)
            out.write(f'[White "{result.white}"]\n[Black "{result.black}"]\n')
            out.write(f'[Result "{score}"]\n\n{score}\n\n')


def run_ordo(binary: str, rating_list: RatingList, simulations: int,
             folder: Path) -> tuple[list[Rating], float | None]:
    """Ordo's ratings of ``rating_list`` and White's advantage (one anchor, -W, -D, -s ``simulations``)."""
    (anchor, value), = rating_list.anchors.items()
    pgn, table, text = folder / "games.pgn", folder / "ordo.csv", folder / "ordo.txt"
    write_pgn(rating_list.results, pgn)
    command = [binary, "-q", "-p", str(pgn), "-a", str(value), "-A", anchor, "-W", "-D",
               "-z", f"{ORDO_SCALE:.4f}", "-s", str(simulations), "-n", str(os.cpu_count() or 1),
               "-c", str(table), "-o", str(text)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        # Ordo refuses lists whose players are not all connected by games (its -G forces it, slowly).
        tail = " ".join((done.stdout + done.stderr).replace("*", " ").split())[:300]
        raise ArenaError(f"ordo failed (exit {done.returncode}) on {pgn.name}: {tail}")
    return parse_ordo_csv(table.read_text(), rating_list.anchors), parse_ordo_white(text.read_text())


def parse_ordo_csv(text: str, anchors: dict[str, float]) -> list[Rating]:
    """Ordo's -c output: one row per player with its rating and 95% error ("-" for the anchor)."""
    ratings = []
    for row in csv.DictReader(io.StringIO(text)):
        rating = float(row["RATING"])
        error = 0.0 if row["ERROR"].strip() in ("-", "") else float(row["ERROR"])
        played = int(float(row["PLAYED"]))
        score = float(row["POINTS"]) / played if played else 0.0
        ratings.append(Rating(row["PLAYER"], rating, rating - error, rating + error, played, score,
                              anchored=row["PLAYER"] in anchors))
    return ratings


def parse_ordo_white(text: str) -> float | None:
    """The ``White advantage = X +/- Y`` line of Ordo's text output."""
    for line in text.splitlines():
        if line.strip().startswith("White advantage"):
            return float(line.split("=")[1].split()[0])
    return None


def accuracy_bench(raters: dict[str, Rater], scales: Sequence[tuple[float, float]] = DEFAULT_SCALES,
                   seeds: int = 5, players: int = 40, games: int = 20_000, white_advantage: float = 30.0,
                   ordo: str | None = None, simulations: int = 500, white_share: float = 0.5,
                   progress: Callable[[str], None] = lambda line: None) -> AccuracyBench:
    """Every rater, and Ordo if given, on ``seeds`` simulated lists per (centre, anchor) scale."""
    figures = []
    for centre, anchor in scales:
        parts: dict[str, list[Accuracy]] = {name: [] for name in raters}
        rows = {name: Figures(name, Accuracy.pooled([])) for name in raters}
        ordo_parts: list[Accuracy] = []
        ordo_row = Figures("ordo", Accuracy.pooled([])) if ordo else None
        for seed in range(seeds):
            rng = np.random.default_rng([int(centre), int(anchor), seed])
            rating_list = simulate_rating_list(rng, players, games, centre, anchor, white_advantage,
                                               white_share)
            for name, rater in raters.items():
                started = time.perf_counter()
                fitted = rater.rate(rating_list.results, rating_list.anchors)
                rows[name].seconds += time.perf_counter() - started
                parts[name].append(Accuracy.of(rating_list.true, fitted))
                if getattr(rater, "white_advantage", None) is not None:
                    rows[name].whites.append(rater.white_advantage.value)
            if ordo and ordo_row:
                with tempfile.TemporaryDirectory() as folder:
                    started = time.perf_counter()
                    fitted, white = run_ordo(ordo, rating_list, simulations, Path(folder))
                    ordo_row.seconds += time.perf_counter() - started
                ordo_parts.append(Accuracy.of(rating_list.true, fitted))
                if white is not None:
                    ordo_row.whites.append(white)
            progress(f"scale {centre:.0f} (anchor {anchor:.0f}): seed {seed + 1}/{seeds} done")
        for name in raters:
            rows[name].accuracy = Accuracy.pooled(parts[name])
        if ordo_row:
            ordo_row.accuracy = Accuracy.pooled(ordo_parts)
        figures.append(ScaleFigures(centre, anchor, list(rows.values()), ordo_row))
    return AccuracyBench(players, games, white_advantage, seeds, figures, white_share, ordo or "",
                         simulations)


def format_accuracy_bench(bench: AccuracyBench) -> str:
    """A table per scale: each rater's RMSE, bias, coverage and white advantage beside Ordo's."""
    lines = [f"accuracy on simulated rating lists: {bench.players} players, {bench.games} games, "
             f"sparse pairings between players near in strength, white advantage "
             f"{bench.white_advantage:g} (the stronger player has White in {bench.white_share:.0%} of "
             "games), "
             f"one anchor; "
             f"{bench.seeds} seed(s) per scale, errors over the free players",
             _ordo_line(bench), ""]
    width = max([16] + [len(row.rater) for scale in bench.scales for row in scale.raters])
    header = (f"{'scale':<20} {'rater':<{width}} {'RMSE':>6} {'bias':>6} {'cover':>6} {'white':>6} "
              f"{'s/list':>7}")
    if bench.ordo:
        header += f" |ordo {'RMSE':>6} {'bias':>6} {'cover':>6} {'white':>6} | {'RMSE/ordo':>9}  targets"
    lines.append(header)
    for scale in bench.scales:
        label = f"~{scale.centre:.0f}, anchor {scale.anchor:.0f}"
        for row in scale.raters:
            cells = _cells(row, bench.seeds)
            lines.append(f"{label:<20} {row.rater:<{width}} {cells}" + _versus(row, scale.ordo))
    lines.append(f"targets: RMSE within {TARGET_RMSE_RATIO:g}x Ordo's, coverage {TARGET_COVERAGE[0]:.0%}-"
                 f"{TARGET_COVERAGE[1]:.0%} (white: mean fitted white advantage, '-' where not fitted)")
    return "\n".join(lines)


def _ordo_line(bench: AccuracyBench) -> str:
    if not bench.ordo:
        return ("ordo: not found or left out (set ORDO, put ordo on PATH or pass --ordo); "
                "its columns are left out")
    seconds = [scale.ordo.seconds for scale in bench.scales if scale.ordo]
    per_list = sum(seconds) / max(len(seconds) * bench.seeds, 1)
    return (f"ordo: {bench.ordo} (-W -D -z {ORDO_SCALE:.2f}, error bars from -s {bench.simulations}; "
            f"{per_list:.1f} s per list)")


def _cells(row: Figures, seeds: int | None = None) -> str:
    """RMSE, bias, coverage, mean white advantage and, given ``seeds``, seconds per list."""
    accuracy = row.accuracy
    white = f"{np.mean(row.whites):6.1f}" if row.whites else f"{'-':>6}"
    cells = f"{accuracy.rmse:>6.1f} {accuracy.bias:>6.1f} {accuracy.coverage:>6.1%} {white}"
    return cells if seeds is None else f"{cells} {row.seconds / max(seeds, 1):>7.2f}"


def _versus(row: Figures, ordo: Figures | None) -> str:
    """Ordo's cells on the same lists, the RMSE ratio, and whether the targets are met."""
    if ordo is None:
        return ""
    ratio = row.accuracy.rmse / ordo.accuracy.rmse if ordo.accuracy.rmse else math.inf
    low, high = TARGET_COVERAGE
    met = ratio <= TARGET_RMSE_RATIO and low <= row.accuracy.coverage <= high
    return f" |     {_cells(ordo)} | {ratio:>8.2f}x  {'met' if met else 'NOT met'}"


@dataclass
class RaterTiming:
    """One rater on the benchmark league: seconds to fit, and interval coverage of the truth."""

    rater: str
    seconds: float
    coverage: float
    mean_abs_error: float


def rating_bench(raters: dict[str, Rater] | Plugins, players: int = 100, games: int = 100_000, seed: int = 1,
                 names: tuple[str, ...] = DEFAULT_RATERS) -> list[RaterTiming]:
    """Fit each rater on one simulated league with two anchors; time it and check it against the truth."""
    if isinstance(raters, Plugins):
        raters = {name: raters.raters[name]() for name in names}
    # Random pairs (no preference for near opponents), ratings over 1000..2400, no white advantage.
    league = simulate_rating_list(np.random.default_rng(seed), players, games, centre=1700.0, anchor=1700.0,
                                  white_advantage=0.0, half_width=700.0, near=math.inf)
    true, results = league.true, league.results
    anchors = {name: true[name] for name in list(true)[:2]}
    timings = []
    for name, rater in raters.items():
        started = time.perf_counter()
        fitted = rater.rate(results, anchors)
        seconds = time.perf_counter() - started
        accuracy = Accuracy.of(true, fitted)
        timings.append(RaterTiming(name, seconds, accuracy.coverage, float(np.mean(np.abs(accuracy.errors)))))
    return timings


def format_rating_bench(timings: list[RaterTiming], players: int, games: int) -> str:
    """A table of the figures."""
    lines = [f"speed: rating {games} games among {players} players "
             "(random pairs, 2 anchors, true ratings known)", "",
             f"{'rater':<16} {'seconds':>8} {'95% coverage':>13} {'mean error':>11}"]
    for timing in timings:
        lines.append(f"{timing.rater:<16} {timing.seconds:>8.2f} {timing.coverage:>13.1%} {timing.mean_abs_error:>11.1f}")
    lines.append("target: a few seconds for 100 players and 100,000 games")
    return "\n".join(lines)
