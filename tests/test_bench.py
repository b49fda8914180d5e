"""``arena bench league``: it runs end to end and prints well-formed figures (no timing thresholds)."""

from __future__ import annotations

import re

from arena.bench import LeagueBench, RunFigures, format_league_bench, league_yaml
from arena.league import load_league
from arena.schedule import schedule_games
from conftest import run_arena

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
