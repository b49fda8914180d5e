"""Built-in rating methods: ``glicko2`` (joint fit), ``glicko2_paper`` (the paper's procedure), ``bradley_terry``."""

from __future__ import annotations

from typing import Mapping, Sequence

import glicko2
import numpy as np

from arena import hookimpl
from arena.errors import ConfigError
from arena.ratings import Z95, GameResult, PairTable, Rater, Rating, fit_logistic


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


def _positive(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise ConfigError(f"option {name}={value!r} must be a positive number")
    return float(value)


class Glicko2Rater(Rater):
    """One order-independent Glicko-2 fit of all games at once, anchors held fixed.

    The ratings maximize the posterior of every game under the Glicko-2 model
    with its unrated-player prior (1500, RD ``prior_rd``); each RD is the
    posterior standard deviation, opponents' uncertainty included. The
    interval is rating +- 1.96 RD. Without anchors, ratings average 1500.
    """

    description = "joint Glicko-2 fit of all games, anchors fixed, 95% intervals from the posterior"

    def __init__(self, *, prior_rd: float = 350.0):
        self.prior_rd = _positive("prior_rd", prior_rd)

    def rate(self, results: Sequence[GameResult], anchors: Mapping[str, float]) -> list[Rating]:
        table = PairTable.from_results(results)
        values, covariance = fit_logistic(table, anchors, self.prior_rd)
        assert covariance is not None
        rd = np.sqrt(np.clip(np.diag(covariance), 0.0, None))
        return _ratings(table, values, values - Z95 * rd, values + Z95 * rd, anchors, rd)


class Glicko2PaperRater(Rater):
    """The paper's procedure: Glicko-2 updated after every game, in game order.

    Players start at ``rating``/``rd``/``volatility`` (1500/500/0.06), tau is
    0.5, anchors are fixed with RD 0. Uses the ``glicko2`` package as is: the
    result depends on the order of the games, as the paper's numbers do.
    """

    description = "the paper's sequential Glicko-2 (per-game updates, order-dependent)"

    def __init__(self, *, rating: float = 1500.0, rd: float = 500.0, volatility: float = 0.06, tau: float = 0.5):
        self.start = (float(rating), _positive("rd", rd), _positive("volatility", volatility))
        self.tau = _positive("tau", tau)

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


class BradleyTerryRater(Rater):
    """Maximum-likelihood Bradley-Terry (Elo) ratings with bootstrap intervals, like Ordo or BayesElo.

    The interval is the 2.5-97.5 percentile range of ``bootstrap`` refits on
    games resampled with replacement (seeded by ``seed``). A weak prior
    (``prior_sd``) keeps a perfect score finite. Without anchors, ratings
    average 1500.
    """

    description = "maximum-likelihood Elo (Bradley-Terry), bootstrap 95% intervals"

    def __init__(self, *, bootstrap: int = 200, seed: int = 0, prior_sd: float = 1000.0):
        if isinstance(bootstrap, bool) or not isinstance(bootstrap, int) or bootstrap < 10:
            raise ConfigError(f"option bootstrap={bootstrap!r} must be a whole number >= 10")
        self.bootstrap = bootstrap
        self.seed = seed
        self.prior_sd = _positive("prior_sd", prior_sd)

    def rate(self, results: Sequence[GameResult], anchors: Mapping[str, float]) -> list[Rating]:
        table = PairTable.from_results(results)
        values, _ = fit_logistic(table, anchors, self.prior_sd, with_covariance=False)
        # Resample whole games: one multinomial draw over every (pair, outcome) cell.
        counts = np.concatenate([table.wins, table.draws, table.losses])
        total = int(counts.sum())
        rng = np.random.default_rng(self.seed)
        pairs = len(table.wins)
        samples = np.empty((self.bootstrap, len(table.players)))
        for b in range(self.bootstrap):
            drawn = rng.multinomial(total, counts / total).astype(np.float64)
            wins, draws, losses = drawn[:pairs], drawn[pairs:2 * pairs], drawn[2 * pairs:]
            samples[b], _ = fit_logistic(
                table, anchors, self.prior_sd, wins + draws + losses, wins + 0.5 * draws, with_covariance=False
            )
        low, high = np.percentile(samples, [2.5, 97.5], axis=0)
        return _ratings(table, values, np.minimum(low, values), np.maximum(high, values), anchors)


@hookimpl
def register_raters(register):
    register("glicko2", Glicko2Rater)
    register("glicko2_paper", Glicko2PaperRater)
    register("bradley_terry", BradleyTerryRater)
