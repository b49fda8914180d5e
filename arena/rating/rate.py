"""Rate games from a run folder or any PGN file, and write standings, pairings and plots.

``arena rate``, ``arena report`` and the end of ``arena league`` all go
through here, so a run folder can be re-rated at any time from games.jsonl.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from arena.errors import ConfigError
from arena.rating.headtohead import HeadToHead, pairings_table, write_pairings
from arena.league.manifest import MANIFEST_NAME
from arena.rating.pgn_games import read_pgn_games
from arena.plugins import Plugins
from arena.rating.model import GameResult, Rater, Rating, WhiteAdvantage
from arena.play.record import GameRecord
from arena.league.store import JSONL_NAME, PGN_NAME, read_records
from arena.spec import PlayerSpec, build_registered, parse_player_spec, spec_from_mapping
from arena.rating.standings import Standing, distinct_results, results_of, standings, write_standings

DEFAULT_RATERS = ("glicko2",)


@dataclass
class RatedGames:
    """Games ready for rating: results, what each player is, anchors known from the source, skips."""

    source: str
    results: list[GameResult]
    players: dict[str, dict[str, Any]] = field(default_factory=dict)
    anchors: dict[str, float] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  #: lines the standings end with (why a league stopped)


def load_games(path: str | Path, plugins: Plugins | None = None) -> RatedGames:
    """Games from a run folder, a games.jsonl file or a PGN file.

    A run folder kept without its games.jsonl (as committed results are) is
    read from its games.pgn. With ``plugins``, each player's entry in
    ``players`` also has its type's ``axis`` (:attr:`arena.Player.axis`).
    """
    path = Path(path)
    source = path
    if path.is_dir():
        source = path / JSONL_NAME
        if not source.exists() and (path / PGN_NAME).exists() and (path / MANIFEST_NAME).exists():
            source = path / PGN_NAME
        if not source.exists():
            raise ConfigError(f"{path} is not a run folder: it has no {JSONL_NAME}")
    if not source.exists():
        raise ConfigError(f"{path} does not exist; give a run folder or a PGN file")
    if source.suffix == ".jsonl":
        games = games_of(read_records(source), str(path), plugins)
    else:
        pgn = read_pgn_games(source)
        games = RatedGames(str(path), pgn.results, pgn.players, {}, pgn.skipped)
        _add_axes(games.players, plugins)
    manifest = source.parent / MANIFEST_NAME
    if source.name in (JSONL_NAME, PGN_NAME) and manifest.exists():
        facts = json.loads(manifest.read_text())
        games.anchors.update(facts.get("anchors") or {})
        if facts.get("stopped"):
            from arena.league.stopping import stop_notes

            games.notes = stop_notes(facts["stopped"], len(games.results))
    return games


def games_of(records: Iterable[GameRecord], source: str, plugins: Plugins | None = None) -> RatedGames:
    """Game records ready for rating, with the anchors their players carried (as :func:`load_games`)."""
    records = list(records)
    games = RatedGames(source, results_of(records))
    for record in records:
        for entry in (record.white, record.black):
            games.players.setdefault(entry.name, {"type": entry.type, "options": entry.options})
            if entry.anchor is not None:
                games.anchors[entry.name] = float(entry.anchor)
    _add_axes(games.players, plugins)
    return games


def _add_axes(players: dict[str, dict[str, Any]], plugins: Plugins | None) -> None:
    """Give each player's facts its type's declared ``axis``, asked of the loaded player types."""
    if plugins is not None:
        for facts in players.values():
            facts["axis"] = getattr(plugins.players.get(facts.get("type")), "axis", None)


def rater_spec(item: Any, source: str) -> PlayerSpec:
    """A rater from ``glicko2``, ``bradley_terry:bootstrap=500`` or ``{type: bradley_terry, bootstrap: 500}``."""
    if isinstance(item, str):
        spec = parse_player_spec(item)
        return PlayerSpec(spec.type, spec.options, None, source)
    return spec_from_mapping(item, source)


def build_raters(items: Iterable[Any], plugins: Plugins, source: str) -> dict[str, Rater]:
    """Raters by display name (the type, with options when two differ only in options)."""
    raters: dict[str, Rater] = {}
    for index, item in enumerate(items):
        spec = rater_spec(item, f"{source}: raters[{index}]")
        name = spec.describe()
        if name in raters:
            raise ConfigError(f"{spec.source}: rater {name!r} is listed twice")
        raters[name] = build_registered(plugins.raters, "rater", spec)
    if not raters:
        raise ConfigError(f"{source}: raters: give at least one rater, e.g. 'glicko2'")
    return raters


def rate(games: RatedGames, raters: dict[str, Rater], anchors: dict[str, float]) -> dict[str, list[Rating]]:
    """Every rater's ratings of the distinct games (copies count once); ``anchors`` must name players."""
    if not games.results:
        raise ConfigError(f"{games.source}: no games to rate")
    known = set(games.players) or {name for r in games.results for name in (r.white, r.black)}
    unknown = sorted(set(anchors) - known)
    if unknown:
        raise ConfigError(
            f"anchor {unknown[0]!r} names no player of {games.source}; the players are: {', '.join(sorted(known))}"
        )
    distinct = distinct_results(games.results)  # a game replayed move for move is one game, not many
    return {name: rater.rate(distinct, anchors) for name, rater in raters.items()}


@dataclass
class Report:
    """What rating a set of games produced and where it was written.

    ``pairings`` has one head to head per two players that met;
    ``white_advantages`` holds White's fitted advantage by rater name, for
    the raters that estimated one.
    """

    rows: list[Standing]
    ratings: dict[str, list[Rating]]
    files: list[Path] = field(default_factory=list)
    pairings: list[HeadToHead] = field(default_factory=list)
    white_advantages: dict[str, WhiteAdvantage] = field(default_factory=dict)


def rate_and_report(
    games: RatedGames,
    raters: dict[str, Rater],
    anchors: dict[str, float],
    folder: Path | None,
    plots: bool = True,
    title: str = "",
) -> Report:
    """Rate, build standings and pairings, and (with a folder) write their files and the plots there."""
    ratings = rate(games, raters, anchors)
    rows = standings(games.results, ratings)
    # A is the higher-placed player of each pairing, so its figures read as the standings do.
    pairings = pairings_table(games.results, [row.player for row in rows])
    report = Report(rows, ratings, pairings=pairings, white_advantages=white_advantages(raters))
    if folder is not None:
        report.files += write_standings(folder, report.rows, games.notes)
        report.files += write_pairings(folder, report.pairings)
        if plots:
            from arena.rating.plots import write_report

            rater, first = next(iter(ratings.items()))
            report.files += write_report(folder, first, games.players, games.results, title=title, rater=rater)
    return report


def white_advantages(raters: dict[str, Rater]) -> dict[str, WhiteAdvantage]:
    """White's advantage by rater name, from the raters that estimated one in their last ``rate()``."""
    # getattr: a plugin's rater need not derive from Rater, and then has no such attribute.
    found = {name: getattr(rater, "white_advantage", None) for name, rater in raters.items()}
    return {name: value for name, value in found.items() if value is not None}


def white_advantage_lines(report: Report) -> list[str]:
    """One line per rater that estimated White's advantage: the value and its 95% interval.

    The end of ``arena rate`` and of a league print these after the standings.
    """
    return [
        f"White's advantage ({name}): {value.value:+.1f} rating points, "
        f"95% interval [{value.low:+.1f}, {value.high:+.1f}]"
        for name, value in report.white_advantages.items()
    ]
