"""Leagues drawn from known true ratings, to check that raters recover them with honest intervals."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from arena.rating.model import GameResult, Rater, Rating

#: Share of draws between equal players; fewer as the gap grows.
DRAW_RATE = 0.4


def outcome_probabilities(difference: float | np.ndarray) -> tuple[Any, Any, Any]:
    """Win, draw and loss probabilities for a player ``difference`` points stronger (scalar or array).

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


#: Spread of a simulated rating list: true ratings uniform over centre +- this.
LIST_HALF_WIDTH = 400.0
#: How near in strength a rating list's opponents are: weights exp(-(gap / NEAR)² / 2).
NEAR = 100.0


@dataclass
class RatingList:
    """A simulated rating list: true ratings, the games, and the one anchor at its true rating."""

    true: dict[str, float]
    results: list[GameResult]
    anchors: dict[str, float]
    white_advantage: float


def simulate_rating_list(rng: np.random.Generator, players: int = 40, games: int = 20_000,
                         centre: float = 3200.0, anchor: float = 3200.0, white_advantage: float = 30.0,
                         white_share: float = 0.5, half_width: float = LIST_HALF_WIDTH,
                         near: float = NEAR) -> RatingList:
    """A list like a real rating list: sparse pairings between players near in strength.

    Player ``p00`` is the anchor, truly rated ``anchor``; the others are
    uniform over ``centre`` +- ``half_width``. Each game takes a random
    player and an opponent drawn with weight ``exp(-(gap / near)² / 2)``, so
    most pairs never meet (``near=math.inf``: opponents at random). The stronger of the two has White with probability
    ``white_share`` (0.5: colours at random, so each pair's colours are only
    roughly balanced; above, strong players have White more often), and White
    plays ``white_advantage`` points stronger.
    """
    ratings = np.append(anchor, rng.uniform(centre - half_width, centre + half_width, players - 1))
    names = [f"p{i:02d}" for i in range(players)]
    weights = np.exp(-0.5 * ((ratings[:, None] - ratings[None, :]) / near) ** 2)
    np.fill_diagonal(weights, 0.0)
    cumulative = np.cumsum(weights / weights.sum(axis=1, keepdims=True), axis=1)
    first = rng.integers(0, players, games)
    second = np.minimum((cumulative[first] < rng.random(games)[:, None]).sum(axis=1), players - 1)
    stronger = ratings[first] >= ratings[second]
    strong, weak = np.where(stronger, first, second), np.where(stronger, second, first)
    swap = rng.random(games) >= white_share
    white, black = np.where(swap, weak, strong), np.where(swap, strong, weak)
    win, draw, _ = outcome_probabilities(ratings[white] - ratings[black] + white_advantage)
    draws = rng.random(games)
    scores = np.where(draws < win, 1.0, np.where(draws < win + draw, 0.5, 0.0))
    results = [GameResult(names[w], names[b], float(score)) for w, b, score in zip(white, black, scores)]
    true = dict(zip(names, ratings.tolist()))
    return RatingList(true, results, {names[0]: float(anchor)}, white_advantage)


@dataclass
class Accuracy:
    """Errors of fitted ratings against the truth, over the free (not anchored) players."""

    errors: np.ndarray  #: fitted minus true rating
    covered: np.ndarray  #: whether each 95% interval held the truth

    @property
    def rmse(self) -> float:
        return float(np.sqrt(np.mean(self.errors**2)))

    @property
    def bias(self) -> float:
        return float(np.mean(self.errors))

    @property
    def coverage(self) -> float:
        return float(np.mean(self.covered))

    @classmethod
    def of(cls, true: Mapping[str, float], ratings: list[Rating]) -> Accuracy:
        """Compare ``ratings`` with ``true``."""
        free = [r for r in ratings if not r.anchored]
        return cls(np.array([r.rating - true[r.player] for r in free]),
                   np.array([r.low <= true[r.player] <= r.high for r in free], dtype=bool))

    @classmethod
    def pooled(cls, parts: list[Accuracy]) -> Accuracy:
        """Several lists' errors together."""
        if not parts:
            return cls(np.zeros(0), np.zeros(0, dtype=bool))
        return cls(np.concatenate([p.errors for p in parts]), np.concatenate([p.covered for p in parts]))
