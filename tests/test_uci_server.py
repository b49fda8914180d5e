"""``arena uci``: arena players driven as UCI engines by an independent client (python-chess's)."""

from __future__ import annotations

import io
import json
import os
import select
import subprocess
import sys
import time
from pathlib import Path

import chess
import chess.engine
import pytest
from click.testing import CliRunner

from arena.cli import cli
from conftest import run_arena

ROOT = Path(__file__).parent.parent
MODEL = f"transformer:checkpoint={ROOT / 'models' / 'transcendence-tiny.pt'},temperature=0.1,decoding=legal"
NOISY = "noisy:epsilon=0.2,player.type=stockfish,player.nodes=50"
LIMITS = {
    "movetime": chess.engine.Limit(time=0.05),
    "nodes": chess.engine.Limit(nodes=100),
    "depth": chess.engine.Limit(depth=3),
    "clock": chess.engine.Limit(white_clock=5, black_clock=5, white_inc=0.05, black_inc=0.05),
    "moves to go": chess.engine.Limit(white_clock=5, black_clock=5, remaining_moves=20),
}


def uci_command(spec: str) -> list[str]:
    return [sys.executable, "-m", "arena", "uci", spec]


@pytest.mark.parametrize("spec", ["random", MODEL, NOISY], ids=["random", "model", "noisy"])
@pytest.mark.parametrize("limit", sorted(LIMITS))
def test_python_chess_plays_whole_games_against_arena_uci(spec, limit):
    engine = chess.engine.SimpleEngine.popen_uci(uci_command(spec), timeout=60)
    try:
        assert engine.id["author"] == "arena" and engine.id["name"]
        board = chess.Board()
        while not board.is_game_over() and board.ply() < 80:
            started = time.monotonic()
            result = engine.play(board, LIMITS[limit], info=chess.engine.INFO_ALL)
            elapsed = time.monotonic() - started
            assert result.move in board.legal_moves, (board.fen(), result.move)
            assert elapsed < 5, f"{elapsed:.2f} s for a move"  # within the 5 s clock, let alone the others
            board.push(result.move)
        assert board.is_game_over() or board.ply() == 80
    finally:
        engine.quit()
    assert engine.transport.get_returncode() == 0  # it left when told to quit


def test_the_models_replies_carry_its_probability_and_it_takes_setoption():
    engine = chess.engine.SimpleEngine.popen_uci(uci_command(MODEL), timeout=60)
    try:
        assert "temperature" in engine.options and "decoding" in engine.options
        board = chess.Board()
        first = engine.analysis(board, chess.engine.Limit(nodes=1))
        facts = first.wait()
        first.stop()
        assert facts is not None
        engine.configure({"temperature": "1.5"})
        info = engine.play(board, chess.engine.Limit(nodes=1), info=chess.engine.INFO_ALL).info
        assert "probability" in info["string"] and "entropy" in info["string"]
    finally:
        engine.quit()


class Raw:
    """``arena uci`` spoken to line by line, with a deadline on every answer."""

    def __init__(self, spec: str):
        self.process = subprocess.Popen(uci_command(spec), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=subprocess.DEVNULL)
        self.pending = b""  # read from the pipe but not yet returned as lines

    def say(self, line: str) -> None:
        self.process.stdin.write(line.encode() + b"\n")
        self.process.stdin.flush()

    def line(self, timeout: float = 30.0) -> str | None:
        deadline = time.monotonic() + timeout
        while b"\n" not in self.pending:
            ready, _, _ = select.select([self.process.stdout], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                return None
            chunk = os.read(self.process.stdout.fileno(), 65536)
            if not chunk:
                return None
            self.pending += chunk
        line, self.pending = self.pending.split(b"\n", 1)
        return line.decode().strip()

    def until(self, prefix: str) -> list[str]:
        lines = []
        while True:
            line = self.line()
            assert line is not None, f"no {prefix!r} after {lines}"
            lines.append(line)
            if line.startswith(prefix):
                return lines


def test_bad_lines_are_reported_and_ignored_and_stop_ends_an_infinite_search():
    raw = Raw("random")
    raw.say("uci")
    assert raw.until("uciok")[0] == "id name random"
    raw.say("frobnicate now")
    assert raw.line() == "info string unknown command ignored: frobnicate now"
    raw.say("position startpos moves e2e5")
    assert raw.line().startswith("info string error: move e2e5 is not legal")
    raw.say("position fen not-a-fen")
    assert raw.line().startswith("info string error:")
    raw.say("go sideways movetime 10")  # the unknown word is reported; the search still answers
    lines = raw.until("bestmove")
    assert lines[0] == "info string go: ignored 'sideways'" and chess.Move.from_uci(lines[-1].split()[1])
    raw.say("isready")
    assert raw.line() == "readyok"  # still answering
    raw.say("position startpos moves e2e4")
    raw.say("go infinite")
    assert raw.line(timeout=1.0) is None  # an infinite search answers only at stop
    raw.say("isready")
    assert raw.line() == "readyok"
    raw.say("stop")
    move = chess.Move.from_uci(raw.until("bestmove")[-1].split()[1])
    board = chess.Board()
    board.push_uci("e2e4")
    assert move in board.legal_moves
    raw.say("position fen 7k/5Q2/6K1/8/8/8/8/8 b - - 0 1")  # stalemate: no move to play
    raw.say("go movetime 10")
    assert raw.until("bestmove")[-1] == "bestmove 0000"
    raw.say("quit")
    assert raw.process.wait(timeout=30) == 0
    assert raw.pending + raw.process.stdout.read() == b""  # nothing after quit


def test_a_position_the_model_cannot_read_gets_a_legal_fallback_said_in_info_string():
    raw = Raw(MODEL)
    raw.say("position fen 4k3/8/8/8/8/8/4P3/4K3 w - - 0 1")
    raw.say("go movetime 10")
    lines = raw.until("bestmove")
    assert any("UCI has no resignation or failure" in line and "standard position" in line for line in lines)
    board = chess.Board("4k3/8/8/8/8/8/4P3/4K3 w - - 0 1")
    assert chess.Move.from_uci(lines[-1].split()[1]) in board.legal_moves
    raw.say("quit")
    assert raw.process.wait(timeout=30) == 0


def test_a_bad_player_spec_is_an_error_before_any_protocol():
    done = run_arena("uci", "nosuchplayer")
    assert done.returncode == 2 and "unknown player type 'nosuchplayer'" in done.stderr and done.stdout == ""


def test_an_arena_match_plays_the_model_wrapped_as_a_uci_engine_against_stockfish(tmp_path, plugins):
    # A tournament manager names one command: a script that runs `arena uci` with the model's spec.
    wrapper = tmp_path / "model-engine"
    wrapper.write_text(f"#!/bin/sh\nexec {sys.executable} -m arena uci '{MODEL}'\n")
    wrapper.chmod(0o755)
    out = tmp_path / "match"
    result = CliRunner().invoke(cli, ["play", f"uci:command={wrapper},movetime=50", "stockfish:nodes=200",
                                      "-n", "2", "--max-moves", "30", "--out", str(out), "--seed", "3"], obj=plugins)
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in (out / "games.jsonl").read_text().splitlines()]
    assert len(records) == 2
    assert all(record["termination"] not in ("crash", "time_forfeit", "illegal_move") for record in records)


def test_the_positions_of_one_game_reuse_the_models_cache_until_ucinewgame(plugins):
    from arena.play.uci_server import UciServer
    from arena.spec import parse_player_spec

    out = io.StringIO()
    server = UciServer(parse_player_spec(MODEL), plugins, seed=0, out=out)
    board, computed = chess.Board(), []
    for san in ("e4", "e5", "Nf3", "Nc6", "Bb5", "a6"):
        board.push_san(san)
        server.handle("position startpos moves " + " ".join(move.uci() for move in board.move_stack))
        server.handle("go movetime 10")
        computed.append(server.player.session.computed)
    moves = [line for line in out.getvalue().splitlines() if line.startswith("bestmove")]
    assert len(moves) == 6
    # The shipped model reads one token per move: each position ran only its newest move, not its
    # whole transcript again (the first: the game's start token and e4).
    assert computed == [2, 3, 4, 5, 6, 7]
    server.handle("ucinewgame")
    assert server.player.session.rows == {}  # the finished game's row is free for the next
