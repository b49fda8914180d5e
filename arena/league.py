"""League files: load, validate and expand a YAML league into players and settings.

A league file names its players (an option given as a list sweeps: one player
per value), the schedule, openings, game rules, concurrency, output folder
and seed. Every error names the file, the key path and a fix.

Relative paths in it (``out``, ``plugins``, ``openings.path``, player files
and players' path options such as a checkpoint) are relative to the league
file's folder; the default run folder ``results/NAME`` and paths given on the
command line are relative to the current directory.
"""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from arena.errors import ConfigError
from arena.game import GameRules
from arena.openings import Openings, load_openings
from arena.naming import NameParts, distinct_names
from arena.player import Player
from arena.plugins import Plugins, load_plugins
from arena.spec import PlayerSpec, build_player, is_player_file, parse_player_spec, \
    resolve_spec
from arena.stopping import StopRule, load_stop
from arena.yaml_checks import Base, key_error, mapping, read_yaml, seed as check_seed, whole
from arena.wording import plural

TOP_LEVEL_KEYS = {
    "name": "a label for the league (default: the file name)",
    "seed": "master seed for game seeds and openings (default 1)",
    "out": "run folder, relative to the league file (default results/NAME, relative to the current directory)",
    "concurrency": "worker processes (default: this machine's cores, at most 32)",
    "games_in_flight": "games each worker plays at once (default 16 with a batched player such as a model, else 1)",
    "plugins": "local plugin .py files to load, relative to the league file",
    "players": "list of players: mappings with a 'type', player files or specs like 'stockfish:skill=3'",
    "schedule": "round_robin or gauntlet, games per pairing",
    "openings": "none, random plies, an EPD/PGN file or a Polyglot book",
    "rules": "max_moves, move_cap_result, illegal_attempts",
    "adjudication": "an evaluating engine for resign/draw/move-cap adjudication",
    "raters": "rating methods, e.g. [glicko2, bradley_terry] (default [glicko2])",
    "anchors": "player ratings held fixed, e.g. {stockfish-skill1: 1554}",
    "stop": "end early: sprt {elo0, elo1} per pairing, precision (+-Elo) per challenger, max_games",
}
SCHEDULE_KEYS = {"type", "games", "challengers", "opponents"}
SCHEDULE_TYPES = ("round_robin", "gauntlet")
RULES_KEYS = {"max_moves", "move_cap_result", "illegal_attempts"}

#: Worker processes by default are the machine's cores, but no more than this: each
#: worker holds its own players (engine processes, a model's weights) in memory.
MAX_DEFAULT_WORKERS = 32
#: Games in flight per worker by default when a player answers batches (a model): its batch size.
BATCHED_GAMES_IN_FLIGHT = 16


@dataclass(frozen=True)
class Schedule:
    """Who plays whom: every pair (round robin) or challengers against opponents (gauntlet)."""

    type: str = "round_robin"
    games: int = 2  #: games per pairing, played in colour-swapped pairs on the same opening
    challengers: tuple[str, ...] = ()  #: gauntlet: name patterns (fnmatch) of the challengers
    opponents: tuple[str, ...] = ()  #: gauntlet: patterns of their opponents (default: everyone else)


@dataclass
class League:
    """A validated league, with its players expanded into named specs."""

    name: str
    source: str
    seed: int
    out: Path
    players: list[PlayerSpec]
    schedule: Schedule
    openings: Openings
    rules: GameRules
    plugins: Plugins = field(repr=False)  #: what loaded it: hooks fire here, and workers load the same
    concurrency: int = 1
    games_in_flight: int = 1
    concurrency_default: bool = False  #: concurrency was not in the file: this machine's cores
    games_in_flight_default: bool = False  #: games_in_flight was not in the file
    adjudication: dict[str, Any] | None = None
    raters: tuple[Any, ...] = ("glicko2",)  #: rater specs as written: 'glicko2' or {type: ..., options}
    anchors: dict[str, float] = field(default_factory=dict)  #: besides the anchors presets carry
    stop: StopRule | None = None  #: when the league ends before its schedule is played out
    text: str = ""  #: the file as read, copied into the run folder

    def describe_concurrency(self) -> str:
        """``2 workers x 16 games in flight``, saying which of the two are defaults and why."""
        workers = plural(self.concurrency, "worker")
        if self.concurrency_default:
            cores = machine_cores()
            mine = f"{cores} cores" if cores == self.concurrency else f"{cores} cores, at most {MAX_DEFAULT_WORKERS}"
            workers += f" (default: this machine's {mine})"
        games = f"{plural(self.games_in_flight, 'game')} in flight"
        if self.games_in_flight_default:
            games += " (default with a batched player)" if self.games_in_flight > 1 else " (default)"
        return f"{workers} x {games}"


def machine_cores() -> int:
    """The CPU cores this process may run on (its affinity, where the system has one: containers, taskset)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def default_concurrency() -> int:
    """Worker processes when a league does not say: one per core, at most :data:`MAX_DEFAULT_WORKERS`."""
    return max(1, min(machine_cores(), MAX_DEFAULT_WORKERS))


def load_league(path: str | Path, plugins: Plugins | None = None, out: str | Path | None = None) -> League:
    """Read and validate a league file; ``out`` (relative to the current directory) overrides its run folder."""
    path = Path(path)
    data, text = read_yaml(path, "league file")
    base = Base.of_file(path, "league file")
    return league_from_mapping(data, str(path), base, plugins, out, text, default_name=path.stem)


def league_from_mapping(
    data: Any,
    source: str,
    base: Base | Path,
    plugins: Plugins | None = None,
    out: str | Path | None = None,
    text: str | None = None,
    default_name: str = "league",
) -> League:
    """Validate a league given as a mapping (a league file's content, or a section of a study).

    ``source`` names it in errors, relative paths in it are relative to ``base``
    (the folder of the file it came from), and ``text`` is what the run folder
    keeps as ``league.yaml`` (default: the mapping as YAML).
    """
    base = Base.coerce(base)
    if text is None:
        text = yaml.safe_dump(data, sort_keys=False)
    plugins = plugins or load_plugins()
    if isinstance(data, dict) and set(data) - set(TOP_LEVEL_KEYS):
        # Another kind of file (a plugin's: a study) is better named than reported key by key.
        hint = plugins.hook.recognize_file(data=data, source=source)
        if hint:
            kind, _, fix = hint.partition(": ")
            raise ConfigError(f"{source} is {kind}, not a league: {fix}")
    data = mapping(source, "", data, set(TOP_LEVEL_KEYS))

    plugin_files = data.get("plugins") or []
    if not isinstance(plugin_files, list) or not all(isinstance(p, str) for p in plugin_files):
        raise key_error(source, "plugins", "must be a list of .py file paths")
    # The file's plugins come on top of those already loaded (``--plugin`` files, plugins registered in code).
    plugins = plugins.with_files(
        _existing(source, f"plugins[{i}]", p, base) for i, p in enumerate(plugin_files))

    name = str(data.get("name") or default_name)
    seed = check_seed(source, data.get("seed", 1))
    roster = expand_players(data.get("players"), source, plugins, base)
    players = roster.specs
    schedule = _schedule(data.get("schedule"), source)
    rules_data = mapping(source, "rules", data.get("rules"), RULES_KEYS)
    cap = rules_data.get("max_moves")
    cap_result = rules_data.get("move_cap_result", "draw")
    if cap_result not in ("draw", "eval"):
        raise key_error(source, "rules.move_cap_result", f"{cap_result!r} must be 'draw' or 'eval'")
    adjudication = data.get("adjudication")
    if cap_result == "eval" and not adjudication:
        raise key_error(source, "rules.move_cap_result", "'eval' needs an adjudication: section with an engine")
    rules = GameRules(
        max_moves=None if cap is None else whole(source, "rules.max_moves", cap),
        move_cap_result="1/2-1/2" if cap_result == "draw" else "eval",
        illegal_attempts=whole(source, "rules.illegal_attempts", rules_data.get("illegal_attempts", 1)),
    )
    if adjudication is not None:
        from arena.adjudication import validate_adjudication

        adjudication = validate_adjudication(adjudication, source)
    raters = data.get("raters", ["glicko2"])
    if not isinstance(raters, list):
        raise key_error(source, "raters", "must be a list, e.g. [glicko2, bradley_terry]")
    from arena.rate import build_raters

    build_raters(raters, plugins, source)  # checks types and options now, not after the games
    anchors = _anchors(data.get("anchors"), source, {spec.name for spec in players})
    return League(
        name=name,
        source=source,
        seed=seed,
        out=_run_folder(out, data.get("out"), base, name),
        players=players,
        schedule=schedule,
        openings=load_openings(data.get("openings"), seed, source, base),
        rules=rules,
        concurrency=whole(source, "concurrency", data.get("concurrency", default_concurrency())),
        games_in_flight=whole(source, "games_in_flight", data.get(
            "games_in_flight", BATCHED_GAMES_IN_FLIGHT if roster.batched else 1)),
        concurrency_default="concurrency" not in data,
        games_in_flight_default="games_in_flight" not in data,
        adjudication=adjudication,
        raters=tuple(raters),
        anchors=anchors,
        stop=load_stop(data.get("stop"), source),
        text=text,
        plugins=plugins,
    )


def _existing(source: str, key: str, value: str, base: Base) -> Path:
    """A file the league names, relative to the league file's folder; missing, it is an error that says where it looked."""
    path = base.path(value)
    if not path.is_file():
        raise key_error(source, key, base.missing(value, path))
    return path


def _run_folder(given: str | Path | None, written: Any, base: Base, name: str) -> Path:
    """``--out`` (relative to the current directory), else ``out:`` (relative to the file), else results/NAME.

    The default is relative to the current directory, like every run folder
    arena makes up (``arena play`` writes results/play-...): a league file
    moved elsewhere still writes where you run it.
    """
    if given:
        return Path(given)
    if written:
        return base.path(str(written))
    return Path("results") / name


def _anchors(value: Any, source: str, names: set[str | None]) -> dict[str, float]:
    data = mapping(source, "anchors", value, set(map(str, names)))
    anchors = {}
    for name, rating in data.items():
        if isinstance(rating, bool) or not isinstance(rating, (int, float)):
            raise key_error(source, f"anchors.{name}", f"{rating!r} must be a rating, e.g. 1554")
        anchors[str(name)] = float(rating)
    return anchors


def _schedule(value: Any, source: str) -> Schedule:
    data = mapping(source, "schedule", value, SCHEDULE_KEYS)
    kind = data.get("type", "round_robin")
    if kind not in SCHEDULE_TYPES:
        raise key_error(source, "schedule.type", f"{kind!r} is not one of {', '.join(SCHEDULE_TYPES)}")
    games = whole(source, "schedule.games", data.get("games", 2))
    if games % 2:
        raise key_error(source, "schedule.games", f"{games} is odd; games are played in colour-swapped pairs")
    patterns = {}
    for key in ("challengers", "opponents"):
        items = data.get(key) or []
        if isinstance(items, str):
            items = [items]
        if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
            raise key_error(source, f"schedule.{key}", "must be a list of player names or patterns like 'cf-*'")
        patterns[key] = tuple(items)
    if kind == "gauntlet" and not patterns["challengers"]:
        raise key_error(source, "schedule.challengers", "a gauntlet needs challengers: a list of player names")
    if kind == "round_robin" and (patterns["challengers"] or patterns["opponents"]):
        raise key_error(source, "schedule", "challengers/opponents apply to type: gauntlet only")
    return Schedule(kind, games, patterns["challengers"], patterns["opponents"])


@dataclass(frozen=True)
class Roster:
    """A league's players, expanded and named."""

    specs: list[PlayerSpec]
    batched: bool = False  #: whether any of them answers batches (the league then defaults to games in flight)


def expand_players(entries: Any, source: str, plugins: Plugins, base: Base | None = None) -> Roster:
    """Expand player entries (list-valued options sweep) into uniquely named specs.

    An entry is a mapping with a ``type``, a player file or a spec such as
    ``stockfish:skill=3``; relative paths in it are relative to ``base`` (the
    league file's folder). Each spec is built once here, so its options are
    checked by the plugin that owns the player type and its generated name is known.
    """
    if not isinstance(entries, list) or not entries:
        raise key_error(source, "players", "must be a non-empty list of players, each with a 'type'")
    base = base or Base.cwd()
    specs: list[PlayerSpec] = []
    origins: dict[str, int] = {}
    batched = False
    for index, entry in enumerate(entries):
        key = f"players[{index}]"
        for spec, player in _sweep(_entry_spec(entry, source, key, base), source, key, plugins):
            assert spec.name is not None
            if spec.name in origins:
                other = origins[spec.name]
                raise key_error(
                    source, key,
                    f"player name {spec.name!r} is also the name of players[{other}]; "
                    f"{_rename_hint(entries[other], entry, other, index, spec.name)}",
                )
            origins[spec.name] = index
            specs.append(spec)
            batched = batched or player.batched
    return Roster(specs, batched)


def _entry_spec(entry: Any, source: str, key: str, base: Base) -> PlayerSpec:
    """One entry as a spec whose list-valued options are still to sweep."""
    where = f"{source}: {key}"
    if isinstance(entry, str):
        try:
            spec = parse_player_spec(entry, base)
        except ConfigError as error:
            raise key_error(source, key, str(error)) from None
        return replace(spec, source=f"{where} (player file {spec.source})" if is_player_file(entry, base) else where)
    if not isinstance(entry, dict) or "type" not in entry:
        raise key_error(source, key, "a player needs a mapping with a 'type' key, e.g. 'type: random', "
                                     "or a player file or spec as text, e.g. players/sf.yaml or 'stockfish:skill=3'")
    options = {k: v for k, v in entry.items() if k not in ("type", "name")}
    name = entry.get("name")
    return PlayerSpec(str(entry["type"]), options, None if name is None else str(name), where, base)


def _sweep(template: PlayerSpec, source: str, key: str, plugins: Plugins) -> list[tuple[PlayerSpec, Player]]:
    """The named players of one entry: one per combination of its list-valued options."""
    swept = [k for k, v in template.options.items() if isinstance(v, list)]
    for k in swept:
        if not template.options[k]:
            raise key_error(source, f"{key}.{k}", "an empty list sweeps over nothing; give at least one value")
    combos = [dict(zip(swept, values)) for values in itertools.product(*(template.options[k] for k in swept))]
    built = []
    for combo in combos:
        spec = resolve_spec(replace(template, options={**template.options, **combo}, name=None), plugins)
        player = build_player(spec, plugins)
        parts = NameParts(template.name if template.name is not None else player.name, spec.options,
                          player.option_abbreviations)
        built.append((spec, player, parts, combo))
    names = distinct_names([parts for _, _, parts, _ in built])
    for index, name in enumerate(names):
        first = names.index(name)
        if first != index:
            shown = ", ".join(f"{k}={v}" for k, v in built[index][3].items())
            raise key_error(
                source, key,
                f"its sweep gives two players the name {name!r} ({shown}); remove the repeated value",
            )
    return [(replace(spec, name=name), player) for (spec, player, _, _), name in zip(built, names)]


def _rename_hint(first: Any, second: Any, i: int, j: int, name: str) -> str:
    """How to rename one of two entries that give the same name, in the way each entry is written."""
    for entry, index in ((second, j), (first, i)):
        if isinstance(entry, dict):
            return f"give players[{index}] a 'name:' of its own (e.g. name: {name}-2)"
    return ("give one of them a name of its own: the player file's 'name:' key, ',name=...' in a spec, "
            "or write it as a mapping with 'type:' and 'name:'")
