"""Head-to-head statistics and the SPRT (arena.rating.headtohead), and the SPRT cost benchmark (arena.bench.sprt)."""

from __future__ import annotations

import csv
import json
import math

import numpy as np
import pytest

from arena.errors import ConfigError
from arena.rating.headtohead import (
    NELO_SCALE,
    SprtSpec,
    decide,
    format_pairings,
    format_progress,
    head_to_head,
    llr,
    pairings_table,
    parse_sprt,
    pentanomial_nelo,
    score_to_elo,
    sprt_state,
    write_pairings,
)
from arena.rating.model import GameResult
from arena.bench.sprt import (
    draw_elo_for,
    equal_draw_ratio,
    fixed_sample_pairs,
    format_sprt_cost,
    pair_distribution,
    solve_advantage,
    sprt_cost,
)

Z = 1.959963984540054
#: A's points in the two games of a pair (A White first), for each pentanomial cell.
SPLIT = {0: (0.0, 0.0), 1: (0.5, 0.0), 2: (1.0, 0.0), 3: (1.0, 0.5), 4: (1.0, 1.0)}


def pairs_to_games(cells, a="A", b="B", prefix="p", moves=True, split=None):
    """Games of A against B making up pairs in the given pentanomial cells, each pair its own id and moves."""
    split = split or SPLIT
    games = []
    for index, cell in enumerate(cells):
        first, second = split[cell]
        pair = f"{prefix}{index}"
        tag = f"{pair}-" if moves else ""
        games.append(GameResult(a, b, first, moves=tag + "w" if moves else "", pair=pair))
        games.append(GameResult(b, a, 1.0 - second, moves=tag + "b" if moves else "", pair=pair))
    return games


def cells_of(counts):
    return [cell for cell, n in enumerate(counts) for _ in range(n)]


# ------------------------------------------------------------------------------------------------
# The LLR against fastchess
# ------------------------------------------------------------------------------------------------

# Reference LLRs computed by fastchess's own code: its app/src/matchmaking/sprt/sprt.cpp (from
# /work/shared/anchors/fastchess-src.tar.gz) compiled with a small C++ driver that sets the pentanomial
# counts of a Stats and prints SPRT::getLLR(stats, penta=true) with %.17g. (model, elo0, elo1, alpha,
# beta, [LL, LD, WL+DD, WD, WW], fastchess LLR)
FASTCHESS_LLR = [
    ("normalized", 0, 5, 0.05, 0.05, [10, 20, 40, 20, 10], -0.02070946702996683),
    ("normalized", 0, 5, 0.05, 0.05, [3, 30, 120, 40, 7], 0.45475046124951396),
    ("normalized", 0, 5, 0.05, 0.05, [200, 100, 50, 10, 0], -6.1139186200943572),
    ("normalized", 0, 5, 0.05, 0.05, [40, 20, 40, 20, 10], -0.94142448425567937),
    ("normalized", 0, 5, 0.05, 0.05, [0, 0, 0, 0, 1], 0.02015312086734897),
    ("normalized", 0, 2, 0.05, 0.05, [120, 400, 900, 420, 110], -0.064610372552522582),
    ("normalized", -1.75, 0.25, 0.05, 0.05, [0, 37, 203, 45, 0], 0.12848171310915013),
    # Printed by the fastchess binary itself as "LLR: 1.11" beside "Ptnml(0-2): [1, 1, 7, 16, 15]" in a
    # Stockfish 3000 vs 1500 nodes match with -sprt elo0=0 elo1=10 (the driver gives the digits).
    ("normalized", 0, 10, 0.05, 0.05, [1, 1, 7, 16, 15], 1.1130495927603923),
    ("logistic", 0, 5, 0.05, 0.05, [10, 20, 40, 20, 10], -0.034506632515927171),
    ("logistic", 0, 5, 0.05, 0.05, [40, 20, 40, 20, 10], -0.99791981068124258),
    ("logistic", 0, 5, 0.05, 0.05, [200, 100, 50, 10, 0], -5.2172948823253691),
    ("logistic", -3, 1, 0.05, 0.1, [3, 30, 120, 40, 7], 0.80526605834815279),
    ("logistic", 0, 2, 0.05, 0.05, [120, 400, 900, 420, 110], -0.14484202406152552),
    # fastchess printed "LLR: 2.95 ... H1 was accepted" at "Ptnml(0-2): [3, 5, 24, 6, 13]" (Stockfish
    # 2000 vs 1700 nodes, -sprt elo0=-10 elo1=30 model=logistic).
    ("logistic", -10, 30, 0.05, 0.05, [3, 5, 24, 6, 13], 2.950912015896852),
]


@pytest.mark.parametrize("model, elo0, elo1, alpha, beta, counts, expected", FASTCHESS_LLR)
def test_llr_equals_fastchess(model, elo0, elo1, alpha, beta, counts, expected):
    value = llr(counts, SprtSpec(elo0, elo1, alpha, beta, model))
    # fastchess iterates the normalized MLE to 1e-4 and stops its logistic root search at |d theta| <= 1e-3;
    # we solve both to convergence, so agreement is to those tolerances (about 1e-6 and 1e-3 in the LLR).
    assert value == pytest.approx(expected, abs=1e-6 if model == "normalized" else 1e-3)


def _reference_logistic_llr(counts, elo0, elo1):
    """An independent, plain implementation: bisection for the Lagrange multiplier, 1e-3 for empty cells."""
    n = np.where(np.asarray(counts, float) == 0, 1e-3, np.asarray(counts, float))
    phat, a = n / n.sum(), np.array([0, 0.25, 0.5, 0.75, 1.0])

    def best(s):
        lo, hi = -1 / (1 - s) + 1e-15, 1 / s - 1e-15
        for _ in range(200):
            mid = (lo + hi) / 2
            if np.sum(phat * (a - s) / (1 + mid * (a - s))) > 0:
                lo = mid
            else:
                hi = mid
        return phat / (1 + lo * (a - s))

    s0, s1 = (1 / (1 + 10 ** (-e / 400)) for e in (elo0, elo1))
    return n.sum() * np.sum(phat * np.log(best(s1) / best(s0)))


@pytest.mark.parametrize("counts", [[10, 20, 40, 20, 10], [200, 100, 50, 10, 0], [0, 1, 0, 3, 9],
                                    [5, 0, 0, 0, 50]])
def test_logistic_llr_equals_a_plain_implementation(counts):
    expected = _reference_logistic_llr(counts, -2, 7)
    assert llr(counts, SprtSpec(-2, 7, model="logistic")) == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize("model", ["normalized", "logistic"])
@pytest.mark.parametrize("counts", [[40, 20, 40, 20, 10], [3, 30, 120, 40, 7], [0, 4, 9, 2, 0]])
def test_llr_flips_sign_when_counts_and_hypotheses_are_mirrored(model, counts):
    forward = llr(counts, SprtSpec(0, 5, model=model))
    mirrored = llr(counts[::-1], SprtSpec(-5, 0, model=model))
    assert forward != 0
    assert mirrored == pytest.approx(-forward, rel=1e-9, abs=1e-12)


def test_llr_grows_with_evidence():
    spec = SprtSpec(0, 5)
    small, large = llr([10, 20, 40, 25, 15], spec), llr([100, 200, 400, 250, 150], spec)
    assert 0 < small < large


def test_bounds_and_decisions():
    spec = SprtSpec(0, 5, alpha=0.05, beta=0.1)
    assert spec.lower == pytest.approx(math.log(0.1 / 0.95))
    assert spec.upper == pytest.approx(math.log(0.9 / 0.05))
    assert decide(spec.upper, spec) == "H1"
    assert decide(spec.lower, spec) == "H0"
    assert decide(math.nextafter(spec.upper, 0), spec) is None
    assert decide(math.nextafter(spec.lower, 0), spec) is None
    assert sprt_state([200, 100, 50, 10, 0], SprtSpec(0, 5)).decision == "H0"
    assert sprt_state([0, 10, 50, 100, 200], SprtSpec(0, 5)).decision == "H1"
    state = sprt_state([10, 20, 40, 20, 10], SprtSpec(0, 5))
    assert state.decision is None and state.lower < state.llr < state.upper


def test_llr_rejects_bad_counts():
    with pytest.raises(ConfigError, match="five counts"):
        llr([1, 2, 3], SprtSpec(0, 5))
    with pytest.raises(ConfigError, match="five counts"):
        llr([1, 2, -3, 4, 5], SprtSpec(0, 5))


# ------------------------------------------------------------------------------------------------
# Parsing SPRT specs
# ------------------------------------------------------------------------------------------------


def test_parse_sprt_defaults_and_keys():
    assert parse_sprt("elo0=0,elo1=5") == SprtSpec(0, 5, 0.05, 0.05, "normalized")
    spaced = parse_sprt(" elo0 = -1.5, elo1=2 ,alpha=0.1,beta=0.2,model=logistic")
    assert spaced == SprtSpec(-1.5, 2, 0.1, 0.2, "logistic")
    spec = SprtSpec(0, 3, 0.02, 0.1, "logistic")
    assert parse_sprt(spec.describe()) == spec


@pytest.mark.parametrize("text, message", [
    ("elo0=0,elo1=5,gamma=1", "unknown key 'gamma'"),
    ("elo0=0,elo1=five", "'five' is not a number"),
    ("elo0=0", "elo1 missing"),
    ("elo1=5", "elo0 missing"),
    ("elo0=5,elo1=5", "elo1 .* must be greater than elo0"),
    ("elo0=5,elo1=0", "elo1 .* must be greater than elo0"),
    ("elo0=0,elo1=5,alpha=0.5", "alpha must be between 0 and 0.5"),
    ("elo0=0,elo1=5,beta=0", "beta must be between 0 and 0.5"),
    ("elo0=0,elo1=5,model=bayesian", "model must be one of normalized, logistic"),
    ("elo0=0,elo1=5,elo1=6", "elo1 is given twice"),
    ("elo0=0,elo1", "'elo1' is not key=value"),
    ("elo0=0,elo1=inf", "elo1 must be a finite number"),
])
def test_parse_sprt_errors(text, message):
    with pytest.raises(ConfigError, match=message):
        parse_sprt(text)


# ------------------------------------------------------------------------------------------------
# Head to head
# ------------------------------------------------------------------------------------------------


def test_trinomial_elo_and_los_by_hand():
    # 6 wins, 3 draws, 1 loss for A, no pairs known.
    scores = [1.0] * 6 + [0.5] * 3 + [0.0]
    games = [GameResult("A", "B", s) if i % 2 == 0 else GameResult("B", "A", 1 - s)
             for i, s in enumerate(scores)]
    h = head_to_head(games, "A", "B")
    assert (h.games, h.distinct, h.wins, h.draws, h.losses, h.pairs) == (10, 10, 6, 3, 1, 0)
    assert h.score == 0.75 and h.draw_ratio == pytest.approx(0.3)
    variance = (6 * 0.25**2 + 3 * 0.25**2 + 1 * 0.75**2) / 10  # per game, around the mean 0.75
    se = math.sqrt(variance / 10)
    elo = lambda s: -400 * math.log10(1 / s - 1)  # noqa: E731
    assert h.elo == pytest.approx(400 * math.log10(3))
    assert h.elo_low == pytest.approx(elo(0.75 - Z * se))
    assert h.elo_high == pytest.approx(elo(0.75 + Z * se))
    assert h.nelo == pytest.approx(0.25 / math.sqrt(variance) * 800 / math.log(10))
    assert h.nelo_error == pytest.approx(Z / math.sqrt(10) * 800 / math.log(10))
    # LOS = Phi((w - l) / sqrt(w + l)) = Phi(5 / sqrt(7)).
    assert h.los == pytest.approx(0.5 * (1 + math.erf(5 / math.sqrt(7) / math.sqrt(2))))
    assert h.interval == "trinomial"


def test_pentanomial_figures_equal_fastchess_output():
    # fastchess printed, for "Ptnml(0-2): [1, 1, 7, 16, 15]": "Elo: 208.68 +/- 72.51, nElo: 283.25 +/- 76.13";
    # for [3, 5, 24, 6, 13]: "Elo: 72.57 +/- 57.37, nElo: 88.69 +/- 67.43".
    for counts, figures in (([1, 1, 7, 16, 15], (208.68, 72.51, 283.25, 76.13)),
                            ([3, 5, 24, 6, 13], (72.57, 57.37, 88.69, 67.43))):
        h = head_to_head(pairs_to_games(cells_of(counts)), "A", "B")
        assert list(h.pentanomial) == counts and h.interval == "pentanomial"
        assert (h.elo, h.elo_error, h.nelo, h.nelo_error) == pytest.approx(figures, abs=0.006)


def test_pentanomial_elo_by_hand():
    counts = [1, 2, 3, 2, 2]
    h = head_to_head(pairs_to_games(cells_of(counts)), "A", "B")
    pair_scores = np.repeat([0, 0.25, 0.5, 0.75, 1.0], counts)
    mu, var = pair_scores.mean(), pair_scores.var()
    se = math.sqrt(var / 10)
    assert h.score == pytest.approx(mu)
    assert h.elo_low == pytest.approx(score_to_elo(mu - Z * se))
    assert h.elo_high == pytest.approx(score_to_elo(mu + Z * se))
    assert h.nelo == pytest.approx((mu - 0.5) / math.sqrt(2 * var) * NELO_SCALE)
    # The pentanomial interval is narrower than the trinomial one of the same games here: WL pairs
    # (one win, one loss on the same opening) vary less than their two games do.
    unpaired = [GameResult(r.white, r.black, r.score) for r in pairs_to_games(cells_of(counts))]
    trinomial = head_to_head(unpaired, "A", "B")
    assert trinomial.interval == "trinomial"
    assert h.elo_error < trinomial.elo_error


def test_pentanomial_counts_from_both_sides_and_incomplete_pairs():
    games = pairs_to_games([0, 1, 2, 2, 3, 4, 4])
    games.append(GameResult("A", "B", 1.0, moves="lonely", pair="p-lonely"))  # its second game is missing
    h = head_to_head(games, "A", "B")
    assert h.pentanomial == (1, 1, 2, 1, 2)
    assert h.pairs == 7 and h.distinct == 15 and h.wins == 2 + 1 + 4 + 1  # the lone win counts too
    assert head_to_head(games, "B", "A").pentanomial == (2, 1, 2, 1, 1)  # B's side mirrors A's
    # Pairs with the same id but other players do not mix in.
    others = games + [GameResult("A", "C", 0.0, moves="x", pair="p0"),
                      GameResult("C", "A", 1.0, moves="y", pair="p0")]
    assert head_to_head(others, "A", "B").pentanomial == h.pentanomial
    assert head_to_head(others, "A", "C").pentanomial == (1, 0, 0, 0, 0)


def test_copies_count_once_and_do_not_narrow_the_interval():
    base = pairs_to_games([0, 1, 2, 2, 3, 4, 2, 3])
    copied_pair = base[8:10]
    with_copies = base + copied_pair * 10
    one, many = head_to_head(base, "A", "B"), head_to_head(with_copies, "A", "B")
    assert many.games == 36 and many.distinct == 16
    assert many.pentanomial == one.pentanomial
    bounds = lambda h: (h.elo_low, h.elo_high, h.nelo_low, h.nelo_high)  # noqa: E731
    assert bounds(many) == bounds(one)
    # The same games under a new pair id (e.g. a second import) count once too.
    renamed = [GameResult(r.white, r.black, r.score, moves=r.moves, pair="again") for r in copied_pair]
    assert head_to_head(base + renamed, "A", "B").pentanomial == one.pentanomial
    # One pair, ten times over: the same width as once.
    single = pairs_to_games([3])
    assert head_to_head(single * 10, "A", "B").elo_error == head_to_head(single, "A", "B").elo_error
    # Games without moves cannot be recognized as copies: all of them count.
    blind = pairs_to_games([3], moves=False)
    assert head_to_head(blind * 10, "A", "B").pentanomial == (0, 0, 0, 10, 0)


@pytest.mark.parametrize("score", [1.0, 0.0, 0.5])
def test_perfect_and_all_draw_scores_are_finite(score):
    games = [GameResult("A", "B", score) for _ in range(10)]
    h = head_to_head(games, "A", "B")
    for value in (h.elo, h.elo_low, h.elo_high, h.nelo, h.nelo_low, h.nelo_high):
        assert math.isfinite(value)
    assert h.elo_low < h.elo_high
    if score == 1.0:
        assert h.elo > 400 and h.los > 0.99
    assert head_to_head(pairs_to_games([4] * 5), "A", "B").elo > 400


def test_pairings_table_and_formatting():
    games = pairs_to_games([4, 3, 2], a="Zed", b="Amy") + pairs_to_games([0, 2], a="Bob", b="Amy", prefix="q")
    games.append(GameResult("Amy", "Amy", 1.0))  # self-play says nothing about anyone
    rows = pairings_table(games)
    assert [(r.a, r.b) for r in rows] == [("Amy", "Bob"), ("Amy", "Zed")]
    assert rows[1].pentanomial == (1, 1, 1, 0, 0)  # Amy's side of Zed's WW, WD, WL
    text = format_pairings(rows)
    assert text.splitlines()[0].split()[:4] == ["A", "B", "games", "distinct"]
    assert "[1, 1, 1, 0, 0]" in text and len(text.splitlines()) == 3
    row = rows[0].to_dict()
    assert row["pentanomial"] == [0, 0, 1, 0, 1] and row["score"] == pytest.approx(0.75)
    with pytest.raises(ConfigError):
        head_to_head(games, "Amy", "Amy")


def test_pairings_follow_a_given_order():
    games = pairs_to_games([4, 3, 2], a="Zed", b="Amy") + pairs_to_games([0, 2], a="Bob", b="Amy", prefix="q")
    games.append(GameResult("Cy", "Amy", 0.0))
    rows = pairings_table(games, order=["Zed", "Bob", "Amy"])  # Cy is left out: last
    assert [(r.a, r.b) for r in rows] == [("Zed", "Amy"), ("Bob", "Amy"), ("Amy", "Cy")]
    assert rows[0].pentanomial == (0, 0, 1, 1, 1) and rows[0].wins == 4  # Zed's side now
    by_name = {(r.a, r.b): r for r in pairings_table(games)}
    assert rows[0].elo == pytest.approx(-by_name[("Amy", "Zed")].elo)


def test_write_pairings_files(tmp_path):
    games = pairs_to_games([4, 3, 2], a="Zed", b="Amy") + [GameResult("Bob", "Amy", 0.5)]
    rows = pairings_table(games)
    paths = write_pairings(tmp_path / "out", rows)
    assert [path.name for path in paths] == ["pairings.csv", "pairings.json", "pairings.md"]
    with open(paths[0]) as handle:
        table = list(csv.DictReader(handle))
    assert [(r["a"], r["b"], r["games"], r["wins"], r["draws"], r["losses"], r["pairs"]) for r in table] == [
        ("Amy", "Bob", "1", "0", "1", "0", "0"), ("Amy", "Zed", "6", "1", "1", "4", "3")]
    assert [table[1][f"ptnml_{c}"] for c in ("ll", "ld", "wl_dd", "wd", "ww")] == ["1", "1", "1", "0", "0"]
    assert table[0]["ptnml_ww"] == "" and float(table[0]["draw_ratio"]) == 1.0
    assert float(table[1]["elo_low"]) < float(table[1]["elo"]) < float(table[1]["elo_high"]) < 0
    assert json.loads(paths[1].read_text()) == [row.to_dict() for row in rows]
    markdown = paths[2].read_text().splitlines()
    assert len(markdown) == 4 and markdown[1] == "|" + "---|" * 13
    assert markdown[3].startswith("| Amy | Zed | 6 | 6 | 1-1-4 | 25.0% |")
    assert "| [1, 1, 1, 0, 0] |" in markdown[3]


def test_format_progress_matches_fastchess_lines():
    # The fastchess match above ended at Ptnml [3, 5, 24, 6, 13] with Wins 56, Losses 35, Draws 11, so its
    # 24 one-point pairs were all win-loss. fastchess printed (LOS aside, see below):
    #   Elo: 72.57 +/- 57.37, nElo: 88.69 +/- 67.43
    #   LOS: 99.50 %, DrawRatio: 47.06 %, PairsRatio: 2.38
    #   Games: 102, Wins: 56, Losses: 35, Draws: 11, Points: 61.5 (60.29 %)
    #   Ptnml(0-2): [3, 5, 24, 6, 13], WL/DD Ratio: inf
    #   LLR: 2.95 (100.2%) (-2.94, 2.94) [-10.00, 30.00]
    games = pairs_to_games(cells_of([3, 5, 24, 6, 13]))
    h = head_to_head(games, "A", "B")
    spec = parse_sprt("elo0=-10,elo1=30,model=logistic")
    state = sprt_state(h.pentanomial, spec)
    lines = format_progress(h, state, spec).splitlines()
    assert lines[0] == "Elo: 72.57 +/- 57.37, nElo: 88.69 +/- 67.43"
    # fastchess's LOS is the normal approximation on the pair score; ours is Phi((w - l) / sqrt(w + l)).
    assert lines[1] == f"LOS: {100 * h.los:.2f} %, DrawRatio: 47.06 %, PairsRatio: 2.38"
    assert lines[2] == "Games: 102, Wins: 56, Losses: 35, Draws: 11, Points: 61.5 (60.29 %)"
    assert lines[3] == "Ptnml(0-2): [3, 5, 24, 6, 13]"
    assert lines[4] == "LLR: 2.95 (-2.94, 2.94) [-10.00, 30.00]"
    assert state.decision == "H1"
    assert len(format_progress(h).splitlines()) == 4  # no SPRT, no LLR line


# ------------------------------------------------------------------------------------------------
# Simulations with known truth
# ------------------------------------------------------------------------------------------------


def test_pentanomial_intervals_cover_the_truth_about_95_percent():
    rng = np.random.default_rng(11)
    p = pair_distribution(solve_advantage(15.0, "normalized", 200.0, 60.0))
    true_nelo = pentanomial_nelo(p)
    true_elo = score_to_elo(float(p @ np.array([0, 0.25, 0.5, 0.75, 1.0])))
    assert true_nelo == pytest.approx(15.0, abs=1e-6)
    nelo_hits = elo_hits = 0
    matches = 300
    for match in range(matches):
        cells = rng.choice(5, size=100, p=p)
        h = head_to_head(pairs_to_games(cells, prefix=f"m{match}-"), "A", "B")
        nelo_hits += h.nelo_low <= true_nelo <= h.nelo_high
        elo_hits += h.elo_low <= true_elo <= h.elo_high
    assert 0.9 <= nelo_hits / matches <= 0.99
    assert 0.9 <= elo_hits / matches <= 0.99


@pytest.mark.parametrize("model", ["normalized", "logistic"])
def test_sprt_error_rates_in_a_small_simulation(model):
    spec = SprtSpec(0, 30, model=model)  # wide, so that a run takes a few hundred pairs
    runs = 300
    cost = sprt_cost(spec, true_elos=(0, 30), runs=runs, seed=3)
    at_elo0, at_elo1 = cost.rows
    noise = 3 * math.sqrt(0.05 * 0.95 / runs)  # three binomial standard errors
    assert at_elo0.h1 <= spec.alpha + noise
    assert at_elo1.h0 <= spec.beta + noise
    assert at_elo0.h0 > 0.8 and at_elo1.h1 > 0.8  # and it mostly decides the right way
    assert at_elo0.undecided == 0
    # The SPRT needs fewer pairs on average than the fixed-length test of the same error rates.
    assert at_elo0.mean_pairs < cost.fixed_pairs and at_elo1.mean_pairs < cost.fixed_pairs
    assert "fixed-length test" in format_sprt_cost(cost)


def test_fixed_sample_pairs_by_hand():
    spec = SprtSpec(0, 5, alpha=0.05, beta=0.05)
    t1 = math.sqrt(2) * 5 / NELO_SCALE
    assert fixed_sample_pairs(spec) == pytest.approx((2 * 1.6448536269514722 / t1) ** 2)


@pytest.mark.parametrize("bias_sd", [0.0, 60.0])
@pytest.mark.parametrize("ratio", [0.05, 0.5, 0.9])
def test_draw_elo_for_a_draw_ratio(ratio, bias_sd):
    draw_elo = draw_elo_for(ratio, bias_sd)
    assert equal_draw_ratio(draw_elo, bias_sd) == pytest.approx(ratio, abs=1e-9)
    p = pair_distribution(0.0, draw_elo, bias_sd)
    assert p[2] >= ratio**2  # a DD pair is in the WL+DD cell


def test_draw_ratio_by_hand_and_out_of_range():
    # Between equals without opening bias, BayesElo's draw share is 1 - 2 / (1 + 10^(draw_elo / 400)).
    assert equal_draw_ratio(200.0, 0.0) == pytest.approx(1 - 2 / (1 + 10**0.5))
    assert equal_draw_ratio(200.0, 60.0) < equal_draw_ratio(200.0, 0.0)  # a biased opening decides more games
    for ratio in (0.0, 1.0, -0.2):
        with pytest.raises(ConfigError, match="strictly between 0 and 1"):
            draw_elo_for(ratio)


def test_sprt_cost_is_reproducible_and_capped():
    spec = SprtSpec(0, 20)
    first = sprt_cost(spec, true_elos=(10,), runs=20, seed=5, max_pairs=50)
    assert first == sprt_cost(spec, true_elos=(10,), runs=20, seed=5, max_pairs=50)
    assert first.rows[0].undecided > 0 and first.rows[0].mean_pairs <= 50
