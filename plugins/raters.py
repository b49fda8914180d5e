"""Built-in rating methods: ``glicko2`` (joint fit), ``glicko2_paper`` (the paper's procedure), ``bradley_terry``."""

from __future__ import annotations

from typing import Annotated, Mapping, Sequence

import glicko2
import numpy as np
from pydantic import Field

from arena import hookimpl
from arena.options import checked_options
from arena.rating.model import (Z95, GameResult, LogisticFit, PairTable, Rater, Rating, WhiteAdvantage,
                           fit_logistic, intervals)


def _ratings(table: PairTable, values: np.ndarray, low: np.ndarray, high: np.ndarray,
             anchors: Mapping[str, float], rd: np.ndarray | None = None) -> list[Rating]:
    played, scored = table.per_player()
    rows = []
    for i, name in enumerate(table.players):
        anchored = name in anchors
        rows.append(Rating(
            player=name,
            rating=float(values[i]),
            low=float(values[i] if anchored else low[i]),
            high=float(values[i] if anchored else high[i]),
            games=int(played[i]),
            score=float(scored[i] / played[i]) if played[i] else 0.0,
            rd=None if rd is None else (0.0 if anchored else float(rd[i])),
            anchored=anchored,
        ))
    return sorted(rows, key=lambda row: -row.rating)


#: Spread of the population prior (see arena.rating.model): weak, so the games decide wherever they can.
PRIOR_SD = 1000.0

PriorSD = Annotated[float, Field(gt=0, description="spread of the population prior, in rating points")]
WhiteAdvantageOption = Annotated[bool, Field(description="fit White's first-move advantage too")]


@checked_options
class Glicko2Rater(Rater):
    """One order-independent fit of all games at once under the Glicko-2 (logistic) model, anchors fixed.

    The ratings maximize the posterior of every game, each player drawn from
    a population N(mu, ``prior_rd``²) whose mean is integrated out (see
    arena.rating.model: the prior follows the anchors' scale). Each RD is the
    posterior standard deviation, opponents' and the population mean's
    uncertainty included, rescaled by how much scores really vary. The
    interval is rating +- 1.96 RD where the posterior is near normal, and
    follows its skew for a perfect score or a few games
    (arena.rating.model.intervals). With ``white_advantage`` (the default)
    White's first-move advantage is fitted too, and after :meth:`rate` the
    attribute ``white_advantage`` holds it with its interval: on lists whose
    colours are not balanced, ignoring it biases the ratings; on balanced
    leagues it costs nothing. Without anchors, ratings average 1500.
    """

    description = "joint Glicko-2 fit of all games, anchors fixed, 95% intervals from the posterior"

    def __init__(self, *, prior_rd: PriorSD = PRIOR_SD, white_advantage: WhiteAdvantageOption = True):
        self.prior_rd = prior_rd
        self.fit_white = white_advantage
        self.white_advantage = None

    def rate(self, results: Sequence[GameResult], anchors: Mapping[str, float]) -> list[Rating]:
        table = PairTable.from_results(results)
        fit = fit_logistic(table, anchors, self.prior_rd, white_advantage=self.fit_white)
        assert fit.covariance is not None
        rd = np.sqrt(np.clip(np.diag(fit.covariance), 0.0, None))
        self.white_advantage = None
        if self.fit_white and fit.white_rd is not None:
            self.white_advantage = WhiteAdvantage(fit.white, fit.white - Z95 * fit.white_rd,
                                                  fit.white + Z95 * fit.white_rd, fit.white_rd)
        low, high = intervals(table, fit, anchors, self.prior_rd)
        return _ratings(table, fit.ratings, low, high, anchors, rd)


@checked_options
class Glicko2PaperRater(Rater):
    """The paper's procedure: Glicko-2 updated after every game, in game order.

    Players start at ``rating``/``rd``/``volatility`` (1500/500/0.06), tau is
    0.5, anchors are fixed with RD 0. Uses the ``glicko2`` package as is: the
    result depends on the order of the games, as the paper's numbers do.
    """

    description = "the paper's sequential Glicko-2 (per-game updates, order-dependent)"

    def __init__(
        self,
        *,
        rating: Annotated[float, Field(description="every player's starting rating")] = 1500.0,
        rd: Annotated[float, Field(gt=0, description="every player's starting rating deviation")] = 500.0,
        volatility: Annotated[float, Field(gt=0, description="every player's starting volatility")] = 0.06,
        tau: Annotated[float, Field(gt=0, description="Glicko-2's system constant")] = 0.5,
    ):
        self.start = (rating, rd, volatility)
        self.tau = tau

    def rate(self, results: Sequence[GameResult], anchors: Mapping[str, float]) -> list[Rating]:
        state: dict[str, glicko2.Player] = {}

        def player(name: str) -> glicko2.Player:
            if name not in state:
                state[name] = glicko2.Player(*self.start)
                state[name]._tau = self.tau  # the package keeps tau as a class attribute
            return state[name]

        def before(name: str) -> tuple[float, float]:
            return (anchors[name], 0.0) if name in anchors else (player(name).rating, player(name).rd)

        for result in results:
            white, black = before(result.white), before(result.black)
            # Both sides are updated from the ratings they had before the game.
            if result.white not in anchors:
                player(result.white).update_player([black[0]], [black[1]], [result.score])
            if result.black not in anchors:
                player(result.black).update_player([white[0]], [white[1]], [1.0 - result.score])
        table = PairTable.from_results(results)
        values = np.array([before(name)[0] for name in table.players])
        rd = np.array([before(name)[1] for name in table.players])
        return _ratings(table, values, values - Z95 * rd, values + Z95 * rd, anchors, rd)


@checked_options
class BradleyTerryRater(Rater):
    """Maximum-likelihood Bradley-Terry (Elo) ratings with bootstrap intervals, like Ordo or BayesElo.

    The interval is the 2.5-97.5 percentile range of ``bootstrap`` refits on
    games resampled with replacement (seeded by ``seed``). A weak population
    prior (``prior_sd``, centred where the games put the population, see
    arena.rating.model) keeps a perfect score finite. With ``white_advantage``
    (the default) White's advantage is fitted too, like Ordo's ``-W``, and
    after :meth:`rate` the attribute ``white_advantage`` holds it with its
    bootstrap interval. Without anchors, ratings average 1500.
    """

    description = "maximum-likelihood Elo (Bradley-Terry), bootstrap 95% intervals"

    def __init__(
        self,
        *,
        bootstrap: Annotated[int, Field(ge=10, description="refits on resampled games for the intervals")] = 200,
        seed: Annotated[int, Field(description="seed of the resampling")] = 0,
        prior_sd: PriorSD = PRIOR_SD,
        white_advantage: WhiteAdvantageOption = True,
    ):
        self.bootstrap = bootstrap
        self.seed = seed
        self.prior_sd = prior_sd
        self.fit_white = white_advantage
        self.white_advantage = None

    def rate(self, results: Sequence[GameResult], anchors: Mapping[str, float]) -> list[Rating]:
        table = PairTable.from_results(results)
        fit = fit_logistic(table, anchors, self.prior_sd, with_covariance=False,
                           white_advantage=self.fit_white)
        samples, whites = self._resample(table, anchors, fit)
        low, high = np.percentile(samples, [2.5, 97.5], axis=0)
        self.white_advantage = None
        if self.fit_white:
            white_low, white_high = np.percentile(whites, [2.5, 97.5])
            self.white_advantage = WhiteAdvantage(fit.white, float(min(white_low, fit.white)),
                                                  float(max(white_high, fit.white)), float(np.std(whites)))
        low, high = np.minimum(low, fit.ratings), np.maximum(high, fit.ratings)
        return _ratings(table, fit.ratings, low, high, anchors)

    def _resample(self, table: PairTable, anchors: Mapping[str, float],
                  fit: LogisticFit) -> tuple[np.ndarray, np.ndarray]:
        """Ratings and white advantages of ``bootstrap`` refits on resampled games."""
        # Resample whole games: one multinomial draw over every (pair, colours, outcome) cell.
        counts = np.concatenate([table.wins, table.draws, table.losses])
        total = int(counts.sum())
        rng = np.random.default_rng(self.seed)
        rows = len(table.wins)
        samples = np.empty((self.bootstrap, len(table.players)))
        whites = np.empty(self.bootstrap)
        for b in range(self.bootstrap):
            drawn = rng.multinomial(total, counts / total).astype(np.float64) if total else counts
            wins, draws, losses = drawn[:rows], drawn[rows:2 * rows], drawn[2 * rows:]
            refit = fit_logistic(table, anchors, self.prior_sd, wins + draws + losses, wins + 0.5 * draws,
                                 with_covariance=False, white_advantage=self.fit_white, start=fit)
            samples[b], whites[b] = refit.ratings, refit.white
        return samples, whites


@hookimpl
def register_raters(register):
    register("glicko2", Glicko2Rater)
    register("glicko2_paper", Glicko2PaperRater)
    register("bradley_terry", BradleyTerryRater)
