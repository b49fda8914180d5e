"""``arena play`` and ``arena plugins`` as a user runs them."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import chess.pgn

import arena.cli
from arena import launch
from arena.league.server import stop_worker_server
from arena.league.store import read_records
from conftest import ROOT, TESTS, run_arena


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
    assert "random vs random-2" in done.stdout  # nothing tells two random players apart: numbered


def test_play_starts_each_colour_swapped_pair_from_its_own_opening(tmp_path):
    done = run_arena("play", "stockfish:nodes=30", "stockfish:nodes=60", "--games", "4", "--seed", "5",
                     "--max-moves", "8", "--out", str(tmp_path / "varied"))
    assert done.returncode == 0, done.stderr
    # Players of one type told apart by their options, as in a league sweep (not stockfish and stockfish-2).
    assert done.stdout.startswith("stockfish@nodes=30 vs stockfish@nodes=60, 4 games")
    books = [tuple(m.uci for m in r.moves if m.book) for r in read_records(tmp_path / "varied")]
    assert books[0] == books[1] and books[2] == books[3] and books[0] != books[2] and len(books[0]) == 4
    done = run_arena("play", "random", "random", "--games", "2", "--openings", "none", "--out", str(tmp_path / "none"))
    assert done.returncode == 0, done.stderr
    assert not any(m.book for r in read_records(tmp_path / "none") for m in r.moves)
    done = run_arena("play", "random", "random", "--openings", "random:plys=4", "--out", str(tmp_path / "bad"))
    assert done.returncode == 2 and "--openings: openings.plys: unknown key; allowed keys: plies, type (did you mean 'plies'?)" in done.stderr


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


# --- --plugin after the command, plain progress lines without a terminal, plurals -------------------------

PLUGIN = TESTS / "local_plugins" / "batch_recorder.py"
RATER_PLUGIN = '''
import arena
from arena.rating.model import Rater, Rating


class Constant(Rater):
    description = "everyone 1234"

    def rate(self, results, anchors):
        games = {}
        for result in results:
            for name in (result.white, result.black):
                games[name] = games.get(name, 0) + 1
        return [Rating(name, 1234.0, 1200.0, 1268.0, count, 0.5) for name, count in sorted(games.items())]


@arena.hookimpl
def register_raters(register):
    register("constant", Constant)
'''


def _invoke(plugins, *args: str):
    """``arena ARGS`` in-process (click's CliRunner: stdout and stderr are not a terminal)."""
    from click.testing import CliRunner

    from arena.cli import cli

    return CliRunner().invoke(cli, [str(arg) for arg in args], obj=plugins)


def _league_file(tmp_path, log, **extra) -> str:
    lines = [
        "name: tiny", "seed: 1", f"out: {tmp_path / 'league'}", "players:",
        "  - {type: random, name: dice}", f"  - {{type: batch_recorder, name: rec, log: {log}}}",
        "schedule: {type: round_robin, games: 4}", "rules: {max_moves: 10}",
        *(f"{key}: {value}" for key, value in extra.items()),
    ]
    path = tmp_path / "tiny.yaml"
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def test_every_command_takes_plugin_after_its_name(plugins):
    import click

    from arena.cli import cli
    from arena.cli.options import accepts_plugin_option

    def leaves(command, path):
        if isinstance(command, click.Group):
            for name, sub in command.commands.items():
                yield from leaves(sub, f"{path} {name}")
        else:
            yield path, command

    commands = dict(leaves(cli, "arena"))
    assert {"arena play", "arena league", "arena validate", "arena compare", "arena rate", "arena report",
            "arena plugins", "arena bench league", "arena bench rate"} <= set(commands)
    assert [path for path, command in commands.items() if not accepts_plugin_option(command)] == []


def test_plugin_after_the_command_loads_players_for_play_validate_league_and_compare(plugins, tmp_path):
    log = tmp_path / "batches.log"
    out = tmp_path / "match"
    done = _invoke(plugins, "play", f"batch_recorder:log={log}", "random", "--games", "2", "--seed", "1",
                   "--max-moves", "5", "--out", out, "--plugin", PLUGIN)
    assert done.exit_code == 0, (done.output, done.exception)
    assert [r.white.type for r in read_records(out)] == ["batch_recorder", "random"]
    assert log.read_text().count("\n") >= 5  # the plugin's player chose the moves

    league_file = _league_file(tmp_path, log)
    done = _invoke(plugins, "validate", league_file, "--plugin", PLUGIN)
    assert done.exit_code == 0, (done.output, done.exception)
    assert "  rec " in done.stdout and "batch_recorder" in done.stdout
    # The league's games are played by worker processes: they must load the plugin too.
    done = _invoke(plugins, "league", league_file, "--quiet", "--plugin", PLUGIN)
    assert done.exit_code == 0, (done.output, done.exception)
    assert len(list(read_records(tmp_path / "league"))) == 4

    done = _invoke(plugins, "compare", f"batch_recorder:log={log}", "random", "--max-games", "2",
                   "--max-moves", "5", "--out", tmp_path / "compare", "--plugin", PLUGIN)
    assert done.exit_code == 0, (done.output, done.exception)
    assert len(list(read_records(tmp_path / "compare"))) == 2

    done = _invoke(plugins, "plugins", "--plugin", PLUGIN)
    assert done.exit_code == 0 and f"({'file ' + str(PLUGIN)})" in done.stdout
    assert "  players: batch_recorder" in done.stdout


def test_a_league_with_plugins_of_its_own_keeps_the_plugin_files_given_on_the_command_line(plugins, tmp_path):
    rater = tmp_path / "constant_rater.py"
    rater.write_text(RATER_PLUGIN)
    # The league file loads the rater plugin; the player's plugin comes from --plugin.
    league_file = _league_file(tmp_path, tmp_path / "batches.log", plugins=f"[{rater}]", raters="[constant]")
    done = _invoke(plugins, "league", league_file, "--quiet", "--plugin", PLUGIN)
    assert done.exit_code == 0, (done.output, done.exception)
    assert len(list(read_records(tmp_path / "league"))) == 4 and "1234" in done.stdout


def test_plugin_after_the_command_loads_raters_for_rate_report_and_bench(plugins, tmp_path):
    rater = tmp_path / "constant_rater.py"
    rater.write_text(RATER_PLUGIN)
    pgn = tmp_path / "games.pgn"
    pgn.write_text("".join(f'[White "{w}"]\n[Black "{b}"]\n[Result "{r}"]\n\n{r}\n\n'
                           for w, b, r in [("ann", "bob", "1-0"), ("bob", "ann", "1/2-1/2")]))
    done = _invoke(plugins, "rate", pgn, "--rater", "constant", "--json", "--plugin", rater)
    assert done.exit_code == 0, (done.output, done.exception)
    assert {row["rating"] for row in json.loads(done.stdout)} == {1234.0}
    done = _invoke(plugins, "report", pgn, "--rater", "constant", "--out", tmp_path / "report", "--plugin", rater)
    assert done.exit_code == 0, (done.output, done.exception)
    assert "1234" in (tmp_path / "report" / "standings.csv").read_text()
    done = _invoke(plugins, "bench", "rate", "--players", "3", "--games", "20", "--seeds", "0",
                   "--rater", "constant", "--plugin", rater)
    assert done.exit_code == 0, (done.output, done.exception)
    assert "constant" in done.stdout
    # Before the command and after it, together.
    log = tmp_path / "batches.log"
    done = _invoke(plugins, "--plugin", rater, "play", f"batch_recorder:log={log}", "random", "--games", "1",
                   "--out", tmp_path / "both", "--plugin", PLUGIN)
    assert done.exit_code == 0, (done.output, done.exception)


def test_without_a_terminal_the_league_prints_plain_progress_lines(plugins, tmp_path):
    done = _invoke(plugins, "league", _league_file(tmp_path, tmp_path / "batches.log"), "--plugin", PLUGIN)
    assert done.exit_code == 0, (done.output, done.exception)
    assert "\r" not in done.output and "\r" not in done.stderr  # no progress bar redrawn in place
    progress = [line for line in done.stderr.splitlines() if line.startswith("tiny: ")]
    assert progress and progress[-1].startswith("tiny: 4/4 games, leader ")
    assert all(re.fullmatch(r"tiny: \d/4 games, leader \S+ [\d.]+/\d, \d+ s", line) for line in progress), progress


def test_counts_of_one_are_singular(plugins, tmp_path):
    done = _invoke(plugins, "play", "random", "random", "--games", "1", "--seed", "1", "--out", tmp_path / "one")
    assert done.exit_code == 0, (done.output, done.exception)
    assert ", 1 game, seed 1," in done.stdout
    assert not re.search(r"\b1 (games|wins|draws|losses|moves)\b", done.output), done.output
    league_file = _league_file(tmp_path, tmp_path / "batches.log", concurrency=1, games_in_flight=1)
    done = _invoke(plugins, "validate", league_file, "--plugin", PLUGIN)
    assert "concurrency: 1 worker x 1 game in flight" in done.stdout
    done = _invoke(plugins, "league", league_file, "--quiet", "--plugin", PLUGIN)
    assert "tiny: 2 players, 4 games; 1 worker x 1 game in flight;" in done.stdout


# --- the arena command's launcher ---------------------------------------------------------------------------


def _fork_servers() -> list[str]:
    """The command lines of this process's children that are multiprocess fork servers."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
            command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue  # gone meanwhile
        if int(stat.rsplit(")", 1)[1].split()[1]) == os.getpid() and "multiprocess.forkserver" in command:
            found.append(command)
    return found


def test_the_arena_command_starts_a_leagues_worker_server_before_it_imports_the_cli(monkeypatch):
    stop_worker_server()
    seen = []
    monkeypatch.setattr(arena.cli, "main", lambda: seen.append(_fork_servers()))  # what runs once the CLI is in
    for argv in (["arena", "validate", "x.yaml"], ["arena", "league", "x.yaml", "--executor", "ray"],
                 ["arena", "league", "x.yaml", "--executor=local"], ["arena", "compare", "a", "b"]):
        monkeypatch.setattr(sys, "argv", argv)
        launch.main()
        stop_worker_server()
    assert seen[0] == [] and seen[1] == []  # validating plays no games; Ray actors are no forks of it
    for servers in seen[2:]:
        assert len(servers) == 1 and "arena.league.workers" in servers[0]


def test_a_league_with_a_plugin_that_fails_to_import_gets_a_message_not_a_traceback(tmp_path):
    # A package whose entry point raises as it is imported; the launcher's worker server must not import it.
    dist = tmp_path / "broken-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: broken\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[arena]\nbroken = broken_plugin\n")
    (tmp_path / "broken_plugin.py").write_text("raise RuntimeError('boom')\n")
    command = Path(sys.executable).parent / "arena"  # the console script, as a user runs it
    done = subprocess.run([str(command), "league", str(ROOT / "configs" / "smoke.yaml")], capture_output=True,
                          text=True, env={**os.environ, "PYTHONPATH": str(tmp_path)}, timeout=60)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "plugin 'broken' (broken_plugin, from broken) failed to import: RuntimeError('boom')" in done.stderr
