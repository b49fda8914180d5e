"""The noisy player: epsilon 0 is the wrapped player, epsilon 1 is uniform, habits repeat, and it replays from seeds."""

from __future__ import annotations

from collections import Counter

import chess
import pytest

from arena import ConfigError, MoveRequest
from arena.play.match import Match
from arena.spec import PlayerSpec, build_player, parse_player_spec


def noisy(plugins, epsilon, inner="stockfish:nodes=300"):
    player = build_player(PlayerSpec("noisy", {"player": inner, "epsilon": epsilon}), plugins)
    player.start()
    return player


def position_requests(count, board=None):
    board = board or chess.Board("r1bqkbnr/pppp1ppp/2n5/4p3/4P3/5N2/PPPP1PPP/RNBQKB1R w KQkq - 2 3")
    return [MoveRequest(f"g{seed}", board, seed=seed) for seed in range(count)]


def test_epsilon_zero_plays_exactly_the_wrapped_players_moves(plugins):
    wrapped = build_player(parse_player_spec("stockfish:nodes=300"), plugins)
    wrapped.start()
    plain = noisy(plugins, 0.0)
    try:
        requests = position_requests(6)
        assert [r.move for r in plain.choose(requests)] == [r.move for r in wrapped.choose(requests)]
    finally:
        wrapped.close()
        plain.close()


def test_epsilon_one_is_uniform_over_legal_moves(plugins):
    player = noisy(plugins, 1.0)
    requests = position_requests(3000)
    legal = list(requests[0].board.legal_moves)
    counts = Counter(reply.move for reply in player.choose(requests))
    player.close()
    assert set(counts) == set(legal)
    expected = len(requests) / len(legal)
    chi_square = sum((counts[move] - expected) ** 2 / expected for move in legal)
    # 27 legal moves: 26 degrees of freedom; the 99.9% quantile of chi-square(26) is about 54.1.
    assert len(legal) == 27 and chi_square < 54.1


def test_habitual_mistakes_repeat_in_a_position_and_differ_between_players(plugins):
    def mistakes(name):
        spec = PlayerSpec("noisy", {"player": "random", "epsilon": 1.0, "mistakes": "habitual"}, name=name)
        player = build_player(spec, plugins)
        player.start()
        replies = player.choose(position_requests(50))
        player.close()
        return [reply.move for reply in replies]

    alice, bob = mistakes("alice"), mistakes("bob")
    assert len(set(alice)) == 1 and len(set(bob)) == 1  # one mistake per position, whatever the game
    assert alice == mistakes("alice")
    others = [mistakes(f"expert-{i}")[0] for i in range(12)]
    assert len(set(others)) >= 6  # names draw their own blind spots
    with pytest.raises(ConfigError, match="mistakes='often' must be one of random, habitual"):
        build_player(PlayerSpec("noisy", {"player": "random", "epsilon": 0.5, "mistakes": "often"}), plugins)


def test_same_seed_same_games_and_noise_is_recorded(plugins):
    spec = PlayerSpec("noisy", {"player": {"type": "stockfish", "nodes": 200}, "epsilon": 0.5})

    def games(seed):
        with Match(spec, parse_player_spec("random"), plugins) as match:
            return list(match.play(2, seed=seed))

    first, second = games(3), games(3)
    assert [[m.uci for m in r.moves] for r in first] == [[m.uci for m in r.moves] for r in second]
    noisy_moves = [m for r in first for i, m in enumerate(r.moves)
                   if (r.white if i % 2 == 0 else r.black).name.endswith("+noise0.5")]
    flagged = sum(bool(m.info.get("noise")) for m in noisy_moves)
    assert 0.3 * len(noisy_moves) < flagged < 0.7 * len(noisy_moves)
    assert first[0].white.name == "stockfish+noise0.5"


def test_noise_drops_the_wrapped_presets_anchor_and_bad_options_are_named(plugins):
    player = noisy(plugins, 0.2, inner="stockfish:skill=1,movetime=100")
    try:
        assert "anchor" not in player.describe() and player.describe()["wraps"] == "stockfish-skill1"
        assert player.inner.anchor() is not None and player.anchor() is None
    finally:
        player.close()
    with pytest.raises(ConfigError, match="epsilon=1.5 must be a probability"):
        build_player(PlayerSpec("noisy", {"player": "random", "epsilon": 1.5}), plugins)
    with pytest.raises(ConfigError, match="unknown player type 'stockfsh'"):
        build_player(PlayerSpec("noisy", {"player": "stockfsh", "epsilon": 0.1}), plugins)
