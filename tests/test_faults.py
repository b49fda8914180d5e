"""Faults never stop a run: crashing, hanging, babbling and raising players lose their games."""

from __future__ import annotations

import chess

from arena import hookimpl, load_plugins
from arena.play.game import GameRules
from arena.play.match import Match
from arena.play.record import Termination
from arena.spec import PlayerSpec, parse_player_spec
from conftest import fake_engine


def play(plugins, first, second, games, rules=GameRules()):
    with Match(first, second, plugins) as match:
        return match.names, list(match.play(games, seed=3, rules=rules))


def uci(command, **options):
    return PlayerSpec("uci", {"command": command, **options})


def test_engine_that_crashes_mid_game_is_restarted_for_the_next(plugins, tmp_path):
    crasher = uci(fake_engine(tmp_path, "crash", "4"), movetime=10)
    (name, _), records = play(plugins, crasher, parse_player_spec("random"), 3)
    for record in records:
        assert record.termination is Termination.CRASH
        assert record.termination.pgn_value == "abandoned"
        assert record.winner == "random"
        assert "terminated" in record.detail
        stats = record.white_stats if record.white.name == name else record.black_stats
        assert stats.crashes == 1
        # A fresh engine played three moves in every game: it was restarted each time.
        engine_moves = record.moves[0::2] if record.white.name == name else record.moves[1::2]
        assert len(engine_moves) == 3


def test_engine_that_never_answers_is_timed_out(plugins, tmp_path):
    hanger = uci(fake_engine(tmp_path, "hang", "2"), nodes=100, timeout=1)
    (_, name), records = play(plugins, parse_player_spec("random"), hanger, 2)
    for record in records:
        assert record.termination is Termination.TIMEOUT
        assert record.winner == "random"
        stats = record.white_stats if record.white.name == name else record.black_stats
        assert stats.timeouts == 1
        assert "within 1.0 s" in record.detail


def test_slow_engine_loses_on_the_arena_clock(plugins, tmp_path):
    slow = uci(fake_engine(tmp_path, "slow", "0.3"), tc="0.5+0")
    (name, _), records = play(plugins, slow, parse_player_spec("stockfish:skill=0,nodes=200"), 1)
    record = records[0]
    assert record.termination is Termination.TIME_FORFEIT
    assert record.result == "0-1" and record.winner != name
    assert record.white.time_control == "0.5+0"
    assert record.moves[0].clock < 0.5


def test_garbage_moves_count_as_illegal_attempts_then_forfeit(plugins, tmp_path):
    babbler = uci(fake_engine(tmp_path, "garbage"), movetime=10)
    (name, _), records = play(plugins, babbler, parse_player_spec("random"), 2, GameRules(illegal_attempts=3))
    for record in records:
        assert record.termination is Termination.ILLEGAL_MOVE
        assert record.termination.pgn_value == "rules infraction"
        assert record.winner == "random"
        stats = record.white_stats if record.white.name == name else record.black_stats
        assert stats.illegal_attempts == 3
        assert "3 illegal move attempt(s)" in record.detail


def test_player_that_raises_forfeits_and_the_match_goes_on():
    import arena

    class Fragile(arena.Player):
        def __init__(self):
            self.calls = 0

        def choose_one(self, request):
            self.calls += 1
            if self.calls % 2 == 0:
                raise ValueError("model exploded")
            return next(iter(request.board.legal_moves))

    class Plugin:
        @hookimpl
        def register_players(self, register):
            register("fragile", Fragile)

    plugins = load_plugins(extra=[("fragile-plugin", Plugin())])
    (_, _), records = play(plugins, PlayerSpec("fragile"), parse_player_spec("random"), 2)
    for record in records:
        assert record.termination is Termination.PLAYER_ERROR
        assert "ValueError: model exploded" in record.detail
        assert record.winner == "random"


def test_player_that_leaves_the_board_changed_is_caught():
    import arena

    class Pusher(arena.Player):
        def choose_one(self, request):
            move = next(iter(request.board.legal_moves))
            request.board.push(move)  # forgot to pop
            return move

    class Plugin:
        @hookimpl
        def register_players(self, register):
            register("pusher", Pusher)

    plugins = load_plugins(extra=[("pusher-plugin", Plugin())])
    (_, _), records = play(plugins, PlayerSpec("pusher"), parse_player_spec("random"), 1)
    assert records[0].termination is Termination.PLAYER_ERROR
    assert records[0].plies == 0 and records[0].board() == chess.Board()


def test_a_run_killed_without_a_word_is_marked_killed_by_the_next(tmp_path):
    """``kill -9`` leaves the manifest saying "running": the next run records how that one ended."""
    import json

    from arena.league.manifest import Manifest

    killed = Manifest(tmp_path, {"seed": 1})  # a run that is never told how it ended: the kill
    ended = Manifest(tmp_path, {"seed": 1})
    ended.finish("interrupted", 3)
    Manifest(tmp_path, {"seed": 1})  # the run after both
    runs = json.loads((tmp_path / "manifest.json").read_text())["runs"]
    assert killed.run["started"] == runs[0]["started"]
    assert [(run["status"], run["finished"] is None) for run in runs] == [
        ("killed", True), ("interrupted", False), ("running", True)]


def test_kill_9_of_arena_play_is_recorded_as_killed_by_the_rerun(tmp_path):
    """A real ``kill -9`` mid-match; the rerun of the same command resumes and says how the first run ended."""
    import json
    import signal
    import subprocess
    import sys
    import time

    out = tmp_path / "match"
    args = ["play", "stockfish:movetime=100", "random", "--games", "4", "--seed", "2", "--max-moves", "4",
            "--openings", "none", "--out", str(out)]
    process = subprocess.Popen([sys.executable, "-m", "arena", *args], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    jsonl = out / "games.jsonl"
    deadline = time.monotonic() + 120
    while not (jsonl.exists() and jsonl.read_text().count("\n") >= 1):
        assert process.poll() is None and time.monotonic() < deadline
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    rerun = subprocess.run([sys.executable, "-m", "arena", *args], capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    runs = json.loads((out / "manifest.json").read_text())["runs"]
    assert [run["status"] for run in runs] == ["killed", "completed"]
    assert len(jsonl.read_text().splitlines()) == 4
