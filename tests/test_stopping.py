"""Leagues that stop when they know enough: SPRT per pairing, a precision target, a budget."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from arena import ConfigError
from arena.league.config import load_league
from arena.league.run import LeagueRun, stop_plan
from arena.league.stopping import StopRule, load_stop
from arena.play.record import GameRecord, MoveRecord, PlayerEntry, Termination
from arena.league.store import read_records
from arena.league.schedule import schedule_games
from arena.rating.headtohead import SprtSpec
from conftest import run_arena


def write(tmp_path: Path, text: str, name: str = "league.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


SIMULATED = """
seed: 11
players:
  - {type: random, name: a}
  - {type: random, name: b}
  - {type: random, name: c}
  - {type: random, name: d}
schedule: {type: gauntlet, challengers: [a, b], games: 200}
"""


def _outcome(game_id: str, white: str, black: str) -> str:
    """A fixed result per game (as seeded games have): 'a' is much stronger than everyone, 'b' less so."""
    strength = {"a": 300.0, "b": 150.0, "c": 0.0, "d": 0.0}
    expected = 1.0 / (1.0 + 10.0 ** ((strength[black] - strength[white]) / 400.0))
    draw = random.Random(f"{game_id}-draw").random() < 0.3
    if draw:
        return "1/2-1/2"
    return "1-0" if random.Random(game_id).random() < expected else "0-1"


def _simulate(league, capacity: int, order_seed: int, records=()) -> tuple[list[str], object]:
    """Run the plan as the runner would, ``capacity`` games at once, finishing them in a random order."""
    schedule = schedule_games(league)
    plan = stop_plan(league, schedule, list(records))
    shuffle = random.Random(order_seed)
    in_flight: list = []
    handed: list[str] = []
    while True:
        while len(in_flight) < capacity:
            game = plan.take()
            if game is None:
                break
            in_flight.append(game)
            handed.append(game.game_id)
        if not in_flight:
            assert plan.done()
            return handed, plan
        game = in_flight.pop(shuffle.randrange(len(in_flight)))
        plan.record(_record(game))


def _record(game) -> GameRecord:
    result = _outcome(game.game_id, game.white.name, game.black.name)
    return GameRecord(game.game_id, game.seed, PlayerEntry(game.white.name, "random"),
                      PlayerEntry(game.black.name, "random"), result, Termination.CHECKMATE,
                      moves=[MoveRecord(uci=f"{game.game_id}", san="?")])


def test_the_games_do_not_depend_on_concurrency_or_finishing_order(tmp_path, plugins):
    text = SIMULATED + "stop: {sprt: {elo0: 0, elo1: 50}, precision: 60, max_games: 600, pairs_ahead: 6}\n"
    league = load_league(write(tmp_path, text), plugins, out=tmp_path / "run")
    runs = [_simulate(league, capacity, seed) for capacity, seed in ((1, 0), (4, 1), (12, 2), (12, 3))]
    handed = [sorted(ids) for ids, _ in runs]
    assert all(ids == handed[0] for ids in handed)
    reasons = {plan.reason for _, plan in runs}
    assert len(reasons) == 1 and len(handed[0]) < 600
    assert all(plan.verdicts() == runs[0][1].verdicts() for _, plan in runs)
    # 'a' crushes its opponents: no SPRT of 'a' ends in H0.
    assert {v.decision for v in runs[0][1].verdicts() if v.a == "a"} <= {"H1", None}


def test_a_resumed_plan_hands_out_the_same_games(tmp_path, plugins):
    league = load_league(write(tmp_path, SIMULATED + "stop: {precision: 80, max_games: 400}\n"), plugins,
                         out=tmp_path / "run")
    whole, _ = _simulate(league, 5, 0)
    # A run killed after some games: those are in the folder, the rest is played on resume.
    done = [_record(game) for game in schedule_games(league) if game.game_id in set(whole[:37])]
    rest, plan = _simulate(league, 3, 9, records=done)
    assert sorted(rest + [record.game_id for record in done]) == sorted(whole)
    assert not set(rest) & {record.game_id for record in done}
    assert "interval is within +-80" in plan.reason


def test_pairings_take_turns_and_sprt_ends_each_on_its_own(tmp_path, plugins):
    text = SIMULATED + "stop: {sprt: {elo0: 0, elo1: 50, alpha: 0.05, beta: 0.05}, pairs_ahead: 1}\n"
    league = load_league(write(tmp_path, text), plugins, out=tmp_path / "run")
    handed, plan = _simulate(league, 1, 0)
    verdicts = plan.verdicts()
    assert [(v.a, v.b) for v in verdicts] == [("a", "c"), ("a", "d"), ("b", "c"), ("b", "d")]
    assert all(v.decision in ("H0", "H1") for v in verdicts) and plan.reason == "every pairing's SPRT has decided"
    # One pair ahead: nothing is played past a decision, so each pairing played exactly its test's pairs.
    for verdict in verdicts:
        played = [game_id for game_id in handed if game_id.startswith(f"{verdict.a}|{verdict.b}|")]
        assert len(played) == 2 * verdict.pairs
        assert (verdict.llr >= verdict.upper) == (verdict.decision == "H1")


@pytest.mark.parametrize("stop, message", [
    ("{sprt: {elo0: 5, elo1: 0}}", "stop.sprt: elo1 (0) must be greater than elo0 (5)"),
    ("{sprt: {elo1: 5}}", "stop.sprt: needs elo0 and elo1"),
    ("{sprt: {elo0: 0, elo1: five}}", "stop.sprt.elo1: 'five' must be a number"),
    ("{precision: -3}", "stop.precision: -3 must be a positive number"),
    ("{max_games: 7}", "stop.max_games: 7 is odd"),
    ("{precison: 25}", "stop.precison: unknown key"),
    ("{}", "stop: give sprt"),
])
def test_stop_rules_are_validated(tmp_path, plugins, stop, message):
    with pytest.raises(ConfigError) as caught:
        load_league(write(tmp_path, SIMULATED + f"stop: {stop}\n"), plugins)
    assert message in str(caught.value)


def test_a_stop_section_reads_as_its_rule_with_defaults():
    rule = load_stop({"sprt": {"elo0": 0, "elo1": 5, "model": "logistic"}, "precision": 25, "max_games": 200},
                     "league.yaml")
    assert rule == StopRule(SprtSpec(0.0, 5.0, 0.05, 0.05, "logistic"), 25.0, 200, 8)
    # Floats, as the manifest recorded them before.
    assert isinstance(rule.precision, float) and isinstance(rule.sprt.elo1, float)
    assert load_stop(None, "league.yaml") is None
    nulls = {"sprt": None, "max_games": None, "precision": 10}
    assert load_stop(nulls, "league.yaml") == StopRule(precision=10.0)


@pytest.mark.parametrize("stop, message", [
    # a wrong type, a value out of range and a misspelled key, in the section and in its sub-section
    ({"precision": "25"}, "stop.precision: '25' must be a positive number of Elo, e.g. 25"),
    ({"pairs_ahead": True}, "stop.pairs_ahead: True must be a whole number >= 1"),
    ({"max_games": 1e3}, "stop.max_games: 1000.0 must be a whole number >= 2: write 1000"),
    ({"precision": float("inf")}, "stop.precision: inf must be a positive number of Elo, e.g. 25"),
    ({"max_games": 0}, "stop.max_games: 0 must be a whole number >= 2"),
    ({"pairs_ahead": 0}, "stop.pairs_ahead: 0 must be a whole number >= 1"),
    ({"pairs_ahaed": 4},
     "stop.pairs_ahaed: unknown key; allowed keys: max_games, pairs_ahead, precision, sprt "
     "(did you mean 'pairs_ahead'?)"),
    ([25], "stop: must be a mapping, not list"),
    ({"sprt": {"elo0": 0, "elo1": 5, "alpha": "0.05"}},
     "stop.sprt.alpha: '0.05' must be a number > 0 and < 0.5"),
    ({"sprt": {"elo0": 0, "elo1": 5, "model": "bayes"}},
     "stop.sprt.model: 'bayes' must be one of normalized, logistic"),
    ({"sprt": {"elo0": 0, "elo1": 5, "beta": 0.5}}, "stop.sprt.beta: 0.5 must be a number > 0 and < 0.5"),
    ({"sprt": {"elo0": float("-inf"), "elo1": 5}}, "stop.sprt.elo0: -inf must be a number of Elo, e.g. 5"),
    ({"sprt": {"elo0": 0, "elo1": 5, "modle": "logistic"}},
     "stop.sprt.modle: unknown key; allowed keys: alpha, beta, elo0, elo1, model (did you mean 'model'?)"),
    ({"sprt": [0, 5]}, "stop.sprt: must be a mapping, not list"),
])
def test_stop_errors_name_the_file_and_key_path(stop, message):
    with pytest.raises(ConfigError) as caught:
        load_stop(stop, "league.yaml")
    assert str(caught.value) == f"league.yaml: {message}"


PRECISION = """
seed: 5
players:
  - {type: stockfish, name: sf-10, nodes: 10}
  - {type: stockfish, name: sf-40, nodes: 40}
  - {type: stockfish, name: sf-20, nodes: 20}
schedule: {type: gauntlet, challengers: [sf-10, sf-40], games: 60}
rules: {max_moves: 60}
stop: {precision: 150, max_games: 100, pairs_ahead: 4}
"""


def _games(folder: Path) -> dict[str, list[str]]:
    return {record.game_id: [move.uci for move in record.moves] for record in read_records(folder)}


def test_a_precision_league_stops_early_with_the_same_games_at_any_concurrency(tmp_path, plugins):
    runs = {}
    for concurrency in (1, 2):
        path = write(tmp_path, PRECISION + f"concurrency: {concurrency}\n", f"league{concurrency}.yaml")
        done = run_arena("league", str(path), "--out", str(tmp_path / f"run{concurrency}"), "--quiet")
        assert done.returncode == 0, done.stderr
        runs[concurrency] = _games(tmp_path / f"run{concurrency}")
        assert "interval is within +-150" in done.stdout
    assert runs[1] == runs[2]
    assert 8 <= len(runs[1]) < 100  # fewer than the budget
    standings = json.loads((tmp_path / "run2" / "standings.json").read_text())
    for row in standings:
        if row["player"].startswith("sf-"):
            assert row["high"] - row["low"] <= 2 * 150
    manifest = json.loads((tmp_path / "run2" / "manifest.json").read_text())
    assert "within +-150" in manifest["stopped"]["reason"]
    # The standings say why the league stopped.
    assert f"stopped after {len(runs[2])} games: every challenger's 95% interval is within +-150" in (
        tmp_path / "run2" / "standings.md").read_text()

    # Killed after a few games, the league resumes into the same games.
    out = tmp_path / "run2"
    lines = (out / "games.jsonl").read_text().splitlines(keepends=True)
    (out / "games.jsonl").write_text("".join(lines[:5]))
    league = load_league(tmp_path / "league2.yaml", plugins, out=out)
    run = LeagueRun(league)
    assert len(run.records) == 5
    run.play()
    assert _games(out) == runs[1]
