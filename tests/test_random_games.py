"""Random against random, 200 games: every game ends legally, and the files round-trip."""

from __future__ import annotations

import io
import json
import shutil
import subprocess

import chess
import chess.pgn
import pytest

from arena.play.match import Match
from arena.play.record import Termination
from arena.league.store import ResultsWriter, read_records
from arena.spec import parse_player_spec

GAMES = 200


@pytest.fixture(scope="module")
def random_run(tmp_path_factory, plugins):
    folder = tmp_path_factory.mktemp("random")
    with Match(parse_player_spec("random"), parse_player_spec("random"), plugins) as match:
        with ResultsWriter(folder) as writer:
            for record in match.play(GAMES, seed=2024):
                writer.write(record)
    return folder


def _expected_ending(board: chess.Board) -> tuple[str, Termination]:
    """What the rules say about a final position, worked out independently of the arena."""
    if board.is_checkmate():
        return ("0-1" if board.turn == chess.WHITE else "1-0"), Termination.CHECKMATE
    if board.is_stalemate():
        return "1/2-1/2", Termination.STALEMATE
    if board.is_insufficient_material():
        return "1/2-1/2", Termination.INSUFFICIENT_MATERIAL
    if board.is_seventyfive_moves():
        return "1/2-1/2", Termination.SEVENTYFIVE_MOVES
    if board.is_fivefold_repetition():
        return "1/2-1/2", Termination.FIVEFOLD_REPETITION
    if board.is_repetition(3):
        return "1/2-1/2", Termination.THREEFOLD_REPETITION
    if board.halfmove_clock >= 100:
        return "1/2-1/2", Termination.FIFTY_MOVES
    raise AssertionError(f"game not over: {board.fen()}")


def test_every_game_ends_with_a_legal_result_and_termination(random_run):
    records = list(read_records(random_run))
    assert len(records) == GAMES
    seen = set()
    for record in records:
        board = chess.Board()
        for move in record.moves:
            # The game stops at the first position that ends it, never later.
            assert board.outcome(claim_draw=False) is None
            assert not board.is_repetition(3) and board.halfmove_clock < 100
            assert chess.Move.from_uci(move.uci) in board.legal_moves
            assert board.san(chess.Move.from_uci(move.uci)) == move.san
            board.push_uci(move.uci)
        assert (record.result, record.termination) == _expected_ending(board)
        seen.add(record.termination)
    # 200 random games reach several kinds of ending, not just one.
    assert {Termination.CHECKMATE, Termination.INSUFFICIENT_MATERIAL} <= seen
    assert len(seen) >= 4


def test_colours_alternate_and_each_game_has_its_own_seed(random_run):
    records = list(read_records(random_run))
    assert [r.white.name for r in records[:4]] == ["random", "random-2", "random", "random-2"]
    assert len({r.seed for r in records}) == GAMES


def test_pgn_reparses_to_identical_moves_and_tags(random_run):
    records = list(read_records(random_run))
    with open(random_run / "games.pgn") as handle:
        for record in records:
            game = chess.pgn.read_game(handle)
            assert game is not None and not game.errors
            assert [m.uci() for m in game.mainline_moves()] == [m.uci for m in record.moves]
            headers = game.headers
            assert headers["Result"] == record.result
            assert headers["White"] == record.white.name and headers["Black"] == record.black.name
            assert headers["PlyCount"] == str(record.plies)
            assert headers["ArenaTermination"] == record.termination.value
            for tag in ("Event", "Site", "Date", "Round", "Termination", "TimeControl"):
                assert headers[tag] not in ("", "?")
        assert chess.pgn.read_game(handle) is None


def test_jsonl_round_trips(random_run):
    lines = (random_run / "games.jsonl").read_text().splitlines()
    records = list(read_records(random_run))
    assert len(lines) == len(records) == GAMES
    for line, record in zip(lines, records):
        assert json.loads(line) == record.to_dict()


def test_third_party_tool_accepts_the_pgn(random_run, tmp_path):
    pgn_extract = shutil.which("pgn-extract") or shutil.which("pgn-extract", path="/usr/games")
    assert pgn_extract, "pgn-extract is installed by 'make test' (engines/install.sh pgn-extract)"
    out = tmp_path / "out.pgn"
    done = subprocess.run(
        [pgn_extract, "--fixresulttags", "-o", str(out), str(random_run / "games.pgn")],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert "error" not in done.stderr.lower() and "illegal" not in done.stderr.lower(), done.stderr
    reparsed = io.StringIO(out.read_text())
    count = 0
    for record in read_records(random_run):
        game = chess.pgn.read_game(reparsed)
        assert [m.uci() for m in game.mainline_moves()] == [m.uci for m in record.moves]
        assert game.headers["Result"] == record.result
        count += 1
    assert count == GAMES


def test_same_seed_same_games(plugins, tmp_path):
    def moves(seed):
        with Match(parse_player_spec("random"), parse_player_spec("random"), plugins) as match:
            return [[m.uci for m in r.moves] for r in match.play(4, seed=seed)]

    assert moves(11) == moves(11)
    assert moves(11) != moves(12)
