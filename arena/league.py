"""League files: load, validate and expand a YAML league into players and settings.

A league file names its players (an option given as a list sweeps: one player
per value), the schedule, openings, game rules, concurrency, output folder
and seed. Every error names the file, the key path and a fix.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from arena.errors import ConfigError
from arena.game import GameRules
from arena.openings import Openings, load_openings
from arena.plugins import Plugins, load_plugins
from arena.spec import PlayerSpec, build_player
from arena.stopping import StopRule, load_stop
from arena.yaml_checks import key_error, mapping, read_yaml, seed as check_seed, whole

TOP_LEVEL_KEYS = {
    "name": "a label for the league (default: the file name)",
    "seed": "master seed for game seeds and openings (default 1)",
    "out": "run folder (default results/NAME)",
    "concurrency": "worker processes (default 1)",
    "games_in_flight": "games each worker plays at once (default 1)",
    "plugins": "local plugin .py files to load",
    "players": "list of players",
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
    concurrency: int = 1
    games_in_flight: int = 1
    plugin_files: tuple[str, ...] = ()
    adjudication: dict[str, Any] | None = None
    raters: tuple[Any, ...] = ("glicko2",)  #: rater specs as written: 'glicko2' or {type: ..., options}
    anchors: dict[str, float] = field(default_factory=dict)  #: besides the anchors presets carry
    stop: StopRule | None = None  #: when the league ends before its schedule is played out
    text: str = ""  #: the file as read, copied into the run folder
    plugins: Plugins | None = field(default=None, repr=False)  #: what loaded it (hooks fire here)


def load_league(path: str | Path, plugins: Plugins | None = None, out: str | Path | None = None) -> League:
    """Read and validate a league file; ``out`` overrides the file's run folder."""
    path = Path(path)
    data, text = read_yaml(path, "league file")
    return league_from_mapping(data, str(path), path.parent, plugins, out, text, default_name=path.stem)


def league_from_mapping(
    data: Any,
    source: str,
    base: Path,
    plugins: Plugins | None = None,
    out: str | Path | None = None,
    text: str | None = None,
    default_name: str = "league",
) -> League:
    """Validate a league given as a mapping (a league file's content, or a section of a study).

    ``source`` names it in errors, relative paths in it are relative to ``base``,
    and ``text`` is what the run folder keeps as ``league.yaml`` (default: the mapping as YAML).
    """
    if text is None:
        text = yaml.safe_dump(data, sort_keys=False)
    if isinstance(data, dict) and {"experts", "train", "evaluate"} <= set(data):
        raise ConfigError(f"{source} is a study file, not a league: run it with 'arena study {source}' "
                          f"(--check to check it)")
    data = mapping(source, "", data, set(TOP_LEVEL_KEYS))

    plugin_files = data.get("plugins") or []
    if not isinstance(plugin_files, list) or not all(isinstance(p, str) for p in plugin_files):
        raise key_error(source, "plugins", "must be a list of .py file paths")
    plugin_files = tuple(str(base / p) for p in plugin_files)
    if plugins is None or plugin_files:
        plugins = load_plugins(plugin_files)

    name = str(data.get("name") or default_name)
    seed = check_seed(source, data.get("seed", 1))
    players = expand_players(data.get("players"), source, plugins)
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
        out=Path(out) if out else Path(data.get("out") or Path("results") / name),
        players=players,
        schedule=schedule,
        openings=load_openings(data.get("openings"), seed, source, base),
        rules=rules,
        concurrency=whole(source, "concurrency", data.get("concurrency", 1)),
        games_in_flight=whole(source, "games_in_flight", data.get("games_in_flight", 1)),
        plugin_files=plugin_files,
        adjudication=adjudication,
        raters=tuple(raters),
        anchors=anchors,
        stop=load_stop(data.get("stop"), source),
        text=text,
        plugins=plugins,
    )


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


def expand_players(entries: Any, source: str, plugins: Plugins) -> list[PlayerSpec]:
    """Expand player entries (list-valued options sweep) into uniquely named specs.

    Each spec is built once here, so its options are checked by the plugin that owns
    the player type and its generated name is known.
    """
    if not isinstance(entries, list) or not entries:
        raise key_error(source, "players", "must be a non-empty list of players, each with a 'type'")
    specs: list[PlayerSpec] = []
    origins: dict[str, str] = {}
    for index, entry in enumerate(entries):
        key = f"players[{index}]"
        if not isinstance(entry, dict) or "type" not in entry:
            raise key_error(source, key, "a player needs a mapping with a 'type' key, e.g. 'type: random'")
        options = {k: v for k, v in entry.items() if k not in ("type", "name")}
        explicit = entry.get("name")
        swept = [k for k, v in options.items() if isinstance(v, list)]
        for k in swept:
            if not options[k]:
                raise key_error(source, f"{key}.{k}", "an empty list sweeps over nothing; give at least one value")
        combos = [dict(zip(swept, values)) for values in itertools.product(*(options[k] for k in swept))]
        built = []
        for combo in combos:
            spec = PlayerSpec(str(entry["type"]), {**options, **combo}, None, f"{source}: {key}")
            player = build_player(spec, plugins)
            base = str(explicit) if explicit is not None else player.default_name() or spec.type
            built.append((spec, combo, base, getattr(player, "option_abbreviations", {})))
        for spec, combo, base, short in built:
            shown = _unreflected(swept, built)
            suffix = ",".join(f"{short.get(k, k)}={_text(combo[k])}" for k in shown)
            name = f"{base}@{suffix}" if suffix else base
            if name in origins:
                raise key_error(
                    source, key,
                    f"player name {name!r} is also the name of {origins[name]}; give one of them a 'name:'",
                )
            origins[name] = key
            specs.append(PlayerSpec(spec.type, spec.options, name, spec.source))
    return specs


def _unreflected(swept: list[str], built: list[tuple]) -> list[str]:
    """The swept keys whose value the generated base name does not already tell apart.

    A key is reflected when players differing only in that key get different base
    names (``stockfish-skill1`` vs ``stockfish-skill3``); other keys are added to
    the name as ``@key=value``.
    """
    shown = []
    for k in swept:
        groups: dict[tuple, set[str]] = {}
        sizes: dict[tuple, int] = {}
        for _, other, base, _ in built:
            rest = tuple((o, repr(v)) for o, v in other.items() if o != k)
            groups.setdefault(rest, set()).add(base)
            sizes[rest] = sizes.get(rest, 0) + 1
        if any(len(groups[rest]) < sizes[rest] for rest in groups):
            shown.append(k)
    return shown


def _text(value: Any) -> str:
    if isinstance(value, str) and "/" in value:
        return Path(value).stem  # a checkpoint path reads better as its file name
    return str(value)
