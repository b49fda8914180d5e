"""``arena bench league``, ``rate`` and ``sprt``: they run end to end and print well-formed figures (no timing
thresholds)."""

from __future__ import annotations

import re

import pytest

from click.testing import CliRunner

from arena.bench import fastchess as side
from arena.bench.league import LeagueBench, RunFigures, format_league_bench, league_yaml
from arena.cli import cli
from arena.errors import ConfigError
from arena.rating.standings import pair_of
from arena.league.config import load_league
from arena.league.schedule import schedule_games
from conftest import fake_engine, run_arena, two_engine_league_file

ROWS = ("baseline", "baseline 2 loops", "arena 1 worker", "arena 2 workers")


def _numbers(text: str) -> list[float]:
    """Every number in ``text``, with any trailing % or x dropped."""
    return [float(token) for token in re.findall(r"-?\d+(?:\.\d+)?", text)]


def test_bench_league_prints_three_rows_and_the_ratios():
    done = run_arena("bench", "league", "--games", "2", "--nodes", "200")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    for label in ROWS:
        row = next(line for line in lines if line.startswith(label + " "))
        cells = row[len(label):].split()
        assert len(cells) == 7, row  # games, plies, wall s, games/s, plies/s, engine share, overhead
        values = [float(cell.rstrip("%")) for cell in cells]
        assert all(value > 0 for value in values), row
        assert values[0] == 2, row
    workers = next(line for line in lines if line.startswith("arena 2 workers vs 1 worker:"))
    plies_ratio, games_ratio = re.search(r"plies/s ([\d.]+)x, games/s ([\d.]+)x", workers).groups()
    assert float(plies_ratio) > 0 and float(games_ratio) > 0
    assert "target: 2 workers >= 1.8x one worker" in workers
    baseline = next(line for line in lines if line.startswith("arena 1 worker vs baseline:"))
    assert float(re.search(r"plies/s ([\d.]+)x", baseline).group(1)) > 0
    assert sum("target: overhead < 15% of wall time" in line for line in lines) == 2
    assert any(line.startswith("machine: ") and "cores" in line for line in lines)
    assert "Stockfish" in done.stdout


def test_an_odd_number_of_games_is_refused_before_anything_runs():
    done = run_arena("bench", "league", "--games", "3")
    assert done.returncode == 2
    assert "--games 3: give an even number" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_league_is_two_stockfish_players_on_random_openings(tmp_path, plugins):
    path = tmp_path / "bench.yaml"
    path.write_text(league_yaml(games=4, nodes=300, opening_plies=6, seed=5, max_moves=40))
    league = load_league(path, plugins, out=tmp_path / "out")
    assert [(spec.name, spec.options) for spec in league.players] == [
        ("sf-a", {"nodes": 300, "skill": 20}),
        ("sf-b", {"nodes": 300}),
    ]
    assert (league.seed, league.rules.max_moves, league.concurrency, league.games_in_flight) == (5, 40, 1, 1)
    games = schedule_games(league)
    assert len(games) == 4
    assert all(len(game.opening.moves) == 6 for game in games)


def _bench(one_wall: float, two_wall: float) -> LeagueBench:
    return LeagueBench(
        games=4,
        nodes=100,
        opening_plies=4,
        seed=1,
        max_moves=50,
        machine={"cpu": "Test CPU", "cpus": 2},
        stockfish="Stockfish 0",
        baseline=RunFigures("baseline", 4, 400, 10.0, 9.5),
        one_worker=RunFigures("arena 1 worker", 4, 400, one_wall, 9.0),
        two_workers=RunFigures("arena 2 workers", 4, 400, two_wall, 9.0, workers=2),
        baseline_two=RunFigures("baseline 2 loops", 4, 400, 6.25, 9.5, workers=2),
    )


def test_figures_and_ratios_are_computed_from_the_runs():
    bench = _bench(one_wall=10.0, two_wall=5.0)
    assert bench.two_workers.plies_per_s == 80.0
    assert bench.two_workers.engine_share == 0.9  # 9 s of engine time over 2 workers x 5 s
    assert abs(bench.two_workers.overhead - 0.1) < 1e-12
    assert bench.speedup == 2.0 and bench.speedup_games == 2.0
    assert bench.versus_baseline == 1.0
    assert bench.machine_speedup == 1.6


def test_format_shows_rows_ratios_and_whether_targets_are_met():
    text = format_league_bench(_bench(one_wall=10.0, two_wall=5.0))
    lines = text.splitlines()
    assert "machine: Test CPU, 2 cores; engine: Stockfish 0" in lines
    row = next(line for line in lines if line.startswith("arena 2 workers "))
    assert _numbers(row) == [2, 4, 400, 5.0, 0.8, 80.0, 90.0, 10.0]  # the label's 2, then the cells
    ratio = "arena 2 workers vs 1 worker: plies/s 2.00x, games/s 2.00x"
    assert f"{ratio}  (target: 2 workers >= 1.8x one worker: met)" in lines
    assert "arena 1 worker vs baseline: plies/s 1.00x" in lines
    assert "the machine itself, two plain loops vs one: plies/s 1.60x (arena 2 workers reach 125% of that)" in lines
    assert "arena 1 worker overhead: 10.0%  (target: overhead < 15% of wall time: met)" in lines

    slow = format_league_bench(_bench(one_wall=12.0, two_wall=8.0)).splitlines()
    assert any(line.endswith("one worker: NOT met)") for line in slow)  # 1.5x
    assert "arena 2 workers overhead: 43.8%  (target: overhead < 15% of wall time: NOT met)" in slow


# ``arena bench rate``: in-process (click's CliRunner), on lists small enough to take a second or two.
RATE_ARGS = ["bench", "rate", "--players", "12", "--games", "1500", "--seeds", "2", "--list-players", "24",
             "--list-games", "2000", "--scale", "2000:2000", "--scale", "1800:1500",
             "--rater", "glicko2", "--rater", "bradley_terry:bootstrap=20"]


def _bench_rate(plugins, *extra: str):
    from click.testing import CliRunner

    from arena.cli import cli

    done = CliRunner().invoke(cli, [*RATE_ARGS, *extra], obj=plugins)
    assert done.exit_code == 0, (done.output, done.exception)
    return done.output


def _rater_rows(output: str) -> list[list[str]]:
    return [line.split() for line in output.splitlines() if line.startswith("~")]


def test_bench_rate_without_ordo_says_so_and_prints_the_raters_figures(plugins, monkeypatch, tmp_path):
    monkeypatch.delenv("ORDO", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))  # not where build.sh put one
    output = _bench_rate(plugins)
    assert "ordo: not found" in output
    rows = _rater_rows(output)
    bt = "bradley_terry:bootstrap=20"
    assert [(row[0], row[3]) for row in rows] == [("~2000,", "glicko2"), ("~2000,", bt),
                                                  ("~1800,", "glicko2"), ("~1800,", bt)]
    for row in rows:
        rmse, bias, cover, white, seconds = row[4:9]
        assert 0 < float(rmse) < 200 and abs(float(bias)) < 200 and 0 < float(cover.rstrip("%")) <= 100
        assert 0 < float(white) < 80 and float(seconds) >= 0  # White's true advantage is 30
    assert "targets: RMSE within 1.2x Ordo's, coverage 90%-98%" in output
    speed = output.split("speed: rating 1500 games among 12 players")[1]
    assert [line.split()[0] for line in speed.splitlines()[3:5]] == ["glicko2", "bradley_terry:bootstrap=20"]


def test_bench_rate_sets_ordo_beside_the_raters_where_it_is_found(plugins):
    from arena.bench.rating import find_ordo

    ordo = find_ordo()
    if ordo is None:
        pytest.skip("no Ordo binary (ORDO, PATH or ~/.cache/arena-anchors/ordo)")
    output = _bench_rate(plugins, "--ordo", ordo, "--ordo-simulations", "50")
    assert f"ordo: {ordo} (-W -D" in output
    rows = _rater_rows(output)
    assert len(rows) == 4
    for row in rows:
        # scale label (3 words), rater, its 5 cells | Ordo's 4 cells | the RMSE ratio, whether targets are met
        ordo_rmse, _, ordo_cover, ordo_white = row[10:14]
        assert row[9] == row[14] == "|"
        assert float(ordo_rmse) > 0 and 0 < float(ordo_cover.rstrip("%")) <= 100
        assert 0 < float(ordo_white) < 80
        assert float(row[15].rstrip("x")) > 0 and row[16:] in (["met"], ["NOT", "met"])


def test_bench_rate_refuses_a_bad_ordo_path(plugins):
    from click.testing import CliRunner

    from arena import ConfigError
    from arena.cli import cli

    done = CliRunner().invoke(cli, [*RATE_ARGS, "--ordo", "/nonexistent/ordo"], obj=plugins)
    assert isinstance(done.exception, ConfigError) and "--ordo" in str(done.exception)


# ``arena bench sprt``: in-process, on a wide logistic test whose runs end within a few hundred pairs.
SPRT_ARGS = ["bench", "sprt", "--sprt", "elo0=0,elo1=20,model=logistic", "--runs", "50",
             "--draw-ratio", "0.6"]


def test_bench_sprt_prints_error_rates_and_pairs_beside_the_fixed_length_test(plugins):
    from click.testing import CliRunner

    from arena.cli import cli
    from arena.rating.headtohead import parse_sprt
    from arena.bench.sprt import draw_elo_for, fixed_sample_pairs

    done = CliRunner().invoke(cli, SPRT_ARGS, obj=plugins)  # the README's command, as written there
    assert done.exit_code == 0, (done.output, done.exception)
    lines = done.output.splitlines()
    spec = "elo0=0,elo1=20,alpha=0.05,beta=0.05,model=logistic"
    assert lines[0].startswith(f"SPRT {spec}: 50 runs per true Elo")
    assert "60.0% draws between equals" in lines[1]
    fixed = float(re.search(r"elo0/elo1: (\d+) pairs", lines[2]).group(1))
    assert fixed == round(fixed_sample_pairs(parse_sprt("elo0=0,elo1=20,model=logistic"), draw_elo_for(0.6)))
    rows = [_numbers(line) for line in lines[4:]]
    assert [row[0] for row in rows] == [0.0, 20.0, 40.0]  # 0 = elo0, elo1, 2 x elo1
    for true_elo, h1, h0, undecided, mean, median, p90, ratio in rows:
        assert all(0 <= share <= 100 for share in (h1, h0, undecided))
        assert h1 + h0 + undecided == pytest.approx(100, abs=0.15)  # rounded to 0.1% each
        assert 0 < median <= p90 and mean > 0
        assert ratio == pytest.approx(mean / fixed, abs=0.01 + mean / fixed * 0.01)
    assert rows[0][2] > 50 and rows[2][1] > 90  # mostly H0 at elo0, nearly always H1 at 2 x elo1


def test_bench_sprt_refuses_a_bad_spec_with_a_message():
    done = run_arena("bench", "sprt", "--sprt", "elo0=5,elo1=0")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "--sprt: elo1 (0) must be greater than elo0 (5)" in done.stderr


def test_the_side_by_side_league_and_fastchess_command_are_the_same_work(tmp_path, plugins):
    league_path, epd = side.league_file(tmp_path, games=6, nodes=300, tc=None, plies=4, seed=3, max_moves=50,
                                        workers=2)
    league = load_league(league_path, plugins)
    games = schedule_games(league)
    # One EPD line per colour-swapped pair, in order, each the position the pair starts from.
    pairs = {pair_of(game.game_id): game.opening.board().epd() for game in games}
    assert epd.read_text().splitlines() == list(pairs.values()) and len(pairs) == 3
    assert (league.concurrency, league.games_in_flight, league.rules.max_moves) == (2, 1, 50)
    assert [spec.options for spec in league.players] == [{"nodes": 300}, {"nodes": 300}]
    command = side.fastchess_command("fastchess", epd, tmp_path / "f.pgn", 6, 300, None, 50, 2)
    text = " ".join(command)
    for part in ("nodes=300", "option.Threads=1", "option.Hash=16", f"file={epd} format=epd order=sequential",
                 "-games 2 -rounds 3", "-concurrency 2", "-maxmoves 50"):
        assert part in text, part
    clock = " ".join(side.fastchess_command("fastchess", epd, tmp_path / "f.pgn", 6, None, "2+0.02", 50, 2))
    assert "tc=2+0.02" in clock and "nodes=" not in clock


def test_games_at_once_beyond_the_cores_go_in_flight_in_arenas_workers(tmp_path, plugins):
    # fastchess's 4 games at once on 2 cores are arena's 2 workers x 2 games in flight.
    assert [side.split_concurrency(n, cores=2) for n in (1, 2, 3, 4, 6)] == [1, 2, 1, 2, 2]
    assert side.split_concurrency(4, cores=8) == 4
    league_path, _ = side.league_file(tmp_path, games=4, nodes=300, tc=None, plies=4, seed=3, max_moves=50,
                                      workers=2, games_in_flight=2)
    league = load_league(league_path, plugins)
    assert (league.concurrency, league.games_in_flight) == (2, 2)
    with pytest.raises(ConfigError, match="--workers 3: must divide --concurrency 4"):
        side.side_by_side("fastchess", games=4, concurrency=4, workers=3)


def test_a_clock_without_fastchess_is_refused_and_a_bad_path_named(plugins, monkeypatch, tmp_path):
    monkeypatch.setattr(side, "FASTCHESS_CACHE", tmp_path / "none")
    monkeypatch.delenv("FASTCHESS", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    done = CliRunner().invoke(cli, ["bench", "league", "--tc", "2+0.02"], obj=plugins)
    assert isinstance(done.exception, ConfigError) and "--tc is for the side-by-side run" in str(done.exception)
    with pytest.raises(ConfigError, match="'nope' is not an executable file"):
        side.find_fastchess("nope")


def test_the_arena_run_counts_the_cpu_of_its_workers_and_engines(tmp_path):
    # The workers (and so the engines) are children of arena's fork server, not of the arena
    # process: its CPU figure holds their time only if arena waits for the server before it exits.
    engine = fake_engine(tmp_path, "busy", "0.5")
    league = two_engine_league_file(tmp_path, engine, max_moves=1, concurrency=2)
    _, cpu = side._timed("arena", [*side._arena_command(), "league", str(league), "--out", str(tmp_path / "run"),
                                   "--quiet"], tmp_path)
    assert cpu >= 4 * 0.5  # 2 games of 2 plies, each search 0.5 CPU-seconds (arena's own is about 1)


@pytest.mark.skipif(side.find_fastchess() is None, reason="no fastchess binary (../shared/anchors/build.sh builds one)")
def test_side_by_side_with_fastchess_plays_the_same_games_with_both_tools():
    result = side.side_by_side(side.find_fastchess(), games=4, nodes=300, rounds=1)
    (arena,), (fastchess,) = result.arena_runs, result.fastchess_runs
    assert arena.games == fastchess.games == 4
    assert arena.plies == fastchess.plies > 0  # the same openings and nodes: the same games
    assert arena.time_losses == fastchess.time_losses == 0
    text = side.format_side_by_side(result)
    assert "arena vs fastchess, median games/s: " in text and "arena's CPU per ply beyond fastchess's" in text
    assert result.games_ratio > 0


def test_side_by_side_figures_are_the_medians_of_the_runs():
    runs = lambda tool, walls, cpus, losses=0: [side.Run(tool, w, c, 60, 1000, losses) for w, c in zip(walls, cpus)]  # noqa: E731
    result = side.SideBySide("setting", "fastchess", arena_runs=runs("arena", (10, 12, 30), (20, 22, 60)),
                             fastchess_runs=runs("fastchess", (8, 9.6, 8.2), (16, 17, 18)))
    assert result.games_ratio == pytest.approx((60 / 12) / (60 / 8.2))  # medians: one slow run does not count
    assert result.extra_cpu_ms_per_ply == pytest.approx(1000 * (22 - 17) / 1000)
    text = side.format_side_by_side(result)
    assert "median games/s: 0.68x  (target: >= 1.00x: NOT met)" in text and "+5.00 ms" in text
    assert len([line for line in text.splitlines() if re.match(r"(arena|fastchess) \d ", line)]) == 6
    clock = side.SideBySide("setting", "fastchess", True, runs("arena", (10,), (20,), 1), runs("fastchess", (10,), (20,)))
    assert "time losses: arena 1, fastchess 0" in side.format_side_by_side(clock)
