"""Leagues drawn from known true ratings, to check that raters recover them with honest intervals."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Mapping

import numpy as np

from arena.ratings import GameResult, Rater

#: Share of draws between equal players; fewer as the gap grows.
DRAW_RATE = 0.4


def outcome_probabilities(difference: float) -> tuple[float, float, float]:
    """Win, draw and loss probabilities for a player ``difference`` points stronger.

    The expected score is Elo's logistic curve exactly (so a logistic fit is
    unbiased); draws are most likely between equals.
    """
    expected = 1.0 / (1.0 + 10 ** (-difference / 400.0))
    draw = DRAW_RATE * 4.0 * expected * (1.0 - expected)
    return expected - draw / 2.0, draw, 1.0 - expected - draw / 2.0


def simulate_league(true: Mapping[str, float], games_per_pair: int, rng: np.random.Generator) -> list[GameResult]:
    """A round robin among ``true`` players, colours alternating, results drawn from the model."""
    results = []
    for a, b in itertools.combinations(true, 2):
        probabilities = outcome_probabilities(true[a] - true[b])
        for game in range(games_per_pair):
            score = float(rng.choice((1.0, 0.5, 0.0), p=probabilities))
            results.append(GameResult(a, b, score) if game % 2 == 0 else GameResult(b, a, 1.0 - score))
    return results


@dataclass
class Coverage:
    """How often nominal 95% intervals held the true rating, and how far the estimates were."""

    leagues: int
    players: int  #: rated (non-anchored) players, counted over all leagues
    covered: int
    mean_abs_error: float

    @property
    def rate(self) -> float:
        return self.covered / self.players


def measure_coverage(
    rater: Rater, leagues: int = 40, players: int = 10, games_per_pair: int = 8, seed: int = 0
) -> Coverage:
    """Simulate leagues with two anchors at their true ratings and count intervals that hold the truth."""
    rng = np.random.default_rng(seed)
    covered = counted = 0
    errors = []
    for _ in range(leagues):
        true = {f"p{i}": float(rating) for i, rating in enumerate(rng.uniform(1000, 2200, players))}
        anchors = {"p0": true["p0"], "p1": true["p1"]}
        for rating in rater.rate(simulate_league(true, games_per_pair, rng), anchors):
            if rating.anchored:
                continue
            counted += 1
            covered += rating.low <= true[rating.player] <= rating.high
            errors.append(abs(rating.rating - true[rating.player]))
    return Coverage(leagues, counted, covered, float(np.mean(errors)))
