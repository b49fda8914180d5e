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
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BeforeValidator, Field

from arena.errors import ConfigError
from arena.play.game import GameRules
from arena.league.openings import Openings, load_openings
from arena.naming import NameParts, distinct_names
from arena.options import Wording, read_keys
from arena.player import Player
from arena.plugins import Plugins, load_plugins
from arena.spec import PlayerSpec, build_player, is_player_file, parse_player_spec, \
    resolve_spec, with_resources
from arena.league.stopping import StopRule, load_stop
from arena.yaml_checks import Base, key_error, listed, mapping, read_yaml
from arena.wording import plural

Count = Annotated[int, Field(ge=1)]
#: Player names or fnmatch patterns; one may be written alone (``challengers: cf-*``).
Patterns = Annotated[
    tuple[str, ...], BeforeValidator(listed), Wording("a list of player names or patterns like 'cf-*'")
]


@dataclass(frozen=True)
class LeagueKeys:
    """A league file's top-level keys, as written; sections typed ``Any`` are read by their own readers."""

    name: str | None = None  #: a label for the league (default: the file name)
    seed: int = 1  #: master seed for game seeds and openings
    #: run folder, relative to the league file (default results/NAME, relative to the current directory)
    out: str | None = None
    concurrency: Count | None = None  #: worker processes (default: this machine's cores, at most 32)
    #: games each worker plays at once (default 16 with a batched player such as a model, else 1)
    games_in_flight: Count | None = None
    #: local plugin .py files to load, relative to the league file
    plugins: Annotated[tuple[str, ...], BeforeValidator(listed), Wording("a list of .py file paths")] = ()
    players: Any = None  #: mappings with a 'type', player files or specs like 'stockfish:skill=3'
    schedule: Any = None  #: round_robin or gauntlet, games per pairing (:class:`Schedule`)
    openings: Any = None  #: none, random plies, an EPD/PGN file or a Polyglot book
    rules: Any = None  #: max_moves, move_cap_result, illegal_attempts (:class:`RulesKeys`)
    adjudication: Any = None  #: an evaluating engine for resign/draw/move-cap adjudication
    #: rating methods, as specs ('glicko2') or mappings with a 'type' (checked by the raters themselves)
    raters: Annotated[tuple[Any, ...], Wording("a list of raters, e.g. [glicko2, bradley_terry]")] = (
        "glicko2",
    )
    anchors: Any = None  #: player ratings held fixed, e.g. {stockfish-skill1: 1554}
    stop: Any = None  #: end early: sprt {elo0, elo1} per pairing, precision (+-Elo) per challenger, max_games
    #: where the games are played: local (worker processes here) or a plugin's, e.g. {type: ray, workers: 16}
    executor: Any = "local"


@dataclass(frozen=True)
class RulesKeys:
    """The ``rules:`` section."""

    max_moves: Count | None = None  #: full moves before the game ends at the cap (none: no cap)
    move_cap_result: Literal["draw", "eval"] = "draw"  #: eval: the adjudication engine decides capped games
    illegal_attempts: Count = 1  #: illegal replies to one position before the game is forfeited


#: Worker processes by default are the machine's cores, but no more than this: each
#: worker holds its own players (engine processes, a model's weights) in memory.
MAX_DEFAULT_WORKERS = 32
#: Games in flight per worker by default when a player answers batches (a model): its batch size.
BATCHED_GAMES_IN_FLIGHT = 16


@dataclass(frozen=True)
class Schedule:
    """The ``schedule:`` section: every pair plays (round robin), or challengers play opponents (gauntlet)."""

    type: Literal["round_robin", "gauntlet"] = "round_robin"
    games: Count = 2  #: games per pairing, played in colour-swapped pairs on the same opening
    challengers: Patterns = ()  #: gauntlet: name patterns (fnmatch) of the challengers
    opponents: Patterns = ()  #: gauntlet: patterns of their opponents (default: everyone else)


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
    #: where the games are played, checked but not built (:func:`arena.league.executor.build_executor`)
    executor: PlayerSpec = PlayerSpec("local")
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


def load_league(path: str | Path, plugins: Plugins | None = None, out: str | Path | None = None,
                executor: str | None = None) -> League:
    """Read and validate a league file.

    ``out`` (relative to the current directory) overrides its run folder and
    ``executor`` its executor's type (``--executor ray``; the file's options
    for it are kept when the type is the file's).
    """
    path = Path(path)
    data, text = read_yaml(path, "league file")
    base = Base.of_file(path, "league file")
    return league_from_mapping(data, str(path), base, plugins, out, text, default_name=path.stem,
                               executor=executor)


def league_from_mapping(
    data: Any,
    source: str,
    base: Base | Path,
    plugins: Plugins | None = None,
    out: str | Path | None = None,
    text: str | None = None,
    default_name: str = "league",
    executor: str | None = None,
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
    if isinstance(data, dict) and set(data) - {key.name for key in fields(LeagueKeys)}:
        # Another kind of file (a plugin's: a study) is better named than reported key by key.
        hint = plugins.hook.recognize_file(data=data, source=source)
        if hint:
            kind, _, fix = hint.partition(": ")
            raise ConfigError(f"{source} is {kind}, not a league: {fix}")
    keys = read_keys(LeagueKeys, data, source, "")
    # The file's plugins come on top of those already loaded (``--plugin`` files, plugins registered in code).
    plugins = plugins.with_files(
        _existing(source, f"plugins[{i}]", p, base) for i, p in enumerate(keys.plugins))

    name = str(keys.name or default_name)
    roster = expand_players(keys.players, source, plugins, base)
    players = roster.specs
    schedule = _schedule(keys.schedule, source)
    rules = read_keys(RulesKeys, keys.rules, source, "rules")
    if rules.move_cap_result == "eval" and not keys.adjudication:
        raise key_error(source, "rules.move_cap_result", "'eval' needs an adjudication: section with an engine")
    adjudication = keys.adjudication
    if adjudication is not None:
        from arena.league.adjudication import validate_adjudication

        adjudication = validate_adjudication(adjudication, source)
    from arena.rating.rate import build_raters

    build_raters(keys.raters, plugins, source)  # checks types and options now, not after the games
    from arena.league.executor import build_executor, executor_spec

    executor_used = executor_spec(keys.executor, source, executor)
    build_executor(executor_used, plugins)  # checked now; built again, and opened, when the games start
    return League(
        name=name,
        source=source,
        seed=keys.seed,
        out=_run_folder(out, keys.out, base, name),
        players=players,
        schedule=schedule,
        openings=load_openings(keys.openings, keys.seed, source, base),
        rules=GameRules(
            max_moves=rules.max_moves,
            move_cap_result="1/2-1/2" if rules.move_cap_result == "draw" else "eval",
            illegal_attempts=rules.illegal_attempts,
        ),
        concurrency=keys.concurrency or default_concurrency(),
        games_in_flight=keys.games_in_flight or (BATCHED_GAMES_IN_FLIGHT if roster.batched else 1),
        concurrency_default=keys.concurrency is None,
        games_in_flight_default=keys.games_in_flight is None,
        adjudication=adjudication,
        raters=keys.raters,
        anchors=_anchors(keys.anchors, source, {spec.name for spec in players}),
        stop=load_stop(keys.stop, source),
        executor=executor_used,
        text=text,
        plugins=plugins,
    )


def _existing(source: str, key: str, value: str, base: Base) -> Path:
    """A file the league names, relative to the league file's folder; missing, it is an error that says where it looked."""
    path = base.path(value)
    if not path.is_file():
        raise key_error(source, key, base.missing(value, path))
    return path


def _run_folder(given: str | Path | None, written: str | None, base: Base, name: str) -> Path:
    """``--out`` (relative to the current directory), else ``out:`` (relative to the file), else results/NAME.

    The default is relative to the current directory, like every run folder
    arena makes up (``arena play`` writes results/play-...): a league file
    moved elsewhere still writes where you run it.
    """
    if given:
        return Path(given)
    if written:
        return base.path(written)
    return Path("results") / name


def _anchors(value: Any, source: str, names: set[str | None]) -> dict[str, float]:
    """The ``anchors:`` section: its keys are the league's player names, so it is checked here, undeclared."""
    data = mapping(source, "anchors", value, set(map(str, names)))
    anchors = {}
    for name, rating in data.items():
        if isinstance(rating, bool) or not isinstance(rating, (int, float)):
            raise key_error(source, f"anchors.{name}", f"{rating!r} must be a rating, e.g. 1554")
        anchors[str(name)] = float(rating)
    return anchors


def _schedule(value: Any, source: str) -> Schedule:
    """The ``schedule:`` section: its keys as declared, and the rules that tie them together."""
    schedule = read_keys(Schedule, value, source, "schedule")
    if schedule.games % 2:
        raise key_error(source, "schedule.games",
                        f"{schedule.games} is odd; games are played in colour-swapped pairs")
    if schedule.type == "gauntlet" and not schedule.challengers:
        raise key_error(source, "schedule.challengers", "a gauntlet needs challengers: a list of player names")
    if schedule.type == "round_robin" and (schedule.challengers or schedule.opponents):
        raise key_error(source, "schedule", "challengers/opponents apply to type: gauntlet only")
    return schedule


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
    return with_resources(PlayerSpec(str(entry["type"]), options, None if name is None else str(name), where, base))


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
