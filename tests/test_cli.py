"""``arena play`` and ``arena plugins`` as a user runs them."""

from __future__ import annotations

import json

import chess.pgn

from arena.results import read_records
from conftest import TESTS, run_arena


def test_play_writes_pgn_and_jsonl_and_prints_the_score(tmp_path):
    out = tmp_path / "match"
    done = run_arena("play", "stockfish:skill=3,nodes=2000", "random", "--games", "4", "--seed", "9", "--out", str(out))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == f"stockfish-skill3 vs random, 4 games, seed 9, openings: 4 random plies, writing {out}/"
    assert [line.split("]")[0] for line in lines[1:5]] == ["[1/4", "[2/4", "[3/4", "[4/4"]
    assert "score stockfish-skill3 4 - 0 random" in lines[4]
    assert lines[5] == "stockfish-skill3 vs random: 4 wins, 0 draws, 0 losses for stockfish-skill3 (4/4, 100.0%)"
    records = list(read_records(out))
    assert [r.white.name for r in records] == ["stockfish-skill3", "random"] * 2
    with open(out / "games.pgn") as handle:
        games = [chess.pgn.read_game(handle) for _ in range(4)]
    assert [g.headers["White"] for g in games] == ["stockfish-skill3", "random"] * 2
    assert games[0].headers["WhiteOptions"] == "skill=3,nodes=2000"


def test_same_seed_replays_the_same_games(tmp_path):
    runs = []
    for name in ("a", "b"):
        done = run_arena("play", "random", "random", "--games", "3", "--seed", "77", "--out", str(tmp_path / name))
        assert done.returncode == 0, done.stderr
        runs.append([[m.uci for m in r.moves] for r in read_records(tmp_path / name)])
    assert runs[0] == runs[1]
    assert "random vs random-2" in done.stdout


def test_play_starts_each_colour_swapped_pair_from_its_own_opening(tmp_path):
    done = run_arena("play", "stockfish:nodes=30", "stockfish:nodes=60", "--games", "4", "--seed", "5",
                     "--max-moves", "8", "--out", str(tmp_path / "varied"))
    assert done.returncode == 0, done.stderr
    books = [tuple(m.uci for m in r.moves if m.book) for r in read_records(tmp_path / "varied")]
    assert books[0] == books[1] and books[2] == books[3] and books[0] != books[2] and len(books[0]) == 4
    done = run_arena("play", "random", "random", "--games", "2", "--openings", "none", "--out", str(tmp_path / "none"))
    assert done.returncode == 0, done.stderr
    assert not any(m.book for r in read_records(tmp_path / "none") for m in r.moves)
    done = run_arena("play", "random", "random", "--openings", "random:plys=4", "--out", str(tmp_path / "bad"))
    assert done.returncode == 2 and "--openings: openings.plys: no such key for type 'random'" in done.stderr


def test_player_from_a_yaml_file_and_a_move_cap(tmp_path):
    spec = tmp_path / "sf.yaml"
    spec.write_text("type: stockfish\nname: fish\nskill: 1\nnodes: 500\n")
    done = run_arena("play", str(spec), "random", "--games", "2", "--max-moves", "5", "--seed", "1",
                     "--out", str(tmp_path / "run"))
    assert done.returncode == 0, done.stderr
    records = list(read_records(tmp_path / "run"))
    assert {r.termination.value for r in records} == {"move_cap"}
    assert all(r.plies == 10 and r.result == "1/2-1/2" for r in records)
    assert records[0].white.name == "fish"


def test_bad_input_is_a_clear_message_not_a_traceback(tmp_path):
    cases = [
        (["play", "randm", "random"], "unknown player type 'randm'; known types: noisy, random, stockfish, transformer, uci"),
        (["play", "stockfish:skil=3", "random"], "player 'stockfish' has no option 'skil'"),
        (["play", "stockfish:skill", "random"], "'skill' is not key=value"),
        (["play", "stockfish:tc=fast", "random"], "time control 'fast' is not BASE+INCREMENT"),
        (["play", str(tmp_path / "missing.yaml"), "random"], "missing.yaml' does not exist"),
        (["play", "uci:command=not-an-engine", "random"], "apt-get install not-an-engine"),
    ]
    for args, message in cases:
        done = run_arena(*args, "--out", str(tmp_path / "never"))
        assert done.returncode == 2, (args, done.stderr)
        assert message in done.stderr, (args, done.stderr)
        assert "Traceback" not in done.stderr
    assert not (tmp_path / "never" / "games.jsonl").exists()


def test_existing_results_are_not_overwritten_without_force(tmp_path):
    out = str(tmp_path / "run")
    assert run_arena("play", "random", "random", "--games", "1", "--seed", "1", "--out", out).returncode == 0
    before = (tmp_path / "run" / "games.jsonl").read_text()
    again = run_arena("play", "random", "random", "--games", "1", "--seed", "2", "--out", out)
    assert again.returncode == 2 and "--force" in again.stderr
    assert (tmp_path / "run" / "games.jsonl").read_text() == before
    forced = run_arena("play", "random", "random", "--games", "2", "--seed", "2", "--out", out, "--force")
    assert forced.returncode == 0
    assert len(list(read_records(out))) == 2


def test_plugins_command_lists_names_versions_and_hooks():
    done = run_arena("plugins")
    assert done.returncode == 0
    assert "uci 0.1.0  (package arena-chess)" in done.stdout
    assert "  players: stockfish, uci" in done.stdout
    listed = json.loads(run_arena("plugins", "--json").stdout)
    assert {p["name"] for p in listed} >= {"random", "uci"}


def test_shipped_player_files_play(tmp_path):
    for path in sorted((TESTS.parent / "configs" / "players").glob("*.yaml")):
        out = tmp_path / path.stem
        done = run_arena("play", str(path), "random", "--games", "1", "--seed", "1", "--out", str(out))
        assert done.returncode == 0, (path, done.stderr)
        (record,) = read_records(out)
        assert not record.termination.is_forfeit and record.white.info["name"]
