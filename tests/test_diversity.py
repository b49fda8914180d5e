"""``arena diversity``: the paper's normalized entropy of moves at repeated positions, on known data."""

from __future__ import annotations

import json
import math

from click.testing import CliRunner

from arena.cli import cli
from arena_plugins.training.diversity import diversity_command

ENTROPY_OF_FOUR_OF_TWENTY = math.log(4) / math.log(20)  # four first moves equally often, of twenty legal


def _pgn(games: list[tuple[str, int, int]]) -> str:
    """PGN text of games given as (moves, White's rating, Black's rating)."""
    return "\n".join(
        f'[White "w{number % 3}"]\n[Black "b{number % 2}"]\n[WhiteElo "{white}"]\n[BlackElo "{black}"]\n'
        f'[Result "1/2-1/2"]\n\n{moves} 1/2-1/2\n'
        for number, (moves, white, black) in enumerate(games))


def _data(tmp_path):
    # 1000-1199: everyone answers 1.e4 e5. 1400-1599: four first moves, 30 games each.
    games = [("1. e4 e5", 1100, 1100)] * 120
    for first, reply in (("e4", "e5"), ("d4", "d5"), ("c4", "e5"), ("Nf3", "d5")):
        games += [(f"1. {first} {reply}", 1500, 1500)] * 30
    path = tmp_path / "games.pgn"
    path.write_text(_pgn(games) + '\n[White "x"]\n[Black "y"]\n[Result "*"]\n\n1. e4 Ke7?? Qxx9 *\n')
    return path


def _rows(plugins, *args):
    # The command as the training plugin registers it (`arena diversity`), run in this process.
    result = CliRunner().invoke(diversity_command, [*map(str, args), "--json"])
    assert result.exit_code == 0, result.output
    return {row["group"]: row for row in json.loads(result.stdout.splitlines()[-1])}


def test_by_band_a_band_that_always_plays_the_same_moves_has_zero_diversity(tmp_path, plugins):
    rows = _rows(plugins, _data(tmp_path), "--by", "band")
    # 1000-1199: the start and the position after 1.e4, each seen 120 times, one move each.
    assert rows["1000-1199"]["positions"] == 2 and rows["1000-1199"]["entropy"] == 0.0
    # 1400-1599: only the start is seen 100 times or more (the replies' positions 30 times each).
    assert rows["1400-1599"]["positions"] == 1 and rows["1400-1599"]["moves"] == 120
    assert math.isclose(rows["1400-1599"]["entropy"], ENTROPY_OF_FOUR_OF_TWENTY, abs_tol=1e-4)
    assert math.isclose(rows["1400-1599"]["entropy_nats"], math.log(4), abs_tol=1e-3)


def test_all_games_together_and_a_lower_min_count(tmp_path, plugins):
    rows = _rows(plugins, _data(tmp_path))
    # Everyone: the start (240 times: e4 150, d4 30, c4 30, Nf3 30) and after 1.e4 (150 times, always e5).
    start = -(0.625 * math.log(0.625) + 3 * 0.125 * math.log(0.125)) / math.log(20)
    assert rows["all"]["positions"] == 2 and math.isclose(rows["all"]["entropy"], start / 2, abs_tol=1e-4)
    # With --min-count 30 the replies' positions count too (each answered one way: 0).
    rows = _rows(plugins, _data(tmp_path), "--min-count", "30")
    assert rows["all"]["positions"] == 5 and math.isclose(rows["all"]["entropy"], start / 5, abs_tol=1e-4)


def test_a_malformed_game_is_reported_and_skipped_and_a_missing_file_is_an_error(tmp_path, plugins):
    result = CliRunner().invoke(diversity_command, [str(_data(tmp_path))])
    assert result.exit_code == 0 and "skipped:" in result.stderr and "game 241" in result.stderr
    assert "normalized by log(legal moves)" in result.stdout
    missing = CliRunner().invoke(diversity_command, [str(tmp_path / "none.pgn")])
    assert missing.exit_code != 0 and "none.pgn: no such file" in str(missing.exception or missing.output)


def test_a_run_folders_players_each_get_their_diversity(tmp_path, plugins):
    out = tmp_path / "run"
    played = CliRunner().invoke(cli, ["play", "random", "stockfish:nodes=1", "-n", "20", "--max-moves", "3", "--openings", "none",
                                      "--out", str(out), "--seed", "5"], obj=plugins)
    assert played.exit_code == 0, played.output
    rows = _rows(plugins, out, "--by", "player", "--min-count", "10")
    # Each played White from the start ten times: random spreads its moves, Stockfish at 1 node barely.
    assert set(rows) == {"random", "stockfish"}
    assert rows["random"]["positions"] >= 1 and rows["random"]["entropy"] > 0.5
    assert rows["stockfish"]["entropy"] < rows["random"]["entropy"]


def test_moves_an_opening_forced_count_for_no_player(tmp_path, plugins):
    out = tmp_path / "run"
    played = CliRunner().invoke(cli, ["play", "random", "random", "-n", "20", "--max-moves", "3",
                                      "--openings", "random:plies=2", "--out", str(out), "--seed", "5"], obj=plugins)
    assert played.exit_code == 0, played.output
    # Every game starts with two book plies: the start position, seen 20 times, is nobody's choice, and
    # the positions after the books are shared by a colour-swapped pair only.
    rows = _rows(plugins, out, "--min-count", "10")
    assert rows["all"]["positions"] == 0 and rows["all"]["entropy"] is None


def test_a_prepared_training_data_folder_gives_what_its_pgn_gives(tmp_path, plugins):
    from arena_plugins.training.data import Filters, prepare
    from arena_plugins.transformer.tokenizer import CharTokenizer, MoveTokenizer

    pgn = _data(tmp_path)
    want = _rows(plugins, pgn, "--min-count", "30")["all"]
    for tokenizer in (CharTokenizer(), MoveTokenizer()):
        folder = tmp_path / type(tokenizer).__name__
        prepare([{"path": str(pgn)}], Filters(), folder, tokenizer=tokenizer)
        assert _rows(plugins, folder, "--min-count", "30")["all"] == want
    refused = CliRunner().invoke(diversity_command, [str(folder), "--by", "band"])
    assert refused.exit_code != 0 and "keeps no names or ratings; use --by all" in str(refused.exception)
