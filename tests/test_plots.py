"""PNG plots of a rated league: the data behind each figure, and the files written."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from arena.rating.plots import (
    DPI,
    FIGSIZE,
    GREEDY_LABEL,
    cross_table,
    cross_table_figsize,
    plot_cross_table,
    plot_rating_vs_temperature,
    rating_vs_temperature_figure,
    temperature_series,
    write_report,
)
from arena.rating.model import GameResult, Rating

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
TEMPERATURES = [0.0, 0.1, 1.0, 0.01]  # deliberately out of order


def rating(player: str, value: float, anchored: bool = False) -> Rating:
    """A rating with a ±50 interval (none for an anchor)."""
    width = 0.0 if anchored else 50.0
    return Rating(player, value, value - width, value + width, games=20, score=0.5, anchored=anchored)


def league() -> tuple[list[Rating], dict[str, dict]]:
    """Two model families at four temperatures (greedy included), two anchors and random."""
    ratings = []
    players: dict[str, dict] = {}
    for family, strength in (("cap1000", 1400.0), ("cap1300", 1600.0)):
        for t in TEMPERATURES:
            name = f"{family}@t={t:g}"
            # Ratings peak at a low temperature, as in the paper.
            ratings.append(rating(name, strength - 100 * t - (30 if t == 0 else 0)))
            players[name] = {"type": "transformer", "axis": "temperature", "options": {"checkpoint": f"ckpt/{family}.pt", "temperature": t}}
    for skill, value in ((1, 1554.0), (3, 1700.0)):
        name = f"stockfish-skill{skill}"
        ratings.append(rating(name, value, anchored=True))
        players[name] = {"type": "stockfish", "options": {"skill": skill, "movetime": 100}}
    ratings.append(rating("random", 900.0))
    players["random"] = {"type": "random", "options": {}}
    return ratings, players


def results_between(white: str, black: str, scores: list[float]) -> list[GameResult]:
    return [GameResult(white, black, score) for score in scores]


def assert_png(path: Path, size_inches: tuple[float, float]) -> None:
    """A real PNG that matplotlib reads back at the pixel size of the figure."""
    import matplotlib.image

    assert path.is_file()
    assert path.read_bytes()[:8] == PNG_SIGNATURE
    pixels = matplotlib.image.imread(path)
    width, height = size_inches
    assert pixels.shape[:2] == (round(height * DPI), round(width * DPI))


def test_temperature_series_splits_families_on_the_base_name_sorted_by_temperature():
    ratings, players = league()
    families, references = temperature_series(ratings, players)
    assert families == {
        "cap1000": [(0.0, 1370.0, 1320.0, 1420.0), (0.01, 1399.0, 1349.0, 1449.0),
                    (0.1, 1390.0, 1340.0, 1440.0), (1.0, 1300.0, 1250.0, 1350.0)],
        "cap1300": [(0.0, 1570.0, 1520.0, 1620.0), (0.01, 1599.0, 1549.0, 1649.0),
                    (0.1, 1590.0, 1540.0, 1640.0), (1.0, 1500.0, 1450.0, 1550.0)],
    }
    assert references == [("stockfish-skill3", 1700.0, True), ("stockfish-skill1", 1554.0, True),
                          ("random", 900.0, False)]


def test_temperature_series_keeps_checkpoints_swept_with_the_temperature_apart():
    # One league entry sweeping checkpoint and temperature: every name shares the base "transformer".
    ratings, players = [], {}
    for checkpoint, value in (("cap1000", 1400.0), ("cap1300", 1600.0)):
        for t in (0.5, 0.1):
            name = f"transformer@checkpoint={checkpoint},temperature={t:g}"
            ratings.append(rating(name, value + t))
            players[name] = {"type": "transformer", "axis": "temperature", "options": {"checkpoint": f"ckpt/{checkpoint}.pt", "temperature": t}}
    # A lone model at a fixed temperature keeps its base name as the label.
    ratings.append(rating("solo@t=0.3", 1000.0))
    players["solo@t=0.3"] = {"type": "transformer", "axis": "temperature", "options": {"temperature": 0.3}}
    families, references = temperature_series(ratings, players)
    assert families == {
        "solo": [(0.3, 1000.0, 950.0, 1050.0)],
        "transformer@checkpoint=cap1000": [(0.1, 1400.1, 1350.1, 1450.1), (0.5, 1400.5, 1350.5, 1450.5)],
        "transformer@checkpoint=cap1300": [(0.1, 1600.1, 1550.1, 1650.1), (0.5, 1600.5, 1550.5, 1650.5)],
    }
    assert references == []


def test_only_numeric_temperatures_make_a_family_and_unknown_players_are_references():
    ratings = [rating("a@t=x", 1500.0), rating("b", 1400.0), rating("c", 1300.0), rating("d", 1200.0)]
    players = {
        "a@t=x": {"type": "transformer", "axis": "temperature", "options": {"temperature": "hot"}},
        "b": {"type": "transformer", "axis": "temperature", "options": {"temperature": True}},
        "c": {"type": "transformer", "axis": "temperature", "options": {"temperature": math.nan}},
        "unrated": {"type": "transformer", "axis": "temperature", "options": {"temperature": 0.5}},
    }  # "d" is rated but not described
    families, references = temperature_series(ratings, players)
    assert families == {}
    assert [name for name, _, _ in references] == ["a@t=x", "b", "c", "d"]


def test_plot_rating_vs_temperature_writes_a_png_of_the_figure_size(tmp_path):
    ratings, players = league()
    path = tmp_path / "new" / "folder" / "curve.png"
    assert plot_rating_vs_temperature(ratings, players, path, title="test league") == path
    assert_png(path, FIGSIZE)


def test_plot_rating_vs_temperature_without_temperatures_writes_nothing(tmp_path):
    ratings, players = league()
    players = {name: entry for name, entry in players.items() if "temperature" not in entry["options"]}
    ratings = [r for r in ratings if r.player in players]
    path = tmp_path / "out" / "curve.png"
    assert plot_rating_vs_temperature(ratings, players, path) is None
    assert not (tmp_path / "out").exists()


def test_cross_table_scores_the_row_player_over_both_colours():
    order = ["a", "b", "c", "d"]
    results = (
        results_between("a", "b", [1.0, 0.5])  # a as White: 1.5 of 2
        + results_between("b", "a", [0.0, 0.5])  # a as Black: 1.5 of 2
        + results_between("c", "a", [1.0])
        + results_between("b", "c", [0.5, 0.5, 1.0])
        + results_between("a", "a", [1.0])  # against itself: left out
        + results_between("a", "stranger", [1.0])  # not in order: left out
    )
    scores, games = cross_table(results, order)
    nan = np.nan
    np.testing.assert_array_equal(games, [[0, 4, 1, 0], [4, 0, 3, 0], [1, 3, 0, 0], [0, 0, 0, 0]])
    np.testing.assert_array_equal(scores, [
        [nan, 0.75, 0.0, nan],
        [0.25, nan, 2.0 / 3.0, nan],
        [1.0, 1.0 / 3.0, nan, nan],
        [nan, nan, nan, nan],
    ])


def test_plot_cross_table_writes_a_png_scaled_with_the_players(tmp_path):
    order = [f"player-{i:02d}@t=0.{i}" for i in range(30)]
    results = [GameResult(w, b, (i + j) % 3 / 2) for i, w in enumerate(order) for j, b in enumerate(order) if i != j]
    path = plot_cross_table(results, order, tmp_path / "x" / "cross.png", title="thirty")
    assert path == tmp_path / "x" / "cross.png"
    size = cross_table_figsize(order)
    assert_png(path, size)
    small = cross_table_figsize(order[:3])
    assert size[0] > 15 and size[1] > 15 and small[0] < size[0] / 2  # cells keep their size


def test_write_report_orders_the_cross_table_by_rating(tmp_path, monkeypatch):
    ratings, players = league()
    names = [r.player for r in ratings]
    results = [GameResult(names[i], names[i + 1], 0.5) for i in range(len(names) - 1)]
    results.append(GameResult("unrated", "random", 1.0))
    seen = {}

    import arena.rating.plots

    original = arena.rating.plots.plot_cross_table

    def spy(results, order, path, title=""):
        seen["order"], seen["title"] = list(order), title
        return original(results, order, path, title)

    monkeypatch.setattr(arena.rating.plots, "plot_cross_table", spy)
    written = write_report(tmp_path / "report", ratings, players, results, title="test")
    assert written == [tmp_path / "report" / "rating_vs_temperature.png", tmp_path / "report" / "cross_table.png"]
    for path in written:
        assert path.read_bytes()[:8] == PNG_SIGNATURE
    best_first = [r.player for r in sorted(ratings, key=lambda r: -r.rating)]
    assert seen["order"] == best_first + ["unrated"]
    assert_png(written[1], cross_table_figsize(seen["order"], seen["title"]))


def test_write_report_without_temperatures_writes_only_the_cross_table(tmp_path):
    ratings = [rating("stockfish-skill1", 1554.0, anchored=True), rating("random", 900.0)]
    players = {"stockfish-skill1": {"type": "stockfish", "options": {"skill": 1}},
               "random": {"type": "random", "options": {}}}
    results = [GameResult("random", "stockfish-skill1", 0.0)]
    assert write_report(tmp_path, ratings, players, results) == [tmp_path / "cross_table.png"]


@pytest.mark.parametrize("order", [[], ["lonely"]])
def test_plot_cross_table_survives_no_games(tmp_path, order):
    path = plot_cross_table([], order, tmp_path / "empty.png")
    assert_png(path, cross_table_figsize(order))


def test_families_come_in_natural_order():
    ratings, players = [], {}
    for family in ("model10", "model2", "model1"):
        name = f"{family}@t=0.5"
        ratings.append(rating(name, 1500.0))
        players[name] = {"type": "transformer", "axis": "temperature", "options": {"checkpoint": f"{family}.pt", "temperature": 0.5}}
    families, _ = temperature_series(ratings, players)
    assert list(families) == ["model1", "model2", "model10"]


def x_position(ax, temperature: float) -> float:
    """Where a temperature lands on the drawn axes, in pixels from the figure's left edge."""
    return float(ax.transData.transform((temperature, 1500.0))[0])


def test_the_temperature_axis_is_logarithmic_with_argmax_beyond_a_break():
    ratings, players = league()  # temperatures 0, 0.01, 0.1 and 1
    fig = rating_vs_temperature_figure(ratings, players)
    ax = fig.axes[0]
    fig.draw_without_rendering()
    # Equal ratios, equal distances: a log scale, not evenly spaced ticks.
    decade = x_position(ax, 0.1) - x_position(ax, 0.01)
    assert decade > 50
    assert x_position(ax, 1.0) - x_position(ax, 0.1) == pytest.approx(decade, rel=1e-6)
    assert x_position(ax, 0.05) - x_position(ax, 0.01) == pytest.approx(decade * math.log10(5), rel=1e-6)
    # Temperature 0 sits a decade left of 0.01, on its own labelled tick, beyond a marked break.
    ticks = {label.get_text(): float(at) for label, at in zip(ax.get_xticklabels(), ax.get_xticks())}
    assert ticks == {GREEDY_LABEL: pytest.approx(0.001), "0.01": 0.01, "0.1": 0.1, "1": 1.0}
    assert GREEDY_LABEL == "0 (argmax)"
    breaks = [text for text in ax.texts if text.get_text() == "//"]
    assert len(breaks) == 1 and 0.001 < breaks[0].get_position()[0] < 0.01
    assert "argmax" in ax.get_xlabel() and "log scale" in ax.get_xlabel()
    # Minor ticks show the log scale between the temperatures, and nothing pretends a scale across the break.
    minor = list(ax.xaxis.get_minorticklocs())
    assert minor == pytest.approx([0.02, 0.03, 0.04, 0.05, 0.06, 0.07, 0.08, 0.09,
                                   0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9])


def test_sparse_temperatures_keep_their_log_distances():
    ratings, players = [], {}
    for t, value in ((0.0, 1500.0), (0.5, 1450.0), (2.0, 1200.0)):
        ratings.append(rating(f"m@t={t:g}", value))
        players[f"m@t={t:g}"] = {"type": "transformer", "axis": "temperature", "options": {"temperature": t}}
    fig = rating_vs_temperature_figure(ratings, players)
    ax = fig.axes[0]
    fig.draw_without_rendering()
    argmax, half, two = (x_position(ax, t) for t in (0.05, 0.5, 2.0))
    assert [label.get_text() for label in ax.get_xticklabels()] == [GREEDY_LABEL, "0.5", "2"]
    # 0 -> 0.5 is the one decade of the break, 0.5 -> 2 is log10(4) of one: not evenly spaced.
    assert (two - half) / (half - argmax) == pytest.approx(math.log10(4), rel=1e-6)


def test_the_plot_names_its_rater():
    ratings, players = league()
    fig = rating_vs_temperature_figure(ratings, players, rater="bradley_terry")
    ax = fig.axes[0]
    assert "bradley_terry" in ax.get_ylabel() and "bradley_terry" in ax.get_title()
    titled = rating_vs_temperature_figure(ratings, players, title="my league", rater="glicko2").axes[0]
    assert titled.get_title() == "my league" and "by glicko2" in titled.get_ylabel()
    unnamed = rating_vs_temperature_figure(ratings, players).axes[0]
    assert unnamed.get_ylabel() == "rating (95% interval shaded)"
