"""PNG plots of a rated league: rating against sampling temperature, and the cross table.

The data behind each figure is computed by a plain function
(:func:`temperature_series`, :func:`cross_table`) that tests can check
exactly; the plotting functions only draw it. Figures are built on
``matplotlib.figure.Figure`` with the Agg canvas, so no pyplot state or
display is involved, and matplotlib is imported inside the functions
because it is slow to import and only needed here.
"""

from __future__ import annotations

import importlib
import itertools
import json
import math
import re
import threading
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from arena.rating.model import GameResult, Rating

#: Size (inches) and resolution of the rating-vs-temperature figure.
FIGSIZE = (9.0, 6.0)
DPI = 120
#: Where greedy decoding (temperature 0) sits on the log axis: this fraction of the smallest positive temperature.
GREEDY_FRACTION = 0.1
#: The tick label of temperature 0: the model plays its likeliest move.
GREEDY_LABEL = "0 (argmax)"
#: Side of one cross-table cell (inches): fits "100%" over a game count at 7.5 pt.
CELL_INCHES = 0.55
#: Font sizes (points) of the cross table's player names and title.
LABEL_POINTS = 9
TITLE_POINTS = 12
#: The cross table's colour bar: gap from the matrix and width (inches).
COLOUR_BAR_GAP = 0.2
COLOUR_BAR_WIDTH = 0.22
#: Font size (points) of the reference players' names.
REFERENCE_POINTS = 8.5
CROSS_TITLE = "Cross table: score of the row player (games below)"

#: (temperature, rating, low, high) of one family member.
Point = tuple[float, float, float, float]


def temperature_series(
    ratings: Sequence[Rating], players: Mapping[str, Mapping[str, Any]]
) -> tuple[dict[str, list[Point]], list[tuple[str, float, bool]]]:
    """Split rated players into temperature families and reference players.

    A family is the players with a numeric value for the option their type
    plots against (``axis`` in ``players``: :attr:`arena.Player.axis`, the
    transformer's temperature) that share a base name (the part of the name
    before '@') and all their other options; the last rule keeps apart checkpoints swept in the same entry
    as the temperature (``model@checkpoint=a,temperature=0.1``). Returns
    ``families`` (label -> points sorted by temperature; labels in natural order) and
    ``references`` (name, rating, anchored) for every other player, best
    first. Players in ``players`` without a rating are left out.
    """
    groups: dict[tuple[str, str], list[tuple[str, Rating, float]]] = {}
    references: list[tuple[str, float, bool]] = []
    for rating in ratings:
        entry = players.get(rating.player) or {}
        options = dict(entry.get("options") or {})
        axis = entry.get("axis")
        temperature = options.pop(axis, None) if axis else None
        if not _is_temperature(temperature):
            references.append((rating.player, rating.rating, rating.anchored))
            continue
        base = rating.player.partition("@")[0]
        rest = json.dumps(options, sort_keys=True, default=str)
        groups.setdefault((base, rest), []).append((rating.player, rating, float(temperature)))
    families: dict[str, list[Point]] = {}
    for (base, _), members in groups.items():
        label = _family_label(base, members)
        while label in families:  # two groups that their names cannot tell apart
            label += "'"
        members.sort(key=lambda member: (member[2], member[0]))
        families[label] = [(t, r.rating, r.low, r.high) for _, r, t in members]
    references.sort(key=lambda reference: (-reference[1], reference[0]))
    return dict(sorted(families.items(), key=lambda item: _natural(item[0]))), references


def _natural(text: str) -> list[Any]:
    """Sort key that puts 'model2' before 'model10'."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text)]


def _is_temperature(value: Any) -> bool:
    """A usable temperature: a finite number >= 0 (booleans are not numbers here)."""
    return (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value >= 0
    )


def _family_label(base: str, members: list[tuple[str, Rating, float]]) -> str:
    """The base name plus the '@key=value' parts every member shares, less the temperature's own part."""
    parts = [set(name.partition("@")[2].split(",")) - {""} for name, _, _ in members]
    first = [part for part in members[0][0].partition("@")[2].split(",") if part]
    temperatures = {t for _, _, t in members}
    shared = [
        part for part in first
        if all(part in other for other in parts) and not _names_temperature(part, temperatures)
    ]
    return f"{base}@{','.join(shared)}" if shared else base


def _names_temperature(part: str, temperatures: set[float]) -> bool:
    """True for a 'key=value' part whose value is the (single) temperature of a one-player family."""
    value = part.partition("=")[2]
    try:
        return len(temperatures) == 1 and float(value) in temperatures
    except ValueError:
        return False


def plot_rating_vs_temperature(
    ratings: Sequence[Rating],
    players: Mapping[str, Mapping[str, Any]],
    path: Path,
    title: str = "",
    rater: str | None = None,
) -> Path | None:
    """Write :func:`rating_vs_temperature_figure` as a PNG at ``path``.

    Returns None and writes nothing when no player has a numeric temperature.
    """
    fig = rating_vs_temperature_figure(ratings, players, title, rater)
    return None if fig is None else _save(fig, path)


def rating_vs_temperature_figure(
    ratings: Sequence[Rating],
    players: Mapping[str, Mapping[str, Any]],
    title: str = "",
    rater: str | None = None,
) -> Any:
    """Rating against temperature on a log axis, one line and 95% band per family, as a Figure.

    Players without a temperature are dashed horizontal reference lines,
    labelled at the right. Temperature 0 (argmax) has no place on a log axis:
    it is drawn :data:`GREEDY_FRACTION` of the smallest positive temperature
    (a decade) to its left, on a tick labelled :data:`GREEDY_LABEL`, beyond an
    axis break. ``rater`` names the rating method in the axis label and the
    default title. Returns None when no player has a numeric temperature.
    """
    families, references = temperature_series(ratings, players)
    if not families:
        return None
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    positive = sorted({t for points in families.values() for t, *_ in points if t > 0})
    has_greedy = any(t == 0 for points in families.values() for t, *_ in points)
    greedy_x = positive[0] * GREEDY_FRACTION if positive else 1.0

    fig = Figure(figsize=FIGSIZE, dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    handles = [
        _draw_family(ax, points, colour, label, greedy_x)
        for (label, points), colour in zip(families.items(), _colours(len(families)))
    ]
    handles.append(Patch(color="0.5", alpha=0.3, label="95% interval"))
    for _, rating, anchored in references:
        ax.axhline(rating, color="0.2" if anchored else "0.45", linestyle="--", linewidth=1.0, zorder=1)
    if references:
        handles.append(Line2D([], [], color="0.45", linestyle="--", label="reference player"))

    _temperature_axis(ax, positive, greedy_x if has_greedy else None)
    by = f" by {rater}" if rater else ""
    ax.set_ylabel(f"rating{by} (95% interval shaded)")
    ax.set_title(title or f"Rating{by} vs sampling temperature")
    ax.grid(True, which="major", alpha=0.35)
    # Below the axes: inside, "best" still covers bands or reference lines in a crowded league.
    # As many columns as fit across the figure: a handle and its padding take about 0.8 in.
    column = 0.8 + max(_text_inches(handle.get_label(), 9)[0] for handle in handles)
    columns = max(1, min(len(handles), int((FIGSIZE[0] - 0.2) // column)))
    fig.legend(handles=handles, loc="outside lower center", ncol=columns, fontsize=9, frameon=False)

    labels = _label_references(ax, references)
    _unclash_ticks(fig, ax)  # after the labels are in: they narrow the axes
    _spread_labels(fig, ax, labels, [rating for _, rating, _ in references])
    return fig


def _draw_family(ax: Any, points: list[Point], colour: Any, label: str, greedy_x: float) -> Any:
    """One family's line, band and greedy point; returns the line for the legend."""
    greedy = sum(1 for t, *_ in points if t == 0)  # greedy points sort first
    x = [t if t > 0 else greedy_x for t, *_ in points]
    rating = [point[1] for point in points]
    low, high = [point[2] for point in points], [point[3] for point in points]
    # The band spans the real temperatures only: across the axis break it would suggest a scale.
    ax.fill_between(x[greedy:], low[greedy:], high[greedy:], color=colour, alpha=0.18, linewidth=0)
    if greedy:
        # A diamond with its own interval, and a dotted link across the break to the first temperature.
        ax.plot(x[greedy - 1:greedy + 1], rating[greedy - 1:greedy + 1], linestyle=":", color=colour, linewidth=1.8)
        ax.errorbar(x[:greedy], rating[:greedy], yerr=_error_bars(points[:greedy]), linestyle="none",
                    marker="D", markersize=5, color=colour, capsize=4, linewidth=1.2)
    (line,) = ax.plot(
        x[greedy:], rating[greedy:], marker="o", markersize=5, color=colour, linewidth=1.8, label=label
    )
    if len(points) - greedy == 1:  # a band needs two temperatures: show a lone interval as an error bar
        ax.errorbar(x[greedy:], rating[greedy:], yerr=_error_bars(points[greedy:]), color=colour, capsize=4,
                    linewidth=1.2)
    return line


def _error_bars(points: list[Point]) -> list[list[float]]:
    """Matplotlib's ``yerr``: distances from each rating down to its low and up to its high."""
    return [[rating - low for _, rating, low, _ in points], [high - rating for _, rating, _, high in points]]


def _temperature_axis(ax: Any, positive: list[float], greedy_x: float | None) -> None:
    """A log temperature axis: labelled ticks at the temperatures played, unlabelled log minor ticks
    between them (their crowding towards each power of ten shows the scale), and temperature 0 at
    ``greedy_x`` (None: no greedy player) beyond an axis break."""
    from matplotlib.ticker import FixedFormatter, FixedLocator, NullFormatter

    ax.set_xscale("log")
    ticks = ([greedy_x] if greedy_x is not None else []) + positive
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_major_formatter(FixedFormatter([GREEDY_LABEL if t == greedy_x else f"{t:g}" for t in ticks]))
    ax.xaxis.set_minor_locator(FixedLocator(_log_minor_ticks(positive)))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel(f"sampling temperature (log scale; {GREEDY_LABEL} is drawn left of the axis break)"
                  if greedy_x is not None and positive else "sampling temperature (log scale)")
    if greedy_x is None or not positive:
        return
    # The break sits halfway (on the log axis) between argmax and the smallest temperature.
    gap = math.sqrt(greedy_x * positive[0])
    ax.axvline(gap, color="0.75", linewidth=0.8, linestyle=(0, (1, 3)), zorder=0)
    # On the bottom spine only, hiding it there (on the top one it would run into the title).
    ax.text(gap, 0.0, "//", transform=ax.get_xaxis_transform(), ha="center", va="center", fontsize=11,
            color="0.3", clip_on=False, zorder=5,
            bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.5})


def _log_minor_ticks(positive: list[float]) -> list[float]:
    """1, 2, ... 9 times each power of ten between the smallest and the largest temperature, less those."""
    if not positive:
        return []
    low, high = positive[0], positive[-1]
    ticks = []
    for exponent in range(math.floor(math.log10(low)), math.ceil(math.log10(high)) + 1):
        for multiple in range(1, 10):
            tick = multiple * 10.0**exponent
            inside = low * (1 - 1e-9) <= tick <= high * (1 + 1e-9)
            if inside and not any(math.isclose(tick, t) for t in positive):
                ticks.append(tick)
    return ticks


def _unclash_ticks(fig: Any, ax: Any) -> None:
    """Keep neighbouring temperature labels apart (0.5, 0.75, 1, 1.5 lie close on a log axis).

    First a smaller font; if they still collide, upright labels. Not slanted ones:
    a slanted label ends under the tick to its left and reads as that tick's.
    """
    for fix in ({"labelsize": 8}, {"labelsize": 10, "labelrotation": 90}):
        if not _ticks_collide(fig, ax):
            return
        ax.tick_params(axis="x", **fix)


def _ticks_collide(fig: Any, ax: Any) -> bool:
    fig.draw_without_rendering()
    renderer = fig.canvas.get_renderer()
    boxes = sorted(
        (label.get_window_extent(renderer) for label in ax.get_xticklabels() if label.get_visible()),
        key=lambda box: box.x0,
    )
    return any(left.x1 + 4 > right.x0 for left, right in itertools.pairwise(boxes))


def _label_references(ax: Any, references: list[tuple[str, float, bool]]) -> list[Any]:
    """Name each reference line just right of the axes; returns the labels."""
    labels = []
    for name, rating, anchored in references:
        labels.append(ax.annotate(
            f"{name} (anchor)" if anchored else name,
            xy=(1.0, rating),
            xycoords=("axes fraction", "data"),
            xytext=(6, 0),
            textcoords="offset points",
            va="center",
            fontsize=REFERENCE_POINTS,
            color="0.1" if anchored else "0.35",
            annotation_clip=False,
            # A short leader from the axes edge; it also joins a label nudged off its line back to it.
            arrowprops={"arrowstyle": "-", "color": "0.6", "linewidth": 0.6, "shrinkA": 0, "shrinkB": 1},
        ))
    return labels


def _spread_labels(fig: Any, ax: Any, labels: list[Any], ratings: list[float]) -> None:
    """Nudge reference labels apart so that close ratings (anchors a few points apart) stay legible."""
    if not labels:
        return
    # Lay the figure out with everything in place, then work in points on the final axes height.
    fig.draw_without_rendering()
    low, high = ax.get_ylim()
    height = ax.bbox.height * 72.0 / fig.dpi
    wanted = [(rating - low) / (high - low) * height for rating in ratings]
    placed = [0.0] * len(labels)
    previous = -math.inf
    for i in sorted(range(len(labels)), key=lambda i: wanted[i]):
        placed[i] = max(wanted[i], previous + REFERENCE_POINTS * 1.25)
        previous = placed[i]
    # A stack pushed up past the top of the axes moves down as a whole instead.
    shift = min(0.0, height - max(placed))
    for label, target, position in zip(labels, wanted, placed):
        label.xyann = (6, position + shift - target)


def cross_table(results: Iterable[GameResult], order: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Score of each row player against each column player, and the games they played.

    ``scores[i, j]`` is player ``order[i]``'s points per game against
    ``order[j]`` over both colours (NaN where they never met, and on the
    diagonal); ``games[i, j]`` counts those games. Games of players not in
    ``order`` and games of a player against itself are left out.
    """
    index = {name: i for i, name in enumerate(order)}
    n = len(order)
    games = np.zeros((n, n), dtype=np.int64)
    points = np.zeros((n, n), dtype=np.float64)
    for result in results:
        white, black = index.get(result.white), index.get(result.black)
        if white is None or black is None or white == black:
            continue
        games[white, black] += 1
        games[black, white] += 1
        points[white, black] += result.score
        points[black, white] += 1.0 - result.score
    with np.errstate(invalid="ignore", divide="ignore"):
        scores = np.where(games > 0, points / np.maximum(games, 1), np.nan)
    return scores, games


def cross_table_figsize(order: Sequence[str], title: str = "") -> tuple[float, float]:
    """Figure size (inches) of a cross table: fixed-size cells plus room for the longest name.

    Sizes are whole quarter inches so the PNG's pixel size is exact at :data:`DPI`.
    """
    return _cross_table_layout(order, title)[0]


def _cross_table_layout(order: Sequence[str], title: str) -> tuple[tuple[float, float], float, float]:
    """Figure size, and the matrix's left and bottom edges, in inches.

    Laid out by hand from measured label sizes: constrained layout misplaces
    the margins of an axes with a fixed aspect, and cuts off axis labels.
    """
    label_width = max([_text_inches(name, LABEL_POINTS)[0] for name in order] + [0.3])
    label_height = _text_inches("Xg", LABEL_POINTS)[1]
    title_width, title_height = _text_inches(title or CROSS_TITLE, TITLE_POINTS)
    axis_label = _text_inches("Xg", 10)[1]
    side = len(order) * CELL_INCHES
    left = 0.15 + axis_label + 0.1 + label_width + 0.06
    # Column labels slant at 45 degrees: the name and its own height, both at sin 45.
    bottom = 0.15 + axis_label + 0.1 + (label_width + label_height) * math.sqrt(0.5) + 0.06
    right = COLOUR_BAR_GAP + COLOUR_BAR_WIDTH + 0.08 + _text_inches("100%", 10)[0] + 0.1 + axis_label + 0.15
    top = 0.12 + title_height + 0.15
    width = max(left + side + right, title_width + 0.4, 4.0)
    height = max(bottom + side + top, 4.0)
    size = (math.ceil(width * 4) / 4, math.ceil(height * 4) / 4)
    # Spare width (rounding, a long title) goes to both sides evenly; spare height above and below.
    left += (size[0] - (left + side + right)) / 2
    bottom += (size[1] - (bottom + side + top)) / 2
    return size, left, bottom


def _text_inches(text: str, points: float) -> tuple[float, float]:
    """Width and height of one line of text in the default font, in inches."""
    from matplotlib.backends.backend_agg import RendererAgg
    from matplotlib.font_manager import FontProperties

    width, height, _ = RendererAgg(1, 1, DPI).get_text_width_height_descent(text, FontProperties(size=points), False)
    return width / DPI, height / DPI


#: The matplotlib modules the plots use.
PLOT_MODULES = ("matplotlib.backends.backend_agg", "matplotlib.colors", "matplotlib.figure",
                "matplotlib.font_manager", "matplotlib.lines", "matplotlib.patches", "matplotlib.ticker")


_importing: threading.Thread | None = None


def import_in_background() -> None:
    """Import the plots' matplotlib modules on a daemon thread (once; later calls do nothing).

    A league calls this while its last games play: its process mostly waits
    on the workers then, and the report at the end no longer waits for imports.
    """
    global _importing

    def load() -> None:
        for name in PLOT_MODULES:
            importlib.import_module(name)

    if _importing is None:
        _importing = threading.Thread(target=load, name="arena-plot-imports", daemon=True)
        _importing.start()


def plot_cross_table(results: Iterable[GameResult], order: list[str], path: Path, title: str = "") -> Path:
    """Draw the cross table as a heatmap of the row player's score against the column player.

    Cells show the score as a percentage over the number of games; pairs that
    never met and the diagonal are grey. Players are in ``order``.
    """
    from matplotlib import colormaps
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.colors import Normalize
    from matplotlib.figure import Figure

    scores, games = cross_table(results, order)
    n = len(order)
    (width, height), left, bottom = _cross_table_layout(order, title)
    fig = Figure(figsize=(width, height), dpi=DPI)
    FigureCanvasAgg(fig)
    if n == 0:
        fig.text(0.5, 0.5, "no players", ha="center", va="center")
        return _save(fig, path)
    side = n * CELL_INCHES
    ax = fig.add_axes((left / width, bottom / height, side / width, side / height))
    cmap = colormaps["RdYlGn"].with_extremes(bad="0.88")
    norm = Normalize(0.0, 1.0)
    image = ax.imshow(np.ma.masked_invalid(scores), cmap=cmap, norm=norm, aspect="auto")
    for i in range(n):
        for j in range(n):
            if games[i, j]:
                red, green, blue, _ = cmap(norm(scores[i, j]))
                # Dark text on light cells, white on the saturated ends of the scale.
                light = 0.299 * red + 0.587 * green + 0.114 * blue > 0.5
                ax.text(
                    j, i, f"{100 * scores[i, j]:.0f}%\n{games[i, j]}",
                    ha="center", va="center", fontsize=7.5, linespacing=1.1,
                    color="black" if light else "white",
                )
    ax.set_xticks(range(n), order, rotation=45, ha="right", rotation_mode="anchor", fontsize=LABEL_POINTS)
    ax.set_yticks(range(n), order, fontsize=LABEL_POINTS)
    ax.tick_params(length=0)
    # Thin white gaps between cells keep neighbouring colours apart.
    ax.set_xticks(np.arange(n + 1) - 0.5, minor=True)
    ax.set_yticks(np.arange(n + 1) - 0.5, minor=True)
    ax.grid(which="minor", color="white", linewidth=1.2)
    ax.tick_params(which="minor", length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.set_xlabel("opponent", fontsize=10)
    ax.set_ylabel("player", fontsize=10)
    ax.set_title(title or CROSS_TITLE, fontsize=TITLE_POINTS)
    # The colour bar runs beside the matrix, at least 2 inches tall so its label fits.
    bar = max(side, 2.0)
    cax = fig.add_axes((
        (left + side + COLOUR_BAR_GAP) / width, (bottom + (side - bar) / 2) / height,
        COLOUR_BAR_WIDTH / width, bar / height,
    ))
    colorbar = fig.colorbar(image, cax=cax)
    colorbar.set_label("score of the row player", fontsize=10)
    colorbar.ax.yaxis.set_major_formatter(lambda value, _: f"{100 * value:.0f}%")
    colorbar.ax.tick_params(labelsize=10)
    return _save(fig, path)


def write_report(
    folder: Path,
    ratings: Sequence[Rating],
    players: Mapping[str, Mapping[str, Any]],
    results: Sequence[GameResult],
    title: str = "",
    rater: str | None = None,
) -> list[Path]:
    """Write ``rating_vs_temperature.png`` (when some player has a temperature) and ``cross_table.png``.

    ``ratings`` are one rater's, named by ``rater`` on the temperature plot.
    The cross table lists players by rating, best first; players with games
    but no rating follow by name. Returns the paths written.
    """
    folder = Path(folder)
    written = []
    curve = plot_rating_vs_temperature(
        ratings, players, folder / "rating_vs_temperature.png",
        f"{title}: rating vs sampling temperature" if title else "", rater=rater,
    )
    if curve is not None:
        written.append(curve)
    order = [rating.player for rating in sorted(ratings, key=lambda rating: (-rating.rating, rating.player))]
    rated = set(order)
    order += sorted({name for result in results for name in (result.white, result.black)} - rated)
    written.append(plot_cross_table(
        results, order, folder / "cross_table.png", f"{title}: score of the row player (games below)" if title else ""
    ))
    return written


def _colours(count: int) -> list[Any]:
    """Distinct colours: tab10, or tab20 for many families."""
    from matplotlib import colormaps

    palette = colormaps["tab10" if count <= 10 else "tab20"]
    return [palette(i % palette.N) for i in range(count)]


def _save(fig: Any, path: Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=DPI)
    return path
