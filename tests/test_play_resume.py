"""``arena play`` resumes like a league: the same command keeps the finished games and plays the missing ones."""

from __future__ import annotations

import json
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

from click.testing import CliRunner

from arena.cli import cli
from arena.errors import ResultsError
from arena.league.store import read_records

FISH = "stockfish:nodes=50"


def arena(plugins, *args: str):
    """``arena ARGS`` in-process, as a user types it."""
    return CliRunner().invoke(cli, list(args), obj=plugins)


def _cut_to(jsonl: Path, games: int, half_line: bool = False) -> list[str]:
    """What an interrupted run leaves: the first ``games`` lines (and, with ``half_line``, half the next)."""
    lines = jsonl.read_text().splitlines(keepends=True)
    kept = lines[:games]
    jsonl.write_text("".join(kept) + (lines[games][: len(lines[games]) // 2] if half_line else ""))
    return kept


def test_the_same_command_keeps_the_finished_games_and_plays_the_missing_ones(plugins, tmp_path):
    out = tmp_path / "match"
    command = ["play", FISH, "random", "--games", "4", "--seed", "11", "--max-moves", "30", "--out", str(out)]
    first = arena(plugins, *command)
    assert first.exit_code == 0, first.output
    full = [record.to_dict() for record in read_records(out)]
    kept = _cut_to(out / "games.jsonl", 2, half_line=True)  # killed while writing game 3

    again = arena(plugins, *command)
    assert again.exit_code == 0, again.output
    assert ", 4 games, 2 already played, seed 11," in again.stdout
    assert [line.split("]")[0] for line in again.stdout.splitlines()[1:3]] == ["[3/4", "[4/4"]
    lines = (out / "games.jsonl").read_text().splitlines(keepends=True)
    assert len(lines) == 4 and lines[:2] == kept  # the first two untouched, byte for byte
    records = list(read_records(out))
    assert [r.game_id for r in records] == ["1", "2", "3", "4"]
    # Games 3 and 4 are the games 3 and 4 of the uninterrupted run: same colours, seeds and openings.
    for record, before in zip(records[2:], full[2:]):
        assert (record.white.name, record.black.name, record.seed) == (before["white"]["name"],
                                                                        before["black"]["name"], before["seed"])
        assert [m.uci for m in record.moves if m.book] == [m["uci"] for m in before["moves"] if m["book"]]
    assert (out / "games.pgn").read_text().count("[Event ") == 4  # rebuilt from games.jsonl, then appended
    runs = json.loads((out / "manifest.json").read_text())["runs"]
    assert [(run["status"], run["games_played"]) for run in runs] == [("completed", 4), ("completed", 2)]

    done = arena(plugins, *command)  # nothing left to play: the score of the whole match
    assert done.exit_code == 0, done.output
    assert ", 4 games, 4 already played," in done.stdout and "[" not in done.stdout.splitlines()[1]
    assert len((out / "games.jsonl").read_text().splitlines()) == 4


def test_without_seed_a_rerun_takes_the_run_folders_seed_and_replays_the_same_games(plugins, tmp_path):
    whole, cut = tmp_path / "whole", tmp_path / "cut"
    first = arena(plugins, "play", "random", "random", "--games", "4", "--out", str(cut))
    assert first.exit_code == 0, first.output
    seed = json.loads((cut / "manifest.json").read_text())["seed"]
    assert f"seed {seed}," in first.stdout
    _cut_to(cut / "games.jsonl", 2)
    again = arena(plugins, "play", "random", "random", "--games", "4", "--out", str(cut))
    assert again.exit_code == 0, again.output
    assert f"seed {seed} (from {cut / 'manifest.json'})" in again.stdout
    # An uninterrupted run with that seed plays exactly the same four games.
    assert arena(plugins, "play", "random", "random", "--games", "4", "--seed", str(seed),
                 "--out", str(whole)).exit_code == 0
    moves = [[[m.uci for m in r.moves] for r in read_records(folder)] for folder in (cut, whole)]
    assert moves[0] == moves[1]


def test_more_games_extend_the_match(plugins, tmp_path):
    out = str(tmp_path / "match")
    assert arena(plugins, "play", "random", "random", "--games", "2", "--seed", "3", "--out", out).exit_code == 0
    more = arena(plugins, "play", "random", "random", "--games", "4", "--seed", "3", "--out", out)
    assert more.exit_code == 0, more.output
    assert [r.game_id for r in read_records(out)] == ["1", "2", "3", "4"]


def test_a_folder_of_another_match_is_refused_with_the_reason_and_how_to_go_on(plugins, tmp_path):
    out = tmp_path / "match"
    assert arena(plugins, "play", FISH, "random", "--games", "2", "--seed", "5", "--max-moves", "20",
                 "--out", str(out)).exit_code == 0
    before = (out / "games.jsonl").read_text()
    resume = f"arena play {FISH} random --games 2 --seed 5 --out {out} --max-moves 20"
    cases = [
        (["stockfish:nodes=60", "random", "--seed", "5", "--max-moves", "20"],
         "game '1' had white stockfish (stockfish {'nodes': 50}), the match now has stockfish (stockfish {'nodes': 60})"),
        ([FISH, "random", "--seed", "6", "--max-moves", "20"],
         "the games were played with seed 5, this command has --seed 6"),
        ([FISH, "random", "--seed", "5"], 'the games were played with rules {"illegal_attempts":1,"max_moves":20,'),
        ([FISH, "random", "--seed", "5", "--max-moves", "20", "--openings", "none"],
         "game '1' was played from another opening"),
        (["random", FISH, "--seed", "5", "--max-moves", "20"], "game '1' had white stockfish"),
    ]
    for args, reason in cases:
        done = arena(plugins, "play", *args, "--games", "2", "--out", str(out))
        assert isinstance(done.exception, ResultsError), (args, done.output)
        assert f"{out} holds games of another match: " in str(done.exception)
        assert reason in str(done.exception), (args, str(done.exception))
        assert f"resume them with: {resume}; to replace them, add --force" in str(done.exception)
        assert (out / "games.jsonl").read_text() == before
    fewer = arena(plugins, "play", FISH, "random", "--games", "1", "--seed", "5", "--max-moves", "20",
                  "--out", str(out))
    assert "game '2' is not in this match of 1 game" in str(fewer.exception)
    forced = arena(plugins, "play", "random", "random", "--games", "1", "--seed", "6", "--out", str(out), "--force")
    assert forced.exit_code == 0, forced.output
    assert len(list(read_records(out))) == 1
    assert [run["status"] for run in json.loads((out / "manifest.json").read_text())["runs"]] == ["completed"]


def test_games_without_a_recorded_seed_need_the_seed_to_resume(plugins, tmp_path):
    out = tmp_path / "match"
    assert arena(plugins, "play", "random", "random", "--games", "2", "--seed", "8", "--out", str(out)).exit_code == 0
    (out / "manifest.json").unlink()  # as an older arena left its run folders
    done = arena(plugins, "play", "random", "random", "--games", "2", "--out", str(out))
    assert isinstance(done.exception, ResultsError)
    assert (f"{out / 'games.jsonl'} holds 2 games, but {out / 'manifest.json'} does not record the seed they "
            f"were played with; pass that --seed to resume them, or --force to replace them") in str(done.exception)
    assert arena(plugins, "play", "random", "random", "--games", "2", "--seed", "8", "--out", str(out)).exit_code == 0


def test_ctrl_c_prints_the_command_that_resumes_and_that_command_does(tmp_path):
    """A real Ctrl-C (SIGINT) in a real process, then the printed command, as a user would paste it."""
    out = tmp_path / "match"
    # 100 ms a move and no opening book: a game lasts at least 0.4 s, so the signal lands mid-match.
    args = ["play", "stockfish:movetime=100", "random", "--games", "4", "--max-moves", "4", "--openings", "none",
            "--out", str(out)]
    process = subprocess.Popen([sys.executable, "-m", "arena", *args], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    jsonl = out / "games.jsonl"
    deadline = time.monotonic() + 120
    while not (jsonl.exists() and len(jsonl.read_text().splitlines()) >= 2):
        assert process.poll() is None and time.monotonic() < deadline, process.communicate()
        time.sleep(0.02)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    kept = jsonl.read_text().splitlines()
    assert 2 <= len(kept) < 4
    seed = json.loads((out / "manifest.json").read_text())["seed"]
    expected = (f"arena play stockfish:movetime=100 random --games 4 --seed {seed} --out {out} --max-moves 4 "
                f"--openings none")
    assert f"interrupted after {len(kept)} of 4 games; the finished ones are saved in {out}/. Resume with:\n" \
           f"  {expected}\n" in stderr, stderr
    assert "Traceback" not in stderr
    words = shlex.split(expected)
    resumed = subprocess.run([sys.executable, "-m", "arena", *words[1:]], capture_output=True, text=True,
                             timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert f"{len(kept)} already played, seed {seed}," in resumed.stdout
    lines = jsonl.read_text().splitlines()
    assert len(lines) == 4 and lines[: len(kept)] == kept
    runs = json.loads((out / "manifest.json").read_text())["runs"]
    assert [run["status"] for run in runs] == ["interrupted", "completed"]
