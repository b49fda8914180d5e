"""Game rules driven by scripted players: claims, caps, resignations, illegal replies."""

from __future__ import annotations

import random

import chess
import pytest

from arena import ConfigError, MoveReply, Player
from arena.play.driver import play_games
from arena.play.game import Game, GameRules, Side
from arena.play.record import PlayerEntry, Termination


class Scripted(Player):
    """Plays the given replies in order (a real player, with a fixed script)."""

    def __init__(self, replies):
        self.replies = list(replies)

    def choose_one(self, request):
        reply = self.replies.pop(0)
        return MoveReply(text=reply) if isinstance(reply, str) else reply


def run(white_replies, black_replies, rules=GameRules(), opening=()):
    white, black = Scripted(white_replies), Scripted(black_replies)
    game = Game("g", 1, Side(white, PlayerEntry("w", "scripted")), Side(black, PlayerEntry("b", "scripted")),
                rules, opening=[chess.Move.from_uci(m) for m in opening])
    (finished,) = play_games([game])
    return finished.record()


def moves(*ucis):
    return [MoveReply(move=chess.Move.from_uci(u)) for u in ucis]


def test_threefold_repetition_is_claimed_automatically():
    record = run(moves("g1f3", "f3g1", "g1f3", "f3g1"), moves("g8f6", "f6g8", "g8f6", "f6g8"))
    assert record.termination is Termination.THREEFOLD_REPETITION
    assert record.result == "1/2-1/2" and record.plies == 8


def test_move_cap_scores_a_draw_by_default():
    record = run(moves("g1f3", "f3g1"), moves("g8f6", "f6g8"), GameRules(max_moves=2))
    assert (record.termination, record.result, record.plies) == (Termination.MOVE_CAP, "1/2-1/2", 4)
    assert record.to_pgn().headers["Termination"] == "adjudication"


def test_resignation_loses():
    record = run(moves("e2e4"), [MoveReply(resign=True)])
    assert (record.termination, record.result) == (Termination.RESIGNATION, "1-0")


def test_illegal_replies_are_retried_then_forfeited():
    record = run(["e2e5", "Ke2", "nonsense"], [], GameRules(illegal_attempts=3))
    assert (record.termination, record.result) == (Termination.ILLEGAL_MOVE, "0-1")
    assert record.white_stats.illegal_attempts == 3
    assert "'e2e5', 'Ke2', 'nonsense'" in record.detail


def test_an_illegal_reply_then_a_legal_one_is_recorded_with_the_move():
    record = run(["e2e5"] + moves("e2e4", "d1h5", "f1c4", "h5f7"), moves("e7e5", "b8c6", "g8f6"),
                 GameRules(illegal_attempts=2))
    assert record.termination is Termination.CHECKMATE and record.result == "1-0"
    assert record.moves[0].illegal == ["e2e5"] and record.moves[1].illegal == []
    assert record.white_stats.illegal_attempts == 1


def test_opening_moves_are_marked_as_book():
    record = run(moves("g1f3"), [MoveReply(resign=True)], opening=["e2e4", "e7e5"])
    assert [m.book for m in record.moves] == [True, True, False]
    assert record.moves[0].san == "e4"


def test_crash_and_timeout_replies_forfeit_with_their_own_terminations():
    crash = run([MoveReply(failure="crash", detail="exit 3")], [])
    assert (crash.termination, crash.result, crash.white_stats.crashes) == (Termination.CRASH, "0-1", 1)
    hang = run(moves("e2e4"), [MoveReply(failure="timeout")])
    assert (hang.termination, hang.result, hang.black_stats.timeouts) == (Termination.TIMEOUT, "1-0", 1)


def test_an_adjudicators_evaluation_does_not_depend_on_what_it_evaluated_before():
    from arena.league.adjudication import Adjudicator

    config = {"engine": "stockfish", "nodes": 20000, "resign": None, "draw": None, "cap_margin": 150}
    positions = []
    rng = random.Random(4)
    for _ in range(12):  # middlegame positions of random games: the search depends on its hash table
        board = chess.Board()
        for _ in range(24):
            moves = list(board.legal_moves)
            if not moves:
                break
            board.push(rng.choice(moves))
        if not board.is_game_over():
            positions.append(board)
    fresh = []
    for board in positions:
        alone = Adjudicator(config)
        alone.start()
        fresh.append(alone.evaluate(board))
        alone._engine.quit()
    busy = Adjudicator(config)
    busy.start()
    # The same positions after the others, in another order: the same scores as a fresh engine gives.
    scores = {i: busy.evaluate(positions[i]) for i in reversed(range(len(positions)))}
    busy._engine.quit()
    assert [scores[i] for i in range(len(positions))] == fresh


def test_an_adjudication_section_reads_with_its_defaults():
    from arena.league.adjudication import validate_adjudication

    config = validate_adjudication({"resign": {"score": 700, "moves": 4}, "draw": {"score": 10, "moves": 8},
                                    "nodes": 500}, "league.yaml")
    # A plain dict, in this order, as the manifest records it.
    assert config == {"engine": "stockfish", "nodes": 500, "resign": {"score": 700, "moves": 4},
                      "draw": {"score": 10, "moves": 8, "from_move": 1}, "cap_margin": 200}
    assert list(config) == ["engine", "nodes", "resign", "draw", "cap_margin"]
    assert validate_adjudication({"resign": None}, "league.yaml")["resign"] is None


@pytest.mark.parametrize("section, message", [
    # a wrong type, a value out of range and a misspelled key, in the section and in each sub-section
    ({"nodes": "many"}, "adjudication.nodes: 'many' must be a whole number >= 1"),
    ({"nodes": 2e4}, "adjudication.nodes: 20000.0 must be a whole number >= 1: write 20000"),
    ({"engine": 5}, "adjudication.engine: 5 must be 'stockfish' or a UCI engine command"),
    ({"nodes": 0}, "adjudication.nodes: 0 must be a whole number >= 1"),
    ({"cap_margin": -1}, "adjudication.cap_margin: -1 must be a whole number >= 0"),
    ({"engine": ""}, "adjudication.engine: '' must be 'stockfish' or a UCI engine command"),
    ({"node": 500}, "adjudication.node: unknown key; allowed keys: cap_margin, draw, engine, nodes, resign "
                    "(did you mean 'nodes'?)"),
    (["stockfish"], "adjudication: must be a mapping, not list"),
    ({"resign": {"score": 700, "moves": True}},
     "adjudication.resign.moves: True must be a whole number >= 1"),
    ({"resign": {"score": 0, "moves": 4}}, "adjudication.resign.score: 0 must be a whole number >= 1"),
    ({"resign": {"score": 700, "move": 4}},
     "adjudication.resign.move: unknown key; allowed keys: moves, score (did you mean 'moves'?)"),
    ({"resign": {"score": 500}}, "adjudication.resign.moves: is required: a whole number >= 1"),
    ({"resign": [700, 4]}, "adjudication.resign: must be a mapping, not list"),
    ({"draw": {"score": "10", "moves": 8}}, "adjudication.draw.score: '10' must be a whole number >= 0"),
    ({"draw": {"score": -1, "moves": 8}}, "adjudication.draw.score: -1 must be a whole number >= 0"),
    ({"draw": {"score": 10, "moves": 8, "from_move": 0}},
     "adjudication.draw.from_move: 0 must be a whole number >= 1"),
    ({"draw": {"score": 10, "moves": 8, "frommove": 40}},
     "adjudication.draw.frommove: unknown key; allowed keys: from_move, moves, score "
     "(did you mean 'from_move'?)"),
])
def test_adjudication_errors_name_the_file_and_key_path(section, message):
    from arena.league.adjudication import validate_adjudication

    with pytest.raises(ConfigError) as caught:
        validate_adjudication(section, "league.yaml")
    assert str(caught.value) == f"league.yaml: {message}"
