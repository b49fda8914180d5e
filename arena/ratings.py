"""Ratings: the data raters work on and return, and the joint logistic fit they share.

A rater turns game results into one :class:`Rating` per player. Raters are
plugins (``register_raters``); the built-in ones live in plugins/raters.py.
All of them work from :class:`GameResult` triples, so they rate a league's
games.jsonl and any PGN file alike.

The joint fit (:func:`fit_logistic`) maximizes the posterior of all games at
once under the logistic (Elo/Glicko) model: the expected score of A against B
is ``1 / (1 + 10 ** ((rating_B - rating_A) / 400))``, a draw counts as half a
win. Anchored players are held fixed; every other player gets a Gaussian prior.
The order of the games does not matter. Uncertainty comes from the curvature
of the posterior at its peak (a Laplace approximation), which accounts for the
uncertainty of every opponent's rating too.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from arena.errors import ConfigError

#: Ratings of a league without anchors are centred on this mean.
CENTRE = 1500.0
#: Elo's logistic scale: 400 rating points is a factor 10 in odds.
SCALE = 400.0 / math.log(10.0)
#: Two-sided 95% normal quantile, for intervals.
Z95 = 1.959963984540054


@dataclass(frozen=True)
class GameResult:
    """One game for rating: the two players and White's points (1, 0.5 or 0).

    ``forfeit`` says how a game lost by a fault was lost: ``"illegal"``
    (illegal moves) or ``"fault"`` (crash, timeout, time forfeit, error).
    ``moves`` is the game itself (start position and moves, ``""`` where
    unknown): two results with the same players, colours and non-empty
    ``moves`` are copies of one game. ``pair`` names the colour-swapped pair
    the game belongs to (``""``: none known).
    """

    white: str
    black: str
    score: float
    forfeit: str | None = None
    moves: str = ""
    pair: str = ""


@dataclass
class Rating:
    """One player's fitted rating with a 95% interval [low, high]."""

    player: str
    rating: float
    low: float
    high: float
    games: int
    score: float  #: points per game, 0..1
    rd: float | None = None  #: rating deviation (one standard error), where the method has one
    anchored: bool = False

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)


class Rater:
    """Base class of rating methods; options are keyword-only constructor arguments."""

    #: One line for listings.
    description: str = ""

    def rate(self, results: Sequence[GameResult], anchors: Mapping[str, float]) -> list[Rating]:
        """Rate every player in ``results``; players in ``anchors`` keep exactly those ratings."""
        raise NotImplementedError


@dataclass
class PairTable:
    """Games aggregated per pair of players: what a fit needs, independent of game order."""

    players: list[str]
    first: np.ndarray  #: index of the first player of each pair
    second: np.ndarray  #: index of the second player
    wins: np.ndarray  #: the first player's wins against the second
    draws: np.ndarray
    losses: np.ndarray

    @property
    def games(self) -> np.ndarray:
        return self.wins + self.draws + self.losses

    @property
    def points(self) -> np.ndarray:
        """The first player's points against the second."""
        return self.wins + 0.5 * self.draws

    @classmethod
    def from_results(cls, results: Iterable[GameResult]) -> PairTable:
        """Aggregate results; players are sorted by name, so the table does not depend on game order."""
        results = list(results)
        names = sorted({name for result in results for name in (result.white, result.black)})
        index = {name: i for i, name in enumerate(names)}
        pairs: dict[tuple[int, int], list[float]] = {}
        for result in results:
            if result.score not in (0.0, 0.5, 1.0):
                raise ConfigError(f"game {result.white} vs {result.black}: score {result.score} is not 1, 0.5 or 0")
            a, b = index[result.white], index[result.black]
            if a == b:
                continue  # a player against itself tells nothing about its rating
            key, points = ((a, b), result.score) if a < b else ((b, a), 1.0 - result.score)
            cell = pairs.setdefault(key, [0.0, 0.0, 0.0])
            cell[{1.0: 0, 0.5: 1, 0.0: 2}[points]] += 1
        ordered = sorted(pairs)
        keys = np.array(ordered, dtype=np.int64).reshape(-1, 2)
        counts = np.array([pairs[key] for key in ordered], dtype=np.float64).reshape(-1, 3)
        return cls(names, keys[:, 0], keys[:, 1], counts[:, 0], counts[:, 1], counts[:, 2])

    def per_player(self) -> tuple[np.ndarray, np.ndarray]:
        """Games and points of each player."""
        n = len(self.players)
        games, points = self.games, self.points
        played = np.bincount(self.first, games, n) + np.bincount(self.second, games, n)
        scored = np.bincount(self.first, points, n) + np.bincount(self.second, games - points, n)
        return played, scored


def fit_logistic(
    table: PairTable,
    anchors: Mapping[str, float],
    prior_sd: float | None,
    games: np.ndarray | None = None,
    points: np.ndarray | None = None,
    with_covariance: bool = True,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Ratings (and their covariance) maximizing the posterior of the games in ``table``.

    ``games``/``points`` override the table's per-pair counts (a bootstrap
    resample). Anchored players are fixed; the others get a N(CENTRE,
    prior_sd²) prior (``None``: no prior). Without anchors the ratings are
    shifted to average CENTRE and the covariance is that of the centred
    ratings. Returns ratings for all players and the covariance of the free
    ones (in the order of ``table.players``, anchored rows and columns zero).
    """
    n = len(table.players)
    games = table.games if games is None else games
    points = table.points if points is None else points
    fixed = np.array([name in anchors for name in table.players], dtype=bool)
    ratings = np.array([anchors.get(name, CENTRE) for name in table.players], dtype=np.float64)
    free = np.flatnonzero(~fixed)
    precision = 0.0 if prior_sd is None else 1.0 / prior_sd**2
    hessian = np.zeros((n, n))
    for _ in range(100):
        diff = (ratings[table.first] - ratings[table.second]) / SCALE
        expected = 1.0 / (1.0 + np.exp(-diff))
        residual = (points - games * expected) / SCALE
        gradient = np.bincount(table.first, residual, n) - np.bincount(table.second, residual, n)
        gradient -= precision * (ratings - CENTRE)
        weight = games * expected * (1.0 - expected) / SCALE**2
        hessian = _information(table, weight, n) + precision * np.eye(n)
        h = hessian[np.ix_(free, free)]
        g = gradient[free]
        try:
            step = np.linalg.solve(h, g)
        except np.linalg.LinAlgError:
            step = np.linalg.lstsq(h, g, rcond=None)[0]
        # Newton steps, capped so a player with a perfect score cannot jump to infinity at once.
        step = np.clip(step, -400.0, 400.0)
        ratings[free] += step
        if np.max(np.abs(step), initial=0.0) < 1e-7:
            break
    if not anchors:
        ratings += CENTRE - ratings.mean()
    if not with_covariance:
        return ratings, None
    covariance = np.zeros((n, n))
    # The likelihood treats a game as a coin flip (variance E(1-E)); draws make real scores vary less.
    # Scaling the information by the observed variance over the modelled one (a quasi-likelihood
    # dispersion) keeps intervals from being too wide when draws are common, or too narrow on a misfit.
    dispersion = _dispersion(table, ratings, games, points)
    hessian = (hessian - precision * np.eye(n)) / dispersion + precision * np.eye(n)
    h = hessian[np.ix_(free, free)]
    if anchors:
        covariance[np.ix_(free, free)] = np.linalg.pinv(h)
    else:
        # Only differences are measured: report the uncertainty of each rating around the league mean.
        centre = np.eye(n) - 1.0 / n
        covariance = centre @ np.linalg.pinv(h) @ centre
    return ratings, covariance


def _dispersion(table: PairTable, ratings: np.ndarray, games: np.ndarray, points: np.ndarray) -> float:
    """Observed variance of game scores over the variance the model assumes (1 for win/loss only)."""
    expected = 1.0 / (1.0 + np.exp(-(ratings[table.first] - ratings[table.second]) / SCALE))
    squares = table.wins + table.draws / 4.0  # sum of squared scores over the pair's games
    observed = np.sum(squares - 2.0 * expected * points + games * expected**2)
    modelled = np.sum(games * expected * (1.0 - expected))
    if modelled <= 0 or not np.isfinite(observed) or len(games) < 2:
        return 1.0
    # Above 1 the results vary more than the model expects (a misfit): the intervals widen too.
    return float(max(observed / modelled, 0.05))


def _information(table: PairTable, weight: np.ndarray, n: int) -> np.ndarray:
    """The Fisher information matrix of the logistic likelihood (a weighted graph Laplacian)."""
    information = np.zeros((n, n))
    np.add.at(information, (table.first, table.second), -weight)
    np.add.at(information, (table.second, table.first), -weight)
    diagonal = np.bincount(table.first, weight, n) + np.bincount(table.second, weight, n)
    information[np.diag_indices(n)] += diagonal
    return information


def parse_anchor(text: str) -> tuple[str, float]:
    """Read ``NAME=RATING`` from the command line."""
    name, _, value = text.rpartition("=")
    try:
        rating = float(value)
    except ValueError:
        rating = math.nan
    if not name or not math.isfinite(rating):
        raise ConfigError(f"anchor {text!r} is not NAME=RATING, e.g. 'stockfish-skill1=1554'")
    return name.strip(), rating
