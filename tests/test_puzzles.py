"""``arena puzzles``: positions with known solutions, solved by real Stockfish and not by chance."""

from __future__ import annotations

import json
from pathlib import Path

import chess
from click.testing import CliRunner

from arena.cli import cli
from arena.play.puzzles import read_puzzles, solve
from arena.plugins import load_plugins
from arena.spec import build_player, parse_player_spec
from conftest import TESTS, batch_sizes, run_arena

ROOT = Path(__file__).parent.parent
MODEL = f"transformer:checkpoint={ROOT / 'models' / 'transcendence-tiny.pt'},temperature=0.1,decoding=legal"

# Each: FEN, solution (SAN: solver, reply, solver...), rating. Solutions checked by Stockfish (multipv):
# each solver move is the only one that keeps the win.
PUZZLES = [
    ("6k1/5ppp/8/8/8/8/5PPP/R5K1 w - - 0 1", "Ra8#", 900),  # back-rank mate in 1
    ("5r1k/6pp/7N/8/8/1Q6/8/6K1 w - - 0 1", "Qg8+ Rxg8 Nf7#", 1500),  # smothered mate in 2
    ("r3k3/8/8/3N4/8/8/4PPP1/4K3 w - - 0 1", "Nc7+ Kd7 Nxa8", 1300),  # a fork: the reply, then the rook
    # Two mates in one: the line writes Ra8#, and Rb8# counts too.
    ("6k1/5ppp/8/8/8/8/5PPP/RR4K1 w - - 0 1", "Ra8#", 1100),
]


def _pgn(puzzles) -> str:
    games = []
    for fen, solution, rating in puzzles:
        games.append(f'[Event "?"]\n[FEN "{fen}"]\n[SetUp "1"]\n[Rating "{rating}"]\n\n{solution} *\n')
    return "\n".join(games)


def _run(plugins, path, spec, *extra):
    result = CliRunner().invoke(cli, ["puzzles", str(path), spec, "--json", *extra], obj=plugins)
    assert result.exit_code == 0, (result.output, result.exception)
    return json.loads(result.stdout.splitlines()[-1]), result


def test_a_strong_engine_solves_every_puzzle_and_random_does_not(tmp_path, plugins):
    path = tmp_path / "puzzles.pgn"
    path.write_text(_pgn(PUZZLES))
    strong, _ = _run(plugins, path, "stockfish:nodes=100000")
    assert strong["total"] == 4 and strong["solved"] == 4 and strong["accuracy"] == 1.0
    assert [band["band"] for band in strong["bands"]] == ["800-999", "1000-1199", "1200-1399", "1400-1599"]
    weak, _ = _run(plugins, path, "random", "--seed", "3")
    assert weak["solved"] < 4 and weak["unsolved"].get("wrong move", 0) >= 1


def test_another_mate_counts_only_where_the_line_ends_in_mate(tmp_path, plugins):
    # The engine prefers one of the two mates; whichever it plays, the puzzle is solved.
    for written in ("Ra8#", "Rb8#"):
        path = tmp_path / f"{written[:2]}.pgn"
        path.write_text(_pgn([(PUZZLES[3][0], written, 1100)]))
        assert _run(plugins, path, "stockfish:nodes=20000")[0]["solved"] == 1
    # A line that wins material without mate: a different winning move is wrong.
    path = tmp_path / "no-mate.pgn"
    path.write_text(_pgn([("6k1/5ppp/8/8/8/8/5PPP/RR4K1 w - - 0 1", "Ra7", 1100)]))
    assert _run(plugins, path, "stockfish:nodes=20000")[0]["unsolved"] == {"wrong move": 1}


def test_lichess_csv_plays_the_opponents_move_first_and_malformed_lines_are_skipped(tmp_path, plugins):
    # Black's Kh8-g8 first, then White mates as in the back-rank puzzle.
    path = tmp_path / "puzzles.csv"
    path.write_text("PuzzleId,FEN,Moves,Rating,RatingDeviation,Popularity,NbPlays,Themes,GameUrl,OpeningTags\n"
                    "ok1,7k/5ppp/8/8/8/8/5PPP/R5K1 b - - 0 1,h8g8 a1a8,950,75,90,100,mateIn1,,\n"
                    "bad1,not a fen,h8g8 a1a8,950,75,90,100,,,\n"
                    "bad2,7k/5ppp/8/8/8/8/5PPP/R5K1 b - - 0 1,h8g8 a1a9,950,75,90,100,,,\n"
                    "bad3,7k/5ppp/8/8/8/8/5PPP/R5K1 b - - 0 1,h8h7 a1a8,950,75,90,100,,,\n")
    scored, result = _run(plugins, path, "stockfish:nodes=20000")
    assert scored["total"] == 1 and scored["solved"] == 1
    skipped = [line for line in result.stderr.splitlines() if line.startswith("skipped:")]
    assert len(skipped) == 3 and "line 3" in skipped[0] and "line 5" in skipped[2]
    assert "h8h7 is not legal" in skipped[2]


def test_a_model_without_a_transcript_is_scored_unsolvable_not_crashed(tmp_path, plugins):
    path = tmp_path / "puzzles.pgn"
    path.write_text(_pgn(PUZZLES))
    scored, _ = _run(plugins, path, MODEL, "--limit", "2")
    assert scored["total"] == 2 and scored["solved"] == 0
    (why, count), = scored["unsolved"].items()
    assert count == 2 and "standard position" in why


def test_the_table_and_a_missing_file(tmp_path, plugins):
    path = tmp_path / "puzzles.pgn"
    path.write_text(_pgn(PUZZLES[:1]))
    shown = CliRunner().invoke(cli, ["puzzles", str(path), "stockfish:nodes=20000"], obj=plugins)
    assert shown.exit_code == 0 and "1 of 1 puzzles solved (100.0%)" in shown.stdout
    missing = CliRunner().invoke(cli, ["puzzles", str(tmp_path / "none.pgn"), "random"], obj=plugins)
    assert missing.exit_code != 0 and "none.pgn: no such puzzles file" in str(missing.exception)
    assert chess.Board(PUZZLES[0][0]).is_valid()


def test_a_batched_player_gets_the_puzzles_together_and_an_engine_one_at_a_time(tmp_path):
    path = tmp_path / "puzzles.pgn"
    path.write_text(_pgn(PUZZLES * 3))  # 12 puzzles
    log = tmp_path / "batches.log"
    plugin = TESTS / "local_plugins" / "batch_recorder.py"
    done = run_arena("puzzles", str(path), f"batch_recorder:log={log}", "--plugin", str(plugin), "--json")
    assert done.returncode == 0, done.stderr
    sizes = batch_sizes(log)
    assert sizes[0] == 12 and sum(sizes) >= 12  # all first moves in one batch, then the ones still going

    class Counting:  # the engine as it is, its batches counted
        def __init__(self, inner):
            self.inner, self.sizes = inner, []

        def __getattr__(self, name):
            return getattr(self.inner, name)

        def choose(self, requests):
            self.sizes.append(len(requests))
            return self.inner.choose(requests)

    engine = build_player(parse_player_spec("stockfish:nodes=2000"), load_plugins())
    engine.start()
    try:
        counting = Counting(engine)
        outcomes = solve(counting, [puzzle for puzzle in _read(path)])
    finally:
        engine.close()
    assert set(counting.sizes) == {1} and sum(outcome.solved for outcome in outcomes) >= 9


def _read(path):
    problems: list[str] = []
    puzzles = list(read_puzzles(path, problems))
    assert problems == []
    return puzzles
