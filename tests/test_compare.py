"""``arena compare``: two players stopped by an SPRT, resumed, and the same statistics on games played."""

from __future__ import annotations

import json

from click.testing import CliRunner

from arena.cli import cli
from arena.rating.headtohead import head_to_head, parse_sprt, sprt_state
from arena.rating.rate import load_games
from conftest import run_arena

# The README's commands (with the run folder in a temporary folder).
COMPARE = ["compare", "stockfish:nodes=400", "stockfish:nodes=25", "--sprt", "elo0=0,elo1=100",
           "--max-games", "400", "--max-moves", "80", "--concurrency", "2"]


def _compare(plugins, out, *extra):
    done = CliRunner().invoke(cli, [*COMPARE, "--out", str(out), *extra], obj=plugins)
    assert done.exit_code == 0, done.output
    return done


def test_a_compare_of_two_node_budgets_stops_with_h1_long_before_its_cap(tmp_path, plugins):
    done = _compare(plugins, tmp_path / "run", "--json")
    report = json.loads(done.stdout)
    sprt = report["sprt"]
    assert sprt["decision"] == "H1" and sprt["llr"] >= sprt["upper"] > 2.9
    assert report["games"] < 100 <= 400  # far below the cap
    assert sum(report["wdl"]) == report["distinct"] and report["wdl"][0] > report["wdl"][2]
    assert sum(report["pentanomial"]) <= report["games"] // 2
    assert report["elo_low"] < report["elo"] < report["elo_high"] and report["elo"] > 0
    assert set(report) >= {"a", "b", "games", "wdl", "pentanomial", "elo", "elo_low", "elo_high", "nelo", "los",
                           "draw_ratio", "sprt"}
    assert report["a"] == "stockfish@nodes=400"
    # The statistics are those of the games in the run folder: recompute them from there.
    games = load_games(tmp_path / "run")
    assert len(games.results) == report["games_played"] >= report["games"]
    tested = [r for r in games.results if int(r.pair.rpartition("|")[2]) < report["games"] // 2]
    h2h = head_to_head(tested, report["a"], report["b"])
    assert list(h2h.pentanomial) == report["pentanomial"]
    assert sprt_state(h2h.pentanomial, parse_sprt("elo0=0,elo1=100")).llr == sprt["llr"]


def test_a_resumed_compare_continues_the_same_test_with_the_same_games(tmp_path, plugins):
    out = tmp_path / "run"
    whole = json.loads(_compare(plugins, out, "--json").stdout)
    moves = (out / "games.jsonl").read_text().splitlines()
    # A kill after eleven games leaves those in the run folder; the same command resumes the test.
    (out / "games.jsonl").write_text("\n".join(moves[:11]) + "\n")
    resumed = _compare(plugins, out)
    assert "resuming after 11 games" in resumed.output and "H1 accepted" in resumed.output
    again = json.loads(_compare(plugins, out, "--json").stdout)
    assert again == whole
    assert len((out / "games.jsonl").read_text().splitlines()) == len(moves)


def test_compare_on_a_run_folder_prints_the_head_to_head_and_the_sprt(tmp_path, plugins):
    out = tmp_path / "run"
    _compare(plugins, out)
    args = ["compare", str(out), "stockfish@nodes=25", "stockfish@nodes=400", "--sprt", "elo0=0,elo1=100"]
    done = CliRunner().invoke(cli, args, obj=plugins)
    assert done.exit_code == 0, done.output
    assert "LLR: -" in done.output and "Ptnml(0-2):" in done.output  # from the weaker side: negative
    assert "H0 accepted" in done.output
    report = json.loads(CliRunner().invoke(cli, [*args, "--json"], obj=plugins).stdout)
    assert report["sprt"]["decision"] == "H0" and report["a"] == "stockfish@nodes=25"
    assert report["games"] == report["games_played"] == len(load_games(out).results)


def test_compare_errors_name_the_problem(tmp_path):
    bad = run_arena("compare", "random", "stockfish:nodes=10", "--sprt", "elo0=5,elo1=0", "--out", str(tmp_path))
    assert bad.returncode != 0 and "elo1 (0) must be greater than elo0 (5)" in bad.stderr
    assert "Traceback" not in bad.stderr
    unknown = run_arena("compare", "randm", "random", "--out", str(tmp_path / "x"))
    assert unknown.returncode != 0 and "unknown player type 'randm'" in unknown.stderr
    missing = run_arena("compare", str(tmp_path), "a", "b")
    assert missing.returncode != 0 and "not a run folder" in missing.stderr
    assert not (tmp_path / "x" / "games.jsonl").exists()
