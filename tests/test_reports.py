"""Ratings at the end of a league, `arena report`, and anchors for the Stockfish presets."""

from __future__ import annotations

import csv
import json

import yaml

from arena import load_plugins
from arena.spec import build_player, parse_player_spec
from conftest import run_arena

LEAGUE = """
seed: 2
players:
  - type: random
  - type: stockfish
    skill: [0, 3]
    nodes: 300
schedule: {games: 4}
rules: {max_moves: 80}
raters: [glicko2, {type: bradley_terry, bootstrap: 50}]
anchors: {stockfish-skill0: 1200}
"""


def test_league_ends_with_rated_standings_in_three_formats(tmp_path):
    path = tmp_path / "league.yaml"
    path.write_text(LEAGUE)
    out = tmp_path / "run"
    done = run_arena("league", str(path), "--out", str(out), "--quiet")
    assert done.returncode == 0, done.stderr
    header = next(line for line in done.stdout.splitlines() if line.lstrip().startswith("#"))
    assert "glicko2" in header and "bradley_terry:bootstrap=50" in header and "forfeits" in header
    assert "anchors: stockfish-skill0 1200" in done.stdout
    rows = json.loads((out / "standings.json").read_text())
    assert [row["rank"] for row in rows] == [1, 2, 3]
    anchored = next(row for row in rows if row["player"] == "stockfish-skill0")
    assert anchored["rating"] == anchored["low"] == anchored["high"] == 1200.0
    assert set(anchored["ratings"]) == {"glicko2", "bradley_terry:bootstrap=50"}
    assert sum(row["games"] for row in rows) == 2 * 12
    with open(out / "standings.csv") as handle:
        table = list(csv.DictReader(handle))
    assert [row["player"] for row in table] == [row["player"] for row in rows]
    assert float(table[0]["glicko2_rating"]) >= float(table[-1]["glicko2_rating"])
    markdown = (out / "standings.md").read_text().splitlines()
    assert markdown[0].startswith("| # | player | glicko2 | 95% interval |") and len(markdown) == 5
    assert (out / "cross_table.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"{out / 'cross_table.png'}" in done.stdout

    # Re-rating the run folder gives the same numbers as the league printed.
    again = json.loads(run_arena("rate", str(out), "--json").stdout)
    assert [(r["player"], round(r["rating"], 6)) for r in again] == [(r["player"], round(r["rating"], 6)) for r in rows]

    # A report can be written elsewhere, from the PGN alone.
    report = run_arena("report", str(out / "games.pgn"), "--out", str(tmp_path / "report"), "--anchor",
                       "stockfish-skill0=1200")
    assert report.returncode == 0, report.stderr
    assert (tmp_path / "report" / "standings.md").exists() and (tmp_path / "report" / "cross_table.png").exists()


def test_bad_raters_and_anchors_in_a_league_are_named(tmp_path):
    for text, message in (
        (LEAGUE.replace("bootstrap: 50", "bootstrap: 5"), "raters[1]: rater 'bradley_terry:bootstrap=5'"),
        (LEAGUE.replace("glicko2,", "glicko3,"), "raters[0]: unknown rater type 'glicko3'"),
        (LEAGUE.replace("stockfish-skill0: 1200", "stockfish-skill9: 1200"), "anchors.stockfish-skill9: unknown key"),
        (LEAGUE.replace("stockfish-skill0: 1200", "stockfish-skill0: high"), "anchors.stockfish-skill0: 'high'"),
    ):
        path = tmp_path / "bad.yaml"
        path.write_text(text)
        done = run_arena("validate", str(path))
        assert done.returncode == 2 and message in done.stderr, (message, done.stderr)


def test_stockfish_presets_carry_the_papers_anchors(plugins):
    anchored = build_player(parse_player_spec("stockfish:skill=3,movetime=100"), plugins)
    other = build_player(parse_player_spec("stockfish:skill=3,nodes=1000"), plugins)
    for player in (anchored, other):
        player.start()
    try:
        assert anchored.describe()["anchor"] == 1867.0
        assert "anchor" not in other.describe()
    finally:
        anchored.close()
        other.close()


def test_calibration_writes_anchors_that_presets_then_carry(tmp_path, monkeypatch):
    league = tmp_path / "calibration.yaml"
    league.write_text("""
seed: 1
concurrency: 2
players:
  - {type: stockfish, skill: [0, 4], nodes: 300}
  - {type: stockfish, elo: [1400, 2000], nodes: 300}
schedule: {type: gauntlet, challengers: ["stockfish-skill*"], games: 4}
rules: {max_moves: 100}
anchors: {stockfish-elo1400: 1400, stockfish-elo2000: 2000}
""")
    out = tmp_path / "run"
    assert run_arena("league", str(league), "--out", str(out), "--quiet").returncode == 0
    table = tmp_path / "anchors.yaml"
    done = run_arena("rate", str(out), "--write-anchors", str(table))
    assert done.returncode == 0, done.stderr
    (entry,) = yaml.safe_load(table.read_text())
    assert entry["limits"] == {"nodes": 300} and sorted(entry["skill"]) == [0, 4]
    monkeypatch.setenv("ARENA_ANCHORS", str(table))
    player = build_player(parse_player_spec("stockfish:skill=4,nodes=300"), load_plugins())
    player.start()
    try:
        assert player.describe()["anchor"] == entry["skill"][4]
    finally:
        player.close()
