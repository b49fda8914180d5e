"""Leagues on Ray (the ``ray`` executor): real Ray on this machine, a local instance and a 2-node cluster."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import ray
import yaml

from arena import ConfigError
from arena.league.config import load_league
from arena.league.run import LeagueRun
from arena.league.store import read_records
from conftest import TESTS

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
    assert manifest["executor"] == {"type": "ray"} and run["executor"]["per_worker"] == {"CPU": 1.0}
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
    assert "each worker needs 1 CPU, 1 GPU, but the Ray cluster has GPU 0 in all" in str(done.exception)
    assert not ray.is_initialized()  # the Ray started for the league is shut down again
