"""Leagues on Ray (the ``ray`` executor): real Ray on this machine, a local instance and a 2-node cluster."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import ray
import yaml

from arena import ConfigError
from arena.league.config import load_league
from arena.league.run import LeagueRun
from arena.league.store import read_records
from arena.spec import build_player
from conftest import TESTS, batch_recorder_league, batch_sizes, league_process, run_arena, wait_for_games

ROOT = TESTS.parent


def _invoke(plugins, *args):
    from click.testing import CliRunner

    from arena.cli import cli

    return CliRunner().invoke(cli, [str(arg) for arg in args], obj=plugins)


def _moves(folder: Path) -> dict[str, tuple[list[str], str]]:
    return {r.game_id: ([m.uci for m in r.moves], r.result) for r in read_records(folder)}


def _game_ids(folder: Path) -> list[str]:
    return [json.loads(line)["game_id"] for line in (folder / "games.jsonl").read_text().splitlines()]


def _deterministic_smoke(tmp_path: Path) -> Path:
    """The smoke league without its Stockfish skill levels (a skill level picks its moves at random)."""
    data = yaml.safe_load((ROOT / "configs" / "smoke.yaml").read_text())
    data["players"] = [player for player in data["players"] if "skill" not in player]
    path = tmp_path / "smoke.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_the_smoke_league_on_a_local_ray_plays_the_same_games_as_local_workers(tmp_path, plugins):
    league_file = _deterministic_smoke(tmp_path)
    local = load_league(league_file, plugins, out=tmp_path / "local")
    LeagueRun(local).play()
    done = _invoke(plugins, "league", league_file, "--executor", "ray", "--out", tmp_path / "ray", "--quiet")
    assert done.exit_code == 0, (done.output, done.exception)
    assert not ray.is_initialized()  # the Ray it started for the league is shut down
    played = _moves(tmp_path / "ray")
    assert len(played) == 12 and played == _moves(tmp_path / "local")
    manifest = json.loads((tmp_path / "ray" / "manifest.json").read_text())
    run = manifest["runs"][-1]
    assert manifest["executor"] == {"type": "ray"} and run["workers"] == 2
    assert run["executor"]["kinds"] == [{"resources": {"CPU": 1.0}, "workers": 2, "plays": "every game"}]
    ran = [game for games in run["ran_on"].values() for game in games]
    assert sorted(ran) == sorted(played) and all(" node " in where for where in run["ran_on"])


SLOW = """
seed: 2
concurrency: 2
games_in_flight: 2
players:
  - type: random
  - type: stockfish
    nodes: [3000, 6000]
schedule: {games: 4}
rules: {max_moves: 60}
"""


def _actor_processes() -> list[int]:
    """This machine's processes of league actors (Ray titles them ray::LeagueActor...)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "cmdline").read_bytes().startswith(b"ray::LeagueActor"):
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def test_a_killed_actor_has_its_games_played_again(tmp_path, plugins):
    path = tmp_path / "league.yaml"
    path.write_text(SLOW + "executor: ray\n")
    league = load_league(path, plugins, out=tmp_path / "run")
    killed = []

    def kill_an_actor(record) -> None:
        if not killed:
            actors = _actor_processes()
            assert len(actors) == 2
            os.kill(actors[0], signal.SIGKILL)
            killed.append(actors[0])

    run = LeagueRun(league)
    run.play(kill_an_actor)
    ids = _game_ids(league.out)
    assert killed and len(ids) == len(set(ids)) == 12
    ran_on = json.loads((league.out / "manifest.json").read_text())["runs"][-1]["ran_on"]
    assert sorted(game for games in ran_on.values() for game in games) == sorted(ids)


def test_a_league_survives_losing_a_node_of_its_cluster(tmp_path, plugins):
    from ray.cluster_utils import Cluster

    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
    try:
        doomed = cluster.add_node(num_cpus=1)
        cluster.wait_for_nodes()
        path = tmp_path / "league.yaml"
        path.write_text(SLOW + f"executor: {{type: ray, address: '{cluster.address}'}}\n")
        league = load_league(path, plugins, out=tmp_path / "run")
        removed = []

        def remove_a_node(record) -> None:
            if not removed:
                cluster.remove_node(doomed)
                removed.append(doomed)

        LeagueRun(league).play(remove_a_node)
        ids = _game_ids(league.out)
        assert removed and len(ids) == len(set(ids)) == 12
        run = json.loads((league.out / "manifest.json").read_text())["runs"][-1]
        assert run["executor"]["nodes"] == 2 and run["status"] == "completed"
        assert sorted(game for games in run["ran_on"].values() for game in games) == sorted(ids)
    finally:
        if ray.is_initialized():
            ray.shutdown()
        cluster.shutdown()


def test_a_worker_that_needs_more_than_the_cluster_has_is_a_clear_error(tmp_path, plugins):
    path = tmp_path / "league.yaml"
    path.write_text(SLOW + "executor: {type: ray, num_gpus: 1}\n")
    done = _invoke(plugins, "league", path, "--out", tmp_path / "run", "--quiet")
    assert isinstance(done.exception, ConfigError), done.output
    assert "a worker needs 1 CPU, 1 GPU, but the Ray cluster has GPU 0 in all" in str(done.exception)
    assert not ray.is_initialized()  # the Ray started for the league is shut down again


def test_without_ray_installed_the_ray_executor_says_how_to_install_it(tmp_path, plugins, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # what 'import ray' meets where the extra is not installed
    path = tmp_path / "league.yaml"
    path.write_text(SLOW)
    done = _invoke(plugins, "league", path, "--executor", "ray", "--out", tmp_path / "run", "--quiet")
    assert isinstance(done.exception, ConfigError), done.output
    assert "executor 'ray': the ray executor needs Ray, which is not installed: pip install 'arena-chess[ray]'" \
        in str(done.exception)
    assert not (tmp_path / "run").exists()  # refused as the file was read


def test_validate_names_the_executor_and_the_command_line_overrides_the_files(tmp_path, plugins):
    path = tmp_path / "league.yaml"
    path.write_text(SLOW + "executor: {type: ray, address: auto, workers: 16}\n")
    done = _invoke(plugins, "validate", path)
    assert done.exit_code == 0 and "executor: ray:address=auto,workers=16" in done.output
    assert load_league(path, plugins, executor="local").executor.describe() == "local"
    assert load_league(path, plugins, executor="ray").executor.options == {"address": "auto", "workers": 16}


@pytest.mark.parametrize("section, message", [
    ("executor: nope", "unknown executor type 'nope'; known types: local, ray"),
    ("executor: {type: ray, workers: 0}", "option workers=0 must be"),
    ("executor: {type: ray, adress: auto}", "executor 'ray' has no option 'adress' (did you mean 'address'?)"),
    ("executor: 3", "executor: 3 is not an executor; write its type (executor: ray)"),
])
def test_a_bad_executor_section_is_refused_with_the_key_and_a_fix(tmp_path, plugins, section, message):
    path = tmp_path / "league.yaml"
    path.write_text(SLOW + section + "\n")
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_league(path, plugins)


def test_bench_league_on_ray_prints_its_runs_beside_local_and_the_ratio(plugins):
    done = _invoke(plugins, "bench", "league", "--executor", "ray", "--games", "2", "--nodes", "50",
                   "--rounds", "1", "--max-moves", "20")
    assert done.exit_code == 0, (done.output, done.exception)
    rows = [line.split() for line in done.output.splitlines() if line.startswith(("local 1", "ray 1"))]
    assert [row[:3] for row in rows] == [["local", "1", "2"], ["ray", "1", "2"]] and rows[0][3] == rows[1][3]
    assert re.search(r"ray vs local, median games/s: \d+\.\d\dx  \(target: >= 0\.9x: (met|NOT met)\)", done.output)
    assert re.search(r"ray's runtime: started in \d+\.\d s, stopped in \d+\.\d s", done.output)
    assert not ray.is_initialized()


def test_killing_a_league_on_ray_loses_no_finished_game_and_the_rerun_completes_it(tmp_path):
    path = tmp_path / "league.yaml"
    path.write_text(SLOW)
    out = tmp_path / "run"
    process = league_process(path, out, "--executor", "ray")
    wait_for_games(out / "games.jsonl", 2, process)
    process.kill()
    process.wait()
    before = _moves(out)
    assert 2 <= len(before) < 12
    done = run_arena("league", str(path), "--out", str(out), "--quiet", "--executor", "ray")
    assert done.returncode == 0, done.stderr
    assert f"{len(before)} already played" in done.stdout
    ids = _game_ids(out)
    assert len(ids) == len(set(ids)) == 12
    after = _moves(out)
    assert all(after[game_id] == moves for game_id, moves in before.items())


def test_ctrl_c_of_a_league_on_ray_saves_its_games_and_says_how_to_resume(tmp_path):
    path = tmp_path / "league.yaml"
    path.write_text(SLOW)
    out = tmp_path / "run"
    # In a session of its own, so that SIGINT reaches the whole group, Ray's processes too, as a terminal's Ctrl-C does.
    process = subprocess.Popen(
        [sys.executable, "-m", "arena", "league", str(path), "--out", str(out), "--executor", "ray"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    wait_for_games(out / "games.jsonl", 2, process)
    os.killpg(process.pid, signal.SIGINT)
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr
    saved = len(_game_ids(out))
    assert f"interrupted: {saved} of 12 games are saved; run the same command to resume" in stdout
    assert "Traceback" not in stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["runs"][-1]["status"] == "interrupted" and manifest["runs"][-1]["games_played"] == saved


def test_a_model_asks_for_a_gpu_per_worker_where_the_cluster_has_one(tmp_path, plugins, monkeypatch):
    from ray.cluster_utils import Cluster

    path = tmp_path / "league.yaml"
    path.write_text(f"""
seed: 4
players:
  - {{type: transformer, checkpoint: {ROOT / 'models' / 'transcendence-tiny.pt'}, temperature: 0.5}}
  - type: random
schedule: {{games: 4}}
rules: {{max_moves: 8}}
executor: ray
""")
    league = load_league(path, plugins, out=tmp_path / "run")
    # A GPU as Ray counts them (torch finds none here), on a cluster the league joins through RAY_ADDRESS.
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 2, "num_gpus": 1})
    address = cluster.address
    try:
        monkeypatch.setenv("RAY_ADDRESS", address)
        LeagueRun(league).play()
        assert not ray.is_initialized()  # it left the cluster it joined
    finally:
        cluster.shutdown()
    run = json.loads((league.out / "manifest.json").read_text())["runs"][-1]
    assert run["executor"]["address"] == address and run["workers"] == 1  # one GPU: one worker, not one per core
    assert run["executor"]["kinds"] == [{"resources": {"CPU": 1.0, "GPU": 1.0}, "workers": 1, "plays": "every game"}]
    assert len(_game_ids(league.out)) == 4
    model = build_player(league.players[0], plugins)
    assert model.resources({"CPU": 2.0}) == {"CPU": 1.0}  # no GPU in the cluster: none asked for


def test_a_players_resources_entry_decides_what_each_actor_asks_for(tmp_path, plugins):
    path = tmp_path / "league.yaml"
    path.write_text("""
seed: 4
players:
  - {type: random, name: heavy, resources: {CPU: 2}}
  - type: random
schedule: {games: 4}
rules: {max_moves: 8}
executor: ray
""")
    league = load_league(path, plugins, out=tmp_path / "run")
    assert league.players[0].resources == {"CPU": 2.0} and "resources" not in league.players[0].options
    LeagueRun(league).play()
    run = json.loads((league.out / "manifest.json").read_text())["runs"][-1]
    assert run["workers"] == 1  # two cores: room for one
    assert run["executor"]["kinds"] == [{"resources": {"CPU": 2.0}, "workers": 1, "plays": "every game"}]
    assert len(_game_ids(league.out)) == 4
    bad = tmp_path / "bad.yaml"
    bad.write_text(path.read_text().replace("{CPU: 2}", "{CPU: lots}"))
    with pytest.raises(ConfigError, match=re.escape("players[0]: resources: {'CPU': 'lots'} must map resource "
                                                    "names to amounts, e.g. {GPU: 1}")):
        load_league(bad, plugins)


def test_an_actor_batches_a_batched_players_requests_and_loads_the_leagues_plugin_files(tmp_path, plugins):
    path, log = batch_recorder_league(tmp_path, "concurrency: 1\nexecutor: ray\n")
    league = load_league(path, plugins, out=tmp_path / "run")
    LeagueRun(league).play()
    sizes = batch_sizes(log)
    assert max(sizes) == 6 and sum(sizes) >= 12 * 15
    assert len(_game_ids(league.out)) == 12


def test_games_that_need_no_gpu_go_to_workers_without_one(tmp_path, plugins, monkeypatch):
    from ray.cluster_utils import Cluster

    path = tmp_path / "league.yaml"
    path.write_text(f"""
seed: 5
players:
  - {{type: transformer, name: model, checkpoint: {ROOT / 'models' / 'transcendence-tiny.pt'}}}
  - {{type: random, name: r1}}
  - {{type: random, name: r2}}
schedule: {{games: 4}}
rules: {{max_moves: 8}}
executor: ray
""")
    league = load_league(path, plugins, out=tmp_path / "run")
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 3, "num_gpus": 1})
    try:
        monkeypatch.setenv("RAY_ADDRESS", cluster.address)
        LeagueRun(league).play()
    finally:
        cluster.shutdown()
    run = json.loads((league.out / "manifest.json").read_text())["runs"][-1]
    assert run["executor"]["kinds"] == [
        {"resources": {"CPU": 1.0, "GPU": 1.0}, "workers": 1, "plays": "every game"},
        {"resources": {"CPU": 1.0}, "workers": 2, "plays": "games that need no GPU"},  # the 2 CPUs left
    ]
    players = {r.game_id: {r.white.name, r.black.name} for r in read_records(league.out)}
    assert len(players) == 12
    by_worker = {where.rsplit(" ", 1)[1]: games for where, games in run["ran_on"].items()}
    assert all(players[game] == {"r1", "r2"} for number in ("1", "2") for game in by_worker.get(number, []))
    assert {game for game, names in players.items() if "model" in names} <= set(by_worker["0"])
