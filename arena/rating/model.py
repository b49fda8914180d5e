"""Ratings: the data raters work on and return, and the joint logistic fit they share.

A rater turns game results into one :class:`Rating` per player. Raters are
plugins (``register_raters``); the built-in ones live in plugins/raters.py.
All of them work from :class:`GameResult` triples, so they rate a league's
games.jsonl and any PGN file alike.

The joint fit (:func:`fit_logistic`) maximizes the posterior of all games at
once under the logistic (Elo/Glicko) model: the expected score of White A
against Black B is ``1 / (1 + 10 ** ((rating_B - rating_A - white) / 400))``,
a draw counts as half a win, and ``white`` is White's first-move advantage
(estimated from the games, or 0). Anchored players are held fixed.

The prior is hierarchical: every player, anchors included, is a draw from one
population N(mu, sd²), and the population mean ``mu`` has a flat prior and is
integrated out. So the prior pulls a free player towards the population's
average as the games and the anchors place it, never towards a fixed number
(a prior centred on 1500 dragged a list anchored at 3200 down by 60 points).
``sd`` is a fixed, weak spread (the raters use 1000): it keeps a perfect
score, or a group of players no game connects to the rest, finite, and is
worth about a tenth of a game against an equal opponent otherwise. Tighter
priors were measured and rejected: on sparse lists, where players meet only
opponents near their strength, the spread of the whole list is measured
through long chains of games, and a tight prior compresses it towards the
population mean. A spread estimated from the games (empirical Bayes, about
230 on lists 800 points wide) gave a bias of -7 on lists anchored 300 points
below their average (maximum likelihood: -1); sd 350 gave -51 on 100-player
lists 1600 points wide (maximum likelihood: +12, sd 1000: +3). With sd 1000
the fit stays within a few points of maximum likelihood (Ordo) wherever the
games decide, and the intervals keep their 95%.

The order of the games does not matter. Uncertainty comes from the curvature
of the posterior at its peak (a Laplace approximation), which accounts for the
uncertainty of every opponent's rating, of the population mean and of the
white advantage too.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from arena.errors import ConfigError
from arena.play.record import Forfeit

#: Ratings of a league without anchors are centred on this mean.
CENTRE = 1500.0
#: Elo's logistic scale: 400 rating points is a factor 10 in odds.
SCALE = 400.0 / math.log(10.0)
#: Two-sided 95% normal quantile, for intervals.
Z95 = 1.959963984540054
#: Standard deviation of the weak N(0, sd²) prior on White's advantage: it only keeps a
#: league whose colours cannot separate advantage from strength (one game, say) finite.
WHITE_PRIOR_SD = 200.0


@dataclass(frozen=True)
class GameResult:
    """One game for rating: the two players and White's points (1, 0.5 or 0).

    ``forfeit`` says how a game lost by a fault was lost: :attr:`Forfeit.ILLEGAL`
    (illegal moves) or :attr:`Forfeit.FAULT` (crash, timeout, time forfeit, error).
    ``moves`` is the game itself (start position and moves, ``""`` where
    unknown): two results with the same players, colours and non-empty
    ``moves`` are copies of one game. ``pair`` names the colour-swapped pair
    the game belongs to (``""``: none known).
    """

    white: str
    black: str
    score: float
    forfeit: Forfeit | None = None
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


@dataclass(frozen=True)
class WhiteAdvantage:
    """White's fitted first-move advantage in rating points, with a 95% interval [low, high]."""

    value: float
    low: float
    high: float
    rd: float | None = None  #: one standard error, where the method has one

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)


class Rater:
    """Base class of rating methods; options are keyword-only constructor arguments."""

    #: One line for listings.
    description: str = ""
    #: Set by :meth:`rate` on raters that estimate White's advantage (their ``white_advantage``
    #: option); ``None`` before the first call and on raters that do not. It belongs to the
    #: last call's games, which keeps ``rate``'s signature and its list of players' ratings.
    white_advantage: WhiteAdvantage | None = None

    def rate(self, results: Sequence[GameResult], anchors: Mapping[str, float]) -> list[Rating]:
        """Rate every player in ``results``; players in ``anchors`` keep exactly those ratings."""
        raise NotImplementedError


@dataclass
class PairTable:
    """Games aggregated per (White, Black) pair: what a fit needs, independent of game order.

    Colours are kept (a pair's games with the colours swapped are another
    row) so that a fit can estimate White's advantage.
    """

    players: list[str]
    first: np.ndarray  #: index of each row's White
    second: np.ndarray  #: index of each row's Black
    wins: np.ndarray  #: White's wins
    draws: np.ndarray
    losses: np.ndarray

    @property
    def games(self) -> np.ndarray:
        return self.wins + self.draws + self.losses

    @property
    def points(self) -> np.ndarray:
        """White's points in each row."""
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
            key = index[result.white], index[result.black]
            if key[0] == key[1]:
                continue  # a player against itself tells nothing about its rating
            cell = pairs.setdefault(key, [0.0, 0.0, 0.0])
            cell[{1.0: 0, 0.5: 1, 0.0: 2}[result.score]] += 1
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


@dataclass
class LogisticFit:
    """What :func:`fit_logistic` found."""

    ratings: np.ndarray  #: every player's rating, in the order of ``table.players``
    covariance: np.ndarray | None  #: of the ratings; anchored rows and columns zero
    white: float  #: White's advantage in rating points (0 when not estimated)
    white_rd: float | None  #: its standard error (None when not estimated or no covariance)
    dispersion: float  #: observed over modelled variance of game scores (1: the coin-flip model)


def fit_logistic(
    table: PairTable,
    anchors: Mapping[str, float],
    prior_sd: float | None,
    games: np.ndarray | None = None,
    points: np.ndarray | None = None,
    with_covariance: bool = True,
    *,
    white_advantage: bool = False,
    start: LogisticFit | None = None,
) -> LogisticFit:
    """Ratings (and their covariance) maximizing the posterior of the games in ``table``.

    ``games``/``points`` override the table's per-row counts (a bootstrap
    resample). Anchored players are fixed; all players are drawn from a
    population N(mu, ``prior_sd``²) with mu integrated out (see the module
    docstring; ``None``: no prior, plain maximum likelihood, infinite for a
    perfect score). With ``white_advantage`` White's advantage is fitted too.
    Without anchors the ratings average CENTRE and the covariance is that of
    ratings around their average. ``start`` is a previous fit to start from
    (faster bootstrap refits).
    """
    n = len(table.players)
    if not n:
        return LogisticFit(np.zeros(0), np.zeros((0, 0)) if with_covariance else None, 0.0, None, 1.0)
    games = table.games if games is None else games
    points = table.points if points is None else points
    fixed = np.array([name in anchors for name in table.players], dtype=bool)
    # Parameters: the n ratings, then White's advantage (held at 0 unless estimated).
    free = np.flatnonzero(np.append(~fixed, white_advantage))
    prior = _prior(n, math.inf if prior_sd is None else float(prior_sd), bool(anchors))
    theta = _maximize(table, _starting_point(table, anchors, start), free, games, points, prior)
    if not anchors:
        theta[:n] += CENTRE - theta[:n].mean()  # exact already with a prior; ML alone leaves the mean free
    covariance, dispersion, white_rd = None, 1.0, None
    if with_covariance:
        dispersion = _dispersion(table, theta)
        covariance = _covariance(table, theta, free, games, prior, dispersion, centred=not anchors)
        if white_advantage:
            white_rd = float(math.sqrt(max(covariance[n, n], 0.0)))
        covariance = covariance[:n, :n]
    return LogisticFit(theta[:n], covariance, float(theta[n]), white_rd, dispersion)


def intervals(table: PairTable, fit: LogisticFit, anchors: Mapping[str, float], prior_sd: float | None,
              z: float = Z95) -> tuple[np.ndarray, np.ndarray]:
    """Each player's interval at ``z`` standard errors, skewed where its posterior is skewed.

    Rating +- z RD is right when the posterior is close to normal, and badly
    wrong for a perfect score or a handful of games: there the posterior is a
    long ramp on one side and steep on the other. So each side comes from the
    player's own posterior with everyone else held at the fit (where its log
    drops by z²/2, a likelihood-ratio bound), widened by the ratio of its
    marginal RD to that conditional one, which brings in the opponents'
    uncertainty. For a normal posterior this is exactly rating +- z RD.
    Anchored players get [rating, rating].
    """
    assert fit.covariance is not None, "intervals need a fit with its covariance"
    n = len(table.players)
    theta = np.append(fit.ratings, fit.white)
    prior = _prior(n, math.inf if prior_sd is None else float(prior_sd), bool(anchors))
    slope = (prior @ (theta - np.append(np.full(n, CENTRE), 0.0)))[:n]  # the prior's pull at the fit
    expected = _expected(table, theta)
    weight = table.games * expected * (1.0 - expected) / SCALE**2
    own = np.bincount(table.first, weight, n) + np.bincount(table.second, weight, n)
    conditional = own / fit.dispersion
    conditional += np.diag(prior)[:n]
    marginal = np.sqrt(np.clip(np.diag(fit.covariance), 0.0, None))
    widen = marginal * np.sqrt(conditional)

    peak = _own_loglik(table, theta, np.zeros(n), fit.dispersion)

    def drop(shift: np.ndarray) -> np.ndarray:
        """How far each player's conditional log posterior falls when only its rating moves by ``shift``."""
        own_drop = peak - _own_loglik(table, theta, shift, fit.dispersion)
        return own_drop + slope * shift + 0.5 * np.diag(prior)[:n] * shift**2

    reach = 10.0 * (prior_sd or 1000.0) + 2000.0  # beyond any sensible bound; bisection finds the real one
    low, high = np.empty(n), np.empty(n)
    for side, out in ((-1.0, low), (1.0, high)):
        inside, outside = np.zeros(n), np.full(n, side * reach)
        for _ in range(60):  # the drop grows monotonically away from the peak (a concave log posterior)
            middle = 0.5 * (inside + outside)
            beyond = drop(middle) > z**2 / 2.0
            outside = np.where(beyond, middle, outside)
            inside = np.where(beyond, inside, middle)
        out[:] = fit.ratings + 0.5 * (inside + outside) * widen
    fixed = np.array([name in anchors for name in table.players], dtype=bool)
    low[fixed] = high[fixed] = fit.ratings[fixed]
    return low, high


def _own_loglik(table: PairTable, theta: np.ndarray, shift: np.ndarray, dispersion: float) -> np.ndarray:
    """Each player's tempered log likelihood of its own games when its rating alone moves by ``shift``."""
    n = len(table.players)
    base = (theta[table.first] - theta[table.second] + theta[n]) / SCALE
    points, games = table.points, table.games

    def loglik(z: np.ndarray, score: np.ndarray) -> np.ndarray:
        # log E and log(1 - E) without overflow: -log(1 + exp(-z)) and -log(1 + exp(z)).
        return -(score * np.logaddexp(0.0, -z) + (games - score) * np.logaddexp(0.0, z))

    as_white = loglik(base + shift[table.first] / SCALE, points)
    as_black = loglik(-(base - shift[table.second] / SCALE), games - points)
    return (np.bincount(table.first, as_white, n) + np.bincount(table.second, as_black, n)) / dispersion


def _starting_point(table: PairTable, anchors: Mapping[str, float], start: LogisticFit | None) -> np.ndarray:
    """Ratings and white advantage to start Newton's method from."""
    if start is not None:
        return np.append(start.ratings, start.white)
    # Free players start at the anchors' average: Newton steps are capped, and a list anchored
    # at 3200 would otherwise need several of them just to get there.
    guess = float(np.mean(list(anchors.values()))) if anchors else CENTRE
    return np.array([anchors.get(name, guess) for name in table.players] + [0.0], dtype=np.float64)


def _prior(n: int, spread: float, anchored: bool) -> np.ndarray:
    """Precision matrix of the prior on (ratings, white advantage); its mean is CENTRE (white: 0).

    The population prior with its mean integrated out penalizes
    ``sum((r - mean(r))²) / (2 sd²)``: a precision ``(I - J/n) / sd²`` that
    no common shift of all ratings changes. Without anchors nothing else
    fixes that shift; adding ``J/n / sd²`` pins the average at CENTRE (and
    makes the whole a plain N(CENTRE, sd²) prior on each rating).
    """
    precision = np.zeros((n + 1, n + 1))
    if math.isfinite(spread) and n:
        block = np.eye(n) - np.full((n, n), 1.0 / n) if anchored else np.eye(n)
        precision[:n, :n] = block / spread**2
    precision[n, n] = 1.0 / WHITE_PRIOR_SD**2
    return precision


def _expected(table: PairTable, theta: np.ndarray) -> np.ndarray:
    """White's expected score in each row."""
    n = len(table.players)
    diff = (theta[table.first] - theta[table.second] + theta[n]) / SCALE
    return 0.5 * (1.0 + np.tanh(0.5 * diff))  # the logistic curve, without overflow for huge gaps


def _maximize(table: PairTable, theta: np.ndarray, free: np.ndarray, games: np.ndarray, points: np.ndarray,
              prior: np.ndarray) -> np.ndarray:
    """Newton's method on the log posterior over the ``free`` parameters, from ``theta``."""
    n = len(table.players)
    theta = theta.copy()
    centre = np.append(np.full(n, CENTRE), 0.0)
    for _ in range(100):
        if not len(free):
            break
        expected = _expected(table, theta)
        residual = (points - games * expected) / SCALE
        gradient = _scatter(table, residual, n) - prior @ (theta - centre)
        weight = games * expected * (1.0 - expected) / SCALE**2
        hessian = _information(table, weight, n) + prior
        h, g = hessian[np.ix_(free, free)], gradient[free]
        try:
            step = np.linalg.solve(h, g)
        except np.linalg.LinAlgError:
            step = np.linalg.lstsq(h, g, rcond=None)[0]
        # Newton steps, capped so a player with a perfect score cannot jump to infinity at once.
        step = np.clip(step, -400.0, 400.0)
        theta[free] += step
        if np.max(np.abs(step), initial=0.0) < 1e-7:
            break
    return theta


def _covariance(table: PairTable, theta: np.ndarray, free: np.ndarray, games: np.ndarray, prior: np.ndarray,
                dispersion: float, centred: bool) -> np.ndarray:
    """Posterior covariance of (ratings, white advantage): the inverse curvature at the peak.

    The likelihood treats a game as a coin flip (variance E(1-E)); draws make
    real scores vary less. Scaling the information by the observed variance
    over the modelled one (a quasi-likelihood dispersion) keeps intervals from
    being too wide when draws are common, or too narrow on a misfit.
    """
    n = len(table.players)
    expected = _expected(table, theta)
    weight = games * expected * (1.0 - expected) / SCALE**2
    hessian = _information(table, weight, n) / dispersion + prior
    covariance = np.zeros((n + 1, n + 1))
    covariance[np.ix_(free, free)] = np.linalg.pinv(hessian[np.ix_(free, free)])
    if centred:
        # Only differences are measured: report the uncertainty of each rating around the league mean.
        centre = np.eye(n + 1)
        centre[:n, :n] -= 1.0 / n
        covariance = centre @ covariance @ centre
    return covariance


def _dispersion(table: PairTable, theta: np.ndarray) -> float:
    """Observed variance of game scores over the variance the model assumes (1 for win/loss only)."""
    expected = _expected(table, theta)
    games, points = table.games, table.points
    squares = table.wins + table.draws / 4.0  # sum of squared scores over each row's games
    observed = np.sum(squares - 2.0 * expected * points + games * expected**2)
    modelled = np.sum(games * expected * (1.0 - expected))
    if modelled <= 0 or not np.isfinite(observed) or len(games) < 2:
        return 1.0
    # Above 1 the results vary more than the model expects (a misfit): the intervals widen too.
    return float(max(observed / modelled, 0.05))


def _scatter(table: PairTable, values: np.ndarray, n: int) -> np.ndarray:
    """Per-row values summed onto White (+), Black (-) and the white-advantage parameter (+)."""
    return np.append(np.bincount(table.first, values, n) - np.bincount(table.second, values, n), values.sum())


def _information(table: PairTable, weight: np.ndarray, n: int) -> np.ndarray:
    """The Fisher information of (ratings, white advantage): X'WX for rows e_white - e_black + e_adv."""
    information = np.zeros((n + 1, n + 1))
    np.add.at(information, (table.first, table.second), -weight)
    np.add.at(information, (table.second, table.first), -weight)
    diagonal = np.bincount(table.first, weight, n) + np.bincount(table.second, weight, n)
    information[np.arange(n), np.arange(n)] += diagonal
    cross = np.bincount(table.first, weight, n) - np.bincount(table.second, weight, n)
    information[n, :n] = information[:n, n] = cross
    information[n, n] = weight.sum()
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
