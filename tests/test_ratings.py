"""Raters: the glicko2 package against Glickman's example, joint fits against known truths."""

from __future__ import annotations

import json
import math
import random

import glicko2
import pytest

from arena import ConfigError
from arena.rating.model import CENTRE, GameResult, parse_anchor
from arena.rating.simulation import Accuracy, measure_coverage, simulate_league, simulate_rating_list
from arena_plugins.raters import BradleyTerryRater, Glicko2PaperRater, Glicko2Rater
from conftest import run_arena

import numpy as np


def by_player(ratings):
    return {rating.player: rating for rating in ratings}


def test_glicko2_package_reproduces_glickmans_worked_example():
    player = glicko2.Player(1500, 200, 0.06)
    player.update_player([1400, 1550, 1700], [30, 100, 300], [1, 0, 0])
    # Glickman's paper rounds mu' to -0.2069 before converting: 1464.06; unrounded it is 1464.05.
    assert player.rating == pytest.approx(1464.06, abs=0.02)
    assert player.rd == pytest.approx(151.52, abs=0.01)
    assert player.vol == pytest.approx(0.05999, abs=0.00001)


def test_joint_fit_does_not_use_the_packages_volatility_step(monkeypatch):
    """The package's f(x) uses mu^2 where Glickman's paper has phi^2; the joint fit never calls it."""

    def broken(*args, **kwargs):
        raise AssertionError("volatility step called")

    results = simulate_league({"a": 1400.0, "b": 1600.0, "c": 1800.0}, 10, np.random.default_rng(1))
    before = Glicko2Rater().rate(results, {"a": 1400.0})
    monkeypatch.setattr(glicko2.Player, "_newVol", broken)
    assert Glicko2Rater().rate(results, {"a": 1400.0}) == before


def _glickman_step(r, rd, vol, opponent, score, tau=0.5):
    """One Glicko-2 update against a fixed (RD 0) opponent, written from Glickman's paper."""
    mu, phi, mj = (r - 1500) / 173.7178, rd / 173.7178, (opponent - 1500) / 173.7178
    expected = 1 / (1 + math.exp(-(mu - mj)))
    v = 1 / (expected * (1 - expected))
    delta = v * (score - expected)
    a = math.log(vol**2)

    def f(x):
        e = math.exp(x)
        return e * (delta**2 - phi**2 - v - e) / (2 * (phi**2 + v + e) ** 2) - (x - a) / tau**2

    lo = a
    if delta**2 > phi**2 + v:
        hi = math.log(delta**2 - phi**2 - v)
    else:
        k = 1
        while f(a - k * tau) < 0:
            k += 1
        hi = a - k * tau
    f_lo, f_hi = f(lo), f(hi)
    while abs(hi - lo) > 1e-6:
        c = lo + (lo - hi) * f_lo / (f_hi - f_lo)
        f_c = f(c)
        if f_c * f_hi <= 0:
            lo, f_lo = hi, f_hi
        else:
            f_lo /= 2
        hi, f_hi = c, f_c
    new_vol = math.exp(lo / 2)
    new_phi = 1 / math.sqrt(1 / (phi**2 + new_vol**2) + 1 / v)
    return 1500 + 173.7178 * (mu + new_phi**2 * (score - expected)), 173.7178 * new_phi, new_vol


def test_paper_mode_matches_a_hand_computation_of_per_game_updates():
    anchors = {"sf1": 1554.0, "sf3": 1867.0}
    games = [("m", "sf1", 1.0), ("sf3", "m", 1.0), ("m", "sf1", 0.5), ("m", "sf3", 0.0), ("sf1", "m", 0.0)]
    r, rd, vol = 1500.0, 500.0, 0.06
    for white, black, score in games:
        opponent, own = (anchors[black], score) if white == "m" else (anchors[white], 1 - score)
        r, rd, vol = _glickman_step(r, rd, vol, opponent, own)
    model = by_player(Glicko2PaperRater().rate([GameResult(*g) for g in games], anchors))["m"]
    assert model.rating == pytest.approx(r, abs=0.01)
    assert model.rd == pytest.approx(rd, abs=0.01)
    assert (model.low, model.high) == pytest.approx((r - 1.96 * rd, r + 1.96 * rd), abs=0.05)
    # The paper's procedure depends on the order of the games.
    swapped = [games[1], games[0]] + games[2:]
    reordered = by_player(Glicko2PaperRater().rate([GameResult(*g) for g in swapped], anchors))["m"]
    assert abs(reordered.rating - model.rating) > 1


@pytest.mark.parametrize("rater", [Glicko2Rater(), BradleyTerryRater(bootstrap=100)], ids=["glicko2", "bt"])
def test_simulated_leagues_recover_the_truth_with_honest_intervals(rater):
    coverage = measure_coverage(rater, leagues=30, players=10, games_per_pair=8, seed=7)
    print(f"{type(rater).__name__}: coverage {coverage.rate:.3f} over {coverage.players} players, "
          f"mean error {coverage.mean_abs_error:.1f}")
    assert coverage.rate >= 0.90
    assert coverage.mean_abs_error < 80


def test_a_large_league_recovers_ratings_closely():
    rng = np.random.default_rng(3)
    true = {f"p{i}": 1200.0 + 60 * i for i in range(12)}
    results = simulate_league(true, 60, rng)
    fitted = by_player(Glicko2Rater().rate(results, {"p0": 1200.0}))
    errors = [abs(fitted[name].rating - rating) for name, rating in true.items()]
    assert max(errors) < 60 and np.mean(errors) < 25
    assert all(fitted[name].low < fitted[name].rating < fitted[name].high for name in true if name != "p0")


@pytest.mark.parametrize("rater", [Glicko2Rater(), BradleyTerryRater(bootstrap=50, seed=3)], ids=["glicko2", "bt"])
def test_shuffling_games_leaves_the_joint_fit_unchanged(rater):
    results = simulate_league({"a": 1300.0, "b": 1500.0, "c": 1650.0, "d": 1900.0}, 12, np.random.default_rng(5))
    shuffled = list(results)
    random.Random(1).shuffle(shuffled)
    first, second = by_player(rater.rate(results, {"a": 1300.0})), by_player(rater.rate(shuffled, {"a": 1300.0}))
    for name in first:
        assert (first[name].rating, first[name].low, first[name].high) == pytest.approx(
            (second[name].rating, second[name].low, second[name].high), abs=1e-6)


@pytest.mark.parametrize("rater", [Glicko2Rater(), BradleyTerryRater(bootstrap=50), Glicko2PaperRater()],
                         ids=["glicko2", "bt", "paper"])
def test_anchored_players_keep_their_ratings_exactly(rater):
    results = simulate_league({"a": 1300.0, "b": 1500.0, "c": 1900.0}, 10, np.random.default_rng(2))
    fitted = by_player(rater.rate(results, {"a": 1554.0, "c": 2148.0}))
    for name, value in (("a", 1554.0), ("c", 2148.0)):
        assert fitted[name].rating == fitted[name].low == fitted[name].high == value
        assert fitted[name].anchored
    assert not fitted["b"].anchored and fitted["b"].low < fitted["b"].rating < fitted["b"].high


@pytest.mark.parametrize("rater", [Glicko2Rater(), BradleyTerryRater(bootstrap=50)], ids=["glicko2", "bt"])
def test_without_anchors_ratings_average_1500(rater):
    results = simulate_league({"a": 1000.0, "b": 1800.0, "c": 2600.0}, 10, np.random.default_rng(4))
    fitted = rater.rate(results, {})
    assert np.mean([r.rating for r in fitted]) == pytest.approx(CENTRE, abs=1e-6)
    order = [r.player for r in fitted]
    assert order == ["c", "b", "a"]


def test_games_and_scores_are_counted_per_player():
    results = [GameResult("a", "b", 1.0), GameResult("b", "a", 0.5), GameResult("a", "c", 0.0)]
    fitted = by_player(Glicko2Rater().rate(results, {}))
    assert (fitted["a"].games, fitted["a"].score) == (3, pytest.approx(1.5 / 3))
    assert (fitted["c"].games, fitted["c"].score) == (1, 1.0)


def test_anchor_text_parsing():
    assert parse_anchor("stockfish-skill1=1554") == ("stockfish-skill1", 1554.0)
    assert parse_anchor("cf@t=0.1=1600") == ("cf@t=0.1", 1600.0)
    with pytest.raises(ConfigError, match="NAME=RATING"):
        parse_anchor("stockfish")


PGN = """[Event "x"]
[White "alice"]
[Black "bob"]
[Result "1-0"]

1. e4 e5 2. Qh5 Nc6 3. Bc4 Nf6 4. Qxf7# 1-0

[Event "x"]
[White "bob"]
[Black "carol"]
[Result "*"]

1. d4 *

[Event "x"]
[White "carol"]
[Black "alice"]
[Result "0-1"]

1. e4 e5 2. Ke3 Ke6 3. Kxe5 0-1

[Event "x"]
[White "carol"]
[Black "bob"]
[Result "1/2-1/2"]
[Termination "rules infraction"]

1. d4 d5 1/2-1/2

[Event "x"]
[White "alice"]
[Black "carol"]
[Result "0-1"]
[Termination "rules infraction"]

1. e4 0-1

[Event "x"]
[Black "carol"]
[Result "1-0"]

1. e4 1-0
"""


def test_rate_a_foreign_pgn_skips_and_reports_bad_games(tmp_path):
    path = tmp_path / "games.pgn"
    path.write_text(PGN)
    done = run_arena("rate", str(path), "--json", "--anchor", "bob=1500")
    assert done.returncode == 0, done.stderr
    assert "game 2 (bob vs carol): no result ('*')" in done.stderr
    assert "game 3 (carol vs alice)" in done.stderr  # an illegal move: the game cannot be trusted
    assert "game 6 (? vs carol): a player's name is missing" in done.stderr
    assert "3 games skipped, 3 rated:" in done.stderr
    rows = {row["player"]: row for row in json.loads(done.stdout)}
    assert set(rows) == {"alice", "bob", "carol"}
    for row in rows.values():
        assert {"player", "rating", "low", "high", "games", "score"} <= set(row)
    assert rows["bob"]["rating"] == 1500.0 and rows["bob"]["anchored"]
    assert (rows["alice"]["games"], rows["alice"]["score"]) == (2, 0.5)
    assert rows["alice"]["illegal_forfeits"] == 1


def test_rate_errors_are_clear(tmp_path):
    path = tmp_path / "games.pgn"
    path.write_text(PGN)
    cases = [
        (["rate", str(path), "--anchor", "dave=1500"], "anchor 'dave' names no player"),
        (["rate", str(path), "--rater", "elo"], "unknown rater type 'elo'; known types: bradley_terry, glicko2"),
        (["rate", str(path), "--rater", "bradley_terry:bootstrap=2"], "bootstrap=2 must be a whole number >= 10"),
        (["rate", str(tmp_path)], "is not a run folder"),
    ]
    for args, message in cases:
        done = run_arena(*args)
        assert done.returncode == 2 and message in done.stderr, (args, done.stderr)
        assert "Traceback" not in done.stderr


def test_results_only_pgn_games_are_not_taken_for_copies(tmp_path):
    from arena.rating.rate import load_games
    from arena.rating.standings import distinct_results

    games = '[White "a"]\n[Black "b"]\n[Result "1-0"]\n\n1-0\n\n' * 5
    games += '[White "a"]\n[Black "b"]\n[Result "1-0"]\n\n1. e4 e5 1-0\n\n' * 2
    (tmp_path / "list.pgn").write_text(games)
    results = load_games(tmp_path / "list.pgn").results
    assert len(results) == 7 and len(distinct_results(results)) == 6  # the game with moves, twice, is one game


# Rating lists like a real one: sparse pairings between players near in strength, one anchor.
# The old prior, centred on 1500 whatever the anchors said, put a list anchored at 3200 62 points low.

def _rating_list_accuracy(rater, centre, anchor, lists=10, **options):
    parts = []
    for seed in range(lists):
        rng = np.random.default_rng([int(centre), seed])
        rating_list = simulate_rating_list(rng, centre=centre, anchor=anchor, **options)
        parts.append(Accuracy.of(rating_list.true, rater.rate(rating_list.results, rating_list.anchors)))
    return Accuracy.pooled(parts)


@pytest.mark.parametrize("centre, anchor", [(3200.0, 3200.0), (1800.0, 1500.0)])
def test_default_rater_is_unbiased_with_honest_intervals_on_the_anchors_scale(centre, anchor):
    accuracy = _rating_list_accuracy(Glicko2Rater(), centre, anchor, players=24, games=4000)
    print(f"~{centre:.0f}, anchor {anchor:.0f}: RMSE {accuracy.rmse:.1f}, bias {accuracy.bias:.1f}, "
          f"coverage {accuracy.coverage:.3f} over {len(accuracy.errors)} players")
    # One anchor: the errors of one list share its offset from the anchor, so the mean over 10 lists
    # still varies by about RMSE / sqrt(10).
    assert abs(accuracy.bias) < min(0.5 * accuracy.rmse, 20.0)
    assert 0.88 <= accuracy.coverage <= 0.99


def test_white_advantage_is_recovered_and_ignoring_it_biases_unbalanced_lists():
    # The stronger player has White in 80% of the games: ignoring White's advantage credits it to them.
    options = dict(players=24, games=4000, white_advantage=40.0, white_share=0.8)
    rater = Glicko2Rater()
    rating_list = simulate_rating_list(np.random.default_rng(11), centre=2000.0, anchor=2000.0, **options)
    rater.rate(rating_list.results, rating_list.anchors)
    white = rater.white_advantage
    assert white.low < 40.0 < white.high and abs(white.value - 40.0) < 10 and white.rd < 8
    bt = BradleyTerryRater(bootstrap=50)
    bt.rate(rating_list.results, rating_list.anchors)
    assert bt.white_advantage.low < 40.0 < bt.white_advantage.high
    assert abs(bt.white_advantage.value - white.value) < 1e-6  # the same fit; only the intervals differ

    fitted = _rating_list_accuracy(Glicko2Rater(), 2000.0, 2000.0, lists=4, **options)
    ignored = _rating_list_accuracy(Glicko2Rater(white_advantage=False), 2000.0, 2000.0, lists=4, **options)
    assert ignored.rmse > 1.5 * fitted.rmse and fitted.coverage > ignored.coverage
    assert Glicko2Rater(white_advantage=False).white_advantage is None


def test_white_advantage_on_a_colour_balanced_league_is_near_zero_and_changes_little():
    results = simulate_league({f"p{i}": 1200.0 + 80 * i for i in range(8)}, 20, np.random.default_rng(2))
    with_white, without = Glicko2Rater(), Glicko2Rater(white_advantage=False)
    a = by_player(with_white.rate(results, {"p0": 1200.0}))
    b = by_player(without.rate(results, {"p0": 1200.0}))
    assert with_white.white_advantage.low < 0.0 < with_white.white_advantage.high
    assert max(abs(a[name].rating - b[name].rating) for name in a) < 3


def _with_newcomers():
    true = {f"p{i}": 1200.0 + 80 * i for i in range(8)}
    results = simulate_league(true, 10, np.random.default_rng(1))
    # 6/6 against the top two
    results += [GameResult("perfect", "p7", 1.0), GameResult("p6", "perfect", 0.0)] * 3
    results += [GameResult("few", "p3", 1.0), GameResult("p4", "few", 0.5)]  # 1.5/2 in the middle
    return results


def test_a_perfect_score_and_a_few_games_give_finite_sensible_intervals():
    fitted = by_player(Glicko2Rater().rate(_with_newcomers(), {"p0": 1200.0}))
    top = max(fitted["p6"].rating, fitted["p7"].rating)
    perfect, few = fitted["perfect"], fitted["few"]
    for rating in (perfect, few):
        assert all(math.isfinite(value) for value in (rating.rating, rating.low, rating.high, rating.rd))
    # 6/6: above its opponents, and the interval says how little 6 games bound it from above.
    assert top + 100 < perfect.low < perfect.rating < top + 1000 < perfect.high
    assert perfect.high - perfect.rating > 2 * (perfect.rating - perfect.low)  # skewed, as the posterior is
    # 1.5/2 against p3 and p4 (1440, 1520): somewhere above them, give or take a lot.
    assert 1440 < few.rating < 1900 and few.low < 1440 and few.high > 1900
    assert few.high - few.low > 500


def test_bad_rater_options_name_the_option():
    with pytest.raises(ConfigError, match="white_advantage='yes' must be true or false"):
        Glicko2Rater(white_advantage="yes")
    with pytest.raises(ConfigError, match="white_advantage=1"):
        BradleyTerryRater(white_advantage=1)
    with pytest.raises(ConfigError, match="prior_rd=0"):
        Glicko2Rater(prior_rd=0)
