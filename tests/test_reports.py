"""Ratings at the end of a league, `arena report`, and anchors for the Stockfish presets."""

from __future__ import annotations

import csv
import json
import re

import yaml

from arena import load_plugins
from arena.spec import build_player, parse_player_spec
from conftest import TESTS, run_arena

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
    # One head to head per two players, 4 games each, listed with the standings files.
    pairings = json.loads((out / "pairings.json").read_text())
    assert len(pairings) == 3 and [row["games"] for row in pairings] == [4, 4, 4]
    ranked = [row["player"] for row in rows]
    assert all(ranked.index(row["a"]) < ranked.index(row["b"]) for row in pairings)  # A placed above B
    assert all(f"{out / name}" in done.stdout for name in ("pairings.csv", "pairings.json", "pairings.md"))

    # Re-rating the run folder gives the same numbers as the league printed.
    again = json.loads(run_arena("rate", str(out), "--json").stdout)
    assert [(r["player"], round(r["rating"], 6)) for r in again] == [(r["player"], round(r["rating"], 6)) for r in rows]

    # A report can be written elsewhere, from the PGN alone.
    report = run_arena("report", str(out / "games.pgn"), "--out", str(tmp_path / "report"), "--anchor",
                       "stockfish-skill0=1200")
    assert report.returncode == 0, report.stderr
    assert (tmp_path / "report" / "standings.md").exists() and (tmp_path / "report" / "cross_table.png").exists()
    assert f"{tmp_path / 'report' / 'pairings.md'}" in report.stdout.splitlines()
    assert (tmp_path / "report" / "pairings.json").read_text() == (out / "pairings.json").read_text()

    # A run folder kept without its games.jsonl (as committed results are) is rated from its games.pgn.
    (out / "games.jsonl").unlink()
    from_pgn = json.loads(run_arena("rate", str(out), "--json").stdout)
    assert [(r["player"], r["games"], r["distinct"]) for r in from_pgn] == [
        (r["player"], r["games"], r["distinct"]) for r in rows]


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
        assert anchored.anchor() == 1867.0
        assert other.anchor() is None
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
        assert player.anchor() == entry["skill"][4]
    finally:
        player.close()


# ------------------------------------------------------------------------------------------------
# Pairings and White's advantage, from a small PGN whose figures are known by hand
# ------------------------------------------------------------------------------------------------

#: (GameId, White, Black, result). ann-bob: four colour-swapped pairs, ann's WW, WW, WL and DL (ann
#: 5-1-2, pentanomial [0, 1, 1, 0, 2]); bob-cat: two pairs, bob's WL and WD (2-1-1, [0, 0, 1, 1, 0]);
#: ann-cat: one game outside any pair. White scores 9 wins, 2 draws, 2 losses.
H2H_GAMES = [
    ("ann|bob|1", "ann", "bob", "1-0"), ("ann|bob|2", "bob", "ann", "0-1"),
    ("ann|bob|3", "ann", "bob", "1-0"), ("ann|bob|4", "bob", "ann", "0-1"),
    ("ann|bob|5", "ann", "bob", "1-0"), ("ann|bob|6", "bob", "ann", "1-0"),
    ("ann|bob|7", "ann", "bob", "1/2-1/2"), ("ann|bob|8", "bob", "ann", "1-0"),
    ("bob|cat|1", "bob", "cat", "1-0"), ("bob|cat|2", "cat", "bob", "1-0"),
    ("bob|cat|3", "bob", "cat", "1-0"), ("bob|cat|4", "cat", "bob", "1/2-1/2"),
    ("lone", "ann", "cat", "1-0"),
]


def _write_pgn(path, games):
    """A results-only PGN file (no moves) of (GameId, White, Black, result) rows."""
    path.write_text("".join(
        f'[Event "t"]\n[White "{white}"]\n[Black "{black}"]\n[Result "{result}"]\n[GameId "{game_id}"]\n\n'
        f"{result}\n\n" for game_id, white, black, result in games
    ))
    return path


def _arena(plugins, *args):
    """``arena ARGS`` in-process; stdout only (the skipped-games notes go to stderr)."""
    from click.testing import CliRunner

    from arena.cli import cli

    done = CliRunner().invoke(cli, list(args), obj=plugins)
    assert done.exit_code == 0, (done.output, done.exception)
    return done.stdout


def test_rate_and_report_writes_the_pairings_beside_the_standings(tmp_path, plugins):
    from arena.rating.rate import build_raters, load_games, rate_and_report

    games = load_games(_write_pgn(tmp_path / "h2h.pgn", H2H_GAMES))
    out = tmp_path / "out"
    report = rate_and_report(games, build_raters(["glicko2"], plugins, "test"), {}, out, plots=False)
    assert [path.name for path in report.files] == ["standings.csv", "standings.json", "standings.md",
                                                    "pairings.csv", "pairings.json", "pairings.md"]
    assert [row.player for row in report.rows] == ["ann", "bob", "cat"]
    rows = json.loads((out / "pairings.json").read_text())
    assert [(r["a"], r["b"], r["games"], r["pairs"]) for r in rows] == [
        ("ann", "bob", 8, 4), ("ann", "cat", 1, 0), ("bob", "cat", 4, 2)]
    assert (rows[0]["wins"], rows[0]["draws"], rows[0]["losses"]) == (5, 1, 2)
    assert rows[0]["pentanomial"] == [0, 1, 1, 0, 2] and rows[2]["pentanomial"] == [0, 0, 1, 1, 0]
    assert rows[0]["elo_low"] < rows[0]["elo"] < rows[0]["elo_high"]
    with open(out / "pairings.csv") as handle:
        table = list(csv.DictReader(handle))
    assert [(r["a"], r["b"], r["wins"], r["draws"], r["losses"]) for r in table] == [
        ("ann", "bob", "5", "1", "2"), ("ann", "cat", "1", "0", "0"), ("bob", "cat", "2", "1", "1")]
    cells = ("ll", "ld", "wl_dd", "wd", "ww")
    assert [table[0][f"ptnml_{cell}"] for cell in cells] == ["0", "1", "1", "0", "2"]
    assert table[1]["ptnml_ll"] == "" and table[1]["interval"] == "trinomial"  # no pair: no pentanomial
    assert float(table[0]["score"]) == 5.5 / 8
    markdown = (out / "pairings.md").read_text().splitlines()
    assert markdown[0].startswith("| A | B | games | distinct | W-D-L |") and len(markdown) == 2 + 3
    assert "| ann | cat | 1 | 1 | 1-0-0 |" in markdown[3] and markdown[3].endswith("| - |")
    # White won 9 of the 13 games: the fit says White has the advantage.
    (name, white), = report.white_advantages.items()
    assert name == "glicko2" and white.low < white.value < white.high and white.value > 0


def test_rate_prints_the_pairings_and_whites_advantage(tmp_path, plugins):
    pgn = _write_pgn(tmp_path / "h2h.pgn", H2H_GAMES)
    output = _arena(plugins, "rate", str(pgn), "--rater", "glicko2", "--rater", "bradley_terry:bootstrap=20")
    lines = output.splitlines()
    advantages = [line for line in lines if line.startswith("White's advantage (")]
    assert [line.split(")")[0] for line in advantages] == ["White's advantage (glicko2",
                                                           "White's advantage (bradley_terry:bootstrap=20"]
    for line in advantages:
        value, low, high = (float(x) for x in re.findall(r"[-+]\d+\.\d", line))
        assert low <= value <= high and value > 0, line
    header = lines.index(next(line for line in lines if line.startswith("A ")))
    assert lines[header].split()[:5] == ["A", "B", "games", "distinct", "W-D-L"]
    table = [line.split() for line in lines[header + 1:]]
    assert [row[:5] for row in table] == [["ann", "bob", "8", "8", "5-1-2"],
                                          ["ann", "cat", "1", "1", "1-0-0"],
                                          ["bob", "cat", "4", "4", "2-1-1"]]
    assert table[0][-5:] == ["[0,", "1,", "1,", "0,", "2]"] and table[1][-1] == "-"
    assert lines.index(advantages[-1]) < header  # after the standings, before the pairings
    readme = (TESTS.parent / "README.md").read_text()
    for line in [advantages[0], *lines[header - 1:]]:  # the README shows this very output
        assert line in readme, line

    # --json stays one list of players: the pairings and White's advantage are only in the text.
    players = json.loads(_arena(plugins, "rate", str(pgn), "--json"))
    assert [row["player"] for row in players] == ["ann", "bob", "cat"]


def test_rate_names_where_the_pairings_are_when_there_are_many_players(tmp_path, plugins):
    names = [f"p{i:02d}" for i in range(13)]
    ring = [(str(i), names[i], names[(i + 1) % 13], "1-0") for i in range(13)]  # one game per pairing
    pgn = _write_pgn(tmp_path / "ring.pgn", ring)
    output = _arena(plugins, "rate", str(pgn))
    assert f"head to head: 13 pairings of 13 players; print them with --pairings, or write pairings.csv, " \
           f"pairings.json, pairings.md with: arena report {pgn}" in output
    assert not any(line.startswith("A ") for line in output.splitlines())
    forced = _arena(plugins, "rate", str(pgn), "--pairings").splitlines()
    header = forced.index(next(line for line in forced if line.startswith("A ")))
    assert len(forced) - header - 1 == 13


def _rate_stderr(plugins, *args):
    """``arena ARGS`` in-process; what it wrote to stderr."""
    from click.testing import CliRunner

    from arena.cli import cli

    done = CliRunner().invoke(cli, list(args), obj=plugins)
    assert done.exit_code == 0, (done.output, done.exception)
    return done.stderr


def test_skipped_games_are_summarised_by_reason_not_listed_one_per_line(tmp_path, plugins):
    """A PGN of openings (no results, no players) beside a few rated games: a few lines, whatever the count."""
    openings = "".join(f'[Event "Opening {n}"]\n[Result "*"]\n\n1. e4 e5 2. Nf3 *\n\n' for n in range(1, 41))
    broken = ('[White "carol"]\n[Black "alice"]\n[Result "1-0"]\n\n1. e4 e5 2. zz9 Nc6 1-0\n\n'
              '[White "?"]\n[Black "carol"]\n[Result "0-1"]\n\n1. e4 0-1\n\n')
    path = tmp_path / "mixed.pgn"
    _write_pgn(path, H2H_GAMES)
    path.write_text(openings + path.read_text() + broken)
    lines = _rate_stderr(plugins, "rate", str(path)).splitlines()
    assert lines == [
        f"42 games skipped, {len(H2H_GAMES)} rated:",
        "  40 without a result: game 1 'Opening 1': no result ('*'); game 2 'Opening 2': no result ('*'); "
        "game 3 'Opening 3': no result ('*'); and 37 more",
        f"  1 with an illegal or unreadable move: game {41 + len(H2H_GAMES)} (carol vs alice): "
        "unreadable move 'zz9' at move 2 (White to play)",
        f"  1 without a player's name: game {42 + len(H2H_GAMES)} (? vs carol): a player's name is missing",
    ]


def test_a_malformed_move_is_reported_as_itself_not_as_the_next_move(tmp_path):
    """python-chess skips text it cannot read and blames the next move; the report names the bad text."""
    from arena.rating.pgn_games import read_pgn_games

    header = '[White "a"]\n[Black "b"]\n[Result "1-0"]\n\n'
    path = tmp_path / "bad.pgn"
    path.write_text("".join(header + movetext + "\n\n" for movetext in (
        "1. e4 e5 2. zz9 Nc6 3. Nf3 1-0",  # unreadable: python-chess says 'Nc6' is illegal
        "1. e4+ e5 {a comment zz} 2. Nf3! (2. d4 exd4) 2... Nc6 3. Kxe8 1-0",  # really illegal, comments fine
        "1. e4 e5 2. Nf3 Nc6 3. Bb5 a6 4. e9e4 1-0",
    )))
    games = read_pgn_games(path)
    details = [skip.detail for skip in games.skipped]
    assert details[0] == "unreadable move 'zz9' at move 2 (White to play)"
    assert details[1].startswith("illegal san: 'Kxe8' in ")
    assert details[2] == "unreadable move 'e9e4' at move 4 (White to play)"
    assert all(skip.reason == "with an illegal or unreadable move" for skip in games.skipped)
