"""YAML leagues: validation, sweeps, schedules, concurrency, resume and worker deaths."""

from __future__ import annotations

import json
import os
import signal
from collections import Counter
from pathlib import Path

import chess.pgn
import pytest

from arena import ConfigError, ResultsError
from arena.errors import WorkerFailed
from arena.league.config import load_league
from arena.league.run import LeagueRun
from arena.play.record import Termination
from arena.league.store import read_records
from arena.league.schedule import schedule_games
from conftest import TESTS, batch_recorder_league, batch_sizes, league_process, run_arena, wait_for_games

ROOT = TESTS.parent


def write(tmp_path: Path, text: str, name: str = "league.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def names(league):
    return [spec.name for spec in league.players]


def test_sweeps_expand_into_named_players_with_their_values(tmp_path, plugins):
    league = load_league(write(tmp_path, """
players:
  - type: random
  - type: stockfish
    skill: [1, 3]
    nodes: [100, 200]
  - type: stockfish
    name: deep
    depth: [1, 2]
"""), plugins)
    assert names(league) == [
        "random",
        "stockfish-skill1@nodes=100", "stockfish-skill1@nodes=200",
        "stockfish-skill3@nodes=100", "stockfish-skill3@nodes=200",
        "deep@depth=1", "deep@depth=2",
    ]
    by_name = {spec.name: spec for spec in league.players}
    assert by_name["stockfish-skill3@nodes=200"].options == {"skill": 3, "nodes": 200}
    assert by_name["deep@depth=2"].options == {"depth": 2}


def test_a_sweep_the_default_name_already_tells_apart_adds_no_suffix(tmp_path, plugins):
    league = load_league(write(tmp_path, "players:\n  - type: stockfish\n    skill: [0, 5]\n    nodes: 500\n"), plugins)
    assert names(league) == ["stockfish-skill0", "stockfish-skill5"]


@pytest.mark.parametrize(
    "text, message",
    [
        ("players: [{type: random}]\nconcurency: 2\n", "league.yaml: concurency: unknown key; allowed keys: adjudication"),
        ("players: [{type: random}]\nconcurrency: two\n", "concurrency: 'two' must be a whole number >= 1"),
        ("players: [{type: randm}]\n", "players[0]: unknown player type 'randm'; known types: noisy, random, stockfish, transformer, uci"),
        ("players: [{type: stockfish, skil: 3}]\n", "players[0]: player 'stockfish' has no option 'skil'"),
        ("players: [{type: stockfish, skill: [1, 30]}]\n", "players[0]: player 'stockfish:skill=30'"),
        ("players: [{type: uci, command: no-such-engine}]\n", "apt-get install no-such-engine"),
        ("players: [{type: random}, {type: random}]\n", "player name 'random' is also the name of players[0]"),
        ("players: [{skill: 3}]\n", "players[0]: a player needs a mapping with a 'type' key"),
        ("players: []\n", "players: must be a non-empty list"),
        ("players: [{type: random}]\nschedule: {type: swiss}\n", "schedule.type: 'swiss' must be one of round_robin, gauntlet"),
        ("players: [{type: random}]\nschedule: {games: 3}\n", "schedule.games: 3 is odd"),
        ("players: [{type: random}]\nschedule: {type: gauntlet}\n", "schedule.challengers: a gauntlet needs"),
        ("players: [{type: random}]\nrules: {max_move: 89}\n", "rules.max_move: unknown key"),
        ("players: [{type: random}]\nopenings: {type: file, path: nope.pgn}\n", "openings.path"),
        ("players: [{type: random}]\nplugins: [missing.py]\n", "missing.py' does not exist"),
        ("players: [{type: random}]\nadjudication: {engine: stockfish, resign: {score: 500}}\n",
         "adjudication.resign.moves: is required: a whole number >= 1"),
        ("players: [{type: random}]\nrules: {move_cap_result: eval}\n", "'eval' needs an adjudication"),
        ("players: [\n", "is not valid YAML"),
    ],
)
def test_validation_names_the_file_and_key(tmp_path, plugins, text, message):
    with pytest.raises(ConfigError) as caught:
        load_league(write(tmp_path, text), plugins)
    assert message in str(caught.value)


def test_validate_command_prints_players_and_game_count(tmp_path):
    path = write(tmp_path, """
name: g
players:
  - type: random
  - type: stockfish
    skill: [1, 3, 5]
    nodes: 100
schedule: {type: gauntlet, challengers: [random], games: 4}
""")
    done = run_arena("validate", str(path))
    assert done.returncode == 0, done.stderr
    assert "stockfish-skill5" in done.stdout
    assert "schedule: gauntlet, 4 games per pairing, 12 games" in done.stdout
    bad = run_arena("validate", str(write(tmp_path, "players: [{type: nope}]\n", "bad.yaml")))
    assert bad.returncode == 2 and "unknown player type 'nope'" in bad.stderr and "Traceback" not in bad.stderr


def test_gauntlet_pairs_swap_colours_on_the_same_opening(tmp_path, plugins):
    league = load_league(write(tmp_path, """
seed: 5
players:
  - {type: random, name: model-a}
  - {type: random, name: model-b}
  - {type: stockfish, skill: [1, 3], nodes: 100}
schedule: {type: gauntlet, challengers: ["model-*"], games: 4}
openings: {type: random, plies: 6}
"""), plugins)
    games = schedule_games(league)
    assert len(games) == 2 * 2 * 4
    pairs = Counter(frozenset((g.white.name, g.black.name)) for g in games)
    assert set(pairs.values()) == {4} and all(any(n.startswith("model-") for n in p) for p in pairs)
    assert not any({"model-a", "model-b"} == set(p) for p in pairs)
    for first, second in zip(games[0::2], games[1::2]):
        assert (first.white, first.black) == (second.black, second.white)
        assert first.opening == second.opening and len(first.opening.moves) == 6
    # The same seed gives the same ids, seeds and openings.
    again = schedule_games(load_league(league.source, plugins))
    assert [(g.game_id, g.seed, g.opening) for g in again] == [(g.game_id, g.seed, g.opening) for g in games]


DETERMINISTIC = """
seed: 3
players:
  - type: random
  - type: stockfish
    nodes: [50, 300]
schedule: {games: 4}
openings: {type: random, plies: 2}
rules: {max_moves: 60}
"""


def _moves(folder):
    return {r.game_id: ([m.uci for m in r.moves], r.result) for r in read_records(folder)}


def test_same_games_with_one_worker_and_with_two(tmp_path, plugins):
    results = []
    for concurrency, in_flight in ((1, 1), (2, 3)):
        path = write(tmp_path, DETERMINISTIC + f"concurrency: {concurrency}\ngames_in_flight: {in_flight}\n")
        league = load_league(path, plugins, out=tmp_path / f"run{concurrency}")
        LeagueRun(league).play()
        results.append(_moves(league.out))
    assert len(results[0]) == 12
    assert results[0] == results[1]


def test_run_folder_holds_league_copy_and_manifest(tmp_path, plugins):
    path = write(tmp_path, DETERMINISTIC)
    league = load_league(path, plugins, out=tmp_path / "run")
    LeagueRun(league).play()
    assert (league.out / "league.yaml").read_text() == path.read_text()
    manifest = json.loads((league.out / "manifest.json").read_text())
    assert manifest["seed"] == 3 and manifest["games_scheduled"] == 12
    assert manifest["engines"]["stockfish@nodes=50"]["name"].startswith("Stockfish")
    run = manifest["runs"][-1]
    assert run["status"] == "completed" and run["games_played"] == 12
    assert run["packages"]["chess"] and run["machine"]["cpus"] >= 1
    with open(league.out / "games.pgn") as handle:
        assert sum(1 for _ in iter(lambda: chess.pgn.read_game(handle), None)) == 12


def test_resume_plays_only_missing_games_and_refuses_a_changed_league(tmp_path, plugins):
    path = write(tmp_path, DETERMINISTIC)
    league = load_league(path, plugins, out=tmp_path / "run")
    LeagueRun(league).play()
    jsonl = league.out / "games.jsonl"
    lines = jsonl.read_text().splitlines(keepends=True)
    # Keep 5 games and half of a sixth line, as a kill in the middle of a write would.
    jsonl.write_text("".join(lines[:5]) + lines[5][: len(lines[5]) // 2])
    run = LeagueRun(load_league(path, plugins, out=league.out))
    assert len(run.records) == 5 and len(run.missing) == 7
    run.play()
    assert sorted(_moves(league.out)) == sorted(g.game_id for g in run.schedule)
    assert len(jsonl.read_text().splitlines()) == 12

    changed = write(tmp_path, DETERMINISTIC.replace("[50, 300]", "[50, 400]"), "changed.yaml")
    with pytest.raises(ResultsError, match="no longer in the league.*--fresh"):
        LeagueRun(load_league(changed, plugins, out=league.out))
    reseeded = write(tmp_path, DETERMINISTIC.replace("seed: 3", "seed: 4"), "reseeded.yaml")
    with pytest.raises(ResultsError, match="another seed"):
        LeagueRun(load_league(reseeded, plugins, out=league.out))
    fresh = LeagueRun(load_league(changed, plugins, out=league.out), fresh=True)
    assert fresh.records == [] and len(fresh.missing) == 12
    assert len(list(league.out.glob("previous-*/games.jsonl"))) == 1


SLOW = """
seed: 9
concurrency: 2
games_in_flight: 2
players:
  - type: random
  - type: stockfish
    nodes: [100, 400]
    skill: 3
schedule: {games: 6}
"""


def test_sigkill_of_the_league_loses_no_game_and_duplicates_none(tmp_path):
    path = write(tmp_path, SLOW)
    out = tmp_path / "run"
    process = league_process(path, out)
    wait_for_games(out / "games.jsonl", 3, process)
    process.kill()
    process.wait()
    before = _moves(out)
    assert 3 <= len(before) < 18
    done = run_arena("league", str(path), "--out", str(out), "--quiet")
    assert done.returncode == 0, done.stderr
    assert f"{len(before)} already played" in done.stdout
    ids = [json.loads(line)["game_id"] for line in (out / "games.jsonl").read_text().splitlines()]
    assert len(ids) == len(set(ids)) == 18
    after = _moves(out)
    assert all(after[game_id] == moves for game_id, moves in before.items())


def _workers_of(pid: int) -> list[int]:
    children = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid and b"multiprocess" in cmdline:
                children.append(int(entry.name))
    return children


def test_a_worker_killed_mid_run_has_its_games_played_again(tmp_path):
    path = write(tmp_path, SLOW)
    out = tmp_path / "run"
    process = league_process(path, out)
    wait_for_games(out / "games.jsonl", 2, process)
    workers = _workers_of(process.pid)
    assert workers, "no worker processes found"
    os.kill(workers[0], signal.SIGKILL)
    stdout, stderr = process.communicate(timeout=300)
    assert process.returncode == 0, stderr
    ids = [json.loads(line)["game_id"] for line in (out / "games.jsonl").read_text().splitlines()]
    assert len(ids) == len(set(ids)) == 18
    assert "random" in stdout  # the standings were printed


def test_a_batched_player_gets_the_requests_of_concurrent_games_at_once(tmp_path):
    path, log = batch_recorder_league(tmp_path)
    done = run_arena("league", str(path), "--out", str(tmp_path / "run"), "--quiet")
    assert done.returncode == 0, done.stderr
    sizes = batch_sizes(log)
    assert max(sizes) == 6 and sum(sizes) >= 12 * 15
    assert len(list(read_records(tmp_path / "run"))) == 12


def test_adjudication_by_an_evaluating_engine(tmp_path, plugins):
    path = write(tmp_path, """
players:
  - {type: stockfish, nodes: 2000}
  - type: random
schedule: {games: 2}
adjudication:
  engine: stockfish
  nodes: 500
  resign: {score: 400, moves: 2}
""")
    league = load_league(path, plugins, out=tmp_path / "resign")
    LeagueRun(league).play()
    for record in read_records(league.out):
        assert record.termination is Termination.ADJUDICATION and record.winner == "stockfish"
        assert record.to_pgn().headers["Termination"] == "adjudication"

    capped = write(tmp_path, """
players:
  - {type: stockfish, nodes: 2000}
  - type: random
schedule: {games: 2}
rules: {max_moves: 12, move_cap_result: eval}
adjudication: {engine: stockfish, nodes: 500, cap_margin: 150}
""", "capped.yaml")
    league = load_league(capped, plugins, out=tmp_path / "capped")
    LeagueRun(league).play()
    for record in read_records(league.out):
        assert record.winner == "stockfish"
        assert record.termination in (Termination.MOVE_CAP, Termination.CHECKMATE)
        if record.termination is Termination.MOVE_CAP:
            assert "evaluation" in record.detail and record.plies == 24


#: Shipped YAML files that are studies, not leagues (tests/test_study.py checks them).
STUDIES = {"transcendence.yaml"}


def test_shipped_leagues_validate(tmp_path):
    for path in sorted((ROOT / "configs").glob("*.yaml")):
        if path.name in STUDIES:
            continue
        done = run_arena("validate", str(path), cwd=tmp_path)  # from elsewhere: paths are the file's
        assert done.returncode == 0, (path, done.stderr)


def test_game_finished_hook_fires_in_the_parent_for_league_games(tmp_path):
    log = tmp_path / "seen.txt"
    plugin = write(tmp_path, f"""
import arena

@arena.hookimpl
def game_finished(record):
    with open({str(log)!r}, "a") as handle:
        handle.write(record.game_id + "\\n")
""", "logger.py")
    path = write(tmp_path, "plugins: [logger.py]\nconcurrency: 2\nplayers: [{type: random}, {type: random, name: r2}]\n")
    done = run_arena("league", str(path), "--out", str(tmp_path / "run"), "--quiet")
    assert done.returncode == 0, done.stderr
    assert sorted(log.read_text().split()) == ["r2|random|1", "r2|random|2"]
    assert plugin.exists()


def test_a_rules_change_after_games_were_played_is_refused(tmp_path, plugins):
    path = write(tmp_path, DETERMINISTIC)
    league = load_league(path, plugins, out=tmp_path / "run")
    LeagueRun(league).play()
    # More games under a longer move cap: the new games would mix with the old ones.
    longer = write(tmp_path, DETERMINISTIC.replace("max_moves: 60", "max_moves: 150").replace("games: 4", "games: 6"),
                   "longer.yaml")
    with pytest.raises(ResultsError, match=r"max_moves.:60.*max_moves.:150.*--fresh"):
        LeagueRun(load_league(longer, plugins, out=league.out))
    more = write(tmp_path, DETERMINISTIC.replace("games: 4", "games: 6"), "more.yaml")
    assert len(LeagueRun(load_league(more, plugins, out=league.out)).missing) == 6  # the same rules: resumes
    assert len(LeagueRun(load_league(longer, plugins, out=league.out), fresh=True).missing) == 18


def test_leagues_start_from_varied_openings_unless_told_otherwise(tmp_path, plugins):
    league = load_league(write(tmp_path, "players: [{type: random}, {type: stockfish, nodes: 50}]\n"
                                         "schedule: {games: 8}\n"), plugins)
    openings = [game.opening.moves for game in schedule_games(league)]
    assert league.openings.describe() == "4 random plies"
    assert len(set(openings)) == 4 and all(len(moves) == 4 for moves in openings)
    standard = load_league(write(tmp_path, "players: [{type: random}]\nopenings: {type: none}\n", "none.yaml"),
                           plugins)
    assert standard.openings.describe() == "standard start position"


REPEATING = """
seed: 2
players:
  - {type: stockfish, nodes: [40, 80]}
schedule: {games: GAMES}
openings: {type: none}
rules: {max_moves: 12}
raters: [glicko2, bradley_terry]
"""


def test_repeated_games_are_counted_once_and_do_not_narrow_the_intervals(tmp_path, plugins):
    from arena.rating.rate import build_raters, games_of, rate_and_report

    widths = {}
    for games in (2, 8):
        league = load_league(write(tmp_path, REPEATING.replace("GAMES", str(games)), f"g{games}.yaml"), plugins,
                             out=tmp_path / f"run{games}")
        LeagueRun(league).play()
        records = list(read_records(league.out))
        # Two deterministic engines from the same start replay the same two games (one per colour).
        assert len({tuple(m.uci for m in r.moves) for r in records}) == 2
        report = rate_and_report(games_of(records, "x"), build_raters(league.raters, plugins, "x"), {}, None)
        row = report.rows[0]
        assert (row.games, row.distinct) == (games, 2)
        widths[games] = {rater: rating.high - rating.low for rater, rating in row.ratings.items()}
    assert widths[8]["glicko2"] == pytest.approx(widths[2]["glicko2"])
    assert widths[8]["bradley_terry"] == pytest.approx(widths[2]["bradley_terry"])
    done = run_arena("rate", str(tmp_path / "run8"))
    assert done.returncode == 0, done.stderr
    assert "repeated games: distinct games per player: " in done.stdout and "2 of 8" in done.stdout


# --- Paths: relative to the file that names them ------------------------------------------------------------

#: A local plugin whose player declares its path options by type, as any plugin would.
PATHY = """
from pathlib import Path

import arena
from arena.spec import FilePath


class Pathy(arena.Player):
    def __init__(self, *, data: FilePath, notes: Path | None = None, level: int = 1):
        self.data = data

    def default_name(self):
        return Path(self.data).stem

    def choose_one(self, request):
        return next(iter(request.board.legal_moves))


@arena.hookimpl
def register_players(register):
    register("pathy", Pathy)
"""


def project(root: Path) -> Path:
    """A league in root/leagues naming a plugin, an opening file, a player file and data files by relative paths."""
    for name, text in {
        "plug/pathy.py": PATHY,
        "books/lines.pgn": "1. e4 e5 2. Nf3 *\n",
        "data/a/model.txt": "a", "data/b/model.txt": "b", "data/own.txt": "own",
        "players/p.yaml": "type: pathy\nname: filed\ndata: ../data/own.txt\n",
        "leagues/league.yaml": """
name: paths
out: ../runs/paths
plugins: [../plug/pathy.py]
openings: {type: file, path: ../books/lines.pgn}
players:
  - type: pathy
    data: [../data/a/model.txt, ../data/b/model.txt]
    notes: notes.md
  - ../players/p.yaml
  - random
""",
    }.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root / "leagues" / "league.yaml"


def test_every_relative_path_in_a_league_is_relative_to_the_league_file(tmp_path, monkeypatch, plugins):
    league_file = project(tmp_path / "project")
    monkeypatch.chdir(tmp_path)  # not the league's folder
    league = load_league("project/leagues/league.yaml", plugins)
    root = tmp_path / "project"
    assert league.out == root / "runs" / "paths"
    assert league.plugins.files == (str(root / "plug" / "pathy.py"),)
    assert league.openings.describe().startswith(f"file {root / 'books' / 'lines.pgn'} (1 opening)")
    by_name = {spec.name: spec for spec in league.players}
    # Same file name in two folders: the names show the shortest trailing part that differs.
    assert list(by_name) == ["model@data=a/model", "model@data=b/model", "filed", "random"]
    assert by_name["model@data=a/model"].options == {
        "data": str(root / "data" / "a" / "model.txt"), "notes": str(root / "leagues" / "notes.md")}
    assert by_name["filed"].options == {"data": str(root / "data" / "own.txt")}  # the player file's own folder
    assert by_name["filed"].type == "pathy"
    # Without out:, the run folder is results/NAME where arena runs; --out is the command line's.
    league_file.write_text(league_file.read_text().replace("out: ../runs/paths\n", ""))
    assert load_league(league_file, plugins).out == Path("results") / "paths"
    assert load_league(league_file, plugins, out="mine").out == Path("mine")


def test_missing_files_say_which_folder_they_were_looked_for_in(tmp_path, monkeypatch, plugins):
    league_file = project(tmp_path / "project")
    monkeypatch.chdir(tmp_path)
    text = league_file.read_text()
    folder = tmp_path / "project" / "leagues"
    cases = [
        (text.replace("../data/b/model.txt", "../data/c/model.txt"),
         f"players[0]: data '../data/c/model.txt' does not exist (looked for {tmp_path}/project/data/c/model.txt, "
         f"relative to the league file's folder {folder})"),
        (text.replace("../players/p.yaml", "p.yaml"),
         f"players[1]: player file 'p.yaml' does not exist (looked for {folder}/p.yaml, "
         f"relative to the league file's folder {folder})"),
        (text.replace("../plug/pathy.py", "pathy.py"),
         f"plugins[0]: 'pathy.py' does not exist (looked for {folder}/pathy.py, relative to the league file's folder"),
        (text.replace("../books/lines.pgn", "lines.pgn"),
         f"openings.path: 'lines.pgn' does not exist (looked for {folder}/lines.pgn, relative to the league file's"),
    ]
    for changed, message in cases:
        league_file.write_text(changed)
        with pytest.raises(ConfigError) as caught:
            load_league(league_file, plugins)
        assert message in str(caught.value)
    (tmp_path / "project" / "players" / "p.yaml").write_text("type: pathy\ndata: gone.txt\n")
    league_file.write_text(text)
    with pytest.raises(ConfigError, match=r"data 'gone.txt' does not exist .*relative to the player file's folder"):
        load_league(league_file, plugins)


def test_a_player_file_and_command_line_specs_keep_their_own_bases(tmp_path, monkeypatch):
    from arena.play.match import Match
    from arena.spec import parse_player_spec
    from arena import load_plugins

    project(tmp_path / "project")
    plugins = load_plugins([str(tmp_path / "project" / "plug" / "pathy.py")])
    monkeypatch.chdir(tmp_path / "project" / "data")
    # The command line: the file is found from the current directory, its paths from its own folder.
    with Match(parse_player_spec("../players/p.yaml"), parse_player_spec("pathy:data=a/model.txt"), plugins) as match:
        (record,) = match.play(1, seed=1)
    assert record.white.options == {"data": str(tmp_path / "project" / "data" / "own.txt")}
    assert record.black.options == {"data": "a/model.txt"}  # typed here, relative to here: kept as typed
    with pytest.raises(ConfigError, match=r"data 'gone.txt' does not exist \(looked for .*, relative to the "
                                          r"current directory"):
        with Match(parse_player_spec("pathy:data=gone.txt"), parse_player_spec("random"), plugins):
            pass


def test_shipped_configs_work_from_another_directory(tmp_path, monkeypatch, plugins):
    from arena.spec import build_player, load_player_file, resolve_spec
    from arena_plugins.study.study import evaluation_league, experts_league, load_study, training_config
    from arena_plugins.training.config import load_training

    monkeypatch.chdir(tmp_path)
    demo = load_league(ROOT / "configs" / "demo.yaml", plugins)
    model = str(ROOT / "models" / "transcendence-tiny.pt")
    assert {spec.options.get("checkpoint") for spec in demo.players if spec.type == "transformer"} == {model}
    assert demo.out == Path("results") / "demo"  # the default run folder: where arena runs
    for path in sorted((ROOT / "configs").glob("*.yaml")):
        if path.name not in STUDIES:
            load_league(path, plugins)
    study = load_study(ROOT / "configs" / "transcendence.yaml")
    assert study.out == ROOT / "results" / "transcendence"
    config = training_config(study)
    experts_league(study, plugins)
    evaluation_league(study, plugins, config)
    tiny = load_training(ROOT / "configs" / "train" / "tiny.yaml")
    assert tiny.sources == [{"run": str(ROOT / "results" / "smoke")}]
    assert tiny.train.learning_rate == 3.0e-3
    for path in sorted((ROOT / "configs" / "players").glob("*.yaml")):
        build_player(resolve_spec(load_player_file(path), plugins), plugins)


def test_a_training_file_reads_paths_from_its_folder_and_numbers_with_exponents(tmp_path, monkeypatch):
    from arena_plugins.training.config import load_training

    folder = tmp_path / "train"
    folder.mkdir()
    (tmp_path / "games.pgn").write_text("1. e4 e5 *\n")
    (folder / "opponent.yaml").write_text("type: stockfish\nnodes: 100\n")
    path = folder / "t.yaml"
    path.write_text("""
out: ../out/t
data: {sources: [{path: ../games.pgn}, {run: ../runs/experts}]}
train: {learning_rate: 3e-4, min_lr: 1e-5, weight_decay: 1e-1}
evaluate: {opponents: [random, opponent.yaml]}
""")
    monkeypatch.chdir(tmp_path / "train")
    config = load_training("t.yaml")
    assert config.train.learning_rate == 0.0003 and config.train.min_lr == 1e-5 and config.train.weight_decay == 0.1
    assert config.out == tmp_path / "out" / "t"
    assert config.sources == [{"path": str(tmp_path / "games.pgn")}, {"run": str(tmp_path / "runs" / "experts")}]
    assert config.evaluate["opponents"] == ["random", str(folder / "opponent.yaml")]
    path.write_text(path.read_text().replace("../games.pgn", "games.pgn"))
    with pytest.raises(ConfigError, match=r"data.sources\[0\].path: 'games.pgn' does not exist .*relative to "
                                          r"the training file's folder"):
        load_training(path)
    path.write_text("data: {sources: [{path: ../games.pgn}]}\ntrain: {learning_rate: fast}\n")
    with pytest.raises(ConfigError, match="train.learning_rate: 'fast' must be a number"):
        load_training(path)


def test_a_study_reads_paths_from_its_folder(tmp_path, monkeypatch, plugins):
    from arena_plugins.study.study import load_study

    (tmp_path / "studies").mkdir()
    path = tmp_path / "studies" / "s.yaml"
    path.write_text("""
out: ../runs/s
experts: {players: [{type: random}, {type: random, name: r2}], openings: {type: file, path: ../lines.pgn}}
train: {train: {learning_rate: 3e-4}}
evaluate: {players: [{type: transformer, name: model}]}
""")
    (tmp_path / "lines.pgn").write_text("1. d4 *\n")
    monkeypatch.chdir(tmp_path / "studies")
    from arena_plugins.study.study import experts_league, training_config

    study = load_study("s.yaml")
    assert study.out == tmp_path / "runs" / "s"
    assert experts_league(study, plugins).openings.describe().startswith(f"file {tmp_path / 'lines.pgn'}")
    assert training_config(study).train.learning_rate == 0.0003


# --- Names ---------------------------------------------------------------------------------------------------


def test_a_checkpoint_sweep_names_each_by_the_folder_that_tells_them_apart(tmp_path, plugins):
    import shutil

    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        shutil.copy(ROOT / "models" / "transcendence-tiny.pt", tmp_path / folder / "model.pt")
    league = load_league(write(tmp_path, f"""
players:
  - type: transformer
    checkpoint: [{tmp_path}/a/model.pt, {tmp_path}/b/model.pt]
    temperature: [0.1, 1.0]
  - type: random
"""), plugins)
    assert names(league) == ["model@checkpoint=a/model,t=0.1", "model@checkpoint=a/model,t=1.0",
                             "model@checkpoint=b/model,t=0.1", "model@checkpoint=b/model,t=1.0", "random"]


def test_name_collisions_suggest_a_fix_that_works(tmp_path, plugins):
    with pytest.raises(ConfigError, match=r"players\[0\]: its sweep gives two players the name 'stockfish-skill1' "
                                          r"\(skill=1\); remove the repeated value"):
        load_league(write(tmp_path, "players: [{type: stockfish, skill: [1, 3, 1], nodes: 50}]\n"), plugins)
    text = "players:\n  - {type: stockfish, skill: [1, 3], nodes: 50}\n  - {type: stockfish, skill: 1, nodes: 50}\n"
    with pytest.raises(ConfigError) as caught:
        load_league(write(tmp_path, text), plugins)
    message = str(caught.value)
    assert "player name 'stockfish-skill1' is also the name of players[0]" in message
    assert "give players[1] a 'name:' of its own (e.g. name: stockfish-skill1-2)" in message
    fixed = text.replace("skill: 1, nodes: 50}", "skill: 1, nodes: 50, name: stockfish-skill1-2}")
    assert names(load_league(write(tmp_path, fixed), plugins)) == [
        "stockfish-skill1", "stockfish-skill3", "stockfish-skill1-2"]


def test_options_that_vary_together_still_tell_players_apart():
    from arena.naming import NameParts, distinct_names

    players = [NameParts("stockfish", {"nodes": 50, "depth": 3}), NameParts("stockfish", {"nodes": 200, "depth": 5}),
               NameParts("x", {"player": {"type": "stockfish", "nodes": 50}}),
               NameParts("x", {"player": {"type": "stockfish", "nodes": 400}})]
    assert distinct_names(players) == ["stockfish@nodes=50", "stockfish@nodes=200", "x@player.nodes=50",
                                       "x@player.nodes=400"]
    assert distinct_names([NameParts("m", {"c": "/w/a/m.pt"}), NameParts("m", {"c": "/w/a/m.bin"})]) == [
        "m@c=m.pt", "m@c=m.bin"]
    assert distinct_names([NameParts("random", {}), NameParts("random", {})]) == ["random", "random"]


# --- Player files and specs in leagues -----------------------------------------------------------------------


def test_a_league_takes_player_files_and_specs_where_it_takes_mappings(tmp_path, plugins):
    (tmp_path / "players").mkdir()
    (tmp_path / "players" / "sf.yaml").write_text("type: stockfish\nskill: [2, 4]\nnodes: 100\n")
    league = load_league(write(tmp_path, """
players:
  - players/sf.yaml
  - stockfish:skill=3,nodes=100
  - random
  - {type: stockfish, skill: 6, nodes: 100}
"""), plugins)
    assert names(league) == ["stockfish-skill2", "stockfish-skill4", "stockfish-skill3", "random", "stockfish-skill6"]
    assert league.players[2].options == {"skill": 3, "nodes": 100}
    with pytest.raises(ConfigError, match=r"players\[0\] \(player file .*sf.yaml\): player 'stockfish' has no "
                                          r"option 'skil'"):
        (tmp_path / "players" / "sf.yaml").write_text("type: stockfish\nskil: 2\n")
        load_league(tmp_path / "league.yaml", plugins)
    with pytest.raises(ConfigError, match=r"players\[0\]: a player needs a mapping with a 'type' key"):
        load_league(write(tmp_path, "players: [3]\n"), plugins)


def test_the_shipped_player_files_join_a_league(tmp_path, plugins):
    league = load_league(write(tmp_path, f"players: [{ROOT}/configs/players/stockfish-skill3.yaml, random]\n"),
                         plugins)
    assert names(league) == ["stockfish-skill3", "random"]
    assert league.players[0].options == {"skill": 3, "nodes": 2000}


# --- Numbers written with exponents --------------------------------------------------------------------------


def test_numbers_with_exponents_are_numbers_in_every_file_kind(tmp_path, plugins):
    from arena.spec import parse_player_spec

    league = load_league(write(tmp_path, """
players: [{type: stockfish, nodes: 100}, {type: random}]
stop: {precision: 2.5e1, max_games: 200}
"""), plugins)
    assert league.stop is not None and league.stop.precision == 25.0
    assert parse_player_spec("noisy:epsilon=2e-1").options == {"epsilon": 0.2}
    (tmp_path / "p.yaml").write_text("type: noisy\nepsilon: 3e-1\nplayer: random\n")
    assert parse_player_spec(str(tmp_path / "p.yaml")).options["epsilon"] == 0.3
    with pytest.raises(ConfigError, match="concurrency: 100000.0 must be a whole number >= 1: write 100000"):
        load_league(write(tmp_path, "players: [{type: random}]\nconcurrency: 1e5\n"), plugins)


# --- Default concurrency -------------------------------------------------------------------------------------


def test_leagues_default_to_the_machines_cores_and_batches_for_batched_players(tmp_path, plugins):
    from arena import load_plugins
    from arena.league.config import MAX_DEFAULT_WORKERS, machine_cores

    cores = min(machine_cores(), MAX_DEFAULT_WORKERS)
    plain = load_league(write(tmp_path, "players: [{type: random}, {type: stockfish, nodes: 50}]\n"), plugins)
    assert (plain.concurrency, plain.games_in_flight) == (cores, 1)
    assert plain.describe_concurrency().startswith(f"{cores} worker")
    if cores == machine_cores():
        assert f"(default: this machine's {cores} cores)" in plain.describe_concurrency()
    recorder = TESTS / "local_plugins" / "batch_recorder.py"
    batched = load_league(write(tmp_path, f"plugins: [{recorder}]\n"
                                          f"players: [{{type: batch_recorder, log: x}}, {{type: random}}]\n"),
                          load_plugins([str(recorder)]))
    assert (batched.concurrency, batched.games_in_flight) == (cores, 16)
    assert "16 games in flight (default with a batched player)" in batched.describe_concurrency()
    given = load_league(write(tmp_path, "players: [{type: random}]\nconcurrency: 3\ngames_in_flight: 2\n"), plugins)
    assert given.describe_concurrency() == "3 workers x 2 games in flight"


def test_a_league_whose_workers_keep_dying_gives_up_with_a_message(tmp_path, plugins):
    (tmp_path / "fatal.py").write_text('''
import os
import signal

import arena


class Fatal(arena.Player):
    """Kills the worker it runs in at its first move: a segfault of a native library, say."""

    def choose_one(self, request):
        os.kill(os.getpid(), signal.SIGKILL)


@arena.hookimpl
def register_players(register):
    register("fatal", Fatal)
''')
    path = write(tmp_path, "plugins: [fatal.py]\nconcurrency: 1\nplayers: [{type: fatal}, {type: random}]\n"
                           "schedule: {games: 2}\nopenings: {type: none}\n")
    league = load_league(path, plugins, out=tmp_path / "run")
    with pytest.raises(WorkerFailed, match=r"^11 workers died \(the last was worker 0 on "):
        LeagueRun(league).play()
    assert not list(read_records(league.out))  # nothing half-played was recorded
