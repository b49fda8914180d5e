"""The study pipeline: a miniature transcendence study end to end, its stages alone, its checks and its verdict."""

from __future__ import annotations

import json

import pytest
import yaml

from arena.rating.model import Rating
from arena_plugins.study.study import cap_note
from arena_plugins.study.verdict import compare
from arena_plugins.transformer.checkpoint import load_model
from arena_plugins.transformer.tokenizer import MoveTokenizer
from conftest import ROOT, run_arena

#: Three experts (one above the rating cap), a two-layer model of moves trained for a few steps, two temperatures.
MINI = {
    "name": "mini",
    "seed": 3,
    "experts": {
        "concurrency": 2,
        "games_in_flight": 2,
        "players": [
            {"type": "noisy", "name": "careful", "player": {"type": "stockfish", "nodes": 50}, "epsilon": 0.2,
             "mistakes": "habitual"},
            {"type": "noisy", "name": "sloppy", "player": {"type": "stockfish", "nodes": 50}, "epsilon": 0.6},
            {"type": "stockfish", "name": "master", "nodes": 400},
        ],
        "schedule": {"type": "round_robin", "games": 10},
        "openings": {"type": "random", "plies": 2},
        "rules": {"max_moves": 60},
    },
    "train": {
        "data": {"filters": {"max_rating": 1650}, "validation": 0.3, "tokenizer": "move"},
        "model": {"size": "tiny", "n_layer": 2, "n_embd": 32, "n_head": 2, "block_size": 48},
        "train": {"max_steps": 20, "batch_size": 4, "eval_interval": 10, "checkpoint_interval": 10,
                  "learning_rate": 3.0e-3},
    },
    "evaluate": {
        "concurrency": 2,
        "games_in_flight": 4,
        "players": [
            {"type": "transformer", "name": "model", "temperature": [0.001, 1.0], "decoding": "legal"},
            {"type": "random"},
        ],
        "schedule": {"type": "gauntlet", "challengers": ["model@*"], "games": 2},
        "openings": {"type": "random", "plies": 2},
        "rules": {"max_moves": 30, "move_cap_result": "eval"},
        "adjudication": {"engine": "stockfish", "nodes": 2000},
    },
}


def write_study(tmp_path, study=None, name="mini.yaml"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump({**(study or MINI), "out": str(tmp_path / "out")}, sort_keys=False))
    return path


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """The miniature study, run stage by stage and then resumed as one command."""
    folder = tmp_path_factory.mktemp("study")
    path = write_study(folder)
    early = run_arena("study", str(path), "--stage", "evaluate", "--quiet")
    first = run_arena("study", str(path), "--stage", "experts", "--quiet")
    rest = run_arena("study", str(path), "--quiet")  # experts resume (nothing to play), then the other stages
    return folder / "out", early, first, rest


def test_the_miniature_study_runs_end_to_end(finished):
    out, _, first, rest = finished
    assert first.returncode == 0, first.stderr
    assert rest.returncode == 0, rest.stderr
    assert "stage experts" in first.stdout and "stage train" not in first.stdout
    for stage in ("experts", "train", "evaluate", "report"):
        assert f"stage {stage}" in rest.stdout
    assert "30 games, 30 already played" in rest.stdout  # the experts stage resumed, nothing replayed
    assert "the rating cap 1650 leaves out the games of master (" in rest.stdout
    for name in ("rating_vs_temperature.png", "report.md", "verdict.json", "study.yaml",
                 "experts/standings.json", "model/model.pt", "evaluation/games.jsonl", "evaluation/standings.csv"):
        assert (out / name).exists(), name
    assert (out / "rating_vs_temperature.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert isinstance(load_model(out / "model" / "model.pt")[1], MoveTokenizer)  # the study's tokenizer: move


def test_the_report_compares_the_model_with_the_best_expert_in_its_data(finished):
    out = finished[0]
    verdict = json.loads((out / "verdict.json").read_text())
    experts = json.loads((out / "experts" / "standings.json").read_text())
    assert [row["player"] for row in experts][0] == "master"  # stockfish without noise tops the experts
    assert verdict["capped"] == ["master"]  # rated above the cap of 1650: not in the data, not the bar
    assert verdict["best_expert"]["name"] in {"careful", "sloppy"}
    assert [point["temperature"] for point in verdict["points"]] == [0.001, 1.0]
    best = verdict["best_expert"]
    for point in verdict["points"]:
        expected = ("above" if point["low"] > best["high"] else "below" if point["high"] < best["low"]
                    else "overlapping")
        assert point["versus_best"] == expected
    assert verdict["transcends"] == any(p["versus_best"] == "above" and p["temperature"] <= 0.1
                                        for p in verdict["points"])
    report = (out / "report.md").read_text()
    assert verdict["statement"] in report
    assert "| 0.001 |" in report and "| 1 |" in report
    assert "Left out of the training data by the rating cap: master." in report
    # Games with the capped expert were dropped from the data (the trainer's summary says so).
    assert "a player rated above 1650" in json.dumps(json.loads((out / "model" / "data" / "meta.json").read_text()))
    games = [json.loads(line) for line in (out / "evaluation" / "games.jsonl").read_text().splitlines()]
    names = {name for game in games for name in (game["white"]["name"], game["black"]["name"])}
    assert names == {"model@t=0.001", "model@t=1.0", "careful", "sloppy", "master", "random"}


def test_a_stage_that_needs_an_earlier_one_says_which(finished):
    early = finished[1]
    assert early.returncode == 2
    assert "run the train stage first" in early.stderr
    assert "Traceback" not in early.stderr


def test_check_prints_the_plan_without_running(tmp_path):
    done = run_arena("study", str(write_study(tmp_path)), "--check")
    assert done.returncode == 0, done.stderr
    assert "experts (3): careful, sloppy, master" in done.stdout
    assert "model@t=0.001, model@t=1.0, random, careful, sloppy, master" in done.stdout
    assert "rating cap 1650" in done.stdout
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("change, message", [
    (lambda s: s["evaluate"]["players"].pop(0), "evaluate): players: has no trained model"),
    (lambda s: s["experts"].update(name="x"), "experts.name: is set by the study"),
    (lambda s: s["evaluate"]["players"][0].update(decoding="beam"), "(evaluate): players[0]"),
    (lambda s: s["train"]["model"].update(size="huge"), "(train): model.size"),
    (lambda s: s.pop("train"), "train: the study needs a 'train:' section"),
])
def test_bad_study_files_are_reported_with_file_and_key(tmp_path, change, message):
    study = json.loads(json.dumps(MINI))
    change(study)
    done = run_arena("study", str(write_study(tmp_path, study)), "--check")
    assert done.returncode == 2
    assert message in done.stderr, done.stderr
    assert "mini.yaml" in done.stderr and "Traceback" not in done.stderr


def test_a_cap_above_every_expert_is_called_out():
    ratings = {"master": 1717.0, "expert": 1499.0}
    assert cap_note(ratings, 1600) == "the rating cap 1600 leaves out the games of master (1717)"
    warning = cap_note(ratings, 1750)
    assert warning.startswith("warning: the rating cap 1750 is above every expert's rating")
    assert "(the highest is master, 1717)" in warning and "train.data.filters.max_rating" in warning


def rating(name, value, half_width):
    return Rating(name, value, value - half_width, value + half_width, games=10, score=0.5)


def test_compare_needs_intervals_apart_and_ignores_capped_experts():
    ratings = [rating("model@t=0.01", 1700, 40), rating("model@t=0.3", 1620, 40), rating("model@t=1.0", 1450, 40),
               rating("best", 1600, 30), rating("worse", 1400, 30), rating("capped", 1900, 30)]
    verdict = compare(ratings, ["model@t=1.0", "model@t=0.01", "model@t=0.3"], ["best", "worse", "capped"],
                      {"model@t=0.01": 0.01, "model@t=0.3": 0.3, "model@t=1.0": 1.0}, capped=["capped"])
    assert verdict.best_expert.name == "best"
    assert [(p.temperature, p.versus_best) for p in verdict.points] == [
        (0.01, "above"), (0.3, "overlapping"), (1.0, "below")]
    assert verdict.transcends
    assert "transcends its experts at temperature 0.01" in verdict.statement()
    assert "At temperature 1 (the experts' mixture) it is below" in verdict.statement()
    only_high = compare(ratings, ["model@t=0.3"], ["best"], {"model@t=0.3": 0.3})
    assert not only_high.transcends and "does not transcend" in only_high.statement()


def test_a_study_file_given_to_the_league_commands_says_what_it_is():
    done = run_arena("validate", str(ROOT / "configs" / "transcendence.yaml"))
    assert done.returncode == 2
    assert "is a study file, not a league: run it with 'arena study" in done.stderr


def test_the_shipped_study_checks(tmp_path):
    done = run_arena("study", str(ROOT / "configs" / "transcendence.yaml"), "--check", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    # Its out: is relative to the study file, not to where arena runs.
    assert f"folder {ROOT / 'results' / 'transcendence'}" in done.stdout.splitlines()[0]
    assert "model@t=0.001" in done.stdout and "model@t=1.5" in done.stdout
