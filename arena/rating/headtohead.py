"""Head-to-head statistics of two players, and the sequential probability ratio test (SPRT) on them.

Everything here works from :class:`arena.GameResult` values alone, so it
gives the same answers on a league's games.jsonl, a PGN file or a simulation.

* :func:`head_to_head` summarizes the games of A against B: wins, draws and
  losses, the Elo difference with a 95% interval, the likelihood of
  superiority (LOS), the pentanomial counts of the colour-swapped pairs and
  the normalized Elo (nElo) of Van den Bergh's "Comments on normalized Elo".
* :func:`pairings_table` does that for every two players that met, and
  :func:`format_pairings` and :func:`write_pairings` print and write it
  (pairings.csv, .json and .md beside the standings).
* :func:`llr` and :func:`sprt_state` run the generalized SPRT (GSPRT) on
  pentanomial counts as fishtest and fastchess do: the log-likelihood ratio
  of the best multinomial pair distribution under H1 over the best under
  H0 (Van den Bergh, "Comparing the approximations for the generalized log
  likelihood ratio of a multinomial distribution" for the logistic model;
  "Comments on normalized Elo", section 4.1, for the normalized one).

Copies of a game (same players, colours and non-empty moves, see
:func:`arena.rating.standings.distinct_results`) count once, and so does a pair
whose two games are copies of an earlier pair's: a deterministic player
replaying the same game tells nothing new, so copies must not narrow an
interval or move the SPRT.
"""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from arena.errors import ConfigError
from arena.rating.model import Z95, GameResult
from arena.rating.standings import distinct_results, markdown_table, text_table

#: nElo per unit of (score - 0.5) / sigma for one game: 800 / ln 10, fastchess's and fishtest's scale.
NELO_SCALE = 800.0 / math.log(10.0)
#: A pair's score (A's points over both games, halved) for each pentanomial cell [LL, LD, WL+DD, WD, WW].
PAIR_SCORES = np.array([0.0, 0.25, 0.5, 0.75, 1.0])
#: fastchess's (and fishtest's) stand-in for an empty pentanomial cell: the MLE exists, logs stay finite.
EMPTY_CELL = 1e-3

Pentanomial = tuple[int, int, int, int, int]


# ---------------------------------------------------------------------------------------------------------
# Head to head
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HeadToHead:
    """Player ``a`` against player ``b``, everything from A's side.

    Counts after ``games`` are over the ``distinct`` games (copies removed);
    ``pairs`` is the number of distinct complete colour-swapped pairs behind
    ``pentanomial`` ([LL, LD, WL+DD, WD, WW]: pair scores 0, 0.5, 1, 1.5, 2
    for A). ``interval`` says where the variance of the Elo interval came
    from: ``"pentanomial"`` (pairs are the independent units; games outside
    complete pairs count as single units) or ``"trinomial"`` (no pairs).
    nElo comes from the pairs alone when there are any (as in fastchess),
    else from the games. Scores of 0% or 100% give large finite Elos.
    """

    a: str
    b: str
    games: int  #: all games between the two, copies included
    distinct: int  #: games that are not a copy of an earlier one
    wins: int
    draws: int
    losses: int
    pentanomial: Pentanomial
    pairs: int  #: distinct complete pairs (the sum of ``pentanomial``)
    elo: float
    elo_low: float
    elo_high: float
    nelo: float
    nelo_low: float
    nelo_high: float
    los: float  #: probability that A is the stronger, 0..1
    interval: str

    @property
    def points(self) -> float:
        """A's points over the distinct games."""
        return self.wins + 0.5 * self.draws

    @property
    def score(self) -> float:
        """A's points per distinct game, 0..1 (0.5 without games)."""
        return self.points / self.distinct if self.distinct else 0.5

    @property
    def draw_ratio(self) -> float:
        """Share of the distinct games drawn, 0..1."""
        return self.draws / self.distinct if self.distinct else 0.0

    @property
    def elo_error(self) -> float:
        """Half the width of the Elo interval (fastchess's "+/-")."""
        return (self.elo_high - self.elo_low) / 2.0

    @property
    def nelo_error(self) -> float:
        """Half the width of the nElo interval."""
        return (self.nelo_high - self.nelo_low) / 2.0

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict, derived figures included."""
        row = asdict(self)
        row["pentanomial"] = list(self.pentanomial)
        for name in ("points", "score", "draw_ratio", "elo_error", "nelo_error"):
            row[name] = getattr(self, name)
        return row


def head_to_head(results: Iterable[GameResult], a: str, b: str) -> HeadToHead:
    """The statistics of ``a`` against ``b`` over the games between the two in ``results``."""
    if a == b:
        raise ConfigError(f"head to head: give two different players, not {a!r} twice")
    between = [r for r in results if {r.white, r.black} == {a, b}]
    distinct = distinct_results(between)
    scores = np.array([_points_of(r, a) for r in distinct], dtype=np.float64)
    wins, draws = int(np.sum(scores == 1.0)), int(np.sum(scores == 0.5))
    losses = len(scores) - wins - draws
    penta, paired = _pentanomial(distinct, a)
    elo, nelo, interval = _estimates(scores, penta, paired)
    return HeadToHead(
        a=a, b=b, games=len(between), distinct=len(distinct), wins=wins, draws=draws, losses=losses,
        pentanomial=penta, pairs=sum(penta), elo=elo[0], elo_low=elo[1], elo_high=elo[2],
        nelo=nelo[0], nelo_low=nelo[1], nelo_high=nelo[2], los=los(wins, losses), interval=interval,
    )


def pairings_table(results: Iterable[GameResult], order: Sequence[str] = ()) -> list[HeadToHead]:
    """One :class:`HeadToHead` for every two players that met.

    Without ``order``, A is the first of the two by name and rows are sorted
    by names. With ``order`` (say, the standings, best first), A is the one
    listed first, so the figures read "the higher-placed player against the
    other", and rows follow that order; players it leaves out come after,
    by name.
    """
    results = list(results)
    rank = {name: index for index, name in enumerate(order)}

    def key(name: str) -> tuple[int, str]:
        return (rank.get(name, len(rank)), name)

    by_pair: dict[tuple[str, str], list[GameResult]] = {}
    for result in results:
        if result.white != result.black:  # self-play says nothing about anyone
            pair = tuple(sorted((result.white, result.black), key=key))
            by_pair.setdefault(pair, []).append(result)
    ordered = sorted(by_pair, key=lambda pair: (key(pair[0]), key(pair[1])))
    return [head_to_head(by_pair[pair], *pair) for pair in ordered]


#: The per-pairing files :func:`write_pairings` writes beside the standings.
PAIRINGS_FILES = ("pairings.csv", "pairings.json", "pairings.md")
#: Columns of the printed and Markdown tables.
PAIRINGS_HEADER = ("A", "B", "games", "distinct", "W-D-L", "score", "Elo", "95% interval", "nElo",
                   "95% interval", "LOS", "draws", "Ptnml(0-2)")
#: Columns of pairings.csv: one figure per cell, the pentanomial split into its five cells.
PAIRINGS_CSV_HEADER = ("a", "b", "games", "distinct", "wins", "draws", "losses", "points", "score", "elo",
                       "elo_low", "elo_high", "nelo", "nelo_low", "nelo_high", "los", "draw_ratio", "pairs",
                       "ptnml_ll", "ptnml_ld", "ptnml_wl_dd", "ptnml_wd", "ptnml_ww", "interval")


def format_pairings(rows: Sequence[HeadToHead]) -> str:
    """A plain-text table of head-to-head rows (one line each), from A's side."""
    return text_table([list(PAIRINGS_HEADER)] + [_pairing_cells(row) for row in rows], left={0, 1})


def write_pairings(folder: Path, rows: Sequence[HeadToHead]) -> list[Path]:
    """pairings.csv, pairings.json and pairings.md in ``folder``: one row per two players that met.

    The JSON holds :meth:`HeadToHead.to_dict` per row (``pairs`` 0: no
    pentanomial); the CSV leaves the pentanomial cells empty where no pair
    is complete, and the Markdown shows "-" there.
    """
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / name for name in PAIRINGS_FILES]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(PAIRINGS_CSV_HEADER)
    for row in rows:
        penta = list(row.pentanomial) if row.pairs else [""] * 5
        writer.writerow([
            row.a, row.b, row.games, row.distinct, row.wins, row.draws, row.losses, f"{row.points:g}",
            f"{row.score:.4f}", *(f"{value:.2f}" for value in (row.elo, row.elo_low, row.elo_high, row.nelo,
                                                               row.nelo_low, row.nelo_high)),
            f"{row.los:.4f}", f"{row.draw_ratio:.4f}", row.pairs, *penta, row.interval,
        ])
    paths[0].write_text(buffer.getvalue())
    paths[1].write_text(json.dumps([row.to_dict() for row in rows], indent=2) + "\n")
    paths[2].write_text(markdown_table([list(PAIRINGS_HEADER)] + [_pairing_cells(row) for row in rows]))
    return paths


def _pairing_cells(row: HeadToHead) -> list[str]:
    """One row of the printed and Markdown tables (see :data:`PAIRINGS_HEADER`)."""
    return [
        row.a, row.b, str(row.games), str(row.distinct), f"{row.wins}-{row.draws}-{row.losses}",
        f"{100 * row.score:.1f}%", f"{row.elo:.1f}", f"[{row.elo_low:.1f}, {row.elo_high:.1f}]",
        f"{row.nelo:.1f}", f"[{row.nelo_low:.1f}, {row.nelo_high:.1f}]", f"{100 * row.los:.1f}%",
        f"{100 * row.draw_ratio:.1f}%", _format_penta(row.pentanomial) if row.pairs else "-",
    ]


def los(wins: int, losses: int) -> float:
    """Likelihood of superiority: Phi((w - l) / sqrt(w + l)); draws say nothing about who is stronger."""
    if wins + losses == 0:
        return 0.5
    return 0.5 * (1.0 + math.erf((wins - losses) / math.sqrt(2.0 * (wins + losses))))


def score_to_elo(score: float) -> float:
    """The logistic Elo difference of an expected score strictly between 0 and 1."""
    return -400.0 * math.log10(1.0 / score - 1.0) + 0.0  # + 0.0: an even score is 0, not -0


def elo_to_score(elo: float) -> float:
    """The expected score of a player ``elo`` points stronger."""
    return 1.0 / (1.0 + 10.0 ** (-elo / 400.0))


def pentanomial_nelo(probabilities: Sequence[float]) -> float:
    """The nElo of a pentanomial distribution (probabilities of [LL, LD, WL+DD, WD, WW])."""
    p = np.asarray(probabilities, dtype=np.float64)
    p = p / p.sum()
    mu = float(p @ PAIR_SCORES)
    sigma = math.sqrt(float(p @ (PAIR_SCORES - mu) ** 2))
    # A pair is two games: its per-game sigma is sqrt(2) times the pair score's.
    return (mu - 0.5) / (math.sqrt(2.0) * sigma) * NELO_SCALE


def _points_of(result: GameResult, a: str) -> float:
    """A's points in one game."""
    if result.score not in (0.0, 0.5, 1.0):
        raise ConfigError(f"game {result.white} vs {result.black}: score {result.score} is not 1, 0.5 or 0")
    return result.score if result.white == a else 1.0 - result.score


def _pentanomial(distinct: Sequence[GameResult], a: str) -> tuple[Pentanomial, set[int]]:
    """Pentanomial counts over the complete pairs among ``distinct``, and the indices of the paired games.

    A pair is complete when its id has a game with A as White and one with A
    as Black. A pair both of whose games were copies was removed with them
    (``distinct`` has no copies), so it counts once. Should a pair id carry
    more games, they are paired in order, A-White with A-Black.
    """
    groups: dict[str, tuple[list[int], list[int]]] = {}
    for index, result in enumerate(distinct):
        if result.pair:
            white_games, black_games = groups.setdefault(result.pair, ([], []))
            (white_games if result.white == a else black_games).append(index)
    counts = [0, 0, 0, 0, 0]
    paired: set[int] = set()
    for white_games, black_games in groups.values():
        for first, second in zip(white_games, black_games):
            points = _points_of(distinct[first], a) + _points_of(distinct[second], a)
            counts[int(round(2 * points))] += 1
            paired.update((first, second))
    return (counts[0], counts[1], counts[2], counts[3], counts[4]), paired


def _estimates(
    scores: np.ndarray, penta: Pentanomial, paired: set[int]
) -> tuple[tuple[float, float, float], tuple[float, float, float], str]:
    """(Elo, low, high), (nElo, low, high) and the interval's source, from A's per-game points."""
    n = len(scores)
    if n == 0:
        return (0.0, -math.inf, math.inf), (0.0, -math.inf, math.inf), "trinomial"
    mean = float(scores.mean())
    game_var = max(float(scores.var()), _variance_floor(n, 0.5))
    pairs = sum(penta)
    if pairs:
        p = np.array(penta, dtype=np.float64) / pairs
        pair_mean = float(p @ PAIR_SCORES)
        pair_var = max(float(p @ (PAIR_SCORES - pair_mean) ** 2), _variance_floor(pairs, 0.25))
        single = n - len(paired)
        # Pairs are the independent units (their two games share an opening and are correlated);
        # games outside a complete pair count as single units with the per-game variance.
        # Var(total points) = pairs * Var(pair points) + single * Var(game points),
        # with pair points = 2 * pair score.
        mean_var = (pairs * 4.0 * pair_var + single * game_var) / n**2
        nelo = _nelo_interval(pair_mean, math.sqrt(2.0 * pair_var), math.sqrt(pair_var / pairs))
        source = "pentanomial"
    else:
        mean_var = game_var / n
        nelo = _nelo_interval(mean, math.sqrt(game_var), math.sqrt(mean_var))
        source = "trinomial"
    half = Z95 * math.sqrt(mean_var)
    # A score of 0 or 1 has an infinite Elo. The estimate stops half a game short of it (only a perfect
    # score gets that close); an interval bound stops much nearer, past where the normal approximation
    # means anything: finite, and no cap on a real interval.
    elo = (_clipped_elo(mean, 0.5 / (n + 1)), _clipped_elo(mean - half, 0.5 / (n + 1) ** 2),
           _clipped_elo(mean + half, 0.5 / (n + 1) ** 2))
    return elo, nelo, source


def _clipped_elo(score: float, edge: float) -> float:
    return score_to_elo(min(max(score, edge), 1.0 - edge))


def _nelo_interval(mean: float, sigma: float, se: float) -> tuple[float, float, float]:
    """nElo of a score ``mean`` with per-game deviation ``sigma``, and its 95% interval (se: the mean's)."""
    def nelo(s: float) -> float:
        return (s - 0.5) / sigma * NELO_SCALE

    return nelo(mean), nelo(mean - Z95 * se), nelo(mean + Z95 * se)


def _variance_floor(units: int, step: float) -> float:
    """A lower bound for an estimated variance, so that identical results give a finite interval.

    About the variance had one of ``units`` results differed by the
    smallest possible ``step``, so it only matters when (nearly) every
    result was the same: all wins, all draws.
    """
    return step**2 / (units + 1)


def _format_penta(penta: Sequence[int]) -> str:
    return "[" + ", ".join(str(int(c)) for c in penta) + "]"


# ---------------------------------------------------------------------------------------------------------
# SPRT
# ---------------------------------------------------------------------------------------------------------

MODELS = ("normalized", "logistic")


@dataclass(frozen=True)
class SprtSpec:
    """An SPRT of H0: elo = elo0 against H1: elo = elo1 with error rates alpha and beta.

    ``model`` says what the Elo bounds mean: ``"normalized"`` (nElo, the
    default of fastchess) or ``"logistic"`` (the usual Elo, through the
    expected score).
    """

    elo0: float
    elo1: float
    alpha: float = 0.05
    beta: float = 0.05
    model: str = "normalized"

    def __post_init__(self) -> None:
        for name in ("elo0", "elo1", "alpha", "beta"):
            if not math.isfinite(getattr(self, name)):
                raise ConfigError(f"sprt: {name} must be a finite number, not {getattr(self, name)!r}")
        if not self.elo1 > self.elo0:
            raise ConfigError(f"sprt: elo1 ({self.elo1:g}) must be greater than elo0 ({self.elo0:g})")
        for name in ("alpha", "beta"):
            if not 0.0 < getattr(self, name) < 0.5:
                raise ConfigError(
                    f"sprt: {name} must be between 0 and 0.5 (exclusive), not {getattr(self, name):g}"
                )
        if self.model not in MODELS:
            raise ConfigError(f"sprt: model must be one of {', '.join(MODELS)}, not {self.model!r}")

    @property
    def lower(self) -> float:
        """Accept H0 at or below this LLR: log(beta / (1 - alpha))."""
        return math.log(self.beta / (1.0 - self.alpha))

    @property
    def upper(self) -> float:
        """Accept H1 at or above this LLR: log((1 - beta) / alpha)."""
        return math.log((1.0 - self.beta) / self.alpha)

    def describe(self) -> str:
        """The spec in the form :func:`parse_sprt` reads."""
        return (f"elo0={self.elo0:g},elo1={self.elo1:g},alpha={self.alpha:g},beta={self.beta:g},"
                f"model={self.model}")


@dataclass(frozen=True)
class SprtState:
    """Where an SPRT stands: its LLR, the bounds, and ``"H0"``, ``"H1"`` or ``None`` (continue)."""

    llr: float
    lower: float
    upper: float
    decision: str | None


def parse_sprt(text: str) -> SprtSpec:
    """Read ``elo0=0,elo1=5[,alpha=0.05,beta=0.05,model=normalized]`` (spaces allowed, keys once each)."""
    values: dict[str, Any] = {}
    allowed = ("elo0", "elo1", "alpha", "beta", "model")
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        key, sep, value = (part.strip() for part in item.partition("="))
        if not sep or not value:
            raise ConfigError(f"sprt {text!r}: {item!r} is not key=value (e.g. elo0=0,elo1=5)")
        if key not in allowed:
            raise ConfigError(f"sprt {text!r}: unknown key {key!r}; the keys are {', '.join(allowed)}")
        if key in values:
            raise ConfigError(f"sprt {text!r}: {key} is given twice")
        if key == "model":
            values[key] = value
            continue
        try:
            values[key] = float(value)
        except ValueError:
            raise ConfigError(f"sprt {text!r}: {key}={value!r} is not a number") from None
    missing = [key for key in ("elo0", "elo1") if key not in values]
    if missing:
        raise ConfigError(f"sprt {text!r}: {' and '.join(missing)} missing (e.g. elo0=0,elo1=5)")
    return SprtSpec(**values)


def llr(pentanomial: Sequence[float], spec: SprtSpec) -> float:
    """The generalized log-likelihood ratio of H1 over H0 for pentanomial counts [LL, LD, WL+DD, WD, WW]."""
    counts = np.asarray(pentanomial, dtype=np.float64)
    if counts.shape != (5,) or np.any(counts < 0) or not np.all(np.isfinite(counts)):
        raise ConfigError(f"sprt: pentanomial counts must be five counts >= 0, not {list(pentanomial)!r}")
    return float(llr_batch(counts[None, :], spec)[0])


def sprt_state(pentanomial: Sequence[float], spec: SprtSpec) -> SprtState:
    """The LLR of ``pentanomial`` and the SPRT's decision on it (a bound reached counts as crossed)."""
    value = llr(pentanomial, spec)
    return SprtState(value, spec.lower, spec.upper, decide(value, spec))


def decide(value: float, spec: SprtSpec) -> str | None:
    """``"H1"`` at or above the upper bound, ``"H0"`` at or below the lower one, else ``None`` (continue)."""
    if value >= spec.upper:
        return "H1"
    if value <= spec.lower:
        return "H0"
    return None


def llr_batch(counts: np.ndarray, spec: SprtSpec) -> np.ndarray:
    """:func:`llr` of each row of a (k, 5) array of pentanomial counts, vectorized (for simulations)."""
    total, phat, increments = _llr_terms(counts, spec)
    return total * np.sum(phat * increments, axis=1)


def llr_with_increments(counts: np.ndarray, spec: SprtSpec) -> tuple[np.ndarray, np.ndarray]:
    """:func:`llr_batch`, and per row log(p1 / p0) of each cell: about what one more pair there adds."""
    total, phat, increments = _llr_terms(counts, spec)
    return total * np.sum(phat * increments, axis=1), increments


def _llr_terms(counts: np.ndarray, spec: SprtSpec) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The (regularized) pair count, the empirical distribution and log(p1 / p0) of the constrained MLEs."""
    counts = np.asarray(counts, dtype=np.float64)
    # An empty cell would make the constrained MLE sit on the simplex's edge; fastchess and
    # fishtest count it as 1e-3 pairs instead, and so do we, so that our LLR equals theirs.
    counts = np.where(counts == 0, EMPTY_CELL, counts)
    total = counts.sum(axis=1)
    phat = counts / total[:, None]
    if spec.model == "normalized":
        # nElo is per game: t = nElo / NELO_SCALE. A pair's score averages two games, so its sigma is a
        # game's over sqrt(2) and its t-value (mu - 1/2) / sigma is sqrt(2) times larger.
        t0, t1 = (math.sqrt(2.0) * elo / NELO_SCALE for elo in (spec.elo0, spec.elo1))
        # Both hypotheses in one batch: half the numpy calls, which is what a simulation's time goes to.
        k = len(phat)
        both = _mle_normalized(np.vstack([phat, phat]), np.repeat([t0, t1], k))
        p0, p1 = both[:k], both[k:]
    else:
        p0, p1 = _mle_score(phat, elo_to_score(spec.elo0)), _mle_score(phat, elo_to_score(spec.elo1))
    return total, phat, np.log(p1) - np.log(p0)


def _mle_score(phat: np.ndarray, s: float) -> np.ndarray:
    """The distribution closest to ``phat`` (maximum likelihood) whose expected pair score is ``s``.

    Lagrange: p_i = phat_i / (1 + theta (a_i - s)) with theta the root of
    sum phat_i (a_i - s) / (1 + theta (a_i - s)) = 0 (Van den Bergh,
    "Comparing the approximations...", Proposition 1.1).
    """
    phi = np.broadcast_to(PAIR_SCORES - s, phat.shape)
    theta = _solve_theta(phat, phi)
    return phat / (1.0 + theta[:, None] * phi)


def _mle_normalized(
    phat: np.ndarray, t: float | np.ndarray, tolerance: float = 1e-11, iterations: int = 200
) -> np.ndarray:
    """The maximum-likelihood distribution with (mu - 1/2) / sigma = ``t`` given the empirical ``phat``.

    ``t`` is one value for every row of ``phat``, or one per row.

    Van den Bergh, "Comments on normalized Elo", section 4.1: with mu and
    sigma of the current estimate p, phi_i = a_i - 1/2 - t sigma (1 + ((a_i
    - mu) / sigma)^2) / 2, and the next estimate is p_i = phat_i / (1 +
    theta phi_i), theta solving sum phat_i phi_i / (1 + theta phi_i) = 0;
    iterated from the uniform distribution to the fixed point.
    """
    p = np.full(phat.shape, 1.0 / phat.shape[1])
    t = np.broadcast_to(np.asarray(t, dtype=np.float64), (len(phat),))[:, None]
    for _ in range(iterations):
        mu = p @ PAIR_SCORES
        sigma = np.sqrt(np.sum(p * (PAIR_SCORES - mu[:, None]) ** 2, axis=1))
        z = (PAIR_SCORES - mu[:, None]) / sigma[:, None]
        phi = PAIR_SCORES - 0.5 - 0.5 * t * sigma[:, None] * (1.0 + z**2)
        theta = _solve_theta(phat, phi)
        new = phat / (1.0 + theta[:, None] * phi)
        change = np.max(np.abs(new - p))
        p = new
        if change < tolerance:
            break
    return p


def _solve_theta(phat: np.ndarray, phi: np.ndarray) -> np.ndarray:
    """Per row, the theta with f(theta) = sum phat phi / (1 + theta phi) = 0, on (-1/max phi, -1/min phi).

    f falls strictly from +inf to -inf there, so the root is unique. Near an
    end, where an empty (1e-3) cell puts the root, f has a pole that throws
    Newton off; f times (1 + theta min phi)(1 + theta max phi) has the same
    sign and root but no poles, so Newton steps go on that, safeguarded by
    bisection where a step leaves the bracket.
    """
    top, bottom = phi.max(axis=1), phi.min(axis=1)
    low, high = -1.0 / top, -1.0 / bottom
    theta = np.zeros(len(phat))
    for _ in range(100):
        ratio = phi / (1.0 + theta[:, None] * phi)
        f = np.sum(phat * ratio, axis=1)
        slope = -np.sum(phat * ratio**2, axis=1)
        low = np.where(f > 0, theta, low)
        high = np.where(f < 0, theta, high)
        g = (1.0 + theta * top) * (1.0 + theta * bottom)
        g_slope = top * (1.0 + theta * bottom) + bottom * (1.0 + theta * top)
        step = theta - f * g / (slope * g + f * g_slope)
        # Relative: theta can be large, where a fixed absolute tolerance would be below rounding.
        tolerance = 1e-12 * np.maximum(1.0, np.abs(theta))
        # At the root theta has just become a bracket end and the step stays there: keep it, don't bisect.
        accept = ((step > low) & (step < high)) | (np.abs(step - theta) <= tolerance)
        new = np.where(accept, step, 0.5 * (low + high))
        done = np.all(np.abs(new - theta) <= tolerance)
        theta = new
        if done:
            break
    return theta


# ---------------------------------------------------------------------------------------------------------
# Progress lines
# ---------------------------------------------------------------------------------------------------------


def format_progress(h2h: HeadToHead, state: SprtState | None = None, spec: SprtSpec | None = None) -> str:
    """fastchess-style progress lines for a head to head, with the LLR line when an SPRT runs.

    As in fastchess, with pairs the DrawRatio is the share of pairs scoring
    one point (WL+DD) and PairsRatio is (WW+WD) / (LD+LL); without pairs the
    DrawRatio is the share of games drawn. Counts are over distinct games.
    """
    penta = h2h.pentanomial
    if h2h.pairs:
        draw_ratio = penta[2] / h2h.pairs
        losing = penta[0] + penta[1]
        ratio = (penta[3] + penta[4]) / losing if losing else math.inf
        pairs_ratio = f", PairsRatio: {ratio:.2f}"
    else:
        draw_ratio, pairs_ratio = h2h.draw_ratio, ""
    lines = [
        f"Elo: {h2h.elo:.2f} +/- {h2h.elo_error:.2f}, nElo: {h2h.nelo:.2f} +/- {h2h.nelo_error:.2f}",
        f"LOS: {100 * h2h.los:.2f} %, DrawRatio: {100 * draw_ratio:.2f} %{pairs_ratio}",
        f"Games: {h2h.distinct}, Wins: {h2h.wins}, Losses: {h2h.losses}, Draws: {h2h.draws}, "
        f"Points: {h2h.points:.1f} ({100 * h2h.score:.2f} %)",
    ]
    if h2h.pairs:
        lines.append(f"Ptnml(0-2): {_format_penta(penta)}")
    if state is not None and spec is not None:
        lines.append(
            f"LLR: {state.llr:.2f} ({state.lower:.2f}, {state.upper:.2f}) [{spec.elo0:.2f}, {spec.elo1:.2f}]"
        )
    return "\n".join(lines)
