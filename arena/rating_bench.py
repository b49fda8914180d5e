"""How long rating a large league takes, and how honest its intervals are there."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from arena.plugins import Plugins
from arena.ratings import GameResult, Rater
from arena.simulation import outcome_probabilities


def random_league(players: int, games: int, rng: np.random.Generator) -> tuple[dict[str, float], list[GameResult]]:
    """``games`` games between random pairs of ``players`` with true ratings spread over 1000..2400."""
    true = {f"p{i:03d}": float(r) for i, r in enumerate(rng.uniform(1000, 2400, players))}
    names = list(true)
    white = rng.integers(0, players, games)
    black = (white + rng.integers(1, players, games)) % players  # never the same player
    draws = rng.random(games)
    results = []
    for w, b, u in zip(white, black, draws):
        win, draw, _ = outcome_probabilities(true[names[w]] - true[names[b]])
        score = 1.0 if u < win else 0.5 if u < win + draw else 0.0
        results.append(GameResult(names[w], names[b], score))
    return true, results


@dataclass
class RaterTiming:
    """One rater on the benchmark league: seconds to fit, and interval coverage of the truth."""

    rater: str
    seconds: float
    coverage: float
    mean_abs_error: float


def rating_bench(plugins: Plugins, players: int = 100, games: int = 100_000, seed: int = 1,
                 raters: tuple[str, ...] = ("glicko2", "bradley_terry", "glicko2_paper")) -> list[RaterTiming]:
    """Fit each rater on one simulated league with two anchors; time it and check it against the truth."""
    rng = np.random.default_rng(seed)
    true, results = random_league(players, games, rng)
    anchors = {name: true[name] for name in list(true)[:2]}
    timings = []
    for name in raters:
        rater: Rater = plugins.raters[name]()
        started = time.perf_counter()
        fitted = rater.rate(results, anchors)
        seconds = time.perf_counter() - started
        free = [r for r in fitted if not r.anchored]
        covered = np.mean([r.low <= true[r.player] <= r.high for r in free])
        error = np.mean([abs(r.rating - true[r.player]) for r in free])
        timings.append(RaterTiming(name, seconds, float(covered), float(error)))
    return timings


def format_rating_bench(timings: list[RaterTiming], players: int, games: int) -> str:
    """A table of the figures."""
    lines = [f"rating {games} games among {players} players (2 anchors, true ratings known)", "",
             f"{'rater':<16} {'seconds':>8} {'95% coverage':>13} {'mean error':>11}"]
    for timing in timings:
        lines.append(f"{timing.rater:<16} {timing.seconds:>8.2f} {timing.coverage:>13.1%} {timing.mean_abs_error:>11.1f}")
    lines.append("target: under 10 s for 100 players and 100,000 games")
    return "\n".join(lines)
