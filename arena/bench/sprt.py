"""What an SPRT costs: its error rates and the pairs it plays, on simulated matches of known strength.

Each simulated match is a sequence of colour-swapped pairs drawn from a
pentanomial distribution built from a per-game model:

* A plays each game with an advantage of ``x`` Elo, plus the opening's
  bias for White: ``+b`` with White, ``-b`` with Black, ``b ~ N(0,
  bias_sd)`` drawn once per pair (both games of a pair share the opening,
  which is what makes pairs, not games, the independent units);
* a game's win/draw/loss follow the BayesElo model with ``draw_elo``
  (``draw_elo=200`` draws about half the games between equals;
  :func:`draw_elo_for` finds the one for a given share of draws).

``x`` is solved for so that the pair distribution has exactly the requested
true Elo in the units of the test's model: logistic Elo of the expected
score, or nElo. The SPRT then runs pair by pair until it decides or reaches
``max_pairs``.

Fixed-length comparison. "The same precision" here means the fixed-sample
one-sided z-test with the same alpha and beta at the same two hypotheses:
it plays ``n = ((z_alpha + z_beta) * sigma / (mu1 - mu0))^2`` pairs, with
``mu`` the expected pair score under each hypothesis and ``sigma`` the
standard deviation of a pair's score. In the normalized model ``(mu_i -
1/2) / sigma`` is the hypothesis' t-value, so ``n = ((z_alpha + z_beta) /
(t1 - t0))^2`` needs no sigma; in the logistic model ``sigma`` is the
simulated distribution's at the midpoint ``(elo0 + elo1) / 2``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist
from typing import Sequence

import numpy as np

from arena.errors import ConfigError
from arena.rating.headtohead import (
    NELO_SCALE,
    PAIR_SCORES,
    SprtSpec,
    elo_to_score,
    llr_with_increments,
    pentanomial_nelo,
    score_to_elo,
)

#: Nodes of the Gauss-Hermite rule integrating over the opening bias (exact enough for smooth integrands).
BIAS_NODES = 24
#: Skip ahead at most (distance to the nearer bound) / (SAFETY * largest per-pair LLR step) pairs at once.
SAFETY = 2.0


@dataclass(frozen=True)
class SprtCostRow:
    """The SPRT's record on matches of one true Elo difference."""

    true_elo: float
    h1: float  #: share of runs that accepted H1
    h0: float  #: share that accepted H0
    undecided: float  #: share still running at ``max_pairs``
    mean_pairs: float
    median_pairs: float
    p90_pairs: float


@dataclass(frozen=True)
class SprtCost:
    """An SPRT's cost on simulated matches, beside the fixed-length test of the same precision."""

    spec: SprtSpec
    rows: tuple[SprtCostRow, ...]
    fixed_pairs: float  #: pairs the fixed-sample test with the same alpha, beta and hypotheses needs
    runs: int
    max_pairs: int
    seed: int
    draw_elo: float
    bias_sd: float


def sprt_cost(
    spec: SprtSpec,
    true_elos: Sequence[float] | None = None,
    runs: int = 500,
    seed: int = 1,
    max_pairs: int | None = None,
    draw_elo: float = 200.0,
    bias_sd: float = 60.0,
) -> SprtCost:
    """Run ``runs`` simulated SPRTs per true Elo (default: 0, elo0, elo1, 2 * elo1) and tally them.

    Rows come in increasing true Elo, each value once.

    ``true_elos`` are in the units of ``spec.model`` (nElo for normalized).
    ``max_pairs`` caps a run (default: ten times the fixed-length test's
    pairs). The same ``seed`` gives the same figures.
    """
    if true_elos is None:
        true_elos = (0.0, spec.elo0, spec.elo1, 2.0 * spec.elo1)
    true_elos = sorted({float(e) for e in true_elos})  # elo0 = 0 would repeat 0
    fixed = fixed_sample_pairs(spec, draw_elo, bias_sd)
    cap = int(max_pairs if max_pairs is not None else math.ceil(10 * fixed))
    rng = np.random.default_rng(seed)
    rows = []
    for elo in true_elos:
        advantage = solve_advantage(elo, spec.model, draw_elo, bias_sd)
        probabilities = pair_distribution(advantage, draw_elo, bias_sd)
        decisions, pairs = simulate_sprt(spec, probabilities, runs, cap, rng)
        rows.append(SprtCostRow(
            true_elo=elo,
            h1=float(np.mean(decisions == 1)),
            h0=float(np.mean(decisions == -1)),
            undecided=float(np.mean(decisions == 0)),
            mean_pairs=float(pairs.mean()),
            median_pairs=float(np.median(pairs)),
            p90_pairs=float(np.quantile(pairs, 0.9)),
        ))
    return SprtCost(spec, tuple(rows), fixed, runs, cap, seed, draw_elo, bias_sd)


def format_sprt_cost(cost: SprtCost) -> str:
    """A plain-text table of :func:`sprt_cost`'s figures, with the fixed-length comparison."""
    spec = cost.spec
    unit = "nElo" if spec.model == "normalized" else "Elo"
    lines = [
        f"SPRT {spec.describe()}: {cost.runs} runs per true {unit}, cap {cost.max_pairs} pairs, "
        f"seed {cost.seed}",
        f"(games: {100 * equal_draw_ratio(cost.draw_elo, cost.bias_sd):.1f}% draws between equals, BayesElo "
        f"draw_elo {cost.draw_elo:.1f}; opening bias sd {cost.bias_sd:g} Elo per pair)",
        f"fixed-length test with the same alpha/beta at elo0/elo1: {cost.fixed_pairs:.0f} pairs "
        f"({2 * cost.fixed_pairs:.0f} games)",
        f"{'true ' + unit:>10} {'H1':>7} {'H0':>7} {'open':>6} {'mean pairs':>11} {'median':>8} {'p90':>8} "
        f"{'mean/fixed':>11}",
    ]
    for row in cost.rows:
        lines.append(
            f"{row.true_elo:>10.2f} {100 * row.h1:>6.1f}% {100 * row.h0:>6.1f}% {100 * row.undecided:>5.1f}% "
            f"{row.mean_pairs:>11.0f} {row.median_pairs:>8.0f} {row.p90_pairs:>8.0f} "
            f"{row.mean_pairs / cost.fixed_pairs:>11.2f}"
        )
    return "\n".join(lines)


def fixed_sample_pairs(spec: SprtSpec, draw_elo: float = 200.0, bias_sd: float = 60.0) -> float:
    """Pairs a fixed-length one-sided z-test needs for the same alpha and beta at elo0 and elo1."""
    z = NormalDist().inv_cdf(1.0 - spec.alpha) + NormalDist().inv_cdf(1.0 - spec.beta)
    if spec.model == "normalized":
        t0, t1 = (math.sqrt(2.0) * elo / NELO_SCALE for elo in (spec.elo0, spec.elo1))
        return (z / (t1 - t0)) ** 2
    advantage = solve_advantage((spec.elo0 + spec.elo1) / 2, "logistic", draw_elo, bias_sd)
    middle = pair_distribution(advantage, draw_elo, bias_sd)
    mu = middle @ PAIR_SCORES
    sigma = math.sqrt(float(middle @ (PAIR_SCORES - mu) ** 2))
    return (z * sigma / (elo_to_score(spec.elo1) - elo_to_score(spec.elo0))) ** 2


def equal_draw_ratio(draw_elo: float, bias_sd: float = 60.0) -> float:
    """The share of games drawn between two equal players, openings' bias included."""
    nodes, weights = _bias_rule()
    return float(sum(w * _game(bias_sd * node, draw_elo)[1] for node, w in zip(nodes, weights)))


def draw_elo_for(draw_ratio: float, bias_sd: float = 60.0) -> float:
    """The BayesElo ``draw_elo`` that draws ``draw_ratio`` of the games between equals (bisection:
    draws grow with draw_elo, from none at 0)."""
    if not 0.0 < draw_ratio < 1.0:
        raise ConfigError(f"draw ratio {draw_ratio:g}: give a share of drawn games strictly between 0 and 1, "
                          "e.g. 0.5")
    low, high = 0.0, 4000.0  # draw_elo 4000 draws all but 1e-10 of the games
    for _ in range(80):
        middle = (low + high) / 2
        low, high = (middle, high) if equal_draw_ratio(middle, bias_sd) < draw_ratio else (low, middle)
    return (low + high) / 2


def pair_distribution(advantage: float, draw_elo: float = 200.0, bias_sd: float = 60.0) -> np.ndarray:
    """Probabilities of [LL, LD, WL+DD, WD, WW] for A, ``advantage`` Elo stronger per game."""
    nodes, weights = _bias_rule()
    total = np.zeros(5)
    for node, weight in zip(nodes, weights):
        bias = bias_sd * node
        first = _game(advantage + bias, draw_elo)  # A has White and the opening's bias
        second = _game(advantage - bias, draw_elo)  # A has Black: the bias helps B
        total += weight * np.convolve(first, second)  # [L, D, W] * [L, D, W]: pair points 0..2 by halves
    return total / total.sum()


def solve_advantage(target: float, model: str, draw_elo: float, bias_sd: float) -> float:
    """The per-game advantage whose pairs have Elo (or nElo) ``target``: bisection, as it is monotone."""
    def measure(advantage: float) -> float:
        p = pair_distribution(advantage, draw_elo, bias_sd)
        return pentanomial_nelo(p) if model == "normalized" else score_to_elo(float(p @ PAIR_SCORES))

    low, high = -1500.0, 1500.0
    for _ in range(80):
        middle = (low + high) / 2
        low, high = (middle, high) if measure(middle) < target else (low, middle)
    return (low + high) / 2


def simulate_sprt(
    spec: SprtSpec, probabilities: np.ndarray, runs: int, max_pairs: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Per run, the decision (1: H1, -1: H0, 0: none by ``max_pairs``) and the pairs played.

    Equivalent to checking the LLR after every pair, but cheaper: a run
    whose LLR is far from both bounds cannot cross within the next few
    pairs, since one pair moves the LLR by about log(p1/p0) of its cell at
    most. So a run jumps ahead by (distance to the nearer bound) / (2 x
    the largest such step) pairs, drawn at once as a multinomial (the
    same distribution as drawing them one by one), and near a bound it
    goes pair by pair. (Checked: over simulated sequences one pair never
    moved the LLR by more than that largest step, and runs checked after
    every pair gave the same error rates and lengths within noise.)
    """
    counts = np.zeros((runs, 5))
    pairs = np.zeros(runs, dtype=np.int64)
    decisions = np.zeros(runs, dtype=np.int64)
    active = np.arange(runs)
    steps = np.ones(runs, dtype=np.int64)
    while active.size:
        steps = np.minimum(steps, max_pairs - pairs[active])
        counts[active] += rng.multinomial(steps, probabilities)
        pairs[active] += steps
        value, increments = llr_with_increments(counts[active], spec)
        decisions[active] = np.where(value >= spec.upper, 1, np.where(value <= spec.lower, -1, 0))
        running = (decisions[active] == 0) & (pairs[active] < max_pairs)
        distance = np.minimum(spec.upper - value, value - spec.lower)
        largest = np.max(np.abs(increments), axis=1)
        steps = np.maximum(1, np.floor(distance / (SAFETY * largest))).astype(np.int64)[running]
        active = active[running]
    return decisions, pairs


def _bias_rule() -> tuple[np.ndarray, np.ndarray]:
    """Gauss-Hermite nodes (in standard deviations) and weights (summing to 1) over the opening bias."""
    nodes, weights = np.polynomial.hermite_e.hermegauss(BIAS_NODES)
    return nodes, weights / weights.sum()


def _game(advantage: float, draw_elo: float) -> np.ndarray:
    """[loss, draw, win] of one game for a player ``advantage`` Elo stronger (BayesElo's draw model)."""
    win = 1.0 / (1.0 + 10.0 ** ((draw_elo - advantage) / 400.0))
    loss = 1.0 / (1.0 + 10.0 ** ((draw_elo + advantage) / 400.0))
    return np.array([loss, 1.0 - win - loss, win])
